//! Listing, suspending and resuming instruments (government staff and
//! administrators), and reading them (everyone).

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use rust_decimal::Decimal;

use super::error::MarketError;
use crate::auth::extract::Principal;
use crate::auth::roles::Role;
use crate::instruments::{instrument, Code, TradingStatus};
use crate::problem::ProblemCode;

/// The reason a listing decision gives for the public record.
fn public_reason(text: &str) -> Result<String, MarketError> {
    crate::text::clean(text, crate::text::REASON_MAX, crate::text::Shape::Paragraph)
        .map_err(|e| MarketError::invalid("reason", e.to_string()))
}

fn authorise(who: &Principal) -> Result<(), MarketError> {
    if who.is_admin() || who.has_role(Role::Government) {
        Ok(())
    } else {
        Err(MarketError::Forbidden(
            "only government staff and administrators list, suspend and resume instruments",
        ))
    }
}

/// An instrument code from a request: one of the codes the platform
/// defines (`TPH-FOR-2025`), with a vintage the API accepts.
pub fn parse_code(param: &'static str, text: &str) -> Result<Code, MarketError> {
    let code = Code::parse(text).ok_or_else(|| {
        MarketError::invalid(
            param,
            format!("{text:?} is not an instrument code (TPH-PRJ-, TPH-FOR- or TPH-PER- and a four-digit vintage)"),
        )
    })?;
    let year = chrono::NaiveDate::from_ymd_opt(code.vintage, 1, 1)
        .ok_or_else(|| MarketError::invalid(param, "no such vintage"))?;
    crate::clock::accepted_date(year).map_err(|e| MarketError::invalid(param, e))?;
    Ok(code)
}

/// An optional instrument filter (query parameter `instrument`), checked
/// as a code.
pub fn instrument_filter(text: Option<&str>) -> Result<Option<String>, MarketError> {
    text.map(|c| parse_code("instrument", c).map(|c| c.to_string()))
        .transpose()
}

pub async fn find(db: &impl ConnectionTrait, code: &str) -> Result<instrument::Model, MarketError> {
    instrument::Entity::find_by_id(code.to_string())
        .one(db)
        .await?
        .ok_or(MarketError::NotFound)
}

/// Every listed (or suspended) instrument, by code.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<instrument::Model>, MarketError> {
    Ok(instrument::Entity::find()
        .order_by_asc(instrument::Column::Code)
        .all(db)
        .await?)
}

/// An instrument's own rules, each replacing the market-wide setting when
/// set.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct OwnRules {
    pub block_min_units: Option<i64>,
    pub fee_rate: Option<Decimal>,
}

impl OwnRules {
    /// Checked: a block minimum of 1 to `MAX_UNITS` units, a fee rate from
    /// 0 to `MAX_FEE_RATE` with at most 8 decimals.
    pub fn parse(
        block_min_units: Option<i64>,
        fee_rate: Option<&str>,
    ) -> Result<OwnRules, MarketError> {
        if let Some(n) = block_min_units {
            if !(1..=super::money::MAX_UNITS).contains(&n) {
                return Err(MarketError::invalid(
                    "block_min_units",
                    format!("1 to {} whole units", super::money::MAX_UNITS),
                ));
            }
        }
        let fee_rate = match fee_rate {
            None => None,
            Some(text) => {
                let bad = || {
                    MarketError::invalid(
                        "fee_rate",
                        format!(
                            "a decimal share from 0 to {} with at most 8 decimals (0.0003 is 3 in 10,000)",
                            super::rules::MAX_FEE_RATE
                        ),
                    )
                };
                // The spec's pattern: digits, then at most 8 decimals.
                let (whole, frac) = text.split_once('.').unwrap_or((text, "1"));
                let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
                if !digits(whole) || !digits(frac) || frac.len() > 8 {
                    return Err(bad());
                }
                let rate: Decimal = text.parse().map_err(|_| bad())?;
                if rate.scale() > 8 || rate < Decimal::ZERO || rate > super::rules::MAX_FEE_RATE {
                    return Err(bad());
                }
                Some(rate.normalize())
            }
        };
        Ok(OwnRules {
            block_min_units,
            fee_rate,
        })
    }

    fn fee_rate_text(&self) -> Option<String> {
        self.fee_rate.map(|r| r.to_string())
    }
}

