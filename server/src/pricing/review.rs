//! The monthly review of each guidance price. From the first day of a
//! review month (China time) a replica's background loop proposes, for every
//! instrument with a guidance price in force, the next price from the
//! previous months' book and pick trades (`adjustment::propose`), and
//! records what it read and why. One review per instrument and month
//! however many replicas run it (the table's unique key). Government staff
//! approve the proposal as it is, amend it with a reason, or reject it;
//! `[pricing] auto_publish` publishes it at once instead. A published
//! review is a new version with the tiers and floor of the version in
//! force.

use chrono::{DateTime, Datelike, FixedOffset, Months, NaiveDate};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::adjustment::{self, Basis};
use super::entity::{guidance, review};
use super::guidance::{in_force, publish_in, tiers_of, Checked};
use super::rules::PricingRules;
use crate::auth::extract::Principal;
use crate::auth::roles::Role;
use crate::market::entity::bar;
use crate::market::error::MarketError;
use crate::market::money;
use crate::problem::ProblemCode;

pub mod status {
    pub const PROPOSED: &str = "proposed";
    pub const PUBLISHED: &str = "published";
    pub const REJECTED: &str = "rejected";
    pub const ALL: &[&str] = &[PROPOSED, PUBLISHED, REJECTED];
}

/// Who publishes a review's proposal when configuration does.
pub const SYSTEM: &str = "system";

/// The month of `day` is a review month: counted from January of year 0,
/// every `every` months (monthly: all of them; quarterly: January, April,
/// July, October).
pub fn is_review_month(day: NaiveDate, every: u32) -> bool {
    let index = day.year() as i64 * 12 + day.month0() as i64;
    index.rem_euclid(every.max(1) as i64) == 0
}

/// The first and last days of the `months` calendar months before the
/// month of `day`.
pub fn window(day: NaiveDate, months: u32) -> (NaiveDate, NaiveDate) {
    let first_of_month = day.with_day(1).expect("the first exists");
    let from = first_of_month - Months::new(months);
    let to = first_of_month.pred_opt().expect("a day before");
    (from, to)
}

fn basis_text(b: Basis) -> &'static str {
    match b {
        Basis::LowVolume => "low_volume",
        Basis::Vwap => "vwap",
        Basis::CappedUp => "capped_up",
        Basis::CappedDown => "capped_down",
    }
}

#[derive(Debug, FromQueryResult)]
struct Sums {
    volume: Option<i64>,
    turnover: Option<i64>,
}

/// Proposes this month's review of every instrument with a guidance price
/// in force, if this is a review month and its review is not made yet.
/// Answers how many reviews this call made.
pub async fn run_due(
    db: &DatabaseConnection,
    rules: &PricingRules,
    now: DateTime<FixedOffset>,
) -> Result<usize, MarketError> {
    let today = crate::clock::china_date(now);
    if !is_review_month(today, rules.review_every_months) {
        return Ok(0);
    }
    let period = today.format("%Y-%m").to_string();
    let codes: Vec<String> = guidance::Entity::find()
        .select_only()
        .column(guidance::Column::Instrument)
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    let mut made = 0;
    for code in codes {
        let done = review::Entity::find()
            .filter(review::Column::Instrument.eq(code.as_str()))
            .filter(review::Column::Period.eq(period.as_str()))
            .one(db)
            .await?
            .is_some();
        if done {
            continue;
        }
        let Some(current) = in_force(db, &code, today).await? else {
            continue;
        };
        if propose(db, rules, &code, &period, &current, today, now).await? {
            made += 1;
        }
    }
    Ok(made)
}

