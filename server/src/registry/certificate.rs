//! Retirement certificates: JSON for programs, a printable HTML page for
//! people (print to PDF from any browser) with a QR code of the public
//! verification URL. Once the retirement's event is sealed the certificate
//! carries its leaf, inclusion proof and the signed tree head, so a phone
//! checks it offline with carbon-calc (`verifyTreeHead`, then
//! `verifyInclusion`).

use sea_orm::ConnectionTrait;
use serde::Serialize;
use utoipa::ToSchema;

use super::entity::{batch, project, retirement};
use super::error::RegistryError;
use super::issuance::serial;
use crate::audit::proofs;
use crate::audit::views::AuditReceipt;
use crate::printable::{self, row};

#[derive(Debug, Serialize, ToSchema)]
pub struct Certificate {
    pub certificate_id: String,
    pub beneficiary: String,
    pub purpose: String,
    pub quantity_g: String,
    /// The same quantity in tonnes CO2e, exact.
    pub quantity_t: String,
    pub serial_first: String,
    pub serial_last: String,
    pub batch_id: String,
    pub vintage: i32,
    pub methodology: String,
    pub methodology_version: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_name: Option<String>,
    pub retired_at: String,
    /// Where anyone can check the retirement.
    pub verification_url: String,
    /// Absent until the event is sealed (within seconds).
    pub audit: Option<AuditReceipt>,
}

pub async fn build(
    db: &impl ConnectionTrait,
    base_url: &str,
    r: &retirement::Model,
) -> Result<Certificate, RegistryError> {
    use sea_orm::EntityTrait;
    let b = batch::Entity::find_by_id(r.batch_id.clone())
        .one(db)
        .await?
        .ok_or(RegistryError::NotFound)?;
    let p = match &b.project_id {
        Some(id) => project::Entity::find_by_id(id.clone()).one(db).await?,
        None => None,
    };
    let audit = proofs::receipt(db, r.audit_event_id)
        .await
        .map_err(|e| match e {
            proofs::ProofError::Database(e) => RegistryError::Database(e),
            other => RegistryError::Database(sea_orm::DbErr::Custom(other.to_string())),
        })?
        .map(AuditReceipt::from);
    Ok(Certificate {
        certificate_id: r.id.clone(),
        beneficiary: r.beneficiary.clone(),
        purpose: r.purpose.clone(),
        quantity_g: r.quantity_g.to_string(),
        quantity_t: (rust_decimal::Decimal::from(r.quantity_g)
            / rust_decimal::Decimal::from(1_000_000))
        .normalize()
        .to_string(),
        serial_first: serial(&r.batch_id, r.serial_first),
        serial_last: serial(&r.batch_id, r.serial_last),
        batch_id: b.id,
        vintage: b.vintage,
        methodology: b.methodology,
        methodology_version: b.methodology_version,
        project_id: p.as_ref().map(|p| p.id.clone()),
        project_name: p.map(|p| p.name),
        // Printed for people in China: China time, to the second.
        retired_at: crate::clock::china_seconds(r.created_at),
        verification_url: format!(
            "{}/api/v1/public/retirements/{}",
            base_url.trim_end_matches('/'),
            r.id
        ),
        audit,
    })
}

/// The printable page (every value escaped).
pub fn html(c: &Certificate) -> String {
    let mut rows = vec![
        row("Certificate", &c.certificate_id),
        row("Beneficiary", &c.beneficiary),
        row("Purpose", &c.purpose),
        row(
            "Quantity",
            &format!("{} t CO2e ({} g)", c.quantity_t, c.quantity_g),
        ),
        row(
            "Serial numbers",
            &format!("{} to {}", c.serial_first, c.serial_last),
        ),
        row("Batch", &c.batch_id),
        row("Vintage", &c.vintage.to_string()),
        row(
            "Methodology",
            &format!("{} version {}", c.methodology, c.methodology_version),
        ),
    ];
    if let Some(name) = &c.project_name {
        rows.push(row("Project", name));
    }
    rows.push(row("Retired at", &c.retired_at));
    printable::render(&printable::Page {
        title: format!("Retirement certificate {}", c.certificate_id),
        heading: "碳普惠 Carbon credit retirement certificate",
        rows,
        extra: String::new(),
        check_url: &c.verification_url,
        audit: c.audit.as_ref(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_escape_what_holders_wrote() {
        let c = Certificate {
            certificate_id: "c1".into(),
            beneficiary: "<script>alert(1)</script>".into(),
            purpose: "A & B's \"event\"".into(),
            quantity_g: "1500000".into(),
            quantity_t: "1.5".into(),
            serial_first: "TPH-0001-2026-001-000000000001".into(),
            serial_last: "TPH-0001-2026-001-000001500000".into(),
            batch_id: "TPH-0001-2026-001".into(),
            vintage: 2026,
            methodology: "ccer-14-001-v01".into(),
            methodology_version: 1,
            project_id: None,
            project_name: None,
            retired_at: "2026-11-28T00:00:00+00:00".into(),
            verification_url: "https://registry.example/api/v1/public/retirements/c1".into(),
            audit: None,
        };
        let page = html(&c);
        assert!(!page.contains("<script>"));
        assert!(page.contains("&lt;script&gt;"));
        assert!(page.contains("A &amp; B&#39;s &quot;event&quot;"));
        assert!(page.contains("<svg"), "QR code missing");
    }
}
