//! Guidance prices through the HTTP API: versions with tiers, their public
//! history, the price that applies to an organisation, a floor in the
//! market, and the first reference price of a listing.

use chrono::Duration;
use serde_json::{json, Value};

use crate::helpers::{
    at, backends, balance, bank, government, issued_forest_batch, next_monday, registry, spawn_app,
    spawn_app_with, Government, Registry, TestApp,
};

/// A unified social credit code registered in `district` (six digits).
fn uscc_in(district: &str, n: u32) -> String {
    tanpuhui_server::orgs::uscc::with_check_character(&format!("91{district}{n:09}")).unwrap()
}

/// An approved enterprise registered in `district`; its id and operator.
async fn enterprise_in(
    app: &TestApp,
    gov: &str,
    district: &str,
    email: &str,
    n: u32,
) -> (String, String) {
    let op = app.signed_in(email).await;
    let (status, org) = app
        .post_as(
            &op,
            "/api/v1/organizations",
            &json!({"kind": "enterprise", "name": "兰州新区某化工有限公司", "uscc": uscc_in(district, n)}),
        )
        .await;
    assert_eq!(status, 201, "{org}");
    let id = org["id"].as_str().unwrap().to_string();
    let (status, _) = app
        .post_as(
            gov,
            &format!("/api/v1/organizations/{id}/approve"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200);
    (id, op)
}

/// A registry whose forest enterprise holds an issued batch: the registry,
/// the batch's instrument code and its credit asset.
pub(crate) async fn forest(app: &TestApp, n: u32, parcel: &str) -> (Registry, String, String) {
    let r = registry(app, n).await;
    let (_, batch) = issued_forest_batch(app, &r, parcel).await;
    let code = batch["instrument"].as_str().unwrap().to_string();
    let credits = format!("credit:{}", batch["id"].as_str().unwrap());
    (r, code, credits)
}

/// Publishes the guidance price `body` for `code` and lists it at it.
pub(crate) async fn listed_at_guidance(app: &TestApp, gov: &str, code: &str, mut body: Value) {
    body["instrument"] = json!(code);
    let (status, v) = app.post_as(gov, "/api/v1/guidance-prices", &body).await;
    assert_eq!(status, 201, "{v}");
    let (status, i) = app
        .post_as(gov, "/api/v1/market/instruments", &json!({"code": code}))
        .await;
    assert_eq!(status, 201, "{i}");
}

/// A settlement bank and an approved buying enterprise it deposited a
/// million yuan for.
pub(crate) struct Funded {
    pub bank_id: String,
    pub teller: String,
    pub buyer: String,
    pub buyer_op: String,
}

pub(crate) async fn funded_buyer(app: &TestApp, g: &Government, n: u32) -> Funded {
    let (bank_id, teller) = bank(app, g, n).await;
    let (org, buyer_op) =
        crate::helpers::enterprise(app, g, &format!("buyer{n}@lz.cn"), 10_000 * n + n).await;
    let f = Funded {
        bank_id,
        teller,
        buyer: org["id"].as_str().unwrap().to_string(),
        buyer_op,
    };
    deposit(app, &f, &f.buyer, "D-1").await;
    f
}

/// A million yuan deposited for `org` by the buyer's bank.
pub(crate) async fn deposit(app: &TestApp, f: &Funded, org: &str, reference: &str) {
    let (status, d) = app
        .post_as(
            &f.teller,
            "/api/v1/market/deposits",
            &json!({"bank_id": f.bank_id, "reference": reference, "organization_id": org, "amount": "100000000"}),
        )
        .await;
    assert_eq!(status, 201, "{d}");
}

/// The Lanzhou 2015 pollutant benchmark's tiers.
fn lanzhou_tiers() -> Value {
    json!([
        {"name": "兰州新区企业", "districts": ["620171"], "kinds": ["enterprise"], "adjustment": "-0.3"},
        {"name": "三县及红古区", "districts": ["620121", "620122", "620123", "620111"], "adjustment": "-0.2"}
    ])
}

#[tokio::test]
async fn guidance_prices_are_versions_with_tiers_history_and_applicable_prices() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let g = government(&app, 61).await;
        let code = format!("TPH-PRJ-{}", app.year());
        let today = app.today();
        let body = |extra: Value| {
            let mut b = json!({"instrument": code, "price": "48.00", "tiers": lanzhou_tiers(), "reason": "基准价"});
            for (k, v) in extra.as_object().unwrap() {
                b[k] = v.clone();
            }
            b
        };
        let (status, v1) = app
            .post_as(&g.gov, "/api/v1/guidance-prices", &body(json!({})))
            .await;
        assert_eq!(status, 201, "{backend:?}: {v1}");
        assert_eq!(
            (
                v1["version"].as_i64(),
                v1["price"].as_str(),
                v1["effective_from"].as_str(),
                v1["floor"].as_bool()
            ),
            (
                Some(1),
                Some("48.00"),
                Some(today.to_string().as_str()),
                Some(false)
            )
        );
        // 48.00 × 0.7 and × 0.8.
        assert_eq!(
            (
                v1["tiers"][0]["price"].as_str(),
                v1["tiers"][1]["price"].as_str()
            ),
            (Some("33.60"), Some("38.40"))
        );

        for (extra, param) in [
            (json!({"instrument": "TPH-XYZ-2026"}), "instrument"),
            (json!({"price": "0"}), "price"),
            (json!({"price": "48.001"}), "price"),
            (
                json!({"effective_from": (today - Duration::days(1)).to_string()}),
                "effective_from",
            ),
            (
                json!({"effective_from": (today + Duration::days(400)).to_string()}),
                "effective_from",
            ),
            (
                json!({"tiers": [{"name": "x", "kinds": ["enterprise"], "adjustment": "-1"}]}),
                "tiers",
            ),
            (
                json!({"tiers": [{"name": "x", "districts": ["62017"], "adjustment": "0.1"}]}),
                "tiers",
            ),
            (
                json!({"tiers": [{"name": "everyone", "adjustment": "0.1"}]}),
                "tiers",
            ),
            (json!({"reason": " "}), "reason"),
        ] {
            let (status, p) = app
                .post_as(&g.gov, "/api/v1/guidance-prices", &body(extra.clone()))
                .await;
            assert_eq!(
                (status, p["param"].as_str()),
                (422, Some(param)),
                "{extra}: {p}"
            );
        }
        let (nw, nw_op) = enterprise_in(&app, &g.gov, "620171", "chem@lz.cn", 1).await;
        let (status, p) = app
            .post_as(&nw_op, "/api/v1/guidance-prices", &body(json!({})))
            .await;
        assert_eq!((status, p["code"].as_str()), (403, Some("forbidden")));

        // A second version from tomorrow, a floor.
        let tomorrow = (today + Duration::days(1)).to_string();
        let (status, v2) = app
            .post_as(
                &g.gov,
                "/api/v1/guidance-prices",
                &body(json!({"price": "50.00", "effective_from": tomorrow, "floor": true})),
            )
            .await;
        assert_eq!((status, v2["version"].as_i64()), (201, Some(2)), "{v2}");
        let history: Value = app
            .get(&format!("/api/v1/public/guidance-prices?instrument={code}"))
            .await
            .json()
            .await
            .unwrap();
        let versions: Vec<i64> = history["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["version"].as_i64().unwrap())
            .collect();
        assert_eq!(versions, vec![2, 1], "newest first: {history}");
        let csv = app
            .get(&format!(
                "/api/v1/public/guidance-prices?instrument={code}&format=csv"
            ))
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(csv.lines().count(), 3, "{csv}");
        assert!(
            csv.starts_with("id,instrument,version,price,effective_from,floor,tiers"),
            "{csv}"
        );
        assert!(
            csv.contains("兰州新区企业") && csv.contains("50.00"),
            "{csv}"
        );

        // Each organisation's tier: by where it is registered and its kind.
        let (county, _) = enterprise_in(&app, &g.gov, "620122", "county@lz.cn", 2).await;
        let (city, city_op) = enterprise_in(&app, &g.gov, "620102", "city@lz.cn", 3).await;
        let applicable = |org: String| {
            let (app, code, gov) = (&app, code.clone(), g.gov.clone());
            async move {
                app.get_as(
                    &gov,
                    &format!("/api/v1/guidance-prices/applicable?instrument={code}&organization_id={org}"),
                )
                .await
                .1
            }
        };
        let a = applicable(nw.clone()).await;
        assert_eq!(
            (
                a["tier"].as_str(),
                a["price"].as_str(),
                a["guidance"]["version"].as_i64()
            ),
            (Some("兰州新区企业"), Some("33.60"), Some(1)),
            "{a}"
        );
        let a = applicable(county).await;
        assert_eq!(
            (a["tier"].as_str(), a["price"].as_str()),
            (Some("三县及红古区"), Some("38.40"))
        );
        let a = applicable(city.clone()).await;
        assert_eq!(
            (a["tier"].as_str(), a["price"].as_str()),
            (None, Some("48.00"))
        );
        // An enterprise sees its own, not another's.
        let (status, _) = app
            .get_as(
                &city_op,
                &format!(
                    "/api/v1/guidance-prices/applicable?instrument={code}&organization_id={city}"
                ),
            )
            .await;
        assert_eq!(status, 200);
        let (status, p) = app
            .get_as(
                &city_op,
                &format!(
                    "/api/v1/guidance-prices/applicable?instrument={code}&organization_id={nw}"
                ),
            )
            .await;
        assert_eq!(
            (status, p["param"].as_str()),
            (404, Some("organization_id")),
            "{p}"
        );
        // Tomorrow the second version applies.
        app.clock.advance(Duration::days(1));
        let gov = app.token(&format!("gov{}@tph.cn", 61)).await;
        let (_, a) = app
            .get_as(
                &gov,
                &format!(
                    "/api/v1/guidance-prices/applicable?instrument={code}&organization_id={nw}"
                ),
            )
            .await;
        assert_eq!(
            (a["price"].as_str(), a["guidance"]["version"].as_i64()),
            (Some("35.00"), Some(2)),
            "{a}"
        );
        let other = format!("TPH-FOR-{}", app.year());
        let (status, p) = app
            .get_as(
                &gov,
                &format!(
                    "/api/v1/guidance-prices/applicable?instrument={other}&organization_id={nw}"
                ),
            )
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("no_guidance_price"))
        );
    }
}

