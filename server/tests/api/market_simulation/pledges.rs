//! Pledges in the market simulation: traders pledge units to two banks
//! (some with a guarantor, some ranked behind another bank's pledge),
//! banks confirm loans (some over the ratio), record repayments, the
//! pledgors add and take back units; government cuts guidance prices some
//! mornings, the closes value the collateral and make and cure margin
//! calls; defaulted pledges are enforced by the reserve's take-over or by
//! one-way bidding that the other traders bid in. A small model here
//! predicts each refusal and every pledge's state, and after every round:
//! - each pledge row is the model's (status, outstanding, rank, the pledge
//!   it ranks behind, released units, the guarantee's held cash, a call's
//!   deadline) and nothing else was pledged;
//! - pledged units never move except by enforcement: the lots under each
//!   chain hold what confirmations, top-ups and releases left there, each
//!   lot a live ledger hold of exactly its grams;
//! - banks and the guarantor have what the model's rank-order share-outs
//!   and guarantee payments give them, and each enforcement's payments sum
//!   to its sale.
//!
//! At each close every live pledge has one valuation at the lower of the
//! guidance price and the close, called exactly when the model says so.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use futures_util::future::join;
use futures_util::FutureExt;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::{json, Value};

use tanpuhui_server::finance::entity::{lot, pledge, valuation};
use tanpuhui_server::ledger::entity::hold;
use tanpuhui_server::market::entity::trade;

use super::{
    answered, fen_of, minor, next_trading_day, tick, yuan, Event, Expected, Lot, Op, Trader, World,
};
use crate::helpers::{Rng, TestApp};

/// The simulation's cure period (the default is 5 trading days; the run
/// spans about ten).
pub(super) const CURE_TRADING_DAYS: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum St {
    Applied,
    Active,
    Called,
    Enforcing,
    Released,
    Enforced,
    Declined,
    Withdrawn,
}

impl St {
    fn as_str(self) -> &'static str {
        match self {
            St::Applied => "applied",
            St::Active => "active",
            St::Called => "margin_call",
            St::Enforcing => "enforcing",
            St::Released => "released",
            St::Enforced => "enforced",
            St::Declined => "declined",
            St::Withdrawn => "withdrawn",
        }
    }

    fn live(self) -> bool {
        matches!(self, St::Active | St::Called | St::Enforcing)
    }

    /// Repayments, top-ups and guarantees are taken.
    fn open(self) -> bool {
        matches!(self, St::Active | St::Called)
    }
}

#[derive(Clone, Debug)]
pub(super) struct Pl {
    id: String,
    pledgor: usize,
    bank: usize,
    code: String,
    status: St,
    /// Units applied for (a first rank).
    quantity: i64,
    /// The chain's first rank (itself when first).
    root: String,
    rank: i32,
    consented: bool,
    loan: i64,
    outstanding: i64,
    matures: NaiveDate,
    deadline: Option<NaiveDate>,
    /// The last valuation's price (fen), which cures and releases use.
    last_price: i64,
    released: i64,
    /// `Some(held)` once accepted; `None` without a guarantor or declined.
    guarantee: Option<i64>,
    guarantor_named: bool,
    guarantee_answered: bool,
    /// The take-over or auction still waiting.
    enforcement_open: bool,
    /// The last declaration: by auction, its id, a take-over's value.
    enforcement: Option<(bool, String, i64)>,
}

/// Banks, the guarantor, and what the model knows of every pledge.
pub(super) struct Fin {
    pub banks: Vec<Trader>,
    pub guarantor: Trader,
    pledges: Vec<Pl>,
    /// Units held under each chain, by its first rank's id.
    units: HashMap<String, i64>,
    /// Chains a request of this round touches (one request per chain a
    /// round, so the model knows each answer).
    busy: HashSet<String>,
    /// Expected cash of the banks and the guarantor, by account.
    pub cash: HashMap<String, i64>,
    next: u64,
}

impl Fin {
    pub fn new(banks: Vec<Trader>, guarantor: Trader, guarantor_cash: i64) -> Fin {
        let mut cash: HashMap<String, i64> = banks.iter().map(|b| (b.account.clone(), 0)).collect();
        cash.insert(guarantor.account.clone(), guarantor_cash);
        Fin {
            banks,
            guarantor,
            pledges: Vec::new(),
            units: HashMap::new(),
            busy: HashSet::new(),
            cash,
            next: 0,
        }
    }

    pub fn new_round(&mut self) {
        self.busy.clear();
    }

    fn get(&self, id: &str) -> &Pl {
        self.pledges
            .iter()
            .find(|p| p.id == id)
            .expect("a pledge the model knows")
    }

    fn get_mut(&mut self, id: &str) -> &mut Pl {
        self.pledges
            .iter_mut()
            .find(|p| p.id == id)
            .expect("a pledge the model knows")
    }

    /// The live pledges resting on `root`'s units, first rank first.
    fn chain(&self, root: &str) -> Vec<Pl> {
        let mut c: Vec<Pl> = self
            .pledges
            .iter()
            .filter(|p| p.root == root && p.status.live())
            .cloned()
            .collect();
        c.sort_by_key(|p| p.rank);
        c
    }

    /// An instrument with units pledged, if any.
    pub fn pledged_instrument(&self, rng: &mut Rng) -> Option<String> {
        let mut roots: Vec<&String> = self.units.keys().collect();
        roots.sort();
        if roots.is_empty() {
            return None;
        }
        let root = (*rng.pick(&roots)).clone();
        Some(self.get(&root).code.clone())
    }

    /// Units pledged by each (trader, instrument), grams.
    pub fn pledged(&self) -> HashMap<(usize, String), i64> {
        let mut out = HashMap::new();
        for (root, units) in &self.units {
            let p = self.get(root);
            *out.entry((p.pledgor, p.code.clone())).or_default() += units * minor(&p.code);
        }
        out
    }

    /// Marks `root`'s chain as this round's: no other request of the round
    /// is made on it (requests pick among the chains not taken).
    fn take(&mut self, root: &str) {
        self.busy.insert(root.to_string());
    }

    fn reference(&mut self) -> String {
        self.next += 1;
        format!("SIM-P-{}", self.next)
    }

    pub fn is_party(&self, account: &str) -> bool {
        self.cash.contains_key(account)
    }

