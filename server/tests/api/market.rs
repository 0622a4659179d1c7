//! The market through its HTTP API: instruments and their listing, cash
//! deposited and withdrawn through a settlement bank.

use serde_json::json;

use crate::helpers::{any_backend, backends, spawn_app, spawn_app_with};
use crate::helpers::{balance, bank, enterprise, government, issued_forest_batch, registry};

#[tokio::test]
async fn government_lists_suspends_and_resumes_instruments() {
    // No public notice here (the registry's tests cover it).
    let app = spawn_app_with(any_backend(), |s| s.registry.notice_working_days = 0).await;
    let r = registry(&app, 1).await;
    let vintage = app.year() - 1;
    let code = format!("TPH-FOR-{vintage}");
    // Every issued batch belongs to its instrument.
    let (_, batch) = issued_forest_batch(&app, &r, "LZ-M-1").await;
    assert_eq!(batch["instrument"], code.as_str(), "{batch}");

    let listing = json!({"code": code, "reference_price": "36.00"});
    let (status, p) = app
        .post_as(&r.op, "/api/v1/market/instruments", &listing)
        .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (403, Some("forbidden")),
        "{p}"
    );
    let (status, i) = app
        .post_as(&r.g.gov, "/api/v1/market/instruments", &listing)
        .await;
    assert_eq!(status, 201, "{i}");
    assert_eq!(i["status"], "listed");
    assert_eq!(i["class"], "carbon_forest");
    assert_eq!(i["unit"], "tCO2e");
    assert_eq!(i["minor_per_unit"], "1000000");
    assert_eq!(i["reference_price"], "36.00");
    assert_eq!(i["band"], json!({"low": "32.40", "high": "39.60"}));
    assert_eq!(i["block_band"], json!({"low": "25.20", "high": "46.80"}));
    assert_eq!(
        (i["tick"].as_str(), i["quantity_step"].as_str()),
        (Some("0.01"), Some("1"))
    );
    let (status, p) = app
        .post_as(&r.g.gov, "/api/v1/market/instruments", &listing)
        .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (409, Some("already_listed")),
        "{p}"
    );

    for (body, param) in [
        (
            json!({"code": "TPH-XYZ-2025", "reference_price": "36"}),
            "code",
        ),
        (
            json!({"code": "TPH-FOR-1899", "reference_price": "36"}),
            "code",
        ),
        (
            json!({"code": "TPH-PRJ-2025", "reference_price": "36.001"}),
            "reference_price",
        ),
        (
            json!({"code": "TPH-PRJ-2025", "reference_price": "0"}),
            "reference_price",
        ),
        (
            json!({"code": "TPH-PRJ-2025", "reference_price": "-5"}),
            "reference_price",
        ),
    ] {
        let (status, p) = app
            .post_as(&r.g.gov, "/api/v1/market/instruments", &body)
            .await;
        assert_eq!(
            (status, p["param"].as_str()),
            (422, Some(param)),
            "{body}: {p}"
        );
    }

    // Public: no sign-in.
    let listed = app.get(&format!("/api/v1/market/instruments/{code}")).await;
    assert_eq!(listed.status(), 200);
    let all: serde_json::Value = app
        .get("/api/v1/market/instruments")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["data"].as_array().unwrap().len(), 1, "{all}");
    assert_eq!(
        app.get("/api/v1/market/instruments/TPH-PER-2020")
            .await
            .status(),
        404
    );

    let path = |what: &str| format!("/api/v1/market/instruments/{code}/{what}");
    let why = json!({"reason": "异常交易核查"});
    let (status, p) = app.post_as(&r.op, &path("suspend"), &why).await;
    assert_eq!(status, 403, "{p}");
    let (status, p) = app
        .post_as(&r.g.gov, &path("suspend"), &json!({"reason": " "}))
        .await;
    assert_eq!((status, p["param"].as_str()), (422, Some("reason")), "{p}");
    let (status, i) = app.post_as(&r.g.gov, &path("suspend"), &why).await;
    assert_eq!(
        (status, i["status"].as_str()),
        (200, Some("suspended")),
        "{i}"
    );
    let (status, p) = app.post_as(&r.g.gov, &path("suspend"), &why).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (409, Some("instrument_suspended")),
        "{p}"
    );
    let (status, i) = app.post_as(&r.g.gov, &path("resume"), &why).await;
    assert_eq!((status, i["status"].as_str()), (200, Some("listed")), "{i}");
    let (status, p) = app.post_as(&r.g.gov, &path("resume"), &why).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (409, Some("not_suspended")),
        "{p}"
    );
    let (status, _) = app
        .post_as(
            &r.g.gov,
            "/api/v1/market/instruments/TPH-PER-2020/suspend",
            &why,
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn cash_comes_and_goes_only_through_the_settlement_bank() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let g = government(&app, 1).await;
        let (bank_id, teller) = bank(&app, &g, 1).await;
        let (other_bank, other_teller) = bank(&app, &g, 2).await;
        let (org, op) = enterprise(&app, &g, "trader@lz.cn", 11).await;
        let org_id = org["id"].as_str().unwrap();
        let account = org["account_id"].as_str().unwrap();
        let deposit = |reference: &str, amount: &str| json!({"bank_id": bank_id, "reference": reference, "organization_id": org_id, "amount": amount});

        let (status, p) = app
            .post_as(&op, "/api/v1/market/deposits", &deposit("R1", "100000000"))
            .await;
        assert_eq!(status, 403, "{p}");
        let (status, p) = app
            .post_as(
                &other_teller,
                "/api/v1/market/deposits",
                &deposit("R1", "100000000"),
            )
            .await;
        assert_eq!(status, 403, "another bank's staff: {p}");
        let (status, d) = app
            .post_as(
                &teller,
                "/api/v1/market/deposits",
                &deposit("R1", "100000000"),
            )
            .await;
        assert_eq!(status, 201, "{d}");
        assert_eq!(
            (d["amount"].as_str(), d["replayed"].as_bool()),
            (Some("100000000"), Some(false))
        );
        assert_eq!(
            balance(&app, &op, account, "cash:CNY").await,
            (100_000_000, 0)
        );
        // The same bank message again: credited once.
        let (status, again) = app
            .post_as(
                &teller,
                "/api/v1/market/deposits",
                &deposit("R1", "100000000"),
            )
            .await;
        assert_eq!(
            (status, again["id"].clone(), again["replayed"].as_bool()),
            (200, d["id"].clone(), Some(true))
        );
        let (status, p) = app
            .post_as(&teller, "/api/v1/market/deposits", &deposit("R1", "5"))
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("reference_reused")),
            "{p}"
        );
        assert_eq!(
            balance(&app, &op, account, "cash:CNY").await,
            (100_000_000, 0)
        );
        for (body, status, param) in [
            (deposit("R2", "0"), 422, "amount"),
            (deposit("R2", "-5"), 422, "amount"),
            (deposit(" ", "5"), 422, "reference"),
            (
                json!({"bank_id": bank_id, "reference": "R2", "organization_id": bank_id, "amount": "5"}),
                409,
                "",
            ),
            (
                json!({"bank_id": org_id, "reference": "R2", "organization_id": org_id, "amount": "5"}),
                404,
                "bank_id",
            ),
        ] {
            let (got, p) = app.post_as(&teller, "/api/v1/market/deposits", &body).await;
            assert_eq!(got, status, "{body}: {p}");
            if !param.is_empty() {
                assert_eq!(p["param"], param, "{p}");
            } else {
                assert_eq!(p["code"], "not_a_participant", "{p}");
            }
        }

        // Withdrawals hold the cash until the bank decides.
        let withdraw = |amount: &str| json!({"organization_id": org_id, "bank_id": bank_id, "bank_account": "6228 4801 0000 0001", "amount": amount});
        let (status, w) = app
            .post_as(&op, "/api/v1/market/withdrawals", &withdraw("60000000"))
            .await;
        assert_eq!(
            (status, w["status"].as_str()),
            (201, Some("requested")),
            "{w}"
        );
        assert_eq!(
            balance(&app, &op, account, "cash:CNY").await,
            (100_000_000, 60_000_000)
        );
        let (status, p) = app
            .post_as(&op, "/api/v1/market/withdrawals", &withdraw("50000000"))
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("insufficient_cash")),
            "{p}"
        );
        let (status, p) = app
            .post_as(&teller, "/api/v1/market/withdrawals", &withdraw("1"))
            .await;
        assert_eq!(
            (status, p["param"].as_str()),
            (404, Some("organization_id")),
            "{p}"
        );
        let decide = |id: &str| format!("/api/v1/market/withdrawals/{id}/decision");
        let w_id = w["id"].as_str().unwrap();
        let (status, _) = app
            .post_as(
                &other_teller,
                &decide(w_id),
                &json!({"decision": "refuse", "reason": "x"}),
            )
            .await;
        assert_eq!(status, 404, "another bank's withdrawal looks absent");
        let (status, p) = app
            .post_as(&teller, &decide(w_id), &json!({"decision": "refuse"}))
            .await;
        assert_eq!((status, p["param"].as_str()), (422, Some("reason")), "{p}");
        let (status, p) = app
            .post_as(&teller, &decide(w_id), &json!({"decision": "execute"}))
            .await;
        assert_eq!(
            (status, p["param"].as_str()),
            (422, Some("reference")),
            "{p}"
        );
        let (status, w) = app
            .post_as(
                &teller,
                &decide(w_id),
                &json!({"decision": "refuse", "reason": "账户名不符"}),
            )
            .await;
        assert_eq!(
            (status, w["status"].as_str()),
            (200, Some("refused")),
            "{w}"
        );
        assert_eq!(
            balance(&app, &op, account, "cash:CNY").await,
            (100_000_000, 0)
        );
        let (status, p) = app
            .post_as(
                &teller,
                &decide(w_id),
                &json!({"decision": "execute", "reference": "PAY-1"}),
            )
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("already_decided")),
            "{p}"
        );

        let (_, w) = app
            .post_as(&op, "/api/v1/market/withdrawals", &withdraw("60000000"))
            .await;
        let (status, w) = app
            .post_as(
                &teller,
                &decide(w["id"].as_str().unwrap()),
                &json!({"decision": "execute", "reference": "PAY-2"}),
            )
            .await;
        assert_eq!(
            (status, w["status"].as_str(), w["reference"].as_str()),
            (200, Some("executed"), Some("PAY-2")),
            "{w}"
        );
        assert_eq!(
            balance(&app, &op, account, "cash:CNY").await,
            (40_000_000, 0)
        );

        // Listings: the participant's own, the bank's queue.
        let (status, mine) = app
            .get_as(
                &op,
                &format!("/api/v1/market/withdrawals?organization_id={org_id}"),
            )
            .await;
        assert_eq!(
            (status, mine["data"].as_array().map(Vec::len)),
            (200, Some(2)),
            "{mine}"
        );
        let (status, queue) = app
            .get_as(
                &teller,
                &format!("/api/v1/market/withdrawals?bank_id={bank_id}&status=executed"),
            )
            .await;
        assert_eq!(
            (status, queue["data"].as_array().map(Vec::len)),
            (200, Some(1)),
            "{queue}"
        );
        let (status, _) = app
            .get_as(
                &other_teller,
                &format!("/api/v1/market/deposits?bank_id={bank_id}"),
            )
            .await;
        assert_eq!(status, 403);
        let (status, _) = app
            .get_as(
                &other_teller,
                &format!("/api/v1/market/deposits?organization_id={org_id}"),
            )
            .await;
        assert_eq!(status, 404);
        let (status, ds) = app
            .get_as(
                &teller,
                &format!("/api/v1/market/deposits?bank_id={bank_id}"),
            )
            .await;
        assert_eq!(
            (status, ds["data"].as_array().map(Vec::len)),
            (200, Some(1)),
            "{ds}"
        );
        let (status, p) = app.get_as(&teller, "/api/v1/market/deposits").await;
        assert_eq!(status, 422, "{p}");
        let _ = other_bank;

        // One bank message delivered several times at once credits once.
        let body = deposit("R-SAME", "700");
        let answers = futures_util::future::join_all(
            (0..6).map(|_| app.post_as(&teller, "/api/v1/market/deposits", &body)),
        )
        .await;
        let mut created = 0;
        for (status, d) in answers {
            assert!(status == 201 || status == 200, "{d}");
            created += usize::from(status == 201);
        }
        assert_eq!(created, 1, "{backend:?}");
        assert_eq!(
            balance(&app, &op, account, "cash:CNY").await,
            (40_000_700, 0)
        );
    }
}

