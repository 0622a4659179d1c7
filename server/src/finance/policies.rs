//! Insurance policies: an insurer's staff offer a policy to a holder — a
//! carbon-sink index policy on the holder's afforestation project for a
//! policy year, or a price policy on units of an instrument with a strike
//! for a period — with its maximum payout and premium; the holder's staff
//! accept it (the premium moves from the holder's cash to the insurer's
//! and the maximum is held from the insurer's cash for the policy's life,
//! in one transaction) or decline; the insurer may withdraw an offer not
//! yet answered. The payout rules are `carbon_calc::insurance`, so a
//! policy is checked by running them.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, Set,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::entity::{policy, PolicyKind, PolicyStatus};
use super::rules::FinanceRules;
use crate::auth::extract::Principal;
use crate::ledger::{self, Asset, Command, LedgerError, Request};
use crate::market::error::MarketError;
use crate::market::participants::{self, Participant};
use crate::market::{listing, money};
use crate::orgs::entity::OrgKind;
use crate::problem::ProblemCode;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    /// The insurer (the caller is its staff).
    pub organization_id: String,
    /// The insured: the project's owner (sink index) or the holder of the
    /// units (price).
    pub holder_organization_id: String,
    /// The insurer's id of the policy, unique among its policies: the same
    /// id with the same terms answers the first.
    #[schema(example = "2026-SINK-0001")]
    pub client_id: String,
    pub kind: PolicyKind,
    /// Sink index: the approved afforestation project and the policy year.
    pub project_id: Option<String>,
    #[schema(example = 2027)]
    pub policy_year: Option<i32>,
    /// Sink index: the insured stock and the trigger, t CO2e (up to six
    /// decimals); the yuan paid per tonne of loss over the trigger.
    #[schema(example = "10000")]
    pub insured_stock_t: Option<String>,
    #[schema(example = "500")]
    pub threshold_t: Option<String>,
    #[schema(example = "40.00")]
    pub price_per_t: Option<String>,
    /// Price: the instrument, units (whole steps) and the strike (yuan a unit),
    /// over `starts_on`..`ends_on` (settled at the close of `ends_on`, or
    /// the first trading day after), the reference being the average of
    /// the last `averaging_days` closes (default `price_averaging_days`).
    #[schema(example = "TPH-FOR-2026")]
    pub instrument: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "1000")]
    pub quantity: Option<crate::amount::Units>,
    #[schema(example = "40.00")]
    pub strike: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub starts_on: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub ends_on: Option<NaiveDate>,
    pub averaging_days: Option<i32>,
    /// The most the policy pays, fen.
    #[serde(deserialize_with = "crate::amount::deserialize")]
    #[schema(value_type = String, example = "2000000")]
    pub maximum: i64,
    /// Paid by the holder on acceptance, fen (0 allowed).
    #[serde(deserialize_with = "crate::amount::deserialize")]
    #[schema(value_type = String, example = "60000")]
    pub premium: i64,
}

/// A policy and whether this request changed it.
pub struct Done {
    pub policy: policy::Model,
    pub replayed: bool,
}

/// The ledger's hold of an insurer's cash for a policy's maximum payout.
pub fn cover_hold_id(policy_id: &str) -> String {
    format!("insurance:{policy_id}:cover")
}

fn tonnes_to_grams(param: &'static str, text: &str) -> Result<i64, MarketError> {
    let d: Decimal = text
        .trim()
        .parse()
        .map_err(|_| MarketError::invalid(param, "tonnes as a decimal string such as \"500\""))?;
    let g = d * Decimal::from(crate::instruments::GRAMS_PER_TONNE);
    if d < Decimal::ZERO || !g.fract().is_zero() {
        return Err(MarketError::invalid(
            param,
            "tonnes, not negative, at most six decimals",
        ));
    }
    g.to_i64()
        .filter(|g| *g <= crate::ledger::service::MAX_AMOUNT)
        .ok_or_else(|| MarketError::invalid(param, "too large"))
}

fn required<T: Clone>(param: &'static str, v: &Option<T>) -> Result<T, MarketError> {
    v.clone()
        .ok_or_else(|| MarketError::invalid(param, "required for this kind of policy"))
}