    /// Applies what a client was told.
    pub fn journal(
        &mut self,
        w_lots: &mut Vec<Lot>,
        ledger: &mut Expected,
        reserve: usize,
        c: &Change,
    ) {
        match c {
            Change::Applied(p) => self.pledges.push(p.clone()),
            Change::Consented(id) => self.get_mut(id).consented = true,
            Change::Confirmed {
                id,
                loan,
                matures,
                price,
            } => {
                let p = self.get_mut(id);
                p.status = St::Active;
                p.loan = *loan;
                p.outstanding = *loan;
                p.matures = *matures;
                p.last_price = *price;
                let (root, q) = (p.root.clone(), p.quantity);
                if root == *id {
                    self.units.insert(id.clone(), q);
                } else {
                    // Ranked at confirmation, behind every live pledge.
                    let last = self
                        .chain(&root)
                        .iter()
                        .filter(|c| c.id != *id)
                        .map(|c| c.rank)
                        .max()
                        .unwrap_or(1);
                    self.get_mut(id).rank = last + 1;
                }
            }
            Change::Ended(id, st) => self.get_mut(id).status = *st,
            Change::Guarantee(id, accepted) => {
                let p = self.get_mut(id);
                p.guarantee_answered = true;
                if *accepted {
                    // Its share (a half) of the outstanding loan, rounded up.
                    p.guarantee = Some((p.outstanding + 1) / 2);
                }
            }
            Change::Repaid(id, amount) => {
                let p = self.get_mut(id);
                p.outstanding -= amount;
                let root = p.root.clone();
                if p.outstanding == 0 {
                    self.release(id);
                } else {
                    self.cure(&root);
                }
            }
            Change::ToppedUp(id, units) => {
                let root = self.get(id).root.clone();
                *self.units.get_mut(&root).unwrap() += units;
                self.cure(&root);
            }
            Change::UnitsReleased(id, units) => {
                *self.units.get_mut(id).unwrap() -= units;
                self.get_mut(id).released += units;
            }
            Change::Declared {
                id,
                auction,
                enforcement,
                value,
            } => {
                let root = self.get(id).root.clone();
                for m in self.chain(&root) {
                    let p = self.get_mut(&m.id);
                    p.status = St::Enforcing;
                    p.enforcement_open = true;
                    p.enforcement = Some((auction.is_some(), enforcement.clone(), *value));
                }
                if let Some(lot) = auction {
                    w_lots.push(lot.clone());
                }
            }
            Change::TakenOver { id, value } => {
                let root = self.get(id).root.clone();
                let chain = self.chain(&root);
                let units = self.units.remove(&root).unwrap();
                let pledgor = chain[0].pledgor;
                let code = chain[0].code.clone();
                let claims: Vec<i64> = chain.iter().map(|p| p.outstanding).collect();
                let (paid, rest) = waterfall(*value, &claims);
                for (p, paid) in chain.iter().zip(&paid) {
                    *self.cash.get_mut(&self.banks[p.bank].account).unwrap() += paid;
                }
                *ledger.cash.entry(pledgor).or_default() += rest;
                *ledger.cash.entry(reserve).or_default() -= value;
                let g = units * minor(&code);
                *ledger.units.entry((pledgor, code.clone())).or_default() -= g;
                *ledger.units.entry((reserve, code)).or_default() += g;
                self.finish(&chain, &paid);
            }
            Change::NotTaken(id) => {
                let root = self.get(id).root.clone();
                for m in self.chain(&root) {
                    self.get_mut(&m.id).enforcement_open = false;
                }
            }
            Change::Refused => {}
        }
    }

    /// Repaid in full: the pledge ends; a first rank's units pass to the
    /// next rank or are the pledgor's again; later ranks move up.
    fn release(&mut self, id: &str) {
        let p = self.get(id).clone();
        let chain = self.chain(&p.root);
        {
            let m = self.get_mut(id);
            m.status = St::Released;
            m.deadline = None;
            m.guarantee = None;
        }
        let behind: Vec<Pl> = chain.into_iter().filter(|c| c.rank > p.rank).collect();
        if p.root == p.id {
            let units = self.units.remove(id).unwrap();
            if let Some(next) = behind.first() {
                self.units.insert(next.id.clone(), units);
                // Every pledge made behind it, live or not, now names the next.
                for m in self
                    .pledges
                    .iter_mut()
                    .filter(|m| m.root == p.id && m.id != p.id)
                {
                    m.root = next.id.clone();
                }
            }
        }
        for b in &behind {
            self.get_mut(&b.id).rank -= 1;
        }
    }

    /// Calls of `root`'s chain the collateral covers again at the first
    /// rank's last price are cured (never made outside a close).
    fn cure(&mut self, root: &str) {
        let chain = self.chain(root);
        let price = chain[0].last_price;
        let units = self.units[root];
        let mut senior = 0;
        for p in &chain {
            let called = under_maintenance(units * price, senior, p.outstanding);
            senior += p.outstanding;
            if p.status == St::Called && !called {
                let m = self.get_mut(&p.id);
                m.status = St::Active;
                m.deadline = None;
                m.last_price = price;
            }
        }
    }

    /// Nothing of the collateral is left: each pledge ends with what it
    /// was paid, a guarantor paying its share of a shortfall.
    fn finish(&mut self, chain: &[Pl], paid: &[i64]) {
        for (p, paid) in chain.iter().zip(paid) {
            let short = p.outstanding - paid;
            let g = p.guarantee.map_or(0, |held| ((short + 1) / 2).min(held));
            *self.cash.get_mut(&self.banks[p.bank].account).unwrap() += g;
            *self.cash.get_mut(&self.guarantor.account).unwrap() -= g;
            let m = self.get_mut(&p.id);
            m.status = St::Enforced;
            m.outstanding = short - g;
            m.guarantee = None;
            m.enforcement_open = false;
        }
    }

    /// An enforcement auction closed: its proceeds (what the pledgor was
    /// credited) go to the banks in rank order; units left unsold stay
    /// pledged for what is still owed, unless the loans are paid.
    pub async fn auction_settled(
        &mut self,
        db: &DatabaseConnection,
        ledger: &mut Expected,
        lot: &Lot,
        context: &str,
    ) {
        let root = lot.pledge.clone().unwrap();
        let a = tanpuhui_server::market::entity::auction::Entity::find_by_id(lot.id.clone())
            .one(db)
            .await
            .unwrap()
            .unwrap();
        let trades = trade::Entity::find()
            .filter(trade::Column::SellOrderId.eq(a.sell_order_id.as_str()))
            .all(db)
            .await
            .unwrap();
        let proceeds: i64 = trades.iter().map(|t| t.value - t.seller_fee).sum();
        let sold: i64 = trades.iter().map(|t| t.quantity).sum();
        let chain = self.chain(&root);
        let claims: Vec<i64> = chain.iter().map(|p| p.outstanding).collect();
        let (paid, _) = waterfall(proceeds, &claims);
        let total: i64 = paid.iter().sum();
        for (p, paid) in chain.iter().zip(&paid) {
            *self.cash.get_mut(&self.banks[p.bank].account).unwrap() += paid;
        }
        *ledger.cash.entry(lot.seller).or_default() -= total;
        let units = self.units.get(&root).copied().unwrap();
        assert_eq!(
            a.quantity, units,
            "{context}: pledge {root}'s auction sold other units than its collateral"
        );
        let left = units - sold;
        if left == 0 || total == claims.iter().sum::<i64>() {
            self.units.remove(&root);
            self.finish(&chain, &paid);
        } else {
            self.units.insert(root.clone(), left);
            for (p, paid) in chain.iter().zip(&paid) {
                let m = self.get_mut(&p.id);
                m.outstanding -= paid;
                m.enforcement_open = false;
            }
        }
    }

