//! The reserve platform's operations with holders (one table; the columns
//! of one kind are null for the others).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum OperationKind {
    /// 收储: the holder sells units to the reserve at its applicable
    /// guidance price.
    #[sea_orm(string_value = "buy_back")]
    BuyBack,
    /// 置换: the holder's units of one instrument for the reserve's of
    /// another, at the ratio of their guidance prices, the rest in cash.
    #[sea_orm(string_value = "swap")]
    Swap,
    /// 租赁: the reserve lends units for a term against a deposit and a
    /// yearly fee.
    #[sea_orm(string_value = "lease")]
    Lease,
    /// 无偿收回: allocated rights returned by government order, without
    /// payment; recorded settled (`accepted`) when ordered.
    #[sea_orm(string_value = "claw_back")]
    ClawBack,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum OperationStatus {
    /// Waiting for the reserve's answer; what the holder gives is held.
    #[sea_orm(string_value = "offered")]
    Offered,
    /// A buy-back or swap, settled.
    #[sea_orm(string_value = "accepted")]
    Accepted,
    /// A lease whose units are lent: the lessee owes them back by `due_on`.
    #[sea_orm(string_value = "active")]
    Active,
    /// A lease ended by the lessee giving the units back.
    #[sea_orm(string_value = "returned")]
    Returned,
    /// A lease not returned by `due_on`, paid from its deposit at the
    /// guidance price then in force.
    #[sea_orm(string_value = "paid")]
    Paid,
    #[sea_orm(string_value = "declined")]
    Declined,
    /// Taken back by the holder before an answer.
    #[sea_orm(string_value = "withdrawn")]
    Withdrawn,
}

pub mod operation {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reserve_operations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub kind: OperationKind,
        pub status: OperationStatus,
        pub reserve_organization_id: String,
        /// The holder (seller, swapper or lessee).
        pub organization_id: String,
        pub client_id: String,
        pub request_hash: String,
        /// What the holder gives (buy-back, swap) or borrows (lease).
        pub instrument: String,
        /// Lots: whole steps of the instrument (units; 0.01 mu of land).
        pub quantity: i64,
        /// The holder's applicable guidance price of `instrument`, fen per
        /// unit, when it offered.
        pub price: i64,
        /// `price × quantity`, fen.
        pub value: i64,
        /// A swap: what the reserve gives, at the holder's applicable
        /// price, and how many lots `value` buys of it.
        pub wanted_instrument: Option<String>,
        pub wanted_price: Option<i64>,
        pub wanted_quantity: Option<i64>,
        /// A swap: what is left of `value`, paid by the reserve in cash.
        pub cash: Option<i64>,
        /// A lease: its term, its last day (set when accepted), the yearly
        /// fee rate, the fee and the deposit (fen) held from the lessee.
        pub term_days: Option<i32>,
        pub due_on: Option<String>,
        pub fee_rate: Option<String>,
        pub fee: Option<i64>,
        pub deposit: Option<i64>,
        /// A lease paid from its deposit: the price it was paid at, and
        /// what neither the deposit nor the lessee's cash covered (owed).
        pub settled_price: Option<i64>,
        pub shortfall: Option<i64>,
        /// The holder's units held by the offer, as JSON
        /// `[{"batch", "hold", "grams"}]`.
        pub lots: String,
        /// A take-over of pledged units declared by the pledgee bank
        /// (enforcement): the lots are the pledge's holds, and the
        /// payment is shared out among the pledgees first.
        pub pledge_id: Option<String>,
        pub reason: Option<String>,
        pub requested_by: String,
        pub decided_by: Option<String>,
        pub created_at: DateTimeWithTimeZone,
        pub decided_at: Option<DateTimeWithTimeZone>,
        pub ended_at: Option<DateTimeWithTimeZone>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
