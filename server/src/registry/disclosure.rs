//! `/api/v1/public/*`: what anyone may see without signing in — submitted
//! projects, issued batches, retirements and statistics — as JSON pages or
//! CSV (`?format=csv`, same cursor). Nothing personal appears: accounts of
//! holders are organisations' (persons hold points, never credits), and
//! personal reductions show only as aggregated batches with their counts.

use std::collections::BTreeMap;

use actix_web::{get, web, HttpResponse};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::entity::{batch, retirement};
use super::projects::{self, ProjectFilter};
use super::views::{BatchView, ProjectView, RetirementView};
use crate::accounts::entity::{self as account, AccountKind};
use crate::error::ApiError;
use crate::ledger::entity::balance;
use crate::pagination::{self, Order, Page, PageQuery};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The page as JSON or CSV with these `columns` (scalar fields of the
/// items); `x-has-more` tells a CSV client to page on.
pub fn answer<T: Serialize + ToSchema>(
    format: &FormatQuery,
    columns: &[&str],
    data: Vec<T>,
    has_more: bool,
) -> Result<HttpResponse, ApiError> {
    match format.format.as_deref() {
        None | Some("json") => Ok(HttpResponse::Ok().json(Page { data, has_more })),
        Some("csv") => {
            let rows: Vec<serde_json::Map<String, serde_json::Value>> = data
                .iter()
                .filter_map(|d| serde_json::to_value(d).ok()?.as_object().cloned())
                .collect();
            let mut out = String::new();
            out.push_str(&columns.join(","));
            out.push('\n');
            for r in &rows {
                let line: Vec<String> = columns
                    .iter()
                    .map(|c| match r.get(*c) {
                        Some(serde_json::Value::String(s)) => csv_field(s),
                        Some(serde_json::Value::Null) | None => String::new(),
                        Some(v) => csv_field(&v.to_string()),
                    })
                    .collect();
                out.push_str(&line.join(","));
                out.push('\n');
            }
            Ok(HttpResponse::Ok()
                .content_type("text/csv; charset=utf-8")
                .insert_header(("x-has-more", has_more.to_string()))
                .body(out))
        }
        Some(_) => Err(ApiError::Invalid {
            param: "format".into(),
            detail: "format: json or csv".into(),
        }),
    }
}

/// Projects past the draft stage (on notice, approved, rejected), oldest
/// first.
#[utoipa::path(
    tag = "public",
    params(ProjectFilter, PageQuery, FormatQuery),
    responses((status = 200, description = "A page of projects (JSON, or CSV with `x-has-more`)", content((Page<ProjectView> = "application/json"), (String = "text/csv"))))
)]
#[get("/api/v1/public/projects")]
pub async fn public_projects(
    db: web::Data<DatabaseConnection>,
    filter: web::Query<ProjectFilter>,
    page: web::Query<PageQuery>,
    format: web::Query<FormatQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = page.limit()?;
    let (rows, has_more) = projects::list(
        db.get_ref(),
        None,
        &filter,
        page.starting_after.clone(),
        limit,
    )
    .await?;
    let mut data = Vec::with_capacity(rows.len());
    for p in rows {
        let n = projects::objection_count(db.get_ref(), &p.id).await?;
        data.push(ProjectView::new(p, n));
    }
    answer(&format, PROJECT_COLUMNS, data, has_more)
}

const PROJECT_COLUMNS: &[&str] = &[
    "id",
    "number",
    "organization_id",
    "name",
    "kind",
    "methodology",
    "methodology_version",
    "region_code",
    "crediting_start",
    "crediting_end",
    "status",
    "notice_closes_at",
    "decided_at",
    "objections",
    "created_at",
];

const BATCH_COLUMNS: &[&str] = &[
    "id",
    "kind",
    "project_id",
    "vintage",
    "methodology",
    "methodology_version",
    "quantity_g",
    "buffer_g",
    "serial_first",
    "serial_last",
    "retired_g",
    "cancelled_g",
    "records",
    "persons",
    "issued_at",
];

const RETIREMENT_COLUMNS: &[&str] = &[
    "id",
    "batch_id",
    "account_id",
    "quantity_g",
    "serial_first",
    "serial_last",
    "beneficiary",
    "purpose",
    "created_at",
];

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BatchFilter {
    pub project_id: Option<String>,
    pub vintage: Option<i32>,
    /// `project` or `personal`.
    pub kind: Option<String>,
}

