//! Book orders and cancels of one instrument, a batch at a time, matched
//! in memory and written together: the lane's write path.
//!
//! A batch takes its instrument's row lock (and a sequence number per
//! request), locks the balance rows it may lower, works every request out
//! in memory with the rules of the one-order path (the same functions:
//! [`matching`], [`settlement::plan`], the ledger's [`Batch`]) and writes
//! the orders, ledger rows, audit events, trades and deliveries in about
//! fifteen multi-row statements, however many requests it holds. An order
//! that trades cost about 34 round trips on its own.
//!
//! The lane keeps its book between batches ([`Book`]): the open orders,
//! their lots and holds. It is valid while the instrument's
//! `last_sequence` is the value the lane's last batch left, because every
//! writer of an instrument's orders or their holds (lanes on any replica,
//! picks, block trades, auctions, the daily close, listing) takes the
//! row's next sequence numbers; otherwise the batch reads the book again.
//! Every check that can refuse a request runs before the request changes
//! anything, so a refused request leaves the batch as it was; an error
//! after that (a broken invariant or the database) fails the whole batch,
//! and the lane forgets its book.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::{Alias, Expr, Func, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};

use super::entity::{delivery, order, order_lot, trade, OrderKind, OrderStatus};
use super::error::MarketError;
use super::holds::{self, Standing};
use super::matching::{self, Incoming, Resting, Side};
use super::orders::{self, Placed, Prepared};
use super::rules::MarketRules;
use super::settlement::{self, Fill, Parties};
use crate::accounts::entity as account;
use crate::instruments::instrument;
use crate::ledger::entity::hold;
use crate::ledger::{Asset, Batch, Command, EventRef, LedgerError, Request};
use crate::orgs::entity::OrgKind;

/// Ids per `IN (…)` list when reading a book back.
const IDS_PER_READ: usize = 1000;

/// What a request asks of its instrument's lane.
pub enum Work {
    Place(std::sync::Arc<Prepared>),
    Cancel(Box<order::Model>),
}

/// What a lane did with a request.
pub enum Done {
    /// The order as its transaction left it, with its trades; `None` when
    /// a concurrent request with the same client id won.
    Placed(Option<Placed>),
    Cancelled(order::Model),
}

/// An instrument's open orders as the lane's last batch left them.
pub struct Book {
    /// The instrument's `last_sequence` this picture is of.
    seq: i64,
    book: matching::Book<String>,
    /// The open orders by sequence number.
    orders: HashMap<i64, order::Model>,
    /// Sell orders' lots, in position order, by order id.
    lots: HashMap<String, Vec<order_lot::Model>>,
    /// The open orders' holds by id.
    holds: HashMap<String, hold::Model>,
    last_trade: i64,
}

impl Book {
    async fn read(txn: &DatabaseTransaction, code: &str, seq: i64) -> Result<Book, MarketError> {
        let open = order::Entity::find()
            .filter(order::Column::Instrument.eq(code))
            .filter(order::Column::Status.eq(OrderStatus::Open))
            .order_by_asc(order::Column::Seq)
            .all(txn)
            .await?;
        let sells: Vec<String> = open
            .iter()
            .filter(|o| o.side == "sell")
            .map(|o| o.id.clone())
            .collect();
        let mut lots: HashMap<String, Vec<order_lot::Model>> = HashMap::new();
        for ids in sells.chunks(IDS_PER_READ) {
            for l in order_lot::Entity::find()
                .filter(order_lot::Column::OrderId.is_in(ids.to_vec()))
                .order_by_asc(order_lot::Column::OrderId)
                .order_by_asc(order_lot::Column::Position)
                .all(txn)
                .await?
            {
                lots.entry(l.order_id.clone()).or_default().push(l);
            }
        }
        let hold_ids: Vec<String> = open
            .iter()
            .filter(|o| o.side == "buy")
            .map(|o| settlement::cash_hold_id(&o.id))
            .chain(lots.values().flatten().map(|l| l.hold_id.clone()))
            .collect();
        let mut holds = HashMap::new();
        for ids in hold_ids.chunks(IDS_PER_READ) {
            for h in hold::Entity::find()
                .filter(hold::Column::Id.is_in(ids.to_vec()))
                .all(txn)
                .await?
            {
                holds.insert(h.id.clone(), h);
            }
        }
        let last_trade = settlement::next_trade_seq(txn, code).await? - 1;
        let mut book = matching::Book::new();
        let mut orders = HashMap::new();
        for o in open {
            book.rest(resting(&o));
            orders.insert(o.seq, o);
        }
        Ok(Book {
            seq,
            book,
            orders,
            lots,
            holds,
            last_trade,
        })
    }

