//! Land indicators trade in hundredths of a mu at a tick of one yuan per
//! mu: quantities are decimal units at the API, whole steps inside, and
//! every value — trades, the reserve's payments, pledge valuations — is
//! exact.

use serde_json::{json, Value};

use crate::helpers::{
    backends, balance, bureau, enterprise, government, org_account, reserve_platform,
    spawn_app_with, TestApp,
};
use crate::pricing::{deposit, funded_buyer, listed_at_guidance};
use crate::rights_scenario::ok;

async fn refused(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    let (status, v) = app.post_as(token, path, &body).await;
    (status, v["param"].clone())
}

#[tokio::test]
async fn land_trades_in_hundredths_of_a_mu_at_a_yuan_tick() {
    for backend in backends() {
        let app = spawn_app_with(backend, |s| s.market.round_the_clock = true).await;
        let year = chrono::Datelike::year(&app.now());
        let code = format!("TPH-LLS-{year}");
        let g = government(&app, 1).await;
        let (land, nr) = bureau(&app, &g, "natural_resources", 1).await;
        let (reserve, keeper) = reserve_platform(&app, &g, 1).await;
        let f = funded_buyer(&app, &g, 2).await;
        deposit(&app, &f, &reserve, "D-R").await;
        let (a_org, a_op) = enterprise(&app, &g, "a@lz.cn", 71).await;
        let a = a_org["id"].as_str().unwrap().to_string();
        listed_at_guidance(
            &app,
            &g.gov,
            &code,
            json!({"price": "35000.00", "reason": "城乡建设用地增减挂钩节余指标指导价"}),
        )
        .await;
        let i: Value = app
            .get(&format!("/api/v1/market/instruments/{code}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            (
                i["unit"].as_str(),
                i["tick"].as_str(),
                i["quantity_step"].as_str(),
                i["band"]["low"].as_str(),
                i["band"]["high"].as_str()
            ),
            (
                Some("mu"),
                Some("1.00"),
                Some("0.01"),
                Some("31500.00"),
                Some("38500.00")
            ),
            "{i}"
        );

        // The bureau confirms 10.25 mu of linkage surplus for A; a
        // thousandth of a mu is no step.
        let confirm = |q: &str| {
            json!({"bureau_organization_id": land, "organization_id": a, "instrument": code,
                   "quantity": q, "origin": "verified", "identifier": format!("增减挂钩-{q}")})
        };
        let path = "/api/v1/rights/allocations";
        assert_eq!(
            refused(&app, &nr, path, confirm("10.001")).await,
            (422, json!("quantity"))
        );
        let alloc = ok(&app, &nr, path, confirm("10.25"), 201).await;
        let batch = format!("credit:{}", alloc["batch_id"].as_str().unwrap());
        let a_account = org_account(&app, &a_op, &a).await;
        assert_eq!(balance(&app, &a_op, &a_account, &batch).await, (102_500, 0));

        // Orders: whole steps, prices on the yuan.
        let order = |org: &str, id: &str, side: &str, price: &str, q: &str| {
            json!({"organization_id": org, "client_order_id": id, "instrument": code,
                   "side": side, "price": price, "quantity": q, "time_in_force": "gtc"})
        };
        let orders = "/api/v1/market/orders";
        assert_eq!(
            refused(
                &app,
                &a_op,
                orders,
                order(&a, "s-0", "sell", "35000.50", "0.25")
            )
            .await,
            (422, json!("price"))
        );
        assert_eq!(
            refused(
                &app,
                &a_op,
                orders,
                order(&a, "s-0", "sell", "35000.00", "0.005")
            )
            .await,
            (422, json!("quantity"))
        );
        let sell = ok(
            &app,
            &a_op,
            orders,
            order(&a, "s-1", "sell", "35000.00", "0.25"),
            201,
        )
        .await;
        assert_eq!(sell["order"]["quantity"], "0.25", "{sell}");
        let bought = ok(
            &app,
            &f.buyer_op,
            orders,
            order(&f.buyer, "b-1", "buy", "35000", "0.25"),
            201,
        )
        .await;
        let t = &bought["trades"][0];
        // 0.25 mu at 35,000 yuan a mu: 8,750.00 yuan, to the fen.
        assert_eq!(
            (
                bought["order"]["status"].as_str(),
                t["quantity"].as_str(),
                t["value"].as_str()
            ),
            (Some("filled"), Some("0.25"), Some("875000")),
            "{bought}"
        );
        let b_account = org_account(&app, &f.buyer_op, &f.buyer).await;
        assert_eq!(
            balance(&app, &f.buyer_op, &b_account, &batch).await,
            (2_500, 0)
        );

        // The reserve buys back half a mu at the guidance price.
        let offer = ok(
            &app,
            &a_op,
            "/api/v1/reserve/buy-backs",
            json!({"organization_id": a, "reserve_organization_id": reserve, "client_id": "BB-1",
                   "instrument": code, "quantity": "0.5"}),
            201,
        )
        .await;
        assert_eq!(
            (offer["quantity"].as_str(), offer["value"].as_str()),
            (Some("0.5"), Some("17500.00")),
            "{offer}"
        );
        let done = ok(
            &app,
            &keeper,
            &format!(
                "/api/v1/reserve/operations/{}/accept",
                offer["id"].as_str().unwrap()
            ),
            json!({"organization_id": reserve}),
            200,
        )
        .await;
        assert_eq!(done["status"], "accepted", "{done}");

        // 0.75 mu pledged to B's bank: worth 26,250.00 yuan, so a loan of
        // at most 18,375.00 at a ratio of 0.7.
        let p = ok(
            &app,
            &a_op,
            "/api/v1/pledges",
            json!({"organization_id": a, "pledgee_organization_id": f.bank_id, "client_id": "P-1",
                   "instrument": code, "quantity": "0.75"}),
            201,
        )
        .await;
        assert_eq!(p["quantity"], "0.75", "{p}");
        let confirm = format!("/api/v1/pledges/{}/confirm", p["id"].as_str().unwrap());
        let matures = format!("{}-06-30", year + 1);
        let loan = |fen: &str| json!({"organization_id": f.bank_id, "loan_amount": fen, "matures_on": matures});
        let (status, v) = app.post_as(&f.teller, &confirm, &loan("1837501")).await;
        assert_eq!(
            (status, v["code"].as_str()),
            (409, Some("loan_over_ltv")),
            "{v}"
        );
        ok(&app, &f.teller, &confirm, loan("1837500"), 200).await;

        // What A holds now: 10.25 less 0.25 sold and 0.5 bought back.
        let (status, pos) = app
            .get_as(
                &a_op,
                &format!("/api/v1/market/positions?organization_id={a}"),
            )
            .await;
        assert_eq!(status, 200, "{pos}");
        let mine = pos["positions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["instrument"] == code.as_str())
            .unwrap_or_else(|| panic!("{pos}"));
        assert_eq!(
            (
                mine["units"].as_str(),
                mine["pledged"].as_str(),
                mine["sellable"].as_str()
            ),
            (Some("9.5"), Some("0.75"), Some("8.75")),
            "{pos}"
        );

        // A lot of a single step can be auctioned: the per-bidder cap is
        // half the lot, but at least a step.
        let closes = app.now() + chrono::Duration::hours(1);
        let lot = ok(
            &app,
            &a_op,
            "/api/v1/market/auctions",
            json!({"organization_id": a, "client_order_id": "L-1", "instrument": code,
                   "quantity": "0.01", "reserve_price": "35000.00", "min_bid_units": "0.01",
                   "opens_at": app.now().to_rfc3339(), "closes_at": closes.to_rfc3339()}),
            201,
        )
        .await;
        assert_eq!(
            (
                lot["auction"]["quantity"].as_str(),
                lot["auction"]["bidder_cap_units"].as_str()
            ),
            (Some("0.01"), Some("0.01")),
            "{lot}"
        );
        ok(
            &app,
            &f.buyer_op,
            &format!(
                "/api/v1/market/auctions/{}/bids",
                lot["auction"]["id"].as_str().unwrap()
            ),
            json!({"organization_id": f.buyer, "client_order_id": "B-L", "price": "35001.00",
                   "quantity": "0.01"}),
            201,
        )
        .await;
    }
}