/// Issued credit batches, by id.
#[utoipa::path(
    tag = "public",
    params(BatchFilter, PageQuery, FormatQuery),
    responses((status = 200, description = "A page of batches (JSON, or CSV with `x-has-more`)", content((Page<BatchView> = "application/json"), (String = "text/csv"))))
)]
#[get("/api/v1/public/batches")]
pub async fn public_batches(
    db: web::Data<DatabaseConnection>,
    filter: web::Query<BatchFilter>,
    page: web::Query<PageQuery>,
    format: web::Query<FormatQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = page.limit()?;
    let mut query = batch::Entity::find();
    if let Some(p) = &filter.project_id {
        query = query.filter(batch::Column::ProjectId.eq(p.as_str()));
    }
    if let Some(v) = filter.vintage {
        query = query.filter(batch::Column::Vintage.eq(v));
    }
    if let Some(k) = &filter.kind {
        query = query.filter(batch::Column::Kind.eq(k.as_str()));
    }
    let (rows, has_more) = pagination::fetch(
        db.get_ref(),
        query,
        batch::Column::Id,
        Order::Ascending,
        page.starting_after.clone(),
        limit,
    )
    .await?;
    answer(
        &format,
        BATCH_COLUMNS,
        rows.into_iter().map(BatchView::from).collect(),
        has_more,
    )
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RetirementFilter {
    pub batch_id: Option<String>,
}

/// Retirements, by id.
#[utoipa::path(
    tag = "public",
    params(RetirementFilter, PageQuery, FormatQuery),
    responses((status = 200, description = "A page of retirements (JSON, or CSV with `x-has-more`)", content((Page<RetirementView> = "application/json"), (String = "text/csv"))))
)]
#[get("/api/v1/public/retirements")]
pub async fn public_retirements(
    db: web::Data<DatabaseConnection>,
    filter: web::Query<RetirementFilter>,
    page: web::Query<PageQuery>,
    format: web::Query<FormatQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = page.limit()?;
    let mut query = retirement::Entity::find();
    if let Some(b) = &filter.batch_id {
        query = query.filter(retirement::Column::BatchId.eq(b.as_str()));
    }
    let (rows, has_more) = pagination::fetch(
        db.get_ref(),
        query,
        retirement::Column::Id,
        Order::Ascending,
        page.starting_after.clone(),
        limit,
    )
    .await?;
    answer(
        &format,
        RETIREMENT_COLUMNS,
        rows.into_iter().map(RetirementView::from).collect(),
        has_more,
    )
}

/// One retirement: where a certificate's QR code leads.
#[utoipa::path(
    tag = "public",
    responses(
        (status = 200, description = "The retirement", body = RetirementView),
        (status = 404, description = "No such retirement (`not_found`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/public/retirements/{id}")]
