//! `guidance_prices` (see the migration of that name).

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
        pub proposal_id: Option<String>,
        pub created_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
