//! Enforcement, declared by a pledgee bank after an uncured margin call
//! (its deadline passed) or a missed maturity. The chain's collateral is
//! either taken over by the reserve platform at the pledgor's applicable
//! guidance price (收储 of pledged rights: a reserve operation naming the
//! pledge, which the reserve's staff accept or decline like any other), or
//! sold by one-way bidding (an auction whose lot is the pledge's holds).
//! The proceeds pay each pledgee in rank order up to what it is owed, then
//! the pledgor: for a take-over in the acceptance's ledger transaction, for
//! an auction in its close's database transaction (one settlement per
//! winner, then the share-out). When nothing of the collateral is left, a
//! guarantor pays its share of a pledgee's shortfall from the cash it holds
//! for the guarantee and the pledges end; units not sold stay pledged, for
//! the loans' rest, until the bank declares again.

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter, Set,
};
use serde::Deserialize;
use utoipa::ToSchema;

use super::collateral;
use super::entity::{pledge, EnforcementMethod, EventKind, GuaranteeStatus, PledgeStatus};
use super::loan::{end_guarantee, guarantee_hold_id};
use super::pledges::{self, for_party, locked, root_id, Done, Party};
use super::terms;
use crate::auth::extract::Principal;
use crate::ledger::Draw;
use crate::market::error::MarketError;
use crate::market::money;
use crate::market::participants::{self, Participant};
use crate::market::rules::MarketRules;
use crate::problem::ProblemCode;
use crate::reserve::entity::{operation, OperationKind, OperationStatus};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnforceInput {
    /// The pledgee bank (the caller is its staff).
    pub organization_id: String,
    /// `reserve`: taken over by the reserve platform at the pledgor's
    /// applicable guidance price; `auction`: sold by one-way bidding.
    pub method: EnforcementMethod,
    /// `reserve`: the reserve platform that takes the units over.
    pub reserve_organization_id: Option<String>,
    /// `auction`: the lot's terms (the pledgor is the seller, the banks
    /// are paid first).
    pub auction: Option<crate::market::auctions::PledgeAuction>,
}

/// Why the bank may enforce today, or the refusal.
pub fn due(p: &pledge::Model, today: &str) -> Result<&'static str, MarketError> {
    if p.status == PledgeStatus::MarginCall && p.call_deadline.as_deref().is_some_and(|d| d < today)
    {
        return Ok("margin call not cured by its deadline");
    }
    if p.outstanding > 0 && p.matures_on.as_deref().is_some_and(|m| m < today) {
        return Ok("loan not repaid at maturity");
    }
    let detail = match (&p.status, &p.call_deadline, &p.matures_on) {
        (PledgeStatus::MarginCall, Some(d), _) => format!(
            "the margin call may be cured until the end of {d}; enforcement is possible from the next day"
        ),
        (_, _, Some(m)) => format!(
            "the loan is not under an uncured margin call and falls due on {m}"
        ),
        _ => "the pledge is not in default".into(),
    };
    Err(MarketError::Conflict(
        ProblemCode::EnforcementNotDue,
        detail,
    ))
}

