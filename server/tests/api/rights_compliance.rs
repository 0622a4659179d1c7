//! Verified use, surrender and expiry through the HTTP API: the ecology
//! bureau records two enterprises' SO2 for a year once it has ended; one
//! surrenders its free allocation (unconverted units first) and units it
//! bought, the other falls short and is listed as a gap once the
//! deadline passes; energy-use rights valid one year and SO2 valid five
//! lapse to a sink on time, once, and never move again.

use chrono::{FixedOffset, TimeZone};
use serde_json::{json, Value};

use crate::helpers::{
    backends, balance, bureau, enterprise, government, org_account, reserve_platform,
    spawn_app_with, uscc, TestApp,
};
use crate::pricing::{deposit, funded_buyer, listed_at_guidance};

const KG: i64 = 1_000;

fn china(y: i32, m: u32, d: u32) -> chrono::DateTime<FixedOffset> {
    FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(y, m, d, 10, 0, 0)
        .unwrap()
}

async fn public(app: &TestApp, query: &str) -> Vec<Value> {
    let page: Value = app
        .get(&format!("/api/v1/public/rights/compliance?{query}"))
        .await
        .json()
        .await
        .unwrap();
    page["data"].as_array().unwrap().clone()
}

async fn batch(app: &TestApp, id: &str) -> Value {
    app.get(&format!("/api/v1/batches/{id}"))
        .await
        .json()
        .await
        .unwrap()
}

struct Tokens {
    eco: String,
    econ: String,
    a_op: String,
    b_op: String,
}

impl Tokens {
    async fn of(app: &TestApp) -> Tokens {
        Tokens {
            eco: app.token("ecology1@gov.cn").await,
            econ: app.token("economic_development2@gov.cn").await,
            a_op: app.token("a@lz.cn").await,
            b_op: app.token("buyer3@lz.cn").await,
        }
    }
}

