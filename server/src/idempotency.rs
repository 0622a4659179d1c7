//! `Idempotency-Key` on the POSTs that create something: the first
//! successful response is stored with a hash of the request; a retry with
//! the same key and the same request gets that response again (marked
//! `Idempotent-Replayed: true`) and nothing happens twice. The same key with
//! a different request is refused (409 `idempotency_key_reused`); a retry
//! while the first is still running gets 409 `idempotency_key_in_flight`.
//!
//! Keys are per caller (the signed-in user, or the client IP for anonymous
//! registration) and kept for [`KEY_TTL_HOURS`]. Failed responses are not
//! stored, so a client may correct its request and retry with the same
//! key. Sign-in, refresh and logout are excluded: their responses carry
//! secrets that must not be stored.

use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::rc::Rc;

use actix_web::body::{to_bytes, BoxBody, EitherBody, MessageBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::{Method, StatusCode};
use actix_web::web::Bytes;
use actix_web::{Error, HttpResponse, ResponseError};
use chrono::{DateTime, Duration, FixedOffset};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{Condition, DatabaseConnection, Set};
use sha2::{Digest, Sha256};

use crate::auth::token::TokenKeys;
use crate::error::ApiError;
use crate::input_guard::take_body;
use crate::problem::ProblemCode;
use crate::rate_limit::TrustedProxies;

pub const HEADER: &str = "idempotency-key";
pub const KEY_TTL_HOURS: i64 = 24;
/// A first request still `in_flight` after this long died with its process;
/// a retry may take the key over.
const ABANDONED_AFTER_SECS: i64 = 60;
/// Tries to claim a key whose first request vanished under this one.
const CLAIM_ATTEMPTS: usize = 3;
/// POSTs never covered: their answers hold secrets.
const EXCLUDED: &[&str] = &[
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/v1/auth/logout",
];
/// Issuing a partner key answers its secret: never stored either.
const SECRET_SUFFIX: &str = "/partner-keys";
/// POSTs that compute and change nothing: retried freely, never stored.
const CALCULATIONS: &str = "/api/v1/estimates/";

pub mod entity {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "idempotency_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub scope: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub request_hash: String,
        pub status: String,
        pub response_status: Option<i32>,
        pub response_body: Option<Vec<u8>>,
        pub content_type: Option<String>,
        pub created_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use entity::{Column as K, Entity as Keys};

/// Whether this request is one the middleware covers.
pub fn covers(method: &Method, path: &str) -> bool {
    method == Method::POST
        && path.starts_with("/api/v1/")
        && !EXCLUDED.contains(&path)
        && !path.ends_with(SECRET_SUFFIX)
        && !path.starts_with(CALCULATIONS)
        // Signed by partners, with their own replay protection (nonces) and
        // safe to resend record by record.
        && !path.starts_with(crate::partners::routes::FEED_PREFIX)
}

fn bad_key(detail: &str) -> ApiError {
    ApiError::BadBody {
        code: ProblemCode::InvalidIdempotencyKey,
        param: Some("Idempotency-Key".into()),
        detail: detail.into(),
    }
}

/// Longest `Idempotency-Key`.
pub const MAX_KEY_LEN: usize = 255;

/// Keys are 1 to 255 visible ASCII characters (a UUID is the usual choice).
fn parse_key(value: &actix_web::http::header::HeaderValue) -> Result<String, ApiError> {
    let text = value
        .to_str()
        .map_err(|_| bad_key("Idempotency-Key must be visible ASCII"))?;
    if text.is_empty() || text.len() > MAX_KEY_LEN || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad_key(
            "Idempotency-Key must be 1 to 255 visible ASCII characters, e.g. a UUID",
        ));
    }
    Ok(text.to_string())
}

enum Claim {
    /// This request owns the key: run it.
    Fresh,
    Replay(entity::Model),
}

