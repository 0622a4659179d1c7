//! The reserve platform's operations through the HTTP API: a buy-back at
//! the holder's tiered guidance price (declined, withdrawn after a price
//! change, accepted), a swap at the ratio of two guidance prices, leases
//! returned in kind and paid from the deposit when overdue, claw-back
//! refused for carbon credits, and the public view of it all. Units and
//! cash are counted before and after: nothing is created or lost.

use chrono::Duration;
use serde_json::{json, Value};

use crate::helpers::{
    at, backends, balance, issued_forest_batch, issued_report, next_monday, registry,
    spawn_app_with, TestApp,
};
use crate::pricing::{deposit, funded_buyer};

const T: i64 = 1_000_000;

async fn publish(app: &TestApp, gov: &str, code: &str, price: &str, tiers: Value) {
    let (status, v) = app
        .post_as(
            gov,
            "/api/v1/guidance-prices",
            &json!({"instrument": code, "price": price, "tiers": tiers, "reason": "收储指导价"}),
        )
        .await;
    assert_eq!(status, 201, "{v}");
}

/// The one reserve platform of the public view.
async fn public_reserve(app: &TestApp) -> Value {
    let v: Value = app
        .get("/api/v1/public/reserve")
        .await
        .json()
        .await
        .unwrap();
    let all = v["reserves"].as_array().unwrap();
    assert_eq!(all.len(), 1, "{v}");
    all[0].clone()
}

fn stock_of(reserve: &Value, code: &str) -> i64 {
    reserve["stock"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["instrument"] == code)
        .map_or(0, |s| s["units"].as_str().unwrap().parse().unwrap())
}

