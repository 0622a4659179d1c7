//! The fairness and anti-fraud policy for logged trips, as configuration
//! (`[trip_rules]` in the configuration file) with the defaults of the
//! issue. `assess` is pure: the service gathers the facts (carbon-calc's
//! numbers, the person's other trips, the clock) and this decides.

use chrono::{DateTime, Duration, FixedOffset};
use rust_decimal::Decimal;
use sea_orm::sea_query::StringLen;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TripRules {
    /// A trip may end at most this far in the future (clock skew).
    pub future_skew_secs: i64,
    /// Trips that ended longer ago than this are not credited.
    pub claim_window_days: i64,
    /// Credited trips per person per day (China Standard Time).
    pub max_credited_per_day: u32,
    /// Credited grams per person per day.
    pub daily_cap_g: i64,
    /// Share of the reduction credited for trips with neither a GPS trace nor
    /// a partner record (0 to 1).
    #[serde(with = "rust_decimal::serde::str")]
    pub self_declared_rate: Decimal,
    /// Send self-declared trips to review instead of crediting them at
    /// `self_declared_rate`.
    pub self_declared_review: bool,
    /// A trace measuring less than this share of the declared distance goes
    /// to review.
    #[serde(with = "rust_decimal::serde::str")]
    pub trace_min_ratio: Decimal,
    /// Points credited per credited gram.
    pub points_per_gram: i64,
    /// GPS traces are personal data: kept this many days after the trip was
    /// logged (for review and disputes), then erased. Traces of trips still
    /// waiting for review are kept until decided.
    pub trace_retention_days: i64,
    /// The trace's first and last fixes may lie this far outside the trip's
    /// start and end (phone clocks drift); further out, the trace may belong
    /// to another journey and the trip goes to review.
    pub trace_time_slack_secs: i64,
    /// Points expire this many months after they were earned, oldest first.
    pub points_valid_months: u32,
}

impl Default for TripRules {
    fn default() -> Self {
        TripRules {
            future_skew_secs: 300,
            claim_window_days: 7,
            max_credited_per_day: 4,
            daily_cap_g: 5_000,
            self_declared_rate: Decimal::new(5, 1),
            self_declared_review: false,
            trace_min_ratio: Decimal::new(8, 1),
            points_per_gram: 1,
            trace_retention_days: 90,
            trace_time_slack_secs: 120,
            points_valid_months: 24,
        }
    }
}

impl TripRules {
    /// Rejects values that make no sense, naming the key.
    pub fn validate(&self) -> Result<(), String> {
        let unit = Decimal::ZERO..=Decimal::ONE;
        if !unit.contains(&self.self_declared_rate) {
            return Err("self_declared_rate must be between 0 and 1".into());
        }
        if !unit.contains(&self.trace_min_ratio) {
            return Err("trace_min_ratio must be between 0 and 1".into());
        }
        if self.future_skew_secs < 0 || self.claim_window_days < 1 || self.daily_cap_g < 1 {
            return Err(
                "future_skew_secs ≥ 0, claim_window_days ≥ 1 and daily_cap_g ≥ 1 are required"
                    .into(),
            );
        }
        if self.points_valid_months == 0 {
            return Err("points_valid_months must be at least 1".into());
        }
        if self.trace_time_slack_secs < 0 {
            return Err("trace_time_slack_secs must not be negative".into());
        }
        if self.trace_retention_days < 1 {
            return Err("trace_retention_days must be at least 1".into());
        }
        if !(1..=1_000).contains(&self.points_per_gram) || self.max_credited_per_day == 0 {
            return Err("points_per_gram is 1 to 1000 and max_credited_per_day ≥ 1".into());
        }
        Ok(())
    }
}

/// Why a trip was rejected, sent to review, or credited less.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    // Rejections.
    TooFast,
    TooFar,
    EndsInFuture,
    OutsideClaimWindow,
    OverlapsAnotherTrip,
    DailyTripLimit,
    DailyCapReached,
    // Review.
    TooSlow,
    TraceShorterThanClaimed,
    TraceTeleports,
    TraceOutsideTrip,
    SelfDeclaredReview,
    /// The same journey (trace, or legs and times) came from another
    /// account: this trip and that one go to a reviewer.
    SameJourneyAsAnotherAccount,
    // Credited, with less.
    SelfDeclaredReducedRate,
    CappedByDailyCap,
    // A reviewer's decision.
    RejectedByReviewer,
}

impl Reason {
    fn rejects(self) -> bool {
        matches!(
            self,
            Reason::TooFast
                | Reason::TooFar
                | Reason::EndsInFuture
                | Reason::OutsideClaimWindow
                | Reason::OverlapsAnotherTrip
                | Reason::DailyTripLimit
                | Reason::DailyCapReached
                | Reason::RejectedByReviewer
        )
    }

    fn reviews(self) -> bool {
        matches!(
            self,
            Reason::TooSlow
                | Reason::TraceShorterThanClaimed
                | Reason::TraceTeleports
                | Reason::TraceOutsideTrip
                | Reason::SelfDeclaredReview
                | Reason::SameJourneyAsAnotherAccount
        )
    }
}

