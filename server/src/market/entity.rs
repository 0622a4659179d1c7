//! The market's tables (see the market migrations).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub mod deposit {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cash_deposits")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The settlement bank (a `bank` organisation) that received it.
        pub bank_id: String,
        /// The bank's own reference: one deposit per bank and reference.
        pub reference: String,
        pub organization_id: String,
        pub account_id: String,
        /// Fen.
        pub amount: i64,
        pub recorded_by: String,
        pub created_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum WithdrawalStatus {
    /// Asked for; the cash is held until the bank decides.
    #[sea_orm(string_value = "requested")]
    Requested,
    /// Paid out by the bank: the cash left the platform.
    #[sea_orm(string_value = "executed")]
    Executed,
    /// Refused by the bank: the cash is available again.
    #[sea_orm(string_value = "refused")]
    Refused,
}

pub mod withdrawal {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cash_withdrawals")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub organization_id: String,
        pub account_id: String,
        /// Fen.
        pub amount: i64,
        /// Where the bank pays it: the organisation's account at the bank.
        pub bank_account: String,
        pub status: WithdrawalStatus,
        pub requested_by: String,
        pub requested_at: DateTimeWithTimeZone,
        pub decided_by: Option<String>,
        pub decided_at: Option<DateTimeWithTimeZone>,
        pub bank_id: String,
        /// The bank's reference of the payment (executed).
        pub reference: Option<String>,
        /// Why the bank refused it.
        pub reason: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Resting in the book (or partly filled and resting).
    #[sea_orm(string_value = "open")]
    Open,
    #[sea_orm(string_value = "filled")]
    Filled,
    /// Cancelled by its owner, or its rest by the rules (`reason`).
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
    /// A `day` order at the day's close; a block proposal not answered
    /// by the end of its trading day.
    #[sea_orm(string_value = "expired")]
    Expired,
    /// Holding, but not in the book: a block proposal waiting for its
    /// buyer, an auction lot or a bid until the auction closes.
    #[sea_orm(string_value = "pending")]
    Pending,
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum OrderKind {
    /// A limit order of the continuous book (挂牌).
    #[sea_orm(string_value = "limit")]
    Limit,
    /// A pick of one resting order (点选).
    #[sea_orm(string_value = "pick")]
    Pick,
    /// Either side of a block trade (大宗协议).
    #[sea_orm(string_value = "block")]
    Block,
    /// The lot a seller offers by one-way bidding (单向竞价).
    #[sea_orm(string_value = "auction")]
    Auction,
    /// A sealed bid for an auction lot.
    #[sea_orm(string_value = "bid")]
    Bid,
}

pub mod order {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "orders")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub instrument: String,
        /// The instrument's sequence number: time priority.
        pub seq: i64,
        pub organization_id: String,
        pub account_id: String,
        pub placed_by: String,
        pub client_order_id: String,
        pub request_hash: String,
        pub kind: OrderKind,
        /// `buy` or `sell`.
        pub side: String,
        /// Fen per unit.
        pub price: i64,
        pub quantity: i64,
        pub remaining: i64,
        pub filled: i64,
        /// `gtc`, `day` or `ioc`.
        pub tif: String,
        pub status: OrderStatus,
        /// Why the rest was cancelled: `cancelled`, `ioc`, `self_trade`,
        /// `suspended`.
        pub reason: Option<String>,
        pub picked_order_id: Option<String>,
        pub trading_day: String,
        pub created_at: DateTimeWithTimeZone,
        pub updated_at: DateTimeWithTimeZone,
        /// The auction a bid or a lot belongs to.
        pub auction_id: Option<String>,
        /// The fee rate the order was entered under: its holds and its
        /// side's fees follow it, whatever the rate becomes later. `None`
        /// for orders older than per-order rates (the market-wide rate).
        pub fee_rate: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod order_lot {
    use super::*;

    /// A credit batch a sell order holds units of, oldest batch first.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "order_lots")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub order_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: i32,
        pub batch_id: String,
        pub hold_id: String,
        /// Grams held when the order was placed.
        pub grams: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod trade {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "trades")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub instrument: String,
        /// The tape's order: per instrument, from 1.
        pub seq: i64,
        /// `book`, `pick`, `block` or `auction`.
        pub method: String,
        pub buy_order_id: Option<String>,
        pub sell_order_id: Option<String>,
        pub buyer_organization_id: String,
        pub seller_organization_id: String,
        pub buyer_account_id: String,
        pub seller_account_id: String,
        pub price: i64,
        pub quantity: i64,
        pub value: i64,
        pub buyer_fee: i64,
        pub seller_fee: i64,
        /// The side of the order that took (book and pick trades).
        pub taker_side: Option<String>,
        pub trading_day: String,
        pub audit_event_id: i64,
        pub created_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod delivery {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "trade_deliveries")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub trade_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub batch_id: String,
        pub grams: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod bar {
    use super::*;

    /// An instrument's trading day: open, high, low, close, VWAP, volume
    /// (fen and units). Without book or pick trades the close is the
    /// previous one and open, high, low and VWAP are empty.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "daily_bars")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub instrument: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub day: String,
        pub open: Option<i64>,
        pub high: Option<i64>,
        pub low: Option<i64>,
        pub close: i64,
        pub vwap: Option<i64>,
        /// Units traded in the book and by picks.
        pub volume: i64,
        /// Fen traded in the book and by picks.
        pub turnover: i64,
        /// Units traded in block trades (not in the close).
        pub block_volume: i64,
        pub trades: i64,
        pub previous_close: i64,
        pub closed_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum BlockStatus {
    /// Waiting for the buyer's answer; the seller's units are held.
    #[sea_orm(string_value = "proposed")]
    Proposed,
    /// Accepted and settled (`trade_id`).
    #[sea_orm(string_value = "accepted")]
    Accepted,
    #[sea_orm(string_value = "declined")]
    Declined,
    /// Taken back by the seller before an answer.
    #[sea_orm(string_value = "withdrawn")]
    Withdrawn,
    /// Not answered by the end of its trading day.
    #[sea_orm(string_value = "expired")]
    Expired,
}

pub mod block {
    use super::*;

    /// A block trade (大宗协议): a seller's proposal to a named buyer.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "block_trades")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub instrument: String,
        pub seller_organization_id: String,
        pub buyer_organization_id: String,
        /// The seller's order of kind `block`, which holds the units.
        pub sell_order_id: String,
        /// The buyer's order of kind `block`, once accepted.
        pub buy_order_id: Option<String>,
        pub price: i64,
        pub quantity: i64,
        pub status: BlockStatus,
        /// The day it must be answered by.
        pub trading_day: String,
        pub trade_id: Option<String>,
        /// Why it was declined.
        pub reason: Option<String>,
        pub proposed_by: String,
        pub decided_by: Option<String>,
        pub created_at: DateTimeWithTimeZone,
        pub decided_at: Option<DateTimeWithTimeZone>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum AuctionStatus {
    /// Announced: bids are taken from `opens_at` until `closes_at`.
    #[sea_orm(string_value = "announced")]
    Announced,
    /// Allocated at one clearing price; results are public.
    #[sea_orm(string_value = "closed")]
    Closed,
    /// Called off at the close (the instrument was suspended): every bid
    /// and the lot were given back.
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}

pub mod auction {
    use super::*;

    /// A one-way bidding auction (单向竞价) of one lot.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "auctions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub instrument: String,
        pub seller_organization_id: String,
        /// The seller's order of kind `auction`, which holds the lot.
        pub sell_order_id: String,
        pub quantity: i64,
        /// Fen per unit: no bid below it.
        pub reserve_price: i64,
        pub min_bid_units: i64,
        /// The most units one bidder's bids may add up to.
        pub bidder_cap_units: i64,
        pub opens_at: DateTimeWithTimeZone,
        pub closes_at: DateTimeWithTimeZone,
        pub status: AuctionStatus,
        /// Fen per unit everybody pays: the lowest winning bid.
        pub clearing_price: Option<i64>,
        pub sold: i64,
        pub bids: i64,
        pub winners: i64,
        pub reason: Option<String>,
        pub created_by: String,
        pub created_at: DateTimeWithTimeZone,
        pub closed_at: Option<DateTimeWithTimeZone>,
        /// An enforcement sale of pledged units: the pledge (the lot holds
        /// its units; the close pays the proceeds to its pledgees).
        pub pledge_id: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
