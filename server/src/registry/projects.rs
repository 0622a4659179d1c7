//! Projects: drafted and edited by an approved enterprise's operators,
//! submitted to public notice (anyone signed in may object), then approved
//! or rejected by the service centre once the notice has closed. Every
//! permission rule of projects is here.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone};
use rust_decimal::Decimal;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::entity::{identity, objection, project};
use super::error::{clean_text, unique_violation, RegistryError};
use super::rules::{notice_end, RegistryRules};
use crate::audit::log::append;
use crate::auth::extract::Principal;
use crate::auth::roles::Role;
use crate::orgs::entity::{organization, OrgKind, Status as OrgStatus};
use crate::pagination::{self, Order};
use crate::problem::ProblemCode;
use crate::text::{Shape, CODE_MAX, FINDING_MAX, NAME_MAX, OBJECTION_MAX};
use carbon_calc::Catalog;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProjectKind {
    EnergyEfficiency,
    RenewablePower,
    Biogas,
    Afforestation,
    /// With a named methodology (`methodology_name`).
    Other,
}

impl ProjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectKind::EnergyEfficiency => "energy_efficiency",
            ProjectKind::RenewablePower => "renewable_power",
            ProjectKind::Biogas => "biogas",
            ProjectKind::Afforestation => "afforestation",
            ProjectKind::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<ProjectKind> {
        serde_json::from_value(json!(text)).ok()
    }
}

pub mod status {
    pub const DRAFT: &str = "draft";
    pub const NOTICE: &str = "notice";
    pub const APPROVED: &str = "approved";
    pub const REJECTED: &str = "rejected";
    /// Every status, for the spec.
    pub const ALL: &[&str] = &[DRAFT, NOTICE, APPROVED, REJECTED];
}

/// Most identities (registrations elsewhere) one project may name.
pub const MAX_IDENTITIES: usize = 50;

/// Smallest eligible afforestation parcel (400 m², CCER-14-001-V01).
const MIN_PARCEL_HA: Decimal = Decimal::from_parts(4, 0, 0, false, 2);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Parcel {
    /// The parcel's id in the land register (unique in its region).
    pub id: String,
    /// Area in hectares, a decimal string.
    #[schema(value_type = String)]
    #[serde(with = "rust_decimal::serde::str")]
    pub area_ha: Decimal,
}

/// Where the project is: one point, or (forests) the parcels it covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// `[longitude, latitude]` in degrees (WGS 84), decimal strings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>)]
    pub coordinates: Option<[rust_decimal::Decimal; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parcels: Option<Vec<Parcel>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Document {
    pub name: String,
    /// Hex SHA-256 of the file; the file itself is kept by the enterprise
    /// and shown to the verifier.
    pub sha256: String,
}

/// What an enterprise says about a project (creating or editing a draft).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectInput {
    pub organization_id: String,
    pub name: String,
    pub kind: ProjectKind,
    /// Methodology id, e.g. `ccer-14-001-v01` (afforestation: one of the
    /// forest methodologies the server publishes).
    pub methodology: String,
    /// The methodology's version, 1 to 1000.
    #[schema(minimum = 1, maximum = 1000)]
    pub methodology_version: i32,
    /// Required for `other`: the methodology's published name.
    #[serde(default)]
    pub methodology_name: Option<String>,
    /// Six-digit administrative division code (GB/T 2260), e.g. `620100`.
    pub region_code: String,
    pub location: Location,
    #[schema(value_type = String, format = Date)]
    pub crediting_start: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub crediting_end: NaiveDate,
    #[serde(default)]
    pub documents: Vec<Document>,
    /// What identifies the reductions outside this registry: the grid
    /// meter, another mechanism's registration (`ccer:…`), … (`scheme:value`).
    /// Parcels of forest projects are added as `parcel:<region>:<id>`. No two
    /// live projects may share one.
    #[serde(default)]
    pub identities: Vec<String>,
}

