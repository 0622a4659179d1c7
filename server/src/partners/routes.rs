//! Partner keys (`/api/v1/organizations/{id}/partner-keys*`), persons'
//! transit cards (`/api/v1/me/transit-cards*`) and the signed feed
//! (`POST /api/v1/partner/trips`). Thin: parse, call, map.

use actix_web::error::JsonPayloadError;
use actix_web::http::header::{self, HeaderMap};
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::entity::{card, key};
use super::feed::{Feed, FeedRequest, FeedResponse, MAX_RECORDS};
use super::keys::{self, AuthFailure, PartnerError, PartnerSecrets, Signed};
use super::{cards, signature};
use crate::auth::extract::AuthUser;
use crate::auth::extract::Principal;
use crate::clock::Now;
use crate::error::ApiError;
use crate::pagination::{Page, PageQuery};
use crate::problem::ProblemCode;
use crate::trips::TripDeps;

/// Where the signed feed lives; the common bearer-token answers do not
/// apply under it.
pub const FEED_PREFIX: &str = "/api/v1/partner/";
/// A feed request's body: 500 records fit easily.
pub const FEED_BODY_BYTES: usize = 1024 * 1024;
/// Signed requests one partner key may make per minute (up to 60,000
/// records): a runaway or stolen key cannot flood the trip path.
pub const FEED_REQUESTS_PER_MINUTE: u32 = 120;

