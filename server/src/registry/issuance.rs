//! Issuing a verified report: a credit batch whose serial numbers are the
//! grams `1..=quantity_g` under the registry-unique prefix
//! `TPH-<project number>-<vintage>-<batch of the project>`. The holder's
//! share and (forest sinks) the buffer pool's share are one ledger transfer
//! from the credit issuer, in the transaction that records the batch.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::json;

use super::entity::{batch, project, report};
use super::error::RegistryError;
use super::projects::ProjectKind;
use super::reports::{self, status as report_status};
use super::rules::RegistryRules;
use crate::accounts::{entity as account, service as accounts};
use crate::audit::log::append;
use crate::ledger::{self, Asset, Command, Posting, Request};
use crate::orgs::entity::Role;
use crate::orgs::principal::Principal;

/// System accounts of the registry.
pub const CREDIT_ISSUER: &str = "issuer:credits";
pub const BUFFER_POOL: &str = "pool:forest-buffer";
pub const RETIRED: &str = "sink:retired";
pub const CANCELLED: &str = "sink:cancelled";

pub fn asset(batch_id: &str) -> Asset {
    Asset::parse(&format!("credit:{batch_id}")).expect("batch ids are valid asset names")
}

/// A serial as printed: the batch prefix and the unit number.
pub fn serial(batch_id: &str, unit: i64) -> String {
    format!("{batch_id}-{unit:012}")
}

pub async fn organization_account(
    db: &impl sea_orm::ConnectionTrait,
    org_id: &str,
) -> Result<account::Model, RegistryError> {
    account::Entity::find()
        .filter(account::Column::OrganizationId.eq(org_id))
        .one(db)
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound(format!("account of {org_id}")).into())
}

pub async fn issue(
    db: &DatabaseConnection,
    who: &Principal,
    rules: &RegistryRules,
    report_id: &str,
    now: DateTime<FixedOffset>,
) -> Result<batch::Model, RegistryError> {
    if !who.has_role(Role::Verifier) {
        return Err(RegistryError::Forbidden(
            "only the service centre issues credits",
        ));
    }
    let r = reports::find(db, report_id).await?;
    if r.status != report_status::VERIFIED {
        return Err(RegistryError::Conflict(
            "not_verified",
            format!(
                "the report is {}; only verified reports are issued",
                r.status
            ),
        ));
    }
    let quantity = r.verified_g.unwrap_or_default();
    // System accounts are opened through the pool, outside the transaction.
    let issuer = accounts::system(db, CREDIT_ISSUER, now).await?;
    let pool = accounts::system(db, BUFFER_POOL, now).await?;
    let txn = crate::db::begin_write(db).await?;
    // The project's row lock orders its batches' numbers.
    let p: project::Model = project::Entity::update_many()
        .col_expr(project::Column::Status, Expr::col(project::Column::Status))
        .filter(project::Column::Id.eq(r.project_id.as_str()))
        .exec_with_returning(&txn)
        .await?
        .into_iter()
        .next()
        .ok_or(RegistryError::NotFound)?;
    let number = p
        .number
        .ok_or_else(|| sea_orm::DbErr::Custom("approved project without a number".into()))?;
    let seq = batch::Entity::find()
        .filter(batch::Column::ProjectId.eq(p.id.as_str()))
        .count(&txn)
        .await?
        + 1;
    let vintage = NaiveDate::parse_from_str(&r.period_end, "%Y-%m-%d")
        .map_err(|e| sea_orm::DbErr::Custom(format!("report period: {e}")))?
        .year();
    let id = format!("TPH-{number:04}-{vintage}-{seq:03}");
    let changed = report::Entity::update_many()
        .col_expr(report::Column::Status, Expr::value(report_status::ISSUED))
        .col_expr(report::Column::BatchId, Expr::value(id.clone()))
        .filter(report::Column::Id.eq(report_id))
        .filter(report::Column::Status.eq(report_status::VERIFIED))
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 {
        return Err(RegistryError::Conflict(
            "already_issued",
            "the report was issued by someone else first".into(),
        ));
    }
    let buffer = if ProjectKind::parse(&p.kind) == Some(ProjectKind::Afforestation) {
        carbon_calc::forest::buffer_grams(quantity, rules.forest_buffer_share)?
    } else {
        0
    };
    let holder = organization_account(&txn, &p.organization_id).await?;
    let credits = asset(&id);
    let mut postings = vec![
        Posting {
            account_id: issuer.id.clone(),
            asset: credits.clone(),
            amount: -quantity,
        },
        Posting {
            account_id: holder.id.clone(),
            asset: credits.clone(),
            amount: quantity - buffer,
        },
    ];
    if buffer > 0 {
        postings.push(Posting {
            account_id: pool.id.clone(),
            asset: credits,
            amount: buffer,
        });
    }
    ledger::apply_within(
        &txn,
        &Request {
            id: format!("issue:{id}"),
            memo: Some(format!("issuance of {id}")),
            command: Command::Transfer { postings },
        },
        &[&issuer, &pool, &holder],
        now,
    )
    .await?;
    let event = append(
        &txn,
        "registry.batch_issued",
        json!({
            "batch": id,
            "project": p.id,
            "report": r.id,
            "vintage": vintage,
            "methodology": p.methodology,
            "methodology_version": p.methodology_version,
            "quantity_g": quantity,
            "buffer_g": buffer,
            "holder": holder.id,
            "serial_first": serial(&id, 1),
            "serial_last": serial(&id, quantity),
        }),
        None,
        now,
    )
    .await?;
    let b = batch::Entity::insert(batch::ActiveModel {
        id: Set(id),
        kind: Set("project".into()),
        project_id: Set(Some(p.id.clone())),
        report_id: Set(Some(r.id.clone())),
        vintage: Set(vintage),
        methodology: Set(p.methodology.clone()),
        methodology_version: Set(p.methodology_version),
        quantity_g: Set(quantity),
        buffer_g: Set(buffer),
        holder_account_id: Set(holder.id.clone()),
        next_serial: Set(1),
        retired_g: Set(0),
        cancelled_g: Set(0),
        records: Set(None),
        persons: Set(None),
        issued_by: Set(who.user_id.clone()),
        issued_at: Set(now),
        audit_event_id: Set(event),
    })
    .exec_with_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(b)
}

pub async fn find(
    db: &impl sea_orm::ConnectionTrait,
    id: &str,
) -> Result<batch::Model, RegistryError> {
    batch::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(RegistryError::NotFound)
}