/// Trims and checks the input's texts, checks the rest, and answers its
/// identities (parcels included), sorted.
fn check(catalog: &Catalog, input: &mut ProjectInput) -> Result<Vec<String>, RegistryError> {
    input.name = clean_text("name", &input.name, NAME_MAX, Shape::Line)?;
    input.methodology = clean_text("methodology", &input.methodology, CODE_MAX, Shape::Line)?;
    if !(1..=1000).contains(&input.methodology_version) {
        return Err(RegistryError::invalid(
            "methodology_version",
            "must be 1 to 1000",
        ));
    }
    input.methodology_name = match input.methodology_name.as_deref() {
        Some(name) => Some(clean_text("methodology_name", name, NAME_MAX, Shape::Line)?),
        None => None,
    };
    match input.kind {
        ProjectKind::Other if input.methodology_name.is_none() => {
            return Err(RegistryError::invalid(
                "methodology_name",
                "is required for projects of kind other",
            ))
        }
        ProjectKind::Afforestation => {
            let method = catalog
                .forest(&input.methodology, "methodology")
                .map_err(RegistryError::Calc)?;
            if method.version as i32 != input.methodology_version {
                return Err(RegistryError::invalid(
                    "methodology_version",
                    format!("{} is at version {}", method.id, method.version),
                ));
            }
        }
        _ => {}
    }
    if input.region_code.len() != 6 || !input.region_code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RegistryError::invalid(
            "region_code",
            "must be six digits (GB/T 2260)",
        ));
    }
    for p in input.location.parcels.iter_mut().flatten() {
        p.id = clean_text("location.parcels", &p.id, CODE_MAX, Shape::Line)?;
    }
    let mut identities = Vec::new();
    match (&input.location.coordinates, &input.location.parcels) {
        (Some([lon, lat]), None) => {
            let lon_ok = (Decimal::from(-180)..=Decimal::from(180)).contains(lon);
            let lat_ok = (Decimal::from(-90)..=Decimal::from(90)).contains(lat);
            if !lon_ok || !lat_ok {
                return Err(RegistryError::invalid(
                    "location.coordinates",
                    "longitude −180 to 180 and latitude −90 to 90",
                ));
            }
            if input.kind == ProjectKind::Afforestation {
                return Err(RegistryError::invalid(
                    "location.parcels",
                    "forest projects list their parcels",
                ));
            }
        }
        (None, Some(parcels)) => {
            if parcels.is_empty() || parcels.len() > 1000 {
                return Err(RegistryError::invalid(
                    "location.parcels",
                    "1 to 1000 parcels",
                ));
            }
            let mut seen = std::collections::BTreeSet::new();
            for (i, p) in parcels.iter().enumerate() {
                let identity = super::identities::parcel(&input.region_code, &p.id);
                if !seen.insert(identity.clone()) {
                    return Err(RegistryError::Invalid {
                        param: "location.parcels",
                        detail: format!("parcel {i} ({}) is listed twice", p.id),
                    });
                }
                if p.area_ha < MIN_PARCEL_HA || p.area_ha > Decimal::from(1_000_000) {
                    return Err(RegistryError::Invalid {
                        param: "location.parcels",
                        detail: format!(
                            "parcel {i} ({}): area must be 0.04 ha (400 m²) to 1000000 ha",
                            p.id
                        ),
                    });
                }
                identities.push(identity);
            }
        }
        _ => {
            return Err(RegistryError::invalid(
                "location",
                "give either coordinates or parcels",
            ))
        }
    }
    super::error::check_date("crediting_start", input.crediting_start)?;
    super::error::check_date("crediting_end", input.crediting_end)?;
    if input.crediting_end <= input.crediting_start
        || input.crediting_end > input.crediting_start + Duration::days(60 * 366)
    {
        return Err(RegistryError::invalid(
            "crediting_end",
            "must be after crediting_start, and the period at most 60 years",
        ));
    }
    if input.documents.len() > 50 {
        return Err(RegistryError::invalid("documents", "at most 50"));
    }
    for d in &mut input.documents {
        d.name = clean_text("documents", &d.name, NAME_MAX, Shape::Line)?;
        if d.sha256.len() != 64 || !d.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(RegistryError::invalid(
                "documents",
                "sha256 must be 64 hex characters",
            ));
        }
    }
    if input.identities.len() > MAX_IDENTITIES {
        return Err(RegistryError::invalid(
            "identities",
            format!("at most {MAX_IDENTITIES}"),
        ));
    }
    for id in &input.identities {
        let id = clean_text("identities", id, NAME_MAX, Shape::Line)?;
        let canon = super::identities::canonical(&id);
        match canon.split_once(':') {
            Some((scheme, value))
                if !scheme.is_empty() && !value.is_empty() && canon.chars().count() <= 200 => {}
            _ => {
                return Err(RegistryError::invalid(
                    "identities",
                    format!("{id:?} is not scheme:value (at most 200 characters)"),
                ))
            }
        }
        identities.push(canon);
    }
    identities.sort();
    identities.dedup();
    Ok(identities)
}

