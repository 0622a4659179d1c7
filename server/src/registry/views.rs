//! What the registry's routes answer. Quantities are integer grams sent as
//! strings (no client loses precision).

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::entity::{batch, objection, project, report, retirement, reversal};
use super::issuance::serial;

fn json_field(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectView {
    pub id: String,
    /// The registry number, given at approval (serial prefixes use it).
    pub number: Option<i32>,
    pub organization_id: String,
    pub name: String,
    pub kind: String,
    pub methodology: String,
    pub methodology_version: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub methodology_name: Option<String>,
    pub region_code: String,
    #[schema(value_type = Object)]
    pub location: Value,
    pub crediting_start: String,
    pub crediting_end: String,
    #[schema(value_type = Vec<Object>)]
    pub documents: Value,
    #[schema(value_type = Vec<String>)]
    pub identities: Value,
    /// `draft`, `notice`, `approved` or `rejected`.
    pub status: String,
    /// When the public notice closes (objections until then; the decision
    /// after).
    pub notice_closes_at: Option<String>,
    pub decided_at: Option<String>,
    pub decision_reason: Option<String>,
    pub objections: u64,
    pub created_at: String,
}

impl ProjectView {
    pub fn new(p: project::Model, objections: u64) -> ProjectView {
        ProjectView {
            id: p.id,
            number: p.number,
            organization_id: p.organization_id,
            name: p.name,
            kind: p.kind,
            methodology: p.methodology,
            methodology_version: p.methodology_version,
            methodology_name: p.methodology_name,
            region_code: p.region_code,
            location: json_field(&p.location),
            crediting_start: p.crediting_start,
            crediting_end: p.crediting_end,
            documents: json_field(&p.documents),
            identities: json_field(&p.identities),
            status: p.status,
            notice_closes_at: p.notice_closes_at.map(|t| t.to_rfc3339()),
            decided_at: p.decided_at.map(|t| t.to_rfc3339()),
            decision_reason: p.decision_reason,
            objections,
            created_at: p.created_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectionView {
    pub id: String,
    pub project_id: String,
    pub user_id: String,
    pub text: String,
    pub created_at: String,
}

impl From<objection::Model> for ObjectionView {
    fn from(o: objection::Model) -> Self {
        ObjectionView {
            id: o.id,
            project_id: o.project_id,
            user_id: o.user_id,
            text: o.text,
            created_at: o.created_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportView {
    pub id: String,
    pub project_id: String,
    pub period_start: String,
    pub period_end: String,
    #[schema(value_type = Object)]
    pub activity: Value,
    /// carbon-calc's answer for the activity data.
    #[schema(value_type = Object)]
    pub estimate: Value,
    /// What the server computed, in grams (before any buffer).
    pub claimed_g: String,
    /// `submitted`, `verified`, `rejected` or `issued`.
    pub status: String,
    pub verified_g: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_at: Option<String>,
    pub batch_id: Option<String>,
    pub created_at: String,
}

impl From<report::Model> for ReportView {
    fn from(r: report::Model) -> Self {
        ReportView {
            id: r.id,
            project_id: r.project_id,
            period_start: r.period_start,
            period_end: r.period_end,
            activity: json_field(&r.activity),
            estimate: json_field(&r.estimate),
            claimed_g: r.claimed_g.to_string(),
            status: r.status,
            verified_g: r.verified_g.map(|g| g.to_string()),
            decision_reason: r.decision_reason,
            decided_at: r.decided_at.map(|t| t.to_rfc3339()),
            batch_id: r.batch_id,
            created_at: r.created_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchView {
    /// Also the serial prefix: `TPH-<project>-<vintage>-<batch>`.
    pub id: String,
    /// `project` or `personal` (aggregated personal reductions).
    pub kind: String,
    pub project_id: Option<String>,
    pub vintage: i32,
    /// The instrument its units trade as, e.g. `TPH-FOR-2025`.
    #[schema(example = "TPH-FOR-2025")]
    pub instrument: String,
    pub methodology: String,
    pub methodology_version: i32,
    /// Issued grams; serial numbers are the grams `1..=quantity_g`.
    pub quantity_g: String,
    /// Held back in the forest buffer pool.
    pub buffer_g: String,
    pub holder_account_id: String,
    pub serial_first: String,
    pub serial_last: String,
    pub retired_g: String,
    pub cancelled_g: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persons: Option<i64>,
    pub issued_at: String,
}

impl From<batch::Model> for BatchView {
    fn from(b: batch::Model) -> Self {
        BatchView {
            serial_first: serial(&b.id, 1),
            serial_last: serial(&b.id, b.quantity_g),
            id: b.id,
            kind: b.kind,
            project_id: b.project_id,
            vintage: b.vintage,
            instrument: b.instrument.unwrap_or_default(),
            methodology: b.methodology,
            methodology_version: b.methodology_version,
            quantity_g: b.quantity_g.to_string(),
            buffer_g: b.buffer_g.to_string(),
            holder_account_id: b.holder_account_id,
            retired_g: b.retired_g.to_string(),
            cancelled_g: b.cancelled_g.to_string(),
            records: b.records,
            persons: b.persons,
            issued_at: b.issued_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RetirementView {
    pub id: String,
    pub batch_id: String,
    pub account_id: String,
    pub quantity_g: String,
    pub serial_first: String,
    pub serial_last: String,
    pub beneficiary: String,
    pub purpose: String,
    pub created_at: String,
    /// `GET` it for the certificate (add `?format=html` for the page).
    pub certificate_url: String,
}

impl From<retirement::Model> for RetirementView {
    fn from(r: retirement::Model) -> Self {
        RetirementView {
            certificate_url: format!("/api/v1/retirements/{}/certificate", r.id),
            serial_first: serial(&r.batch_id, r.serial_first),
            serial_last: serial(&r.batch_id, r.serial_last),
            id: r.id,
            batch_id: r.batch_id,
            account_id: r.account_id,
            quantity_g: r.quantity_g.to_string(),
            beneficiary: r.beneficiary,
            purpose: r.purpose,
            created_at: r.created_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReversalView {
    pub id: String,
    pub project_id: String,
    pub loss_g: String,
    /// Buffer units cancelled; below `loss_g` when the pool held less.
    pub cancelled_g: String,
    pub cause: String,
    pub occurred_on: String,
    pub created_at: String,
}

impl From<reversal::Model> for ReversalView {
    fn from(r: reversal::Model) -> Self {
        ReversalView {
            id: r.id,
            project_id: r.project_id,
            loss_g: r.loss_g.to_string(),
            cancelled_g: r.cancelled_g.to_string(),
            cause: r.cause,
            occurred_on: r.occurred_on,
            created_at: r.created_at.to_rfc3339(),
        }
    }
}
