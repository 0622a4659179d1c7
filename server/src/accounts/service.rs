//! Opening carbon accounts and deciding who may see them: the one place the
//! account access rule lives.

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::entity::{self, AccountKind, Entity as Accounts};
use crate::auth::extract::Principal;
use crate::auth::roles::Role;

fn new_account(kind: AccountKind, now: DateTime<FixedOffset>) -> entity::ActiveModel {
    entity::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        kind: Set(kind),
        user_id: Set(None),
        organization_id: Set(None),
        code: Set(None),
        allow_negative: Set(false),
        created_at: Set(now),
    }
}

/// The personal account every registered individual has.
pub async fn open_personal(
    db: &impl ConnectionTrait,
    user_id: &crate::ids::UserId,
    now: DateTime<FixedOffset>,
) -> Result<entity::Model, DbErr> {
    let mut account = new_account(AccountKind::Personal, now);
    account.user_id = Set(Some(user_id.to_string()));
    Accounts::insert(account).exec_with_returning(db).await
}

/// The account of an organisation, of the kind its organisation kind holds
/// (`OrgKind::account_kind`).
pub async fn open_for_organization(
    db: &impl ConnectionTrait,
    org_id: &str,
    kind: AccountKind,
    now: DateTime<FixedOffset>,
) -> Result<entity::Model, DbErr> {
    let mut account = new_account(kind, now);
    account.organization_id = Set(Some(org_id.to_string()));
    Accounts::insert(account).exec_with_returning(db).await
}

/// The system account with this code (e.g. `issuer:points`), opened on
/// first use. Issuers may go negative.
pub async fn system(
    db: &impl ConnectionTrait,
    code: &str,
    now: DateTime<FixedOffset>,
) -> Result<entity::Model, DbErr> {
    let find = || {
        Accounts::find()
            .filter(entity::Column::Code.eq(code))
            .one(db)
    };
    // Read first: after the first use this is the only query.
    if let Some(existing) = find().await? {
        return Ok(existing);
    }
    let mut account = new_account(AccountKind::System, now);
    account.code = Set(Some(code.to_string()));
    account.allow_negative = Set(code.starts_with("issuer:"));
    // Two first uses at once: the unique code decides, both read the winner.
    Accounts::insert(account)
        .on_conflict(
            OnConflict::column(entity::Column::Code)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    find()
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("system account {code}")))
}

/// System accounts by code, remembered for the life of the process: once
/// opened they never change, and the trip path would otherwise read the
/// points issuer on every trip. Look them up through the pool, never inside
/// a transaction: an account opened by a transaction that then rolled back
/// must not be remembered.
#[derive(Debug, Default)]
pub struct SystemAccounts(std::sync::RwLock<std::collections::HashMap<String, entity::Model>>);

impl SystemAccounts {
    pub async fn get(
        &self,
        db: &sea_orm::DatabaseConnection,
        code: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<entity::Model, DbErr> {
        let known = self
            .0
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(code)
            .cloned();
        if let Some(account) = known {
            return Ok(account);
        }
        let account = system(db, code, now).await?;
        self.0
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(code.to_string(), account.clone());
        Ok(account)
    }
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<entity::Model>, DbErr> {
    Accounts::find_by_id(id.to_string()).one(db).await
}

pub async fn personal_of(
    db: &impl ConnectionTrait,
    user_id: &crate::ids::UserId,
) -> Result<Option<entity::Model>, DbErr> {
    Accounts::find()
        .filter(entity::Column::UserId.eq(user_id))
        .one(db)
        .await
}

/// May `who` read this account (its balances and entries)? The owner may;
/// anyone holding a role in the owning organisation may; the service centre
/// (verifiers) may read every personal, enterprise and government account
/// (it verifies and aggregates them); administrators may read all; nobody
/// else.
pub fn can_read(who: &Principal, account: &entity::Model) -> bool {
    if who.is_admin() {
        return true;
    }
    if account.user_id.as_deref() == Some(who.user_id.as_str()) {
        return true;
    }
    if account
        .organization_id
        .as_deref()
        .is_some_and(|org| who.acts_for(org))
    {
        return true;
    }
    account.kind != AccountKind::System && who.has_role(Role::Verifier)
}
