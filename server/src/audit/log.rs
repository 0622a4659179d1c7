//! Appending events. A leaf is canonical JSON (keys sorted, no spaces):
//! `{"at":…,"body":…,"kind":…,"v":1}`. Leaves are public and permanent, so
//! nothing that identifies a person goes in clear: a personal account, and
//! any reference that could name one, appears as a commitment
//! `SHA-256("tanpuhui-commitment\0" ‖ salt ‖ text)` under a salt fresh for
//! each event and kept out of the leaf. Two events of one person cannot be
//! linked from the log; the salt (held by the server) opens a commitment
//! for the person or an auditor.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use sea_orm::{ActiveValue::NotSet, ConnectionTrait, DbErr, EntityTrait, Set};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::entity::event;

/// Leaf format version.
pub const LEAF_VERSION: u64 = 1;

/// An event's salt and the commitments made under it.
pub struct Salt([u8; 16]);

impl Salt {
    pub fn fresh() -> Salt {
        Salt(crate::crypto::random::<16>())
    }

    pub fn commit(&self, text: &str) -> String {
        let mut h = Sha256::new();
        h.update(b"tanpuhui-commitment\0");
        h.update(self.0);
        h.update(text.as_bytes());
        hex::encode(h.finalize())
    }

    fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// The leaf bytes of an event.
pub fn leaf(kind: &str, body: Value, at: DateTime<FixedOffset>) -> String {
    let value = json!({
        "v": LEAF_VERSION,
        "kind": kind,
        "at": at.with_timezone(&Utc).to_rfc3339_opts(SecondsFormat::Millis, true),
        "body": body,
    });
    // serde_json's maps are ordered by key: the text is canonical.
    value.to_string()
}

/// Appends an event in the caller's transaction; the sealer gives it a leaf
/// index once that transaction has committed. `salt` is the salt of the
/// commitments in `body`, if any.
pub async fn append(
    db: &impl ConnectionTrait,
    kind: &str,
    body: Value,
    salt: Option<&Salt>,
    at: DateTime<FixedOffset>,
) -> Result<i64, DbErr> {
    let res = event::Entity::insert(row(kind, body, salt, at))
        .exec(db)
        .await?;
    Ok(res.last_insert_id)
}

/// An event's row as [`append`] writes it, for a caller that writes many
/// in one statement.
pub fn row(
    kind: &str,
    body: Value,
    salt: Option<&Salt>,
    at: DateTime<FixedOffset>,
) -> event::ActiveModel {
    event::ActiveModel {
        id: NotSet,
        kind: Set(kind.to_string()),
        leaf: Set(leaf(kind, body, at)),
        salt: Set(salt.map(Salt::hex)),
        leaf_index: Set(None),
        created_at: Set(at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_are_canonical_json() {
        let at = DateTime::parse_from_rfc3339("2026-11-28T08:00:00+08:00").unwrap();
        let text = leaf("ledger", json!({"z": 1, "a": [2, "x"]}), at);
        assert_eq!(
            text,
            r#"{"at":"2026-11-28T00:00:00.000Z","body":{"a":[2,"x"],"z":1},"kind":"ledger","v":1}"#
        );
    }

    #[test]
    fn commitments_differ_per_salt_and_text() {
        let (a, b) = (Salt::fresh(), Salt::fresh());
        assert_ne!(a.commit("acct"), b.commit("acct"));
        assert_ne!(a.commit("acct"), a.commit("acct2"));
        assert_eq!(a.commit("acct"), a.commit("acct"));
        assert_eq!(a.commit("acct").len(), 64);
    }
}
