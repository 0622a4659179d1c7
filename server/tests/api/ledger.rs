//! The ledger core below HTTP: a model-checked simulation of random
//! postings, holds, releases, executions and replays (invariants checked
//! after every step, seed printed), and concurrency tests, on every backend.

use std::collections::HashMap;
use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tanpuhui_server::accounts::service as accounts;
use tanpuhui_server::ids::AccountId;
use tanpuhui_server::ledger::{self, Asset, Command, Draw, LedgerError, Posting, Request};

use crate::helpers::{backends, migrated_database, Rng};

/// The ledger takes `now` as an argument: these tests hand it one fixed
/// instant, so nothing here depends on the wall clock.
fn now() -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339("2026-06-15T10:00:00+08:00").unwrap()
}

/// `n` fresh accounts that may not go negative, and one issuer.
async fn open_accounts(db: &DatabaseConnection, n: usize) -> (String, Vec<String>) {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let issuer = accounts::system(db, &format!("issuer:test-{run}"), now())
        .await
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        let a = accounts::system(db, &format!("test:{run}:{i}"), now())
            .await
            .unwrap();
        assert!(!a.allow_negative);
        ids.push(a.id);
    }
    (issuer.id, ids)
}

fn transfer(id: &str, postings: &[(&str, &Asset, i64)]) -> Request {
    Request {
        id: id.to_string(),
        memo: None,
        command: Command::Transfer {
            postings: postings
                .iter()
                .map(|(a, asset, n)| Posting {
                    account_id: a.to_string(),
                    asset: (*asset).clone(),
                    amount: *n,
                })
                .collect(),
        },
    }
}

#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
struct Bal {
    posted: i64,
    held: i64,
}

#[derive(Clone, Debug)]
struct HoldModel {
    account: String,
    asset: Asset,
    amount: i64,
    drawn: i64,
    open: bool,
}

/// What the ledger should hold, updated by the simulation's expectations.
#[derive(Default)]
struct Model {
    balances: HashMap<(String, Asset), Bal>,
    holds: HashMap<String, HoldModel>,
    applied: Vec<Request>,
}

impl Model {
    fn bal(&self, a: &str, asset: &Asset) -> Bal {
        self.balances
            .get(&(a.to_string(), asset.clone()))
            .copied()
            .unwrap_or_default()
    }

    fn add(&mut self, a: &str, asset: &Asset, posted: i64, held: i64) {
        let b = self
            .balances
            .entry((a.to_string(), asset.clone()))
            .or_default();
        b.posted += posted;
        b.held += held;
    }
}

async fn check_invariants(
    db: &DatabaseConnection,
    model: &Model,
    issuer: &str,
    users: &[String],
    assets: &[Asset],
    context: &str,
) {
    let mut totals: HashMap<String, i64> = HashMap::new();
    for a in users.iter().chain(std::iter::once(&issuer.to_string())) {
        let got = ledger::balances(db, &AccountId::new(a.as_str()))
            .await
            .unwrap();
        for asset in assets {
            let b = got
                .iter()
                .find(|b| b.asset == asset.as_str())
                .map(|b| Bal {
                    posted: b.posted,
                    held: b.held,
                })
                .unwrap_or_default();
            assert_eq!(b, model.bal(a, asset), "{context}: balance of {a} {asset}");
            if a != issuer {
                assert!(
                    b.posted - b.held >= 0 && b.held >= 0,
                    "{context}: available < 0 on {a}"
                );
            }
            *totals.entry(asset.to_string()).or_default() += b.posted;
            // Held is exactly what the open holds still hold (invariant 8).
            use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
            use tanpuhui_server::ledger::entity::hold;
            let open: i64 = hold::Entity::find()
                .filter(hold::Column::AccountId.eq(a.as_str()))
                .filter(hold::Column::Asset.eq(asset.as_str()))
                .filter(hold::Column::Status.eq("held"))
                .all(db)
                .await
                .unwrap()
                .iter()
                .map(|h| h.amount - h.drawn)
                .sum();
            assert_eq!(
                b.held, open,
                "{context}: held of {a} {asset} vs its open holds"
            );
        }
        // The entries of an account sum to its posted balance.
        let (entries, more) = ledger::entries_page(db, &AccountId::new(a.as_str()), None, 10_000)
            .await
            .unwrap();
        assert!(!more);
        for asset in assets {
            let sum: i64 = entries
                .iter()
                .filter(|e| e.asset == asset.as_str())
                .map(|e| e.amount)
                .sum();
            assert_eq!(sum, model.bal(a, asset).posted, "{context}: entries of {a}");
        }
    }
    for (asset, total) in totals {
        assert_eq!(total, 0, "{context}: {asset} is not conserved");
    }
}

