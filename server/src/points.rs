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
    ActiveEnum, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};

use crate::accounts::entity::{self as accounts, AccountKind};
use crate::accounts::service::system;
use crate::ledger::entity::entry;
use crate::ledger::{self, Asset, Command, LedgerError, Posting};

/// Where expired points go (a system account; the total expired is its
/// balance).
pub const EXPIRED_ACCOUNT: &str = "expired:points";

/// How long points stay valid, in months (setting
/// `trip_rules.points_valid_months`, where the points are earned). App data
/// of its own, so rewards and the expiry sweep need no trip rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub months: u32,
}

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

/// Points still held from what was received at one time, and when they
/// expire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lot {
    pub expires_at: DateTime<FixedOffset>,
    pub points: i64,
}

/// The lots an account still holds, oldest first, given its points entries
/// (time, amount) in the order they were posted: what left the account
/// (spent or expired) is taken from the oldest lots, as `expire_due` does.
pub fn lots(entries: &[(DateTime<FixedOffset>, i64)], valid_months: u32) -> Vec<Lot> {
    let mut left: i64 = entries
        .iter()
        .filter(|(_, a)| *a < 0)
        .map(|(_, a)| -a)
        .sum();
    let mut held = Vec::new();
    for (at, amount) in entries.iter().filter(|(_, a)| *a > 0) {
        let taken = std::cmp::min(left, *amount);
        left -= taken;
        if amount - taken > 0 {
            held.push(Lot {
                expires_at: at
                    .checked_add_months(Months::new(valid_months))
                    .unwrap_or(DateTime::<FixedOffset>::MAX_UTC.fixed_offset()),
                points: amount - taken,
            });
        }
    }
    held
}

/// A person's points balance and the lots it is made of.
pub async fn held_by(
    db: &impl ConnectionTrait,
    account_id: &crate::ids::AccountId,
    valid_months: u32,
) -> Result<Vec<Lot>, sea_orm::DbErr> {
    use entry::Column as E;
    let entries: Vec<(DateTime<FixedOffset>, i64)> = entry::Entity::find()
        .select_only()
        .column(E::CreatedAt)
        .column(E::Amount)
        .filter(E::AccountId.eq(account_id))
        .filter(E::Asset.eq(Asset::points().to_string()))
        .order_by_asc(E::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(lots(&entries, valid_months))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn spending_and_expiry_take_the_oldest_points_first() {
        let entries = [
            (t("2025-01-10T09:00:00+08:00"), 500),
            (t("2025-06-10T09:00:00+08:00"), 400),
            (t("2025-07-01T09:00:00+08:00"), -600),
            (t("2025-08-01T09:00:00+08:00"), 50),
        ];
        assert_eq!(
            lots(&entries, 24),
            vec![
                Lot {
                    expires_at: t("2027-06-10T09:00:00+08:00"),
                    points: 300
                },
                Lot {
                    expires_at: t("2027-08-01T09:00:00+08:00"),
                    points: 50
                },
            ]
        );
        // Everything spent: nothing held; nothing received: nothing held.
        assert!(lots(&[(entries[0].0, 500), (entries[2].0, -500)], 24).is_empty());
        assert!(lots(&[], 24).is_empty());
    }
}
