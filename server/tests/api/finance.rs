//! Green finance through the HTTP API: an enterprise pledges forest
//! credits to a bank, prices fall, a margin call is cured once and then
//! enforced by the reserve's take-over (the bank paid in full, the rest to
//! the enterprise); a project's future issuance pledged and held at
//! issuance; a second lien with consent, a guarantee paying its share of a
//! shortfall; and every refusal: moving pledged units, a second lien
//! without consent, a loan over the ratio, releases beyond repayment or
//! below the maintenance level, enforcement before default. Units and
//! cash are counted before and after.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate};
use serde_json::{json, Value};

use crate::helpers::{
    at, backends, balance, issued_report, next_monday, spawn_app_with, Backend, TestApp,
};
use crate::pricing::{deposit, forest, funded_buyer, listed_at_guidance};

const T: i64 = 1_000_000;

fn path(id: &Value, what: &str) -> String {
    format!("/api/v1/pledges/{}/{what}", id.as_str().unwrap())
}

async fn publish(app: &TestApp, gov: &str, code: &str, price: &str) {
    let (status, v) = app
        .post_as(
            gov,
            "/api/v1/guidance-prices",
            &json!({"instrument": code, "price": price, "tiers": [], "reason": "调整"}),
        )
        .await;
    assert_eq!(status, 201, "{v}");
}

/// An app whose registry decides at once and whose closes the test runs,
/// its clock at 10:00 on the coming Monday (answered too).
async fn market_week(backend: Backend) -> (TestApp, DateTime<FixedOffset>) {
    let app = spawn_app_with(backend, |s| {
        s.registry.notice_working_days = 0;
        s.market.close_check_secs = 3600;
        // Each day's staff sign in again.
        s.auth_rate_per_minute = 1_000;
    })
    .await;
    let monday = next_monday(&app);
    app.clock.set(at(monday, 10, 0));
    (app, monday)
}

/// Closes every trading day due (valuing pledges), as the background
/// loop would.
async fn close(app: &TestApp) -> usize {
    tanpuhui_server::market::close::run_due(
        &app.db,
        &Default::default(),
        &Default::default(),
        &Default::default(),
        app.now(),
    )
    .await
    .unwrap()
}

/// `code` listed at a guidance price of 36.00, a buyer funded by fixture
/// `n`'s bank, and `quantity` units of the registry enterprise's pledged to
/// that bank for `loan` fen until `matures` (applied and confirmed): the
/// buyer and its bank, and the pledge's id.
async fn pledged(
    app: &TestApp,
    r: &crate::helpers::Registry,
    code: &str,
    n: u32,
    quantity: &str,
    loan: &str,
    matures: NaiveDate,
) -> (crate::pricing::Funded, Value) {
    listed_at_guidance(
        app,
        &r.g.gov,
        code,
        json!({"price": "36.00", "reason": "基准"}),
    )
    .await;
    let funded = funded_buyer(app, &r.g, n).await;
    let (status, p) = app
        .post_as(
            &r.op,
            "/api/v1/pledges",
            &json!({"organization_id": r.org_id(), "pledgee_organization_id": funded.bank_id,
                    "client_id": "P-1", "instrument": code, "quantity": quantity}),
        )
        .await;
    assert_eq!(status, 201, "{p}");
    let (status, p) = app
        .post_as(
            &funded.teller,
            &path(&p["id"], "confirm"),
            &json!({"organization_id": funded.bank_id, "loan_amount": loan,
                    "matures_on": day(matures)}),
        )
        .await;
    assert_eq!(status, 200, "{p}");
    (funded, p["id"].clone())
}

async fn register(app: &TestApp, code: &str) -> Vec<Value> {
    let v: Value = app
        .get(&format!("/api/v1/public/pledges?instrument={code}"))
        .await
        .json()
        .await
        .unwrap();
    v.as_array().unwrap().clone()
}

async fn detail(app: &TestApp, token: &str, id: &Value) -> Value {
    let (status, d) = app
        .get_as(token, &format!("/api/v1/pledges/{}", id.as_str().unwrap()))
        .await;
    assert_eq!(status, 200, "{d}");
    d
}

/// Fresh tokens of fixture `n`'s enterprise operator, bank teller, reserve
/// keeper and government staff (the test clock outruns a token's life).
struct Staff {
    op: String,
    teller: String,
    keeper: String,
    gov: String,
}

async fn staff(app: &TestApp, n: u32) -> Staff {
    Staff {
        op: app.token(&format!("forest{n}@lz.cn")).await,
        teller: app.token(&format!("bank{n}@bank.cn")).await,
        keeper: app.token(&format!("reserve{n}@reserve.cn")).await,
        gov: app.token(&format!("gov{n}@tph.cn")).await,
    }
}