/// One random step: the request and what the ledger must answer.
enum Expect {
    Ok,
    Insufficient,
    Resolved,
    Invalid,
    Replay,
    IdReused,
}

fn random_step(
    rng: &mut Rng,
    model: &Model,
    issuer: &str,
    users: &[String],
    assets: &[Asset],
    step: usize,
) -> (Request, Expect) {
    let id = format!("s{step}-{}", uuid::Uuid::new_v4().simple());
    let asset = rng.pick(assets).clone();
    let a = rng.pick(users).clone();
    let b = rng.pick(users).clone();
    match rng.below(10) {
        0 | 1 => {
            let n = 1 + rng.below(1000) as i64;
            (
                transfer(&id, &[(issuer, &asset, -n), (&a, &asset, n)]),
                Expect::Ok,
            )
        }
        2 | 3 => {
            let avail = model.bal(&a, &asset).posted - model.bal(&a, &asset).held;
            let n = 1 + rng.below(avail.max(0) as u64 + 200) as i64;
            let expect = if a == b || n <= avail {
                Expect::Ok
            } else {
                Expect::Insufficient
            };
            // a == b nets to zero: allowed and changes nothing.
            let expect = if a == b { Expect::Ok } else { expect };
            (transfer(&id, &[(&a, &asset, -n), (&b, &asset, n)]), expect)
        }
        4 => {
            let n = 1 + rng.below(500) as i64;
            let expect = if rng.below(2) == 0 {
                Expect::Invalid
            } else {
                Expect::Ok
            };
            let m = if matches!(expect, Expect::Invalid) {
                n + 1
            } else {
                n
            };
            (
                transfer(&id, &[(issuer, &asset, -m), (&a, &asset, n)]),
                expect,
            )
        }
        5 => {
            let avail = model.bal(&a, &asset).posted - model.bal(&a, &asset).held;
            let n = 1 + rng.below(avail.max(0) as u64 + 100) as i64;
            let expect = if n <= avail {
                Expect::Ok
            } else {
                Expect::Insufficient
            };
            (
                Request {
                    id,
                    memo: Some("hold".into()),
                    command: Command::Hold {
                        account_id: a,
                        asset,
                        amount: n,
                    },
                },
                expect,
            )
        }
        6 | 7 if !model.holds.is_empty() => {
            let mut ids: Vec<&String> = model.holds.keys().collect();
            ids.sort();
            let hold_id = (*rng.pick(&ids)).clone();
            let h = &model.holds[&hold_id];
            if rng.below(2) == 0 {
                let expect = if h.open { Expect::Ok } else { Expect::Resolved };
                (
                    Request {
                        id,
                        memo: None,
                        command: Command::Release { hold_id },
                    },
                    expect,
                )
            } else {
                let n = 1 + rng.below(h.amount as u64 + 20) as i64;
                let expect = if n > h.amount - h.drawn {
                    Expect::Invalid
                } else if h.open {
                    Expect::Ok
                } else {
                    Expect::Resolved
                };
                (
                    Request {
                        id,
                        memo: None,
                        command: Command::Execute {
                            hold_id,
                            to_account_id: b,
                            amount: n,
                        },
                    },
                    expect,
                )
            }
        }
        8 if !model.holds.is_empty() => {
            // Draws from one hold: part to another account, part given
            // back, as a trade's settlement does.
            let mut ids: Vec<&String> = model.holds.keys().collect();
            ids.sort();
            let hold_id = (*rng.pick(&ids)).clone();
            let h = &model.holds[&hold_id];
            let left = h.amount - h.drawn;
            // Sometimes exactly what is left: the hold is then executed.
            let amount = match rng.below(3) {
                0 => left.max(1),
                _ => 1 + rng.below(left.max(1) as u64 + 5) as i64,
            };
            let mut draws = vec![Draw {
                hold_id: hold_id.clone(),
                to_account_id: Some(b),
                amount,
            }];
            if rng.below(2) == 0 {
                draws.push(Draw {
                    hold_id,
                    to_account_id: None,
                    amount: 1 + rng.below(left.max(1) as u64) as i64,
                });
            }
            let total: i64 = draws.iter().map(|d| d.amount).sum();
            let expect = if !h.open {
                Expect::Resolved
            } else if total > left {
                Expect::Invalid
            } else {
                Expect::Ok
            };
            (
                Request {
                    id,
                    memo: None,
                    command: Command::Settle { draws },
                },
                expect,
            )
        }
        _ if !model.applied.is_empty() => {
            let first = rng.pick(&model.applied).clone();
            if rng.below(2) == 0 {
                (first, Expect::Replay)
            } else {
                let mut changed = first;
                changed.memo = Some(format!("changed {step}"));
                (changed, Expect::IdReused)
            }
        }
        _ => (
            transfer(&id, &[(issuer, &asset, -7), (&a, &asset, 7)]),
            Expect::Ok,
        ),
    }
}

