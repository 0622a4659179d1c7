//! `guidance_prices`, `guidance_reviews` and `stabilisation_actions` (see
//! the migrations of those names).

pub mod guidance {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "guidance_prices")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub instrument: String,
        /// 1, 2, … per instrument, in the order published.
        pub version: i32,
        /// The base price, fen per unit.
        pub price: i64,
        /// The first China day it is in force (`YYYY-MM-DD`); a later
        /// version in force from the same day or earlier supersedes it.
        pub effective_from: String,
        /// The tiers (JSON, `tiers::Tier`), in the order they are tried.
        pub tiers: String,
        /// Whether the base price is a floor for trading.
        pub floor: bool,
        pub reason: String,
        pub published_by: String,
        /// The review whose proposal it publishes, if any.
        pub review_id: Option<String>,
        pub created_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod review {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "guidance_reviews")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub instrument: String,
        /// The month reviewed in, `YYYY-MM` (China time).
        pub period: String,
        /// The first and last China days whose trades were averaged.
        pub window_from: String,
        pub window_to: String,
        /// The version in force when the review ran, and its base price.
        pub current_guidance_id: String,
        pub current_price: i64,
        /// Units and fen of the window's book and pick trades.
        pub volume: i64,
        pub turnover: i64,
        pub vwap: Option<i64>,
        pub proposed_price: i64,
        /// `adjustment::Basis` as text.
        pub basis: String,
        /// `proposed`, `published` or `rejected`.
        pub status: String,
        /// `approve`, `amend`, `reject`, or `auto` (published by
        /// configuration).
        pub decision: Option<String>,
        pub decided_by: Option<String>,
        pub decided_at: Option<DateTimeWithTimeZone>,
        pub decision_reason: Option<String>,
        /// The version it published.
        pub guidance_id: Option<String>,
        pub created_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod action {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "stabilisation_actions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub instrument: String,
        /// `upper` or `lower`.
        pub trigger: String,
        /// The trading day whose close fired it (`YYYY-MM-DD`).
        pub day: String,
        /// That close, the trigger price and the guidance price in force
        /// (fen per unit).
        pub close: i64,
        pub trigger_price: i64,
        pub guidance_id: String,
        pub guidance_price: i64,
        /// Consecutive closes beyond the trigger, that day included.
        pub run_days: i32,
        /// `open` or `executed`.
        pub status: String,
        pub organization_id: Option<String>,
        /// Units released or bid for.
        pub quantity: Option<i64>,
        pub auction_id: Option<String>,
        pub order_id: Option<String>,
        pub executed_by: Option<String>,
        pub executed_at: Option<DateTimeWithTimeZone>,
        pub created_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
