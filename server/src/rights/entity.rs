//! The table of allocations (see the right-allocations migration).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::instruments::Class;

/// How a bureau's batch of rights came to be.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Allocated free of charge under a permit (初始分配): held as
    /// unconverted until the holder pays the conversion (补缴); only the
    /// reserve may take unconverted units.
    #[sea_orm(string_value = "free")]
    Free,
    /// New or additional rights allocated to the bureau's own department
    /// for sale by one-way bidding (the market's auctions): tradeable.
    #[sea_orm(string_value = "sale")]
    Sale,
    /// New or additional rights allocated to an approved enterprise at a
    /// price per unit, paid by instalments (有偿分配): the units of each
    /// instalment are held until it is paid, as unconverted units are.
    #[sea_orm(string_value = "paid")]
    Paid,
    /// An indicator created from verified activity (reclaimed water used,
    /// land restored or linked): tradeable.
    #[sea_orm(string_value = "verified")]
    Verified,
}

impl Origin {
    /// The origins a class may have: allocated rights are allocated (free
    /// or for sale), indicators are confirmed from verified activity.
    pub fn fits(self, class: Class) -> bool {
        match self {
            Origin::Free | Origin::Sale | Origin::Paid => class.allocated(),
            Origin::Verified => class.bureau().is_some() && !class.allocated(),
        }
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum AllocationStatus {
    /// Within its validity.
    #[sea_orm(string_value = "active")]
    Active,
    /// Past its validity: what was left of it was cancelled.
    #[sea_orm(string_value = "expired")]
    Expired,
}

pub mod allocation {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "right_allocations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub batch_id: String,
        pub instrument: String,
        pub class: Class,
        pub vintage: i32,
        pub origin: Origin,
        pub holder_organization_id: String,
        pub bureau_organization_id: String,
        /// The permit or project identifier, canonical; unique per
        /// instrument.
        pub identifier: String,
        /// Free allocations: the reserve platform whose fund conversions
        /// pay.
        pub reserve_organization_id: Option<String>,
        pub quantity_g: i64,
        /// Free and paid allocations: what is still unconverted (not paid
        /// for), held in the ledger by
        /// [`unconverted_hold`](crate::rights::allocation::unconverted_hold).
        pub unconverted_g: i64,
        /// Free and paid allocations: what the holder converted (paid for).
        pub converted_g: i64,
        /// What expiry cancelled of the batch.
        pub expired_g: i64,
        /// The last valid day (China), `YYYY-MM-DD`; `None`: no lapse.
        pub valid_until: Option<String>,
        pub status: AllocationStatus,
        pub allocated_by: String,
        /// Paid allocations: fen per unit.
        pub price: Option<i64>,
        pub created_at: DateTimeWithTimeZone,
        pub updated_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod instalment {
    use super::*;

    /// One instalment of a paid allocation: paying it frees its units.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "right_instalments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub allocation_id: String,
        /// 1, 2, … in the order they fall due.
        #[sea_orm(primary_key, auto_increment = false)]
        pub number: i32,
        /// The last day to pay (China), `YYYY-MM-DD`.
        pub due_on: String,
        pub quantity_g: i64,
        /// Fen.
        pub amount: i64,
        pub paid_at: Option<DateTimeWithTimeZone>,
        pub paid_by: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod compliance {
    use super::*;

    /// A holder's compliance year for a class: the verified use its bureau
    /// recorded and what it surrendered against it.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "right_compliance")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub class: Class,
        pub year: i32,
        pub organization_id: String,
        pub bureau_organization_id: String,
        pub verified_g: i64,
        pub surrendered_g: i64,
        /// The last day to surrender (China), `YYYY-MM-DD`.
        pub deadline: String,
        /// SHA-256 of the discharge, water-use or third-party energy
        /// report the verified use comes from.
        pub report_sha256: Option<String>,
        pub recorded_by: String,
        pub created_at: DateTimeWithTimeZone,
        pub updated_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Where a holder's compliance year stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ComplianceStatus {
    /// Before the deadline, not all surrendered yet.
    Open,
    /// Rights covering the verified use were surrendered.
    Met,
    /// Past the deadline with less surrendered than used: the gap is
    /// public.
    Gap,
}

impl ComplianceStatus {
    pub fn of(c: &compliance::Model, today: &str) -> ComplianceStatus {
        if c.surrendered_g >= c.verified_g {
            ComplianceStatus::Met
        } else if c.deadline.as_str() < today {
            ComplianceStatus::Gap
        } else {
            ComplianceStatus::Open
        }
    }
}
