//! What no request may carry, refused once at the edge for every route
//! (before routing, authentication and idempotency):
//!
//! - a NUL character anywhere: in the path (`%00`), in a query value or
//!   name, in a header, or as `\u0000` in a JSON body. PostgreSQL cannot
//!   store NUL in text, so such input reached it as a 500; SQLite stored it.
//!   No field of this API has a use for it.
//! - request heads larger than `max_header_bytes` (431
//!   `headers_too_large`).
//!
//! What is not HTTP at all never gets this far: a header value with a
//! control character, or a head over 128 KiB, is refused by actix-http's
//! parser with a bare 400 or 431 and the connection closed. No conforming
//! HTTP client sends either; the mobile guide says so.
//!
//! Bodies are read here (up to [`MAX_BODY_BYTES`]) and handed on unchanged;
//! the route's own size limit still applies after.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::{Error, HttpMessage, ResponseError};
use futures_util::StreamExt;

use crate::error::{ApiError, MAX_BODY_BYTES};
use crate::problem::ProblemCode;

/// Limits of a request's head (`max_header_bytes` in the configuration).
#[derive(Debug, Clone, Copy)]
pub struct HeadLimits {
    /// The sum of every header's name and value, in bytes.
    pub max_header_bytes: usize,
}

pub const DEFAULT_MAX_HEADER_BYTES: usize = 16 * 1024;

fn nul(param: &str, detail: &str) -> ApiError {
    ApiError::BadBody {
        code: ProblemCode::InvalidCharacter,
        param: Some(param.to_string()),
        detail: format!("{detail} contains a NUL character (U+0000), which no field accepts"),
    }
}

/// A NUL can reach a URL only percent-encoded (the HTTP parser refuses a
/// raw one, and control characters in headers), so the raw text tells.
fn has_encoded_nul(raw: &str) -> bool {
    raw.contains("%00")
}

/// Whether a JSON text holds a `\u0000` escape (a raw NUL is not valid
/// JSON and fails parsing on its own). Escapes are skipped pairwise, so
/// `"\\u0000"` (a backslash, then the letters) is not one.
pub fn json_has_nul_escape(body: &[u8]) -> bool {
    let mut i = 0;
    while i < body.len() {
        if body[i] == b'\\' {
            if body.get(i + 1) == Some(&b'u') && body.get(i + 2..i + 6) == Some(b"0000") {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

fn check_head(req: &ServiceRequest, limits: HeadLimits) -> Result<(), ApiError> {
    if has_encoded_nul(req.path()) {
        return Err(nul("path", "the path"));
    }
    for pair in req.query_string().split('&') {
        if has_encoded_nul(pair) {
            let name = pair.split('=').next().unwrap_or_default();
            let name = if has_encoded_nul(name) || name.is_empty() {
                "query"
            } else {
                name
            };
            return Err(nul(name, &format!("query parameter {name}")));
        }
    }
    let total: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if total > limits.max_header_bytes {
        return Err(ApiError::BadBody {
            code: ProblemCode::HeadersTooLarge,
            param: None,
            detail: format!(
                "request headers are limited to {} bytes in all (names and values)",
                limits.max_header_bytes
            ),
        });
    }
    Ok(())
}

/// Reads the whole body (at most the largest any route takes) and puts it
/// back for the handler.
pub async fn take_body(req: &mut ServiceRequest) -> Result<Bytes, ApiError> {
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadBody {
            code: ProblemCode::InvalidBody,
            param: None,
            detail: e.to_string(),
        })?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(ApiError::BadBody {
                code: ProblemCode::PayloadTooLarge,
                param: None,
                detail: format!("bodies are limited to {MAX_BODY_BYTES} bytes"),
            });
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    req.set_payload(Payload::from(body.clone()));
    Ok(body)
}

fn may_have_body(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The middleware (`actix_web::middleware::from_fn`).
pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let limits = req
        .app_data::<web::Data<HeadLimits>>()
        .map(|l| *l.get_ref())
        .unwrap_or(HeadLimits {
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
        });
    let refuse = |req: ServiceRequest, e: ApiError| {
        Ok(req.into_response(e.error_response()).map_into_right_body())
    };
    if let Err(e) = check_head(&req, limits) {
        return refuse(req, e);
    }
    if may_have_body(req.method()) {
        match take_body(&mut req).await {
            Ok(body) if json_has_nul_escape(&body) => {
                return refuse(req, nul("body", "the body"));
            }
            Ok(_) => {}
            Err(e) => return refuse(req, e),
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nul_escapes_only() {
        assert!(json_has_nul_escape(br#"{"name":"a\u0000b"}"#));
        assert!(json_has_nul_escape(br#"{"a\u0000":1}"#));
        assert!(!json_has_nul_escape(br#"{"name":"a\\u0000b"}"#));
        assert!(json_has_nul_escape(br#"{"name":"a\\\u0000b"}"#));
        assert!(!json_has_nul_escape(br#"{"name":"a\u0001"}"#));
        assert!(!json_has_nul_escape(br#"{"name":"\u4e2d\"\u0020"}"#));
        assert!(!json_has_nul_escape(b"\\"));
    }
}