fn code_of(v: &Value) -> Option<&str> {
    v["code"].as_str()
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

#[tokio::test]
async fn a_pledge_is_called_cured_called_again_and_taken_over_by_the_reserve() {
    for backend in backends() {
        let (app, monday) = market_week(backend).await;
        let m = monday.date_naive();
        let (r, code, credits) = forest(&app, 81, "LZ-F-81").await;
        listed_at_guidance(
            &app,
            &r.g.gov,
            &code,
            json!({"price": "36.00", "reason": "基准"}),
        )
        .await;
        let funded = funded_buyer(&app, &r.g, 81).await;
        let (reserve, _) = crate::helpers::reserve_platform(&app, &r.g, 81).await;
        deposit(&app, &funded, &reserve, "D-R").await;
        let org = r.org_id().to_string();
        let account = r.account_id().to_string();
        let (issued, _) = balance(&app, &r.op, &account, &credits).await;

        // The enterprise applies; nothing is held until the bank confirms.
        let apply = json!({"organization_id": org, "pledgee_organization_id": funded.bank_id,
                           "client_id": "P-1", "instrument": code, "quantity": "1000"});
        let (status, p) = app.post_as(&r.op, "/api/v1/pledges", &apply).await;
        assert_eq!(
            (status, p["status"].as_str()),
            (201, Some("applied")),
            "{backend:?}: {p}"
        );
        let (status, again) = app.post_as(&r.op, "/api/v1/pledges", &apply).await;
        assert_eq!((status, &again["id"]), (200, &p["id"]));
        assert_eq!(balance(&app, &r.op, &account, &credits).await, (issued, 0));
        // The bank confirms 25,200.00 (0.7 of 1,000 × 36.00), due in a year.
        let matures = day(m + Duration::days(365));
        let confirm = json!({"organization_id": funded.bank_id, "loan_amount": "2520000",
                             "matures_on": matures});
        let (status, p) = app
            .post_as(&funded.teller, &path(&p["id"], "confirm"), &confirm)
            .await;
        assert_eq!((status, p["status"].as_str()), (200, Some("active")), "{p}");
        assert_eq!(
            (p["loan_amount"].as_str(), p["last_price"].as_str()),
            (Some("25200.00"), Some("36.00"))
        );
        assert_eq!(
            balance(&app, &r.op, &account, &credits).await,
            (issued, 1000 * T)
        );
        let (_, pos) = app
            .get_as(
                &r.op,
                &format!("/api/v1/market/positions?organization_id={org}"),
            )
            .await;
        let line = &pos["positions"][0];
        let sellable: i64 = line["sellable"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            (line["pledged"].as_str(), sellable),
            (Some("1000"), issued / T - 1000),
            "{pos}"
        );
        let id = p["id"].clone();
        // The register shows the encumbrance, never the loan.
        let lines = register(&app, &code).await;
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(
            (
                lines[0]["quantity"].as_str(),
                lines[0]["pledgee_organization_id"].as_str(),
                lines[0]["state"].as_str()
            ),
            (Some("1000"), Some(funded.bank_id.as_str()), Some("pledged"))
        );
        assert!(lines[0].get("loan_amount").is_none() && lines[0].get("outstanding").is_none());
        // Nobody else reads the pledge.
        let (status, _) = app
            .get_as(
                &funded.buyer_op,
                &format!("/api/v1/pledges/{}", id.as_str().unwrap()),
            )
            .await;
        assert_eq!(status, 404);

        // Monday's close at 36.00: covered.
        app.clock.set(at(monday + Duration::days(1), 0, 1));
        let st = staff(&app, 81).await;
        assert_eq!(close(&app).await, 1);
        let d = detail(&app, &st.op, &id).await;
        assert_eq!(d["valuations"][0]["called"], false, "{d}");
        // Tuesday the guidance price falls to 30.00: 30,000.00 < 25,200 ÷ 0.8.
        app.clock.set(at(monday + Duration::days(1), 10, 0));
        let st = staff(&app, 81).await;
        publish(&app, &st.gov, &code, "30.00").await;
        app.clock.set(at(monday + Duration::days(2), 0, 1));
        let st = staff(&app, 81).await;
        assert_eq!(close(&app).await, 1);
        assert_eq!(close(&app).await, 0, "one valuation per pledge and day");
        let d = detail(&app, &st.teller, &id).await;
        assert_eq!(
            (
                d["pledge"]["status"].as_str(),
                d["pledge"]["call_deadline"].as_str()
            ),
            (
                Some("margin_call"),
                Some(day(m + Duration::days(8))).as_deref()
            ),
            "{d}"
        );
        assert_eq!(d["valuations"][0]["value"], "30000.00");
        assert_eq!(
            register(&app, &code).await[0]["state"],
            "pledged",
            "calls are not public"
        );
        // Wednesday the enterprise adds 50 units: 1,050 × 30.00 × 0.8 = 25,200.00: cured.
        app.clock.set(at(monday + Duration::days(2), 10, 0));
        let st = staff(&app, 81).await;
        let top = json!({"organization_id": org, "reference": "TOP-1", "quantity": "50"});
        let (status, p) = app.post_as(&st.op, &path(&id, "top-ups"), &top).await;
        assert_eq!(
            (status, p["status"].as_str(), p["call_deadline"].as_str()),
            (200, Some("active"), None),
            "{p}"
        );
        let (status, _) = app.post_as(&st.op, &path(&id, "top-ups"), &top).await;
        assert_eq!(status, 200);
        assert_eq!(
            balance(&app, &st.op, &account, &credits).await,
            (issued, 1050 * T)
        );
        // The price falls again to 25.00: called at Wednesday's close.
        publish(&app, &st.gov, &code, "25.00").await;
        app.clock.set(at(monday + Duration::days(3), 0, 1));
        let st = staff(&app, 81).await;
        assert_eq!(close(&app).await, 1);
        let d = detail(&app, &st.op, &id).await;
        let deadline = day(m + Duration::days(9));
        assert_eq!(
            (
                d["pledge"]["status"].as_str(),
                d["pledge"]["call_deadline"].as_str()
            ),
            (Some("margin_call"), Some(deadline.as_str())),
            "{d}"
        );
        let kinds: Vec<&str> = d["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "applied",
                "confirmed",
                "margin_call",
                "topped_up",
                "cured",
                "margin_call"
            ]
        );
        // Not cured, but the deadline has not passed: no enforcement.
        let enforce = json!({"organization_id": funded.bank_id, "method": "reserve",
                             "reserve_organization_id": reserve});
        app.clock.set(at(monday + Duration::days(9), 14, 0));
        let st = staff(&app, 81).await;
        let (status, e) = app
            .post_as(&st.teller, &path(&id, "enforce"), &enforce)
            .await;
        assert_eq!(
            (status, code_of(&e)),
            (409, Some("enforcement_not_due")),
            "{e}"
        );
        // The day after the deadline the bank declares; the reserve takes over.
        app.clock.set(at(monday + Duration::days(10), 10, 0));
        let st = staff(&app, 81).await;
        let (status, p) = app
            .post_as(&st.teller, &path(&id, "enforce"), &enforce)
            .await;
        assert_eq!(
            (status, p["status"].as_str()),
            (200, Some("enforcing")),
            "{p}"
        );
        assert_eq!(register(&app, &code).await[0]["state"], "enforcing");
        let op = p["enforcement_id"].clone();
        let (status, o) = app
            .post_as(
                &st.op,
                &format!(
                    "/api/v1/reserve/operations/{}/withdraw",
                    op.as_str().unwrap()
                ),
                &json!({"organization_id": org}),
            )
            .await;
        assert_eq!(
            (status, code_of(&o)),
            (409, Some("operation_not_open")),
            "{o}"
        );
        let reserve_cash = |v: Value| {
            v["reserves"][0]["cash_available"]
                .as_str()
                .unwrap()
                .to_string()
        };
        let before: Value = app
            .get("/api/v1/public/reserve")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(reserve_cash(before), "1000000.00");
        let (status, o) = app
            .post_as(
                &st.keeper,
                &format!("/api/v1/reserve/operations/{}/accept", op.as_str().unwrap()),
                &json!({"organization_id": reserve}),
            )
            .await;
        assert_eq!(
            (status, o["status"].as_str(), o["value"].as_str()),
            (200, Some("accepted"), Some("26250.00")),
            "{o}"
        );
        assert_eq!(o["pledge_id"], id);
        // The bank is paid 25,200.00 in full, the enterprise the other 1,050.00.
        let d = detail(&app, &st.teller, &id).await;
        assert_eq!(
            (
                d["pledge"]["status"].as_str(),
                d["pledge"]["proceeds"].as_str(),
                d["pledge"]["outstanding"].as_str()
            ),
            (Some("enforced"), Some("25200.00"), Some("0.00")),
            "{d}"
        );
        assert_eq!(
            balance(&app, &st.op, &account, "cash:CNY").await,
            (105_000, 0)
        );
        let bank_account = crate::helpers::org_account(&app, &st.teller, &funded.bank_id).await;
        assert_eq!(
            balance(&app, &st.teller, &bank_account, "cash:CNY").await,
            (2_520_000, 0)
        );
        let after: Value = app
            .get("/api/v1/public/reserve")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(reserve_cash(after), "973750.00");
        // The units are the reserve's; nothing is held or pledged any more.
        assert_eq!(
            balance(&app, &st.op, &account, &credits).await,
            (issued - 1050 * T, 0)
        );
        assert!(register(&app, &code).await.is_empty());
    }
}

#[tokio::test]
async fn a_projects_future_issuance_is_pledged_and_held_at_issuance() {
    for backend in backends() {
        let (app, monday) = market_week(backend).await;
        let r = crate::helpers::registry(&app, 83).await;
        let (project, _) = crate::helpers::issued_forest_batch(&app, &r, "LZ-F-83").await;
        let project_id = project["id"].as_str().unwrap().to_string();
        let funded = funded_buyer(&app, &r.g, 83).await;
        let vintage = app.year() - 2;
        let code = format!("TPH-FOR-{vintage}");
        publish(&app, &r.g.gov, &code, "30.00").await;
        let org = r.org_id().to_string();
        let apply = |extra: Value| {
            let mut v = json!({"organization_id": org, "pledgee_organization_id": funded.bank_id,
                               "client_id": "F-1", "instrument": code, "quantity": "500"});
            v.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            v
        };
        // A share without a project, a project of another class or owner: refused.
        let (status, e) = app
            .post_as(&r.op, "/api/v1/pledges", &apply(json!({"share": "0.5"})))
            .await;
        assert_eq!((status, e["param"].as_str()), (422, Some("share")), "{e}");
        let (status, e) = app
            .post_as(&funded.buyer_op, "/api/v1/pledges",
                     &json!({"organization_id": funded.buyer, "pledgee_organization_id": funded.bank_id,
                             "client_id": "F-X", "instrument": code, "quantity": "1", "project_id": project_id}))
            .await;
        assert_eq!(
            (status, e["param"].as_str()),
            (404, Some("project_id")),
            "{e}"
        );
        let (status, e) = app
            .post_as(
                &r.op,
                "/api/v1/pledges",
                &apply(
                    json!({"project_id": project_id, "instrument": format!("TPH-PRJ-{vintage}")}),
                ),
            )
            .await;
        assert_eq!(
            (status, e["param"].as_str()),
            (422, Some("instrument")),
            "{e}"
        );
        // Half of each coming issuance of the vintage, up to 500 units.
        let (status, p) = app
            .post_as(
                &r.op,
                "/api/v1/pledges",
                &apply(json!({"project_id": project_id, "share": "0.5"})),
            )
            .await;
        assert_eq!(status, 201, "{p}");
        let matures = day(monday.date_naive() + Duration::days(200));
        let (status, p) = app
            .post_as(&funded.teller, &path(&p["id"], "confirm"),
                     &json!({"organization_id": funded.bank_id, "loan_amount": "1050000", "matures_on": matures}))
            .await;
        assert_eq!(
            (status, p["status"].as_str(), p["captured"].as_str()),
            (200, Some("active"), Some("0")),
            "{p}"
        );
        let lines = register(&app, &code).await;
        assert_eq!(lines.len(), 1);
        assert_eq!(
            (lines[0]["batch_id"].as_str(), lines[0]["quantity"].as_str()),
            (None, Some("500"))
        );
        // The issuance: 4,125 t credited; half is over 500, so 500 are held at once.
        let batch = issued_report(&app, &r, &project_id, vintage).await;
        assert_eq!(batch["instrument"].as_str(), Some(code.as_str()));
        let credits = format!("credit:{}", batch["id"].as_str().unwrap());
        let (posted, held) = balance(&app, &r.op, r.account_id(), &credits).await;
        assert_eq!(held, 500 * T, "posted {posted}");
        let d = detail(&app, &r.op, &p["id"]).await;
        assert_eq!(
            (d["pledge"]["captured"].as_str(), d["collateral"].as_str()),
            (Some("500"), Some("500")),
            "{d}"
        );
        let lines = register(&app, &code).await;
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(
            (
                lines[0]["batch_id"].as_str(),
                lines[0]["quantity"].as_str(),
                lines[0]["project_id"].as_str()
            ),
            (batch["id"].as_str(), Some("500"), Some(project_id.as_str()))
        );
        // Nothing ranks behind a pledge of future issuance.
        let (status, e) = app
            .post_as(
                &r.op,
                "/api/v1/pledges",
                &json!({"organization_id": org, "pledgee_organization_id": funded.bank_id,
                        "client_id": "F-2", "instrument": code, "ranks_behind": p["id"]}),
            )
            .await;
        assert_eq!(
            (status, e["param"].as_str()),
            (422, Some("ranks_behind")),
            "{e}"
        );
        // The pledged units cannot be retired.
        let (status, e) = app
            .post_as(
                &r.op,
                "/api/v1/retirements",
                &json!({"retirement_id": uuid::Uuid::new_v4(), "account_id": r.account_id(),
                             "batch_id": batch["id"], "quantity_g": (posted - 100 * T).to_string(),
                             "beneficiary": "某公司", "purpose": "碳中和"}),
            )
            .await;
        assert_eq!((status, code_of(&e)), (409, Some("units_pledged")), "{e}");
        assert!(
            e["detail"]
                .as_str()
                .unwrap()
                .contains(p["id"].as_str().unwrap()),
            "{e}"
        );
    }
}

