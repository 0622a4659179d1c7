//! What the API shows of allocations. Enterprises are not personal data:
//! every allocation is public (disclosure), its holder named.

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::Serialize;
use utoipa::ToSchema;

use super::entity::{allocation, AllocationStatus, Origin};
use crate::finance::views::units;
use crate::instruments::Class;
use crate::market::error::MarketError;

#[derive(Debug, Serialize, ToSchema)]
pub struct AllocationView {
    pub id: String,
    /// The batch of the instrument it created (its serial prefix).
    #[schema(example = "TPH-SO2-2026-00001")]
    pub batch_id: String,
    #[schema(example = "TPH-SO2-2026")]
    pub instrument: String,
    pub class: Class,
    pub vintage: i32,
    pub origin: Origin,
    pub holder_organization_id: String,
    pub bureau_organization_id: String,
    /// The permit or project identifier it is tied to.
    pub identifier: String,
    /// Free allocations: the reserve platform whose fund conversions pay.
    pub reserve_organization_id: Option<String>,
    /// kg, m3, tce or mu.
    #[schema(example = "kg")]
    pub unit: String,
    /// Units allocated (decimal text).
    #[schema(example = "20000")]
    pub quantity: String,
    /// Units still unconverted: the holder's, but only the reserve may
    /// take them until converted.
    #[schema(example = "15000")]
    pub unconverted: String,
    /// Units converted (free allocations); all of them otherwise.
    #[schema(example = "5000")]
    pub converted: String,
    /// The last valid day (China); none: it does not lapse.
    #[schema(example = "2031-03-31")]
    pub valid_until: Option<String>,
    pub status: AllocationStatus,
    pub created_at: String,
}

impl From<allocation::Model> for AllocationView {
    fn from(a: allocation::Model) -> Self {
        let (unit, minor) = a.class.unit();
        AllocationView {
            unit: unit.into(),
            quantity: units(a.quantity_g, minor),
            unconverted: units(a.unconverted_g, minor),
            converted: units(a.quantity_g - a.unconverted_g, minor),
            id: a.id,
            batch_id: a.batch_id,
            instrument: a.instrument,
            class: a.class,
            vintage: a.vintage,
            origin: a.origin,
            holder_organization_id: a.holder_organization_id,
            bureau_organization_id: a.bureau_organization_id,
            identifier: a.identifier,
            reserve_organization_id: a.reserve_organization_id,
            valid_until: a.valid_until,
            status: a.status,
            created_at: a.created_at.to_rfc3339(),
        }
    }
}

/// What a list of allocations is narrowed to.
#[derive(Debug, Default)]
pub struct Filter<'a> {
    pub instrument: Option<&'a str>,
    pub holder: Option<&'a str>,
    pub bureau: Option<&'a str>,
    pub origin: Option<Origin>,
    pub status: Option<AllocationStatus>,
}

/// Allocations, newest first, in pages.
pub async fn list(
    db: &DatabaseConnection,
    f: Filter<'_>,
    after: Option<String>,
    limit: u64,
) -> Result<(Vec<allocation::Model>, bool), MarketError> {
    let mut q = allocation::Entity::find();
    if let Some(code) = f.instrument {
        q = q.filter(allocation::Column::Instrument.eq(code));
    }
    if let Some(org) = f.holder {
        q = q.filter(allocation::Column::HolderOrganizationId.eq(org));
    }
    if let Some(org) = f.bureau {
        q = q.filter(allocation::Column::BureauOrganizationId.eq(org));
    }
    if let Some(o) = f.origin {
        q = q.filter(allocation::Column::Origin.eq(o));
    }
    if let Some(s) = f.status {
        q = q.filter(allocation::Column::Status.eq(s));
    }
    Ok(crate::pagination::fetch(
        db,
        q,
        allocation::Column::Id,
        crate::pagination::Order::Descending,
        after,
        limit,
    )
    .await?)
}
