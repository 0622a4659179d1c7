//! Reading the market: the book's depth and the tape (public, never who),
//! a participant's own orders and trades.

use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::entity::{order, trade, OrderStatus};
use super::error::MarketError;
use super::matching::Side;
use super::participants;
use crate::auth::extract::Principal;
use crate::pagination::{self, Order};

/// The best `levels` price levels of a side: (price, quantity, orders).
pub async fn depth(
    db: &impl ConnectionTrait,
    code: &str,
    side: Side,
    levels: u64,
) -> Result<Vec<(i64, i64, i64)>, MarketError> {
    let q = order::Entity::find()
        .select_only()
        .column(order::Column::Price)
        // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back.
        .column_as(Expr::cust("CAST(SUM(remaining) AS BIGINT)"), "quantity")
        .column_as(
            Expr::expr(Func::count(Expr::col(order::Column::Id))),
            "orders",
        )
        .filter(order::Column::Instrument.eq(code))
        .filter(order::Column::Status.eq(OrderStatus::Open))
        .filter(order::Column::Side.eq(side.as_str()))
        .group_by(order::Column::Price);
    let q = match side {
        Side::Buy => q.order_by_desc(order::Column::Price),
        Side::Sell => q.order_by_asc(order::Column::Price),
    };
    Ok(q.limit(levels).into_tuple().all(db).await?)
}

/// The latest `limit` trades of an instrument, newest first; block
/// trades are published after their day's close, not here.
pub async fn tape(
    db: &impl ConnectionTrait,
    code: &str,
    limit: u64,
) -> Result<Vec<trade::Model>, MarketError> {
    Ok(trade::Entity::find()
        .filter(trade::Column::Instrument.eq(code))
        .filter(trade::Column::Method.ne("block"))
        .order_by_desc(trade::Column::Seq)
        .limit(limit)
        .all(db)
        .await?)
}

pub async fn orders_of(
    db: &DatabaseConnection,
    who: &Principal,
    org_id: &str,
    status: Option<OrderStatus>,
    starting_after: Option<&str>,
    limit: u64,
) -> Result<(Vec<order::Model>, bool), MarketError> {
    participants::acting_for(db, who, "organization_id", org_id).await?;
    let mut q = order::Entity::find().filter(order::Column::OrganizationId.eq(org_id));
    if let Some(s) = status {
        q = q.filter(order::Column::Status.eq(s));
    }
    Ok(pagination::fetch(
        db,
        q,
        order::Column::Id,
        Order::Descending,
        starting_after,
        limit,
    )
    .await?)
}

pub async fn trades_of_org(
    db: &DatabaseConnection,
    who: &Principal,
    org_id: &str,
    starting_after: Option<&str>,
    limit: u64,
) -> Result<(Vec<trade::Model>, bool), MarketError> {
    participants::acting_for(db, who, "organization_id", org_id).await?;
    let q = trade::Entity::find().filter(
        sea_orm::Condition::any()
            .add(trade::Column::BuyerOrganizationId.eq(org_id))
            .add(trade::Column::SellerOrganizationId.eq(org_id)),
    );
    Ok(pagination::fetch(
        db,
        q,
        trade::Column::Id,
        Order::Descending,
        starting_after,
        limit,
    )
    .await?)
}

/// The open orders of the best `levels` price levels of each side, best
/// first, for participants choosing one to pick: id, side, price, what is
/// left — never who.
pub async fn pickable(
    db: &DatabaseConnection,
    who: &Principal,
    code: &str,
    levels: u64,
) -> Result<Vec<order::Model>, MarketError> {
    use crate::auth::roles::Role;
    let trades = [
        Role::EnterpriseOperator,
        Role::Government,
        Role::Reserve,
        Role::Verifier,
    ];
    if !who.is_admin() && !trades.iter().any(|r| who.has_role(*r)) {
        return Err(MarketError::Forbidden(
            "only staff of organisations that trade see the orders they may pick",
        ));
    }
    let mut out = Vec::new();
    for side in [Side::Buy, Side::Sell] {
        let prices: Vec<i64> = depth(db, code, side, levels)
            .await?
            .into_iter()
            .map(|(p, _, _)| p)
            .collect();
        let mut q = order::Entity::find()
            .filter(order::Column::Instrument.eq(code))
            .filter(order::Column::Status.eq(OrderStatus::Open))
            .filter(order::Column::Side.eq(side.as_str()))
            .filter(order::Column::Price.is_in(prices));
        q = match side {
            Side::Buy => q.order_by_desc(order::Column::Price),
            Side::Sell => q.order_by_asc(order::Column::Price),
        };
        out.extend(q.order_by_asc(order::Column::Seq).all(db).await?);
    }
    Ok(out)
}
