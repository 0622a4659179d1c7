//! The audit log's tables (see the audit-log migration).

use sea_orm::entity::prelude::*;

pub mod event {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub kind: String,
        /// The canonical leaf bytes, UTF-8 JSON.
        pub leaf: String,
        /// Hex salt of the leaf's commitments; never public.
        pub salt: Option<String>,
        pub leaf_index: Option<i64>,
        pub created_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod node {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_nodes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub level: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: i64,
        pub hash: Vec<u8>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod tree_head {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_tree_heads")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tree_size: i64,
        pub root_hash: String,
        /// Milliseconds since the Unix epoch, as signed.
        pub timestamp: i64,
        pub signature: String,
        pub public_key: String,
        pub created_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
