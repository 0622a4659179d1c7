//! The reserve's answer to an offer, or the holder withdrawing it. An
//! acceptance settles in one ledger transaction (units and cash
//! together): a buy-back's units against the reserve's cash; a swap's
//! units both ways and the rest in cash; a lease's units to the lessee and
//! its fee to the reserve, the deposit staying held. An offer changes
//! status once: the first answer wins, a repeat answers it, anything else
//! is refused with `operation_not_open`.

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter};
use serde::Deserialize;
use utoipa::ToSchema;

use super::entity::{operation, OperationKind, OperationStatus};
use super::lots::{self, Holder};
use super::offers::{self, cash_hold_id, price_for, Done};
use crate::auth::extract::Principal;
use crate::instruments::Code;
use crate::ledger::{self, Asset, Command, Draw, LedgerError, Request};
use crate::market::error::MarketError;
use crate::market::money;
use crate::market::participants::{self, Participant};
use crate::orgs::entity::{organization, OrgKind};
use crate::problem::ProblemCode;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerInput {
    /// The reserve platform (accept, decline) or the holder (withdraw,
    /// return) the caller acts for.
    pub organization_id: String,
    /// Why: required to decline, shown to the holder; optional to
    /// withdraw.
    pub reason: Option<String>,
}

/// Which side of an operation the caller answers for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Reserve,
    Holder,
}

/// The operation `id` when the caller acts for `org_id` and it is the
/// operation's `side`; otherwise it looks absent.
pub async fn operation_for(
    db: &DatabaseConnection,
    who: &Principal,
    id: &str,
    org_id: &str,
    side: Side,
) -> Result<(operation::Model, Participant), MarketError> {
    let me = participants::acting_for(db, who, "organization_id", org_id).await?;
    let op = operation::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(MarketError::NotFound)?;
    let theirs = match side {
        Side::Reserve => &op.reserve_organization_id,
        Side::Holder => &op.organization_id,
    };
    if *theirs != me.org.id || (side == Side::Reserve && me.org.kind != OrgKind::ReservePlatform) {
        return Err(MarketError::NotFound);
    }
    Ok((op, me))
}