#[tokio::test]
async fn a_compliance_year_closes_with_surrenders_a_public_gap_and_rights_expiring_on_time() {
    for backend in backends() {
        // The test sweeps expired rights itself: the background loop waits.
        let app = spawn_app_with(backend, |s| s.market.close_check_secs = 3600).await;
        let year = app.year();
        let g = government(&app, 1).await;
        let (ecology, _) = bureau(&app, &g, "ecology", 1).await;
        let (economy, _) = bureau(&app, &g, "economic_development", 2).await;
        let (reserve, _) = reserve_platform(&app, &g, 1).await;
        let f = funded_buyer(&app, &g, 3).await;
        let (a, _) = enterprise(&app, &g, "a@lz.cn", 61).await;
        let a_id = a["id"].as_str().unwrap().to_string();
        let b_id = f.buyer.clone();
        deposit(&app, &f, &b_id, "D-B").await;
        let so2 = format!("TPH-SO2-{year}");
        let enu = format!("TPH-ENU-{year}");
        listed_at_guidance(
            &app,
            &g.gov,
            &so2,
            json!({"price": "4.80", "floor": true, "reason": "基准价"}),
        )
        .await;
        // Tokens lapse when the clock jumps: sign in again after each.
        let mut t = Tokens::of(&app).await;
        let app = &app;
        let allocate = |token: String, body: Value| async move {
            let (status, v) = app
                .post_as(&token, "/api/v1/rights/allocations", &body)
                .await;
            assert_eq!(status, 201, "{v}");
            v
        };
        let free = |org: &str, n: u32, instrument: &str, q: &str, bureau: &str| {
            json!({"bureau_organization_id": bureau, "organization_id": org, "instrument": instrument,
                   "quantity": q, "origin": "free", "identifier": format!("{}001P", uscc(n)),
                   "reserve_organization_id": reserve})
        };
        let alloc_a = allocate(t.eco.clone(), free(&a_id, 61, &so2, "10000", &ecology)).await;
        let alloc_b = allocate(t.eco.clone(), free(&b_id, 30_003, &so2, "8000", &ecology)).await;
        let mut energy = free(&a_id, 61, &enu, "600", &economy);
        energy["identifier"] = json!("用能权确权〔2026〕7号");
        let alloc_e = allocate(t.econ.clone(), energy).await;
        // B converts 3,000 kg and sells them to A.
        let (status, c) = app
            .post_as(
                &t.b_op,
                &format!(
                    "/api/v1/rights/allocations/{}/conversions",
                    alloc_b["id"].as_str().unwrap()
                ),
                &json!({"quantity": "3000"}),
            )
            .await;
        assert_eq!(status, 201, "{c}");
        let a_account = org_account(app, &t.a_op, &a_id).await;
        let b_account = org_account(app, &t.b_op, &b_id).await;
        let b_batch = alloc_b["batch_id"].as_str().unwrap().to_string();
        let (status, moved) = app
            .post_as(
                &t.b_op,
                "/api/v1/transfers",
                &json!({"transfer_id": uuid::Uuid::new_v4(), "from_account_id": b_account, "to_account_id": a_account,
                        "batch_id": b_batch, "quantity_g": (3_000 * KG).to_string()}),
            )
            .await;
        assert_eq!(status, 200, "{moved}");

        // Verified use is recorded once the year has ended, once.
        let record = |bureau: &str, org: &str, class: &str, q: &str| {
            json!({"bureau_organization_id": bureau, "organization_id": org, "class": class,
                   "year": year, "verified_use": q})
        };
        let (status, p) = app
            .post_as(
                &t.eco,
                "/api/v1/rights/compliance",
                &record(&ecology, &a_id, "so2", "12000"),
            )
            .await;
        assert_eq!((status, p["param"].as_str()), (422, Some("year")), "{p}");
        app.clock.set(china(year + 1, 1, 15));
        t = Tokens::of(app).await;
        let (status, ca) = app
            .post_as(
                &t.eco,
                "/api/v1/rights/compliance",
                &record(&ecology, &a_id, "so2", "12000"),
            )
            .await;
        assert_eq!(status, 201, "{backend:?} {ca}");
        let deadline = (chrono::NaiveDate::from_ymd_opt(year, 12, 31).unwrap()
            + chrono::Days::new(90))
        .format("%Y-%m-%d")
        .to_string();
        assert_eq!(
            (
                ca["status"].as_str(),
                ca["outstanding"].as_str(),
                ca["deadline"].as_str(),
                ca["unit"].as_str()
            ),
            (
                Some("open"),
                Some("12000"),
                Some(deadline.as_str()),
                Some("kg")
            ),
            "{ca}"
        );
        // Energy-use rights lapse after 31 March: not yet within the 30
        // days holders are warned.
        let e: Value = app
            .get(&format!(
                "/api/v1/public/rights/allocations/{}",
                alloc_e["id"].as_str().unwrap()
            ))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(e["expiring"], false, "{e}");
        let (status, p) = app
            .post_as(
                &t.eco,
                "/api/v1/rights/compliance",
                &record(&ecology, &a_id, "so2", "1"),
            )
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("compliance_recorded")),
            "{p}"
        );
        let (status, p) = app
            .post_as(
                &t.econ,
                "/api/v1/rights/compliance",
                &record(&ecology, &b_id, "so2", "1"),
            )
            .await;
        assert_eq!(status, 404, "{p}");
        let (status, p) = app
            .post_as(
                &t.eco,
                "/api/v1/rights/compliance",
                &record(&ecology, &b_id, "land_linkage", "1"),
            )
            .await;
        assert_eq!((status, p["param"].as_str()), (422, Some("class")), "{p}");
        let (status, cb) = app
            .post_as(
                &t.eco,
                "/api/v1/rights/compliance",
                &record(&ecology, &b_id, "so2", "5000"),
            )
            .await;
        assert_eq!(status, 201, "{cb}");
        // Energy use needs the third party's report.
        let (status, p) = app
            .post_as(
                &t.econ,
                "/api/v1/rights/compliance",
                &record(&economy, &a_id, "energy_use", "550"),
            )
            .await;
        assert_eq!(
            (status, p["param"].as_str()),
            (422, Some("report_sha256")),
            "{p}"
        );

        // A surrenders all: its 10,000 unconverted kg, then 2,000 it bought.
        let surrender = |id: &Value| {
            format!(
                "/api/v1/rights/compliance/{}/surrenders",
                id.as_str().unwrap()
            )
        };
        let (status, p) = app
            .post_as(&t.b_op, &surrender(&ca["id"]), &json!({"quantity": "1"}))
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (404, Some("not_found")),
            "{p}"
        );
        let (status, p) = app
            .post_as(
                &t.a_op,
                &surrender(&ca["id"]),
                &json!({"quantity": "12001"}),
            )
            .await;
        assert_eq!(
            (status, p["param"].as_str()),
            (422, Some("quantity")),
            "{p}"
        );
        let (status, done) = app
            .post_as(
                &t.a_op,
                &surrender(&ca["id"]),
                &json!({"quantity": "12000"}),
            )
            .await;
        assert_eq!(status, 200, "{done}");
        assert_eq!(
            (done["status"].as_str(), done["outstanding"].as_str()),
            (Some("met"), Some("0")),
            "{done}"
        );
        let a_batch = alloc_a["batch_id"].as_str().unwrap().to_string();
        let token = t.a_op.clone();
        assert_eq!(
            balance(app, &token, &a_account, &format!("credit:{a_batch}")).await,
            (0, 0)
        );
        assert_eq!(
            balance(app, &token, &a_account, &format!("credit:{b_batch}")).await,
            (1_000 * KG, 0)
        );
        // B surrenders 4,000 of 5,000 kg from its unconverted units.
        let (status, part) = app
            .post_as(&t.b_op, &surrender(&cb["id"]), &json!({"quantity": "4000"}))
            .await;
        assert_eq!(status, 200, "{part}");
        assert_eq!(
            (part["status"].as_str(), part["outstanding"].as_str()),
            (Some("open"), Some("1000")),
            "{part}"
        );
        assert_eq!(
            batch(app, &a_batch).await["retired_g"],
            (10_000 * KG).to_string()
        );
        assert_eq!(
            batch(app, &b_batch).await["retired_g"],
            (6_000 * KG).to_string()
        );
        // Before the deadline nothing is a gap.
        assert!(public(app, "status=gap").await.is_empty());

        // After the deadline: no more surrenders, and B's gap is public.
        app.clock.set(china(year + 1, 12, 1));
        t = Tokens::of(app).await;
        let (status, p) = app
            .post_as(&t.b_op, &surrender(&cb["id"]), &json!({"quantity": "1000"}))
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("compliance_closed")),
            "{p}"
        );
        let gaps = public(app, &format!("status=gap&year={year}")).await;
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert_eq!(
            (
                gaps[0]["organization_id"].as_str(),
                gaps[0]["outstanding"].as_str(),
                gaps[0]["organization_name"].is_string()
            ),
            (Some(b_id.as_str()), Some("1000"), true)
        );
        let met = public(app, "status=met&class=so2").await;
        assert_eq!(met.len(), 1);
        assert_eq!(met[0]["organization_id"], a_id.as_str());

        // Energy-use rights of the year lapsed after its deadline: cancelled
        // once, by whichever sweep comes first.
        let swept = tanpuhui_server::rights::expiry::expire_due(&app.db, app.now())
            .await
            .unwrap();
        assert_eq!(swept, 1);
        assert_eq!(
            tanpuhui_server::rights::expiry::expire_due(&app.db, app.now())
                .await
                .unwrap(),
            0
        );
        let e_batch = alloc_e["batch_id"].as_str().unwrap().to_string();
        let token = t.a_op.clone();
        assert_eq!(
            balance(app, &token, &a_account, &format!("credit:{e_batch}")).await,
            (0, 0)
        );
        let e: Value = app
            .get(&format!(
                "/api/v1/public/rights/allocations/{}",
                alloc_e["id"].as_str().unwrap()
            ))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            (
                e["status"].as_str(),
                e["expired"].as_str(),
                e["unconverted"].as_str()
            ),
            (Some("expired"), Some("600"), Some("0")),
            "{e}"
        );
        assert_eq!(
            batch(app, &e_batch).await["cancelled_g"],
            (600 * KG).to_string()
        );
        let (status, p) = app
            .post_as(
                &token,
                "/api/v1/transfers",
                &json!({"transfer_id": uuid::Uuid::new_v4(), "from_account_id": a_account, "to_account_id": b_account,
                        "batch_id": e_batch, "quantity_g": "1"}),
            )
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("rights_expired")),
            "{p}"
        );
        let (status, p) = app
            .post_as(
                &token,
                &format!(
                    "/api/v1/rights/allocations/{}/conversions",
                    alloc_e["id"].as_str().unwrap()
                ),
                &json!({"quantity": "1"}),
            )
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("rights_expired")),
            "{p}"
        );

        // SO2 is valid five years: it lapses after the deadline of the
        // fifth, taking what is left wherever it is.
        app.clock.set(china(year + 5, 3, 1));
        assert_eq!(
            tanpuhui_server::rights::expiry::expire_due(&app.db, app.now())
                .await
                .unwrap(),
            0
        );
        app.clock.set(china(year + 5, 4, 2));
        t = Tokens::of(app).await;
        assert_eq!(
            tanpuhui_server::rights::expiry::expire_due(&app.db, app.now())
                .await
                .unwrap(),
            2
        );
        let token = t.a_op.clone();
        assert_eq!(
            balance(app, &token, &a_account, &format!("credit:{b_batch}")).await,
            (0, 0)
        );
        let token = t.b_op.clone();
        assert_eq!(
            balance(app, &token, &b_account, &format!("credit:{b_batch}")).await,
            (0, 0)
        );
        let b_after = batch(app, &b_batch).await;
        assert_eq!(
            (
                b_after["retired_g"].as_str(),
                b_after["cancelled_g"].as_str()
            ),
            (
                Some((6_000 * KG).to_string().as_str()),
                Some((2_000 * KG).to_string().as_str())
            ),
            "{b_after}"
        );
        // The instrument no longer trades.
        let (_, i) = app
            .get_as(&token, &format!("/api/v1/market/instruments/{so2}"))
            .await;
        assert_eq!(i["status"], "suspended", "{i}");
    }
}

