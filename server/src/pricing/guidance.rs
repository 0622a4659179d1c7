//! Guidance prices: government staff publish a version per instrument (a
//! base price, tiers, whether it is a floor, from a China day on, with a
//! reason); versions are never edited, only superseded. The version in
//! force on a day is the one with the latest `effective_from` on or before
//! it (of two from the same day, the later published). The instrument
//! carries the version in force today (`guidance_price`, `floor_price`),
//! set here at publication and listing and by the daily close for the
//! next trading day, so that order entry reads no other row.

use chrono::{DateTime, FixedOffset, NaiveDate};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, SqlErr,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::entity::guidance;
use super::tiers::{self, Party, Tier, MAX_TIERS};
use crate::auth::extract::Principal;
use crate::auth::roles::Role;
use crate::instruments::instrument;
use crate::market::entity::{order, OrderKind, OrderStatus};
use crate::market::error::MarketError;
use crate::market::{listing, money};
use crate::problem::ProblemCode;

/// Latest a version may take effect, in days after its publication.
pub const MAX_DAYS_AHEAD: i64 = 366;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishInput {
    #[schema(
        pattern = "^TPH-(PRJ|FOR|PER|SO2|NOX|COD|NH3N|WCI|WSR|ENU|LCI|LLS)-[0-9]{4}$",
        example = "TPH-FOR-2025"
    )]
    pub instrument: String,
    /// The base price, yuan per unit (at most two decimals).
    #[schema(example = "36.00")]
    pub price: String,
    /// The first China day it is in force, today or later (at most a year
    /// ahead); today when absent.
    #[schema(value_type = Option<String>, format = Date, example = "2027-01-01")]
    pub effective_from: Option<NaiveDate>,
    /// The base price is a floor: no book order, pick, block trade or
    /// auction price below it.
    #[serde(default)]
    pub floor: bool,
    /// Adjustments by district and kind of organisation, tried in order;
    /// an organisation no tier matches pays the base price.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub tiers: Vec<Tier>,
    /// Why, for the public record.
    #[schema(example = "2027 年度碳汇指导价")]
    pub reason: String,
}

/// A tier as published, with the price it gives. (Its fields are the
/// tier's own, not flattened: a tier as input admits no others.)
#[derive(Debug, Serialize, ToSchema)]
pub struct TierView {
    pub name: String,
    /// Division codes (prefixes) of the organisations' registration.
    pub districts: Vec<String>,
    pub kinds: Vec<crate::orgs::entity::OrgKind>,
    /// The share added to the base price.
    #[schema(example = "-0.3")]
    pub adjustment: String,
    /// Yuan per unit: the base × (1 + adjustment), to the fen.
    pub price: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GuidanceView {
    pub id: String,
    pub instrument: String,
    /// 1, 2, … in the order published.
    pub version: i32,
    /// The base price, yuan per unit.
    pub price: String,
    /// The first China day it is in force.
    pub effective_from: String,
    pub floor: bool,
    pub tiers: Vec<TierView>,
    pub reason: String,
    /// The user who published it.
    pub published_by: String,
    /// The review whose proposal it publishes, if any.
    pub review_id: Option<String>,
    pub created_at: String,
}

/// The tiers a stored version holds.
pub fn tiers_of(m: &guidance::Model) -> Vec<Tier> {
    // Written by `publish` from checked tiers; unreadable would be a bug.
    serde_json::from_str(&m.tiers).unwrap_or_default()
}

impl From<guidance::Model> for GuidanceView {
    fn from(m: guidance::Model) -> Self {
        let step = money::Step::of_code(&m.instrument);
        let tiers = tiers_of(&m)
            .into_iter()
            .map(|tier| TierView {
                price: money::yuan(tiers::price_of(m.price, &tier, step)),
                adjustment: tier.adjustment.normalize().to_string(),
                name: tier.name,
                districts: tier.districts,
                kinds: tier.kinds,
            })
            .collect();
        GuidanceView {
            id: m.id,
            instrument: m.instrument,
            version: m.version,
            price: money::yuan(m.price),
            effective_from: m.effective_from,
            floor: m.floor,
            tiers,
            reason: m.reason,
            published_by: m.published_by,
            review_id: m.review_id,
            created_at: m.created_at.to_rfc3339(),
        }
    }
}

fn authorise(who: &Principal) -> Result<(), MarketError> {
    if who.is_admin() || who.has_role(Role::Government) {
        Ok(())
    } else {
        Err(MarketError::Forbidden(
            "only government staff and administrators publish guidance prices",
        ))
    }
}

/// What a version says, checked: the instrument's code, the price in fen,
/// the first day, the tiers.
pub struct Checked {
    pub code: String,
    pub price: i64,
    pub effective_from: NaiveDate,
    pub floor: bool,
    pub tiers: Vec<Tier>,
    pub reason: String,
}

pub fn check(input: PublishInput, today: NaiveDate) -> Result<Checked, MarketError> {
    let code = listing::parse_code("instrument", &input.instrument)?;
    let price =
        crate::market::orders::parse_price(money::Step::of(code.class), "price", &input.price)?;
    let code = code.to_string();
    let effective_from = input.effective_from.unwrap_or(today);
    if effective_from < today || (effective_from - today).num_days() > MAX_DAYS_AHEAD {
        return Err(MarketError::invalid(
            "effective_from",
            format!(
                "from today ({today}, China time) to {MAX_DAYS_AHEAD} days ahead: a published price never changes the past"
            ),
        ));
    }
    if input.tiers.len() > MAX_TIERS {
        return Err(MarketError::invalid(
            "tiers",
            format!("at most {MAX_TIERS}"),
        ));
    }
    let tiers = input
        .tiers
        .into_iter()
        .enumerate()
        .map(|(i, t)| t.checked(i))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|detail| MarketError::invalid("tiers", detail))?;
    let reason = crate::text::clean(
        &input.reason,
        crate::text::REASON_MAX,
        crate::text::Shape::Paragraph,
    )
    .map_err(|e| MarketError::invalid("reason", e.to_string()))?;
    Ok(Checked {
        code,
        price,
        effective_from,
        floor: input.floor,
        tiers,
        reason,
    })
}

