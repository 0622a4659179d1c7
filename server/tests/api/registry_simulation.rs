//! A randomized simulation of the registry: rounds of concurrent clients
//! issuing, transferring, retiring, holding, releasing, reversing, logging
//! trips and aggregating them, with invalid requests mixed in; invariants
//! 1–3, 5–7 of DESIGN.md checked after every round and the audit tree at
//! the end. The seed is printed; `REGISTRY_SEED=<n>` replays a run,
//! `REGISTRY_SIM_OPS=<n>` sets its length (default 2,000 operations).
//! Invariant 4 (delivery versus payment) needs the market, not built yet.

use std::collections::{BTreeMap, HashMap};

use futures_util::future::{join_all, BoxFuture};
use futures_util::FutureExt;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::{json, Value};

use carbon_calc::merkle::verify_consistency;
use tanpuhui_server::ledger::entity::{balance, entry, hold};
use tanpuhui_server::ledger::{self, Asset, Command, LedgerError, Request};
use tanpuhui_server::registry::entity::{batch, retirement};
use tanpuhui_server::trips::entity::reduction;

use crate::helpers::enterprise;
use crate::helpers::{backends, spawn_app_with, Rng, TestApp};
use crate::helpers::{forest_project, forest_report, registry};

const CLIENTS: usize = 6;

struct Holder {
    account: String,
    token: String,
}

#[derive(Default)]
struct World {
    holders: Vec<Holder>,
    batches: Vec<String>,
    /// Forest projects with the next (earlier) year they may report.
    projects: Vec<(String, String, i32)>,
    holds: Vec<String>,
    transfers: Vec<Value>,
    walkers: Vec<String>,
}

type Op = BoxFuture<'static, Result<String, String>>;

fn http_ok(what: &str, status: u16, allowed: &[u16], body: &Value) -> Result<String, String> {
    if allowed.contains(&status) {
        Ok(format!("{what} → {status}"))
    } else {
        Err(format!("{what}: unexpected {status} {body}"))
    }
}