/// A Monday at `hh:mm` China time, some weeks after the app's now.
fn trading_time(
    app: &crate::helpers::TestApp,
    hh: u32,
    mm: u32,
) -> chrono::DateTime<chrono::FixedOffset> {
    use chrono::{Datelike, Duration, TimeZone};
    let today = app.today();
    let monday = today + Duration::days(7 - i64::from(today.weekday().num_days_from_monday()));
    tanpuhui_server::clock::china_time()
        .from_local_datetime(&monday.and_hms_opt(hh, mm, 0).unwrap())
        .unwrap()
}

#[tokio::test]
async fn two_enterprises_trade_forest_credits_through_the_book() {
    for backend in backends() {
        let app = spawn_app_with(backend, |s| {
            s.registry.notice_working_days = 0;
            s.market.close_check_secs = 1;
        })
        .await;
        // Monday before the morning session opens: tokens issued now last
        // fifteen minutes of the app's clock.
        app.clock.set(trading_time(&app, 9, 20));
        let r = registry(&app, 1).await;
        let (_, batch) = issued_forest_batch(&app, &r, "LZ-B-1").await;
        let batch_id = batch["id"].as_str().unwrap();
        let code = batch["instrument"].as_str().unwrap().to_string();
        let seller = r.org_id().to_string();
        let seller_account = r.account_id().to_string();
        let (buyer_org, buyer_op) = enterprise(&app, &r.g, "buyer@lz.cn", 12).await;
        let buyer = buyer_org["id"].as_str().unwrap().to_string();
        let buyer_account = buyer_org["account_id"].as_str().unwrap().to_string();
        let (bank_id, teller) = bank(&app, &r.g, 1).await;
        let (status, d) = app
            .post_as(
                &teller,
                "/api/v1/market/deposits",
                &json!({"bank_id": bank_id, "reference": "B-1", "organization_id": buyer, "amount": "100000000"}),
            )
            .await;
        assert_eq!(status, 201, "{d}");
        let (status, i) = app
            .post_as(
                &r.g.gov,
                "/api/v1/market/instruments",
                &json!({"code": code, "reference_price": "36.00"}),
            )
            .await;
        assert_eq!(status, 201, "{i}");
        let credits = format!("credit:{batch_id}");
        let held_by_seller = balance(&app, &r.op, &seller_account, &credits).await.0;

        let n = std::cell::Cell::new(0);
        let order = |org: &str, side: &str, price: &str, quantity: u32, tif: &str| {
            n.set(n.get() + 1);
            json!({"organization_id": org, "client_order_id": format!("c-{}", n.get()), "instrument": code,
                   "side": side, "price": price, "quantity": quantity.to_string(), "time_in_force": tif})
        };
        // Outside the sessions nothing trades.
        let (status, p) = app
            .post_as(
                &r.op,
                "/api/v1/market/orders",
                &order(&seller, "sell", "36.50", 100, "gtc"),
            )
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("market_closed")),
            "{p}"
        );
        app.clock.advance(chrono::Duration::minutes(10));

        let (status, s1) = app
            .post_as(
                &r.op,
                "/api/v1/market/orders",
                &order(&seller, "sell", "36.50", 100, "gtc"),
            )
            .await;
        assert_eq!(status, 201, "{s1}");
        assert_eq!(
            (
                s1["order"]["status"].as_str(),
                s1["trades"].as_array().map(Vec::len)
            ),
            (Some("open"), Some(0))
        );
        let (status, s2) = app
            .post_as(
                &r.op,
                "/api/v1/market/orders",
                &order(&seller, "sell", "36.00", 50, "gtc"),
            )
            .await;
        assert_eq!(status, 201, "{s2}");
        assert_eq!(
            balance(&app, &r.op, &seller_account, &credits).await,
            (held_by_seller, 150_000_000)
        );

        // The buy crosses both asks: the better price first, each at its price.
        let (status, b1) = app
            .post_as(
                &buyer_op,
                "/api/v1/market/orders",
                &order(&buyer, "buy", "36.50", 120, "gtc"),
            )
            .await;
        assert_eq!(status, 201, "{b1}");
        assert_eq!(b1["order"]["status"], "filled", "{b1}");
        let trades: Vec<(String, String)> = b1["trades"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["price"].as_str().unwrap().into(),
                    t["quantity"].as_str().unwrap().into(),
                )
            })
            .collect();
        assert_eq!(
            trades,
            vec![("36.00".into(), "50".into()), ("36.50".into(), "70".into())]
        );
        let paid = 50 * 3_600 + 70 * 3_650;
        assert_eq!(
            balance(&app, &buyer_op, &buyer_account, "cash:CNY").await,
            (100_000_000 - paid, 0)
        );
        assert_eq!(
            balance(&app, &r.op, &seller_account, "cash:CNY").await,
            (paid, 0)
        );
        assert_eq!(
            balance(&app, &buyer_op, &buyer_account, &credits).await,
            (120_000_000, 0)
        );
        // Positions: all 120 bought today are locked by T+1.
        let positions_path = format!("/api/v1/market/positions?organization_id={buyer}");
        let (status, pos) = app.get_as(&buyer_op, &positions_path).await;
        assert_eq!(status, 200, "{pos}");
        assert_eq!(
            pos["positions"],
            json!([{"instrument": code, "units": "120", "in_orders": "0", "locked_t_plus_one": "120", "pledged": "0", "sellable": "0"}]),
            "{pos}"
        );
        assert_eq!(
            (pos["cash_available"].as_str(), pos["fees_paid"].as_str()),
            (Some((100_000_000 - paid).to_string().as_str()), Some("0")),
            "{pos}"
        );
        let (status, _) = app.get_as(&r.op, &positions_path).await;
        assert_eq!(status, 404, "another organisation's positions look absent");
        assert_eq!(
            balance(&app, &r.op, &seller_account, &credits).await,
            (held_by_seller - 120_000_000, 30_000_000)
        );

        // Public depth and tape never say who.
        let depth: serde_json::Value = app
            .get(&format!("/api/v1/market/instruments/{code}/book"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            depth["asks"],
            json!([{"price": "36.50", "quantity": "30", "orders": 1}]),
            "{depth}"
        );
        assert_eq!(depth["bids"], json!([]));
        let tape: serde_json::Value = app
            .get(&format!("/api/v1/market/instruments/{code}/trades"))
            .await
            .json()
            .await
            .unwrap();
        let seqs: Vec<i64> = tape["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["seq"].as_i64().unwrap())
            .collect();
        assert_eq!(seqs, vec![2, 1], "{tape}");
        assert!(!tape.to_string().contains(&buyer) && !tape.to_string().contains(&seller));

        // Refusals.
        let (status, p) = app
            .post_as(
                &buyer_op,
                "/api/v1/market/orders",
                &order(&buyer, "buy", "40.00", 1, "gtc"),
            )
            .await;
        assert_eq!(
            (status, p["code"].as_str(), p["param"].as_str()),
            (422, Some("outside_band"), Some("price")),
            "{p}"
        );
        assert!(
            p["detail"].as_str().unwrap().contains("32.40 to 39.60"),
            "{p}"
        );
        let (status, p) = app
            .post_as(
                &buyer_op,
                "/api/v1/market/orders",
                &order(&buyer, "buy", "36.505", 1, "gtc"),
            )
            .await;
        assert_eq!((status, p["param"].as_str()), (422, Some("price")), "{p}");
        let (status, p) = app
            .post_as(
                &buyer_op,
                "/api/v1/market/orders",
                &order(&buyer, "buy", "36.00", 100_000, "gtc"),
            )
            .await;
        assert_eq!(
            (status, p["param"].as_str()),
            (422, Some("quantity")),
            "{p}"
        );
        let (status, p) = app
            .post_as(
                &buyer_op,
                "/api/v1/market/orders",
                &order(&buyer, "buy", "36.00", 99_999, "gtc"),
            )
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("insufficient_cash")),
            "{p}"
        );
        let (status, p) = app
            .post_as(
                &buyer_op,
                "/api/v1/market/orders",
                &order(&buyer, "sell", "36.00", 10, "gtc"),
            )
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("t_plus_one")),
            "{p}"
        );
        let (status, p) = app
            .post_as(
                &buyer_op,
                "/api/v1/market/orders",
                &order(&buyer, "sell", "36.00", 121, "gtc"),
            )
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("insufficient_units")),
            "{p}"
        );
        let (status, p) = app
            .post_as(
                &r.op,
                "/api/v1/market/orders",
                &order(&buyer, "buy", "36.00", 1, "gtc"),
            )
            .await;
        assert_eq!(
            (status, p["param"].as_str()),
            (404, Some("organization_id")),
            "{p}"
        );
        // Replays: the same order answers the first; another body is refused.
        let first = json!({"organization_id": buyer, "client_order_id": "same", "instrument": code,
                           "side": "buy", "price": "35.00", "quantity": "1"});
        let (status, o1) = app
            .post_as(&buyer_op, "/api/v1/market/orders", &first)
            .await;
        assert_eq!(status, 201, "{o1}");
        let (status, o2) = app
            .post_as(&buyer_op, "/api/v1/market/orders", &first)
            .await;
        assert_eq!(
            (status, o2["replayed"].as_bool(), o2["order"]["id"].clone()),
            (200, Some(true), o1["order"]["id"].clone())
        );
        let mut other = first.clone();
        other["quantity"] = json!("2");
        let (status, p) = app
            .post_as(&buyer_op, "/api/v1/market/orders", &other)
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("id_reused")),
            "{p}"
        );

        // A day order lives until the close.
        let (status, day_order) = app
            .post_as(
                &buyer_op,
                "/api/v1/market/orders",
                &order(&buyer, "buy", "34.00", 2, "day"),
            )
            .await;
        assert_eq!(
            (status, day_order["order"]["status"].as_str()),
            (201, Some("open")),
            "{day_order}"
        );
        assert_eq!(
            balance(&app, &buyer_op, &buyer_account, "cash:CNY").await.1,
            3_500 + 6_800
        );

        // Own orders never trade: the crossing rest is cancelled.
        let (status, own) = app
            .post_as(
                &r.op,
                "/api/v1/market/orders",
                &order(&seller, "buy", "36.50", 10, "gtc"),
            )
            .await;
        assert_eq!(status, 201, "{own}");
        assert_eq!(
            (
                own["order"]["status"].as_str(),
                own["order"]["reason"].as_str()
            ),
            (Some("cancelled"), Some("self_trade"))
        );
        assert_eq!(
            balance(&app, &r.op, &seller_account, "cash:CNY").await,
            (paid, 0)
        );

        // The next trading day the bought units can be sold; an ioc rest is
        // cancelled and gives back what it held.
        app.clock.advance(chrono::Duration::days(1));
        let buyer_op = app.token("buyer@lz.cn").await;
        let seller_op = app.token("forest1@lz.cn").await;
        let gov = app.token("gov1@tph.cn").await;
        let (_, pos) = app.get_as(&buyer_op, &positions_path).await;
        assert_eq!(
            (
                pos["positions"][0]["locked_t_plus_one"].as_str(),
                pos["positions"][0]["sellable"].as_str()
            ),
            (Some("0"), Some("120")),
            "the next trading day: {pos}"
        );
        // Monday closed at 15:00: VWAP of the day's book trades, the bar,
        // the day order expired, the bands moved.
        let bars_path = format!("/api/v1/market/instruments/{code}/bars");
        let mut bars = serde_json::Value::Null;
        for _ in 0..100 {
            bars = app.get(&bars_path).await.json().await.unwrap();
            if !bars["data"].as_array().unwrap().is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let monday = &bars["data"][0];
        assert_eq!(
            (
                monday["open"].as_str(),
                monday["high"].as_str(),
                monday["low"].as_str()
            ),
            (Some("36.00"), Some("36.50"), Some("36.00")),
            "{bars}"
        );
        // (50 × 36.00 + 70 × 36.50) / 120 = 36.2916…
        assert_eq!(
            (monday["close"].as_str(), monday["volume"].as_str()),
            (Some("36.29"), Some("120")),
            "{bars}"
        );
        assert_eq!(
            (
                monday["turnover"].as_str(),
                monday["previous_close"].as_str()
            ),
            (Some("435500"), Some("36.00"))
        );
        let csv = app
            .get(&format!("{bars_path}?format=csv"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            csv.starts_with("instrument,day,open,high,low,close,"),
            "{csv}"
        );
        let i: serde_json::Value = app
            .get(&format!("/api/v1/market/instruments/{code}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            (
                i["reference_price"].as_str(),
                i["band"]["low"].as_str(),
                i["band"]["high"].as_str()
            ),
            (Some("36.29"), Some("32.67"), Some("39.91")),
            "{i}"
        );
        let (_, expired) = app
            .get_as(
                &buyer_op,
                &format!(
                    "/api/v1/market/orders/{}",
                    day_order["order"]["id"].as_str().unwrap()
                ),
            )
            .await;
        assert_eq!(expired["order"]["status"], "expired", "{expired}");
        assert_eq!(
            balance(&app, &buyer_op, &buyer_account, "cash:CNY").await.1,
            3_500
        );
        let (status, s) = app
            .post_as(
                &buyer_op,
                "/api/v1/market/orders",
                &order(&buyer, "sell", "36.40", 10, "ioc"),
            )
            .await;
        assert_eq!(status, 201, "{s}");
        assert_eq!(
            (s["order"]["status"].as_str(), s["order"]["reason"].as_str()),
            (Some("cancelled"), Some("ioc")),
            "{s}"
        );
        assert_eq!(
            balance(&app, &buyer_op, &buyer_account, &credits).await,
            (120_000_000, 0)
        );

        // Cancelling gives back the units; only once.
        let s1_id = s1["order"]["id"].as_str().unwrap();
        let (status, c) = app
            .post_as(
                &seller_op,
                &format!("/api/v1/market/orders/{s1_id}/cancel"),
                &json!(null),
            )
            .await;
        assert_eq!(
            (status, c["status"].as_str(), c["remaining"].as_str()),
            (200, Some("cancelled"), Some("30")),
            "{c}"
        );
        let (status, p) = app
            .post_as(
                &seller_op,
                &format!("/api/v1/market/orders/{s1_id}/cancel"),
                &json!(null),
            )
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("order_not_open")),
            "{p}"
        );
        let (status, _) = app
            .post_as(
                &buyer_op,
                &format!("/api/v1/market/orders/{s1_id}/cancel"),
                &json!(null),
            )
            .await;
        assert_eq!(status, 404, "another organisation's order looks absent");
        assert_eq!(
            balance(&app, &seller_op, &seller_account, &credits).await,
            (held_by_seller - 120_000_000, 0)
        );

        // Picks (点选): a chosen order among the best five levels, at its
        // price, whatever its time priority.
        for (k, price) in ["36.20", "36.30", "36.40", "36.50", "36.60", "36.70"]
            .iter()
            .enumerate()
        {
            let quantity = if k == 0 { 20 } else { 1 };
            let (status, o) = app
                .post_as(
                    &seller_op,
                    "/api/v1/market/orders",
                    &order(&seller, "sell", price, quantity, "gtc"),
                )
                .await;
            assert_eq!(status, 201, "{o}");
        }
        let (status, pickable) = app
            .get_as(
                &buyer_op,
                &format!("/api/v1/market/instruments/{code}/orders"),
            )
            .await;
        assert_eq!(status, 200, "{pickable}");
        let find = |price: &str, side: &str| {
            pickable["data"]
                .as_array()
                .unwrap()
                .iter()
                .find(|o| o["price"] == price && o["side"] == side)
                .unwrap_or_else(|| panic!("{price} {side} in {pickable}"))["id"]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert!(!pickable.to_string().contains(&seller), "never who");
        let ask = find("36.20", "sell");
        let bid = find("35.00", "buy");
        let (status, _) = app
            .get_as(
                &buyer_op,
                &format!("/api/v1/market/orders?organization_id={seller}&status=open"),
            )
            .await;
        assert_eq!(status, 404, "another organisation's orders are not listed");
        let pick = |org: &str, order_id: &str, quantity: &str, id: &str| json!({"organization_id": org, "client_order_id": id, "order_id": order_id, "quantity": quantity});
        let (status, p) = app
            .post_as(
                &buyer_op,
                "/api/v1/market/picks",
                &pick(&buyer, &ask, "5", "p-1"),
            )
            .await;
        assert_eq!(status, 201, "{p}");
        assert_eq!(
            (
                p["order"]["kind"].as_str(),
                p["order"]["status"].as_str(),
                p["trades"][0]["method"].as_str(),
                p["trades"][0]["price"].as_str()
            ),
            (Some("pick"), Some("filled"), Some("pick"), Some("36.20")),
            "{p}"
        );
        let (status, p) = app
            .post_as(
                &buyer_op,
                "/api/v1/market/picks",
                &pick(&buyer, &ask, "16", "p-2"),
            )
            .await;
        assert_eq!(
            (status, p["param"].as_str()),
            (422, Some("quantity")),
            "{p}"
        );
        let (status, p) = app
            .post_as(
                &seller_op,
                "/api/v1/market/picks",
                &pick(&seller, &ask, "1", "p-3"),
            )
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("self_trade")),
            "{p}"
        );
        let (_, seller_orders) = app
            .get_as(
                &seller_op,
                &format!("/api/v1/market/orders?organization_id={seller}&status=open"),
            )
            .await;
        let sixth = seller_orders["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["price"] == "36.70")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (status, p) = app
            .post_as(
                &buyer_op,
                "/api/v1/market/picks",
                &pick(&buyer, &sixth, "1", "p-4"),
            )
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("not_pickable")),
            "{p}"
        );
        // The seller takes the buyer's bid the same way.
        let (status, p) = app
            .post_as(
                &seller_op,
                "/api/v1/market/picks",
                &pick(&seller, &bid, "1", "p-5"),
            )
            .await;
        assert_eq!(
            (status, p["trades"][0]["price"].as_str()),
            (201, Some("35.00")),
            "{p}"
        );
        let (status, p) = app
            .post_as(
                &seller_op,
                "/api/v1/market/picks",
                &pick(&seller, &bid, "1", "p-6"),
            )
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("order_not_open")),
            "{p}"
        );

        // A suspended instrument takes no orders.
        let (status, _) = app
            .post_as(
                &gov,
                &format!("/api/v1/market/instruments/{code}/suspend"),
                &json!({"reason": "核查"}),
            )
            .await;
        assert_eq!(status, 200);
        let (status, p) = app
            .post_as(
                &buyer_op,
                "/api/v1/market/orders",
                &order(&buyer, "buy", "36.00", 1, "gtc"),
            )
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("instrument_suspended")),
            "{p}"
        );

        // Participants see their own orders and trades.
        let (status, mine) = app
            .get_as(
                &buyer_op,
                &format!("/api/v1/market/trades?organization_id={buyer}"),
            )
            .await;
        assert_eq!(
            (status, mine["data"].as_array().map(Vec::len)),
            (200, Some(4)),
            "{mine}"
        );
        let (status, open) = app
            .get_as(
                &buyer_op,
                &format!("/api/v1/market/orders?organization_id={buyer}&status=open"),
            )
            .await;
        assert_eq!(
            (status, open["data"].as_array().map(Vec::len)),
            (200, Some(0)),
            "{open}"
        );

        // The buyer retires bought credits: the certificate names the batch.
        let (status, ret) = app
            .post_as(
                &buyer_op,
                "/api/v1/retirements",
                &json!({"retirement_id": uuid::Uuid::new_v4(), "account_id": buyer_account, "batch_id": batch_id,
                        "quantity_g": "10000000", "beneficiary": "某企业", "purpose": "2026 年度碳中和"}),
            )
            .await;
        assert_eq!(
            (status, ret["batch_id"].as_str()),
            (201, Some(batch_id)),
            "{ret}"
        );
    }
}