/// Makes one review; `false` when another replica made it first.
async fn propose(
    db: &DatabaseConnection,
    rules: &PricingRules,
    code: &str,
    period: &str,
    current: &guidance::Model,
    today: NaiveDate,
    now: DateTime<FixedOffset>,
) -> Result<bool, MarketError> {
    let (from, to) = window(today, rules.review_window_months);
    let (from_text, to_text) = (from.to_string(), to.to_string());
    let sums = bar::Entity::find()
        .select_only()
        // PostgreSQL sums BIGINTs as NUMERIC: back to BIGINT on both.
        .column_as(Expr::cust("CAST(SUM(volume) AS BIGINT)"), "volume")
        .column_as(Expr::cust("CAST(SUM(turnover) AS BIGINT)"), "turnover")
        .filter(bar::Column::Instrument.eq(code))
        .filter(bar::Column::Day.between(from_text.as_str(), to_text.as_str()))
        .into_model::<Sums>()
        .one(db)
        .await?;
    let (volume, turnover) =
        sums.map_or((0, 0), |s| (s.volume.unwrap_or(0), s.turnover.unwrap_or(0)));
    let proposal = adjustment::propose(
        adjustment::Market {
            current: current.price,
            volume,
            turnover,
            step: crate::market::money::Step::of_code(code),
        },
        rules.limits(),
    );
    let id = uuid::Uuid::now_v7().to_string();
    let txn = crate::db::begin_write(db).await?;
    let inserted = review::Entity::insert(review::ActiveModel {
        id: Set(id.clone()),
        instrument: Set(code.to_string()),
        period: Set(period.to_string()),
        window_from: Set(from_text.clone()),
        window_to: Set(to_text.clone()),
        current_guidance_id: Set(current.id.clone()),
        current_price: Set(current.price),
        volume: Set(volume),
        turnover: Set(turnover),
        vwap: Set(proposal.vwap),
        proposed_price: Set(proposal.price),
        basis: Set(basis_text(proposal.basis).into()),
        status: Set(status::PROPOSED.into()),
        decision: Set(None),
        decided_by: Set(None),
        decided_at: Set(None),
        decision_reason: Set(None),
        guidance_id: Set(None),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([review::Column::Instrument, review::Column::Period])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    if inserted == 0 {
        return Ok(false);
    }
    crate::audit::log::append(
        &txn,
        "pricing.review_proposed",
        serde_json::json!({
            "review_id": id,
            "instrument": code,
            "period": period,
            "window": [from_text, to_text],
            "current_price": money::yuan(current.price),
            "current_version": current.version,
            "volume": money::Step::of_code(code).show(volume),
            "turnover_fen": turnover,
            "vwap": proposal.vwap.map(money::yuan),
            "proposed_price": money::yuan(proposal.price),
            "basis": basis_text(proposal.basis),
            "max_move": rules.max_move.to_string(),
            "min_volume_units": rules.min_volume_units,
        }),
        None,
        now,
    )
    .await?;
    if rules.auto_publish {
        let r = find(&txn, &id).await?;
        publish_review(&txn, &r, SYSTEM, "auto", proposal.price, None, today, now).await?;
    }
    txn.commit().await?;
    Ok(true)
}

async fn find(db: &impl sea_orm::ConnectionTrait, id: &str) -> Result<review::Model, MarketError> {
    review::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(MarketError::NotFound)
}

/// Publishes `price` for the review's instrument from `effective_from`,
/// with the tiers and floor of the version in force, and records the
/// decision on the review.
#[allow(clippy::too_many_arguments)]
async fn publish_review(
    txn: &sea_orm::DatabaseTransaction,
    r: &review::Model,
    publisher: &str,
    decision: &str,
    price: i64,
    reason: Option<String>,
    effective_from: NaiveDate,
    now: DateTime<FixedOffset>,
) -> Result<guidance::Model, MarketError> {
    let today = crate::clock::china_date(now);
    let current = in_force(txn, &r.instrument, today).await?.ok_or_else(|| {
        MarketError::Conflict(
            ProblemCode::NoGuidancePrice,
            format!("{} has no guidance price in force to review", r.instrument),
        )
    })?;
    let words = match decision {
        "amend" => "amended",
        "auto" => "published by configuration",
        _ => "approved",
    };
    let published = publish_in(
        txn,
        publisher,
        Checked {
            code: r.instrument.clone(),
            price,
            effective_from,
            floor: current.floor,
            tiers: tiers_of(&current),
            reason: match &reason {
                Some(why) => format!("review of {} ({words}): {why}", r.period),
                None => format!("review of {} ({words}): {}", r.period, r.basis),
            },
        },
        Some(r.id.clone()),
        now,
    )
    .await?;
    review::Entity::update_many()
        .col_expr(review::Column::Status, Expr::value(status::PUBLISHED))
        .col_expr(review::Column::Decision, Expr::value(decision))
        .col_expr(review::Column::DecidedBy, Expr::value(publisher))
        .col_expr(review::Column::DecidedAt, Expr::value(now))
        .col_expr(review::Column::DecisionReason, Expr::value(reason))
        .col_expr(
            review::Column::GuidanceId,
            Expr::value(published.id.clone()),
        )
        .filter(review::Column::Id.eq(r.id.as_str()))
        .exec(txn)
        .await?;
    Ok(published)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PriceReviewDecision {
    /// Publish the proposed price.
    Approve,
    /// Publish another price (`price`), with a reason.
    Amend,
    /// Publish nothing, with a reason.
    Reject,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceReviewDecisionInput {
    pub decision: PriceReviewDecision,
    /// Yuan per unit, for `amend`.
    #[schema(example = "38.00")]
    pub price: Option<String>,
    /// Why: required to amend or reject.
    pub reason: Option<String>,
    /// The first China day the published price is in force: today (the
    /// default) or later.
    #[schema(value_type = Option<String>, format = Date)]
    pub effective_from: Option<NaiveDate>,
}

/// Decides a proposed review, once (government staff, administrators).
pub async fn decide(
    db: &DatabaseConnection,
    who: &Principal,
    id: &str,
    input: &PriceReviewDecisionInput,
    now: DateTime<FixedOffset>,
) -> Result<review::Model, MarketError> {
    // Reviews are public: an unknown one is absent to everyone.
    let step = money::Step::of_code(&find(db, id).await?.instrument);
    if !(who.is_admin() || who.has_role(Role::Government)) {
        return Err(MarketError::Forbidden(
            "only government staff and administrators decide reviews",
        ));
    }
    let today = crate::clock::china_date(now);
    let reason = crate::text::clean_optional(
        input.reason.as_deref(),
        crate::text::REASON_MAX,
        crate::text::Shape::Paragraph,
    )
    .map_err(|e| MarketError::invalid("reason", e.to_string()))?;
    if input.decision != PriceReviewDecision::Approve && reason.is_none() {
        return Err(MarketError::invalid(
            "reason",
            "amending or rejecting a review needs a reason, for the public record",
        ));
    }
    let effective_from = input.effective_from.unwrap_or(today);
    if effective_from < today
        || (effective_from - today).num_days() > super::guidance::MAX_DAYS_AHEAD
    {
        return Err(MarketError::invalid(
            "effective_from",
            format!("from today ({today}, China time) to a year ahead"),
        ));
    }
    let price = match (input.decision, input.price.as_deref()) {
        (PriceReviewDecision::Amend, Some(p)) => {
            Some(crate::market::orders::parse_price(step, "price", p)?)
        }
        (PriceReviewDecision::Amend, None) => {
            return Err(MarketError::invalid(
                "price",
                "amending needs the price to publish",
            ))
        }
        (_, Some(_)) => {
            return Err(MarketError::invalid(
                "price",
                "a price is given only to amend",
            ))
        }
        (_, None) => None,
    };
    let txn = crate::db::begin_write(db).await?;
    // The review's row lock: one decision however many arrive at once.
    let locked = review::Entity::update_many()
        .col_expr(review::Column::Status, Expr::col(review::Column::Status))
        .filter(review::Column::Id.eq(id))
        .exec_with_returning(&txn)
        .await?;
    let r = locked.into_iter().next().ok_or(MarketError::NotFound)?;
    if r.status != status::PROPOSED {
        return Err(MarketError::Conflict(
            ProblemCode::AlreadyDecided,
            format!("the review was {} already", r.status),
        ));
    }
    let by = who.user_id.as_str();
    match input.decision {
        PriceReviewDecision::Reject => {
            review::Entity::update_many()
                .col_expr(review::Column::Status, Expr::value(status::REJECTED))
                .col_expr(review::Column::Decision, Expr::value("reject"))
                .col_expr(review::Column::DecidedBy, Expr::value(by))
                .col_expr(review::Column::DecidedAt, Expr::value(now))
                .col_expr(review::Column::DecisionReason, Expr::value(reason.clone()))
                .filter(review::Column::Id.eq(id))
                .exec(&txn)
                .await?;
            crate::audit::log::append(
                &txn,
                "pricing.review_rejected",
                serde_json::json!({ "review_id": id, "instrument": r.instrument, "period": r.period, "reason": reason, "by": by }),
                None,
                now,
            )
            .await?;
        }
        PriceReviewDecision::Approve => {
            publish_review(
                &txn,
                &r,
                by,
                "approve",
                r.proposed_price,
                reason,
                effective_from,
                now,
            )
            .await?;
        }
        PriceReviewDecision::Amend => {
            let price = price.expect("checked above");
            publish_review(&txn, &r, by, "amend", price, reason, effective_from, now).await?;
        }
    }
    let decided = find(&txn, id).await?;
    txn.commit().await?;
    Ok(decided)
}

/// A review with what it read and proposed (public).
#[derive(Debug, Serialize, ToSchema)]
pub struct PriceReviewView {
    pub id: String,
    pub instrument: String,
    /// The month reviewed in (`YYYY-MM`).
    pub period: String,
    /// The China days whose book and pick trades were averaged.
    pub window_from: String,
    pub window_to: String,
    /// The guidance price in force when it ran (yuan).
    pub current_price: String,
    /// Units and fen traded in the window.
    pub volume: String,
    pub turnover: String,
    /// The window's volume-weighted average (yuan), when anything traded.
    pub vwap: Option<String>,
    /// What it proposes (yuan).
    pub proposed_price: String,
    pub basis: String,
    /// `proposed`, `published` or `rejected`.
    pub status: String,
    /// `approve`, `amend`, `reject` or `auto`.
    pub decision: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_at: Option<String>,
    /// The version it published.
    pub guidance_id: Option<String>,
    pub created_at: String,
}

impl From<review::Model> for PriceReviewView {
    fn from(r: review::Model) -> Self {
        let step = money::Step::of_code(&r.instrument);
        PriceReviewView {
            id: r.id,
            instrument: r.instrument,
            period: r.period,
            window_from: r.window_from,
            window_to: r.window_to,
            current_price: money::yuan(r.current_price),
            volume: step.show(r.volume),
            turnover: r.turnover.to_string(),
            vwap: r.vwap.map(money::yuan),
            proposed_price: money::yuan(r.proposed_price),
            basis: r.basis,
            status: r.status,
            decision: r.decision,
            decision_reason: r.decision_reason,
            decided_at: r.decided_at.map(|t| t.to_rfc3339()),
            guidance_id: r.guidance_id,
            created_at: r.created_at.to_rfc3339(),
        }
    }
}

/// Reviews, newest first, of one instrument or all, in one status or any.
pub async fn list(
    db: &DatabaseConnection,
    instrument: Option<&str>,
    status_filter: Option<&str>,
    after: Option<String>,
    limit: u64,
) -> Result<(Vec<review::Model>, bool), MarketError> {
    let columns = super::records::Columns {
        id: review::Column::Id,
        instrument: review::Column::Instrument,
        status: review::Column::Status,
    };
    super::records::newest_first::<review::Entity>(
        db,
        columns,
        status::ALL,
        instrument,
        status_filter,
        after,
        limit,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn review_months_and_windows() {
        assert!(is_review_month(day("2027-02-01"), 1));
        // Quarterly: January, April, July, October.
        let quarterly: Vec<u32> = (1..=12)
            .filter(|m| is_review_month(NaiveDate::from_ymd_opt(2027, *m, 1).unwrap(), 3))
            .collect();
        assert_eq!(quarterly, vec![1, 4, 7, 10]);
        // The previous three calendar months, across a year's end.
        assert_eq!(
            window(day("2027-02-01"), 3),
            (day("2026-11-01"), day("2027-01-31"))
        );
        assert_eq!(
            window(day("2027-03-15"), 1),
            (day("2027-02-01"), day("2027-02-28"))
        );
        assert_eq!(
            window(day("2028-03-01"), 1),
            (day("2028-02-01"), day("2028-02-29"))
        );
    }
}