/// Lists an instrument with its own rules, if any. Its first reference
/// price (fen per unit) is the guidance price in force, if one is (a
/// given price must be the same); otherwise the given one.
pub async fn list(
    db: &sea_orm::DatabaseConnection,
    who: &Principal,
    code: &Code,
    reference_price: Option<i64>,
    own: OwnRules,
    now: DateTime<FixedOffset>,
) -> Result<instrument::Model, MarketError> {
    authorise(who)?;
    let (unit, minor_per_unit) = code.class.unit();
    let today = crate::clock::china_date(now);
    let txn = crate::db::begin_write(db).await?;
    let guidance = crate::pricing::guidance::in_force(&txn, &code.to_string(), today).await?;
    let reference_price = match (reference_price, guidance.map(|g| g.price)) {
        (Some(given), Some(g)) if given != g => {
            return Err(MarketError::invalid(
                "reference_price",
                format!(
                "the first reference price is the guidance price in force, {} yuan: leave it out",
                super::money::yuan(g)
            ),
            ))
        }
        (_, Some(g)) => g,
        (Some(given), None) => given,
        (None, None) => {
            return Err(MarketError::invalid(
                "reference_price",
                format!("{code} has no guidance price in force: give the first reference price"),
            ))
        }
    };
    let inserted = instrument::Entity::insert(instrument::ActiveModel {
        code: Set(code.to_string()),
        class: Set(code.class),
        vintage: Set(code.vintage),
        unit: Set(unit.into()),
        minor_per_unit: Set(minor_per_unit),
        status: Set(TradingStatus::Listed),
        reference_price: Set(reference_price),
        last_sequence: Set(0),
        block_min_units: Set(own.block_min_units),
        fee_rate: Set(own.fee_rate_text()),
        guidance_price: Set(None),
        floor_price: Set(None),
        listed_by: Set(who.user_id.to_string()),
        listed_at: Set(now),
        updated_at: Set(now),
    })
    .on_conflict(
        sea_orm::sea_query::OnConflict::column(instrument::Column::Code)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    if inserted == 0 {
        return Err(MarketError::Conflict(
            ProblemCode::AlreadyListed,
            format!("{code} is listed already"),
        ));
    }
    crate::audit::log::append(
        &txn,
        "market.instrument_listed",
        serde_json::json!({
            "instrument": code.to_string(),
            "class": code.class,
            "vintage": code.vintage,
            "unit": unit,
            "reference_price": super::money::yuan(reference_price),
            "block_min_units": own.block_min_units,
            "fee_rate": own.fee_rate_text(),
            "by": who.user_id,
        }),
        None,
        now,
    )
    .await?;
    crate::pricing::guidance::refresh_instrument(&txn, &code.to_string(), today, now).await?;
    let listed = find(&txn, &code.to_string()).await?;
    txn.commit().await?;
    Ok(listed)
}

/// Sets (or, with `None`, clears) an instrument's own rules, with the
/// reason in the audit log. Resting orders keep the fee rate they were
/// entered under; orders from now on take the new one.
pub async fn set_rules(
    db: &sea_orm::DatabaseConnection,
    who: &Principal,
    code: &str,
    own: OwnRules,
    reason: &str,
    now: DateTime<FixedOffset>,
) -> Result<instrument::Model, MarketError> {
    authorise(who)?;
    let reason = public_reason(reason)?;
    let txn = crate::db::begin_write(db).await?;
    // In line with the instrument's orders: one entered meanwhile takes
    // either the old rate or the new one, whole.
    super::orders::lock_instrument(&txn, code, 1).await?;
    instrument::Entity::update_many()
        .col_expr(
            instrument::Column::BlockMinUnits,
            Expr::value(own.block_min_units),
        )
        .col_expr(
            instrument::Column::FeeRate,
            Expr::value(own.fee_rate_text()),
        )
        .col_expr(instrument::Column::UpdatedAt, Expr::value(now))
        .filter(instrument::Column::Code.eq(code))
        .exec(&txn)
        .await?;
    crate::audit::log::append(
        &txn,
        "market.instrument_rules",
        serde_json::json!({
            "instrument": code,
            "block_min_units": own.block_min_units,
            "fee_rate": own.fee_rate_text(),
            "reason": reason,
            "by": who.user_id,
        }),
        None,
        now,
    )
    .await?;
    let updated = find(&txn, code).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Suspends (`to = Suspended`) or resumes (`to = Listed`) trading, with
/// the reason in the audit log.
pub async fn set_status(
    db: &sea_orm::DatabaseConnection,
    who: &Principal,
    code: &str,
    to: TradingStatus,
    reason: &str,
    now: DateTime<FixedOffset>,
) -> Result<instrument::Model, MarketError> {
    authorise(who)?;
    let reason = public_reason(reason)?;
    let txn = crate::db::begin_write(db).await?;
    let from = match to {
        TradingStatus::Listed => TradingStatus::Suspended,
        TradingStatus::Suspended => TradingStatus::Listed,
    };
    let changed = instrument::Entity::update_many()
        .col_expr(instrument::Column::Status, Expr::value(to))
        .col_expr(instrument::Column::UpdatedAt, Expr::value(now))
        .filter(instrument::Column::Code.eq(code))
        .filter(instrument::Column::Status.eq(from))
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 {
        let current = find(&txn, code).await?;
        return Err(match current.status {
            TradingStatus::Suspended => MarketError::Conflict(
                ProblemCode::InstrumentSuspended,
                format!("{code} is suspended already"),
            ),
            TradingStatus::Listed => MarketError::Conflict(
                ProblemCode::NotSuspended,
                format!("{code} is not suspended"),
            ),
        });
    }
    crate::audit::log::append(
        &txn,
        match to {
            TradingStatus::Suspended => "market.instrument_suspended",
            TradingStatus::Listed => "market.instrument_resumed",
        },
        serde_json::json!({ "instrument": code, "reason": reason, "by": who.user_id }),
        None,
        now,
    )
    .await?;
    let updated = find(&txn, code).await?;
    txn.commit().await?;
    Ok(updated)
}
