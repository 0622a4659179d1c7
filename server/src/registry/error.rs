//! The registry's errors, mapped once to problem documents.

use sea_orm::{DbErr, SqlErr};

use crate::error::ApiError;
use crate::ledger::LedgerError;
use crate::problem::ProblemCode;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    /// An account or other object named by a request field that does not
    /// exist or that the caller may not use.
    #[error("{param}: {detail}")]
    Unknown { param: &'static str, detail: String },
    #[error("{param}: {detail}")]
    Invalid { param: &'static str, detail: String },
    /// A state or rule conflict with a stable code.
    #[error("{1}")]
    Conflict(ProblemCode, String),
    #[error(transparent)]
    Calc(#[from] carbon_calc::error::CalcError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

impl RegistryError {
    /// The account that `param` names is not one the caller can use.
    pub fn unusable_account(param: &'static str, id: &str) -> RegistryError {
        RegistryError::Unknown {
            param,
            detail: format!("account {id} does not exist or is not one you can use here"),
        }
    }

    pub fn invalid(param: &'static str, detail: impl Into<String>) -> RegistryError {
        RegistryError::Invalid {
            param,
            detail: detail.into(),
        }
    }
}

/// Human-readable text, trimmed and checked by [`crate::text::clean`].
pub fn clean_text(
    param: &'static str,
    text: &str,
    max: usize,
    shape: crate::text::Shape,
) -> Result<String, RegistryError> {
    crate::text::clean(text, max, shape).map_err(|e| RegistryError::invalid(param, e.to_string()))
}

/// A date input outside the years the API accepts ([`crate::clock::accepted_date`]).
pub fn check_date(param: &'static str, date: chrono::NaiveDate) -> Result<(), RegistryError> {
    crate::clock::accepted_date(date).map_err(|e| RegistryError::invalid(param, e))
}

pub fn unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::Forbidden(why) => ApiError::Forbidden(why.into()),
            RegistryError::NotFound => ApiError::NotFound,
            RegistryError::Unknown { param, .. } => ApiError::UnknownObject {
                param: param.into(),
                detail: e.to_string(),
            },
            RegistryError::Invalid { param, .. } => ApiError::Invalid {
                param: param.into(),
                detail: e.to_string(),
            },
            RegistryError::Conflict(code, detail) => ApiError::Conflict { code, detail },
            RegistryError::Calc(c) => ApiError::Calc(c),
            RegistryError::Ledger(LedgerError::Insufficient { .. }) => ApiError::Conflict {
                code: ProblemCode::InsufficientCredits,
                detail: "the account does not hold that many available units of the batch".into(),
            },
            RegistryError::Ledger(LedgerError::IdReused(id)) => ApiError::Conflict {
                code: ProblemCode::IdReused,
                detail: format!("{id} was already used for a different request"),
            },
            RegistryError::Ledger(LedgerError::Database(e)) | RegistryError::Database(e) => {
                e.into()
            }
            RegistryError::Ledger(other) => ApiError::internal(other),
        }
    }
}

impl From<crate::market::error::MarketError> for RegistryError {
    /// The market's and finance's refusals inside a registry transaction
    /// (a future-income pledge at issuance, a pledged batch).
    fn from(e: crate::market::error::MarketError) -> Self {
        use crate::market::error::MarketError as M;
        match e {
            M::Conflict(code, detail) | M::Rule(code, _, detail) => {
                RegistryError::Conflict(code, detail)
            }
            M::Ledger(e) => RegistryError::Ledger(e),
            M::Database(e) => RegistryError::Database(e),
            M::NotFound => RegistryError::NotFound,
            other => RegistryError::Database(DbErr::Custom(other.to_string())),
        }
    }
}

impl From<RegistryError> for crate::market::error::MarketError {
    /// The registry's refusals inside a market or rights transaction (a
    /// batch recorded for an allocation).
    fn from(e: RegistryError) -> Self {
        use crate::market::error::MarketError as M;
        match e {
            RegistryError::Forbidden(why) => M::Forbidden(why),
            RegistryError::NotFound => M::NotFound,
            RegistryError::Unknown { param, detail } => M::Unknown { param, detail },
            RegistryError::Invalid { param, detail } => M::Invalid { param, detail },
            RegistryError::Conflict(code, detail) => M::Conflict(code, detail),
            RegistryError::Ledger(e) => M::Ledger(e),
            RegistryError::Database(e) => M::Database(e),
            other @ RegistryError::Calc(_) => M::Database(DbErr::Custom(other.to_string())),
        }
    }
}