async fn claim(
    db: &DatabaseConnection,
    scope: &str,
    key: &str,
    hash: &str,
    now: DateTime<FixedOffset>,
) -> Result<Claim, ApiError> {
    // Expired keys, and first attempts that died mid-flight, free the key.
    Keys::delete_many()
        .filter(K::Scope.eq(scope))
        .filter(K::Key.eq(key))
        .filter(
            Condition::any()
                .add(K::CreatedAt.lt(now - Duration::hours(KEY_TTL_HOURS)))
                .add(
                    Condition::all()
                        .add(K::Status.eq("in_flight"))
                        .add(K::CreatedAt.lt(now - Duration::seconds(ABANDONED_AFTER_SECS))),
                ),
        )
        .exec(db)
        .await?;
    // A first request that failed deletes its row (so the client may
    // correct and retry): a request that lost the insert race may then
    // find nothing, and tries to claim the key again itself.
    for _ in 0..CLAIM_ATTEMPTS {
        let inserted = Keys::insert(entity::ActiveModel {
            scope: Set(scope.into()),
            key: Set(key.into()),
            request_hash: Set(hash.into()),
            status: Set("in_flight".into()),
            response_status: Set(None),
            response_body: Set(None),
            content_type: Set(None),
            created_at: Set(now),
        })
        .on_conflict(
            OnConflict::columns([K::Scope, K::Key])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
        if inserted == 1 {
            if crate::crypto::random_below(256) == 0 {
                // Now and then, sweep every expired key.
                Keys::delete_many()
                    .filter(K::CreatedAt.lt(now - Duration::hours(KEY_TTL_HOURS)))
                    .exec(db)
                    .await?;
            }
            return Ok(Claim::Fresh);
        }
        let Some(first) = Keys::find_by_id((scope.to_string(), key.to_string()))
            .one(db)
            .await?
        else {
            continue;
        };
        if first.request_hash != hash {
            return Err(ApiError::Conflict {
                code: ProblemCode::IdempotencyKeyReused,
                detail: "this Idempotency-Key was used for a different request".into(),
            });
        }
        if first.status != "done" {
            return Err(in_flight());
        }
        return Ok(Claim::Replay(first));
    }
    // Other requests with this key keep claiming and failing: one of them
    // is running now, as far as this one can tell.
    Err(in_flight())
}

fn in_flight() -> ApiError {
    ApiError::Conflict {
        code: ProblemCode::IdempotencyKeyInFlight,
        detail: "a request with this Idempotency-Key is still running; retry shortly".into(),
    }
}

async fn finish(
    db: &DatabaseConnection,
    scope: &str,
    key: &str,
    status: StatusCode,
    content_type: Option<String>,
    body: &Bytes,
) -> Result<(), DbErr> {
    if status.is_success() {
        Keys::update_many()
            .col_expr(K::Status, Expr::value("done"))
            .col_expr(K::ResponseStatus, Expr::value(i32::from(status.as_u16())))
            .col_expr(K::ResponseBody, Expr::value(body.to_vec()))
            .col_expr(K::ContentType, Expr::value(content_type))
            .filter(K::Scope.eq(scope))
            .filter(K::Key.eq(key))
            .exec(db)
            .await?;
    } else {
        release(db, scope, key).await?;
    }
    Ok(())
}

async fn release(db: &DatabaseConnection, scope: &str, key: &str) -> Result<(), DbErr> {
    Keys::delete_many()
        .filter(K::Scope.eq(scope))
        .filter(K::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

fn replay(first: entity::Model) -> HttpResponse {
    let status = u16::try_from(first.response_status.unwrap_or(200))
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut res = HttpResponse::build(status);
    if let Some(ct) = first.content_type {
        res.content_type(ct);
    }
    res.insert_header(("idempotent-replayed", "true"))
        .body(first.response_body.unwrap_or_default())
}

#[derive(Clone)]
pub struct Idempotency {
    pub db: DatabaseConnection,
    pub keys: TokenKeys,
    pub proxies: TrustedProxies,
}

impl<S, B> Transform<S, ServiceRequest> for Idempotency
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = Error;
    type Transform = IdempotencyService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(IdempotencyService {
            service: Rc::new(service),
            config: self.clone(),
        }))
    }
}

pub struct IdempotencyService<S> {
    service: Rc<S>,
    config: Idempotency,
}

