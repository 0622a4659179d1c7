//! What pledges encumber: the refusal that names them when a route would
//! move pledged units, and the public register (per instrument and batch,
//! the pledged quantity, the pledgee and the dates; never the loan).

use std::collections::BTreeMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use utoipa::ToSchema;

use super::entity::{lot, pledge, PledgeStatus};
use crate::market::error::MarketError;
use crate::market::holds;
use crate::orgs::entity::organization;
use crate::problem::ProblemCode;

/// The live first-ranked pledges of the account's organisation whose
/// lots hold units of one of `batches`, with the grams they hold of them.
async fn pledges_on(
    db: &impl ConnectionTrait,
    account_id: &str,
    batches: &[String],
) -> Result<Vec<(pledge::Model, i64)>, MarketError> {
    let Some(org) = crate::accounts::entity::Entity::find_by_id(account_id.to_string())
        .one(db)
        .await?
        .and_then(|a| a.organization_id)
    else {
        return Ok(Vec::new());
    };
    let lots = lot::Entity::find()
        .filter(lot::Column::BatchId.is_in(batches.iter().map(String::as_str)))
        .filter(lot::Column::Grams.gt(0))
        .all(db)
        .await?;
    if lots.is_empty() {
        return Ok(Vec::new());
    }
    let mut grams: BTreeMap<String, i64> = BTreeMap::new();
    for l in &lots {
        *grams.entry(l.pledge_id.clone()).or_default() += l.grams;
    }
    let pledges = pledge::Entity::find()
        .filter(pledge::Column::Id.is_in(grams.keys().map(String::as_str)))
        .filter(pledge::Column::PledgorOrganizationId.eq(org))
        .filter(pledge::Column::Status.is_in(PledgeStatus::LIVE))
        .order_by_asc(pledge::Column::Id)
        .all(db)
        .await?;
    Ok(pledges
        .into_iter()
        .map(|p| {
            let g = grams.get(&p.id).copied().unwrap_or(0);
            (p, g)
        })
        .collect())
}

/// `err` (a shortage of units of `instrument`, or of one batch when
/// `instrument` is a batch id) as the caller should see it: when units
/// pledged would have covered `wanted` grams, `units_pledged` naming the
/// pledges; otherwise `err` itself.
pub async fn short_of_units(
    db: &impl ConnectionTrait,
    err: MarketError,
    account_id: &str,
    instrument_or_batch: &str,
    wanted: i64,
) -> MarketError {
    if !is_short(&err) {
        return err;
    }
    match pledged_refusal(db, account_id, instrument_or_batch, wanted).await {
        Ok(Some(named)) => named,
        Ok(None) => err,
        Err(e) => e,
    }
}

fn is_short(err: &MarketError) -> bool {
    matches!(
        err,
        MarketError::Conflict(ProblemCode::InsufficientUnits, _)
            | MarketError::Conflict(ProblemCode::InsufficientCredits, _)
            | MarketError::Ledger(crate::ledger::LedgerError::Insufficient { .. })
    )
}

/// [`short_of_units`] for an organisation's order, offer or lot of
/// `units` of `instrument`.
pub async fn for_org(
    db: &impl ConnectionTrait,
    err: MarketError,
    org_id: &str,
    instrument: &str,
    units: crate::amount::Units,
) -> MarketError {
    use rust_decimal::prelude::ToPrimitive;
    if !is_short(&err) {
        return err;
    }
    let Some(code) = crate::instruments::Code::parse(instrument) else {
        return err;
    };
    match crate::market::participants::account_of(db, org_id).await {
        Ok(account) => {
            let grams = (units.0 * rust_decimal::Decimal::from(code.class.unit().1))
                .to_i64()
                .unwrap_or(i64::MAX);
            short_of_units(db, err, &account.id, instrument, grams).await
        }
        Err(_) => err,
    }
}

/// The refusal naming what holds the units the caller lacks: pledges
/// first, then allocations not yet converted (`crate::rights`).
async fn pledged_refusal(
    db: &impl ConnectionTrait,
    account_id: &str,
    instrument_or_batch: &str,
    wanted: i64,
) -> Result<Option<MarketError>, MarketError> {
    let (batches, minor) = match crate::instruments::Code::parse(instrument_or_batch) {
        Some(code) => (
            holds::batches_of(db, instrument_or_batch).await?,
            code.class.unit().1,
        ),
        None => (
            vec![instrument_or_batch.to_string()],
            batch_minor(db, instrument_or_batch).await?,
        ),
    };
    let balances = crate::ledger::entity::balance::Entity::find()
        .filter(crate::ledger::entity::balance::Column::AccountId.eq(account_id))
        .filter(
            crate::ledger::entity::balance::Column::Asset
                .is_in(batches.iter().map(|b| format!("credit:{b}"))),
        )
        .all(db)
        .await?;
    let available: i64 = balances.iter().map(|b| b.posted - b.held).sum();
    let pledged = pledges_on(db, account_id, &batches).await?;
    let under_pledge: i64 = pledged.iter().map(|(_, g)| g).sum();
    if pledged.is_empty() || available + under_pledge < wanted {
        return crate::rights::conversion::unconverted_refusal(
            db,
            account_id,
            instrument_or_batch,
            &batches,
            available,
            wanted,
            minor,
        )
        .await;
    }
    let names: Vec<String> = pledged
        .iter()
        .map(|(p, g)| {
            format!(
                "{} under pledge {} to {}",
                crate::finance::views::units(*g, minor),
                p.id,
                p.pledgee_organization_id
            )
        })
        .collect();
    Ok(Some(MarketError::Conflict(
        ProblemCode::UnitsPledged,
        format!(
            "only {} of {instrument_or_batch} are free: {} (pledged units are not sold, transferred, retired, leased or pledged again; a second pledge ranks behind the first with its pledgee's consent)",
            crate::finance::views::units(available.max(0), minor),
            names.join("; ")
        ),
    )))
}

