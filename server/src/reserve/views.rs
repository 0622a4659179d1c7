//! What the API shows of the reserve: each operation (to its parties in
//! full; to the public without the holder), and the reserve platform's
//! cash, stock and units lent out.

use std::collections::BTreeMap;

use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::Serialize;
use utoipa::ToSchema;

use super::entity::{operation, OperationKind, OperationStatus};
use crate::ledger::entity::balance;
use crate::ledger::Asset;
use crate::market::error::MarketError;
use crate::market::money;
use crate::market::participants;
use crate::orgs::entity::{organization, OrgKind, Status};
use crate::registry::entity::batch;

#[derive(Debug, Serialize, ToSchema)]
pub struct OperationView {
    pub id: String,
    pub kind: OperationKind,
    pub status: OperationStatus,
    pub reserve_organization_id: String,
    /// The holder; absent in the public list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// The holder's id of the offer; absent in the public list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// What the holder gives (buy-back, swap) or borrows (lease).
    pub instrument: String,
    /// Units (whole steps of the instrument), as a string.
    pub quantity: String,
    /// The holder's applicable guidance price, yuan per unit.
    pub price: String,
    /// `price × quantity`, yuan.
    pub value: String,
    /// A swap: what the reserve gives, at what price, how many units, and
    /// the rest of the value in cash (yuan, paid by the reserve).
    pub wanted_instrument: Option<String>,
    pub wanted_price: Option<String>,
    pub wanted_quantity: Option<String>,
    pub cash: Option<String>,
    /// A lease: its term, its last day (`YYYY-MM-DD`, once accepted),
    /// the yearly fee rate, the fee and the deposit (yuan).
    pub term_days: Option<i32>,
    pub due_on: Option<String>,
    pub fee_rate: Option<String>,
    pub fee: Option<String>,
    pub deposit: Option<String>,
    /// A lease paid from its deposit: the guidance price it was paid at,
    /// and what neither the deposit nor the lessee's cash covered (yuan).
    pub settled_price: Option<String>,
    pub shortfall: Option<String>,
    /// A take-over of pledged units: the pledge enforced (its pledgee
    /// bank is paid first).
    pub pledge_id: Option<String>,
    /// Why it was declined or withdrawn; absent in the public list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    pub decided_at: Option<String>,
    pub ended_at: Option<String>,
}

impl OperationView {
    /// Everything, for the operation's parties.
    pub fn full(m: operation::Model) -> Self {
        let mut v = Self::public(m.clone());
        v.organization_id = Some(m.organization_id);
        v.client_id = Some(m.client_id);
        v.reason = m.reason;
        v
    }

