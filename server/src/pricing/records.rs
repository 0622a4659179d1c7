//! Pages of the pricing records anyone may read (reviews, stabilisation
//! actions): newest first, of one instrument or all, in one status or any.

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::market::error::MarketError;

/// The columns a record table is paged and filtered by.
pub struct Columns<C> {
    pub id: C,
    pub instrument: C,
    pub status: C,
}

/// A page of `E`'s rows, newest first; `status` must be one of `statuses`.
pub async fn newest_first<E>(
    db: &DatabaseConnection,
    columns: Columns<E::Column>,
    statuses: &[&str],
    instrument: Option<&str>,
    status: Option<&str>,
    after: Option<String>,
    limit: u64,
) -> Result<(Vec<E::Model>, bool), MarketError>
where
    E: EntityTrait,
{
    let mut query = E::find();
    if let Some(code) = instrument {
        query = query.filter(columns.instrument.eq(code));
    }
    if let Some(s) = status {
        if !statuses.contains(&s) {
            return Err(MarketError::invalid(
                "status",
                format!("one of {}", statuses.join(", ")),
            ));
        }
        query = query.filter(columns.status.eq(s));
    }
    Ok(crate::pagination::fetch(
        db,
        query,
        columns.id,
        crate::pagination::Order::Descending,
        after,
        limit,
    )
    .await?)
}
