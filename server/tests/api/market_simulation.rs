//! A randomized simulation of the market through the HTTP API: rounds of
//! concurrent clients placing, cancelling and picking orders on four
//! instruments (two of carbon, two of other rights), proposing and answering block trades, announcing auctions
//! and bidding in them, depositing and withdrawing cash, offering units to
//! the reserve platform at the guidance price (accepted, declined,
//! withdrawn or left waiting), government publishing price floors and
//! cutting guidance prices some mornings, pledges to two banks with their
//! loans, guarantees, repayments, top-ups, releases, margin calls and
//! enforcement (see `pledges`), with invalid requests mixed in, across
//! daily closes. After every round:
//! - the round's book and pick trades are exactly those a small model
//!   here produces by replaying the accepted orders in sequence-number
//!   order (cancels where the public log placed them), and the book's open
//!   orders are the model's resting ones (a floor cancels exactly the
//!   resting orders below it, and nothing is accepted below it after); block trades are the accepted
//!   proposals, auction trades the model's allocation of the accepted bids;
//! - the book is not crossed;
//! - per participant (the reserve platform among them), cash and units are
//!   what deposits, withdrawals, the trades and accepted buy-backs make them, fees are the fee rate of each trade's value,
//!   and every batch's units add up to what was issued;
//! - nothing is negative, and what is held is what open orders, pending
//!   proposals, lots and bids, waiting buy-backs, live pledges and pending
//!   withdrawals still need;
//! - pledges, their collateral and the banks' and guarantor's cash are the
//!   pledge model's (`pledges`), and each close valued every live pledge;
//! - SO2 (kg) and land indicators (mu, in steps of 0.01 mu at a yuan
//!   tick) trade beside the two forest instruments, each in its own unit
//!   and step — the model counts lots and checks every value exact — and
//!   the free SO2 allocations' unconverted units never leave their
//!   holders except by surrender;
//! - SO2 holders surrender for a compliance year whose deadline is the
//!   run's Wednesday (unconverted units first; refused after it), and
//!   energy-use rights of that year, moved by transfers, lapse after it:
//!   the background loop cancels every unit, and later transfers are
//!   refused; the surrendered and expired sinks hold exactly what clients
//!   saw go to them, so nothing ever leaves them;
//! - a paid SO2 allocation's holder pays instalments: each frees its
//!   units and pays the bureau, whose cash is what clients saw paid.
//!
//! The seed is printed; `MARKET_SEED=<n>` replays the run's choices (the
//! interleaving of concurrent requests is the machine's),
//! `MARKET_SIM_OPS=<n>` sets its length (default 720 operations).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Weekday};
use futures_util::future::{join_all, BoxFuture};
use futures_util::FutureExt;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{json, Value};

use tanpuhui_server::audit::entity::event;
use tanpuhui_server::ledger::entity::{balance, hold};
use tanpuhui_server::market::entity::{
    auction, bar, delivery, order, trade, withdrawal, AuctionStatus, OrderKind, OrderStatus,
    WithdrawalStatus,
};
use tanpuhui_server::registry::entity::batch;
use tanpuhui_server::reserve::entity::{operation, OperationStatus};

use crate::helpers::{
    at, bank, enterprise, issued_forest_batch, issued_report, monday_after, registry,
};
use crate::helpers::{backends, spawn_app_on, Rng, TestApp};

mod pledges;

const CLIENTS: usize = 6;
/// Rounds in a trading day before its close.
const DAY_ROUNDS: usize = 12;
/// Grams of CO2e in a tonne: what a carbon transfer counts in.
const GRAMS: i64 = 1_000_000;

/// Ledger minor units in one unit of the instrument `code` (a tonne, a kg,
/// a m³).
pub(crate) fn minor(code: &str) -> i64 {
    tanpuhui_server::instruments::Code::parse(code)
        .expect("an instrument code")
        .class
        .unit()
        .1
}

/// Market steps in one unit of `code`: land trades in hundredths of a mu,
/// everything else in whole units (the API's `quantity_step`, counted here
/// on its own). The model counts every quantity in these lots.
pub(crate) fn lots_per_unit(code: &str) -> i64 {
    if code.starts_with("TPH-LCI-") || code.starts_with("TPH-LLS-") {
        100
    } else {
        1
    }
}

/// The price tick of `code`, fen: one yuan a mu for land, a fen otherwise.
fn price_tick(code: &str) -> i64 {
    lots_per_unit(code)
}

/// `lots` of `code` as the API writes a quantity (`"0.25"` mu).
pub(crate) fn units_text(code: &str, lots: i64) -> String {
    (Decimal::from(lots) / Decimal::from(lots_per_unit(code)))
        .normalize()
        .to_string()
}

/// A quantity the API wrote, in lots of `code`.
pub(crate) fn lots_of(code: &str, text: &str) -> i64 {
    let lots =
        text.parse::<Decimal>().expect("a decimal quantity") * Decimal::from(lots_per_unit(code));
    assert!(lots.fract().is_zero(), "{text} of {code} is no whole step");
    lots.to_i64().unwrap()
}

/// What `lots` of `code` at `price` fen a unit are worth: exact, because
/// every price of land is on its yuan tick.
pub(crate) fn value_of(code: &str, price: i64, lots: i64) -> i64 {
    let per = lots_per_unit(code);
    assert_eq!(
        price * lots % per,
        0,
        "{lots} lots of {code} at {price} fen"
    );
    price * lots / per
}

/// Ledger minor units in `lots` of `code`.
pub(crate) fn grams_of(code: &str, lots: i64) -> i64 {
    lots * minor(code) / lots_per_unit(code)
}

/// A random quantity of `code` in lots: `lo` to `lo + span − 1` whole
/// units, and for land a random part of a further mu.
fn some_lots(rng: &mut Rng, code: &str, lo: i64, span: u64) -> i64 {
    let units = lo + rng.below(span) as i64;
    let per = lots_per_unit(code);
    if per == 1 {
        units
    } else {
        units * per + rng.below(per as u64) as i64
    }
}

/// The market-wide fee on each side: 5 in 10,000 of the value.
fn fee_rate() -> Decimal {
    Decimal::new(5, 4)
}

/// The second instrument's own rate, set at listing: 12 in 10,000.
const OWN_FEE_RATE: &str = "0.0012";

/// The fee rate of an instrument (the second has its own).
fn rate_of(w: &World, code: &str) -> Decimal {
    if w.instruments.get(1).is_some_and(|i| i.code == code) {
        OWN_FEE_RATE.parse().unwrap()
    } else {
        fee_rate()
    }
}

#[derive(Clone)]
struct Trader {
    email: String,
    org: String,
    account: String,
    token: String,
}

#[derive(Clone)]
struct Instr {
    code: String,
    /// Today's reference price, fen.
    reference: i64,
    /// The guidance price (fen), which buy-backs are paid at.
    guidance: i64,
    /// No order, block or auction below it (fen), once a floor is published.
    floor: Option<i64>,
}

#[derive(Clone)]
struct Proposal {
    id: String,
    seller: usize,
    buyer: usize,
    price: i64,
    qty: i64,
}

#[derive(Clone, Debug)]
struct Lot {
    id: String,
    code: String,
    seller: usize,
    reserve: i64,
    cap: i64,
    /// A pledge's collateral sold by its bank: the chain's first pledge.
    pledge: Option<String>,
}

/// What a client was told happened.
#[derive(Debug, Clone)]
enum Event {
    /// A limit order or a pick, accepted (201).
    Order {
        id: String,
        trader: usize,
        code: String,
        side: String,
        price: i64,
        qty: i64,
        tif: String,
        picked: Option<String>,
        /// The request (limit orders), to send again.
        body: Value,
    },
    /// The first answer again (200, replayed) for an order sent before.
    Replayed,
    Cancelled(String),
    /// (block, seller, buyer, price, quantity)
    Proposed(String, usize, usize, i64, i64),
    /// An accepted proposal's trade id.
    BlockTrade(String, String),
    Announced(String, String, usize, i64, i64),
    Bid {
        id: String,
        seq: i64,
        auction: String,
        price: i64,
        qty: i64,
    },
    Deposited(usize, i64),
    Withdrawn(usize, i64),
    /// (seller, instrument, units, value): a buy-back the reserve accepted.
    SoldToReserve(usize, String, i64, i64),
    Pledge(pledges::Change),
    /// (trader, instrument, grams) surrendered for compliance.
    Surrendered(usize, String, i64),
    /// (from, to, instrument, grams) moved by a registry transfer.
    Transferred(usize, usize, String, i64),
    /// (holder, instrument, fen paid, grams freed): an instalment paid.
    InstalmentPaid(usize, String, i64, i64),
    Nothing,
}

type Op = BoxFuture<'static, Result<Vec<Event>, String>>;

fn fen_of(yuan: &str) -> i64 {
    let (y, f) = yuan.split_once('.').unwrap_or((yuan, "0"));
    y.parse::<i64>().unwrap() * 100 + format!("{f:0<2}")[..2].parse::<i64>().unwrap()
}

fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

fn unexpected(what: &str, status: u16, body: &Value) -> String {
    format!("{what}: unexpected {status} {body}")
}

/// Done (200) or refused with one of `codes`.
fn refused_with(what: &str, status: u16, body: &Value, codes: &[&str]) -> Result<(), String> {
    if status == 200 || body["code"].as_str().is_some_and(|c| codes.contains(&c)) {
        Ok(())
    } else {
        Err(unexpected(what, status, body))
    }
}

/// `status` is one of `allowed`, and a refusal is a problem document with
/// a code.
fn answered(what: &str, status: u16, allowed: &[u16], body: &Value) -> Result<(), String> {
    if !allowed.contains(&status) {
        return Err(unexpected(what, status, body));
    }
    if status >= 400 && body["code"].as_str().is_none() {
        return Err(format!("{what}: {status} without a problem code: {body}"));
    }
    Ok(())
}

struct World {
    traders: Vec<Trader>,
    teller: (String, String),
    bank_id: String,
    instruments: Vec<Instr>,
    /// Accepted limit orders: (owner, body sent, order id).
    orders: Vec<(usize, Value, String)>,
    proposals: Vec<Proposal>,
    lots: Vec<Lot>,
    next_client: u64,
    /// The reserve platform's place among the traders, and its staff.
    reserve: usize,
    keeper: (String, String),
    /// Government staff (email, token), who publish guidance prices.
    gov: (String, String),
    /// The banks that lend against pledges, the guarantor, the pledges.
    fin: pledges::Fin,
    /// Units of free allocations each (trader, instrument) holds
    /// unconverted: held until surrendered or expired, since nothing here
    /// claws back.
    unconverted: HashMap<(usize, String), i64>,
    /// Compliance with rights: SO2 surrendered for a year, energy-use
    /// rights lapsing during the run.
    rights: Rights,
}

