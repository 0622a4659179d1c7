//! Future-income pledges at issuance: when a batch of a project is issued,
//! each live future-income pledge of that project and instrument (oldest
//! first) takes its share of the units credited to the owner — whole
//! units, until its quantity is taken — held under the pledge in the
//! issuance's transaction.

use chrono::{DateTime, FixedOffset};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder};

use super::collateral;
use super::entity::{pledge, EventKind, PledgeStatus};
use super::pledges::{self, stored_share};
use crate::accounts::entity as account;
use crate::market::error::MarketError;

/// Whole lots' grams (`minor` in a lot) of `share` of `credited`, at most
/// `left`.
pub fn take(credited: i64, share: Decimal, left: i64, minor: i64) -> i64 {
    let units = (Decimal::from(credited) * share / Decimal::from(std::cmp::max(minor, 1)))
        .round_dp_with_strategy(0, RoundingStrategy::ToZero)
        .to_i64()
        .unwrap_or(0);
    std::cmp::max(std::cmp::min(units.saturating_mul(minor), left), 0) / minor * minor
}

/// Holds the pledged parts of batch `batch_id` (of `instrument`, `credited`
/// grams to `holder`) for the project's future-income pledges.
pub async fn capture(
    txn: &DatabaseTransaction,
    project_id: &str,
    instrument: &str,
    batch_id: &str,
    credited: i64,
    holder: &account::Model,
    now: DateTime<FixedOffset>,
) -> Result<i64, MarketError> {
    let pledges = pledge::Entity::find()
        .filter(pledge::Column::ProjectId.eq(project_id))
        .filter(pledge::Column::Instrument.eq(instrument))
        .filter(pledge::Column::SeniorPledgeId.is_null())
        .filter(pledge::Column::Status.is_in([PledgeStatus::Active, PledgeStatus::MarginCall]))
        .order_by_asc(pledge::Column::DecidedAt)
        .order_by_asc(pledge::Column::Id)
        .all(txn)
        .await?;
    // Pledge quantities count the instrument's lots.
    let (_, minor) = super::views::minor_of(instrument);
    let mut free = credited;
    let mut taken = 0;
    for p in pledges {
        pledges::lock(txn, &p).await?;
        let left = p.quantity.saturating_mul(minor) - p.captured_g;
        let most = free / minor * minor;
        let grams = Ord::min(
            take(credited, stored_share(p.share.as_deref()), left, minor),
            most,
        );
        if grams <= 0 {
            continue;
        }
        collateral::hold_batch(
            txn,
            holder,
            &p.id,
            batch_id,
            grams,
            &format!("issue:{batch_id}"),
            now,
        )
        .await?;
        pledge::Entity::update_many()
            .col_expr(
                pledge::Column::CapturedG,
                Expr::col(pledge::Column::CapturedG).add(grams),
            )
            .col_expr(
                pledge::Column::Version,
                Expr::col(pledge::Column::Version).add(1),
            )
            .filter(pledge::Column::Id.eq(p.id.as_str()))
            .exec(txn)
            .await?;
        let p = pledges::find(txn, &p.id).await?;
        pledges::record_as(
            txn,
            &p,
            EventKind::Captured,
            Some(batch_id),
            Some((None, Some(grams / minor))),
            None,
            None,
            now,
        )
        .await?;
        pledges::log(txn, "finance.issuance_captured", &p, now).await?;
        free -= grams;
        taken += grams;
    }
    Ok(taken)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_000_000;

    #[test]
    fn a_pledge_takes_whole_units_of_its_share_until_its_quantity() {
        let half: Decimal = "0.5".parse().unwrap();
        // Half of 1,000.9 t is 500 whole units.
        assert_eq!(take(1_000 * T + 900_000, half, 10_000 * T, T), 500 * T);
        // Only 120 t left to take.
        assert_eq!(take(1_000 * T, half, 120 * T, T), 120 * T);
        assert_eq!(take(1_000 * T, Decimal::ONE, 0, T), 0);
        // Less than a unit's share: nothing.
        assert_eq!(take(T, half, 10 * T, T), 0);
    }
}
