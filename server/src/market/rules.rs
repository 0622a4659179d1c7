//! The market's policy as configuration (`[market]` in the file), with
//! the national carbon market's rules as defaults (REFERENCE.md), and the
//! trading calendar: sessions, the block-trade window, trading days.

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::clock::{china_time, Timestamp};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MarketRules {
    /// Open at every hour of every day (development and demos); the daily
    /// close is then at midnight China time.
    pub round_the_clock: bool,
    /// Continuous-trading sessions, Monday to Friday, China time:
    /// `"HH:MM-HH:MM"` ranges separated by commas.
    pub sessions: String,
    /// When block trades may be proposed and answered.
    pub block_window: String,
    /// Weekdays the market is closed (public holidays), China dates
    /// `YYYY-MM-DD` separated by commas: no sessions and no close.
    pub holidays: String,
    /// Book and pick orders within this share of the reference price.
    #[serde(with = "rust_decimal::serde::str")]
    pub band: Decimal,
    /// Block trades within this share of the reference price.
    #[serde(with = "rust_decimal::serde::str")]
    pub block_band: Decimal,
    /// Smallest block trade, in units.
    pub block_min_units: i64,
    /// Largest book order, in units.
    pub max_order_units: i64,
    /// Most units one organisation may hold of one instrument (the reserve
    /// platform is not limited).
    pub position_limit_units: i64,
    /// Price levels of the other side a pick may choose from.
    pub pick_levels: u32,
    /// Fee on each side of a trade, a share of its value.
    #[serde(with = "rust_decimal::serde::str")]
    pub fee_rate: Decimal,
    /// Units bought on a trading day can be sold from the next one.
    pub t_plus_one: bool,
    /// Largest share of an auction lot one bidder may bid for.
    #[serde(with = "rust_decimal::serde::str")]
    pub auction_bidder_cap: Decimal,
    /// Smallest bid in an auction, in units, unless its announcement sets
    /// its own.
    pub auction_min_bid_units: i64,
    /// Longest an auction may run from its announcement to its close.
    pub auction_max_days: i64,
    /// How often a replica looks for trading days to close (and auctions
    /// due), in seconds.
    pub close_check_secs: u64,
    /// Seconds between keep-alive comments on the live market stream.
    pub stream_keepalive_secs: u64,
    /// Most book orders and cancels one instrument's lane places in one
    /// database transaction (`market::lanes`).
    pub batch_orders: usize,
    /// Most book orders and cancels waiting for one instrument's lane on a
    /// replica; more are refused (503) until it catches up.
    pub queue_orders: usize,
    /// Most instruments whose queued requests one lane batch takes
    /// (`market::lanes`).
    pub batch_instruments: usize,
    /// Lane batches one replica runs at once (each on a database
    /// connection of its own).
    pub lane_workers: usize,
}

impl Default for MarketRules {
    fn default() -> Self {
        MarketRules {
            round_the_clock: false,
            sessions: "09:30-11:30,13:00-15:00".into(),
            block_window: "13:00-15:00".into(),
            holidays: String::new(),
            band: Decimal::new(1, 1),
            block_band: Decimal::new(3, 1),
            block_min_units: 100_000,
            max_order_units: 99_999,
            position_limit_units: 1_000_000,
            pick_levels: 5,
            fee_rate: Decimal::ZERO,
            t_plus_one: true,
            auction_bidder_cap: Decimal::new(5, 1),
            auction_min_bid_units: 1_000,
            auction_max_days: 30,
            close_check_secs: 30,
            stream_keepalive_secs: 15,
            batch_orders: 64,
            queue_orders: 4096,
            batch_instruments: 16,
            lane_workers: 2,
        }
    }
}

/// `"2027-01-01,2027-02-16"` as dates (empty: none).
pub fn parse_holidays(text: &str) -> Result<Vec<NaiveDate>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| format!("{d:?} is not YYYY-MM-DD"))
        })
        .collect()
}