impl From<PartnerError> for ApiError {
    fn from(e: PartnerError) -> Self {
        match e {
            PartnerError::Disabled => ApiError::Unavailable(e.to_string()),
            PartnerError::Forbidden(_) => ApiError::Forbidden(e.to_string()),
            PartnerError::NotFound => ApiError::NotFound,
            PartnerError::Conflict { code, detail } => ApiError::Conflict { code, detail },
            PartnerError::Invalid { param, .. } => ApiError::Invalid {
                param: param.into(),
                detail: e.to_string(),
            },
            PartnerError::Database(e) => e.into(),
            PartnerError::Sealing(_) => ApiError::internal(e),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerKeyView {
    /// Sent by the partner in `X-Tanpuhui-Key`.
    pub id: String,
    pub organization_id: String,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

impl From<key::Model> for PartnerKeyView {
    fn from(k: key::Model) -> Self {
        PartnerKeyView {
            id: k.id,
            organization_id: k.organization_id,
            created_at: k.created_at.to_rfc3339(),
            revoked_at: k.revoked_at.map(|t| t.to_rfc3339()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedKeyView {
    #[serde(flatten)]
    pub key: PartnerKeyView,
    /// The HMAC-SHA256 signing secret. Shown this once: store it now.
    pub secret: String,
}

/// Make an approved enterprise a trip-feed partner: a new API key and its
/// signing secret (administrators). Several keys may be live at once, so a
/// partner can rotate: take a new key, switch, revoke the old one.
#[utoipa::path(
    tag = "partners",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The key and its secret (shown once)", body = IssuedKeyView),
        (status = 403, description = "Needs the admin role (`forbidden`)", content_type = "application/problem+json"),
        (status = 404, description = "No such organisation (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Not an approved enterprise (`not_an_approved_enterprise`)", content_type = "application/problem+json"),
        (status = 503, description = "Partner feeds are off: the server has no partner secrets key (`unavailable`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/organizations/{id}/partner-keys")]
pub async fn issue_key(
    db: web::Data<DatabaseConnection>,
    secrets: web::Data<PartnerSecrets>,
    who: Principal,
    id: web::Path<String>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let issued = keys::issue(db.get_ref(), &secrets, &who, &id, now).await?;
    Ok(HttpResponse::Created()
        .insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]))
        .json(IssuedKeyView {
            key: issued.key.into(),
            secret: issued.secret,
        }))
}

/// An organisation's partner keys, newest first, without their secrets
/// (administrators and the organisation's operators).
#[utoipa::path(
    tag = "partners",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of keys, in key-id order", body = Page<PartnerKeyView>),
        (status = 404, description = "No such organisation, or not yours (`not_found`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/organizations/{id}/partner-keys")]
pub async fn list_keys(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let rows = keys::list(
        db.get_ref(),
        &who,
        &id,
        page.starting_after.as_deref(),
        page.limit()?,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::<PartnerKeyView>::of(rows)))
}

/// Revoke a partner key at once (administrators and the organisation's
/// operators); revoking it again changes nothing.
#[utoipa::path(
    tag = "partners",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The key, revoked", body = PartnerKeyView),
        (status = 404, description = "No such key of this organisation, or not yours (`not_found`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/organizations/{id}/partner-keys/{key_id}/revoke")]
pub async fn revoke_key(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    path: web::Path<(String, String)>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let (org_id, key_id) = path.into_inner();
    let key = keys::revoke(db.get_ref(), &who, &org_id, &key_id, now).await?;
    Ok(HttpResponse::Ok().json(PartnerKeyView::from(key)))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkCard {
    /// The partner organisation (transit operator, bike-share).
    #[validate(length(min = 1, max = 64, message = "must be 1 to 64 characters"))]
    pub organization_id: String,
    /// The card number as printed (spaces and hyphens are ignored).
    #[validate(length(min = 1, max = 64, message = "must be 1 to 64 characters"))]
    pub card_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CardView {
    pub id: String,
    pub organization_id: String,
    /// The last four characters; the number itself is not kept.
    pub card_last4: String,
    pub linked_at: String,
}

impl From<card::Model> for CardView {
    fn from(c: card::Model) -> Self {
        CardView {
            id: c.id,
            organization_id: c.organization_id,
            card_last4: c.card_last4,
            linked_at: c.created_at.to_rfc3339(),
        }
    }
}

/// Link a partner's transit or bike-share card: the partner's records of it
/// then confirm the caller's trips or become trips (credited in full).
#[utoipa::path(
    tag = "partners",
    security(("bearer" = [])),
    request_body = LinkCard,
    responses(
        (status = 201, description = "Linked", body = CardView),
        (status = 409, description = "Linked to an account already (`card_already_linked`), or ten cards linked (`too_many_cards`)", content_type = "application/problem+json"),
        (status = 422, description = "Not a partner organisation, or not a card number (`invalid_field`)", content_type = "application/problem+json"),
        (status = 503, description = "Partner feeds are off on this server (`unavailable`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/me/transit-cards")]
pub async fn link_card(
    db: web::Data<DatabaseConnection>,
    secrets: web::Data<PartnerSecrets>,
    user: AuthUser,
    body: web::Json<LinkCard>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    body.validate()?;
    let linked = cards::link(
        db.get_ref(),
        &secrets,
        &user.0,
        &body.organization_id,
        &body.card_id,
        now,
    )
    .await?;
    Ok(HttpResponse::Created().json(CardView::from(linked)))
}

/// The caller's linked cards.
#[utoipa::path(
    tag = "partners",
    security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, description = "A page of cards, oldest link first", body = Page<CardView>))
)]
#[get("/api/v1/me/transit-cards")]
pub async fn list_cards(
    db: web::Data<DatabaseConnection>,
    user: AuthUser,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let rows = cards::list(
        db.get_ref(),
        &user.0,
        page.starting_after.as_deref(),
        page.limit()?,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::<CardView>::of(rows)))
}

