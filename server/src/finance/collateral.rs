//! A chain of pledges' collateral in the ledger: holds on the pledgor's
//! units, recorded as lots on the chain's first-ranked pledge. Taken by
//! the market's rule (oldest batch first); given back newest first (so
//! the oldest units stay pledged); handed to the next rank when the first
//! is repaid.

use chrono::{DateTime, FixedOffset};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder,
};

use super::entity::{lot, pledge};
use crate::accounts::entity as account;
use crate::instruments::Code;
use crate::ledger::{self, Command, Draw, Request};
use crate::market::error::MarketError;
use crate::market::holds;
use crate::reserve::lots::{self as held, Holder, Lot};

/// The chain's lots still holding units, oldest first.
pub async fn lots_of(
    db: &impl ConnectionTrait,
    root_id: &str,
) -> Result<Vec<lot::Model>, MarketError> {
    Ok(lot::Entity::find()
        .filter(lot::Column::PledgeId.eq(root_id))
        .filter(lot::Column::Grams.gt(0))
        .order_by_asc(lot::Column::CreatedAt)
        .order_by_asc(lot::Column::HoldId)
        .all(db)
        .await?)
}

/// Grams the chain holds.
pub fn grams(lots: &[lot::Model]) -> i64 {
    lots.iter().map(|l| l.grams).sum()
}

/// The lots as the reserve's operations and the ledger's draws know them.
pub fn as_held(lots: &[lot::Model]) -> Vec<Lot> {
    lots.iter()
        .map(|l| Lot {
            batch: l.batch_id.clone(),
            hold: l.hold_id.clone(),
            grams: l.grams,
        })
        .collect()
}

/// Holds `quantity` units of `code` from the pledgor for the chain of
/// `root`, under holds `pledge:<root>:<tag>:<n>`. A shortage names the
/// pledges that hold the rest.
pub async fn hold_units(
    txn: &DatabaseTransaction,
    pledgor: &account::Model,
    code: &Code,
    quantity: i64,
    root: &str,
    tag: &str,
    now: DateTime<FixedOffset>,
) -> Result<Vec<lot::Model>, MarketError> {
    let holder = Holder {
        account: pledgor,
        who: "you",
        t_plus_one: None,
    };
    let taken = held::hold(
        txn,
        &holder,
        code,
        quantity,
        &format!("pledge:{root}:{tag}"),
        now,
    )
    .await?;
    record(txn, root, taken, now).await
}

/// Records lots held for the chain of `root`.
pub async fn record(
    txn: &DatabaseTransaction,
    root: &str,
    taken: Vec<Lot>,
    now: DateTime<FixedOffset>,
) -> Result<Vec<lot::Model>, MarketError> {
    let mut out = Vec::new();
    for l in taken {
        let row = lot::Model {
            hold_id: l.hold,
            pledge_id: root.to_string(),
            batch_id: l.batch,
            grams: l.grams,
            created_at: now,
        };
        lot::Entity::insert(row.clone().into_active_model())
            .exec_without_returning(txn)
            .await?;
        out.push(row);
    }
    Ok(out)
}

/// Holds `grams` of one batch from the pledgor for the chain of `root`
/// (a future-income pledge's part of an issuance).
pub async fn hold_batch(
    txn: &DatabaseTransaction,
    pledgor: &account::Model,
    root: &str,
    batch_id: &str,
    grams: i64,
    tag: &str,
    now: DateTime<FixedOffset>,
) -> Result<lot::Model, MarketError> {
    let hold_id = format!("pledge:{root}:{tag}");
    ledger::apply_within(
        txn,
        &Request {
            id: hold_id.clone(),
            memo: Some(format!("units held by pledge {root}")),
            command: Command::Hold {
                account_id: pledgor.id.clone(),
                asset: holds::credit_asset(batch_id)?,
                amount: grams,
            },
        },
        &[pledgor],
        now,
    )
    .await?;
    let rows = record(
        txn,
        root,
        vec![Lot {
            batch: batch_id.to_string(),
            hold: hold_id,
            grams,
        }],
        now,
    )
    .await?;
    Ok(rows.into_iter().next().expect("one lot recorded"))
}

/// Gives `grams` back to the pledgor, newest lots first, in one ledger
/// transaction `id`.
pub async fn give_back(
    txn: &DatabaseTransaction,
    lots: &[lot::Model],
    grams: i64,
    id: &str,
    now: DateTime<FixedOffset>,
) -> Result<(), MarketError> {
    let newest_first = lots.iter().rev().map(|l| (l, l.grams));
    let taken = holds::oldest_first(newest_first, grams);
    let draws: Vec<Draw> = taken
        .iter()
        .map(|(l, g)| Draw {
            hold_id: l.hold_id.clone(),
            to_account_id: None,
            amount: *g,
        })
        .collect();
    if draws.is_empty() {
        return Ok(());
    }
    ledger::apply_within(
        txn,
        &Request {
            id: id.to_string(),
            memo: Some("pledged units given back".into()),
            command: Command::Settle { draws },
        },
        &[],
        now,
    )
    .await?;
    for (l, g) in taken {
        lot::Entity::update_many()
            .col_expr(
                lot::Column::Grams,
                sea_orm::sea_query::Expr::value(l.grams - g),
            )
            .filter(lot::Column::HoldId.eq(l.hold_id.as_str()))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// The lots were drawn to nothing (sold or taken over).
pub async fn spent(txn: &DatabaseTransaction, root: &str) -> Result<(), MarketError> {
    lot::Entity::update_many()
        .col_expr(lot::Column::Grams, sea_orm::sea_query::Expr::value(0i64))
        .filter(lot::Column::PledgeId.eq(root))
        .exec(txn)
        .await?;
    Ok(())
}

/// The first rank of a chain was repaid: its lots' units pass to `next`,
/// the same batches and grams under `next`'s holds, in this transaction.
pub async fn hand_over(
    txn: &DatabaseTransaction,
    pledgor: &account::Model,
    from: &pledge::Model,
    next: &str,
    now: DateTime<FixedOffset>,
) -> Result<(), MarketError> {
    let lots = lots_of(txn, &from.id).await?;
    held::release(txn, &as_held(&lots), now).await?;
    spent(txn, &from.id).await?;
    for (n, l) in lots.iter().enumerate() {
        hold_batch(
            txn,
            pledgor,
            next,
            &l.batch_id,
            l.grams,
            &format!("h:{}:{n}", from.id),
            now,
        )
        .await?;
    }
    Ok(())
}
