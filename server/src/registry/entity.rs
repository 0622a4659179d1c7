//! The registry's tables (see the registry migration).

use sea_orm::entity::prelude::*;

pub mod project {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "projects")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub number: Option<i32>,
        pub organization_id: String,
        pub name: String,
        pub kind: String,
        pub methodology: String,
        pub methodology_version: i32,
        pub methodology_name: Option<String>,
        pub region_code: String,
        /// JSON: `{"coordinates": [lon, lat]}` or `{"parcels": [...]}`.
        pub location: String,
        pub crediting_start: String,
        pub crediting_end: String,
        /// JSON list of `{name, sha256}`.
        pub documents: String,
        /// JSON list of identity keys.
        pub identities: String,
        pub status: String,
        pub notice_closes_at: Option<DateTimeWithTimeZone>,
        pub decided_by: Option<String>,
        pub decided_at: Option<DateTimeWithTimeZone>,
        pub decision_reason: Option<String>,
        pub created_by: String,
        pub created_at: DateTimeWithTimeZone,
        pub updated_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod identity {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "project_identities")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub identity: String,
        pub project_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod objection {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "project_objections")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub project_id: String,
        pub user_id: String,
        pub text: String,
        pub created_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod report {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "monitoring_reports")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub project_id: String,
        pub period_start: String,
        pub period_end: String,
        /// JSON: the calculator request.
        pub activity: String,
        /// JSON: carbon-calc's answer.
        pub estimate: String,
        pub claimed_g: i64,
        pub status: String,
        pub verified_g: Option<i64>,
        pub decision_reason: Option<String>,
        pub decided_by: Option<String>,
        pub decided_at: Option<DateTimeWithTimeZone>,
        pub batch_id: Option<String>,
        pub created_by: String,
        pub created_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod batch {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "credit_batches")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub kind: String,
        pub project_id: Option<String>,
        pub report_id: Option<String>,
        pub vintage: i32,
        pub methodology: String,
        pub methodology_version: i32,
        pub quantity_g: i64,
        pub buffer_g: i64,
        pub holder_account_id: String,
        /// The first serial no retirement or cancellation has used yet.
        pub next_serial: i64,
        pub retired_g: i64,
        pub cancelled_g: i64,
        pub records: Option<i64>,
        pub persons: Option<i64>,
        pub issued_by: String,
        pub issued_at: DateTimeWithTimeZone,
        pub audit_event_id: i64,
        /// The instrument its units trade as (`TPH-FOR-2025`); set at
        /// issuance, every batch has one.
        pub instrument: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod retirement {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "retirements")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub batch_id: String,
        pub account_id: String,
        pub quantity_g: i64,
        pub serial_first: i64,
        pub serial_last: i64,
        pub beneficiary: String,
        pub purpose: String,
        pub retired_by: String,
        pub created_at: DateTimeWithTimeZone,
        pub audit_event_id: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod reversal {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reversals")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub project_id: String,
        pub loss_g: i64,
        pub cancelled_g: i64,
        pub cause: String,
        pub occurred_on: String,
        pub recorded_by: String,
        pub created_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod claim {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "neutrality_claims")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub organization_id: String,
        pub subject: String,
        pub period_start: String,
        pub period_end: String,
        pub footprint_g: i64,
        /// JSON: how the footprint was found (carbon-calc's answer, or the
        /// organisation's statement).
        pub basis: String,
        pub created_by: String,
        pub created_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod claim_retirement {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "claim_retirements")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub retirement_id: String,
        pub claim_id: String,
        pub created_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
