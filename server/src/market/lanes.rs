//! Order entry's lanes: each instrument's book orders and cancels queue
//! on their replica, and a few workers (`lane_workers`) take what is
//! queued — up to `batch_orders` requests of each of up to
//! `batch_instruments` instruments — and place and cancel it in one
//! database transaction, under one lock of each instrument's row, each
//! request worked out on its own so that one refused leaves the others
//! alone. Then the worker commits once, answers every request and tells
//! the live feed once per instrument.
//!
//! Why: an order's own transaction held its instrument's row for about 37
//! statements and a commit, and every request of that instrument queued
//! for the row on a connection of its own. A batch pays for its
//! statements and its commit once for all its requests; a batch of one
//! instrument only held the 2–3 orders that 64 clients spread over 16
//! instruments leave queued, so a batch takes several instruments.
//! Matching stays serialised in the database (the row locks, taken in
//! code order), so several replicas may work one instrument and take
//! turns; on one replica an instrument is worked by one worker at a time,
//! which keeps its book in memory between batches.
//!
//! Every request is answered only after its batch committed (or failed):
//! nothing is reported placed that is not. A batch the database aborts as
//! a deadlock's victim runs again; when it keeps failing, each request in
//! it runs alone, so one participant's rows cannot fail the others.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset};
use futures_util::FutureExt;
use sea_orm::DatabaseConnection;
use tokio::sync::{oneshot, Notify};

use super::engine::{Group, Lane};
use super::entity::trade;
use super::error::MarketError;
use super::feed::Feed;
use super::rules::MarketRules;
use crate::accounts::entity as account;
use crate::accounts::service::SystemAccounts;

/// How long an instrument's book stays in memory with nothing to do; the
/// next request reads it again. Not a business rule: it only bounds the
/// memory of instruments nobody trades.
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
    queues: Mutex<Queues>,
    /// Told once per request queued for an instrument no worker has.
    ready: Notify,
    /// Where the workers run: the runtime the server was built on, not
    /// the HTTP worker that happened to take the first order, so they
    /// outlive any one worker during a graceful shutdown.
    runtime: tokio::runtime::Handle,
    systems: SystemAccounts,
}

/// An instrument's lane between batches: its fee account once known, its
/// book.
struct Slot {
    fees: Option<account::Model>,
    lane: Lane,
    used: Instant,
}

#[derive(Default)]
struct Queues {
    /// Requests waiting, by instrument.
    waiting: HashMap<String, VecDeque<Job>>,
    /// Instruments with requests waiting that no worker has, in the order
    /// their first request came.
    ready: VecDeque<String>,
    /// Instruments a worker has now.
    busy: HashSet<String>,
    /// The lanes of instruments no worker has.
    idle: HashMap<String, Slot>,
    workers: usize,
    swept: Option<Instant>,
}

/// What a worker took: an instrument's lane and its requests.
struct Taken {
    code: String,
    slot: Slot,
    jobs: Vec<Job>,
}

impl Lanes {
    /// Must be called inside a Tokio runtime, which the lanes then run on.
    pub fn new(db: DatabaseConnection, rules: MarketRules, feed: Feed) -> Lanes {
        Lanes {
            inner: Arc::new(Inner {
                db,
                rules,
                feed,
                queues: Mutex::default(),
                ready: Notify::new(),
                runtime: tokio::runtime::Handle::current(),
                systems: SystemAccounts::default(),
            }),
        }
    }

    /// Queues `work` for instrument `code` and waits for its answer. A
    /// full queue is refused at once (503): the instrument has more
    /// waiting than it can take in time.
    pub async fn run(
        &self,
        code: &str,
        work: Work,
        now: DateTime<FixedOffset>,
    ) -> Result<Done, MarketError> {
        let (reply, answer) = oneshot::channel();
        {
            let mut q = self.inner.queues.lock().expect("lanes lock");
            let waiting = q.waiting.entry(code.to_string()).or_default();
            if waiting.len() >= self.inner.rules.queue_orders {
                return Err(MarketError::Busy(format!(
                    "{code} has {} orders waiting; retry shortly",
                    self.inner.rules.queue_orders
                )));
            }
            waiting.push_back(Job { work, now, reply });
            let first = waiting.len() == 1;
            if first && !q.busy.contains(code) {
                q.ready.push_back(code.to_string());
            }
            while q.workers < self.inner.rules.lane_workers {
                q.workers += 1;
                self.inner.runtime.spawn(worker(self.inner.clone()));
            }
        }
        self.inner.ready.notify_one();
        answer.await.unwrap_or_else(|_| {
            // The batch ended without answering (a panic): whether the
            // order was placed is unknown; its client id tells.
            Err(MarketError::Busy(
                "the order's outcome is unknown; send it again with the same client_order_id"
                    .into(),
            ))
        })
    }
}

async fn worker(inner: Arc<Inner>) {
    loop {
        let taken = take(&inner);
        if taken.is_empty() {
            inner.ready.notified().await;
            continue;
        }
        let codes: Vec<String> = taken.iter().map(|t| t.code.clone()).collect();
        // A panic in a batch must not leave its instruments taken for
        // ever: their requests go unanswered (their client ids tell) and
        // their lanes start again.
        let back = std::panic::AssertUnwindSafe(run_batch(&inner, taken))
            .catch_unwind()
            .await
            .ok();
        give_back(&inner, codes, back);
    }
}

