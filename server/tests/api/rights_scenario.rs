//! Issue 17's scenario through the documented API: the ecology bureau
//! allocates SO2 and COD to two enterprises; one converts and sells its
//! surplus SO2 to the other above the benchmark; the water bureau confirms
//! a reclaimed-water indicator traded by agreement; an energy-use surplus
//! verified by a third party is pledged to a bank at the benchmark; the
//! natural-resources bureau auctions a land indicator; the compliance year
//! closes with a gap listed; rights expire on time.

use chrono::{Duration, FixedOffset, TimeZone};
use serde_json::{json, Value};

use crate::helpers::{
    at, backends, balance, bureau, enterprise, government, next_monday, org_account,
    reserve_platform, spawn_app_with, uscc, TestApp,
};
use crate::pricing::{deposit, funded_buyer, listed_at_guidance};

fn china(y: i32, m: u32, d: u32) -> chrono::DateTime<FixedOffset> {
    FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(y, m, d, 10, 0, 0)
        .unwrap()
}

/// A public document once `done` holds of it (the background loop closes
/// auctions and sweeps lapsed rights every second here).
async fn eventually(app: &TestApp, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..100 {
        last = app.get(path).await.json().await.unwrap();
        if done(&last) {
            return last;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{path} never got there: {last}");
}

/// `body` posted as `token` answers `want`; the answer.
pub(crate) async fn ok(app: &TestApp, token: &str, path: &str, body: Value, want: u16) -> Value {
    let (status, v) = app.post_as(token, path, &body).await;
    assert_eq!(status, want, "{path} {body}: {v}");
    v
}

#[tokio::test]
async fn rights_are_allocated_converted_traded_pledged_auctioned_surrendered_and_expire() {
    for backend in backends() {
        let app = spawn_app_with(backend, |s| {
            s.market.round_the_clock = true;
            s.market.close_check_secs = 1;
            s.market.auction_min_bid_units = 1;
        })
        .await;
        let monday = next_monday(&app);
        // In the block-trade window.
        app.clock.set(at(monday, 13, 30));
        let year = chrono::Datelike::year(&monday);
        let g = government(&app, 1).await;
        let (ecology, eco) = bureau(&app, &g, "ecology", 1).await;
        let (water, wat) = bureau(&app, &g, "water", 2).await;
        let (economy, _) = bureau(&app, &g, "economic_development", 3).await;
        let (land, nr) = bureau(&app, &g, "natural_resources", 4).await;
        let (reserve, _) = reserve_platform(&app, &g, 1).await;
        // B: a buyer with cash at its bank, which also lends; A: a plant.
        let f = funded_buyer(&app, &g, 2).await;
        let b = f.buyer.clone();
        let (a_org, _) = enterprise(&app, &g, "a@lz.cn", 71).await;
        let a = a_org["id"].as_str().unwrap().to_string();
        deposit(&app, &f, &a, "D-A").await;
        let a_op = app.token("a@lz.cn").await;
        let a_account = org_account(&app, &a_op, &a).await;
        let b_account = org_account(&app, &f.buyer_op, &b).await;
        let code = |tag: &str| format!("TPH-{tag}-{year}");
        for (tag, price, floor) in [
            ("SO2", "4.80", true),
            ("COD", "10.00", true),
            ("WCI", "2.50", false),
            ("ENU", "80.00", false),
            ("LCI", "30000.00", false),
        ] {
            listed_at_guidance(
                &app,
                &g.gov,
                &code(tag),
                json!({"price": price, "floor": floor, "reason": "兰州2015年基准价"}),
            )
            .await;
        }
        // Negotiated water trades from a single unit.
        ok(
            &app,
            &g.gov,
            &format!("/api/v1/market/instruments/{}/rules", code("WCI")),
            json!({"block_min_units": 1, "reason": "协议转让"}),
            200,
        )
        .await;

        // The ecology bureau allocates SO2 and COD to both, free of charge.
        let free = |holder: &str, n: u32, tag: &str, q: &str| {
            json!({"bureau_organization_id": ecology, "organization_id": holder,
                   "instrument": code(tag), "quantity": q, "origin": "free",
                   "identifier": format!("{}001P", uscc(n)), "reserve_organization_id": reserve})
        };
        let path = "/api/v1/rights/allocations";
        let so2_a = ok(&app, &eco, path, free(&a, 71, "SO2", "5000"), 201).await;
        ok(&app, &eco, path, free(&b, 20_002, "SO2", "3000"), 201).await;
        ok(&app, &eco, path, free(&a, 71, "COD", "2000"), 201).await;
        ok(&app, &eco, path, free(&b, 20_002, "COD", "1000"), 201).await;

        // A converts 1,000 kg of SO2 and sells them to B above the
        // benchmark; nothing trades below it.
        let conversions = |id: &Value| {
            format!(
                "/api/v1/rights/allocations/{}/conversions",
                id.as_str().unwrap()
            )
        };
        let c = ok(
            &app,
            &a_op,
            &conversions(&so2_a["id"]),
            json!({"quantity": "1000"}),
            201,
        )
        .await;
        assert_eq!(c["amount"], "4800.00", "{c}");
        let order = |org: &str, id: &str, side: &str, price: &str| {
            json!({"organization_id": org, "client_order_id": id, "instrument": code("SO2"),
                   "side": side, "price": price, "quantity": "1000", "time_in_force": "gtc"})
        };
        let (status, p) = app
            .post_as(
                &a_op,
                "/api/v1/market/orders",
                &order(&a, "s-0", "sell", "4.70"),
            )
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (422, Some("below_floor")),
            "{p}"
        );
        ok(
            &app,
            &a_op,
            "/api/v1/market/orders",
            order(&a, "s-1", "sell", "5.20"),
            201,
        )
        .await;
        let bought = ok(
            &app,
            &f.buyer_op,
            "/api/v1/market/orders",
            order(&b, "b-1", "buy", "5.20"),
            201,
        )
        .await;
        assert_eq!(
            (
                bought["order"]["status"].as_str(),
                bought["trades"][0]["price"].as_str()
            ),
            (Some("filled"), Some("5.20")),
            "{bought}"
        );
        let so2_a_batch = format!("credit:{}", so2_a["batch_id"].as_str().unwrap());
        assert_eq!(
            balance(&app, &f.buyer_op, &b_account, &so2_a_batch).await,
            (1_000_000, 0)
        );

        // The water bureau confirms A's reclaimed water; A sells part of it
        // to B by agreement.
        let wci = ok(
            &app,
            &wat,
            path,
            json!({"bureau_organization_id": water, "organization_id": a, "instrument": code("WCI"),
                   "quantity": "2000", "origin": "verified", "identifier": "再生水替代-2026-07"}),
            201,
        )
        .await;
        let block = ok(
            &app,
            &a_op,
            "/api/v1/market/blocks",
            json!({"organization_id": a, "client_order_id": "w-1", "instrument": code("WCI"),
                   "buyer_organization_id": b, "price": "2.60", "quantity": "1500"}),
            201,
        )
        .await;
        let block_id = block["block"]["id"].as_str().unwrap();
        let agreed = ok(
            &app,
            &f.buyer_op,
            &format!("/api/v1/market/blocks/{block_id}/accept"),
            json!({"organization_id": b}),
            201,
        )
        .await;
        assert_eq!(agreed["block"]["status"], "accepted", "{agreed}");

        // The natural-resources bureau auctions a land indicator it
        // confirmed (land counts hundredths of a mu); A and B each win
        // half at the uniform price.
        ok(
            &app,
            &nr,
            path,
            json!({"bureau_organization_id": land, "organization_id": land, "instrument": code("LCI"),
                   "quantity": "10.5", "origin": "verified", "identifier": "土地整治-2026-03"}),
            201,
        )
        .await;
        let closes = app.now() + Duration::hours(1);
        let lot = ok(
            &app,
            &nr,
            "/api/v1/market/auctions",
            json!({"organization_id": land, "client_order_id": "land-1", "instrument": code("LCI"),
                   "quantity": "10.5", "reserve_price": "30000.00", "min_bid_units": "1",
                   "opens_at": app.now().to_rfc3339(), "closes_at": closes.to_rfc3339()}),
            201,
        )
        .await;
        let auction = lot["auction"]["id"].as_str().unwrap().to_string();
        let bids = format!("/api/v1/market/auctions/{auction}/bids");
        let bid = |org: &str, id: &str, price: &str| json!({"organization_id": org, "client_order_id": id, "price": price, "quantity": "5.25"});
        ok(&app, &a_op, &bids, bid(&a, "a-l", "31000.00"), 201).await;
        ok(&app, &f.buyer_op, &bids, bid(&b, "b-l", "30500.00"), 201).await;
        app.clock.set(closes + Duration::seconds(1));
        eventually(&app, &format!("/api/v1/market/auctions/{auction}"), |v| {
            v["auction"]["status"] == "closed"
        })
        .await;
        // Trades in rights are public with both parties named; the water
        // trade by agreement only once its day has closed.
        let traded = |query: &str| {
            let app = &app;
            let path = format!("/api/v1/public/rights/trades?{query}");
            async move {
                let page: Value = app.get(&path).await.json().await.unwrap();
                let mut rows: Vec<(String, String, String, String, String)> = page["data"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{page}"))
                    .iter()
                    .map(|t| {
                        assert!(
                            t["buyer_name"].as_str().is_some_and(|n| !n.is_empty())
                                && t["seller_name"].as_str().is_some_and(|n| !n.is_empty()),
                            "{t}"
                        );
                        let s = |k: &str| t[k].as_str().unwrap().to_string();
                        (
                            s("method"),
                            s("instrument"),
                            s("quantity"),
                            s("seller_organization_id"),
                            s("buyer_organization_id"),
                        )
                    })
                    .collect();
                rows.sort();
                rows
            }
        };
        let row = |method: &str, tag: &str, q: &str, seller: &str, buyer: &str| {
            (
                method.to_string(),
                code(tag),
                q.to_string(),
                seller.to_string(),
                buyer.to_string(),
            )
        };
        let auctioned = [
            row("auction", "LCI", "5.25", &land, &a),
            row("auction", "LCI", "5.25", &land, &b),
        ];
        let sold = row("book", "SO2", "1000", &a, &b);
        let mut today = auctioned.to_vec();
        today.push(sold.clone());
        today.sort();
        assert_eq!(traded("").await, today);
        assert_eq!(
            traded(&format!("organization_id={a}&instrument={}", code("SO2"))).await,
            std::slice::from_ref(&sold)
        );

        // Energy use: 8,000 tce allocated to A for the year.
        let econ = app.token("economic_development3@gov.cn").await;
        let enu = ok(
            &app,
            &econ,
            path,
            json!({"bureau_organization_id": economy, "organization_id": a, "instrument": code("ENU"),
                   "quantity": "8000", "origin": "free", "identifier": "用能权确权〔2026〕12号",
                   "reserve_organization_id": reserve}),
            201,
        )
        .await;

        // The year ends. A third party verifies A used 6,000 tce; A
        // surrenders them, converts the 2,000 surplus and pledges it to B's
        // bank, valued at the 80.00 benchmark.
        app.clock.set(china(year + 1, 1, 11));
        let a_op = app.token("a@lz.cn").await;
        let (eco, econ) = (
            app.token("ecology1@gov.cn").await,
            app.token("economic_development3@gov.cn").await,
        );
        let teller = app.token("bank2@bank.cn").await;
        let b_op = app.token("buyer2@lz.cn").await;
        let record = |bureau: &str, holder: &str, class: &str, used: &str| {
            json!({"bureau_organization_id": bureau, "organization_id": holder, "class": class,
                   "year": year, "verified_use": used, "report_sha256": "cd".repeat(32)})
        };
        let energy = ok(
            &app,
            &econ,
            "/api/v1/rights/compliance",
            record(&economy, &a, "energy_use", "6000"),
            201,
        )
        .await;
        let surrender = |id: &Value| {
            format!(
                "/api/v1/rights/compliance/{}/surrenders",
                id.as_str().unwrap()
            )
        };
        ok(
            &app,
            &a_op,
            &surrender(&energy["id"]),
            json!({"quantity": "6000"}),
            200,
        )
        .await;
        ok(
            &app,
            &a_op,
            &conversions(&enu["id"]),
            json!({"quantity": "2000"}),
            201,
        )
        .await;
        let p = ok(
            &app,
            &a_op,
            "/api/v1/pledges",
            json!({"organization_id": a, "pledgee_organization_id": f.bank_id, "client_id": "ENU-1",
                   "instrument": code("ENU"), "quantity": "2000"}),
            201,
        )
        .await;
        let pledge = format!("/api/v1/pledges/{}", p["id"].as_str().unwrap());
        let confirm = |loan: &str, matures: &str| json!({"organization_id": f.bank_id, "loan_amount": loan, "matures_on": matures});
        // 70 % of 2,000 tce at 80.00 is 112,000.00 yuan; the rights lapse
        // after 31 March, so the loan matures by then.
        let (status, v) = app
            .post_as(
                &teller,
                &format!("{pledge}/confirm"),
                &confirm("11200001", &format!("{}-03-15", year + 1)),
            )
            .await;
        assert_eq!(
            (status, v["code"].as_str()),
            (409, Some("loan_over_ltv")),
            "{v}"
        );
        let (status, v) = app
            .post_as(
                &teller,
                &format!("{pledge}/confirm"),
                &confirm("10000000", &format!("{}-06-30", year + 1)),
            )
            .await;
        assert_eq!(
            (status, v["param"].as_str()),
            (422, Some("matures_on")),
            "{v}"
        );
        let active = ok(
            &app,
            &teller,
            &format!("{pledge}/confirm"),
            confirm("10000000", &format!("{}-03-15", year + 1)),
            200,
        )
        .await;
        assert_eq!(
            (active["status"].as_str(), active["last_price"].as_str()),
            (Some("active"), Some("80.00")),
            "{active}"
        );

        // SO2 for the year: A used 3,500 kg and surrenders them; B used
        // 4,500 but holds 4,000 (its 3,000 and the 1,000 it bought).
        let a_so2 = ok(
            &app,
            &eco,
            "/api/v1/rights/compliance",
            record(&ecology, &a, "so2", "3500"),
            201,
        )
        .await;
        let b_so2 = ok(
            &app,
            &eco,
            "/api/v1/rights/compliance",
            record(&ecology, &b, "so2", "4500"),
            201,
        )
        .await;
        ok(
            &app,
            &a_op,
            &surrender(&a_so2["id"]),
            json!({"quantity": "3500"}),
            200,
        )
        .await;
        let (status, p) = app
            .post_as(
                &b_op,
                &surrender(&b_so2["id"]),
                &json!({"quantity": "4500"}),
            )
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("insufficient_units")),
            "{p}"
        );
        ok(
            &app,
            &b_op,
            &surrender(&b_so2["id"]),
            json!({"quantity": "4000"}),
            200,
        )
        .await;

        // The loan is repaid before the rights lapse, of which A is warned.
        app.clock.set(china(year + 1, 3, 10));
        let soon: Value = app
            .get(&format!(
                "/api/v1/public/rights/allocations/{}",
                enu["id"].as_str().unwrap()
            ))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(soon["expiring"], true, "{soon}");
        let teller = app.token("bank2@bank.cn").await;
        let repaid = ok(
            &app,
            &teller,
            &format!("{pledge}/repayments"),
            json!({"organization_id": f.bank_id, "reference": "R-1", "amount": "10000000"}),
            200,
        )
        .await;
        assert_eq!(repaid["status"], "released", "{repaid}");

        // After the deadline: B's 500 kg are a public gap; the year's water
        // and energy rights have lapsed to the sink, wherever they were.
        app.clock.set(china(year + 1, 4, 2));
        let gaps: Value = app
            .get(&format!(
                "/api/v1/public/rights/compliance?status=gap&year={year}"
            ))
            .await
            .json()
            .await
            .unwrap();
        let gaps = gaps["data"].as_array().unwrap();
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert_eq!(
            (
                gaps[0]["organization_id"].as_str(),
                gaps[0]["outstanding"].as_str()
            ),
            (Some(b.as_str()), Some("500"))
        );
        for (allocation, left) in [(&wci, "2000"), (&enu, "2000")] {
            let id = allocation["id"].as_str().unwrap();
            let done = eventually(
                &app,
                &format!("/api/v1/public/rights/allocations/{id}"),
                |v| v["status"] == "expired",
            )
            .await;
            assert_eq!(done["expired"], left, "{done}");
        }
        let a_op = app.token("a@lz.cn").await;
        let enu_batch = format!("credit:{}", enu["batch_id"].as_str().unwrap());
        assert_eq!(balance(&app, &a_op, &a_account, &enu_batch).await, (0, 0));
        let wci_batch = format!("credit:{}", wci["batch_id"].as_str().unwrap());
        let b_op = app.token("buyer2@lz.cn").await;
        assert_eq!(balance(&app, &b_op, &b_account, &wci_batch).await, (0, 0));
        // The day of the water trade has long closed: it is public now.
        let mut all = today.clone();
        all.push(row("block", "WCI", "1500", &a, &b));
        all.sort();
        assert_eq!(traded("").await, all);
        let mut b_bought: Vec<_> = all.iter().filter(|r| r.4 == b).cloned().collect();
        b_bought.sort();
        assert_eq!(traded(&format!("organization_id={b}")).await, b_bought);
        // SO2 and COD stay valid four more years; land does not lapse.
        let so2 = eventually(
            &app,
            &format!(
                "/api/v1/public/rights/allocations/{}",
                so2_a["id"].as_str().unwrap()
            ),
            |_| true,
        )
        .await;
        assert_eq!(so2["status"], "active", "{so2}");
    }
}
