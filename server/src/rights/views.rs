//! What the API shows of allocations. Enterprises are not personal data:
//! every allocation is public (disclosure), its holder named.

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::Serialize;
use utoipa::ToSchema;

use super::entity::{
    allocation, compliance, instalment, AllocationStatus, ComplianceStatus, Origin,
};
use crate::finance::views::units;
use crate::instruments::Class;
use crate::market::error::MarketError;

#[derive(Debug, Serialize, ToSchema)]
pub struct AllocationView {
    pub id: String,
    /// The batch of the instrument it created (its serial prefix).
    #[schema(example = "TPH-SO2-2026-00001")]
    pub batch_id: String,
    #[schema(example = "TPH-SO2-2026")]
    pub instrument: String,
    pub class: Class,
    pub vintage: i32,
    pub origin: Origin,
    pub holder_organization_id: String,
    /// The holder's name: enterprises are not personal data.
    pub holder_name: String,
    pub bureau_organization_id: String,
    /// The permit or project identifier it is tied to.
    pub identifier: String,
    /// Free allocations: the reserve platform whose fund conversions pay.
    pub reserve_organization_id: Option<String>,
    /// kg, m3, tce or mu.
    #[schema(example = "kg")]
    pub unit: String,
    /// Units allocated (decimal text).
    #[schema(example = "20000")]
    pub quantity: String,
    /// Units still unconverted (paid allocations: not yet paid for): the
    /// holder's, but only the reserve may take them until converted.
    #[schema(example = "15000")]
    pub unconverted: String,
    /// Units the holder converted (free allocations) or paid for (paid
    /// allocations); all of them otherwise. Units clawed back or surrendered unconverted are
    /// neither.
    #[schema(example = "5000")]
    pub converted: String,
    /// Units cancelled when the batch expired.
    #[schema(example = "0")]
    pub expired: String,
    /// The last valid day (China); none: it does not lapse.
    #[schema(example = "2031-03-31")]
    pub valid_until: Option<String>,
    pub status: AllocationStatus,
    /// Active and lapsing within `expiry_warning_days` (`[rights]`, 30 by
    /// default): what is left of it will be cancelled after
    /// `valid_until`.
    pub expiring: bool,
    /// Paid allocations: yuan per unit.
    #[schema(example = "4.80")]
    pub price: Option<String>,
    /// Paid allocations: the instalments, in the order they fall due;
    /// empty otherwise.
    pub instalments: Vec<InstalmentView>,
    pub created_at: String,
}

/// One instalment of a paid allocation.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstalmentView {
    pub number: i32,
    /// The last day to pay (China).
    #[schema(example = "2027-01-06")]
    pub due_on: String,
    /// Units its payment frees.
    #[schema(example = "2000")]
    pub quantity: String,
    /// Yuan.
    #[schema(example = "9600.00")]
    pub amount: String,
    pub status: InstalmentStatus,
    pub paid_at: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InstalmentStatus {
    Paid,
    /// Not paid, and its last day is today or later.
    Due,
    /// Not paid after its last day: the bureau may have the reserve claw
    /// the allocation back.
    Overdue,
}

impl InstalmentView {
    pub fn new(i: instalment::Model, minor: i64, today: chrono::NaiveDate) -> InstalmentView {
        let today = today.format("%Y-%m-%d").to_string();
        InstalmentView {
            number: i.number,
            quantity: units(i.quantity_g, minor),
            amount: crate::market::money::yuan(i.amount),
            status: match &i.paid_at {
                Some(_) => InstalmentStatus::Paid,
                None if i.due_on < today => InstalmentStatus::Overdue,
                None => InstalmentStatus::Due,
            },
            paid_at: i.paid_at.map(|t| t.to_rfc3339()),
            due_on: i.due_on,
        }
    }
}

/// What an allocation's view is read against: today (China) and the
/// warning period before lapse.
#[derive(Debug, Clone, Copy)]
pub struct Today {
    pub day: chrono::NaiveDate,
    pub warning_days: u32,
}

impl Today {
    pub fn of(
        rules: &super::rules::RightsRules,
        now: chrono::DateTime<chrono::FixedOffset>,
    ) -> Today {
        Today {
            day: crate::clock::china_date(now),
            warning_days: rules.expiry_warning_days,
        }
    }

