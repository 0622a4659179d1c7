//! A holder's offer to the reserve platform: a buy-back (收储), a swap
//! (置换) or a lease (租赁). The offer is priced at the holder's
//! applicable guidance price of the day and holds what the holder gives
//! (its units, or for a lease the deposit and fee) until the reserve
//! answers or the holder withdraws; the holder's id for it makes a
//! repeat answer the first.

use chrono::{DateTime, FixedOffset};
use rust_decimal::Decimal;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, Set,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::entity::{operation, OperationKind, OperationStatus};
use super::lots::{self, Holder};
use super::terms;
use crate::amount::Units;
use crate::auth::extract::Principal;
use crate::instruments::Code;
use crate::ledger::{self, Asset, Command, LedgerError, Request};
use crate::market::error::MarketError;
use crate::market::listing;
use crate::market::money::{self, Step};
use crate::market::participants::{self, Participant};
use crate::market::rules::MarketRules;
use crate::orgs::entity::{organization, OrgKind};
use crate::pricing::guidance::applicable_price;
use crate::pricing::rules::PricingRules;
use crate::problem::ProblemCode;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuyBackInput {
    /// The holder (the caller acts for it).
    pub organization_id: String,
    /// The reserve platform offered to.
    pub reserve_organization_id: String,
    /// The holder's id of the offer, unique among its reserve operations:
    /// the same id with the same offer answers the first; with another,
    /// 409 `id_reused`.
    #[schema(example = "2026-12-07-BB-01")]
    pub client_id: String,
    #[schema(example = "TPH-FOR-2025")]
    pub instrument: String,
    /// Units, a whole number of the instrument's steps.
    #[schema(value_type = String, example = "1000")]
    pub quantity: Units,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SwapInput {
    pub organization_id: String,
    pub reserve_organization_id: String,
    #[schema(example = "2026-12-07-SW-01")]
    pub client_id: String,
    /// What the holder gives.
    #[schema(example = "TPH-FOR-2025")]
    pub instrument: String,
    /// Units given, a whole number of the instrument's steps.
    #[schema(value_type = String, example = "1000")]
    pub quantity: Units,
    /// What the holder wants from the reserve's stock.
    #[schema(example = "TPH-PRJ-2025")]
    pub wanted_instrument: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaseInput {
    /// The lessee (the caller acts for it).
    pub organization_id: String,
    pub reserve_organization_id: String,
    #[schema(example = "2026-12-07-LS-01")]
    pub client_id: String,
    /// What is borrowed from the reserve's stock.
    #[schema(example = "TPH-FOR-2025")]
    pub instrument: String,
    /// Units, a whole number of the instrument's steps.
    #[schema(value_type = String, example = "1000")]
    pub quantity: Units,
    /// Days from acceptance to the day the units are due back (1 to
    /// `lease_max_days`, 1,095 by default).
    #[schema(example = 90)]
    pub term_days: i32,
}

/// An offer, whatever its kind.
pub struct Offer {
    pub kind: OperationKind,
    pub organization_id: String,
    pub reserve_organization_id: String,
    pub client_id: String,
    pub instrument: String,
    pub quantity: Units,
    pub wanted_instrument: Option<String>,
    pub term_days: Option<i32>,
}

impl From<BuyBackInput> for Offer {
    fn from(i: BuyBackInput) -> Self {
        Offer {
            kind: OperationKind::BuyBack,
            organization_id: i.organization_id,
            reserve_organization_id: i.reserve_organization_id,
            client_id: i.client_id,
            instrument: i.instrument,
            quantity: i.quantity,
            wanted_instrument: None,
            term_days: None,
        }
    }
}

impl From<SwapInput> for Offer {
    fn from(i: SwapInput) -> Self {
        Offer {
            kind: OperationKind::Swap,
            organization_id: i.organization_id,
            reserve_organization_id: i.reserve_organization_id,
            client_id: i.client_id,
            instrument: i.instrument,
            quantity: i.quantity,
            wanted_instrument: Some(i.wanted_instrument),
            term_days: None,
        }
    }
}

impl From<LeaseInput> for Offer {
    fn from(i: LeaseInput) -> Self {
        Offer {
            kind: OperationKind::Lease,
            organization_id: i.organization_id,
            reserve_organization_id: i.reserve_organization_id,
            client_id: i.client_id,
            instrument: i.instrument,
            quantity: i.quantity,
            wanted_instrument: None,
            term_days: Some(i.term_days),
        }
    }
}

/// An operation and whether this request made it.
pub struct Done {
    pub operation: operation::Model,
    /// Nothing happened now: it was made or answered before.
    pub replayed: bool,
}

/// The ledger's hold of a lease's deposit and fee on the lessee's cash.
pub fn cash_hold_id(op_id: &str) -> String {
    format!("reserve:{op_id}:cash")
}

/// The organisation `org_id` (field `param`) when it is a reserve platform
/// that takes part in the market.
pub async fn reserve_platform(
    db: &impl ConnectionTrait,
    param: &'static str,
    org_id: &str,
) -> Result<Participant, MarketError> {
    let p = participants::participant(db, param, org_id).await?;
    if p.org.kind != OrgKind::ReservePlatform {
        return Err(MarketError::unknown(param, "not a reserve platform"));
    }
    Ok(p)
}

/// The organisation's applicable guidance price of `code` on the day of
/// `now`, fen per unit.
pub async fn price_for(
    db: &impl ConnectionTrait,
    code: &str,
    org: &organization::Model,
    now: DateTime<FixedOffset>,
) -> Result<i64, MarketError> {
    let day = crate::clock::china_date(now);
    applicable_price(db, code, org, day)
        .await?
        .map(|(_, _, price)| price)
        .ok_or_else(|| {
            MarketError::Conflict(
                ProblemCode::NoGuidancePrice,
                format!("{code} has no guidance price in force on {day}"),
            )
        })
}

fn request_hash(
    o: &Offer,
    lots: i64,
    reserve_id: &str,
    code: &str,
    wanted: Option<&str>,
) -> String {
    let body = serde_json::json!([o.kind, reserve_id, code, lots, wanted, o.term_days]);
    hex::encode(Sha256::digest(body.to_string().as_bytes()))
}

async fn by_client_id(
    db: &impl ConnectionTrait,
    org_id: &str,
    client_id: &str,
) -> Result<Option<operation::Model>, MarketError> {
    Ok(operation::Entity::find()
        .filter(operation::Column::OrganizationId.eq(org_id))
        .filter(operation::Column::ClientId.eq(client_id))
        .one(db)
        .await?)
}

fn replay(first: operation::Model, hash: &str) -> Result<Done, MarketError> {
    if first.request_hash != hash {
        return Err(MarketError::Conflict(
            ProblemCode::IdReused,
            format!(
                "client_id {} was used before for a different offer",
                first.client_id
            ),
        ));
    }
    Ok(Done {
        operation: first,
        replayed: true,
    })
}

/// What an offer comes to at today's applicable prices.
struct Priced {
    price: i64,
    value: i64,
    wanted: Option<(String, i64, i64, i64)>,
    lease: Option<(terms::Lease, Decimal)>,
}

#[allow(clippy::too_many_arguments)]
async fn priced(
    db: &impl ConnectionTrait,
    o: &Offer,
    quantity: i64,
    code: &Code,
    wanted: Option<&Code>,
    org: &organization::Model,
    rules: &PricingRules,
    now: DateTime<FixedOffset>,
) -> Result<Priced, MarketError> {
    let instrument = code.to_string();
    let price = price_for(db, &instrument, org, now).await?;
    let step = Step::of(code.class);
    let value = money::value(price, quantity, step)
        .map_err(|e| MarketError::invalid("quantity", e.to_string()))?;
    let mut out = Priced {
        price,
        value,
        wanted: None,
        lease: None,
    };
    if let Some(wanted) = wanted {
        let w = wanted.to_string();
        let wanted_price = price_for(db, &w, org, now).await?;
        let s = terms::swap(quantity, price, step, wanted_price, Step::of(wanted.class))
            .map_err(|e| MarketError::invalid("quantity", e.to_string()))?;
        if s.wanted_quantity == 0 {
            return Err(MarketError::invalid(
                "quantity",
                format!(
                    "{} units of {instrument} at {} yuan are worth less than one step of {w} at {} yuan",
                    step.show(quantity),
                    money::yuan(price),
                    money::yuan(wanted_price)
                ),
            ));
        }
        out.wanted = Some((w, wanted_price, s.wanted_quantity, s.cash));
    }
    if let Some(days) = o.term_days {
        let l = terms::lease(
            quantity,
            price,
            step,
            days,
            rules.lease_fee_rate,
            rules.lease_deposit_rate,
        )
        .map_err(|e| MarketError::invalid("quantity", e.to_string()))?;
        l.deposit
            .checked_add(l.fee)
            .filter(|c| *c <= money::MAX_VALUE_FEN)
            .ok_or_else(|| {
                MarketError::invalid("quantity", money::MoneyError::Value.to_string())
            })?;
        out.lease = Some((l, rules.lease_fee_rate));
    }
    Ok(out)
}

/// Checks the offer, prices it, writes it and holds what the holder
/// gives.
pub async fn offer(
    db: &DatabaseConnection,
    who: &Principal,
    rules: &PricingRules,
    market: &MarketRules,
    o: Offer,
    now: DateTime<FixedOffset>,
) -> Result<Done, MarketError> {
    let code = listing::parse_code("instrument", &o.instrument)?;
    let wanted = o
        .wanted_instrument
        .as_deref()
        .map(|w| listing::parse_code("wanted_instrument", w))
        .transpose()?;
    if wanted.as_ref() == Some(&code) {
        return Err(MarketError::invalid(
            "wanted_instrument",
            "a swap is between two different instruments",
        ));
    }
    let client_id = crate::text::clean(
        &o.client_id,
        crate::text::CODE_MAX,
        crate::text::Shape::Line,
    )
    .map_err(|e| MarketError::invalid("client_id", e.to_string()))?;
    let quantity = crate::market::orders::lots(Step::of(code.class), "quantity", o.quantity)?;
    if let Some(days) = o.term_days {
        if !(1..=i64::from(rules.lease_max_days)).contains(&i64::from(days)) {
            return Err(MarketError::invalid(
                "term_days",
                format!("a lease is 1 to {} days", rules.lease_max_days),
            ));
        }
    }
    let me = participants::acting_for(db, who, "organization_id", &o.organization_id).await?;
    let hash = request_hash(
        &o,
        quantity,
        &o.reserve_organization_id,
        &code.to_string(),
        wanted.as_ref().map(|w| w.to_string()).as_deref(),
    );
    if let Some(first) = by_client_id(db, &me.org.id, &client_id).await? {
        return replay(first, &hash);
    }
    let reserve =
        reserve_platform(db, "reserve_organization_id", &o.reserve_organization_id).await?;
    if reserve.org.id == me.org.id {
        return Err(MarketError::invalid(
            "organization_id",
            "the reserve platform does not make offers to itself",
        ));
    }
    for c in std::iter::once(&code).chain(wanted.as_ref()) {
        crate::rights::expiry::refuse_lapsed_instrument(db, &c.to_string(), now).await?;
    }
    let p = priced(
        db,
        &o,
        quantity,
        &code,
        wanted.as_ref(),
        &me.org,
        rules,
        now,
    )
    .await?;
    let id = uuid::Uuid::now_v7().to_string();
    let txn = crate::db::begin_write(db).await?;
    let row = operation::ActiveModel {
        id: Set(id.clone()),
        kind: Set(o.kind),
        status: Set(OperationStatus::Offered),
        reserve_organization_id: Set(reserve.org.id.clone()),
        organization_id: Set(me.org.id.clone()),
        client_id: Set(client_id.clone()),
        request_hash: Set(hash.clone()),
        instrument: Set(code.to_string()),
        quantity: Set(quantity),
        price: Set(p.price),
        value: Set(p.value),
        wanted_instrument: Set(p.wanted.as_ref().map(|w| w.0.clone())),
        wanted_price: Set(p.wanted.as_ref().map(|w| w.1)),
        wanted_quantity: Set(p.wanted.as_ref().map(|w| w.2)),
        cash: Set(p.wanted.as_ref().map(|w| w.3)),
        term_days: Set(o.term_days),
        due_on: Set(None),
        fee_rate: Set(p.lease.as_ref().map(|(_, r)| r.normalize().to_string())),
        fee: Set(p.lease.as_ref().map(|(l, _)| l.fee)),
        deposit: Set(p.lease.as_ref().map(|(l, _)| l.deposit)),
        settled_price: Set(None),
        shortfall: Set(None),
        lots: Set("[]".into()),
        pledge_id: Set(None),
        reason: Set(None),
        requested_by: Set(who.user_id.to_string()),
        decided_by: Set(None),
        created_at: Set(now),
        decided_at: Set(None),
        ended_at: Set(None),
    };
    let inserted = operation::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                operation::Column::OrganizationId,
                operation::Column::ClientId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    if inserted == 0 {
        // A concurrent offer with the same id won.
        txn.rollback().await?;
        let first = by_client_id(db, &me.org.id, &client_id)
            .await?
            .ok_or(MarketError::NotFound)?;
        return replay(first, &hash);
    }
    let day = crate::clock::china_day(now);
    let held = match &p.lease {
        None => {
            let holder = Holder {
                account: &me.account,
                who: "you",
                t_plus_one: market
                    .t_plus_one
                    .then_some((me.org.id.as_str(), day.as_str())),
            };
            lots::hold(
                &txn,
                &holder,
                &code,
                quantity,
                &format!("reserve:{id}:lot"),
                now,
            )
            .await?
        }
        Some((l, _)) => {
            hold_lease_cash(&txn, &me, &id, l, now).await?;
            Vec::new()
        }
    };
    operation::Entity::update_many()
        .col_expr(
            operation::Column::Lots,
            sea_orm::sea_query::Expr::value(lots::encode(&held)),
        )
        .filter(operation::Column::Id.eq(id.as_str()))
        .exec(&txn)
        .await?;
    let op = operation::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(MarketError::NotFound)?;
    log(&txn, "reserve.offered", &op, now).await?;
    txn.commit().await?;
    Ok(Done {
        operation: op,
        replayed: false,
    })
}

async fn hold_lease_cash(
    txn: &DatabaseTransaction,
    me: &Participant,
    id: &str,
    l: &terms::Lease,
    now: DateTime<FixedOffset>,
) -> Result<(), MarketError> {
    let amount = l.deposit + l.fee;
    let request = Request {
        id: cash_hold_id(id),
        memo: Some(format!("lease {id}: deposit and fee")),
        command: Command::Hold {
            account_id: me.account.id.clone(),
            asset: Asset::cny(),
            amount,
        },
    };
    ledger::apply_within(txn, &request, &[&me.account], now)
        .await
        .map_err(|e| match e {
            LedgerError::Insufficient { .. } => MarketError::Conflict(
                ProblemCode::InsufficientCash,
                format!(
                    "the lease needs {} yuan of cash available (a deposit of {} and a fee of {})",
                    money::yuan(amount),
                    money::yuan(l.deposit),
                    money::yuan(l.fee)
                ),
            ),
            other => other.into(),
        })?;
    Ok(())
}

/// The operation's event in the audit log (public: organisations, never
/// persons).
pub async fn log(
    txn: &DatabaseTransaction,
    kind: &str,
    op: &operation::Model,
    now: DateTime<FixedOffset>,
) -> Result<(), MarketError> {
    crate::audit::log::append(
        txn,
        kind,
        serde_json::json!({
            "operation": op.id,
            "kind": op.kind,
            "status": op.status,
            "reserve": op.reserve_organization_id,
            "holder": op.organization_id,
            "instrument": op.instrument,
            "quantity": Step::of_code(&op.instrument).show(op.quantity),
            "price": money::yuan(op.price),
            "wanted_instrument": op.wanted_instrument,
            "wanted_quantity": op.wanted_instrument.as_deref().zip(op.wanted_quantity).map(|(w, q)| Step::of_code(w).show(q)),
            "cash": op.cash.map(money::yuan),
            "fee": op.fee.map(money::yuan),
            "deposit": op.deposit.map(money::yuan),
            "due_on": op.due_on,
            "settled_price": op.settled_price.map(money::yuan),
            "shortfall": op.shortfall.map(money::yuan),
        }),
        None,
        now,
    )
    .await?;
    Ok(())
}
