//! Partners' API keys: issued by an administrator to an approved
//! enterprise (the secret is shown once), listed and revoked by the
//! administrator or the partner's own operators; and the check of a signed
//! request (key, timestamp window, signature, unused nonce).

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set, SqlErr};

use super::entity::{key, nonce};
use super::signature::{self, WINDOW_SECS};
use crate::auth::extract::Principal;
use crate::crypto::{random, SealError, SecretBox};
use crate::orgs::entity::{organization, OrgKind, Status};
use crate::orgs::service::manages;
use crate::problem::ProblemCode;

/// The server's partner secrets key, when configured (app data).
#[derive(Debug, Default)]
pub struct PartnerSecrets(pub Option<SecretBox>);

impl PartnerSecrets {
    pub fn enabled(&self) -> Result<&SecretBox, PartnerError> {
        self.0.as_ref().ok_or(PartnerError::Disabled)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PartnerError {
    #[error("partner feeds are off on this server: TANPUHUI_PARTNER_SECRETS_KEY is not set")]
    Disabled,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    #[error("{detail}")]
    Conflict { code: ProblemCode, detail: String },
    #[error("{param}: {detail}")]
    Invalid { param: &'static str, detail: String },
    #[error("partner secret: {0}")]
    Sealing(#[from] SealError),
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

/// A new key and its secret, which is never shown again.
pub struct Issued {
    pub key: key::Model,
    pub secret: String,
}

async fn organization(
    db: &impl ConnectionTrait,
    org_id: &str,
) -> Result<organization::Model, PartnerError> {
    organization::Entity::find_by_id(org_id.to_string())
        .one(db)
        .await?
        .ok_or(PartnerError::NotFound)
}

/// The organisation, if `who` manages it; otherwise not found (ids cannot
/// be probed).
async fn managed(
    db: &impl ConnectionTrait,
    who: &Principal,
    org_id: &str,
) -> Result<organization::Model, PartnerError> {
    let org = organization(db, org_id).await?;
    if manages(who, &org) {
        Ok(org)
    } else {
        Err(PartnerError::NotFound)
    }
}

pub async fn issue(
    db: &impl ConnectionTrait,
    secrets: &PartnerSecrets,
    who: &Principal,
    org_id: &str,
    now: DateTime<FixedOffset>,
) -> Result<Issued, PartnerError> {
    if !who.is_admin() {
        return Err(PartnerError::Forbidden(
            "only administrators make organisations partners",
        ));
    }
    let sealer = secrets.enabled()?;
    let org = organization(db, org_id).await?;
    if org.kind != OrgKind::Enterprise || org.status != Status::Approved {
        return Err(PartnerError::Conflict {
            code: ProblemCode::NotAnApprovedEnterprise,
            detail:
                "partner keys are issued to approved enterprises (transit operators, bike-share)"
                    .into(),
        });
    }
    let id = format!("pk_{}", hex::encode(random::<12>()));
    let secret = format!("tphs_{}", hex::encode(random::<32>()));
    let row = key::Entity::insert(key::ActiveModel {
        id: Set(id.clone()),
        organization_id: Set(org.id),
        secret_sealed: Set(sealer.seal(&id, secret.as_bytes())),
        created_by: Set(who.user_id.to_string()),
        created_at: Set(now),
        revoked_at: Set(None),
    })
    .exec_with_returning(db)
    .await?;
    Ok(Issued { key: row, secret })
}

/// A page of the organisation's keys, in key-id order (never their
/// secrets; each says when it was made).
pub async fn list(
    db: &impl ConnectionTrait,
    who: &Principal,
    org_id: &str,
    after: Option<&str>,
    limit: u64,
) -> Result<(Vec<key::Model>, bool), PartnerError> {
    let org = managed(db, who, org_id).await?;
    Ok(crate::pagination::fetch(
        db,
        key::Entity::find().filter(key::Column::OrganizationId.eq(org.id)),
        key::Column::Id,
        crate::pagination::Order::Ascending,
        after,
        limit,
    )
    .await?)
}

/// Revokes a key at once; revoking it again changes nothing.
pub async fn revoke(
    db: &impl ConnectionTrait,
    who: &Principal,
    org_id: &str,
    key_id: &str,
    now: DateTime<FixedOffset>,
) -> Result<key::Model, PartnerError> {
    let org = managed(db, who, org_id).await?;
    key::Entity::update_many()
        .col_expr(key::Column::RevokedAt, Expr::value(now))
        .filter(key::Column::Id.eq(key_id))
        .filter(key::Column::OrganizationId.eq(org.id.as_str()))
        .filter(key::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    key::Entity::find_by_id(key_id.to_string())
        .filter(key::Column::OrganizationId.eq(org.id))
        .one(db)
        .await?
        .ok_or(PartnerError::NotFound)
}

/// Whether the organisation holds a key that is not revoked.
pub async fn is_partner(db: &impl ConnectionTrait, org_id: &str) -> Result<bool, DbErr> {
    Ok(key::Entity::find()
        .filter(key::Column::OrganizationId.eq(org_id))
        .filter(key::Column::RevokedAt.is_null())
        .one(db)
        .await?
        .is_some())
}

/// A request as signed: the four headers (when present) and what they sign.
pub struct Signed<'a> {
    pub key_id: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub signature: Option<&'a str>,
    pub method: &'a str,
    pub path: &'a str,
    pub body: &'a [u8],
}

/// Why a signed request was refused (401; logged with the key id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    MissingHeader(&'static str),
    UnknownKey,
    RevokedKey,
    BadTimestamp,
    StaleTimestamp,
    BadNonce,
    BadSignature,
    ReplayedNonce,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::MissingHeader(h) => write!(f, "the {h} header is missing"),
            Refusal::UnknownKey => f.write_str("unknown key"),
            Refusal::RevokedKey => f.write_str("the key is revoked"),
            Refusal::BadTimestamp => f.write_str("the timestamp is not Unix seconds"),
            Refusal::StaleTimestamp => write!(
                f,
                "the timestamp is more than {WINDOW_SECS} s from the server's clock"
            ),
            Refusal::BadNonce => f.write_str("the nonce must be 16 to 64 of [A-Za-z0-9_-]"),
            Refusal::BadSignature => f.write_str("the signature does not match"),
            Refusal::ReplayedNonce => f.write_str("this nonce was already used"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthFailure {
    #[error("{0}")]
    Refused(Refusal),
    #[error(transparent)]
    Partner(#[from] PartnerError),
}

impl From<DbErr> for AuthFailure {
    fn from(e: DbErr) -> Self {
        AuthFailure::Partner(e.into())
    }
}

/// The key a request is signed with, once every check passed. The nonce is
/// recorded last, so a forged request cannot use up a partner's nonces.
pub async fn authenticate<'a>(
    db: &impl ConnectionTrait,
    secrets: &PartnerSecrets,
    req: &Signed<'a>,
    now: DateTime<FixedOffset>,
) -> Result<key::Model, AuthFailure> {
    use AuthFailure::Refused;
    let sealer = secrets.enabled()?;
    let header =
        |v: Option<&'a str>, name: &'static str| v.ok_or(Refused(Refusal::MissingHeader(name)));
    let key_id = header(req.key_id, signature::KEY_HEADER)?;
    let timestamp = header(req.timestamp, signature::TIMESTAMP_HEADER)?;
    let nonce = header(req.nonce, signature::NONCE_HEADER)?;
    let given = header(req.signature, signature::SIGNATURE_HEADER)?;
    let key = key::Entity::find_by_id(key_id.to_string())
        .one(db)
        .await?
        .ok_or(Refused(Refusal::UnknownKey))?;
    if key.revoked_at.is_some_and(|at| at <= now) {
        return Err(Refused(Refusal::RevokedKey));
    }
    let seconds: i64 = timestamp
        .parse()
        .map_err(|_| Refused(Refusal::BadTimestamp))?;
    if (now.timestamp() - seconds).abs() > WINDOW_SECS {
        return Err(Refused(Refusal::StaleTimestamp));
    }
    if !signature::nonce_ok(nonce) {
        return Err(Refused(Refusal::BadNonce));
    }
    let secret = sealer
        .open(&key.id, &key.secret_sealed)
        .map_err(PartnerError::from)?;
    let canonical = signature::canonical(req.method, req.path, timestamp, nonce, req.body);
    if !signature::verify(&secret, &canonical, given) {
        return Err(Refused(Refusal::BadSignature));
    }
    nonce::Entity::insert(nonce::ActiveModel {
        key_id: Set(key.id.clone()),
        nonce: Set(nonce.to_string()),
        created_at: Set(now),
    })
    .exec_without_returning(db)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => Refused(Refusal::ReplayedNonce),
        _ => e.into(),
    })?;
    Ok(key)
}

/// Forgets nonces older than twice the window (a request that old is
/// refused by its timestamp); answers how many.
pub async fn purge_nonces(
    db: &impl ConnectionTrait,
    now: DateTime<FixedOffset>,
) -> Result<u64, DbErr> {
    let cutoff = now - chrono::Duration::seconds(2 * WINDOW_SECS);
    Ok(nonce::Entity::delete_many()
        .filter(nonce::Column::CreatedAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}
