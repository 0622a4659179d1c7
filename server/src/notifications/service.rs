use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::Value;

use super::entity::{notification, setting, NotificationKind};
use crate::pagination::{self, Order};

/// Tells `user_id` of `kind` (its fields in `body`), in the caller's
/// transaction, unless they switched the kind off.
pub async fn notify(
    db: &impl ConnectionTrait,
    user_id: &str,
    kind: NotificationKind,
    body: Value,
    now: DateTime<FixedOffset>,
) -> Result<(), DbErr> {
    if !enabled(db, user_id, kind).await? {
        return Ok(());
    }
    notification::Entity::insert(notification::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        user_id: Set(user_id.to_string()),
        kind: Set(kind),
        body: Set(body.to_string()),
        created_at: Set(now),
        read_at: Set(None),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

async fn enabled(
    db: &impl ConnectionTrait,
    user_id: &str,
    kind: NotificationKind,
) -> Result<bool, DbErr> {
    Ok(setting::Entity::find_by_id((user_id.to_string(), kind))
        .one(db)
        .await?
        .is_none_or(|s| s.enabled))
}

/// The person's notifications, newest first; only unread ones if asked.
pub async fn inbox(
    db: &impl ConnectionTrait,
    user_id: &str,
    unread: bool,
    starting_after: Option<String>,
    limit: u64,
) -> Result<(Vec<notification::Model>, bool), DbErr> {
    let mut q = notification::Entity::find().filter(notification::Column::UserId.eq(user_id));
    if unread {
        q = q.filter(notification::Column::ReadAt.is_null());
    }
    pagination::fetch(
        db,
        q,
        notification::Column::Id,
        Order::Descending,
        starting_after,
        limit,
    )
    .await
}

/// Marks one of the person's notifications read (once: a second time
/// keeps the first time). `None` when it is not theirs.
pub async fn mark_read(
    db: &impl ConnectionTrait,
    user_id: &str,
    id: &str,
    now: DateTime<FixedOffset>,
) -> Result<Option<notification::Model>, DbErr> {
    notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(now))
        .filter(notification::Column::Id.eq(id))
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null())
        .exec(db)
        .await?;
    notification::Entity::find_by_id(id.to_string())
        .filter(notification::Column::UserId.eq(user_id))
        .one(db)
        .await
}

/// Every kind and whether it reaches the person.
pub async fn settings(
    db: &impl ConnectionTrait,
    user_id: &str,
) -> Result<Vec<(NotificationKind, bool)>, DbErr> {
    let set = setting::Entity::find()
        .filter(setting::Column::UserId.eq(user_id))
        .order_by_asc(setting::Column::Kind)
        .all(db)
        .await?;
    Ok(NotificationKind::ALL
        .into_iter()
        .map(|k| {
            let on = set.iter().find(|s| s.kind == k).is_none_or(|s| s.enabled);
            (k, on)
        })
        .collect())
}

/// Switches `kind` on or off for the person.
pub async fn set(
    db: &impl ConnectionTrait,
    user_id: &str,
    kind: NotificationKind,
    enabled: bool,
    now: DateTime<FixedOffset>,
) -> Result<(), DbErr> {
    setting::Entity::insert(setting::ActiveModel {
        user_id: Set(user_id.to_string()),
        kind: Set(kind),
        enabled: Set(enabled),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([setting::Column::UserId, setting::Column::Kind])
            .update_columns([setting::Column::Enabled, setting::Column::UpdatedAt])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Most notifications one read of a stream sends; the rest follow at the
/// next announcement or reconnection.
const STREAM_BATCH: u64 = 100;

/// The person's notifications after `after` (all of them without it),
/// oldest first: what a stream has not sent yet.
pub async fn after(
    db: &impl ConnectionTrait,
    user_id: &str,
    after: Option<&str>,
) -> Result<Vec<notification::Model>, DbErr> {
    use sea_orm::QuerySelect;
    let mut q = notification::Entity::find().filter(notification::Column::UserId.eq(user_id));
    if let Some(id) = after {
        q = q.filter(notification::Column::Id.gt(id));
    }
    q.order_by_asc(notification::Column::Id)
        .limit(STREAM_BATCH)
        .all(db)
        .await
}

/// The id of the person's newest notification: where a new stream starts.
pub async fn newest(db: &impl ConnectionTrait, user_id: &str) -> Result<Option<String>, DbErr> {
    Ok(notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .order_by_desc(notification::Column::Id)
        .one(db)
        .await?
        .map(|n| n.id))
}

/// Whether `id` is one of the person's notifications (a `Last-Event-ID`
/// that is not theirs is ignored).
pub async fn owns(db: &impl ConnectionTrait, user_id: &str, id: &str) -> Result<bool, DbErr> {
    Ok(notification::Entity::find_by_id(id.to_string())
        .filter(notification::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .is_some())
}
