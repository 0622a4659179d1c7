//! Rotating refresh tokens. Each sign-in starts a family; each refresh uses
//! the presented token once and issues its successor in the same family.
//! Presenting a token that was already used means it leaked: the whole
//! family is revoked, the thief's and the owner's tokens alike.

use chrono::{DateTime, Duration, FixedOffset};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};
use sha2::{Digest, Sha256};

use super::refresh_entity::{self as tokens, Entity as Tokens};
use super::service::AuthError;
use crate::cache::Cache;
use crate::crypto::SecretBox;

pub const REFRESH_TTL_DAYS: i64 = 30;

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> String {
    hex::encode(crate::crypto::random::<32>())
}

async fn insert(
    db: &impl ConnectionTrait,
    user_id: &str,
    family_id: &str,
    token: &str,
    now: DateTime<FixedOffset>,
) -> Result<(), AuthError> {
    tokens::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        user_id: Set(user_id.to_string()),
        family_id: Set(family_id.to_string()),
        token_hash: Set(digest(token)),
        created_at: Set(now),
        expires_at: Set(now + Duration::days(REFRESH_TTL_DAYS)),
        used_at: Set(None),
        revoked_at: Set(None),
        successor_sealed: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
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
    let refresh_token = new_token();
    insert(db, user_id, &id, &refresh_token, now).await?;
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

/// How long a used refresh token may be presented again and get the same
/// successor (`refresh_grace_secs`): a phone that lost the answer retries.
#[derive(Debug, Clone, Copy)]
pub struct RefreshGrace(pub std::time::Duration);

/// The key that seals a token's successor: derived from the used token
/// (256 random bits), so only whoever holds it can open the successor and
/// the database holds nothing usable.
fn successor_box(token: &str) -> SecretBox {
    let mut h = Sha256::new();
    h.update(b"tanpuhui refresh successor\0");
    h.update(token.as_bytes());
    SecretBox::from_key(h.finalize().into())
}

/// Uses `token` once: returns the sign-in with the successor token. The
/// same token presented again within `grace` of its use gets the same
/// successor, unless that successor was used in turn (then the client had
/// its answer, and this is a replay). Any other reuse means the token
/// leaked: the whole sign-in is revoked.
pub async fn rotate(
    db: &DatabaseConnection,
    cache: &Cache,
    token: &str,
    grace: RefreshGrace,
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
    let row = if row.used_at.is_none() {
        let next = new_token();
        let sealed = successor_box(token).seal(&row.family_id, next.as_bytes());
        let txn = crate::db::begin_write(db).await?;
        // Claim the token with a conditional update: of concurrent refreshes
        // with the same token exactly one sees a row change.
        let claimed = Tokens::update_many()
            .col_expr(tokens::Column::UsedAt, Expr::value(now))
            .col_expr(tokens::Column::SuccessorSealed, Expr::value(sealed))
            .filter(tokens::Column::Id.eq(row.id.as_str()))
            .filter(tokens::Column::UsedAt.is_null())
            .filter(tokens::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        if claimed.rows_affected == 1 {
            insert(&txn, &row.user_id, &row.family_id, &next, now).await?;
            txn.commit().await?;
            return Ok(Session {
                user_id: row.user_id,
                id: row.family_id,
                refresh_token: next,
            });
        }
        txn.rollback().await?;
        // Another request used it first: answer as its retry would be.
        Tokens::find_by_id(row.id.clone())
            .one(db)
            .await?
            .ok_or(AuthError::InvalidToken)?
    } else {
        row
    };
    if let Some(next) = retry_answer(db, &row, token, grace, now).await? {
        return Ok(Session {
            user_id: row.user_id,
            id: row.family_id,
            refresh_token: next,
        });
    }
    revoke_family(db, cache, &row.family_id, now).await?;
    tracing::warn!(user_id = %row.user_id, "refresh token reused; token family revoked");
    Err(AuthError::TokenReused)
}

/// The successor of a used token, when presenting it again is a retry:
/// within the grace period of its use, and the successor itself unused
/// and not revoked.
async fn retry_answer(
    db: &DatabaseConnection,
    row: &tokens::Model,
    token: &str,
    grace: RefreshGrace,
    now: DateTime<FixedOffset>,
) -> Result<Option<String>, AuthError> {
    let (Some(used_at), Some(sealed)) = (row.used_at, row.successor_sealed.as_deref()) else {
        return Ok(None);
    };
    let within = chrono::Duration::from_std(grace.0).unwrap_or_default();
    if grace.0.is_zero() || row.revoked_at.is_some() || now > used_at + within {
        return Ok(None);
    }
    let Ok(next) = successor_box(token).open(&row.family_id, sealed) else {
        return Ok(None);
    };
    let next = String::from_utf8(next).map_err(|_| AuthError::InvalidToken)?;
    let successor = Tokens::find()
        .filter(tokens::Column::TokenHash.eq(digest(&next)))
        .one(db)
        .await?;
    Ok(successor
        .filter(|s| s.used_at.is_none() && s.revoked_at.is_none())
        .map(|_| next))
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
