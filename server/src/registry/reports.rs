//! Monitoring reports: the activity data of one period of an approved
//! project, the reduction the server computes from it with carbon-calc
//! (never the enterprise's own figure), and the service centre's
//! verification. Periods of one project never overlap, and a period
//! declared as claimed under another mechanism is refused.

use chrono::{DateTime, FixedOffset, NaiveDate};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use carbon_calc::decimal::{credited_grams, mul, GRAMS_PER_TONNE};
use carbon_calc::json::parse_request;
use carbon_calc::{forest, grid, methane, Catalog, Dec};
use rust_decimal::Decimal;

use super::entity::{project, report};
use super::error::RegistryError;
use super::identities;
use super::projects::{self, status as project_status, ProjectKind};
use crate::audit::log::append;
use crate::auth::extract::Principal;
use crate::auth::roles::Role;
use crate::problem::ProblemCode;

pub mod status {
    pub const SUBMITTED: &str = "submitted";
    pub const VERIFIED: &str = "verified";
    pub const REJECTED: &str = "rejected";
    pub const ISSUED: &str = "issued";
    /// Every status, for the spec.
    pub const ALL: &[&str] = &[SUBMITTED, VERIFIED, REJECTED, ISSUED];
}

/// The activity data, by the calculator that applies to the project's kind.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Activity {
    /// `grid` (renewable power, energy efficiency: MWh and a grid table),
    /// `methane` (biogas: t CH4 and a GWP set), `forest` (afforestation: two
    /// inventories), `declared` (other: the tonnes the named methodology
    /// gives, `{"reduction_t": "…"}`).
    pub calculator: String,
    /// carbon-calc's request for that calculator (as `/estimates` and the
    /// WebAssembly package take it).
    #[schema(value_type = Object)]
    pub request: Value,
    /// `forest`: the registered parcels (their ids) the inventory covers;
    /// all of the project's parcels when absent. `area_ha` may not exceed
    /// their registered area.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parcels: Option<Vec<String>>,
    /// `grid`: why a table other than the project's regional grid applies
    /// (the grid follows from the project's `region_code`); shown to the
    /// verifier. Required for any other table, refused for the right one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid_override_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Declared {
    reduction_t: Dec,
}

fn value<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("estimates serialise")
}

