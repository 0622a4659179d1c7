//! Expiry: rights past their last valid day are cancelled to a sink, by
//! the background loop every replica runs. Each allocation is claimed by
//! one conditional update (one replica wins), and in that transaction its
//! unconverted units and every holder's available units of its batch go
//! to `sink:expired`, the batch's serials counted as cancelled, and its
//! instrument is suspended from trading. Units held at that moment (a
//! resting order, a reserve offer) go at a later sweep, once released;
//! until all have gone the allocation stays active (and is swept again).

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::json;

use super::allocation::unconverted_hold;
use super::entity::{allocation, AllocationStatus};
use crate::instruments::{instrument, TradingStatus};
use crate::ledger::entity::balance;
use crate::ledger::{self, Command, Draw, Posting, Request};
use crate::market::error::MarketError;
use crate::problem::ProblemCode;
use crate::registry::issuance;

/// The sink expired units go to.
pub const EXPIRED: &str = "sink:expired";

/// Allocations read at a time (a bound on memory, not a rule).
const PER_RUN: u64 = 200;

/// Whether rights valid until `valid_until` have lapsed on `today`
/// (both China days, `YYYY-MM-DD`).
pub fn lapsed(valid_until: Option<&str>, today: &str) -> bool {
    valid_until.is_some_and(|last| last < today)
}

/// The last valid day of an instrument's rights, if they lapse: every
/// allocation of an instrument has the same (its class and year decide).
pub async fn valid_until_of(
    db: &impl ConnectionTrait,
    instrument: &str,
) -> Result<Option<String>, MarketError> {
    Ok(allocation::Entity::find()
        .filter(allocation::Column::Instrument.eq(instrument))
        .filter(allocation::Column::ValidUntil.is_not_null())
        .order_by_asc(allocation::Column::ValidUntil)
        .one(db)
        .await?
        .and_then(|a| a.valid_until))
}

/// Refuses a move of units of `batch_id` when it is an allocation's and
/// its rights have lapsed.
pub async fn refuse_lapsed(
    db: &impl ConnectionTrait,
    batch_id: &str,
    now: DateTime<FixedOffset>,
) -> Result<(), MarketError> {
    let a = allocation::Entity::find()
        .filter(allocation::Column::BatchId.eq(batch_id))
        .one(db)
        .await?;
    refusal(batch_id, a.and_then(|a| a.valid_until).as_deref(), now)
}

/// Refuses a dealing in `instrument` once its rights have lapsed: from
/// midnight, before the sweep has suspended it, and for units an earlier
/// offer still holds, so that nobody pays for cancelled rights.
pub async fn refuse_lapsed_instrument(
    db: &impl ConnectionTrait,
    instrument: &str,
    now: DateTime<FixedOffset>,
) -> Result<(), MarketError> {
    let until = valid_until_of(db, instrument).await?;
    refusal(instrument, until.as_deref(), now)
}

/// `rights_expired` for `what` (a batch or an instrument) valid until
/// `until` once that day has passed.
fn refusal(what: &str, until: Option<&str>, now: DateTime<FixedOffset>) -> Result<(), MarketError> {
    match until {
        Some(last) if lapsed(Some(last), &crate::clock::china_day(now)) => {
            Err(MarketError::Conflict(
                ProblemCode::RightsExpired,
                format!("{what} was valid until {last}: its units are cancelled"),
            ))
        }
        _ => Ok(()),
    }
}

/// Sweeps every lapsed allocation, each in its own transaction; answers
/// how many were swept. One that fails is logged and tried again at the
/// next run, and does not keep the others waiting.
pub async fn expire_due(
    db: &DatabaseConnection,
    now: DateTime<FixedOffset>,
) -> Result<usize, MarketError> {
    let today = crate::clock::china_day(now);
    let mut swept = 0;
    let mut sink = None;
    let mut after = String::new();
    loop {
        // Pages by id, so allocations still waiting for held units do not
        // hide later ones.
        let due = allocation::Entity::find()
            .filter(allocation::Column::Status.eq(AllocationStatus::Active))
            .filter(allocation::Column::ValidUntil.lt(today.as_str()))
            .filter(allocation::Column::Id.gt(after.as_str()))
            .order_by_asc(allocation::Column::Id)
            .limit(PER_RUN)
            .all(db)
            .await?;
        let Some(last) = due.last() else {
            return Ok(swept);
        };
        after = last.id.clone();
        let sink = match &sink {
            Some(s) => s,
            None => sink.insert(crate::accounts::service::system(db, EXPIRED, now).await?),
        };
        for a in &due {
            match expire(db, a, sink, now).await {
                Ok(true) => swept += 1,
                Ok(false) => {}
                Err(e) => tracing::warn!(
                    allocation = %a.id,
                    error = %e,
                    "cancelling lapsed rights failed; retrying at the next run"
                ),
            }
        }
    }
}

/// Accounts that hold units of the batch outside the system's issuers and
/// sinks, with what is available and held on each.
async fn holders(
    db: &impl ConnectionTrait,
    batch_id: &str,
) -> Result<Vec<(crate::accounts::entity::Model, i64, i64)>, MarketError> {
    let rows = balance::Entity::find()
        .filter(balance::Column::Asset.eq(format!("credit:{batch_id}")))
        .all(db)
        .await?;
    let mut per: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
    for b in rows {
        let e = per.entry(b.account_id).or_default();
        e.0 += b.posted;
        e.1 += b.held;
    }
    let accounts = crate::accounts::entity::Entity::find()
        .filter(crate::accounts::entity::Column::Id.is_in(per.keys().map(String::as_str)))
        .all(db)
        .await?;
    Ok(accounts
        .into_iter()
        .filter(|a| {
            let code = a.code.as_deref().unwrap_or("");
            !(code.starts_with("sink:") || code.starts_with("issuer:"))
        })
        .filter_map(|a| {
            let (posted, held) = per.get(&a.id).copied()?;
            (posted > 0).then_some((a, posted - held, held))
        })
        .collect())
}