/// The rights a run surrenders and lets lapse. The compliance year is the
/// one before the run's third day, whose surrender deadline the run sets
/// (`surrender_days`) to that day: SO2 of the year is surrendered until
/// then, and energy-use rights of the year (valid one year) lapse after
/// it, in the middle of the run.
struct Rights {
    so2: String,
    /// Each SO2 holder and its compliance record for the year.
    records: Vec<(usize, String)>,
    /// The energy-use instrument that lapses: moved by transfers only.
    lapsing: String,
    /// Its allocations' holders and batches.
    batches: Vec<(usize, String)>,
    /// Its last valid day.
    last_day: NaiveDate,
    lapsed: bool,
    /// What clients saw go to `sink:surrendered` and `sink:expired`.
    surrendered: i64,
    expired: i64,
    /// A paid SO2 allocation (3,000 kg at 4.80 in three instalments) to
    /// one enterprise: its holder and id.
    paid: (usize, String),
    /// The ecology bureau's account, which its instalments pay, and the
    /// cash clients saw paid into it.
    bureau_account: String,
    bureau_cash: i64,
}

impl World {
    fn client_id(&mut self) -> String {
        self.next_client += 1;
        format!("sim-{}", self.next_client)
    }
}

#[tokio::test]
async fn random_market_operations_keep_every_invariant() {
    let ops: usize = std::env::var("MARKET_SIM_OPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(720);
    for backend in backends() {
        // A 500 in the simulation is a bug: show its logged cause, and why
        // the background loop could not close an auction or a day.
        tanpuhui_server::telemetry::init(
            tanpuhui_server::config::LogFormat::Text,
            "off,tanpuhui_server::error=error,tanpuhui_server::startup=warn,tanpuhui_server::market::auctions=error",
        );
        let mut rng = Rng::from_env("MARKET_SEED");
        // The run starts on the coming Monday (China) of the test clock;
        // the compliance year is the one before its Wednesday, the last day
        // to surrender for it, which the settings must know at start.
        let clock = tanpuhui_server::clock::TestClock::new();
        let mut day = monday_after(
            clock
                .now()
                .with_timezone(&tanpuhui_server::clock::china_time())
                .date_naive(),
        );
        let last_day = (day + Duration::days(2)).date_naive();
        let compliance_year = last_day.year() - 1;
        let surrender_days =
            (last_day - NaiveDate::from_ymd_opt(compliance_year, 12, 31).unwrap()).num_days();
        let app = Arc::new(
            spawn_app_on(backend, clock, |s| {
                s.rights.surrender_days = u32::try_from(surrender_days).unwrap();
                s.registry.notice_working_days = 0;
                s.market.close_check_secs = 1;
                s.market.block_min_units = 5;
                s.market.auction_min_bid_units = 1;
                s.market.fee_rate = fee_rate();
                s.finance.cure_trading_days = pledges::CURE_TRADING_DAYS;
                // Everybody signs in again each simulated day.
                s.auth_rate_per_minute = 10_000;
            })
            .await,
        );
        app.clock.set(at(day, 13, 1));
        let mut w = setup(&app, compliance_year, last_day).await;
        let mut model = Model::default();
        let mut ledger = Expected::default();
        for t in 0..w.traders.len() {
            ledger.initial(&app.db, t, &w.traders[t].account).await;
        }
        let mut last_event = 0i64;
        let mut last_trade: HashMap<String, i64> = HashMap::new();
        let (mut done, mut round, mut days) = (0, 0, 0);
        let mut totals: BTreeMap<&str, usize> = BTreeMap::new();
        while done < ops {
            round += 1;
            w.fin.new_round();
            let context =
                format!("{backend:?} round {round} (replay with the printed MARKET_SEED)");
            let batch: Vec<Op> = (0..CLIENTS)
                .map(|_| next_op(&mut rng, &mut w, &app, at(day, 14, 50)))
                .collect();
            done += batch.len();
            let mut events = Vec::new();
            for res in join_all(batch).await {
                match res {
                    Ok(e) => events.extend(e),
                    Err(e) => panic!("{context}: {e}"),
                }
            }
            for e in &events {
                *totals.entry(event_name(e)).or_default() += 1;
            }
            journal(&mut w, &mut ledger, &events);
            let new_trades = replay(
                &app.db,
                &mut model,
                &w,
                &events,
                &mut last_event,
                &mut last_trade,
                &context,
            )
            .await;
            ledger.trades(&w, &new_trades);
            check(&app.db, &w, &model, &ledger, &context).await;

            if round % DAY_ROUNDS == 0 {
                days += 1;
                let today = day.format("%Y-%m-%d").to_string();
                app.clock.set(at(day, 15, 0) + Duration::seconds(1));
                closed(&app.db, &w, &today, &context).await;
                model.expire_day_orders();
                let pledge_lots: Vec<Lot> = w
                    .lots
                    .iter()
                    .filter(|l| l.pledge.is_some())
                    .cloned()
                    .collect();
                let auction_trades = auctions_closed(&app.db, &mut w, &model.bids, &context).await;
                model.bids.clear();
                let new_trades = replay(
                    &app.db,
                    &mut model,
                    &w,
                    &[],
                    &mut last_event,
                    &mut last_trade,
                    &context,
                )
                .await;
                assert_eq!(
                    sorted(new_trades.iter().map(|t| t.id.clone()).collect()),
                    sorted(auction_trades),
                    "{context}: the close made other trades than the auctions' awards"
                );
                ledger.trades(&w, &new_trades);
                for lot in &pledge_lots {
                    w.fin
                        .auction_settled(&app.db, &mut ledger, lot, &context)
                        .await;
                }
                check_bars(&app.db, &mut w, &today, &context).await;
                // Pledges are valued at the lower of the day's guidance
                // price and its close.
                let prices: HashMap<String, i64> = w
                    .instruments
                    .iter()
                    .map(|i| (i.code.clone(), i.guidance.min(i.reference)))
                    .collect();
                let (calls, cures) = w
                    .fin
                    .valued(&app.db, &prices, day.date_naive(), &context)
                    .await;
                *totals.entry("margin calls").or_default() += calls;
                *totals.entry("calls cured at a close").or_default() += cures;
                w.proposals.clear();
                check(&app.db, &w, &model, &ledger, &context).await;
                day = next_trading_day(day);
                app.clock.set(at(day, 13, 1));
                for t in w.traders.iter_mut() {
                    t.token = app.token(&t.email).await;
                }
                w.teller.1 = app.token(&w.teller.0).await;
                w.keeper.1 = app.token(&w.keeper.0).await;
                for b in w.fin.banks.iter_mut() {
                    b.token = app.token(&b.email).await;
                }
                w.fin.guarantor.token = app.token(&w.fin.guarantor.email).await;
                expire_lapsed(&app, &mut w, &mut ledger, day.date_naive(), &context).await;
                // Some mornings government publishes a floor at or under
                // the reference price, in force at once: resting orders
                // below it are cancelled (the replay checks it). Other
                // mornings it cuts the guidance price (no floor) to 60–85 %
                // of the reference, mostly of an instrument with pledges:
                // they are valued lower from today's close, and buy-backs
                // are paid less.
                // Every fourth morning the cut is deep (to 60 %), so that
                // most pledges of the instrument are called.
                let morning = rng.below(12);
                let deep = days % 4 == 2;
                if (4..=7).contains(&morning) || deep {
                    let i = match w.fin.pledged_instrument(&mut rng) {
                        Some(code) if deep || rng.below(4) != 0 => {
                            w.instruments.iter().position(|i| i.code == code).unwrap()
                        }
                        _ => rng.below(w.instruments.len() as u64) as usize,
                    };
                    let percent = if deep {
                        60
                    } else {
                        60 + 5 * rng.below(6) as i64
                    };
                    let grid = std::cmp::max(5, price_tick(&w.instruments[i].code));
                    let cut = w.instruments[i].reference * percent / 100 / grid * grid;
                    let gov = app.token(&w.gov.0).await;
                    let (status, g) = app
                        .post_as(
                            &gov,
                            "/api/v1/guidance-prices",
                            &json!({"instrument": w.instruments[i].code, "price": yuan(cut),
                                    "reason": "模拟指导价下调"}),
                        )
                        .await;
                    assert_eq!(status, 201, "{context}: {g}");
                    w.instruments[i].floor = None;
                    w.instruments[i].guidance = cut;
                    *totals.entry("guidance cuts").or_default() += 1;
                }
                if morning < 4 {
                    let i = rng.below(w.instruments.len() as u64) as usize;
                    let reference = w.instruments[i].reference;
                    let floor =
                        reference - tick(&w.instruments[i].code, reference) * rng.below(7) as i64;
                    let gov = app.token(&w.gov.0).await;
                    let (status, g) = app
                        .post_as(
                            &gov,
                            "/api/v1/guidance-prices",
                            &json!({"instrument": w.instruments[i].code, "price": yuan(floor),
                                    "floor": true, "reason": "模拟价格下限"}),
                        )
                        .await;
                    assert_eq!(status, 201, "{context}: {g}");
                    w.instruments[i].floor = Some(floor);
                    w.instruments[i].guidance = floor;
                    *totals.entry("floors").or_default() += 1;
                }
            }
        }
        // Trades in rights are public with their parties; carbon's are not.
        let rights_codes: Vec<String> = w
            .instruments
            .iter()
            .map(|i| i.code.clone())
            .filter(|c| {
                tanpuhui_server::instruments::Code::parse(c)
                    .is_some_and(|c| c.class.bureau().is_some())
            })
            .collect();
        assert_eq!(rights_codes.len(), 2);
        let public: Value = app
            .get("/api/v1/public/rights/trades?limit=100")
            .await
            .json()
            .await
            .unwrap();
        let listed = public["data"].as_array().unwrap();
        let book = trade::Entity::find()
            .filter(trade::Column::Instrument.is_in(rights_codes.clone()))
            .filter(trade::Column::Method.ne("block"))
            .all(&app.db)
            .await
            .unwrap()
            .len();
        assert!(
            listed.len() >= std::cmp::min(book, 100),
            "{backend:?}: {public}"
        );
        for t in listed {
            assert!(
                rights_codes.contains(&t["instrument"].as_str().unwrap().to_string())
                    && t["buyer_name"].as_str().is_some_and(|n| !n.is_empty()),
                "{backend:?}: {t}"
            );
        }
        let below_floor = order::Entity::find()
            .filter(order::Column::Reason.eq("below_floor"))
            .all(&app.db)
            .await
            .unwrap()
            .len();
        let land_code = w
            .instruments
            .iter()
            .map(|i| i.code.clone())
            .find(|c| lots_per_unit(c) > 1)
            .expect("a land instrument");
        let land = trade::Entity::find()
            .filter(trade::Column::Instrument.eq(land_code.as_str()))
            .all(&app.db)
            .await
            .unwrap();
        assert!(
            ops < 720 || land.iter().any(|t| t.quantity % 100 != 0),
            "{backend:?}: a full run trades land in parts of a mu"
        );
        eprintln!(
            "{backend:?}: {done} operations in {round} rounds over {days} closes; {} trades, {} of land ({} mu, {} of it in parts of a mu); {below_floor} orders cancelled by floors; {} kg of SO2 surrendered, {} tce of energy-use rights expired{}; {totals:?}",
            trade::Entity::find().all(&app.db).await.unwrap().len(),
            land.len(),
            units_text(&land_code, land.iter().map(|t| t.quantity).sum()),
            land.iter().filter(|t| t.quantity % 100 != 0).count(),
            w.rights.surrendered / minor(&w.rights.so2),
            w.rights.expired / minor(&w.rights.lapsing),
            if w.rights.lapsed { "" } else { " (the run ended before they lapsed)" },
        );
    }
}

fn event_name(e: &Event) -> &'static str {
    match e {
        Event::Order { picked: None, .. } => "orders",
        Event::Order { .. } => "picks",
        Event::Replayed => "replays",
        Event::Cancelled(_) => "cancels",
        Event::Proposed(..) => "proposals",
        Event::BlockTrade(..) => "block trades",
        Event::Announced(..) => "auctions",
        Event::Bid { .. } => "bids",
        Event::Deposited(..) => "deposits",
        Event::Withdrawn(..) => "withdrawals",
        Event::SoldToReserve(..) => "buy-backs",
        Event::Pledge(c) => c.name(),
        Event::Surrendered(..) => "surrenders",
        Event::Transferred(..) => "energy-use transfers",
        Event::InstalmentPaid(..) => "instalments paid",
        Event::Nothing => "refused or empty",
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn next_trading_day(day: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
    let mut next = day + Duration::days(1);
    while matches!(next.weekday(), Weekday::Sat | Weekday::Sun) {
        next += Duration::days(1);
    }
    next
}

/// Two forest instruments (vintages year − 1 and year − 2) listed at 36.00
/// and 20.00, the second with its own fee rate; the registry's enterprise holds both, two other enterprises
/// get 1,000 t of each by transfer, a third holds only cash; everybody
/// has cash from the bank.
async fn setup(app: &Arc<TestApp>, compliance_year: i32, last_day: NaiveDate) -> World {
    let r = registry(app, 7).await;
    let (project, first) = issued_forest_batch(app, &r, "SIM-M-1").await;
    let project = project["id"].as_str().unwrap().to_string();
    let second = issued_report(app, &r, &project, app.year() - 2).await;
    let mut traders = vec![Trader {
        email: "forest7@lz.cn".into(),
        org: r.org_id().to_string(),
        account: r.account_id().to_string(),
        token: r.op.clone(),
    }];
    for n in 0..3u32 {
        let email = format!("trader{n}@lz.cn");
        let (org, token) = enterprise(app, &r.g, &email, 830_000 + n).await;
        traders.push(Trader {
            email,
            org: org["id"].as_str().unwrap().to_string(),
            account: org["account_id"].as_str().unwrap().to_string(),
            token,
        });
    }
    // The reserve platform trades too, and takes buy-backs.
    let (reserve_org, keeper) = crate::helpers::reserve_platform(app, &r.g, 7).await;
    let (status, o) = app
        .get_as(&keeper, &format!("/api/v1/organizations/{reserve_org}"))
        .await;
    assert_eq!(status, 200, "{o}");
    traders.push(Trader {
        email: "reserve7@reserve.cn".into(),
        org: reserve_org,
        account: o["account_id"].as_str().unwrap().to_string(),
        token: keeper.clone(),
    });
    let reserve = traders.len() - 1;
    let mut instruments = Vec::new();
    for (b, price) in [(&first, "36.00"), (&second, "20.00")] {
        let code = b["instrument"].as_str().unwrap().to_string();
        let mut listing = json!({"code": code, "reference_price": price});
        if !instruments.is_empty() {
            listing["fee_rate"] = json!(OWN_FEE_RATE);
        }
        let (status, i) = app
            .post_as(&r.g.gov, "/api/v1/market/instruments", &listing)
            .await;
        assert_eq!(status, 201, "{i}");
        // The guidance price buy-backs are paid at (no tiers, no floor).
        let (status, g) = app
            .post_as(
                &r.g.gov,
                "/api/v1/guidance-prices",
                &json!({"instrument": code, "price": price, "reason": "模拟指导价"}),
            )
            .await;
        assert_eq!(status, 201, "{g}");
        for to in &traders[1..3] {
            let (status, t) = app
                .post_as(
                    &r.op,
                    "/api/v1/transfers",
                    &json!({"transfer_id": uuid::Uuid::new_v4(), "from_account_id": r.account_id(),
                            "to_account_id": to.account, "batch_id": b["id"], "quantity_g": 1_000 * GRAMS}),
                )
                .await;
            assert_eq!(status, 200, "{t}");
        }
        instruments.push(Instr {
            code,
            reference: fen_of(price),
            guidance: fen_of(price),
            floor: None,
        });
    }
    let (bank_id, teller) = bank(app, &r.g, 7).await;
    // Two banks lend against pledges; a guarantor stands behind some.
    let (second_bank, second_teller) = bank(app, &r.g, 8).await;
    let (guarantor_org, guarantor_op) = crate::helpers::guarantor(app, &r.g, 7).await;
    let party = |email: &str, org: &str, token: &str| {
        let org = org.to_string();
        let token = token.to_string();
        let email = email.to_string();
        async move {
            let account = crate::helpers::org_account(app, &token, &org).await;
            Trader {
                email,
                org,
                account,
                token,
            }
        }
    };
    let banks = vec![
        party("bank7@bank.cn", &bank_id, &teller).await,
        party("bank8@bank.cn", &second_bank, &second_teller).await,
    ];
    let guarantor_party = party("guarantor7@guarantee.cn", &guarantor_org, &guarantor_op).await;
    let (status, d) = app
        .post_as(
            &teller,
            "/api/v1/market/deposits",
            &json!({"bank_id": bank_id, "reference": "SIM-INIT-G",
                    "organization_id": guarantor_org, "amount": GUARANTOR_CASH.to_string()}),
        )
        .await;
    assert_eq!(status, 201, "{d}");
    for (n, t) in traders.iter().enumerate() {
        let (status, d) = app
            .post_as(
                &teller,
                "/api/v1/market/deposits",
                &json!({"bank_id": bank_id, "reference": format!("SIM-INIT-{n}"),
                        "organization_id": t.org, "amount": "20000000"}),
            )
            .await;
        assert_eq!(status, 201, "{d}");
    }
    let (unconverted, rights) = rights(
        app,
        &r.g,
        &traders,
        reserve,
        &mut instruments,
        compliance_year,
        last_day,
    )
    .await;
    World {
        traders,
        teller: ("bank7@bank.cn".into(), teller),
        bank_id,
        instruments,
        orders: Vec::new(),
        proposals: Vec::new(),
        lots: Vec::new(),
        next_client: 0,
        reserve,
        keeper: ("reserve7@reserve.cn".into(), keeper),
        gov: ("gov7@tph.cn".into(), r.g.gov.clone()),
        fin: pledges::Fin::new(banks, guarantor_party, GUARANTOR_CASH),
        unconverted,
        rights,
    }
}

/// Unconverted units never leave their holder (nothing here is the
/// reserve's claw-back): every free allocation still holds what the world
/// says, and its ledger hold holds exactly that.
async fn unconverted_stay(db: &DatabaseConnection, w: &World, context: &str) {
    use tanpuhui_server::rights::entity::allocation;
    let mut found: HashMap<(usize, String), i64> = HashMap::new();
    for a in allocation::Entity::find().all(db).await.unwrap() {
        let holder = w
            .traders
            .iter()
            .position(|t| t.org == a.holder_organization_id)
            .expect("a trader holds every allocation");
        let hold_id = tanpuhui_server::rights::allocation::unconverted_hold(&a.id);
        let open = hold::Entity::find_by_id(hold_id)
            .one(db)
            .await
            .unwrap()
            .filter(|h| h.status == "held")
            .map_or(0, |h| h.amount - h.drawn);
        assert_eq!(
            open, a.unconverted_g,
            "{context}: allocation {}'s hold",
            a.id
        );
        if a.unconverted_g > 0 {
            *found.entry((holder, a.instrument)).or_default() += a.unconverted_g;
        }
    }
    assert_eq!(found, w.unconverted, "{context}: unconverted units");
}

/// Rights on the same rails as carbon: SO2 of the compliance year
/// allocated free of charge to two enterprises (the reserve platform's
/// fund takes their conversions), 4,000 of each 5,000 kg converted and
/// 1,000 left unconverted, their verified use for the year recorded (3,000
/// kg each, surrendered during the run), and construction-land linkage
/// indicators (300.5 mu, traded in hundredths) confirmed for two others;
/// both listed at their guidance
/// prices. The same two hold energy-use rights of the year, 800 tce each
/// of which 500 converted, that only move by transfer and lapse after
/// `last_day`. A third enterprise is allocated 3,000 kg of the SO2 for
/// payment, at 4.80 in three instalments, held until paid. Answers what
/// stays unconverted, and the rights' state.
async fn rights(
    app: &Arc<TestApp>,
    g: &crate::helpers::Government,
    traders: &[Trader],
    reserve: usize,
    instruments: &mut Vec<Instr>,
    compliance_year: i32,
    last_day: NaiveDate,
) -> (HashMap<(usize, String), i64>, Rights) {
    let (ecology, eco) = crate::helpers::bureau(app, g, "ecology", 7).await;
    let (land, nr) = crate::helpers::bureau(app, g, "natural_resources", 8).await;
    let (economy, econ) = crate::helpers::bureau(app, g, "economic_development", 9).await;
    let so2 = format!("TPH-SO2-{compliance_year}");
    let lls = format!("TPH-LLS-{}", app.year());
    let enu = format!("TPH-ENU-{compliance_year}");
    for (code, price) in [(&so2, "4.80"), (&lls, "720.00")] {
        let (status, i) = app
            .post_as(
                &g.gov,
                "/api/v1/market/instruments",
                &json!({"code": code, "reference_price": price}),
            )
            .await;
        assert_eq!(status, 201, "{i}");
        instruments.push(Instr {
            code: code.clone(),
            reference: fen_of(price),
            guidance: fen_of(price),
            floor: None,
        });
    }
    for (code, price) in [(&so2, "4.80"), (&lls, "720.00"), (&enu, "80.00")] {
        let (status, v) = app
            .post_as(
                &g.gov,
                "/api/v1/guidance-prices",
                &json!({"instrument": code, "price": price, "reason": "模拟指导价"}),
            )
            .await;
        assert_eq!(status, 201, "{v}");
    }
    let mut unconverted = HashMap::new();
    let mut records = Vec::new();
    let mut batches = Vec::new();
    for (n, uscc_n) in [(1usize, 830_000u32), (2, 830_001)] {
        for (code, bureau, token, identifier, quantity, converted) in [
            (
                &so2,
                &ecology,
                &eco,
                format!("{}001P", crate::helpers::uscc(uscc_n)),
                "5000",
                4_000,
            ),
            (&enu, &economy, &econ, format!("SIM-ENU-{n}"), "800", 500),
        ] {
            let (status, a) = app
                .post_as(
                    token,
                    "/api/v1/rights/allocations",
                    &json!({"bureau_organization_id": bureau, "organization_id": traders[n].org,
                            "instrument": code, "quantity": quantity, "origin": "free",
                            "identifier": identifier,
                            "reserve_organization_id": traders[reserve].org}),
                )
                .await;
            assert_eq!(status, 201, "{a}");
            let (status, c) = app
                .post_as(
                    &traders[n].token,
                    &format!(
                        "/api/v1/rights/allocations/{}/conversions",
                        a["id"].as_str().unwrap()
                    ),
                    &json!({"quantity": converted.to_string()}),
                )
                .await;
            assert_eq!(status, 201, "{c}");
            let left = quantity.parse::<i64>().unwrap() - converted;
            unconverted.insert((n, code.clone()), left * minor(code));
            if code == &enu {
                batches.push((n, a["batch_id"].as_str().unwrap().to_string()));
            }
        }
        let (status, r) = app
            .post_as(
                &eco,
                "/api/v1/rights/compliance",
                &json!({"bureau_organization_id": ecology, "organization_id": traders[n].org,
                        "class": "so2", "year": compliance_year, "verified_use": "3000"}),
            )
            .await;
        assert_eq!(status, 201, "{r}");
        records.push((n, r["id"].as_str().unwrap().to_string()));
    }
    for n in [0usize, 3] {
        let (status, a) = app
            .post_as(
                &nr,
                "/api/v1/rights/allocations",
                &json!({"bureau_organization_id": land, "organization_id": traders[n].org,
                        "instrument": lls, "quantity": "300.5", "origin": "verified",
                        "identifier": format!("SIM-LLS-{n}")}),
            )
            .await;
        assert_eq!(status, 201, "{a}");
    }
    let (status, paid) = app
        .post_as(
            &eco,
            "/api/v1/rights/allocations",
            &json!({"bureau_organization_id": ecology, "organization_id": traders[3].org,
                    "instrument": so2, "quantity": "3000", "origin": "paid", "price": "4.80",
                    "instalments": 3,
                    "identifier": format!("{}002P", crate::helpers::uscc(830_002))}),
        )
        .await;
    assert_eq!(status, 201, "{paid}");
    unconverted.insert((3, so2.clone()), 3_000 * minor(&so2));
    let rights = Rights {
        so2,
        records,
        lapsing: enu,
        batches,
        last_day,
        lapsed: false,
        surrendered: 0,
        expired: 0,
        paid: (3, paid["id"].as_str().unwrap().to_string()),
        bureau_account: crate::helpers::org_account(app, &eco, &ecology).await,
        bureau_cash: 0,
    };
    (unconverted, rights)
}

/// The guarantor's cash, fen (a million yuan).
const GUARANTOR_CASH: i64 = 100_000_000;

/// The grid prices of `code` are drawn on: 5 fen at 36.00 yuan, 1 fen
/// under 14.40 (a kilogram of SO2 at 4.80), so every instrument's draws
/// fall inside its bands alike; a whole number of the instrument's ticks
/// (land's yuan).
pub(crate) fn tick(code: &str, reference: i64) -> i64 {
    let t = price_tick(code);
    ((reference / 720).max(1) + t - 1) / t * t
}

/// A price on the grid around the reference, inside the ±10 % band.
fn book_price(rng: &mut Rng, code: &str, reference: i64) -> i64 {
    let steps = rng.below(13) as i64 - 6;
    reference + tick(code, reference) * steps
}

fn next_op(
    rng: &mut Rng,
    w: &mut World,
    app: &Arc<TestApp>,
    auctions_close: DateTime<FixedOffset>,
) -> Op {
    let app = app.clone();
    let i = rng.below(w.instruments.len() as u64) as usize;
    let instr = w.instruments[i].clone();
    let t = rng.below(w.traders.len() as u64) as usize;
    let trader = w.traders[t].clone();
    match rng.below(126) {
        // Limit orders, a few outside the band, off the tick or empty.
        0..=39 => {
            let side = if rng.below(2) == 0 { "buy" } else { "sell" };
            let tif = *rng.pick(&["gtc", "gtc", "day", "day", "ioc"]);
            let qty = some_lots(rng, &instr.code, 1, 40);
            let text = units_text(&instr.code, qty);
            let (price, quantity, refused) = match rng.below(25) {
                0 => (yuan(instr.reference * 12 / 10), text, true),
                1 => (format!("{}1", yuan(instr.reference)), text, true),
                2 => (yuan(instr.reference), "0".into(), true),
                _ => {
                    let price = book_price(rng, &instr.code, instr.reference);
                    // Below a floor: refused too.
                    let below = instr.floor.is_some_and(|f| price < f);
                    (yuan(price), text, below)
                }
            };
            let body = json!({"organization_id": trader.org, "client_order_id": w.client_id(),
                              "instrument": instr.code, "side": side, "price": price,
                              "quantity": quantity, "time_in_force": tif});
            async move {
                let (status, o) = app
                    .post_as(&trader.token, "/api/v1/market/orders", &body)
                    .await;
                if refused {
                    answered("bad order", status, &[422], &o)?;
                    return Ok(vec![Event::Nothing]);
                }
                answered("order", status, &[201, 409], &o)?;
                if status == 409 {
                    return Ok(vec![Event::Nothing]);
                }
                Ok(vec![Event::Order {
                    id: o["order"]["id"].as_str().unwrap().to_string(),
                    trader: t,
                    code: instr.code,
                    side: side.into(),
                    price: fen_of(&price),
                    qty,
                    tif: tif.into(),
                    picked: None,
                    body,
                }])
            }
            .boxed()
        }
        // The same order again (the first answer), or its id with other
        // terms (refused).
        40..=45 if !w.orders.is_empty() => {
            let (owner, body, id) = rng.pick(&w.orders).clone();
            let token = w.traders[owner].token.clone();
            let changed = rng.below(2) == 0;
            let mut sent = body.clone();
            if changed {
                sent["quantity"] = json!("99999");
            }
            async move {
                let (status, o) = app.post_as(&token, "/api/v1/market/orders", &sent).await;
                if changed {
                    answered("reused id", status, &[409], &o)?;
                    if o["code"] != "id_reused" {
                        return Err(format!("reused id: {o}"));
                    }
                    return Ok(vec![Event::Nothing]);
                }
                answered("replay", status, &[200], &o)?;
                if o["order"]["id"] != id.as_str() || o["replayed"] != true {
                    return Err(format!("replay of {id} answered {o}"));
                }
                Ok(vec![Event::Replayed])
            }
            .boxed()
        }
        // Picks of one of the best levels' orders, some too large.
        46..=57 => {
            let (which, part, too_much) = (rng.next(), rng.next(), rng.below(10) == 0);
            let client = w.client_id();
            async move {
                let (status, list) = app
                    .get_as(
                        &trader.token,
                        &format!("/api/v1/market/instruments/{}/orders", instr.code),
                    )
                    .await;
                answered("pickable", status, &[200], &list)?;
                let orders = list["data"].as_array().unwrap();
                if orders.is_empty() {
                    return Ok(vec![Event::Nothing]);
                }
                let target = &orders[(which % orders.len() as u64) as usize];
                let left = lots_of(&instr.code, target["remaining"].as_str().unwrap());
                let qty = if too_much {
                    left + 1
                } else {
                    1 + (part % left as u64) as i64
                };
                let body = json!({"organization_id": trader.org, "client_order_id": client,
                                  "order_id": target["id"], "quantity": units_text(&instr.code, qty)});
                let (status, o) = app
                    .post_as(&trader.token, "/api/v1/market/picks", &body)
                    .await;
                answered("pick", status, &[201, 409, 422], &o)?;
                if too_much && status == 201 {
                    return Err(format!("a pick of {qty} of {target} was taken: {o}"));
                }
                if status != 201 {
                    return Ok(vec![Event::Nothing]);
                }
                let side = if target["side"] == "buy" {
                    "sell"
                } else {
                    "buy"
                };
                Ok(vec![Event::Order {
                    id: o["order"]["id"].as_str().unwrap().to_string(),
                    trader: t,
                    code: instr.code,
                    side: side.into(),
                    price: fen_of(target["price"].as_str().unwrap()),
                    qty,
                    tif: "ioc".into(),
                    picked: Some(target["id"].as_str().unwrap().to_string()),
                    body,
                }])
            }
            .boxed()
        }
        // Cancels, by the owner or (404) by someone else.
        58..=72 if !w.orders.is_empty() => {
            // Recent ones: most older orders are long filled or expired.
            let recent = &w.orders[w.orders.len().saturating_sub(30)..];
            let (owner, _, id) = rng.pick(recent).clone();
            let stranger = rng.below(10) == 0 && owner != t;
            let token = if stranger {
                trader.token.clone()
            } else {
                w.traders[owner].token.clone()
            };
            async move {
                let (status, o) = app
                    .post_as(
                        &token,
                        &format!("/api/v1/market/orders/{id}/cancel"),
                        &json!(null),
                    )
                    .await;
                if stranger {
                    answered("stranger's cancel", status, &[404], &o)?;
                    return Ok(vec![Event::Nothing]);
                }
                answered("cancel", status, &[200, 409], &o)?;
                Ok(vec![if status == 200 {
                    Event::Cancelled(id)
                } else {
                    Event::Nothing
                }])
            }
            .boxed()
        }
        // Block proposals to another participant, inside the ±30 % band.
        73..=78 => {
            let buyer = (t + 1 + rng.below(w.traders.len() as u64 - 1) as usize) % w.traders.len();
            let price =
                instr.reference + tick(&instr.code, instr.reference) * (rng.below(121) as i64 - 60);
            let below = instr.floor.is_some_and(|f| price < f);
            let qty = some_lots(rng, &instr.code, 5, 26);
            let body = json!({"organization_id": trader.org, "client_order_id": w.client_id(),
                              "instrument": instr.code, "buyer_organization_id": w.traders[buyer].org,
                              "price": yuan(price), "quantity": units_text(&instr.code, qty)});
            async move {
                let (status, b) = app
                    .post_as(&trader.token, "/api/v1/market/blocks", &body)
                    .await;
                if below {
                    answered("block below the floor", status, &[422], &b)?;
                    return Ok(vec![Event::Nothing]);
                }
                answered("block proposal", status, &[201, 409], &b)?;
                if status == 409 {
                    return Ok(vec![Event::Nothing]);
                }
                let id = b["block"]["id"].as_str().unwrap().to_string();
                Ok(vec![Event::Proposed(id, t, buyer, price, qty)])
            }
            .boxed()
        }
        // An answer to an open proposal: accepted, declined or withdrawn.
        79..=84 if !w.proposals.is_empty() => {
            let n = rng.below(w.proposals.len() as u64) as usize;
            let p = w.proposals.swap_remove(n);
            let how = *rng.pick(&["accept", "accept", "accept", "decline", "withdraw"]);
            let (by, org) = if how == "withdraw" {
                (p.seller, w.traders[p.seller].org.clone())
            } else {
                (p.buyer, w.traders[p.buyer].org.clone())
            };
            let token = w.traders[by].token.clone();
            async move {
                let (status, b) = app
                    .post_as(
                        &token,
                        &format!("/api/v1/market/blocks/{}/{how}", p.id),
                        &json!({"organization_id": org, "reason": "模拟"}),
                    )
                    .await;
                if how != "accept" {
                    answered(how, status, &[200], &b)?;
                    return Ok(vec![Event::Nothing]);
                }
                answered("accept", status, &[201, 409], &b)?;
                if status == 409 {
                    return Ok(vec![Event::Nothing]);
                }
                let tr = &b["trade"];
                let code = tr["instrument"].as_str().unwrap_or_default();
                if (
                    tr["price"].as_str(),
                    tr["quantity"].as_str().map(|q| lots_of(code, q)),
                ) != (Some(yuan(p.price).as_str()), Some(p.qty))
                {
                    return Err(format!("block {} settled as {tr}", p.id));
                }
                Ok(vec![Event::BlockTrade(
                    tr["id"].as_str().unwrap().to_string(),
                    p.id,
                )])
            }
            .boxed()
        }
        // An auction lot on an instrument without one today.
        85..=87 if !w.lots.iter().any(|l| l.code == instr.code) => {
            let qty = some_lots(rng, &instr.code, 20, 41);
            let reserve = (instr.reference - 10 * tick(&instr.code, instr.reference))
                .max(instr.floor.unwrap_or(0));
            let body = json!({"organization_id": trader.org, "client_order_id": w.client_id(),
                              "instrument": instr.code, "quantity": units_text(&instr.code, qty),
                              "reserve_price": yuan(reserve), "min_bid_units": units_text(&instr.code, 1),
                              "opens_at": app.now().to_rfc3339(), "closes_at": auctions_close.to_rfc3339()});
            // Held back so no second lot is announced before this answers.
            w.lots.push(Lot {
                id: String::new(),
                code: instr.code.clone(),
                seller: t,
                reserve,
                cap: qty / 2,
                pledge: None,
            });
            async move {
                let (status, a) = app
                    .post_as(&trader.token, "/api/v1/market/auctions", &body)
                    .await;
                answered("auction", status, &[201, 409], &a)?;
                if status == 409 {
                    return Ok(vec![Event::Nothing]);
                }
                let cap = lots_of(
                    &instr.code,
                    a["auction"]["bidder_cap_units"].as_str().unwrap(),
                );
                Ok(vec![Event::Announced(
                    a["auction"]["id"].as_str().unwrap().to_string(),
                    instr.code,
                    t,
                    reserve,
                    cap,
                )])
            }
            .boxed()
        }
        // Sealed bids, some under the reserve.
        88..=93 if w.lots.iter().any(|l| !l.id.is_empty()) => {
            let open: Vec<&Lot> = w.lots.iter().filter(|l| !l.id.is_empty()).collect();
            let lot = (*rng.pick(&open)).clone();
            let low = rng.below(12) == 0;
            let grid = tick(&lot.code, lot.reserve);
            let price = if low {
                lot.reserve - grid
            } else {
                lot.reserve + grid * rng.below(15) as i64
            };
            let qty = 1 + rng.below(lot.cap.max(1) as u64 / 2 + 1) as i64;
            let body = json!({"organization_id": trader.org, "client_order_id": w.client_id(),
                              "price": yuan(price), "quantity": units_text(&lot.code, qty)});
            async move {
                let (status, o) = app
                    .post_as(
                        &trader.token,
                        &format!("/api/v1/market/auctions/{}/bids", lot.id),
                        &body,
                    )
                    .await;
                if low {
                    answered("low bid", status, &[422, 409], &o)?;
                    return Ok(vec![Event::Nothing]);
                }
                // 409: the seller's own bid, over the cap, not enough cash.
                answered("bid", status, &[201, 409], &o)?;
                if status == 409 {
                    return Ok(vec![Event::Nothing]);
                }
                if t == lot.seller {
                    return Err(format!("the seller bid in its own auction: {o}"));
                }
                Ok(vec![Event::Bid {
                    id: o["order"]["id"].as_str().unwrap().to_string(),
                    seq: o["order"]["seq"].as_i64().unwrap(),
                    auction: lot.id,
                    price,
                    qty,
                }])
            }
            .boxed()
        }
        // A buy-back: offered at the guidance price, then accepted, declined,
        // withdrawn or left waiting (its units held); sometimes offered twice.
        95..=96 if t != w.reserve => {
            let client_id = w.client_id();
            let (reserve, keeper) = (w.traders[w.reserve].org.clone(), w.keeper.1.clone());
            let units = some_lots(rng, &instr.code, 1, 5);
            let answer = *rng.pick(&["accept", "accept", "decline", "withdraw", "leave"]);
            let twice = rng.below(4) == 0;
            let guidance = instr.guidance;
            async move {
                let offer = json!({"organization_id": trader.org, "reserve_organization_id": reserve,
                                   "client_id": client_id, "instrument": instr.code, "quantity": units_text(&instr.code, units)});
                let (status, o) = app
                    .post_as(&trader.token, "/api/v1/reserve/buy-backs", &offer)
                    .await;
                answered("buy-back", status, &[201, 409], &o)?;
                if status == 409 {
                    return Ok(vec![Event::Nothing]);
                }
                if twice {
                    let (status, again) = app
                        .post_as(&trader.token, "/api/v1/reserve/buy-backs", &offer)
                        .await;
                    answered("buy-back again", status, &[200], &again)?;
                    if again["id"] != o["id"] {
                        return Err(format!("a repeated offer made another: {again}"));
                    }
                }
                let value = fen_of(o["value"].as_str().unwrap_or("0"));
                if value != value_of(&instr.code, guidance, units) {
                    return Err(format!("a buy-back of {units} not at the guidance price: {o}"));
                }
                let path = |what: &str| format!("/api/v1/reserve/operations/{}/{what}", o["id"].as_str().unwrap());
                let (token, body, path) = match answer {
                    "accept" => (keeper, json!({"organization_id": reserve}), path("accept")),
                    "decline" => (keeper, json!({"organization_id": reserve, "reason": "额度已满"}), path("decline")),
                    "withdraw" => (trader.token.clone(), json!({"organization_id": trader.org}), path("withdraw")),
                    _ => return Ok(vec![Event::Nothing]),
                };
                let (status, a) = app.post_as(&token, &path, &body).await;
                // The reserve's cash may not cover it: the offer waits.
                let allowed: &[u16] = if answer == "accept" { &[200, 409] } else { &[200] };
                answered(answer, status, allowed, &a)?;
                Ok(vec![if status == 200 && answer == "accept" {
                    Event::SoldToReserve(t, instr.code.clone(), units, value)
                } else {
                    Event::Nothing
                }])
            }
            .boxed()
        }
        // Pledges, loans and their enforcement.
        100..=114 => pledges::op(rng, w, &app, auctions_close),
        // Cash in, and out (executed, refused or left pending).
        94 | 95 => {
            let amount = 1 + rng.below(3_000_000) as i64;
            let (teller, bank_id) = (w.teller.1.clone(), w.bank_id.clone());
            let reference = format!("SIM-{}", w.client_id());
            async move {
                let (status, d) = app
                    .post_as(
                        &teller,
                        "/api/v1/market/deposits",
                        &json!({"bank_id": bank_id, "reference": reference,
                                "organization_id": trader.org, "amount": amount.to_string()}),
                    )
                    .await;
                answered("deposit", status, &[201], &d)?;
                Ok(vec![Event::Deposited(t, amount)])
            }
            .boxed()
        }
        96 | 97 => {
            let amount = 1 + rng.below(2_000_000) as i64;
            let decision = *rng.pick(&["execute", "refuse", "leave"]);
            let (teller, bank_id) = (w.teller.1.clone(), w.bank_id.clone());
            let reference = format!("SIM-OUT-{}", w.client_id());
            async move {
                let (status, wd) = app
                    .post_as(
                        &trader.token,
                        "/api/v1/market/withdrawals",
                        &json!({"organization_id": trader.org, "bank_id": bank_id,
                                "bank_account": "6222 0000 0000", "amount": amount.to_string()}),
                    )
                    .await;
                answered("withdrawal", status, &[201, 409], &wd)?;
                if status == 409 || decision == "leave" {
                    return Ok(vec![Event::Nothing]);
                }
                let body = if decision == "execute" {
                    json!({"decision": "execute", "reference": reference})
                } else {
                    json!({"decision": "refuse", "reason": "账户信息不符"})
                };
                let (status, d) = app
                    .post_as(
                        &teller,
                        &format!(
                            "/api/v1/market/withdrawals/{}/decision",
                            wd["id"].as_str().unwrap()
                        ),
                        &body,
                    )
                    .await;
                answered("decision", status, &[200], &d)?;
                Ok(vec![if decision == "execute" {
                    Event::Withdrawn(t, amount)
                } else {
                    Event::Nothing
                }])
            }
            .boxed()
        }
        // An SO2 holder surrenders for the compliance year: unconverted
        // units first. Refused beyond what is still owed, beyond its units
        // free of orders and pledges, or after the deadline.
        115..=118 => {
            let (t, record) = rng.pick(&w.rights.records).clone();
            let trader = w.traders[t].clone();
            let code = w.rights.so2.clone();
            let qty = 1 + rng.below(400) as i64;
            let closed = w.rights.lapsed;
            async move {
                let (status, c) = app
                    .post_as(
                        &trader.token,
                        &format!("/api/v1/rights/compliance/{record}/surrenders"),
                        &json!({"quantity": qty.to_string()}),
                    )
                    .await;
                let refusals: &[&str] = if closed {
                    &["compliance_closed"]
                } else {
                    &["insufficient_units", "try_again", "invalid_field"]
                };
                refused_with("surrender", status, &c, refusals)?;
                Ok(vec![if status == 200 {
                    let g = qty * minor(&code);
                    Event::Surrendered(t, code, g)
                } else {
                    Event::Nothing
                }])
            }
            .boxed()
        }
        // An energy-use holder transfers converted rights from its own
        // allocation's batch; unconverted ones do not move, and nothing
        // moves once the rights have lapsed.
        119..=122 => {
            let (t, batch) = rng.pick(&w.rights.batches).clone();
            let to = (t + 1 + rng.below(w.traders.len() as u64 - 1) as usize) % w.traders.len();
            let (from, to_account) = (w.traders[t].clone(), w.traders[to].account.clone());
            let code = w.rights.lapsing.clone();
            let grams = (1 + rng.below(60) as i64) * minor(&code);
            let lapsed = w.rights.lapsed;
            async move {
                let (status, m) = app
                    .post_as(
                        &from.token,
                        "/api/v1/transfers",
                        &json!({"transfer_id": uuid::Uuid::new_v4(), "from_account_id": from.account,
                                "to_account_id": to_account, "batch_id": batch,
                                "quantity_g": grams.to_string()}),
                    )
                    .await;
                let refusals: &[&str] = if lapsed {
                    &["rights_expired"]
                } else {
                    &["units_unconverted", "insufficient_units"]
                };
                refused_with("energy-use transfer", status, &m, refusals)?;
                Ok(vec![if status == 200 {
                    Event::Transferred(t, to, code, grams)
                } else {
                    Event::Nothing
                }])
            }
            .boxed()
        }
        // The paid allocation's holder pays its next instalment: early is
        // allowed; refused once all are paid, or short of cash.
        123..=125 => {
            let (t, id) = w.rights.paid.clone();
            let trader = w.traders[t].clone();
            let code = w.rights.so2.clone();
            async move {
                let (status, p) = app
                    .post_as(
                        &trader.token,
                        &format!("/api/v1/rights/allocations/{id}/instalments"),
                        &json!({}),
                    )
                    .await;
                if status != 201 {
                    refused_with(
                        "instalment",
                        status,
                        &p,
                        &["nothing_due", "insufficient_cash", "try_again"],
                    )?;
                    return Ok(vec![Event::Nothing]);
                }
                let fen = fen_of(p["instalment"]["amount"].as_str().unwrap());
                let freed: i64 = p["freed"].as_str().unwrap().parse().unwrap();
                Ok(vec![Event::InstalmentPaid(
                    t,
                    code.clone(),
                    fen,
                    freed * minor(&code),
                )])
            }
            .boxed()
        }
        // Requests that are wrong in themselves.
        _ => {
            let other = w.traders[(t + 1) % w.traders.len()].org.clone();
            let body = match rng.below(4) {
                0 => {
                    json!({"organization_id": trader.org, "client_order_id": "x", "instrument": "TPH-FOR-1999",
                            "side": "buy", "price": "1.00", "quantity": "1"})
                }
                1 => {
                    json!({"organization_id": other, "client_order_id": "x", "instrument": instr.code,
                            "side": "buy", "price": "1.00", "quantity": "1"})
                }
                2 => {
                    json!({"organization_id": trader.org, "client_order_id": "x", "instrument": instr.code,
                            "side": "hold", "price": "1.00", "quantity": "1"})
                }
                _ => {
                    json!({"organization_id": trader.org, "client_order_id": "x", "instrument": instr.code,
                            "side": "buy", "price": "-1", "quantity": "1"})
                }
            };
            async move {
                let (status, o) = app
                    .post_as(&trader.token, "/api/v1/market/orders", &body)
                    .await;
                answered("invalid order", status, &[400, 404, 422], &o)?;
                Ok(vec![Event::Nothing])
            }
            .boxed()
        }
    }
}

/// Takes what clients were told into the world: orders to replay and
/// cancel, proposals to answer, lots to bid in; cash expected.
fn journal(w: &mut World, ledger: &mut Expected, events: &[Event]) {
    for e in events {
        match e {
            Event::Order {
                id,
                trader,
                body,
                picked: None,
                ..
            } => w.orders.push((*trader, body.clone(), id.clone())),
            Event::Proposed(id, seller, buyer, price, qty) => w.proposals.push(Proposal {
                id: id.clone(),
                seller: *seller,
                buyer: *buyer,
                price: *price,
                qty: *qty,
            }),
            Event::Announced(id, code, seller, reserve, cap) => {
                let lot = w
                    .lots
                    .iter_mut()
                    .find(|l| &l.code == code && l.id.is_empty())
                    .expect("announced lot held back");
                assert_eq!((lot.seller, lot.reserve), (*seller, *reserve));
                lot.id = id.clone();
                lot.cap = *cap;
            }
            Event::Deposited(t, amount) => *ledger.cash.entry(*t).or_default() += amount,
            Event::Withdrawn(t, amount) => *ledger.cash.entry(*t).or_default() -= amount,
            Event::Pledge(c) => {
                let reserve = w.reserve;
                w.fin.journal(&mut w.lots, ledger, reserve, c);
            }
            Event::Surrendered(t, code, grams) => {
                *ledger.units.entry((*t, code.clone())).or_default() -= grams;
                take_unconverted(w, *t, code, *grams);
                w.rights.surrendered += grams;
            }
            Event::InstalmentPaid(t, code, fen, grams) => {
                *ledger.cash.entry(*t).or_default() -= fen;
                w.rights.bureau_cash += fen;
                take_unconverted(w, *t, code, *grams);
            }
            Event::Transferred(from, to, code, grams) => {
                *ledger.units.entry((*from, code.clone())).or_default() -= grams;
                *ledger.units.entry((*to, code.clone())).or_default() += grams;
            }
            Event::SoldToReserve(t, code, units, value) => {
                *ledger.cash.entry(*t).or_default() += value;
                *ledger.cash.entry(w.reserve).or_default() -= value;
                *ledger.units.entry((*t, code.clone())).or_default() -= grams_of(code, *units);
                *ledger.units.entry((w.reserve, code.clone())).or_default() +=
                    grams_of(code, *units);
            }
            _ => {}
        }
    }
    // A refused lot frees its instrument for another.
    w.lots.retain(|l| !l.id.is_empty());
}

/// Surrenders and expiry take a holder's unconverted units first.
fn take_unconverted(w: &mut World, t: usize, code: &str, grams: i64) {
    let key = (t, code.to_string());
    if let Some(left) = w.unconverted.get_mut(&key) {
        *left -= std::cmp::min(*left, grams);
        if *left == 0 {
            w.unconverted.remove(&key);
        }
    }
}

/// Once the clock has passed the energy-use rights' last day, the
/// background loop cancels them: every unit, unconverted or not, goes to
/// `sink:expired`. Nothing else holds them (they move by transfer only),
/// so each allocation expires whole; the run waits for it between rounds.
async fn expire_lapsed(
    app: &TestApp,
    w: &mut World,
    ledger: &mut Expected,
    today: NaiveDate,
    context: &str,
) {
    use tanpuhui_server::rights::entity::{allocation, AllocationStatus};
    if w.rights.lapsed || today <= w.rights.last_day {
        return;
    }
    let code = w.rights.lapsing.clone();
    let mut waited = 0;
    loop {
        let open = allocation::Entity::find()
            .filter(allocation::Column::Instrument.eq(code.as_str()))
            .filter(allocation::Column::Status.eq(AllocationStatus::Active))
            .all(&app.db)
            .await
            .unwrap();
        if open.is_empty() {
            break;
        }
        waited += 1;
        assert!(
            waited < 400,
            "{context}: {code} did not expire after its last day ({} allocations active)",
            open.len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for t in 0..w.traders.len() {
        let grams = ledger.units.remove(&(t, code.clone())).unwrap_or(0);
        take_unconverted(w, t, &code, grams);
        w.rights.expired += grams;
    }
    w.rights.lapsed = true;
}

// ---------------------------------------------------------------- model

#[derive(Debug, Clone)]
struct Resting {
    id: String,
    seq: i64,
    org: String,
    buy: bool,
    price: i64,
    remaining: i64,
    tif: String,
}

/// A trade as the model makes it, and as the server recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fill {
    buy: String,
    sell: String,
    price: i64,
    qty: i64,
    method: String,
}

#[derive(Default)]
struct Model {
    books: HashMap<String, Vec<Resting>>,
    /// Accepted bids by auction: (seq, order id, price, quantity).
    bids: HashMap<String, Vec<(i64, String, i64, i64)>>,
    pick_levels: usize,
}

impl Model {
    /// An incoming limit order: price then time, at the resting price,
    /// never with its own organisation (the rest is cancelled), the rest
    /// rests or (ioc) is cancelled.
    fn limit(&mut self, code: &str, mut o: Resting) -> Vec<Fill> {
        let book = self.books.entry(code.to_string()).or_default();
        let mut fills = Vec::new();
        loop {
            let best = book
                .iter()
                .enumerate()
                .filter(|(_, r)| r.buy != o.buy)
                .filter(|(_, r)| {
                    if o.buy {
                        r.price <= o.price
                    } else {
                        r.price >= o.price
                    }
                })
                .min_by_key(|(_, r)| (if o.buy { r.price } else { -r.price }, r.seq))
                .map(|(n, _)| n);
            let Some(n) = best else { break };
            if book[n].org == o.org {
                return fills;
            }
            let q = o.remaining.min(book[n].remaining);
            let r = &mut book[n];
            fills.push(Fill {
                buy: if o.buy { o.id.clone() } else { r.id.clone() },
                sell: if o.buy { r.id.clone() } else { o.id.clone() },
                price: r.price,
                qty: q,
                method: "book".into(),
            });
            r.remaining -= q;
            o.remaining -= q;
            if r.remaining == 0 {
                book.remove(n);
            }
            if o.remaining == 0 {
                return fills;
            }
        }
        if o.tif != "ioc" {
            book.push(o);
        }
        fills
    }

    /// A pick of `target`: it must be resting, another organisation's,
    /// among the best levels of its side, with at least `qty` left.
    fn pick(&mut self, code: &str, o: &Resting, target: &str) -> Result<Fill, String> {
        let book = self.books.entry(code.to_string()).or_default();
        let n = book
            .iter()
            .position(|r| r.id == target)
            .ok_or_else(|| format!("picked {target}, which the model has not resting"))?;
        let t = book[n].clone();
        let mut levels: Vec<i64> = book
            .iter()
            .filter(|r| r.buy == t.buy)
            .map(|r| if t.buy { -r.price } else { r.price })
            .collect();
        levels.sort();
        levels.dedup();
        let rank = levels
            .iter()
            .position(|p| *p == if t.buy { -t.price } else { t.price })
            .unwrap();
        if rank >= self.pick_levels || t.org == o.org || t.remaining < o.remaining {
            return Err(format!(
                "pick of {} by {} from level {rank}: the model refuses it",
                o.remaining, o.org
            ));
        }
        book[n].remaining -= o.remaining;
        if book[n].remaining == 0 {
            book.remove(n);
        }
        Ok(Fill {
            buy: if t.buy { t.id.clone() } else { o.id.clone() },
            sell: if t.buy { o.id.clone() } else { t.id.clone() },
            price: t.price,
            qty: o.remaining,
            method: "pick".into(),
        })
    }

    fn cancel(&mut self, id: &str) -> bool {
        for book in self.books.values_mut() {
            if let Some(n) = book.iter().position(|r| r.id == id) {
                book.remove(n);
                return true;
            }
        }
        false
    }

    fn expire_day_orders(&mut self) {
        for book in self.books.values_mut() {
            book.retain(|r| r.tif != "day");
        }
    }
}

fn leaf_body(e: &event::Model) -> Value {
    let leaf: Value = serde_json::from_str(&e.leaf).unwrap();
    leaf["body"].clone()
}

/// Replays the round: the public log's order and cancel entries since the
/// last round, in the order it recorded them, each order the one a client
/// was told was accepted; answers the round's new trades after checking
/// that the book and pick ones are the model's and the block ones the
/// accepted proposals.
async fn replay(
    db: &DatabaseConnection,
    model: &mut Model,
    w: &World,
    events: &[Event],
    last_event: &mut i64,
    last_trade: &mut HashMap<String, i64>,
    context: &str,
) -> Vec<trade::Model> {
    model.pick_levels = 5;
    let mut accepted: HashMap<String, &Event> = HashMap::new();
    let mut cancelled: HashSet<String> = HashSet::new();
    let mut blocks: HashMap<String, String> = HashMap::new();
    for e in events {
        match e {
            Event::Order { id, .. } => {
                accepted.insert(id.clone(), e);
            }
            Event::Cancelled(id) => {
                cancelled.insert(id.clone());
            }
            Event::BlockTrade(trade, proposal) => {
                blocks.insert(trade.clone(), proposal.clone());
            }
            Event::Bid {
                id,
                seq,
                auction,
                price,
                qty,
            } => model.bids.entry(auction.clone()).or_default().push((
                *seq,
                id.clone(),
                *price,
                *qty,
            )),
            _ => {}
        }
    }
    let logged = event::Entity::find()
        .filter(event::Column::Id.gt(*last_event))
        .order_by_asc(event::Column::Id)
        .all(db)
        .await
        .unwrap();
    if let Some(e) = logged.last() {
        *last_event = e.id;
    }
    let mut expected: HashMap<String, Vec<Fill>> = HashMap::new();
    let mut seqs: HashMap<String, i64> = HashMap::new();
    for e in &logged {
        let body = leaf_body(e);
        match e.kind.as_str() {
            "market.order_placed" | "market.bid_placed" => {
                let code = body["instrument"].as_str().unwrap().to_string();
                let seq = body["seq"].as_i64().unwrap();
                let last = seqs.entry(code.clone()).or_insert(0);
                assert!(
                    seq > *last,
                    "{context}: {code} seq {seq} logged after {last}"
                );
                *last = seq;
                let kind = body["kind"].as_str().unwrap_or("bid");
                if kind != "limit" && kind != "pick" {
                    continue;
                }
                let id = body["order"].as_str().unwrap();
                let Some(Event::Order {
                    trader,
                    code: sent_code,
                    side,
                    price,
                    qty,
                    tif,
                    picked,
                    ..
                }) = accepted.remove(id)
                else {
                    panic!("{context}: the log has order {id} that no client was told of: {body}");
                };
                let o = Resting {
                    id: id.to_string(),
                    seq,
                    org: w.traders[*trader].org.clone(),
                    buy: side == "buy",
                    price: *price,
                    remaining: *qty,
                    tif: tif.clone(),
                };
                assert_eq!(
                    (
                        sent_code.as_str(),
                        body["organization"].as_str(),
                        body["side"].as_str(),
                        body["price"].as_str(),
                        body["quantity"].as_str().map(|q| lots_of(sent_code, q)),
                        body["time_in_force"].as_str(),
                        body["picked"].as_str(),
                    ),
                    (
                        code.as_str(),
                        Some(o.org.as_str()),
                        Some(side.as_str()),
                        Some(yuan(*price).as_str()),
                        Some(*qty),
                        Some(tif.as_str()),
                        picked.as_deref(),
                    ),
                    "{context}: logged order differs from the one sent"
                );
                let fills = match picked {
                    None => model.limit(&code, o),
                    Some(target) => vec![model
                        .pick(&code, &o, target)
                        .unwrap_or_else(|e| panic!("{context}: {e}"))],
                };
                expected.entry(code).or_default().extend(fills);
            }
            "market.orders_below_floor_cancelled" => {
                let code = body["instrument"].as_str().unwrap();
                let floor = fen_of(body["floor"].as_str().unwrap());
                for id in body["orders"].as_array().unwrap() {
                    let id = id.as_str().unwrap();
                    assert!(
                        model.cancel(id),
                        "{context}: the floor cancelled {id}, which the model has not resting"
                    );
                }
                let left: Vec<&Resting> = model
                    .books
                    .get(code)
                    .map(|b| b.iter().filter(|r| r.price < floor).collect())
                    .unwrap_or_default();
                assert!(
                    left.is_empty(),
                    "{context}: a floor of {floor} on {code} left orders below it: {:?}",
                    left.iter().map(|r| &r.id).collect::<Vec<_>>()
                );
            }
            "market.order_cancelled" => {
                let id = body["order"].as_str().unwrap();
                assert!(
                    model.cancel(id),
                    "{context}: cancelled {id}, which the model has not resting"
                );
                assert!(
                    cancelled.remove(id),
                    "{context}: the log cancelled {id} and no client was told"
                );
            }
            _ => {}
        }
    }
    assert!(
        accepted.is_empty() && cancelled.is_empty(),
        "{context}: told but not logged: orders {:?}, cancels {cancelled:?}",
        accepted.keys().collect::<Vec<_>>()
    );
    let mut new_trades = Vec::new();
    for i in &w.instruments {
        let after = last_trade.get(&i.code).copied().unwrap_or(0);
        let rows = trade::Entity::find()
            .filter(trade::Column::Instrument.eq(i.code.as_str()))
            .filter(trade::Column::Seq.gt(after))
            .order_by_asc(trade::Column::Seq)
            .all(db)
            .await
            .unwrap();
        if let Some(t) = rows.last() {
            last_trade.insert(i.code.clone(), t.seq);
        }
        let book: Vec<Fill> = rows
            .iter()
            .filter(|t| t.method == "book" || t.method == "pick")
            .map(|t| Fill {
                buy: t.buy_order_id.clone().unwrap(),
                sell: t.sell_order_id.clone().unwrap(),
                price: t.price,
                qty: t.quantity,
                method: t.method.clone(),
            })
            .collect();
        assert_eq!(
            book,
            expected.remove(&i.code).unwrap_or_default(),
            "{context}: {} trades differ from the model's",
            i.code
        );
        for t in rows.iter().filter(|t| t.method == "block") {
            assert!(
                blocks.remove(&t.id).is_some(),
                "{context}: block trade {} no client accepted",
                t.id
            );
        }
        new_trades.extend(rows);
    }
    assert!(
        blocks.is_empty(),
        "{context}: accepted blocks without a trade: {blocks:?}"
    );
    new_trades
}

/// Waits until the day's close has run for every instrument and every
/// lot of the day is closed.
async fn closed(db: &DatabaseConnection, w: &World, day: &str, context: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let bars = bar::Entity::find()
            .filter(bar::Column::Day.eq(day))
            .all(db)
            .await
            .unwrap()
            .len();
        let open = auction::Entity::find()
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .filter(|a| a.status == AuctionStatus::Announced)
            .count();
        if bars == w.instruments.len() && open == 0 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{context}: the close of {day} never ran ({bars} bars, {open} auctions open)"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The lots' allocation as the rule states it (price, then time; filled
/// down; everybody pays the lowest winning bid); answers the trades the
/// close should have made, after checking the recorded ones.
async fn auctions_closed(
    db: &DatabaseConnection,
    w: &mut World,
    bids: &HashMap<String, Vec<(i64, String, i64, i64)>>,
    context: &str,
) -> Vec<String> {
    let mut ids = Vec::new();
    for lot in w.lots.drain(..).filter(|l| !l.id.is_empty()) {
        let a = auction::Entity::find_by_id(lot.id.clone())
            .one(db)
            .await
            .unwrap()
            .unwrap();
        let mut ranked = bids.get(&lot.id).cloned().unwrap_or_default();
        ranked.sort_by(|x, y| y.2.cmp(&x.2).then(x.0.cmp(&y.0)));
        let mut left = a.quantity;
        let mut awards = Vec::new();
        for (_, id, price, qty) in &ranked {
            if left == 0 {
                break;
            }
            let won = left.min(*qty);
            left -= won;
            awards.push((id.clone(), won, *price));
        }
        let clearing = awards.last().map(|a| a.2);
        let mut expected: Vec<(String, i64, i64)> = awards
            .iter()
            .map(|(id, won, _)| (id.clone(), *won, clearing.unwrap()))
            .collect();
        let sell = a.sell_order_id.clone();
        let mut got: Vec<(String, i64, i64)> = trade::Entity::find()
            .filter(trade::Column::SellOrderId.eq(sell.as_str()))
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|t| {
                ids.push(t.id.clone());
                (t.buy_order_id.unwrap(), t.quantity, t.price)
            })
            .collect();
        expected.sort();
        got.sort();
        assert_eq!(
            got, expected,
            "{context}: auction {} allocated otherwise",
            lot.id
        );
    }
    ids
}

/// Each instrument's bar of `day`: the close is the VWAP of the day's book
/// and pick trades (the previous close without any), and it is the next
/// day's reference.
async fn check_bars(db: &DatabaseConnection, w: &mut World, day: &str, context: &str) {
    for i in w.instruments.iter_mut() {
        let trades = trade::Entity::find()
            .filter(trade::Column::Instrument.eq(i.code.as_str()))
            .filter(trade::Column::TradingDay.eq(day))
            .all(db)
            .await
            .unwrap();
        let book: Vec<&trade::Model> = trades
            .iter()
            .filter(|t| t.method == "book" || t.method == "pick")
            .collect();
        let volume: i64 = book.iter().map(|t| t.quantity).sum();
        let turnover: i64 = book
            .iter()
            .map(|t| value_of(&i.code, t.price, t.quantity))
            .sum();
        // The average price a unit, to the instrument's tick.
        let (per, grid) = (lots_per_unit(&i.code), price_tick(&i.code));
        let close = if volume == 0 {
            i.reference
        } else {
            (Decimal::from(turnover * per) / Decimal::from(volume * grid))
                .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
                .to_i64()
                .unwrap()
                * grid
        };
        let b = bar::Entity::find()
            .filter(bar::Column::Instrument.eq(i.code.as_str()))
            .filter(bar::Column::Day.eq(day))
            .one(db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (b.close, b.volume),
            (close, volume),
            "{context}: {} bar of {day}",
            i.code
        );
        let listed = tanpuhui_server::instruments::instrument::Entity::find_by_id(i.code.clone())
            .one(db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            listed.reference_price, close,
            "{context}: {} reference",
            i.code
        );
        i.reference = close;
    }
}

// ------------------------------------------------------------- balances

/// What each participant's cash and units should be, from its deposits,
/// withdrawals and trades.
#[derive(Default)]
struct Expected {
    cash: HashMap<usize, i64>,
    /// (trader, instrument) → grams.
    units: HashMap<(usize, String), i64>,
    /// Instrument → fees its trades paid.
    fees: BTreeMap<String, i64>,
}

impl Expected {
    async fn initial(&mut self, db: &DatabaseConnection, t: usize, account: &str) {
        for b in balance::Entity::find()
            .filter(balance::Column::AccountId.eq(account))
            .all(db)
            .await
            .unwrap()
        {
            if b.asset == "cash:CNY" {
                *self.cash.entry(t).or_default() += b.posted;
            } else if let Some(id) = b.asset.strip_prefix("credit:") {
                let code = batch::Entity::find_by_id(id.to_string())
                    .one(db)
                    .await
                    .unwrap()
                    .unwrap()
                    .instrument
                    .unwrap();
                *self.units.entry((t, code)).or_default() += b.posted;
            }
        }
    }

    fn trades(&mut self, w: &World, trades: &[trade::Model]) {
        let who = |org: &str| w.traders.iter().position(|t| t.org == org).unwrap();
        for t in trades {
            let fee = (Decimal::from(t.value) * rate_of(w, &t.instrument))
                .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
                .to_i64()
                .unwrap();
            assert_eq!(
                t.value,
                value_of(&t.instrument, t.price, t.quantity),
                "trade {} value",
                t.id
            );
            assert_eq!(
                (t.buyer_fee, t.seller_fee),
                (fee, fee),
                "trade {} fees",
                t.id
            );
            let (b, s) = (
                who(&t.buyer_organization_id),
                who(&t.seller_organization_id),
            );
            *self.cash.entry(b).or_default() -= t.value + fee;
            *self.cash.entry(s).or_default() += t.value - fee;
            *self.fees.entry(t.instrument.clone()).or_default() += 2 * fee;
            let g = grams_of(&t.instrument, t.quantity);
            *self.units.entry((b, t.instrument.clone())).or_default() += g;
            *self.units.entry((s, t.instrument.clone())).or_default() -= g;
        }
    }
}

/// What a buy of `remaining` lots of `code` at `limit` holds: the value,
/// the most its fees can be (rounded up) and a fen per lot for each
/// fill's rounding.
fn buy_hold(code: &str, limit: i64, remaining: i64, rate: Decimal) -> i64 {
    let value = value_of(code, limit, remaining);
    let fee = (Decimal::from(value) * rate).ceil().to_i64().unwrap();
    value + fee + remaining
}

async fn check(
    db: &DatabaseConnection,
    w: &World,
    model: &Model,
    ledger: &Expected,
    context: &str,
) {
    w.fin.check(db, context).await;
    unconverted_stay(db, w, context).await;
    let orders = order::Entity::find().all(db).await.unwrap();
    // A take-over of pledged units offers the pledge's own holds.
    let offers: Vec<operation::Model> = operation::Entity::find()
        .filter(operation::Column::Status.eq(OperationStatus::Offered))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .filter(|o| o.pledge_id.is_none())
        .collect();
    // So does an auction of a pledge's units.
    let pledge_sales: HashSet<String> = auction::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.pledge_id.is_some())
        .map(|a| a.sell_order_id)
        .collect();
    let pledged = w.fin.pledged();
    // The book is the model's, and not crossed.
    for i in &w.instruments {
        let mut open: Vec<(String, i64)> = orders
            .iter()
            .filter(|o| o.instrument == i.code && o.status == OrderStatus::Open)
            .map(|o| (o.id.clone(), o.remaining))
            .collect();
        open.sort();
        let mut resting: Vec<(String, i64)> = model
            .books
            .get(&i.code)
            .map(|b| b.iter().map(|r| (r.id.clone(), r.remaining)).collect())
            .unwrap_or_default();
        resting.sort();
        assert_eq!(
            open, resting,
            "{context}: {} book differs from the model's",
            i.code
        );
        let best = |side: &str| {
            orders
                .iter()
                .filter(|o| {
                    o.instrument == i.code && o.status == OrderStatus::Open && o.side == side
                })
                .map(|o| o.price)
                .collect::<Vec<_>>()
        };
        if let (Some(bid), Some(ask)) = (
            best("buy").into_iter().max(),
            best("sell").into_iter().min(),
        ) {
            assert!(
                bid < ask,
                "{context}: {} crossed: bid {bid} ask {ask}",
                i.code
            );
        }
    }
    // Every trade delivered its units, batch by batch.
    let mut delivered: HashMap<String, i64> = HashMap::new();
    for d in delivery::Entity::find().all(db).await.unwrap() {
        *delivered.entry(d.trade_id).or_default() += d.grams;
    }
    for t in trade::Entity::find().all(db).await.unwrap() {
        assert_eq!(
            delivered.get(&t.id).copied(),
            Some(grams_of(&t.instrument, t.quantity)),
            "{context}: deliveries of {}",
            t.id
        );
    }
    let batches: HashMap<String, batch::Model> = batch::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|b| (format!("credit:{}", b.id), b))
        .collect();
    // Issuers' balances are spread over shard rows: one total per account
    // and asset.
    let mut totals: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    for b in balance::Entity::find().all(db).await.unwrap() {
        let e = totals.entry((b.account_id, b.asset)).or_default();
        e.0 += b.posted;
        e.1 += b.held;
    }
    let balances: Vec<balance::Model> = totals
        .into_iter()
        .map(|((account_id, asset), (posted, held))| balance::Model {
            account_id,
            asset,
            shard: 0,
            posted,
            held,
        })
        .collect();
    let holds = hold::Entity::find().all(db).await.unwrap();
    let withdrawals = withdrawal::Entity::find().all(db).await.unwrap();
    // Each instrument's fees go to its own account.
    let fee_accounts: HashMap<String, String> = tanpuhui_server::accounts::entity::Entity::find()
        .filter(tanpuhui_server::accounts::entity::Column::Code.starts_with("fees:"))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| {
            let code = a.code.unwrap_or_default();
            let instrument = code
                .strip_prefix("fees:market:")
                .unwrap_or(&code)
                .to_string();
            (a.id, instrument)
        })
        .collect();
    let mut fee_account_cash: BTreeMap<String, i64> = BTreeMap::new();
    let mut cash_total = 0;
    let mut units_by_batch: HashMap<String, i64> = HashMap::new();
    for b in &balances {
        if b.asset == "cash:CNY" {
            cash_total += b.posted;
        }
        if let Some(batch) = batches.get(&b.asset) {
            *units_by_batch.entry(batch.id.clone()).or_default() += b.posted;
        }
    }
    assert_eq!(
        cash_total, 0,
        "{context}: cash is made only by the bank's issuer"
    );
    for (id, sum) in &units_by_batch {
        assert_eq!(*sum, 0, "{context}: batch {id} units unbalanced");
    }
    for b in &balances {
        let open: i64 = holds
            .iter()
            .filter(|h| h.status == "held" && h.account_id == b.account_id && h.asset == b.asset)
            .map(|h| h.amount - h.drawn)
            .sum();
        assert_eq!(b.held, open, "{context}: held {} {}", b.account_id, b.asset);
        if w.traders.iter().any(|t| t.account == b.account_id) {
            assert!(
                b.held >= 0 && b.posted - b.held >= 0,
                "{context}: {} {} posted {} held {}",
                b.account_id,
                b.asset,
                b.posted,
                b.held
            );
        } else if let (true, Some(instrument)) =
            (b.asset == "cash:CNY", fee_accounts.get(&b.account_id))
        {
            *fee_account_cash.entry(instrument.clone()).or_default() += b.posted;
        } else if b.asset == "cash:CNY" && b.account_id == w.rights.bureau_account {
            // Checked below.
        } else if b.asset == "cash:CNY" && !w.fin.is_party(&b.account_id) {
            assert!(
                b.posted <= 0,
                "{context}: cash outside the participants, the fee account and the bank: {b:?}"
            );
        }
    }
    fee_account_cash.retain(|_, v| *v != 0);
    let mut fees = ledger.fees.clone();
    fees.retain(|_, v| *v != 0);
    assert_eq!(
        fee_account_cash, fees,
        "{context}: fees collected per instrument"
    );
    let bureau_cash: i64 = balances
        .iter()
        .filter(|b| b.account_id == w.rights.bureau_account && b.asset == "cash:CNY")
        .map(|b| b.posted)
        .sum();
    assert_eq!(
        bureau_cash, w.rights.bureau_cash,
        "{context}: the bureau's cash from instalments"
    );
    // Surrendered and expired units never move again: each sink holds
    // exactly what clients saw go to it.
    let sinks: HashMap<String, String> = tanpuhui_server::accounts::entity::Entity::find()
        .filter(
            tanpuhui_server::accounts::entity::Column::Code
                .is_in(["sink:surrendered", "sink:expired"]),
        )
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.id, a.code.unwrap_or_default()))
        .collect();
    let mut in_sinks: BTreeMap<&str, i64> = BTreeMap::new();
    for b in &balances {
        if let (Some(sink), true) = (sinks.get(&b.account_id), batches.contains_key(&b.asset)) {
            assert_eq!(b.held, 0, "{context}: {sink} holds {b:?}");
            *in_sinks.entry(sink.as_str()).or_default() += b.posted;
        }
    }
    in_sinks.retain(|_, v| *v != 0);
    let mut gone = BTreeMap::from([
        ("sink:expired", w.rights.expired),
        ("sink:surrendered", w.rights.surrendered),
    ]);
    gone.retain(|_, v| *v != 0);
    assert_eq!(in_sinks, gone, "{context}: units in the sinks");
    for (n, t) in w.traders.iter().enumerate() {
        let of = |asset: &str| {
            balances
                .iter()
                .find(|b| b.account_id == t.account && b.asset == asset)
                .map_or((0, 0), |b| (b.posted, b.held))
        };
        // Cash: deposits, withdrawals and trades.
        let (cash, cash_held) = of("cash:CNY");
        assert_eq!(
            cash,
            ledger.cash.get(&n).copied().unwrap_or(0),
            "{context}: {} cash",
            t.org
        );
        let mine = |o: &&order::Model| o.organization_id == t.org;
        let needed: i64 = orders
            .iter()
            .filter(mine)
            .filter(|o| o.side == "buy")
            .filter(|o| {
                o.status == OrderStatus::Open
                    || (o.status == OrderStatus::Pending && o.kind == OrderKind::Bid)
            })
            .map(|o| {
                buy_hold(
                    &o.instrument,
                    o.price,
                    o.remaining,
                    rate_of(w, &o.instrument),
                )
            })
            .sum::<i64>()
            + withdrawals
                .iter()
                .filter(|x| x.organization_id == t.org && x.status == WithdrawalStatus::Requested)
                .map(|x| x.amount)
                .sum::<i64>();
        assert_eq!(cash_held, needed, "{context}: {} cash held", t.org);
        // Units, per instrument.
        for i in &w.instruments {
            let (mut posted, mut held) = (0, 0);
            for (asset, b) in &batches {
                if b.instrument.as_deref() == Some(i.code.as_str()) {
                    let (p, h) = of(asset);
                    posted += p;
                    held += h;
                }
            }
            assert_eq!(
                posted,
                ledger.units.get(&(n, i.code.clone())).copied().unwrap_or(0),
                "{context}: {} units of {}",
                t.org,
                i.code
            );
            let selling: i64 = orders
                .iter()
                .filter(mine)
                .filter(|o| o.instrument == i.code && o.side == "sell")
                .filter(|o| !pledge_sales.contains(&o.id))
                .filter(|o| matches!(o.status, OrderStatus::Open | OrderStatus::Pending))
                .map(|o| grams_of(&o.instrument, o.remaining))
                .sum();
            let offered: i64 = offers
                .iter()
                .filter(|o| o.organization_id == t.org && o.instrument == i.code)
                .map(|o| grams_of(&o.instrument, o.quantity))
                .sum();
            let pledged = pledged.get(&(n, i.code.clone())).copied().unwrap_or(0);
            let unconverted = w
                .unconverted
                .get(&(n, i.code.clone()))
                .copied()
                .unwrap_or(0);
            assert_eq!(
                held,
                selling + offered + pledged + unconverted,
                "{context}: {} units of {} held",
                t.org,
                i.code
            );
        }
        // The energy-use rights move by transfer only: nothing but their
        // unconverted part is held.
        let code = &w.rights.lapsing;
        let (mut posted, mut held) = (0, 0);
        for (asset, b) in &batches {
            if b.instrument.as_deref() == Some(code.as_str()) {
                let (p, h) = of(asset);
                posted += p;
                held += h;
            }
        }
        let key = (n, code.clone());
        assert_eq!(
            (posted, held),
            (
                ledger.units.get(&key).copied().unwrap_or(0),
                w.unconverted.get(&key).copied().unwrap_or(0)
            ),
            "{context}: {} units of {code} (posted, held)",
            t.org
        );
    }
}