#[tokio::test]
async fn the_reserve_buys_back_swaps_and_leases_at_guidance_prices() {
    for backend in backends() {
        let app = spawn_app_with(backend, |s| {
            s.registry.notice_working_days = 0;
            s.market.close_check_secs = 3600;
        })
        .await;
        let monday = next_monday(&app);
        app.clock.set(at(monday, 10, 0));
        let r = registry(&app, 71).await;
        let (p, batch) = issued_forest_batch(&app, &r, "LZ-R-71").await;
        let code = batch["instrument"].as_str().unwrap().to_string();
        let credits = format!("credit:{}", batch["id"].as_str().unwrap());
        // A second vintage of the same forest: another instrument.
        let project = p["id"].as_str().unwrap().to_string();
        let older = issued_report(&app, &r, &project, app.year() - 2).await;
        let code2 = older["instrument"].as_str().unwrap().to_string();
        let credits2 = format!("credit:{}", older["id"].as_str().unwrap());
        assert_ne!(code, code2);
        // Enterprises pay 10 % below the base price.
        let tiers = json!([{"name": "企业", "kinds": ["enterprise"], "adjustment": "-0.1"}]);
        publish(&app, &r.g.gov, &code, "36.00", tiers.clone()).await;
        publish(&app, &r.g.gov, &code2, "30.00", json!([])).await;
        let funded = funded_buyer(&app, &r.g, 71).await;
        let (reserve, _) = crate::helpers::reserve_platform(&app, &r.g, 71).await;
        deposit(&app, &funded, &reserve, "D-R").await;
        let keeper = app.token("reserve71@reserve.cn").await;
        let holder = r.org_id().to_string();
        let (issued, _) = balance(&app, &r.op, r.account_id(), &credits).await;
        let (issued2, _) = balance(&app, &r.op, r.account_id(), &credits2).await;

        // Buy-back: priced at the holder's tier, the units held until answered.
        let offer = |client: &str, quantity: &str| {
            json!({"organization_id": holder, "reserve_organization_id": reserve,
                   "client_id": client, "instrument": code, "quantity": quantity})
        };
        let (status, bb1) = app
            .post_as(&r.op, "/api/v1/reserve/buy-backs", &offer("BB-1", "1000"))
            .await;
        assert_eq!(status, 201, "{backend:?}: {bb1}");
        assert_eq!(
            (
                bb1["kind"].as_str(),
                bb1["status"].as_str(),
                bb1["price"].as_str(),
                bb1["value"].as_str()
            ),
            (
                Some("buy_back"),
                Some("offered"),
                Some("32.40"),
                Some("32400.00")
            )
        );
        let bb1_id = bb1["id"].as_str().unwrap().to_string();
        assert_eq!(
            balance(&app, &r.op, r.account_id(), &credits).await,
            (issued, 1000 * T)
        );
        let (status, again) = app
            .post_as(&r.op, "/api/v1/reserve/buy-backs", &offer("BB-1", "1000"))
            .await;
        assert_eq!((status, &again["id"]), (200, &bb1["id"]), "{again}");
        let (status, p) = app
            .post_as(&r.op, "/api/v1/reserve/buy-backs", &offer("BB-1", "999"))
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("id_reused")),
            "{p}"
        );
        let mut to_buyer = offer("BB-X", "1");
        to_buyer["reserve_organization_id"] = json!(funded.buyer);
        let (status, p) = app
            .post_as(&r.op, "/api/v1/reserve/buy-backs", &to_buyer)
            .await;
        assert_eq!(
            (status, p["param"].as_str()),
            (404, Some("reserve_organization_id")),
            "{p}"
        );
        let too_many = (issued / T).to_string();
        let (status, p) = app
            .post_as(
                &r.op,
                "/api/v1/reserve/buy-backs",
                &offer("BB-Y", &too_many),
            )
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("insufficient_units")),
            "{p}"
        );
        // The holder cannot answer its own offer; the reserve accepts once.
        let accept = format!("/api/v1/reserve/operations/{bb1_id}/accept");
        let (status, _) = app
            .post_as(&r.op, &accept, &json!({"organization_id": holder}))
            .await;
        assert_eq!(status, 404);
        let (status, done) = app
            .post_as(&keeper, &accept, &json!({"organization_id": reserve}))
            .await;
        assert_eq!(
            (status, done["status"].as_str()),
            (200, Some("accepted")),
            "{done}"
        );
        let (status, again) = app
            .post_as(&keeper, &accept, &json!({"organization_id": reserve}))
            .await;
        assert_eq!((status, again["status"].as_str()), (200, Some("accepted")));
        let (status, p) = app
            .post_as(
                &keeper,
                &format!("/api/v1/reserve/operations/{bb1_id}/decline"),
                &json!({"organization_id": reserve, "reason": "迟到的拒绝"}),
            )
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("operation_not_open"))
        );
        assert_eq!(
            balance(&app, &r.op, r.account_id(), &credits).await,
            (issued - 1000 * T, 0)
        );
        assert_eq!(
            balance(&app, &r.op, r.account_id(), "cash:CNY").await,
            (3_240_000, 0)
        );
        let view = public_reserve(&app).await;
        assert_eq!(stock_of(&view, &code), 1000, "{view}");
        assert_eq!(view["cash_available"], "967600.00", "{view}");

        // Declined with a reason (none: refused), the units are the holder's again.
        let (status, bb2) = app
            .post_as(&r.op, "/api/v1/reserve/buy-backs", &offer("BB-2", "100"))
            .await;
        assert_eq!(status, 201, "{bb2}");
        let decline = format!(
            "/api/v1/reserve/operations/{}/decline",
            bb2["id"].as_str().unwrap()
        );
        let (status, p) = app
            .post_as(&keeper, &decline, &json!({"organization_id": reserve}))
            .await;
        assert_eq!((status, p["param"].as_str()), (422, Some("reason")), "{p}");
        let (status, d) = app
            .post_as(
                &keeper,
                &decline,
                &json!({"organization_id": reserve, "reason": "本月收储额度已满"}),
            )
            .await;
        assert_eq!(
            (status, d["status"].as_str()),
            (200, Some("declined")),
            "{d}"
        );
        assert_eq!(
            balance(&app, &r.op, r.account_id(), &credits).await,
            (issued - 1000 * T, 0)
        );

        // A new version in force since the offer: acceptance is refused, the holder withdraws.
        let (status, bb3) = app
            .post_as(&r.op, "/api/v1/reserve/buy-backs", &offer("BB-3", "100"))
            .await;
        assert_eq!(status, 201, "{bb3}");
        publish(&app, &r.g.gov, &code, "40.00", tiers.clone()).await;
        let bb3_path = |what: &str| {
            format!(
                "/api/v1/reserve/operations/{}/{what}",
                bb3["id"].as_str().unwrap()
            )
        };
        let (status, p) = app
            .post_as(
                &keeper,
                &bb3_path("accept"),
                &json!({"organization_id": reserve}),
            )
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("guidance_price_changed")),
            "{p}"
        );
        let (status, w) = app
            .post_as(
                &r.op,
                &bb3_path("withdraw"),
                &json!({"organization_id": holder}),
            )
            .await;
        assert_eq!(
            (status, w["status"].as_str()),
            (200, Some("withdrawn")),
            "{w}"
        );
        assert_eq!(
            balance(&app, &r.op, r.account_id(), &credits).await,
            (issued - 1000 * T, 0)
        );

        // Swap: 100 units of the older vintage at 30.00 (3,000.00) for the
        // reserve's newer at 36.00 (the holder's tier of 40.00): 83 units
        // and 12.00 yuan.
        let (status, sw) = app
            .post_as(
                &r.op,
                "/api/v1/reserve/swaps",
                &json!({"organization_id": holder, "reserve_organization_id": reserve, "client_id": "SW-1",
                        "instrument": code2, "quantity": "100", "wanted_instrument": code}),
            )
            .await;
        assert_eq!(status, 201, "{sw}");
        assert_eq!(
            (
                sw["wanted_price"].as_str(),
                sw["wanted_quantity"].as_str(),
                sw["cash"].as_str()
            ),
            (Some("36.00"), Some("83"), Some("12.00")),
            "{sw}"
        );
        let (status, done) = app
            .post_as(
                &keeper,
                &format!(
                    "/api/v1/reserve/operations/{}/accept",
                    sw["id"].as_str().unwrap()
                ),
                &json!({"organization_id": reserve}),
            )
            .await;
        assert_eq!(
            (status, done["status"].as_str()),
            (200, Some("accepted")),
            "{done}"
        );
        assert_eq!(
            balance(&app, &r.op, r.account_id(), &credits).await,
            (issued - 1000 * T + 83 * T, 0)
        );
        assert_eq!(
            balance(&app, &r.op, r.account_id(), &credits2).await,
            (issued2 - 100 * T, 0)
        );
        assert_eq!(
            balance(&app, &r.op, r.account_id(), "cash:CNY").await,
            (3_241_200, 0)
        );
        let view = public_reserve(&app).await;
        assert_eq!(
            (stock_of(&view, &code), stock_of(&view, &code2)),
            (917, 100)
        );

        // Leases: deposit and fee held from the asking, the units lent on acceptance.
        let lessee = funded.buyer.clone();
        let lease = |client: &str, quantity: &str, days: i32| {
            json!({"organization_id": lessee, "reserve_organization_id": reserve, "client_id": client,
                   "instrument": code, "quantity": quantity, "term_days": days})
        };
        let (status, p) = app
            .post_as(
                &funded.buyer_op,
                "/api/v1/reserve/leases",
                &lease("LS-0", "10", 0),
            )
            .await;
        assert_eq!(
            (status, p["param"].as_str()),
            (422, Some("term_days")),
            "{p}"
        );
        let (status, ls1) = app
            .post_as(
                &funded.buyer_op,
                "/api/v1/reserve/leases",
                &lease("LS-1", "100", 30),
            )
            .await;
        assert_eq!(status, 201, "{ls1}");
        // 100 × 36.00 = 3,600.00; 3 % a year for 30 days = 8.877… → 8.88.
        assert_eq!(
            (
                ls1["deposit"].as_str(),
                ls1["fee"].as_str(),
                ls1["fee_rate"].as_str()
            ),
            (Some("3600.00"), Some("8.88"), Some("0.03")),
            "{ls1}"
        );
        let buyer_account = {
            let (status, o) = app
                .get_as(&funded.buyer_op, &format!("/api/v1/organizations/{lessee}"))
                .await;
            assert_eq!(status, 200, "{o}");
            o["account_id"].as_str().unwrap().to_string()
        };
        let cash = || balance(&app, &funded.buyer_op, &buyer_account, "cash:CNY");
        assert_eq!(cash().await, (100_000_000, 360_888));
        let (status, ls2) = app
            .post_as(
                &funded.buyer_op,
                "/api/v1/reserve/leases",
                &lease("LS-2", "50", 10),
            )
            .await;
        assert_eq!(status, 201, "{ls2}");
        // 50 × 36.00 × 0.03 × 10 ÷ 365 = 1.479… → 1.48.
        assert_eq!(ls2["fee"], "1.48", "{ls2}");
        for ls in [&ls1, &ls2] {
            let (status, a) = app
                .post_as(
                    &keeper,
                    &format!(
                        "/api/v1/reserve/operations/{}/accept",
                        ls["id"].as_str().unwrap()
                    ),
                    &json!({"organization_id": reserve}),
                )
                .await;
            assert_eq!((status, a["status"].as_str()), (200, Some("active")), "{a}");
        }
        let (status, active) = app
            .get_as(
                &funded.buyer_op,
                &format!("/api/v1/reserve/operations?organization_id={lessee}&status=active"),
            )
            .await;
        assert_eq!(status, 200, "{active}");
        let due2 = (app.today() + Duration::days(10)).to_string();
        let rows = active["data"].as_array().unwrap();
        assert_eq!(rows.len(), 2, "{active}");
        assert_eq!(rows[0]["due_on"].as_str(), Some(due2.as_str()), "{active}");
        assert_eq!(rows[0]["organization_id"].as_str(), Some(lessee.as_str()));
        assert_eq!(
            balance(&app, &funded.buyer_op, &buyer_account, &credits).await,
            (150 * T, 0)
        );
        assert_eq!(cash().await, (100_000_000 - 888 - 148, 360_000 + 180_000));
        let view = public_reserve(&app).await;
        assert_eq!(stock_of(&view, &code), 767, "{view}");
        assert_eq!(view["lent"][0]["units"], "150", "{view}");

        // The first comes back in kind: units to the reserve, deposit released.
        let ret1 = format!(
            "/api/v1/reserve/operations/{}/return",
            ls1["id"].as_str().unwrap()
        );
        let (status, p) = app
            .post_as(&keeper, &ret1, &json!({"organization_id": reserve}))
            .await;
        assert_eq!(
            status, 404,
            "the reserve does not return for the lessee: {p}"
        );
        let (status, back) = app
            .post_as(&funded.buyer_op, &ret1, &json!({"organization_id": lessee}))
            .await;
        assert_eq!(
            (status, back["status"].as_str()),
            (200, Some("returned")),
            "{back}"
        );
        let (status, again) = app
            .post_as(&funded.buyer_op, &ret1, &json!({"organization_id": lessee}))
            .await;
        assert_eq!((status, again["status"].as_str()), (200, Some("returned")));
        assert_eq!(cash().await, (100_000_000 - 888 - 148, 180_000));

        // The second is not: from the day after its due day the deposit pays.
        app.clock.set(at(monday + Duration::days(11), 0, 5));
        // Tokens of eleven days ago have expired.
        let buyer_op = app.token("buyer71@lz.cn").await;
        let holder_op = app.token("forest71@lz.cn").await;
        let gov = app.token("gov71@tph.cn").await;
        let cash = || balance(&app, &buyer_op, &buyer_account, "cash:CNY");
        let ret2 = format!(
            "/api/v1/reserve/operations/{}/return",
            ls2["id"].as_str().unwrap()
        );
        let (status, p) = app
            .post_as(&buyer_op, &ret2, &json!({"organization_id": lessee}))
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("operation_not_open")),
            "{p}"
        );
        let paid = tanpuhui_server::reserve::leases::settle_overdue(&app.db, app.now())
            .await
            .unwrap();
        assert_eq!(paid, 1);
        let replayed = tanpuhui_server::reserve::leases::settle_overdue(&app.db, app.now())
            .await
            .unwrap();
        assert_eq!(replayed, 0, "an ended lease is not paid twice");
        let (_, ended) = app
            .get_as(
                &buyer_op,
                &format!("/api/v1/reserve/operations?organization_id={lessee}&status=paid"),
            )
            .await;
        let ended = &ended["data"][0];
        assert_eq!(
            (
                ended["settled_price"].as_str(),
                ended["shortfall"].as_str(),
                ended["id"].as_str()
            ),
            (Some("36.00"), Some("0.00"), ls2["id"].as_str()),
            "{ended}"
        );
        assert_eq!(cash().await, (100_000_000 - 888 - 148 - 180_000, 0));
        assert_eq!(
            balance(&app, &buyer_op, &buyer_account, &credits).await,
            (50 * T, 0)
        );

        // Nothing created or lost: every unit of both batches is somewhere.
        let view = public_reserve(&app).await;
        let holder_units = balance(&app, &holder_op, r.account_id(), &credits).await.0 / T;
        assert_eq!(
            holder_units + stock_of(&view, &code) + 50,
            issued / T,
            "{view}"
        );
        let holder_units2 = balance(&app, &holder_op, r.account_id(), &credits2).await.0 / T;
        assert_eq!(holder_units2 + stock_of(&view, &code2), issued2 / T);
        // The reserve's cash: paid 32,400.00 and 12.00, received fees 10.36 and 1,800.00.
        assert_eq!(view["cash_available"], "969398.36", "{view}");
        assert_eq!(view["lent"], json!([]), "{view}");

        // The public list names no holder.
        let page: Value = app
            .get("/api/v1/public/reserve/operations?limit=100")
            .await
            .json()
            .await
            .unwrap();
        let all = page["data"].as_array().unwrap();
        assert_eq!(all.len(), 6, "{page}");
        assert!(all
            .iter()
            .all(|o| o.get("organization_id").is_none() && o.get("reason").is_none()));
        let page: Value = app
            .get(&format!(
                "/api/v1/public/reserve/operations?kind=swap&instrument={code2}"
            ))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(page["data"].as_array().unwrap().len(), 1, "{page}");
        let res = app
            .get("/api/v1/public/reserve/operations?instrument=TPH-XYZ-1")
            .await;
        assert_eq!(res.status(), 422);
        let p: Value = res.json().await.unwrap();
        assert_eq!(p["param"], "instrument", "{p}");

        // Claw-back: government staff only, and never of carbon credits.
        let claw = json!({"organization_id": holder, "reserve_organization_id": reserve, "instrument": code,
                          "quantity": "10", "reason": "企业关闭", "document_sha256": "ab".repeat(32)});
        let (status, _) = app
            .post_as(&holder_op, "/api/v1/reserve/claw-backs", &claw)
            .await;
        assert_eq!(status, 403);
        let mut bad = claw.clone();
        bad["document_sha256"] = json!("abc");
        let (status, p) = app.post_as(&gov, "/api/v1/reserve/claw-backs", &bad).await;
        assert_eq!(
            (status, p["param"].as_str()),
            (422, Some("document_sha256"))
        );
        let (status, p) = app.post_as(&gov, "/api/v1/reserve/claw-backs", &claw).await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("claw_back_not_applicable")),
            "{p}"
        );
    }
}

