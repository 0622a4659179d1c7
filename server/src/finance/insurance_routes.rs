//! `/api/v1/insurance/…`: insurers' policies (offered, accepted or
//! declined by the holder, withdrawn), their claims and the insurer's
//! approval.

use actix_web::{get, post, web, HttpResponse};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;
use utoipa::IntoParams;

use super::claims::{self, ApproveInput};
use super::entity::{claim, policy, PolicyStatus};
use super::insurance_views::{InsuranceClaimView, InsurancePolicyDetail, InsurancePolicyView};
use super::policies::{self, Done, PolicyInput, Side};
use super::rules::FinanceRules;
use crate::auth::extract::Principal;
use crate::clock::Now;
use crate::error::ApiError;
use crate::market::error::MarketError;
use crate::market::participants;
use crate::pagination::{self, Order, Page, PageQuery};

fn answered(done: Done, created: bool) -> HttpResponse {
    let view = InsurancePolicyView::from(done.policy);
    if created && !done.replayed {
        HttpResponse::Created().json(view)
    } else {
        HttpResponse::Ok().json(view)
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyAnswer {
    /// The side the caller acts for (the holder to accept or decline, the
    /// insurer to withdraw).
    pub organization_id: String,
    /// Why, when declining or withdrawing.
    pub reason: Option<String>,
}

/// Offer a policy (staff of an insurer): carbon-sink index insurance on a
/// holder's afforestation project for a policy year (pays
/// `min(maximum, max(0, loss − threshold) × price per tonne)` of the
/// year's reversals), or price insurance on units of an instrument (pays
/// `min(maximum, max(0, strike − average close) × quantity)` at expiry).
/// Idempotent by `client_id`.
#[utoipa::path(
    tag = "finance",
    security(("bearer" = [])),
    request_body = PolicyInput,
    responses(
        (status = 201, description = "Offered", body = InsurancePolicyView),
        (status = 200, description = "Offered before with this `client_id`", body = InsurancePolicyView),
        (status = 404, description = "Not an insurer the caller acts for; no such holder; not the holder's project (`not_found`, `param` names it)", content_type = "application/problem+json"),
        (status = 409, description = "`client_id` reused (`id_reused`); the holder holds no cash (`not_a_participant`)", content_type = "application/problem+json"),
        (status = 422, description = "A field this kind needs is missing or bad: a trigger over the insured stock, a period in the past, a project that is not an approved forest (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/insurance/policies")]
pub async fn offer_policy(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<FinanceRules>,
    who: Principal,
    body: web::Json<PolicyInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    Ok(answered(
        policies::offer(&db, &who, &rules, &body, now).await?,
        true,
    ))
}

/// Accept a policy (staff of the holder): the premium moves from the
/// holder's cash to the insurer's and the maximum payout is held from the
/// insurer's cash while the policy is in force, in one transaction.
#[utoipa::path(
    tag = "finance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Policy id")),
    request_body = PolicyAnswer,
    responses(
        (status = 200, description = "In force (or accepted before)", body = InsurancePolicyView),
        (status = 404, description = "No such policy offered to the caller's organisation (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Declined or withdrawn (`policy_not_open`); the holder's cash does not cover the premium, or the insurer's the maximum (`insufficient_cash`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/insurance/policies/{id}/accept")]
pub async fn accept_policy(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<PolicyAnswer>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let done = policies::accept(&db, &who, &id, &body.organization_id, now).await?;
    Ok(answered(done, false))
}

/// Decline a policy offered (staff of the holder).
#[utoipa::path(
    tag = "finance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Policy id")),
    request_body = PolicyAnswer,
    responses(
        (status = 200, description = "Declined", body = InsurancePolicyView),
        (status = 404, description = "No such policy offered to the caller's organisation (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Accepted or withdrawn already (`policy_not_open`)", content_type = "application/problem+json"),
        (status = 422, description = "A reason too long (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/insurance/policies/{id}/decline")]
pub async fn decline_policy(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<PolicyAnswer>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let done = policies::refuse(
        &db,
        &who,
        &id,
        &body.organization_id,
        body.reason.as_deref(),
        Side::Holder,
        now,
    )
    .await?;
    Ok(answered(done, false))
}

