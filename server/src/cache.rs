//! The one cache abstraction of DESIGN.md: rate-limit counters and
//! short-lived flags (revoked sign-ins), in Redis when a URL is configured
//! so every replica sees the same counts, in process otherwise. Nothing
//! whose loss would lose data lives here: the database stays the record
//! (a revoked sign-in is revoked there too; the cache only makes its access
//! tokens stop at once instead of at expiry).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;

use crate::config::Secret;

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    // The URL is never part of the message: it may carry a password.
    #[error("redis: {0}")]
    Redis(String),
    #[error("redis did not answer within {0:?}")]
    Timeout(Duration),
}

impl From<redis::RedisError> for CacheError {
    fn from(e: redis::RedisError) -> Self {
        CacheError::Redis(e.to_string())
    }
}

/// Redis calls give up after this long: a slow cache must not stall
/// requests.
const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub enum Cache {
    Memory(Arc<MemoryCache>),
    Redis(RedisCache),
}

#[derive(Clone)]
pub struct RedisCache {
    conn: ConnectionManager,
    prefix: String,
}

#[derive(Default)]
pub struct MemoryCache {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
    flags: Mutex<HashMap<String, Instant>>,
    /// Sorted sets: member → score per key.
    rankings: Mutex<HashMap<String, HashMap<String, i64>>>,
}

/// A sorted set's members by score, highest first (ties by member).
fn ranked(set: &HashMap<String, i64>) -> Vec<(String, i64)> {
    let mut all: Vec<(String, i64)> = set.iter().map(|(m, s)| (m.clone(), *s)).collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    all
}

/// Entries kept before finished windows and expired flags are swept, so
/// address scanning cannot grow memory without bound.
const MEMORY_SWEEP_AT: usize = 100_000;

async fn timed<T>(
    f: impl std::future::Future<Output = Result<T, redis::RedisError>>,
) -> Result<T, CacheError> {
    tokio::time::timeout(REDIS_TIMEOUT, f)
        .await
        .map_err(|_| CacheError::Timeout(REDIS_TIMEOUT))?
        .map_err(CacheError::from)
}

impl Cache {
    pub fn memory() -> Cache {
        Cache::Memory(Arc::default())
    }