    /// The close of `day` valued every live pledge of each instrument:
    /// one valuation each at the lower of the guidance price and the close,
    /// called below the maintenance level; calls made and cured. Answers
    /// (calls, cures).
    pub async fn valued(
        &mut self,
        db: &DatabaseConnection,
        prices: &HashMap<String, i64>,
        day: NaiveDate,
        context: &str,
    ) -> (usize, usize) {
        let day_text = day.format("%Y-%m-%d").to_string();
        let rows: HashMap<String, valuation::Model> = valuation::Entity::find()
            .filter(valuation::Column::Day.eq(day_text.as_str()))
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|v| (v.pledge_id.clone(), v))
            .collect();
        let mut valued = 0;
        let (mut calls, mut cures) = (0, 0);
        let roots: Vec<String> = self.units.keys().cloned().collect();
        for root in roots {
            let chain = self.chain(&root);
            let price = prices[&chain[0].code];
            let units = self.units[&root];
            let mut senior = 0;
            for p in &chain {
                let value = units * price;
                let called = under_maintenance(value, senior, p.outstanding);
                let v = rows
                    .get(&p.id)
                    .unwrap_or_else(|| panic!("{context}: pledge {} not valued on {day}", p.id));
                assert_eq!(
                    (
                        v.price,
                        v.collateral_units,
                        v.value,
                        v.outstanding,
                        v.senior,
                        v.called
                    ),
                    (price, units, value, p.outstanding, senior, called),
                    "{context}: valuation of pledge {} (rank {}) on {day}",
                    p.id,
                    p.rank
                );
                valued += 1;
                senior += p.outstanding;
                let m = self.get_mut(&p.id);
                m.last_price = price;
                if called && m.status == St::Active {
                    m.status = St::Called;
                    m.deadline = Some(cure_deadline(day));
                    calls += 1;
                } else if !called && m.status == St::Called {
                    m.status = St::Active;
                    m.deadline = None;
                    cures += 1;
                }
            }
        }
        assert_eq!(
            rows.len(),
            valued,
            "{context}: valuations of pledges that are not live on {day}"
        );
        (calls, cures)
    }

    /// Every pledge row is the model's; each chain's lots hold its units
    /// under live ledger holds; banks and the guarantor have the cash the
    /// model gives them.
    pub async fn check(&self, db: &DatabaseConnection, context: &str) {
        let rows = pledge::Entity::find().all(db).await.unwrap();
        assert_eq!(
            rows.len(),
            self.pledges.len(),
            "{context}: pledges no client was told of"
        );
        for r in &rows {
            let p = self.get(&r.id);
            let senior = (p.root != p.id).then(|| p.root.clone());
            assert_eq!(
                (
                    r.status.as_str(),
                    r.outstanding,
                    r.rank,
                    r.senior_pledge_id.clone(),
                    r.released_units,
                    r.call_deadline.clone(),
                ),
                (
                    p.status.as_str(),
                    p.outstanding,
                    p.rank,
                    senior,
                    p.released,
                    p.deadline.map(|d| d.format("%Y-%m-%d").to_string()),
                ),
                "{context}: pledge {} (status, outstanding, rank, senior, released, deadline)",
                r.id
            );
            if p.status.live() {
                assert_eq!(
                    r.guarantee_held,
                    p.guarantee.unwrap_or(0),
                    "{context}: pledge {} guarantee held",
                    r.id
                );
            }
        }
        let lots = lot::Entity::find().all(db).await.unwrap();
        let holds: HashMap<String, hold::Model> = hold::Entity::find()
            .filter(hold::Column::Id.is_in(lots.iter().map(|l| l.hold_id.as_str())))
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|h| (h.id.clone(), h))
            .collect();
        let mut held: HashMap<String, i64> = HashMap::new();
        for l in lots.iter().filter(|l| l.grams > 0) {
            let h = &holds[&l.hold_id];
            assert_eq!(
                (h.status.as_str(), h.amount - h.drawn),
                ("held", l.grams),
                "{context}: pledge {}'s lot {} is not its ledger hold",
                l.pledge_id,
                l.hold_id
            );
            *held.entry(l.pledge_id.clone()).or_default() += l.grams;
        }
        let expected: HashMap<String, i64> = self
            .units
            .iter()
            .map(|(root, units)| (root.clone(), units * minor(&self.get(root).code)))
            .collect();
        assert_eq!(held, expected, "{context}: units under each pledge");
        let guaranteed: i64 = self
            .pledges
            .iter()
            .filter(|p| p.status.live())
            .filter_map(|p| p.guarantee)
            .sum();
        let balances = tanpuhui_server::ledger::entity::balance::Entity::find()
            .filter(
                tanpuhui_server::ledger::entity::balance::Column::AccountId
                    .is_in(self.cash.keys().map(String::as_str)),
            )
            .filter(tanpuhui_server::ledger::entity::balance::Column::Asset.eq("cash:CNY"))
            .all(db)
            .await
            .unwrap();
        for (account, cash) in &self.cash {
            let (posted, on_hold) = balances
                .iter()
                .filter(|b| &b.account_id == account)
                .fold((0, 0), |(p, h), b| (p + b.posted, h + b.held));
            let want_held = if *account == self.guarantor.account {
                guaranteed
            } else {
                0
            };
            assert_eq!(
                (posted, on_hold),
                (*cash, want_held),
                "{context}: cash of {account} (posted, held)"
            );
        }
    }
}

