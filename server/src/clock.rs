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
}