/// The bank declares enforcement: the collateral is offered to the
/// reserve platform for take-over, or put up for auction.
pub async fn declare(
    db: &DatabaseConnection,
    who: &Principal,
    market: &MarketRules,
    id: &str,
    input: &EnforceInput,
    now: DateTime<FixedOffset>,
) -> Result<Done, MarketError> {
    let (p, _) = for_party(db, who, id, &input.organization_id, Party::Pledgee).await?;
    let reserve = match (input.method, &input.reserve_organization_id, &input.auction) {
        (EnforcementMethod::Reserve, Some(r), None) => {
            Some(crate::reserve::offers::reserve_platform(db, "reserve_organization_id", r).await?)
        }
        (EnforcementMethod::Reserve, _, _) => {
            return Err(MarketError::invalid(
                "reserve_organization_id",
                "a take-over names the reserve platform (and no auction)",
            ))
        }
        (EnforcementMethod::Auction, None, Some(_)) => None,
        (EnforcementMethod::Auction, _, _) => {
            return Err(MarketError::invalid(
                "auction",
                "a sale by auction gives the lot's terms (and no reserve platform)",
            ))
        }
    };
    let pledgor =
        participants::participant(db, "organization_id", &p.pledgor_organization_id).await?;
    let today = crate::clock::china_day(now);
    let txn = crate::db::begin_write(db).await?;
    let p = locked(&txn, &p).await?;
    if p.status == PledgeStatus::Enforcing {
        if enforcement_open(&txn, &p).await? {
            return Ok(Done {
                pledge: p,
                replayed: true,
            });
        }
    } else {
        if !matches!(p.status, PledgeStatus::Active | PledgeStatus::MarginCall) {
            return Err(pledges::not_open(&p, "only a live pledge is enforced"));
        }
        due(&p, &today)?;
    }
    let root = root_id(&p).to_string();
    let chain = pledges::chain(&txn, &root).await?;
    let lots = collateral::lots_of(&txn, &root).await?;
    let grams = collateral::grams(&lots);
    if grams == 0 {
        return Err(pledges::not_open(
            &p,
            "it holds no units yet (nothing of the project has been issued to it)",
        ));
    }
    crate::market::listing::parse_code("instrument", &p.instrument)?;
    let (minor, lot) = super::views::minor_of(&p.instrument);
    let (method, enforcement_id, value, detail) = match (&reserve, &input.auction) {
        (Some(reserve), _) => {
            let price =
                crate::reserve::offers::price_for(&txn, &p.instrument, &pledgor.org, now).await?;
            let value = terms::value(grams, price, minor);
            let op = takeover(&txn, who, reserve, &pledgor, &p, &lots, price, value, now).await?;
            let detail = serde_json::json!({
                "method": "reserve",
                "reserve": reserve.org.id,
                "operation": op.id,
                "units": super::views::units(grams, minor),
                "price": money::yuan(price),
            });
            (EnforcementMethod::Reserve, op.id, Some(value), detail)
        }
        (None, Some(terms)) => {
            let a = crate::market::auctions::announce_pledged(
                &txn,
                who,
                market,
                &pledgor,
                &p.instrument,
                &collateral::as_held(&lots),
                terms,
                &p.id,
                now,
            )
            .await?;
            let detail = serde_json::json!({
                "method": "auction",
                "auction": a.id,
                "units": money::Step::of_code(&a.instrument).show(a.quantity),
                "reserve_price": money::yuan(a.reserve_price),
                "closes_at": a.closes_at.to_rfc3339(),
            });
            (EnforcementMethod::Auction, a.id, None, detail)
        }
        (None, None) => return Err(MarketError::invalid("method", "no way to enforce")),
    };
    for c in &chain {
        pledge::Entity::update_many()
            .col_expr(pledge::Column::Status, Expr::value(PledgeStatus::Enforcing))
            .col_expr(pledge::Column::EnforcementMethod, Expr::value(method))
            .col_expr(
                pledge::Column::EnforcementId,
                Expr::value(enforcement_id.as_str()),
            )
            .filter(pledge::Column::Id.eq(c.id.as_str()))
            .exec(&txn)
            .await?;
    }
    let p = pledges::find(&txn, id).await?;
    pledges::record_as(
        &txn,
        &p,
        EventKind::EnforcementDeclared,
        None,
        Some((value, Some(grams / lot))),
        Some(who.user_id.to_string()),
        Some(detail.to_string()),
        now,
    )
    .await?;
    pledges::log(&txn, "finance.enforcement_declared", &p, now).await?;
    txn.commit().await?;
    Ok(Done {
        pledge: p,
        replayed: false,
    })
}