    /// The resting orders that orders of `side` for `units` in all, at
    /// limits up to `limit`, can trade with: matching always takes the
    /// other side's best order first, so whatever a batch's orders fill of
    /// the book from before it is a prefix of it (orders of the batch that
    /// rest better only shorten it), never longer than `units` plus what
    /// the batch's cancels take out of that side.
    fn consumed(
        &self,
        side: Side,
        limit: i64,
        units: i64,
    ) -> impl Iterator<Item = &order::Model> + '_ {
        let mut before = 0;
        self.book
            .orders(side.opposite())
            .take_while(move |r| {
                let more = before < units && side.crosses(limit, r.price);
                before += r.remaining;
                more
            })
            .map(|r| &self.orders[&(r.seq as i64)])
    }

    /// The ledger holds of an open order.
    fn hold_ids(&self, o: &order::Model) -> Vec<String> {
        if o.side == "buy" {
            vec![settlement::cash_hold_id(&o.id)]
        } else {
            self.lots
                .get(&o.id)
                .map(|ls| ls.iter().map(|l| l.hold_id.clone()).collect())
                .unwrap_or_default()
        }
    }

    fn find(&self, id: &str, seq: i64) -> Option<&order::Model> {
        self.orders.get(&seq).filter(|o| o.id == id)
    }
}

fn resting(o: &order::Model) -> Resting<String> {
    Resting {
        seq: o.seq as u64,
        owner: o.organization_id.clone(),
        side: orders::side_of(o),
        price: o.price,
        remaining: o.remaining,
    }
}

impl Lane {
    /// The best `n` levels of each side (bids, asks) as the last batch
    /// left the book: (price, quantity, orders). `None` when the lane does
    /// not know its book (its last batch failed).
    #[allow(clippy::type_complexity)]
    pub fn depth(&self, n: usize) -> Option<(Vec<(i64, i64, i64)>, Vec<(i64, i64, i64)>)> {
        let book = self.book.as_ref()?;
        let side = |s| {
            book.book
                .levels(s, n)
                .into_iter()
                .map(|(p, q, k)| (p, q, k as i64))
                .collect()
        };
        Some((side(Side::Buy), side(Side::Sell)))
    }
}

/// The lane's state across batches.
#[derive(Default)]
pub struct Lane {
    book: Option<Book>,
    /// Accounts seen (never deleted; their flags never change).
    accounts: HashMap<String, account::Model>,
}

/// One instrument's share of a batch: its requests and its lane.
pub struct Group<'a> {
    pub code: &'a str,
    /// The instrument's fee account.
    pub fees: &'a account::Model,
    pub lane: &'a mut Lane,
    pub works: &'a [(Work, DateTime<FixedOffset>)],
}

/// Runs a batch of one or more instruments' requests in one transaction
/// (again after a deadlock, up to three times; after a lost client-id
/// race without the losers, which are answered `None`). Answers each
/// group's requests in its order.
pub async fn run(
    db: &DatabaseConnection,
    rules: &MarketRules,
    groups: &mut [Group<'_>],
) -> Result<Vec<Vec<Result<Done, MarketError>>>, MarketError> {
    let mut lost = HashSet::new();
    let mut deadlocks = 0;
    let mut optimistic = true;
    loop {
        let outcome = attempt(db, rules, groups, &lost, optimistic).await;
        if outcome.is_err() {
            // The books were worked on in memory: what the rollback undid
            // is read again.
            for g in groups.iter_mut() {
                g.lane.book = None;
            }
        }
        match outcome {
            Ok(out) => return Ok(out),
            Err(Failed::Stale) => {
                tracing::debug!(
                    instruments = groups.len(),
                    "balances changed meanwhile; locking them"
                );
                optimistic = false;
            }
            Err(Failed::Lost(ids)) => {
                // Each run without the losers has fewer orders to insert;
                // one that names none would only run again.
                if ids.iter().all(|k| lost.contains(k)) {
                    return Err(MarketError::Database(sea_orm::DbErr::Custom(
                        "an order was not inserted, yet no client id was taken".into(),
                    )));
                }
                lost.extend(ids);
            }
            Err(Failed::Error(e)) => {
                if e.is_deadlock() && deadlocks < 3 {
                    deadlocks += 1;
                    tracing::info!(error = %e, "deadlock victim; running the batch again");
                    continue;
                }
                return Err(e);
            }
        }
    }
}

enum Failed {
    /// Requests (group, place in it) whose client id a concurrent request
    /// took first.
    Lost(Vec<(usize, usize)>),
    /// A balance read without a lock had changed so that a request would
    /// have been refused: the batch runs again with its balances locked.
    Stale,
    Error(MarketError),
}

impl<E: Into<MarketError>> From<E> for Failed {
    fn from(e: E) -> Failed {
        Failed::Error(e.into())
    }
}

/// One instrument's working state in a batch.
struct BatchState<'a> {
    rules: &'a MarketRules,
    i: &'a instrument::Model,
    fees: &'a account::Model,
    book: &'a mut Book,
    /// The batch's ledger, lent to each instrument in turn.
    ledger: Batch,
    /// The instrument's credit assets, oldest batch first.
    credits: Vec<(String, Asset)>,
    /// Open and pending buy orders' remaining units, by organisation.
    buying: HashMap<String, i64>,
    /// Units bought, by (organisation, trading day).
    bought: HashMap<(String, String), i64>,
    out: Written,
}

