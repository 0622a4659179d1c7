use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a notification tells of.
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
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// A verifier decided the person's trip (credited or rejected, with
    /// the reason).
    #[sea_orm(string_value = "trip_reviewed")]
    TripReviewed,
    /// An organisation the person applied for was approved or rejected.
    #[sea_orm(string_value = "organization_decided")]
    OrganizationDecided,
    /// The person's request to join an organisation was decided.
    #[sea_orm(string_value = "membership_decided")]
    MembershipDecided,
}

impl NotificationKind {
    pub const ALL: [NotificationKind; 3] = [
        NotificationKind::TripReviewed,
        NotificationKind::OrganizationDecided,
        NotificationKind::MembershipDecided,
    ];
}

pub mod notification {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notifications")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub user_id: String,
        pub kind: NotificationKind,
        /// JSON object: the kind's fields.
        pub body: String,
        pub created_at: DateTimeWithTimeZone,
        pub read_at: Option<DateTimeWithTimeZone>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod setting {
    use super::*;

    /// A kind the person switched on or off (absent: on).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notification_settings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub kind: NotificationKind,
        pub enabled: bool,
        pub updated_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