fn calc_error(e: carbon_calc::CalcError) -> MarketError {
    let param: &'static str = match e.field.as_str() {
        "threshold_t" => "threshold_t",
        "insured_stock_t" => "insured_stock_t",
        "price_per_t" => "price_per_t",
        "quantity" => "quantity",
        "strike" => "strike",
        _ => "maximum",
    };
    MarketError::invalid(param, e.message)
}

/// The terms of a policy, checked, as its row holds them.
struct Terms {
    project_id: Option<String>,
    policy_year: Option<i32>,
    insured_stock_g: Option<i64>,
    threshold_g: Option<i64>,
    price_per_t: Option<i64>,
    instrument: Option<String>,
    quantity: Option<i64>,
    strike: Option<i64>,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    averaging_days: Option<i32>,
}

async fn terms(
    db: &impl ConnectionTrait,
    rules: &FinanceRules,
    input: &PolicyInput,
    holder: &Participant,
    today: NaiveDate,
) -> Result<Terms, MarketError> {
    match input.kind {
        PolicyKind::SinkIndex => {
            let project_id = required("project_id", &input.project_id)?;
            let p = crate::registry::entity::project::Entity::find_by_id(project_id.clone())
                .one(db)
                .await?
                .filter(|p| p.organization_id == holder.org.id)
                .ok_or_else(|| MarketError::unknown("project_id", "not a project of the holder"))?;
            if p.kind != "afforestation" || p.status != crate::registry::projects::status::APPROVED
            {
                return Err(MarketError::invalid(
                    "project_id",
                    "sink insurance covers approved afforestation projects",
                ));
            }
            let year = required("policy_year", &input.policy_year)?;
            if !(today.year() - 1..=today.year() + 1).contains(&year) {
                return Err(MarketError::invalid(
                    "policy_year",
                    "last year, this year or next year",
                ));
            }
            let stock = tonnes_to_grams(
                "insured_stock_t",
                &required("insured_stock_t", &input.insured_stock_t)?,
            )?;
            let threshold =
                tonnes_to_grams("threshold_t", &required("threshold_t", &input.threshold_t)?)?;
            let price = money::parse_price(&required("price_per_t", &input.price_per_t)?)
                .map_err(|e| MarketError::invalid("price_per_t", e.to_string()))?;
            // The rule itself checks the figures (a trigger over the stock).
            super::claims::sink_payout(stock, threshold, 0, price, input.maximum)
                .map_err(calc_error)?;
            Ok(Terms {
                project_id: Some(p.id),
                policy_year: Some(year),
                insured_stock_g: Some(stock),
                threshold_g: Some(threshold),
                price_per_t: Some(price),
                instrument: None,
                quantity: None,
                strike: None,
                starts_on: NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(today),
                ends_on: NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(today),
                averaging_days: None,
            })
        }
        PolicyKind::Price => {
            let code =
                listing::parse_code("instrument", &required("instrument", &input.instrument)?)?;
            let quantity = crate::market::orders::lots(
                money::Step::of(code.class),
                "quantity",
                required("quantity", &input.quantity)?,
            )?;
            let strike = money::parse_price(&required("strike", &input.strike)?)
                .map_err(|e| MarketError::invalid("strike", e.to_string()))?;
            let starts_on = input.starts_on.unwrap_or(today);
            let ends_on = required("ends_on", &input.ends_on)?;
            if starts_on < today
                || ends_on < starts_on
                || ends_on > today + chrono::Duration::days(3_660)
            {
                return Err(MarketError::invalid(
                    "ends_on",
                    "a period from today or later, ending on or after its start, within ten years",
                ));
            }
            let days = input
                .averaging_days
                .unwrap_or(rules.price_averaging_days as i32);
            if !(1..=carbon_calc::insurance::MAX_CLOSES as i32).contains(&days) {
                return Err(MarketError::invalid(
                    "averaging_days",
                    format!("1 to {} closes", carbon_calc::insurance::MAX_CLOSES),
                ));
            }
            super::claims::price_payout(
                &code.to_string(),
                quantity,
                strike,
                &[strike],
                input.maximum,
            )
            .map_err(calc_error)?;
            Ok(Terms {
                project_id: None,
                policy_year: None,
                insured_stock_g: None,
                threshold_g: None,
                price_per_t: None,
                instrument: Some(code.to_string()),
                quantity: Some(quantity),
                strike: Some(strike),
                starts_on,
                ends_on,
                averaging_days: Some(days),
            })
        }
    }
}

