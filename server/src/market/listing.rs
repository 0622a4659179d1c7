//! Listing, suspending and resuming instruments (government staff and
//! administrators), and reading them (everyone).

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::error::MarketError;
use crate::auth::extract::Principal;
use crate::auth::roles::Role;
use crate::instruments::{instrument, Code, TradingStatus};
use crate::problem::ProblemCode;

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

/// Lists an instrument with its first reference price (fen per unit).
pub async fn list(
    db: &sea_orm::DatabaseConnection,
    who: &Principal,
    code: &Code,
    reference_price: i64,
    now: DateTime<FixedOffset>,
) -> Result<instrument::Model, MarketError> {
    authorise(who)?;
    let (unit, minor_per_unit) = code.class.unit();
    let txn = crate::db::begin_write(db).await?;
    let inserted = instrument::Entity::insert(instrument::ActiveModel {
        code: Set(code.to_string()),
        class: Set(code.class),
        vintage: Set(code.vintage),
        unit: Set(unit.into()),
        minor_per_unit: Set(minor_per_unit),
        status: Set(TradingStatus::Listed),
        reference_price: Set(reference_price),
        last_sequence: Set(0),
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
            "by": who.user_id,
        }),
        None,
        now,
    )
    .await?;
    let listed = find(&txn, &code.to_string()).await?;
    txn.commit().await?;
    Ok(listed)
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
    let reason = crate::text::clean(
        reason,
        crate::text::REASON_MAX,
        crate::text::Shape::Paragraph,
    )
    .map_err(|e| MarketError::invalid("reason", e.to_string()))?;
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
