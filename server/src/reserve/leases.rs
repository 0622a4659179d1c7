//! How a lease ends. Up to its due day the lessee gives back the same
//! quantity of the same instrument (any of its batches, oldest first) and
//! its deposit is released; from the day after, the background loop pays
//! for the units from the deposit at the lessee's applicable guidance
//! price then in force, gives back what is left of the deposit, takes
//! what it does not cover from the lessee's cash available and records
//! what even that leaves owed. Either way one ledger transaction moves
//! the units or the money and the deposit together, and the lease ends
//! once (its status changes first, guarded).

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::answers::{self, change_status, operation_for, reread, AnswerInput, Side};
use super::entity::{operation, OperationKind, OperationStatus};
use super::lots::{self, Holder};
use super::offers::{self, cash_hold_id, price_for, Done};
use super::terms;
use crate::auth::extract::Principal;
use crate::instruments::Code;
use crate::ledger::entity::balance;
use crate::ledger::{self, Asset, Command, Draw, Request};
use crate::market::error::MarketError;
use crate::market::money;
use crate::market::participants;
use crate::orgs::entity::organization;
use crate::problem::ProblemCode;

/// Leases the loop settles per run at most (the rest at the next tick).
const OVERDUE_PER_RUN: u64 = 500;

/// The lessee gives the units back (by the lease's due day).
pub async fn give_back(
    db: &DatabaseConnection,
    who: &Principal,
    id: &str,
    input: &AnswerInput,
    now: DateTime<FixedOffset>,
) -> Result<Done, MarketError> {
    let (op, me) = operation_for(db, who, id, &input.organization_id, Side::Holder).await?;
    if op.kind != OperationKind::Lease {
        return Err(MarketError::Conflict(
            ProblemCode::OperationNotOpen,
            "only a lease's units are given back".into(),
        ));
    }
    if op.status == OperationStatus::Returned {
        return Ok(Done {
            operation: op,
            replayed: true,
        });
    }
    if op.status != OperationStatus::Active {
        return Err(answers::not_open(&op));
    }
    let today = crate::clock::china_day(now);
    if op.due_on.as_deref().is_some_and(|due| today.as_str() > due) {
        return Err(MarketError::Conflict(
            ProblemCode::OperationNotOpen,
            format!(
                "the lease was due on {}: its deposit pays for the units",
                op.due_on.as_deref().unwrap_or_default()
            ),
        ));
    }
    let reserve = participants::account_of(db, &op.reserve_organization_id).await?;
    let txn = crate::db::begin_write(db).await?;
    if !change_status(
        &txn,
        id,
        OperationStatus::Active,
        OperationStatus::Returned,
        None,
        now,
    )
    .await?
    {
        txn.rollback().await?;
        let op = operation::Entity::find_by_id(id.to_string())
            .one(db)
            .await?
            .ok_or(MarketError::NotFound)?;
        if op.status == OperationStatus::Returned {
            return Ok(Done {
                operation: op,
                replayed: true,
            });
        }
        return Err(answers::not_open(&op));
    }
    let code = Code::parse(&op.instrument).ok_or(MarketError::NotFound)?;
    let lessee = Holder {
        account: &me.account,
        who: "you",
        t_plus_one: None,
    };
    let back = lots::hold(
        &txn,
        &lessee,
        &code,
        op.quantity,
        &format!("reserve:{id}:back"),
        now,
    )
    .await?;
    let mut draws = lots::deliver(&back, &reserve.id);
    draws.push(Draw {
        hold_id: cash_hold_id(id),
        to_account_id: None,
        amount: op.deposit.unwrap_or(0),
    });
    answers::settle(&txn, &format!("reserve:{id}:end"), draws, now).await?;
    let op = reread(&txn, id).await?;
    offers::log(&txn, "reserve.lease_returned", &op, now).await?;
    txn.commit().await?;
    Ok(Done {
        operation: op,
        replayed: false,
    })
}