fn apply_to_model(model: &mut Model, req: &Request) {
    match &req.command {
        Command::Transfer { postings } => {
            for p in postings {
                model.add(&p.account_id, &p.asset, p.amount, 0);
            }
        }
        Command::Hold {
            account_id,
            asset,
            amount,
        } => {
            model.add(account_id, asset, 0, *amount);
            model.holds.insert(
                req.id.clone(),
                HoldModel {
                    account: account_id.clone(),
                    asset: asset.clone(),
                    amount: *amount,
                    drawn: 0,
                    open: true,
                },
            );
        }
        Command::Release { hold_id } => {
            let h = model.holds.get_mut(hold_id).unwrap();
            h.open = false;
            let h = h.clone();
            model.add(&h.account, &h.asset, 0, -(h.amount - h.drawn));
        }
        Command::Execute {
            hold_id,
            to_account_id,
            amount,
        } => {
            let h = model.holds.get_mut(hold_id).unwrap();
            h.open = false;
            let h = h.clone();
            model.add(&h.account, &h.asset, -amount, -(h.amount - h.drawn));
            model.add(to_account_id, &h.asset, *amount, 0);
        }
        Command::Settle { draws } => {
            for d in draws {
                let h = model.holds.get_mut(&d.hold_id).unwrap();
                h.drawn += d.amount;
                h.open = h.drawn < h.amount;
                let h = h.clone();
                match &d.to_account_id {
                    Some(to) => {
                        model.add(&h.account, &h.asset, -d.amount, -d.amount);
                        model.add(to, &h.asset, d.amount, 0);
                    }
                    None => model.add(&h.account, &h.asset, 0, -d.amount),
                }
            }
        }
    }
    model.applied.push(req.clone());
}

#[tokio::test]
async fn random_sequences_keep_the_invariants() {
    let mut rng = Rng::from_env("LEDGER_SEED");
    let assets = [Asset::points(), Asset::cny()];
    for backend in backends() {
        let (db, _dir) = migrated_database(backend).await;
        for case in 0..6 {
            let (issuer, users) = open_accounts(&db, 3).await;
            let mut model = Model::default();
            for step in 0..40 {
                let (req, expect) = random_step(&mut rng, &model, &issuer, &users, &assets, step);
                let context = format!("{backend:?} case {case} step {step} {:?}", req.command);
                let got = ledger::apply(&db, &req, now()).await;
                match (expect, got) {
                    (Expect::Ok, Ok(o)) => {
                        assert!(!o.replayed, "{context}");
                        apply_to_model(&mut model, &req);
                    }
                    (Expect::Replay, Ok(o)) => assert!(o.replayed, "{context}"),
                    (Expect::Insufficient, Err(LedgerError::Insufficient { .. }))
                    | (Expect::Resolved, Err(LedgerError::HoldResolved { .. }))
                    | (
                        Expect::Invalid,
                        Err(LedgerError::Invalid(_) | LedgerError::Unbalanced { .. }),
                    )
                    | (Expect::IdReused, Err(LedgerError::IdReused(_))) => {}
                    (_, got) => panic!("{context}: unexpected {got:?}"),
                }
                check_invariants(&db, &model, &issuer, &users, &assets, &context).await;
            }
        }
    }
}