    /// Active rights valid until `valid_until` that lapse within the
    /// warning period.
    fn expiring(self, a: &allocation::Model) -> bool {
        let Some(last) = a
            .valid_until
            .as_deref()
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        else {
            return false;
        };
        a.status == AllocationStatus::Active
            && last >= self.day
            && (last - self.day).num_days() < i64::from(self.warning_days)
    }
}

impl AllocationView {
    /// The view of `a` with its instalments (in any order).
    pub fn new(
        a: allocation::Model,
        holder_name: String,
        mut instalments: Vec<instalment::Model>,
        today: Today,
    ) -> Self {
        let (unit, minor) = a.class.unit();
        instalments.sort_by_key(|i| i.number);
        AllocationView {
            price: a.price.map(crate::market::money::yuan),
            instalments: instalments
                .into_iter()
                .map(|i| InstalmentView::new(i, minor, today.day))
                .collect(),
            expiring: today.expiring(&a),
            unit: unit.into(),
            quantity: units(a.quantity_g, minor),
            unconverted: units(a.unconverted_g, minor),
            converted: units(
                match a.origin {
                    Origin::Free | Origin::Paid => a.converted_g,
                    Origin::Sale | Origin::Verified => a.quantity_g,
                },
                minor,
            ),
            expired: units(a.expired_g, minor),
            id: a.id,
            batch_id: a.batch_id,
            instrument: a.instrument,
            class: a.class,
            vintage: a.vintage,
            origin: a.origin,
            holder_organization_id: a.holder_organization_id,
            holder_name,
            bureau_organization_id: a.bureau_organization_id,
            identifier: a.identifier,
            reserve_organization_id: a.reserve_organization_id,
            valid_until: a.valid_until,
            status: a.status,
            created_at: a.created_at.to_rfc3339(),
        }
    }
}

/// The views of allocations, their holders' names and instalments read in
/// one query each.
pub async fn shown(
    db: &impl sea_orm::ConnectionTrait,
    rows: Vec<allocation::Model>,
    today: Today,
) -> Result<Vec<AllocationView>, MarketError> {
    let paid: Vec<&str> = rows
        .iter()
        .filter(|a| a.origin == Origin::Paid)
        .map(|a| a.id.as_str())
        .collect();
    let mut instalments: std::collections::HashMap<String, Vec<instalment::Model>> =
        std::collections::HashMap::new();
    if !paid.is_empty() {
        for i in instalment::Entity::find()
            .filter(instalment::Column::AllocationId.is_in(paid))
            .all(db)
            .await?
        {
            instalments
                .entry(i.allocation_id.clone())
                .or_default()
                .push(i);
        }
    }
    let names =
        crate::orgs::service::names(db, rows.iter().map(|a| a.holder_organization_id.as_str()))
            .await?;
    Ok(rows
        .into_iter()
        .map(|a| {
            let mine = instalments.remove(&a.id).unwrap_or_default();
            let name = names
                .get(&a.holder_organization_id)
                .cloned()
                .unwrap_or_default();
            AllocationView::new(a, name, mine, today)
        })
        .collect())
}

/// The view of one allocation.
pub async fn one(
    db: &impl sea_orm::ConnectionTrait,
    a: allocation::Model,
    today: Today,
) -> Result<AllocationView, MarketError> {
    let mut views = shown(db, vec![a], today).await?;
    views.pop().ok_or(MarketError::NotFound)
}

/// What a list of allocations is narrowed to.
#[derive(Debug, Default)]
pub struct Filter<'a> {
    pub instrument: Option<&'a str>,
    pub holder: Option<&'a str>,
    pub bureau: Option<&'a str>,
    pub origin: Option<Origin>,
    pub status: Option<AllocationStatus>,
}

/// Allocations, newest first, in pages.
pub async fn list(
    db: &DatabaseConnection,
    f: Filter<'_>,
    after: Option<String>,
    limit: u64,
) -> Result<(Vec<allocation::Model>, bool), MarketError> {
    let mut q = allocation::Entity::find();
    if let Some(code) = f.instrument {
        q = q.filter(allocation::Column::Instrument.eq(code));
    }
    if let Some(org) = f.holder {
        q = q.filter(allocation::Column::HolderOrganizationId.eq(org));
    }
    if let Some(org) = f.bureau {
        q = q.filter(allocation::Column::BureauOrganizationId.eq(org));
    }
    if let Some(o) = f.origin {
        q = q.filter(allocation::Column::Origin.eq(o));
    }
    if let Some(s) = f.status {
        q = q.filter(allocation::Column::Status.eq(s));
    }
    Ok(crate::pagination::fetch(
        db,
        q,
        allocation::Column::Id,
        crate::pagination::Order::Descending,
        after,
        limit,
    )
    .await?)
}

