//! Insurance claims and settlement, by `carbon_calc::insurance`'s rules:
//!
//! - a sink index policy's claim is made in the transaction that records a
//!   reversal of its project dated in its policy year, when the year's
//!   losses so far cross the trigger; a later reversal of the same year
//!   brings a pending claim up to date (or, once one was paid, makes a new
//!   claim for the difference). The insurer's staff approve: the payout
//!   moves from the cash held for the policy to the holder in one ledger
//!   transaction;
//! - a price policy settles in the daily close of its instrument on (or
//!   first after) its last day: the average of its last `averaging_days`
//!   closes is the reference, the payout is paid at once from the cash held
//!   and the rest released;
//! - a sink policy ends `sink_claim_window_days` after its year with no
//!   claim pending, and its held cash is the insurer's again.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Deserialize;
use utoipa::ToSchema;

use super::entity::{claim, policy, ClaimStatus, PolicyKind, PolicyStatus};
use super::policies::{self, cover_hold_id, for_side, Side};
use super::rules::FinanceRules;
use crate::auth::extract::Principal;
use crate::ledger::{self, Command, Draw, Request};
use crate::market::entity::bar;
use crate::market::error::MarketError;
use crate::market::participants;
use crate::problem::ProblemCode;

fn yuan(fen: i64) -> carbon_calc::Dec {
    carbon_calc::Dec(Decimal::new(fen, 2))
}

fn tonnes(grams: i64) -> carbon_calc::Dec {
    carbon_calc::Dec(Decimal::new(grams, 6))
}

/// The sink rule on a policy's figures (grams and fen).
pub fn sink_payout(
    stock_g: i64,
    threshold_g: i64,
    loss_g: i64,
    price_per_t: i64,
    maximum: i64,
) -> carbon_calc::CalcResult<(
    carbon_calc::insurance::SinkInsuranceRequest,
    carbon_calc::insurance::SinkInsuranceEstimate,
)> {
    let req = carbon_calc::insurance::SinkInsuranceRequest {
        insured_stock_t: tonnes(stock_g),
        threshold_t: tonnes(threshold_g),
        loss_t: tonnes(loss_g),
        price_per_t: yuan(price_per_t),
        maximum: yuan(maximum),
    };
    let out = carbon_calc::insurance::estimate_sink(&req)?;
    Ok((req, out))
}

/// The price rule on a policy's figures (lots of the instrument's step,
/// and fen).
pub fn price_payout(
    instrument: &str,
    quantity: i64,
    strike: i64,
    closes: &[i64],
    maximum: i64,
) -> carbon_calc::CalcResult<(
    carbon_calc::insurance::PriceInsuranceRequest,
    carbon_calc::insurance::PriceInsuranceEstimate,
)> {
    let req = carbon_calc::insurance::PriceInsuranceRequest {
        quantity: carbon_calc::Dec(
            Decimal::from(quantity)
                / Decimal::from(crate::market::money::Step::of_code(instrument).lots_per_unit),
        ),
        strike: yuan(strike),
        closes: closes.iter().map(|c| yuan(*c)).collect(),
        maximum: yuan(maximum),
    };
    let out = carbon_calc::insurance::estimate_price(&req)?;
    Ok((req, out))
}

fn computation(req: &impl serde::Serialize, out: &impl serde::Serialize) -> String {
    serde_json::json!({"request": req, "estimate": out}).to_string()
}

fn calc_failed(e: carbon_calc::CalcError) -> MarketError {
    // A policy's figures were checked by the same rule when it was
    // offered: a failure now is a bug, not the caller's.
    MarketError::Database(sea_orm::DbErr::Custom(format!("insurance rule: {e}")))
}