#[tokio::test]
async fn pledged_units_do_not_move_and_a_second_lien_ranks_behind_with_a_guarantee() {
    for backend in backends() {
        let (app, monday) = market_week(backend).await;
        let m = monday.date_naive();
        let (r, code, credits) = forest(&app, 82, "LZ-F-82").await;
        listed_at_guidance(
            &app,
            &r.g.gov,
            &code,
            json!({"price": "36.00", "reason": "基准"}),
        )
        .await;
        let funded = funded_buyer(&app, &r.g, 82).await;
        let (bank2, teller2) = crate::helpers::bank(&app, &r.g, 182).await;
        let (guarantor, guarantee_staff) = crate::helpers::guarantor(&app, &r.g, 82).await;
        deposit(&app, &funded, &guarantor, "D-G").await;
        let (reserve, _) = crate::helpers::reserve_platform(&app, &r.g, 82).await;
        deposit(&app, &funded, &reserve, "D-R").await;
        let org = r.org_id().to_string();
        let account = r.account_id().to_string();
        let batch = credits.trim_start_matches("credit:").to_string();
        let (issued, _) = balance(&app, &r.op, &account, &credits).await;
        let matures = day(m + Duration::days(365));

        // A: 1,000 units to the first bank. Over the ratio, over the largest
        // ratio, a maturity not ahead: refused.
        let (status, a) = app
            .post_as(
                &r.op,
                "/api/v1/pledges",
                &json!({"organization_id": org, "pledgee_organization_id": funded.bank_id,
                             "client_id": "A", "instrument": code, "quantity": "1000"}),
            )
            .await;
        assert_eq!(status, 201, "{backend:?}: {a}");
        let confirm = |loan: &str, extra: Value| {
            let mut v = json!({"organization_id": funded.bank_id, "loan_amount": loan, "matures_on": matures});
            v.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            v
        };
        let (status, e) = app
            .post_as(
                &funded.teller,
                &path(&a["id"], "confirm"),
                &confirm("2520001", json!({})),
            )
            .await;
        assert_eq!((status, code_of(&e)), (409, Some("loan_over_ltv")), "{e}");
        assert!(e["detail"].as_str().unwrap().contains("25200.00"), "{e}");
        let (status, e) = app
            .post_as(
                &funded.teller,
                &path(&a["id"], "confirm"),
                &confirm("100", json!({"ltv": "0.9"})),
            )
            .await;
        assert_eq!((status, e["param"].as_str()), (422, Some("ltv")), "{e}");
        let (status, e) = app
            .post_as(
                &funded.teller,
                &path(&a["id"], "confirm"),
                &confirm("100", json!({"matures_on": day(m)})),
            )
            .await;
        assert_eq!(
            (status, e["param"].as_str()),
            (422, Some("matures_on")),
            "{e}"
        );
        let (status, e) = app
            .post_as(
                &teller2,
                &path(&a["id"], "confirm"),
                &json!({"organization_id": bank2, "loan_amount": "100", "matures_on": matures}),
            )
            .await;
        assert_eq!(status, 404, "another bank: {e}");
        let (status, a) = app
            .post_as(
                &funded.teller,
                &path(&a["id"], "confirm"),
                &confirm("2000000", json!({})),
            )
            .await;
        assert_eq!((status, a["status"].as_str()), (200, Some("active")), "{a}");
        let a_id = a["id"].as_str().unwrap().to_string();

        // Pledged units are not sold, transferred, retired, offered or pledged again.
        let free = (issued - 1000 * T) / T;
        let named = |status: u16, e: &Value| {
            assert_eq!((status, code_of(e)), (409, Some("units_pledged")), "{e}");
            assert!(e["detail"].as_str().unwrap().contains(&a_id), "{e}");
        };
        let (status, e) = app
            .post_as(
                &r.op,
                "/api/v1/market/orders",
                &json!({"organization_id": org, "client_order_id": "S-1", "instrument": code,
                             "side": "sell", "price": "36.00", "quantity": (free + 1).to_string()}),
            )
            .await;
        named(status, &e);
        let (status, e) = app
            .post_as(&r.op, "/api/v1/transfers",
                     &json!({"transfer_id": uuid::Uuid::new_v4(), "from_account_id": account,
                             "to_account_id": crate::helpers::org_account(&app, &funded.buyer_op, &funded.buyer).await,
                             "batch_id": batch, "quantity_g": ((free + 1) * T).to_string()}))
            .await;
        named(status, &e);
        let (status, e) = app
            .post_as(&r.op, "/api/v1/retirements",
                     &json!({"retirement_id": uuid::Uuid::new_v4(), "account_id": account, "batch_id": batch,
                             "quantity_g": ((free + 1) * T).to_string(), "beneficiary": "某公司", "purpose": "碳中和"}))
            .await;
        named(status, &e);
        let (status, e) = app
            .post_as(&r.op, "/api/v1/reserve/buy-backs",
                     &json!({"organization_id": org, "reserve_organization_id": reserve, "client_id": "BB",
                             "instrument": code, "quantity": (free + 1).to_string()}))
            .await;
        named(status, &e);
        let (status, e) = app
            .post_as(
                &r.op,
                "/api/v1/pledges",
                &json!({"organization_id": org, "pledgee_organization_id": bank2, "client_id": "A2",
                             "instrument": code, "quantity": (free + 1).to_string()}),
            )
            .await;
        named(status, &e);
        // Units beyond what is held at all are simply not there.
        let (status, e) = app
            .post_as(&r.op, "/api/v1/market/orders",
                     &json!({"organization_id": org, "client_order_id": "S-2", "instrument": code,
                             "side": "sell", "price": "36.00", "quantity": (free + 1001).to_string()}))
            .await;
        assert_eq!(
            (status, code_of(&e)),
            (409, Some("insufficient_units")),
            "{e}"
        );
        assert_eq!(
            balance(&app, &r.op, &account, &credits).await,
            (issued, 1000 * T)
        );

        // B ranks behind A at the second bank, half guaranteed: confirmed only
        // after the first bank consents, within what A leaves of the ratio.
        let (status, b) = app
            .post_as(
                &r.op,
                "/api/v1/pledges",
                &json!({"organization_id": org, "pledgee_organization_id": bank2, "client_id": "B",
                             "instrument": code, "ranks_behind": a_id,
                             "guarantor_organization_id": guarantor}),
            )
            .await;
        assert_eq!(
            (status, b["rank"].as_i64(), b["quantity"].as_str()),
            (201, Some(2), Some("1000")),
            "{b}"
        );
        assert_eq!(b["guarantee_share"], "0.5");
        // The first bank sees it waiting for its consent; another does not.
        let listed = |token: &str, bank: &str| {
            let (app, token, bank) = (&app, token.to_string(), bank.to_string());
            async move {
                let (_, mine) = app
                    .get_as(&token, &format!("/api/v1/pledges?organization_id={bank}"))
                    .await;
                mine["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x["id"].clone())
                    .collect::<Vec<_>>()
            }
        };
        assert!(listed(&funded.teller, &funded.bank_id)
            .await
            .contains(&b["id"]));
        let (status, _) = app
            .get_as(&funded.teller, path(&b["id"], "").trim_end_matches('/'))
            .await;
        assert_eq!(status, 200);
        let (other, other_teller) = crate::helpers::bank(&app, &r.g, 282).await;
        assert!(!listed(&other_teller, &other).await.contains(&b["id"]));
        // C applies behind A at a third bank while B waits: rank 2 for now.
        let (status, third) = app
            .post_as(
                &r.op,
                "/api/v1/pledges",
                &json!({"organization_id": org, "pledgee_organization_id": other, "client_id": "C",
                        "instrument": code, "ranks_behind": a_id}),
            )
            .await;
        assert_eq!((status, third["rank"].as_i64()), (201, Some(2)), "{third}");
        let confirm2 = |loan: &str| json!({"organization_id": bank2, "loan_amount": loan, "matures_on": matures});
        let (status, e) = app
            .post_as(&teller2, &path(&b["id"], "confirm"), &confirm2("500000"))
            .await;
        assert_eq!(
            (status, code_of(&e)),
            (409, Some("lien_consent_required")),
            "{e}"
        );
        let (status, _) = app
            .post_as(
                &teller2,
                &path(&b["id"], "consent"),
                &json!({"organization_id": bank2}),
            )
            .await;
        assert_eq!(status, 404, "only the first pledgee consents");
        let (status, c) = app
            .post_as(
                &funded.teller,
                &path(&b["id"], "consent"),
                &json!({"organization_id": funded.bank_id}),
            )
            .await;
        assert_eq!(status, 200, "{c}");
        assert!(c["consented_at"].is_string());
        let (status, e) = app
            .post_as(&teller2, &path(&b["id"], "confirm"), &confirm2("520001"))
            .await;
        assert_eq!((status, code_of(&e)), (409, Some("loan_over_ltv")), "{e}");
        let (status, b) = app
            .post_as(&teller2, &path(&b["id"], "confirm"), &confirm2("500000"))
            .await;
        assert_eq!((status, b["status"].as_str()), (200, Some("active")), "{b}");
        // C, confirmed after B, ranks behind it (ranks are given at
        // confirmation), within the 200.00 A and B leave of the ratio; then
        // it is repaid and nothing moves.
        let (status, _) = app
            .post_as(
                &funded.teller,
                &path(&third["id"], "consent"),
                &json!({"organization_id": funded.bank_id}),
            )
            .await;
        assert_eq!(status, 200);
        let confirm3 = |loan: &str| json!({"organization_id": other, "loan_amount": loan, "matures_on": matures});
        let (status, e) = app
            .post_as(
                &other_teller,
                &path(&third["id"], "confirm"),
                &confirm3("20001"),
            )
            .await;
        assert_eq!((status, code_of(&e)), (409, Some("loan_over_ltv")), "{e}");
        let (status, third) = app
            .post_as(
                &other_teller,
                &path(&third["id"], "confirm"),
                &confirm3("20000"),
            )
            .await;
        assert_eq!(
            (status, third["status"].as_str(), third["rank"].as_i64()),
            (200, Some("active"), Some(3)),
            "{third}"
        );
        let (status, third) = app
            .post_as(
                &other_teller,
                &path(&third["id"], "repayments"),
                &json!({"organization_id": other, "reference": "C-1", "amount": "20000"}),
            )
            .await;
        assert_eq!(
            (status, third["status"].as_str()),
            (200, Some("released")),
            "{third}"
        );
        assert_eq!(
            balance(&app, &r.op, &account, &credits).await,
            (issued, 1000 * T)
        );
        // The guarantor holds half the loan from its cash.
        let (status, g) = app
            .post_as(
                &guarantee_staff,
                &path(&b["id"], "guarantee/accept"),
                &json!({"organization_id": guarantor}),
            )
            .await;
        assert_eq!(
            (status, g["guarantee_held"].as_str()),
            (200, Some("2500.00")),
            "{g}"
        );
        let g_account = crate::helpers::org_account(&app, &guarantee_staff, &guarantor).await;
        assert_eq!(
            balance(&app, &guarantee_staff, &g_account, "cash:CNY").await,
            (100_000_000, 250_000)
        );
        let lines = register(&app, &code).await;
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(
            (lines[0]["rank"].as_i64(), lines[1]["rank"].as_i64()),
            (Some(1), Some(2))
        );

        // Not in default: no enforcement. A rests B: no partial release of A.
        let enforce = |bank: &str| json!({"organization_id": bank, "method": "reserve", "reserve_organization_id": reserve});
        let (status, e) = app
            .post_as(
                &funded.teller,
                &path(&a["id"], "enforce"),
                &enforce(&funded.bank_id),
            )
            .await;
        assert_eq!(
            (status, code_of(&e)),
            (409, Some("enforcement_not_due")),
            "{e}"
        );
        let (status, e) = app
            .post_as(
                &r.op,
                &path(&a["id"], "releases"),
                &json!({"organization_id": org, "reference": "R-0", "quantity": "1"}),
            )
            .await;
        assert_eq!((status, code_of(&e)), (409, Some("pledge_not_open")), "{e}");

        // A repaid in full (one repayment replayed, one reference reused):
        // released, and its units pass to B, still held.
        let repay = |reference: &str, amount: &str| json!({"organization_id": funded.bank_id, "reference": reference, "amount": amount});
        let (status, p) = app
            .post_as(
                &funded.teller,
                &path(&a["id"], "repayments"),
                &repay("R1", "1200000"),
            )
            .await;
        assert_eq!(
            (status, p["outstanding"].as_str()),
            (200, Some("8000.00")),
            "{p}"
        );
        let (status, p) = app
            .post_as(
                &funded.teller,
                &path(&a["id"], "repayments"),
                &repay("R1", "1200000"),
            )
            .await;
        assert_eq!(
            (status, p["outstanding"].as_str()),
            (200, Some("8000.00")),
            "{p}"
        );
        let (status, e) = app
            .post_as(
                &funded.teller,
                &path(&a["id"], "repayments"),
                &repay("R1", "100"),
            )
            .await;
        assert_eq!((status, code_of(&e)), (409, Some("id_reused")), "{e}");
        let (status, e) = app
            .post_as(
                &funded.teller,
                &path(&a["id"], "repayments"),
                &repay("R2", "800001"),
            )
            .await;
        assert_eq!((status, e["param"].as_str()), (422, Some("amount")), "{e}");
        let (status, p) = app
            .post_as(
                &funded.teller,
                &path(&a["id"], "repayments"),
                &repay("R2", "800000"),
            )
            .await;
        assert_eq!(
            (status, p["status"].as_str()),
            (200, Some("released")),
            "{p}"
        );
        assert_eq!(
            balance(&app, &r.op, &account, &credits).await,
            (issued, 1000 * T)
        );
        let lines = register(&app, &code).await;
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(
            (
                lines[0]["pledge_id"].as_str(),
                lines[0]["rank"].as_i64(),
                lines[0]["quantity"].as_str()
            ),
            (b["id"].as_str(), Some(1), Some("1000"))
        );
        let d = detail(&app, &teller2, &b["id"]).await;
        assert_eq!(
            (
                d["pledge"]["rank"].as_i64(),
                d["pledge"]["ranks_behind"].as_str(),
                d["collateral"].as_str()
            ),
            (Some(1), None, Some("1000")),
            "{d}"
        );

        // B half repaid: 500 units may go in proportion, not 501.
        let repay2 = |reference: &str, amount: &str| json!({"organization_id": bank2, "reference": reference, "amount": amount});
        let (status, _) = app
            .post_as(
                &teller2,
                &path(&b["id"], "repayments"),
                &repay2("B1", "250000"),
            )
            .await;
        assert_eq!(status, 200);
        let release = |reference: &str, quantity: &str| json!({"organization_id": org, "reference": reference, "quantity": quantity});
        let (status, e) = app
            .post_as(&r.op, &path(&b["id"], "releases"), &release("L1", "501"))
            .await;
        assert_eq!(
            (status, code_of(&e)),
            (409, Some("release_beyond_repaid")),
            "{e}"
        );
        let (status, p) = app
            .post_as(&r.op, &path(&b["id"], "releases"), &release("L1", "500"))
            .await;
        assert_eq!(
            (status, p["released_units"].as_str()),
            (200, Some("500")),
            "{p}"
        );
        assert_eq!(
            balance(&app, &r.op, &account, &credits).await,
            (issued, 500 * T)
        );
        // Another 1,000.00 repaid (200 more units in proportion), but at 4.00
        // the 1,500.00 outstanding needs 469 of the 500 units: 31 may go.
        let (status, _) = app
            .post_as(
                &teller2,
                &path(&b["id"], "repayments"),
                &repay2("B2", "100000"),
            )
            .await;
        assert_eq!(status, 200);
        publish(&app, &r.g.gov, &code, "4.00").await;
        app.clock.set(at(monday + Duration::days(1), 0, 1));
        assert_eq!(close(&app).await, 1);
        let op = app.token("forest82@lz.cn").await;
        let d = detail(&app, &op, &b["id"]).await;
        assert_eq!(
            (
                d["pledge"]["status"].as_str(),
                d["pledge"]["last_price"].as_str()
            ),
            (Some("active"), Some("4.00")),
            "{d}"
        );
        let (status, e) = app
            .post_as(&op, &path(&b["id"], "releases"), &release("L2", "32"))
            .await;
        assert_eq!(
            (status, code_of(&e)),
            (409, Some("below_maintenance")),
            "{e}"
        );
        let (status, _) = app
            .post_as(&op, &path(&b["id"], "releases"), &release("L2", "31"))
            .await;
        assert_eq!(status, 200);

        // At 2.00 the call; past its deadline the reserve first declines the
        // take-over (the units stay pledged), then accepts it: 469 × 2.00 =
        // 938.00 to the bank, the guarantor pays half of the 562.00 short.
        app.clock.set(at(monday + Duration::days(1), 10, 0));
        let gov = app.token("gov82@tph.cn").await;
        publish(&app, &gov, &code, "2.00").await;
        app.clock.set(at(monday + Duration::days(2), 0, 1));
        assert_eq!(close(&app).await, 1);
        app.clock.set(at(monday + Duration::days(9), 10, 0));
        let teller2 = app.token("bank182@bank.cn").await;
        let keeper = app.token("reserve82@reserve.cn").await;
        let (status, p) = app
            .post_as(&teller2, &path(&b["id"], "enforce"), &enforce(&bank2))
            .await;
        assert_eq!(
            (status, p["status"].as_str()),
            (200, Some("enforcing")),
            "{p}"
        );
        let op_path = |p: &Value, what: &str| {
            format!(
                "/api/v1/reserve/operations/{}/{what}",
                p["enforcement_id"].as_str().unwrap()
            )
        };
        let (status, o) = app
            .post_as(
                &keeper,
                &op_path(&p, "decline"),
                &json!({"organization_id": reserve, "reason": "预算不足"}),
            )
            .await;
        assert_eq!(
            (status, o["status"].as_str()),
            (200, Some("declined")),
            "{o}"
        );
        let op = app.token("forest82@lz.cn").await;
        assert_eq!(
            balance(&app, &op, &account, &credits).await,
            (issued, 469 * T)
        );
        let (status, p) = app
            .post_as(&teller2, &path(&b["id"], "enforce"), &enforce(&bank2))
            .await;
        assert_eq!(
            (status, p["status"].as_str()),
            (200, Some("enforcing")),
            "{p}"
        );
        let (status, o) = app
            .post_as(
                &keeper,
                &op_path(&p, "accept"),
                &json!({"organization_id": reserve}),
            )
            .await;
        assert_eq!((status, o["value"].as_str()), (200, Some("938.00")), "{o}");
        let d = detail(&app, &teller2, &b["id"]).await;
        assert_eq!(
            (
                d["pledge"]["status"].as_str(),
                d["pledge"]["proceeds"].as_str(),
                d["pledge"]["guarantor_paid"].as_str(),
                d["pledge"]["shortfall"].as_str(),
                d["pledge"]["guarantee_status"].as_str()
            ),
            (
                Some("enforced"),
                Some("938.00"),
                Some("281.00"),
                Some("281.00"),
                Some("ended")
            ),
            "{d}"
        );
        let bank2_account = crate::helpers::org_account(&app, &teller2, &bank2).await;
        assert_eq!(
            balance(&app, &teller2, &bank2_account, "cash:CNY").await,
            (93_800 + 28_100, 0)
        );
        let guarantee_staff = app.token("guarantor82@guarantee.cn").await;
        assert_eq!(
            balance(&app, &guarantee_staff, &g_account, "cash:CNY").await,
            (100_000_000 - 28_100, 0)
        );
        assert_eq!(balance(&app, &op, &account, "cash:CNY").await, (0, 0));
        assert_eq!(
            balance(&app, &op, &account, &credits).await,
            (issued - 469 * T, 0)
        );
        assert!(register(&app, &code).await.is_empty());
    }
}

/// One book trade of `quantity` at `price` between the forest enterprise
/// and the funded buyer (`n` keeps client ids apart).
async fn trade(
    app: &TestApp,
    op: &str,
    buyer_op: &str,
    orgs: (&str, &str),
    code: &str,
    price: &str,
    n: u32,
) {
    let order = |org: &str, side: &str| {
        json!({"organization_id": org, "client_order_id": format!("{side}-{n}"), "instrument": code,
               "side": side, "price": price, "quantity": "10", "time_in_force": "gtc"})
    };
    let (status, s) = app
        .post_as(op, "/api/v1/market/orders", &order(orgs.0, "sell"))
        .await;
    assert_eq!(status, 201, "{s}");
    let (status, b) = app
        .post_as(buyer_op, "/api/v1/market/orders", &order(orgs.1, "buy"))
        .await;
    assert_eq!(
        (status, b["trades"].as_array().map(Vec::len)),
        (201, Some(1)),
        "{b}"
    );
}

#[tokio::test]
async fn a_forest_fire_pays_the_sink_policy_and_falling_closes_pay_the_price_policy() {
    for backend in backends() {
        let (app, monday) = market_week(backend).await;
        let m = monday.date_naive();
        let r = crate::helpers::registry(&app, 84).await;
        let (project, batch) = crate::helpers::issued_forest_batch(&app, &r, "LZ-F-84").await;
        let project_id = project["id"].as_str().unwrap().to_string();
        let code = batch["instrument"].as_str().unwrap().to_string();
        listed_at_guidance(
            &app,
            &r.g.gov,
            &code,
            json!({"price": "36.00", "reason": "基准"}),
        )
        .await;
        let funded = funded_buyer(&app, &r.g, 84).await;
        let (insurer, underwriter) = crate::helpers::insurer(&app, &r.g, 84).await;
        deposit(&app, &funded, &insurer, "D-I").await;
        deposit(&app, &funded, r.org_id(), "D-F").await;
        let org = r.org_id().to_string();
        let account = r.account_id().to_string();
        let insurer_account = crate::helpers::org_account(&app, &underwriter, &insurer).await;
        let sink = |extra: Value| {
            let mut v = json!({"organization_id": insurer, "holder_organization_id": org, "client_id": "S-1",
                               "kind": "sink_index", "project_id": project_id, "policy_year": m.year(),
                               "insured_stock_t": "4000", "threshold_t": "500", "price_per_t": "40.00",
                               "maximum": "2000000", "premium": "60000"});
            v.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            v
        };
        // A trigger over the stock, a bank posing as insurer: refused.
        let (status, e) = app
            .post_as(
                &underwriter,
                "/api/v1/insurance/policies",
                &sink(json!({"threshold_t": "4000.000001"})),
            )
            .await;
        assert_eq!(
            (status, e["param"].as_str()),
            (422, Some("threshold_t")),
            "{backend:?}: {e}"
        );
        let (status, e) = app
            .post_as(
                &funded.teller,
                "/api/v1/insurance/policies",
                &sink(json!({"organization_id": funded.bank_id})),
            )
            .await;
        assert_eq!(
            (status, e["param"].as_str()),
            (404, Some("organization_id")),
            "{e}"
        );
        let (status, s) = app
            .post_as(&underwriter, "/api/v1/insurance/policies", &sink(json!({})))
            .await;
        assert_eq!(
            (status, s["status"].as_str()),
            (201, Some("offered")),
            "{s}"
        );
        let path = |id: &Value, what: &str| {
            format!("/api/v1/insurance/policies/{}/{what}", id.as_str().unwrap())
        };
        let as_holder = json!({"organization_id": org});
        let (status, s) = app
            .post_as(&r.op, &path(&s["id"], "accept"), &as_holder)
            .await;
        assert_eq!(
            (status, s["status"].as_str()),
            (200, Some("in_force")),
            "{s}"
        );
        // The premium moved; the maximum is held from the insurer's cash.
        assert_eq!(
            balance(&app, &r.op, &account, "cash:CNY").await,
            (100_000_000 - 60_000, 0)
        );
        assert_eq!(
            balance(&app, &underwriter, &insurer_account, "cash:CNY").await,
            (100_000_000 + 60_000, 2_000_000)
        );
        let claims = |d: &Value| d["claims"].as_array().unwrap().clone();
        let policy = |id: Value| {
            let app = &app;
            let underwriter = underwriter.clone();
            async move {
                let (status, d) = app
                    .get_as(
                        &underwriter,
                        &format!("/api/v1/insurance/policies/{}", id.as_str().unwrap()),
                    )
                    .await;
                assert_eq!(status, 200, "{d}");
                d
            }
        };
        // A fire: 300 t lost, under the trigger; then 512.5 t more: 812.5 t.
        let reverse = |loss: &str| json!({"loss_g": loss, "cause": "山火", "occurred_on": day(m)});
        let reversals = format!("/api/v1/projects/{project_id}/reversals");
        let (status, v) = app
            .post_as(&r.verifier, &reversals, &reverse("300000000"))
            .await;
        assert_eq!(status, 201, "{v}");
        assert!(claims(&policy(s["id"].clone()).await).is_empty());
        let (status, _) = app
            .post_as(&r.verifier, &reversals, &reverse("512500000"))
            .await;
        assert_eq!(status, 201);
        let d = policy(s["id"].clone()).await;
        let c = &claims(&d)[0];
        // (812.5 − 500) × 40.00 = 12,500.00.
        assert_eq!(
            (c["status"].as_str(), c["payout"].as_str()),
            (Some("pending"), Some("12500.00")),
            "{d}"
        );
        assert_eq!(c["computation"]["estimate"]["payout"], "12500");
        assert_eq!(c["computation"]["request"]["loss_t"], "812.5");
        let approve = format!(
            "/api/v1/insurance/claims/{}/approve",
            c["id"].as_str().unwrap()
        );
        let (status, _) = app.post_as(&r.op, &approve, &as_holder).await;
        assert_eq!(status, 404, "the holder does not approve");
        let (status, paid) = app
            .post_as(&underwriter, &approve, &json!({"organization_id": insurer}))
            .await;
        assert_eq!(
            (status, paid["status"].as_str()),
            (200, Some("paid")),
            "{paid}"
        );
        let (status, again) = app
            .post_as(&underwriter, &approve, &json!({"organization_id": insurer}))
            .await;
        assert_eq!((status, again["status"].as_str()), (200, Some("paid")));
        assert_eq!(
            balance(&app, &r.op, &account, "cash:CNY").await,
            (100_000_000 - 60_000 + 1_250_000, 0)
        );
        // 400 t more: 712.5 t over the trigger would be 28,500.00; the
        // maximum is 20,000.00, of which 7,500.00 is left to claim.
        let (status, _) = app
            .post_as(&r.verifier, &reversals, &reverse("400000000"))
            .await;
        assert_eq!(status, 201);
        let d = policy(s["id"].clone()).await;
        let c = &claims(&d)[1];
        assert_eq!(
            (
                c["payout"].as_str(),
                c["computation"]["estimate"]["capped"].as_bool()
            ),
            (Some("7500.00"), Some(true)),
            "{d}"
        );
        let approve = format!(
            "/api/v1/insurance/claims/{}/approve",
            c["id"].as_str().unwrap()
        );
        let (status, _) = app
            .post_as(&underwriter, &approve, &json!({"organization_id": insurer}))
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            balance(&app, &underwriter, &insurer_account, "cash:CNY").await,
            (100_000_000 + 60_000 - 2_000_000, 0)
        );

        // Price insurance: 1,000 units struck at 35.00, the average of the
        // last 3 closes up to Wednesday.
        let (status, p) = app
            .post_as(&underwriter, "/api/v1/insurance/policies",
                     &json!({"organization_id": insurer, "holder_organization_id": org, "client_id": "P-1",
                             "kind": "price", "instrument": code, "quantity": "1000", "strike": "35.00",
                             "ends_on": day(m + Duration::days(2)), "averaging_days": 3,
                             "maximum": "1000000", "premium": "10000"}))
            .await;
        assert_eq!(status, 201, "{p}");
        let (status, p) = app
            .post_as(&r.op, &path(&p["id"], "accept"), &as_holder)
            .await;
        assert_eq!(
            (status, p["status"].as_str()),
            (200, Some("in_force")),
            "{p}"
        );
        let orgs = (org.as_str(), funded.buyer.as_str());
        for (n, price) in [(0, "33.00"), (1, "31.00"), (2, "30.00")] {
            app.clock.set(at(monday + Duration::days(n), 10, 0));
            let op = app.token("forest84@lz.cn").await;
            let buyer_op = app.token("buyer84@lz.cn").await;
            trade(&app, &op, &buyer_op, orgs, &code, price, n as u32).await;
            app.clock.set(at(monday + Duration::days(n + 1), 0, 1));
            assert_eq!(close(&app).await, 1);
        }
        // (33.00 + 31.00 + 30.00) ÷ 3 = 31.33: (35.00 − 31.33) × 1,000 = 3,670.00.
        let underwriter = app.token("insurer84@insure.cn").await;
        let (_, d) = app
            .get_as(
                &underwriter,
                &format!("/api/v1/insurance/policies/{}", p["id"].as_str().unwrap()),
            )
            .await;
        assert_eq!(d["policy"]["status"], "ended", "{d}");
        let c = &d["claims"][0];
        assert_eq!(
            (
                c["status"].as_str(),
                c["payout"].as_str(),
                c["computation"]["estimate"]["reference"].as_str()
            ),
            (Some("paid"), Some("3670.00"), Some("31.33")),
            "{d}"
        );
        assert_eq!(
            balance(&app, &underwriter, &insurer_account, "cash:CNY").await,
            (100_000_000 + 60_000 - 2_000_000 + 10_000 - 367_000, 0)
        );
    }
}