/// `"09:30-11:30,13:00-15:00"` as ranges, each start before its end, in
/// order and not overlapping.
pub fn parse_sessions(text: &str) -> Result<Vec<(NaiveTime, NaiveTime)>, String> {
    let mut out: Vec<(NaiveTime, NaiveTime)> = Vec::new();
    for part in text.split(',') {
        let (a, b) = part
            .trim()
            .split_once('-')
            .ok_or_else(|| format!("{part:?} is not HH:MM-HH:MM"))?;
        let t = |s: &str| {
            NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| format!("{s:?} is not HH:MM"))
        };
        let (a, b) = (t(a)?, t(b)?);
        if a >= b {
            return Err(format!("{part:?} ends before it starts"));
        }
        if out.last().is_some_and(|(_, end)| *end > a) {
            return Err(format!(
                "{part:?} overlaps or precedes the session before it"
            ));
        }
        out.push((a, b));
    }
    Ok(out)
}

impl MarketRules {
    pub fn validate(&self) -> Result<(), String> {
        parse_sessions(&self.sessions).map_err(|e| format!("sessions: {e}"))?;
        parse_sessions(&self.block_window).map_err(|e| format!("block_window: {e}"))?;
        parse_holidays(&self.holidays).map_err(|e| format!("holidays: {e}"))?;
        let share = |name: &str, d: Decimal, max: Decimal| {
            if d < Decimal::ZERO || d > max {
                Err(format!("{name} must be from 0 to {max}"))
            } else {
                Ok(())
            }
        };
        share("band", self.band, Decimal::ONE)?;
        share("block_band", self.block_band, Decimal::ONE)?;
        share("fee_rate", self.fee_rate, MAX_FEE_RATE)?;
        share("auction_bidder_cap", self.auction_bidder_cap, Decimal::ONE)?;
        if self.auction_bidder_cap.is_zero() {
            return Err("auction_bidder_cap must be above 0".into());
        }
        for (name, v) in [
            ("block_min_units", self.block_min_units),
            ("max_order_units", self.max_order_units),
            ("position_limit_units", self.position_limit_units),
            ("auction_min_bid_units", self.auction_min_bid_units),
        ] {
            if !(1..=super::money::MAX_UNITS).contains(&v) {
                return Err(format!("{name} must be 1 to {}", super::money::MAX_UNITS));
            }
        }
        if !(1..=366).contains(&self.auction_max_days) {
            return Err("auction_max_days must be 1 to 366".into());
        }
        for (name, v, max) in [
            (
                "stream_keepalive_secs",
                self.stream_keepalive_secs as usize,
                3600,
            ),
            ("close_check_secs", self.close_check_secs as usize, 3600),
            ("batch_orders", self.batch_orders, 1024),
            ("queue_orders", self.queue_orders, 1_000_000),
            ("batch_instruments", self.batch_instruments, 256),
            ("lane_workers", self.lane_workers, 64),
            ("pick_levels", self.pick_levels as usize, 20),
        ] {
            if !(1..=max).contains(&v) {
                return Err(format!("{name} must be 1 to {max}"));
            }
        }
        Ok(())
    }

    /// Continuous trading is open at `now`.
    pub fn is_open(&self, now: Timestamp) -> bool {
        self.within(&self.sessions, now)
    }

    /// When trading day `day` closes: the end of its last session, on a
    /// weekday; round the clock, the midnight after it, every day. `None`
    /// when `day` is no trading day.
    pub fn close_of(&self, day: NaiveDate) -> Option<Timestamp> {
        use chrono::TimeZone;
        let at =
            |d: NaiveDate, t: NaiveTime| china_time().from_local_datetime(&d.and_time(t)).single();
        if self.round_the_clock {
            return at(day.succ_opt()?, NaiveTime::MIN);
        }
        if !self.trading_day(day) {
            return None;
        }
        let (_, end) = *parse_sessions(&self.sessions).ok()?.last()?;
        at(day, end)
    }

    /// The first trading day after `day` (round the clock: the next day);
    /// a year of holidays at most is skipped.
    pub fn next_trading_day(&self, day: NaiveDate) -> NaiveDate {
        day.iter_days()
            .skip(1)
            .take(366)
            .find(|d| self.round_the_clock || self.trading_day(*d))
            .unwrap_or_else(|| day.succ_opt().unwrap_or(day))
    }

    /// The trading days after `after` whose close is at or before `now`,
    /// oldest first, at most `max`.
    pub fn closes_due(&self, after: NaiveDate, now: Timestamp, max: usize) -> Vec<NaiveDate> {
        let today = now.with_timezone(&china_time()).date_naive();
        after
            .iter_days()
            .skip(1)
            .take_while(|d| *d <= today)
            .filter(|d| self.close_of(*d).is_some_and(|c| c <= now))
            .take(max)
            .collect()
    }

