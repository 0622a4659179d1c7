//! `/api/v1/projects`, `/reports`, `/transfers`, `/retirements`: thin —
//! parse, call the registry's services, map.

use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::certificate;
use super::entity::retirement;
use super::error::RegistryError;
use super::holdings::{self, RetireInput, ReversalInput, TransferInput, TransferView};
use super::issuance;
use super::projects::{self, ProjectFilter, ProjectInput};
use super::reports::{self, ReportInput, Verdict};
use super::rules::RegistryRules;
use super::views::{
    BatchView, ObjectionView, ProjectView, ReportView, RetirementView, ReversalView,
};
use crate::auth::extract::Principal;
use crate::clock::Now;
use crate::error::ApiError;
use crate::methodologies::Methodologies;
use crate::pagination::{Page, PageQuery};
use crate::printable::PrintFormat;

async fn project_view(
    db: &DatabaseConnection,
    p: super::entity::project::Model,
) -> Result<ProjectView, ApiError> {
    let n = projects::objection_count(db, &p.id).await?;
    Ok(ProjectView::new(p, n))
}

/// Register a project as a draft (an approved enterprise's operators).
#[utoipa::path(
    tag = "registry",
    security(("bearer" = [])),
    request_body = ProjectInput,
    responses(
        (status = 201, description = "The draft", body = ProjectView),
        (status = 403, description = "Not an operator of the enterprise (`forbidden`)", content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule (`invalid_field`), or an unknown forest methodology (`unknown_methodology`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/projects")]
pub async fn create_project(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    body: web::Json<ProjectInput>,
    Now(now): Now,
    methodologies: web::Data<Methodologies>,
) -> Result<HttpResponse, ApiError> {
    let p = projects::create(&db, &methodologies.current(), &who, body.into_inner(), now).await?;
    Ok(HttpResponse::Created().json(project_view(&db, p).await?))
}

/// Projects the caller may see, oldest first: submitted ones, and drafts of
/// the caller's enterprises (the service centre and administrators see
/// all).
#[utoipa::path(
    tag = "registry",
    security(("bearer" = [])),
    params(ProjectFilter, PageQuery),
    responses((status = 200, description = "A page of projects", body = Page<ProjectView>))
)]
#[get("/api/v1/projects")]
pub async fn list_projects(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    filter: web::Query<ProjectFilter>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = page.limit()?;
    let (rows, has_more) = projects::list(
        db.get_ref(),
        Some(&who),
        &filter,
        page.starting_after.clone(),
        limit,
    )
    .await?;
    let mut data = Vec::with_capacity(rows.len());
    for p in rows {
        data.push(project_view(&db, p).await?);
    }
    Ok(HttpResponse::Ok().json(Page { data, has_more }))
}

/// One project.
#[utoipa::path(
    tag = "registry",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The project", body = ProjectView),
        (status = 404, description = "No such project, or a draft of another enterprise (`not_found`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/projects/{id}")]
pub async fn get_project(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let p = projects::visible(db.get_ref(), &who, &id).await?;
    Ok(HttpResponse::Ok().json(project_view(&db, p).await?))
}

/// Replace a draft's content.
#[utoipa::path(
    tag = "registry",
    security(("bearer" = [])),
    request_body = ProjectInput,
    responses(
        (status = 200, description = "The edited draft", body = ProjectView),
        (status = 404, description = "No such project visible to the caller (`not_found`)", content_type = "application/problem+json"),
        (status = 403, description = "Not one of the enterprise's operators (`forbidden`)", content_type = "application/problem+json"),
        (status = 409, description = "Not a draft any more (`not_a_draft`)", content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule (`invalid_field`, `param` names it)", content_type = "application/problem+json")
    )
)]
#[put("/api/v1/projects/{id}")]
pub async fn update_project(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<ProjectInput>,
    Now(now): Now,
    methodologies: web::Data<Methodologies>,
) -> Result<HttpResponse, ApiError> {
    let p = projects::update(
        &db,
        &methodologies.current(),
        &who,
        &id,
        body.into_inner(),
        now,
    )
    .await?;
    Ok(HttpResponse::Ok().json(project_view(&db, p).await?))
}