#[tokio::test]
async fn replays_return_the_first_outcome() {
    for backend in backends() {
        let (db, _dir) = migrated_database(backend).await;
        let (issuer, users) = open_accounts(&db, 1).await;
        let pts = Asset::points();
        let req = transfer("grant-1", &[(&issuer, &pts, -50), (&users[0], &pts, 50)]);
        let first = ledger::apply(&db, &req, now()).await.unwrap();
        let again = ledger::apply(&db, &req, now()).await.unwrap();
        assert!(again.replayed && !first.replayed);
        assert_eq!(again.entries, first.entries, "{backend:?}");
        let other = transfer("grant-1", &[(&issuer, &pts, -51), (&users[0], &pts, 51)]);
        assert!(matches!(
            ledger::apply(&db, &other, now()).await,
            Err(LedgerError::IdReused(_))
        ));
        // A refused request leaves no trace: the id stays free.
        let too_much = transfer("move-1", &[(&users[0], &pts, -51), (&issuer, &pts, 51)]);
        assert!(matches!(
            ledger::apply(&db, &too_much, now()).await,
            Err(LedgerError::Insufficient { .. })
        ));
        let ok = transfer("move-1", &[(&users[0], &pts, -50), (&issuer, &pts, 50)]);
        assert!(ledger::apply(&db, &ok, now()).await.is_ok());
        let unknown = transfer("x", &[(&issuer, &pts, -1), ("no-such-account", &pts, 1)]);
        assert!(matches!(
            ledger::apply(&db, &unknown, now()).await,
            Err(LedgerError::UnknownAccount(_))
        ));
    }
}

/// Many transfers at once between few accounts: nothing goes negative,
/// nothing is created or lost, and every applied transfer is in the entries.
#[tokio::test]
async fn parallel_transfers_conserve_and_never_overdraw() {
    let mut rng = Rng::from_env("LEDGER_CONCURRENCY_SEED");
    for backend in backends() {
        let (db, _dir) = migrated_database(backend).await;
        let (issuer, users) = open_accounts(&db, 4).await;
        let pts = Asset::points();
        for u in &users {
            let req = transfer(
                &format!("fund-{u}"),
                &[(&issuer, &pts, -1000), (u, &pts, 1000)],
            );
            ledger::apply(&db, &req, now()).await.unwrap();
        }
        let db = Arc::new(db);
        let mut tasks = Vec::new();
        for i in 0..160 {
            let from = rng.pick(&users).clone();
            let mut to = rng.pick(&users).clone();
            if to == from {
                to = users[(users.iter().position(|u| *u == from).unwrap() + 1) % users.len()]
                    .clone();
            }
            let n = 1 + rng.below(600) as i64;
            let db = db.clone();
            let pts = pts.clone();
            tasks.push(tokio::spawn(async move {
                let req = transfer(&format!("p{i}"), &[(&from, &pts, -n), (&to, &pts, n)]);
                match ledger::apply(db.as_ref(), &req, now()).await {
                    Ok(_) => true,
                    Err(LedgerError::Insufficient { .. }) => false,
                    Err(e) => panic!("transfer {i}: {e}"),
                }
            }));
        }
        let mut applied = 0;
        for t in tasks {
            applied += t.await.unwrap() as usize;
        }
        let mut total = 0;
        let mut entries = 0;
        for u in &users {
            let b = ledger::balances(db.as_ref(), &AccountId::new(u.as_str()))
                .await
                .unwrap();
            let b = &b[0];
            assert!(b.available() >= 0, "{backend:?}: {u} overdrawn: {b:?}");
            total += b.posted;
            let (e, _) =
                ledger::entries_page(db.as_ref(), &AccountId::new(u.as_str()), None, 10_000)
                    .await
                    .unwrap();
            assert_eq!(e.iter().map(|e| e.amount).sum::<i64>(), b.posted);
            entries += e.len();
        }
        assert_eq!(total, 4000, "{backend:?}: points were created or lost");
        assert_eq!(entries, 4 + 2 * applied, "{backend:?}");
        assert!(
            applied > 20,
            "{backend:?}: only {applied} transfers went through"
        );
    }
}

