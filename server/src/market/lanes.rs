//! Order entry's lanes: one queue and one task per instrument on each
//! replica. The task takes what is queued (up to `batch_orders`) and
//! places and cancels it in one database transaction under one lock of
//! the instrument's row, each order in its own savepoint, so an order that
//! is refused leaves the others alone. Then it commits once, answers
//! every request and tells the live feed once.
//!
//! Why: an order's own transaction held its instrument's row for about 37
//! statements and a commit, and every request of that instrument queued
//! for the row on a connection of its own. A lane keeps one connection per
//! busy instrument, takes the lock and commits once per batch, and reads
//! the book's depth for the feed once per batch. Matching stays serialised
//! in the database (the row lock), so several replicas may each run a lane
//! of one instrument and take turns, as before.
//!
//! Every request is answered only after its batch committed (or failed):
//! nothing is reported placed that is not. A batch the database aborts as
//! a deadlock's victim runs again; when it keeps failing, each request in
//! it runs alone, so one participant's rows cannot fail the others.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use sea_orm::DatabaseConnection;
use tokio::sync::{mpsc, oneshot};

use super::entity::trade;
use super::error::MarketError;
use super::feed::Feed;
use super::rules::MarketRules;
use crate::accounts::entity as account;
use crate::accounts::service::SystemAccounts;

/// How long a lane with nothing to do stays; the next request starts a
/// new one. Not a business rule: it only bounds the idle tasks of
/// instruments nobody trades.
const IDLE: Duration = Duration::from_secs(30);

pub use super::engine::{Done, Work};

struct Job {
    work: Work,
    now: DateTime<FixedOffset>,
    reply: oneshot::Sender<Result<Done, MarketError>>,
}

#[derive(Clone)]
pub struct Lanes {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    rules: MarketRules,
    feed: Feed,
    /// The open lanes by instrument code, each with a number that tells a
    /// retiring lane whether the entry is still its own.
    open: Mutex<HashMap<String, (u64, mpsc::Sender<Job>)>>,
    started: std::sync::atomic::AtomicU64,
    /// Where lanes run: the runtime the server was built on, not the HTTP
    /// worker that happened to take an instrument's first order, so a lane
    /// outlives any one worker during a graceful shutdown and lanes share
    /// the runtime's threads.
    runtime: tokio::runtime::Handle,
    systems: SystemAccounts,
}

impl Lanes {
    /// Must be called inside a Tokio runtime, which the lanes then run on.
    pub fn new(db: DatabaseConnection, rules: MarketRules, feed: Feed) -> Lanes {
        Lanes {
            inner: Arc::new(Inner {
                db,
                rules,
                feed,
                open: Mutex::new(HashMap::new()),
                started: Default::default(),
                runtime: tokio::runtime::Handle::current(),
                systems: SystemAccounts::default(),
            }),
        }
    }

    /// Queues `work` on the lane of instrument `code` and waits for its
    /// answer. A full queue is refused at once (503): the instrument has
    /// more waiting than it can take in time.
    pub async fn run(
        &self,
        code: &str,
        work: Work,
        now: DateTime<FixedOffset>,
    ) -> Result<Done, MarketError> {
        let (reply, answer) = oneshot::channel();
        let mut job = Job { work, now, reply };
        // A lane that retired after we took its sender gives the job back.
        loop {
            let lane = self.lane(code);
            match lane.try_send(job) {
                Ok(()) => break,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    return Err(MarketError::Busy(format!(
                        "{code} has {} orders waiting; retry shortly",
                        self.inner.rules.queue_orders
                    )))
                }
                Err(mpsc::error::TrySendError::Closed(back)) => {
                    self.forget(code, &lane);
                    job = back;
                }
            }
        }
        answer.await.unwrap_or_else(|_| {
            // The lane's task ended without answering (a panic): whether
            // the order was placed is unknown; its client id tells.
            Err(MarketError::Busy(
                "the order's outcome is unknown; send it again with the same client_order_id"
                    .into(),
            ))
        })
    }

    fn lane(&self, code: &str) -> mpsc::Sender<Job> {
        let mut open = self.inner.open.lock().expect("lanes lock");
        if let Some((_, tx)) = open.get(code) {
            if !tx.is_closed() {
                return tx.clone();
            }
        }
        let (tx, rx) = mpsc::channel(self.inner.rules.queue_orders);
        let n = self
            .inner
            .started
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        open.insert(code.to_string(), (n, tx.clone()));
        self.inner
            .runtime
            .spawn(lane(self.inner.clone(), code.to_string(), n, rx));
        tx
    }

    fn forget(&self, code: &str, lane: &mpsc::Sender<Job>) {
        let mut open = self.inner.open.lock().expect("lanes lock");
        if open.get(code).is_some_and(|(_, tx)| tx.same_channel(lane)) {
            open.remove(code);
        }
    }
}

