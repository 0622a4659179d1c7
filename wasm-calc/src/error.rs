//! The one error type of the crate. Every failure names the JSON path of the
//! offending field, so the server can map it to a problem-details `param` and
//! a phone can highlight the right input.

use serde::Serialize;

/// Stable machine-readable error codes; clients and the server switch on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is not well-formed JSON.
    InvalidJson,
    /// A required field is absent.
    MissingField,
    /// A field the request type does not define (usually a typo).
    UnknownField,
    /// Wrong type or unparseable value (bad decimal, hex, timestamp, enum).
    InvalidValue,
    /// A well-formed value outside its allowed range.
    OutOfRange,
    /// A preset or factor table id the catalogue does not hold.
    UnknownMethodology,
    /// A travel mode the preset (or its bounds table) does not define.
    UnknownMode,
    /// A list longer than its limit.
    TooManyItems,
    /// A list shorter than its minimum.
    TooFewItems,
    /// Methodology tables that are inconsistent or conflict with loaded ones.
    InvalidMethodology,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::MissingField => "missing_field",
            ErrorCode::UnknownField => "unknown_field",
            ErrorCode::InvalidValue => "invalid_value",
            ErrorCode::OutOfRange => "out_of_range",
            ErrorCode::UnknownMethodology => "unknown_methodology",
            ErrorCode::UnknownMode => "unknown_mode",
            ErrorCode::TooManyItems => "too_many_items",
            ErrorCode::TooFewItems => "too_few_items",
            ErrorCode::InvalidMethodology => "invalid_methodology",
        }
    }
}

/// A calculation or validation failure. `field` is a JSON path such as
/// `legs[1].distance_km`; `request` means the request as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct CalcError {
    pub code: ErrorCode,
    pub field: String,
    pub message: String,
}

/// The path used when an error concerns the whole request.
pub const WHOLE_REQUEST: &str = "request";

impl CalcError {
    pub fn new(code: ErrorCode, field: impl Into<String>, message: impl Into<String>) -> Self {
        CalcError {
            code,
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn out_of_range(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorCode::OutOfRange, field, message)
    }

    pub fn invalid_value(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidValue, field, message)
    }

    /// Maps a deserialisation failure to the field it happened at.
    pub(crate) fn from_json(err: serde_path_to_error::Error<serde_json::Error>) -> Self {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = strip_position(&inner.to_string());
        let at = |name: &str| join_path(&path, name);
        match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                CalcError::new(
                    ErrorCode::InvalidJson,
                    WHOLE_REQUEST,
                    format!(
                        "{message} (line {}, column {})",
                        inner.line(),
                        inner.column()
                    ),
                )
            }
            serde_json::error::Category::Io => {
                CalcError::new(ErrorCode::InvalidJson, WHOLE_REQUEST, message)
            }
            serde_json::error::Category::Data => {
                if let Some(name) = backticked_after(&message, "missing field `") {
                    CalcError::new(ErrorCode::MissingField, at(&name), "is required")
                } else if message.starts_with("unknown field `") {
                    // The path already ends at the unknown field.
                    CalcError::new(ErrorCode::UnknownField, display_path(&path), message)
                } else {
                    CalcError::new(ErrorCode::InvalidValue, display_path(&path), message)
                }
            }
        }
    }
}

/// serde_path_to_error renders the root as `.`; we call it `request`.
fn display_path(path: &str) -> String {
    if path.is_empty() || path == "." {
        WHOLE_REQUEST.to_string()
    } else {
        path.to_string()
    }
}

fn join_path(parent: &str, name: &str) -> String {
    if parent.is_empty() || parent == "." {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

fn backticked_after(message: &str, prefix: &str) -> Option<String> {
    let rest = message.strip_prefix(prefix)?;
    rest.find('`').map(|end| rest[..end].to_string())
}

/// serde_json appends " at line L column C" to data errors; the field path
/// already says where, and positions differ between JSON texts of one value.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

pub type CalcResult<T> = Result<T, CalcError>;