/// What a pledge request made happen, as its client was told.
#[derive(Debug, Clone)]
pub(super) enum Change {
    Applied(Pl),
    Consented(String),
    Confirmed {
        id: String,
        loan: i64,
        matures: NaiveDate,
        price: i64,
    },
    /// Declined or withdrawn.
    Ended(String, St),
    /// (pledge, accepted)
    Guarantee(String, bool),
    Repaid(String, i64),
    ToppedUp(String, i64),
    UnitsReleased(String, i64),
    Declared {
        id: String,
        auction: Option<Lot>,
        enforcement: String,
        /// A take-over's value (units × the guidance price that day).
        value: i64,
    },
    TakenOver {
        id: String,
        value: i64,
    },
    /// The reserve declined a take-over: the pledges wait, still enforcing.
    NotTaken(String),
    /// A refusal the model predicted.
    Refused,
}

impl Change {
    pub fn name(&self) -> &'static str {
        match self {
            Change::Applied(_) => "pledges applied",
            Change::Consented(_) => "liens consented",
            Change::Confirmed { .. } => "pledges confirmed",
            Change::Ended(..) => "applications ended",
            Change::Guarantee(..) => "guarantees answered",
            Change::Repaid(..) => "repayments",
            Change::ToppedUp(..) => "top-ups",
            Change::UnitsReleased(..) => "partial releases",
            Change::Declared { auction: None, .. } => "take-overs declared",
            Change::Declared { .. } => "pledge auctions",
            Change::TakenOver { .. } => "take-overs",
            Change::NotTaken(_) => "take-overs declined",
            Change::Refused => "pledge refusals",
        }
    }
}

fn waterfall(proceeds: i64, claims: &[i64]) -> (Vec<i64>, i64) {
    let mut left = proceeds;
    let paid = claims
        .iter()
        .map(|c| {
            let p = (*c).min(left);
            left -= p;
            p
        })
        .collect();
    (paid, left)
}

/// value × 0.8 after earlier ranks is less than what is owed.
fn under_maintenance(value: i64, senior: i64, outstanding: i64) -> bool {
    outstanding > 0 && (value - senior).max(0) * 4 < outstanding * 5
}

fn cure_deadline(day: NaiveDate) -> NaiveDate {
    let mut d = day;
    for _ in 0..CURE_TRADING_DAYS {
        let at = d
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_local_timezone(china())
            .unwrap();
        d = next_trading_day(at).date_naive();
    }
    d
}

fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap()
}

fn path(id: &str, what: &str) -> String {
    format!("/api/v1/pledges/{id}/{what}")
}

fn problem(v: &Value) -> &str {
    v["code"].as_str().unwrap_or("")
}

fn refused(what: &str, status: u16, v: &Value, want: (u16, &[&str])) -> Result<Vec<Event>, String> {
    answered(what, status, &[want.0], v)?;
    if !want.1.contains(&problem(v)) {
        return Err(format!("{what}: {status} {v}, wanted one of {:?}", want.1));
    }
    Ok(vec![Event::Pledge(Change::Refused)])
}

/// The price a pledge is valued at between closes: the lower of the
/// guidance price and the last close.
fn price_now(w: &World, code: &str) -> i64 {
    let i = w.instruments.iter().find(|i| i.code == code).unwrap();
    i.guidance.min(i.reference)
}

/// One pledge request (or a short exchange: an application and its
/// answers, a declaration and the reserve's answer).
pub(super) fn op(
    rng: &mut Rng,
    w: &mut World,
    app: &Arc<TestApp>,
    auctions_close: DateTime<FixedOffset>,
) -> Op {
    let today = auctions_close.date_naive();
    let roll = rng.below(100);
    let live: Vec<Pl> = w
        .fin
        .pledges
        .iter()
        .filter(|p| p.status.live() && !w.fin.busy.contains(&p.root))
        .cloned()
        .collect();
    let pending: Vec<Pl> = w
        .fin
        .pledges
        .iter()
        .filter(|p| p.status == St::Applied && !w.fin.busy.contains(&p.root))
        .cloned()
        .collect();
    match roll {
        0..=27 => apply(rng, w, app, today),
        28..=33 if !pending.is_empty() => {
            let p = rng.pick(&pending).clone();
            w.fin.take(&p.root);
            decide(rng, w, app, p, today)
        }
        34..=45 if live.iter().any(|p| p.status.open()) => {
            let open: Vec<&Pl> = live.iter().filter(|p| p.status.open()).collect();
            let p = (*rng.pick(&open)).clone();
            w.fin.take(&p.root);
            repay(rng, w, app, p)
        }
        46..=53 if live.iter().any(|p| p.status.open()) => {
            let open: Vec<&Pl> = live.iter().filter(|p| p.status.open()).collect();
            let p = (*rng.pick(&open)).clone();
            w.fin.take(&p.root);
            top_up(rng, w, app, p)
        }
        54..=63 if live.iter().any(|p| p.root == p.id) => {
            let first: Vec<&Pl> = live.iter().filter(|p| p.root == p.id).collect();
            let p = (*rng.pick(&first)).clone();
            w.fin.take(&p.root);
            release(rng, w, app, p)
        }
        64..=83 if !live.is_empty() => {
            // Mostly the pledges in default.
            let due: Vec<&Pl> = live.iter().filter(|p| due(p, today)).collect();
            let p = if !due.is_empty() && rng.below(5) != 0 {
                (*rng.pick(&due)).clone()
            } else {
                rng.pick(&live).clone()
            };
            w.fin.take(&p.root);
            enforce(rng, w, app, p, today, auctions_close)
        }
        84..=87
            if live
                .iter()
                .any(|p| p.guarantor_named && !p.guarantee_answered && p.status.open()) =>
        {
            let named: Vec<&Pl> = live
                .iter()
                .filter(|p| p.guarantor_named && !p.guarantee_answered && p.status.open())
                .collect();
            let p = (*rng.pick(&named)).clone();
            w.fin.take(&p.root);
            guarantee(rng, w, app, p)
        }
        _ => wrong(rng, w, app, &live),
    }
}

/// Enforcement may be declared today: a call not cured by its deadline or
/// a loan not repaid at maturity.
fn due(p: &Pl, today: NaiveDate) -> bool {
    (p.status == St::Called && p.deadline.is_some_and(|d| d < today))
        || (p.outstanding > 0 && p.matures < today)
}