    /// Without the holder, its id and the reasons.
    pub fn public(m: operation::Model) -> Self {
        let wanted_quantity = m
            .wanted_instrument
            .as_deref()
            .zip(m.wanted_quantity)
            .map(|(w, q)| money::Step::of_code(w).show(q));
        OperationView {
            id: m.id,
            kind: m.kind,
            status: m.status,
            reserve_organization_id: m.reserve_organization_id,
            organization_id: None,
            client_id: None,
            quantity: money::Step::of_code(&m.instrument).show(m.quantity),
            instrument: m.instrument,
            price: money::yuan(m.price),
            value: money::yuan(m.value),
            wanted_instrument: m.wanted_instrument,
            wanted_price: m.wanted_price.map(money::yuan),
            wanted_quantity,
            cash: m.cash.map(money::yuan),
            term_days: m.term_days,
            due_on: m.due_on,
            fee_rate: m.fee_rate,
            fee: m.fee.map(money::yuan),
            deposit: m.deposit.map(money::yuan),
            settled_price: m.settled_price.map(money::yuan),
            shortfall: m.shortfall.map(money::yuan),
            pledge_id: m.pledge_id,
            reason: None,
            created_at: m.created_at.to_rfc3339(),
            decided_at: m.decided_at.map(|t| t.to_rfc3339()),
            ended_at: m.ended_at.map(|t| t.to_rfc3339()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StockLine {
    pub instrument: String,
    /// Units held (posted), whole steps of the instrument, as a string.
    pub units: String,
    /// Of which held by open orders, auctions or operations.
    pub held_units: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LentLine {
    pub instrument: String,
    /// Units lent out by active leases, as a string.
    pub units: String,
    pub leases: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReserveView {
    pub organization_id: String,
    pub name: String,
    /// Yuan: deposited cash available, and held by its bids, orders and
    /// accepted payments in flight.
    pub cash_available: String,
    pub cash_held: String,
    /// What it holds, by instrument.
    pub stock: Vec<StockLine>,
    /// What active leases owe back to it, by instrument.
    pub lent: Vec<LentLine>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReservesView {
    /// Every approved reserve platform.
    pub reserves: Vec<ReserveView>,
}

/// The approved reserve platforms, their cash, stock and what is lent.
pub async fn reserves(db: &DatabaseConnection) -> Result<ReservesView, MarketError> {
    let orgs = organization::Entity::find()
        .filter(organization::Column::Kind.eq(OrgKind::ReservePlatform))
        .filter(organization::Column::Status.eq(Status::Approved))
        .all(db)
        .await?;
    let mut out = Vec::new();
    for org in orgs {
        let account = participants::account_of(db, &org.id).await?;
        out.push(reserve_of(db, org, &account.id).await?);
    }
    Ok(ReservesView { reserves: out })
}

async fn reserve_of(
    db: &impl ConnectionTrait,
    org: organization::Model,
    account_id: &str,
) -> Result<ReserveView, MarketError> {
    let balances = balance::Entity::find()
        .filter(balance::Column::AccountId.eq(account_id))
        .all(db)
        .await?;
    let cny = Asset::cny();
    let (mut available, mut held) = (0i64, 0i64);
    let mut grams: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for b in &balances {
        if b.asset == cny.as_str() {
            available += b.posted - b.held;
            held += b.held;
        } else if let Some(batch) = b.asset.strip_prefix("credit:") {
            let e = grams.entry(batch.to_string()).or_default();
            e.0 += b.posted;
            e.1 += b.held;
        }
    }
    let batches = if grams.is_empty() {
        Vec::new()
    } else {
        batch::Entity::find()
            .filter(batch::Column::Id.is_in(grams.keys().cloned()))
            .all(db)
            .await?
    };
    let mut by_instrument: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for b in batches {
        let (posted, held) = grams.get(&b.id).copied().unwrap_or_default();
        if let Some(code) = b.instrument {
            let e = by_instrument.entry(code).or_default();
            e.0 += posted;
            e.1 += held;
        }
    }
    let stock = by_instrument
        .into_iter()
        .filter(|(_, (posted, _))| *posted > 0)
        .map(|(instrument, (posted, held))| {
            let (minor, lot) = crate::finance::views::minor_of(&instrument);
            let shown = |g: i64| crate::finance::views::units(g / lot * lot, minor);
            StockLine {
                instrument,
                units: shown(posted),
                held_units: shown(held),
            }
        })
        .collect();
    let active = operation::Entity::find()
        .filter(operation::Column::ReserveOrganizationId.eq(org.id.as_str()))
        .filter(operation::Column::Status.eq(OperationStatus::Active))
        .all(db)
        .await?;
    let mut lent: BTreeMap<String, (i64, u64)> = BTreeMap::new();
    for l in active {
        let e = lent.entry(l.instrument).or_default();
        e.0 += l.quantity;
        e.1 += 1;
    }
    Ok(ReserveView {
        organization_id: org.id,
        name: org.name,
        cash_available: money::yuan(available),
        cash_held: money::yuan(held),
        stock,
        lent: lent
            .into_iter()
            .map(|(instrument, (units, leases))| LentLine {
                units: money::Step::of_code(&instrument).show(units),
                instrument,
                leases,
            })
            .collect(),
    })
}

/// Which operations a list shows.
#[derive(Default)]
pub struct Filter<'a> {
    /// Operations of this reserve platform or holder (either side).
    pub party: Option<&'a str>,
    pub kind: Option<OperationKind>,
    pub status: Option<OperationStatus>,
    pub instrument: Option<&'a str>,
}

/// A page of operations, newest first.
pub async fn operations(
    db: &DatabaseConnection,
    f: Filter<'_>,
    after: Option<String>,
    limit: u64,
) -> Result<(Vec<operation::Model>, bool), MarketError> {
    use sea_orm::Condition;
    let mut q = operation::Entity::find();
    if let Some(org) = f.party {
        q = q.filter(
            Condition::any()
                .add(operation::Column::ReserveOrganizationId.eq(org))
                .add(operation::Column::OrganizationId.eq(org)),
        );
    }
    if let Some(k) = f.kind {
        q = q.filter(operation::Column::Kind.eq(k));
    }
    if let Some(s) = f.status {
        q = q.filter(operation::Column::Status.eq(s));
    }
    if let Some(code) = f.instrument {
        q = q.filter(operation::Column::Instrument.eq(code));
    }
    Ok(crate::pagination::fetch(
        db,
        q,
        operation::Column::Id,
        crate::pagination::Order::Descending,
        after,
        limit,
    )
    .await?)
}