#[tokio::test]
async fn random_registry_operations_keep_every_invariant() {
    let ops: usize = std::env::var("REGISTRY_SIM_OPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000);
    for backend in backends() {
        let mut rng = Rng::from_env("REGISTRY_SEED");
        let app = std::sync::Arc::new(
            spawn_app_with(backend, |s| {
                s.registry.notice_working_days = 0;
                s.registry.max_transfer_g = 3_000_000_000;
            })
            .await,
        );
        let r = registry(&app, 9).await;
        let mut w = World::default();
        w.holders.push(Holder {
            account: r.account_id().to_string(),
            token: r.op.clone(),
        });
        for n in 0..3 {
            let (org, token) = enterprise(&app, &r.g, &format!("sim{n}@ent.cn"), 810_000 + n).await;
            w.holders.push(Holder {
                account: org["account_id"].as_str().unwrap().to_string(),
                token,
            });
        }
        // Two forest projects, each approved (the notice is 0 days here).
        for (i, parcel) in ["SIM-1", "SIM-2"].iter().enumerate() {
            let (_, p) = app
                .post_as(
                    &r.op,
                    "/api/v1/projects",
                    &forest_project(app.year(), r.org_id(), &format!("林{i}"), parcel),
                )
                .await;
            let id = p["id"].as_str().unwrap().to_string();
            app.post_as(
                &r.op,
                &format!("/api/v1/projects/{id}/submit"),
                &json!(null),
            )
            .await;
            let (status, _) = app
                .post_as(
                    &r.verifier,
                    &format!("/api/v1/projects/{id}/decision"),
                    &json!({"decision": "approve"}),
                )
                .await;
            assert_eq!(status, 200);
            w.projects.push((id, r.op.clone(), app.year() - 1));
        }
        for n in 0..3 {
            w.walkers
                .push(app.signed_in(&format!("walker{n}@lz.cn")).await);
        }
        let verifier = r.verifier.clone();
        let mut heads: Vec<Value> = Vec::new();
        let mut done = 0;
        let mut round = 0;
        while done < ops {
            round += 1;
            let mut batch_ops: Vec<Op> = Vec::new();
            for _ in 0..CLIENTS {
                batch_ops.push(next_op(&mut rng, &mut w, &app, &verifier));
            }
            done += batch_ops.len();
            let results = join_all(batch_ops).await;
            for res in &results {
                if let Err(e) = res {
                    panic!(
                        "{backend:?} round {round}: {e} (replay with the printed REGISTRY_SEED)"
                    );
                }
            }
            // Batches issued this round become tradeable.
            refresh_batches(&app.db, &mut w).await;
            check(&app.db, &format!("{backend:?} round {round}")).await;
            if round % 20 == 0 {
                if let Ok(h) = app
                    .get("/api/v1/audit/tree-head")
                    .await
                    .json::<Value>()
                    .await
                {
                    heads.push(h);
                }
            }
        }
        // The log: everything sealed, every head consistent with the last,
        // and the recomputed tree matches.
        let pending = || async {
            app.db
                .query_one_raw(sea_orm::Statement::from_string(
                    app.db.get_database_backend(),
                    "SELECT COUNT(*) AS n FROM audit_events WHERE leaf_index IS NULL",
                ))
                .await
                .unwrap()
                .unwrap()
                .try_get::<i64>("", "n")
                .unwrap()
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while pending().await > 0 {
            assert!(std::time::Instant::now() < deadline, "events left unsealed");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let last: Value = app.sealed_head(1).await;
        let hex32 = |v: &Value| -> [u8; 32] {
            hex::decode(v.as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap()
        };
        let last_size = last["tree_size"].as_u64().unwrap();
        for h in &heads {
            let first = h["tree_size"].as_u64().unwrap();
            let p: Value = app
                .get(&format!(
                    "/api/v1/audit/proofs/consistency?first={first}&second={last_size}"
                ))
                .await
                .json()
                .await
                .unwrap();
            let proof: Vec<[u8; 32]> = p["proof"].as_array().unwrap().iter().map(hex32).collect();
            assert!(
                verify_consistency(
                    first,
                    last_size,
                    &hex32(&h["root_hash"]),
                    &hex32(&last["root_hash"]),
                    &proof
                ),
                "{backend:?}: head {first} is not a prefix of {last_size}"
            );
        }
        let report = tanpuhui_server::audit::verify::verify(&app.db)
            .await
            .unwrap();
        assert!(
            report.problems.is_empty(),
            "{backend:?}: {:?}",
            report.problems
        );
        assert!(report.leaves >= last_size);
        eprintln!(
            "{backend:?}: {done} operations in {round} rounds, {} batches, {} leaves, {} heads checked",
            w.batches.len(),
            report.leaves,
            report.heads
        );
    }
}

async fn refresh_batches(db: &DatabaseConnection, w: &mut World) {
    w.batches = batch::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.id)
        .collect();
}

fn next_op(rng: &mut Rng, w: &mut World, app: &std::sync::Arc<TestApp>, verifier: &str) -> Op {
    let app = app.clone();
    let roll = rng.below(100);
    let have_batches = !w.batches.is_empty();
    match roll {
        // Issue a new period of a project (report, verification, issuance).
        0..=5 => {
            let i = rng.below(w.projects.len() as u64) as usize;
            let (id, token, year) = w.projects[i].clone();
            w.projects[i].2 -= 1;
            let verifier = verifier.to_string();
            let reduce = rng.below(3) == 0;
            async move {
                if year < app.year() - 3 {
                    return Ok("out of crediting period".into());
                }
                let (status, rep) = app
                    .post_as(&token, &format!("/api/v1/projects/{id}/reports"), &forest_report(year))
                    .await;
                http_ok("report", status, &[201], &rep)?;
                let rid = rep["id"].as_str().unwrap();
                let verdict = if reduce {
                    json!({"verdict": "accept_reduced", "quantity_g": 3_000_000_000i64, "reason": "sample plots"})
                } else {
                    json!({"verdict": "accept"})
                };
                let (status, v) = app
                    .post_as(&verifier, &format!("/api/v1/reports/{rid}/verification"), &verdict)
                    .await;
                http_ok("verify", status, &[200], &v)?;
                let (status, b) = app
                    .post_as(&verifier, &format!("/api/v1/reports/{rid}/issuance"), &json!(null))
                    .await;
                http_ok("issue", status, &[201], &b)
            }
            .boxed()
        }
        // Transfers, some over what is held, some replays, some invalid.
        6..=40 if have_batches => {
            let from = rng.below(w.holders.len() as u64) as usize;
            let mut to = rng.below(w.holders.len() as u64) as usize;
            if to == from {
                to = (to + 1) % w.holders.len();
            }
            let body = if rng.below(8) == 0 && !w.transfers.is_empty() {
                rng.pick(&w.transfers).clone()
            } else {
                let q = match rng.below(10) {
                    0 => 0,
                    1 => 3_000_000_001,
                    _ => 1 + rng.below(600_000_000) as i64,
                };
                json!({"transfer_id": uuid::Uuid::new_v4(), "from_account_id": w.holders[from].account,
                       "to_account_id": w.holders[to].account, "batch_id": rng.pick(&w.batches),
                       "quantity_g": q})
            };
            w.transfers.push(body.clone());
            let sender = w
                .holders
                .iter()
                .find(|h| body["from_account_id"] == h.account.as_str())
                .unwrap()
                .token
                .clone();
            async move {
                let (status, t) = app.post_as(&sender, "/api/v1/transfers", &body).await;
                http_ok("transfer", status, &[200, 409, 422], &t)
            }
            .boxed()
        }
        // Retirements by the holder or by the service centre.
        41..=60 if have_batches => {
            let h = rng.below(w.holders.len() as u64) as usize;
            let token = if rng.below(3) == 0 {
                verifier.to_string()
            } else {
                w.holders[h].token.clone()
            };
            let q = 1 + rng.below(400_000_000) as i64;
            let body = json!({"retirement_id": uuid::Uuid::new_v4(), "account_id": w.holders[h].account,
                              "batch_id": rng.pick(&w.batches), "quantity_g": q,
                              "beneficiary": "sim", "purpose": "simulation"});
            async move {
                let (status, t) = app.post_as(&token, "/api/v1/retirements", &body).await;
                http_ok("retire", status, &[201, 409], &t)
            }
            .boxed()
        }
        // Holds (pledges to come), releases and partial executions.
        61..=72 if have_batches => {
            let h = rng.below(w.holders.len() as u64) as usize;
            let id = format!("hold:{}", uuid::Uuid::new_v4());
            w.holds.push(id.clone());
            let req = Request {
                id,
                memo: None,
                command: Command::Hold {
                    account_id: w.holders[h].account.clone(),
                    asset: Asset::parse(&format!("credit:{}", rng.pick(&w.batches))).unwrap(),
                    amount: 1 + rng.below(500_000_000) as i64,
                },
            };
            async move {
                match ledger::apply(&app.db, &req, app.now()).await {
                    Ok(_) | Err(LedgerError::Insufficient { .. }) => Ok("hold".into()),
                    Err(e) => Err(format!("hold: {e}")),
                }
            }
            .boxed()
        }
        73..=84 if !w.holds.is_empty() => {
            let hold_id = rng.pick(&w.holds).clone();
            let to = rng.pick(&w.holders).account.clone();
            let command = if rng.below(2) == 0 {
                Command::Release { hold_id }
            } else {
                Command::Execute {
                    hold_id,
                    to_account_id: to,
                    amount: 1 + rng.below(300_000_000) as i64,
                }
            };
            let req = Request {
                id: format!("resolve:{}", uuid::Uuid::new_v4()),
                memo: None,
                command,
            };
            async move {
                match ledger::apply(&app.db, &req, app.now()).await {
                    Ok(_)
                    | Err(LedgerError::HoldResolved { .. })
                    | Err(LedgerError::UnknownHold(_))
                    | Err(LedgerError::Invalid(_))
                    | Err(LedgerError::Insufficient { .. }) => Ok("resolve".into()),
                    Err(e) => Err(format!("resolve: {e}")),
                }
            }
            .boxed()
        }
        85..=87 if have_batches => {
            let (id, _, _) = rng.pick(&w.projects).clone();
            let verifier = verifier.to_string();
            let loss = 1 + rng.below(200_000_000) as i64;
            async move {
                let (status, v) = app
                    .post_as(
                        &verifier,
                        &format!("/api/v1/projects/{id}/reversals"),
                        &json!({"loss_g": loss, "cause": "fire", "occurred_on": app.today().to_string()}),
                    )
                    .await;
                http_ok("reversal", status, &[201], &v)
            }
            .boxed()
        }
        // Trips of the last days, and aggregations of a past day.
        88..=95 => {
            let token = rng.pick(&w.walkers).clone();
            let days = 1 + rng.below(5) as i64;
            let start = crate::helpers::base_time(&app) - chrono::Duration::days(days)
                + chrono::Duration::minutes(rng.below(600) as i64);
            async move {
                let (status, t) = app
                    .post_as(
                        &token,
                        "/api/v1/trips",
                        &crate::helpers::commute(start, 30, true),
                    )
                    .await;
                http_ok("trip", status, &[201, 409, 422], &t)
            }
            .boxed()
        }
        _ => {
            let verifier = verifier.to_string();
            let day = (crate::helpers::base_time(&app)
                - chrono::Duration::days(1 + rng.below(5) as i64))
            .date_naive()
            .to_string();
            async move {
                let (status, b) = app
                    .post_as(
                        &verifier,
                        "/api/v1/aggregations",
                        &json!({"from": day, "to": day, "preset": "wuhan-2024"}),
                    )
                    .await;
                http_ok("aggregate", status, &[201, 409, 422], &b)
            }
            .boxed()
        }
    }
}

/// Invariants 1–3, 5 and 6 over the whole database.
async fn check(db: &DatabaseConnection, context: &str) {
    let accounts: HashMap<String, tanpuhui_server::accounts::entity::Model> =
        tanpuhui_server::accounts::entity::Entity::find()
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|a| (a.id.clone(), a))
            .collect();
    let code = |id: &str| accounts[id].code.clone().unwrap_or_default();
    let mut by_asset: BTreeMap<String, BTreeMap<String, (i64, i64)>> = BTreeMap::new();
    for b in balance::Entity::find().all(db).await.unwrap() {
        let e = by_asset
            .entry(b.asset.clone())
            .or_default()
            .entry(b.account_id.clone())
            .or_default();
        e.0 += b.posted;
        e.1 += b.held;
    }
    // 2: nothing negative but issuers; holds' held sums match the balances.
    let mut open_holds: BTreeMap<(String, String), i64> = BTreeMap::new();
    for h in hold::Entity::find().all(db).await.unwrap() {
        assert!(
            ["held", "released", "executed"].contains(&h.status.as_str()),
            "{context}: hold {} is {}",
            h.id,
            h.status
        );
        if h.status == "held" {
            *open_holds.entry((h.account_id, h.asset)).or_default() += h.amount;
        }
    }
    for (asset, rows) in &by_asset {
        for (account, (posted, held)) in rows {
            if !code(account).starts_with("issuer:") {
                assert!(
                    posted - held >= 0 && *held >= 0,
                    "{context}: {account} {asset} {posted}/{held}"
                );
            }
            let open = open_holds
                .get(&(account.clone(), asset.clone()))
                .copied()
                .unwrap_or(0);
            assert_eq!(*held, open, "{context}: held {account} {asset}");
        }
    }
    // 1 and 3, per batch.
    let retirements = retirement::Entity::find().all(db).await.unwrap();
    for b in batch::Entity::find().all(db).await.unwrap() {
        let asset = format!("credit:{}", b.id);
        let rows = by_asset.get(&asset).cloned().unwrap_or_default();
        let (mut issuer, mut held, mut retired, mut cancelled) = (0, 0, 0, 0);
        for (account, (posted, _)) in &rows {
            let c = code(account);
            match c.as_str() {
                "issuer:credits" => issuer += posted,
                "sink:retired" => retired += posted,
                "sink:cancelled" => cancelled += posted,
                _ => held += posted,
            }
        }
        assert_eq!(-issuer, b.quantity_g, "{context}: {} issued", b.id);
        assert_eq!(
            held + retired + cancelled,
            b.quantity_g,
            "{context}: {} conservation",
            b.id
        );
        assert_eq!(
            (retired, cancelled),
            (b.retired_g, b.cancelled_g),
            "{context}: {} counters",
            b.id
        );
        assert_eq!(
            b.next_serial - 1,
            b.retired_g + b.cancelled_g,
            "{context}: {} serials",
            b.id
        );
        let mut ranges: Vec<(i64, i64)> = retirements
            .iter()
            .filter(|r| r.batch_id == b.id)
            .map(|r| (r.serial_first, r.serial_last))
            .collect();
        ranges.sort();
        for w in ranges.windows(2) {
            assert!(
                w[0].1 < w[1].0,
                "{context}: {} overlapping serials {w:?}",
                b.id
            );
        }
        assert!(ranges
            .iter()
            .all(|(f, l)| 1 <= *f && f <= l && *l <= b.quantity_g));
        // 6: a personal batch is exactly its records.
        if b.kind == "personal" {
            let records: Vec<reduction::Model> = reduction::Entity::find()
                .filter(reduction::Column::BatchId.eq(b.id.as_str()))
                .all(db)
                .await
                .unwrap();
            assert_eq!(
                Some(records.len() as i64),
                b.records,
                "{context}: {} records",
                b.id
            );
            assert_eq!(records.iter().map(|r| r.grams).sum::<i64>(), b.quantity_g);
        }
    }
    // 3: nothing ever leaves a sink.
    let sinks: Vec<&String> = accounts
        .values()
        .filter(|a| a.code.as_deref().is_some_and(|c| c.starts_with("sink:")))
        .map(|a| &a.id)
        .collect();
    for e in entry::Entity::find().all(db).await.unwrap() {
        if sinks.contains(&&e.account_id) {
            assert!(
                e.amount > 0,
                "{context}: units left a sink in {}",
                e.transaction_id
            );
        }
    }
    // 5: every ledger transaction's entries sum to zero per asset (a replay
    // adds none).
    let mut sums: HashMap<(String, String), i64> = HashMap::new();
    for e in entry::Entity::find().all(db).await.unwrap() {
        *sums.entry((e.transaction_id, e.asset)).or_default() += e.amount;
    }
    assert!(
        sums.values().all(|s| *s == 0),
        "{context}: unbalanced transaction"
    );
}