/// An application: free units to one of the banks, or (a quarter of the
/// time) the units of a live pledge of the trader's, ranked behind it with
/// the other bank; a third name the guarantor. Then mostly answered at once.
fn apply(rng: &mut Rng, w: &mut World, app: &Arc<TestApp>, today: NaiveDate) -> Op {
    let t = rng.below(w.reserve as u64) as usize;
    // This model counts pledged units whole: land, in hundredths of a mu,
    // is pledged in the black-box tests (`land_steps`).
    let whole: Vec<usize> = (0..w.instruments.len())
        .filter(|&i| super::lots_per_unit(&w.instruments[i].code) == 1)
        .collect();
    let i = *rng.pick(&whole);
    let code = w.instruments[i].code.clone();
    let behind: Vec<Pl> = w
        .fin
        .pledges
        .iter()
        .filter(|p| {
            p.pledgor == t
                && p.code == code
                && p.root == p.id
                && p.status.open()
                && !w.fin.busy.contains(&p.root)
        })
        .cloned()
        .collect();
    let senior = (!behind.is_empty() && rng.below(4) == 0).then(|| rng.pick(&behind).clone());
    let bank = match &senior {
        Some(s) => 1 - s.bank,
        None => rng.below(2) as usize,
    };
    let quantity = 1 + rng.below(60) as i64;
    let guaranteed = rng.below(3) == 0;
    let client_id = w.client_id();
    let mut body = json!({"organization_id": w.traders[t].org, "client_id": client_id,
                          "pledgee_organization_id": w.fin.banks[bank].org, "instrument": code});
    match &senior {
        Some(s) => body["ranks_behind"] = json!(s.id),
        None => body["quantity"] = json!(quantity.to_string()),
    }
    if guaranteed {
        body["guarantor_organization_id"] = json!(w.fin.guarantor.org);
    }
    let root = senior.as_ref().map(|s| s.root.clone());
    if let Some(r) = &root {
        w.fin.take(r);
    }
    let token = w.traders[t].token.clone();
    let app2 = app.clone();
    let model = Pl {
        id: String::new(),
        pledgor: t,
        bank,
        code,
        status: St::Applied,
        quantity: if senior.is_some() { 0 } else { quantity },
        root: root.clone().unwrap_or_default(),
        rank: 0,
        consented: false,
        loan: 0,
        outstanding: 0,
        matures: today,
        deadline: None,
        last_price: 0,
        released: 0,
        guarantee: None,
        guarantor_named: guaranteed,
        guarantee_answered: false,
        enforcement_open: false,
        enforcement: None,
    };
    let chain_rank = root
        .as_ref()
        .map(|r| w.fin.chain(r).iter().map(|p| p.rank).max().unwrap_or(1) + 1);
    // Answered at once, mostly.
    let then = decision(rng, w, app, today, root.as_deref());
    async move {
        let (status, p) = app2.post_as(&token, "/api/v1/pledges", &body).await;
        answered("pledge", status, &[201, 409], &p)?;
        if status == 409 {
            // The units went to orders, offers or other pledges meanwhile.
            if senior.is_some()
                || !["insufficient_units", "units_pledged", "units_unconverted"]
                    .contains(&problem(&p))
            {
                return Err(format!("pledge of {body}: {p}"));
            }
            return Ok(vec![Event::Pledge(Change::Refused)]);
        }
        let mut m = model;
        m.id = p["id"].as_str().unwrap().to_string();
        if m.root.is_empty() {
            m.root = m.id.clone();
        }
        m.rank = chain_rank.unwrap_or(1);
        if p["rank"].as_i64() != Some(i64::from(m.rank)) {
            return Err(format!(
                "pledge ranked {}, the model {}: {p}",
                p["rank"], m.rank
            ));
        }
        let mut events = vec![Event::Pledge(Change::Applied(m.clone()))];
        events.extend(then(m).await?);
        Ok(events)
    }
    .boxed()
}

type Then = Box<dyn FnOnce(Pl) -> Op + Send>;

/// The chain an application behind `root` would join, as the model has it
/// now: its units, what its live pledges owe, its first bank, whether it is
/// still live.
struct Behind {
    units: i64,
    senior: i64,
    first_bank: usize,
    live: bool,
}

/// How an application is answered, chosen now and run once it is made:
/// confirmed (a later rank after its first bank's consent, or refused
/// without it), declined, withdrawn or left.
fn decision(
    rng: &mut Rng,
    w: &mut World,
    app: &Arc<TestApp>,
    today: NaiveDate,
    root: Option<&str>,
) -> Then {
    let how = *rng.pick(&[
        "confirm", "confirm", "confirm", "confirm", "confirm", "confirm", "decline", "withdraw",
        "leave",
    ]);
    let consent = rng.below(4) != 0;
    let twice = rng.below(5) == 0;
    // Loans from 70 % of the largest to a tenth over it, some at the 0.8 maximum ratio,
    // a few over it; most for a year, some due in a few days.
    let (ltv, ltv_text) = match rng.below(10) {
        0 => ((8, 10), Some("0.8")),
        1 => ((9, 10), Some("0.9")),
        _ => ((7, 10), None),
    };
    let share = 70 + rng.below(41) as i64;
    let days = if rng.below(3) == 0 {
        1 + rng.below(4) as i64
    } else {
        365
    };
    let matures = today + Duration::days(days);
    let prices: HashMap<String, i64> = w
        .instruments
        .iter()
        .map(|i| (i.code.clone(), price_now(w, &i.code)))
        .collect();
    let behind = root.map(|r| {
        let chain = w.fin.chain(r);
        Behind {
            units: w.fin.units.get(r).copied().unwrap_or(0),
            senior: chain.iter().map(|p| p.outstanding).sum(),
            first_bank: w.fin.get(r).bank,
            live: !chain.is_empty(),
        }
    });
    let banks: Vec<Trader> = w.fin.banks.clone();
    let traders = w.traders.clone();
    let app = app.clone();
    Box::new(move |m: Pl| {
        async move {
            let bank = &banks[m.bank];
            match how {
                "decline" => {
                    let (status, v) = app
                        .post_as(
                            &bank.token,
                            &path(&m.id, "decline"),
                            &json!({"organization_id": bank.org, "reason": "资料不全"}),
                        )
                        .await;
                    answered("decline", status, &[200], &v)?;
                    return Ok(vec![Event::Pledge(Change::Ended(m.id, St::Declined))]);
                }
                "withdraw" => {
                    let pledgor = &traders[m.pledgor];
                    let (status, v) = app
                        .post_as(
                            &pledgor.token,
                            &path(&m.id, "withdraw"),
                            &json!({"organization_id": pledgor.org}),
                        )
                        .await;
                    answered("withdraw", status, &[200], &v)?;
                    return Ok(vec![Event::Pledge(Change::Ended(m.id, St::Withdrawn))]);
                }
                "leave" => return Ok(vec![]),
                _ => {}
            }
            let mut events = Vec::new();
            let mut consented = m.consented;
            if let (Some(b), true, false) = (&behind, consent, consented) {
                let first = &banks[b.first_bank];
                let (status, v) = app
                    .post_as(
                        &first.token,
                        &path(&m.id, "consent"),
                        &json!({"organization_id": first.org}),
                    )
                    .await;
                answered("consent", status, &[200], &v)?;
                events.push(Event::Pledge(Change::Consented(m.id.clone())));
                consented = true;
            }
            let price = prices[&m.code];
            let (units, senior) = behind
                .as_ref()
                .map_or((m.quantity, 0), |b| (b.units, b.senior));
            let most = (units * price * ltv.0 / ltv.1 - senior).max(0);
            let loan = (most * share / 100).max(1);
            // Rights are pledged only until they lapse.
            let matures = lapses(&m.code).map_or(matures, |last| matures.min(last));
            let mut body = json!({"organization_id": bank.org, "loan_amount": loan.to_string(),
                                  "matures_on": matures.format("%Y-%m-%d").to_string()});
            if let Some(l) = ltv_text {
                body["ltv"] = json!(l);
            }
            let confirm = path(&m.id, "confirm");
            let send = || app.post_as(&bank.token, &confirm, &body);
            let ((status, v), again) = if twice {
                let (a, b) = join(send(), send()).await;
                (a, Some(b))
            } else {
                (send().await, None)
            };
            let refusal = if ltv_text == Some("0.9") {
                Some((422, "invalid_field"))
            } else if behind.is_some() && !consented {
                Some((409, "lien_consent_required"))
            } else if behind.as_ref().is_some_and(|b| !b.live) {
                Some((409, "pledge_not_open"))
            } else if loan > most {
                Some((409, "loan_over_ltv"))
            } else {
                None
            };
            if let Some((status_wanted, code_wanted)) = refusal {
                events.extend(refused(
                    "confirmation",
                    status,
                    &v,
                    (status_wanted, &[code_wanted]),
                )?);
                return Ok(events);
            }
            answered("confirm", status, &[200, 409], &v)?;
            if let Some((s2, v2)) = &again {
                answered("confirm again", *s2, &[200, 409], v2)?;
                if (status == 200) != (*s2 == 200) {
                    return Err(format!(
                        "two confirmations of {} answered {status} and {s2}: {v} {v2}",
                        m.id
                    ));
                }
            }
            if status == 409 {
                // A first rank's units went elsewhere since it applied.
                if behind.is_some()
                    || !["insufficient_units", "units_pledged", "units_unconverted"]
                        .contains(&problem(&v))
                {
                    return Err(format!("confirm of {}: {v}", m.id));
                }
                events.push(Event::Pledge(Change::Refused));
                return Ok(events);
            }
            if v["status"] != "active" || fen_of(v["outstanding"].as_str().unwrap()) != loan {
                return Err(format!("confirmed {} as {v}", m.id));
            }
            events.push(Event::Pledge(Change::Confirmed {
                id: m.id.clone(),
                loan,
                matures,
                price,
            }));
            Ok(events)
        }
        .boxed()
    })
}