/// The area an inventory may cover: the registered parcels it names (all of
/// them when it names none), each once.
fn covered_area(p: &project::Model, named: Option<&[String]>) -> Result<Decimal, RegistryError> {
    let location: projects::Location = serde_json::from_str(&p.location)
        .map_err(|e| sea_orm::DbErr::Custom(format!("project {} location: {e}", p.id)))?;
    let registered = location.parcels.unwrap_or_default();
    let Some(named) = named else {
        return Ok(registered.iter().map(|r| r.area_ha).sum());
    };
    if named.is_empty() {
        return Err(RegistryError::invalid(
            "activity.parcels",
            "name at least one registered parcel, or leave parcels out for all of them",
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut area = Decimal::ZERO;
    for id in named {
        let canon = identities::canonical(id);
        let Some(parcel) = registered
            .iter()
            .find(|r| identities::canonical(&r.id) == canon)
        else {
            return Err(RegistryError::invalid(
                "activity.parcels",
                format!("{id:?} is not a registered parcel of this project"),
            ));
        };
        if !seen.insert(canon) {
            return Err(RegistryError::invalid(
                "activity.parcels",
                format!("{id:?} is named twice"),
            ));
        }
        area += parcel.area_ha;
    }
    Ok(area)
}

/// The claimed grams and carbon-calc's full answer.
fn compute(
    catalog: &Catalog,
    p: &project::Model,
    activity: &mut Activity,
) -> Result<(i64, Value), RegistryError> {
    let kind = ProjectKind::parse(&p.kind)
        .ok_or_else(|| sea_orm::DbErr::Custom(format!("project kind {}", p.kind)))?;
    let expected = match kind {
        ProjectKind::RenewablePower | ProjectKind::EnergyEfficiency => "grid",
        ProjectKind::Biogas => "methane",
        ProjectKind::Afforestation => "forest",
        ProjectKind::Other => "declared",
    };
    if activity.calculator != expected {
        return Err(RegistryError::invalid(
            "activity.calculator",
            format!("{} projects are computed by `{expected}`", kind.as_str()),
        ));
    }
    if activity.parcels.is_some() && expected != "forest" {
        return Err(RegistryError::invalid(
            "activity.parcels",
            "only forest inventories name parcels",
        ));
    }
    let reason = crate::text::clean_optional(
        activity.grid_override_reason.as_deref(),
        crate::text::REASON_MAX,
        crate::text::Shape::Paragraph,
    )
    .map_err(|e| RegistryError::invalid("activity.grid_override_reason", e.to_string()))?;
    if reason.is_some() && expected != "grid" {
        return Err(RegistryError::invalid(
            "activity.grid_override_reason",
            "only grid calculations choose a grid table",
        ));
    }
    activity.grid_override_reason = reason;
    let text = activity.request.to_string();
    let (grams, estimate) = match expected {
        "grid" => {
            let req: grid::GridRequest = parse_request(&text)?;
            let fit = grid::fit(catalog, &req.grid, &p.region_code)?;
            match (&fit, &activity.grid_override_reason) {
                (grid::GridFit::Matches, Some(_)) => {
                    return Err(RegistryError::invalid(
                        "activity.grid_override_reason",
                        "the table is the project's own regional grid: no reason is needed",
                    ))
                }
                (grid::GridFit::Differs { expected, tables }, None) => {
                    return Err(RegistryError::invalid(
                        "activity.request.grid",
                        format!(
                            "a project in {} is on the {expected} grid: use {} or give grid_override_reason",
                            p.region_code,
                            tables.join(" / ")
                        ),
                    ))
                }
                (grid::GridFit::UnknownPlace, None) if !req.grid.starts_with("national") => {
                    return Err(RegistryError::invalid(
                        "activity.request.grid",
                        format!(
                            "the grid of {} is not known: use a national table or give grid_override_reason",
                            p.region_code
                        ),
                    ))
                }
                _ => {}
            }
            let e = grid::estimate(catalog, &req)?;
            let mut answer = value(&e);
            answer["grid_fit"] = value(&fit);
            (e.credited_g, answer)
        }
        "methane" => {
            let e = methane::estimate(catalog, &parse_request(&text)?)?;
            (e.credited_g, value(&e))
        }
        "forest" => {
            let req: forest::ForestRequest = parse_request(&text)?;
            if req.buffer_fraction.is_some() {
                return Err(RegistryError::invalid(
                    "activity.request.buffer_fraction",
                    "the registry's buffer share applies at issuance; leave it out",
                ));
            }
            let covered = covered_area(p, activity.parcels.as_deref())?;
            if req.area_ha.0 > covered {
                return Err(RegistryError::invalid(
                    "activity.request.area_ha",
                    format!(
                        "the inventory's {} ha exceed the {covered} ha of the registered parcels it covers",
                        req.area_ha.0
                    ),
                ));
            }
            let e = forest::estimate(catalog, &req)?;
            let mut answer = value(&e);
            answer["registered_area_ha"] = json!(covered.to_string());
            (e.gross_g, answer)
        }
        _ => {
            let d: Declared = parse_request(&text)?;
            if d.reduction_t.0 <= rust_decimal::Decimal::ZERO {
                return Err(RegistryError::invalid(
                    "activity.request.reduction_t",
                    "must be positive",
                ));
            }
            let g = credited_grams(
                mul(d.reduction_t.0, GRAMS_PER_TONNE, "reduction_t")?,
                "reduction_t",
            )?;
            (g, json!({"reduction_t": d.reduction_t, "credited_g": g}))
        }
    };
    if grams <= 0 {
        return Err(RegistryError::invalid(
            "activity",
            "the period's reduction is zero: nothing to report",
        ));
    }
    Ok((grams, estimate))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportInput {
    /// First day of the monitoring period.
    #[schema(value_type = String, format = Date)]
    pub period_start: NaiveDate,
    /// Last day of the period (inclusive).
    #[schema(value_type = String, format = Date)]
    pub period_end: NaiveDate,
    pub activity: Activity,
    /// Other mechanisms (CCER, a provincial scheme, …) under which this
    /// period's reductions were claimed. Any entry refuses the report: a
    /// reduction is credited once.
    #[serde(default)]
    pub claimed_elsewhere: Vec<String>,
}

pub async fn submit(
    db: &DatabaseConnection,
    catalog: &Catalog,
    who: &Principal,
    project_id: &str,
    input: ReportInput,
    now: DateTime<FixedOffset>,
) -> Result<report::Model, RegistryError> {
    let p = projects::visible(db, who, project_id).await?;
    if !who.has_role_in(Role::EnterpriseOperator, &p.organization_id) {
        return Err(RegistryError::Forbidden(
            "only the enterprise's operators report on its projects",
        ));
    }
    if p.status != project_status::APPROVED {
        return Err(RegistryError::Conflict(
            ProblemCode::ProjectNotApproved,
            "monitoring reports are taken for approved projects only".into(),
        ));
    }
    if !input.claimed_elsewhere.is_empty() {
        return Err(RegistryError::Conflict(
            ProblemCode::DoubleCounting,
            format!(
                "the period's reductions were claimed under {}: a reduction is credited once",
                input.claimed_elsewhere.join(", ")
            ),
        ));
    }
    super::error::check_date("period_start", input.period_start)?;
    super::error::check_date("period_end", input.period_end)?;
    if input.period_end < input.period_start {
        return Err(RegistryError::invalid(
            "period_end",
            "must not be before period_start",
        ));
    }
    let (start, end) = (input.period_start.to_string(), input.period_end.to_string());
    if start < p.crediting_start || end > p.crediting_end {
        return Err(RegistryError::invalid(
            "period_start",
            format!(
                "the period must lie in the crediting period {} to {}",
                p.crediting_start, p.crediting_end
            ),
        ));
    }
    if end >= crate::clock::china_day(now) {
        return Err(RegistryError::invalid(
            "period_end",
            "a period is reported once it has ended",
        ));
    }
    let mut activity = input.activity.clone();
    let (claimed_g, estimate) = compute(catalog, &p, &mut activity)?;
    let txn = crate::db::begin_write(db).await?;
    // Reports of one project are checked for overlap one at a time.
    projects::lock(&txn, project_id).await?;
    // ISO dates compare as text.
    let overlapping = report::Entity::find()
        .filter(report::Column::ProjectId.eq(project_id))
        .filter(report::Column::Status.ne(status::REJECTED))
        .filter(report::Column::PeriodStart.lte(end.as_str()))
        .filter(report::Column::PeriodEnd.gte(start.as_str()))
        .one(&txn)
        .await?;
    if let Some(o) = overlapping {
        return Err(RegistryError::Conflict(
            ProblemCode::PeriodOverlaps,
            format!(
                "the period overlaps report {} ({} to {}): each reduction is reported once",
                o.id, o.period_start, o.period_end
            ),
        ));
    }
    let r = report::Entity::insert(report::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        project_id: Set(project_id.to_string()),
        period_start: Set(start),
        period_end: Set(end),
        activity: Set(serde_json::to_string(&activity).expect("serialises")),
        estimate: Set(estimate.to_string()),
        claimed_g: Set(claimed_g),
        status: Set(status::SUBMITTED.into()),
        verified_g: Set(None),
        decision_reason: Set(None),
        decided_by: Set(None),
        decided_at: Set(None),
        batch_id: Set(None),
        created_by: Set(who.user_id.to_string()),
        created_at: Set(now),
    })
    .exec_with_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(r)
}

/// How the service centre decides a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[schema(as = ReportVerdict)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Accept,
    /// Accept a smaller quantity (`quantity_g`), with reasons.
    AcceptReduced,
    Reject,
}

pub async fn verify(
    db: &DatabaseConnection,
    who: &Principal,
    report_id: &str,
    verdict: Verdict,
    quantity_g: Option<i64>,
    reason: Option<String>,
    now: DateTime<FixedOffset>,
) -> Result<report::Model, RegistryError> {
    if !who.has_role(Role::Verifier) {
        return Err(RegistryError::Forbidden(
            "only the service centre verifies reports",
        ));
    }
    let r = find(db, report_id).await?;
    let reason = crate::text::clean_optional(
        reason.as_deref(),
        crate::text::FINDING_MAX,
        crate::text::Shape::Paragraph,
    )
    .map_err(|e| RegistryError::invalid("reason", e.to_string()))?;
    let verified = match verdict {
        Verdict::Accept => Some(r.claimed_g),
        Verdict::AcceptReduced => {
            let q = quantity_g.ok_or_else(|| {
                RegistryError::invalid("quantity_g", "give the accepted quantity")
            })?;
            if q < 1 || q >= r.claimed_g {
                return Err(RegistryError::invalid(
                    "quantity_g",
                    format!(
                        "must be 1 to {} (below the claimed quantity)",
                        r.claimed_g - 1
                    ),
                ));
            }
            if reason.is_none() {
                return Err(RegistryError::invalid(
                    "reason",
                    "a reduced quantity needs reasons",
                ));
            }
            Some(q)
        }
        Verdict::Reject => {
            if reason.is_none() {
                return Err(RegistryError::invalid(
                    "reason",
                    "a rejection needs reasons",
                ));
            }
            None
        }
    };
    let txn = crate::db::begin_write(db).await?;
    let changed = report::Entity::update_many()
        .col_expr(
            report::Column::Status,
            Expr::value(if verified.is_some() {
                status::VERIFIED
            } else {
                status::REJECTED
            }),
        )
        .col_expr(report::Column::VerifiedG, Expr::value(verified))
        .col_expr(report::Column::DecisionReason, Expr::value(reason))
        .col_expr(
            report::Column::DecidedBy,
            Expr::value(who.user_id.to_string()),
        )
        .col_expr(report::Column::DecidedAt, Expr::value(now))
        .filter(report::Column::Id.eq(report_id))
        .filter(report::Column::Status.eq(status::SUBMITTED))
        .exec_with_returning(&txn)
        .await?;
    let Some(r) = changed.into_iter().next() else {
        return Err(RegistryError::Conflict(
            ProblemCode::AlreadyDecided,
            "the report was already verified or rejected".into(),
        ));
    };
    append(
        &txn,
        "registry.report_verified",
        json!({
            "report": r.id,
            "project": r.project_id,
            "period_start": r.period_start,
            "period_end": r.period_end,
            "claimed_g": r.claimed_g,
            "verified_g": r.verified_g,
            "status": r.status,
        }),
        None,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(r)
}

pub async fn find(
    db: &impl sea_orm::ConnectionTrait,
    id: &str,
) -> Result<report::Model, RegistryError> {
    report::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(RegistryError::NotFound)
}

/// The report if `who` may see it: the enterprise's staff, the service
/// centre and administrators.
pub async fn visible(
    db: &impl sea_orm::ConnectionTrait,
    who: &Principal,
    id: &str,
) -> Result<(report::Model, project::Model), RegistryError> {
    let r = find(db, id).await?;
    let p = projects::find(db, &r.project_id).await?;
    if projects::is_insider(who, &p) {
        Ok((r, p))
    } else {
        Err(RegistryError::NotFound)
    }
}

/// A page of a project's reports, in the order they were submitted.
pub async fn of_project(
    db: &impl sea_orm::ConnectionTrait,
    who: &Principal,
    project_id: &str,
    after: Option<&str>,
    limit: u64,
) -> Result<(Vec<report::Model>, bool), RegistryError> {
    let p = projects::visible(db, who, project_id).await?;
    if !projects::is_insider(who, &p) {
        return Err(RegistryError::NotFound);
    }
    Ok(crate::pagination::fetch(
        db,
        report::Entity::find().filter(report::Column::ProjectId.eq(project_id)),
        report::Column::Id,
        crate::pagination::Order::Ascending,
        after,
        limit,
    )
    .await?)
}

/// The service centre's queue: every project's reports in one status
/// (`submitted` to verify, `verified` to issue), oldest first. For the
/// service centre and administrators.
pub async fn queue(
    db: &impl sea_orm::ConnectionTrait,
    who: &Principal,
    status: &str,
    after: Option<&str>,
    limit: u64,
) -> Result<(Vec<report::Model>, bool), RegistryError> {
    if !(who.is_admin() || who.has_role(Role::Verifier)) {
        return Err(RegistryError::Forbidden(
            "the queue of reports is the service centre's",
        ));
    }
    if !status::ALL.contains(&status) {
        return Err(RegistryError::invalid(
            "status",
            format!("one of {}", status::ALL.join(", ")),
        ));
    }
    Ok(crate::pagination::fetch(
        db,
        report::Entity::find().filter(report::Column::Status.eq(status)),
        report::Column::Id,
        crate::pagination::Order::Ascending,
        after,
        limit,
    )
    .await?)
}
