//! Verified use and surrender: after a compliance year ends, the class's
//! bureau records each holder's verified discharge, water or energy use
//! (energy from an accredited third party's report); the holder
//! surrenders rights covering it by the deadline — units of the class
//! whose validity covers the year, unconverted ones first (free
//! allocations are for this), oldest year first — to a sink, final.
//! What is not surrendered by the deadline is a public compliance gap.

use chrono::{DateTime, Datelike, FixedOffset};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::allocation::{bureau_staff, take_unconverted};
use super::entity::compliance;
use super::rules::RightsRules;
use crate::auth::extract::Principal;
use crate::instruments::{Class, Code};
use crate::ledger::{self, Command, Posting, Request};
use crate::market::error::MarketError;
use crate::market::{holds, money, participants};
use crate::orgs::entity::OrgKind;
use crate::problem::ProblemCode;
use crate::registry::issuance::serial;

/// The sink surrendered units go to.
pub const SURRENDERED: &str = "sink:surrendered";

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifiedUseInput {
    /// The bureau recording it; the caller is its staff.
    pub bureau_organization_id: String,
    /// The holder (an approved enterprise).
    pub organization_id: String,
    /// An allocated class: `so2`, `nox`, `cod`, `nh3n`, `water_saving`,
    /// `energy_use`.
    pub class: Class,
    /// The compliance year; it must have ended, its deadline not passed.
    pub year: i32,
    /// Whole units used in the year (kg, m³, tce); 0 is a record too.
    #[serde(deserialize_with = "crate::amount::deserialize")]
    #[schema(value_type = String, example = "18500")]
    pub verified_use: i64,
    /// SHA-256 of the report it comes from (64 hex digits); required for
    /// energy use, whose savings an accredited third party verifies.
    #[serde(default)]
    pub report_sha256: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurrenderInput {
    /// Units to surrender now (whole steps of the class), at most what is
    /// still to surrender.
    #[schema(value_type = String, example = "18500")]
    pub quantity: crate::amount::Units,
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<compliance::Model, MarketError> {
    compliance::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(MarketError::NotFound)
}

fn check_report(input: &VerifiedUseInput) -> Result<Option<String>, MarketError> {
    match &input.report_sha256 {
        Some(h) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(Some(h.to_ascii_lowercase()))
        }
        Some(_) => Err(MarketError::invalid(
            "report_sha256",
            "the SHA-256 of the report, 64 hex digits",
        )),
        None if input.class == Class::EnergyUse => Err(MarketError::invalid(
            "report_sha256",
            "energy use is recorded from an accredited third party's report: give its SHA-256",
        )),
        None => Ok(None),
    }
}

/// Records a holder's verified use for a compliance year (the class's
/// bureau's staff), once.
pub async fn record(
    db: &DatabaseConnection,
    who: &Principal,
    rules: &RightsRules,
    input: &VerifiedUseInput,
    now: DateTime<FixedOffset>,
) -> Result<compliance::Model, MarketError> {
    if !input.class.allocated() {
        return Err(MarketError::invalid(
            "class",
            "verified use is recorded for allocated rights: so2, nox, cod, nh3n, water_saving, energy_use",
        ));
    }
    if !(1..=9999).contains(&input.year) {
        return Err(MarketError::invalid("year", "a year of four digits"));
    }
    let code = Code::new(input.class, input.year);
    let dept = bureau_staff(
        db,
        who,
        "bureau_organization_id",
        &input.bureau_organization_id,
        &code,
    )
    .await?;
    if !(0..=money::MAX_UNITS).contains(&input.verified_use) {
        return Err(MarketError::invalid(
            "verified_use",
            format!("0 to {} whole units", money::MAX_UNITS),
        ));
    }
    let report = check_report(input)?;
    let (_, minor) = input.class.unit();
    let grams = money::to_minor(input.verified_use, minor)
        .map_err(|e| MarketError::invalid("verified_use", e.to_string()))?;
    let holder = participants::participant(db, "organization_id", &input.organization_id).await?;
    if holder.org.kind != OrgKind::Enterprise {
        return Err(MarketError::invalid(
            "organization_id",
            "verified use is an enterprise's",
        ));
    }
    let today = crate::clock::china_date(now);
    let deadline = rules.surrender_deadline(input.year);
    if today.year() <= input.year {
        return Err(MarketError::invalid(
            "year",
            format!("the compliance year {} has not ended", input.year),
        ));
    }
    if today > deadline {
        return Err(MarketError::invalid(
            "year",
            format!(
                "the surrender deadline of {} was {deadline}: too late to record its use",
                input.year
            ),
        ));
    }
    let id = uuid::Uuid::now_v7().to_string();
    let txn = crate::db::begin_write(db).await?;
    let row = compliance::ActiveModel {
        id: Set(id.clone()),
        class: Set(input.class),
        year: Set(input.year),
        organization_id: Set(holder.org.id.clone()),
        bureau_organization_id: Set(dept.org.id.clone()),
        verified_g: Set(grams),
        surrendered_g: Set(0),
        deadline: Set(deadline.format("%Y-%m-%d").to_string()),
        report_sha256: Set(report.clone()),
        recorded_by: Set(who.user_id.to_string()),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let inserted = compliance::Entity::insert(row)
        .on_conflict(
            sea_orm::sea_query::OnConflict::columns([
                compliance::Column::Class,
                compliance::Column::Year,
                compliance::Column::OrganizationId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    if inserted == 0 {
        return Err(MarketError::Conflict(
            ProblemCode::ComplianceRecorded,
            format!(
                "{}'s verified use of {} for {} is recorded already",
                holder.org.name,
                input.class.tag(),
                input.year
            ),
        ));
    }
    crate::audit::log::append(
        &txn,
        "rights.verified_use_recorded",
        json!({
            "compliance": id,
            "class": input.class,
            "year": input.year,
            "organization": holder.org.id,
            "bureau": dept.org.id,
            "verified_use": input.verified_use.to_string(),
            "deadline": deadline.format("%Y-%m-%d").to_string(),
            "report_sha256": report,
            "by": who.user_id,
        }),
        None,
        now,
    )
    .await?;
    let c = find(&txn, &id).await?;
    txn.commit().await?;
    Ok(c)
}

/// One batch's part of a surrender.
struct Taken {
    batch: String,
    grams: i64,
}

/// Surrenders units covering the holder's verified use (its staff), by
/// the deadline.
pub async fn surrender(
    db: &DatabaseConnection,
    who: &Principal,
    rules: &RightsRules,
    id: &str,
    input: &SurrenderInput,
    now: DateTime<FixedOffset>,
) -> Result<compliance::Model, MarketError> {
    let c = find(db, id).await?;
    if !who.acts_for(&c.organization_id) {
        return Err(MarketError::NotFound);
    }
    let holder = participants::acting_for(db, who, "id", &c.organization_id).await?;
    let today = crate::clock::china_day(now);
    if today > c.deadline {
        return Err(MarketError::Conflict(
            ProblemCode::ComplianceClosed,
            format!(
                "the deadline to surrender for {} was {}; what is left is a compliance gap",
                c.year, c.deadline
            ),
        ));
    }
    let (_, minor) = c.class.unit();
    let (lots, grams) = super::quantity(c.class, "quantity", input.quantity)?;
    let owed = c.verified_g - c.surrendered_g;
    if grams > owed {
        return Err(MarketError::invalid(
            "quantity",
            format!(
                "{} units are still to surrender for {}",
                crate::finance::views::units(std::cmp::max(owed, 0), minor),
                c.year
            ),
        ));
    }
    let sink = crate::accounts::service::system(db, SURRENDERED, now).await?;
    let txn = crate::db::begin_write(db).await?;
    let counted = compliance::Entity::update_many()
        .col_expr(
            compliance::Column::SurrenderedG,
            Expr::col(compliance::Column::SurrenderedG).add(grams),
        )
        .col_expr(compliance::Column::UpdatedAt, Expr::value(now))
        .filter(compliance::Column::Id.eq(c.id.as_str()))
        .filter(
            Expr::col(compliance::Column::SurrenderedG)
                .add(grams)
                .lte(Expr::col(compliance::Column::VerifiedG)),
        )
        .exec(&txn)
        .await?;
    if counted.rows_affected != 1 {
        return Err(MarketError::Conflict(
            ProblemCode::TryAgain,
            "another surrender for this year was made at the same moment; try again".into(),
        ));
    }
    let mut left = grams;
    let mut draws = Vec::new();
    let mut postings = Vec::new();
    let mut taken = Vec::new();
    let vintages = rules.covering_vintages(c.class, c.year);
    for vintage in vintages.clone() {
        if left == 0 {
            break;
        }
        let code = Code::new(c.class, vintage).to_string();
        for (draw, batch) in
            take_unconverted(&txn, &c.organization_id, &code, left, &sink.id, now).await?
        {
            left -= draw.amount;
            taken.push(Taken {
                batch,
                grams: draw.amount,
            });
            draws.push(draw);
        }
        let lots = holds::available_lots(&txn, &holder.account.id, &code).await?;
        for (batch, take) in holds::oldest_first(lots, left) {
            let asset = holds::credit_asset(&batch)?;
            postings.push(Posting {
                account_id: holder.account.id.clone(),
                asset: asset.clone(),
                amount: -take,
            });
            postings.push(Posting {
                account_id: sink.id.clone(),
                asset,
                amount: take,
            });
            taken.push(Taken { batch, grams: take });
            left -= take;
        }
    }
    if left > 0 {
        return Err(MarketError::Conflict(
            ProblemCode::InsufficientUnits,
            format!(
                "you hold {} units of {} that may cover {} (of {} to {}, free of pledges and orders)",
                crate::finance::views::units(grams - left, minor),
                c.class.tag(),
                c.year,
                vintages.start(),
                vintages.end()
            ),
        ));
    }
    let known = [&holder.account, &sink];
    if !draws.is_empty() {
        ledger::apply_within(
            &txn,
            &Request {
                id: format!("surrender:{}:{}:unconverted", c.id, uuid::Uuid::now_v7()),
                memo: Some(format!("surrender for {} {}", c.class.tag(), c.year)),
                command: Command::Settle { draws },
            },
            &known,
            now,
        )
        .await?;
    }
    if !postings.is_empty() {
        ledger::apply_within(
            &txn,
            &Request {
                id: format!("surrender:{}:{}", c.id, uuid::Uuid::now_v7()),
                memo: Some(format!("surrender for {} {}", c.class.tag(), c.year)),
                command: Command::Transfer { postings },
            },
            &known,
            now,
        )
        .await?;
    }
    let mut lines = Vec::new();
    for t in &taken {
        let (first, last) = crate::registry::holdings::take_serials(
            &txn,
            &t.batch,
            t.grams,
            crate::registry::entity::batch::Column::RetiredG,
        )
        .await
        .map_err(|e| MarketError::Database(sea_orm::DbErr::Custom(e.to_string())))?
        .ok_or_else(|| sea_orm::DbErr::Custom(format!("serials of {} ran out", t.batch)))?;
        lines.push(json!({
            "batch": t.batch,
            "quantity_g": t.grams.to_string(),
            "serial_first": serial(&t.batch, first),
            "serial_last": serial(&t.batch, last),
        }));
    }
    crate::audit::log::append(
        &txn,
        "rights.surrendered",
        json!({
            "compliance": c.id,
            "class": c.class,
            "year": c.year,
            "organization": c.organization_id,
            "quantity": crate::market::money::Step::of(c.class).show(lots),
            "batches": lines,
            "by": who.user_id,
        }),
        None,
        now,
    )
    .await?;
    let c = find(&txn, &c.id).await?;
    txn.commit().await?;
    Ok(c)
}