/// The insurer `org_id` when the caller is its staff.
async fn insurer(
    db: &impl ConnectionTrait,
    who: &Principal,
    org_id: &str,
) -> Result<Participant, MarketError> {
    let me = participants::acting_for_cash(db, who, "organization_id", org_id).await?;
    if me.org.kind != OrgKind::Insurer {
        return Err(MarketError::unknown("organization_id", "not an insurer"));
    }
    Ok(me)
}

fn request_hash(input: &PolicyInput) -> String {
    let body = serde_json::json!([
        input.holder_organization_id,
        input.kind,
        input.project_id,
        input.policy_year,
        input.insured_stock_t,
        input.threshold_t,
        input.price_per_t,
        input.instrument,
        input.quantity,
        input.strike,
        input.starts_on,
        input.ends_on,
        input.averaging_days,
        input.maximum,
        input.premium,
    ]);
    hex::encode(Sha256::digest(body.to_string().as_bytes()))
}

async fn by_client_id(
    db: &impl ConnectionTrait,
    org_id: &str,
    client_id: &str,
) -> Result<Option<policy::Model>, MarketError> {
    Ok(policy::Entity::find()
        .filter(policy::Column::InsurerOrganizationId.eq(org_id))
        .filter(policy::Column::ClientId.eq(client_id))
        .one(db)
        .await?)
}

fn replay(first: policy::Model, hash: &str) -> Result<Done, MarketError> {
    if first.request_hash != hash {
        return Err(MarketError::Conflict(
            ProblemCode::IdReused,
            format!(
                "client_id {} was used before for a different policy",
                first.client_id
            ),
        ));
    }
    Ok(Done {
        policy: first,
        replayed: true,
    })
}

