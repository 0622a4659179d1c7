//! Cursor pagination as DESIGN.md fixes it: `limit` (1–100, default 20)
//! and `starting_after` (the id of the last item of the previous page);
//! pages answer `data` and `has_more`.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

pub const DEFAULT_LIMIT: u64 = 20;
pub const MAX_LIMIT: u64 = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// The `id` of the last item of the previous page.
    pub starting_after: Option<String>,
}

impl PageQuery {
    pub fn limit(&self) -> Result<u64, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::Invalid {
                param: "limit".into(),
                detail: format!("limit: must be 1 to {MAX_LIMIT}"),
            }),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub data: Vec<T>,
    /// More items follow: ask again with `starting_after` = the last `id`.
    pub has_more: bool,
}

impl<T: ToSchema> Page<T> {
    /// The page of views of `rows`, as [`fetch`] answered them.
    pub fn of<R>((rows, has_more): (Vec<R>, bool)) -> Page<T>
    where
        T: From<R>,
    {
        Page {
            data: rows.into_iter().map(T::from).collect(),
            has_more,
        }
    }
}

/// Newest first (descending ids) or oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Ascending,
    Descending,
}

/// What [`fetch`] fails with when `starting_after` names no row of the
/// list (an unknown or stale cursor): a first or empty page would look
/// like success. Mapped once, in `From<DbErr> for ApiError`, to a 422 on
/// `starting_after`.
pub const UNKNOWN_CURSOR: &str = "starting_after names no item of this list";

/// One page of `query` ordered by the unique column `id`, after the row
/// whose id is `after` (which must be a row of `query`), and whether more
/// rows follow.
pub async fn fetch<E, C, V>(
    db: &impl ConnectionTrait,
    query: Select<E>,
    id: C,
    order: Order,
    after: Option<V>,
    limit: u64,
) -> Result<(Vec<E::Model>, bool), DbErr>
where
    E: EntityTrait,
    C: ColumnTrait,
    V: Into<sea_orm::Value> + Clone,
{
    if let Some(a) = &after {
        let known = query.clone().filter(id.eq(a.clone())).one(db).await?;
        if known.is_none() {
            return Err(DbErr::RecordNotFound(UNKNOWN_CURSOR.into()));
        }
    }
    let query = match (after, order) {
        (Some(a), Order::Ascending) => query.filter(id.gt(a)),
        (Some(a), Order::Descending) => query.filter(id.lt(a)),
        (None, _) => query,
    };
    let query = match order {
        Order::Ascending => query.order_by_asc(id),
        Order::Descending => query.order_by_desc(id),
    };
    let mut rows = query.limit(limit + 1).all(db).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    Ok((rows, more))
}
