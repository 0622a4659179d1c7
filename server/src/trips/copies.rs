//! The same journey sent from other accounts (found by its fingerprint,
//! `trips::fingerprint`): its live copies, and sending them to review.

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::credit::record_event;
use super::entity::trip;
use super::rules::{Reason, TripStatus};
use super::service::json_text;

/// How many earlier copies of a journey one new trip marks.
const MARK_AT_ONCE: u64 = 16;

/// Live trips (credited or waiting for review) of other accounts with the
/// same journey's fingerprint, oldest first, at most `limit` of them.
pub(super) async fn same_journey_elsewhere(
    txn: &impl ConnectionTrait,
    fingerprint: &str,
    user_id: &crate::ids::UserId,
    limit: u64,
) -> Result<Vec<trip::Model>, DbErr> {
    trip::Entity::find()
        .filter(trip::Column::Fingerprint.eq(fingerprint))
        .filter(trip::Column::UserId.ne(user_id))
        .filter(trip::Column::Status.ne(TripStatus::Rejected.as_str()))
        .order_by_asc(trip::Column::Id)
        .limit(limit)
        .all(txn)
        .await
}

/// The oldest live copies, at most [`MARK_AT_ONCE`] + 1, in one query:
/// whether there is any, and which of them to mark. Only a trip logged
/// before any copy existed can be credited, so the oldest are the ones to
/// hold; a journey sent from many accounts costs each new trip a bounded
/// amount of work, not an update per earlier copy.
pub(super) async fn twins(
    txn: &impl ConnectionTrait,
    fingerprint: &str,
    user_id: &crate::ids::UserId,
) -> Result<Vec<trip::Model>, DbErr> {
    same_journey_elsewhere(txn, fingerprint, user_id, MARK_AT_ONCE + 1).await
}

/// Another account sent the same journey as `earlier`: it goes to a
/// reviewer too. Waiting already, it gains the reason; credited, it is held
/// (its points stay, its reductions stay out of batches) until a reviewer
/// decides, and the hold is logged.
pub(super) async fn send_to_review(
    txn: &impl ConnectionTrait,
    earlier: trip::Model,
    now: DateTime<FixedOffset>,
) -> Result<(), DbErr> {
    let mut reasons = super::stored_reasons(&earlier)?;
    if !reasons.contains(&Reason::SameJourneyAsAnotherAccount) {
        reasons.push(Reason::SameJourneyAsAnotherAccount);
    }
    let held = earlier.status == TripStatus::Credited;
    trip::Entity::update_many()
        .col_expr(trip::Column::Reasons, Expr::value(json_text(&reasons)))
        .col_expr(
            trip::Column::HeldForReview,
            Expr::value(held || earlier.held_for_review),
        )
        .filter(trip::Column::Id.eq(earlier.id.as_str()))
        .filter(trip::Column::Status.eq(earlier.status.as_str()))
        .exec(txn)
        .await?;
    if held && !earlier.held_for_review {
        record_event(txn, "trip.held_for_review", &earlier, now).await?;
    }
    Ok(())
}
