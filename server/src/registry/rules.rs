//! The registry's policy as configuration (`[registry]` in the file), and
//! the working-day count of public notices.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use rust_decimal::Decimal;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistryRules {
    /// Working days (Monday to Friday, China time) a submitted project stays
    /// on public notice before the service centre may decide it.
    pub notice_working_days: u32,
    /// Share of each forest-sink issuance held back in the buffer pool
    /// against reversals (0 to 1).
    #[serde(with = "rust_decimal::serde::str")]
    pub forest_buffer_share: Decimal,
    /// Largest quantity one transfer may move, in grams (a limit on every
    /// holder; the reserve platform is not limited).
    pub max_transfer_g: i64,
    /// Base of the public verification links printed on certificates, e.g.
    /// `https://registry.example.gov.cn`.
    pub public_base_url: String,
}

impl Default for RegistryRules {
    fn default() -> Self {
        RegistryRules {
            notice_working_days: 7,
            forest_buffer_share: Decimal::new(2, 1),
            max_transfer_g: 1_000_000_000_000,
            public_base_url: "http://127.0.0.1:8080".into(),
        }
    }
}

impl RegistryRules {
    pub fn validate(&self) -> Result<(), String> {
        if !(Decimal::ZERO..Decimal::ONE).contains(&self.forest_buffer_share) {
            return Err("forest_buffer_share must be at least 0 and below 1".into());
        }
        if self.notice_working_days > 60 {
            return Err("notice_working_days must be at most 60".into());
        }
        if self.max_transfer_g < 1 {
            return Err("max_transfer_g must be at least 1".into());
        }
        if !(self.public_base_url.starts_with("https://")
            || self.public_base_url.starts_with("http://"))
        {
            return Err("public_base_url must be an http(s) URL".into());
        }
        Ok(())
    }
}

/// The day a notice that opens on `start` closes: after `days` working days
/// (weekends skipped; the opening day counts when it is a working day). The
/// notice closes at the end of the returned day. Public holidays are not
/// known to the server: a notice over a holiday is longer by the rules than
/// by this count, so the service centre must wait them out (see docs).
pub fn notice_end(start: NaiveDate, days: u32) -> NaiveDate {
    if days == 0 {
        return start;
    }
    let working = |d: NaiveDate| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
    let mut day = start;
    let mut counted = 0;
    loop {
        if working(day) {
            counted += 1;
            if counted >= days {
                return day;
            }
        }
        day += Duration::days(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn notices_count_working_days_only() {
        // Monday 2026-11-30 + 7 working days → Tuesday 2026-12-08.
        assert_eq!(notice_end(d("2026-11-30"), 7), d("2026-12-08"));
        // Opened on a Saturday: counting starts on Monday.
        assert_eq!(notice_end(d("2026-11-28"), 7), d("2026-12-08"));
        // Friday + 1 working day is that Friday; + 2 the next Monday.
        assert_eq!(notice_end(d("2026-12-04"), 1), d("2026-12-04"));
        assert_eq!(notice_end(d("2026-12-04"), 2), d("2026-12-07"));
        // Zero days: closes the day it opens.
        assert_eq!(notice_end(d("2026-12-05"), 0), d("2026-12-05"));
    }

    #[test]
    fn rejects_nonsense() {
        let mut r = RegistryRules::default();
        assert!(r.validate().is_ok());
        r.forest_buffer_share = Decimal::ONE;
        assert!(r.validate().is_err());
        let r = RegistryRules {
            public_base_url: "ftp://x".into(),
            ..Default::default()
        };
        assert!(r.validate().is_err());
    }
}