    /// The fee rate of `i`: its own, or the market-wide one.
    pub fn fee_rate_of(&self, i: &crate::instruments::instrument::Model) -> Decimal {
        stored_rate(i.fee_rate.as_deref()).unwrap_or(self.fee_rate)
    }

    /// The fee rate `o` was entered under (the market-wide one for orders
    /// older than per-order rates).
    pub fn fee_rate_of_order(&self, o: &super::entity::order::Model) -> Decimal {
        stored_rate(o.fee_rate.as_deref()).unwrap_or(self.fee_rate)
    }

    /// The smallest block trade in `i`: its own, or the market-wide one.
    pub fn block_min_of(&self, i: &crate::instruments::instrument::Model) -> i64 {
        i.block_min_units.unwrap_or(self.block_min_units)
    }

    /// Whether `day` is a trading day outside round-the-clock mode: a
    /// weekday that is not one of the holidays.
    fn trading_day(&self, day: NaiveDate) -> bool {
        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
            && !parse_holidays(&self.holidays)
                .unwrap_or_default()
                .contains(&day)
    }

    /// What a market-closed problem says of `ranges` (the sessions or the
    /// block window), naming the holiday when `now` is on one.
    pub fn closed_detail(&self, what: &str, ranges: &str, now: Timestamp) -> String {
        let day = now.with_timezone(&china_time()).date_naive();
        let mut detail = format!("{what} Monday to Friday {ranges} China time");
        if !self.round_the_clock
            && parse_holidays(&self.holidays)
                .unwrap_or_default()
                .contains(&day)
        {
            detail.push_str(&format!(", except holidays: {day} is one"));
        }
        detail
    }

    /// Block trades may be proposed and answered at `now`.
    pub fn block_window_open(&self, now: Timestamp) -> bool {
        self.within(&self.block_window, now)
    }

    fn within(&self, ranges: &str, now: Timestamp) -> bool {
        if self.round_the_clock {
            return true;
        }
        let local = now.with_timezone(&china_time());
        if !self.trading_day(local.date_naive()) {
            return false;
        }
        let t = local.time();
        parse_sessions(ranges)
            .unwrap_or_default()
            .iter()
            .any(|(a, b)| *a <= t && t < *b)
    }
}

/// A fee rate as stored (a decimal string the API checked).
fn stored_rate(text: Option<&str>) -> Option<Decimal> {
    text.and_then(|t| t.parse().ok())
}