/// The server reads the resting orders a page at a time: an order that
/// crosses more of them than one page holds fills through them all, an
/// `ioc` one included.
#[tokio::test]
async fn an_order_fills_through_more_resting_orders_than_one_page() {
    let app = spawn_app_with(any_backend(), |s| {
        s.registry.notice_working_days = 0;
        s.market.round_the_clock = true;
    })
    .await;
    let r = registry(&app, 1).await;
    let (_, batch) = issued_forest_batch(&app, &r, "LZ-P-1").await;
    let code = batch["instrument"].as_str().unwrap().to_string();
    let (buyer_org, buyer_op) = enterprise(&app, &r.g, "pages@lz.cn", 13).await;
    let buyer = buyer_org["id"].as_str().unwrap();
    let (bank_id, teller) = bank(&app, &r.g, 1).await;
    let (status, _) = app
        .post_as(
            &teller,
            "/api/v1/market/deposits",
            &json!({"bank_id": bank_id, "reference": "P-1", "organization_id": buyer, "amount": "10000000"}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = app
        .post_as(
            &r.g.gov,
            "/api/v1/market/instruments",
            &json!({"code": code, "reference_price": "36.00"}),
        )
        .await;
    assert_eq!(status, 201);
    for n in 0..120 {
        let (status, o) = app
            .post_as(
                &r.op,
                "/api/v1/market/orders",
                &json!({"organization_id": r.org_id(), "client_order_id": format!("s-{n}"), "instrument": code,
                        "side": "sell", "price": "36.00", "quantity": "1"}),
            )
            .await;
        assert_eq!(status, 201, "{o}");
    }
    let (status, b) = app
        .post_as(
            &buyer_op,
            "/api/v1/market/orders",
            &json!({"organization_id": buyer, "client_order_id": "b-1", "instrument": code,
                    "side": "buy", "price": "36.00", "quantity": "110", "time_in_force": "ioc"}),
        )
        .await;
    assert_eq!(status, 201, "{b}");
    assert_eq!(
        (
            b["order"]["status"].as_str(),
            b["order"]["filled"].as_str(),
            b["trades"].as_array().map(Vec::len)
        ),
        (Some("filled"), Some("110"), Some(110)),
        "{}",
        b["order"]
    );
    let depth: serde_json::Value = app
        .get(&format!("/api/v1/market/instruments/{code}/book"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        depth["asks"],
        json!([{"price": "36.00", "quantity": "10", "orders": 10}]),
        "{depth}"
    );
}

/// Orders of one instrument queue in its lane and are placed together in
/// one transaction: while the instrument's row is locked elsewhere, what
/// arrives waits (up to `queue_orders`, then 503); once free, a refused
/// order in the batch leaves the others placed, and a client id used twice
/// in one batch answers the first.
#[tokio::test]
async fn orders_queue_in_their_instruments_lane() {
    use std::time::Duration;
    for backend in backends() {
        let app = spawn_app_with(backend, |s| {
            s.registry.notice_working_days = 0;
            s.market.round_the_clock = true;
            s.market.queue_orders = 5;
        })
        .await;
        let (code, (seller, seller_op), (buyer, buyer_op)) =
            crate::market_methods::two_traders(&app).await;
        let order = |org: &str, id: &str, side: &str, price: &str, quantity: &str| {
            json!({"organization_id": org, "client_order_id": id, "instrument": code,
                   "side": side, "price": price, "quantity": quantity})
        };
        let (status, resting) = app
            .post_as(
                &seller_op,
                "/api/v1/market/orders",
                &order(&seller, "s-0", "sell", "36.50", "10"),
            )
            .await;
        assert_eq!(status, 201, "{resting}");

        // Someone else holds the instrument's row (SQLite: the write lock).
        let blocker = hold_instrument_row(&app, &code).await;
        // Sent 100 ms apart: the lane has taken the first and waits for the
        // row; the others queue, in this order.
        let sent = [
            (&buyer_op, order(&buyer, "b-a", "buy", "36.50", "1")),
            (&buyer_op, order(&buyer, "b-b", "buy", "36.00", "99999")),
            // Whom an order is for is checked in the batch, alone.
            (&buyer_op, order(&seller, "b-x", "sell", "36.00", "1")),
            (&seller_op, order(&seller, "s-c", "sell", "37.00", "5")),
            (&seller_op, order(&seller, "s-c", "sell", "37.00", "5")),
            (&seller_op, order(&seller, "s-c", "sell", "37.10", "5")),
        ];
        let app = &app;
        let queued = send_queued(app, &sent);
        let full = async {
            tokio::time::sleep(Duration::from_millis(1000)).await;
            let res = app
                .send(
                    reqwest::Method::POST,
                    "/api/v1/market/orders",
                    Some(&seller_op),
                    Some(&order(&seller, "s-e", "sell", "38.00", "1")),
                )
                .await;
            let retry = res.headers().get("retry-after").cloned();
            let status = res.status().as_u16();
            let p: serde_json::Value = res.json().await.unwrap();
            // Only now let the lane go on.
            blocker.commit().await.unwrap();
            (status, p, retry)
        };
        let (answers, (full_status, full, retry)) = tokio::join!(queued, full);
        let [a, b, x, c, c_again, c_other]: [(u16, serde_json::Value); 6] =
            answers.try_into().unwrap();

        assert_eq!(
            (full_status, full["code"].as_str()),
            (503, Some("unavailable")),
            "{full}"
        );
        assert!(retry.is_some(), "a full lane says when to retry");
        assert_eq!(a.0, 201, "{}", a.1);
        assert_eq!(
            (
                a.1["order"]["status"].as_str(),
                a.1["trades"].as_array().map(Vec::len)
            ),
            (Some("filled"), Some(1)),
            "{}",
            a.1
        );
        assert_eq!(
            (b.0, b.1["code"].as_str()),
            (409, Some("insufficient_cash")),
            "{}",
            b.1
        );
        assert_eq!(
            (x.0, x.1["param"].as_str()),
            (404, Some("organization_id")),
            "{}",
            x.1
        );
        assert_eq!(
            (c.0, c.1["order"]["status"].as_str()),
            (201, Some("open")),
            "{}",
            c.1
        );
        assert_eq!(
            (
                c_again.0,
                c_again.1["replayed"].as_bool(),
                &c_again.1["order"]["id"]
            ),
            (200, Some(true), &c.1["order"]["id"]),
            "{}",
            c_again.1
        );
        assert_eq!(
            (c_other.0, c_other.1["code"].as_str()),
            (409, Some("id_reused")),
            "{}",
            c_other.1
        );
        assert!(
            c.1["order"]["seq"].as_i64() > a.1["order"]["seq"].as_i64(),
            "queued in arrival order: {} then {}",
            a.1["order"],
            c.1["order"]
        );

        // What was refused holds nothing; what rests holds its own.
        let (status, mine) = app
            .get_as(
                &buyer_op,
                &format!("/api/v1/market/orders?organization_id={buyer}"),
            )
            .await;
        assert_eq!(status, 200, "{mine}");
        assert_eq!(mine["data"].as_array().map(Vec::len), Some(1), "{mine}");
        let buyer_account = app
            .get_as(&buyer_op, &format!("/api/v1/organizations/{buyer}"))
            .await
            .1["account_id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            balance(app, &buyer_op, &buyer_account, "cash:CNY").await,
            (100_000_000 - 3_650, 0)
        );
        let (_, sells) = app
            .get_as(
                &seller_op,
                &format!("/api/v1/market/orders?organization_id={seller}&status=open"),
            )
            .await;
        let open: Vec<(&str, &str)> = sells["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["client_order_id"].as_str().unwrap(),
                    o["remaining"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(open.len(), 2, "{sells}");
        assert!(
            open.contains(&("s-0", "9")) && open.contains(&("s-c", "5")),
            "{sells}"
        );
        // The refused order was never placed: its id is free.
        let (status, e) = app
            .post_as(
                &seller_op,
                "/api/v1/market/orders",
                &order(&seller, "s-e", "sell", "38.00", "1"),
            )
            .await;
        assert_eq!((status, e["replayed"].as_bool()), (201, Some(false)), "{e}");

        // A code nobody listed: refused, and no lane opens accounts for it.
        let mut unlisted = order(&seller, "s-x", "sell", "36.00", "1");
        unlisted["instrument"] = json!("TPH-PRJ-2020");
        let (status, p) = app
            .post_as(&seller_op, "/api/v1/market/orders", &unlisted)
            .await;
        assert_eq!(
            (status, p["code"].as_str(), p["param"].as_str()),
            (404, Some("not_found"), Some("instrument")),
            "{p}"
        );
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let fee_accounts: Vec<String> = tanpuhui_server::accounts::entity::Entity::find()
            .filter(tanpuhui_server::accounts::entity::Column::Code.starts_with("fees:"))
            .all(&app.db)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|a| a.code)
            .collect();
        assert_eq!(fee_accounts, vec![format!("fees:market:{code}")]);
    }
}

/// Sends orders `sent` (token, body): the first at once, so that its lane
/// takes it and waits, the others from 400 ms on, 100 ms apart, so that
/// they queue in this order. Their answers, in the same order.
async fn send_queued(
    app: &crate::helpers::TestApp,
    sent: &[(&String, serde_json::Value)],
) -> Vec<(u16, serde_json::Value)> {
    futures_util::future::join_all(
        sent.iter()
            .enumerate()
            .map(|(k, (token, body))| async move {
                let wait = if k == 0 { 0 } else { 300 + 100 * k as u64 };
                tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
                app.post_as(token, "/api/v1/market/orders", body).await
            }),
    )
    .await
}

/// A transaction of another writer holding instrument `code`'s row
/// (SQLite: the write lock) until it ends.
async fn hold_instrument_row(
    app: &crate::helpers::TestApp,
    code: &str,
) -> sea_orm::DatabaseTransaction {
    let blocker = tanpuhui_server::db::begin_write(&app.db).await.unwrap();
    sea_orm::ConnectionTrait::execute_raw(
        &blocker,
        sea_orm::Statement::from_string(
            sea_orm::ConnectionTrait::get_database_backend(&blocker),
            format!("UPDATE instruments SET last_sequence = last_sequence WHERE code = '{code}'"),
        ),
    )
    .await
    .unwrap();
    blocker
}

/// With one lane worker, requests of two instruments that queued while it
/// waited go in one batch: each is answered as on its own — a client id
/// first used on one instrument is refused on the other, an order without
/// units is refused alone.
#[tokio::test]
async fn one_batch_takes_several_instruments_queued_orders() {
    use std::time::Duration;
    for backend in backends() {
        let app = spawn_app_with(backend, |s| {
            s.registry.notice_working_days = 0;
            s.market.round_the_clock = true;
            s.market.lane_workers = 1;
        })
        .await;
        let r = registry(&app, 1).await;
        let (a, _, _) = crate::market_methods::listed_forest(&app, &r, "LZ-M-1").await;
        let b = "TPH-PRJ-2025".to_string();
        let (status, i) = app
            .post_as(
                &r.g.gov,
                "/api/v1/market/instruments",
                &json!({"code": b, "reference_price": "36.00"}),
            )
            .await;
        assert_eq!(status, 201, "{i}");
        let seller = r.org_id().to_string();
        let (buyer_org, buyer_op) = enterprise(&app, &r.g, "buyer@lz.cn", 12).await;
        let buyer = buyer_org["id"].as_str().unwrap().to_string();
        let (bank_id, teller) = bank(&app, &r.g, 1).await;
        let (status, d) = app
            .post_as(
                &teller,
                "/api/v1/market/deposits",
                &json!({"bank_id": bank_id, "reference": "M-1", "organization_id": buyer, "amount": "100000000"}),
            )
            .await;
        assert_eq!(status, 201, "{d}");
        let order = |org: &str, code: &str, id: &str, side: &str, quantity: &str| {
            json!({"organization_id": org, "client_order_id": id, "instrument": code,
                   "side": side, "price": "36.50", "quantity": quantity})
        };
        let (status, resting) = app
            .post_as(
                &r.op,
                "/api/v1/market/orders",
                &order(&seller, &a, "s-0", "sell", "10"),
            )
            .await;
        assert_eq!(status, 201, "{resting}");

        let blocker = hold_instrument_row(&app, &a).await;
        // The worker takes the first and waits for the row; the rest
        // queue, 100 ms apart, for both instruments.
        let sent = [
            (&buyer_op, order(&buyer, &a, "b-a", "buy", "1")),
            (&buyer_op, order(&buyer, &b, "b-1", "buy", "2")),
            (&buyer_op, order(&buyer, &b, "b-2", "buy", "3")),
            (&buyer_op, order(&buyer, &a, "b-2", "buy", "1")),
            (&r.op, order(&seller, &b, "s-b", "sell", "1")),
            (&buyer_op, order(&buyer, &a, "b-3", "buy", "1")),
        ];
        let app = &app;
        let queued = send_queued(app, &sent);
        let release = async {
            tokio::time::sleep(Duration::from_millis(1100)).await;
            blocker.commit().await.unwrap();
        };
        let (answers, ()) = tokio::join!(queued, release);
        let got: Vec<(u16, Option<&str>)> = answers
            .iter()
            .map(|(status, v)| {
                (
                    *status,
                    v["order"]["status"].as_str().or(v["code"].as_str()),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (201, Some("filled")),
                (201, Some("open")),
                (201, Some("open")),
                (409, Some("id_reused")),
                (409, Some("insufficient_units")),
                (201, Some("filled")),
            ],
            "{answers:?}"
        );
        // Both instruments' books as the answers say.
        for (code, side, level) in [
            (
                &b,
                "bids",
                json!([{"price": "36.50", "quantity": "5", "orders": 2}]),
            ),
            (
                &a,
                "asks",
                json!([{"price": "36.50", "quantity": "8", "orders": 1}]),
            ),
        ] {
            let depth: serde_json::Value = app
                .get(&format!("/api/v1/market/instruments/{code}/book"))
                .await
                .json()
                .await
                .unwrap();
            assert_eq!(depth[side], level, "{depth}");
        }
    }
}

/// A cancel and an order in one batch: the cancelled bid leaves the book
/// and the sell trades with the bid behind it (whose cash the batch must
/// have taken in hand, though the sell's quantity alone would not have
/// reached it).
#[tokio::test]
async fn a_batch_trades_past_a_bid_it_cancels() {
    use std::time::Duration;
    for backend in backends() {
        let app = spawn_app_with(backend, |s| {
            s.registry.notice_working_days = 0;
            s.market.round_the_clock = true;
        })
        .await;
        let (code, (seller, seller_op), (buyer, buyer_op)) =
            crate::market_methods::two_traders(&app).await;
        let order = |org: &str, id: &str, side: &str, price: &str| {
            json!({"organization_id": org, "client_order_id": id, "instrument": code,
                   "side": side, "price": price, "quantity": "10"})
        };
        let mut bids = Vec::new();
        for (id, price) in [("b-best", "36.00"), ("b-next", "35.90")] {
            let (status, b) = app
                .post_as(
                    &buyer_op,
                    "/api/v1/market/orders",
                    &order(&buyer, id, "buy", price),
                )
                .await;
            assert_eq!(status, 201, "{b}");
            bids.push(b["order"]["id"].as_str().unwrap().to_string());
        }
        // Both requests wait in the lane for the instrument's row.
        let blocker = tanpuhui_server::db::begin_write(&app.db).await.unwrap();
        sea_orm::ConnectionTrait::execute_unprepared(
            &blocker,
            &format!("UPDATE instruments SET last_sequence = last_sequence WHERE code = '{code}'"),
        )
        .await
        .unwrap();
        let app = &app;
        // The lane takes a first order into a batch of its own and waits
        // for the row; the cancel and the sell queue behind it, together.
        let first = async {
            app.post_as(
                &seller_op,
                "/api/v1/market/orders",
                &order(&seller, "s-0", "sell", "37.00"),
            )
            .await
        };
        let cancel = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            app.post_as(
                &buyer_op,
                &format!("/api/v1/market/orders/{}/cancel", bids[0]),
                &json!({}),
            )
            .await
        };
        let sell = async {
            tokio::time::sleep(Duration::from_millis(400)).await;
            app.post_as(
                &seller_op,
                "/api/v1/market/orders",
                &order(&seller, "s-1", "sell", "35.90"),
            )
            .await
        };
        let release = async {
            tokio::time::sleep(Duration::from_millis(900)).await;
            blocker.commit().await.unwrap();
        };
        let ((first_status, _), (cancel_status, cancelled), (sell_status, sold), ()) =
            tokio::join!(first, cancel, sell, release);
        assert_eq!(first_status, 201);
        assert_eq!(cancel_status, 200, "{cancelled}");
        assert_eq!(cancelled["status"], "cancelled");
        assert_eq!(sell_status, 201, "{sold}");
        assert_eq!(sold["order"]["status"], "filled", "{sold}");
        let trades = sold["trades"].as_array().unwrap();
        assert_eq!(trades.len(), 1, "{sold}");
        assert_eq!(trades[0]["price"], "35.90");
        let (_, next) = app
            .get_as(&buyer_op, &format!("/api/v1/market/orders/{}", bids[1]))
            .await;
        assert_eq!(next["order"]["status"], "filled", "{next}");
    }
}
