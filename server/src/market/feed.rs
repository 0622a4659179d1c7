//! A live feed between replicas, for Server-Sent Events streams: the
//! market's (what changed in a book and the trades it made, per
//! instrument) and the notifications' (whose inbox changed). With Redis,
//! every replica publishes to the feed's channel (`<redis_prefix><name>`)
//! and forwards what the channel carries to its own streams, so a client on
//! any replica sees every replica's changes; without Redis, an in-process
//! broadcast.
//!
//! The feed is a notice, not a record: a client that misses one reads the
//! book and the tape again (the stream starts with the book, and sends it
//! again when a client falls behind). Nothing is lost that the database
//! does not keep.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::cache::{Cache, CacheError};
use crate::config::Secret;

/// Updates a replica keeps for slow streams before they fall behind.
const BACKLOG: usize = 1024;
/// How long a replica waits before subscribing again after Redis failed.
const RESUBSCRIBE_AFTER: Duration = Duration::from_secs(1);

/// One change of a topic (an instrument, a person's inbox): `event` names
/// it (`book`, `trade`, `notification`), `data` is its JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Update {
    /// Named `instrument` on the wire, its first use, so that replicas of
    /// two versions share the market's channel during an upgrade.
    #[serde(rename = "instrument")]
    pub topic: String,
    pub event: String,
    pub data: serde_json::Value,
}

#[derive(Clone)]
pub struct Feed {
    local: broadcast::Sender<Update>,
    redis: Option<Publisher>,
}

/// Publishes through the cache's Redis connection and its circuit
/// breaker: while Redis is down, an order's announcement does not wait for
/// the timeout.
#[derive(Clone)]
struct Publisher {
    cache: Cache,
    channel: String,
}

impl Feed {
    /// This replica only.
    pub fn local() -> Feed {
        Feed {
            local: broadcast::channel(BACKLOG).0,
            redis: None,
        }
    }

    /// Through Redis at `url` when one is configured (every replica with
    /// the same prefix shares the feed), publishing through `cache` (the
    /// same Redis), else [`Feed::local`]. Starts the task that forwards the
    /// channel to this replica's streams.
    pub async fn connect(
        url: Option<&Secret>,
        prefix: &str,
        name: &str,
        timeout: Duration,
        cache: Cache,
    ) -> Result<Feed, CacheError> {
        let Some(url) = url else {
            return Ok(Feed::local());
        };
        let client = redis::Client::open(url.expose())?;
        let channel = format!("{prefix}{name}");
        let local = broadcast::channel(BACKLOG).0;
        let (ready, subscribed) = tokio::sync::oneshot::channel();
        tokio::spawn(forward(client, channel.clone(), local.clone(), ready));
        // The first subscription is in place before the server answers, so
        // nothing published after start-up is missed.
        let _ = tokio::time::timeout(timeout, subscribed).await;
        Ok(Feed {
            local,
            redis: Some(Publisher { cache, channel }),
        })
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Update> {
        self.local.subscribe()
    }

    /// Sends `updates` to every replica's streams. When Redis does not
    /// take them, this replica's streams still get them (and the failure
    /// is logged): the others' clients catch up from the book and tape.
    pub async fn publish(&self, updates: Vec<Update>) {
        let Some(p) = &self.redis else {
            for u in updates {
                // No stream listening is not an error.
                let _ = self.local.send(u);
            }
            return;
        };
        for u in updates {
            let payload = match serde_json::to_string(&u) {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, channel = %p.channel, "a feed update could not be encoded");
                    continue;
                }
            };
            match p.cache.publish(&p.channel, &payload).await {
                Ok(()) => {}
                // The breaker is open: already logged when it opened.
                Err(CacheError::Down) => {
                    let _ = self.local.send(u);
                }
                Err(e) => {
                    tracing::warn!(error = %e, channel = %p.channel, "a feed could not publish to redis");
                    let _ = self.local.send(u);
                }
            }
        }
    }
}

/// Forwards the Redis channel to this replica's streams, subscribing again
/// whenever the connection is lost.
async fn forward(
    client: redis::Client,
    channel: String,
    local: broadcast::Sender<Update>,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    use futures_util::StreamExt;
    let mut ready = Some(ready);
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    if let Some(r) = ready.take() {
                        let _ = r.send(());
                    }
                    let mut messages = pubsub.on_message();
                    while let Some(msg) = messages.next().await {
                        match serde_json::from_slice::<Update>(msg.get_payload_bytes()) {
                            Ok(u) => {
                                let _ = local.send(u);
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, channel = %channel, "an unreadable feed update on redis")
                            }
                        }
                    }
                    tracing::warn!(
                        channel = %channel,
                        "a feed lost its redis subscription; subscribing again"
                    );
                }
                Err(e) => {
                    tracing::warn!(error = %e, channel = %channel, "a feed could not subscribe")
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, channel = %channel, "a feed could not reach redis")
            }
        }
        tokio::time::sleep(RESUBSCRIBE_AFTER).await;
    }
}