async fn lane(inner: Arc<Inner>, code: String, n: u64, mut rx: mpsc::Receiver<Job>) {
    let mut fees = None;
    let mut state = super::engine::Lane::default();
    loop {
        let first = match tokio::time::timeout(IDLE, rx.recv()).await {
            Ok(Some(job)) => job,
            Ok(None) => return,
            Err(_) => {
                {
                    let mut open = inner.open.lock().expect("lanes lock");
                    if open.get(&code).is_some_and(|(m, _)| *m == n) {
                        open.remove(&code);
                    }
                }
                // Senders taken before the removal are refused from now on
                // (and start a new lane); what they queued already is done.
                rx.close();
                let mut left = Vec::new();
                while let Some(job) = rx.recv().await {
                    left.push(job);
                }
                while !left.is_empty() {
                    let rest = left.split_off(left.len().min(inner.rules.batch_orders));
                    run_batch(&inner, &code, &mut fees, &mut state, left).await;
                    left = rest;
                }
                return;
            }
        };
        let mut batch = vec![first];
        while batch.len() < inner.rules.batch_orders {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(&inner, &code, &mut fees, &mut state, batch).await;
    }
}

/// The instrument's fee account, opened once the instrument is known to
/// be listed (no account for a code nobody listed), outside the batch's
/// transaction.
async fn fees_of(
    inner: &Inner,
    code: &str,
    known: &mut Option<account::Model>,
    now: DateTime<FixedOffset>,
) -> Result<account::Model, MarketError> {
    if let Some(fees) = known {
        return Ok(fees.clone());
    }
    super::listing::find(&inner.db, code)
        .await
        .map_err(|e| match e {
            MarketError::NotFound => {
                MarketError::unknown("instrument", format!("{code} is not a listed instrument"))
            }
            other => other,
        })?;
    let fees = super::settlement::fees_of(&inner.systems, &inner.db, code, now).await?;
    *known = Some(fees.clone());
    Ok(fees)
}

async fn run_batch(
    inner: &Inner,
    code: &str,
    fees: &mut Option<account::Model>,
    state: &mut super::engine::Lane,
    jobs: Vec<Job>,
) {
    let n = jobs.len();
    let (works, replies): (Vec<(Work, DateTime<FixedOffset>)>, Vec<_>) =
        jobs.into_iter().map(|j| ((j.work, j.now), j.reply)).unzip();
    let fees = match fees_of(inner, code, fees, works[0].1).await {
        Ok(fees) => fees,
        Err(e) => {
            for reply in replies {
                let _ = reply.send(Err(e.replicate()));
            }
            return;
        }
    };
    let fees = &fees;
    let started = std::time::Instant::now();
    let outcomes = match super::engine::run(&inner.db, &inner.rules, code, fees, state, &works)
        .await
    {
        Ok(outcomes) => outcomes,
        Err(e) if e.is_deadlock() && works.len() > 1 => {
            tracing::info!(
                instrument = code,
                orders = works.len(),
                "batch kept deadlocking; placing its orders one by one"
            );
            let mut outcomes = Vec::with_capacity(works.len());
            for w in works.chunks(1) {
                outcomes.push(
                    match super::engine::run(&inner.db, &inner.rules, code, fees, state, w).await {
                        Ok(mut one) => one.remove(0),
                        Err(e) => Err(e),
                    },
                );
            }
            outcomes
        }
        Err(e) => works.iter().map(|_| Err(e.replicate())).collect(),
    };
    let mut trades: Vec<trade::Model> = Vec::new();
    let mut changed = false;
    for (outcome, reply) in outcomes.into_iter().zip(replies) {
        match &outcome {
            Ok(Done::Placed(Some(p))) => {
                trades.extend(p.trades.iter().cloned());
                changed = true;
            }
            Ok(Done::Cancelled(_)) => changed = true,
            _ => {}
        }
        // A client that went away still has its order; its id replays it.
        let _ = reply.send(outcome);
    }
    let ran = started.elapsed();
    if changed {
        let depth = state.depth(inner.rules.pick_levels as usize);
        super::routes::announce_with(&inner.feed, &inner.db, &inner.rules, code, &trades, depth)
            .await;
    }
    tracing::debug!(
        instrument = code,
        requests = n,
        ran_ms = ran.as_secs_f64() * 1e3,
        announced_ms = (started.elapsed() - ran).as_secs_f64() * 1e3,
        "batch"
    );
}
