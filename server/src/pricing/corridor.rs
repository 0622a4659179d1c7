//! The price corridor around a guidance price, as a pure rule evaluated at
//! each daily close: an upper trigger (the close above guidance × 1.3) and
//! a lower one (below guidance × 0.7), each firing after a run of
//! consecutive trading days beyond it. As RGGI's containment reserves do,
//! the trigger prices may rise by a yearly share, counted in whole years
//! since the guidance price took effect.

use chrono::{Datelike, NaiveDate};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::market::money::MAX_PRICE_FEN;

/// The corridor's settings (`[pricing]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Corridor {
    /// The upper trigger as a multiple of the guidance price (1.3).
    pub upper: Decimal,
    /// The lower trigger as a multiple of the guidance price (0.7).
    pub lower: Decimal,
    /// Consecutive trading days beyond a trigger that fire it (3).
    pub days: u32,
    /// The triggers' yearly rise, a share (0: they follow the guidance
    /// price only).
    pub yearly_rise: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// Closes above the upper trigger: the reserve releases stock.
    Upper,
    /// Closes below the lower trigger: the reserve supports the price.
    Lower,
}

/// Whole years from `since` to `day` (a year is passed on its anniversary).
fn whole_years(since: NaiveDate, day: NaiveDate) -> u32 {
    let mut years = day.year() - since.year();
    if (day.month(), day.day()) < (since.month(), since.day()) {
        years -= 1;
    }
    years.max(0) as u32
}

impl Corridor {
    /// The trigger prices on `day` (fen) for a guidance price of
    /// `guidance` fen in force since `since`: upper rounded up and lower
    /// rounded down to the instrument's tick (`tick` fen), so that a close
    /// exactly at the multiple never fires and a trigger is a price the
    /// reserve can trade at.
    pub fn triggers(
        &self,
        guidance: i64,
        since: NaiveDate,
        day: NaiveDate,
        tick: i64,
    ) -> (i64, i64) {
        let mut growth = Decimal::ONE;
        for _ in 0..whole_years(since, day) {
            growth *= Decimal::ONE + self.yearly_rise;
        }
        let base = Decimal::from(guidance) * growth;
        let tick = Decimal::from(tick.max(1));
        let top = Decimal::from(MAX_PRICE_FEN) / tick;
        let upper = ((base * self.upper / tick).ceil().min(top.floor()) * tick)
            .to_i64()
            .unwrap_or(MAX_PRICE_FEN);
        let lower = ((base * self.lower / tick).floor() * tick)
            .to_i64()
            .unwrap_or(0)
            .max(0);
        (upper, lower)
    }
}

/// One trading day's close against the triggers in force that day (fen).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    pub close: i64,
    pub upper: i64,
    pub lower: i64,
}

impl Day {
    fn beyond(&self) -> Option<Trigger> {
        if self.close > self.upper {
            Some(Trigger::Upper)
        } else if self.close < self.lower {
            Some(Trigger::Lower)
        } else {
            None
        }
    }
}

/// The trigger the last of `days` (oldest first, consecutive trading
/// days) closed beyond, and for how many consecutive days up to it.
pub fn run(days: &[Day]) -> Option<(Trigger, usize)> {
    let last = days.last()?.beyond()?;
    let n = days
        .iter()
        .rev()
        .take_while(|d| d.beyond() == Some(last))
        .count();
    Some((last, n))
}

