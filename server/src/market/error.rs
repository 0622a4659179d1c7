//! The market's errors, mapped once to problem documents.

use sea_orm::DbErr;

use crate::error::ApiError;
use crate::ledger::LedgerError;
use crate::problem::ProblemCode;

#[derive(Debug, thiserror::Error)]
pub enum MarketError {
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    /// An object a request field names that does not exist or that the
    /// caller may not use.
    #[error("{param}: {detail}")]
    Unknown { param: &'static str, detail: String },
    #[error("{param}: {detail}")]
    Invalid { param: &'static str, detail: String },
    /// A state or rule conflict with a stable code.
    #[error("{1}")]
    Conflict(ProblemCode, String),
    /// A field that breaks a rule with its own code.
    #[error("{2}")]
    Rule(ProblemCode, &'static str, String),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("database: {0}")]
    Database(#[from] DbErr),
    /// The market cannot take the request now; the client retries.
    #[error("{0}")]
    Busy(String),
}

impl MarketError {
    /// The database chose this transaction as a deadlock's victim.
    pub fn is_deadlock(&self) -> bool {
        match self {
            MarketError::Database(e) | MarketError::Ledger(LedgerError::Database(e)) => {
                crate::db::is_deadlock(e)
            }
            _ => false,
        }
    }

    /// The same error for another request of a batch that failed as a
    /// whole.
    pub fn replicate(&self) -> MarketError {
        match self {
            MarketError::Forbidden(why) => MarketError::Forbidden(why),
            MarketError::NotFound => MarketError::NotFound,
            MarketError::Unknown { param, detail } => MarketError::unknown(param, detail.clone()),
            MarketError::Invalid { param, detail } => MarketError::invalid(param, detail.clone()),
            MarketError::Conflict(code, detail) => MarketError::Conflict(*code, detail.clone()),
            MarketError::Rule(code, param, detail) => {
                MarketError::Rule(*code, param, detail.clone())
            }
            MarketError::Busy(detail) => MarketError::Busy(detail.clone()),
            MarketError::Database(e) | MarketError::Ledger(LedgerError::Database(e))
                if crate::db::is_outage(e) =>
            {
                MarketError::Busy("the database cannot be reached just now; retry shortly".into())
            }
            other => MarketError::Database(DbErr::Custom(other.to_string())),
        }
    }

    pub fn invalid(param: &'static str, detail: impl Into<String>) -> MarketError {
        MarketError::Invalid {
            param,
            detail: detail.into(),
        }
    }

    pub fn unknown(param: &'static str, detail: impl Into<String>) -> MarketError {
        MarketError::Unknown {
            param,
            detail: detail.into(),
        }
    }
}

impl From<MarketError> for ApiError {
    fn from(e: MarketError) -> Self {
        match e {
            MarketError::Forbidden(why) => ApiError::Forbidden(why.into()),
            MarketError::NotFound => ApiError::NotFound,
            MarketError::Unknown { param, .. } => ApiError::UnknownObject {
                param: param.into(),
                detail: e.to_string(),
            },
            MarketError::Invalid { param, .. } => ApiError::Invalid {
                param: param.into(),
                detail: e.to_string(),
            },
            MarketError::Conflict(code, detail) => ApiError::Conflict { code, detail },
            MarketError::Rule(code, param, detail) => ApiError::Rule {
                code,
                param: param.into(),
                detail,
            },
            // The market maps the ledger's refusals it expects (not enough
            // cash or units) where it knows which; any other is a bug.
            MarketError::Ledger(e) => ApiError::internal(e),
            MarketError::Database(e) => e.into(),
            MarketError::Busy(detail) => ApiError::Unavailable(detail),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every request of a batch that failed as a whole gets the batch's
    /// error: the same problem where it has one, 503 when the database
    /// is away, and an internal error (not the original's text lost)
    /// otherwise.
    #[test]
    fn a_batch_error_is_replicated_for_each_request() {
        let conflict = MarketError::Conflict(ProblemCode::InsufficientCash, "short".into());
        assert!(matches!(
            conflict.replicate(),
            MarketError::Conflict(ProblemCode::InsufficientCash, d) if d == "short"
        ));
        let unknown = MarketError::unknown("instrument", "TPH-PRJ-2020 is not listed");
        assert!(matches!(
            unknown.replicate(),
            MarketError::Unknown { param: "instrument", detail } if detail.contains("not listed")
        ));
        let away = MarketError::Database(DbErr::ConnectionAcquire(
            sea_orm::error::ConnAcquireErr::Timeout,
        ));
        assert!(matches!(away.replicate(), MarketError::Busy(_)));
        let bug = MarketError::Database(DbErr::Custom("constraint".into()));
        match bug.replicate() {
            MarketError::Database(DbErr::Custom(text)) => assert!(text.contains("constraint")),
            other => panic!("{other:?}"),
        }
    }
}