/// Expiry sweeps each allocation on its own: one whose transaction fails
/// is retried at the next run and keeps no other waiting.
#[tokio::test]
async fn one_allocation_failing_to_expire_does_not_keep_the_others() {
    for backend in backends() {
        let app = spawn_app_with(backend, |s| s.market.close_check_secs = 3600).await;
        let year = app.year();
        let g = government(&app, 1).await;
        let (water, wat) = bureau(&app, &g, "water", 2).await;
        let (org, _) = enterprise(&app, &g, "w@lz.cn", 91).await;
        let mut ids = Vec::new();
        for n in 0..3 {
            let (status, a) = app
                .post_as(
                    &wat,
                    "/api/v1/rights/allocations",
                    &json!({"bureau_organization_id": water, "organization_id": org["id"],
                            "instrument": format!("TPH-WCI-{year}"), "quantity": "10",
                            "origin": "verified", "identifier": format!("再生水-{n}")}),
                )
                .await;
            assert_eq!(status, 201, "{a}");
            ids.push(a["id"].as_str().unwrap().to_string());
        }
        let faulty = ids[1].clone();
        let fault = crate::helpers::FaultyRow::inject(&app, "right_allocations", &faulty).await;
        app.clock.set(china(year + 1, 4, 2));
        let sweep = || tanpuhui_server::rights::expiry::expire_due(&app.db, app.now());
        assert_eq!(sweep().await.unwrap(), 2, "{backend:?}");
        let status = |id: String| {
            let app = &app;
            async move {
                let v: Value = app
                    .get(&format!("/api/v1/public/rights/allocations/{id}"))
                    .await
                    .json()
                    .await
                    .unwrap();
                v["status"].as_str().unwrap().to_string()
            }
        };
        assert_eq!(status(ids[0].clone()).await, "expired");
        assert_eq!(status(faulty.clone()).await, "active");
        assert_eq!(status(ids[2].clone()).await, "expired");
        fault.repair(&app).await;
        assert_eq!(sweep().await.unwrap(), 1, "{backend:?}");
        assert_eq!(status(faulty).await, "expired");
    }
}

