//! Enforcement, declared by a pledgee bank after an uncured margin call
//! (its deadline passed) or a missed maturity. The chain's collateral is
//! taken over by the reserve platform at the pledgor's applicable
//! guidance price (收储 of pledged rights: a reserve operation naming the
//! pledge, which the reserve's staff accept or decline like any other).
//! When it settles, its payment is shared out in the same ledger
//! transaction: each pledgee in rank order up to what it is owed, then
//! the pledgor; a guarantor pays its share of a pledgee's shortfall from
//! the cash it holds for the guarantee. Units not taken stay pledged.

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
use crate::market::{money, participants};
use crate::orgs::entity::organization;
use crate::problem::ProblemCode;
use crate::reserve::entity::{operation, OperationKind, OperationStatus};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnforceInput {
    /// The pledgee bank (the caller is its staff).
    pub organization_id: String,
    /// `reserve`: taken over by the reserve platform at the pledgor's
    /// applicable guidance price.
    pub method: EnforcementMethod,
    /// The reserve platform that takes the units over.
    pub reserve_organization_id: Option<String>,
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
/// reserve platform for take-over.
pub async fn declare(
    db: &DatabaseConnection,
    who: &Principal,
    id: &str,
    input: &EnforceInput,
    now: DateTime<FixedOffset>,
) -> Result<Done, MarketError> {
    let (p, _) = for_party(db, who, id, &input.organization_id, Party::Pledgee).await?;
    let reserve_id = match (input.method, &input.reserve_organization_id) {
        (EnforcementMethod::Reserve, Some(r)) => r.clone(),
        (EnforcementMethod::Reserve, None) => {
            return Err(MarketError::invalid(
                "reserve_organization_id",
                "which reserve platform takes the units over",
            ))
        }
        (EnforcementMethod::Auction, _) => {
            return Err(MarketError::invalid(
                "method",
                "enforcement by auction is not offered yet: use reserve",
            ))
        }
    };
    let reserve =
        crate::reserve::offers::reserve_platform(db, "reserve_organization_id", &reserve_id)
            .await?;
    let pledgor = organization::Entity::find_by_id(p.pledgor_organization_id.clone())
        .one(db)
        .await?
        .ok_or(MarketError::NotFound)?;
    let today = crate::clock::china_day(now);
    let txn = crate::db::begin_write(db).await?;
    let p = locked(&txn, &p).await?;
    if p.status == PledgeStatus::Enforcing {
        let open = match &p.enforcement_id {
            Some(op) => operation::Entity::find_by_id(op.clone())
                .one(&txn)
                .await?
                .is_some_and(|o| o.status == OperationStatus::Offered),
            None => false,
        };
        if open {
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
    let code = crate::market::listing::parse_code("instrument", &p.instrument)?;
    let (_, minor) = code.class.unit();
    let price = crate::reserve::offers::price_for(&txn, &p.instrument, &pledgor, now).await?;
    let value = terms::value(grams, price, minor);
    let op_id = uuid::Uuid::now_v7().to_string();
    let op = operation::ActiveModel {
        id: Set(op_id.clone()),
        kind: Set(OperationKind::BuyBack),
        status: Set(OperationStatus::Offered),
        reserve_organization_id: Set(reserve.org.id.clone()),
        organization_id: Set(pledgor.id.clone()),
        client_id: Set(format!("pledge:{op_id}")),
        request_hash: Set(String::new()),
        instrument: Set(p.instrument.clone()),
        quantity: Set(grams / minor),
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
        lots: Set(crate::reserve::lots::encode(&collateral::as_held(&lots))),
        pledge_id: Set(Some(p.id.clone())),
        reason: Set(None),
        requested_by: Set(who.user_id.to_string()),
        decided_by: Set(None),
        created_at: Set(now),
        decided_at: Set(None),
        ended_at: Set(None),
    };
    let op = operation::Entity::insert(op)
        .exec_with_returning(&txn)
        .await?;
    crate::reserve::offers::log(&txn, "reserve.offered", &op, now).await?;
    for c in &chain {
        pledge::Entity::update_many()
            .col_expr(pledge::Column::Status, Expr::value(PledgeStatus::Enforcing))
            .col_expr(
                pledge::Column::EnforcementMethod,
                Expr::value(EnforcementMethod::Reserve),
            )
            .col_expr(pledge::Column::EnforcementId, Expr::value(op_id.as_str()))
            .filter(pledge::Column::Id.eq(c.id.as_str()))
            .exec(&txn)
            .await?;
    }
    let p = pledges::find(&txn, id).await?;
    let detail = serde_json::json!({
        "method": "reserve",
        "reserve": reserve.org.id,
        "operation": op_id,
        "units": grams / minor,
        "price": money::yuan(price),
    });
    pledges::record_as(
        &txn,
        &p,
        EventKind::EnforcementDeclared,
        None,
        Some((Some(value), Some(grams / minor))),
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
    let chain: Vec<pledge::Model> = pledges::chain(txn, &root)
        .await?
        .into_iter()
        .filter(|c| c.status == PledgeStatus::Enforcing)
        .collect();
    let claims: Vec<i64> = chain.iter().map(|c| c.outstanding).collect();
    let (paid, rest) = terms::waterfall(value, &claims);
    let mut draws = Vec::new();
    for (c, paid) in chain.iter().zip(paid) {
        let bank = participants::account_of(txn, &c.pledgee_organization_id).await?;
        draws.push(Draw {
            hold_id: pay_hold.to_string(),
            to_account_id: Some(bank.id.clone()),
            amount: paid,
        });
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
            .col_expr(pledge::Column::Proceeds, Expr::value(paid))
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
            "proceeds": money::yuan(paid),
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
    draws.push(Draw {
        hold_id: pay_hold.to_string(),
        to_account_id: Some(pledgor_account.to_string()),
        amount: rest,
    });
    collateral::spent(txn, &root).await?;
    Ok(draws)
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
