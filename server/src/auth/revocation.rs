//! Whether an access token's sign-in has ended. The database is the record
//! (a sign-in is revoked when its refresh tokens are); the cache answers
//! for it only while it can vouch for the answer.
//!
//! The cache holds a flag per revoked sign-in, for as long as one of its
//! access tokens can live, and the marker [`MARKER`], set once the flags of
//! every revocation of that period are in. With the marker, a missing flag
//! means "not revoked". Without it (Redis flushed or restarted, the
//! process restarted, or Redis unreachable when a revocation happened, in
//! which case the marker is dropped as soon as Redis answers again) the
//! question goes to the database, and one background task puts the recent
//! revocations back and sets the marker. Losing the cache never brings a
//! logged-out token back.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect};

use super::refresh_entity::{self as tokens, Entity as Tokens};
use super::token::ACCESS_TTL_SECS;
use crate::cache::Cache;
use crate::clock::Timestamp;

/// Set while the cache holds the flag of every sign-in revoked within an
/// access token's lifetime.
pub const MARKER: &str = "revocations";

fn key(session_id: &str) -> String {
    format!("revoked-session:{session_id}")
}

/// How much longer the access tokens of a sign-in revoked at `revoked_at`
/// can live, if at all.
fn remaining(revoked_at: Timestamp, now: Timestamp) -> Option<Duration> {
    let left = ACCESS_TTL_SECS - (now - revoked_at).num_seconds();
    (left > 0).then(|| Duration::from_secs(left as u64))
}

/// Tells the cache that `session_id` was revoked at `revoked_at` (already
/// recorded in the database). A cache that cannot take the flag loses its
/// marker, so that its silence is no longer believed.
pub async fn announce(cache: &Cache, session_id: &str, revoked_at: Timestamp, now: Timestamp) {
    let Some(ttl) = remaining(revoked_at, now) else {
        return;
    };
    if let Err(e) = cache.set_flag(&key(session_id), ttl).await {
        // Unreachable: the marker goes when Redis answers again (every
        // replica drops markers after an outage). Reachable but refusing:
        // drop it now.
        let _ = cache.drop_marker(MARKER).await;
        tracing::warn!(error = %e, "revocation not cached; checks go to the database until the cache is rebuilt");
    }
}

/// The revocation check handed to the access-token extractor.
#[derive(Clone, Default)]
pub struct Revocations {
    rebuilding: Arc<AtomicBool>,
}

impl Revocations {
    /// Whether the sign-in `session_id` is revoked.
    pub async fn is_revoked(
        &self,
        db: &DatabaseConnection,
        cache: &Cache,
        session_id: &str,
        now: Timestamp,
    ) -> Result<bool, DbErr> {
        match cache.value_and_marker(&key(session_id), MARKER).await {
            Ok((Some(_), _)) => return Ok(true),
            Ok((None, true)) => return Ok(false),
            Ok((None, false)) => self.rebuild_in_background(db, cache, now),
            // Unreachable: the database answers.
            Err(_) => {}
        }
        revoked_in_database(db, session_id).await
    }

    fn rebuild_in_background(&self, db: &DatabaseConnection, cache: &Cache, now: Timestamp) {
        if self.rebuilding.swap(true, Ordering::AcqRel) {
            return;
        }
        let (db, cache, flag) = (db.clone(), cache.clone(), self.rebuilding.clone());
        tokio::spawn(async move {
            match rebuild(&db, &cache, now).await {
                Ok(n) => tracing::info!(revocations = n, "revocations put back in the cache"),
                Err(e) => {
                    tracing::warn!(error = %e, "revocations not put back in the cache; retrying on a later check")
                }
            }
            flag.store(false, Ordering::Release);
        });
    }
}

async fn revoked_in_database(db: &DatabaseConnection, session_id: &str) -> Result<bool, DbErr> {
    Ok(Tokens::find()
        .filter(tokens::Column::FamilyId.eq(session_id))
        .filter(tokens::Column::RevokedAt.is_not_null())
        .one(db)
        .await?
        .is_some())
}

/// Flags every sign-in revoked within an access token's lifetime, then
/// sets the marker; answers how many.
pub async fn rebuild(
    db: &DatabaseConnection,
    cache: &Cache,
    now: Timestamp,
) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
    let since = now - chrono::Duration::seconds(ACCESS_TTL_SECS);
    // One revocation updates every token of the family at once, so the
    // pairs are one per family.
    let revoked: Vec<(String, Option<Timestamp>)> = Tokens::find()
        .select_only()
        .column(tokens::Column::FamilyId)
        .column(tokens::Column::RevokedAt)
        .filter(tokens::Column::RevokedAt.gt(since))
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    let mut flagged = 0;
    for (family, at) in &revoked {
        if let Some(ttl) = at.and_then(|at| remaining(at, now)) {
            cache.set_flag(&key(family), ttl).await?;
            flagged += 1;
        }
    }
    cache.set_marker(MARKER).await?;
    Ok(flagged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_last_as_long_as_the_access_tokens() {
        let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap();
        let at = t("2026-11-29T10:00:00Z");
        assert_eq!(
            remaining(at, at),
            Some(Duration::from_secs(ACCESS_TTL_SECS as u64))
        );
        assert_eq!(
            remaining(at, t("2026-11-29T10:14:00Z")),
            Some(Duration::from_secs(60))
        );
        assert_eq!(remaining(at, t("2026-11-29T10:15:00Z")), None);
    }

    #[tokio::test]
    async fn a_cache_without_the_marker_is_not_believed() {
        let cache = Cache::memory();
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-29T10:00:00Z").unwrap();
        announce(&cache, "s1", now, now).await;
        assert_eq!(
            cache.value_and_marker(&key("s1"), MARKER).await.unwrap(),
            (Some("1".into()), false)
        );
        assert_eq!(
            cache.value_and_marker(&key("s2"), MARKER).await.unwrap(),
            (None, false),
            "silence without the marker means unknown"
        );
        cache.set_marker(MARKER).await.unwrap();
        assert!(cache.value_and_marker(&key("s2"), MARKER).await.unwrap().1);
    }
}