/// Takes the ready instruments' lanes and requests, as many as a batch
/// holds.
fn take(inner: &Inner) -> Vec<Taken> {
    let rules = &inner.rules;
    let mut q = inner.queues.lock().expect("lanes lock");
    let mut taken = Vec::new();
    while taken.len() < rules.batch_instruments {
        let Some(code) = q.ready.pop_front() else {
            break;
        };
        // Once per batch (another worker's, or this one's): its worker
        // makes it ready again when it gives it back.
        if q.busy.contains(&code) {
            continue;
        }
        let Some(waiting) = q.waiting.get_mut(&code) else {
            continue;
        };
        let jobs: Vec<Job> = waiting
            .drain(..waiting.len().min(rules.batch_orders))
            .collect();
        if waiting.is_empty() {
            q.waiting.remove(&code);
        }
        if jobs.is_empty() {
            continue;
        }
        q.busy.insert(code.clone());
        let slot = q.idle.remove(&code).unwrap_or_else(|| Slot {
            fees: None,
            lane: Lane::default(),
            used: Instant::now(),
        });
        taken.push(Taken { code, slot, jobs });
    }
    taken
}

/// Puts the instruments' lanes back (none after a panic) and makes the
/// ones with more requests ready again.
fn give_back(inner: &Inner, codes: Vec<String>, slots: Option<Vec<(String, Slot)>>) {
    let mut q = inner.queues.lock().expect("lanes lock");
    for (code, slot) in slots.into_iter().flatten() {
        q.idle.insert(code, slot);
    }
    let mut again = 0;
    for code in codes {
        q.busy.remove(&code);
        if q.waiting.contains_key(&code) {
            q.ready.push_back(code);
            again += 1;
        }
    }
    let now = Instant::now();
    if q.swept.is_none_or(|t| now - t > IDLE) {
        q.swept = Some(now);
        q.idle.retain(|_, s| now - s.used < IDLE);
    }
    drop(q);
    for _ in 0..again {
        inner.ready.notify_one();
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

/// Runs what a worker took as one batch, answers every request and tells
/// the feed; gives the lanes back.
async fn run_batch(inner: &Inner, taken: Vec<Taken>) -> Vec<(String, Slot)> {
    let mut codes = Vec::new();
    let mut slots = Vec::new();
    let mut fees = Vec::new();
    let mut works: Vec<Vec<(Work, DateTime<FixedOffset>)>> = Vec::new();
    let mut replies: Vec<Vec<oneshot::Sender<Result<Done, MarketError>>>> = Vec::new();
    let mut back = Vec::new();
    for Taken {
        code,
        mut slot,
        jobs,
    } in taken
    {
        let (w, r): (Vec<_>, Vec<_>) = jobs.into_iter().map(|j| ((j.work, j.now), j.reply)).unzip();
        match fees_of(inner, &code, &mut slot.fees, w[0].1).await {
            Ok(f) => {
                codes.push(code);
                slots.push(slot);
                fees.push(f);
                works.push(w);
                replies.push(r);
            }
            Err(e) => {
                for reply in r {
                    let _ = reply.send(Err(e.replicate()));
                }
                back.push((code, slot));
            }
        }
    }
    if codes.is_empty() {
        return back;
    }
    let started = Instant::now();
    let outcomes = {
        let mut groups: Vec<Group<'_>> = codes
            .iter()
            .zip(&mut slots)
            .zip(&fees)
            .zip(&works)
            .map(|(((code, slot), fees), works)| Group {
                code,
                fees,
                lane: &mut slot.lane,
                works,
            })
            .collect();
        answers_of(inner, &mut groups).await
    };
    let ran = started.elapsed();
    let requests: usize = works.iter().map(Vec::len).sum();
    for (((code, mut slot), outcomes), replies) in
        codes.into_iter().zip(slots).zip(outcomes).zip(replies)
    {
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
        if changed {
            let depth = slot.lane.depth(inner.rules.pick_levels as usize);
            super::routes::announce_with(
                &inner.feed,
                &inner.db,
                &inner.rules,
                &code,
                &trades,
                depth,
            )
            .await;
        }
        slot.used = Instant::now();
        back.push((code, slot));
    }
    tracing::debug!(
        instruments = back.len(),
        requests,
        ran_ms = ran.as_secs_f64() * 1e3,
        announced_ms = (started.elapsed() - ran).as_secs_f64() * 1e3,
        "batch"
    );
    back
}

/// Each group's answers: the batch's, or when it kept deadlocking, each
/// request's on its own.
async fn answers_of(
    inner: &Inner,
    groups: &mut [Group<'_>],
) -> Vec<Vec<Result<Done, MarketError>>> {
    let requests: usize = groups.iter().map(|g| g.works.len()).sum();
    match super::engine::run(&inner.db, &inner.rules, groups).await {
        Ok(outcomes) => outcomes,
        Err(e) if e.is_deadlock() && requests > 1 => {
            tracing::info!(
                instruments = groups.len(),
                requests,
                "batch kept deadlocking; placing its requests one by one"
            );
            let mut answers = Vec::with_capacity(groups.len());
            for g in groups.iter_mut() {
                let mut outcomes = Vec::with_capacity(g.works.len());
                for w in g.works.chunks(1) {
                    let mut one = [Group {
                        code: g.code,
                        fees: g.fees,
                        lane: &mut *g.lane,
                        works: w,
                    }];
                    outcomes.push(
                        match super::engine::run(&inner.db, &inner.rules, &mut one).await {
                            Ok(mut one) => one.remove(0).remove(0),
                            Err(e) => Err(e),
                        },
                    );
                }
                answers.push(outcomes);
            }
            answers
        }
        Err(e) => groups
            .iter()
            .map(|g| g.works.iter().map(|_| Err(e.replicate())).collect())
            .collect(),
    }
}
