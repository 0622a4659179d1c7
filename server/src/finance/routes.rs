//! `/api/v1/pledges…` (applications, the bank's and guarantor's answers,
//! repayments, top-ups, releases, enforcement; each party's view) and
//! `/api/v1/public/pledges` (the encumbrance register).

use actix_web::{get, post, web, HttpResponse};
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter};
use serde::Deserialize;
use utoipa::IntoParams;

use super::encumbrance::{self, Encumbrance};
use super::enforcement::{self, EnforceInput};
use super::entity::{pledge, PledgeStatus};
use super::loan::{self, RepaymentInput, UnitsInput};
use super::pledges::{self, ConfirmInput, Done, Party, PartyInput, PledgeInput};
use super::rules::FinanceRules;
use super::views::{self, PledgeDetail, PledgeView};
use crate::auth::extract::Principal;
use crate::clock::Now;
use crate::error::ApiError;
use crate::market::error::MarketError;
use crate::market::{listing, participants};
use crate::pagination::{self, Order, Page, PageQuery};

fn answered(done: Done, created: bool) -> HttpResponse {
    let view = PledgeView::from(done.pledge);
    if created && !done.replayed {
        HttpResponse::Created().json(view)
    } else {
        HttpResponse::Ok().json(view)
    }
}

/// Apply for a pledge (staff of the pledgor): units of an instrument the
/// pledgor holds free, or a registered project's coming issuances
/// (`project_id`, `share`), or — with `ranks_behind` — the units of an
/// earlier pledge, ranked behind it once its pledgee consents. A
/// guarantor may be named for a share of the loan. Nothing is held until
/// the bank confirms. Idempotent by `client_id`.
#[utoipa::path(
    tag = "finance",
    security(("bearer" = [])),
    request_body = PledgeInput,
    responses(
        (status = 201, description = "Applied", body = PledgeView),
        (status = 200, description = "Applied before with this `client_id`", body = PledgeView),
        (status = 404, description = "Not an organisation the caller acts for; not an approved bank or guarantor; not a live pledge of the pledgor's to rank behind; not the pledgor's project (`not_found`, `param` names it)", content_type = "application/problem+json"),
        (status = 409, description = "The units are pledged already (`units_pledged`, naming the pledge: rank behind it with its pledgee's consent) or not held (`insufficient_units`); `client_id` reused (`id_reused`); the pledgor does not trade (`not_a_participant`)", content_type = "application/problem+json"),
        (status = 422, description = "Not an instrument code, a bad quantity, share or client id, a quantity with `ranks_behind`, a pledge behind a pledge of future issuance, a project of another class (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/pledges")]
pub async fn apply_pledge(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<FinanceRules>,
    who: Principal,
    body: web::Json<PledgeInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    Ok(answered(
        pledges::apply(&db, &who, &rules, &body, now).await?,
        true,
    ))
}

/// Consent to a pledge ranking behind yours (staff of the first-ranked
/// pledgee): recorded once; the later bank may then confirm it.
#[utoipa::path(
    tag = "finance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The later-ranked pledge")),
    request_body = PartyInput,
    responses(
        (status = 200, description = "Consent recorded (or recorded before)", body = PledgeView),
        (status = 404, description = "No such pledge ranking behind one of the caller's bank (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Confirmed, declined or withdrawn already (`pledge_not_open`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/pledges/{id}/consent")]
pub async fn consent_pledge(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<PartyInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    Ok(answered(
        pledges::consent(&db, &who, &id, &body, now).await?,
        false,
    ))
}

