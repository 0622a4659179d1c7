//! Allocation (确权): staff of the bureau responsible for a class create a
//! batch of its instrument for a holder, tied to a permit or project
//! identifier, valid for the class's window. A free allocation's units are
//! held in the ledger as unconverted until the holder converts them
//! ([`super::conversion`]); the market, transfers, retirement and pledges
//! see them as unavailable without checks of their own. Allocations for
//! sale go to the bureau's own department, which sells them by auction;
//! indicators (clean water, land) are confirmed from verified activity.

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::entity::{allocation, instalment, AllocationStatus, Origin};
use super::rules::RightsRules;
use crate::auth::extract::Principal;
use crate::instruments::Code;
use crate::ledger::{self, Command, Draw, Request};
use crate::market::error::MarketError;
use crate::market::participants::{self, Participant};
use crate::market::{listing, money};
use crate::orgs::entity::OrgKind;
use crate::problem::ProblemCode;
use crate::registry::issuance::{self, NewBatch};

/// The system account rights are allocated from.
pub const RIGHTS_ISSUER: &str = "issuer:rights";

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllocationInput {
    /// The bureau (a government department) allocating; the caller is its
    /// staff, and its bureau must be the class's.
    pub bureau_organization_id: String,
    /// The holder: an approved enterprise (free allocations), the bureau
    /// itself (allocations for sale), any participant (indicators).
    pub organization_id: String,
    /// The class and year, e.g. `TPH-SO2-2026`.
    #[schema(example = "TPH-SO2-2026")]
    pub instrument: String,
    /// Units of the class (kg, m³, tce, mu), a whole number of its steps
    /// (0.01 mu for land, one unit for the others).
    #[schema(value_type = String, example = "20000")]
    pub quantity: crate::amount::Units,
    pub origin: Origin,
    /// For free pollutant allocations the holder's discharge permit number
    /// (its credit code, three digits and a letter); otherwise the permit,
    /// decision or project number, unique per instrument.
    #[schema(example = "91620100MA74XXXX0R001P")]
    pub identifier: String,
    /// Free allocations only: the reserve platform whose fund the
    /// holder's conversions pay.
    #[serde(default)]
    pub reserve_organization_id: Option<String>,
    /// Paid allocations only: yuan per unit, not below the holder's
    /// guidance price when that is a floor.
    #[serde(default)]
    #[schema(example = "4.80")]
    pub price: Option<String>,
    /// Paid allocations only: how many instalments the holder pays by, 1
    /// (the default) to `max_instalments`; the first falls due
    /// `first_instalment_days` after the allocation, the others every
    /// `instalment_interval_days`, the last while the rights are valid.
    #[serde(default)]
    #[schema(example = 3)]
    pub instalments: Option<u32>,
}

/// What a paid allocation costs and when it falls due.
struct Terms {
    price: i64,
    schedule: Vec<instalment::Model>,
}

/// The ledger hold of a free allocation's unconverted units.
pub fn unconverted_hold(allocation_id: &str) -> String {
    format!("rights:{allocation_id}:unconverted")
}

/// The department `org_id` when `who` is its staff and it is the bureau
/// responsible for `code`'s class.
pub async fn bureau_staff(
    db: &impl ConnectionTrait,
    who: &Principal,
    param: &'static str,
    org_id: &str,
    code: &Code,
) -> Result<Participant, MarketError> {
    let Some(bureau) = code.class.bureau() else {
        return Err(MarketError::invalid(
            "instrument",
            format!("{code} is carbon: the service centre issues it from verified reports"),
        ));
    };
    let dept = participants::acting_for(db, who, param, org_id).await?;
    if dept.org.kind != OrgKind::GovernmentDepartment || dept.org.bureau != Some(bureau) {
        return Err(MarketError::Forbidden(
            "only staff of the bureau responsible for the class allocate and confirm its rights",
        ));
    }
    Ok(dept)
}

/// The identifier in canonical form: a free pollutant allocation's
/// discharge permit, checked against the holder; anything else as a line
/// of text.
fn identifier(
    input: &AllocationInput,
    code: &Code,
    holder: &Participant,
) -> Result<String, MarketError> {
    if code.class.pollutant() && matches!(input.origin, Origin::Free | Origin::Paid) {
        return super::permit::discharge_permit(&input.identifier, &holder.org.uscc).map_err(|e| {
            MarketError::invalid("identifier", format!("a discharge permit number {e}"))
        });
    }
    crate::text::clean(
        &input.identifier,
        crate::text::CODE_MAX,
        crate::text::Shape::Line,
    )
    .map_err(|e| MarketError::invalid("identifier", e.to_string()))
}