impl<S, B> Service<ServiceRequest> for IdempotencyService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        let service = self.service.clone();
        let header = req.headers().get(HEADER).cloned();
        let (Some(header), true) = (header, covers(req.method(), req.path())) else {
            return Box::pin(async move { Ok(service.call(req).await?.map_into_left_body()) });
        };
        let config = self.config.clone();
        Box::pin(async move {
            let refuse = |req: ServiceRequest, e: ApiError| {
                Ok(req.into_response(e.error_response()).map_into_right_body())
            };
            let key = match parse_key(&header) {
                Ok(k) => k,
                Err(e) => return refuse(req, e),
            };
            let Some(now) = req
                .app_data::<actix_web::web::Data<crate::clock::Clock>>()
                .map(|clock| clock.now())
            else {
                return refuse(req, ApiError::internal("the application has no clock"));
            };
            let bearer = req
                .headers()
                .get("authorization")
                .and_then(|h| h.to_str().ok()?.strip_prefix("Bearer "))
                .and_then(|t| config.keys.verify(t.trim(), now.timestamp()));
            let scope = match bearer {
                Some(b) => format!("user:{}", b.user_id),
                None => format!("ip:{}", config.proxies.of_request(req.request())),
            };
            let body = match take_body(&mut req).await {
                Ok(b) => b,
                Err(e) => return refuse(req, e),
            };
            let mut hasher = Sha256::new();
            hasher.update(req.method().as_str());
            hasher.update([0]);
            hasher.update(req.uri().to_string());
            hasher.update([0]);
            hasher.update(&body);
            let hash = hex::encode(hasher.finalize());
            match claim(&config.db, &scope, &key, &hash, now).await {
                Ok(Claim::Fresh) => {}
                Ok(Claim::Replay(first)) => {
                    return Ok(req.into_response(replay(first)).map_into_right_body())
                }
                Err(e) => return refuse(req, e),
            }
            let res = match service.call(req).await {
                Ok(res) => res,
                Err(e) => {
                    let _ = release(&config.db, &scope, &key).await;
                    return Err(e);
                }
            };
            let status = res.status();
            let content_type = res
                .headers()
                .get(actix_web::http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let (req, res) = res.into_parts();
            let (head, body) = res.into_parts();
            let bytes = match to_bytes(body).await {
                Ok(b) => b,
                Err(_) => {
                    let _ = release(&config.db, &scope, &key).await;
                    let e = ApiError::internal("response body could not be read");
                    return Ok(ServiceResponse::new(req, e.error_response()).map_into_right_body());
                }
            };
            if let Err(e) = finish(&config.db, &scope, &key, status, content_type, &bytes).await {
                // The effect happened; only the replay record is lost. Log
                // and answer: the client needs this response most of all.
                tracing::error!(error = %e, "idempotency record not saved");
            }
            let res = head.set_body(BoxBody::new(bytes));
            Ok(ServiceResponse::new(req, res).map_into_right_body())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_creating_posts_only() {
        assert!(covers(&Method::POST, "/api/v1/organizations"));
        assert!(covers(&Method::POST, "/api/v1/auth/register"));
        assert!(!covers(&Method::POST, "/api/v1/auth/login"));
        assert!(!covers(&Method::GET, "/api/v1/organizations"));
        assert!(!covers(&Method::POST, "/metrics"));
        assert!(!covers(&Method::POST, "/api/v1/estimates/commute"));
        assert!(!covers(
            &Method::POST,
            "/api/v1/organizations/o1/partner-keys"
        ));
        assert!(covers(
            &Method::POST,
            "/api/v1/organizations/o1/partner-keys/k1/revoke"
        ));
        assert!(!covers(&Method::POST, "/api/v1/partner/trips"));
    }

    #[test]
    fn keys_are_visible_ascii() {
        use actix_web::http::header::HeaderValue;
        assert!(parse_key(&HeaderValue::from_static("3f1c-uuid")).is_ok());
        assert!(parse_key(&HeaderValue::from_static("")).is_err());
        assert!(parse_key(&HeaderValue::from_static("has space")).is_err());
        assert!(parse_key(&HeaderValue::from_str(&"k".repeat(256)).unwrap()).is_err());
    }
}
