//! The matching rules, pure: resting orders and an incoming order (or a
//! pick) in, fills and the new resting state out. No database, no clock,
//! no money: prices are integer fen per unit, quantities whole lots (steps of the instrument), and
//! who owns an order is whatever the caller compares (an organisation id).
//!
//! Rules (DESIGN.md invariant 9):
//! - price then time priority: the best price first, and at one price the
//!   lowest sequence number first;
//! - every fill is at the resting order's price;
//! - an incoming limit order takes the other side while it crosses, then
//!   rests (`gtc`, `day`) or is cancelled (`ioc`);
//! - orders of one owner never trade with each other: when the next
//!   resting order in priority is the incoming order's owner's, matching
//!   stops and the rest of the incoming order, which still crosses, is
//!   cancelled with reason `self_trade` (cancel-newest);
//! - a pick (点选) takes one chosen resting order among the best
//!   `pick_levels` price levels of its side, in full or in part, at its
//!   price, whatever its time priority.
//!
//! After any step the book is not crossed: the best bid is below the best
//! ask.

use std::collections::{BTreeMap, HashMap, VecDeque};

/// Fen per unit.
pub type Price = i64;
/// Lots of the instrument (whole steps: units, or 0.01 mu of land).
pub type Qty = i64;
/// The per-instrument sequence number of an accepted order: time priority.
pub type Seq = u64;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }

    /// Whether an order of this side at `limit` may trade at `resting`.
    pub fn crosses(self, limit: Price, resting: Price) -> bool {
        match self {
            Side::Buy => resting <= limit,
            Side::Sell => resting >= limit,
        }
    }
}

/// How long the rest of an order lives.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum TimeInForce {
    /// Until cancelled.
    Gtc,
    /// Until the day's close.
    Day,
    /// Immediate or cancel: never rests.
    Ioc,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resting<O> {
    pub seq: Seq,
    pub owner: O,
    pub side: Side,
    pub price: Price,
    /// What is left to trade; always positive while resting.
    pub remaining: Qty,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming<O> {
    pub seq: Seq,
    pub owner: O,
    pub side: Side,
    pub price: Price,
    pub quantity: Qty,
    pub tif: TimeInForce,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fill {
    /// The resting order's sequence number.
    pub maker: Seq,
    /// The incoming order's (or pick's) sequence number.
    pub taker: Seq,
    pub price: Price,
    pub quantity: Qty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// The rest of an immediate-or-cancel order.
    Ioc,
    /// The rest would have traded with the owner's own order.
    SelfTrade,
}

impl CancelReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CancelReason::Ioc => "ioc",
            CancelReason::SelfTrade => "self_trade",
        }
    }
}

/// What became of an incoming order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    pub fills: Vec<Fill>,
    /// The quantity left resting in the book (0 when nothing rests).
    pub rests: Qty,
    /// The quantity cancelled, and why (0 and `None` when nothing was).
    pub cancelled: Qty,
    pub reason: Option<CancelReason>,
}

impl Matched {
    pub fn filled(&self) -> Qty {
        self.fills.iter().map(|f| f.quantity).sum()
    }
}

