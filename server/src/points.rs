//! Points expire a configured period after they were earned (default two
//! years), first in, first out: every point spent or expired is taken from
//! the oldest points still held. So what is due to expire in an account is
//! everything it received before the cut-off minus everything that ever
//! left it (spent or expired before), when that is positive, and no lot
//! table is needed. The sweep runs hourly; until it runs, points past their
//! date can still be spent.

use chrono::{DateTime, FixedOffset, Months};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    TransactionTrait,
};

use crate::accounts::entity::{self as accounts, AccountKind};
use crate::accounts::service::system;
use crate::ledger::entity::entry;
use crate::ledger::{self, Asset, Command, LedgerError, Posting};

/// Where expired points go (a system account; the total expired is its
/// balance).
pub const EXPIRED_ACCOUNT: &str = "expired:points";

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub accounts: u64,
    pub points: i64,
}

/// The instant before which points received have expired at `now`.
pub fn cutoff(now: DateTime<FixedOffset>, valid_months: u32) -> DateTime<FixedOffset> {
    now.checked_sub_months(Months::new(valid_months))
        .unwrap_or(DateTime::<FixedOffset>::MIN_UTC.fixed_offset())
}

/// Expires what is due in every personal account. Safe to run from several
/// replicas at once: an expiry's ledger id names the account and the total
/// it has received before the cut-off, so two sweeps of one state post once.
pub async fn expire_due<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    valid_months: u32,
    now: DateTime<FixedOffset>,
) -> Result<Swept, LedgerError> {
    use entry::Column as E;
    let before = cutoff(now, valid_months);
    let points = Asset::points().to_string();
    // SUM of a bigint is numeric on PostgreSQL: cast back.
    let sum = |e: Expr| Expr::from(Func::cast_as(Func::sum(e), Alias::new("BIGINT")));
    let received = || {
        sum(Expr::case(
            Expr::col(E::Amount)
                .gt(0)
                .and(Expr::col(E::CreatedAt).lt(before)),
            Expr::col(E::Amount),
        )
        .finally(0)
        .into())
    };
    let left = || {
        sum(
            Expr::case(Expr::col(E::Amount).lt(0), Expr::col(E::Amount).mul(-1))
                .finally(0)
                .into(),
        )
    };
    let personal = Query::select()
        .column(accounts::Column::Id)
        .from(accounts::Entity)
        .and_where(Expr::col(accounts::Column::Kind).eq(AccountKind::Personal.to_value()))
        .to_owned();
    let due: Vec<(String, i64, i64)> = entry::Entity::find()
        .select_only()
        .column(E::AccountId)
        .column_as(received(), "received")
        .column_as(left(), "left_total")
        .filter(E::Asset.eq(points.as_str()))
        .filter(E::AccountId.in_subquery(personal))
        .group_by(E::AccountId)
        .having(received().gt(left()))
        .into_tuple()
        .all(db)
        .await?;
    let mut swept = Swept::default();
    if due.is_empty() {
        return Ok(swept);
    }
    let sink = system(db, EXPIRED_ACCOUNT, now).await?;
    for (account_id, received, left) in due {
        let amount = received - left;
        let outcome = ledger::apply(
            db,
            &ledger::Request {
                id: format!("points-expiry:{account_id}:{received}"),
                memo: Some(format!(
                    "points received before {} expired",
                    before.to_rfc3339()
                )),
                command: Command::Transfer {
                    postings: vec![
                        Posting {
                            account_id: account_id.clone(),
                            asset: Asset::points(),
                            amount: -amount,
                        },
                        Posting {
                            account_id: sink.id.clone(),
                            asset: Asset::points(),
                            amount,
                        },
                    ],
                },
            },
            now,
        )
        .await;
        match outcome {
            Ok(o) if !o.replayed => {
                swept.accounts += 1;
                swept.points += amount;
            }
            Ok(_) | Err(LedgerError::IdReused(_)) => {}
            // Held points cannot expire until released; the next sweep
            // tries again.
            Err(LedgerError::Insufficient { .. }) => {
                tracing::info!(%account_id, amount, "points due to expire are held; retrying at the next sweep");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(swept)
}
