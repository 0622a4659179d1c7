//! Issuing a verified report: a credit batch whose serial numbers are the
//! grams `1..=quantity_g` under the registry-unique prefix
//! `TPH-<project number>-<vintage>-<batch of the project>`. The holder's
//! share and (forest sinks) the buffer pool's share are one ledger transfer
//! from the credit issuer, in the transaction that records the batch.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};
use serde_json::json;

use super::entity::{batch, report};
use super::error::RegistryError;
use super::projects::ProjectKind;
use super::reports::{self, status as report_status};
use super::rules::RegistryRules;
use crate::accounts::{entity as account, service as accounts};
use crate::audit::log::append;
use crate::auth::extract::Principal;
use crate::auth::roles::Role;
use crate::ledger::{self, Asset, Command, Posting, Request};
use crate::problem::ProblemCode;

/// System accounts of the registry.
pub const CREDIT_ISSUER: &str = "issuer:credits";
pub const BUFFER_POOL: &str = "pool:forest-buffer";
pub const RETIRED: &str = "sink:retired";
pub const CANCELLED: &str = "sink:cancelled";

/// The kind of a batch of environmental rights (`crate::rights`).
pub const ALLOCATION: &str = "allocation";

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
            ProblemCode::NotVerified,
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
    let p = super::projects::lock(&txn, &r.project_id).await?;
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
            ProblemCode::AlreadyIssued,
            "the report was issued by someone else first".into(),
        ));
    }
    let buffer = if ProjectKind::parse(&p.kind) == Some(ProjectKind::Afforestation) {
        carbon_calc::forest::buffer_grams(quantity, rules.forest_buffer_share)?
    } else {
        0
    };
    let holder = organization_account(&txn, &p.organization_id).await?;
    let b = record_batch(
        &txn,
        NewBatch {
            id,
            kind: "project",
            project_id: Some(p.id.clone()),
            report_id: Some(r.id.clone()),
            vintage,
            class: crate::instruments::Class::of_batch("project", Some(&p.kind)),
            methodology: p.methodology.clone(),
            methodology_version: p.methodology_version,
            quantity_g: quantity,
            holder: &holder,
            buffer: (buffer > 0).then_some((&pool, buffer)),
            records: None,
            persons: None,
        },
        &issuer,
        who,
        json!({"project": p.id, "report": r.id}),
        now,
    )
    .await?;
    // Future-income pledges of the project take their part now.
    if let Some(instrument) = &b.instrument {
        crate::finance::future::capture(
            &txn,
            &p.id,
            instrument,
            &b.id,
            b.quantity_g - b.buffer_g,
            &holder,
            now,
        )
        .await
        .map_err(RegistryError::from)?;
    }
    txn.commit().await?;
    Ok(b)
}

/// A batch about to be issued.
pub(crate) struct NewBatch<'a> {
    pub id: String,
    /// `project`, `personal` or [`ALLOCATION`].
    pub kind: &'static str,
    pub project_id: Option<String>,
    pub report_id: Option<String>,
    pub vintage: i32,
    /// Its instrument's class (the vintage is the batch's).
    pub class: crate::instruments::Class,
    pub methodology: String,
    pub methodology_version: i32,
    pub quantity_g: i64,
    pub holder: &'a account::Model,
    /// The buffer pool and its share, for forest sinks.
    pub buffer: Option<(&'a account::Model, i64)>,
    pub records: Option<i64>,
    pub persons: Option<i64>,
}

/// The one way a batch comes to be, in the caller's transaction: the
/// issuer's ledger transfer to the holder (and the buffer pool), the
/// `registry.batch_issued` event (with `detail` merged in), the batch row.
/// A batch id taken at the same moment by another transaction is
/// `try_again`.
pub(crate) async fn record_batch(
    txn: &DatabaseTransaction,
    new: NewBatch<'_>,
    issuer: &account::Model,
    who: &Principal,
    detail: serde_json::Value,
    now: DateTime<FixedOffset>,
) -> Result<batch::Model, RegistryError> {
    let taken = || {
        RegistryError::Conflict(
            ProblemCode::TryAgain,
            "another issuance took this batch number at the same moment; try again".into(),
        )
    };
    let credits = asset(&new.id);
    let instrument = crate::instruments::Code::new(new.class, new.vintage).to_string();
    let buffer_g = new.buffer.map(|(_, g)| g).unwrap_or(0);
    let mut postings = vec![
        Posting {
            account_id: issuer.id.clone(),
            asset: credits.clone(),
            amount: -new.quantity_g,
        },
        Posting {
            account_id: new.holder.id.clone(),
            asset: credits.clone(),
            amount: new.quantity_g - buffer_g,
        },
    ];
    let mut known = vec![issuer, new.holder];
    if let Some((pool, g)) = new.buffer {
        postings.push(Posting {
            account_id: pool.id.clone(),
            asset: credits,
            amount: g,
        });
        known.push(pool);
    }
    ledger::apply_within(
        txn,
        &Request {
            id: format!("issue:{}", new.id),
            memo: Some(format!("issuance of {}", new.id)),
            command: Command::Transfer { postings },
        },
        &known,
        now,
    )
    .await
    .map_err(|e| match e {
        ledger::LedgerError::IdReused(_) => taken(),
        other => other.into(),
    })?;
    let mut body = json!({
        "batch": new.id,
        "kind": new.kind,
        "vintage": new.vintage,
        "instrument": instrument,
        "methodology": new.methodology,
        "methodology_version": new.methodology_version,
        "quantity_g": new.quantity_g,
        "buffer_g": buffer_g,
        "holder": new.holder.id,
        "serial_first": serial(&new.id, 1),
        "serial_last": serial(&new.id, new.quantity_g),
    });
    if let (Some(b), serde_json::Value::Object(extra)) = (body.as_object_mut(), detail) {
        b.extend(extra);
    }
    let event = append(txn, "registry.batch_issued", body, None, now).await?;
    let inserted = batch::Entity::insert(batch::ActiveModel {
        id: Set(new.id),
        kind: Set(new.kind.into()),
        project_id: Set(new.project_id),
        report_id: Set(new.report_id),
        vintage: Set(new.vintage),
        methodology: Set(new.methodology),
        methodology_version: Set(new.methodology_version),
        quantity_g: Set(new.quantity_g),
        buffer_g: Set(buffer_g),
        holder_account_id: Set(new.holder.id.clone()),
        next_serial: Set(1),
        retired_g: Set(0),
        cancelled_g: Set(0),
        records: Set(new.records),
        persons: Set(new.persons),
        issued_by: Set(who.user_id.to_string()),
        issued_at: Set(now),
        audit_event_id: Set(event),
        instrument: Set(Some(instrument)),
    })
    .exec_with_returning(txn)
    .await;
    match inserted {
        Ok(b) => Ok(b),
        Err(e) if super::error::unique_violation(&e) => Err(taken()),
        Err(e) => Err(e.into()),
    }
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
