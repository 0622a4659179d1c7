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
use crate::audit::views::{InclusionView, TreeHeadView};

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditReceipt {
    pub leaf_index: u64,
    /// The canonical leaf bytes (UTF-8 JSON) whose hash the proof covers.
    pub leaf: String,
    pub inclusion: InclusionView,
    pub tree_head: TreeHeadView,
}

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
        .map(|receipt| AuditReceipt {
            leaf_index: receipt.inclusion.leaf_index,
            leaf: receipt.leaf,
            inclusion: receipt.inclusion.into(),
            tree_head: receipt.head.into(),
        });
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
        retired_at: r
            .created_at
            .with_timezone(&crate::clock::china_time())
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        verification_url: format!(
            "{}/api/v1/public/retirements/{}",
            base_url.trim_end_matches('/'),
            r.id
        ),
        audit,
    })
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The QR code of `url` as inline SVG.
fn qr_svg(url: &str) -> String {
    use qrcode::render::svg;
    match qrcode::QrCode::new(url.as_bytes()) {
        Ok(code) => {
            let svg = code.render::<svg::Color>().min_dimensions(180, 180).build();
            // Inline in HTML: drop the XML declaration.
            match svg.find("<svg") {
                Some(i) => svg[i..].to_string(),
                None => svg,
            }
        }
        // A URL too long for a QR code (over ~2,900 bytes) cannot come from
        // a sane base URL; print none rather than fail the certificate.
        Err(_) => String::new(),
    }
}

/// The printable page (every value escaped).
pub fn html(c: &Certificate) -> String {
    let row = |k: &str, v: &str| format!("<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(v));
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
    let audit = match &c.audit {
        Some(a) => format!(
            "<p class=\"audit\">Recorded in the public audit log as leaf {} of a tree of {} leaves, root {}, signed by key {}.</p>",
            a.leaf_index,
            a.tree_head.tree_size,
            escape(&a.tree_head.root_hash),
            escape(&a.tree_head.public_key)
        ),
        None => "<p class=\"audit\">The audit-log proof is being sealed; fetch the certificate again in a few seconds.</p>".into(),
    };
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Retirement certificate {id}</title>
<style>
body {{ font-family: "Noto Sans", "PingFang SC", sans-serif; max-width: 46rem; margin: 2rem auto; color: #111; }}
h1 {{ font-size: 1.6rem; border-bottom: 2px solid #2d6a4f; padding-bottom: .4rem; }}
table {{ border-collapse: collapse; width: 100%; }}
th {{ text-align: left; width: 12rem; padding: .3rem .6rem .3rem 0; color: #444; vertical-align: top; }}
td {{ padding: .3rem 0; word-break: break-all; }}
.qr {{ float: right; margin-left: 1rem; text-align: center; font-size: .75rem; }}
.audit {{ font-size: .8rem; color: #444; word-break: break-all; }}
@media print {{ body {{ margin: 0; }} }}
</style></head>
<body>
<h1>碳普惠 Carbon credit retirement certificate</h1>
<div class="qr">{qr}<br>Scan to verify</div>
<table>{rows}</table>
<p>Verify at <a href="{url}">{url}</a></p>
{audit}
</body></html>
"#,
        id = escape(&c.certificate_id),
        qr = qr_svg(&c.verification_url),
        rows = rows.join("\n"),
        url = escape(&c.verification_url),
        audit = audit,
    )
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