pub async fn public_retirement(
    db: web::Data<DatabaseConnection>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let r = retirement::Entity::find_by_id(id.into_inner())
        .one(db.get_ref())
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(RetirementView::from(r)))
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Totals {
    pub issued_g: String,
    pub retired_g: String,
    pub cancelled_g: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ByTypeAndVintage {
    /// The project type, or `personal` for aggregated personal reductions.
    pub kind: String,
    pub vintage: i32,
    pub issued_g: String,
    pub retired_g: String,
    pub cancelled_g: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Statistics {
    pub totals: Totals,
    /// Credits held (not retired or cancelled) by kind of account:
    /// `enterprise`, `government`, `system` (the buffer pool and the
    /// aggregator).
    pub held_by_account_kind: BTreeMap<String, String>,
    /// Of what `system` holds: the forest buffer pool, the credits held
    /// back against reversals (it is also counted in `system`).
    pub buffer_pool_g: String,
    pub by_type_and_vintage: Vec<ByTypeAndVintage>,
}

#[derive(Debug, FromQueryResult)]
struct BatchRow {
    id: String,
    kind: String,
    project_kind: Option<String>,
    vintage: i32,
    quantity_g: i64,
    retired_g: i64,
    cancelled_g: i64,
}

/// Carbon credits issued, retired and cancelled, held by kind of account,
/// and totals by project type and vintage.
#[utoipa::path(
    tag = "public",
    responses((status = 200, description = "The statistics (grams as strings)", body = Statistics))
)]
#[get("/api/v1/public/statistics")]
pub async fn public_statistics(
    db: web::Data<DatabaseConnection>,
) -> Result<HttpResponse, ApiError> {
    // Carbon only: rights count kilograms, cubic metres, tce and mu, which
    // do not add to tonnes of CO2e.
    let batches: Vec<BatchRow> = batch::Entity::find()
        .filter(batch::Column::Kind.ne(super::issuance::ALLOCATION))
        .select_only()
        .column(batch::Column::Id)
        .column(batch::Column::Kind)
        .column(batch::Column::Vintage)
        .column(batch::Column::QuantityG)
        .column(batch::Column::RetiredG)
        .column(batch::Column::CancelledG)
        .column_as(
            sea_orm::sea_query::Expr::cust(
                "(SELECT kind FROM projects WHERE projects.id = credit_batches.project_id)",
            ),
            "project_kind",
        )
        .into_model::<BatchRow>()
        .all(db.get_ref())
        .await?;
    let mut totals = (0i64, 0i64, 0i64);
    let mut groups: BTreeMap<(String, i32), (i64, i64, i64)> = BTreeMap::new();
    for b in &batches {
        totals.0 += b.quantity_g;
        totals.1 += b.retired_g;
        totals.2 += b.cancelled_g;
        let kind = b.project_kind.clone().unwrap_or_else(|| b.kind.clone());
        let g = groups.entry((kind, b.vintage)).or_default();
        g.0 += b.quantity_g;
        g.1 += b.retired_g;
        g.2 += b.cancelled_g;
    }
    // Held credits: balances of credit assets on every account that is not
    // an issuer or a retired/cancelled sink.
    let rows: Vec<(String, String, Option<String>, i64)> = balance::Entity::find()
        .select_only()
        .column(balance::Column::AccountId)
        .column(balance::Column::Asset)
        .column_as(
            sea_orm::sea_query::Expr::cust(
                "(SELECT code FROM accounts WHERE accounts.id = ledger_balances.account_id)",
            ),
            "code",
        )
        .column(balance::Column::Posted)
        .filter(balance::Column::Asset.starts_with("credit:"))
        .into_tuple()
        .all(db.get_ref())
        .await?;
    let kinds: BTreeMap<String, AccountKind> = account::Entity::find()
        .filter(account::Column::Id.is_in(rows.iter().map(|r| r.0.clone())))
        .all(db.get_ref())
        .await?
        .into_iter()
        .map(|a| (a.id, a.kind))
        .collect();
    let carbon: std::collections::HashSet<String> =
        batches.iter().map(|b| format!("credit:{}", b.id)).collect();
    let mut held: BTreeMap<String, i64> = BTreeMap::new();
    let mut buffer_pool = 0i64;
    for (account_id, asset, code, posted) in rows {
        if !carbon.contains(&asset) {
            continue;
        }
        let code = code.unwrap_or_default();
        if code.starts_with("issuer:") || code.starts_with("sink:") {
            continue;
        }
        if code == super::issuance::BUFFER_POOL {
            buffer_pool += posted;
        }
        let kind = kinds
            .get(&account_id)
            .map(sea_orm::ActiveEnum::to_value)
            .unwrap_or_else(|| "unknown".into());
        *held.entry(kind).or_default() += posted;
    }
    Ok(HttpResponse::Ok().json(Statistics {
        totals: Totals {
            issued_g: totals.0.to_string(),
            retired_g: totals.1.to_string(),
            cancelled_g: totals.2.to_string(),
        },
        held_by_account_kind: held.into_iter().map(|(k, v)| (k, v.to_string())).collect(),
        buffer_pool_g: buffer_pool.to_string(),
        by_type_and_vintage: groups
            .into_iter()
            .map(|((kind, vintage), (i, r, c))| ByTypeAndVintage {
                kind,
                vintage,
                issued_g: i.to_string(),
                retired_g: r.to_string(),
                cancelled_g: c.to_string(),
            })
            .collect(),
    }))
}
