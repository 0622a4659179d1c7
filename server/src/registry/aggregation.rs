//! Aggregating credited personal reductions into a tradeable batch held by
//! the service centre's aggregator account. One statement claims the
//! records (`batch_id IS NULL` is its guard), so a record joins at most one
//! batch however many aggregations run at once (invariant 6). The batch
//! tells how many records and persons it covers; never who.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::entity::batch;
use super::error::{unique_violation, RegistryError};
use super::issuance::{asset, serial, CREDIT_ISSUER};
use crate::accounts::service as accounts;
use crate::audit::log::append;
use crate::ledger::{self, Command, Posting, Request};
use crate::orgs::entity::Role;
use crate::orgs::principal::Principal;
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
    if input.to < input.from || input.to.year() != input.from.year() {
        return Err(RegistryError::invalid(
            "to",
            "must not be before from, and in the same year (one vintage)",
        ));
    }
    if input.to.to_string() >= crate::trips::service::china_day(now) {
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
        .exec_with_returning(&txn)
        .await?;
    if claimed.is_empty() {
        return Err(RegistryError::Conflict(
            "nothing_to_aggregate",
            "no unaggregated credited reductions of that preset in the period".into(),
        ));
    }
    let prefix = format!("TPH-PER-{vintage}-");
    let taken = batch::Entity::find()
        .filter(batch::Column::Id.starts_with(prefix.as_str()))
        .all(&txn)
        .await?
        .len();
    let id = format!("{prefix}{:03}", taken + 1);
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
    ledger::apply_within(
        &txn,
        &Request {
            id: format!("issue:{id}"),
            memo: Some(format!("aggregation {id}")),
            command: Command::Transfer {
                postings: vec![
                    Posting {
                        account_id: issuer.id.clone(),
                        asset: asset(&id),
                        amount: -quantity,
                    },
                    Posting {
                        account_id: holder.id.clone(),
                        asset: asset(&id),
                        amount: quantity,
                    },
                ],
            },
        },
        &[&issuer, &holder],
        now,
    )
    .await
    .map_err(|e| match e {
        ledger::LedgerError::IdReused(_) => RegistryError::Conflict(
            "try_again",
            "another aggregation took this batch number at the same moment; try again".into(),
        ),
        other => other.into(),
    })?;
    let event = append(
        &txn,
        "registry.batch_issued",
        json!({
            "batch": id,
            "kind": "personal",
            "period_from": input.from.to_string(),
            "period_to": input.to.to_string(),
            "methodology": input.preset,
            "methodology_version": version,
            "quantity_g": quantity,
            "records": records,
            "persons": persons,
            "holder": holder.id,
            "serial_first": serial(&id, 1),
            "serial_last": serial(&id, quantity),
        }),
        None,
        now,
    )
    .await?;
    let inserted = batch::Entity::insert(batch::ActiveModel {
        id: Set(id),
        kind: Set("personal".into()),
        project_id: Set(None),
        report_id: Set(None),
        vintage: Set(vintage),
        methodology: Set(input.preset.clone()),
        methodology_version: Set(version),
        quantity_g: Set(quantity),
        buffer_g: Set(0),
        holder_account_id: Set(holder.id.clone()),
        next_serial: Set(1),
        retired_g: Set(0),
        cancelled_g: Set(0),
        records: Set(Some(records)),
        persons: Set(Some(persons)),
        issued_by: Set(who.user_id.clone()),
        issued_at: Set(now),
        audit_event_id: Set(event),
    })
    .exec_with_returning(&txn)
    .await;
    let b = match inserted {
        Ok(b) => b,
        Err(e) if unique_violation(&e) => {
            return Err(RegistryError::Conflict(
                "try_again",
                "another aggregation took this batch number at the same moment; try again".into(),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    txn.commit().await?;
    Ok(b)
}