/// A holder's compliance year: verified use, what it surrendered, the
/// gap after the deadline. Public.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplianceView {
    pub id: String,
    pub class: Class,
    pub year: i32,
    pub organization_id: String,
    pub organization_name: String,
    pub bureau_organization_id: String,
    /// kg, m3 or tce.
    pub unit: String,
    /// Units used in the year, as verified (decimal text).
    #[schema(example = "18500")]
    pub verified_use: String,
    #[schema(example = "18000")]
    pub surrendered: String,
    /// Still to surrender; after the deadline, the gap.
    #[schema(example = "500")]
    pub outstanding: String,
    /// The last day to surrender (China).
    #[schema(example = "2027-03-31")]
    pub deadline: String,
    pub status: ComplianceStatus,
    pub report_sha256: Option<String>,
}

impl ComplianceView {
    pub fn new(c: compliance::Model, organization_name: String, today: &str) -> ComplianceView {
        let (unit, minor) = c.class.unit();
        ComplianceView {
            status: ComplianceStatus::of(&c, today),
            unit: unit.into(),
            verified_use: units(c.verified_g, minor),
            surrendered: units(c.surrendered_g, minor),
            outstanding: units((c.verified_g - c.surrendered_g).max(0), minor),
            id: c.id,
            class: c.class,
            year: c.year,
            organization_id: c.organization_id,
            organization_name,
            bureau_organization_id: c.bureau_organization_id,
            deadline: c.deadline,
            report_sha256: c.report_sha256,
        }
    }
}

/// Views of compliance rows with their holders' names.
pub async fn compliance_views(
    db: &impl sea_orm::ConnectionTrait,
    rows: Vec<compliance::Model>,
    today: &str,
) -> Result<Vec<ComplianceView>, MarketError> {
    let names =
        crate::orgs::service::names(db, rows.iter().map(|c| c.organization_id.as_str())).await?;
    Ok(rows
        .into_iter()
        .map(|c| {
            let name = names.get(&c.organization_id).cloned().unwrap_or_default();
            ComplianceView::new(c, name, today)
        })
        .collect())
}

/// What a list of compliance years is narrowed to.
#[derive(Debug, Default)]
pub struct ComplianceFilter<'a> {
    pub class: Option<Class>,
    pub year: Option<i32>,
    pub holder: Option<&'a str>,
    pub status: Option<ComplianceStatus>,
}

/// Compliance years, newest first, in pages; a status is as of `today`.
pub async fn compliance_list(
    db: &DatabaseConnection,
    f: ComplianceFilter<'_>,
    today: &str,
    after: Option<String>,
    limit: u64,
) -> Result<(Vec<compliance::Model>, bool), MarketError> {
    use sea_orm::sea_query::{Expr, ExprTrait as _};
    let mut q = compliance::Entity::find();
    if let Some(c) = f.class {
        q = q.filter(compliance::Column::Class.eq(c));
    }
    if let Some(y) = f.year {
        q = q.filter(compliance::Column::Year.eq(y));
    }
    if let Some(org) = f.holder {
        q = q.filter(compliance::Column::OrganizationId.eq(org));
    }
    let short =
        Expr::col(compliance::Column::SurrenderedG).lt(Expr::col(compliance::Column::VerifiedG));
    q = match f.status {
        None => q,
        Some(ComplianceStatus::Met) => q.filter(
            Expr::col(compliance::Column::SurrenderedG)
                .gte(Expr::col(compliance::Column::VerifiedG)),
        ),
        Some(ComplianceStatus::Gap) => q
            .filter(short)
            .filter(compliance::Column::Deadline.lt(today)),
        Some(ComplianceStatus::Open) => q
            .filter(short)
            .filter(compliance::Column::Deadline.gte(today)),
    };
    Ok(crate::pagination::fetch(
        db,
        q,
        compliance::Column::Id,
        crate::pagination::Order::Descending,
        after,
        limit,
    )
    .await?)
}