// Stored as its text (`trips.status`), like organisations' kinds.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum TripStatus {
    #[sea_orm(string_value = "credited")]
    Credited,
    #[sea_orm(string_value = "rejected")]
    Rejected,
    #[sea_orm(string_value = "pending_review")]
    PendingReview,
}

impl TripStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TripStatus::Credited => "credited",
            TripStatus::Rejected => "rejected",
            TripStatus::PendingReview => "pending_review",
        }
    }
}

// Stored as its text (`trips.source`).
/// How the trip is evidenced.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum Source {
    #[sea_orm(string_value = "self_declared")]
    SelfDeclared,
    #[sea_orm(string_value = "gps")]
    Gps,
    /// Created from a partner's record (transit operator, bike-share).
    #[sea_orm(string_value = "partner")]
    Partner,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::SelfDeclared => "self_declared",
            Source::Gps => "gps",
            Source::Partner => "partner",
        }
    }
}

/// What the service found out about a trip.
#[derive(Debug, Clone)]
pub struct Facts {
    pub now: DateTime<FixedOffset>,
    pub ended_at: DateTime<FixedOffset>,
    /// Problems carbon-calc's plausibility checks found.
    pub plausibility: Vec<Reason>,
    pub source: Source,
    /// The trace's measured share of the declared distance, when both exist.
    pub trace_ratio: Option<Decimal>,
    pub trace_teleports: usize,
    /// The trace's fixes start before or end after the trip (beyond the
    /// slack).
    pub trace_outside_trip: bool,
    /// Another account sent the same journey.
    pub same_journey_elsewhere: bool,
    pub overlaps: bool,
    pub credited_today: u32,
    pub credited_today_g: i64,
    /// carbon-calc's exact reduction and its credited grams.
    pub reduction_g: Decimal,
    pub estimate_credited_g: i64,
    /// A reviewer approved the trip: what sends trips to review no longer
    /// applies; the limits still do.
    pub reviewed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub status: TripStatus,
    pub reasons: Vec<Reason>,
    /// Grams credited now (0 unless credited).
    pub credited_g: i64,
}

