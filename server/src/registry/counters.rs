//! Numbers handed out in order (project registry numbers, personal batches
//! per vintage): `INSERT … ON CONFLICT DO UPDATE SET value = value + 1
//! RETURNING value` on the counter's row, in the caller's transaction. The
//! row stays locked until that transaction ends, so concurrent callers get
//! consecutive numbers, and a rolled-back caller gives its number back.

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ConnectionTrait, Set};

pub mod counter {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "registry_counters")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        pub value: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The next number of counter `name` (1 for a new counter).
pub async fn next(txn: &impl ConnectionTrait, name: &str) -> Result<i64, DbErr> {
    let row = counter::Entity::insert(counter::ActiveModel {
        name: Set(name.to_string()),
        value: Set(1),
    })
    .on_conflict(
        OnConflict::column(counter::Column::Name)
            .value(
                counter::Column::Value,
                Expr::col((counter::Entity, counter::Column::Value)).add(1),
            )
            .to_owned(),
    )
    .exec_with_returning(txn)
    .await?;
    Ok(row.value)
}