/// An application left waiting: answered now.
fn decide(rng: &mut Rng, w: &mut World, app: &Arc<TestApp>, p: Pl, today: NaiveDate) -> Op {
    let root = (p.root != p.id).then(|| p.root.clone());
    let then = decision(rng, w, app, today, root.as_deref());
    then(p)
}

/// The bank records a repayment: part, all, or more than is owed
/// (refused); sometimes the same reference twice (one repayment).
fn repay(rng: &mut Rng, w: &mut World, app: &Arc<TestApp>, p: Pl) -> Op {
    let bank = w.fin.banks[p.bank].clone();
    let amount = match rng.below(10) {
        0..=2 => p.outstanding,
        3 => p.outstanding + 1,
        _ => 1 + rng.below(p.outstanding as u64) as i64,
    };
    let twice = rng.below(4) == 0;
    let reference = w.fin.reference();
    let app = app.clone();
    async move {
        let body = json!({"organization_id": bank.org, "reference": reference, "amount": amount.to_string()});
        let (status, v) = app.post_as(&bank.token, &path(&p.id, "repayments"), &body).await;
        if amount > p.outstanding {
            return refused("repayment over the loan", status, &v, (422, &["invalid_field"]));
        }
        answered("repayment", status, &[200], &v)?;
        if twice {
            let (status, again) = app.post_as(&bank.token, &path(&p.id, "repayments"), &body).await;
            answered("repayment again", status, &[200], &again)?;
            if again["outstanding"] != v["outstanding"] {
                return Err(format!("a repeated repayment counted twice: {v} then {again}"));
            }
        }
        Ok(vec![Event::Pledge(Change::Repaid(p.id, amount))])
    }
    .boxed()
}

/// The pledgor adds units (free ones, or refused); sometimes the same
/// reference again with another quantity (refused), or raced by a
/// repayment of the same pledge.
fn top_up(rng: &mut Rng, w: &mut World, app: &Arc<TestApp>, p: Pl) -> Op {
    let pledgor = w.traders[p.pledgor].clone();
    let bank = w.fin.banks[p.bank].clone();
    let units = 1 + rng.below(20) as i64;
    let reference = w.fin.reference();
    let reuse = rng.below(6) == 0;
    // A repayment at the same time: both land, in either order.
    let race = (rng.below(3) == 0 && p.outstanding > 1)
        .then(|| 1 + rng.below(p.outstanding as u64 - 1) as i64);
    let repay_ref = w.fin.reference();
    let app = app.clone();
    async move {
        let body = json!({"organization_id": pledgor.org, "reference": reference, "quantity": units.to_string()});
        let top_ups = path(&p.id, "top-ups");
        let add = app.post_as(&pledgor.token, &top_ups, &body);
        let ((status, v), repaid) = match race {
            Some(amount) => {
                let pay = json!({"organization_id": bank.org, "reference": repay_ref, "amount": amount.to_string()});
                let (a, (s, r)) = join(add, app.post_as(&bank.token, &path(&p.id, "repayments"), &pay)).await;
                answered("raced repayment", s, &[200], &r)?;
                (a, Some(amount))
            }
            None => (add.await, None),
        };
        let mut events: Vec<Event> = repaid.map(|a| Event::Pledge(Change::Repaid(p.id.clone(), a))).into_iter().collect();
        answered("top-up", status, &[200, 409], &v)?;
        if status == 409 {
            if !["insufficient_units", "units_pledged", "units_unconverted"].contains(&problem(&v)) {
                return Err(format!("top-up of {}: {v}", p.id));
            }
            events.push(Event::Pledge(Change::Refused));
            return Ok(events);
        }
        events.push(Event::Pledge(Change::ToppedUp(p.id.clone(), units)));
        if reuse {
            let mut other = body.clone();
            other["quantity"] = json!((units + 1).to_string());
            let (status, v) = app.post_as(&pledgor.token, &path(&p.id, "top-ups"), &other).await;
            events.extend(refused("top-up reference reused", status, &v, (409, &["id_reused"]))?);
        }
        Ok(events)
    }
    .boxed()
}