/// Unlink one of the caller's cards; later records of it are not theirs.
#[utoipa::path(
    tag = "partners",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Unlinked"),
        (status = 404, description = "No such card of yours (`not_found`)", content_type = "application/problem+json")
    )
)]
#[delete("/api/v1/me/transit-cards/{id}")]
pub async fn unlink_card(
    db: web::Data<DatabaseConnection>,
    user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    cards::unlink(db.get_ref(), &user.0, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn read_body(mut payload: web::Payload, limit: usize) -> Result<Vec<u8>, ApiError> {
    use futures_util::StreamExt;
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadBody {
            code: ProblemCode::InvalidBody,
            param: None,
            detail: e.to_string(),
        })?;
        if body.len() + chunk.len() > limit {
            return Err(crate::error::json_error(JsonPayloadError::Overflow {
                limit,
            }));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Push trip records (partners). Signed, not signed in: the headers
/// `X-Tanpuhui-Key`, `X-Tanpuhui-Timestamp` (Unix seconds, within 300 s of
/// the server's clock), `X-Tanpuhui-Nonce` (16–64 of `[A-Za-z0-9_-]`, once
/// per key) and `X-Tanpuhui-Signature`: lowercase hex HMAC-SHA256, under the
/// key's secret, of `METHOD\nPATH\nTIMESTAMP\nNONCE\nhex(SHA-256(body))`.
/// Each record is answered on its own; resending a record is safe.
#[utoipa::path(
    tag = "partners",
    request_body = FeedRequest,
    responses(
        (status = 200, description = "One result per record, in order", body = FeedResponse),
        (status = 401, description = "Unknown or revoked key, bad signature, stale timestamp, bad or reused nonce (`invalid_signature`); logged", content_type = "application/problem+json"),
        (status = 422, description = "No records, or more than 500 (`invalid_field`, `param` = `records`)", content_type = "application/problem+json"),
        (status = 429, description = "More than 120 requests in a minute with this key (`rate_limited`); see `Retry-After`", content_type = "application/problem+json"),
        (status = 503, description = "Partner feeds are off on this server (`unavailable`)", content_type = "application/problem+json")
    )
)]
#[post("")]
pub async fn push_trips(
    req: HttpRequest,
    payload: web::Payload,
    deps: TripDeps,
    secrets: web::Data<PartnerSecrets>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let db = deps.trips().db;
    // Read here, not by an extractor, so an oversized body is a problem
    // document like everywhere else. The signature covers the raw bytes.
    let body = read_body(payload, FEED_BODY_BYTES).await?;
    let headers = req.headers();
    let signed = Signed {
        key_id: header_text(headers, signature::KEY_HEADER),
        timestamp: header_text(headers, signature::TIMESTAMP_HEADER),
        nonce: header_text(headers, signature::NONCE_HEADER),
        signature: header_text(headers, signature::SIGNATURE_HEADER),
        method: req.method().as_str(),
        path: req.path(),
        body: &body,
    };
    let key = match keys::authenticate(db, &secrets, &signed, now).await {
        Ok(key) => key,
        Err(AuthFailure::Refused(why)) => {
            // The key id is not a secret; the signature and body stay out.
            tracing::warn!(
                key_id = signed.key_id.unwrap_or("-"),
                peer = req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default(),
                reason = %why,
                "partner request refused"
            );
            return Err(ApiError::Unauthorized {
                code: ProblemCode::InvalidSignature,
                detail: why.to_string(),
            });
        }
        Err(AuthFailure::Partner(e)) => return Err(e.into()),
    };
    crate::rate_limit::check(
        deps.trips().cache,
        &format!("partner:{}", key.id),
        FEED_REQUESTS_PER_MINUTE,
    )
    .await?;
    let json = header_text(headers, header::CONTENT_TYPE.as_str())
        .is_some_and(|t| t.starts_with("application/json"));
    if !json {
        return Err(crate::error::json_error(JsonPayloadError::ContentType));
    }
    let feed: FeedRequest = serde_json::from_slice(&body).map_err(crate::error::body_error)?;
    if feed.records.is_empty() || feed.records.len() > MAX_RECORDS {
        return Err(ApiError::Invalid {
            param: "records".into(),
            detail: format!("records: send 1 to {MAX_RECORDS} records"),
        });
    }
    let results = Feed {
        trips: deps.trips(),
        secrets: secrets.get_ref(),
    }
    .ingest(&key.organization_id, &feed.records, now)
    .await?;
    tracing::info!(
        key_id = %key.id,
        records = results.len(),
        "partner records applied"
    );
    Ok(HttpResponse::Ok().json(FeedResponse { results }))
}