/// What an instrument's requests need read before they are worked out.
struct Plan {
    i: instrument::Model,
    /// The sequence number before the batch's.
    before: i64,
    /// Accounts whose balances the requests may change.
    touched: Vec<String>,
    known: Vec<account::Model>,
    /// Holds of the resting orders the requests may fill or cancel.
    named_holds: Vec<hold::Model>,
    credits: Vec<(String, Asset)>,
    buyers: Vec<String>,
    sellers: Vec<String>,
    days: BTreeSet<String>,
}

/// What each request came to: an order's place in its group's
/// `new_orders` and its trades' places in its `trades`, or the cancelled
/// order's sequence.
enum Outcome {
    /// The order as its placing left it, and its trades' places.
    Placed(Box<order::Model>, Vec<usize>),
    Lost,
    Cancelled(i64),
    Refused(MarketError),
}

/// What an instrument's requests write, kept until the batch writes every
/// instrument's rows together.
#[derive(Default)]
struct Written {
    new_orders: Vec<order::Model>,
    /// Orders from before the batch that it changed, by sequence.
    changed: BTreeSet<i64>,
    /// Changed orders no longer open, by sequence (no longer in the book).
    closed: HashMap<i64, order::Model>,
    lots: Vec<order_lot::Model>,
    trades: Vec<(trade::Model, EventRef)>,
    deliveries: Vec<delivery::ActiveModel>,
    /// Orders whose holds the batch changed, by sequence; and the holds of
    /// the orders it closed (the lane forgets them).
    refresh: BTreeSet<i64>,
    dropped: Vec<String>,
}

/// What an instrument's requests came to.
struct Worked {
    outcomes: Vec<Outcome>,
    /// The orders from before the batch that it changed, as it left them.
    changed: Vec<order::ActiveModel>,
    out: Written,
}

type Entries = Vec<Option<Result<orders::Entry, MarketError>>>;

