//! `organizations` and `memberships` (see the migration of the same name)
//! and the closed sets of values their columns take; roles and their
//! grants are `crate::auth::roles`.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::entity::AccountKind;
use crate::auth::roles::Role;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    #[sea_orm(string_value = "government_department")]
    GovernmentDepartment,
    #[sea_orm(string_value = "enterprise")]
    Enterprise,
    #[sea_orm(string_value = "service_centre")]
    ServiceCentre,
    #[sea_orm(string_value = "reserve_platform")]
    ReservePlatform,
    #[sea_orm(string_value = "bank")]
    Bank,
    /// A government financing guarantee company: guarantees a share of
    /// pledge loans.
    #[sea_orm(string_value = "guarantor")]
    Guarantor,
    /// An insurer of forest sinks and of prices.
    #[sea_orm(string_value = "insurer")]
    Insurer,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "approved")]
    Approved,
    #[sea_orm(string_value = "rejected")]
    Rejected,
}

impl OrgKind {
    /// The role staff of this kind of organisation act in. The one place
    /// roles and organisation kinds are tied together.
    pub fn staff_role(self) -> Role {
        match self {
            OrgKind::GovernmentDepartment => Role::Government,
            OrgKind::Enterprise => Role::EnterpriseOperator,
            OrgKind::ServiceCentre => Role::Verifier,
            OrgKind::ReservePlatform => Role::Reserve,
            OrgKind::Bank => Role::Bank,
            OrgKind::Guarantor => Role::Guarantor,
            OrgKind::Insurer => Role::Insurer,
        }
    }

    /// Departments hold government accounts, every other kind an
    /// enterprise account.
    pub fn account_kind(self) -> AccountKind {
        match self {
            OrgKind::GovernmentDepartment => AccountKind::Government,
            _ => AccountKind::Enterprise,
        }
    }

    /// Individuals may join departments (civil servants) and enterprises
    /// (staff) as members.
    pub fn takes_members(self) -> bool {
        matches!(self, OrgKind::GovernmentDepartment | OrgKind::Enterprise)
    }
}

/// The portfolio of a government department that is responsible for a
/// class of environmental rights: its staff allocate them and confirm
/// verified use (`crate::instruments::Class::bureau`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "snake_case")]
pub enum Bureau {
    /// The ecology and environment bureau (生态环境局): discharge rights.
    #[sea_orm(string_value = "ecology")]
    Ecology,
    /// The water bureau (水务局): water rights and indicators.
    #[sea_orm(string_value = "water")]
    Water,
    /// The economic development bureau (经济发展局): energy-use rights.
    #[sea_orm(string_value = "economic_development")]
    EconomicDevelopment,
    /// The natural resources bureau (自然资源局): land indicators.
    #[sea_orm(string_value = "natural_resources")]
    NaturalResources,
}

pub mod organization {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "organizations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub kind: OrgKind,
        pub name: String,
        pub uscc: String,
        pub status: Status,
        pub applied_by: Option<String>,
        pub decided_by: Option<String>,
        pub decided_at: Option<DateTimeWithTimeZone>,
        pub decision_reason: Option<String>,
        pub created_at: DateTimeWithTimeZone,
        /// A government department's portfolio, if it is responsible for
        /// a class of rights.
        pub bureau: Option<Bureau>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod membership {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "memberships")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub organization_id: String,
        pub user_id: String,
        pub status: Status,
        pub requested_at: DateTimeWithTimeZone,
        pub decided_by: Option<String>,
        pub decided_at: Option<DateTimeWithTimeZone>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