#[tokio::test]
async fn concurrent_answers_to_one_offer_take_effect_once() {
    for backend in backends() {
        let app = spawn_app_with(backend, |s| {
            s.registry.notice_working_days = 0;
            s.market.close_check_secs = 3600;
        })
        .await;
        app.clock.set(at(next_monday(&app), 10, 0));
        let r = registry(&app, 72).await;
        let (_, batch) = issued_forest_batch(&app, &r, "LZ-R-72").await;
        let code = batch["instrument"].as_str().unwrap().to_string();
        let credits = format!("credit:{}", batch["id"].as_str().unwrap());
        publish(&app, &r.g.gov, &code, "36.00", json!([])).await;
        let funded = funded_buyer(&app, &r.g, 72).await;
        let (reserve, _) = crate::helpers::reserve_platform(&app, &r.g, 72).await;
        deposit(&app, &funded, &reserve, "D-R").await;
        let keeper = app.token("reserve72@reserve.cn").await;
        let holder = r.org_id().to_string();
        let (issued, _) = balance(&app, &r.op, r.account_id(), &credits).await;
        let mut sold = 0;
        for round in 0..4 {
            let (status, o) = app
                .post_as(
                    &r.op,
                    "/api/v1/reserve/buy-backs",
                    &json!({"organization_id": holder, "reserve_organization_id": reserve,
                            "client_id": format!("race-{round}"), "instrument": code, "quantity": "10"}),
                )
                .await;
            assert_eq!(status, 201, "{o}");
            let path = |what: &str| {
                format!(
                    "/api/v1/reserve/operations/{}/{what}",
                    o["id"].as_str().unwrap()
                )
            };
            let as_reserve = json!({"organization_id": reserve});
            let as_holder = json!({"organization_id": holder});
            let (accept, withdraw) = (path("accept"), path("withdraw"));
            let (a1, a2, w) = tokio::join!(
                app.post_as(&keeper, &accept, &as_reserve),
                app.post_as(&keeper, &accept, &as_reserve),
                app.post_as(&r.op, &withdraw, &as_holder),
            );
            let accepted = w.0 == 409;
            if accepted {
                sold += 10;
                for (status, v) in [&a1, &a2] {
                    assert_eq!(
                        (*status, v["status"].as_str()),
                        (200, Some("accepted")),
                        "{backend:?} round {round}: {v}"
                    );
                }
                assert_eq!(w.1["code"], "operation_not_open", "{}", w.1);
            } else {
                assert_eq!(
                    (w.0, w.1["status"].as_str()),
                    (200, Some("withdrawn")),
                    "{}",
                    w.1
                );
                for (status, v) in [&a1, &a2] {
                    assert_eq!(
                        (*status, v["code"].as_str()),
                        (409, Some("operation_not_open")),
                        "{v}"
                    );
                }
            }
            // Whatever won, nothing stays held and the units moved exactly once.
            assert_eq!(
                balance(&app, &r.op, r.account_id(), &credits).await,
                (issued - sold * T, 0),
                "{backend:?} round {round}"
            );
            let view = public_reserve(&app).await;
            assert_eq!(stock_of(&view, &code), sold, "{view}");
            assert_eq!(view["cash_held"], "0.00", "{view}");
        }
    }
}

