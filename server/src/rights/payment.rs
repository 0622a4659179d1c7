//! Payments that free an allocation's held units: a conversion (补缴) of
//! free rights and an instalment of paid ones both pay someone and draw
//! the same hold, through [`pay_for_units`].

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::allocation::unconverted_hold;
use super::entity::{allocation, AllocationStatus};
use crate::ledger::{self, Asset, Command, Draw, LedgerError, Request};
use crate::market::error::MarketError;
use crate::market::money;
use crate::problem::ProblemCode;

/// A payment that frees units of an allocation from its hold.
pub struct Payment<'a> {
    pub payer: &'a crate::accounts::entity::Model,
    pub payee: &'a crate::accounts::entity::Model,
    /// Fen; nothing is paid when 0.
    pub fen: i64,
    /// Minor units freed; at most what the allocation still holds.
    pub grams: i64,
    /// Unique per allocation: the ledger requests' ids end with it.
    pub key: String,
    /// What is paid for, for the refusal and the ledger's memo.
    pub what: String,
}

/// Pays for `grams` of the allocation's held units and frees them, in the
/// caller's transaction: the counters move only if the allocation is
/// active and still holds them (another payment or a surrender meanwhile
/// answers `try_again`); a payer short of cash is `insufficient_cash`.
/// Conversions and instalments both pay so.
pub async fn pay_for_units(
    txn: &sea_orm::DatabaseTransaction,
    a: &allocation::Model,
    p: Payment<'_>,
    now: DateTime<FixedOffset>,
) -> Result<(), MarketError> {
    let taken = allocation::Entity::update_many()
        .col_expr(
            allocation::Column::UnconvertedG,
            Expr::col(allocation::Column::UnconvertedG).sub(p.grams),
        )
        .col_expr(
            allocation::Column::ConvertedG,
            Expr::col(allocation::Column::ConvertedG).add(p.grams),
        )
        .col_expr(allocation::Column::UpdatedAt, Expr::value(now))
        .filter(allocation::Column::Id.eq(a.id.as_str()))
        .filter(allocation::Column::Status.eq(AllocationStatus::Active))
        .filter(allocation::Column::UnconvertedG.gte(p.grams))
        .exec(txn)
        .await?;
    if taken.rows_affected != 1 {
        return Err(MarketError::Conflict(
            ProblemCode::TryAgain,
            "the allocation changed meanwhile; try again".into(),
        ));
    }
    if p.fen > 0 {
        ledger::apply_within(
            txn,
            &Request {
                id: format!("rights:{}:{}", a.id, p.key),
                memo: Some(format!("{} of {}", p.what, a.batch_id)),
                command: Command::pay(Asset::cny(), &p.payer.id, &p.payee.id, p.fen),
            },
            &[p.payer, p.payee],
            now,
        )
        .await
        .map_err(|e| match e {
            LedgerError::Insufficient { .. } => MarketError::Conflict(
                ProblemCode::InsufficientCash,
                format!(
                    "{} needs {} yuan of cash available",
                    p.what,
                    money::yuan(p.fen)
                ),
            ),
            other => other.into(),
        })?;
    }
    if p.grams > 0 {
        ledger::apply_within(
            txn,
            &Request {
                id: format!("rights:{}:freed:{}", a.id, p.key),
                memo: Some(format!("{}: units of {} freed", p.what, a.batch_id)),
                command: Command::Settle {
                    draws: vec![Draw {
                        hold_id: unconverted_hold(&a.id),
                        to_account_id: None,
                        amount: p.grams,
                    }],
                },
            },
            &[p.payer],
            now,
        )
        .await?;
    }
    Ok(())
}