    /// Redis at `url` (checked with a PING), or the in-process cache.
    pub async fn connect(url: Option<&Secret>, prefix: &str) -> Result<Cache, CacheError> {
        let Some(url) = url else {
            return Ok(Cache::memory());
        };
        let client = redis::Client::open(url.expose())?;
        let conn = timed(ConnectionManager::new(client)).await?;
        let cache = Cache::Redis(RedisCache {
            conn,
            prefix: prefix.to_string(),
        });
        cache.ping().await?;
        Ok(cache)
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Cache::Memory(_) => "memory",
            Cache::Redis(_) => "redis",
        }
    }

    /// Counts one hit on `key` in the current fixed window; `Some(retry
    /// after)` when that makes more than `limit`.
    pub async fn hit(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
    ) -> Result<Option<Duration>, CacheError> {
        match self {
            Cache::Memory(m) => Ok(m.hit(key, limit, window, Instant::now())),
            Cache::Redis(r) => {
                let key = format!("{}rl:{key}", r.prefix);
                let mut conn = r.conn.clone();
                // Create-with-expiry then increment, atomically: a counter
                // never outlives its window even if this process dies.
                let (count, ttl_ms): (u64, i64) = timed(
                    redis::pipe()
                        .atomic()
                        .cmd("SET")
                        .arg(&key)
                        .arg(0)
                        .arg("PX")
                        .arg(window.as_millis() as u64)
                        .arg("NX")
                        .ignore()
                        .cmd("INCR")
                        .arg(&key)
                        .cmd("PTTL")
                        .arg(&key)
                        .query_async(&mut conn),
                )
                .await?;
                Ok((count > u64::from(limit)).then(|| Duration::from_millis(ttl_ms.max(0) as u64)))
            }
        }
    }

    /// Sets `key` for `ttl`.
    pub async fn set_flag(&self, key: &str, ttl: Duration) -> Result<(), CacheError> {
        match self {
            Cache::Memory(m) => {
                let mut flags = m.flags.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                if flags.len() > MEMORY_SWEEP_AT {
                    flags.retain(|_, until| *until > now);
                }
                flags.insert(key.to_string(), now + ttl);
                Ok(())
            }
            Cache::Redis(r) => {
                let mut conn = r.conn.clone();
                timed(
                    redis::cmd("SET")
                        .arg(format!("{}flag:{key}", r.prefix))
                        .arg(1)
                        .arg("PX")
                        .arg(ttl.as_millis().max(1) as u64)
                        .query_async::<()>(&mut conn),
                )
                .await
            }
        }
    }

    /// Whether `key` is set and not expired.
    pub async fn has_flag(&self, key: &str) -> Result<bool, CacheError> {
        match self {
            Cache::Memory(m) => {
                let flags = m.flags.lock().unwrap_or_else(|p| p.into_inner());
                Ok(flags.get(key).is_some_and(|until| *until > Instant::now()))
            }
            Cache::Redis(r) => {
                let mut conn = r.conn.clone();
                timed(
                    redis::cmd("EXISTS")
                        .arg(format!("{}flag:{key}", r.prefix))
                        .query_async::<bool>(&mut conn),
                )
                .await
            }
        }
    }

    /// Adds `delta` to `member`'s score in the sorted set `key`.
    pub async fn rank_add(&self, key: &str, member: &str, delta: i64) -> Result<(), CacheError> {
        match self {
            Cache::Memory(m) => {
                let mut sets = m.rankings.lock().unwrap_or_else(|p| p.into_inner());
                *sets
                    .entry(key.to_string())
                    .or_default()
                    .entry(member.to_string())
                    .or_default() += delta;
                Ok(())
            }
            Cache::Redis(r) => {
                let mut conn = r.conn.clone();
                timed(
                    redis::cmd("ZINCRBY")
                        .arg(format!("{}rank:{key}", r.prefix))
                        .arg(delta)
                        .arg(member)
                        .query_async::<f64>(&mut conn),
                )
                .await?;
                Ok(())
            }
        }
    }

    /// Replaces the sorted set `key` with `entries` at once.
    pub async fn rank_replace(
        &self,
        key: &str,
        entries: &[(String, i64)],
    ) -> Result<(), CacheError> {
        match self {
            Cache::Memory(m) => {
                let mut sets = m.rankings.lock().unwrap_or_else(|p| p.into_inner());
                sets.insert(key.to_string(), entries.iter().cloned().collect());
                Ok(())
            }
            Cache::Redis(r) => {
                let mut conn = r.conn.clone();
                let key = format!("{}rank:{key}", r.prefix);
                let mut pipe = redis::pipe();
                pipe.atomic().cmd("DEL").arg(&key).ignore();
                if !entries.is_empty() {
                    let cmd = pipe.cmd("ZADD").arg(&key);
                    for (member, score) in entries {
                        cmd.arg(*score).arg(member);
                    }
                    cmd.ignore();
                }
                timed(pipe.query_async::<()>(&mut conn)).await
            }
        }
    }

    /// The first `n` members by score, highest first (ties in no set order).
    pub async fn rank_top(&self, key: &str, n: usize) -> Result<Vec<(String, i64)>, CacheError> {
        match self {
            Cache::Memory(m) => {
                let sets = m.rankings.lock().unwrap_or_else(|p| p.into_inner());
                let mut all = sets.get(key).map(ranked).unwrap_or_default();
                all.truncate(n);
                Ok(all)
            }
            Cache::Redis(r) => {
                let mut conn = r.conn.clone();
                let flat: Vec<(String, f64)> = timed(
                    redis::cmd("ZRANGE")
                        .arg(format!("{}rank:{key}", r.prefix))
                        .arg(0)
                        .arg(n.saturating_sub(1) as i64)
                        .arg("REV")
                        .arg("WITHSCORES")
                        .query_async(&mut conn),
                )
                .await?;
                Ok(flat.into_iter().map(|(m, s)| (m, s as i64)).collect())
            }
        }
    }

    /// `member`'s 0-based rank (highest score first) and score.
    pub async fn rank_of(&self, key: &str, member: &str) -> Result<Option<(u64, i64)>, CacheError> {
        match self {
            Cache::Memory(m) => {
                let sets = m.rankings.lock().unwrap_or_else(|p| p.into_inner());
                Ok(sets.get(key).and_then(|set| {
                    ranked(set)
                        .iter()
                        .position(|(m, _)| m == member)
                        .map(|i| (i as u64, set[member]))
                }))
            }
            Cache::Redis(r) => {
                let mut conn = r.conn.clone();
                let key = format!("{}rank:{key}", r.prefix);
                let (rank, score): (Option<u64>, Option<f64>) = timed(
                    redis::pipe()
                        .cmd("ZREVRANK")
                        .arg(&key)
                        .arg(member)
                        .cmd("ZSCORE")
                        .arg(&key)
                        .arg(member)
                        .query_async(&mut conn),
                )
                .await?;
                Ok(rank.zip(score).map(|(r, s)| (r, s as i64)))
            }
        }
    }

    /// Readiness: Redis answers (the in-process cache always does).
    pub async fn ping(&self) -> Result<(), CacheError> {
        match self {
            Cache::Memory(_) => Ok(()),
            Cache::Redis(r) => {
                let mut conn = r.conn.clone();
                timed(redis::cmd("PING").query_async::<String>(&mut conn)).await?;
                Ok(())
            }
        }
    }
}

impl MemoryCache {
    fn hit(&self, key: &str, limit: u32, window: Duration, now: Instant) -> Option<Duration> {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() > MEMORY_SWEEP_AT {
            windows.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = windows.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        (entry.1 > limit).then(|| window.saturating_sub(now.duration_since(entry.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_windows_count_and_reset() {
        let c = MemoryCache::default();
        let w = Duration::from_secs(60);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(c.hit("a", 3, w, t0), None);
        }
        let retry = c.hit("a", 3, w, t0 + Duration::from_secs(20)).unwrap();
        assert_eq!(retry.as_secs(), 40);
        assert_eq!(c.hit("b", 3, w, t0), None, "keys are independent");
        assert_eq!(c.hit("a", 3, w, t0 + w), None, "a new window starts over");
    }

    #[tokio::test]
    async fn memory_flags_expire() {
        let c = Cache::memory();
        c.set_flag("x", Duration::from_millis(50)).await.unwrap();
        assert!(c.has_flag("x").await.unwrap());
        assert!(!c.has_flag("y").await.unwrap());
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert!(!c.has_flag("x").await.unwrap());
    }
}