/// The pledge's enforcement is still waiting: a take-over not answered or
/// an auction not closed.
async fn enforcement_open(
    txn: &DatabaseTransaction,
    p: &pledge::Model,
) -> Result<bool, MarketError> {
    let Some(id) = p.enforcement_id.clone() else {
        return Ok(false);
    };
    Ok(match p.enforcement_method {
        Some(EnforcementMethod::Reserve) => operation::Entity::find_by_id(id)
            .one(txn)
            .await?
            .is_some_and(|o| o.status == OperationStatus::Offered),
        Some(EnforcementMethod::Auction) => crate::market::entity::auction::Entity::find_by_id(id)
            .one(txn)
            .await?
            .is_some_and(|a| a.status == crate::market::entity::AuctionStatus::Announced),
        None => false,
    })
}

/// The reserve operation that takes the chain's units over.
#[allow(clippy::too_many_arguments)]
async fn takeover(
    txn: &DatabaseTransaction,
    who: &Principal,
    reserve: &Participant,
    pledgor: &Participant,
    p: &pledge::Model,
    lots: &[super::entity::lot::Model],
    price: i64,
    value: i64,
    now: DateTime<FixedOffset>,
) -> Result<operation::Model, MarketError> {
    let grams = collateral::grams(lots);
    let (_, lot) = super::views::minor_of(&p.instrument);
    let op_id = uuid::Uuid::now_v7().to_string();
    let op = operation::ActiveModel {
        id: Set(op_id.clone()),
        kind: Set(OperationKind::BuyBack),
        status: Set(OperationStatus::Offered),
        reserve_organization_id: Set(reserve.org.id.clone()),
        organization_id: Set(pledgor.org.id.clone()),
        client_id: Set(format!("pledge:{op_id}")),
        request_hash: Set(String::new()),
        instrument: Set(p.instrument.clone()),
        quantity: Set(grams / lot),
        price: Set(price),
        value: Set(value),
        wanted_instrument: Set(None),
        wanted_price: Set(None),
        wanted_quantity: Set(None),
        cash: Set(None),
        term_days: Set(None),
        due_on: Set(None),
        fee_rate: Set(None),
        fee: Set(None),
        deposit: Set(None),
        settled_price: Set(None),
        shortfall: Set(None),
        lots: Set(crate::reserve::lots::encode(&collateral::as_held(lots))),
        pledge_id: Set(Some(p.id.clone())),
        reason: Set(None),
        requested_by: Set(who.user_id.to_string()),
        decided_by: Set(None),
        created_at: Set(now),
        decided_at: Set(None),
        ended_at: Set(None),
    };
    let op = operation::Entity::insert(op)
        .exec_with_returning(txn)
        .await?;
    crate::reserve::offers::log(txn, "reserve.offered", &op, now).await?;
    Ok(op)
}

/// The draws that pay a take-over's `value` (held under `pay_hold`) in
/// rank order, with guarantors' shares of any shortfall, and the rest to
/// the pledgor's account; the chain's pledges end as enforced. Called in
/// the reserve's acceptance, whose ledger transaction makes these draws
/// with the delivery of the units.
pub async fn share_out(
    txn: &DatabaseTransaction,
    pledge_id: &str,
    pay_hold: &str,
    value: i64,
    pledgor_account: &str,
    now: DateTime<FixedOffset>,
) -> Result<Vec<Draw>, MarketError> {
    let p = pledges::find(txn, pledge_id).await?;
    let root = root_id(&p).to_string();
    let chain = enforcing(txn, &root).await?;
    let claims: Vec<i64> = chain.iter().map(|c| c.outstanding).collect();
    let (paid, rest) = terms::waterfall(value, &claims);
    let mut draws = Vec::new();
    for (c, paid) in chain.iter().zip(&paid) {
        let bank = participants::account_of(txn, &c.pledgee_organization_id).await?;
        draws.push(Draw {
            hold_id: pay_hold.to_string(),
            to_account_id: Some(bank.id.clone()),
            amount: *paid,
        });
    }
    draws.push(Draw {
        hold_id: pay_hold.to_string(),
        to_account_id: Some(pledgor_account.to_string()),
        amount: rest,
    });
    draws.extend(finish(txn, &chain, &paid, now).await?);
    collateral::spent(txn, &root).await?;
    Ok(draws)
}