/// The enterprise must be approved and the caller one of its operators.
async fn operated_enterprise(
    db: &impl ConnectionTrait,
    who: &Principal,
    org_id: &str,
) -> Result<organization::Model, RegistryError> {
    if !who.has_role_in(Role::EnterpriseOperator, org_id) {
        return Err(RegistryError::Forbidden(
            "only the enterprise's operators manage its projects",
        ));
    }
    let org = organization::Entity::find_by_id(org_id.to_string())
        .one(db)
        .await?
        .ok_or(RegistryError::NotFound)?;
    if org.kind != OrgKind::Enterprise || org.status != OrgStatus::Approved {
        return Err(RegistryError::invalid(
            "organization_id",
            "must be an approved enterprise",
        ));
    }
    Ok(org)
}

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("registry values serialise")
}

fn fill(model: &mut project::ActiveModel, input: &ProjectInput, identities: &[String]) {
    model.name = Set(input.name.clone());
    model.kind = Set(input.kind.as_str().into());
    model.methodology = Set(input.methodology.clone());
    model.methodology_version = Set(input.methodology_version);
    model.methodology_name = Set(input.methodology_name.clone());
    model.region_code = Set(input.region_code.clone());
    model.location = Set(to_json(&input.location));
    model.crediting_start = Set(input.crediting_start.to_string());
    model.crediting_end = Set(input.crediting_end.to_string());
    model.documents = Set(to_json(&input.documents));
    model.identities = Set(to_json(&identities));
}

