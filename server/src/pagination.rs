//! Cursor pagination as DESIGN.md fixes it: `limit` (1–100, default 20)
//! and `starting_after` (the id of the last item of the previous page);
//! pages answer `data` and `has_more`.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

pub const DEFAULT_LIMIT: u64 = 20;
pub const MAX_LIMIT: u64 = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 100 (default 20).
    pub limit: Option<u64>,
    /// The `id` of the last item of the previous page.
    pub starting_after: Option<String>,
}

impl PageQuery {
    pub fn limit(&self) -> Result<u64, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::Invalid {
                param: "limit".into(),
                detail: format!("limit: must be 1 to {MAX_LIMIT}"),
            }),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub data: Vec<T>,
    /// More items follow: ask again with `starting_after` = the last `id`.
    pub has_more: bool,
}