/// The largest fee rate per side, for the market-wide setting and each
/// instrument's.
pub const MAX_FEE_RATE: Decimal = Decimal::from_parts(1, 0, 0, false, 1);

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        chrono::DateTime::parse_from_rfc3339(text).unwrap()
    }

    #[test]
    fn sessions_are_weekdays_in_china_time() {
        let r = MarketRules::default();
        r.validate().unwrap();
        // Monday 2026-11-30.
        assert!(!r.is_open(at("2026-11-30T09:29:59+08:00")));
        assert!(r.is_open(at("2026-11-30T09:30:00+08:00")));
        assert!(r.is_open(at("2026-11-30T03:00:00+00:00")));
        assert!(!r.is_open(at("2026-11-30T11:30:00+08:00")));
        assert!(!r.is_open(at("2026-11-30T12:00:00+08:00")));
        assert!(r.is_open(at("2026-11-30T14:59:59+08:00")));
        assert!(!r.is_open(at("2026-11-30T15:00:00+08:00")));
        assert!(!r.is_open(at("2026-11-29T10:00:00+08:00")), "Sunday");
        assert!(!r.block_window_open(at("2026-11-30T10:00:00+08:00")));
        assert!(r.block_window_open(at("2026-11-30T13:00:00+08:00")));
        let always = MarketRules {
            round_the_clock: true,
            ..r
        };
        assert!(always.is_open(at("2026-11-29T03:00:00+08:00")));
    }

    #[test]
    fn holidays_have_no_sessions_and_no_close() {
        let r = MarketRules {
            holidays: "2026-11-30, 2026-12-02".into(),
            ..MarketRules::default()
        };
        r.validate().unwrap();
        assert!(
            !r.is_open(at("2026-11-30T10:00:00+08:00")),
            "a holiday Monday"
        );
        assert!(!r.block_window_open(at("2026-11-30T13:30:00+08:00")));
        assert!(r.is_open(at("2026-12-01T10:00:00+08:00")), "Tuesday trades");
        let friday = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        assert_eq!(
            r.close_of(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()),
            None
        );
        // From Friday to Thursday 15:00: Tuesday and Thursday close.
        assert_eq!(
            r.closes_due(friday, at("2026-12-03T15:00:00+08:00"), 10),
            vec![
                NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
                NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()
            ]
        );
        // Round the clock ignores them.
        let always = MarketRules {
            round_the_clock: true,
            ..r.clone()
        };
        assert!(always.is_open(at("2026-11-30T10:00:00+08:00")));
        for bad in ["2026-13-01", "30.11.2026", "2026-11-30,x"] {
            let r = MarketRules {
                holidays: bad.into(),
                ..MarketRules::default()
            };
            assert!(r.validate().unwrap_err().starts_with("holidays:"), "{bad}");
        }
    }

    #[test]
    fn days_close_after_the_last_session_or_at_midnight() {
        let r = MarketRules::default();
        let monday = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(r.close_of(monday), Some(at("2026-11-30T15:00:00+08:00")));
        assert_eq!(
            r.close_of(NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()),
            None
        );
        let friday = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        // From Friday to Monday 15:00: Monday's close is due, not the weekend.
        assert_eq!(
            r.closes_due(friday, at("2026-11-30T15:00:00+08:00"), 10),
            vec![monday]
        );
        assert_eq!(
            r.closes_due(friday, at("2026-11-30T14:59:59+08:00"), 10),
            vec![]
        );
        let always = MarketRules {
            round_the_clock: true,
            ..r
        };
        assert_eq!(
            always.close_of(monday),
            Some(at("2026-12-01T00:00:00+08:00"))
        );
        assert_eq!(
            always.closes_due(friday, at("2026-11-30T10:00:00+08:00"), 10),
            vec![
                NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
                NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
            ]
        );
        assert_eq!(
            always
                .closes_due(friday, at("2026-11-30T10:00:00+08:00"), 1)
                .len(),
            1
        );
    }

    #[test]
    fn the_next_trading_day_skips_weekends_and_holidays() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        let r = MarketRules {
            holidays: "2026-12-07".into(),
            ..MarketRules::default()
        };
        assert_eq!(r.next_trading_day(day(3)), day(4), "Thursday to Friday");
        assert_eq!(
            r.next_trading_day(day(4)),
            day(8),
            "Friday to Tuesday past a holiday Monday"
        );
        assert_eq!(r.next_trading_day(day(5)), day(8), "from a Saturday");
        let always = MarketRules {
            round_the_clock: true,
            ..r
        };
        assert_eq!(always.next_trading_day(day(4)), day(5));
    }

    #[test]
    fn bad_settings_are_refused() {
        for sessions in [
            "",
            "9:30",
            "10:00-09:00",
            "09:30-11:30,11:00-12:00",
            "13:00-15:00,09:30-11:30",
        ] {
            let r = MarketRules {
                sessions: sessions.into(),
                ..MarketRules::default()
            };
            assert!(r.validate().is_err(), "{sessions:?}");
        }
        for bad in [
            MarketRules {
                band: Decimal::new(-1, 2),
                ..MarketRules::default()
            },
            MarketRules {
                fee_rate: Decimal::new(2, 1),
                ..MarketRules::default()
            },
            MarketRules {
                pick_levels: 0,
                ..MarketRules::default()
            },
            MarketRules {
                max_order_units: 0,
                ..MarketRules::default()
            },
            MarketRules {
                auction_bidder_cap: Decimal::ZERO,
                ..MarketRules::default()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn lanes_take_bounded_batches_and_workers() {
        let with = |batch_instruments, lane_workers| MarketRules {
            batch_instruments,
            lane_workers,
            ..MarketRules::default()
        };
        for (rules, problem) in [
            (with(0, 2), Some("batch_instruments must be 1 to 256")),
            (with(257, 2), Some("batch_instruments must be 1 to 256")),
            (with(16, 0), Some("lane_workers must be 1 to 64")),
            (with(16, 65), Some("lane_workers must be 1 to 64")),
            (with(1, 1), None),
            (with(256, 64), None),
        ] {
            assert_eq!(rules.validate().err().as_deref(), problem);
        }
    }
}
