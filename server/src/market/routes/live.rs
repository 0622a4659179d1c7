use actix_web::{get, web, HttpResponse};
use sea_orm::DatabaseConnection;

use super::orders::{depth_of, TapeEntry};
use crate::error::ApiError;
use crate::market::entity::trade;
use crate::market::feed::{Feed, Update};
use crate::market::rules::MarketRules;

/// Tells the instrument's streams on every replica what an order, pick,
/// cancel or close changed: its trades (as the tape shows them: never
/// who), then the book's depth as it is now. Called after the change
/// committed; a failure to read the depth is logged, never the caller's
/// error (the change happened).
pub async fn announce(
    feed: &Feed,
    db: &DatabaseConnection,
    rules: &MarketRules,
    code: &str,
    trades: &[trade::Model],
) {
    announce_with(feed, db, rules, code, trades, None).await
}

/// [`announce`], with the book's depth when the caller knows it (a lane
/// keeps its book), as (bids, asks) of (price, quantity, orders).
#[allow(clippy::type_complexity)]
pub async fn announce_with(
    feed: &Feed,
    db: &DatabaseConnection,
    rules: &MarketRules,
    code: &str,
    trades: &[trade::Model],
    known: Option<(Vec<(i64, i64, i64)>, Vec<(i64, i64, i64)>)>,
) {
    let mut updates: Vec<Update> = trades
        .iter()
        .filter(|t| t.method != "block")
        .map(|t| Update {
            topic: code.to_string(),
            event: "trade".into(),
            data: serde_json::to_value(TapeEntry::from(t.clone())).unwrap_or_default(),
        })
        .collect();
    let depth = match known {
        Some((bids, asks)) => Ok(super::orders::depth_view(code, bids, asks)),
        None => depth_of(db, code, rules.pick_levels as u64).await,
    };
    match depth {
        Ok(depth) => updates.push(Update {
            topic: code.to_string(),
            event: "book".into(),
            data: serde_json::to_value(depth).unwrap_or_default(),
        }),
        Err(e) => {
            tracing::warn!(error = %e, instrument = code, "the book for the feed could not be read")
        }
    }
    feed.publish(updates).await;
}

/// A Server-Sent Events answer of `body`: never cached, never buffered by
/// a proxy (`X-Accel-Buffering`), so each event reaches the client as it
/// is sent.
pub fn event_stream<S>(body: S) -> HttpResponse
where
    S: futures_util::Stream<Item = Result<web::Bytes, actix_web::Error>> + 'static,
{
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body)
}

fn event(name: &str, data: &serde_json::Value) -> web::Bytes {
    web::Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
}

/// Live book changes and trades of an instrument, as Server-Sent Events
/// (`text/event-stream`): first `book` (the depth, as
/// `…/{code}/book` answers it), then a `trade` event per trade (as the
/// tape shows it, never who) and a `book` event after every change, from
/// whichever replica took the order. A comment line every
/// `stream_keepalive_secs` (15) keeps proxies from closing the stream; a
/// client that falls behind gets the book again. Public.
#[utoipa::path(
    tag = "market",
    params(("code" = String, Path, description = "Instrument code", example = "TPH-FOR-2025")),
    responses(
        (status = 200, description = "The stream: `event: book` and `event: trade`, JSON `data`", content_type = "text/event-stream", body = String),
        (status = 404, description = "Not listed (`not_found`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/market/instruments/{code}/stream")]
pub async fn stream(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<MarketRules>,
    feed: web::Data<Feed>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let i = crate::market::listing::find(db.get_ref(), &code).await?;
    // Subscribed before the first book is read, so no change falls between.
    let updates = feed.subscribe();
    let levels = rules.pick_levels as u64;
    let first = depth_of(db.get_ref(), &i.code, levels).await?;
    let keepalive = std::time::Duration::from_secs(rules.stream_keepalive_secs);
    struct State {
        db: web::Data<DatabaseConnection>,
        code: String,
        levels: u64,
        updates: tokio::sync::broadcast::Receiver<Update>,
        tick: tokio::time::Interval,
        first: Option<web::Bytes>,
    }
    let mut tick = tokio::time::interval(keepalive);
    tick.reset();
    let state = State {
        db: db.clone(),
        code: i.code,
        levels,
        updates,
        tick,
        first: Some(event(
            "book",
            &serde_json::to_value(first).unwrap_or_default(),
        )),
    };
    let body = futures_util::stream::unfold(state, |mut s| async move {
        use tokio::sync::broadcast::error::RecvError;
        if let Some(first) = s.first.take() {
            return Some((Ok::<_, actix_web::Error>(first), s));
        }
        loop {
            tokio::select! {
                _ = s.tick.tick() => return Some((Ok(web::Bytes::from_static(b": keep-alive\n\n")), s)),
                got = s.updates.recv() => match got {
                    Ok(u) if u.topic == s.code => {
                        let bytes = event(&u.event, &u.data);
                        return Some((Ok(bytes), s));
                    }
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => {
                        // Fallen behind: the book as it is now.
                        let depth = depth_of(s.db.get_ref(), &s.code, s.levels).await.ok()?;
                        let bytes = event("book", &serde_json::to_value(depth).unwrap_or_default());
                        return Some((Ok(bytes), s));
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        }
    });
    Ok(event_stream(body))
}
