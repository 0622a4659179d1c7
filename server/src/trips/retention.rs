//! How long GPS traces are kept: erased after the retention period, with
//! the journey fingerprint derived from them.

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::entity::trip;
use super::rules::{TripRules, TripStatus};

/// Erases the GPS traces kept longer than the retention period (except of
/// trips still waiting for review); answers how many.
pub async fn purge_traces(
    db: &impl ConnectionTrait,
    rules: &TripRules,
    now: DateTime<FixedOffset>,
) -> Result<u64, DbErr> {
    let cutoff = now - chrono::Duration::days(rules.trace_retention_days);
    let purged = trip::Entity::update_many()
        .col_expr(trip::Column::Trace, Expr::value(Option::<String>::None))
        .col_expr(
            trip::Column::Fingerprint,
            Expr::value(Option::<String>::None),
        )
        .filter(
            sea_orm::Condition::any()
                .add(trip::Column::Trace.is_not_null())
                .add(trip::Column::Fingerprint.is_not_null()),
        )
        .filter(trip::Column::CreatedAt.lt(cutoff))
        .filter(trip::Column::Status.ne(TripStatus::PendingReview.as_str()))
        .filter(trip::Column::HeldForReview.eq(false))
        .exec(db)
        .await?;
    Ok(purged.rows_affected)
}
