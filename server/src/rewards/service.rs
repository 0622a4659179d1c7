//! The rewards catalogue (administrators, and partner merchants for their
//! own rewards) and redemptions: the stock
//! decrement and the points leaving the person's account commit together or
//! not at all, and neither can oversell under concurrency (both are guarded
//! updates).

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set,
};

use super::entity::{redemption, reward};
use crate::accounts::service as accounts;
use crate::auth::extract::Principal;
use crate::auth::roles::Role;
use crate::ledger::{self, Asset, Command, LedgerError};
use crate::orgs::entity::{organization, OrgKind, Status};
use crate::pagination::{self, Order};

/// Where redeemed points go: out of circulation, still counted.
pub const REDEEMED_POINTS_ACCOUNT: &str = "pool:redeemed-points";
/// Most of one reward in one redemption.
pub const MAX_QUANTITY: i64 = 100;
/// Most points an item may cost, and most items a reward may stock.
pub const MAX_UNITS: i64 = 1_000_000_000;

#[derive(Debug, thiserror::Error)]
pub enum RewardError {
    #[error("only administrators and a merchant's operators manage its rewards")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("{param}: {detail}")]
    Invalid { param: &'static str, detail: String },
    #[error("not enough of this reward left")]
    OutOfStock,
    #[error("not enough points available")]
    InsufficientPoints,
    #[error("ledger: {0}")]
    Ledger(LedgerError),
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

pub struct NewReward {
    pub name: String,
    pub points_cost: i64,
    pub stock: i64,
    /// The merchant offering it; none for the platform's own.
    pub merchant_id: Option<String>,
}

/// Administrators manage every reward; an approved enterprise's operators
/// manage that merchant's.
async fn may_manage(
    db: &impl ConnectionTrait,
    who: &Principal,
    merchant_id: Option<&str>,
) -> Result<(), RewardError> {
    if who.is_admin() {
        if let Some(id) = merchant_id {
            merchant(db, id).await?;
        }
        return Ok(());
    }
    match merchant_id {
        Some(id) if who.has_role_in(Role::EnterpriseOperator, id) => {
            merchant(db, id).await.map(|_| ())
        }
        _ => Err(RewardError::Forbidden),
    }
}

/// Merchants are approved enterprises.
async fn merchant(db: &impl ConnectionTrait, id: &str) -> Result<organization::Model, RewardError> {
    organization::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .filter(|o| o.kind == OrgKind::Enterprise && o.status == Status::Approved)
        .ok_or(RewardError::Invalid {
            param: "merchant_id",
            detail: "not an approved enterprise".into(),
        })
}

pub async fn create(
    db: &impl ConnectionTrait,
    who: &Principal,
    new: NewReward,
    now: DateTime<FixedOffset>,
) -> Result<reward::Model, RewardError> {
    may_manage(db, who, new.merchant_id.as_deref()).await?;
    Ok(reward::Entity::insert(reward::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        name: Set(new.name.trim().to_string()),
        points_cost: Set(new.points_cost),
        stock: Set(new.stock),
        active: Set(true),
        merchant_id: Set(new.merchant_id),
        created_by: Set(who.user_id.to_string()),
        created_at: Set(now),
    })
    .exec_with_returning(db)
    .await?)
}

/// A change of stock (restocking sets the new count) or availability.
pub struct RewardChange {
    pub stock: Option<i64>,
    pub active: Option<bool>,
}

pub async fn update(
    db: &impl ConnectionTrait,
    who: &Principal,
    id: &str,
    change: RewardChange,
) -> Result<reward::Model, RewardError> {
    let found = reward::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(RewardError::NotFound)?;
    // Not theirs: as if absent.
    may_manage(db, who, found.merchant_id.as_deref())
        .await
        .map_err(|_| RewardError::NotFound)?;
    let mut update = reward::Entity::update_many().filter(reward::Column::Id.eq(id));
    if let Some(stock) = change.stock {
        update = update.col_expr(reward::Column::Stock, Expr::value(stock));
    }
    if let Some(active) = change.active {
        update = update.col_expr(reward::Column::Active, Expr::value(active));
    }
    if change.stock.is_some() || change.active.is_some() {
        update.exec(db).await?;
    }
    reward::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(RewardError::NotFound)
}

pub async fn list(
    db: &impl ConnectionTrait,
    starting_after: Option<&str>,
    limit: u64,
) -> Result<(Vec<reward::Model>, bool), DbErr> {
    pagination::fetch(
        db,
        reward::Entity::find().filter(reward::Column::Active.eq(true)),
        reward::Column::Id,
        Order::Ascending,
        starting_after,
        limit,
    )
    .await
}

/// Spends `quantity × cost` points of the person on the reward.
pub async fn redeem(
    db: &DatabaseConnection,
    user_id: &crate::ids::UserId,
    reward_id: &str,
    quantity: i64,
    now: DateTime<FixedOffset>,
) -> Result<(redemption::Model, reward::Model), RewardError> {
    if !(1..=MAX_QUANTITY).contains(&quantity) {
        return Err(RewardError::Invalid {
            param: "quantity",
            detail: format!("must be 1 to {MAX_QUANTITY}"),
        });
    }
    let account = accounts::personal_of(db, user_id)
        .await?
        .ok_or(RewardError::NotFound)?;
    let pool = accounts::system(db, REDEEMED_POINTS_ACCOUNT, now).await?;
    let txn = crate::db::begin_write(db).await?;
    // The guarded decrement comes first: it takes the write lock (SQLite)
    // or the reward's row lock (PostgreSQL) before anything is read.
    let taken = reward::Entity::update_many()
        .col_expr(
            reward::Column::Stock,
            Expr::col(reward::Column::Stock).sub(quantity),
        )
        .filter(reward::Column::Id.eq(reward_id))
        .filter(reward::Column::Active.eq(true))
        .filter(reward::Column::Stock.gte(quantity))
        .exec(&txn)
        .await?;
    let item = reward::Entity::find_by_id(reward_id.to_string())
        .one(&txn)
        .await?
        .filter(|r| r.active)
        .ok_or(RewardError::NotFound)?;
    if taken.rows_affected != 1 {
        txn.rollback().await?;
        return Err(RewardError::OutOfStock);
    }
    let points = item
        .points_cost
        .checked_mul(quantity)
        .ok_or(RewardError::InsufficientPoints)?;
    let id = uuid::Uuid::now_v7().to_string();
    let spent = ledger::apply(
        &txn,
        &ledger::Request {
            id: format!("redemption:{id}"),
            memo: Some(format!("{quantity} × {}", item.name)),
            command: Command::pay(Asset::points(), &account.id, &pool.id, points),
        },
        now,
    )
    .await;
    match spent {
        Ok(_) => {}
        Err(LedgerError::Insufficient { .. }) => {
            txn.rollback().await?;
            return Err(RewardError::InsufficientPoints);
        }
        Err(e) => {
            txn.rollback().await?;
            return Err(RewardError::Ledger(e));
        }
    }
    let record = redemption::Entity::insert(redemption::ActiveModel {
        id: Set(id),
        user_id: Set(user_id.to_string()),
        reward_id: Set(item.id.clone()),
        quantity: Set(quantity),
        points: Set(points),
        created_at: Set(now),
    })
    .exec_with_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok((record, item))
}

pub async fn page_own(
    db: &impl ConnectionTrait,
    user_id: &crate::ids::UserId,
    starting_after: Option<&str>,
    limit: u64,
) -> Result<(Vec<redemption::Model>, bool), DbErr> {
    pagination::fetch(
        db,
        redemption::Entity::find().filter(redemption::Column::UserId.eq(user_id)),
        redemption::Column::Id,
        Order::Descending,
        starting_after,
        limit,
    )
    .await
}
