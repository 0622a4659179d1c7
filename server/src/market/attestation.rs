//! Trade attestations (交易鉴证): what a trade's two parties show others —
//! the instrument, quantity, price and time, who bought and who sold, the
//! batches delivered — as JSON and as a printable page with a QR code of
//! the trade's public check. Once the trade's event is sealed the
//! attestation carries its leaf, inclusion proof and signed tree head, so
//! it is checked offline like a retirement certificate (carbon-calc's
//! `verifyTreeHead`, then `verifyInclusion`); the leaf is the trade's
//! `market.trade` event and states the same figures.

use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::Serialize;
use utoipa::ToSchema;

use super::entity::{delivery, trade};
use super::error::MarketError;
use super::money::yuan;
use crate::audit::proofs;
use crate::audit::views::AuditReceipt;
use crate::auth::extract::Principal;
use crate::instruments::instrument;
use crate::orgs::entity::organization;
use crate::printable::{self, escape, row};
use crate::registry::entity::{batch, project};

#[derive(Debug, Serialize, ToSchema)]
pub struct Party {
    pub organization_id: String,
    pub name: String,
}

/// Units of one batch a trade delivered.
#[derive(Debug, Serialize, ToSchema)]
pub struct Delivered {
    pub batch_id: String,
    /// Ledger minor units (grams CO2e for carbon).
    pub amount: String,
    /// The same in the instrument's unit, exact.
    pub quantity: String,
    pub vintage: i32,
    pub methodology: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Attestation {
    /// The trade's id.
    pub attestation_id: String,
    pub instrument: String,
    /// The instrument's unit (`tCO2e`).
    pub unit: String,
    /// The trade's number on the instrument's tape.
    pub seq: i64,
    /// `book`, `pick`, `block` or `auction`.
    pub method: String,
    #[schema(example = "36.50")]
    pub price: String,
    pub quantity: String,
    /// Price × quantity, yuan.
    #[schema(example = "3650.00")]
    pub value: String,
    /// Yuan.
    pub buyer_fee: String,
    /// Yuan.
    pub seller_fee: String,
    pub buyer: Party,
    pub seller: Party,
    pub trading_day: String,
    /// China time, to the second.
    pub traded_at: String,
    /// Oldest batch first, as the seller's order delivered them.
    pub deliveries: Vec<Delivered>,
    /// Where anyone can check the trade.
    pub verification_url: String,
    /// Absent until the trade's event is sealed (within seconds).
    pub audit: Option<AuditReceipt>,
}

/// What a trade delivered, batch by batch, with the batches, oldest batch
/// first (as a sell order holds them: by issuance, then id; batch serials
/// sort by issuance only within a project).
pub async fn deliveries(
    db: &DatabaseConnection,
    trade_id: &str,
) -> Result<Vec<(delivery::Model, batch::Model)>, MarketError> {
    let rows = delivery::Entity::find()
        .filter(delivery::Column::TradeId.eq(trade_id))
        .all(db)
        .await?;
    let mut batches: std::collections::HashMap<String, batch::Model> = batch::Entity::find()
        .filter(batch::Column::Id.is_in(rows.iter().map(|d| d.batch_id.clone())))
        .all(db)
        .await?
        .into_iter()
        .map(|b| (b.id.clone(), b))
        .collect();
    let mut out = Vec::new();
    for d in rows {
        let b = batches
            .remove(&d.batch_id)
            .ok_or_else(|| sea_orm::DbErr::RecordNotFound(format!("batch {}", d.batch_id)))?;
        out.push((d, b));
    }
    out.sort_by(|(_, a), (_, b)| (a.issued_at, &a.id).cmp(&(b.issued_at, &b.id)));
    Ok(out)
}

/// The trade `id`, for staff of its buyer or its seller; anyone else finds
/// nothing (404), as everywhere an object one may not see.
pub async fn trade_for(
    db: &DatabaseConnection,
    who: &Principal,
    id: &str,
) -> Result<(trade::Model, organization::Model, organization::Model), MarketError> {
    let t = trade::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(MarketError::NotFound)?;
    let org = |id: String| async move {
        organization::Entity::find_by_id(id.clone())
            .one(db)
            .await?
            .ok_or_else(|| {
                MarketError::Database(sea_orm::DbErr::RecordNotFound(format!("organisation {id}")))
            })
    };
    let buyer = org(t.buyer_organization_id.clone()).await?;
    let seller = org(t.seller_organization_id.clone()).await?;
    if ![&buyer, &seller]
        .iter()
        .any(|o| who.has_role_in(o.kind.staff_role(), &o.id))
    {
        return Err(MarketError::NotFound);
    }
    Ok((t, buyer, seller))
}

/// The trade's public check URL.
pub fn check_url(base_url: &str, trade_id: &str) -> String {
    format!(
        "{}/api/v1/public/trades/{trade_id}",
        base_url.trim_end_matches('/')
    )
}

pub async fn build(
    db: &DatabaseConnection,
    base_url: &str,
    t: trade::Model,
    buyer: organization::Model,
    seller: organization::Model,
) -> Result<Attestation, MarketError> {
    let i = instrument::Entity::find_by_id(t.instrument.clone())
        .one(db)
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound(format!("instrument {}", t.instrument)))?;
    let mut delivered = Vec::new();
    for (d, b) in deliveries(db, &t.id).await? {
        let project_name = match &b.project_id {
            Some(id) => project::Entity::find_by_id(id.clone())
                .one(db)
                .await?
                .map(|p| p.name),
            None => None,
        };
        delivered.push(Delivered {
            batch_id: b.id,
            amount: d.grams.to_string(),
            quantity: (Decimal::from(d.grams) / Decimal::from(i.minor_per_unit))
                .normalize()
                .to_string(),
            vintage: b.vintage,
            methodology: b.methodology,
            project_name,
        });
    }
    let audit = proofs::receipt(db, t.audit_event_id)
        .await
        .map_err(|e| match e {
            proofs::ProofError::Database(e) => MarketError::Database(e),
            other => MarketError::Database(sea_orm::DbErr::Custom(other.to_string())),
        })?
        .map(AuditReceipt::from);
    let step = crate::market::money::Step::of_code(&t.instrument);
    Ok(Attestation {
        verification_url: check_url(base_url, &t.id),
        attestation_id: t.id,
        instrument: t.instrument,
        unit: i.unit,
        seq: t.seq,
        method: t.method,
        price: yuan(t.price),
        quantity: step.show(t.quantity),
        value: yuan(t.value),
        buyer_fee: yuan(t.buyer_fee),
        seller_fee: yuan(t.seller_fee),
        buyer: Party {
            organization_id: buyer.id,
            name: buyer.name,
        },
        seller: Party {
            organization_id: seller.id,
            name: seller.name,
        },
        trading_day: t.trading_day,
        traded_at: crate::clock::china_seconds(t.created_at),
        deliveries: delivered,
        audit,
    })
}