pub async fn create(
    db: &DatabaseConnection,
    catalog: &Catalog,
    who: &Principal,
    mut input: ProjectInput,
    now: DateTime<FixedOffset>,
) -> Result<project::Model, RegistryError> {
    let identities = check(catalog, &mut input)?;
    operated_enterprise(db, who, &input.organization_id).await?;
    let mut model = project::ActiveModel {
        // Time-ordered, so lists in id order are in order of creation.
        id: Set(uuid::Uuid::now_v7().to_string()),
        number: Set(None),
        organization_id: Set(input.organization_id.clone()),
        status: Set(status::DRAFT.into()),
        notice_closes_at: Set(None),
        decided_by: Set(None),
        decided_at: Set(None),
        decision_reason: Set(None),
        created_by: Set(who.user_id.to_string()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    fill(&mut model, &input, &identities);
    Ok(project::Entity::insert(model)
        .exec_with_returning(db)
        .await?)
}

/// Replaces a draft's content (the organisation cannot change).
pub async fn update(
    db: &DatabaseConnection,
    catalog: &Catalog,
    who: &Principal,
    id: &str,
    mut input: ProjectInput,
    now: DateTime<FixedOffset>,
) -> Result<project::Model, RegistryError> {
    let current = visible(db, who, id).await?;
    if input.organization_id != current.organization_id {
        return Err(RegistryError::invalid(
            "organization_id",
            "a project cannot move to another organisation",
        ));
    }
    let identities = check(catalog, &mut input)?;
    operated_enterprise(db, who, &current.organization_id).await?;
    let mut model = project::ActiveModel {
        updated_at: Set(now),
        ..Default::default()
    };
    fill(&mut model, &input, &identities);
    let changed = project::Entity::update_many()
        .set(model)
        .filter(project::Column::Id.eq(id))
        .filter(project::Column::Status.eq(status::DRAFT))
        .exec_with_returning(db)
        .await?;
    changed.into_iter().next().ok_or_else(|| {
        RegistryError::Conflict(ProblemCode::NotADraft, "only drafts can be edited".into())
    })
}

/// The people inside a project's process: the enterprise's staff, the
/// service centre and administrators. They see drafts, objections and
/// monitoring reports.
pub fn is_insider(who: &Principal, p: &project::Model) -> bool {
    who.is_admin() || who.has_role(Role::Verifier) || who.acts_for(&p.organization_id)
}

/// May `who` see this project? Submitted projects are public; drafts are
/// the insiders'.
pub fn can_see(who: Option<&Principal>, p: &project::Model) -> bool {
    p.status != status::DRAFT || who.is_some_and(|w| is_insider(w, p))
}

/// Takes the project's row lock (a no-op update that answers the row), so
/// what is decided per project — report periods, batch numbers, the buffer
/// a reversal spends — is decided one transaction at a time.
pub async fn lock(txn: &impl ConnectionTrait, id: &str) -> Result<project::Model, RegistryError> {
    project::Entity::update_many()
        .col_expr(project::Column::Status, Expr::col(project::Column::Status))
        .filter(project::Column::Id.eq(id))
        .exec_with_returning(txn)
        .await?
        .into_iter()
        .next()
        .ok_or(RegistryError::NotFound)
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<project::Model, RegistryError> {
    project::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(RegistryError::NotFound)
}

pub async fn visible(
    db: &impl ConnectionTrait,
    who: &Principal,
    id: &str,
) -> Result<project::Model, RegistryError> {
    let p = find(db, id).await?;
    if can_see(Some(who), &p) {
        Ok(p)
    } else {
        Err(RegistryError::NotFound)
    }
}

/// When a notice opened at `now` closes: at the end (China time) of the
/// last of `days` working days; with 0 days, at once.
pub fn notice_closes_at(now: DateTime<FixedOffset>, days: u32) -> DateTime<FixedOffset> {
    if days == 0 {
        return now;
    }
    let china = crate::clock::china_time();
    let last = notice_end(crate::clock::china_date(now), days);
    let next = (last + Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .expect("midnight");
    china
        .from_local_datetime(&next)
        .single()
        .expect("UTC+8 has no gaps")
}

/// Puts a draft to public notice and claims its identities: a second live
/// project with one of them is refused (the same reductions registered
/// twice).
pub async fn submit(
    db: &DatabaseConnection,
    who: &Principal,
    rules: &RegistryRules,
    id: &str,
    now: DateTime<FixedOffset>,
) -> Result<project::Model, RegistryError> {
    let p = visible(db, who, id).await?;
    operated_enterprise(db, who, &p.organization_id).await?;
    let identities: Vec<String> = serde_json::from_str(&p.identities)
        .map_err(|e| sea_orm::DbErr::Custom(format!("project identities: {e}")))?;
    let txn = crate::db::begin_write(db).await?;
    let changed = project::Entity::update_many()
        .col_expr(project::Column::Status, Expr::value(status::NOTICE))
        .col_expr(
            project::Column::NoticeClosesAt,
            Expr::value(notice_closes_at(now, rules.notice_working_days)),
        )
        .col_expr(project::Column::UpdatedAt, Expr::value(now))
        .filter(project::Column::Id.eq(id))
        .filter(project::Column::Status.eq(status::DRAFT))
        .exec_with_returning(&txn)
        .await?;
    let Some(p) = changed.into_iter().next() else {
        return Err(RegistryError::Conflict(
            ProblemCode::NotADraft,
            "the project was already submitted".into(),
        ));
    };
    for identity in &identities {
        let claimed = identity::Entity::insert(identity::ActiveModel {
            identity: Set(identity.clone()),
            project_id: Set(p.id.clone()),
        })
        .exec_without_returning(&txn)
        .await;
        match claimed {
            Ok(_) => {}
            Err(e) if unique_violation(&e) => {
                return Err(RegistryError::Conflict(
                    ProblemCode::DoubleCounting,
                    format!(
                        "{identity} belongs to another registered project: the same reductions cannot be registered twice"
                    ),
                ))
            }
            Err(e) => return Err(e.into()),
        }
    }
    append(
        &txn,
        "registry.project_submitted",
        json!({
            "project": p.id,
            "organization": p.organization_id,
            "kind": p.kind,
            "methodology": p.methodology,
            "methodology_version": p.methodology_version,
            "notice_closes_at": p.notice_closes_at.map(|t| t.to_rfc3339()),
        }),
        None,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(p)
}

/// Anyone signed in may object while the notice is open.
pub async fn object(
    db: &DatabaseConnection,
    who: &Principal,
    id: &str,
    text: &str,
    now: DateTime<FixedOffset>,
) -> Result<objection::Model, RegistryError> {
    let text = clean_text("text", text, OBJECTION_MAX, Shape::Paragraph)?;
    let p = visible(db, who, id).await?;
    let open = p.status == status::NOTICE && p.notice_closes_at.is_some_and(|t| now < t);
    if !open {
        return Err(RegistryError::Conflict(
            ProblemCode::NoticeClosed,
            "objections are taken only while the project is on public notice".into(),
        ));
    }
    Ok(objection::Entity::insert(objection::ActiveModel {
        // Time-ordered, so pages in id order are oldest first.
        id: Set(uuid::Uuid::now_v7().to_string()),
        project_id: Set(p.id),
        user_id: Set(who.user_id.to_string()),
        text: Set(text),
        created_at: Set(now),
    })
    .exec_with_returning(db)
    .await?)
}

/// A page of a project's objections, oldest first.
pub async fn objections(
    db: &impl ConnectionTrait,
    who: &Principal,
    id: &str,
    after: Option<&str>,
    limit: u64,
) -> Result<(Vec<objection::Model>, bool), RegistryError> {
    let p = visible(db, who, id).await?;
    if !is_insider(who, &p) {
        return Err(RegistryError::Forbidden(
            "objections are read by the service centre and the enterprise",
        ));
    }
    Ok(crate::pagination::fetch(
        db,
        objection::Entity::find().filter(objection::Column::ProjectId.eq(id)),
        objection::Column::Id,
        crate::pagination::Order::Ascending,
        after,
        limit,
    )
    .await?)
}

pub async fn objection_count(db: &impl ConnectionTrait, id: &str) -> Result<u64, RegistryError> {
    use sea_orm::PaginatorTrait;
    Ok(objection::Entity::find()
        .filter(objection::Column::ProjectId.eq(id))
        .count(db)
        .await?)
}

/// The service centre approves (giving the project its registry number) or
/// rejects (with reasons, freeing its identities) once the notice closed.
pub async fn decide(
    db: &DatabaseConnection,
    who: &Principal,
    id: &str,
    approve: bool,
    reason: Option<&str>,
    now: DateTime<FixedOffset>,
) -> Result<project::Model, RegistryError> {
    if !who.has_role(Role::Verifier) {
        return Err(RegistryError::Forbidden(
            "only the service centre decides projects",
        ));
    }
    let reason = match reason {
        Some(r) => Some(clean_text("reason", r, FINDING_MAX, Shape::Paragraph)?),
        None => None,
    };
    if reason.is_none() && !approve {
        return Err(RegistryError::invalid(
            "reason",
            "a rejection needs reasons",
        ));
    }
    let p = find(db, id).await?;
    if p.status != status::NOTICE {
        return Err(RegistryError::Conflict(
            ProblemCode::AlreadyDecided,
            format!("the project is {}, not on notice", p.status),
        ));
    }
    if p.notice_closes_at.is_some_and(|t| now < t) {
        return Err(RegistryError::Conflict(
            ProblemCode::NoticeOpen,
            format!(
                "the public notice runs until {}",
                p.notice_closes_at
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_default()
            ),
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    // The decision is written first (SQLite takes its write lock before
    // anything is read), then the number.
    let changed = project::Entity::update_many()
        .col_expr(
            project::Column::Status,
            Expr::value(if approve {
                status::APPROVED
            } else {
                status::REJECTED
            }),
        )
        .col_expr(
            project::Column::DecidedBy,
            Expr::value(who.user_id.to_string()),
        )
        .col_expr(project::Column::DecidedAt, Expr::value(now))
        .col_expr(project::Column::DecisionReason, Expr::value(reason))
        .col_expr(project::Column::UpdatedAt, Expr::value(now))
        .filter(project::Column::Id.eq(id))
        .filter(project::Column::Status.eq(status::NOTICE))
        .exec_with_returning(&txn)
        .await?;
    let Some(mut p) = changed.into_iter().next() else {
        return Err(RegistryError::Conflict(
            ProblemCode::AlreadyDecided,
            "another verifier decided the project first".into(),
        ));
    };
    if approve {
        // Numbers come from a counter row locked until this transaction
        // ends: approvals at the same moment get consecutive numbers.
        let next = super::counters::next(&txn, "project").await?;
        let next = i32::try_from(next)
            .map_err(|_| sea_orm::DbErr::Custom("registry numbers exhausted".into()))?;
        project::Entity::update_many()
            .col_expr(project::Column::Number, Expr::value(next))
            .filter(project::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        p.number = Some(next);
    }
    if !approve {
        identity::Entity::delete_many()
            .filter(identity::Column::ProjectId.eq(id))
            .exec(&txn)
            .await?;
    }
    append(
        &txn,
        "registry.project_decided",
        json!({
            "project": p.id,
            "status": p.status,
            "number": p.number,
            "reason": p.decision_reason,
        }),
        None,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(p)
}

/// A page of projects, oldest first (ids are time-ordered). `who` absent: the public list (no
/// drafts).
pub async fn list(
    db: &impl ConnectionTrait,
    who: Option<&Principal>,
    filter: &ProjectFilter,
    after: Option<String>,
    limit: u64,
) -> Result<(Vec<project::Model>, bool), RegistryError> {
    let mut query = project::Entity::find();
    if let Some(s) = &filter.status {
        // A misspelt status would otherwise answer an empty list as if
        // there were no such projects.
        if !status::ALL.contains(&s.as_str()) {
            return Err(RegistryError::Invalid {
                param: "status",
                detail: format!("one of {}", status::ALL.join(", ")),
            });
        }
        query = query.filter(project::Column::Status.eq(s.as_str()));
    }
    if let Some(k) = filter.kind {
        query = query.filter(project::Column::Kind.eq(k.as_str()));
    }
    if let Some(o) = &filter.organization_id {
        query = query.filter(project::Column::OrganizationId.eq(o.as_str()));
    }
    let sees_drafts = who.is_some_and(|w| w.is_admin() || w.has_role(Role::Verifier));
    if !sees_drafts {
        let own: Vec<String> = who
            .map(|w| {
                w.grants
                    .iter()
                    .filter(|(r, _)| *r == Role::EnterpriseOperator)
                    .filter_map(|(_, o)| o.clone())
                    .collect()
            })
            .unwrap_or_default();
        query = query.filter(
            sea_orm::Condition::any()
                .add(project::Column::Status.ne(status::DRAFT))
                .add(project::Column::OrganizationId.is_in(own)),
        );
    }
    Ok(pagination::fetch(
        db,
        query,
        project::Column::Id,
        Order::Ascending,
        after,
        limit,
    )
    .await?)
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectFilter {
    /// `draft`, `notice`, `approved` or `rejected`.
    pub status: Option<String>,
    pub kind: Option<ProjectKind>,
    pub organization_id: Option<String>,
}