/// In a reversal's transaction: the claims of the project's sink policies
/// for the year of `occurred_on`.
pub async fn on_reversal(
    txn: &DatabaseTransaction,
    project_id: &str,
    reversal_id: &str,
    occurred_on: NaiveDate,
    now: DateTime<FixedOffset>,
) -> Result<(), MarketError> {
    let year = occurred_on.year();
    let in_force = policy::Entity::find()
        .filter(policy::Column::ProjectId.eq(project_id))
        .filter(policy::Column::Kind.eq(PolicyKind::SinkIndex))
        .filter(policy::Column::PolicyYear.eq(year))
        .filter(policy::Column::Status.eq(PolicyStatus::InForce))
        .all(txn)
        .await?;
    if in_force.is_empty() {
        return Ok(());
    }
    let (from, to) = (format!("{year}-01-01"), format!("{year}-12-31"));
    let losses: Vec<i64> = crate::registry::entity::reversal::Entity::find()
        .select_only()
        .column(crate::registry::entity::reversal::Column::LossG)
        .filter(crate::registry::entity::reversal::Column::ProjectId.eq(project_id))
        .filter(crate::registry::entity::reversal::Column::OccurredOn.gte(from.as_str()))
        .filter(crate::registry::entity::reversal::Column::OccurredOn.lte(to.as_str()))
        .into_tuple()
        .all(txn)
        .await?;
    let loss: i64 = losses.into_iter().sum();
    for p in in_force {
        let (Some(stock), Some(threshold), Some(price)) =
            (p.insured_stock_g, p.threshold_g, p.price_per_t)
        else {
            continue;
        };
        let (req, out) =
            sink_payout(stock, threshold, loss, price, p.maximum).map_err(calc_failed)?;
        let due = out.payout_fen - p.paid;
        let pending = claim::Entity::find()
            .filter(claim::Column::PolicyId.eq(p.id.as_str()))
            .filter(claim::Column::Status.eq(ClaimStatus::Pending))
            .one(txn)
            .await?;
        let made = match pending {
            Some(c) => {
                claim::Entity::update_many()
                    .col_expr(claim::Column::Payout, Expr::value(std::cmp::max(due, 0)))
                    .col_expr(
                        claim::Column::Computation,
                        Expr::value(computation(&req, &out)),
                    )
                    .col_expr(claim::Column::UpdatedAt, Expr::value(now))
                    .filter(claim::Column::Id.eq(c.id.as_str()))
                    .exec(txn)
                    .await?;
                c.id
            }
            None if due > 0 => {
                let id = uuid::Uuid::now_v7().to_string();
                insert(
                    txn,
                    &id,
                    &p.id,
                    &format!("reversal:{reversal_id}"),
                    ClaimStatus::Pending,
                    computation(&req, &out),
                    due,
                    now,
                )
                .await?;
                id
            }
            None => continue,
        };
        let c = find(txn, &made).await?;
        log(txn, "finance.claim_made", &p, &c, now).await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn insert(
    txn: &DatabaseTransaction,
    id: &str,
    policy_id: &str,
    basis: &str,
    status: ClaimStatus,
    computation: String,
    payout: i64,
    now: DateTime<FixedOffset>,
) -> Result<bool, MarketError> {
    let n = claim::Entity::insert(claim::ActiveModel {
        id: Set(id.to_string()),
        policy_id: Set(policy_id.to_string()),
        basis: Set(basis.to_string()),
        status: Set(status),
        computation: Set(computation),
        payout: Set(payout),
        created_at: Set(now),
        updated_at: Set(now),
        decided_by: Set(None),
        decided_at: Set(if status == ClaimStatus::Paid {
            Some(now)
        } else {
            None
        }),
    })
    .on_conflict(
        OnConflict::columns([claim::Column::PolicyId, claim::Column::Basis])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(n == 1)
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<claim::Model, MarketError> {
    claim::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(MarketError::NotFound)
}

/// Pays `amount` of the policy's held cash to its holder; `release`: the
/// rest of the hold is the insurer's again (the policy ends).
async fn pay(
    txn: &DatabaseTransaction,
    p: &policy::Model,
    ledger_id: &str,
    amount: i64,
    release: bool,
    now: DateTime<FixedOffset>,
) -> Result<(), MarketError> {
    let holder = participants::account_of(txn, &p.holder_organization_id).await?;
    let mut draws = Vec::new();
    if amount > 0 {
        draws.push(Draw {
            hold_id: cover_hold_id(&p.id),
            to_account_id: Some(holder.id.clone()),
            amount,
        });
    }
    let rest = p.maximum - p.paid - amount;
    if release && rest > 0 {
        draws.push(Draw {
            hold_id: cover_hold_id(&p.id),
            to_account_id: None,
            amount: rest,
        });
    }
    if !draws.is_empty() {
        ledger::apply_within(
            txn,
            &Request {
                id: ledger_id.to_string(),
                memo: Some(format!("policy {}", p.id)),
                command: Command::Settle { draws },
            },
            &[],
            now,
        )
        .await?;
    }
    let mut update = policy::Entity::update_many()
        .col_expr(
            policy::Column::Paid,
            Expr::col(policy::Column::Paid).add(amount),
        )
        .filter(policy::Column::Id.eq(p.id.as_str()));
    if release {
        update = update
            .col_expr(policy::Column::Status, Expr::value(PolicyStatus::Ended))
            .col_expr(policy::Column::EndedAt, Expr::value(now));
    }
    update.exec(txn).await?;
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveInput {
    /// The insurer (the caller is its staff).
    pub organization_id: String,
}

/// The insurer's staff approve a pending claim: it is paid once.
pub async fn approve(
    db: &DatabaseConnection,
    who: &Principal,
    id: &str,
    input: &ApproveInput,
    now: DateTime<FixedOffset>,
) -> Result<(claim::Model, bool), MarketError> {
    let c = find(db, id).await?;
    let (_, _) = for_side(db, who, &c.policy_id, &input.organization_id, Side::Insurer)
        .await
        .map_err(|_| MarketError::NotFound)?;
    if c.status == ClaimStatus::Paid {
        return Ok((c, true));
    }
    let txn = crate::db::begin_write(db).await?;
    let changed = claim::Entity::update_many()
        .col_expr(claim::Column::Status, Expr::value(ClaimStatus::Paid))
        .col_expr(
            claim::Column::DecidedBy,
            Expr::value(who.user_id.to_string()),
        )
        .col_expr(claim::Column::DecidedAt, Expr::value(now))
        .filter(claim::Column::Id.eq(id))
        .filter(claim::Column::Status.eq(ClaimStatus::Pending))
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 {
        txn.rollback().await?;
        return Ok((find(db, id).await?, true));
    }
    let c = find(&txn, id).await?;
    let p = policies::find(&txn, &c.policy_id).await?;
    if p.status != PolicyStatus::InForce {
        return Err(MarketError::Conflict(
            ProblemCode::PolicyNotOpen,
            "the policy has ended".into(),
        ));
    }
    pay(
        &txn,
        &p,
        &format!("insurance:claim:{id}"),
        c.payout,
        false,
        now,
    )
    .await?;
    let p = policies::find(&txn, &c.policy_id).await?;
    log(&txn, "finance.claim_paid", &p, &c, now).await?;
    txn.commit().await?;
    Ok((c, false))
}

/// In the daily close of `code` for `day` (the bar just written): every
/// price policy of it whose last day has come settles.
pub async fn settle_price(
    txn: &DatabaseTransaction,
    code: &str,
    day: NaiveDate,
    now: DateTime<FixedOffset>,
) -> Result<usize, MarketError> {
    let day_text = day.format("%Y-%m-%d").to_string();
    let due = policy::Entity::find()
        .filter(policy::Column::Instrument.eq(code))
        .filter(policy::Column::Kind.eq(PolicyKind::Price))
        .filter(policy::Column::Status.eq(PolicyStatus::InForce))
        .filter(policy::Column::EndsOn.lte(day_text.as_str()))
        .all(txn)
        .await?;
    for p in &due {
        let days = std::cmp::max(p.averaging_days.unwrap_or(1), 1) as u64;
        let closes: Vec<i64> = bar::Entity::find()
            .select_only()
            .column(bar::Column::Close)
            .filter(bar::Column::Instrument.eq(code))
            .filter(bar::Column::Day.lte(day_text.as_str()))
            .order_by_desc(bar::Column::Day)
            .limit(days)
            .into_tuple()
            .all(txn)
            .await?;
        let (Some(quantity), Some(strike)) = (p.quantity, p.strike) else {
            continue;
        };
        let (req, out) =
            price_payout(code, quantity, strike, &closes, p.maximum).map_err(calc_failed)?;
        let id = uuid::Uuid::now_v7().to_string();
        let basis = format!("settlement:{day_text}");
        if !insert(
            txn,
            &id,
            &p.id,
            &basis,
            ClaimStatus::Paid,
            computation(&req, &out),
            out.payout_fen,
            now,
        )
        .await?
        {
            continue;
        }
        pay(
            txn,
            p,
            &format!("insurance:{}:settlement", p.id),
            out.payout_fen,
            true,
            now,
        )
        .await?;
        let c = find(txn, &id).await?;
        let p = policies::find(txn, &p.id).await?;
        log(txn, "finance.policy_settled", &p, &c, now).await?;
    }
    Ok(due.len())
}

/// Ends the sink policies whose claim window has passed with no claim
/// pending. Answers how many.
pub async fn expire_due(
    db: &DatabaseConnection,
    rules: &FinanceRules,
    now: DateTime<FixedOffset>,
) -> Result<usize, MarketError> {
    let last = crate::clock::china_date(now)
        - chrono::Duration::days(i64::from(rules.sink_claim_window_days));
    let due = policy::Entity::find()
        .filter(policy::Column::Kind.eq(PolicyKind::SinkIndex))
        .filter(policy::Column::Status.eq(PolicyStatus::InForce))
        .filter(policy::Column::EndsOn.lt(last.format("%Y-%m-%d").to_string()))
        .all(db)
        .await?;
    let mut ended = 0;
    for p in due {
        let txn = crate::db::begin_write(db).await?;
        let p = policies::find(&txn, &p.id).await?;
        let pending = claim::Entity::find()
            .filter(claim::Column::PolicyId.eq(p.id.as_str()))
            .filter(claim::Column::Status.eq(ClaimStatus::Pending))
            .one(&txn)
            .await?;
        if p.status != PolicyStatus::InForce || pending.is_some() {
            continue;
        }
        pay(&txn, &p, &format!("insurance:{}:end", p.id), 0, true, now).await?;
        let p = policies::find(&txn, &p.id).await?;
        policies::log(&txn, "finance.policy_ended", &p, now).await?;
        txn.commit().await?;
        ended += 1;
    }
    Ok(ended)
}

async fn log(
    txn: &DatabaseTransaction,
    kind: &str,
    p: &policy::Model,
    c: &claim::Model,
    now: DateTime<FixedOffset>,
) -> Result<(), MarketError> {
    crate::audit::log::append(
        txn,
        kind,
        serde_json::json!({
            "policy": p.id,
            "claim": c.id,
            "basis": c.basis,
            "status": c.status,
            "payout": crate::market::money::yuan(c.payout),
            "insurer": p.insurer_organization_id,
            "holder": p.holder_organization_id,
            "computation": serde_json::from_str::<serde_json::Value>(&c.computation).unwrap_or_default(),
        }),
        None,
        now,
    )
    .await?;
    Ok(())
}