/// The insurer offers a policy.
pub async fn offer(
    db: &DatabaseConnection,
    who: &Principal,
    rules: &FinanceRules,
    input: &PolicyInput,
    now: DateTime<FixedOffset>,
) -> Result<Done, MarketError> {
    let client_id = crate::text::clean(
        &input.client_id,
        crate::text::CODE_MAX,
        crate::text::Shape::Line,
    )
    .map_err(|e| MarketError::invalid("client_id", e.to_string()))?;
    let maximum = crate::market::cash::amount("maximum", input.maximum)?;
    // A policy may be free: only a premium of 0 is taken below 1 fen.
    let premium = match input.premium {
        0 => 0,
        fen => crate::market::cash::amount("premium", fen)?,
    };
    let me = insurer(db, who, &input.organization_id).await?;
    let hash = request_hash(input);
    if let Some(first) = by_client_id(db, &me.org.id, &client_id).await? {
        return replay(first, &hash);
    }
    let holder =
        participants::cash_holder(db, "holder_organization_id", &input.holder_organization_id)
            .await?;
    if holder.org.id == me.org.id {
        return Err(MarketError::invalid(
            "holder_organization_id",
            "an insurer does not insure itself",
        ));
    }
    let today = crate::clock::china_date(now);
    let t = terms(db, rules, input, &holder, today).await?;
    let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let id = uuid::Uuid::now_v7().to_string();
    let txn = crate::db::begin_write(db).await?;
    let inserted = policy::Entity::insert(policy::ActiveModel {
        id: Set(id.clone()),
        kind: Set(input.kind),
        status: Set(PolicyStatus::Offered),
        insurer_organization_id: Set(me.org.id.clone()),
        holder_organization_id: Set(holder.org.id.clone()),
        client_id: Set(client_id.clone()),
        request_hash: Set(hash.clone()),
        project_id: Set(t.project_id),
        policy_year: Set(t.policy_year),
        insured_stock_g: Set(t.insured_stock_g),
        threshold_g: Set(t.threshold_g),
        price_per_t: Set(t.price_per_t),
        instrument: Set(t.instrument),
        quantity: Set(t.quantity),
        strike: Set(t.strike),
        starts_on: Set(day(t.starts_on)),
        ends_on: Set(day(t.ends_on)),
        averaging_days: Set(t.averaging_days),
        maximum: Set(maximum),
        premium: Set(premium),
        paid: Set(0),
        reason: Set(None),
        offered_by: Set(who.user_id.to_string()),
        answered_by: Set(None),
        created_at: Set(now),
        answered_at: Set(None),
        ended_at: Set(None),
    })
    .on_conflict(
        OnConflict::columns([
            policy::Column::InsurerOrganizationId,
            policy::Column::ClientId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    if inserted == 0 {
        txn.rollback().await?;
        let first = by_client_id(db, &me.org.id, &client_id)
            .await?
            .ok_or(MarketError::NotFound)?;
        return replay(first, &hash);
    }
    let p = find(&txn, &id).await?;
    log(&txn, "finance.policy_offered", &p, now).await?;
    txn.commit().await?;
    Ok(Done {
        policy: p,
        replayed: false,
    })
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<policy::Model, MarketError> {
    policy::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(MarketError::NotFound)
}

/// Which side of a policy the caller answers for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Insurer,
    Holder,
}

/// The policy `id` when the caller acts for `org_id` and it is that side
/// of it; otherwise it looks absent.
pub async fn for_side(
    db: &impl ConnectionTrait,
    who: &Principal,
    id: &str,
    org_id: &str,
    side: Side,
) -> Result<(policy::Model, Participant), MarketError> {
    let me = participants::acting_for_cash(db, who, "organization_id", org_id).await?;
    let p = find(db, id).await?;
    let theirs = match side {
        Side::Insurer => &p.insurer_organization_id,
        Side::Holder => &p.holder_organization_id,
    };
    if *theirs != me.org.id {
        return Err(MarketError::NotFound);
    }
    Ok((p, me))
}

fn not_open(p: &policy::Model) -> MarketError {
    let status = serde_json::to_value(p.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    MarketError::Conflict(
        ProblemCode::PolicyNotOpen,
        format!("the policy is {status}"),
    )
}

/// Moves the policy from `offered` as this transaction's first write.
async fn answer_once(
    txn: &DatabaseTransaction,
    id: &str,
    to: PolicyStatus,
    who: &Principal,
    reason: Option<String>,
    now: DateTime<FixedOffset>,
) -> Result<bool, MarketError> {
    let mut update = policy::Entity::update_many()
        .col_expr(policy::Column::Status, Expr::value(to))
        .col_expr(
            policy::Column::AnsweredBy,
            Expr::value(who.user_id.to_string()),
        )
        .col_expr(policy::Column::AnsweredAt, Expr::value(now))
        .col_expr(policy::Column::Reason, Expr::value(reason))
        .filter(policy::Column::Id.eq(id))
        .filter(policy::Column::Status.eq(PolicyStatus::Offered));
    if to != PolicyStatus::InForce {
        update = update.col_expr(policy::Column::EndedAt, Expr::value(now));
    }
    Ok(update.exec(txn).await?.rows_affected == 1)
}

/// The holder accepts: the premium is paid and the insurer's maximum held,
/// or neither.
pub async fn accept(
    db: &DatabaseConnection,
    who: &Principal,
    id: &str,
    org_id: &str,
    now: DateTime<FixedOffset>,
) -> Result<Done, MarketError> {
    let (p, holder) = for_side(db, who, id, org_id, Side::Holder).await?;
    if p.status != PolicyStatus::Offered {
        return answered_meanwhile(db, id, PolicyStatus::InForce).await;
    }
    let insurer = participants::account_of(db, &p.insurer_organization_id).await?;
    let txn = crate::db::begin_write(db).await?;
    if !answer_once(&txn, id, PolicyStatus::InForce, who, None, now).await? {
        txn.rollback().await?;
        return answered_meanwhile(db, id, PolicyStatus::InForce).await;
    }
    if p.premium > 0 {
        ledger::apply_within(
            &txn,
            &Request {
                id: format!("insurance:{id}:premium"),
                memo: Some(format!("premium of policy {id}")),
                command: Command::pay(Asset::cny(), &holder.account.id, &insurer.id, p.premium),
            },
            &[&holder.account, &insurer],
            now,
        )
        .await
        .map_err(|e| {
            short_of_cash(
                e,
                format!(
                    "the premium of {} yuan is more than the holder's cash available",
                    money::yuan(p.premium)
                ),
            )
        })?;
    }
    ledger::apply_within(
        &txn,
        &Request {
            id: cover_hold_id(id),
            memo: Some(format!("maximum payout of policy {id}")),
            command: Command::Hold {
                account_id: insurer.id.clone(),
                asset: Asset::cny(),
                amount: p.maximum,
            },
        },
        &[&insurer],
        now,
    )
    .await
    .map_err(|e| short_of_cash(e, format!(
        "the insurer's cash available does not cover the maximum payout of {} yuan, held while the policy is in force",
        money::yuan(p.maximum)
    )))?;
    let p = find(&txn, id).await?;
    log(&txn, "finance.policy_in_force", &p, now).await?;
    txn.commit().await?;
    Ok(Done {
        policy: p,
        replayed: false,
    })
}

fn short_of_cash(e: LedgerError, detail: String) -> MarketError {
    match e {
        LedgerError::Insufficient { .. } => {
            MarketError::Conflict(ProblemCode::InsufficientCash, detail)
        }
        other => other.into(),
    }
}

async fn answered_meanwhile(
    db: &impl ConnectionTrait,
    id: &str,
    wanted: PolicyStatus,
) -> Result<Done, MarketError> {
    let p = find(db, id).await?;
    if p.status == wanted {
        Ok(Done {
            policy: p,
            replayed: true,
        })
    } else {
        Err(not_open(&p))
    }
}

/// The holder declines (with a reason) or the insurer withdraws an offer.
pub async fn refuse(
    db: &DatabaseConnection,
    who: &Principal,
    id: &str,
    org_id: &str,
    reason: Option<&str>,
    side: Side,
    now: DateTime<FixedOffset>,
) -> Result<Done, MarketError> {
    let reason = crate::text::clean_optional(
        reason,
        crate::text::REASON_MAX,
        crate::text::Shape::Paragraph,
    )
    .map_err(|e| MarketError::invalid("reason", e.to_string()))?;
    let (p, _) = for_side(db, who, id, org_id, side).await?;
    let to = match side {
        Side::Holder => PolicyStatus::Declined,
        Side::Insurer => PolicyStatus::Withdrawn,
    };
    if p.status != PolicyStatus::Offered {
        return answered_meanwhile(db, id, to).await;
    }
    let txn = crate::db::begin_write(db).await?;
    if !answer_once(&txn, id, to, who, reason, now).await? {
        txn.rollback().await?;
        return answered_meanwhile(db, id, to).await;
    }
    let p = find(&txn, id).await?;
    log(&txn, "finance.policy_answered", &p, now).await?;
    txn.commit().await?;
    Ok(Done {
        policy: p,
        replayed: false,
    })
}

/// The policy's event in the public log (organisations and terms: a
/// policy is a contract between organisations).
pub async fn log(
    txn: &DatabaseTransaction,
    kind: &str,
    p: &policy::Model,
    now: DateTime<FixedOffset>,
) -> Result<(), MarketError> {
    crate::audit::log::append(
        txn,
        kind,
        serde_json::json!({
            "policy": p.id,
            "kind": p.kind,
            "status": p.status,
            "insurer": p.insurer_organization_id,
            "holder": p.holder_organization_id,
            "project": p.project_id,
            "policy_year": p.policy_year,
            "instrument": p.instrument,
            "quantity": p.instrument.as_deref().zip(p.quantity).map(|(i, q)| money::Step::of_code(i).show(q)),
            "strike": p.strike.map(money::yuan),
            "starts_on": p.starts_on,
            "ends_on": p.ends_on,
            "maximum": money::yuan(p.maximum),
            "premium": money::yuan(p.premium),
            "paid": money::yuan(p.paid),
        }),
        None,
        now,
    )
    .await?;
    Ok(())
}