/// Confirm a pledge (staff of the pledgee bank) with the loan: at most
/// `ltv` (0.7 by default, at most `max_ltv`) of the collateral's value at
/// the lower of the pledgor's guidance price and the last close, less
/// what earlier ranks owe. The units are held under the pledge from now.
#[utoipa::path(
    tag = "finance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Pledge id")),
    request_body = ConfirmInput,
    responses(
        (status = 200, description = "Confirmed (or confirmed before)", body = PledgeView),
        (status = 404, description = "No such pledge of the caller's bank (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Declined or withdrawn (`pledge_not_open`); the loan is over the ratio (`loan_over_ltv`); behind a pledge whose pledgee has not consented (`lien_consent_required`); the units are no longer free (`units_pledged`, `insufficient_units`); no price to value them by (`no_guidance_price`)", content_type = "application/problem+json"),
        (status = 422, description = "A ratio over `max_ltv`, a bad loan amount, a maturity not after today or beyond `max_term_days` (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/pledges/{id}/confirm")]
pub async fn confirm_pledge(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<FinanceRules>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<ConfirmInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    Ok(answered(
        pledges::confirm(&db, &who, &rules, &id, &body, now).await?,
        false,
    ))
}

/// Decline an application (staff of the pledgee bank), with a reason.
#[utoipa::path(
    tag = "finance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Pledge id")),
    request_body = PartyInput,
    responses(
        (status = 200, description = "Declined", body = PledgeView),
        (status = 404, description = "No such pledge of the caller's bank (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Confirmed or withdrawn already (`pledge_not_open`)", content_type = "application/problem+json"),
        (status = 422, description = "No reason, or one too long (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/pledges/{id}/decline")]
pub async fn decline_pledge(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<PartyInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let done = pledges::refuse(&db, &who, &id, &body, Party::Pledgee, now).await?;
    Ok(answered(done, false))
}

/// Withdraw an application before the bank confirms (staff of the
/// pledgor).
#[utoipa::path(
    tag = "finance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Pledge id")),
    request_body = PartyInput,
    responses(
        (status = 200, description = "Withdrawn", body = PledgeView),
        (status = 404, description = "No such pledge of the caller's organisation (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Confirmed or declined already (`pledge_not_open`)", content_type = "application/problem+json"),
        (status = 422, description = "A reason too long (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/pledges/{id}/withdraw")]
pub async fn withdraw_pledge(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<PartyInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let done = pledges::refuse(&db, &who, &id, &body, Party::Pledgor, now).await?;
    Ok(answered(done, false))
}

/// Accept the guarantee of a confirmed pledge (staff of the guarantor):
/// its share of the outstanding loan is held from the guarantor's cash
/// until the pledge ends, and pays that share of any shortfall
/// enforcement leaves.
#[utoipa::path(
    tag = "finance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Pledge id")),
    request_body = PartyInput,
    responses(
        (status = 200, description = "Accepted", body = PledgeView),
        (status = 404, description = "No such pledge guaranteed by the caller's organisation (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Not confirmed yet, answered already or ended (`pledge_not_open`); not enough cash (`insufficient_cash`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/pledges/{id}/guarantee/accept")]
pub async fn accept_guarantee(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<PartyInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let done = loan::answer_guarantee(&db, &who, &id, &body, true, now).await?;
    Ok(answered(done, false))
}

/// Decline the guarantee (staff of the guarantor).
#[utoipa::path(
    tag = "finance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Pledge id")),
    request_body = PartyInput,
    responses(
        (status = 200, description = "Declined", body = PledgeView),
        (status = 404, description = "No such pledge guaranteed by the caller's organisation (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Answered already or ended (`pledge_not_open`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/pledges/{id}/guarantee/decline")]
pub async fn decline_guarantee(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<PartyInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let done = loan::answer_guarantee(&db, &who, &id, &body, false, now).await?;
    Ok(answered(done, false))
}

/// Record a repayment (staff of the pledgee bank), once per bank
/// reference. In full, the pledge is released: its units are free again,
/// or pass to the pledge ranked behind it. A margin call the collateral
/// now covers is cured.
#[utoipa::path(
    tag = "finance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Pledge id")),
    request_body = RepaymentInput,
    responses(
        (status = 200, description = "Recorded (or recorded before with this reference)", body = PledgeView),
        (status = 404, description = "No such pledge of the caller's bank (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Not an active loan (`pledge_not_open`); the reference was used with another amount (`id_reused`)", content_type = "application/problem+json"),
        (status = 422, description = "More than is outstanding, or a bad reference (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/pledges/{id}/repayments")]
