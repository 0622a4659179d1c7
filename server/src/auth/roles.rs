//! What a person may do: the roles and `role_grants` (see the migration of
//! that name). Who holds which role in which organisation is read once per
//! request into a [`super::extract::Principal`].

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
pub enum Role {
    /// Every signed-in individual; implied, never stored.
    #[sea_orm(string_value = "person")]
    Person,
    #[sea_orm(string_value = "enterprise_operator")]
    EnterpriseOperator,
    /// The carbon-neutral service centre.
    #[sea_orm(string_value = "verifier")]
    Verifier,
    #[sea_orm(string_value = "government")]
    Government,
    #[sea_orm(string_value = "reserve")]
    Reserve,
    #[sea_orm(string_value = "bank")]
    Bank,
    #[sea_orm(string_value = "guarantor")]
    Guarantor,
    #[sea_orm(string_value = "insurer")]
    Insurer,
    /// Platform-wide; granted by `tanpuhui admin create` only.
    #[sea_orm(string_value = "admin")]
    Admin,
}

pub mod grant {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "role_grants")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub user_id: String,
        pub role: Role,
        pub organization_id: Option<String>,
        pub granted_by: Option<String>,
        pub created_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