/// Withdraw a policy not yet answered (staff of the insurer).
#[utoipa::path(
    tag = "finance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Policy id")),
    request_body = PolicyAnswer,
    responses(
        (status = 200, description = "Withdrawn", body = InsurancePolicyView),
        (status = 404, description = "No such policy of the caller's insurer (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Answered already (`policy_not_open`)", content_type = "application/problem+json"),
        (status = 422, description = "A reason too long (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/insurance/policies/{id}/withdraw")]
pub async fn withdraw_policy(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<PolicyAnswer>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let done = policies::refuse(
        &db,
        &who,
        &id,
        &body.organization_id,
        body.reason.as_deref(),
        Side::Insurer,
        now,
    )
    .await?;
    Ok(answered(done, false))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PoliciesQuery {
    /// An organisation the caller acts for: its policies as insurer or
    /// holder.
    pub organization_id: String,
    pub status: Option<PolicyStatus>,
}

/// An organisation's policies as insurer or holder, newest first.
#[utoipa::path(
    tag = "finance",
    security(("bearer" = [])),
    params(PoliciesQuery, PageQuery),
    responses(
        (status = 200, description = "A page of policies", body = Page<InsurancePolicyView>),
        (status = 404, description = "Not an organisation the caller acts for (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "The organisation is not approved, or holds no cash on the platform (`not_a_participant`)", content_type = "application/problem+json"),
        (status = 422, description = "A bad page (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/insurance/policies")]
pub async fn list_policies(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    query: web::Query<PoliciesQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let me = participants::acting_for_cash(
        db.get_ref(),
        &who,
        "organization_id",
        &query.organization_id,
    )
    .await?;
    let limit = page.limit()?;
    let org = me.org.id.as_str();
    let mut q = policy::Entity::find().filter(
        sea_orm::Condition::any()
            .add(policy::Column::InsurerOrganizationId.eq(org))
            .add(policy::Column::HolderOrganizationId.eq(org)),
    );
    if let Some(s) = query.status {
        q = q.filter(policy::Column::Status.eq(s));
    }
    let rows = pagination::fetch(
        db.get_ref(),
        q,
        policy::Column::Id,
        Order::Descending,
        page.starting_after.as_deref(),
        limit,
    )
    .await
    .map_err(MarketError::from)?;
    Ok(HttpResponse::Ok().json(Page::<InsurancePolicyView>::of(rows)))
}

/// One policy with its claims, for its insurer and holder.
#[utoipa::path(
    tag = "finance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Policy id")),
    responses(
        (status = 200, description = "The policy", body = InsurancePolicyDetail),
        (status = 404, description = "No such policy of an organisation the caller acts for (`not_found`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/insurance/policies/{id}")]
pub async fn get_policy(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let p = policies::find(db.get_ref(), &id).await?;
    if !(who.acts_for(&p.insurer_organization_id) || who.acts_for(&p.holder_organization_id)) {
        return Err(ApiError::NotFound);
    }
    let claims = claim::Entity::find()
        .filter(claim::Column::PolicyId.eq(p.id.as_str()))
        .order_by_asc(claim::Column::Id)
        .all(db.get_ref())
        .await
        .map_err(MarketError::from)?;
    Ok(HttpResponse::Ok().json(InsurancePolicyDetail {
        policy: p.into(),
        claims: claims.into_iter().map(InsuranceClaimView::from).collect(),
    }))
}

/// Approve a pending claim (staff of the insurer): its payout moves from
/// the cash held for the policy to the holder, once.
#[utoipa::path(
    tag = "finance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Claim id")),
    request_body = ApproveInput,
    responses(
        (status = 200, description = "Paid (or paid before)", body = InsuranceClaimView),
        (status = 404, description = "No such claim on a policy of the caller's insurer (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "The policy has ended (`policy_not_open`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/insurance/claims/{id}/approve")]
pub async fn approve_claim(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<ApproveInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let (c, _) = claims::approve(&db, &who, &id, &body, now).await?;
    Ok(HttpResponse::Ok().json(InsuranceClaimView::from(c)))
}