#[tokio::test]
async fn a_defaulted_pledge_is_sold_in_part_by_auction_and_the_rest_taken_over() {
    for backend in backends() {
        let (app, monday) = market_week(backend).await;
        let m = monday.date_naive();
        let (r, code, credits) = forest(&app, 85, "LZ-F-85").await;
        let account = r.account_id().to_string();
        let (issued, _) = balance(&app, &r.op, &account, &credits).await;
        let (funded, id) = pledged(
            &app,
            &r,
            &code,
            85,
            "1000",
            "2520000",
            m + Duration::days(365),
        )
        .await;
        let (reserve, _) = crate::helpers::reserve_platform(&app, &r.g, 85).await;
        deposit(&app, &funded, &reserve, "D-R").await;
        let org = r.org_id().to_string();
        // Called at Monday's close at 30.00 (cure by the next Monday); not cured.
        publish(&app, &r.g.gov, &code, "30.00").await;
        app.clock.set(at(monday + Duration::days(1), 0, 1));
        assert_eq!(close(&app).await, 1);
        app.clock.set(at(monday + Duration::days(8), 10, 0));
        let st = staff(&app, 85).await;
        let buyer_op = app.token("buyer85@lz.cn").await;
        let opens = at(monday + Duration::days(8), 10, 0);
        let sale = json!({"organization_id": funded.bank_id, "method": "auction",
                          "auction": {"reserve_price": "30.00", "opens_at": opens.to_rfc3339(),
                                      "closes_at": (opens + Duration::hours(1)).to_rfc3339(),
                                      "min_bid_units": "100"}});
        let (status, e) = app.post_as(&st.teller, &path(&id, "enforce"), &sale).await;
        assert_eq!(
            status, 200,
            "the deadline was Monday, today is Tuesday: {e}"
        );
        let auction_id = e["enforcement_id"].as_str().unwrap().to_string();
        assert_eq!(e["enforcement_method"], "auction");
        let (status, again) = app.post_as(&st.teller, &path(&id, "enforce"), &sale).await;
        assert_eq!(
            (status, &again["enforcement_id"]),
            (200, &e["enforcement_id"]),
            "a repeat answers it"
        );
        // The lot is the pledge's units, still held; the pledgor does not bid.
        assert_eq!(
            balance(&app, &st.op, &account, &credits).await,
            (issued, 1000 * T)
        );
        let a: Value = app
            .get(&format!("/api/v1/market/auctions/{auction_id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            (
                a["auction"]["quantity"].as_str(),
                a["auction"]["pledge_id"].as_str()
            ),
            (Some("1000"), id.as_str()),
            "{a}"
        );
        let bid = |org: &str, client: &str, price: &str, quantity: &str| json!({"organization_id": org, "client_order_id": client, "price": price, "quantity": quantity});
        let bids = format!("/api/v1/market/auctions/{auction_id}/bids");
        let (status, b) = app
            .post_as(&st.op, &bids, &bid(&org, "self", "31.00", "100"))
            .await;
        assert_eq!((status, code_of(&b)), (409, Some("self_trade")), "{b}");
        let (status, b) = app
            .post_as(&buyer_op, &bids, &bid(&funded.buyer, "b-1", "31.00", "400"))
            .await;
        assert_eq!(status, 201, "{b}");
        assert_eq!(register(&app, &code).await[0]["state"], "enforcing");
        // The close: 400 units sold at 31.00; 12,400.00 to the bank, the
        // other 600 units held again for the 12,800.00 still owed.
        app.clock.set(opens + Duration::hours(1));
        let closed = tanpuhui_server::market::auctions::close_due(
            &app.db,
            &Default::default(),
            &Default::default(),
            app.now(),
        )
        .await
        .unwrap();
        assert_eq!(closed.len(), 1);
        let st = staff(&app, 85).await;
        let d = detail(&app, &st.teller, &id).await;
        assert_eq!(
            (
                d["pledge"]["status"].as_str(),
                d["pledge"]["outstanding"].as_str(),
                d["collateral"].as_str()
            ),
            (Some("enforcing"), Some("12800.00"), Some("600")),
            "{d}"
        );
        assert_eq!(
            balance(&app, &st.op, &account, &credits).await,
            (issued - 400 * T, 600 * T)
        );
        assert_eq!(balance(&app, &st.op, &account, "cash:CNY").await, (0, 0));
        let bank_account = crate::helpers::org_account(&app, &st.teller, &funded.bank_id).await;
        assert_eq!(
            balance(&app, &st.teller, &bank_account, "cash:CNY").await,
            (1_240_000, 0)
        );
        // The bank declares again: the reserve takes the 600 units over at
        // 30.00 = 18,000.00: 12,800.00 to the bank, 5,200.00 to the pledgor.
        let (status, e) = app
            .post_as(&st.teller, &path(&id, "enforce"),
                     &json!({"organization_id": funded.bank_id, "method": "reserve", "reserve_organization_id": reserve}))
            .await;
        assert_eq!(
            (status, e["enforcement_method"].as_str()),
            (200, Some("reserve")),
            "{e}"
        );
        let (status, o) = app
            .post_as(
                &st.keeper,
                &format!(
                    "/api/v1/reserve/operations/{}/accept",
                    e["enforcement_id"].as_str().unwrap()
                ),
                &json!({"organization_id": reserve}),
            )
            .await;
        assert_eq!(
            (status, o["value"].as_str()),
            (200, Some("18000.00")),
            "{o}"
        );
        let d = detail(&app, &st.teller, &id).await;
        assert_eq!(
            (
                d["pledge"]["status"].as_str(),
                d["pledge"]["proceeds"].as_str(),
                d["pledge"]["outstanding"].as_str()
            ),
            (Some("enforced"), Some("25200.00"), Some("0.00")),
            "{d}"
        );
        assert_eq!(
            balance(&app, &st.teller, &bank_account, "cash:CNY").await,
            (2_520_000, 0)
        );
        assert_eq!(
            balance(&app, &st.op, &account, "cash:CNY").await,
            (520_000, 0)
        );
        assert_eq!(
            balance(&app, &st.op, &account, &credits).await,
            (issued - 1000 * T, 0)
        );
        assert!(register(&app, &code).await.is_empty());
    }
}

