//! Disclosure of trades in rights (成交公示): every trade of an
//! instrument that is not carbon, with its buyer and seller named —
//! enterprises are not personal data, and pollutant, water, energy and land
//! exchanges publish who traded. Carbon's tape stays anonymous. A block
//! trade appears once its day has closed, as on the market's public trade
//! page ([`crate::market::attestation::public_trade`]).

use sea_orm::sea_query::{Condition, Expr, ExprTrait as _};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;

use crate::instruments::{instrument, Class, Code};
use crate::market::entity::{bar, trade};
use crate::market::error::MarketError;
use crate::market::money::yuan;

/// A trade in rights, as the public sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RightsTradeView {
    pub id: String,
    #[schema(example = "TPH-SO2-2026")]
    pub instrument: String,
    pub class: Class,
    /// kg, m3, tce or mu.
    #[schema(example = "kg")]
    pub unit: String,
    /// `book`, `pick`, `block` (by agreement) or `auction`.
    pub method: String,
    /// Yuan per unit.
    #[schema(example = "5.20")]
    pub price: String,
    #[schema(example = "1000")]
    pub quantity: String,
    /// Yuan.
    #[schema(example = "5200.00")]
    pub value: String,
    pub buyer_organization_id: String,
    pub buyer_name: String,
    pub seller_organization_id: String,
    pub seller_name: String,
    #[schema(example = "2026-12-07")]
    pub trading_day: String,
    pub time: String,
}

/// What a list of trades is narrowed to.
#[derive(Debug, Default)]
pub struct Filter<'a> {
    pub instrument: Option<&'a str>,
    /// Trades the organisation bought or sold.
    pub party: Option<&'a str>,
}

/// Trades in rights, newest first, in pages, with their parties' names.
pub async fn list(
    db: &DatabaseConnection,
    f: Filter<'_>,
    after: Option<String>,
    limit: u64,
) -> Result<(Vec<RightsTradeView>, bool), MarketError> {
    let rights: Vec<instrument::Model> = instrument::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .filter(|i| i.class.bureau().is_some())
        .filter(|i| f.instrument.is_none_or(|code| code == i.code))
        .collect();
    let codes: Vec<String> = rights.into_iter().map(|i| i.code).collect();
    // A block trade is public once its instrument's day has closed: each
    // instrument's last closed day, in one query.
    let closed: Vec<(String, Option<String>)> = bar::Entity::find()
        .select_only()
        .column(bar::Column::Instrument)
        .column_as(Expr::col(bar::Column::Day).max(), "day")
        .filter(bar::Column::Instrument.is_in(codes.iter().map(String::as_str)))
        .group_by(bar::Column::Instrument)
        .into_tuple()
        .all(db)
        .await?;
    let mut shown = Condition::any().add(trade::Column::Method.ne("block"));
    for (code, day) in closed {
        if let Some(day) = day {
            shown = shown.add(
                Condition::all()
                    .add(trade::Column::Instrument.eq(code))
                    .add(trade::Column::TradingDay.lte(day)),
            );
        }
    }
    let mut q = trade::Entity::find()
        .filter(trade::Column::Instrument.is_in(codes))
        .filter(shown);
    if let Some(org) = f.party {
        q = q.filter(
            Condition::any()
                .add(trade::Column::BuyerOrganizationId.eq(org))
                .add(trade::Column::SellerOrganizationId.eq(org)),
        );
    }
    let (rows, has_more) = crate::pagination::fetch(
        db,
        q,
        trade::Column::Id,
        crate::pagination::Order::Descending,
        after,
        limit,
    )
    .await?;
    let names = crate::orgs::service::names(
        db,
        rows.iter().flat_map(|t| {
            [
                t.buyer_organization_id.as_str(),
                t.seller_organization_id.as_str(),
            ]
        }),
    )
    .await?;
    let name = |id: &str| names.get(id).cloned().unwrap_or_default();
    let data = rows
        .into_iter()
        .filter_map(|t| {
            let class = Code::parse(&t.instrument)?.class;
            let (unit, _) = class.unit();
            Some(RightsTradeView {
                buyer_name: name(&t.buyer_organization_id),
                seller_name: name(&t.seller_organization_id),
                class,
                unit: unit.into(),
                price: yuan(t.price),
                quantity: crate::market::money::Step::of(class).show(t.quantity),
                value: yuan(t.value),
                id: t.id,
                instrument: t.instrument,
                method: t.method,
                buyer_organization_id: t.buyer_organization_id,
                seller_organization_id: t.seller_organization_id,
                trading_day: t.trading_day,
                time: t.created_at.to_rfc3339(),
            })
        })
        .collect();
    Ok((data, has_more))
}
