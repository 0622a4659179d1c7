//! Monthly leaderboards of credited grams: everyone, or one department's or
//! enterprise's members. Kept as sorted sets in the cache (Redis when
//! configured, in process otherwise) and derived from the database: a board
//! missing from the cache (first use after start, a Redis restart) is
//! rebuilt from the trips before it is read, and an administrator can
//! rebuild one on demand. Credits add to boards that are already built.
//! A person who opts out is still ranked, shown as anonymous.

use std::collections::HashMap;
use std::time::Duration;

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use serde::Serialize;
use utoipa::ToSchema;

use super::entity::trip;
use super::rules::TripStatus;
use super::summary::Period;
use crate::auth::entity as users;
use crate::auth::extract::Principal;
use crate::cache::{Cache, CacheError};
use crate::orgs::service::{approved_members, memberships_of};

/// How long a built board is trusted before it is rebuilt from the database.
const BUILT_FOR: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Organization(String),
}

fn key(period: &Period, scope: &Scope) -> String {
    match scope {
        Scope::All => format!("lb:{}:all", period.as_str()),
        Scope::Organization(id) => format!("lb:{}:org:{id}", period.as_str()),
    }
}

fn built_key(key: &str) -> String {
    format!("{key}:built")
}

#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    #[error("only the organisation's members and staff see its leaderboard")]
    Forbidden,
    #[error("cache: {0}")]
    Cache(#[from] CacheError),
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

/// Adds a credited trip to the boards it counts on (everyone, and each
/// organisation the person is a member of) that are built. Failures are
/// logged: the boards are derived data, rebuilt from the trips.
pub async fn record_credit(
    db: &impl ConnectionTrait,
    cache: &Cache,
    user_id: &crate::ids::UserId,
    local_day: &str,
    grams: i64,
) {
    let Some(period) = local_day.get(..7).and_then(Period::parse) else {
        return;
    };
    let orgs = match memberships_of(db, user_id).await {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(error = %e, "leaderboards not updated");
            return;
        }
    };
    let scopes = std::iter::once(Scope::All).chain(
        orgs.into_iter()
            .map(|m| Scope::Organization(m.organization_id)),
    );
    for scope in scopes {
        let key = key(&period, &scope);
        let result = async {
            if cache.has_flag(&built_key(&key)).await? {
                cache.rank_add(&key, user_id, grams).await?;
            }
            Ok::<(), CacheError>(())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "leaderboard not updated; it will be rebuilt");
        }
    }
}

/// Recomputes a board from the credited trips of the period.
pub async fn rebuild(
    db: &impl ConnectionTrait,
    cache: &Cache,
    period: &Period,
    scope: &Scope,
) -> Result<(), BoardError> {
    let mut query = trip::Entity::find()
        .filter(trip::Column::Status.eq(TripStatus::Credited.as_str()))
        .filter(trip::Column::LocalDay.starts_with(format!("{}-", period.as_str())));
    if let Scope::Organization(org) = scope {
        let members = approved_members(db, org).await?;
        query = query.filter(trip::Column::UserId.is_in(members));
    }
    let mut totals: HashMap<String, i64> = HashMap::new();
    for t in query.all(db).await? {
        *totals.entry(t.user_id).or_default() += t.credited_g;
    }
    let key = key(period, scope);
    let entries: Vec<(String, i64)> = totals.into_iter().collect();
    cache.rank_replace(&key, &entries).await?;
    cache.set_flag(&built_key(&key), BUILT_FOR).await?;
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BoardEntry {
    /// 1 is first.
    pub rank: u64,
    /// Masked login (`li***@example.cn`, `138****8000`), or `anonymous`.
    pub name: String,
    /// Credited grams in the period (integer string).
    pub credited_g: String,
    /// This entry is the caller.
    pub you: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Board {
    pub period: String,
    /// `all` or `organization`.
    pub scope: String,
    pub entries: Vec<BoardEntry>,
    /// The caller's place, when they have credited trips in the period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub you: Option<BoardEntry>,
}

/// How a person is shown.
fn display(user: Option<&users::Model>) -> String {
    match user {
        Some(u) if !u.leaderboard_opt_out => {
            if let Some((local, domain)) = u.email.as_deref().and_then(|e| e.split_once('@')) {
                let shown: String = local.chars().take(2).collect();
                format!("{shown}***@{domain}")
            } else if let Some(m) = u.mobile.as_deref().filter(|m| m.len() == 11) {
                format!("{}****{}", &m[..3], &m[7..])
            } else {
                "anonymous".into()
            }
        }
        _ => "anonymous".into(),
    }
}

/// An organisation's board is for its approved members, its staff and
/// administrators; everyone signed in sees the board of all.
async fn may_see(db: &impl ConnectionTrait, who: &Principal, scope: &Scope) -> Result<bool, DbErr> {
    let Scope::Organization(org) = scope else {
        return Ok(true);
    };
    if who.acts_for(org) || who.is_admin() {
        return Ok(true);
    }
    Ok(memberships_of(db, &who.user_id)
        .await?
        .iter()
        .any(|m| &m.organization_id == org))
}

pub async fn board(
    db: &impl ConnectionTrait,
    cache: &Cache,
    who: &Principal,
    period: &Period,
    scope: &Scope,
    limit: usize,
) -> Result<Board, BoardError> {
    if !may_see(db, who, scope).await? {
        return Err(BoardError::Forbidden);
    }
    let caller = who.user_id.as_str();
    let key = key(period, scope);
    if !cache.has_flag(&built_key(&key)).await? {
        rebuild(db, cache, period, scope).await?;
    }
    let top = cache.rank_top(&key, limit).await?;
    let mut ids: Vec<String> = top.iter().map(|(m, _)| m.clone()).collect();
    ids.push(caller.to_string());
    let people: HashMap<String, users::Model> = users::Entity::find()
        .filter(users::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id.clone(), u))
        .collect();
    let entry = |rank: u64, id: &str, grams: i64| BoardEntry {
        rank,
        name: display(people.get(id)),
        credited_g: grams.to_string(),
        you: id == caller,
    };
    let entries = top
        .iter()
        .enumerate()
        .map(|(i, (id, g))| entry(i as u64 + 1, id, *g))
        .collect();
    let you = cache
        .rank_of(&key, caller)
        .await?
        .map(|(r, g)| entry(r + 1, caller, g));
    Ok(Board {
        period: period.as_str().to_string(),
        scope: match scope {
            Scope::All => "all".into(),
            Scope::Organization(_) => "organization".into(),
        },
        entries,
        you,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(email: Option<&str>, mobile: Option<&str>, opt_out: bool) -> users::Model {
        users::Model {
            id: "u".into(),
            email: email.map(str::to_string),
            mobile: mobile.map(str::to_string),
            password_hash: String::new(),
            created_at: chrono::Utc::now().fixed_offset(),
            leaderboard_opt_out: opt_out,
        }
    }

    #[test]
    fn names_are_masked_or_anonymous() {
        assert_eq!(
            display(Some(&user(Some("li.ming@example.cn"), None, false))),
            "li***@example.cn"
        );
        assert_eq!(
            display(Some(&user(None, Some("13800138000"), false))),
            "138****8000"
        );
        assert_eq!(
            display(Some(&user(Some("li.ming@example.cn"), None, true))),
            "anonymous"
        );
        assert_eq!(display(None), "anonymous");
    }
}
