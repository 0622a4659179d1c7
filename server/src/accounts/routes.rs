//! `/api/v1/accounts/{id}` and its balances and entries. An account the
//! caller may not read answers 404, the same as one that does not exist, so
//! ids cannot be probed.

use actix_web::{get, web, HttpResponse};
use sea_orm::DatabaseConnection;
use serde::Serialize;
use utoipa::ToSchema;

use super::entity::{self, AccountKind};
use super::service;
use crate::auth::extract::Principal;
use crate::error::ApiError;
use crate::ledger;
use crate::pagination::{Page, PageQuery};

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    pub id: String,
    pub kind: AccountKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub created_at: String,
}

impl From<entity::Model> for AccountView {
    fn from(a: entity::Model) -> Self {
        AccountView {
            id: a.id,
            kind: a.kind,
            user_id: a.user_id,
            organization_id: a.organization_id,
            code: a.code,
            created_at: a.created_at.to_rfc3339(),
        }
    }
}

/// The account if `who` may read it; otherwise 404.
async fn readable(
    db: &DatabaseConnection,
    who: &Principal,
    id: &str,
) -> Result<entity::Model, ApiError> {
    match service::find(db, id).await? {
        Some(a) if service::can_read(who, &a) => Ok(a),
        _ => Err(ApiError::NotFound),
    }
}

/// One carbon account.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account", body = AccountView),
        (status = 404, description = "No such account, or not yours (`not_found`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/accounts/{id}")]
pub async fn get_account(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let account = readable(&db, &who, &id).await?;
    Ok(HttpResponse::Ok().json(AccountView::from(account)))
}

/// Amounts are integers in the asset's minor unit (points; fen for
/// `cash:CNY`; grams CO2e for credits), sent as strings so no client loses
/// precision.
#[derive(Debug, Serialize, ToSchema)]
pub struct BalanceView {
    pub asset: String,
    pub posted: String,
    /// Reserved by pledges and open orders.
    pub held: String,
    /// `posted − held`.
    pub available: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BalancesView {
    pub account_id: String,
    pub balances: Vec<BalanceView>,
}

/// The account's balance of every asset it has held.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Balances", body = BalancesView),
        (status = 404, description = "No such account, or not yours (`not_found`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/accounts/{id}/balances")]
pub async fn get_balances(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let account = readable(&db, &who, &id).await?;
    let balances = ledger::balances(db.get_ref(), &account.account_id())
        .await?
        .into_iter()
        .map(|b| BalanceView {
            available: b.available().to_string(),
            posted: b.posted.to_string(),
            held: b.held.to_string(),
            asset: b.asset,
        })
        .collect();
    Ok(HttpResponse::Ok().json(BalancesView {
        account_id: account.id,
        balances,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerEntryView {
    /// Pass as `starting_after` to get the next (older) page.
    pub id: String,
    pub transaction_id: String,
    pub asset: String,
    /// Signed, in the asset's minor unit: positive credits the account.
    pub amount: String,
    pub created_at: String,
}

/// The account's ledger entries, newest first, in pages.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of entries", body = Page<LedgerEntryView>),
        (status = 404, description = "No such account, or not yours (`not_found`)", content_type = "application/problem+json"),
        (status = 422, description = "Bad `limit` or `starting_after` (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/accounts/{id}/entries")]
pub async fn get_entries(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let account = readable(&db, &who, &id).await?;
    let after = page
        .starting_after
        .as_deref()
        .map(|s| {
            s.parse::<i64>().map_err(|_| ApiError::Invalid {
                param: "starting_after".into(),
                detail: "starting_after: must be an entry id".into(),
            })
        })
        .transpose()?;
    let (rows, has_more) =
        ledger::entries_page(db.get_ref(), &account.account_id(), after, page.limit()?).await?;
    let data = rows
        .into_iter()
        .map(|e| LedgerEntryView {
            id: e.id.to_string(),
            transaction_id: e.transaction_id,
            asset: e.asset,
            amount: e.amount.to_string(),
            created_at: e.created_at.to_rfc3339(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page { data, has_more }))
}
