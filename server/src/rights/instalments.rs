//! Instalments of paid allocations (有偿分配): the holder pays the next
//! unpaid instalment to the allocating bureau's department, and the units
//! it frees stop being held, in one database transaction. Units surrendered
//! or clawed back before they were paid for are not freed twice: an
//! instalment frees at most what the allocation still holds, and is owed
//! in full all the same.

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::allocation::find;
use super::entity::{instalment, AllocationStatus, Origin};
use super::payment::{pay_for_units, Payment};
use super::rules::RightsRules;
use super::views::{self, AllocationView, InstalmentView, Today};
use crate::auth::extract::Principal;
use crate::market::error::MarketError;
use crate::market::{money, participants};
use crate::problem::ProblemCode;

/// An instalment paid.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstalmentPayment {
    pub instalment: InstalmentView,
    /// Units it freed now: its own, less any surrendered or clawed back
    /// unpaid meanwhile.
    #[schema(example = "2000")]
    pub freed: String,
    /// The department paid.
    pub bureau_organization_id: String,
    pub allocation: AllocationView,
}

/// Pays the allocation's next unpaid instalment, due or not.
pub async fn pay_next(
    db: &DatabaseConnection,
    who: &Principal,
    rules: &RightsRules,
    id: &str,
    now: DateTime<FixedOffset>,
) -> Result<InstalmentPayment, MarketError> {
    let a = find(db, id).await?;
    if !who.acts_for(&a.holder_organization_id) {
        return Err(MarketError::NotFound);
    }
    let holder = participants::acting_for(db, who, "id", &a.holder_organization_id).await?;
    if a.origin != Origin::Paid {
        return Err(MarketError::Conflict(
            ProblemCode::NothingDue,
            format!("allocation {} is not paid by instalments", a.id),
        ));
    }
    if a.status == AllocationStatus::Expired {
        return Err(MarketError::Conflict(
            ProblemCode::RightsExpired,
            format!("allocation {} has expired: its units were cancelled", a.id),
        ));
    }
    crate::rights::expiry::refuse_lapsed(db, &a.batch_id, now).await?;
    let next = instalment::Entity::find()
        .filter(instalment::Column::AllocationId.eq(a.id.as_str()))
        .filter(instalment::Column::PaidAt.is_null())
        .order_by_asc(instalment::Column::Number)
        .one(db)
        .await?
        .ok_or_else(|| {
            MarketError::Conflict(
                ProblemCode::NothingDue,
                format!("every instalment of allocation {} is paid", a.id),
            )
        })?;
    let bureau = participants::account_of(db, &a.bureau_organization_id).await?;
    let txn = crate::db::begin_write(db).await?;
    let marked = instalment::Entity::update_many()
        .col_expr(instalment::Column::PaidAt, Expr::value(now))
        .col_expr(
            instalment::Column::PaidBy,
            Expr::value(who.user_id.to_string()),
        )
        .filter(instalment::Column::AllocationId.eq(a.id.as_str()))
        .filter(instalment::Column::Number.eq(next.number))
        .filter(instalment::Column::PaidAt.is_null())
        .exec(&txn)
        .await?;
    if marked.rows_affected != 1 {
        return Err(MarketError::Conflict(
            ProblemCode::TryAgain,
            "this instalment was paid at the same moment; try again".into(),
        ));
    }
    let freed = std::cmp::min(next.quantity_g, a.unconverted_g);
    let (_, minor) = a.class.unit();
    pay_for_units(
        &txn,
        &a,
        Payment {
            payer: &holder.account,
            payee: &bureau,
            fen: next.amount,
            grams: freed,
            key: format!("instalment:{}", next.number),
            what: format!("instalment {} of allocation {}", next.number, a.id),
        },
        now,
    )
    .await?;
    crate::audit::log::append(
        &txn,
        "rights.instalment_paid",
        json!({
            "allocation": a.id,
            "batch": a.batch_id,
            "instrument": a.instrument,
            "holder_organization": a.holder_organization_id,
            "bureau": a.bureau_organization_id,
            "instalment": next.number,
            "due_on": next.due_on,
            "amount": money::yuan(next.amount),
            "freed": crate::finance::views::units(freed, minor),
            "by": who.user_id,
        }),
        None,
        now,
    )
    .await?;
    let paid = instalment::Entity::find_by_id((a.id.clone(), next.number))
        .one(&txn)
        .await?
        .ok_or(MarketError::NotFound)?;
    let a = find(&txn, &a.id).await?;
    txn.commit().await?;
    let today = Today::of(rules, now);
    Ok(InstalmentPayment {
        instalment: InstalmentView::new(paid, minor, today.day),
        freed: crate::finance::views::units(freed, minor),
        bureau_organization_id: a.bureau_organization_id.clone(),
        allocation: views::one(db, a, today).await?,
    })
}
