//! The one mapping from errors to RFC 9457 problem details
//! (`application/problem+json`) with a stable `code` and the offending
//! `param`.

use actix_web::error::JsonPayloadError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::problem::ProblemCode;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("no route or resource at this path")]
    NotFound,
    /// The path exists, the method does not: `Allow` lists those it takes.
    #[error("this path takes {}", .0.join(", "))]
    MethodNotAllowed(Vec<String>),
    /// An object a field of the request names does not exist, or is not
    /// the caller's to use (which is not told apart).
    #[error("{detail}")]
    UnknownObject { param: String, detail: String },
    #[error("{0}")]
    Unavailable(String),
    /// The body is not what the route accepts (syntax, type, size, media
    /// type); the code carries the status.
    #[error("{detail}")]
    BadBody {
        code: ProblemCode,
        param: Option<String>,
        detail: String,
    },
    /// A well-formed request with a field that breaks a rule.
    #[error("{detail}")]
    Invalid { param: String, detail: String },
    /// A field that breaks a rule with a code of its own (a price outside
    /// the band).
    #[error("{detail}")]
    Rule {
        code: ProblemCode,
        param: String,
        detail: String,
    },
    #[error("{detail}")]
    Conflict { code: ProblemCode, detail: String },
    #[error("{detail}")]
    Unauthorized { code: ProblemCode, detail: String },
    /// Signed in, but this user's roles do not allow the action.
    #[error("{0}")]
    Forbidden(String),
    #[error("{detail}")]
    TooManyRequests {
        detail: String,
        retry_after_secs: u64,
    },
    /// A calculation refused its input (carbon-calc's stable codes, e.g.
    /// `unknown_mode`, `out_of_range`, with the JSON path of the field).
    #[error("{}", .0.message)]
    Calc(carbon_calc::error::CalcError),
    /// A bug or an outage; the cause, with its whole chain of sources, is
    /// logged, never sent.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[schema(value_type = String)]
    pub code: ProblemCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
}

impl ApiError {
    pub fn code(&self) -> ProblemCode {
        match self {
            ApiError::NotFound | ApiError::UnknownObject { .. } => ProblemCode::NotFound,
            ApiError::MethodNotAllowed(_) => ProblemCode::MethodNotAllowed,
            ApiError::Unavailable(_) => ProblemCode::Unavailable,
            ApiError::BadBody { code, .. }
            | ApiError::Rule { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Unauthorized { code, .. } => *code,
            ApiError::Invalid { .. } => ProblemCode::InvalidField,
            ApiError::Calc(e) => e.code.into(),
            ApiError::Forbidden(_) => ProblemCode::Forbidden,
            ApiError::TooManyRequests { .. } => ProblemCode::RateLimited,
            ApiError::Internal(_) => ProblemCode::Internal,
        }
    }

    fn param(&self) -> Option<String> {
        match self {
            ApiError::BadBody { param, .. } => param.clone(),
            ApiError::Invalid { param, .. }
            | ApiError::UnknownObject { param, .. }
            | ApiError::Rule { param, .. } => Some(param.clone()),
            ApiError::Calc(e) => Some(e.field.clone()),
            _ => None,
        }
    }
}

impl ApiError {
    /// A bug or an outage caused by `cause` (an error, whose sources are
    /// kept, or a message).
    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> ApiError {
        ApiError::Internal(cause.into())
    }
}

/// An error and every source under it, outermost first: `a: b: c`.
pub fn cause_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(e) = next {
        let part = e.to_string();
        // thiserror's `#[error("…: {0}")]` already shows its source.
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        next = e.source();
    }
    text
}

