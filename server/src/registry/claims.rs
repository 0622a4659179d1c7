//! Carbon-neutral claims: an organisation states a footprint (its own
//! figure, or computed by carbon-calc from electricity used or methane
//! emitted) for a period or an event, and attaches retirements made from
//! its account. Each retirement covers one claim only, so retired units
//! are never counted twice; the claim shows covered and uncovered grams.

use chrono::{DateTime, FixedOffset, NaiveDate};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use carbon_calc::json::parse_request;
use carbon_calc::{grid, methane, Catalog};

use super::entity::{claim, claim_retirement, retirement};
use super::error::{unique_violation, RegistryError};
use super::issuance::organization_account;
use super::reports::Activity;
use crate::auth::extract::Principal;
use crate::orgs::entity::organization;
use crate::problem::ProblemCode;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimInput {
    pub organization_id: String,
    /// The organisation's year, or the event (e.g. "2026 兰州新区马拉松").
    pub subject: String,
    #[schema(value_type = String, format = Date)]
    pub period_start: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub period_end: NaiveDate,
    /// The footprint in grams, as the organisation states it; or leave it
    /// out and give `activity` for carbon-calc to compute it (an integer
    /// string).
    #[serde(default, deserialize_with = "crate::amount::deserialize_option")]
    #[schema(value_type = Option<String>)]
    pub footprint_g: Option<i64>,
    /// `grid` (electricity used, MWh × the grid factor) or `methane`
    /// (t CH4 × GWP), in carbon-calc's request shape.
    #[serde(default)]
    pub activity: Option<Activity>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimView {
    pub id: String,
    pub organization_id: String,
    pub subject: String,
    pub period_start: String,
    pub period_end: String,
    pub footprint_g: String,
    /// How the footprint was found.
    #[schema(value_type = Object)]
    pub basis: serde_json::Value,
    /// Retirements attached to the claim.
    pub retirement_ids: Vec<String>,
    pub covered_g: String,
    pub uncovered_g: String,
    /// Covered in full.
    pub carbon_neutral: bool,
    pub created_at: String,
}

/// The staff of the organisation may make its claims.
async fn staff_org(
    db: &impl ConnectionTrait,
    who: &Principal,
    org_id: &str,
) -> Result<organization::Model, RegistryError> {
    let org = organization::Entity::find_by_id(org_id.to_string())
        .one(db)
        .await?
        .filter(|o| who.has_role_in(o.kind.staff_role(), &o.id))
        .ok_or(RegistryError::Forbidden(
            "only the organisation's staff make its claims",
        ))?;
    Ok(org)
}

pub async fn create(
    db: &DatabaseConnection,
    catalog: &Catalog,
    who: &Principal,
    input: &ClaimInput,
    now: DateTime<FixedOffset>,
) -> Result<claim::Model, RegistryError> {
    let input = &ClaimInput {
        subject: super::error::clean_text(
            "subject",
            &input.subject,
            crate::text::NAME_MAX,
            crate::text::Shape::Line,
        )?,
        ..input.clone()
    };
    super::error::check_date("period_start", input.period_start)?;
    super::error::check_date("period_end", input.period_end)?;
    if input.period_end < input.period_start {
        return Err(RegistryError::invalid(
            "period_end",
            "must not be before period_start",
        ));
    }
    let (grams, basis) = match (&input.footprint_g, &input.activity) {
        (Some(g), None) => {
            if !(1..=crate::ledger::service::MAX_AMOUNT).contains(g) {
                return Err(RegistryError::invalid(
                    "footprint_g",
                    "must be 1 to 10^15 grams",
                ));
            }
            (*g, json!({"stated_by": "organization"}))
        }
        (None, Some(a)) => {
            let text = a.request.to_string();
            let (g, estimate) = match a.calculator.as_str() {
                "grid" => {
                    let e = grid::estimate(catalog, &parse_request(&text)?)?;
                    (e.credited_g, serde_json::to_value(&e).expect("serialises"))
                }
                "methane" => {
                    let e = methane::estimate(catalog, &parse_request(&text)?)?;
                    (e.credited_g, serde_json::to_value(&e).expect("serialises"))
                }
                _ => {
                    return Err(RegistryError::invalid(
                        "activity.calculator",
                        "footprints are computed by `grid` or `methane`",
                    ))
                }
            };
            if g < 1 {
                return Err(RegistryError::invalid("activity", "the footprint is zero"));
            }
            (g, json!({"calculator": a.calculator, "estimate": estimate}))
        }
        _ => {
            return Err(RegistryError::invalid(
                "footprint_g",
                "give either footprint_g or activity",
            ))
        }
    };
    staff_org(db, who, &input.organization_id).await?;
    Ok(claim::Entity::insert(claim::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        organization_id: Set(input.organization_id.clone()),
        subject: Set(input.subject.clone()),
        period_start: Set(input.period_start.to_string()),
        period_end: Set(input.period_end.to_string()),
        footprint_g: Set(grams),
        basis: Set(basis.to_string()),
        created_by: Set(who.user_id.to_string()),
        created_at: Set(now),
    })
    .exec_with_returning(db)
    .await?)
}

/// Attaches a retirement made from the organisation's account.
pub async fn attach(
    db: &DatabaseConnection,
    who: &Principal,
    claim_id: &str,
    retirement_id: &str,
    now: DateTime<FixedOffset>,
) -> Result<claim::Model, RegistryError> {
    let c = find(db, claim_id).await?;
    staff_org(db, who, &c.organization_id).await?;
    let account = organization_account(db, &c.organization_id).await?;
    let r = retirement::Entity::find_by_id(retirement_id.to_string())
        .one(db)
        .await?
        .filter(|r| r.account_id == account.id)
        .ok_or_else(|| {
            RegistryError::invalid(
                "retirement_id",
                "no retirement from this organisation's account with that id",
            )
        })?;
    let inserted = claim_retirement::Entity::insert(claim_retirement::ActiveModel {
        retirement_id: Set(r.id),
        claim_id: Set(c.id.clone()),
        created_at: Set(now),
    })
    .exec_without_returning(db)
    .await;
    match inserted {
        Ok(_) => Ok(c),
        Err(e) if unique_violation(&e) => Err(RegistryError::Conflict(
            ProblemCode::RetirementAlreadyClaimed,
            "that retirement already covers a claim".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<claim::Model, RegistryError> {
    claim::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(RegistryError::NotFound)
}

pub async fn view(db: &impl ConnectionTrait, c: claim::Model) -> Result<ClaimView, RegistryError> {
    let links = claim_retirement::Entity::find()
        .filter(claim_retirement::Column::ClaimId.eq(c.id.as_str()))
        .all(db)
        .await?;
    let ids: Vec<String> = links.into_iter().map(|l| l.retirement_id).collect();
    let covered: i64 = retirement::Entity::find()
        .filter(retirement::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?
        .iter()
        .map(|r| r.quantity_g)
        .sum();
    let uncovered = (c.footprint_g - covered).max(0);
    Ok(ClaimView {
        id: c.id,
        organization_id: c.organization_id,
        subject: c.subject,
        period_start: c.period_start,
        period_end: c.period_end,
        footprint_g: c.footprint_g.to_string(),
        basis: serde_json::from_str(&c.basis).unwrap_or_default(),
        retirement_ids: ids,
        covered_g: covered.to_string(),
        uncovered_g: uncovered.to_string(),
        carbon_neutral: uncovered == 0,
        created_at: c.created_at.to_rfc3339(),
    })
}