#[tokio::test]
async fn applications_and_offers_end_when_answered_no_and_a_sink_policy_ends_after_its_window() {
    for backend in backends() {
        let (app, monday) = market_week(backend).await;
        let m = monday.date_naive();
        let (r, code, _) = forest(&app, 86, "LZ-F-86").await;
        listed_at_guidance(
            &app,
            &r.g.gov,
            &code,
            json!({"price": "36.00", "reason": "基准"}),
        )
        .await;
        let funded = funded_buyer(&app, &r.g, 86).await;
        let (guarantor, guarantee_staff) = crate::helpers::guarantor(&app, &r.g, 86).await;
        let (insurer, underwriter) = crate::helpers::insurer(&app, &r.g, 86).await;
        deposit(&app, &funded, &insurer, "D-I").await;
        let org = r.org_id().to_string();
        let apply = |client: &str| {
            json!({"organization_id": org, "pledgee_organization_id": funded.bank_id, "client_id": client,
                   "instrument": code, "quantity": "10", "guarantor_organization_id": guarantor})
        };
        // Declined by the bank (with a reason only), withdrawn by the pledgor;
        // neither can then be confirmed.
        let as_bank =
            |reason: Option<&str>| json!({"organization_id": funded.bank_id, "reason": reason});
        let (_, a) = app.post_as(&r.op, "/api/v1/pledges", &apply("A")).await;
        let (status, e) = app
            .post_as(&funded.teller, &path(&a["id"], "decline"), &as_bank(None))
            .await;
        assert_eq!(
            (status, e["param"].as_str()),
            (422, Some("reason")),
            "{backend:?}: {e}"
        );
        let (status, d) = app
            .post_as(
                &funded.teller,
                &path(&a["id"], "decline"),
                &as_bank(Some("资料不全")),
            )
            .await;
        assert_eq!(
            (status, d["status"].as_str(), d["reason"].as_str()),
            (200, Some("declined"), Some("资料不全")),
            "{d}"
        );
        let (_, b) = app.post_as(&r.op, "/api/v1/pledges", &apply("B")).await;
        let (status, w) = app
            .post_as(
                &r.op,
                &path(&b["id"], "withdraw"),
                &json!({"organization_id": org}),
            )
            .await;
        assert_eq!(
            (status, w["status"].as_str()),
            (200, Some("withdrawn")),
            "{w}"
        );
        let confirm = json!({"organization_id": funded.bank_id, "loan_amount": "10000", "matures_on": day(m + Duration::days(90))});
        for p in [&a, &b] {
            let (status, e) = app
                .post_as(&funded.teller, &path(&p["id"], "confirm"), &confirm)
                .await;
            assert_eq!((status, code_of(&e)), (409, Some("pledge_not_open")), "{e}");
        }
        // A guarantee is declined once, and then not accepted.
        let (_, c) = app.post_as(&r.op, "/api/v1/pledges", &apply("C")).await;
        let (status, _) = app
            .post_as(&funded.teller, &path(&c["id"], "confirm"), &confirm)
            .await;
        assert_eq!(status, 200);
        let as_guarantor = json!({"organization_id": guarantor});
        let (status, g) = app
            .post_as(
                &guarantee_staff,
                &path(&c["id"], "guarantee/decline"),
                &as_guarantor,
            )
            .await;
        assert_eq!(
            (status, g["guarantee_status"].as_str()),
            (200, Some("declined")),
            "{g}"
        );
        let (status, e) = app
            .post_as(
                &guarantee_staff,
                &path(&c["id"], "guarantee/accept"),
                &as_guarantor,
            )
            .await;
        assert_eq!((status, code_of(&e)), (409, Some("pledge_not_open")), "{e}");

        // Policies: declined by the holder, withdrawn by the insurer; then
        // one in force ends when its claim window has passed.
        let project = crate::helpers::issued_forest_batch(&app, &r, "LZ-F-86-2")
            .await
            .0;
        let offer = |client: &str| {
            json!({"organization_id": insurer, "holder_organization_id": org, "client_id": client,
                   "kind": "sink_index", "project_id": project["id"], "policy_year": m.year(),
                   "insured_stock_t": "1000", "threshold_t": "100", "price_per_t": "40.00",
                   "maximum": "500000", "premium": "0"})
        };
        let policy = |id: &Value, what: &str| {
            format!("/api/v1/insurance/policies/{}/{what}", id.as_str().unwrap())
        };
        let (_, p1) = app
            .post_as(&underwriter, "/api/v1/insurance/policies", &offer("S-1"))
            .await;
        let (status, d) = app
            .post_as(
                &r.op,
                &policy(&p1["id"], "decline"),
                &json!({"organization_id": org, "reason": "不需要"}),
            )
            .await;
        assert_eq!(
            (status, d["status"].as_str()),
            (200, Some("declined")),
            "{d}"
        );
        let (_, p2) = app
            .post_as(&underwriter, "/api/v1/insurance/policies", &offer("S-2"))
            .await;
        let (status, w) = app
            .post_as(
                &underwriter,
                &policy(&p2["id"], "withdraw"),
                &json!({"organization_id": insurer}),
            )
            .await;
        assert_eq!(
            (status, w["status"].as_str()),
            (200, Some("withdrawn")),
            "{w}"
        );
        for p in [&p1, &p2] {
            let (status, e) = app
                .post_as(
                    &r.op,
                    &policy(&p["id"], "accept"),
                    &json!({"organization_id": org}),
                )
                .await;
            assert_eq!((status, code_of(&e)), (409, Some("policy_not_open")), "{e}");
        }
        let (_, p3) = app
            .post_as(&underwriter, "/api/v1/insurance/policies", &offer("S-3"))
            .await;
        let (status, _) = app
            .post_as(
                &r.op,
                &policy(&p3["id"], "accept"),
                &json!({"organization_id": org}),
            )
            .await;
        assert_eq!(status, 200);
        let insurer_account = crate::helpers::org_account(&app, &underwriter, &insurer).await;
        assert_eq!(
            balance(&app, &underwriter, &insurer_account, "cash:CNY").await,
            (100_000_000, 500_000)
        );
        let rules = tanpuhui_server::finance::rules::FinanceRules::default();
        let year_end = NaiveDate::from_ymd_opt(m.year(), 12, 31).unwrap();
        app.clock.set(at(
            monday + Duration::days((year_end - m).num_days() + 90),
            10,
            0,
        ));
        let ended = tanpuhui_server::finance::claims::expire_due(&app.db, &rules, app.now())
            .await
            .unwrap();
        assert_eq!(
            ended, 0,
            "on the window's last day the policy still takes claims"
        );
        app.clock.set(at(
            monday + Duration::days((year_end - m).num_days() + 91),
            10,
            0,
        ));
        let ended = tanpuhui_server::finance::claims::expire_due(&app.db, &rules, app.now())
            .await
            .unwrap();
        assert_eq!(ended, 1);
        let underwriter = app.token("insurer86@insure.cn").await;
        let (_, d) = app
            .get_as(
                &underwriter,
                &format!("/api/v1/insurance/policies/{}", p3["id"].as_str().unwrap()),
            )
            .await;
        assert_eq!(d["policy"]["status"], "ended", "{d}");
        assert_eq!(
            balance(&app, &underwriter, &insurer_account, "cash:CNY").await,
            (100_000_000, 0)
        );
    }
}