fn method_name(method: &str) -> &str {
    match method {
        "book" => "continuous order book (挂牌)",
        "pick" => "pick an order (点选)",
        "block" => "block trade (大宗协议)",
        "auction" => "one-way bidding (单向竞价)",
        other => other,
    }
}

/// The printable page (every value escaped).
pub fn html(a: &Attestation) -> String {
    let rows = vec![
        row("Attestation", &a.attestation_id),
        row("Instrument", &a.instrument),
        row("Method", method_name(&a.method)),
        row("Quantity", &format!("{} {}", a.quantity, a.unit)),
        row("Price", &format!("{} yuan per {}", a.price, a.unit)),
        row("Value", &format!("{} yuan", a.value)),
        row(
            "Fees",
            &format!("buyer {} yuan, seller {} yuan", a.buyer_fee, a.seller_fee),
        ),
        row("Buyer", &a.buyer.name),
        row("Seller", &a.seller.name),
        row("Trading day", &a.trading_day),
        row("Traded at", &a.traded_at),
        row("Tape number", &a.seq.to_string()),
    ];
    let delivered: Vec<String> = a
        .deliveries
        .iter()
        .map(|d| {
            format!(
                "<tr><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&d.batch_id),
                escape(&d.quantity),
                escape(&a.unit),
                d.vintage,
                escape(&d.methodology),
                escape(d.project_name.as_deref().unwrap_or("")),
            )
        })
        .collect();
    let extra = format!(
        "<h2>Delivered batches</h2>\n<table><tr><th>Batch</th><th>Quantity</th><th>Vintage</th><th>Methodology</th><th>Project</th></tr>\n{}</table>",
        delivered.join("\n")
    );
    printable::render(&printable::Page {
        title: format!("Trade attestation {}", a.attestation_id),
        heading: "碳普惠 交易鉴证 Trade attestation",
        rows,
        extra,
        check_url: &a.verification_url,
        audit: a.audit.as_ref(),
    })
}

/// A trade as anyone may check it: what the tape shows, the method and the
/// batches delivered — never who. A block trade appears once its day has
/// closed, as block-trade reports do.
pub async fn public_trade(
    db: &DatabaseConnection,
    id: &str,
) -> Result<(trade::Model, Vec<delivery::Model>, Option<u64>), MarketError> {
    let t = trade::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(MarketError::NotFound)?;
    if t.method == "block" {
        let closed = super::close::last_closed_day(db, &t.instrument).await?;
        if closed
            .as_deref()
            .is_none_or(|day| day < t.trading_day.as_str())
        {
            return Err(MarketError::NotFound);
        }
    }
    let leaf = crate::audit::entity::event::Entity::find_by_id(t.audit_event_id)
        .one(db)
        .await?
        .and_then(|e| e.leaf_index)
        .map(|i| i as u64);
    let d = deliveries(db, &t.id)
        .await?
        .into_iter()
        .map(|(d, _)| d)
        .collect();
    Ok((t, d, leaf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_escape_what_parties_wrote() {
        let party = |name: &str| Party {
            organization_id: "o".into(),
            name: name.into(),
        };
        let a = Attestation {
            attestation_id: "t1".into(),
            instrument: "TPH-FOR-2025".into(),
            unit: "tCO2e".into(),
            seq: 3,
            method: "pick".into(),
            price: "36.50".into(),
            quantity: "100".into(),
            value: "3650.00".into(),
            buyer_fee: "0.00".into(),
            seller_fee: "0.00".into(),
            buyer: party("<script>alert(1)</script>"),
            seller: party("A & B's \"forest\""),
            trading_day: "2026-12-01".into(),
            traded_at: "2026-12-01T10:00:00+08:00".into(),
            deliveries: vec![Delivered {
                batch_id: "TPH-0001-2025-001".into(),
                amount: "100000000".into(),
                quantity: "100".into(),
                vintage: 2025,
                methodology: "ccer-14-001-v01".into(),
                project_name: Some("<b>Hill</b>".into()),
            }],
            verification_url: "https://registry.example/api/v1/public/trades/t1".into(),
            audit: None,
        };
        let page = html(&a);
        assert!(!page.contains("<script>") && !page.contains("<b>"));
        assert!(page.contains("A &amp; B&#39;s &quot;forest&quot;"));
        assert!(page.contains("&lt;b&gt;Hill&lt;/b&gt;"));
        assert!(page.contains("pick an order (点选)"));
        assert!(page.contains("TPH-0001-2025-001"));
        assert!(page.contains("<svg"), "QR code missing");
    }
}
