//! The inbox, live: a person's Server-Sent Events stream of their new
//! notifications, on whichever replica they are connected to. A change
//! that wrote a notification announces, after its transaction commits,
//! only whose inbox changed (through the `notifications` feed: Redis
//! pub/sub across replicas, in process without Redis); each stream then
//! reads what is new from the inbox. The table is the record: a stream
//! that missed an announcement, or a client that reconnects with
//! `Last-Event-ID`, reads the inbox again and loses nothing.

use actix_web::{get, web, HttpRequest, HttpResponse};
use sea_orm::DatabaseConnection;

use super::routes::NotificationView;
use super::service;
use crate::auth::extract::AuthUser;
use crate::error::ApiError;
use crate::market::feed::{Feed, Update};
use crate::market::rules::MarketRules;

/// The notifications' feed (its own channel, `<redis_prefix>notifications`).
#[derive(Clone)]
pub struct Notices(pub Feed);

impl Notices {
    /// Tells `user_id`'s streams on every replica that their inbox has
    /// something new. Called after the change committed; never fails the
    /// caller (the notification is in the inbox either way).
    pub async fn announce(&self, user_id: &str) {
        self.0
            .publish(vec![Update {
                topic: user_id.to_string(),
                event: "notification".into(),
                data: serde_json::Value::Null,
            }])
            .await;
    }
}

/// What a stream sends of new notifications, and the cursor after them.
async fn news(
    db: &DatabaseConnection,
    user_id: &str,
    after: Option<String>,
) -> Result<(web::Bytes, Option<String>), sea_orm::DbErr> {
    let rows = service::after(db, user_id, after.as_deref()).await?;
    let cursor = rows.last().map(|n| n.id.clone()).or(after);
    let mut text = String::new();
    for n in rows {
        let id = n.id.clone();
        let data = serde_json::to_string(&NotificationView::from(n)).unwrap_or_default();
        text.push_str(&format!("id: {id}\nevent: notification\ndata: {data}\n\n"));
    }
    Ok((web::Bytes::from(text), cursor))
}

/// The caller's new notifications as Server-Sent Events
/// (`text/event-stream`): an `event: notification` per notification, its
/// `id` the notification's and its `data` as the inbox shows it, the moment
/// it is written on any replica. Reconnecting with `Last-Event-ID` (as
/// `EventSource` does) first sends what came after that one. A comment line
/// every `stream_keepalive_secs` (15) keeps proxies from closing the
/// stream.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(("Last-Event-ID" = Option<String>, Header, description = "The last notification received: the stream starts after it")),
    responses(
        (status = 200, description = "The stream: `event: notification`, JSON `data`", content_type = "text/event-stream", body = String)
    )
)]
#[get("/api/v1/me/notifications/stream")]
pub async fn notification_stream(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<MarketRules>,
    notices: web::Data<Notices>,
    who: AuthUser,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let user_id = who.0.to_string();
    // Subscribed before the inbox is read, so nothing falls between.
    let updates = notices.0.subscribe();
    let resume = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let resume = match resume {
        Some(id) => service::owns(db.get_ref(), &user_id, &id)
            .await?
            .then_some(id),
        None => None,
    };
    let (first, cursor) = match resume {
        Some(id) => {
            let (bytes, cursor) = news(db.get_ref(), &user_id, Some(id)).await?;
            (Some(bytes).filter(|b| !b.is_empty()), cursor)
        }
        None => (None, service::newest(db.get_ref(), &user_id).await?),
    };
    struct State {
        db: web::Data<DatabaseConnection>,
        user_id: String,
        cursor: Option<String>,
        updates: tokio::sync::broadcast::Receiver<Update>,
        tick: tokio::time::Interval,
        first: Option<web::Bytes>,
    }
    let mut tick =
        tokio::time::interval(std::time::Duration::from_secs(rules.stream_keepalive_secs));
    tick.reset();
    let state = State {
        db: db.clone(),
        user_id,
        cursor,
        updates,
        tick,
        // A first line at once, so the client knows the stream is open.
        first: Some(first.unwrap_or_else(|| web::Bytes::from_static(b": open\n\n"))),
    };
    let body = futures_util::stream::unfold(state, |mut s| async move {
        use tokio::sync::broadcast::error::RecvError;
        if let Some(first) = s.first.take() {
            return Some((Ok::<_, actix_web::Error>(first), s));
        }
        loop {
            tokio::select! {
                _ = s.tick.tick() => return Some((Ok(web::Bytes::from_static(b": keep-alive\n\n")), s)),
                got = s.updates.recv() => {
                    let wanted = match &got {
                        Ok(u) => u.topic == s.user_id,
                        // Fallen behind: read the inbox again, as for an
                        // announcement.
                        Err(RecvError::Lagged(_)) => true,
                        Err(RecvError::Closed) => return None,
                    };
                    if !wanted {
                        continue;
                    }
                    let (bytes, cursor) =
                        news(s.db.get_ref(), &s.user_id, s.cursor.clone()).await.ok()?;
                    s.cursor = cursor;
                    if !bytes.is_empty() {
                        return Some((Ok(bytes), s));
                    }
                }
            }
        }
    });
    Ok(crate::market::routes::event_stream(body))
}