/// The same transaction id, or the same hold, from many tasks at once:
/// exactly one takes effect.
#[tokio::test]
async fn concurrent_replays_and_resolutions_take_effect_once() {
    for backend in backends() {
        let (db, _dir) = migrated_database(backend).await;
        let (issuer, users) = open_accounts(&db, 2).await;
        let pts = Asset::points();
        let db = Arc::new(db);
        let req = transfer("once", &[(&issuer, &pts, -100), (&users[0], &pts, 100)]);
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (db, req) = (db.clone(), req.clone());
            tasks.push(tokio::spawn(async move {
                ledger::apply(db.as_ref(), &req, now())
                    .await
                    .unwrap()
                    .replayed
            }));
        }
        let mut fresh = 0;
        for t in tasks {
            fresh += (!t.await.unwrap()) as usize;
        }
        assert_eq!(fresh, 1, "{backend:?}");
        let hold = Request {
            id: "h".into(),
            memo: None,
            command: Command::Hold {
                account_id: users[0].clone(),
                asset: pts.clone(),
                amount: 60,
            },
        };
        ledger::apply(db.as_ref(), &hold, now()).await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..8 {
            let db = db.clone();
            let command = if i % 2 == 0 {
                Command::Release {
                    hold_id: "h".into(),
                }
            } else {
                Command::Execute {
                    hold_id: "h".into(),
                    to_account_id: users[1].clone(),
                    amount: 60,
                }
            };
            tasks.push(tokio::spawn(async move {
                let req = Request {
                    id: format!("r{i}"),
                    memo: None,
                    command,
                };
                match ledger::apply(db.as_ref(), &req, now()).await {
                    Ok(_) => 1,
                    Err(LedgerError::HoldResolved { .. }) => 0,
                    Err(e) => panic!("{e}"),
                }
            }));
        }
        let mut done = 0;
        for t in tasks {
            done += t.await.unwrap();
        }
        assert_eq!(done, 1, "{backend:?}: a hold resolved more than once");
        let a = &ledger::balances(db.as_ref(), &AccountId::new(users[0].as_str()))
            .await
            .unwrap()[0];
        let b = ledger::balances(db.as_ref(), &AccountId::new(users[1].as_str()))
            .await
            .unwrap();
        assert_eq!(a.held, 0);
        let moved = b.first().map_or(0, |b| b.posted);
        assert_eq!(a.posted + moved, 100, "{backend:?}");
    }
}

/// A receive-only account (the market's fee account, which every trade
/// with a fee credits) spreads its credits over shard rows like an issuer,
/// so trades on different instruments do not queue on one row; its
/// balance is still their sum, and it refuses to pay out or hold (no one
/// guarded update could check a spread balance).
#[tokio::test]
async fn the_fee_account_receives_on_many_rows_and_never_pays_out() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use tanpuhui_server::ledger::entity::balance;
    for backend in backends() {
        let (db, _dir) = migrated_database(backend).await;
        let (issuer, users) = open_accounts(&db, 1).await;
        let fees = accounts::system(&db, "fees:market", now()).await.unwrap();
        assert!(fees.receive_only() && !fees.allow_negative);
        let cash = Asset::cny();
        for n in 0..40 {
            let req = transfer(
                &format!("fee-{n}"),
                &[(&issuer, &cash, -3), (&fees.id, &cash, 3)],
            );
            ledger::apply(&db, &req, now()).await.unwrap();
        }
        let rows = balance::Entity::find()
            .filter(balance::Column::AccountId.eq(fees.id.as_str()))
            .all(&db)
            .await
            .unwrap();
        assert!(rows.len() > 1, "{backend:?}: one hot row");
        let total = ledger::balances(&db, &fees.account_id()).await.unwrap();
        assert_eq!(
            (total[0].posted, total[0].held),
            (120, 0),
            "{backend:?}: the balance is the rows' sum"
        );
        let out = transfer("fee-out", &[(&fees.id, &cash, -1), (&users[0], &cash, 1)]);
        assert!(
            matches!(ledger::apply(&db, &out, now()).await, Err(LedgerError::Invalid(m)) if m.contains("only receives")),
            "{backend:?}"
        );
        let hold = Request {
            id: "fee-hold".into(),
            memo: None,
            command: Command::Hold {
                account_id: fees.id.clone(),
                asset: cash.clone(),
                amount: 1,
            },
        };
        assert!(
            matches!(
                ledger::apply(&db, &hold, now()).await,
                Err(LedgerError::Invalid(_))
            ),
            "{backend:?}"
        );
    }
}

