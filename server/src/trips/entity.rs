//! `trips` and `personal_reductions` (see the trips migration).

use sea_orm::entity::prelude::*;

pub mod trip {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "trips")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub user_id: String,
        pub client_trip_id: String,
        pub request_hash: String,
        pub started_at: DateTimeWithTimeZone,
        pub ended_at: DateTimeWithTimeZone,
        pub local_day: String,
        /// The legs as sent (JSON).
        pub legs: String,
        pub distance_km: String,
        pub measured_km: Option<String>,
        /// The GPS trace as sent (JSON), kept for review.
        pub trace: Option<String>,
        pub source: crate::trips::rules::Source,
        pub preset: String,
        pub preset_version: i32,
        pub reduction_g: String,
        pub credited_g: i64,
        pub points: i64,
        pub status: crate::trips::rules::TripStatus,
        /// JSON array of reason codes.
        pub reasons: String,
        /// The partner record that created or confirmed the trip.
        pub partner_org_id: Option<String>,
        pub partner_record_id: Option<String>,
        pub confirmed_at: Option<DateTimeWithTimeZone>,
        pub created_at: DateTimeWithTimeZone,
        /// What finds the same journey sent from another account
        /// (`trips::fingerprint`); erased with the trace.
        pub fingerprint: Option<String>,
        /// Credited, but the same journey came from another account: its
        /// reductions stay out of batches until a reviewer decides.
        pub held_for_review: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    impl Model {
        /// Whose trip: the stored id as the type services take.
        pub fn user(&self) -> crate::ids::UserId {
            crate::ids::UserId::new(self.user_id.clone())
        }

        pub fn trip_id(&self) -> crate::ids::TripId {
            crate::ids::TripId::new(self.id.clone())
        }
    }
}

pub mod reduction {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "personal_reductions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub trip_id: String,
        /// See `credit::Part`.
        pub part: i16,
        pub user_id: String,
        pub account_id: String,
        pub grams: i64,
        pub preset: String,
        pub preset_version: i32,
        pub local_day: String,
        pub batch_id: Option<String>,
        pub created_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod review {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "trip_reviews")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub trip_id: String,
        pub reviewer_id: String,
        pub decision: String,
        pub reason: String,
        pub created_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
