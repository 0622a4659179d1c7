//! A participant's positions: per instrument, the units held, what open
//! sell orders hold of them, what T+1 locks today and what is left to
//! sell; its cash and the fees it has paid.

use chrono::{DateTime, FixedOffset};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};

use super::entity::{order, trade, OrderStatus};
use super::error::MarketError;
use super::holds;
use super::participants::{self, Participant};
use crate::auth::extract::Principal;
use crate::ledger::Asset;

pub struct Position {
    pub instrument: String,
    /// Lots held (posted): whole steps of the instrument.
    pub units: i64,
    /// Units open sell orders hold.
    pub in_orders: i64,
    /// Units bought today, which can be sold from the next trading day.
    pub locked_t_plus_one: i64,
    /// Units held under live pledges.
    pub pledged: i64,
    /// Units a new sell order may take now.
    pub sellable: i64,
}

pub struct Positions {
    pub participant: Participant,
    pub cash_posted: i64,
    pub cash_held: i64,
    pub fees_paid: i64,
    pub positions: Vec<Position>,
}

pub async fn of(
    db: &DatabaseConnection,
    who: &Principal,
    org_id: &str,
    t_plus_one: bool,
    now: DateTime<FixedOffset>,
) -> Result<Positions, MarketError> {
    let me = participants::acting_for_cash(db, who, "organization_id", org_id).await?;
    let day = crate::clock::china_day(now);
    let cash = crate::ledger::balances(db, &me.account.account_id())
        .await?
        .into_iter()
        .find(|b| b.asset == Asset::cny().to_string());
    let fee_rows = |buyer: bool| {
        let (org, fee) = if buyer {
            (trade::Column::BuyerOrganizationId, trade::Column::BuyerFee)
        } else {
            (
                trade::Column::SellerOrganizationId,
                trade::Column::SellerFee,
            )
        };
        trade::Entity::find()
            .select_only()
            .column(fee)
            .filter(org.eq(org_id))
            .into_tuple::<i64>()
            .all(db)
    };
    let fees_paid = fee_rows(true).await?.into_iter().sum::<i64>()
        + fee_rows(false).await?.into_iter().sum::<i64>();
    let mut positions = Vec::new();
    for i in super::listing::all(db).await? {
        let units = holds::holding(db, &me.account.id, &i.code, i.minor_per_lot()).await?;
        let in_orders: i64 = order::Entity::find()
            .select_only()
            .column(order::Column::Remaining)
            .filter(order::Column::OrganizationId.eq(org_id))
            .filter(order::Column::Instrument.eq(i.code.as_str()))
            .filter(order::Column::Side.eq("sell"))
            .filter(order::Column::Status.is_in([OrderStatus::Open, OrderStatus::Pending]))
            .into_tuple::<i64>()
            .all(db)
            .await?
            .into_iter()
            .sum();
        if units == 0 && in_orders == 0 {
            continue;
        }
        let available: i64 = holds::available_lots(db, &me.account.id, &i.code)
            .await?
            .iter()
            .map(|(_, g)| g)
            .sum::<i64>()
            / i.minor_per_lot();
        let locked = if t_plus_one {
            holds::bought_on(db, org_id, &i.code, &day).await?
        } else {
            0
        };
        let pledged = crate::finance::encumbrance::pledged_grams(db, &me.account.id, &i.code)
            .await?
            / i.minor_per_lot();
        positions.push(Position {
            pledged,
            instrument: i.code,
            units,
            in_orders,
            locked_t_plus_one: locked,
            sellable: (available - locked).max(0),
        });
    }
    Ok(Positions {
        participant: me,
        cash_posted: cash.as_ref().map_or(0, |c| c.posted),
        cash_held: cash.as_ref().map_or(0, |c| c.held),
        fees_paid,
        positions,
    })
}