/// The pledgor asks for units back: the model says whether the repayments
/// allow it and the maintenance level keeps it, and which refusal.
fn release(rng: &mut Rng, w: &mut World, app: &Arc<TestApp>, p: Pl) -> Op {
    let pledgor = w.traders[p.pledgor].clone();
    let held = w.fin.units[&p.id];
    let units = 1 + rng.below(held.max(1) as u64) as i64;
    let chain = w.fin.chain(&p.id);
    let want: Result<(), &'static str> = if p.status != St::Active || chain.len() > 1 {
        Err("pledge_not_open")
    } else {
        let g = minor(&p.code);
        let (held_g, released_g) = (i128::from(held * g), i128::from(p.released * g));
        let repaid = i128::from(p.loan - p.outstanding);
        let by_repayment =
            ((held_g + released_g) * repaid / i128::from(p.loan)) as i64 - p.released * g;
        // ⌈outstanding ÷ (price × 0.8 per gram)⌉ grams stay.
        let num = i128::from(p.outstanding) * i128::from(g) * 5;
        let den = i128::from(p.last_price) * 4;
        let keep = ((num + den - 1) / den) as i64;
        let by_maintenance = (held * g - keep).clamp(0, held * g);
        if units * g > by_repayment.clamp(0, held * g) {
            Err("release_beyond_repaid")
        } else if units * g > by_maintenance {
            Err("below_maintenance")
        } else {
            Ok(())
        }
    };
    let reference = w.fin.reference();
    let app = app.clone();
    async move {
        let body = json!({"organization_id": pledgor.org, "reference": reference, "quantity": units.to_string()});
        let (status, v) = app.post_as(&pledgor.token, &path(&p.id, "releases"), &body).await;
        match want {
            Err(c) => refused("release", status, &v, (409, &[c])),
            Ok(()) => {
                answered("release", status, &[200], &v)?;
                Ok(vec![Event::Pledge(Change::UnitsReleased(p.id, units))])
            }
        }
    }
    .boxed()
}

/// The bank declares enforcement: refused when the pledge is not in
/// default; otherwise a take-over by the reserve (accepted, declined or
/// left) or a sale by one-way bidding closing at today's auctions' close.
/// A take-over left waiting is answered by the reserve now; a declaration
/// while one waits answers it again.
fn enforce(
    rng: &mut Rng,
    w: &mut World,
    app: &Arc<TestApp>,
    p: Pl,
    today: NaiveDate,
    auctions_close: DateTime<FixedOffset>,
) -> Op {
    let bank = w.fin.banks[p.bank].clone();
    let keeper = w.keeper.1.clone();
    let reserve = w.traders[w.reserve].org.clone();
    let by_auction = rng.below(2) == 0;
    let answer = *rng.pick(&["accept", "accept", "accept", "decline", "leave"]);
    let instr = w
        .instruments
        .iter()
        .find(|i| i.code == p.code)
        .unwrap()
        .clone();
    let reserve_price =
        (instr.reference - 10 * tick(&instr.code, instr.reference)).max(instr.floor.unwrap_or(0));
    let units = w.fin.units[&p.root];
    let mut value = units * instr.guidance;
    let waiting = match (&p.enforcement, p.enforcement_open) {
        (Some((auction, id, declared)), true) => {
            value = *declared;
            Some((*auction, id.clone()))
        }
        _ => None,
    };
    let may = p.status == St::Enforcing || due(&p, today);
    let seller = p.pledgor;
    let app = app.clone();
    let now = app.now();
    async move {
        let mut events = Vec::new();
        let op = match waiting {
            // The reserve answers the take-over waiting.
            Some((false, id)) => id,
            Some((true, _)) => {
                let body = json!({"organization_id": bank.org, "method": "reserve",
                                  "reserve_organization_id": reserve});
                let (status, v) = app.post_as(&bank.token, &path(&p.id, "enforce"), &body).await;
                answered("enforcement while an auction runs", status, &[200], &v)?;
                if v["status"] != "enforcing" || v["enforcement_method"] != "auction" {
                    return Err(format!("a second declaration changed {}: {v}", p.id));
                }
                return Ok(vec![Event::Pledge(Change::Refused)]);
            }
            None => {
                let body = if by_auction {
                    json!({"organization_id": bank.org, "method": "auction",
                           "auction": {"reserve_price": yuan(reserve_price), "opens_at": now.to_rfc3339(),
                                       "closes_at": auctions_close.to_rfc3339(), "min_bid_units": "1"}})
                } else {
                    json!({"organization_id": bank.org, "method": "reserve",
                           "reserve_organization_id": reserve})
                };
                let (status, v) = app.post_as(&bank.token, &path(&p.id, "enforce"), &body).await;
                if !may {
                    return refused("enforcement", status, &v, (409, &["enforcement_not_due"]));
                }
                answered("enforcement", status, &[200], &v)?;
                if v["status"] != "enforcing" {
                    return Err(format!("enforced {} as {v}", p.id));
                }
                let eid = v["enforcement_id"].as_str().unwrap().to_string();
                if by_auction {
                    let lot = Lot {
                        id: eid.clone(),
                        code: p.code.clone(),
                        seller,
                        reserve: reserve_price,
                        cap: units,
                        pledge: Some(p.root.clone()),
                    };
                    return Ok(vec![Event::Pledge(Change::Declared {
                        id: p.id,
                        auction: Some(lot),
                        enforcement: eid,
                        value: 0,
                    })]);
                }
                events.push(Event::Pledge(Change::Declared {
                    id: p.id.clone(),
                    auction: None,
                    enforcement: eid.clone(),
                    value,
                }));
                eid
            }
        };
        let path = |what: &str| format!("/api/v1/reserve/operations/{op}/{what}");
        match answer {
            "accept" => {
                let (status, o) = app
                    .post_as(&keeper, &path("accept"), &json!({"organization_id": reserve}))
                    .await;
                // The reserve's cash may not cover it: the take-over waits.
                answered("take-over", status, &[200, 409], &o)?;
                if status == 200 {
                    if fen_of(o["value"].as_str().unwrap()) != value {
                        return Err(format!(
                            "take-over of {units} units at {} answered {o}",
                            instr.guidance
                        ));
                    }
                    events.push(Event::Pledge(Change::TakenOver { id: p.id, value }));
                }
            }
            "decline" => {
                let (status, o) = app
                    .post_as(
                        &keeper,
                        &path("decline"),
                        &json!({"organization_id": reserve, "reason": "额度已满"}),
                    )
                    .await;
                answered("take-over declined", status, &[200], &o)?;
                events.push(Event::Pledge(Change::NotTaken(p.id)));
            }
            _ => {}
        }
        Ok(events)
    }
    .boxed()
}