/// An allocation's public status and expired units.
async fn shown(app: &TestApp, id: &str) -> (String, String) {
    let v: Value = app
        .get(&format!("/api/v1/public/rights/allocations/{id}"))
        .await
        .json()
        .await
        .unwrap();
    (
        v["status"].as_str().unwrap().to_string(),
        v["expired"].as_str().unwrap().to_string(),
    )
}

/// Nobody pays for cancelled rights: an offer to the reserve made before
/// the rights lapse cannot be accepted after, new offers are refused, and
/// the offered units are cancelled once the offer ends.
#[tokio::test]
async fn the_reserve_does_not_buy_rights_that_lapsed_while_offered() {
    for backend in backends() {
        let app = spawn_app_with(backend, |s| s.market.close_check_secs = 3600).await;
        let year = app.year();
        let g = government(&app, 1).await;
        let (water, wat) = bureau(&app, &g, "water", 2).await;
        let (reserve, _) = reserve_platform(&app, &g, 1).await;
        let f = funded_buyer(&app, &g, 3).await;
        deposit(&app, &f, &reserve, "D-R").await;
        let (org, op) = enterprise(&app, &g, "w@lz.cn", 91).await;
        let org_id = org["id"].as_str().unwrap().to_string();
        let wci = format!("TPH-WCI-{year}");
        listed_at_guidance(
            &app,
            &g.gov,
            &wci,
            json!({"price": "2.50", "reason": "再生水指标指导价"}),
        )
        .await;
        let (status, a) = app
            .post_as(
                &wat,
                "/api/v1/rights/allocations",
                &json!({"bureau_organization_id": water, "organization_id": org_id,
                        "instrument": wci, "quantity": "100", "origin": "verified",
                        "identifier": "再生水-1"}),
            )
            .await;
        assert_eq!(status, 201, "{a}");
        let offer = |client: &str| {
            json!({"organization_id": org_id, "reserve_organization_id": reserve,
                   "client_id": client, "instrument": wci, "quantity": "40"})
        };
        let (status, o) = app
            .post_as(&op, "/api/v1/reserve/buy-backs", &offer("BB-1"))
            .await;
        assert_eq!(status, 201, "{o}");
        let id = o["id"].as_str().unwrap().to_string();

        // Water rights of the year are valid until 31 March next year.
        app.clock.set(china(year + 1, 4, 1));
        let keeper = app.token("reserve1@reserve.cn").await;
        let op = app.token("w@lz.cn").await;
        let (status, p) = app
            .post_as(
                &keeper,
                &format!("/api/v1/reserve/operations/{id}/accept"),
                &json!({"organization_id": reserve}),
            )
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("rights_expired")),
            "{p}"
        );
        let (status, p) = app
            .post_as(&op, "/api/v1/reserve/buy-backs", &offer("BB-2"))
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("rights_expired")),
            "{p}"
        );

        // The sweep cancels what is free and comes back for the offered
        // units once the holder withdraws.
        let sweep = || tanpuhui_server::rights::expiry::expire_due(&app.db, app.now());
        assert_eq!(sweep().await.unwrap(), 1);
        let allocation = a["id"].as_str().unwrap().to_string();
        assert_eq!(
            shown(&app, &allocation).await,
            ("active".into(), "60".into())
        );
        let (status, w) = app
            .post_as(
                &op,
                &format!("/api/v1/reserve/operations/{id}/withdraw"),
                &json!({"organization_id": org_id}),
            )
            .await;
        assert_eq!(status, 200, "{w}");
        assert_eq!(sweep().await.unwrap(), 1);
        assert_eq!(
            shown(&app, &allocation).await,
            ("expired".into(), "100".into())
        );
        let account = org_account(&app, &op, &org_id).await;
        let reserve_account = org_account(&app, &keeper, &reserve).await;
        let batch = format!("credit:{}", a["batch_id"].as_str().unwrap());
        assert_eq!(balance(&app, &op, &account, &batch).await, (0, 0));
        assert_eq!(
            balance(&app, &keeper, &reserve_account, &batch).await,
            (0, 0)
        );
        assert_eq!(
            balance(&app, &keeper, &reserve_account, "cash:CNY").await.0,
            100_000_000
        );
    }
}
