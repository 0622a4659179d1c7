//! What the API shows of insurance policies and claims: everything, to the
//! insurer and the holder.

use serde::Serialize;
use utoipa::ToSchema;

use super::entity::{claim, policy, ClaimStatus, PolicyKind, PolicyStatus};
use crate::market::money::yuan;

#[derive(Debug, Serialize, ToSchema)]
pub struct InsurancePolicyView {
    pub id: String,
    pub kind: PolicyKind,
    pub status: PolicyStatus,
    pub insurer_organization_id: String,
    pub holder_organization_id: String,
    pub client_id: String,
    pub project_id: Option<String>,
    pub policy_year: Option<i32>,
    /// t CO2e.
    pub insured_stock_t: Option<String>,
    pub threshold_t: Option<String>,
    /// Yuan per tonne of loss over the threshold.
    pub price_per_t: Option<String>,
    pub instrument: Option<String>,
    pub quantity: Option<String>,
    /// Yuan per unit.
    pub strike: Option<String>,
    pub starts_on: String,
    pub ends_on: String,
    pub averaging_days: Option<i32>,
    /// Yuan.
    pub maximum: String,
    pub premium: String,
    pub paid: String,
    pub reason: Option<String>,
    pub created_at: String,
    pub answered_at: Option<String>,
    pub ended_at: Option<String>,
}

fn tonnes(g: i64) -> String {
    super::views::units(g, crate::instruments::GRAMS_PER_TONNE)
}

impl From<policy::Model> for InsurancePolicyView {
    fn from(p: policy::Model) -> Self {
        InsurancePolicyView {
            id: p.id,
            kind: p.kind,
            status: p.status,
            insurer_organization_id: p.insurer_organization_id,
            holder_organization_id: p.holder_organization_id,
            client_id: p.client_id,
            project_id: p.project_id,
            policy_year: p.policy_year,
            insured_stock_t: p.insured_stock_g.map(tonnes),
            threshold_t: p.threshold_g.map(tonnes),
            price_per_t: p.price_per_t.map(yuan),
            quantity: p
                .instrument
                .as_deref()
                .zip(p.quantity)
                .map(|(i, q)| crate::market::money::Step::of_code(i).show(q)),
            instrument: p.instrument,
            strike: p.strike.map(yuan),
            starts_on: p.starts_on,
            ends_on: p.ends_on,
            averaging_days: p.averaging_days,
            maximum: yuan(p.maximum),
            premium: yuan(p.premium),
            paid: yuan(p.paid),
            reason: p.reason,
            created_at: p.created_at.to_rfc3339(),
            answered_at: p.answered_at.map(|t| t.to_rfc3339()),
            ended_at: p.ended_at.map(|t| t.to_rfc3339()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InsuranceClaimView {
    pub id: String,
    pub policy_id: String,
    /// `reversal:<id>` or `settlement:<day>`.
    pub basis: String,
    pub status: ClaimStatus,
    /// Yuan this claim pays.
    pub payout: String,
    /// The rule's request and answer (`carbon_calc::insurance`), as the
    /// on-device `estimateSinkInsurance` / `estimatePriceInsurance` take
    /// and give them.
    #[schema(value_type = Object)]
    pub computation: serde_json::Value,
    pub created_at: String,
    pub updated_at: String,
    pub decided_at: Option<String>,
}

impl From<claim::Model> for InsuranceClaimView {
    fn from(c: claim::Model) -> Self {
        InsuranceClaimView {
            id: c.id,
            policy_id: c.policy_id,
            basis: c.basis,
            status: c.status,
            payout: yuan(c.payout),
            computation: serde_json::from_str(&c.computation).unwrap_or_default(),
            created_at: c.created_at.to_rfc3339(),
            updated_at: c.updated_at.to_rfc3339(),
            decided_at: c.decided_at.map(|t| t.to_rfc3339()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InsurancePolicyDetail {
    pub policy: InsurancePolicyView,
    /// Oldest first.
    pub claims: Vec<InsuranceClaimView>,
}