/// Which trigger the last of `days` fires: one whose closes have been
/// beyond it for a run of a multiple of `corridor.days` days ending on
/// that day. A breach that lasts fires again every `days` days; the run
/// restarts when a close comes back inside or crosses to the other side.
pub fn fired(days: &[Day], corridor: &Corridor) -> Option<Trigger> {
    let (trigger, n) = run(days)?;
    let every = corridor.days.max(1) as usize;
    (n % every == 0).then_some(trigger)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corridor(yearly_rise: Decimal) -> Corridor {
        Corridor {
            upper: Decimal::new(13, 1),
            lower: Decimal::new(7, 1),
            days: 3,
            yearly_rise,
        }
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn trigger_prices_round_outward_and_rise_on_anniversaries() {
        let c = corridor(Decimal::ZERO);
        let since = date("2026-03-15");
        // 36.00 × 1.3 = 46.80, × 0.7 = 25.20 exactly.
        assert_eq!(
            c.triggers(3_600, since, date("2026-03-15"), 1),
            (4_680, 2_520)
        );
        // 33.33 × 1.3 = 43.329 → 43.33 (up); × 0.7 = 23.331 → 23.33 (down).
        assert_eq!(
            c.triggers(3_333, since, date("2026-03-15"), 1),
            (4_333, 2_333)
        );
        // Land's tick is a yuan: 333.33 × 1.3 = 433.329 → 434 (up); × 0.7 =
        // 233.331 → 233 (down).
        assert_eq!(
            c.triggers(33_333, since, date("2026-03-15"), 100),
            (43_400, 23_300)
        );
        assert_eq!(
            c.triggers(3_600, since, date("2036-03-15"), 1),
            (4_680, 2_520),
            "no rise"
        );
        let rising = corridor(Decimal::new(7, 2));
        assert_eq!(
            rising.triggers(3_600, since, date("2027-03-14"), 1),
            (4_680, 2_520),
            "a day short of a year"
        );
        // One year: 36.00 × 1.07 = 38.52; × 1.3 = 50.076 → 50.08; × 0.7 = 26.964 → 26.96.
        assert_eq!(
            rising.triggers(3_600, since, date("2027-03-15"), 1),
            (5_008, 2_696)
        );
        // Two: 36.00 × 1.1449 = 41.2164; × 1.3 = 53.58132 → 53.59; × 0.7 = 28.85148 → 28.85.
        assert_eq!(
            rising.triggers(3_600, since, date("2028-03-15"), 1),
            (5_359, 2_885)
        );
        // A guidance price that took effect on 29 February rises on 1 March in other years.
        let leap = date("2028-02-29");
        assert_eq!(
            rising.triggers(3_600, leap, date("2029-02-28"), 1),
            (4_680, 2_520)
        );
        assert_eq!(
            rising.triggers(3_600, leap, date("2029-03-01"), 1),
            (5_008, 2_696)
        );
    }

    #[test]
    fn three_closes_beyond_a_trigger_fire_it_and_ties_do_not() {
        let c = corridor(Decimal::ZERO);
        let day = |close: i64| Day {
            close,
            upper: 4_680,
            lower: 2_520,
        };
        let run = |closes: &[i64]| fired(&closes.iter().map(|&c| day(c)).collect::<Vec<_>>(), &c);
        let cases: &[(&[i64], Option<Trigger>)] = &[
            (&[], None),
            (&[4_681, 4_681], None),
            (&[4_681, 4_681, 4_681], Some(Trigger::Upper)),
            (&[3_600, 4_681, 4_681, 4_681], Some(Trigger::Upper)),
            // A fourth and fifth day beyond: already fired; the sixth fires again.
            (&[4_681, 4_681, 4_681, 4_700], None),
            (&[4_681, 4_681, 4_681, 4_700, 4_700], None),
            (
                &[4_681, 4_681, 4_681, 4_700, 4_700, 4_700],
                Some(Trigger::Upper),
            ),
            // Exactly at the trigger is inside: the run restarts.
            (&[4_681, 4_680, 4_681, 4_681], None),
            (&[4_680, 4_680, 4_680], None),
            (&[2_519, 2_519, 2_519], Some(Trigger::Lower)),
            (&[2_520, 2_520, 2_520], None),
            // Crossing from one side to the other starts a new run.
            (&[4_681, 4_681, 2_519], None),
            (&[4_681, 4_681, 2_519, 2_519, 2_519], Some(Trigger::Lower)),
        ];
        for (closes, want) in cases {
            assert_eq!(run(closes), *want, "{closes:?}");
        }
    }

    #[test]
    fn the_triggers_of_each_day_apply_to_that_day() {
        // A guidance price raised on the third day lifts its triggers: the
        // run of closes above the old trigger ends there.
        let c = corridor(Decimal::ZERO);
        let days = [
            Day {
                close: 4_700,
                upper: 4_680,
                lower: 2_520,
            },
            Day {
                close: 4_700,
                upper: 4_680,
                lower: 2_520,
            },
            Day {
                close: 4_700,
                upper: 5_148,
                lower: 2_772,
            },
        ];
        assert_eq!(fired(&days, &c), None);
        assert_eq!(fired(&days[..2], &c), None);
    }
}