async fn enforcing(
    txn: &DatabaseTransaction,
    root: &str,
) -> Result<Vec<pledge::Model>, MarketError> {
    Ok(pledges::chain(txn, root)
        .await?
        .into_iter()
        .filter(|c| c.status == PledgeStatus::Enforcing)
        .collect())
}

/// Nothing of the collateral is left: each pledge of the chain ends as
/// enforced with what it was `paid`; a guarantor's share of a shortfall
/// is drawn from its hold to the bank (the rest of the hold back to the
/// guarantor). Answers those draws.
async fn finish(
    txn: &DatabaseTransaction,
    chain: &[pledge::Model],
    paid: &[i64],
    now: DateTime<FixedOffset>,
) -> Result<Vec<Draw>, MarketError> {
    let mut draws = Vec::new();
    for (c, paid) in chain.iter().zip(paid) {
        let paid = *paid;
        let bank = participants::account_of(txn, &c.pledgee_organization_id).await?;
        let short = c.outstanding - paid;
        let guaranteed = if c.guarantee_status == Some(GuaranteeStatus::Accepted) {
            let share = pledges::stored_share(c.guarantee_share.as_deref());
            let g = terms::guarantee_payment(short, share, c.guarantee_held);
            draws.push(Draw {
                hold_id: guarantee_hold_id(&c.id),
                to_account_id: Some(bank.id.clone()),
                amount: g,
            });
            draws.push(Draw {
                hold_id: guarantee_hold_id(&c.id),
                to_account_id: None,
                amount: c.guarantee_held - g,
            });
            g
        } else {
            0
        };
        let owed = short - guaranteed;
        pledge::Entity::update_many()
            .col_expr(pledge::Column::Status, Expr::value(PledgeStatus::Enforced))
            .col_expr(
                pledge::Column::Proceeds,
                Expr::value(c.proceeds.unwrap_or(0) + paid),
            )
            .col_expr(pledge::Column::GuarantorPaid, Expr::value(guaranteed))
            .col_expr(pledge::Column::Shortfall, Expr::value(owed))
            .col_expr(pledge::Column::Outstanding, Expr::value(owed))
            .col_expr(pledge::Column::EndedAt, Expr::value(now))
            .filter(pledge::Column::Id.eq(c.id.as_str()))
            .exec(txn)
            .await?;
        end_guarantee(txn, c, false, now).await?;
        let c = pledges::find(txn, &c.id).await?;
        let detail = serde_json::json!({
            "proceeds": money::yuan(c.proceeds.unwrap_or(0)),
            "guarantor_paid": money::yuan(guaranteed),
            "still_owed": money::yuan(owed),
        });
        pledges::record_as(
            txn,
            &c,
            EventKind::Enforced,
            None,
            Some((Some(paid), None)),
            None,
            Some(detail.to_string()),
            now,
        )
        .await?;
        pledges::log(txn, "finance.pledge_enforced", &c, now).await?;
    }
    Ok(draws.into_iter().filter(|d| d.amount > 0).collect())
}

