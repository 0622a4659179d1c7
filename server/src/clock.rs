//! The server's clock. Services take `now` as an argument (so tests and
//! replays can choose it); the edges read it here.

pub type Timestamp = chrono::DateTime<chrono::FixedOffset>;

pub fn now() -> Timestamp {
    chrono::Utc::now().fixed_offset()
}

/// Days, daily limits, periods and closes count in China Standard Time
/// (UTC+8, no daylight saving).
pub fn china_time() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// The China date of `t`.
pub fn china_date(t: Timestamp) -> chrono::NaiveDate {
    t.with_timezone(&china_time()).date_naive()
}

/// The China date of `t`, `YYYY-MM-DD`.
pub fn china_day(t: Timestamp) -> String {
    china_date(t).format("%Y-%m-%d").to_string()
}

/// Dates and times the API accepts as input lie in these years (China
/// time). Far-off years are typing mistakes or probes, and some overflow a
/// database column (a trip in 9999 has the China day `+10000-01-01`).
pub const EARLIEST_INPUT_YEAR: i32 = 1970;
pub const LATEST_INPUT_YEAR: i32 = 2199;

/// Whether `date` is in the accepted years; the refusal names them.
pub fn accepted_date(date: chrono::NaiveDate) -> Result<(), String> {
    use chrono::Datelike;
    if (EARLIEST_INPUT_YEAR..=LATEST_INPUT_YEAR).contains(&date.year()) {
        Ok(())
    } else {
        Err(format!(
            "must be in the years {EARLIEST_INPUT_YEAR} to {LATEST_INPUT_YEAR}"
        ))
    }
}

/// [`accepted_date`] for a time (its China date).
pub fn accepted_time(t: Timestamp) -> Result<(), String> {
    accepted_date(china_date(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn china_days_start_at_16_00_utc() {
        let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap();
        assert_eq!(china_day(t("2026-11-29T15:59:59Z")), "2026-11-29");
        assert_eq!(china_day(t("2026-11-29T16:00:00Z")), "2026-11-30");
        assert_eq!(
            china_date(t("2026-12-31T16:00:00Z")),
            chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()
        );
    }

    #[test]
    fn input_years_are_bounded_in_china_time() {
        let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap();
        assert!(accepted_time(t("2199-12-31T15:59:59Z")).is_ok());
        assert!(accepted_time(t("2199-12-31T16:00:00Z")).is_err());
        assert!(accepted_time(t("9999-12-31T20:00:00-00:00")).is_err());
        assert!(accepted_time(t("1969-12-31T16:00:00Z")).is_ok());
        assert!(accepted_time(t("1969-12-31T15:59:59Z")).is_err());
    }
}