/// Matches `incoming` against the other side's resting orders, given best
/// first (price, then sequence), taking while it crosses. Returns the
/// fills and what becomes of the rest; the caller applies the fills to its
/// resting orders (each fill's maker loses `quantity`). This is the one
/// rule; [`Book::submit`] and the database path both use it.
pub fn take<'a, O: PartialEq + 'a>(
    opposite_best_first: impl IntoIterator<Item = &'a Resting<O>>,
    incoming: &Incoming<O>,
) -> Matched {
    let mut left = incoming.quantity;
    let mut fills = Vec::new();
    let mut reason = None;
    for resting in opposite_best_first {
        if left == 0 || !incoming.side.crosses(incoming.price, resting.price) {
            break;
        }
        debug_assert_eq!(resting.side, incoming.side.opposite());
        if resting.owner == incoming.owner {
            reason = Some(CancelReason::SelfTrade);
            break;
        }
        let q = left.min(resting.remaining);
        fills.push(Fill {
            maker: resting.seq,
            taker: incoming.seq,
            price: resting.price,
            quantity: q,
        });
        left -= q;
    }
    let (rests, cancelled, reason) = match (left, reason, incoming.tif) {
        (0, _, _) => (0, 0, None),
        (_, Some(r), _) => (0, left, Some(r)),
        (_, None, TimeInForce::Ioc) => (0, left, Some(CancelReason::Ioc)),
        (_, None, _) => (left, 0, None),
    };
    Matched {
        fills,
        rests,
        cancelled,
        reason,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PickError {
    #[error("no resting order {0}")]
    NotResting(Seq),
    #[error("the order is not among the best {0} price levels of its side")]
    NotInBestLevels(usize),
    #[error("an order of the taker's own organisation cannot be picked")]
    SelfTrade,
    #[error("the order has only {0} left")]
    TooMuch(Qty),
    #[error("a pick takes a positive quantity")]
    NotPositive,
}

/// Checks a pick of `quantity` of `target` by `owner`, given the distinct
/// prices of the target's side best first: the fill it makes.
pub fn pick<O: PartialEq>(
    target: &Resting<O>,
    best_prices: &[Price],
    pick_levels: usize,
    owner: &O,
    taker: Seq,
    quantity: Qty,
) -> Result<Fill, PickError> {
    if quantity <= 0 {
        return Err(PickError::NotPositive);
    }
    if !best_prices
        .iter()
        .take(pick_levels)
        .any(|p| *p == target.price)
    {
        return Err(PickError::NotInBestLevels(pick_levels));
    }
    if &target.owner == owner {
        return Err(PickError::SelfTrade);
    }
    if quantity > target.remaining {
        return Err(PickError::TooMuch(target.remaining));
    }
    Ok(Fill {
        maker: target.seq,
        taker,
        price: target.price,
        quantity,
    })
}

/// A whole order book in memory: the reference model of the rules, used by
/// the tests, the market simulation's independent check and the benchmark,
/// and the book each instrument's lane keeps between its batches
/// ([`super::engine`]). Picks, which run one by one on the database, call
/// [`pick`] directly.
#[derive(Debug, Clone)]
pub struct Book<O> {
    /// Bids by price (best = highest = last), each level in time order.
    bids: BTreeMap<Price, VecDeque<Resting<O>>>,
    /// Asks by price (best = lowest = first).
    asks: BTreeMap<Price, VecDeque<Resting<O>>>,
    /// Where each resting order is: side and price.
    index: HashMap<Seq, (Side, Price)>,
}

impl<O> Default for Book<O> {
    fn default() -> Self {
        Book {
            bids: BTreeMap::new(),
            asks: BTreeMap::new(),
            index: HashMap::new(),
        }
    }
}

impl<O: PartialEq + Clone> Book<O> {
    pub fn new() -> Self {
        Self::default()
    }

    fn side(&self, side: Side) -> &BTreeMap<Price, VecDeque<Resting<O>>> {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    fn side_mut(&mut self, side: Side) -> &mut BTreeMap<Price, VecDeque<Resting<O>>> {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    /// One side's resting orders, best first.
    pub fn orders(&self, side: Side) -> Box<dyn Iterator<Item = &Resting<O>> + '_> {
        match side {
            Side::Buy => Box::new(self.bids.values().rev().flatten()),
            Side::Sell => Box::new(self.asks.values().flatten()),
        }
    }

    /// One side's distinct prices, best first.
    pub fn prices(&self, side: Side) -> Vec<Price> {
        match side {
            Side::Buy => self.bids.keys().rev().copied().collect(),
            Side::Sell => self.asks.keys().copied().collect(),
        }
    }

    /// The best `n` price levels of a side: (price, quantity, orders).
    pub fn levels(&self, side: Side, n: usize) -> Vec<(Price, Qty, usize)> {
        let level = |(p, l): (&Price, &VecDeque<Resting<O>>)| {
            (*p, l.iter().map(|r| r.remaining).sum(), l.len())
        };
        match side {
            Side::Buy => self.bids.iter().rev().take(n).map(level).collect(),
            Side::Sell => self.asks.iter().take(n).map(level).collect(),
        }
    }

    pub fn best(&self, side: Side) -> Option<Price> {
        match side {
            Side::Buy => self.bids.keys().next_back().copied(),
            Side::Sell => self.asks.keys().next().copied(),
        }
    }

    pub fn get(&self, seq: Seq) -> Option<&Resting<O>> {
        let (side, price) = self.index.get(&seq)?;
        self.side(*side).get(price)?.iter().find(|r| r.seq == seq)
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The best bid is below the best ask (or a side is empty).
    pub fn is_crossed(&self) -> bool {
        matches!((self.best(Side::Buy), self.best(Side::Sell)), (Some(b), Some(a)) if b >= a)
    }

    /// Takes `quantity` from resting order `seq`; removes it when done.
    fn reduce(&mut self, seq: Seq, quantity: Qty) {
        let Some(&(side, price)) = self.index.get(&seq) else {
            return;
        };
        let levels = match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        };
        let Some(level) = levels.get_mut(&price) else {
            return;
        };
        if let Some(pos) = level.iter().position(|r| r.seq == seq) {
            level[pos].remaining -= quantity;
            if level[pos].remaining <= 0 {
                level.remove(pos);
                self.index.remove(&seq);
            }
        }
        if level.is_empty() {
            levels.remove(&price);
        }
    }

    /// Matches an incoming order and rests what is left of it.
    pub fn submit(&mut self, incoming: Incoming<O>) -> Matched {
        let matched = take(self.orders(incoming.side.opposite()), &incoming);
        for f in &matched.fills {
            self.reduce(f.maker, f.quantity);
        }
        if matched.rests > 0 {
            self.index
                .insert(incoming.seq, (incoming.side, incoming.price));
            self.side_mut(incoming.side)
                .entry(incoming.price)
                .or_default()
                .push_back(Resting {
                    seq: incoming.seq,
                    owner: incoming.owner,
                    side: incoming.side,
                    price: incoming.price,
                    remaining: matched.rests,
                });
        }
        matched
    }

    /// Takes part or all of a chosen resting order.
    pub fn pick(
        &mut self,
        target: Seq,
        pick_levels: usize,
        owner: &O,
        taker: Seq,
        quantity: Qty,
    ) -> Result<Fill, PickError> {
        let resting = self.get(target).ok_or(PickError::NotResting(target))?;
        let fill = pick(
            resting,
            &self.prices(resting.side),
            pick_levels,
            owner,
            taker,
            quantity,
        )?;
        self.reduce(target, quantity);
        Ok(fill)
    }

    /// Puts an order that rests already (read back from storage) at the
    /// back of its price level: given in sequence order, the levels keep
    /// time priority.
    pub fn rest(&mut self, r: Resting<O>) {
        self.index.insert(r.seq, (r.side, r.price));
        self.side_mut(r.side)
            .entry(r.price)
            .or_default()
            .push_back(r);
    }

    /// Removes a resting order: what it had left, or `None` if it was not
    /// resting.
    pub fn cancel(&mut self, seq: Seq) -> Option<Qty> {
        let left = self.get(seq)?.remaining;
        self.reduce(seq, left);
        Some(left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(seq: Seq, owner: u32, side: Side, price: Price, quantity: Qty) -> Incoming<u32> {
        Incoming {
            seq,
            owner,
            side,
            price,
            quantity,
            tif: TimeInForce::Gtc,
        }
    }

    #[test]
    fn fills_at_the_resting_price_in_price_then_time_order() {
        let mut b = Book::new();
        b.submit(order(1, 1, Side::Sell, 5_100, 10));
        b.submit(order(2, 2, Side::Sell, 5_000, 10));
        b.submit(order(3, 3, Side::Sell, 5_000, 10));
        let m = b.submit(order(4, 4, Side::Buy, 5_200, 25));
        assert_eq!(
            m.fills,
            vec![
                Fill {
                    maker: 2,
                    taker: 4,
                    price: 5_000,
                    quantity: 10
                },
                Fill {
                    maker: 3,
                    taker: 4,
                    price: 5_000,
                    quantity: 10
                },
                Fill {
                    maker: 1,
                    taker: 4,
                    price: 5_100,
                    quantity: 5
                },
            ]
        );
        assert_eq!((m.rests, m.cancelled), (0, 0));
        assert_eq!(b.get(1).unwrap().remaining, 5);
        assert!(!b.is_crossed());
    }

    #[test]
    fn the_rest_of_a_limit_order_rests_and_of_an_ioc_is_cancelled() {
        let mut b = Book::new();
        b.submit(order(1, 1, Side::Sell, 5_000, 10));
        let m = b.submit(order(2, 2, Side::Buy, 5_000, 15));
        assert_eq!((m.filled(), m.rests, m.cancelled), (10, 5, 0));
        assert_eq!(b.best(Side::Buy), Some(5_000));
        let m = b.submit(Incoming {
            tif: TimeInForce::Ioc,
            ..order(3, 3, Side::Sell, 4_000, 8)
        });
        assert_eq!((m.filled(), m.rests, m.cancelled), (5, 0, 3));
        assert_eq!(m.reason, Some(CancelReason::Ioc));
        assert!(b.is_empty());
    }

    #[test]
    fn a_buy_below_the_best_ask_does_not_trade() {
        let mut b = Book::new();
        b.submit(order(1, 1, Side::Sell, 5_000, 10));
        let m = b.submit(order(2, 2, Side::Buy, 4_999, 10));
        assert!(m.fills.is_empty());
        assert_eq!(m.rests, 10);
        assert_eq!(
            (b.best(Side::Buy), b.best(Side::Sell)),
            (Some(4_999), Some(5_000))
        );
    }

    #[test]
    fn own_orders_never_trade_and_the_crossing_rest_is_cancelled() {
        let mut b = Book::new();
        b.submit(order(1, 2, Side::Sell, 5_000, 5));
        b.submit(order(2, 1, Side::Sell, 5_000, 5));
        b.submit(order(3, 2, Side::Sell, 5_100, 5));
        let m = b.submit(order(4, 1, Side::Buy, 5_100, 20));
        assert_eq!(
            m.fills,
            vec![Fill {
                maker: 1,
                taker: 4,
                price: 5_000,
                quantity: 5
            }]
        );
        assert_eq!(
            (m.rests, m.cancelled, m.reason),
            (0, 15, Some(CancelReason::SelfTrade))
        );
        // The own order rests untouched; the book is not crossed.
        assert_eq!(b.get(2).unwrap().remaining, 5);
        assert!(!b.is_crossed());
    }

    #[test]
    fn a_pick_takes_a_chosen_order_among_the_best_levels_at_its_price() {
        let mut b = Book::new();
        for (i, p) in [5_000, 5_010, 5_020, 5_030, 5_040, 5_050]
            .iter()
            .enumerate()
        {
            b.submit(order(i as Seq + 1, 1, Side::Sell, *p, 10));
        }
        b.submit(order(7, 2, Side::Sell, 5_020, 10));
        // Second in time at the third level: a pick ignores time priority.
        assert_eq!(
            b.pick(7, 5, &3, 8, 4),
            Ok(Fill {
                maker: 7,
                taker: 8,
                price: 5_020,
                quantity: 4
            })
        );
        assert_eq!(b.get(7).unwrap().remaining, 6);
        assert_eq!(b.pick(6, 5, &3, 9, 1), Err(PickError::NotInBestLevels(5)));
        assert_eq!(b.pick(1, 5, &1, 9, 1), Err(PickError::SelfTrade));
        assert_eq!(b.pick(1, 5, &3, 9, 11), Err(PickError::TooMuch(10)));
        assert_eq!(b.pick(1, 5, &3, 9, 0), Err(PickError::NotPositive));
        assert_eq!(b.pick(99, 5, &3, 9, 1), Err(PickError::NotResting(99)));
        assert_eq!(b.pick(7, 5, &3, 9, 6).unwrap().quantity, 6);
        assert!(b.get(7).is_none());
        // Once a level empties, the sixth is among the best five.
        b.pick(3, 5, &3, 10, 10).unwrap();
        assert!(b.pick(6, 5, &3, 11, 1).is_ok());
    }

    #[test]
    fn cancel_removes_and_reports_what_was_left() {
        let mut b = Book::new();
        b.submit(order(1, 1, Side::Buy, 5_000, 10));
        b.submit(order(2, 2, Side::Sell, 5_000, 4));
        assert_eq!(b.cancel(1), Some(6));
        assert_eq!(b.cancel(1), None);
        assert!(b.is_empty());
    }

    /// A small generator for the property test, seeded and replayable.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            // xorshift64*
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Random places, picks and cancels on one book keep every rule:
    /// never crossed, fills at the maker's price and inside the taker's
    /// limit, price-then-time priority among the orders that could have
    /// traded, quantities conserved. Replay with MATCHING_SEED=<seed>.
    #[test]
    fn random_operations_keep_the_rules() {
        let seeds: Vec<u64> = match std::env::var("MATCHING_SEED") {
            Ok(s) => vec![s.parse().expect("MATCHING_SEED is a number")],
            Err(_) => (1..=40u64)
                .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
                .collect(),
        };
        for seed in seeds {
            println!("MATCHING_SEED={seed}");
            let mut rng = Rng(seed | 1);
            let mut book: Book<u32> = Book::new();
            // seq -> (side, quantity ever entered, quantity traded, cancelled)
            let mut entered: HashMap<Seq, (Side, Qty)> = HashMap::new();
            let mut traded: HashMap<Seq, Qty> = HashMap::new();
            let mut gone: HashMap<Seq, Qty> = HashMap::new();
            for seq in 1..=2_000u64 {
                let owner = rng.below(6) as u32;
                match rng.below(10) {
                    0..=6 => {
                        let side = if rng.below(2) == 0 {
                            Side::Buy
                        } else {
                            Side::Sell
                        };
                        let price = 4_900 + rng.below(21) as Price * 10;
                        let quantity = 1 + rng.below(50) as Qty;
                        let tif = [TimeInForce::Gtc, TimeInForce::Day, TimeInForce::Ioc]
                            [rng.below(3) as usize];
                        let before: Vec<Resting<u32>> =
                            book.orders(side.opposite()).cloned().collect();
                        let m = book.submit(Incoming {
                            seq,
                            owner,
                            side,
                            price,
                            quantity,
                            tif,
                        });
                        entered.insert(seq, (side, quantity));
                        assert_eq!(m.filled() + m.rests + m.cancelled, quantity, "seed {seed}");
                        if tif == TimeInForce::Ioc {
                            assert_eq!(m.rests, 0, "seed {seed}");
                        }
                        // Priority: the fills are a prefix of the crossing
                        // resting orders best first, each at its price.
                        for (f, r) in m.fills.iter().zip(&before) {
                            assert_eq!((f.maker, f.price), (r.seq, r.price), "seed {seed}");
                            assert!(side.crosses(price, f.price), "seed {seed}");
                            assert_ne!(r.owner, owner, "seed {seed}");
                        }
                        for (i, f) in m.fills.iter().enumerate() {
                            if i + 1 < m.fills.len() {
                                assert_eq!(f.quantity, before[i].remaining, "seed {seed}");
                            }
                            *traded.entry(f.maker).or_default() += f.quantity;
                            *traded.entry(seq).or_default() += f.quantity;
                        }
                        *gone.entry(seq).or_default() += m.cancelled;
                    }
                    7 | 8 => {
                        let side = if rng.below(2) == 0 {
                            Side::Buy
                        } else {
                            Side::Sell
                        };
                        let candidates: Vec<Seq> = book.orders(side).map(|r| r.seq).collect();
                        if candidates.is_empty() {
                            continue;
                        }
                        let target = candidates[rng.below(candidates.len() as u64) as usize];
                        let quantity = 1 + rng.below(30) as Qty;
                        let before = book.get(target).cloned().unwrap();
                        let rank = book
                            .prices(side)
                            .iter()
                            .position(|p| *p == before.price)
                            .unwrap();
                        match book.pick(target, 5, &owner, seq, quantity) {
                            Ok(f) => {
                                assert_eq!(f.price, before.price, "seed {seed}");
                                assert_ne!(before.owner, owner, "seed {seed}");
                                assert!(rank < 5, "seed {seed}");
                                assert!(quantity <= before.remaining, "seed {seed}");
                                *traded.entry(target).or_default() += f.quantity;
                            }
                            Err(PickError::TooMuch(left)) => {
                                assert!(quantity > left, "seed {seed}")
                            }
                            Err(PickError::SelfTrade) => assert_eq!(before.owner, owner),
                            Err(PickError::NotInBestLevels(_)) => {
                                assert!(rank >= 5, "seed {seed}")
                            }
                            Err(e) => panic!("seed {seed}: {e}"),
                        }
                    }
                    _ => {
                        let all: Vec<Seq> = book
                            .orders(Side::Buy)
                            .chain(book.orders(Side::Sell))
                            .map(|r| r.seq)
                            .collect();
                        if let Some(&s) = all.get(rng.below(all.len().max(1) as u64) as usize) {
                            let left = book.cancel(s).unwrap();
                            *gone.entry(s).or_default() += left;
                        }
                    }
                }
                assert!(!book.is_crossed(), "seed {seed}: crossed after {seq}");
                // Conservation: every order's entered quantity is traded,
                // cancelled or still resting.
                if seq % 100 == 0 {
                    for (s, (_, q)) in &entered {
                        let resting = book.get(*s).map_or(0, |r| r.remaining);
                        let t = traded.get(s).copied().unwrap_or(0);
                        let g = gone.get(s).copied().unwrap_or(0);
                        assert_eq!(t + g + resting, *q, "seed {seed}: order {s}");
                    }
                }
            }
        }
    }
}
