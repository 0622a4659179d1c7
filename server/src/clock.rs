//! Time and the China calendar. Services take `now` as an argument; the
//! edges get it from the one [`Clock`] of the application (app data for
//! handlers, through the [`Now`] extractor; an argument for background
//! jobs), so a test moves time with a [`TestClock`] instead of rewriting
//! stored timestamps.

use std::sync::{Arc, Mutex};

pub type Timestamp = chrono::DateTime<chrono::FixedOffset>;

/// Where `now` comes from: the system clock in production, a [`TestClock`]
/// in tests.
#[derive(Clone, Default)]
pub struct Clock(Source);

#[derive(Clone, Default)]
enum Source {
    #[default]
    System,
    Test(Arc<Mutex<chrono::Duration>>),
}

impl Clock {
    pub fn system() -> Clock {
        Clock(Source::System)
    }

    pub fn now(&self) -> Timestamp {
        let real = chrono::Utc::now().fixed_offset();
        match &self.0 {
            Source::System => real,
            Source::Test(offset) => real + *offset.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }
}

/// A clock that tests set and move forward (or back). It keeps ticking at
/// the real rate from wherever it was put, so requests a test makes in a
/// row still happen in order.
#[derive(Clone)]
pub struct TestClock(Arc<Mutex<chrono::Duration>>);

impl TestClock {
    /// A clock that reads the real time until it is moved.
    pub fn new() -> TestClock {
        TestClock(Arc::new(Mutex::new(chrono::Duration::zero())))
    }

    /// The application's clock, following this one.
    pub fn clock(&self) -> Clock {
        Clock(Source::Test(self.0.clone()))
    }

    pub fn now(&self) -> Timestamp {
        self.clock().now()
    }

    /// Puts the clock at `t` (it ticks on from there).
    pub fn set(&self, t: Timestamp) {
        let mut offset = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *offset = t.signed_duration_since(chrono::Utc::now());
    }

    /// Moves the clock by `by`.
    pub fn advance(&self, by: chrono::Duration) {
        let mut offset = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *offset += by;
    }
}

impl Default for TestClock {
    fn default() -> Self {
        TestClock::new()
    }
}

/// The application clock's `now`, for a handler: `Now(now): Now`.
pub struct Now(pub Timestamp);

impl actix_web::FromRequest for Now {
    type Error = crate::error::ApiError;
    type Future = std::future::Ready<Result<Now, Self::Error>>;

    fn from_request(req: &actix_web::HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(
            req.app_data::<actix_web::web::Data<Clock>>()
                .map(|clock| Now(clock.now()))
                .ok_or_else(|| crate::error::ApiError::internal("the application has no clock")),
        )
    }
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

/// `t` as printed for people in China: China time, to the second.
pub fn china_seconds(t: Timestamp) -> String {
    t.with_timezone(&china_time())
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
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
    fn a_test_clock_moves_only_when_told_and_keeps_ticking() {
        let test = TestClock::new();
        let clock = test.clock();
        let real = chrono::Utc::now().fixed_offset();
        assert!((clock.now() - real).num_seconds().abs() < 5);
        let t = chrono::DateTime::parse_from_rfc3339("2031-02-03T04:05:06+08:00").unwrap();
        test.set(t);
        let read = clock.now();
        assert!(
            read >= t && read - t < chrono::Duration::seconds(5),
            "{read}"
        );
        test.advance(chrono::Duration::days(40));
        let later = clock.now();
        assert!(later - t >= chrono::Duration::days(40), "{later}");
        assert!(later - t < chrono::Duration::days(40) + chrono::Duration::seconds(5));
        assert!(
            (Clock::system().now() - real).num_seconds().abs() < 5,
            "the system clock is not moved by a test clock"
        );
    }

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
