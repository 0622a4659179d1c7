use actix_web::{get, post, web, HttpResponse};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::extract::Principal;
use crate::clock::Now;
use crate::error::ApiError;
use crate::market::cash::{self, DepositInput, Scope, WithdrawalDecisionInput, WithdrawalInput};
use crate::market::entity::{deposit, withdrawal, WithdrawalStatus};
use crate::pagination::{Page, PageQuery};

/// Cash credited to a participant by a settlement bank.
#[derive(Debug, Serialize, ToSchema)]
pub struct DepositView {
    pub id: String,
    pub bank_id: String,
    pub reference: String,
    pub organization_id: String,
    pub account_id: String,
    /// Fen.
    #[schema(example = "100000000")]
    pub amount: String,
    pub recorded_by: String,
    pub created_at: String,
    /// Recorded before under this bank reference: nothing changed now.
    pub replayed: bool,
}

impl DepositView {
    fn new(d: deposit::Model, replayed: bool) -> DepositView {
        DepositView {
            id: d.id,
            bank_id: d.bank_id,
            reference: d.reference,
            organization_id: d.organization_id,
            account_id: d.account_id,
            amount: d.amount.to_string(),
            recorded_by: d.recorded_by,
            created_at: d.created_at.to_rfc3339(),
            replayed,
        }
    }
}

impl From<deposit::Model> for DepositView {
    fn from(d: deposit::Model) -> Self {
        DepositView::new(d, false)
    }
}

/// Record money a participant paid into its settlement bank: credits its
/// `cash:CNY` (fen). The bank's staff only. Idempotent on the bank's
/// reference.
#[utoipa::path(
    tag = "market",
    security(("bearer" = [])),
    request_body = DepositInput,
    responses(
        (status = 201, description = "Credited", body = DepositView),
        (status = 200, description = "Recorded before with this reference, organisation and amount (`replayed`)", body = DepositView),
        (status = 403, description = "Not the bank's staff (`forbidden`)", content_type = "application/problem+json"),
        (status = 404, description = "No such approved bank or organisation (`not_found`, `param` names it)", content_type = "application/problem+json"),
        (status = 409, description = "The reference was recorded for a different deposit (`reference_reused`), or the organisation does not trade (`not_a_participant`)", content_type = "application/problem+json"),
        (status = 422, description = "A bad amount or reference (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/market/deposits")]
pub async fn record_deposit(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    body: web::Json<DepositInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let (d, replayed) = cash::deposit(db.get_ref(), &who, &body, now).await?;
    let view = DepositView::new(d, replayed);
    Ok(if replayed {
        HttpResponse::Ok().json(view)
    } else {
        HttpResponse::Created().json(view)
    })
}

/// Whose cash movements: exactly one of the two.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CashScopeQuery {
    /// A participant the caller acts for.
    pub organization_id: Option<String>,
    /// A bank the caller is staff of.
    pub bank_id: Option<String>,
}

impl CashScopeQuery {
    fn scope(&self) -> Result<Scope<'_>, ApiError> {
        match (&self.organization_id, &self.bank_id) {
            (Some(o), None) => Ok(Scope::Organization(o)),
            (None, Some(b)) => Ok(Scope::Bank(b)),
            _ => Err(ApiError::Invalid {
                param: "organization_id".into(),
                detail: "give exactly one of organization_id and bank_id".into(),
            }),
        }
    }
}

/// A participant's deposits (its staff) or a bank's (its staff), newest
/// first.
#[utoipa::path(
    tag = "market",
    security(("bearer" = [])),
    params(CashScopeQuery, PageQuery),
    responses(
        (status = 200, description = "A page of deposits", body = Page<DepositView>),
        (status = 403, description = "Not the bank's staff (`forbidden`)", content_type = "application/problem+json"),
        (status = 404, description = "Not an organisation the caller acts for (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "The organisation does not trade (`not_a_participant`)", content_type = "application/problem+json"),
        (status = 422, description = "Not exactly one of organization_id and bank_id (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/market/deposits")]
pub async fn list_deposits(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    query: web::Query<CashScopeQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let rows = cash::deposits(
        db.get_ref(),
        &who,
        query.scope()?,
        page.starting_after.as_deref(),
        page.limit()?,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::<DepositView>::of(rows)))
}

