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