async fn holder_for(
    db: &impl ConnectionTrait,
    input: &AllocationInput,
    dept: &Participant,
) -> Result<Participant, MarketError> {
    let holder = participants::participant(db, "organization_id", &input.organization_id).await?;
    match input.origin {
        Origin::Free | Origin::Paid if holder.org.kind != OrgKind::Enterprise => {
            Err(MarketError::invalid(
                "organization_id",
                "rights are allocated to approved enterprises, free of charge or paid",
            ))
        }
        Origin::Sale if holder.org.id != dept.org.id => Err(MarketError::invalid(
            "organization_id",
            "rights for sale are allocated to the bureau's own department, which auctions them",
        )),
        _ => Ok(holder),
    }
}

pub async fn allocate(
    db: &DatabaseConnection,
    who: &Principal,
    rules: &RightsRules,
    input: &AllocationInput,
    now: DateTime<FixedOffset>,
) -> Result<allocation::Model, MarketError> {
    let code = listing::parse_code("instrument", &input.instrument)?;
    let dept = bureau_staff(
        db,
        who,
        "bureau_organization_id",
        &input.bureau_organization_id,
        &code,
    )
    .await?;
    if !input.origin.fits(code.class) {
        return Err(MarketError::invalid(
            "origin",
            if code.class.allocated() {
                format!("{code} is allocated: free or for sale")
            } else {
                format!("{code} is an indicator confirmed from verified activity: verified")
            },
        ));
    }
    let (unit, _) = code.class.unit();
    let (lots, grams) = super::quantity(code.class, "quantity", input.quantity)?;
    let holder = holder_for(db, input, &dept).await?;
    let identifier = identifier(input, &code, &holder)?;
    let reserve = match (input.origin, &input.reserve_organization_id) {
        (Origin::Free, Some(id)) => {
            Some(crate::reserve::offers::reserve_platform(db, "reserve_organization_id", id).await?)
        }
        (Origin::Free, None) => {
            return Err(MarketError::invalid(
                "reserve_organization_id",
                "a free allocation names the reserve platform its conversions pay",
            ))
        }
        (_, Some(_)) => {
            return Err(MarketError::invalid(
                "reserve_organization_id",
                "only a free allocation is converted, into a reserve platform's fund",
            ))
        }
        (_, None) => None,
    };
    let today = crate::clock::china_date(now);
    let valid_until = rules.valid_until(code.class, code.vintage);
    if let Some(last) = valid_until.filter(|last| *last < today) {
        return Err(MarketError::invalid(
            "instrument",
            format!("rights of {code} were valid until {last}"),
        ));
    }
    let terms = paid_terms(rules, input, &code, lots, today, valid_until)?;
    let instrument = code.to_string();
    let taken = allocation::Entity::find()
        .filter(allocation::Column::Instrument.eq(instrument.as_str()))
        .filter(allocation::Column::Identifier.eq(identifier.as_str()))
        .one(db)
        .await?;
    if let Some(first) = taken {
        return Err(MarketError::Conflict(
            ProblemCode::AllocationExists,
            format!(
                "{identifier} has an allocation of {instrument} already ({}); a permit or project number has one allocation of an instrument",
                first.id
            ),
        ));
    }
    let issuer = crate::accounts::service::system(db, RIGHTS_ISSUER, now).await?;
    let id = uuid::Uuid::now_v7().to_string();
    let txn = crate::db::begin_write(db).await?;
    let seq = allocation::Entity::find()
        .filter(allocation::Column::Instrument.eq(instrument.as_str()))
        .count(&txn)
        .await?
        + 1;
    let batch_id = format!("{instrument}-{seq:05}");
    super::benchmark::ensure(&txn, rules, &code, who.user_id.as_str(), now).await?;
    if let Some(t) = &terms {
        check_floor(&txn, &instrument, &holder, t.price, today).await?;
    }
    let valid_text = valid_until.map(|d| d.format("%Y-%m-%d").to_string());
    let batch = issuance::record_batch(
        &txn,
        NewBatch {
            id: batch_id.clone(),
            kind: issuance::ALLOCATION,
            project_id: None,
            report_id: None,
            vintage: code.vintage,
            class: code.class,
            methodology: match input.origin {
                Origin::Verified => "verified".into(),
                Origin::Free | Origin::Sale | Origin::Paid => "allocation".into(),
            },
            methodology_version: 1,
            quantity_g: grams,
            holder: &holder.account,
            buffer: None,
            records: None,
            persons: None,
        },
        &issuer,
        who,
        json!({
            "allocation": id,
            "origin": input.origin,
            "identifier": identifier,
            "bureau": dept.org.id,
            "holder_organization": holder.org.id,
            "unit": unit,
            "quantity": money::Step::of(code.class).show(lots),
            "valid_until": valid_text,
            "reserve": reserve.as_ref().map(|r| r.org.id.as_str()),
            "price": terms.as_ref().map(|t| money::yuan(t.price)),
            "instalments": terms.as_ref().map(|t| t.schedule.len()),
        }),
        now,
    )
    .await
    .map_err(MarketError::from)?;
    let unconverted = if matches!(input.origin, Origin::Free | Origin::Paid) {
        ledger::apply_within(
            &txn,
            &Request {
                id: unconverted_hold(&id),
                memo: Some(format!("unconverted (unpaid) units of allocation {id}")),
                command: Command::Hold {
                    account_id: holder.account.id.clone(),
                    asset: issuance::asset(&batch.id),
                    amount: grams,
                },
            },
            &[&holder.account],
            now,
        )
        .await?;
        grams
    } else {
        0
    };
    let row = allocation::ActiveModel {
        id: Set(id),
        batch_id: Set(batch.id),
        instrument: Set(instrument),
        class: Set(code.class),
        vintage: Set(code.vintage),
        origin: Set(input.origin),
        holder_organization_id: Set(holder.org.id.clone()),
        bureau_organization_id: Set(dept.org.id.clone()),
        identifier: Set(identifier),
        reserve_organization_id: Set(reserve.map(|r| r.org.id)),
        quantity_g: Set(grams),
        unconverted_g: Set(unconverted),
        converted_g: Set(0),
        expired_g: Set(0),
        valid_until: Set(valid_text),
        status: Set(AllocationStatus::Active),
        allocated_by: Set(who.user_id.to_string()),
        price: Set(terms.as_ref().map(|t| t.price)),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let inserted = allocation::Entity::insert(row)
        .exec_with_returning(&txn)
        .await;
    let row = match inserted {
        Ok(row) => row,
        Err(e) if crate::registry::error::unique_violation(&e) => {
            return Err(MarketError::Conflict(
                ProblemCode::TryAgain,
                "another allocation of this instrument was made at the same moment; try again"
                    .into(),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(t) = terms {
        instalment::Entity::insert_many(t.schedule.into_iter().map(|i| {
            let mut i: instalment::ActiveModel = i.into();
            i.allocation_id = Set(row.id.clone());
            i
        }))
        .exec(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(row)
}

/// A paid allocation's price and instalments, checked: none for other
/// origins, which may not name them. Each instalment frees an equal share
/// of the units (the last also the remainder) and costs the price of its
/// share; the last falls due while the rights are valid.
fn paid_terms(
    rules: &RightsRules,
    input: &AllocationInput,
    code: &Code,
    lots: i64,
    today: chrono::NaiveDate,
    valid_until: Option<chrono::NaiveDate>,
) -> Result<Option<Terms>, MarketError> {
    let (price, count) = match (input.origin, &input.price) {
        (Origin::Paid, Some(price)) => (
            crate::market::orders::parse_price(money::Step::of(code.class), "price", price)?,
            input.instalments.unwrap_or(1),
        ),
        (Origin::Paid, None) => {
            return Err(MarketError::invalid(
                "price",
                "a paid allocation names its price per unit",
            ))
        }
        (_, Some(_)) => {
            return Err(MarketError::invalid(
                "price",
                "only a paid allocation has a price",
            ))
        }
        (_, None) if input.instalments.is_some() => {
            return Err(MarketError::invalid(
                "instalments",
                "only a paid allocation is paid by instalments",
            ))
        }
        (_, None) => return Ok(None),
    };
    if !(1..=rules.max_instalments).contains(&count) {
        return Err(MarketError::invalid(
            "instalments",
            format!("must be 1 to {}", rules.max_instalments),
        ));
    }
    if i64::from(count) > lots {
        return Err(MarketError::invalid(
            "instalments",
            "an instalment frees at least one step: at most as many instalments as steps",
        ));
    }
    let days = rules.instalment_days(today, count);
    if let (Some(last), Some(until)) = (days.last(), valid_until) {
        if *last > until {
            return Err(MarketError::invalid(
                "instalments",
                format!(
                    "the last of {count} instalments would fall due on {last}, after rights of {code} lapse on {until}"
                ),
            ));
        }
    }
    let step = money::Step::of(code.class);
    let minor = step.minor_per_lot(code.class.unit().1);
    let n = i64::from(count);
    let mut schedule = Vec::with_capacity(days.len());
    for (k, due) in (1..).zip(days) {
        let units = lots / n + if k == count { lots % n } else { 0 };
        schedule.push(instalment::Model {
            allocation_id: String::new(),
            number: i32::try_from(k).unwrap_or(i32::MAX),
            due_on: due.format("%Y-%m-%d").to_string(),
            quantity_g: units * minor,
            amount: money::value(price, units, step)
                .map_err(|e| MarketError::invalid("price", e.to_string()))?,
            paid_at: None,
            paid_by: None,
        });
    }
    Ok(Some(Terms { price, schedule }))
}

/// No paid allocation below the holder's guidance price when that is a
/// floor: the benchmark is the reference for every sale of the rights.
async fn check_floor(
    txn: &sea_orm::DatabaseTransaction,
    instrument: &str,
    holder: &Participant,
    price: i64,
    today: chrono::NaiveDate,
) -> Result<(), MarketError> {
    let applicable =
        crate::pricing::guidance::applicable_price(txn, instrument, &holder.org, today).await?;
    match applicable {
        Some((version, _, floor)) if version.floor && price < floor => Err(MarketError::Rule(
            ProblemCode::BelowFloor,
            "price",
            format!(
                "rights of {instrument} are allocated to this holder at least at its guidance price, {} yuan, which is a floor",
                money::yuan(floor)
            ),
        )),
        _ => Ok(()),
    }
}

/// Up to `grams` of what the holder's active free allocations of
/// `instrument` still hold unconverted, oldest allocation first, counted
/// out of them for `to` (the reserve of a claw-back, the sink of a
/// surrender): the draws on their holds, each with its batch. The caller
/// applies the draws in the same transaction.
pub async fn take_unconverted(
    txn: &sea_orm::DatabaseTransaction,
    holder_org: &str,
    instrument: &str,
    grams: i64,
    to: &str,
    now: DateTime<FixedOffset>,
) -> Result<Vec<(Draw, String)>, MarketError> {
    let free = allocation::Entity::find()
        .filter(allocation::Column::HolderOrganizationId.eq(holder_org))
        .filter(allocation::Column::Instrument.eq(instrument))
        .filter(allocation::Column::Status.eq(AllocationStatus::Active))
        .filter(allocation::Column::UnconvertedG.gt(0))
        .order_by_asc(allocation::Column::Id)
        .all(txn)
        .await?;
    let mut out = Vec::new();
    let mut left = grams;
    for a in free {
        let take = std::cmp::min(left, a.unconverted_g);
        if take == 0 {
            break;
        }
        let taken = allocation::Entity::update_many()
            .col_expr(
                allocation::Column::UnconvertedG,
                Expr::col(allocation::Column::UnconvertedG).sub(take),
            )
            .col_expr(allocation::Column::UpdatedAt, Expr::value(now))
            .filter(allocation::Column::Id.eq(a.id.as_str()))
            .filter(allocation::Column::UnconvertedG.gte(take))
            .exec(txn)
            .await?;
        if taken.rows_affected != 1 {
            return Err(MarketError::Conflict(
                ProblemCode::TryAgain,
                "the allocation changed meanwhile; try again".into(),
            ));
        }
        let draw = Draw {
            hold_id: unconverted_hold(&a.id),
            to_account_id: Some(to.to_string()),
            amount: take,
        };
        out.push((draw, a.batch_id));
        left -= take;
    }
    Ok(out)
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<allocation::Model, MarketError> {
    allocation::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(MarketError::NotFound)
}
