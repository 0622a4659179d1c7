//! Rotating refresh tokens. Each sign-in starts a family; each refresh uses
//! the presented token once and issues its successor in the same family.
//! Presenting a token that was already used means it leaked: the whole
//! family is revoked, the thief's and the owner's tokens alike.

use chrono::{DateTime, Duration, FixedOffset};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use super::refresh_entity::{self as tokens, Entity as Tokens};
use super::service::AuthError;
use crate::cache::Cache;

pub const REFRESH_TTL_DAYS: i64 = 30;

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> String {
    hex::encode(super::token::random_bytes())
}

async fn insert(
    db: &DatabaseConnection,
    user_id: &str,
    family_id: &str,
    now: DateTime<FixedOffset>,
) -> Result<String, AuthError> {
    let token = new_token();
    tokens::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        user_id: Set(user_id.to_string()),
        family_id: Set(family_id.to_string()),
        token_hash: Set(digest(&token)),
        created_at: Set(now),
        expires_at: Set(now + Duration::days(REFRESH_TTL_DAYS)),
        used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// A sign-in: its id (carried by its access tokens as `sid`) and current
/// refresh token.
pub struct Session {
    pub user_id: String,
    pub id: String,
    pub refresh_token: String,
}

/// The first refresh token of a new sign-in.
pub async fn start_family(
    db: &DatabaseConnection,
    user_id: &str,
    now: DateTime<FixedOffset>,
) -> Result<Session, AuthError> {
    let id = uuid::Uuid::new_v4().to_string();
    let refresh_token = insert(db, user_id, &id, now).await?;
    Ok(Session {
        user_id: user_id.to_string(),
        id,
        refresh_token,
    })
}

/// Ends a sign-in: its refresh tokens in the database (the record), and
/// its access tokens at once through the cache.
async fn revoke_family(
    db: &DatabaseConnection,
    cache: &Cache,
    family_id: &str,
    now: DateTime<FixedOffset>,
) -> Result<(), AuthError> {
    Tokens::update_many()
        .col_expr(tokens::Column::RevokedAt, Expr::value(now))
        .filter(tokens::Column::FamilyId.eq(family_id))
        .filter(tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    super::revocation::announce(cache, family_id, now, now).await;
    Ok(())
}

/// Uses `token` once: returns the sign-in with the successor token.
pub async fn rotate(
    db: &DatabaseConnection,
    cache: &Cache,
    token: &str,
    now: DateTime<FixedOffset>,
) -> Result<Session, AuthError> {
    let row = Tokens::find()
        .filter(tokens::Column::TokenHash.eq(digest(token)))
        .one(db)
        .await?
        .ok_or(AuthError::InvalidToken)?;
    if row.revoked_at.is_some() || row.expires_at <= now {
        return Err(AuthError::InvalidToken);
    }
    // Claim the token with a conditional update: of concurrent refreshes with
    // the same token exactly one sees a row change.
    let claimed = Tokens::update_many()
        .col_expr(tokens::Column::UsedAt, Expr::value(now))
        .filter(tokens::Column::Id.eq(row.id.as_str()))
        .filter(tokens::Column::UsedAt.is_null())
        .filter(tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    if claimed.rows_affected != 1 {
        revoke_family(db, cache, &row.family_id, now).await?;
        tracing::warn!(user_id = %row.user_id, "refresh token reused; token family revoked");
        return Err(AuthError::TokenReused);
    }
    let next = insert(db, &row.user_id, &row.family_id, now).await?;
    Ok(Session {
        user_id: row.user_id,
        id: row.family_id,
        refresh_token: next,
    })
}

/// Ends the sign-in the token belongs to. Unknown tokens are ignored so
/// that logout can be retried safely.
pub async fn logout(
    db: &DatabaseConnection,
    cache: &Cache,
    token: &str,
    now: DateTime<FixedOffset>,
) -> Result<(), AuthError> {
    if let Some(row) = Tokens::find()
        .filter(tokens::Column::TokenHash.eq(digest(token)))
        .one(db)
        .await?
    {
        revoke_family(db, cache, &row.family_id, now).await?;
    }
    Ok(())
}