/// Minor units in one unit of a batch: its instrument's class's (a batch
/// issued before instruments, carbon, counts in tonnes).
async fn batch_minor(db: &impl ConnectionTrait, batch_id: &str) -> Result<i64, MarketError> {
    let instrument = crate::registry::entity::batch::Entity::find_by_id(batch_id.to_string())
        .one(db)
        .await?
        .and_then(|b| b.instrument);
    Ok(instrument
        .as_deref()
        .and_then(crate::instruments::Code::parse)
        .map_or(crate::instruments::GRAMS_PER_TONNE, |c| c.class.unit().1))
}

/// Grams of `instrument` the account's live pledges hold.
pub async fn pledged_grams(
    db: &impl ConnectionTrait,
    account_id: &str,
    instrument: &str,
) -> Result<i64, MarketError> {
    let batches = holds::batches_of(db, instrument).await?;
    if batches.is_empty() {
        return Ok(0);
    }
    Ok(pledges_on(db, account_id, &batches)
        .await?
        .iter()
        .map(|(_, g)| g)
        .sum())
}

/// One line of the public register.
#[derive(Debug, Serialize, ToSchema)]
pub struct Encumbrance {
    pub pledge_id: String,
    pub instrument: String,
    /// The batch the units are of; none for the part of a future-income
    /// pledge not yet issued.
    pub batch_id: Option<String>,
    /// The project whose future issuance is pledged.
    pub project_id: Option<String>,
    /// Units (decimal text, up to six places).
    #[schema(example = "1000")]
    pub quantity: String,
    pub pledgor_organization_id: String,
    pub pledgee_organization_id: String,
    pub pledgee_name: String,
    /// 1: first-ranked; later ranks rest on the same units.
    pub rank: i32,
    /// `pledged`, or `enforcing` once the bank declared enforcement.
    pub state: String,
    /// Confirmed by the bank.
    pub since: String,
    pub matures_on: Option<String>,
}

/// Every live pledge of `instrument` (or of all), by pledge and batch.
pub async fn register(
    db: &impl ConnectionTrait,
    instrument: Option<&str>,
) -> Result<Vec<Encumbrance>, MarketError> {
    let mut q = pledge::Entity::find().filter(pledge::Column::Status.is_in(PledgeStatus::LIVE));
    if let Some(code) = instrument {
        q = q.filter(pledge::Column::Instrument.eq(code));
    }
    let pledges = q
        .order_by_asc(pledge::Column::Instrument)
        .order_by_asc(pledge::Column::Id)
        .all(db)
        .await?;
    let roots: Vec<String> = pledges
        .iter()
        .map(|p| super::pledges::root_id(p).to_string())
        .collect();
    let lots = lot::Entity::find()
        .filter(lot::Column::PledgeId.is_in(roots.iter().map(String::as_str)))
        .filter(lot::Column::Grams.gt(0))
        .all(db)
        .await?;
    let banks: BTreeMap<String, String> = organization::Entity::find()
        .filter(
            organization::Column::Id
                .is_in(pledges.iter().map(|p| p.pledgee_organization_id.as_str())),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let mut out = Vec::new();
    for (p, root) in pledges.iter().zip(&roots) {
        let minor = crate::instruments::Code::parse(&p.instrument)
            .map_or(crate::instruments::GRAMS_PER_TONNE, |c| c.class.unit().1);
        let mut per_batch: BTreeMap<&str, i64> = BTreeMap::new();
        for l in lots.iter().filter(|l| &l.pledge_id == root) {
            *per_batch.entry(l.batch_id.as_str()).or_default() += l.grams;
        }
        let line = |batch: Option<String>, grams: i64| Encumbrance {
            pledge_id: p.id.clone(),
            instrument: p.instrument.clone(),
            batch_id: batch,
            project_id: p.project_id.clone(),
            quantity: crate::finance::views::units(grams, minor),
            pledgor_organization_id: p.pledgor_organization_id.clone(),
            pledgee_organization_id: p.pledgee_organization_id.clone(),
            pledgee_name: banks
                .get(&p.pledgee_organization_id)
                .cloned()
                .unwrap_or_default(),
            rank: p.rank,
            state: if p.status == PledgeStatus::Enforcing {
                "enforcing".into()
            } else {
                "pledged".into()
            },
            since: p.decided_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            matures_on: p.matures_on.clone(),
        };
        for (batch, grams) in per_batch {
            out.push(line(Some(batch.to_string()), grams));
        }
        let expected = super::pledges::expected_grams(p);
        if expected > 0 {
            out.push(line(None, expected));
        }
    }
    Ok(out)
}
