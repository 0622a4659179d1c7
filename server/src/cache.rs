//! The one cache abstraction of DESIGN.md: rate-limit counters, short-lived
//! values (the state of sign-ins) and rankings, in Redis when a URL is
//! configured so every replica sees the same counts, in process otherwise.
//! Nothing whose loss would lose data lives here: the database stays the
//! record (a revoked sign-in is revoked there; the cache only saves a
//! database read per request).
//!
//! The cache fails open, and fast: a Redis call that times out or loses its
//! connection opens a circuit breaker, after which calls fail at once
//! (callers carry on without the cache) while a background task pings Redis
//! every `redis_probe_interval_ms` and closes the breaker when it answers.
//!
//! *Markers* say "this cache holds every item of a kind" (every recent
//! revocation, say), so that a missing item means "none" rather than
//! "unknown". A cache that lost its data has lost its markers too; and a
//! replica whose Redis was unreachable (so some of its writes may be
//! missing) drops every marker when Redis answers again, before using it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// The breaker is open: Redis failed recently and is being probed.
    #[error("redis is unreachable (failing open until a probe succeeds)")]
    Down,
}

impl From<redis::RedisError> for CacheError {
    fn from(e: redis::RedisError) -> Self {
        CacheError::Redis(e.to_string())
    }
}

/// How the server talks to Redis (`redis_timeout_ms`,
/// `redis_probe_interval_ms` in the configuration).
#[derive(Debug, Clone, Copy)]
pub struct RedisTiming {
    /// A call gives up after this long, and opens the breaker.
    pub timeout: Duration,
    /// While the breaker is open, Redis is pinged this often.
    pub probe_interval: Duration,
}

impl Default for RedisTiming {
    fn default() -> Self {
        RedisTiming {
            timeout: Duration::from_millis(crate::config::DEFAULT_REDIS_TIMEOUT_MS),
            probe_interval: Duration::from_millis(crate::config::DEFAULT_REDIS_PROBE_INTERVAL_MS),
        }
    }
}

#[derive(Clone)]
pub enum Cache {
    Memory(Arc<MemoryCache>),
    Redis(RedisCache),
}

#[derive(Clone)]
pub struct RedisCache {
    conn: ConnectionManager,
    prefix: String,
    timing: RedisTiming,
    breaker: Arc<Breaker>,
}

/// Open while Redis is believed down; one prober at a time.
#[derive(Default)]
struct Breaker {
    open: AtomicBool,
    probing: AtomicBool,
}

#[derive(Default)]
pub struct MemoryCache {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
    values: Mutex<HashMap<String, (Instant, String)>>,
    markers: Mutex<std::collections::HashSet<String>>,
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

/// Errors that say Redis cannot be reached (as opposed to a command that
/// Redis refused).
fn unreachable(e: &redis::RedisError) -> bool {
    e.is_io_error() || e.is_connection_refusal() || e.is_connection_dropped() || e.is_timeout()
}

impl RedisCache {
    /// Runs one call, unless the breaker is open; a timeout or a lost
    /// connection opens it and starts the prober.
    async fn run<T>(
        &self,
        f: impl std::future::Future<Output = Result<T, redis::RedisError>>,
    ) -> Result<T, CacheError> {
        if self.breaker.open.load(Ordering::Acquire) {
            return Err(CacheError::Down);
        }
        let result = match tokio::time::timeout(self.timing.timeout, f).await {
            Err(_) => Err((CacheError::Timeout(self.timing.timeout), true)),
            Ok(Err(e)) => {
                let down = unreachable(&e);
                Err((CacheError::from(e), down))
            }
            Ok(Ok(v)) => Ok(v),
        };
        result.map_err(|(e, down)| {
            if down {
                self.trip(&e);
            }
            e
        })
    }

    fn markers_key(&self) -> String {
        format!("{}markers", self.prefix)
    }

    fn trip(&self, cause: &CacheError) {
        if !self.breaker.open.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                error = %cause,
                probe_every_ms = self.timing.probe_interval.as_millis() as u64,
                "redis unreachable: failing open (limits unchecked, sign-in states read from the database) until it answers again"
            );
        }
        if self.breaker.probing.swap(true, Ordering::AcqRel) {
            return;
        }
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(me.timing.probe_interval).await;
                let mut conn = me.conn.clone();
                // Writes of this replica may have been lost while Redis was
                // unreachable: no marker vouches for completeness any more.
                let mut drop = redis::cmd("DEL");
                let answer = drop.arg(me.markers_key()).query_async::<i64>(&mut conn);
                if let Ok(Ok(_)) = tokio::time::timeout(me.timing.timeout, answer).await {
                    me.breaker.open.store(false, Ordering::Release);
                    me.breaker.probing.store(false, Ordering::Release);
                    tracing::info!("redis answers again: cache back in use");
                    return;
                }
            }
        });
    }
}

impl Cache {
    pub fn memory() -> Cache {
        Cache::Memory(Arc::default())
    }