/// A pledge topped up holds one batch under two ledger holds; its sale by
/// auction delivers that batch once per trade (the market simulation found
/// the close failing, and retrying for ever, on the second delivery row).
#[tokio::test]
async fn a_topped_up_pledge_sold_by_auction_delivers_each_batch_once() {
    for backend in backends() {
        let (app, monday) = market_week(backend).await;
        let m = monday.date_naive();
        let (r, code, credits) = forest(&app, 86, "LZ-F-86").await;
        let account = r.account_id().to_string();
        let (issued, _) = balance(&app, &r.op, &account, &credits).await;
        // 2,000.00 lent on 100 units until Tuesday; 50 units added on Monday.
        let (funded, id) =
            pledged(&app, &r, &code, 86, "100", "200000", m + Duration::days(1)).await;
        let second = funded_buyer(&app, &r.g, 186).await;
        let org = r.org_id().to_string();
        let (status, t) = app
            .post_as(
                &r.op,
                &path(&id, "top-ups"),
                &json!({"organization_id": org, "reference": "T-1", "quantity": "50"}),
            )
            .await;
        assert_eq!(status, 200, "{t}");
        // Not repaid at maturity: on Wednesday the bank sells all 150 units.
        let opens = at(monday + Duration::days(2), 10, 0);
        app.clock.set(opens);
        let teller = app.token("bank86@bank.cn").await;
        let buyer_op = app.token("buyer86@lz.cn").await;
        let second_op = app.token("buyer186@lz.cn").await;
        let sale = json!({"organization_id": funded.bank_id, "method": "auction",
                          "auction": {"reserve_price": "30.00", "opens_at": opens.to_rfc3339(),
                                      "closes_at": (opens + Duration::hours(1)).to_rfc3339(),
                                      "min_bid_units": "10"}});
        let (status, e) = app.post_as(&teller, &path(&id, "enforce"), &sale).await;
        assert_eq!(status, 200, "{e}");
        let auction_id = e["enforcement_id"].as_str().unwrap().to_string();
        // Two bidders (each at most half the lot): the second's 75 units
        // are the confirmation's last 25 and 50 of the top-up's.
        let bids = format!("/api/v1/market/auctions/{auction_id}/bids");
        for (token, org, price) in [
            (&buyer_op, &funded.buyer, "31.00"),
            (&second_op, &second.buyer, "30.00"),
        ] {
            let (status, b) = app
                .post_as(
                    token,
                    &bids,
                    &json!({"organization_id": org, "client_order_id": "b-1",
                            "price": price, "quantity": "75"}),
                )
                .await;
            assert_eq!(status, 201, "{b}");
        }
        app.clock.set(opens + Duration::hours(1));
        let closed = tanpuhui_server::market::auctions::close_due(
            &app.db,
            &Default::default(),
            &Default::default(),
            app.now(),
        )
        .await
        .unwrap();
        assert_eq!(closed.len(), 1);
        let teller = app.token("bank86@bank.cn").await;
        let op = app.token("forest86@lz.cn").await;
        // Two trades of 75 units at 30.00, each one delivery of the batch.
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        use tanpuhui_server::market::entity::{delivery, trade};
        let trades = trade::Entity::find()
            .filter(trade::Column::Instrument.eq(code.as_str()))
            .all(&app.db)
            .await
            .unwrap();
        assert_eq!(trades.len(), 2);
        for t in &trades {
            let deliveries = delivery::Entity::find()
                .filter(delivery::Column::TradeId.eq(t.id.as_str()))
                .all(&app.db)
                .await
                .unwrap();
            assert_eq!(
                deliveries
                    .iter()
                    .map(|d| (d.batch_id.as_str(), d.grams))
                    .collect::<Vec<_>>(),
                [(credits.trim_start_matches("credit:"), 75 * T)]
            );
        }
        // 4,500.00 less the seller's fee pays the 2,000.00 owed; the rest is
        // the enterprise's.
        let d = detail(&app, &teller, &id).await;
        assert_eq!(
            (
                d["pledge"]["status"].as_str(),
                d["pledge"]["proceeds"].as_str(),
                d["pledge"]["outstanding"].as_str()
            ),
            (Some("enforced"), Some("2000.00"), Some("0.00")),
            "{d}"
        );
        assert_eq!(
            balance(&app, &op, &account, &credits).await,
            (issued - 150 * T, 0)
        );
        let seller_cash = 450_000 - trades.iter().map(|t| t.seller_fee).sum::<i64>() - 200_000;
        assert_eq!(
            balance(&app, &op, &account, "cash:CNY").await,
            (seller_cash, 0)
        );
    }
}