#[tokio::test]
async fn an_overdue_lease_whose_price_rose_takes_the_deposit_then_cash_then_records_the_rest() {
    for backend in backends() {
        let app = spawn_app_with(backend, |s| {
            s.registry.notice_working_days = 0;
            s.market.close_check_secs = 3600;
        })
        .await;
        let monday = next_monday(&app);
        app.clock.set(at(monday, 10, 0));
        let r = registry(&app, 73).await;
        let (_, batch) = issued_forest_batch(&app, &r, "LZ-R-73").await;
        let code = batch["instrument"].as_str().unwrap().to_string();
        publish(&app, &r.g.gov, &code, "36.00", json!([])).await;
        let funded = funded_buyer(&app, &r.g, 73).await;
        let (reserve, _) = crate::helpers::reserve_platform(&app, &r.g, 73).await;
        deposit(&app, &funded, &reserve, "D-R").await;
        let keeper = app.token("reserve73@reserve.cn").await;
        // The reserve's stock: 100 t bought back.
        let (status, bb) = app
            .post_as(
                &r.op,
                "/api/v1/reserve/buy-backs",
                &json!({"organization_id": r.org_id(), "reserve_organization_id": reserve,
                        "client_id": "stock", "instrument": code, "quantity": "100"}),
            )
            .await;
        assert_eq!(status, 201, "{bb}");
        let path = |id: &Value, what: &str| {
            format!("/api/v1/reserve/operations/{}/{what}", id.as_str().unwrap())
        };
        let (status, _) = app
            .post_as(
                &keeper,
                &path(&bb["id"], "accept"),
                &json!({"organization_id": reserve}),
            )
            .await;
        assert_eq!(status, 200);
        // A lessee with 3,700.00 yuan: deposit 3,600.00 and fee 8.88 held, 91.12 free.
        let (lessee, lessee_op) =
            crate::helpers::enterprise(&app, &r.g, "lessee73@lz.cn", 731_073).await;
        let lessee_id = lessee["id"].as_str().unwrap().to_string();
        let account = lessee["account_id"].as_str().unwrap().to_string();
        let (status, d) = app
            .post_as(
                &funded.teller,
                "/api/v1/market/deposits",
                &json!({"bank_id": funded.bank_id, "reference": "D-L", "organization_id": lessee_id, "amount": "370000"}),
            )
            .await;
        assert_eq!(status, 201, "{d}");
        let (status, ls) = app
            .post_as(
                &lessee_op,
                "/api/v1/reserve/leases",
                &json!({"organization_id": lessee_id, "reserve_organization_id": reserve, "client_id": "L-1",
                        "instrument": code, "quantity": "100", "term_days": 30}),
            )
            .await;
        assert_eq!(status, 201, "{ls}");
        let (status, a) = app
            .post_as(
                &keeper,
                &path(&ls["id"], "accept"),
                &json!({"organization_id": reserve}),
            )
            .await;
        assert_eq!((status, a["status"].as_str()), (200, Some("active")), "{a}");
        // Before it is due the price rises to 45.00: the units are worth 4,500.00.
        app.clock.set(at(monday + Duration::days(20), 10, 0));
        let gov = app.token("gov73@tph.cn").await;
        publish(&app, &gov, &code, "45.00", json!([])).await;
        // Not due yet: nothing happens.
        let paid = tanpuhui_server::reserve::leases::settle_overdue(&app.db, app.now())
            .await
            .unwrap();
        assert_eq!(paid, 0);
        app.clock.set(at(monday + Duration::days(31), 0, 1));
        let paid = tanpuhui_server::reserve::leases::settle_overdue(&app.db, app.now())
            .await
            .unwrap();
        assert_eq!(paid, 1);
        let lessee_op = app.token("lessee73@lz.cn").await;
        let (_, ended) = app
            .get_as(
                &lessee_op,
                &format!("/api/v1/reserve/operations?organization_id={lessee_id}&kind=lease"),
            )
            .await;
        let ended = &ended["data"][0];
        // 3,600.00 from the deposit, 91.12 from the cash, 808.88 owed.
        assert_eq!(
            (
                ended["status"].as_str(),
                ended["settled_price"].as_str(),
                ended["shortfall"].as_str()
            ),
            (Some("paid"), Some("45.00"), Some("808.88")),
            "{ended}"
        );
        assert_eq!(
            balance(&app, &lessee_op, &account, "cash:CNY").await,
            (0, 0)
        );
        // The reserve: paid 3,600.00 for its stock; received the fee, the deposit and the cash.
        let view = public_reserve(&app).await;
        assert_eq!(view["cash_available"], "1000100.00", "{view}");
        assert_eq!(view["cash_held"], "0.00", "{view}");
    }
}
