//! Aggregating credited personal reductions into a tradeable batch held by
//! the service centre's aggregator account. One statement claims the
//! records (`batch_id IS NULL` is its guard), so a record joins at most one
//! batch however many aggregations run at once (invariant 6). The batch
//! tells how many records and persons it covers; never who.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::entity::batch;
use super::error::RegistryError;
use super::issuance::{record_batch, NewBatch, CREDIT_ISSUER};
use crate::accounts::service as accounts;
use crate::auth::extract::Principal;
use crate::auth::roles::Role;
use crate::problem::ProblemCode;
use crate::trips::entity::reduction;

/// The service centre's account that holds aggregated personal credits.
pub const AGGREGATOR: &str = "aggregator:personal";

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AggregationInput {
    /// First day (China time) of the reductions to aggregate.
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    /// Last day, inclusive; must have ended.
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    /// The commute preset (methodology) whose reductions form the batch,
    /// e.g. `lanzhou-interim`: one batch, one methodology.
    pub preset: String,
}

pub async fn aggregate(
    db: &DatabaseConnection,
    who: &Principal,
    input: &AggregationInput,
    now: DateTime<FixedOffset>,
) -> Result<batch::Model, RegistryError> {
    if !who.has_role(Role::Verifier) {
        return Err(RegistryError::Forbidden(
            "only the service centre aggregates personal reductions",
        ));
    }
    super::error::check_date("from", input.from)?;
    super::error::check_date("to", input.to)?;
    if input.to < input.from || input.to.year() != input.from.year() {
        return Err(RegistryError::invalid(
            "to",
            "must not be before from, and in the same year (one vintage)",
        ));
    }
    if input.to.to_string() >= crate::clock::china_day(now) {
        return Err(RegistryError::invalid("to", "the period must have ended"));
    }
    let vintage = input.to.year();
    let issuer = accounts::system(db, CREDIT_ISSUER, now).await?;
    let holder = accounts::system(db, AGGREGATOR, now).await?;
    let txn = crate::db::begin_write(db).await?;
    // Claim first, under a marker of this transaction: the first statement
    // writes, so SQLite takes its write lock before anything is read (a
    // read-then-write transaction cannot wait for the lock, it fails).
    let marker = format!("pending:{}", uuid::Uuid::new_v4().simple());
    let claimed = reduction::Entity::update_many()
        .col_expr(reduction::Column::BatchId, Expr::value(marker.clone()))
        .filter(reduction::Column::BatchId.is_null())
        .filter(reduction::Column::Preset.eq(input.preset.as_str()))
        .filter(reduction::Column::LocalDay.gte(input.from.to_string()))
        .filter(reduction::Column::LocalDay.lte(input.to.to_string()))
        // A trip held for review (the same journey came from another
        // account) stays out until a reviewer decides.
        .filter(
            reduction::Column::TripId.not_in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(crate::trips::entity::trip::Column::Id)
                    .from(crate::trips::entity::trip::Entity)
                    .and_where(crate::trips::entity::trip::Column::HeldForReview.eq(true))
                    .to_owned(),
            ),
        )
        .exec_with_returning(&txn)
        .await?;
    if claimed.is_empty() {
        return Err(RegistryError::Conflict(
            ProblemCode::NothingToAggregate,
            "no unaggregated credited reductions of that preset in the period".into(),
        ));
    }
    let seq = super::counters::next(&txn, &format!("personal:{vintage}")).await?;
    let id = format!("TPH-PER-{vintage}-{seq:03}");
    reduction::Entity::update_many()
        .col_expr(reduction::Column::BatchId, Expr::value(id.clone()))
        .filter(reduction::Column::BatchId.eq(marker.as_str()))
        .exec(&txn)
        .await?;
    let quantity: i64 = claimed.iter().map(|r| r.grams).sum();
    let records = claimed.len() as i64;
    let mut persons: Vec<&str> = claimed.iter().map(|r| r.user_id.as_str()).collect();
    persons.sort_unstable();
    persons.dedup();
    let persons = persons.len() as i64;
    // Every record of one batch has one preset; its version is the newest
    // among them (presets are versioned tables, recorded per reduction).
    let version = claimed.iter().map(|r| r.preset_version).max().unwrap_or(1);
    let b = record_batch(
        &txn,
        NewBatch {
            id,
            kind: "personal",
            project_id: None,
            report_id: None,
            vintage,
            class: crate::instruments::Class::CarbonPersonal,
            methodology: input.preset.clone(),
            methodology_version: version,
            quantity_g: quantity,
            holder: &holder,
            buffer: None,
            records: Some(records),
            persons: Some(persons),
        },
        &issuer,
        who,
        json!({
            "period_from": input.from.to_string(),
            "period_to": input.to.to_string(),
            "records": records,
            "persons": persons,
        }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(b)
}