/// An enforcement auction closed (in its close's transaction): the
/// proceeds, credited to the pledgor by each winner's settlement, go to
/// the pledgees in rank order in one ledger transfer. When units were left
/// unsold and the loans are not all paid, they are held again under the
/// chain (the same batches and grams) and the pledges stay enforcing with
/// what they are still owed; otherwise the pledges end (guarantors paying
/// their shares of a shortfall) and any unsold units are the pledgor's.
pub async fn auction_closed(
    txn: &DatabaseTransaction,
    pledge_id: &str,
    auction_id: &str,
    pledgor: &crate::accounts::entity::Model,
    proceeds: i64,
    unsold: Vec<(String, i64)>,
    now: DateTime<FixedOffset>,
) -> Result<(), MarketError> {
    let p = pledges::find(txn, pledge_id).await?;
    let root = root_id(&p).to_string();
    let chain = enforcing(txn, &root).await?;
    let claims: Vec<i64> = chain.iter().map(|c| c.outstanding).collect();
    let (paid, _rest) = terms::waterfall(proceeds, &claims);
    let mut postings = Vec::new();
    for (c, paid) in chain.iter().zip(&paid).filter(|(_, p)| **p > 0) {
        let bank = participants::account_of(txn, &c.pledgee_organization_id).await?;
        postings.push(crate::ledger::Posting {
            account_id: bank.id.clone(),
            asset: crate::ledger::Asset::cny(),
            amount: *paid,
        });
    }
    let total: i64 = paid.iter().sum();
    if total > 0 {
        postings.push(crate::ledger::Posting {
            account_id: pledgor.id.clone(),
            asset: crate::ledger::Asset::cny(),
            amount: -total,
        });
        crate::ledger::apply_within(
            txn,
            &crate::ledger::Request {
                id: format!("pledge-sale:{auction_id}"),
                memo: Some(format!("proceeds of auction {auction_id} to the pledgees")),
                command: crate::ledger::Command::Transfer { postings },
            },
            &[pledgor],
            now,
        )
        .await?;
    }
    let left: i64 = unsold.iter().map(|(_, g)| g).sum();
    let settled = total == claims.iter().sum::<i64>();
    collateral::spent(txn, &root).await?;
    if left == 0 || settled {
        let draws = finish(txn, &chain, &paid, now).await?;
        if !draws.is_empty() {
            crate::ledger::apply_within(
                txn,
                &crate::ledger::Request {
                    id: format!("pledge-sale:{auction_id}:guarantees"),
                    memo: Some("guarantors' shares of the shortfall".into()),
                    command: crate::ledger::Command::Settle { draws },
                },
                &[],
                now,
            )
            .await?;
        }
        return Ok(());
    }
    // Units left and loans unpaid: the proceeds are repayments, the units
    // stay pledged.
    for (n, (batch, grams)) in unsold.iter().enumerate() {
        collateral::hold_batch(
            txn,
            pledgor,
            &root,
            batch,
            *grams,
            &format!("u:{auction_id}:{n}"),
            now,
        )
        .await?;
    }
    for (c, paid) in chain.iter().zip(&paid) {
        pledge::Entity::update_many()
            .col_expr(
                pledge::Column::Outstanding,
                Expr::value(c.outstanding - paid),
            )
            .col_expr(
                pledge::Column::Proceeds,
                Expr::value(c.proceeds.unwrap_or(0) + paid),
            )
            .filter(pledge::Column::Id.eq(c.id.as_str()))
            .exec(txn)
            .await?;
        let c = pledges::find(txn, &c.id).await?;
        let detail = serde_json::json!({
            "auction": auction_id,
            "proceeds": money::yuan(*paid),
            "unsold_units": super::views::units(left, super::views::minor_of(&c.instrument).0),
        });
        pledges::record_as(
            txn,
            &c,
            EventKind::EnforcementFailed,
            Some(&format!("auction:{auction_id}")),
            Some((Some(*paid), None)),
            None,
            Some(detail.to_string()),
            now,
        )
        .await?;
        pledges::log(txn, "finance.pledge_partly_sold", &c, now).await?;
    }
    Ok(())
}

/// The reserve declined a take-over: the units stay pledged (the pledges
/// stay `enforcing`; the bank may declare again).
pub async fn not_taken(
    txn: &DatabaseTransaction,
    op: &operation::Model,
    now: DateTime<FixedOffset>,
) -> Result<(), MarketError> {
    let Some(id) = &op.pledge_id else {
        return Ok(());
    };
    let p = pledges::find(txn, id).await?;
    pledges::record_as(
        txn,
        &p,
        EventKind::EnforcementFailed,
        None,
        None,
        op.decided_by.clone(),
        op.reason.clone(),
        now,
    )
    .await?;
    Ok(())
}
