//! A confirmed pledge's loan: the bank records repayments (in full: the
//! pledge is released and its units are free, or the next rank's); the
//! pledgor adds units (a margin call's cure) or, after partial
//! repayments, takes units back in proportion, never below the
//! maintenance level; a guarantor accepts its share of the loan (its cash
//! is held for it) or declines. Each is idempotent by the caller's
//! reference.

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter,
};
use serde::Deserialize;
use utoipa::ToSchema;

use super::collateral;
use super::entity::{event, pledge, EventKind, GuaranteeStatus, PledgeStatus};
use super::pledges::{self, for_party, locked, not_open, root_id, Done, Party};
use super::rules::FinanceRules;
use super::{terms, valuation};
use crate::amount::Units;
use crate::auth::extract::Principal;
use crate::ledger::{self, Asset, Command, LedgerError, Request};
use crate::market::error::MarketError;
use crate::market::participants::{self, Participant};
use crate::market::{listing, money};
use crate::problem::ProblemCode;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepaymentInput {
    /// The bank (the caller is its staff).
    pub organization_id: String,
    /// The bank's reference of the repayment: recorded once per pledge.
    #[schema(example = "LOAN-2026-0001-R1")]
    pub reference: String,
    /// Fen, at most what is outstanding.
    #[serde(deserialize_with = "crate::amount::deserialize")]
    #[schema(value_type = String, example = "1000000")]
    pub amount: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitsInput {
    /// The pledgor (the caller acts for it).
    pub organization_id: String,
    /// The pledgor's reference: the same reference again answers the
    /// first.
    #[schema(example = "2026-12-TOPUP-01")]
    pub reference: String,
    /// Units, a whole number of the instrument's steps.
    #[schema(value_type = String, example = "200")]
    pub quantity: Units,
}

fn clean_reference(text: &str) -> Result<String, MarketError> {
    crate::text::clean(text, crate::text::CODE_MAX, crate::text::Shape::Line)
        .map_err(|e| MarketError::invalid("reference", e.to_string()))
}

/// A quantity of the pledge's instrument, in lots.
fn lots_of(p: &pledge::Model, units: Units) -> Result<i64, MarketError> {
    crate::market::orders::lots(money::Step::of_code(&p.instrument), "quantity", units)
}

/// An earlier event of this kind and reference: the same request answers
/// it; another is refused.
async fn earlier(
    db: &impl ConnectionTrait,
    p: &pledge::Model,
    kind: EventKind,
    reference: &str,
    amount: Option<i64>,
    units: Option<i64>,
) -> Result<Option<Done>, MarketError> {
    let Some(e) = event::Entity::find()
        .filter(event::Column::PledgeId.eq(p.id.as_str()))
        .filter(event::Column::Kind.eq(kind))
        .filter(event::Column::Reference.eq(reference))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if e.amount != amount || e.units != units {
        return Err(MarketError::Conflict(
            ProblemCode::IdReused,
            format!("reference {reference} was recorded before with other figures"),
        ));
    }
    Ok(Some(Done {
        pledge: pledges::find(db, &p.id).await?,
        replayed: true,
    }))
}

/// A change made once per reference, opened: the first answer when it was
/// made before, otherwise a write transaction with the pledge locked.
enum Opened {
    Replayed(Box<Done>),
    Open(Box<(DatabaseTransaction, pledge::Model, Participant)>),
}

#[allow(clippy::too_many_arguments)]
async fn open_change(
    db: &DatabaseConnection,
    who: &Principal,
    id: &str,
    org_id: &str,
    party: Party,
    kind: EventKind,
    reference: &str,
    amount: Option<i64>,
    units: Option<Units>,
) -> Result<Opened, MarketError> {
    let (p, me) = for_party(db, who, id, org_id, party).await?;
    let units = units.map(|u| lots_of(&p, u)).transpose()?;
    if let Some(done) = earlier(db, &p, kind, reference, amount, units).await? {
        return Ok(Opened::Replayed(Box::new(done)));
    }
    let txn = crate::db::begin_write(db).await?;
    let p = locked(&txn, &p).await?;
    // A concurrent request with the same reference may have won.
    if let Some(done) = earlier(&txn, &p, kind, reference, amount, units).await? {
        return Ok(Opened::Replayed(Box::new(done)));
    }
    Ok(Opened::Open(Box::new((txn, p, me))))
}

/// The bank records a repayment.
pub async fn repay(
    db: &DatabaseConnection,
    who: &Principal,
    rules: &FinanceRules,
    id: &str,
    input: &RepaymentInput,
    now: DateTime<FixedOffset>,
) -> Result<Done, MarketError> {
    let reference = clean_reference(&input.reference)?;
    let amount = Some(input.amount);
    let (txn, p, _) = match open_change(
        db,
        who,
        id,
        &input.organization_id,
        Party::Pledgee,
        EventKind::Repaid,
        &reference,
        amount,
        None,
    )
    .await?
    {
        Opened::Replayed(done) => return Ok(*done),
        Opened::Open(open) => *open,
    };
    if !matches!(p.status, PledgeStatus::Active | PledgeStatus::MarginCall) {
        return Err(not_open(
            &p,
            "repayments are recorded on an active loan (not during enforcement)",
        ));
    }
    if !(1..=p.outstanding).contains(&input.amount) {
        return Err(MarketError::invalid(
            "amount",
            format!("fen, 1 to the {} outstanding", p.outstanding),
        ));
    }
    let outstanding = p.outstanding - input.amount;
    pledge::Entity::update_many()
        .col_expr(pledge::Column::Outstanding, Expr::value(outstanding))
        .filter(pledge::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    let p = pledges::find(&txn, id).await?;
    pledges::record_as(
        &txn,
        &p,
        EventKind::Repaid,
        Some(&reference),
        Some((Some(input.amount), None)),
        Some(who.user_id.to_string()),
        None,
        now,
    )
    .await?;
    pledges::log(&txn, "finance.pledge_repaid", &p, now).await?;
    if outstanding == 0 {
        release(&txn, &p, who, now).await?;
    } else {
        valuation::cure(&txn, rules, root_id(&p), now).await?;
    }
    let p = pledges::find(&txn, id).await?;
    txn.commit().await?;
    Ok(Done {
        pledge: p,
        replayed: false,
    })
}

/// A loan repaid in full: the pledge ends; its guarantor's cash is free;
/// a first rank's units pass to the next rank or back to the pledgor.
async fn release(
    txn: &DatabaseTransaction,
    p: &pledge::Model,
    who: &Principal,
    now: DateTime<FixedOffset>,
) -> Result<(), MarketError> {
    let chain = pledges::chain(txn, root_id(p)).await?;
    pledge::Entity::update_many()
        .col_expr(pledge::Column::Status, Expr::value(PledgeStatus::Released))
        .col_expr(
            pledge::Column::CallDeadline,
            Expr::value(Option::<String>::None),
        )
        .col_expr(pledge::Column::EndedAt, Expr::value(now))
        .filter(pledge::Column::Id.eq(p.id.as_str()))
        .exec(txn)
        .await?;
    end_guarantee(txn, p, true, now).await?;
    let behind: Vec<&pledge::Model> = chain.iter().filter(|c| c.rank > p.rank).collect();
    if p.senior_pledge_id.is_none() {
        match behind.first() {
            Some(next) => {
                let pledgor = participants::account_of(txn, &p.pledgor_organization_id).await?;
                collateral::hand_over(txn, &pledgor, p, &next.id, now).await?;
                pledge::Entity::update_many()
                    .col_expr(
                        pledge::Column::SeniorPledgeId,
                        Expr::value(Option::<String>::None),
                    )
                    .filter(pledge::Column::Id.eq(next.id.as_str()))
                    .exec(txn)
                    .await?;
                pledge::Entity::update_many()
                    .col_expr(
                        pledge::Column::SeniorPledgeId,
                        Expr::value(next.id.as_str()),
                    )
                    .filter(pledge::Column::SeniorPledgeId.eq(p.id.as_str()))
                    .exec(txn)
                    .await?;
                let next = pledges::find(txn, &next.id).await?;
                pledges::record_as(
                    txn,
                    &next,
                    EventKind::RankedFirst,
                    None,
                    None,
                    None,
                    None,
                    now,
                )
                .await?;
            }
            None => {
                let lots = collateral::lots_of(txn, &p.id).await?;
                crate::reserve::lots::release(txn, &collateral::as_held(&lots), now).await?;
                collateral::spent(txn, &p.id).await?;
            }
        }
    }
    for b in behind {
        pledge::Entity::update_many()
            .col_expr(pledge::Column::Rank, Expr::col(pledge::Column::Rank).sub(1))
            .filter(pledge::Column::Id.eq(b.id.as_str()))
            .exec(txn)
            .await?;
    }
    let p = pledges::find(txn, &p.id).await?;
    pledges::record(txn, &p, EventKind::Released, None, who, now).await?;
    pledges::log(txn, "finance.pledge_released", &p, now).await?;
    Ok(())
}

/// The ledger's hold of a guarantor's cash for a pledge.
pub fn guarantee_hold_id(pledge_id: &str) -> String {
    format!("pledge:{pledge_id}:guarantee")
}

/// The guarantee ends with the pledge; `release`: its held cash is the
/// guarantor's again (otherwise enforcement's draws took it).
pub async fn end_guarantee(
    txn: &DatabaseTransaction,
    p: &pledge::Model,
    release: bool,
    now: DateTime<FixedOffset>,
) -> Result<(), MarketError> {
    if p.guarantee_status != Some(GuaranteeStatus::Accepted) {
        return Ok(());
    }
    if release && p.guarantee_held > 0 {
        ledger::apply_within(
            txn,
            &Request {
                id: format!("{}:release", guarantee_hold_id(&p.id)),
                memo: None,
                command: Command::Release {
                    hold_id: guarantee_hold_id(&p.id),
                },
            },
            &[],
            now,
        )
        .await?;
    }
    pledge::Entity::update_many()
        .col_expr(
            pledge::Column::GuaranteeStatus,
            Expr::value(GuaranteeStatus::Ended),
        )
        .filter(pledge::Column::Id.eq(p.id.as_str()))
        .exec(txn)
        .await?;
    Ok(())
}

/// The pledgor adds units to the collateral (held on the chain's first
/// rank): a margin call the collateral now covers is cured.
pub async fn top_up(
    db: &DatabaseConnection,
    who: &Principal,
    rules: &FinanceRules,
    id: &str,
    input: &UnitsInput,
    now: DateTime<FixedOffset>,
) -> Result<Done, MarketError> {
    let reference = clean_reference(&input.reference)?;
    let units = Some(input.quantity);
    let (txn, p, me) = match open_change(
        db,
        who,
        id,
        &input.organization_id,
        Party::Pledgor,
        EventKind::ToppedUp,
        &reference,
        None,
        units,
    )
    .await?
    {
        Opened::Replayed(done) => return Ok(*done),
        Opened::Open(open) => *open,
    };
    let code = listing::parse_code("instrument", &p.instrument)?;
    let quantity = lots_of(&p, input.quantity)?;
    if !matches!(p.status, PledgeStatus::Active | PledgeStatus::MarginCall) {
        return Err(not_open(&p, "units are added to an active pledge"));
    }
    let root = root_id(&p).to_string();
    let tag = uuid::Uuid::now_v7().to_string();
    collateral::hold_units(&txn, &me.account, &code, quantity, &root, &tag, now).await?;
    pledges::record_as(
        &txn,
        &p,
        EventKind::ToppedUp,
        Some(&reference),
        Some((None, Some(quantity))),
        Some(who.user_id.to_string()),
        None,
        now,
    )
    .await?;
    pledges::log(&txn, "finance.pledge_topped_up", &p, now).await?;
    valuation::cure(&txn, rules, &root, now).await?;
    let p = pledges::find(&txn, id).await?;
    txn.commit().await?;
    Ok(Done {
        pledge: p,
        replayed: false,
    })
}

/// The pledgor takes units back after partial repayments: at most in
/// proportion to what was repaid, and never below the maintenance level
/// at the last valuation's price. Only a first rank with nobody behind
/// it, not under a margin call.
pub async fn release_units(
    db: &DatabaseConnection,
    who: &Principal,
    rules: &FinanceRules,
    id: &str,
    input: &UnitsInput,
    now: DateTime<FixedOffset>,
) -> Result<Done, MarketError> {
    let reference = clean_reference(&input.reference)?;
    let units = Some(input.quantity);
    let (txn, p, _) = match open_change(
        db,
        who,
        id,
        &input.organization_id,
        Party::Pledgor,
        EventKind::UnitsReleased,
        &reference,
        None,
        units,
    )
    .await?
    {
        Opened::Replayed(done) => return Ok(*done),
        Opened::Open(open) => *open,
    };
    let (minor, lot) = super::views::minor_of(&p.instrument);
    let quantity = lots_of(&p, input.quantity)?;
    let shown = |grams: i64| super::views::units(grams / lot * lot, minor);
    if p.status != PledgeStatus::Active {
        return Err(not_open(
            &p,
            "units are released from an active pledge not under a margin call",
        ));
    }
    let chain = pledges::chain(&txn, root_id(&p)).await?;
    if p.senior_pledge_id.is_some() || chain.len() > 1 {
        return Err(not_open(
            &p,
            "a pledge ranking behind rests on these units: they are released when the loans ahead of it are repaid",
        ));
    }
    let lots = collateral::lots_of(&txn, &p.id).await?;
    let held = collateral::grams(&lots);
    let r = terms::releasable(
        held,
        p.released_units * lot,
        p.loan_amount.unwrap_or(0),
        p.outstanding,
        p.last_price.unwrap_or(0),
        minor,
        rules.maintenance_ratio,
    );
    let grams = quantity.saturating_mul(lot);
    if grams > r.by_repayment {
        return Err(MarketError::Conflict(
            ProblemCode::ReleaseBeyondRepaid,
            format!(
                "{} of the {} yuan lent is repaid: {} units may be released in proportion now",
                money::yuan(p.loan_amount.unwrap_or(0) - p.outstanding),
                money::yuan(p.loan_amount.unwrap_or(0)),
                shown(r.by_repayment)
            ),
        ));
    }
    if grams > r.by_maintenance {
        return Err(MarketError::Conflict(
            ProblemCode::BelowMaintenance,
            format!(
                "at {} yuan a unit the {} yuan outstanding needs the collateral worth {} yuan: at most {} units may be released",
                money::yuan(p.last_price.unwrap_or(0)),
                money::yuan(p.outstanding),
                money::yuan(terms::share_up(p.outstanding, rust_decimal::Decimal::ONE / rules.maintenance_ratio)),
                shown(r.by_maintenance)
            ),
        ));
    }
    let ledger_id = format!("pledge:{}:release:{}", p.id, uuid::Uuid::now_v7());
    collateral::give_back(&txn, &lots, grams, &ledger_id, now).await?;
    pledge::Entity::update_many()
        .col_expr(
            pledge::Column::ReleasedUnits,
            Expr::col(pledge::Column::ReleasedUnits).add(quantity),
        )
        .filter(pledge::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    let p = pledges::find(&txn, id).await?;
    pledges::record_as(
        &txn,
        &p,
        EventKind::UnitsReleased,
        Some(&reference),
        Some((None, Some(quantity))),
        Some(who.user_id.to_string()),
        None,
        now,
    )
    .await?;
    pledges::log(&txn, "finance.pledge_units_released", &p, now).await?;
    txn.commit().await?;
    Ok(Done {
        pledge: p,
        replayed: false,
    })
}

/// The guarantor accepts (its share of the outstanding loan is held from
/// its cash until the pledge ends) or declines.
pub async fn answer_guarantee(
    db: &DatabaseConnection,
    who: &Principal,
    id: &str,
    input: &pledges::PartyInput,
    accept: bool,
    now: DateTime<FixedOffset>,
) -> Result<Done, MarketError> {
    let (p, me) = for_party(db, who, id, &input.organization_id, Party::Guarantor).await?;
    let txn = crate::db::begin_write(db).await?;
    let p = locked(&txn, &p).await?;
    let wanted = if accept {
        GuaranteeStatus::Accepted
    } else {
        GuaranteeStatus::Declined
    };
    if p.guarantee_status == Some(wanted) {
        return Ok(Done {
            pledge: p,
            replayed: true,
        });
    }
    if p.guarantee_status != Some(GuaranteeStatus::Proposed) {
        return Err(MarketError::Conflict(
            ProblemCode::PledgeNotOpen,
            "the guarantee was answered already or has ended".into(),
        ));
    }
    if accept && !matches!(p.status, PledgeStatus::Active | PledgeStatus::MarginCall) {
        return Err(not_open(
            &p,
            "a guarantee is accepted once the bank has confirmed the loan",
        ));
    }
    let held = if accept {
        let share = pledges::stored_share(p.guarantee_share.as_deref());
        let amount = terms::share_up(p.outstanding, share);
        ledger::apply_within(
            &txn,
            &Request {
                id: guarantee_hold_id(&p.id),
                memo: Some(format!("guarantee of pledge {}", p.id)),
                command: Command::Hold {
                    account_id: me.account.id.clone(),
                    asset: Asset::cny(),
                    amount,
                },
            },
            &[&me.account],
            now,
        )
        .await
        .map_err(|e| match e {
            LedgerError::Insufficient { .. } => MarketError::Conflict(
                ProblemCode::InsufficientCash,
                format!(
                    "the guarantee holds {} yuan of the guarantor's cash ({} of the {} yuan outstanding)",
                    money::yuan(amount),
                    share.normalize(),
                    money::yuan(p.outstanding)
                ),
            ),
            other => other.into(),
        })?;
        amount
    } else {
        0
    };
    pledge::Entity::update_many()
        .col_expr(pledge::Column::GuaranteeStatus, Expr::value(wanted))
        .col_expr(pledge::Column::GuaranteeHeld, Expr::value(held))
        .filter(pledge::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    let p = pledges::find(&txn, id).await?;
    let kind = if accept {
        EventKind::GuaranteeAccepted
    } else {
        EventKind::GuaranteeDeclined
    };
    pledges::record(&txn, &p, kind, Some((Some(held), None)), who, now).await?;
    pledges::log(&txn, "finance.guarantee_answered", &p, now).await?;
    txn.commit().await?;
    Ok(Done {
        pledge: p,
        replayed: false,
    })
}