pub fn assess(rules: &TripRules, f: &Facts) -> Assessment {
    let mut reasons = f.plausibility.clone();
    if f.ended_at > f.now + Duration::seconds(rules.future_skew_secs) {
        reasons.push(Reason::EndsInFuture);
    }
    if f.ended_at < f.now - Duration::days(rules.claim_window_days) {
        reasons.push(Reason::OutsideClaimWindow);
    }
    if f.overlaps {
        reasons.push(Reason::OverlapsAnotherTrip);
    }
    if f.credited_today >= rules.max_credited_per_day {
        reasons.push(Reason::DailyTripLimit);
    }
    let room = rules.daily_cap_g - f.credited_today_g;
    if room <= 0 {
        reasons.push(Reason::DailyCapReached);
    }
    if f.reviewed {
        reasons.retain(|r| !r.reviews());
    }
    if let Some(ratio) = f.trace_ratio.filter(|_| !f.reviewed) {
        if ratio < rules.trace_min_ratio {
            reasons.push(Reason::TraceShorterThanClaimed);
        }
    }
    if f.trace_teleports > 0 && !f.reviewed {
        reasons.push(Reason::TraceTeleports);
    }
    if f.trace_outside_trip && !f.reviewed {
        reasons.push(Reason::TraceOutsideTrip);
    }
    if f.source == Source::SelfDeclared && rules.self_declared_review && !f.reviewed {
        reasons.push(Reason::SelfDeclaredReview);
    }
    if f.same_journey_elsewhere && !f.reviewed {
        reasons.push(Reason::SameJourneyAsAnotherAccount);
    }
    let status = if reasons.iter().any(|r| r.rejects()) {
        TripStatus::Rejected
    } else if reasons.iter().any(|r| r.reviews()) {
        TripStatus::PendingReview
    } else {
        TripStatus::Credited
    };
    if status != TripStatus::Credited {
        reasons.retain(|r| r.rejects() || r.reviews());
        return Assessment {
            status,
            reasons,
            credited_g: 0,
        };
    }
    let mut grams = f.estimate_credited_g;
    if f.source == Source::SelfDeclared {
        // Rounded as every credited quantity is (carbon-calc's one rule).
        grams = carbon_calc::decimal::credited_grams(
            f.reduction_g * rules.self_declared_rate,
            "reduction_g",
        )
        .unwrap_or(i64::MAX);
        reasons.push(Reason::SelfDeclaredReducedRate);
    }
    if grams > room {
        grams = room;
        reasons.push(Reason::CappedByDailyCap);
    }
    Assessment {
        status,
        reasons,
        credited_g: grams,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn facts() -> Facts {
        Facts {
            now: t("2026-11-20T09:00:00+08:00"),
            ended_at: t("2026-11-20T08:40:00+08:00"),
            plausibility: vec![],
            source: Source::Gps,
            trace_ratio: Some(Decimal::ONE),
            trace_teleports: 0,
            trace_outside_trip: false,
            same_journey_elsewhere: false,
            overlaps: false,
            credited_today: 0,
            credited_today_g: 0,
            reduction_g: Decimal::new(9007, 1),
            estimate_credited_g: 901,
            reviewed: false,
        }
    }

    #[test]
    fn a_clean_gps_trip_is_credited_in_full() {
        let a = assess(&TripRules::default(), &facts());
        assert_eq!(
            a,
            Assessment {
                status: TripStatus::Credited,
                reasons: vec![],
                credited_g: 901
            }
        );
    }

    #[test]
    fn each_rule_decides() {
        let rules = TripRules::default();
        type Change = Box<dyn Fn(&mut Facts)>;
        let cases: Vec<(Change, TripStatus, Reason)> = vec![
            (
                Box::new(|f| f.plausibility = vec![Reason::TooFast]),
                TripStatus::Rejected,
                Reason::TooFast,
            ),
            (
                Box::new(|f| f.ended_at = f.now + Duration::seconds(301)),
                TripStatus::Rejected,
                Reason::EndsInFuture,
            ),
            (
                Box::new(|f| f.ended_at = f.now - Duration::days(7) - Duration::seconds(1)),
                TripStatus::Rejected,
                Reason::OutsideClaimWindow,
            ),
            (
                Box::new(|f| f.overlaps = true),
                TripStatus::Rejected,
                Reason::OverlapsAnotherTrip,
            ),
            (
                Box::new(|f| f.credited_today = 4),
                TripStatus::Rejected,
                Reason::DailyTripLimit,
            ),
            (
                Box::new(|f| f.credited_today_g = 5_000),
                TripStatus::Rejected,
                Reason::DailyCapReached,
            ),
            (
                Box::new(|f| f.trace_ratio = Some(Decimal::new(79, 2))),
                TripStatus::PendingReview,
                Reason::TraceShorterThanClaimed,
            ),
            (
                Box::new(|f| f.trace_teleports = 1),
                TripStatus::PendingReview,
                Reason::TraceTeleports,
            ),
            (
                Box::new(|f| f.trace_outside_trip = true),
                TripStatus::PendingReview,
                Reason::TraceOutsideTrip,
            ),
            (
                Box::new(|f| f.plausibility = vec![Reason::TooSlow]),
                TripStatus::PendingReview,
                Reason::TooSlow,
            ),
        ];
        for (change, status, reason) in cases {
            let mut f = facts();
            change(&mut f);
            let a = assess(&rules, &f);
            assert_eq!((a.status, a.credited_g), (status, 0), "{reason:?}");
            assert!(a.reasons.contains(&reason), "{reason:?}: {:?}", a.reasons);
        }
        // Within the limits, nothing is refused.
        let mut f = facts();
        f.ended_at = f.now + Duration::seconds(300);
        f.credited_today = 3;
        f.trace_ratio = Some(Decimal::new(8, 1));
        assert_eq!(assess(&rules, &f).status, TripStatus::Credited);
    }

    #[test]
    fn self_declared_trips_credit_less_or_go_to_review() {
        let mut f = facts();
        f.source = Source::SelfDeclared;
        f.trace_ratio = None;
        let a = assess(&TripRules::default(), &f);
        // 900.7 × 0.5 = 450.35 → 450.
        assert_eq!((a.status, a.credited_g), (TripStatus::Credited, 450));
        assert_eq!(a.reasons, vec![Reason::SelfDeclaredReducedRate]);
        let review = TripRules {
            self_declared_review: true,
            ..TripRules::default()
        };
        assert_eq!(assess(&review, &f).status, TripStatus::PendingReview);
    }

    #[test]
    fn an_approved_trip_is_credited_within_the_limits() {
        let mut f = facts();
        f.source = Source::SelfDeclared;
        f.trace_ratio = Some(Decimal::new(5, 1));
        f.plausibility = vec![Reason::TooSlow];
        f.reviewed = true;
        let rules = TripRules {
            self_declared_review: true,
            ..TripRules::default()
        };
        let a = assess(&rules, &f);
        assert_eq!((a.status, a.credited_g), (TripStatus::Credited, 450));
        f.credited_today = 4;
        assert_eq!(assess(&rules, &f).status, TripStatus::Rejected);
    }

    #[test]
    fn the_daily_cap_trims_the_last_trip() {
        let mut f = facts();
        f.credited_today_g = 4_500;
        let a = assess(&TripRules::default(), &f);
        assert_eq!(a.credited_g, 500);
        assert_eq!(a.reasons, vec![Reason::CappedByDailyCap]);
    }

    #[test]
    fn nonsense_rules_are_refused() {
        for bad in [
            TripRules {
                self_declared_rate: Decimal::new(11, 1),
                ..TripRules::default()
            },
            TripRules {
                trace_min_ratio: Decimal::NEGATIVE_ONE,
                ..TripRules::default()
            },
            TripRules {
                claim_window_days: 0,
                ..TripRules::default()
            },
            TripRules {
                points_per_gram: 0,
                ..TripRules::default()
            },
            TripRules {
                trace_time_slack_secs: -1,
                ..TripRules::default()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
        assert!(TripRules::default().validate().is_ok());
    }
}