pub fn not_open(op: &operation::Model) -> MarketError {
    let status = serde_json::to_value(op.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    MarketError::Conflict(
        ProblemCode::OperationNotOpen,
        format!("the operation is {status}"),
    )
}

/// Moves the operation from `from` to `to` as this transaction's first
/// write: of concurrent answers exactly one does. `false`: it was not in
/// `from` any more.
pub async fn change_status(
    txn: &DatabaseTransaction,
    id: &str,
    from: OperationStatus,
    to: OperationStatus,
    decided_by: Option<&str>,
    now: DateTime<FixedOffset>,
) -> Result<bool, MarketError> {
    let mut update = operation::Entity::update_many()
        .col_expr(operation::Column::Status, Expr::value(to))
        .filter(operation::Column::Id.eq(id))
        .filter(operation::Column::Status.eq(from));
    update = match decided_by {
        Some(user) => update
            .col_expr(operation::Column::DecidedBy, Expr::value(user))
            .col_expr(operation::Column::DecidedAt, Expr::value(now)),
        None => update.col_expr(operation::Column::EndedAt, Expr::value(now)),
    };
    Ok(update.exec(txn).await?.rows_affected == 1)
}

/// After losing a race (or on a repeat): the operation as it is now,
/// answered as a replay when it is in one of `outcomes`.
async fn settled_meanwhile(
    db: &DatabaseConnection,
    id: &str,
    outcomes: &[OperationStatus],
) -> Result<Done, MarketError> {
    let op = operation::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(MarketError::NotFound)?;
    if outcomes.contains(&op.status) {
        Ok(Done {
            operation: op,
            replayed: true,
        })
    } else {
        Err(not_open(&op))
    }
}

/// What an accepted operation became, and what it may become after.
const ACCEPTED: &[OperationStatus] = &[
    OperationStatus::Accepted,
    OperationStatus::Active,
    OperationStatus::Returned,
    OperationStatus::Paid,
];

fn price_changed(what: &str, offered: i64, now: i64) -> MarketError {
    MarketError::Conflict(
        ProblemCode::GuidancePriceChanged,
        format!(
            "the applicable guidance price of {what} is {} yuan now, not the {} yuan offered: the holder withdraws the offer and offers again",
            money::yuan(now),
            money::yuan(offered)
        ),
    )
}

/// The reserve accepts: the operation settles (run again if a deadlock
/// aborted it).
pub async fn accept(
    db: &DatabaseConnection,
    who: &Principal,
    id: &str,
    input: &AnswerInput,
    now: DateTime<FixedOffset>,
) -> Result<Done, MarketError> {
    crate::market::retry::retrying(|| accept_once(db, who, id, input, now)).await
}

async fn accept_once(
    db: &DatabaseConnection,
    who: &Principal,
    id: &str,
    input: &AnswerInput,
    now: DateTime<FixedOffset>,
) -> Result<Done, MarketError> {
    let (op, reserve) = operation_for(db, who, id, &input.organization_id, Side::Reserve).await?;
    if op.status != OperationStatus::Offered {
        return settled_meanwhile(db, id, ACCEPTED).await;
    }
    let holder_org = organization::Entity::find_by_id(op.organization_id.clone())
        .one(db)
        .await?
        .ok_or(MarketError::NotFound)?;
    let holder = participants::account_of(db, &op.organization_id).await?;
    for code in std::iter::once(&op.instrument).chain(op.wanted_instrument.as_ref()) {
        crate::rights::expiry::refuse_lapsed_instrument(db, code, now).await?;
    }
    let txn = crate::db::begin_write(db).await?;
    let to = match op.kind {
        OperationKind::Lease => OperationStatus::Active,
        _ => OperationStatus::Accepted,
    };
    let user = who.user_id.to_string();
    if !change_status(&txn, id, OperationStatus::Offered, to, Some(&user), now).await? {
        txn.rollback().await?;
        return settled_meanwhile(db, id, ACCEPTED).await;
    }
    let price = price_for(&txn, &op.instrument, &holder_org, now).await?;
    if price != op.price {
        return Err(price_changed(&op.instrument, op.price, price));
    }
    let offered = lots::decode(&op.lots)?;
    let reserve_out = |n: &str| format!("reserve:{id}:{n}");
    let mut draws = lots::deliver(&offered, &reserve.account.id);
    match op.kind {
        OperationKind::BuyBack => {
            let pay = reserve_out("pay");
            let paid = pay_from_reserve(&txn, &reserve, &pay, op.value, &holder.id, now).await?;
            match op.pledge_id.as_deref() {
                None => draws.push(paid),
                // A take-over of pledged units: the pledgees are paid first.
                Some(pledge) => draws.extend(
                    crate::finance::enforcement::share_out(
                        &txn, pledge, &pay, op.value, &holder.id, now,
                    )
                    .await?,
                ),
            }
        }
        OperationKind::Swap => {
            let (Some(wanted), Some(wanted_price), Some(units), Some(cash)) = (
                op.wanted_instrument.as_deref(),
                op.wanted_price,
                op.wanted_quantity,
                op.cash,
            ) else {
                return Err(MarketError::NotFound);
            };
            let now_price = price_for(&txn, wanted, &holder_org, now).await?;
            if now_price != wanted_price {
                return Err(price_changed(wanted, wanted_price, now_price));
            }
            let code = Code::parse(wanted).ok_or(MarketError::NotFound)?;
            let from_reserve = Holder {
                account: &reserve.account,
                who: "the reserve",
                t_plus_one: None,
            };
            let out =
                lots::hold(&txn, &from_reserve, &code, units, &reserve_out("out"), now).await?;
            draws.extend(lots::deliver(&out, &holder.id));
            if cash > 0 {
                draws.push(
                    pay_from_reserve(&txn, &reserve, &reserve_out("pay"), cash, &holder.id, now)
                        .await?,
                );
            }
        }
        // Recorded settled when ordered: never offered.
        OperationKind::ClawBack => return Err(MarketError::NotFound),
        OperationKind::Lease => {
            let code = Code::parse(&op.instrument).ok_or(MarketError::NotFound)?;
            let from_reserve = Holder {
                account: &reserve.account,
                who: "the reserve",
                t_plus_one: None,
            };
            let out = lots::hold(
                &txn,
                &from_reserve,
                &code,
                op.quantity,
                &reserve_out("out"),
                now,
            )
            .await?;
            draws.extend(lots::deliver(&out, &holder.id));
            if let Some(fee) = op.fee.filter(|f| *f > 0) {
                draws.push(Draw {
                    hold_id: cash_hold_id(id),
                    to_account_id: Some(reserve.account.id.clone()),
                    amount: fee,
                });
            }
            let due = crate::clock::china_date(now)
                + chrono::Duration::days(i64::from(op.term_days.unwrap_or(0)));
            operation::Entity::update_many()
                .col_expr(
                    operation::Column::DueOn,
                    Expr::value(due.format("%Y-%m-%d").to_string()),
                )
                .filter(operation::Column::Id.eq(id))
                .exec(&txn)
                .await?;
        }
    }
    settle(&txn, &reserve_out("settle"), draws, now).await?;
    let op = reread(&txn, id).await?;
    offers::log(&txn, "reserve.accepted", &op, now).await?;
    txn.commit().await?;
    Ok(Done {
        operation: op,
        replayed: false,
    })
}

/// Holds `amount` of the reserve's cash under `hold_id` and returns the
/// draw that pays it to `to`: its budget is its cash available.
async fn pay_from_reserve(
    txn: &DatabaseTransaction,
    reserve: &Participant,
    hold_id: &str,
    amount: i64,
    to: &str,
    now: DateTime<FixedOffset>,
) -> Result<Draw, MarketError> {
    let request = Request {
        id: hold_id.to_string(),
        memo: Some("reserve operation: payment".into()),
        command: Command::Hold {
            account_id: reserve.account.id.clone(),
            asset: Asset::cny(),
            amount,
        },
    };
    ledger::apply_within(txn, &request, &[&reserve.account], now)
        .await
        .map_err(|e| match e {
            LedgerError::Insufficient { .. } => MarketError::Conflict(
                ProblemCode::InsufficientCash,
                format!(
                    "the reserve's cash available does not cover {} yuan",
                    money::yuan(amount)
                ),
            ),
            other => other.into(),
        })?;
    Ok(Draw {
        hold_id: hold_id.to_string(),
        to_account_id: Some(to.to_string()),
        amount,
    })
}

/// One ledger transaction of every draw (nothing when there are none).
pub async fn settle(
    txn: &DatabaseTransaction,
    id: &str,
    draws: Vec<Draw>,
    now: DateTime<FixedOffset>,
) -> Result<(), MarketError> {
    let draws: Vec<Draw> = draws.into_iter().filter(|d| d.amount > 0).collect();
    if draws.is_empty() {
        return Ok(());
    }
    let request = Request {
        id: id.to_string(),
        memo: Some("reserve operation".into()),
        command: Command::Settle { draws },
    };
    ledger::apply_within(txn, &request, &[], now).await?;
    Ok(())
}

pub async fn reread(txn: &DatabaseTransaction, id: &str) -> Result<operation::Model, MarketError> {
    operation::Entity::find_by_id(id.to_string())
        .one(txn)
        .await?
        .ok_or(MarketError::NotFound)
}

/// The reserve declines (with a reason) or the holder withdraws: what
/// the offer held is the holder's to use again.
pub async fn refuse(
    db: &DatabaseConnection,
    who: &Principal,
    id: &str,
    input: &AnswerInput,
    side: Side,
    now: DateTime<FixedOffset>,
) -> Result<Done, MarketError> {
    let reason = crate::text::clean_optional(
        input.reason.as_deref(),
        crate::text::REASON_MAX,
        crate::text::Shape::Paragraph,
    )
    .map_err(|e| MarketError::invalid("reason", e.to_string()))?;
    if side == Side::Reserve && reason.is_none() {
        return Err(MarketError::invalid(
            "reason",
            "say why the offer is declined: the holder sees it",
        ));
    }
    let (op, _) = operation_for(db, who, id, &input.organization_id, side).await?;
    if op.pledge_id.is_some() && side == Side::Holder {
        return Err(MarketError::Conflict(
            ProblemCode::OperationNotOpen,
            "a take-over of pledged units is the pledgee bank's enforcement: only the reserve answers it".into(),
        ));
    }
    let to = match side {
        Side::Reserve => OperationStatus::Declined,
        Side::Holder => OperationStatus::Withdrawn,
    };
    if op.status != OperationStatus::Offered {
        return settled_meanwhile(db, id, &[to]).await;
    }
    let txn = crate::db::begin_write(db).await?;
    let user = who.user_id.to_string();
    if !change_status(&txn, id, OperationStatus::Offered, to, Some(&user), now).await? {
        txn.rollback().await?;
        return settled_meanwhile(db, id, &[to]).await;
    }
    operation::Entity::update_many()
        .col_expr(operation::Column::Reason, Expr::value(reason))
        .filter(operation::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    if op.pledge_id.is_none() {
        lots::release(&txn, &lots::decode(&op.lots)?, now).await?;
    }
    if op.kind == OperationKind::Lease {
        let request = Request {
            id: format!("{}:release", cash_hold_id(id)),
            memo: None,
            command: Command::Release {
                hold_id: cash_hold_id(id),
            },
        };
        ledger::apply_within(&txn, &request, &[], now).await?;
    }
    let op = reread(&txn, id).await?;
    // Declined take-over: the units stay pledged.
    crate::finance::enforcement::not_taken(&txn, &op, now).await?;
    let event = match side {
        Side::Reserve => "reserve.declined",
        Side::Holder => "reserve.withdrawn",
    };
    offers::log(&txn, event, &op, now).await?;
    txn.commit().await?;
    Ok(Done {
        operation: op,
        replayed: false,
    })
}