/// Submit a draft: it goes on public notice for the configured number of
/// working days, and its identities are claimed.
#[utoipa::path(
    tag = "registry",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "On notice", body = ProjectView),
        (status = 403, description = "Not one of the enterprise's operators (`forbidden`)", content_type = "application/problem+json"),
        (status = 409, description = "Already submitted (`not_a_draft`), or an identity belongs to another live project (`double_counting`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/projects/{id}/submit")]
pub async fn submit_project(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<RegistryRules>,
    who: Principal,
    id: web::Path<String>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let p = projects::submit(&db, &who, &rules, &id, now).await?;
    Ok(HttpResponse::Ok().json(project_view(&db, p).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectionInput {
    /// What is wrong with the project (1 to 5000 characters).
    #[schema(min_length = 1, max_length = 5000)]
    pub text: String,
}

/// Object to a project on public notice (anyone signed in).
#[utoipa::path(
    tag = "registry",
    security(("bearer" = [])),
    request_body = ObjectionInput,
    responses(
        (status = 201, description = "Recorded", body = ObjectionView),
        (status = 409, description = "The project is not on notice (`notice_closed`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/projects/{id}/objections")]
pub async fn file_objection(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<ObjectionInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let o = projects::object(&db, &who, &id, &body.text, now).await?;
    Ok(HttpResponse::Created().json(ObjectionView::from(o)))
}

/// Objections to a project (the service centre and the enterprise).
#[utoipa::path(
    tag = "registry",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page, oldest first", body = Page<ObjectionView>),
        (status = 403, description = "Not the service centre or the enterprise (`forbidden`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/projects/{id}/objections")]
pub async fn list_objections(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let rows = projects::objections(
        db.get_ref(),
        &who,
        &id,
        page.starting_after.as_deref(),
        page.limit()?,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::<ObjectionView>::of(rows)))
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProjectDecision {
    Approve,
    Reject,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    pub decision: ProjectDecision,
    /// Required to reject.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Approve or reject a project once its notice has closed (the service
/// centre).
#[utoipa::path(
    tag = "registry",
    security(("bearer" = [])),
    request_body = DecisionInput,
    responses(
        (status = 200, description = "Decided", body = ProjectView),
        (status = 403, description = "Not the service centre (`forbidden`)", content_type = "application/problem+json"),
        (status = 409, description = "Notice still open (`notice_open`), or already decided (`already_decided`)", content_type = "application/problem+json"),
        (status = 422, description = "A rejection without reasons (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/projects/{id}/decision")]
pub async fn decide_project(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<DecisionInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let approve = matches!(body.decision, ProjectDecision::Approve);
    let p = projects::decide(&db, &who, &id, approve, body.reason.as_deref(), now).await?;
    Ok(HttpResponse::Ok().json(project_view(&db, p).await?))
}

/// Submit a monitoring report: the server computes the period's reduction
/// from the activity data with carbon-calc.
#[utoipa::path(
    tag = "registry",
    security(("bearer" = [])),
    request_body = ReportInput,
    responses(
        (status = 201, description = "Submitted for verification", body = ReportView),
        (status = 403, description = "Not one of the enterprise's operators (`forbidden`)", content_type = "application/problem+json"),
        (status = 409, description = "Project not approved (`project_not_approved`), the period overlaps another report (`period_overlaps`), or claimed elsewhere (`double_counting`)", content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule, or carbon-calc refused the activity data (its code, e.g. `out_of_range`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/projects/{id}/reports")]
pub async fn submit_report(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<ReportInput>,
    Now(now): Now,
    methodologies: web::Data<Methodologies>,
) -> Result<HttpResponse, ApiError> {
    let r = reports::submit(
        &db,
        &methodologies.current(),
        &who,
        &id,
        body.into_inner(),
        now,
    )
    .await?;
    Ok(HttpResponse::Created().json(ReportView::from(r)))
}

/// A project's monitoring reports, by period.
#[utoipa::path(
    tag = "registry",
    security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, description = "A page of reports, in the order submitted", body = Page<ReportView>))
)]
#[get("/api/v1/projects/{id}/reports")]
pub async fn list_reports(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let rows = reports::of_project(
        db.get_ref(),
        &who,
        &id,
        page.starting_after.as_deref(),
        page.limit()?,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::<ReportView>::of(rows)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQueueQuery {
    /// `submitted` (to verify, the default), `verified` (to issue),
    /// `rejected` or `issued`.
    #[param(value_type = Option<String>, pattern = "^(submitted|verified|rejected|issued)$")]
    pub status: Option<String>,
}

/// Every project's monitoring reports in one status, oldest first: the
/// service centre's queue of reports to verify (`submitted`) and to issue
/// (`verified`). The service centre and administrators.
#[utoipa::path(
    tag = "registry",
    security(("bearer" = [])),
    params(ReportQueueQuery, PageQuery),
    responses(
        (status = 200, description = "A page of reports, oldest first", body = Page<ReportView>),
        (status = 403, description = "Not the service centre or an administrator (`forbidden`)", content_type = "application/problem+json"),
        (status = 422, description = "An unknown status, a bad page (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/reports")]
pub async fn report_queue(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    query: web::Query<ReportQueueQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let rows = reports::queue(
        db.get_ref(),
        &who,
        query
            .status
            .as_deref()
            .unwrap_or(reports::status::SUBMITTED),
        page.starting_after.as_deref(),
        page.limit()?,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::<ReportView>::of(rows)))
}

/// One monitoring report (the enterprise, the service centre).
#[utoipa::path(
    tag = "registry",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The report", body = ReportView),
        (status = 404, description = "No such report visible to the caller (`not_found`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/reports/{id}")]
pub async fn get_report(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (r, _) = reports::visible(db.get_ref(), &who, &id).await?;
    Ok(HttpResponse::Ok().json(ReportView::from(r)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerificationInput {
    pub verdict: Verdict,
    /// The accepted grams, for `accept_reduced` (an integer string).
    #[serde(default, deserialize_with = "crate::amount::deserialize_option")]
    #[schema(value_type = Option<String>)]
    pub quantity_g: Option<i64>,
    /// Required for `accept_reduced` and `reject`.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Verify a report: accept, accept a reduced quantity, or reject (the
/// service centre).
#[utoipa::path(
    tag = "registry",
    security(("bearer" = [])),
    request_body = VerificationInput,
    responses(
        (status = 200, description = "Decided", body = ReportView),
        (status = 403, description = "Only the service centre verifies reports (`forbidden`)", content_type = "application/problem+json"),
        (status = 409, description = "Already decided (`already_decided`)", content_type = "application/problem+json"),
        (status = 422, description = "Missing reasons or a bad quantity (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/reports/{id}/verification")]
pub async fn verify_report(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<VerificationInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let r = reports::verify(
        &db,
        &who,
        &id,
        body.verdict,
        body.quantity_g,
        body.reason,
        now,
    )
    .await?;
    Ok(HttpResponse::Ok().json(ReportView::from(r)))
}

/// Issue a verified report's credits as a batch with serial numbers
/// (forest sinks: the buffer share to the buffer pool).
#[utoipa::path(
    tag = "registry",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The batch", body = BatchView),
        (status = 403, description = "Only the service centre issues credits (`forbidden`)", content_type = "application/problem+json"),
        (status = 409, description = "Not verified (`not_verified`) or already issued (`already_issued`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/reports/{id}/issuance")]
pub async fn issue_report(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<RegistryRules>,
    who: Principal,
    id: web::Path<String>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let b = issuance::issue(&db, &who, &rules, &id, now).await?;
    Ok(HttpResponse::Created().json(BatchView::from(b)))
}

/// Record a forest reversal (fire, felling): buffer units equal to the loss
/// are cancelled (the service centre).
#[utoipa::path(
    tag = "registry",
    security(("bearer" = [])),
    request_body = ReversalInput,
    responses(
        (status = 201, description = "Recorded", body = ReversalView),
        (status = 403, description = "Only the service centre records reversals (`forbidden`)", content_type = "application/problem+json"),
        (status = 409, description = "Not an approved afforestation project (`not_a_forest_sink`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/projects/{id}/reversals")]
pub async fn record_reversal(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<ReversalInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let r = holdings::reverse(&db, &who, &id, &body, now).await?;
    Ok(HttpResponse::Created().json(ReversalView::from(r)))
}

/// Move credits from an account the caller's organisation holds to another
/// enterprise or government account. Idempotent by `transfer_id`.
#[utoipa::path(
    tag = "registry",
    security(("bearer" = [])),
    request_body = TransferInput,
    responses(
        (status = 200, description = "Moved (or, with `replayed`, moved before)", body = TransferView),
        (status = 404, description = "No such sending account the caller may move from (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Not enough available (`insufficient_credits`; `units_pledged` or `units_unconverted` when a pledge or an unconverted allocation holds the rest), or `transfer_id` used for another transfer (`id_reused`)", content_type = "application/problem+json"),
        (status = 422, description = "Over the transfer limit, or a bad receiver or batch (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/transfers")]
pub async fn transfer(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<RegistryRules>,
    who: Principal,
    body: web::Json<TransferInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let t = holdings::transfer(&db, &who, &rules, &body, now).await?;
    Ok(HttpResponse::Ok().json(t))
}

/// Retire credits for a beneficiary and purpose (the holder's staff, or the
/// service centre on the holder's behalf). Final. Idempotent by
/// `retirement_id`.
#[utoipa::path(
    tag = "registry",
    security(("bearer" = [])),
    request_body = RetireInput,
    responses(
        (status = 201, description = "Retired", body = RetirementView),
        (status = 200, description = "Retired before under this `retirement_id`", body = RetirementView),
        (status = 404, description = "No such holder account the caller may retire from (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Not enough available (`insufficient_credits`) or `retirement_id` reused (`id_reused`)", content_type = "application/problem+json"),
        (status = 422, description = "A bad quantity, beneficiary or purpose (`invalid_field`, `param` names it)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/retirements")]
pub async fn retire(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    body: web::Json<RetireInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let (r, replayed) = holdings::retire(&db, &who, &body, now).await?;
    let mut res = if replayed {
        HttpResponse::Ok()
    } else {
        HttpResponse::Created()
    };
    Ok(res.json(RetirementView::from(r)))
}

/// A retirement's certificate (public: anyone holding the link may check
/// it). Carries the audit-log proof once sealed.
#[utoipa::path(
    tag = "registry",
    params(PrintFormat),
    responses(
        (status = 200, description = "The certificate (JSON, or the printable HTML page)", content((certificate::Certificate = "application/json"), (String = "text/html"))),
        (status = 404, description = "No such retirement (`not_found`)", content_type = "application/problem+json"),
        (status = 422, description = "An unknown `format` (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/retirements/{id}/certificate")]
pub async fn get_certificate(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<RegistryRules>,
    req: HttpRequest,
    id: web::Path<String>,
    q: web::Query<PrintFormat>,
) -> Result<HttpResponse, ApiError> {
    use sea_orm::EntityTrait;
    let r = retirement::Entity::find_by_id(id.into_inner())
        .one(db.get_ref())
        .await?
        .ok_or(ApiError::NotFound)?;
    let c = certificate::build(db.get_ref(), &rules.public_base_url, &r).await?;
    let wants_html = crate::printable::wants_html(q.format.as_deref(), &req)?;
    if wants_html {
        Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(certificate::html(&c)))
    } else {
        Ok(HttpResponse::Ok().json(c))
    }
}

/// One credit batch (public data).
#[utoipa::path(
    tag = "registry",
    responses(
        (status = 200, description = "The batch", body = BatchView),
        (status = 404, description = "No such batch (`not_found`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/batches/{id}")]
pub async fn get_batch(
    db: web::Data<DatabaseConnection>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let b = issuance::find(db.get_ref(), &id)
        .await
        .map_err(|e| match e {
            RegistryError::NotFound => ApiError::NotFound,
            other => other.into(),
        })?;
    Ok(HttpResponse::Ok().json(BatchView::from(b)))
}

/// Aggregate a period's credited personal reductions of one preset into a
/// batch held by the service centre's aggregator account (the service
/// centre). Each reduction joins at most one batch.
#[utoipa::path(
    tag = "registry",
    security(("bearer" = [])),
    request_body = super::aggregation::AggregationInput,
    responses(
        (status = 201, description = "The batch, with the records and persons it covers", body = BatchView),
        (status = 403, description = "Not the service centre (`forbidden`)", content_type = "application/problem+json"),
        (status = 409, description = "Nothing left to aggregate in the period (`nothing_to_aggregate`)", content_type = "application/problem+json"),
        (status = 422, description = "A period that has not ended or spans two years (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/aggregations")]
pub async fn aggregate(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    body: web::Json<super::aggregation::AggregationInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let b = super::aggregation::aggregate(&db, &who, &body, now).await?;
    Ok(HttpResponse::Created().json(BatchView::from(b)))
}

/// Record a carbon-neutral claim: the footprint of an organisation's period
/// or an event (stated, or computed by carbon-calc) to be covered by
/// retirements (the organisation's staff).
#[utoipa::path(
    tag = "registry",
    security(("bearer" = [])),
    request_body = super::claims::ClaimInput,
    responses(
        (status = 201, description = "The claim, nothing covered yet", body = super::claims::ClaimView),
        (status = 403, description = "Not the organisation's staff (`forbidden`)", content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule, or carbon-calc refused the activity", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/claims")]
pub async fn create_claim(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    body: web::Json<super::claims::ClaimInput>,
    Now(now): Now,
    methodologies: web::Data<Methodologies>,
) -> Result<HttpResponse, ApiError> {
    let c = super::claims::create(&db, &methodologies.current(), &who, &body, now).await?;
    Ok(HttpResponse::Created().json(super::claims::view(db.get_ref(), c).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachInput {
    pub retirement_id: String,
}

/// Attach a retirement from the organisation's account to its claim.
#[utoipa::path(
    tag = "registry",
    security(("bearer" = [])),
    request_body = AttachInput,
    responses(
        (status = 200, description = "The claim with what now covers it", body = super::claims::ClaimView),
        (status = 403, description = "Not the organisation's staff (`forbidden`)", content_type = "application/problem+json"),
        (status = 409, description = "The retirement covers another claim (`retirement_already_claimed`)", content_type = "application/problem+json"),
        (status = 422, description = "Not a retirement of the organisation (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/claims/{id}/retirements")]
pub async fn attach_retirement(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<AttachInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let c = super::claims::attach(&db, &who, &id, &body.retirement_id, now).await?;
    Ok(HttpResponse::Ok().json(super::claims::view(db.get_ref(), c).await?))
}

/// A carbon-neutral claim with covered and uncovered grams (public: claims
/// are statements to the public).
#[utoipa::path(
    tag = "public",
    responses(
        (status = 200, description = "The claim", body = super::claims::ClaimView),
        (status = 404, description = "No such claim (`not_found`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/public/claims/{id}")]
pub async fn get_claim(
    db: web::Data<DatabaseConnection>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let c = super::claims::find(db.get_ref(), &id).await?;
    Ok(HttpResponse::Ok().json(super::claims::view(db.get_ref(), c).await?))
}