/// Whom each order of each group is for, read in the batch's transaction:
/// one read of the organisations and one of the grants for all of them.
/// `None` for cancels.
async fn entries_of(
    txn: &DatabaseTransaction,
    groups: &[Group<'_>],
) -> Result<Vec<Entries>, MarketError> {
    let asks: Vec<(&crate::ids::UserId, &str)> = groups
        .iter()
        .flat_map(|g| g.works.iter())
        .filter_map(|(w, _)| match w {
            Work::Place(order) => Some((&order.placed_by, order.organization_id.as_str())),
            Work::Cancel(_) => None,
        })
        .collect();
    let mut acting = super::participants::acting_for_each(txn, "organization_id", &asks)
        .await?
        .into_iter();
    Ok(groups
        .iter()
        .map(|g| {
            g.works
                .iter()
                .map(|(w, _)| match w {
                    Work::Place(order) => Some(
                        acting
                            .next()
                            .expect("one answer per order")
                            .map(|me| order.entry(me)),
                    ),
                    Work::Cancel(_) => None,
                })
                .collect()
        })
        .collect())
}

/// Takes the instrument's row (and a sequence number per request), makes
/// sure the lane's book is the instrument's, and finds what the requests
/// may touch: their participants, and the owners of the resting orders
/// they can fill (only those: every cash row locked here is one the
/// other instruments' batches wait for).
async fn plan(
    txn: &DatabaseTransaction,
    g: &mut Group<'_>,
    entries: &Entries,
) -> Result<Plan, MarketError> {
    let (code, works) = (g.code, g.works);
    let n = works.len() as i64;
    let i = orders::lock_instrument(txn, code, n).await?;
    let before = i.last_sequence - n;
    if g.lane.book.as_ref().map(|b| b.seq) != Some(before) {
        g.lane.book = Some(Book::read(txn, code, before).await?);
    }
    let book = g.lane.book.as_ref().expect("read above");

    let mut touched: Vec<String> = Vec::new();
    let mut known: Vec<account::Model> = vec![g.fees.clone()];
    let (mut highest_bid, mut lowest_ask) = (None::<i64>, None::<i64>);
    let (mut buying_units, mut selling_units) = (0i64, 0i64);
    let mut buyers = Vec::new();
    let mut sellers = Vec::new();
    let mut days = BTreeSet::new();
    for ((work, now), entry) in works.iter().zip(entries) {
        match work {
            Work::Place(order) => {
                let Some(Ok(entry)) = entry else { continue };
                let me = &entry.me;
                touched.push(me.account.id.clone());
                known.push(me.account.clone());
                days.insert(crate::clock::china_day(*now));
                match order.side {
                    Side::Buy => {
                        buying_units += order.quantity();
                        highest_bid = highest_bid.max(Some(order.price));
                        if me.org.kind != OrgKind::ReservePlatform {
                            buyers.push(me.org.id.clone());
                        }
                    }
                    Side::Sell => {
                        selling_units += order.quantity();
                        lowest_ask = Some(lowest_ask.map_or(order.price, |p| p.min(order.price)));
                        sellers.push(me.org.id.clone());
                    }
                }
            }
            Work::Cancel(o) => touched.push(o.account_id.clone()),
        }
    }
    // A cancel in the batch takes its order out of the book, and the
    // orders behind it move up: what it had left widens the prefix.
    for (work, _) in works {
        if let Work::Cancel(o) = work {
            if let Some(open) = book.find(&o.id, o.seq) {
                match orders::side_of(open) {
                    Side::Sell => buying_units += open.remaining,
                    Side::Buy => selling_units += open.remaining,
                }
            }
        }
    }
    let mut makers: Vec<&order::Model> = Vec::new();
    if let Some(p) = highest_bid {
        makers.extend(book.consumed(Side::Buy, p, buying_units));
    }
    if let Some(p) = lowest_ask {
        makers.extend(book.consumed(Side::Sell, p, selling_units));
    }
    touched.extend(makers.iter().map(|m| m.account_id.clone()));
    let mut named: Vec<&order::Model> = makers;
    for (work, _) in works {
        if let Work::Cancel(o) = work {
            named.extend(book.find(&o.id, o.seq));
        }
    }
    let named_holds = named
        .iter()
        .flat_map(|o| book.hold_ids(o))
        .filter_map(|id| book.holds.get(&id).cloned())
        .collect();

    let credits: Vec<(String, Asset)> = holds::batches_of(txn, code)
        .await?
        .into_iter()
        .map(|b| {
            let asset = holds::credit_asset(&b)?;
            Ok((b, asset))
        })
        .collect::<Result<_, MarketError>>()?;
    Ok(Plan {
        i,
        before,
        touched,
        known,
        named_holds,
        credits,
        buyers,
        sellers,
        days,
    })
}

async fn attempt(
    db: &DatabaseConnection,
    rules: &MarketRules,
    groups: &mut [Group<'_>],
    lost: &HashSet<(usize, usize)>,
    optimistic: bool,
) -> Result<Vec<Vec<Result<Done, MarketError>>>, Failed> {
    let txn = crate::db::begin_write(db).await?;
    let entries = entries_of(&txn, groups).await?;
    // Instruments' rows are taken in code order, so batches of
    // overlapping instruments (other replicas') wait rather than deadlock.
    let mut by_code: Vec<usize> = (0..groups.len()).collect();
    by_code.sort_by_key(|&k| groups[k].code);
    let mut plans: Vec<Option<Plan>> = (0..groups.len()).map(|_| None).collect();
    for &k in &by_code {
        plans[k] = Some(plan(&txn, &mut groups[k], &entries[k]).await?);
    }
    let plans: Vec<Plan> = plans.into_iter().map(|p| p.expect("planned")).collect();

    // One ledger for the batch: every balance it may lower read (or
    // locked) in one statement, in account order.
    let touched: Vec<String> = plans.iter().flat_map(|p| p.touched.clone()).collect();
    let mut assets = vec![Asset::cny()];
    for p in &plans {
        assets.extend(p.credits.iter().map(|(_, a)| a.clone()));
    }
    let mut ledger = Batch::default();
    for (g, p) in groups.iter().zip(&plans) {
        for a in g.lane.accounts.values().chain(&p.known) {
            ledger.know_account(a.clone());
        }
    }
    if optimistic {
        ledger.read_balances(&txn, &touched, &assets).await?;
    } else {
        ledger.lock_balances(&txn, &touched, &assets).await?;
    }
    ledger.add_accounts(&txn, &touched).await?;
    for (g, p) in groups.iter_mut().zip(&plans) {
        for id in &p.touched {
            if let Some(a) = ledger.account(id) {
                g.lane.accounts.insert(id.clone(), a.clone());
            }
        }
        for h in &p.named_holds {
            ledger.know_hold(h.clone());
        }
    }
    // Client ids used before (committed): those requests are answered
    // with their first use, or refused, once the batch committed.
    let mut client_ids = taken(&txn, entries.iter().flatten()).await?;

    let mut worked = Vec::with_capacity(groups.len());
    for (gk, ((g, p), entries)) in groups.iter_mut().zip(plans).zip(&entries).enumerate() {
        let buying = buying(&txn, g.code, &p.buyers).await?;
        let bought = if rules.t_plus_one {
            bought(&txn, g.code, &p.sellers, &p.days).await?
        } else {
            HashMap::new()
        };
        let book = g.lane.book.as_mut().expect("planned");
        let mut w = BatchState {
            rules,
            i: &p.i,
            fees: g.fees,
            book,
            ledger: std::mem::take(&mut ledger),
            credits: p.credits,
            buying,
            bought,
            out: Written::default(),
        };
        let mut outcomes = Vec::with_capacity(g.works.len());
        for (k, ((work, now), entry)) in g.works.iter().zip(entries).enumerate() {
            let seq = p.before + 1 + k as i64;
            let outcome = match (work, entry) {
                (Work::Place(_), Some(Err(refused))) => Outcome::Refused(refused.replicate()),
                (Work::Place(order), Some(Ok(entry))) => {
                    let key = (entry.me.org.id.clone(), entry.client_id());
                    if lost.contains(&(gk, k)) || client_ids.contains(&key) {
                        // Its first use is answered once the batch committed.
                        Outcome::Lost
                    } else {
                        match w.place(order, entry, seq, *now)? {
                            Ok((placed, trades)) => {
                                client_ids.insert(key);
                                Outcome::Placed(Box::new(w.out.new_orders[placed].clone()), trades)
                            }
                            Err(refused) => Outcome::Refused(refused),
                        }
                    }
                }
                (Work::Cancel(o), _) => match w.cancel(o, *now)? {
                    Ok(seq) => Outcome::Cancelled(seq),
                    Err(refused) => Outcome::Refused(refused),
                },
                (Work::Place(_), None) => unreachable!("every order has its entry"),
            };
            outcomes.push(outcome);
        }
        let changed: Vec<order::ActiveModel> = w
            .out
            .changed
            .iter()
            .map(|seq| {
                w.out
                    .closed
                    .get(seq)
                    .or_else(|| w.book.orders.get(seq))
                    .expect("a changed order is open or closed")
                    .clone()
                    .into_active_model()
            })
            .collect();
        let BatchState {
            ledger: lent, out, ..
        } = w;
        ledger = lent;
        worked.push((
            p.i,
            Worked {
                outcomes,
                changed,
                out,
            },
        ));
    }

    // The orders first: a client id a concurrent request took meanwhile
    // shows here, before anything else is written.
    let new_orders: Vec<&order::Model> =
        worked.iter().flat_map(|(_, w)| &w.out.new_orders).collect();
    let mut inserted = HashSet::new();
    for rows in new_orders.chunks(IDS_PER_READ) {
        let written =
            order::Entity::insert_many(rows.iter().map(|o| (*o).clone().into_active_model()))
                .on_conflict(
                    OnConflict::columns([
                        order::Column::OrganizationId,
                        order::Column::ClientOrderId,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_with_returning(&txn)
                .await?;
        inserted.extend(written.into_iter().map(|o| o.id));
    }
    if inserted.len() != new_orders.len() {
        txn.rollback().await?;
        let inserted = &inserted;
        let losers = worked
            .iter()
            .enumerate()
            .flat_map(|(gk, (_, w))| {
                w.outcomes
                    .iter()
                    .enumerate()
                    .filter_map(move |(k, o)| match o {
                        Outcome::Placed(o, _) if !inserted.contains(&o.id) => Some((gk, k)),
                        _ => None,
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        return Err(Failed::Lost(losers));
    }
    let changed: Vec<order::ActiveModel> = worked
        .iter_mut()
        .flat_map(|(_, w)| std::mem::take(&mut w.changed))
        .collect();
    for rows in changed.chunks(IDS_PER_READ) {
        order::Entity::insert_many(rows.to_vec())
            .on_conflict(
                OnConflict::column(order::Column::Id)
                    .update_columns([
                        order::Column::Remaining,
                        order::Column::Filled,
                        order::Column::Status,
                        order::Column::Reason,
                        order::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
    }
    // What each lane keeps of the holds: those of the orders still open,
    // as the batch left the ones it touched.
    let holds_after: Vec<Vec<(String, Option<hold::Model>)>> = groups
        .iter()
        .zip(&mut worked)
        .map(|(g, (_, w))| {
            let book = g.lane.book.as_ref().expect("planned");
            let mut after: Vec<(String, Option<hold::Model>)> = std::mem::take(&mut w.out.dropped)
                .into_iter()
                .map(|id| (id, None))
                .collect();
            for seq in &w.out.refresh {
                if let Some(o) = book.orders.get(seq) {
                    for id in book.hold_ids(o) {
                        let h = ledger.hold(&id).cloned();
                        after.push((id, h));
                    }
                }
            }
            after
        })
        .collect();
    let events = ledger.write_rows(&txn).await?;
    let trades: Vec<Vec<trade::Model>> = worked
        .iter_mut()
        .map(|(_, w)| {
            std::mem::take(&mut w.out.trades)
                .into_iter()
                .map(|(mut t, e)| {
                    t.audit_event_id = events[e.0];
                    t
                })
                .collect()
        })
        .collect();
    let all_trades: Vec<&trade::Model> = trades.iter().flatten().collect();
    for rows in all_trades.chunks(IDS_PER_READ) {
        trade::Entity::insert_many(rows.iter().map(|t| (*t).clone().into_active_model()))
            .exec_without_returning(&txn)
            .await?;
    }
    let deliveries: Vec<delivery::ActiveModel> = worked
        .iter_mut()
        .flat_map(|(_, w)| std::mem::take(&mut w.out.deliveries))
        .collect();
    for rows in deliveries.chunks(IDS_PER_READ) {
        delivery::Entity::insert_many(rows.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    let lots: Vec<order_lot::Model> = worked
        .iter_mut()
        .flat_map(|(_, w)| std::mem::take(&mut w.out.lots))
        .collect();
    for rows in lots.chunks(IDS_PER_READ) {
        order_lot::Entity::insert_many(rows.iter().cloned().map(|l| l.into_active_model()))
            .exec_without_returning(&txn)
            .await?;
    }
    if !ledger.write_balances(&txn).await? {
        txn.rollback().await?;
        return Err(Failed::Stale);
    }
    txn.commit().await?;

    let mut answers = Vec::with_capacity(groups.len());
    for ((g, (i, w)), (after, trades)) in groups
        .iter_mut()
        .zip(worked)
        .zip(holds_after.into_iter().zip(trades))
    {
        let book = g.lane.book.as_mut().expect("planned");
        for (id, h) in after {
            match h {
                Some(h) => book.holds.insert(id, h),
                None => book.holds.remove(&id),
            };
        }
        book.seq = i.last_sequence;
        let closed = w.out.closed;
        answers.push(
            w.outcomes
                .into_iter()
                .map(|o| match o {
                    Outcome::Placed(order, ts) => Ok(Done::Placed(Some(Placed {
                        order: *order,
                        trades: ts.into_iter().map(|t| trades[t].clone()).collect(),
                        replayed: false,
                    }))),
                    Outcome::Lost => Ok(Done::Placed(None)),
                    Outcome::Cancelled(seq) => Ok(Done::Cancelled(
                        closed
                            .get(&seq)
                            .cloned()
                            .expect("a cancelled order is closed"),
                    )),
                    Outcome::Refused(e) => Err(e),
                })
                .collect(),
        );
    }
    Ok(answers)
}

/// The (organisation, client id) pairs of the batch's orders that are
/// taken already.
async fn taken(
    txn: &impl ConnectionTrait,
    entries: impl Iterator<Item = &Option<Result<orders::Entry, MarketError>>>,
) -> Result<HashSet<(String, String)>, MarketError> {
    let asked: HashSet<(String, String)> = entries
        .filter_map(|e| match e {
            Some(Ok(entry)) => Some((entry.me.org.id.clone(), entry.client_id())),
            _ => None,
        })
        .collect();
    if asked.is_empty() {
        return Ok(HashSet::new());
    }
    let orgs: BTreeSet<&String> = asked.iter().map(|(o, _)| o).collect();
    let ids: BTreeSet<&String> = asked.iter().map(|(_, c)| c).collect();
    let rows: Vec<(String, String)> = order::Entity::find()
        .select_only()
        .column(order::Column::OrganizationId)
        .column(order::Column::ClientOrderId)
        .filter(order::Column::OrganizationId.is_in(orgs))
        .filter(order::Column::ClientOrderId.is_in(ids))
        .into_tuple()
        .all(txn)
        .await?;
    Ok(rows.into_iter().filter(|r| asked.contains(r)).collect())
}

/// A column's sum as a 64-bit integer on both databases (PostgreSQL sums
/// BIGINTs as NUMERIC).
fn sum_of(e: Expr) -> Expr {
    Expr::from(Func::cast_as(Func::sum(e), Alias::new("BIGINT")))
}

/// Open and pending buy orders' remaining units of the instrument, by
/// organisation (the position limit counts them).
async fn buying(
    txn: &impl ConnectionTrait,
    code: &str,
    orgs: &[String],
) -> Result<HashMap<String, i64>, MarketError> {
    if orgs.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(String, i64)> = order::Entity::find()
        .select_only()
        .column(order::Column::OrganizationId)
        .column_as(sum_of(Expr::col(order::Column::Remaining)), "remaining")
        .filter(order::Column::OrganizationId.is_in(orgs.to_vec()))
        .filter(order::Column::Instrument.eq(code))
        .filter(order::Column::Side.eq("buy"))
        .filter(order::Column::Status.is_in([OrderStatus::Open, OrderStatus::Pending]))
        .group_by(order::Column::OrganizationId)
        .into_tuple()
        .all(txn)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Units of the instrument each organisation bought on each of `days`
/// (locked by T+1).
async fn bought(
    txn: &impl ConnectionTrait,
    code: &str,
    orgs: &[String],
    days: &BTreeSet<String>,
) -> Result<HashMap<(String, String), i64>, MarketError> {
    if orgs.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(String, String, i64)> = trade::Entity::find()
        .select_only()
        .column(trade::Column::BuyerOrganizationId)
        .column(trade::Column::TradingDay)
        .column_as(sum_of(Expr::col(trade::Column::Quantity)), "quantity")
        .filter(trade::Column::BuyerOrganizationId.is_in(orgs.to_vec()))
        .filter(trade::Column::Instrument.eq(code))
        .filter(trade::Column::TradingDay.is_in(days.iter().cloned()))
        .group_by(trade::Column::BuyerOrganizationId)
        .group_by(trade::Column::TradingDay)
        .into_tuple()
        .all(txn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(org, day, n)| ((org, day), n))
        .collect())
}

/// A refusal (nothing of the request happened) inside a batch that goes
/// on, or the batch's failure.
type Step<T> = Result<Result<T, MarketError>, Failed>;

/// An error after a request began to change the batch: the batch fails.
fn broken(e: impl Into<MarketError>) -> Failed {
    Failed::Error(e.into())
}

impl BatchState<'_> {
    /// Places a book order: checks, holds, matches, settles each fill,
    /// rests or cancels the rest (the rules of `orders::place_in`).
    fn place(
        &mut self,
        order: &Prepared,
        entry: &orders::Entry,
        seq: i64,
        now: DateTime<FixedOffset>,
    ) -> Step<(usize, Vec<usize>)> {
        let day = crate::clock::china_day(now);
        let i = self.i;
        let rules = self.rules;
        if let Err(e) = orders::refuse_unless_open(rules, i, now)
            .and_then(|_| orders::check_price(i, rules.band, order.price, "book orders"))
        {
            return Ok(Err(e));
        }
        let me = &entry.me;
        let taker = orders::new_order(
            &order.placed_by,
            rules,
            entry,
            &orders::Terms {
                instrument: i,
                kind: OrderKind::Limit,
                side: order.side,
                price: order.price,
                quantity: order.quantity(),
                tif: order.tif(),
                picked: None,
                status: OrderStatus::Open,
                auction: None,
            },
            seq,
            &day,
            now,
        );
        // What the order holds, checked before anything changes.
        let holds = match self.holds_for(&taker, me, &day) {
            Ok(h) => h,
            Err(e) => return Ok(Err(e)),
        };
        for (req, _) in &holds {
            self.ledger.apply(req, None, now).map_err(broken)?;
        }
        for (req, lot) in holds {
            if let Some(lot) = lot {
                debug_assert_eq!(lot.hold_id, req.id);
                self.book
                    .lots
                    .entry(taker.id.clone())
                    .or_default()
                    .push(lot.clone());
                self.out.lots.push(lot);
            }
        }
        self.ledger.event(
            "market.order_placed",
            orders::placed_event(&taker, &None),
            now,
        );
        if order.side == Side::Buy {
            *self.buying.entry(me.org.id.clone()).or_default() += taker.quantity;
        }

        let matched = self.book.book.submit(Incoming {
            seq: seq as u64,
            owner: me.org.id.clone(),
            side: order.side,
            price: order.price,
            quantity: taker.quantity,
            tif: order.tif(),
        });
        let mut taker = taker;
        let mut trades = Vec::new();
        for f in &matched.fills {
            let maker_seq = f.maker as i64;
            let maker = self.book.orders[&maker_seq].clone();
            let t = self.trade(me, &taker, &maker, f.price, f.quantity, &day, now)?;
            trades.push(t);
            taker.remaining -= f.quantity;
            taker.filled += f.quantity;
            self.fill_maker(maker, f.quantity, now)?;
        }
        let (status, why) = match (taker.remaining, matched.reason) {
            (0, _) => (OrderStatus::Filled, None),
            (_, Some(r)) => (OrderStatus::Cancelled, Some(r.as_str().to_string())),
            _ => (OrderStatus::Open, None),
        };
        taker.status = status;
        taker.reason = why;
        taker.updated_at = now;
        if taker.status == OrderStatus::Open {
            self.book.orders.insert(taker.seq, taker.clone());
            self.out.refresh.insert(taker.seq);
        } else {
            if taker.side == "buy" {
                *self.buying.entry(me.org.id.clone()).or_default() -= taker.remaining;
            }
            self.release_all(&taker, now)?;
            self.forget(&taker);
        }
        self.out.new_orders.push(taker);
        Ok(Ok((self.out.new_orders.len() - 1, trades)))
    }

    /// The ledger holds a new order needs ([`holds::holds_needed`] on the
    /// batch's balances and sums as they stand).
    fn holds_for(
        &self,
        o: &order::Model,
        who: &super::participants::Participant,
        day: &str,
    ) -> Result<Vec<holds::Hold>, MarketError> {
        let account = &who.account.id;
        let balance = |asset: &Asset| self.ledger.balance(account, asset).unwrap_or((0, 0));
        let standing = if o.side == "buy" {
            let (posted, held) = balance(&Asset::cny());
            Standing::Buy {
                holding: self.credits.iter().map(|(_, a)| balance(a).0).sum::<i64>()
                    / self.i.minor_per_lot(),
                buying: self.buying.get(&who.org.id).copied().unwrap_or(0),
                cash: posted - held,
            }
        } else {
            Standing::Sell {
                lots: self
                    .credits
                    .iter()
                    .map(|(b, a)| {
                        let (posted, held) = balance(a);
                        (b.clone(), a.clone(), posted - held)
                    })
                    .filter(|(_, _, g)| *g > 0)
                    .collect(),
                bought_today: self
                    .bought
                    .get(&(who.org.id.clone(), day.to_string()))
                    .copied()
                    .unwrap_or(0),
            }
        };
        holds::holds_needed(o, who, self.i, self.rules, standing)
    }

    /// Settles one fill of `taker` against `maker` (the one-order path's
    /// `trade_with`); answers the trade's place in the batch.
    #[allow(clippy::too_many_arguments)]
    fn trade(
        &mut self,
        me: &super::participants::Participant,
        taker: &order::Model,
        maker: &order::Model,
        price: i64,
        quantity: i64,
        day: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<usize, Failed> {
        let maker_account = self
            .ledger
            .account(&maker.account_id)
            .cloned()
            .ok_or_else(|| broken(sea_orm::DbErr::RecordNotFound(maker.account_id.clone())))?;
        let side = orders::side_of(taker);
        let (buy, sell, buyer, seller) = match side {
            Side::Buy => (taker, maker, &me.account, &maker_account),
            Side::Sell => (maker, taker, &maker_account, &me.account),
        };
        let fill = Fill {
            instrument: self.i,
            buy,
            sell,
            price,
            quantity,
            method: "book",
            taker_side: Some(side.as_str()),
        };
        let parties = Parties {
            buyer,
            seller,
            fees: self.fees,
        };
        let no_lots = Vec::new();
        let lots = self.book.lots.get(&sell.id).unwrap_or(&no_lots);
        let s = settlement::plan(&fill, &parties, self.rules, lots, |id| {
            self.ledger.left_in(id)
        })
        .map_err(broken)?;
        let id = uuid::Uuid::now_v7().to_string();
        let (request, note) = settlement::ledger_request(&fill, &s, &id);
        self.ledger
            .apply(&request, Some(note), now)
            .map_err(broken)?;
        self.book.last_trade += 1;
        let seq = self.book.last_trade;
        let event = self.ledger.event(
            "market.trade",
            settlement::event_body(&fill, &s, &id, seq),
            now,
        );
        let (row, deliveries) = settlement::rows(&fill, &parties, &s, &id, seq, day, 0, now);
        self.out.deliveries.extend(deliveries);
        *self
            .bought
            .entry((buy.organization_id.clone(), day.to_string()))
            .or_default() += quantity;
        *self.buying.entry(buy.organization_id.clone()).or_default() -= quantity;
        self.out.trades.push((row, event));
        Ok(self.out.trades.len() - 1)
    }

    /// A resting order lost `quantity` to a fill (the one-order path's
    /// `record_fill`); a filled buy order gives back the cash it no longer
    /// needs.
    fn fill_maker(
        &mut self,
        mut maker: order::Model,
        quantity: i64,
        now: DateTime<FixedOffset>,
    ) -> Result<(), Failed> {
        maker.remaining -= quantity;
        maker.filled += quantity;
        maker.status = if maker.remaining == 0 {
            OrderStatus::Filled
        } else {
            OrderStatus::Open
        };
        maker.updated_at = now;
        self.note_changed(&maker);
        if maker.status == OrderStatus::Filled {
            if maker.side == "buy" {
                self.release_all(&maker, now)?;
            }
            self.forget(&maker);
            self.book.orders.remove(&maker.seq);
            self.out.closed.insert(maker.seq, maker);
        } else {
            self.out.refresh.insert(maker.seq);
            self.book.orders.insert(maker.seq, maker);
        }
        Ok(())
    }

    /// A closed order leaves the lane's book with its lots and holds.
    fn forget(&mut self, o: &order::Model) {
        self.out.dropped.extend(self.book.hold_ids(o));
        self.book.lots.remove(&o.id);
        self.out.refresh.remove(&o.seq);
    }

    /// Orders from before the batch are written back once; orders of this
    /// batch are written whole at the end.
    fn note_changed(&mut self, o: &order::Model) {
        if !self.out.new_orders.iter().any(|n| n.id == o.id) {
            self.out.changed.insert(o.seq);
        } else if let Some(n) = self.out.new_orders.iter_mut().find(|n| n.id == o.id) {
            *n = o.clone();
        }
    }

    /// Gives back what an order still holds (the one-order path's
    /// `settlement::release_all`).
    fn release_all(&mut self, o: &order::Model, now: DateTime<FixedOffset>) -> Result<(), Failed> {
        let holds: Vec<String> = if o.side == "buy" {
            vec![settlement::cash_hold_id(&o.id)]
        } else {
            self.book
                .lots
                .get(&o.id)
                .map(|ls| ls.iter().map(|l| l.hold_id.clone()).collect())
                .unwrap_or_default()
        };
        for hold_id in holds {
            if self.ledger.left_in(&hold_id) == 0 {
                continue;
            }
            self.ledger
                .apply(
                    &Request {
                        id: format!("{hold_id}:released"),
                        memo: None,
                        command: Command::Release { hold_id },
                    },
                    None,
                    now,
                )
                .map_err(|e: LedgerError| broken(e))?;
        }
        Ok(())
    }

    /// Cancels the rest of an open order and gives back what it holds
    /// (the one-order path's `cancel_in`); answers its sequence.
    fn cancel(&mut self, o: &order::Model, now: DateTime<FixedOffset>) -> Step<i64> {
        let Some(open) = self.book.find(&o.id, o.seq).cloned() else {
            return Ok(Err(orders::not_open(o)));
        };
        let mut cancelled = open;
        cancelled.status = OrderStatus::Cancelled;
        cancelled.reason = Some("cancelled".into());
        cancelled.updated_at = now;
        self.book.book.cancel(cancelled.seq as u64);
        self.book.orders.remove(&cancelled.seq);
        if cancelled.side == "buy" {
            *self
                .buying
                .entry(cancelled.organization_id.clone())
                .or_default() -= cancelled.remaining;
        }
        self.release_all(&cancelled, now)?;
        self.forget(&cancelled);
        self.ledger.event(
            "market.order_cancelled",
            orders::cancelled_event(&cancelled),
            now,
        );
        let seq = cancelled.seq;
        self.note_changed(&cancelled);
        if let Some(n) = self
            .out
            .new_orders
            .iter()
            .position(|n| n.id == cancelled.id)
        {
            self.out.new_orders[n] = cancelled.clone();
        }
        self.out.closed.insert(seq, cancelled);
        Ok(Ok(seq))
    }
}
