//! `accounts` (see the ledger migration).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    #[sea_orm(string_value = "personal")]
    Personal,
    #[sea_orm(string_value = "government")]
    Government,
    #[sea_orm(string_value = "enterprise")]
    Enterprise,
    /// Issuers and pools the platform itself keeps (e.g. `issuer:points`).
    #[sea_orm(string_value = "system")]
    System,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub kind: AccountKind,
    pub user_id: Option<String>,
    pub organization_id: Option<String>,
    pub code: Option<String>,
    /// Issuers may go below zero: what they issue is minus what they hold.
    pub allow_negative: bool,
    pub created_at: DateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The codes of system accounts that only ever receive and that busy
/// paths credit (the market's fee account: every trade with a fee).
const RECEIVE_ONLY_PREFIX: &str = "fees:";

impl Model {
    /// A system account that only receives: it never holds or pays out.
    pub fn receive_only(&self) -> bool {
        self.code
            .as_deref()
            .is_some_and(|c| c.starts_with(RECEIVE_ONLY_PREFIX))
    }

    /// Its postings spread over shard rows (issuers, whose balance every
    /// issuance lowers, and receive-only accounts, which every trade may
    /// credit): one row would make every such transaction wait for the
    /// one before it to commit.
    pub fn spreads_postings(&self) -> bool {
        self.allow_negative || self.receive_only()
    }

    /// The stored id as the type the ledger's readers take.
    pub fn account_id(&self) -> crate::ids::AccountId {
        crate::ids::AccountId::new(self.id.clone())
    }
}