    /// Redis at `url` (checked with a PING), or the in-process cache.
    pub async fn connect(
        url: Option<&Secret>,
        prefix: &str,
        timing: RedisTiming,
    ) -> Result<Cache, CacheError> {
        let Some(url) = url else {
            return Ok(Cache::memory());
        };
        let client = redis::Client::open(url.expose())?;
        let conn = tokio::time::timeout(timing.timeout, ConnectionManager::new(client))
            .await
            .map_err(|_| CacheError::Timeout(timing.timeout))??;
        let cache = Cache::Redis(RedisCache {
            conn,
            prefix: prefix.to_string(),
            timing,
            breaker: Arc::default(),
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
                let (count, ttl_ms): (u64, i64) = r
                    .run(
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

    /// Sets `key` to `value` for `ttl`.
    pub async fn set_value(&self, key: &str, value: &str, ttl: Duration) -> Result<(), CacheError> {
        match self {
            Cache::Memory(m) => {
                let mut values = m.values.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                if values.len() > MEMORY_SWEEP_AT {
                    values.retain(|_, (until, _)| *until > now);
                }
                values.insert(key.to_string(), (now + ttl, value.to_string()));
                Ok(())
            }
            Cache::Redis(r) => {
                let mut conn = r.conn.clone();
                r.run(
                    redis::cmd("SET")
                        .arg(format!("{}flag:{key}", r.prefix))
                        .arg(value)
                        .arg("PX")
                        .arg(ttl.as_millis().max(1) as u64)
                        .query_async::<()>(&mut conn),
                )
                .await
            }
        }
    }

    /// The value of `key`, if set and not expired.
    pub async fn value(&self, key: &str) -> Result<Option<String>, CacheError> {
        match self {
            Cache::Memory(m) => {
                let values = m.values.lock().unwrap_or_else(|p| p.into_inner());
                Ok(values
                    .get(key)
                    .filter(|(until, _)| *until > Instant::now())
                    .map(|(_, v)| v.clone()))
            }
            Cache::Redis(r) => {
                let mut conn = r.conn.clone();
                r.run(
                    redis::cmd("GET")
                        .arg(format!("{}flag:{key}", r.prefix))
                        .query_async::<Option<String>>(&mut conn),
                )
                .await
            }
        }
    }

    /// `key`'s value and whether `marker` is set, in one round trip.
    pub async fn value_and_marker(
        &self,
        key: &str,
        marker: &str,
    ) -> Result<(Option<String>, bool), CacheError> {
        match self {
            Cache::Memory(m) => {
                let set = m
                    .markers
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .contains(marker);
                Ok((self.value(key).await?, set))
            }
            Cache::Redis(r) => {
                let mut conn = r.conn.clone();
                r.run(
                    redis::pipe()
                        .cmd("GET")
                        .arg(format!("{}flag:{key}", r.prefix))
                        .cmd("HEXISTS")
                        .arg(r.markers_key())
                        .arg(marker)
                        .query_async::<(Option<String>, bool)>(&mut conn),
                )
                .await
            }
        }
    }

    /// Sets `marker`: the cache now holds every item of its kind.
    pub async fn set_marker(&self, marker: &str) -> Result<(), CacheError> {
        match self {
            Cache::Memory(m) => {
                m.markers
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(marker.to_string());
                Ok(())
            }
            Cache::Redis(r) => {
                let mut conn = r.conn.clone();
                r.run(
                    redis::cmd("HSET")
                        .arg(r.markers_key())
                        .arg(marker)
                        .arg(1)
                        .query_async::<()>(&mut conn),
                )
                .await
            }
        }
    }

    /// Unsets `marker`: an item of its kind may be missing.
    pub async fn drop_marker(&self, marker: &str) -> Result<(), CacheError> {
        match self {
            Cache::Memory(m) => {
                m.markers
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(marker);
                Ok(())
            }
            Cache::Redis(r) => {
                let mut conn = r.conn.clone();
                r.run(
                    redis::cmd("HDEL")
                        .arg(r.markers_key())
                        .arg(marker)
                        .query_async::<()>(&mut conn),
                )
                .await
            }
        }
    }

    /// Sets `key` for `ttl`.
    pub async fn set_flag(&self, key: &str, ttl: Duration) -> Result<(), CacheError> {
        self.set_value(key, "1", ttl).await
    }

    /// Whether `key` is set and not expired.
    pub async fn has_flag(&self, key: &str) -> Result<bool, CacheError> {
        Ok(self.value(key).await?.is_some())
    }

    /// Whether calls reach Redis now (always, in process).
    pub fn reachable(&self) -> bool {
        match self {
            Cache::Memory(_) => true,
            Cache::Redis(r) => !r.breaker.open.load(Ordering::Acquire),
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
                r.run(
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
                r.run(pipe.query_async::<()>(&mut conn)).await
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
                let flat: Vec<(String, f64)> = r
                    .run(
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
                let (rank, score): (Option<u64>, Option<f64>) = r
                    .run(
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
    /// Publishes `payload` on the pub/sub `channel`, through the breaker:
    /// while Redis is believed down, this fails at once (`Down`) instead of
    /// waiting for the timeout. The in-process cache has no channels.
    pub async fn publish(&self, channel: &str, payload: &str) -> Result<(), CacheError> {
        match self {
            Cache::Memory(_) => Err(CacheError::Down),
            Cache::Redis(r) => {
                let mut conn = r.conn.clone();
                let mut cmd = redis::cmd("PUBLISH");
                cmd.arg(channel).arg(payload);
                r.run(cmd.query_async::<i64>(&mut conn)).await.map(|_| ())
            }
        }
    }

    pub async fn ping(&self) -> Result<(), CacheError> {
        match self {
            Cache::Memory(_) => Ok(()),
            Cache::Redis(r) => {
                let mut conn = r.conn.clone();
                r.run(redis::cmd("PING").query_async::<String>(&mut conn))
                    .await?;
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
