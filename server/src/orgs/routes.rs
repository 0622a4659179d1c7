//! `/api/v1/organizations/*`. Thin: parse, call the service, map.

use actix_web::{get, post, web, HttpResponse};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::entity::{membership, organization, Bureau, OrgKind, Status};

use super::service::{self, NewOrganization, OrgError};
use crate::accounts::entity as account;
use crate::auth::extract::Principal;
use crate::auth::roles::{grant, Role};
use crate::clock::{Now, Timestamp};
use crate::error::ApiError;
use crate::notifications::live::Notices;
use crate::pagination::{Page, PageQuery};
use crate::problem::ProblemCode;
use crate::text::{self, Shape};

impl From<OrgError> for ApiError {
    fn from(e: OrgError) -> Self {
        match e {
            OrgError::Uscc(_) => ApiError::Invalid {
                param: "uscc".into(),
                detail: e.to_string(),
            },
            OrgError::Invalid { param, .. } => ApiError::Invalid {
                param: param.into(),
                detail: e.to_string(),
            },
            OrgError::UsccTaken => ApiError::Conflict {
                code: ProblemCode::UsccRegistered,
                detail: e.to_string(),
            },
            OrgError::Forbidden(why) => ApiError::Forbidden(why.into()),
            OrgError::NotFound => ApiError::NotFound,
            OrgError::Conflict(code, detail) => ApiError::Conflict { code, detail },
            OrgError::Database(e) => e.into(),
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganization {
    pub kind: OrgKind,
    /// 1 to 200 characters (surrounding white space is trimmed).
    #[schema(min_length = 1)]
    pub name: String,
    /// Unified social credit code (18 characters, GB 32100 check character).
    #[schema(min_length = 18, max_length = 18)]
    pub uscc: String,
    /// A government department responsible for a class of environmental
    /// rights: `ecology` (discharge rights), `water`, `economic_development`
    /// (energy use), `natural_resources` (land indicators). No other kind
    /// of organisation has one.
    #[serde(default)]
    pub bureau: Option<Bureau>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationView {
    pub id: String,
    pub kind: OrgKind,
    pub name: String,
    pub uscc: String,
    pub status: Status,
    /// The organisation's carbon account.
    pub account_id: Option<String>,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_reason: Option<String>,
    /// A government department's portfolio of rights, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bureau: Option<Bureau>,
}

impl OrganizationView {
    fn new(o: organization::Model, account_id: Option<String>) -> Self {
        OrganizationView {
            id: o.id,
            kind: o.kind,
            name: o.name,
            uscc: o.uscc,
            status: o.status,
            account_id,
            created_at: o.created_at.to_rfc3339(),
            decided_at: o.decided_at.map(|t| t.to_rfc3339()),
            decision_reason: o.decision_reason,
            bureau: o.bureau,
        }
    }
}

async fn account_of(db: &DatabaseConnection, org_id: &str) -> Result<Option<String>, ApiError> {
    Ok(account::Entity::find()
        .filter(account::Column::OrganizationId.eq(org_id))
        .one(db)
        .await?
        .map(|a| a.id))
}

/// Register an organisation. An enterprise applies and stays `pending`
/// until a government user or an administrator approves it; other kinds are
/// set up by an administrator.
#[utoipa::path(
    tag = "organizations",
    security(("bearer" = [])),
    request_body = CreateOrganization,
    responses(
        (status = 201, description = "Registered (enterprises: pending approval)", body = OrganizationView),
        (status = 403, description = "Only administrators set up non-enterprise organisations (`forbidden`)", content_type = "application/problem+json"),
        (status = 409, description = "The credit code is already registered (`uscc_registered`)", content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule, e.g. a wrong check character (`invalid_field`, `param` = `uscc`), or a bureau for an organisation that is not a government department (`param` = `bureau`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/organizations")]
pub async fn create_organization(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    body: web::Json<CreateOrganization>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    body.validate()?;
    let body = body.into_inner();
    let new = NewOrganization {
        kind: body.kind,
        name: text::field("name", &body.name, text::NAME_MAX, Shape::Line)?,
        uscc: body.uscc,
        bureau: body.bureau,
    };
    let (org, account_id) = service::create(db.get_ref(), &who, new, now).await?;
    Ok(HttpResponse::Created().json(OrganizationView::new(org, Some(account_id))))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganizationStatusQuery {
    /// `approved` (default); `pending` and `rejected` for government users
    /// and administrators.
    pub status: Option<Status>,
}

/// Organisations by status, in pages.
#[utoipa::path(
    tag = "organizations",
    security(("bearer" = [])),
    params(OrganizationStatusQuery, PageQuery),
    responses(
        (status = 200, description = "A page of organisations", body = Page<OrganizationView>),
        (status = 403, description = "Listing applications needs the government or admin role (`forbidden`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/organizations")]
pub async fn list_organizations(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    query: web::Query<OrganizationStatusQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (rows, has_more) = service::list(
        db.get_ref(),
        &who,
        query.status.unwrap_or(Status::Approved),
        page.starting_after.as_deref(),
        page.limit()?,
    )
    .await?;
    let mut data = Vec::with_capacity(rows.len());
    for o in rows {
        let account_id = account_of(&db, &o.id).await?;
        data.push(OrganizationView::new(o, account_id));
    }
    Ok(HttpResponse::Ok().json(Page { data, has_more }))
}

/// One organisation.
#[utoipa::path(
    tag = "organizations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The organisation", body = OrganizationView),
        (status = 404, description = "No such organisation, or not visible to you (`not_found`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/organizations/{id}")]
pub async fn get_organization(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let org = service::get(db.get_ref(), &who, &id).await?;
    let account_id = account_of(&db, &org.id).await?;
    Ok(HttpResponse::Ok().json(OrganizationView::new(org, account_id)))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// Why, up to 500 characters; required to reject.
    pub reason: Option<String>,
}

async fn decide(
    db: &DatabaseConnection,
    notices: &Notices,
    who: &Principal,
    id: &str,
    approve: bool,
    body: Decision,
    now: Timestamp,
) -> Result<HttpResponse, ApiError> {
    body.validate()?;
    let reason = text::optional_field(
        "reason",
        body.reason.as_deref(),
        text::REASON_MAX,
        Shape::Paragraph,
    )?;
    if !approve && reason.is_none() {
        return Err(ApiError::Invalid {
            param: "reason".into(),
            detail: "reason: say why the application is rejected".into(),
        });
    }
    let org = service::decide(db, who, id, approve, reason, now).await?;
    if let Some(applicant) = &org.applied_by {
        notices.announce(applicant).await;
    }
    let account_id = account_of(db, &org.id).await?;
    Ok(HttpResponse::Ok().json(OrganizationView::new(org, account_id)))
}

/// Approve a pending application (government users, administrators). The
/// applicant becomes the organisation's first operator.
#[utoipa::path(
    tag = "organizations",
    security(("bearer" = [])),
    request_body = Decision,
    responses(
        (status = 200, description = "Approved", body = OrganizationView),
        (status = 403, description = "Needs the government or admin role (`forbidden`)", content_type = "application/problem+json"),
        (status = 409, description = "Already decided (`already_decided`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/organizations/{id}/approve")]
pub async fn approve_organization(
    db: web::Data<DatabaseConnection>,
    notices: web::Data<Notices>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<Decision>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    decide(&db, &notices, &who, &id, true, body.into_inner(), now).await
}

/// Reject a pending application, with a reason.
#[utoipa::path(
    tag = "organizations",
    security(("bearer" = [])),
    request_body = Decision,
    responses(
        (status = 200, description = "Rejected", body = OrganizationView),
        (status = 403, description = "Needs the government or admin role (`forbidden`)", content_type = "application/problem+json"),
        (status = 409, description = "Already decided (`already_decided`)", content_type = "application/problem+json"),
        (status = 422, description = "No reason given, or one too long (`invalid_field`, `param` = `reason`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/organizations/{id}/reject")]
pub async fn reject_organization(
    db: web::Data<DatabaseConnection>,
    notices: web::Data<Notices>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<Decision>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    decide(&db, &notices, &who, &id, false, body.into_inner(), now).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipView {
    pub id: String,
    pub organization_id: String,
    pub user_id: String,
    pub status: Status,
    pub requested_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
}

impl From<membership::Model> for MembershipView {
    fn from(m: membership::Model) -> Self {
        MembershipView {
            id: m.id,
            organization_id: m.organization_id,
            user_id: m.user_id,
            status: m.status,
            requested_at: m.requested_at.to_rfc3339(),
            decided_at: m.decided_at.map(|t| t.to_rfc3339()),
        }
    }
}

/// Ask to join a department (civil servants) or an enterprise; the
/// organisation's staff approve.
#[utoipa::path(
    tag = "organizations",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Asked; pending approval", body = MembershipView),
        (status = 409, description = "Already a member or asked (`already_requested`), or the organisation takes no members (`not_joinable`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/organizations/{id}/memberships")]
pub async fn request_membership(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let m = service::request_membership(db.get_ref(), &who, &id, now).await?;
    Ok(HttpResponse::Created().json(MembershipView::from(m)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MembershipStatusQuery {
    /// `pending` (default), `approved` or `rejected`.
    pub status: Option<Status>,
}

/// The organisation's membership requests (its staff, administrators).
#[utoipa::path(
    tag = "organizations",
    security(("bearer" = [])),
    params(MembershipStatusQuery, PageQuery),
    responses(
        (status = 200, description = "A page of memberships", body = Page<MembershipView>),
        (status = 403, description = "Not the organisation's staff (`forbidden`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/organizations/{id}/memberships")]
pub async fn list_memberships(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    query: web::Query<MembershipStatusQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (rows, has_more) = service::memberships(
        db.get_ref(),
        &who,
        &id,
        query.status.unwrap_or(Status::Pending),
        page.starting_after.as_deref(),
        page.limit()?,
    )
    .await?;
    let data = rows.into_iter().map(MembershipView::from).collect();
    Ok(HttpResponse::Ok().json(Page { data, has_more }))
}

/// Approve or reject a membership request: `decision` is `approve` or
/// `reject`.
#[utoipa::path(
    tag = "organizations",
    security(("bearer" = [])),
    params(("decision" = String, Path, description = "`approve` or `reject`")),
    responses(
        (status = 200, description = "Decided", body = MembershipView),
        (status = 403, description = "Not the organisation's staff (`forbidden`)", content_type = "application/problem+json"),
        (status = 409, description = "Already decided (`already_decided`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/organizations/{id}/memberships/{membership_id}/{decision}")]
pub async fn decide_membership(
    db: web::Data<DatabaseConnection>,
    notices: web::Data<Notices>,
    who: Principal,
    path: web::Path<(String, String, String)>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let (org_id, membership_id, decision) = path.into_inner();
    let approve = match decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(ApiError::NotFound),
    };
    let m = service::decide_membership(db.get_ref(), &who, &org_id, &membership_id, approve, now)
        .await?;
    notices.announce(&m.user_id).await;
    Ok(HttpResponse::Ok().json(MembershipView::from(m)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    /// Who gets the role: exactly one of `user_id`, `email` or `mobile`
    /// (an operator knows a colleague's email, not their user id).
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub mobile: Option<String>,
    /// The organisation kind's staff role (`government` in a department,
    /// `enterprise_operator` in an enterprise, `verifier` in the service
    /// centre, `reserve`, `bank`).
    pub role: Role,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GrantView {
    pub role: Role,
    /// Absent for platform-wide `admin`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
}

impl From<grant::Model> for GrantView {
    fn from(g: grant::Model) -> Self {
        GrantView {
            role: g.role,
            organization_id: g.organization_id,
        }
    }
}

/// The user a grant names, by id, email or mobile number.
async fn grantee(db: &DatabaseConnection, body: &GrantRequest) -> Result<String, ApiError> {
    use crate::auth::service::{find_by_login, normalize_mobile, Login};
    let invalid = |param: &str, detail: &str| ApiError::Invalid {
        param: param.into(),
        detail: format!("{param}: {detail}"),
    };
    let (param, login) = match (&body.user_id, &body.email, &body.mobile) {
        (Some(id), None, None) => return Ok(id.clone()),
        (None, Some(email), None) => ("email", Login::email(email)),
        (None, None, Some(mobile)) => (
            "mobile",
            Login::Mobile(
                normalize_mobile(mobile)
                    .ok_or_else(|| invalid("mobile", "is not a mainland mobile number"))?,
            ),
        ),
        _ => {
            return Err(invalid(
                "user_id",
                "name the user by exactly one of user_id, email or mobile",
            ))
        }
    };
    Ok(find_by_login(db, &login)
        .await?
        .ok_or_else(|| invalid(param, "no user is registered with it"))?
        .id)
}

/// Grant the organisation's staff role to a user (its staff,
/// administrators), named by user id, email or mobile number.
#[utoipa::path(
    tag = "organizations",
    security(("bearer" = [])),
    request_body = GrantRequest,
    responses(
        (status = 201, description = "Granted", body = GrantView),
        (status = 403, description = "Not the organisation's staff (`forbidden`)", content_type = "application/problem+json"),
        (status = 409, description = "Already granted (`already_granted`) or organisation not approved (`not_approved`)", content_type = "application/problem+json"),
        (status = 422, description = "Wrong role for this kind of organisation, or no such user (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/organizations/{id}/roles")]
pub async fn grant_role(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<GrantRequest>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let user_id = grantee(db.get_ref(), &body).await?;
    let g = service::grant_role(db.get_ref(), &who, &id, &user_id, body.role, now).await?;
    Ok(HttpResponse::Created().json(GrantView::from(g)))
}