/// Pays every lease past its due day from its deposit; the number paid.
pub async fn settle_overdue(
    db: &DatabaseConnection,
    now: DateTime<FixedOffset>,
) -> Result<usize, MarketError> {
    let today = crate::clock::china_day(now);
    let due: Vec<String> = operation::Entity::find()
        .select_only()
        .column(operation::Column::Id)
        .filter(operation::Column::Status.eq(OperationStatus::Active))
        .filter(operation::Column::DueOn.lt(today))
        .order_by_asc(operation::Column::DueOn)
        .limit(OVERDUE_PER_RUN)
        .into_tuple()
        .all(db)
        .await?;
    let mut paid = 0;
    for id in due {
        if pay_from_deposit(db, &id, now).await? {
            paid += 1;
        }
    }
    Ok(paid)
}

/// Ends one overdue lease; `false` when another replica did.
async fn pay_from_deposit(
    db: &DatabaseConnection,
    id: &str,
    now: DateTime<FixedOffset>,
) -> Result<bool, MarketError> {
    let op = operation::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(MarketError::NotFound)?;
    let lessee_org = organization::Entity::find_by_id(op.organization_id.clone())
        .one(db)
        .await?
        .ok_or(MarketError::NotFound)?;
    let lessee = participants::account_of(db, &op.organization_id).await?;
    let reserve = participants::account_of(db, &op.reserve_organization_id).await?;
    let txn = crate::db::begin_write(db).await?;
    if !change_status(
        &txn,
        id,
        OperationStatus::Active,
        OperationStatus::Paid,
        None,
        now,
    )
    .await?
    {
        txn.rollback().await?;
        return Ok(false);
    }
    // Versions are never withdrawn: one in force when the lease began is
    // in force (or superseded) now.
    let price = price_for(&txn, &op.instrument, &lessee_org, now).await?;
    let deposit = op.deposit.unwrap_or(0);
    let (taken, back, uncovered) = terms::paid_from_deposit(
        op.quantity,
        price,
        crate::market::money::Step::of_code(&op.instrument),
        deposit,
    )
    .map_err(|e| MarketError::invalid("quantity", e.to_string()))?;
    let hold = cash_hold_id(id);
    let draws = vec![
        Draw {
            hold_id: hold.clone(),
            to_account_id: Some(reserve.id.clone()),
            amount: taken,
        },
        Draw {
            hold_id: hold,
            to_account_id: None,
            amount: back,
        },
    ];
    answers::settle(&txn, &format!("reserve:{id}:end"), draws, now).await?;
    let mut owed = uncovered;
    if uncovered > 0 {
        let available: i64 = balance::Entity::find()
            .filter(balance::Column::AccountId.eq(lessee.id.as_str()))
            .filter(balance::Column::Asset.eq(Asset::cny().as_str()))
            .all(&txn)
            .await?
            .iter()
            .map(|b| b.posted - b.held)
            .sum();
        let take = available.min(uncovered);
        if take > 0 {
            let request = Request {
                id: format!("reserve:{id}:shortfall"),
                memo: Some(format!("lease {id}: what the deposit did not cover")),
                command: Command::pay(Asset::cny(), &lessee.id, &reserve.id, take),
            };
            ledger::apply_within(&txn, &request, &[&lessee, &reserve], now).await?;
        }
        owed -= take;
    }
    operation::Entity::update_many()
        .col_expr(operation::Column::SettledPrice, Expr::value(price))
        .col_expr(operation::Column::Shortfall, Expr::value(owed))
        .filter(operation::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    let op = reread(&txn, id).await?;
    offers::log(&txn, "reserve.lease_paid", &op, now).await?;
    txn.commit().await?;
    if owed > 0 {
        tracing::warn!(
            lease = %id,
            owed = %money::yuan(owed),
            "a lease's deposit and the lessee's cash did not cover its units"
        );
    }
    Ok(true)
}