pub async fn repay_pledge(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<FinanceRules>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<RepaymentInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    Ok(answered(
        loan::repay(&db, &who, &rules, &id, &body, now).await?,
        false,
    ))
}

/// Add units to the collateral (staff of the pledgor), once per
/// reference: a margin call the collateral now covers is cured.
#[utoipa::path(
    tag = "finance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Pledge id")),
    request_body = UnitsInput,
    responses(
        (status = 200, description = "Added (or added before with this reference)", body = PledgeView),
        (status = 404, description = "No such pledge of the caller's organisation (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Not an active pledge (`pledge_not_open`); not enough free units (`insufficient_units`, `units_pledged`); the reference was used with another quantity (`id_reused`)", content_type = "application/problem+json"),
        (status = 422, description = "A bad quantity or reference (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/pledges/{id}/top-ups")]
pub async fn top_up_pledge(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<FinanceRules>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<UnitsInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    Ok(answered(
        loan::top_up(&db, &who, &rules, &id, &body, now).await?,
        false,
    ))
}

/// Take units back after partial repayments (staff of the pledgor), once
/// per reference: at most in proportion to what was repaid, and never
/// below the maintenance level at the last valuation's price.
#[utoipa::path(
    tag = "finance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Pledge id")),
    request_body = UnitsInput,
    responses(
        (status = 200, description = "Released (or released before with this reference)", body = PledgeView),
        (status = 404, description = "No such pledge of the caller's organisation (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Not active, under a margin call, or with a pledge ranked behind it (`pledge_not_open`); more than the repayments free (`release_beyond_repaid`); the rest would be below the maintenance level (`below_maintenance`); the reference was used with another quantity (`id_reused`)", content_type = "application/problem+json"),
        (status = 422, description = "A bad quantity or reference (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/pledges/{id}/releases")]
pub async fn release_pledged_units(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<FinanceRules>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<UnitsInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    Ok(answered(
        loan::release_units(&db, &who, &rules, &id, &body, now).await?,
        false,
    ))
}

/// Declare enforcement (staff of a pledgee bank) after a margin call not
/// cured by its deadline or a loan not repaid at maturity. The units of the
/// pledge (and of every pledge on them) are either offered to a reserve
/// platform for take-over at the pledgor's applicable guidance price
/// (`"method": "reserve"`, `reserve_organization_id`: a reserve operation
/// with `pledge_id`; on its acceptance one ledger transaction delivers the
/// units and pays the pledgees in rank order, guarantors their shares of a
/// shortfall, the rest to the pledgor; declined, the units stay pledged),
/// or sold by one-way bidding (`"method": "auction"`, `auction`: the lot's
/// reserve price and window; the pledgor is the seller; at the close the
/// proceeds go to the pledgees in rank order; units left unsold stay
/// pledged for what is still owed). The bank may declare again once an
/// enforcement ended without settling the loans.
#[utoipa::path(
    tag = "finance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Pledge id")),
    request_body = EnforceInput,
    responses(
        (status = 200, description = "Declared (or already waiting for the reserve's answer)", body = PledgeView),
        (status = 404, description = "No such pledge of the caller's bank; not a reserve platform (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Not in default yet (`enforcement_not_due`, `detail` says until when); not live, or holding no units yet (`pledge_not_open`); no guidance price (`no_guidance_price`); the instrument is suspended (`instrument_suspended`)", content_type = "application/problem+json"),
        (status = 422, description = "A take-over without a reserve platform or an auction without its terms (`invalid_field`); the auction's terms broken: its window, a smallest bid over half the lot (`invalid_field`), a reserve price below the floor (`below_floor`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/pledges/{id}/enforce")]