impl ApiError {
    /// The problem document of this error (logging the cause of internal
    /// errors, which the document never carries).
    pub fn problem(&self) -> Problem {
        if let ApiError::Internal(cause) = self {
            tracing::error!(cause = %cause_chain(cause.as_ref()), "internal error");
        }
        let status = self.status_code();
        Problem {
            kind: format!("/problems/{}", self.code().as_str()),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: self.to_string(),
            code: self.code(),
            param: self.param(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let problem = self.problem();
        let mut res = HttpResponse::build(status);
        if status == StatusCode::UNAUTHORIZED {
            res.insert_header(("www-authenticate", "Bearer"));
        }
        match self {
            ApiError::TooManyRequests {
                retry_after_secs, ..
            } => {
                res.insert_header((actix_web::http::header::RETRY_AFTER, *retry_after_secs));
            }
            ApiError::Unavailable(_) => {
                res.insert_header((
                    actix_web::http::header::RETRY_AFTER,
                    UNAVAILABLE_RETRY_AFTER_SECS,
                ));
            }
            ApiError::MethodNotAllowed(allow) => {
                res.insert_header((actix_web::http::header::ALLOW, allow.join(", ")));
            }
            _ => {}
        }
        res.content_type("application/problem+json").json(problem)
    }
}

/// The `Retry-After` of 503 answers: a hint, not a rule; outages that
/// last longer are answered 503 again.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 2;

/// Largest JSON body of most routes.
pub const JSON_LIMIT_BYTES: usize = 64 * 1024;
/// Largest body of any route (a batch of trips with GPS traces); routes
/// that take more than [`JSON_LIMIT_BYTES`] say so.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// actix's JSON extractor errors as problem documents.
pub fn json_error(err: JsonPayloadError) -> ApiError {
    match err {
        JsonPayloadError::ContentType => ApiError::BadBody {
            code: ProblemCode::UnsupportedMediaType,
            param: None,
            detail: "send the body as application/json".into(),
        },
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => ApiError::BadBody {
            code: ProblemCode::PayloadTooLarge,
            param: None,
            detail: format!("bodies of this route are limited to {limit} bytes"),
        },
        JsonPayloadError::Deserialize(e) => body_error(e),
        other => ApiError::BadBody {
            code: ProblemCode::InvalidBody,
            param: None,
            detail: other.to_string(),
        },
    }
}

/// A JSON body that does not parse, or not as the route's type.
pub fn body_error(e: serde_json::Error) -> ApiError {
    let message = e.to_string();
    let param = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|p| message.strip_prefix(p))
        .and_then(|rest| rest.split('`').next())
        .map(str::to_string);
    // The same codes as carbon-calc's for the same mistakes, so that a
    // field's shape is refused alike on every route.
    let code = if e.is_syntax() || e.is_eof() {
        ProblemCode::InvalidJson
    } else if message.starts_with("unknown field") {
        ProblemCode::UnknownField
    } else if message.starts_with("missing field") {
        ProblemCode::MissingField
    } else {
        ProblemCode::InvalidValue
    };
    ApiError::BadBody {
        code,
        param,
        detail: message,
    }
}

/// actix's query-string extractor errors (`?limit=abc`, unknown enum
/// values) as problem documents.
pub fn query_error(err: actix_web::error::QueryPayloadError) -> ApiError {
    let message = err.to_string();
    ApiError::BadBody {
        code: ProblemCode::InvalidQuery,
        param: None,
        detail: message,
    }
}

/// Database failures are outages (503, retry) or bugs (500): logged,
/// never shown.
impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        if matches!(&e, sea_orm::DbErr::RecordNotFound(m) if m == crate::pagination::UNKNOWN_CURSOR)
        {
            return ApiError::Invalid {
                param: "starting_after".into(),
                detail: "starting_after: no item with this id in this list (an unknown or stale cursor); start again from the first page".into(),
            };
        }
        if crate::db::is_outage(&e) {
            tracing::warn!(error = %e, "database unavailable");
            ApiError::Unavailable("the database cannot be reached just now; retry shortly".into())
        } else {
            ApiError::internal(e)
        }
    }
}

/// `validator` failures as a problem naming the first bad field.
impl From<validator::ValidationErrors> for ApiError {
    fn from(errors: validator::ValidationErrors) -> Self {
        let mut fields: Vec<_> = errors.field_errors().into_iter().collect();
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        let (param, errs) = fields
            .into_iter()
            .next()
            .expect("ValidationErrors has a field");
        let detail = errs
            .first()
            .and_then(|e| e.message.as_ref().map(|m| m.to_string()))
            .unwrap_or_else(|| "is not valid".into());
        ApiError::Invalid {
            param: param.to_string(),
            detail: format!("{param}: {detail}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("reading the ledger")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn internal_errors_keep_their_causes_and_send_none() {
        let e = ApiError::internal(Outer(std::io::Error::other("disk on fire")));
        let ApiError::Internal(cause) = &e else {
            panic!("not internal")
        };
        assert_eq!(
            cause_chain(cause.as_ref()),
            "reading the ledger: disk on fire"
        );
        let problem = e.problem();
        assert_eq!((problem.status, problem.code), (500, ProblemCode::Internal));
        assert!(!problem.detail.contains("disk"), "{}", problem.detail);
    }

    #[test]
    fn a_source_already_in_the_message_is_not_repeated() {
        #[derive(Debug, thiserror::Error)]
        #[error("database: {0}")]
        struct Db(#[from] std::io::Error);
        let e = Db(std::io::Error::other("gone"));
        assert_eq!(cause_chain(&e), "database: gone");
    }
}
