//! Executing a stabilisation action: what its plan makes in the market (a
//! release auction or a support bid) and the record of it. Reserve staff
//! ask for it (`POST /api/v1/stabilisation-actions/{id}/execute`); with
//! `[pricing] auto_execute_as` naming a staff member of a reserve platform,
//! the background loop executes every open action on that person's
//! standing instruction, with their roles as they are at that moment.

use chrono::{DateTime, FixedOffset};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use super::entity::action;
use super::rules::PricingRules;
use super::stabilisation::{self, status, ExecuteInput, Made, Plan};
use crate::auth::extract::Principal;
use crate::auth::roles::Role;
use crate::auth::service::{find_by_login, Login};
use crate::ids::UserId;
use crate::market::error::MarketError;
use crate::market::feed::Feed;
use crate::market::lanes::{Done, Lanes, Work};
use crate::market::rules::MarketRules;
use crate::problem::ProblemCode;

/// What executing needs of the market.
pub struct Market<'a> {
    pub db: &'a DatabaseConnection,
    pub lanes: &'a Lanes,
    pub feed: &'a Feed,
    pub rules: &'a MarketRules,
}

/// Executes the open action `id` for the reserve platform `input` names,
/// as `who`.
pub async fn execute(
    m: &Market<'_>,
    pricing: &PricingRules,
    who: &Principal,
    id: &str,
    input: &ExecuteInput,
    now: DateTime<FixedOffset>,
) -> Result<action::Model, MarketError> {
    let (a, plan) = stabilisation::plan(m.db, who, id, input, pricing, m.rules, now).await?;
    let made = match plan {
        Plan::Release(input) => {
            let announced =
                crate::market::auctions::announce(m.db, who, m.rules, &input, now).await?;
            Made::Auction {
                id: announced.auction.id,
                quantity: announced.auction.quantity,
            }
        }
        Plan::Support(input) => {
            let order = std::sync::Arc::new(crate::market::orders::prepare(
                &who.user_id,
                m.rules,
                &input,
            )?);
            let Done::Placed(placed) = m
                .lanes
                .run(&order.code, Work::Place(order.clone()), now)
                .await?
            else {
                unreachable!("a lane answers an order with what it placed")
            };
            let placed = crate::market::orders::settled(m.db, &order, placed).await?;
            crate::market::routes::announce(
                m.feed,
                m.db,
                m.rules,
                &input.instrument,
                &placed.trades,
            )
            .await;
            Made::Order {
                quantity: placed.order.quantity,
                id: placed.order.id,
            }
        }
    };
    stabilisation::record(m.db, who, &a.id, &input.organization_id, made, now).await
}

/// The standing instruction's person and the reserve platform they act
/// for, when `auto_execute_as` is set and they are still its staff.
async fn instructed_by(
    db: &DatabaseConnection,
    pricing: &PricingRules,
) -> Result<Option<(Principal, String)>, MarketError> {
    let login = pricing.auto_execute_as.trim();
    if login.is_empty() {
        return Ok(None);
    }
    let Some(user) = find_by_login(db, &Login::parse(login)).await? else {
        tracing::warn!(
            "[pricing] auto_execute_as names no user: stabilisation actions wait for staff"
        );
        return Ok(None);
    };
    let who = Principal::load(db, &UserId::new(user.id)).await?;
    let org = who
        .grants
        .iter()
        .find_map(|(role, org)| (*role == Role::Reserve).then(|| org.clone()).flatten());
    match org {
        Some(org) => Ok(Some((who, org))),
        None => {
            tracing::warn!("[pricing] auto_execute_as is not staff of a reserve platform: stabilisation actions wait for staff");
            Ok(None)
        }
    }
}

/// Executes every open action on the standing instruction, oldest first;
/// the number executed. An action the market cannot take now (closed, the
/// instrument suspended, no stock or cash) stays open for the next run,
/// or for staff.
/// `warned` remembers the actions whose failure was logged, so a lasting
/// one is said once, not at every run.
pub async fn run_open(
    m: &Market<'_>,
    pricing: &PricingRules,
    warned: &mut std::collections::HashSet<String>,
    now: DateTime<FixedOffset>,
) -> Result<usize, MarketError> {
    let Some((who, org)) = instructed_by(m.db, pricing).await? else {
        return Ok(0);
    };
    let open = action::Entity::find()
        .filter(action::Column::Status.eq(status::OPEN))
        .order_by_asc(action::Column::Id)
        .all(m.db)
        .await?;
    let input = ExecuteInput {
        organization_id: org,
    };
    let mut executed = 0;
    for a in open {
        match execute(m, pricing, &who, &a.id, &input, now).await {
            Ok(_) => executed += 1,
            // Waits for the next session.
            Err(MarketError::Conflict(ProblemCode::MarketClosed, _)) => {}
            Err(e) => {
                if warned.insert(a.id.clone()) {
                    tracing::warn!(action = %a.id, error = %e, "a stabilisation action could not be executed; it stays open");
                }
            }
        }
    }
    Ok(executed)
}
