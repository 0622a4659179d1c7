//! The caller's own trips.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::entity::trip;

/// The caller's trip, if it is theirs.
pub async fn find_own(
    db: &impl ConnectionTrait,
    user_id: &crate::ids::UserId,
    id: &str,
) -> Result<Option<trip::Model>, DbErr> {
    trip::Entity::find_by_id(id.to_string())
        .filter(trip::Column::UserId.eq(user_id))
        .one(db)
        .await
}

/// A page of the caller's trips, newest first.
pub async fn page_own(
    db: &impl ConnectionTrait,
    user_id: &crate::ids::UserId,
    starting_after: Option<&str>,
    limit: u64,
) -> Result<(Vec<trip::Model>, bool), DbErr> {
    crate::pagination::fetch(
        db,
        trip::Entity::find().filter(trip::Column::UserId.eq(user_id)),
        trip::Column::Id,
        crate::pagination::Order::Descending,
        starting_after,
        limit,
    )
    .await
}
