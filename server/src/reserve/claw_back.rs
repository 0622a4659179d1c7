//! Claw-back (无偿收回): government staff order rights allocated to a
//! closed, bankrupt or relocated enterprise returned to the reserve
//! without payment. It applies to allocated rights only
//! ([`Class::allocated`](crate::instruments::Class::allocated)); issued
//! carbon credits are refused, whoever holds them.

use serde::Deserialize;
use utoipa::ToSchema;

use super::offers::reserve_platform;
use crate::auth::extract::Principal;
use crate::auth::roles::Role;
use crate::market::error::MarketError;
use crate::market::{listing, money};
use crate::orgs::entity::organization;
use crate::problem::ProblemCode;
use sea_orm::{DatabaseConnection, EntityTrait};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClawBackInput {
    /// The enterprise whose rights return.
    pub organization_id: String,
    /// The reserve platform that receives them.
    pub reserve_organization_id: String,
    #[schema(example = "TPH-FOR-2025")]
    pub instrument: String,
    #[serde(deserialize_with = "crate::amount::deserialize")]
    #[schema(value_type = String, example = "1000")]
    pub quantity: i64,
    /// Why (closure, bankruptcy, relocation), for the record.
    pub reason: String,
    /// SHA-256 of the decision document, 64 hex digits.
    #[schema(example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub document_sha256: String,
}

/// Checks the order and refuses it for instruments that are not
/// allocated rights — today every instrument, all of them carbon credits.
pub async fn order(
    db: &DatabaseConnection,
    who: &Principal,
    input: &ClawBackInput,
) -> Result<(), MarketError> {
    if !(who.is_admin() || who.has_role(Role::Government)) {
        return Err(MarketError::Forbidden(
            "only government staff order a claw-back",
        ));
    }
    let code = listing::parse_code("instrument", &input.instrument)?;
    money::check_quantity(input.quantity)
        .map_err(|e| MarketError::invalid("quantity", e.to_string()))?;
    crate::text::clean(
        &input.reason,
        crate::text::REASON_MAX,
        crate::text::Shape::Paragraph,
    )
    .map_err(|e| MarketError::invalid("reason", e.to_string()))?;
    let hash = &input.document_sha256;
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(MarketError::invalid(
            "document_sha256",
            "the SHA-256 of the decision document, 64 hex digits",
        ));
    }
    organization::Entity::find_by_id(input.organization_id.clone())
        .one(db)
        .await?
        .ok_or_else(|| MarketError::unknown("organization_id", "no such organisation"))?;
    reserve_platform(
        db,
        "reserve_organization_id",
        &input.reserve_organization_id,
    )
    .await?;
    if !code.class.allocated() {
        return Err(MarketError::Conflict(
            ProblemCode::ClawBackNotApplicable,
            format!(
                "{code} holds issued carbon credits, which are never clawed back; claw-back returns allocated rights"
            ),
        ));
    }
    // An allocated class reaches here; none exists yet, and its transfer
    // comes with it (allocation is that class's own capability).
    Err(MarketError::Conflict(
        ProblemCode::ClawBackNotApplicable,
        format!("{code} has no allocation to return"),
    ))
}