/// Every row the ledger writes, as a batch and the one-by-one path must
/// both leave them (balances summed over shards; events by their text).
async fn ledger_rows(db: &impl sea_orm::ConnectionTrait) -> Vec<String> {
    use sea_orm::{EntityTrait, QueryOrder};
    use tanpuhui_server::audit::entity::event;
    use tanpuhui_server::ledger::entity::{balance, entry, hold, transaction};
    let mut rows = Vec::new();
    for t in transaction::Entity::find()
        .order_by_asc(transaction::Column::Id)
        .all(db)
        .await
        .unwrap()
    {
        rows.push(format!(
            "txn {} {} {} {:?}",
            t.id, t.kind, t.request_hash, t.memo
        ));
    }
    for h in hold::Entity::find()
        .order_by_asc(hold::Column::Id)
        .all(db)
        .await
        .unwrap()
    {
        rows.push(format!("hold {h:?}"));
    }
    let mut sums: std::collections::BTreeMap<(String, String), (i64, i64)> = Default::default();
    for b in balance::Entity::find().all(db).await.unwrap() {
        let s = sums.entry((b.account_id, b.asset)).or_default();
        s.0 += b.posted;
        s.1 += b.held;
    }
    rows.extend(
        sums.into_iter()
            .map(|(k, v)| format!("balance {k:?} {v:?}")),
    );
    for e in entry::Entity::find()
        .order_by_asc(entry::Column::Id)
        .all(db)
        .await
        .unwrap()
    {
        rows.push(format!(
            "entry {} {} {} {}",
            e.transaction_id, e.account_id, e.asset, e.amount
        ));
    }
    for e in event::Entity::find()
        .order_by_asc(event::Column::Id)
        .all(db)
        .await
        .unwrap()
    {
        rows.push(format!("event {} {} {:?}", e.kind, e.leaf, e.salt));
    }
    rows
}

fn outcome<T>(r: &Result<T, LedgerError>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(LedgerError::Insufficient { .. }) => "insufficient",
        Err(LedgerError::HoldResolved { .. }) => "resolved",
        Err(LedgerError::Invalid(_)) => "invalid",
        Err(LedgerError::Unbalanced { .. }) => "unbalanced",
        Err(LedgerError::UnknownHold(_)) => "unknown hold",
        Err(LedgerError::UnknownAccount(_)) => "unknown account",
        Err(LedgerError::IdReused(_)) => "id reused",
        Err(LedgerError::Database(_)) => "database",
    }
}

