//! Organisations: applying, approving, joining, granting roles. Every
//! permission rule of organisations is here.

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set, SqlErr,
    TransactionSession, TransactionTrait,
};

use super::entity::{membership, organization, Bureau, OrgKind, Status};

use super::uscc;
use crate::accounts::service as accounts;
use crate::auth::extract::Principal;
use crate::auth::roles::{grant, Role};
use crate::pagination::{self, Order};
use crate::problem::ProblemCode;

#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    #[error("unified social credit code: {0}")]
    Uscc(#[from] uscc::UsccError),
    #[error("an organisation with this unified social credit code is already registered")]
    UsccTaken,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    #[error("{1}")]
    Conflict(ProblemCode, String),
    #[error("{param}: {detail}")]
    Invalid { param: &'static str, detail: String },
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

fn unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

pub struct NewOrganization {
    pub kind: OrgKind,
    pub name: String,
    pub uscc: String,
    /// A government department's portfolio (no other kind has one).
    pub bureau: Option<Bureau>,
}

/// An enterprise applies and waits for approval; departments, the service
/// centre, the reserve platform and banks are set up by an administrator
/// and approved at once. The organisation's account opens with it.
pub async fn create(
    db: &impl TransactionTrait,
    who: &Principal,
    new: NewOrganization,
    now: DateTime<FixedOffset>,
) -> Result<(organization::Model, String), OrgError> {
    let code = uscc::parse(&new.uscc)?;
    if new.bureau.is_some() && new.kind != OrgKind::GovernmentDepartment {
        return Err(OrgError::Invalid {
            param: "bureau",
            detail: "only a government department is a bureau".into(),
        });
    }
    let status = if new.kind == OrgKind::Enterprise {
        Status::Pending
    } else if who.is_admin() {
        Status::Approved
    } else {
        return Err(OrgError::Forbidden(
            "only an administrator sets up organisations other than enterprises",
        ));
    };
    let txn = crate::db::begin_write(db).await?;
    let org = organization::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        kind: Set(new.kind),
        name: Set(new.name.trim().to_string()),
        uscc: Set(code),
        status: Set(status),
        applied_by: Set(Some(who.user_id.to_string())),
        decided_by: Set((status == Status::Approved).then(|| who.user_id.to_string())),
        decided_at: Set((status == Status::Approved).then_some(now)),
        decision_reason: Set(None),
        created_at: Set(now),
        bureau: Set(new.bureau),
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        if unique_violation(&e) {
            OrgError::UsccTaken
        } else {
            e.into()
        }
    })?;
    let account =
        accounts::open_for_organization(&txn, &org.id, org.kind.account_kind(), now).await?;
    txn.commit().await?;
    Ok((org, account.id))
}