#[tokio::test]
async fn a_floor_holds_in_the_book_and_the_first_reference_is_the_guidance_price() {
    for backend in backends() {
        let app = spawn_app_with(backend, |s| {
            s.registry.notice_working_days = 0;
            s.market.close_check_secs = 1;
        })
        .await;
        let monday = next_monday(&app);
        app.clock.set(at(monday, 9, 31));
        let (r, code, credits) = forest(&app, 62, "LZ-P-1").await;
        let publish = |price: &str, floor: bool, from: Option<String>| {
            let (app, gov) = (&app, r.g.gov.clone());
            let mut body =
                json!({"instrument": code, "price": price, "floor": floor, "reason": "碳汇指导价"});
            if let Some(day) = from {
                body["effective_from"] = json!(day);
            }
            async move {
                let (status, v) = app.post_as(&gov, "/api/v1/guidance-prices", &body).await;
                assert_eq!(status, 201, "{v}");
                v
            }
        };
        publish("36.00", true, None).await;
        // Listing: the reference price is the guidance price.
        let (status, p) = app
            .post_as(
                &r.g.gov,
                "/api/v1/market/instruments",
                &json!({"code": code, "reference_price": "40.00"}),
            )
            .await;
        assert_eq!(
            (status, p["param"].as_str()),
            (422, Some("reference_price")),
            "{p}"
        );
        let (status, i) = app
            .post_as(
                &r.g.gov,
                "/api/v1/market/instruments",
                &json!({"code": code}),
            )
            .await;
        assert_eq!(status, 201, "{i}");
        assert_eq!(
            (
                i["reference_price"].as_str(),
                i["guidance_price"].as_str(),
                i["floor_price"].as_str()
            ),
            (Some("36.00"), Some("36.00"), Some("36.00"))
        );

        let Funded {
            buyer, buyer_op, ..
        } = funded_buyer(&app, &r.g, 62).await;
        let n = std::cell::Cell::new(0);
        let order = |org: &str, side: &str, price: &str| {
            n.set(n.get() + 1);
            json!({"organization_id": org, "client_order_id": format!("f-{}", n.get()), "instrument": code,
                   "side": side, "price": price, "quantity": "100", "time_in_force": "gtc"})
        };
        // Inside the band (32.40–39.60) but below the floor: refused, both sides.
        for (token, org, side) in [
            (&r.op, r.org_id(), "sell"),
            (&buyer_op, buyer.as_str(), "buy"),
        ] {
            let (status, p) = app
                .post_as(token, "/api/v1/market/orders", &order(org, side, "35.99"))
                .await;
            assert_eq!(
                (status, p["code"].as_str(), p["param"].as_str()),
                (422, Some("below_floor"), Some("price")),
                "{p}"
            );
        }
        // An auction's reserve price neither.
        let lot = json!({"organization_id": r.org_id(), "client_order_id": "lot-1", "instrument": code,
                         "quantity": "2000", "reserve_price": "35.00", "opens_at": app.now().to_rfc3339(),
                         "closes_at": (app.now() + Duration::hours(2)).to_rfc3339()});
        let (status, p) = app.post_as(&r.op, "/api/v1/market/auctions", &lot).await;
        assert_eq!(
            (status, p["code"].as_str(), p["param"].as_str()),
            (422, Some("below_floor"), Some("reserve_price")),
            "{p}"
        );
        let (status, ask) = app
            .post_as(
                &r.op,
                "/api/v1/market/orders",
                &order(r.org_id(), "sell", "36.50"),
            )
            .await;
        assert_eq!(status, 201, "{ask}");
        let ask_id = ask["order"]["id"].as_str().unwrap().to_string();
        assert_eq!(
            balance(&app, &r.op, r.account_id(), &credits).await.1,
            100_000_000
        );

        // A higher floor from today: the ask resting below it is cancelled
        // and its units given back; nothing trades below the floor.
        publish("37.00", true, None).await;
        let (_, o) = app
            .get_as(&r.op, &format!("/api/v1/market/orders/{ask_id}"))
            .await;
        let o = &o["order"];
        assert_eq!(
            (o["status"].as_str(), o["reason"].as_str()),
            (Some("cancelled"), Some("below_floor")),
            "{o}"
        );
        assert_eq!(balance(&app, &r.op, r.account_id(), &credits).await.1, 0);
        let (status, p) = app
            .post_as(
                &buyer_op,
                "/api/v1/market/orders",
                &order(&buyer, "buy", "36.99"),
            )
            .await;
        assert_eq!((status, p["code"].as_str()), (422, Some("below_floor")));

        // A price that is no floor from tomorrow: after today's close the
        // instrument carries it, and no floor.
        publish(
            "30.00",
            false,
            Some((app.today() + Duration::days(1)).to_string()),
        )
        .await;
        let i: Value = app
            .get(&format!("/api/v1/market/instruments/{code}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(i["floor_price"], "37.00", "still today's: {i}");
        app.clock.set(at(monday, 15, 1));
        let mut i = Value::Null;
        for _ in 0..100 {
            i = app
                .get(&format!("/api/v1/market/instruments/{code}"))
                .await
                .json()
                .await
                .unwrap();
            if i["guidance_price"] == "30.00" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(
            (i["guidance_price"].as_str(), i["floor_price"].as_str()),
            (Some("30.00"), None),
            "after the close: {i}"
        );
        // Tuesday: a bid the old floor refused is taken.
        app.clock.set(at(monday + Duration::days(1), 9, 31));
        let (status, b) = app
            .post_as(
                &app.token("buyer62@lz.cn").await,
                "/api/v1/market/orders",
                &order(&buyer, "buy", "33.00"),
            )
            .await;
        assert_eq!(status, 201, "no floor on Tuesday: {b}");
    }
}

#[tokio::test]
async fn the_monthly_review_proposes_from_the_market_once_and_government_decides() {
    for backend in backends() {
        // The replicas' loop stays out of the way: the test runs the
        // closes and the reviews itself, several at once.
        let app = spawn_app_with(backend, |s| {
            s.registry.notice_working_days = 0;
            s.market.close_check_secs = 3600;
            s.pricing.min_volume_units = 100;
        })
        .await;
        let monday = next_monday(&app);
        app.clock.set(at(monday, 9, 31));
        let (r, code, credits) = forest(&app, 63, "LZ-R-63").await;
        let tiers =
            json!([{"name": "兰州新区企业", "districts": ["620171"], "adjustment": "-0.3"}]);
        let guidance = json!({"price": "36.00", "reason": "碳汇指导价", "tiers": tiers});
        listed_at_guidance(&app, &r.g.gov, &code, guidance).await;
        let Funded {
            buyer, buyer_op, ..
        } = funded_buyer(&app, &r.g, 63).await;
        // 150 t at 39.00 and 50 t at 39.60 (the band's top): VWAP 39.15.
        for (n, price, quantity) in [(1, "39.00", 150), (2, "39.60", 50)] {
            let sell = json!({"organization_id": r.org_id(), "client_order_id": format!("s-{n}"), "instrument": code,
                              "side": "sell", "price": price, "quantity": quantity.to_string(), "time_in_force": "gtc"});
            let (status, s) = app.post_as(&r.op, "/api/v1/market/orders", &sell).await;
            assert_eq!(status, 201, "{s}");
            let buy = json!({"organization_id": buyer, "client_order_id": format!("b-{n}"), "instrument": code,
                             "side": "buy", "price": price, "quantity": quantity.to_string(), "time_in_force": "gtc"});
            let (status, b) = app.post_as(&buyer_op, "/api/v1/market/orders", &buy).await;
            assert_eq!(
                (status, b["trades"].as_array().map(Vec::len)),
                (201, Some(1)),
                "{b}"
            );
        }
        let market = tanpuhui_server::market::rules::MarketRules::default();
        app.clock.set(at(monday, 15, 1));
        let closed = tanpuhui_server::market::close::run_due(
            &app.db,
            &market,
            &Default::default(),
            &Default::default(),
            app.now(),
        )
        .await
        .unwrap();
        assert_eq!(closed, 1);

        // The first of the next month: four replicas review at once, one review is made.
        use chrono::{Datelike, TimeZone};
        let first = (monday.date_naive().with_day(1).unwrap() + chrono::Months::new(1))
            .and_hms_opt(10, 0, 0)
            .unwrap();
        let first = tanpuhui_server::clock::china_time()
            .from_local_datetime(&first)
            .unwrap();
        app.clock.set(first);
        let rules = tanpuhui_server::pricing::rules::PricingRules {
            min_volume_units: 100,
            ..Default::default()
        };
        let runs =
            (0..4).map(|_| tanpuhui_server::pricing::review::run_due(&app.db, &rules, first));
        let made: usize = futures_util::future::join_all(runs)
            .await
            .into_iter()
            .map(Result::unwrap)
            .sum();
        assert_eq!(made, 1, "one review per instrument and month");
        let reviews: Value = app
            .get(&format!(
                "/api/v1/public/guidance-reviews?instrument={code}"
            ))
            .await
            .json()
            .await
            .unwrap();
        let review = &reviews["data"][0];
        assert_eq!(reviews["data"].as_array().unwrap().len(), 1, "{reviews}");
        assert_eq!(
            (
                review["volume"].as_str(),
                review["vwap"].as_str(),
                review["proposed_price"].as_str(),
                review["basis"].as_str(),
                review["status"].as_str()
            ),
            (
                Some("200"),
                Some("39.15"),
                Some("39.15"),
                Some("vwap"),
                Some("proposed")
            ),
            "{review}"
        );
        let id = review["id"].as_str().unwrap();
        let path = format!("/api/v1/guidance-reviews/{id}/decision");
        let gov = app.token("gov63@tph.cn").await;
        for (body, param) in [
            (json!({"decision": "amend", "reason": "x"}), "price"),
            (json!({"decision": "amend", "price": "38.00"}), "reason"),
            (json!({"decision": "reject"}), "reason"),
            (json!({"decision": "approve", "price": "38.00"}), "price"),
        ] {
            let (status, p) = app.post_as(&gov, &path, &body).await;
            assert_eq!(
                (status, p["param"].as_str()),
                (422, Some(param)),
                "{body}: {p}"
            );
        }
        let op = app.token("forest63@lz.cn").await;
        let (status, _) = app
            .post_as(&op, &path, &json!({"decision": "approve"}))
            .await;
        assert_eq!(status, 403);
        let (status, d) = app
            .post_as(&gov, &path, &json!({"decision": "approve"}))
            .await;
        assert_eq!(status, 200, "{d}");
        assert_eq!(
            (d["status"].as_str(), d["decision"].as_str()),
            (Some("published"), Some("approve"))
        );
        let (status, p) = app
            .post_as(
                &gov,
                &path,
                &json!({"decision": "reject", "reason": "again"}),
            )
            .await;
        assert_eq!((status, p["code"].as_str()), (409, Some("already_decided")));
        // The new version: the proposed price, the tiers kept, in force now.
        let history: Value = app
            .get(&format!("/api/v1/public/guidance-prices?instrument={code}"))
            .await
            .json()
            .await
            .unwrap();
        let v2 = &history["data"][0];
        assert_eq!(
            (
                v2["version"].as_i64(),
                v2["price"].as_str(),
                v2["review_id"].as_str(),
                v2["tiers"][0]["price"].as_str()
            ),
            (Some(2), Some("39.15"), Some(id), Some("27.41")),
            "{v2}"
        );
        let i: Value = app
            .get(&format!("/api/v1/market/instruments/{code}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(i["guidance_price"], "39.15");

        // The approved price and its tier price a buy-back: an enterprise of
        // Lanzhou New Area (tier 27.41) sells 10 t to the reserve.
        let forest_op = app.token("forest63@lz.cn").await;
        let (xinqu, xinqu_op) = enterprise_in(&app, &gov, "620171", "xinqu63@lz.cn", 63).await;
        let (_, x) = app
            .get_as(&xinqu_op, &format!("/api/v1/organizations/{xinqu}"))
            .await;
        let batch_id = credits.strip_prefix("credit:").unwrap();
        let (status, t) = app
            .post_as(
                &forest_op,
                "/api/v1/transfers",
                &json!({"transfer_id": uuid::Uuid::new_v4(), "from_account_id": r.account_id(),
                        "to_account_id": x["account_id"], "batch_id": batch_id, "quantity_g": 10_000_000i64}),
            )
            .await;
        assert_eq!(status, 200, "{t}");
        // The fixtures' tokens are a month old.
        let g = Government {
            admin: app.token("admin63@tph.cn").await,
            dept_id: r.g.dept_id.clone(),
            gov: gov.clone(),
        };
        let (reserve, _) = crate::helpers::reserve_platform(&app, &g, 63).await;
        let (status, bb) = app
            .post_as(
                &xinqu_op,
                "/api/v1/reserve/buy-backs",
                &json!({"organization_id": xinqu, "reserve_organization_id": reserve,
                        "client_id": "after-review", "instrument": code, "quantity": "10"}),
            )
            .await;
        assert_eq!(status, 201, "{bb}");
        assert_eq!(
            (bb["price"].as_str(), bb["value"].as_str()),
            (Some("27.41"), Some("274.10")),
            "{bb}"
        );
    }
}

#[tokio::test]
async fn the_corridor_fires_on_closes_and_the_reserve_releases_and_supports() {
    for backend in backends() {
        let app = spawn_app_with(backend, |s| {
            s.registry.notice_working_days = 0;
            s.market.close_check_secs = 3600;
            s.pricing.upper_trigger = "1.05".parse().unwrap();
            s.pricing.lower_trigger = "0.95".parse().unwrap();
            s.pricing.trigger_days = 2;
            s.pricing.release_units = 50;
            s.pricing.support_units = 30;
        })
        .await;
        let pricing = tanpuhui_server::pricing::rules::PricingRules {
            upper_trigger: "1.05".parse().unwrap(),
            lower_trigger: "0.95".parse().unwrap(),
            trigger_days: 2,
            ..Default::default()
        };
        let market = tanpuhui_server::market::rules::MarketRules::default();
        let monday = next_monday(&app);
        let day = |n: i64, hh: i64, mm: i64| at(monday + Duration::days(n), hh, mm);
        app.clock.set(day(0, 9, 31));
        let (r, code, _) = forest(&app, 64, "LZ-S-64").await;
        let guidance = json!({"price": "36.00", "reason": "碳汇指导价"});
        listed_at_guidance(&app, &r.g.gov, &code, guidance).await;
        let funded = funded_buyer(&app, &r.g, 64).await;
        let buyer = funded.buyer.clone();
        let (reserve, _) = crate::helpers::reserve_platform(&app, &r.g, 64).await;
        deposit(&app, &funded, &reserve, "D-2").await;
        let n = std::cell::Cell::new(0);
        // A trade of `quantity` at `price` between the forest enterprise and `to`.
        let seller_org = r.org_id().to_string();
        let trade = |to: &'static str, org: String, price: &'static str, quantity: u32| {
            let (app, code, n, seller_org) = (&app, code.clone(), &n, seller_org.clone());
            async move {
                n.set(n.get() + 1);
                let seller = app.token("forest64@lz.cn").await;
                let buyer_token = app.token(to).await;
                let sell = json!({"organization_id": seller_org, "client_order_id": format!("s-{}", n.get()), "instrument": code,
                                  "side": "sell", "price": price, "quantity": quantity.to_string(), "time_in_force": "day"});
                let (status, s) = app.post_as(&seller, "/api/v1/market/orders", &sell).await;
                assert_eq!(status, 201, "{s}");
                let buy = json!({"organization_id": org, "client_order_id": format!("b-{}", n.get()), "instrument": code,
                                 "side": "buy", "price": price, "quantity": quantity.to_string(), "time_in_force": "day"});
                let (status, b) = app
                    .post_as(&buyer_token, "/api/v1/market/orders", &buy)
                    .await;
                assert_eq!(
                    (status, b["trades"].as_array().map(Vec::len)),
                    (201, Some(1)),
                    "{b}"
                );
            }
        };
        let close = |n: i64| {
            let (app, market, pricing) = (&app, &market, &pricing);
            async move {
                app.clock.set(day(n, 15, 1));
                let closed = tanpuhui_server::market::close::run_due(
                    &app.db,
                    market,
                    pricing,
                    &Default::default(),
                    app.now(),
                )
                .await
                .unwrap();
                assert_eq!(closed, 1, "day {n} closed");
            }
        };
        let actions = || {
            let (app, code) = (&app, code.clone());
            async move {
                let page: Value = app
                    .get(&format!(
                        "/api/v1/public/stabilisation-actions?instrument={code}"
                    ))
                    .await
                    .json()
                    .await
                    .unwrap();
                page["data"].as_array().unwrap().clone()
            }
        };
        // The upper trigger is 36.00 × 1.05 = 37.80: closes of 39.60 and 40.00 fire it on the second.
        trade("reserve64@reserve.cn", reserve.clone(), "39.60", 100).await;
        close(0).await;
        assert!(actions().await.is_empty(), "one close beyond is not a run");
        app.clock.set(day(1, 9, 31));
        trade("buyer64@lz.cn", buyer.clone(), "40.00", 10).await;
        close(1).await;
        let fired = actions().await;
        assert_eq!(fired.len(), 1, "{fired:?}");
        let upper = &fired[0];
        assert_eq!(
            (
                upper["trigger"].as_str(),
                upper["close"].as_str(),
                upper["trigger_price"].as_str(),
                upper["run_days"].as_i64(),
                upper["status"].as_str()
            ),
            (
                Some("upper"),
                Some("40.00"),
                Some("37.80"),
                Some(2),
                Some("open")
            ),
            "{upper}"
        );
        // Wednesday morning the reserve releases what it bought on Monday, up to 50 units.
        app.clock.set(day(2, 9, 31));
        let keeper = app.token("reserve64@reserve.cn").await;
        let path = format!(
            "/api/v1/stabilisation-actions/{}/execute",
            upper["id"].as_str().unwrap()
        );
        let (status, p) = app
            .post_as(
                &app.token("buyer64@lz.cn").await,
                &path,
                &json!({"organization_id": buyer}),
            )
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (403, Some("forbidden")),
            "{p}"
        );
        let (status, done) = app
            .post_as(&keeper, &path, &json!({"organization_id": reserve}))
            .await;
        assert_eq!(status, 200, "{done}");
        assert_eq!(
            (done["status"].as_str(), done["quantity"].as_str()),
            (Some("executed"), Some("50"))
        );
        let (_, auction) = app
            .get_as(
                &keeper,
                &format!(
                    "/api/v1/market/auctions/{}",
                    done["auction_id"].as_str().unwrap()
                ),
            )
            .await;
        assert_eq!(
            (
                auction["auction"]["reserve_price"].as_str(),
                auction["auction"]["quantity"].as_str()
            ),
            (Some("37.80"), Some("50")),
            "{auction}"
        );
        let (status, p) = app
            .post_as(&keeper, &path, &json!({"organization_id": reserve}))
            .await;
        assert_eq!((status, p["code"].as_str()), (409, Some("already_decided")));

        // Down again: 36.00 inside; 32.40 and 30.00 below the lower trigger (34.20) fire it.
        trade("buyer64@lz.cn", buyer.clone(), "36.00", 10).await;
        close(2).await;
        for (n, price) in [(3, "32.40"), (4, "30.00")] {
            app.clock.set(day(n, 9, 31));
            trade("buyer64@lz.cn", buyer.clone(), price, 10).await;
            close(n).await;
        }
        let fired = actions().await;
        assert_eq!(fired.len(), 2, "{fired:?}");
        let lower = &fired[0];
        assert_eq!(
            (
                lower["trigger"].as_str(),
                lower["trigger_price"].as_str(),
                lower["run_days"].as_i64()
            ),
            (Some("lower"), Some("34.20"), Some(2)),
            "{lower}"
        );
        // Monday: the band around 30.00 ends at 33.00, under the trigger price: the reserve bids there.
        app.clock.set(day(7, 9, 31));
        let keeper = app.token("reserve64@reserve.cn").await;
        let path = format!(
            "/api/v1/stabilisation-actions/{}/execute",
            lower["id"].as_str().unwrap()
        );
        let (status, done) = app
            .post_as(&keeper, &path, &json!({"organization_id": reserve}))
            .await;
        assert_eq!(status, 200, "{done}");
        let (_, o) = app
            .get_as(
                &keeper,
                &format!(
                    "/api/v1/market/orders/{}",
                    done["order_id"].as_str().unwrap()
                ),
            )
            .await;
        assert_eq!(
            (
                o["order"]["side"].as_str(),
                o["order"]["price"].as_str(),
                o["order"]["quantity"].as_str()
            ),
            (Some("buy"), Some("33.00"), Some("30")),
            "{o}"
        );
    }
}

#[tokio::test]
async fn a_standing_instruction_executes_stabilisation_actions_in_the_background() {
    for backend in backends() {
        // The replicas' loop runs every second: it closes the day, and
        // executes open actions as the reserve's keeper.
        let app = spawn_app_with(backend, |s| {
            s.registry.notice_working_days = 0;
            s.market.close_check_secs = 1;
            s.pricing.upper_trigger = "1.05".parse().unwrap();
            s.pricing.trigger_days = 1;
            s.pricing.release_units = 40;
            s.pricing.auto_execute_as = "reserve66@reserve.cn".into();
        })
        .await;
        let monday = next_monday(&app);
        let day = |n: i64, hh: i64, mm: i64| at(monday + Duration::days(n), hh, mm);
        app.clock.set(day(0, 9, 31));
        let (r, code, _) = forest(&app, 66, "LZ-S-66").await;
        listed_at_guidance(
            &app,
            &r.g.gov,
            &code,
            json!({"price": "36.00", "reason": "碳汇指导价"}),
        )
        .await;
        let funded = funded_buyer(&app, &r.g, 66).await;
        let (reserve, keeper) = crate::helpers::reserve_platform(&app, &r.g, 66).await;
        deposit(&app, &funded, &reserve, "D-2").await;
        // The reserve buys 100 t at 39.60, above the trigger of 37.80.
        let sell = json!({"organization_id": r.org_id(), "client_order_id": "s-1", "instrument": code,
                          "side": "sell", "price": "39.60", "quantity": "100", "time_in_force": "day"});
        let (status, s) = app.post_as(&r.op, "/api/v1/market/orders", &sell).await;
        assert_eq!(status, 201, "{s}");
        let buy = json!({"organization_id": reserve, "client_order_id": "b-1", "instrument": code,
                         "side": "buy", "price": "39.60", "quantity": "100", "time_in_force": "day"});
        let (status, b) = app.post_as(&keeper, "/api/v1/market/orders", &buy).await;
        assert_eq!(
            (status, b["trades"].as_array().map(Vec::len)),
            (201, Some(1)),
            "{b}"
        );
        let actions = || async {
            let page: Value = app
                .get(&format!(
                    "/api/v1/public/stabilisation-actions?instrument={code}"
                ))
                .await
                .json()
                .await
                .unwrap();
            page["data"].as_array().unwrap().clone()
        };
        let wait_for = |what: &'static str, done: fn(&[Value]) -> bool| async move {
            for _ in 0..200 {
                if done(&actions().await) {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            panic!(
                "{backend:?}: waited in vain for {what}: {:?}",
                actions().await
            );
        };
        // The loop closes the day: the action fires, and waits (units bought today are not sellable).
        app.clock.set(day(0, 15, 1));
        wait_for("the action", |a| a.len() == 1).await;
        tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
        assert_eq!(
            actions().await[0]["status"],
            "open",
            "nothing to release before T+1"
        );
        // Tuesday morning the keeper's standing instruction releases 40 t by auction.
        app.clock.set(day(1, 9, 31));
        wait_for("the execution", |a| {
            a.first().is_some_and(|x| x["status"] == "executed")
        })
        .await;
        let a = &actions().await[0];
        assert_eq!(
            (
                a["quantity"].as_str(),
                a["organization_id"].as_str(),
                a["auction_id"].is_string()
            ),
            (Some("40"), Some(reserve.as_str()), true),
            "{a}"
        );
        let auction: Value = app
            .get(&format!(
                "/api/v1/market/auctions/{}",
                a["auction_id"].as_str().unwrap()
            ))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(auction["auction"]["reserve_price"], "37.80", "{auction}");
    }
}

/// A quarter through the API with narrow triggers (×1.05 and ×0.95 over
/// two closes) and a tight review (±5 %): the closes fire the upper
/// trigger and the reserve's release auction sells its stock to a bidder;
/// then the lower one and the reserve bids within its budget; the month's
/// review proposes a price capped at +5 %; government approves it; the new
/// version's tier prices the next buy-back, which the reserve accepts.
#[tokio::test]
async fn a_quarter_of_closes_triggers_reviews_and_reserve_operations() {
    for backend in backends() {
        let app = spawn_app_with(backend, |s| {
            s.registry.notice_working_days = 0;
            s.market.close_check_secs = 3600;
            s.pricing.upper_trigger = "1.05".parse().unwrap();
            s.pricing.lower_trigger = "0.95".parse().unwrap();
            s.pricing.trigger_days = 2;
            s.pricing.release_units = 50;
            s.pricing.support_units = 30;
        })
        .await;
        let pricing = tanpuhui_server::pricing::rules::PricingRules {
            upper_trigger: "1.05".parse().unwrap(),
            lower_trigger: "0.95".parse().unwrap(),
            trigger_days: 2,
            max_move: "0.05".parse().unwrap(),
            min_volume_units: 100,
            ..Default::default()
        };
        let market = tanpuhui_server::market::rules::MarketRules::default();
        let monday = next_monday(&app);
        let day = |n: i64, hh: i64, mm: i64| at(monday + Duration::days(n), hh, mm);
        app.clock.set(day(0, 9, 31));
        let (r, code, credits) = forest(&app, 67, "LZ-Q-67").await;
        let guidance = json!({"price": "36.00", "reason": "碳汇指导价", "tiers": lanzhou_tiers()});
        listed_at_guidance(&app, &r.g.gov, &code, guidance).await;
        let funded = funded_buyer(&app, &r.g, 67).await;
        let (reserve, _) = crate::helpers::reserve_platform(&app, &r.g, 67).await;
        deposit(&app, &funded, &reserve, "D-Q").await;
        let n = std::cell::Cell::new(0);
        let seller_org = r.org_id().to_string();
        // The forest enterprise sells `quantity` at `price` to `org` (staff `to`).
        let trade = |to: &'static str, org: String, price: &'static str, quantity: u32| {
            let (app, code, n, seller_org) = (&app, code.clone(), &n, seller_org.clone());
            async move {
                n.set(n.get() + 1);
                let seller = app.token("forest67@lz.cn").await;
                let sell = json!({"organization_id": seller_org, "client_order_id": format!("s-{}", n.get()), "instrument": code,
                                  "side": "sell", "price": price, "quantity": quantity.to_string(), "time_in_force": "day"});
                let (status, s) = app.post_as(&seller, "/api/v1/market/orders", &sell).await;
                assert_eq!(status, 201, "{s}");
                let buy = json!({"organization_id": org, "client_order_id": format!("b-{}", n.get()), "instrument": code,
                                 "side": "buy", "price": price, "quantity": quantity.to_string(), "time_in_force": "day"});
                let (status, b) = app
                    .post_as(&app.token(to).await, "/api/v1/market/orders", &buy)
                    .await;
                assert_eq!(
                    (status, b["trades"].as_array().map(Vec::len)),
                    (201, Some(1)),
                    "{b}"
                );
            }
        };
        let close = |n: i64| {
            let (app, market, pricing) = (&app, &market, &pricing);
            async move {
                app.clock.set(day(n, 15, 1));
                let closed = tanpuhui_server::market::close::run_due(
                    &app.db,
                    market,
                    pricing,
                    &Default::default(),
                    app.now(),
                )
                .await
                .unwrap();
                assert_eq!(closed, 1, "day {n} closed");
            }
        };
        let actions = || async {
            let page: Value = app
                .get(&format!(
                    "/api/v1/public/stabilisation-actions?instrument={code}"
                ))
                .await
                .json()
                .await
                .unwrap();
            page["data"].as_array().unwrap().clone()
        };
        let execute = |id: String| {
            let (app, reserve) = (&app, reserve.clone());
            async move {
                let keeper = app.token("reserve67@reserve.cn").await;
                let (status, done) = app
                    .post_as(
                        &keeper,
                        &format!("/api/v1/stabilisation-actions/{id}/execute"),
                        &json!({"organization_id": reserve}),
                    )
                    .await;
                assert_eq!(
                    (status, done["status"].as_str()),
                    (200, Some("executed")),
                    "{done}"
                );
                done
            }
        };
        let buyer = funded.buyer.clone();

        // Up: closes of 39.60 and 40.00 above 37.80 fire the upper trigger.
        trade("reserve67@reserve.cn", reserve.clone(), "39.60", 100).await;
        close(0).await;
        app.clock.set(day(1, 9, 31));
        trade("buyer67@lz.cn", buyer.clone(), "40.00", 200).await;
        close(1).await;
        let upper = actions().await[0].clone();
        assert_eq!(
            (upper["trigger"].as_str(), upper["trigger_price"].as_str()),
            (Some("upper"), Some("37.80"))
        );
        // The release: 50 t of the reserve's stock by one-way bidding at 37.80; a bidder takes 25 at 38.00.
        app.clock.set(day(2, 9, 31));
        let done = execute(upper["id"].as_str().unwrap().to_string()).await;
        let auction = done["auction_id"].as_str().unwrap().to_string();
        let (status, bid) = app
            .post_as(
                &app.token("buyer67@lz.cn").await,
                &format!("/api/v1/market/auctions/{auction}/bids"),
                &json!({"organization_id": buyer, "client_order_id": "bid-1", "price": "38.00", "quantity": "25"}),
            )
            .await;
        assert_eq!(status, 201, "{bid}");
        // Down: 36.00 inside, then 34.00 and 32.40 below 34.20 fire the lower trigger.
        trade("buyer67@lz.cn", buyer.clone(), "36.00", 10).await;
        close(2).await;
        app.clock.set(day(3, 9, 40));
        let systems = tanpuhui_server::accounts::service::SystemAccounts::default();
        let closed =
            tanpuhui_server::market::auctions::close_due(&app.db, &market, &systems, app.now())
                .await
                .unwrap();
        assert_eq!(closed.len(), 1, "the release auction closed");
        let (_, detail) = app
            .get_as(
                &app.token("buyer67@lz.cn").await,
                &format!("/api/v1/market/auctions/{auction}"),
            )
            .await;
        assert_eq!(
            detail["awards"].as_array().map(Vec::len),
            Some(1),
            "{detail}"
        );
        let view: Value = app
            .get("/api/v1/public/reserve")
            .await
            .json()
            .await
            .unwrap();
        let stock = &view["reserves"][0]["stock"][0];
        assert_eq!(
            (stock["instrument"].as_str(), stock["units"].as_str()),
            (Some(code.as_str()), Some("75")),
            "{view}"
        );
        trade("buyer67@lz.cn", buyer.clone(), "34.00", 10).await;
        close(3).await;
        app.clock.set(day(4, 9, 31));
        trade("buyer67@lz.cn", buyer.clone(), "32.40", 10).await;
        close(4).await;
        let lower = actions().await[0].clone();
        assert_eq!(
            (lower["trigger"].as_str(), lower["trigger_price"].as_str()),
            (Some("lower"), Some("34.20"))
        );
        // The support: a bid for 30 t at 34.20, inside the next day's band around 32.40.
        app.clock.set(day(7, 9, 31));
        let done = execute(lower["id"].as_str().unwrap().to_string()).await;
        let (_, o) = app
            .get_as(
                &app.token("reserve67@reserve.cn").await,
                &format!(
                    "/api/v1/market/orders/{}",
                    done["order_id"].as_str().unwrap()
                ),
            )
            .await;
        assert_eq!(
            (
                o["order"]["side"].as_str(),
                o["order"]["price"].as_str(),
                o["order"]["quantity"].as_str()
            ),
            (Some("buy"), Some("34.20"), Some("30")),
            "{o}"
        );

        // The next month's review: 330 t traded in the book at a VWAP of
        // 39.35, capped at +5 % of 36.00: 37.80.
        use chrono::{Datelike, TimeZone};
        let first = (day(7, 0, 0).date_naive().with_day(1).unwrap() + chrono::Months::new(1))
            .and_hms_opt(10, 0, 0)
            .unwrap();
        let first = tanpuhui_server::clock::china_time()
            .from_local_datetime(&first)
            .unwrap();
        app.clock.set(first);
        let made = tanpuhui_server::pricing::review::run_due(&app.db, &pricing, first)
            .await
            .unwrap();
        assert_eq!(made, 1);
        let reviews: Value = app
            .get(&format!(
                "/api/v1/public/guidance-reviews?instrument={code}"
            ))
            .await
            .json()
            .await
            .unwrap();
        let review = &reviews["data"][0];
        assert_eq!(
            (
                review["volume"].as_str(),
                review["vwap"].as_str(),
                review["proposed_price"].as_str(),
                review["basis"].as_str()
            ),
            (Some("330"), Some("39.35"), Some("37.80"), Some("capped_up")),
            "{review}"
        );
        let gov = app.token("gov67@tph.cn").await;
        let (status, d) = app
            .post_as(
                &gov,
                &format!(
                    "/api/v1/guidance-reviews/{}/decision",
                    review["id"].as_str().unwrap()
                ),
                &json!({"decision": "approve"}),
            )
            .await;
        assert_eq!(
            (status, d["status"].as_str()),
            (200, Some("published")),
            "{d}"
        );
        let i: Value = app
            .get(&format!("/api/v1/market/instruments/{code}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(i["guidance_price"], "37.80", "{i}");

        // The new tier (Lanzhou New Area, −30 %: 26.46) prices a buy-back the reserve accepts.
        let (xinqu, xinqu_op) = enterprise_in(&app, &gov, "620171", "xinqu67@lz.cn", 67).await;
        let (_, x) = app
            .get_as(&xinqu_op, &format!("/api/v1/organizations/{xinqu}"))
            .await;
        let (status, t) = app
            .post_as(
                &app.token("forest67@lz.cn").await,
                "/api/v1/transfers",
                &json!({"transfer_id": uuid::Uuid::new_v4(), "from_account_id": r.account_id(),
                        "to_account_id": x["account_id"], "batch_id": credits.strip_prefix("credit:").unwrap(),
                        "quantity_g": 20_000_000i64}),
            )
            .await;
        assert_eq!(status, 200, "{t}");
        let (status, bb) = app
            .post_as(
                &xinqu_op,
                "/api/v1/reserve/buy-backs",
                &json!({"organization_id": xinqu, "reserve_organization_id": reserve,
                        "client_id": "quarter", "instrument": code, "quantity": "20"}),
            )
            .await;
        assert_eq!(
            (status, bb["price"].as_str(), bb["value"].as_str()),
            (201, Some("26.46"), Some("529.20")),
            "{bb}"
        );
        let (status, a) = app
            .post_as(
                &app.token("reserve67@reserve.cn").await,
                &format!(
                    "/api/v1/reserve/operations/{}/accept",
                    bb["id"].as_str().unwrap()
                ),
                &json!({"organization_id": reserve}),
            )
            .await;
        assert_eq!(
            (status, a["status"].as_str()),
            (200, Some("accepted")),
            "{a}"
        );
        let (cash, _) = balance(
            &app,
            &xinqu_op,
            x["account_id"].as_str().unwrap(),
            "cash:CNY",
        )
        .await;
        assert_eq!(cash, 52_920);
    }
}