/// The guarantor answers a guarantee of a confirmed loan.
fn guarantee(rng: &mut Rng, w: &mut World, app: &Arc<TestApp>, p: Pl) -> Op {
    let g = w.fin.guarantor.clone();
    let accept = rng.below(3) != 0;
    let app = app.clone();
    async move {
        let how = if accept { "accept" } else { "decline" };
        let (status, v) = app
            .post_as(
                &g.token,
                &path(&p.id, &format!("guarantee/{how}")),
                &json!({"organization_id": g.org}),
            )
            .await;
        answered("guarantee", status, &[200, 409], &v)?;
        if status == 409 {
            return refused("guarantee", status, &v, (409, &["insufficient_cash"]));
        }
        Ok(vec![Event::Pledge(Change::Guarantee(p.id, accept))])
    }
    .boxed()
}

/// Requests wrong in themselves: a repayment by the pledgor or the other
/// bank, no units, both a quantity and a pledge to rank behind, a client
/// id again with other terms, selling pledged units.
fn wrong(rng: &mut Rng, w: &mut World, app: &Arc<TestApp>, live: &[Pl]) -> Op {
    let app = app.clone();
    let t = rng.below(w.reserve as u64) as usize;
    let trader = w.traders[t].clone();
    let code0 = w.instruments[0].code.clone();
    let bank = w.fin.banks[0].clone();
    let p = (!live.is_empty()).then(|| rng.pick(live).clone());
    if let Some(p) = &p {
        w.fin.take(&p.root);
    }
    // Above every bid: reference + 8 ticks of the grid, inside the band.
    let high = p.as_ref().map_or(0, |p| {
        let reference = w
            .instruments
            .iter()
            .find(|i| i.code == p.code)
            .unwrap()
            .reference;
        reference + 8 * tick(&p.code, reference)
    });
    let kind = rng.below(5);
    let client_id = w.client_id();
    let pledgor = p.as_ref().map(|p| w.traders[p.pledgor].clone());
    let other_bank = p.as_ref().map(|p| w.fin.banks[1 - p.bank].clone());
    let reference = w.fin.reference();
    async move {
        match (kind, p) {
            (0, Some(p)) => {
                let (pledgor, other) = (pledgor.unwrap(), other_bank.unwrap());
                let body = json!({"organization_id": pledgor.org, "reference": reference, "amount": "1"});
                let (status, v) = app.post_as(&pledgor.token, &path(&p.id, "repayments"), &body).await;
                refused("repayment by the pledgor", status, &v, (404, &["not_found"]))?;
                let body = json!({"organization_id": other.org, "reference": reference, "amount": "1"});
                let (status, v) = app.post_as(&other.token, &path(&p.id, "repayments"), &body).await;
                refused("repayment by another bank", status, &v, (404, &["not_found"]))
            }
            (1, Some(p)) => {
                let pledgor = pledgor.unwrap();
                let body = json!({"organization_id": pledgor.org, "reference": reference, "quantity": "0"});
                let (status, v) = app.post_as(&pledgor.token, &path(&p.id, "top-ups"), &body).await;
                refused("top-up of nothing", status, &v, (422, &["invalid_field"]))
            }
            (2, Some(p)) => {
                // All the units the pledgor has of the instrument, pledged
                // ones among them, offered above every bid in the book.
                let pledgor = pledgor.unwrap();
                let (_, pos) = app
                    .get_as(
                        &pledgor.token,
                        &format!("/api/v1/market/positions?organization_id={}", pledgor.org),
                    )
                    .await;
                let line = pos["positions"]
                    .as_array()
                    .and_then(|l| l.iter().find(|l| l["instrument"] == p.code.as_str()).cloned())
                    .unwrap_or(Value::Null);
                let count = |k: &str| {
                    line[k]
                        .as_str()
                        .and_then(|s| s.parse::<i64>().ok())
                        .unwrap_or(0)
                };
                let qty = count("sellable") + count("pledged");
                let body = json!({"organization_id": pledgor.org, "client_order_id": client_id,
                                  "instrument": p.code, "side": "sell", "price": yuan(high),
                                  "quantity": qty.to_string(), "time_in_force": "ioc"});
                let (status, v) = app
                    .post_as(&pledgor.token, "/api/v1/market/orders", &body)
                    .await;
                answered("sale of pledged units", status, &[201, 409], &v)?;
                if status == 201 {
                    // Units bought meanwhile made room: an order like any.
                    return Ok(vec![Event::Order {
                        id: v["order"]["id"].as_str().unwrap().to_string(),
                        trader: p.pledgor,
                        code: p.code,
                        side: "sell".into(),
                        price: high,
                        qty,
                        tif: "ioc".into(),
                        picked: None,
                        body,
                    }]);
                }
                match problem(&v) {
                    "units_pledged" if v["detail"].as_str().is_some_and(|d| d.contains(&p.root)) => {
                        Ok(vec![Event::Pledge(Change::Refused)])
                    }
                    // Units held by its orders and offers or unconverted, or bought
                    // today (sold from the next trading day).
                    "insufficient_units" | "units_unconverted" | "t_plus_one" => {
                        Ok(vec![Event::Pledge(Change::Refused)])
                    }
                    _ => Err(format!("a sale of {qty} units, {} pledged: {v}", count("pledged"))),
                }
            }
            (3, _) => {
                let body = json!({"organization_id": trader.org, "client_id": client_id, "pledgee_organization_id": bank.org,
                                  "instrument": code0, "quantity": "1", "ranks_behind": "00000000-0000-0000-0000-000000000000"});
                let (status, v) = app.post_as(&trader.token, "/api/v1/pledges", &body).await;
                refused("quantity and ranks_behind", status, &v, (422, &["invalid_field"]))
            }
            _ => {
                let body = json!({"organization_id": trader.org, "client_id": client_id, "pledgee_organization_id": trader.org,
                                  "instrument": code0, "quantity": "1"});
                let (status, v) = app.post_as(&trader.token, "/api/v1/pledges", &body).await;
                refused("a pledge to a trader", status, &v, (404, &["not_found"]))
            }
        }
    }
    .boxed()
}

/// The last valid day of an instrument's rights (the server's default
/// validity), if they lapse.
fn lapses(code: &str) -> Option<chrono::NaiveDate> {
    let c = tanpuhui_server::instruments::Code::parse(code)?;
    tanpuhui_server::rights::rules::RightsRules::default().valid_until(c.class, c.vintage)
}