/// Government users and administrators decide pending applications; an
/// approved enterprise's applicant becomes its first operator.
pub async fn decide(
    db: &impl TransactionTrait,
    who: &Principal,
    org_id: &str,
    approve: bool,
    reason: Option<String>,
    now: DateTime<FixedOffset>,
) -> Result<organization::Model, OrgError> {
    if !(who.is_admin() || who.has_role(Role::Government)) {
        return Err(OrgError::Forbidden(
            "only government users and administrators decide applications",
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    find(&txn, org_id).await?;
    // Conditional on `pending`, so of two deciders at once one wins.
    let changed = organization::Entity::update_many()
        .col_expr(
            organization::Column::Status,
            Expr::value(if approve {
                Status::Approved
            } else {
                Status::Rejected
            }),
        )
        .col_expr(
            organization::Column::DecidedBy,
            Expr::value(who.user_id.as_str()),
        )
        .col_expr(organization::Column::DecidedAt, Expr::value(now))
        .col_expr(organization::Column::DecisionReason, Expr::value(reason))
        .filter(organization::Column::Id.eq(org_id))
        .filter(organization::Column::Status.eq(Status::Pending))
        .exec(&txn)
        .await?;
    let org = find(&txn, org_id).await?;
    if changed.rows_affected != 1 {
        return Err(OrgError::Conflict(
            ProblemCode::AlreadyDecided,
            format!("this application was already {}", status_word(org.status)),
        ));
    }
    if let Some(user) = &org.applied_by {
        if approve {
            insert_grant(
                &txn,
                user,
                org.kind.staff_role(),
                &org.id,
                &who.user_id,
                now,
            )
            .await?;
        }
        crate::notifications::notify(
            &txn,
            user,
            crate::notifications::NotificationKind::OrganizationDecided,
            serde_json::json!({
                "organization_id": org.id,
                "name": org.name,
                "status": org.status,
                "reason": org.decision_reason,
            }),
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(org)
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Pending => "pending",
        Status::Approved => "approved",
        Status::Rejected => "rejected",
    }
}

async fn find(db: &impl ConnectionTrait, org_id: &str) -> Result<organization::Model, OrgError> {
    organization::Entity::find_by_id(org_id.to_string())
        .one(db)
        .await?
        .ok_or(OrgError::NotFound)
}

/// Who may see an organisation: everyone signed in sees approved ones; a
/// pending or rejected application is seen by its applicant, its staff,
/// government users and administrators.
fn can_see(who: &Principal, org: &organization::Model) -> bool {
    org.status == Status::Approved
        || org.applied_by.as_deref() == Some(who.user_id.as_str())
        || who.acts_for(&org.id)
        || who.is_admin()
        || who.has_role(Role::Government)
}

/// The names of the organisations `ids`, by id, in one query: for lists
/// that show whom they are about (enterprises are not personal data).
pub async fn names<'a>(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = &'a str>,
) -> Result<std::collections::HashMap<String, String>, sea_orm::DbErr> {
    Ok(organization::Entity::find()
        .filter(organization::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect())
}

/// May `who` manage the organisation's members and staff roles?
pub fn manages(who: &Principal, org: &organization::Model) -> bool {
    who.is_admin() || who.has_role_in(org.kind.staff_role(), &org.id)
}

pub async fn get(
    db: &impl ConnectionTrait,
    who: &Principal,
    org_id: &str,
) -> Result<organization::Model, OrgError> {
    let org = find(db, org_id).await?;
    if can_see(who, &org) {
        Ok(org)
    } else {
        Err(OrgError::NotFound)
    }
}

/// A page of organisations by id; only government users and administrators
/// list applications that are not approved.
pub async fn list(
    db: &impl ConnectionTrait,
    who: &Principal,
    status: Status,
    starting_after: Option<&str>,
    limit: u64,
) -> Result<(Vec<organization::Model>, bool), OrgError> {
    if status != Status::Approved && !(who.is_admin() || who.has_role(Role::Government)) {
        return Err(OrgError::Forbidden(
            "only government users and administrators list applications",
        ));
    }
    Ok(pagination::fetch(
        db,
        organization::Entity::find().filter(organization::Column::Status.eq(status)),
        organization::Column::Id,
        Order::Ascending,
        starting_after,
        limit,
    )
    .await?)
}

/// The signed-in individual asks to join a department or an enterprise.
pub async fn request_membership(
    db: &impl ConnectionTrait,
    who: &Principal,
    org_id: &str,
    now: DateTime<FixedOffset>,
) -> Result<membership::Model, OrgError> {
    let org = get(db, who, org_id).await?;
    if org.status != Status::Approved || !org.kind.takes_members() {
        return Err(OrgError::Conflict(
            ProblemCode::NotJoinable,
            "only approved departments and enterprises take members".into(),
        ));
    }
    membership::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        organization_id: Set(org.id),
        user_id: Set(who.user_id.to_string()),
        status: Set(Status::Pending),
        requested_at: Set(now),
        decided_by: Set(None),
        decided_at: Set(None),
    }
    .insert(db)
    .await
    .map_err(|e| {
        if unique_violation(&e) {
            OrgError::Conflict(
                ProblemCode::AlreadyRequested,
                "you are a member of this organisation or have asked to join it".into(),
            )
        } else {
            e.into()
        }
    })
}

pub async fn memberships(
    db: &impl ConnectionTrait,
    who: &Principal,
    org_id: &str,
    status: Status,
    starting_after: Option<&str>,
    limit: u64,
) -> Result<(Vec<membership::Model>, bool), OrgError> {
    let org = get(db, who, org_id).await?;
    if !manages(who, &org) {
        return Err(OrgError::Forbidden(
            "only the organisation's staff and administrators see its members",
        ));
    }
    Ok(pagination::fetch(
        db,
        membership::Entity::find()
            .filter(membership::Column::OrganizationId.eq(org.id))
            .filter(membership::Column::Status.eq(status)),
        membership::Column::Id,
        Order::Ascending,
        starting_after,
        limit,
    )
    .await?)
}

pub async fn decide_membership(
    db: &(impl TransactionTrait + ConnectionTrait),
    who: &Principal,
    org_id: &str,
    membership_id: &str,
    approve: bool,
    now: DateTime<FixedOffset>,
) -> Result<membership::Model, OrgError> {
    // Refused before the write transaction, which would take SQLite's
    // write lock.
    let org = get(db, who, org_id).await?;
    if !manages(who, &org) {
        return Err(OrgError::Forbidden(
            "only the organisation's staff and administrators decide memberships",
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let find_it = || {
        membership::Entity::find_by_id(membership_id.to_string())
            .filter(membership::Column::OrganizationId.eq(org.id.as_str()))
            .one(&txn)
    };
    find_it().await?.ok_or(OrgError::NotFound)?;
    // Conditional on `pending`, so of two deciders at once one wins.
    let changed = membership::Entity::update_many()
        .col_expr(
            membership::Column::Status,
            Expr::value(if approve {
                Status::Approved
            } else {
                Status::Rejected
            }),
        )
        .col_expr(
            membership::Column::DecidedBy,
            Expr::value(who.user_id.as_str()),
        )
        .col_expr(membership::Column::DecidedAt, Expr::value(now))
        .filter(membership::Column::Id.eq(membership_id))
        .filter(membership::Column::Status.eq(Status::Pending))
        .exec(&txn)
        .await?;
    let m = find_it().await?.ok_or(OrgError::NotFound)?;
    if changed.rows_affected != 1 {
        return Err(OrgError::Conflict(
            ProblemCode::AlreadyDecided,
            format!("this request was already {}", status_word(m.status)),
        ));
    }
    crate::notifications::notify(
        &txn,
        &m.user_id,
        crate::notifications::NotificationKind::MembershipDecided,
        serde_json::json!({
            "organization_id": org.id,
            "membership_id": m.id,
            "status": m.status,
        }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(m)
}

async fn insert_grant(
    db: &impl ConnectionTrait,
    user_id: &str,
    role: Role,
    org_id: &str,
    by: &str,
    now: DateTime<FixedOffset>,
) -> Result<grant::Model, OrgError> {
    grant::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        user_id: Set(user_id.to_string()),
        role: Set(role),
        organization_id: Set(Some(org_id.to_string())),
        granted_by: Set(Some(by.to_string())),
        created_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => OrgError::Conflict(
            ProblemCode::AlreadyGranted,
            "the user already holds this role here".into(),
        ),
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => OrgError::Invalid {
            param: "user_id",
            detail: "no such user".into(),
        },
        _ => e.into(),
    })
}

/// Grants the organisation's staff role (e.g. `enterprise_operator` in an
/// enterprise) to a user. Administrators may grant it anywhere, staff in
/// their own organisation.
pub async fn grant_role(
    db: &impl ConnectionTrait,
    who: &Principal,
    org_id: &str,
    user_id: &str,
    role: Role,
    now: DateTime<FixedOffset>,
) -> Result<grant::Model, OrgError> {
    let org = get(db, who, org_id).await?;
    if !manages(who, &org) {
        return Err(OrgError::Forbidden(
            "only the organisation's staff and administrators grant its roles",
        ));
    }
    if role != org.kind.staff_role() {
        return Err(OrgError::Invalid {
            param: "role",
            detail: format!(
                "a {:?} grants only the role {:?}",
                org.kind,
                org.kind.staff_role()
            ),
        });
    }
    if org.status != Status::Approved {
        return Err(OrgError::Conflict(
            ProblemCode::NotApproved,
            "roles are granted in approved organisations only".into(),
        ));
    }
    insert_grant(db, user_id, role, &org.id, &who.user_id, now).await
}

/// The approved memberships of a user.
pub async fn memberships_of(
    db: &impl ConnectionTrait,
    user_id: &str,
) -> Result<Vec<membership::Model>, DbErr> {
    membership::Entity::find()
        .filter(membership::Column::UserId.eq(user_id))
        .filter(membership::Column::Status.eq(Status::Approved))
        .all(db)
        .await
}

/// Makes a user a platform administrator. Only the `tanpuhui admin create`
/// command calls this: no API grants `admin`.
pub async fn grant_admin(
    db: &impl ConnectionTrait,
    user_id: &str,
    now: DateTime<FixedOffset>,
) -> Result<grant::Model, DbErr> {
    grant::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        user_id: Set(user_id.to_string()),
        role: Set(Role::Admin),
        organization_id: Set(None),
        granted_by: Set(None),
        created_at: Set(now),
    }
    .insert(db)
    .await
}

/// The user ids of an organisation's approved members.
pub async fn approved_members(
    db: &impl ConnectionTrait,
    org_id: &str,
) -> Result<Vec<String>, DbErr> {
    Ok(membership::Entity::find()
        .filter(membership::Column::OrganizationId.eq(org_id))
        .filter(membership::Column::Status.eq(Status::Approved))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect())
}