/// A batch ([`ledger::Batch`], the market's write path) answers every
/// request as `apply_within` does and writes exactly the rows the
/// requests one by one would have written, on top of holds and balances
/// made before it.
#[tokio::test]
async fn a_batch_writes_what_the_requests_one_by_one_write() {
    use sea_orm::{EntityTrait, TransactionTrait};
    use tanpuhui_server::ledger::entity::hold;
    let mut rng = Rng::from_env("LEDGER_BATCH_SEED");
    let assets = [Asset::points(), Asset::cny()];
    for backend in backends() {
        let (db, _dir) = migrated_database(backend).await;
        for case in 0..4 {
            let (issuer, users) = open_accounts(&db, 3).await;
            let mut model = Model::default();
            let mut step = 0;
            // Made before the batch, committed.
            while step < 15 {
                let (req, expect) = random_step(&mut rng, &model, &issuer, &users, &assets, step);
                step += 1;
                if matches!(expect, Expect::Replay | Expect::IdReused) {
                    continue;
                }
                if ledger::apply(&db, &req, now()).await.is_ok() {
                    apply_to_model(&mut model, &req);
                }
            }
            // One by one, each in its savepoint, then rolled back.
            let one = db.begin().await.unwrap();
            let (mut requests, mut answers) = (Vec::new(), Vec::new());
            while requests.len() < 40 {
                let (req, expect) = random_step(&mut rng, &model, &issuer, &users, &assets, step);
                step += 1;
                if matches!(expect, Expect::Replay | Expect::IdReused) {
                    continue;
                }
                let sp = one.begin().await.unwrap();
                let got = ledger::apply_within(&sp, &req, &[], now()).await;
                if got.is_ok() {
                    sp.commit().await.unwrap();
                    apply_to_model(&mut model, &req);
                } else {
                    sp.rollback().await.unwrap();
                }
                answers.push(outcome(&got));
                requests.push(req);
            }
            let expected = ledger_rows(&one).await;
            one.rollback().await.unwrap();

            let all = db.begin().await.unwrap();
            let mut ids = users.clone();
            ids.push(issuer.clone());
            // Even cases lock the balances first; odd ones read them and
            // lock them only to write (nothing changes them meanwhile).
            let mut batch = if case % 2 == 0 {
                ledger::Batch::load(&all, &ids, &assets).await.unwrap()
            } else {
                let mut b = ledger::Batch::default();
                b.add_accounts(&all, &ids).await.unwrap();
                b.read_balances(&all, &ids, &assets).await.unwrap();
                b
            };
            for h in hold::Entity::find().all(&all).await.unwrap() {
                batch.know_hold(h);
            }
            for (k, (req, answer)) in requests.iter().zip(&answers).enumerate() {
                let got = batch.apply(req, None, now());
                assert_eq!(
                    outcome(&got),
                    *answer,
                    "{backend:?} case {case} request {k} {:?}: {got:?}",
                    req.command
                );
            }
            assert!(batch.write(&all).await.unwrap().is_some());
            let written = ledger_rows(&all).await;
            all.rollback().await.unwrap();
            assert_eq!(written.len(), expected.len(), "{backend:?} case {case}");
            for (w, e) in written.iter().zip(&expected) {
                assert_eq!(w, e, "{backend:?} case {case}");
            }
        }
    }
}

/// A batch that read a balance without locking it finds, when it writes,
/// that another transaction spent part of it meanwhile, and writes
/// nothing: the caller runs it again with the balance locked. Money that
/// arrived meanwhile is no reason to refuse. PostgreSQL only (SQLite's
/// write transactions exclude each other).
#[tokio::test]
async fn a_batch_that_read_a_balance_spent_meanwhile_writes_nothing() {
    use sea_orm::TransactionTrait;
    for backend in backends() {
        if backend != crate::helpers::Backend::Postgres {
            continue;
        }
        let (db, _dir) = migrated_database(backend).await;
        let (issuer, users) = open_accounts(&db, 2).await;
        let cny = Asset::cny();
        let fund = |id: &str, n: i64| transfer(id, &[(&issuer, &cny, -n), (&users[0], &cny, n)]);
        ledger::apply(&db, &fund("fund", 100), now()).await.unwrap();
        let hold = |id: &str, n: i64| Request {
            id: id.into(),
            memo: None,
            command: Command::Hold {
                account_id: users[0].clone(),
                asset: cny.clone(),
                amount: n,
            },
        };
        for (spent, fine) in [(50, false), (-50, true)] {
            if spent < 0 {
                // Back to 100 available after the first round's spending.
                ledger::apply(&db, &fund("refill", 50), now())
                    .await
                    .unwrap();
            }
            let txn = db.begin().await.unwrap();
            let mut batch = ledger::Batch::default();
            batch.add_accounts(&txn, &users).await.unwrap();
            batch
                .read_balances(&txn, &users[..1], std::slice::from_ref(&cny))
                .await
                .unwrap();
            // Another transaction moves money meanwhile and commits.
            let other = if spent > 0 {
                transfer(
                    &format!("spend-{spent}"),
                    &[(&users[0], &cny, -spent), (&users[1], &cny, spent)],
                )
            } else {
                fund(&format!("more-{spent}"), -spent)
            };
            ledger::apply(&db, &other, now()).await.unwrap();
            batch
                .apply(&hold(&format!("h{spent}"), 80), None, now())
                .unwrap();
            let written = batch.write(&txn).await.unwrap();
            assert_eq!(written.is_some(), fine, "spent {spent}");
            txn.rollback().await.unwrap();
        }
    }
}