pub async fn enforce_pledge(
    db: web::Data<DatabaseConnection>,
    market: web::Data<crate::market::rules::MarketRules>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<EnforceInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    Ok(answered(
        enforcement::declare(&db, &who, &market, &id, &body, now).await?,
        false,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PledgesQuery {
    /// An organisation the caller acts for: its pledges as pledgor,
    /// pledgee or guarantor.
    pub organization_id: String,
    pub status: Option<PledgeStatus>,
}

/// An organisation's pledges as pledgor, pledgee or guarantor, and those
/// ranking behind its pledges as first bank, newest first, with their
/// loans (its staff).
#[utoipa::path(
    tag = "finance",
    security(("bearer" = [])),
    params(PledgesQuery, PageQuery),
    responses(
        (status = 200, description = "A page of pledges", body = Page<PledgeView>),
        (status = 404, description = "Not an organisation the caller acts for (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "The organisation is not approved, or holds no cash on the platform (`not_a_participant`)", content_type = "application/problem+json"),
        (status = 422, description = "A bad page (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/pledges")]
pub async fn list_pledges(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    query: web::Query<PledgesQuery>,
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
    // A first bank sees the pledges ranking behind its own (it consents
    // to them).
    let first_banks = sea_orm::sea_query::Query::select()
        .column(pledge::Column::Id)
        .from(pledge::Entity)
        .and_where(pledge::Column::PledgeeOrganizationId.eq(org))
        .to_owned();
    let mut q = <pledge::Entity as sea_orm::EntityTrait>::find().filter(
        sea_orm::Condition::any()
            .add(pledge::Column::PledgorOrganizationId.eq(org))
            .add(pledge::Column::PledgeeOrganizationId.eq(org))
            .add(pledge::Column::GuarantorOrganizationId.eq(org))
            .add(pledge::Column::SeniorPledgeId.in_subquery(first_banks)),
    );
    if let Some(s) = query.status {
        q = q.filter(pledge::Column::Status.eq(s));
    }
    let rows = pagination::fetch(
        db.get_ref(),
        q,
        pledge::Column::Id,
        Order::Descending,
        page.starting_after.as_deref(),
        limit,
    )
    .await
    .map_err(MarketError::from)?;
    Ok(HttpResponse::Ok().json(Page::<PledgeView>::of(rows)))
}

/// One pledge with its history and latest valuations, for its parties
/// (and the first bank of the units it ranks behind).
#[utoipa::path(
    tag = "finance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Pledge id")),
    responses(
        (status = 200, description = "The pledge", body = PledgeDetail),
        (status = 404, description = "No such pledge of an organisation the caller acts for (`not_found`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/pledges/{id}")]
pub async fn get_pledge(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let p = pledges::find(db.get_ref(), &id).await?;
    if !pledges::may_read(db.get_ref(), &who, &p).await? {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::Ok().json(views::detail(db.get_ref(), p).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegisterQuery {
    /// One instrument's pledges.
    #[param(example = "TPH-FOR-2026")]
    pub instrument: Option<String>,
}

/// The public encumbrance register: every live pledge, per instrument and
/// batch, with the pledged quantity, the pledgee and the dates (never the
/// loan or margin calls). A future-income pledge's units not yet issued
/// are a line without a batch.
#[utoipa::path(
    tag = "finance",
    params(RegisterQuery),
    responses(
        (status = 200, description = "The register", body = Vec<Encumbrance>),
        (status = 422, description = "Not an instrument code (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/public/pledges")]
pub async fn encumbrance_register(
    db: web::Data<DatabaseConnection>,
    query: web::Query<RegisterQuery>,
) -> Result<HttpResponse, ApiError> {
    let code = listing::instrument_filter(query.instrument.as_deref())?;
    Ok(HttpResponse::Ok().json(encumbrance::register(db.get_ref(), code.as_deref()).await?))
}