async fn expire(
    db: &DatabaseConnection,
    a: &allocation::Model,
    sink: &crate::accounts::entity::Model,
    now: DateTime<FixedOffset>,
) -> Result<bool, MarketError> {
    let txn = crate::db::begin_write(db).await?;
    // The claim: another replica's waits for this transaction and then
    // finds the allocation expired (or, when units were still held,
    // active again with nothing left to move now).
    let claimed = allocation::Entity::update_many()
        .col_expr(
            allocation::Column::Status,
            Expr::value(AllocationStatus::Expired),
        )
        .col_expr(allocation::Column::UpdatedAt, Expr::value(now))
        .filter(allocation::Column::Id.eq(a.id.as_str()))
        .filter(allocation::Column::Status.eq(AllocationStatus::Active))
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Ok(false);
    }
    let a = allocation::Entity::find_by_id(a.id.clone())
        .one(&txn)
        .await?
        .ok_or(MarketError::NotFound)?;
    let unconverted = a.unconverted_g;
    let holders = holders(&txn, &a.batch_id).await?;
    let mut known: Vec<&crate::accounts::entity::Model> = vec![sink];
    known.extend(holders.iter().map(|(acc, _, _)| acc));
    if unconverted > 0 {
        ledger::apply_within(
            &txn,
            &Request {
                id: format!("expire:{}:unconverted", a.id),
                memo: Some(format!("{} expired", a.batch_id)),
                command: Command::Settle {
                    draws: vec![Draw {
                        hold_id: unconverted_hold(&a.id),
                        to_account_id: Some(sink.id.clone()),
                        amount: unconverted,
                    }],
                },
            },
            &known,
            now,
        )
        .await?;
    }
    let asset = issuance::asset(&a.batch_id);
    let mut postings = Vec::new();
    let mut moved = unconverted;
    let mut still_held = 0;
    for (acc, available, held) in &holders {
        // The unconverted hold was part of the holder's held units.
        let held = if acc.organization_id.as_deref() == Some(a.holder_organization_id.as_str()) {
            held - unconverted
        } else {
            *held
        };
        still_held += std::cmp::max(held, 0);
        if *available > 0 {
            postings.push(Posting {
                account_id: acc.id.clone(),
                asset: asset.clone(),
                amount: -available,
            });
            moved += available;
        }
    }
    if !postings.is_empty() {
        let total: i64 = postings.iter().map(|p| -p.amount).sum();
        postings.push(Posting {
            account_id: sink.id.clone(),
            asset: asset.clone(),
            amount: total,
        });
        ledger::apply_within(
            &txn,
            &Request {
                id: format!("expire:{}:{}", a.id, uuid::Uuid::now_v7()),
                memo: Some(format!("{} expired", a.batch_id)),
                command: Command::Transfer { postings },
            },
            &known,
            now,
        )
        .await?;
    }
    let serials = if moved > 0 {
        crate::registry::holdings::take_serials(
            &txn,
            &a.batch_id,
            moved,
            crate::registry::entity::batch::Column::CancelledG,
        )
        .await
        .map_err(|e| MarketError::Database(sea_orm::DbErr::Custom(e.to_string())))?
    } else {
        None
    };
    let done = still_held == 0;
    allocation::Entity::update_many()
        .col_expr(allocation::Column::UnconvertedG, Expr::value(0i64))
        .col_expr(
            allocation::Column::ExpiredG,
            Expr::col(allocation::Column::ExpiredG).add(moved),
        )
        .col_expr(
            allocation::Column::Status,
            Expr::value(if done {
                AllocationStatus::Expired
            } else {
                AllocationStatus::Active
            }),
        )
        .filter(allocation::Column::Id.eq(a.id.as_str()))
        .exec(&txn)
        .await?;
    let suspended = instrument::Entity::update_many()
        .col_expr(
            instrument::Column::Status,
            Expr::value(TradingStatus::Suspended),
        )
        .col_expr(instrument::Column::UpdatedAt, Expr::value(now))
        .filter(instrument::Column::Code.eq(a.instrument.as_str()))
        .filter(instrument::Column::Status.eq(TradingStatus::Listed))
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    if moved > 0 || done {
        crate::audit::log::append(
            &txn,
            "rights.expired",
            json!({
                "allocation": a.id,
                "batch": a.batch_id,
                "instrument": a.instrument,
                "valid_until": a.valid_until,
                "quantity_g": moved.to_string(),
                "serial_first": serials.map(|(f, _)| issuance::serial(&a.batch_id, f)),
                "serial_last": serials.map(|(_, l)| issuance::serial(&a.batch_id, l)),
                "still_held_g": still_held.to_string(),
                "instrument_suspended": suspended,
            }),
            None,
            now,
        )
        .await?;
    }
    txn.commit().await?;
    if !done {
        tracing::warn!(
            allocation = %a.id,
            held_g = still_held,
            "expired rights are still held by orders or offers; swept again once released"
        );
    }
    Ok(true)
}