/// A request to pay cash out to the organisation's bank account.
#[derive(Debug, Serialize, ToSchema)]
pub struct WithdrawalView {
    pub id: String,
    pub organization_id: String,
    pub account_id: String,
    pub bank_id: String,
    pub bank_account: String,
    /// Fen.
    #[schema(example = "50000000")]
    pub amount: String,
    pub status: WithdrawalStatus,
    pub requested_by: String,
    pub requested_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub reference: Option<String>,
    pub reason: Option<String>,
}

impl From<withdrawal::Model> for WithdrawalView {
    fn from(w: withdrawal::Model) -> Self {
        WithdrawalView {
            id: w.id,
            organization_id: w.organization_id,
            account_id: w.account_id,
            bank_id: w.bank_id,
            bank_account: w.bank_account,
            amount: w.amount.to_string(),
            status: w.status,
            requested_by: w.requested_by,
            requested_at: w.requested_at.to_rfc3339(),
            decided_by: w.decided_by,
            decided_at: w.decided_at.map(|t| t.to_rfc3339()),
            reference: w.reference,
            reason: w.reason,
        }
    }
}

/// Ask the settlement bank to pay out cash (the participant's staff): the
/// amount is held until the bank decides.
#[utoipa::path(
    tag = "market",
    security(("bearer" = [])),
    request_body = WithdrawalInput,
    responses(
        (status = 201, description = "Requested; the cash is held", body = WithdrawalView),
        (status = 404, description = "Not an organisation the caller acts for, or no such approved bank (`not_found`, `param` names it)", content_type = "application/problem+json"),
        (status = 409, description = "Not enough cash available (`insufficient_cash`), or the organisation does not trade (`not_a_participant`)", content_type = "application/problem+json"),
        (status = 422, description = "A bad amount or bank account (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/market/withdrawals")]
pub async fn request_withdrawal(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    body: web::Json<WithdrawalInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let w = cash::request_withdrawal(db.get_ref(), &who, &body, now).await?;
    Ok(HttpResponse::Created().json(WithdrawalView::from(w)))
}

/// The bank's staff record a withdrawal paid out (the cash leaves the
/// platform) or refused (the cash is available again).
#[utoipa::path(
    tag = "market",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Withdrawal id")),
    request_body = WithdrawalDecisionInput,
    responses(
        (status = 200, description = "Decided", body = WithdrawalView),
        (status = 404, description = "No such withdrawal at the caller's bank (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Decided before (`already_decided`)", content_type = "application/problem+json"),
        (status = 422, description = "Executing without a reference, or refusing without a reason (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/market/withdrawals/{id}/decision")]
pub async fn decide_withdrawal(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<WithdrawalDecisionInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let w = cash::decide_withdrawal(db.get_ref(), &who, &id, &body, now).await?;
    Ok(HttpResponse::Ok().json(WithdrawalView::from(w)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WithdrawalStatusQuery {
    /// Only withdrawals in this state.
    pub status: Option<WithdrawalStatus>,
}

/// A participant's withdrawals (its staff) or a bank's (its staff: the
/// queue to pay), newest first.
#[utoipa::path(
    tag = "market",
    security(("bearer" = [])),
    params(CashScopeQuery, WithdrawalStatusQuery, PageQuery),
    responses(
        (status = 200, description = "A page of withdrawals", body = Page<WithdrawalView>),
        (status = 403, description = "Not the bank's staff (`forbidden`)", content_type = "application/problem+json"),
        (status = 404, description = "Not an organisation the caller acts for (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "The organisation does not trade (`not_a_participant`)", content_type = "application/problem+json"),
        (status = 422, description = "Not exactly one of organization_id and bank_id (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/market/withdrawals")]
pub async fn list_withdrawals(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    query: web::Query<CashScopeQuery>,
    status: web::Query<WithdrawalStatusQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let rows = cash::withdrawals(
        db.get_ref(),
        &who,
        query.scope()?,
        status.status,
        page.starting_after.as_deref(),
        page.limit()?,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::<WithdrawalView>::of(rows)))
}