/// Publishes a version (government staff, administrators): checked, then
/// [`publish_in`] in a transaction of its own.
pub async fn publish(
    db: &DatabaseConnection,
    who: &Principal,
    input: PublishInput,
    now: DateTime<FixedOffset>,
) -> Result<GuidanceView, MarketError> {
    authorise(who)?;
    let c = check(input, crate::clock::china_date(now))?;
    let txn = crate::db::begin_write(db).await?;
    let published = publish_in(&txn, who.user_id.as_str(), c, None, now).await?;
    txn.commit().await?;
    Ok(published.into())
}

/// Publishes a checked version in `txn`: numbered after the instrument's
/// last, audit-logged, and in force on the instrument at once when it
/// takes effect today. `publisher` is a user id (or `system` for a
/// review published by configuration); `review_id` names the review
/// whose proposal it publishes.
pub async fn publish_in(
    txn: &DatabaseTransaction,
    publisher: &str,
    c: Checked,
    review_id: Option<String>,
    now: DateTime<FixedOffset>,
) -> Result<guidance::Model, MarketError> {
    let today = crate::clock::china_date(now);
    // In line with the instrument's orders (when it is listed): one entered
    // meanwhile meets the old floor or the new one, whole.
    let listed = instrument::Entity::find_by_id(c.code.clone())
        .one(txn)
        .await?
        .is_some();
    if listed {
        crate::market::orders::lock_instrument(txn, &c.code, 1).await?;
    }
    let last: Option<i32> = guidance::Entity::find()
        .select_only()
        .column_as(guidance::Column::Version.max(), "v")
        .filter(guidance::Column::Instrument.eq(c.code.as_str()))
        .into_tuple::<Option<i32>>()
        .one(txn)
        .await?
        .flatten();
    let version = last.unwrap_or(0) + 1;
    let row = guidance::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        instrument: Set(c.code.clone()),
        version: Set(version),
        price: Set(c.price),
        effective_from: Set(c.effective_from.format("%Y-%m-%d").to_string()),
        tiers: Set(serde_json::to_string(&c.tiers).expect("tiers serialise")),
        floor: Set(c.floor),
        reason: Set(c.reason.clone()),
        published_by: Set(publisher.to_string()),
        review_id: Set(review_id.clone()),
        created_at: Set(now),
    };
    let inserted = match guidance::Entity::insert(row).exec_with_returning(txn).await {
        Ok(m) => m,
        // Two publications of an unlisted instrument at once: one wins.
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Err(MarketError::Conflict(
                ProblemCode::TryAgain,
                format!("another version of {} was published at the same moment: look at its history and publish again", c.code),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    crate::audit::log::append(
        txn,
        "pricing.guidance_published",
        serde_json::json!({
            "instrument": c.code,
            "version": version,
            "price": money::yuan(c.price),
            "effective_from": inserted.effective_from,
            "floor": c.floor,
            "tiers": c.tiers,
            "reason": c.reason,
            "review_id": review_id,
            "by": publisher,
        }),
        None,
        now,
    )
    .await?;
    if listed {
        refresh_instrument(txn, &c.code, today, now).await?;
    }
    Ok(inserted)
}

/// The version of `code` in force on `day`, if any.
pub async fn in_force(
    db: &impl ConnectionTrait,
    code: &str,
    day: NaiveDate,
) -> Result<Option<guidance::Model>, DbErr> {
    guidance::Entity::find()
        .filter(guidance::Column::Instrument.eq(code))
        .filter(guidance::Column::EffectiveFrom.lte(day.format("%Y-%m-%d").to_string()))
        .order_by_desc(guidance::Column::EffectiveFrom)
        .order_by_desc(guidance::Column::Version)
        .one(db)
        .await
}

/// Puts the version in force on `day` on the instrument's row (its base
/// price, and its floor when it is one), and cancels the book orders
/// resting below a floor, giving back what they hold: no trade below it.
/// The caller holds the instrument's lock (publication, listing, the
/// daily close), so the lanes read the instrument and its book again.
pub async fn refresh_instrument(
    txn: &DatabaseTransaction,
    code: &str,
    day: NaiveDate,
    now: DateTime<FixedOffset>,
) -> Result<Option<guidance::Model>, MarketError> {
    let version = in_force(txn, code, day).await?;
    let price = version.as_ref().map(|v| v.price);
    let floor = version.as_ref().filter(|v| v.floor).map(|v| v.price);
    instrument::Entity::update_many()
        .col_expr(instrument::Column::GuidancePrice, Expr::value(price))
        .col_expr(instrument::Column::FloorPrice, Expr::value(floor))
        .col_expr(instrument::Column::UpdatedAt, Expr::value(now))
        .filter(instrument::Column::Code.eq(code))
        .exec(txn)
        .await?;
    if let Some(floor) = floor {
        let below = order::Entity::find()
            .filter(order::Column::Instrument.eq(code))
            .filter(order::Column::Status.eq(OrderStatus::Open))
            .filter(order::Column::Kind.eq(OrderKind::Limit))
            .filter(order::Column::Price.lt(floor))
            .all(txn)
            .await?;
        for o in &below {
            order::Entity::update_many()
                .col_expr(order::Column::Status, Expr::value(OrderStatus::Cancelled))
                .col_expr(order::Column::Reason, Expr::value("below_floor"))
                .col_expr(order::Column::UpdatedAt, Expr::value(now))
                .filter(order::Column::Id.eq(o.id.as_str()))
                .exec(txn)
                .await?;
            crate::market::settlement::release_all(txn, o, now).await?;
        }
        if !below.is_empty() {
            crate::audit::log::append(
                txn,
                "market.orders_below_floor_cancelled",
                serde_json::json!({
                    "instrument": code,
                    "floor": money::yuan(floor),
                    "orders": below.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
                }),
                None,
                now,
            )
            .await?;
        }
    }
    Ok(version)
}

/// An instrument's versions, newest first, in pages (public).
pub async fn history(
    db: &DatabaseConnection,
    code: &str,
    after: Option<String>,
    limit: u64,
) -> Result<(Vec<guidance::Model>, bool), DbErr> {
    crate::pagination::fetch(
        db,
        guidance::Entity::find().filter(guidance::Column::Instrument.eq(code)),
        guidance::Column::Id,
        crate::pagination::Order::Descending,
        after,
        limit,
    )
    .await
}

/// The guidance price an organisation pays or is paid for an instrument
/// today: its tier of the version in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicableView {
    pub instrument: String,
    pub organization_id: String,
    /// The version in force today.
    pub guidance: GuidanceView,
    /// The tier that applies, if any (else the base price).
    pub tier: Option<String>,
    /// Yuan per unit.
    pub price: String,
}

/// The organisation's tier and price of the version of `code` in force on
/// `day`, in fen; `None` when no version is.
pub async fn applicable_price(
    db: &impl ConnectionTrait,
    code: &str,
    org: &crate::orgs::entity::organization::Model,
    day: NaiveDate,
) -> Result<Option<(guidance::Model, Option<Tier>, i64)>, DbErr> {
    let Some(version) = in_force(db, code, day).await? else {
        return Ok(None);
    };
    let tiers = tiers_of(&version);
    let (tier, price) = tiers::applicable(
        version.price,
        &tiers,
        &Party::new(&org.uscc, org.kind),
        money::Step::of_code(code),
    );
    let tier = tier.cloned();
    Ok(Some((version, tier, price)))
}

/// The applicable price for the organisation's staff, government staff
/// and administrators.
pub async fn applicable(
    db: &DatabaseConnection,
    who: &Principal,
    code: &str,
    org_id: &str,
    now: DateTime<FixedOffset>,
) -> Result<ApplicableView, MarketError> {
    let code = listing::parse_code("instrument", code)?.to_string();
    if !(who.is_admin() || who.has_role(Role::Government) || who.acts_for(org_id)) {
        return Err(MarketError::unknown(
            "organization_id",
            "not an organisation you act for",
        ));
    }
    let org = crate::orgs::entity::organization::Entity::find_by_id(org_id.to_string())
        .one(db)
        .await?
        .ok_or_else(|| MarketError::unknown("organization_id", "no such organisation"))?;
    let day = crate::clock::china_date(now);
    let (version, tier, price) =
        applicable_price(db, &code, &org, day)
            .await?
            .ok_or_else(|| {
                MarketError::Conflict(
                    ProblemCode::NoGuidancePrice,
                    format!("{code} has no guidance price in force on {day}"),
                )
            })?;
    Ok(ApplicableView {
        instrument: code,
        organization_id: org.id,
        guidance: version.into(),
        tier: tier.map(|t| t.name),
        price: money::yuan(price),
    })
}
