//! What the API shows of pledges: everything to their parties (pledgor,
//! pledgee, guarantor), the encumbrance register to everyone
//! ([`super::encumbrance`]).

use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;

use super::entity::{
    event, pledge, valuation, EnforcementMethod, EventKind, GuaranteeStatus, PledgeStatus,
};
use crate::market::error::MarketError;
use crate::market::money::yuan;

/// Ledger minor units in one unit of `instrument` and in one of its lots
/// (the market's step: pledge quantities count lots, values units).
pub fn minor_of(instrument: &str) -> (i64, i64) {
    let class = crate::instruments::Code::parse(instrument).map(|c| c.class);
    let unit = class.map_or(crate::instruments::GRAMS_PER_TONNE, |c| c.unit().1);
    let step = class.map_or(
        crate::market::money::Step::UNIT,
        crate::market::money::Step::of,
    );
    (unit, step.minor_per_lot(unit))
}

/// `grams` as units of `minor` grams, exact decimal text.
pub fn units(grams: i64, minor: i64) -> String {
    (Decimal::from(grams) / Decimal::from(minor.max(1)))
        .normalize()
        .to_string()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PledgeView {
    pub id: String,
    pub status: PledgeStatus,
    pub pledgor_organization_id: String,
    pub pledgee_organization_id: String,
    pub client_id: String,
    pub instrument: String,
    /// Units pledged (future income: expected), decimal text.
    pub quantity: String,
    pub project_id: Option<String>,
    pub share: Option<String>,
    /// Units of the project's issuances taken so far.
    pub captured: String,
    /// The first-ranked pledge this one rests on, and its rank (1 first).
    pub ranks_behind: Option<String>,
    pub rank: i32,
    pub consented_at: Option<String>,
    pub ltv: Option<String>,
    /// Yuan.
    pub loan_amount: Option<String>,
    /// Yuan still owed (after enforcement: what it left unpaid).
    pub outstanding: String,
    pub matures_on: Option<String>,
    /// Units given back after partial repayments.
    pub released_units: String,
    /// The last valuation: price (yuan a unit) and day.
    pub last_price: Option<String>,
    pub last_valued_on: Option<String>,
    /// A margin call's last day to cure.
    pub call_deadline: Option<String>,
    pub guarantor_organization_id: Option<String>,
    pub guarantee_share: Option<String>,
    pub guarantee_status: Option<GuaranteeStatus>,
    /// Yuan of the guarantor's cash held for the guarantee.
    pub guarantee_held: String,
    /// Yuan the guarantor paid the bank at enforcement (the pledgor owes
    /// it to the guarantor).
    pub guarantor_paid: String,
    pub enforcement_method: Option<EnforcementMethod>,
    /// The reserve operation that takes the units over.
    pub enforcement_id: Option<String>,
    /// Yuan enforcement paid this pledgee, and what it left unpaid.
    pub proceeds: Option<String>,
    pub shortfall: Option<String>,
    pub reason: Option<String>,
    pub created_at: String,
    pub decided_at: Option<String>,
    pub ended_at: Option<String>,
}

impl From<pledge::Model> for PledgeView {
    fn from(p: pledge::Model) -> Self {
        let (minor, lot) = minor_of(&p.instrument);
        PledgeView {
            status: p.status,
            pledgor_organization_id: p.pledgor_organization_id,
            pledgee_organization_id: p.pledgee_organization_id,
            client_id: p.client_id,
            quantity: units(p.quantity * lot, minor),
            captured: units(p.captured_g, minor),
            instrument: p.instrument,
            project_id: p.project_id,
            share: p.share,
            ranks_behind: p.senior_pledge_id,
            rank: p.rank,
            consented_at: p.consented_at.map(|t| t.to_rfc3339()),
            ltv: p.ltv,
            loan_amount: p.loan_amount.map(yuan),
            outstanding: yuan(p.outstanding),
            matures_on: p.matures_on,
            released_units: units(p.released_units * lot, minor),
            last_price: p.last_price.map(yuan),
            last_valued_on: p.last_valued_on,
            call_deadline: p.call_deadline,
            guarantor_organization_id: p.guarantor_organization_id,
            guarantee_share: p.guarantee_share,
            guarantee_status: p.guarantee_status,
            guarantee_held: yuan(p.guarantee_held),
            guarantor_paid: yuan(p.guarantor_paid),
            enforcement_method: p.enforcement_method,
            enforcement_id: p.enforcement_id,
            proceeds: p.proceeds.map(yuan),
            shortfall: p.shortfall.map(yuan),
            reason: p.reason,
            created_at: p.created_at.to_rfc3339(),
            decided_at: p.decided_at.map(|t| t.to_rfc3339()),
            ended_at: p.ended_at.map(|t| t.to_rfc3339()),
            id: p.id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PledgeEventView {
    pub kind: EventKind,
    pub reference: Option<String>,
    /// Yuan (repayments, valuations at a call, enforcement proceeds).
    pub amount: Option<String>,
    /// Units (top-ups, releases, captures).
    pub units: Option<String>,
    /// JSON text with the event's figures (calls, enforcement).
    pub detail: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ValuationView {
    pub day: String,
    /// Yuan a unit: the lower of the guidance price and the close.
    pub price: String,
    pub collateral_units: String,
    pub value: String,
    pub outstanding: String,
    /// Owed to earlier ranks, yuan.
    pub senior: String,
    pub called: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PledgeDetail {
    pub pledge: PledgeView,
    /// Units held for it now (on the first rank of its chain), as a
    /// string.
    pub collateral: String,
    /// Oldest first.
    pub events: Vec<PledgeEventView>,
    /// The latest 60, newest first.
    pub valuations: Vec<ValuationView>,
}

pub async fn detail(
    db: &impl ConnectionTrait,
    p: pledge::Model,
) -> Result<PledgeDetail, MarketError> {
    let (minor, lot) = minor_of(&p.instrument);
    let held = super::collateral::grams(
        &super::collateral::lots_of(db, super::pledges::root_id(&p)).await?,
    );
    let events = event::Entity::find()
        .filter(event::Column::PledgeId.eq(p.id.as_str()))
        .order_by_asc(event::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|e| PledgeEventView {
            kind: e.kind,
            reference: e.reference,
            amount: e.amount.map(yuan),
            units: e.units.map(|u| units(u * lot, minor)),
            detail: e.detail,
            created_at: e.created_at.to_rfc3339(),
        })
        .collect();
    let valuations = valuation::Entity::find()
        .filter(valuation::Column::PledgeId.eq(p.id.as_str()))
        .order_by_desc(valuation::Column::Day)
        .limit(60)
        .all(db)
        .await?
        .into_iter()
        .map(|v| ValuationView {
            day: v.day,
            price: yuan(v.price),
            collateral_units: units(v.collateral_units * lot, minor),
            value: yuan(v.value),
            outstanding: yuan(v.outstanding),
            senior: yuan(v.senior),
            called: v.called,
        })
        .collect();
    Ok(PledgeDetail {
        pledge: p.into(),
        collateral: units(held, minor),
        events,
        valuations,
    })
}
