//! Allocation (确权) and conversion (补缴) through the HTTP API: the ecology
//! bureau allocates SO2 under an enterprise's discharge permit (every
//! refusal of the permit, the bureau, the origin and the holder checked),
//! the units are the holder's but held unconverted — transfers and
//! retirement refuse them, naming why — until the holder pays the
//! guidance price × the conversion rate into the reserve's fund; a
//! claw-back takes unconverted units first; indicators and allocations
//! for sale are tradeable at once and never clawed back.

use chrono::NaiveDate;
use serde_json::{json, Value};

use crate::helpers::{
    backends, balance, bureau, enterprise, government, org_account, reserve_platform, spawn_app,
    uscc, TestApp,
};
use crate::pricing::{deposit, funded_buyer, listed_at_guidance};

const KG: i64 = 1_000;

/// The surrender deadline of compliance year `year`: 90 days after its
/// end.
fn deadline(year: i32) -> String {
    (NaiveDate::from_ymd_opt(year, 12, 31).unwrap() + chrono::Days::new(90))
        .format("%Y-%m-%d")
        .to_string()
}

async fn allocate(app: &TestApp, token: &str, body: &Value) -> (u16, Value) {
    app.post_as(token, "/api/v1/rights/allocations", body).await
}

fn problem(p: &Value) -> (Option<&str>, Option<&str>) {
    (p["code"].as_str(), p["param"].as_str())
}

async fn transfer(
    app: &TestApp,
    token: &str,
    from: &str,
    to: &str,
    batch: &str,
    g: i64,
) -> (u16, Value) {
    app.post_as(
        token,
        "/api/v1/transfers",
        &json!({"transfer_id": uuid::Uuid::new_v4(), "from_account_id": from, "to_account_id": to,
                "batch_id": batch, "quantity_g": g.to_string()}),
    )
    .await
}

#[tokio::test]
async fn the_ecology_bureau_allocates_so2_that_is_converted_before_it_moves() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let g = government(&app, 1).await;
        let (ecology, eco) = bureau(&app, &g, "ecology", 1).await;
        let (water, wat) = bureau(&app, &g, "water", 2).await;
        let (reserve, _) = reserve_platform(&app, &g, 1).await;
        let f = funded_buyer(&app, &g, 3).await;
        let (a, a_op) = enterprise(&app, &g, "a@lz.cn", 41).await;
        let a_id = a["id"].as_str().unwrap().to_string();
        deposit(&app, &f, &a_id, "D-A").await;
        let a_account = org_account(&app, &a_op, &a_id).await;
        let b_account = org_account(&app, &f.buyer_op, &f.buyer).await;
        let year = app.year();
        let so2 = format!("TPH-SO2-{year}");
        listed_at_guidance(
            &app,
            &g.gov,
            &so2,
            json!({"price": "4.80", "floor": true, "reason": "2015年基准价"}),
        )
        .await;
        let permit = format!("{}001p", uscc(41));
        let body = json!({"bureau_organization_id": ecology, "organization_id": a_id,
            "instrument": so2, "quantity": "20000", "origin": "free", "identifier": permit,
            "reserve_organization_id": reserve});

        // Refusals: who, what and under which permit.
        let mut wrong_bureau = body.clone();
        wrong_bureau["bureau_organization_id"] = json!(water);
        let (status, p) = allocate(&app, &wat, &wrong_bureau).await;
        assert_eq!(
            (status, p["code"].as_str()),
            (403, Some("forbidden")),
            "{p}"
        );
        let (status, p) = allocate(&app, &a_op, &body).await;
        assert_eq!(
            (status, problem(&p)),
            (404, (Some("not_found"), Some("bureau_organization_id"))),
            "{p}"
        );
        for (field, value, param) in [
            (
                "identifier",
                json!(format!("{}001P", uscc(42))),
                "identifier",
            ),
            (
                "identifier",
                json!(format!("{}01P", uscc(41))),
                "identifier",
            ),
            ("identifier", json!("91620100MA74XXXX0R001P"), "identifier"),
            ("origin", json!("verified"), "origin"),
            ("instrument", json!(format!("TPH-FOR-{year}")), "instrument"),
            (
                "instrument",
                json!(format!("TPH-SO2-{}", year - 6)),
                "instrument",
            ),
            ("quantity", json!("0"), "quantity"),
            ("organization_id", json!(reserve), "organization_id"),
            (
                "reserve_organization_id",
                Value::Null,
                "reserve_organization_id",
            ),
            (
                "reserve_organization_id",
                json!(ecology),
                "reserve_organization_id",
            ),
        ] {
            let mut bad = body.clone();
            bad[field] = value;
            let (status, p) = allocate(&app, &eco, &bad).await;
            assert!(
                (status == 422 && problem(&p) == (Some("invalid_field"), Some(param)))
                    || (status == 404 && p["param"] == param),
                "{backend:?} {field}: {status} {p}"
            );
        }

        let (status, alloc) = allocate(&app, &eco, &body).await;
        assert_eq!(status, 201, "{backend:?} {alloc}");
        let batch = alloc["batch_id"].as_str().unwrap().to_string();
        assert_eq!(batch, format!("{so2}-00001"));
        // Valid five years: it covers this year to year + 4 and lapses after
        // the surrender deadline of the last, 90 days after its end.
        let until = deadline(year + 4);
        assert_eq!(
            (
                alloc["identifier"].as_str(),
                alloc["unit"].as_str(),
                alloc["quantity"].as_str(),
                alloc["unconverted"].as_str(),
                alloc["converted"].as_str(),
                alloc["valid_until"].as_str(),
                alloc["status"].as_str(),
            ),
            (
                Some(permit.to_uppercase().as_str()),
                Some("kg"),
                Some("20000"),
                Some("20000"),
                Some("0"),
                Some(until.as_str()),
                Some("active"),
            ),
            "{alloc}"
        );
        // The same permit has one allocation of an instrument.
        let (status, p) = allocate(&app, &eco, &body).await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("allocation_exists")),
            "{p}"
        );
        let asset = format!("credit:{batch}");
        assert_eq!(
            balance(&app, &a_op, &a_account, &asset).await,
            (20_000 * KG, 20_000 * KG)
        );

        // Unconverted units do not move: a transfer is refused, naming why;
        // a batch of rights is never retired.
        let (status, p) = transfer(&app, &a_op, &a_account, &b_account, &batch, 1_000 * KG).await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("units_unconverted")),
            "{p}"
        );
        assert!(p["detail"].as_str().unwrap().contains("20000"), "{p}");
        let (status, p) = app
            .post_as(
                &a_op,
                "/api/v1/retirements",
                &json!({"retirement_id": uuid::Uuid::new_v4(), "account_id": a_account, "batch_id": batch,
                        "quantity_g": "1000", "beneficiary": "甘肃某公司", "purpose": "抵消"}),
            )
            .await;
        assert_eq!(
            problem(&p),
            (Some("invalid_field"), Some("batch_id")),
            "{status} {p}"
        );

        // Conversion: 5,000 kg at 4.80 yuan × 1.0 into the reserve's fund.
        let convert = |q: &str| json!({"quantity": q});
        let path = format!(
            "/api/v1/rights/allocations/{}/conversions",
            alloc["id"].as_str().unwrap()
        );
        let (status, p) = app.post_as(&f.buyer_op, &path, &convert("10")).await;
        assert_eq!(
            (status, p["code"].as_str()),
            (404, Some("not_found")),
            "{p}"
        );
        let (status, p) = app.post_as(&a_op, &path, &convert("20001")).await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("insufficient_units")),
            "{p}"
        );
        let reserve_account = org_account(&app, &g.admin, &reserve).await;
        let (cash_before, _) = balance(&app, &g.admin, &reserve_account, "cash:CNY").await;
        let (status, c) = app.post_as(&a_op, &path, &convert("5000")).await;
        assert_eq!(status, 201, "{c}");
        assert_eq!(
            (
                c["guidance_price"].as_str(),
                c["rate"].as_str(),
                c["amount"].as_str(),
                c["allocation"]["unconverted"].as_str(),
                c["allocation"]["converted"].as_str()
            ),
            (
                Some("4.80"),
                Some("1"),
                Some("24000.00"),
                Some("15000"),
                Some("5000")
            ),
            "{c}"
        );
        let (cash_after, _) = balance(&app, &g.admin, &reserve_account, "cash:CNY").await;
        assert_eq!(cash_after - cash_before, 2_400_000);
        assert_eq!(
            balance(&app, &a_op, &a_account, &asset).await,
            (20_000 * KG, 15_000 * KG)
        );
        // Converted units move; beyond them the refusal names the rest.
        let (status, t) = transfer(&app, &a_op, &a_account, &b_account, &batch, 1_000 * KG).await;
        assert_eq!(status, 200, "{t}");
        let (status, p) = transfer(&app, &a_op, &a_account, &b_account, &batch, 4_001 * KG).await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("units_unconverted")),
            "{p}"
        );

        // Public: the allocation with its converted quantity.
        let page: Value = app
            .get(&format!(
                "/api/v1/public/rights/allocations?organization_id={a_id}"
            ))
            .await
            .json()
            .await
            .unwrap();
        let rows = page["data"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{page}");
        assert_eq!(rows[0]["converted"], "5000", "{page}");
        assert_eq!(rows[0]["holder_name"], a["name"], "{page}");
        assert!(a["name"].as_str().is_some_and(|n| !n.is_empty()), "{a}");

        // Claw-back: unconverted units first, then converted ones.
        let claw = json!({"organization_id": a_id, "reserve_organization_id": reserve, "instrument": so2,
            "quantity": "16000", "reason": "企业关闭", "document_sha256": "ab".repeat(32)});
        let (status, p) = app
            .post_as(&a_op, "/api/v1/reserve/claw-backs", &claw)
            .await;
        assert_eq!(status, 403, "{p}");
        let mut too_much = claw.clone();
        too_much["quantity"] = json!("19001");
        let (status, p) = app
            .post_as(&g.gov, "/api/v1/reserve/claw-backs", &too_much)
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("insufficient_units")),
            "{p}"
        );
        let (status, back) = app
            .post_as(&g.gov, "/api/v1/reserve/claw-backs", &claw)
            .await;
        assert_eq!(status, 200, "{back}");
        assert_eq!(
            (back["quantity"].as_str(), back["unconverted"].as_str()),
            (Some("16000"), Some("15000")),
            "{back}"
        );
        assert_eq!(
            balance(&app, &a_op, &a_account, &asset).await,
            (3_000 * KG, 0)
        );
        // The reserve's public operations record it.
        let ops: Value = app
            .get("/api/v1/public/reserve/operations?kind=claw_back")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            (
                ops["data"][0]["id"].as_str(),
                ops["data"][0]["quantity"].as_str(),
                ops["data"][0]["status"].as_str()
            ),
            (
                back["operation_id"].as_str(),
                Some("16000"),
                Some("accepted")
            ),
            "{ops}"
        );
        assert_eq!(
            balance(&app, &g.admin, &reserve_account, &asset).await,
            (16_000 * KG, 0)
        );
        let (_, after) = app
            .get_as(
                &g.gov,
                &format!(
                    "/api/v1/public/rights/allocations/{}",
                    alloc["id"].as_str().unwrap()
                ),
            )
            .await;
        assert_eq!(
            (after["unconverted"].as_str(), after["converted"].as_str()),
            (Some("0"), Some("5000")),
            "{after}"
        );
        // Nothing converts once nothing is unconverted.
        let (status, p) = app.post_as(&a_op, &path, &convert("1")).await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("insufficient_units")),
            "{p}"
        );
    }
}

#[tokio::test]
async fn indicators_and_rights_for_sale_are_tradeable_at_once_and_never_clawed_back() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let g = government(&app, 1).await;
        let (ecology, eco) = bureau(&app, &g, "ecology", 1).await;
        let (water, wat) = bureau(&app, &g, "water", 2).await;
        let (reserve, _) = reserve_platform(&app, &g, 1).await;
        let (b, b_op) = enterprise(&app, &g, "b@lz.cn", 51).await;
        let b_id = b["id"].as_str().unwrap().to_string();
        let b_account = org_account(&app, &b_op, &b_id).await;
        let year = app.year();
        let wci = format!("TPH-WCI-{year}");
        let indicator = json!({"bureau_organization_id": water, "organization_id": b_id,
            "instrument": wci, "quantity": "3000", "origin": "verified", "identifier": "再生水利用-2026-001"});
        let mut free = indicator.clone();
        free["origin"] = json!("free");
        free["reserve_organization_id"] = json!(reserve);
        let (status, p) = allocate(&app, &wat, &free).await;
        assert_eq!(
            problem(&p),
            (Some("invalid_field"), Some("origin")),
            "{status} {p}"
        );
        let (status, w) = allocate(&app, &wat, &indicator).await;
        assert_eq!(status, 201, "{backend:?} {w}");
        assert_eq!(
            (
                w["origin"].as_str(),
                w["unconverted"].as_str(),
                w["converted"].as_str(),
                w["valid_until"].as_str()
            ),
            (
                Some("verified"),
                Some("0"),
                Some("3000"),
                Some(deadline(year).as_str())
            ),
            "{w}"
        );
        let asset = format!("credit:{}", w["batch_id"].as_str().unwrap());
        assert_eq!(
            balance(&app, &b_op, &b_account, &asset).await,
            (3_000 * KG, 0)
        );
        let claw = json!({"organization_id": b_id, "reserve_organization_id": reserve, "instrument": wci,
            "quantity": "1", "reason": "企业关闭", "document_sha256": "ab".repeat(32)});
        let (status, p) = app
            .post_as(&g.gov, "/api/v1/reserve/claw-backs", &claw)
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("claw_back_not_applicable")),
            "{p}"
        );

        // For sale: to the bureau itself, which auctions them.
        let cod = format!("TPH-COD-{year}");
        let sale = json!({"bureau_organization_id": ecology, "organization_id": ecology,
            "instrument": cod, "quantity": "500", "origin": "sale", "identifier": "兰新环权〔2026〕1号"});
        let mut to_other = sale.clone();
        to_other["organization_id"] = json!(b_id);
        let (status, p) = allocate(&app, &eco, &to_other).await;
        assert_eq!(
            problem(&p),
            (Some("invalid_field"), Some("organization_id")),
            "{status} {p}"
        );
        let (status, s) = allocate(&app, &eco, &sale).await;
        assert_eq!(status, 201, "{s}");
        assert_eq!(
            (
                s["origin"].as_str(),
                s["converted"].as_str(),
                s["valid_until"].is_string()
            ),
            (Some("sale"), Some("500"), true),
            "{s}"
        );
        // COD had no guidance price: its first is the Lanzhou benchmark, a
        // floor, with the New Area's and the counties' tiers.
        let v: Value = app
            .get(&format!("/api/v1/public/guidance-prices?instrument={cod}"))
            .await
            .json()
            .await
            .unwrap();
        let first = &v["data"][0];
        assert_eq!(
            (
                first["version"].as_i64(),
                first["price"].as_str(),
                first["floor"].as_bool(),
                first["tiers"].as_array().map(Vec::len)
            ),
            (Some(1), Some("10.00"), Some(true), Some(2)),
            "{v}"
        );
        let eco_account = org_account(&app, &eco, &ecology).await;
        let asset = format!("credit:{}", s["batch_id"].as_str().unwrap());
        assert_eq!(
            balance(&app, &eco, &eco_account, &asset).await,
            (500 * KG, 0)
        );
        // Land indicators do not lapse by default.
        let (land, nr) = bureau(&app, &g, "natural_resources", 3).await;
        let (status, l) = allocate(
            &app,
            &nr,
            &json!({"bureau_organization_id": land, "organization_id": b_id,
                "instrument": format!("TPH-LCI-{year}"), "quantity": "12", "origin": "verified",
                "identifier": "土地整治项目-001"}),
        )
        .await;
        assert_eq!(status, 201, "{l}");
        assert_eq!(
            (l["unit"].as_str(), l["valid_until"].is_null()),
            (Some("mu"), true),
            "{l}"
        );
    }
}

#[tokio::test]
async fn every_right_class_is_allocated_by_its_bureau_in_its_unit_and_validity() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let g = government(&app, 1).await;
        let (reserve, _) = reserve_platform(&app, &g, 1).await;
        let (org, op) = enterprise(&app, &g, "c@lz.cn", 81).await;
        let holder = org["id"].as_str().unwrap().to_string();
        let account = org_account(&app, &op, &holder).await;
        let year = app.year();
        let mut bureaus = std::collections::HashMap::new();
        for (n, name) in [
            "ecology",
            "water",
            "economic_development",
            "natural_resources",
        ]
        .into_iter()
        .enumerate()
        {
            bureaus.insert(name, bureau(&app, &g, name, 10 + n as u32).await);
        }
        // (tag, bureau, origin, unit, minor, years valid)
        for (tag, by, origin, unit, minor, years) in [
            ("SO2", "ecology", "free", "kg", 1_000, Some(5)),
            ("NOX", "ecology", "free", "kg", 1_000, Some(5)),
            ("COD", "ecology", "free", "kg", 1_000, Some(5)),
            ("NH3N", "ecology", "free", "kg", 1_000, Some(5)),
            ("WSR", "water", "free", "m3", 1_000, Some(1)),
            ("WCI", "water", "verified", "m3", 1_000, Some(1)),
            ("ENU", "economic_development", "free", "tce", 1_000, Some(1)),
            ("LCI", "natural_resources", "verified", "mu", 10_000, None),
            ("LLS", "natural_resources", "verified", "mu", 10_000, None),
        ] {
            let instrument = format!("TPH-{tag}-{year}");
            let pollutant = by == "ecology";
            let mut body = json!({"organization_id": holder, "instrument": instrument,
                "quantity": "7", "origin": origin,
                "identifier": if pollutant { format!("{}002Q", uscc(81)) } else { format!("证-{tag}-1") }});
            if origin == "free" {
                body["reserve_organization_id"] = json!(reserve);
            }
            // Another bureau may not; the class's may.
            let other = if by == "water" { "ecology" } else { "water" };
            let (other_id, other_token) = &bureaus[other];
            body["bureau_organization_id"] = json!(other_id);
            let (status, p) = allocate(&app, other_token, &body).await;
            assert_eq!(
                (status, p["code"].as_str()),
                (403, Some("forbidden")),
                "{tag}: {p}"
            );
            let (id, token) = &bureaus[by];
            body["bureau_organization_id"] = json!(id);
            let (status, a) = allocate(&app, token, &body).await;
            assert_eq!(status, 201, "{backend:?} {tag}: {a}");
            let until = years.map(|y| deadline(year + y - 1));
            assert_eq!(
                (
                    a["unit"].as_str(),
                    a["valid_until"].as_str(),
                    a["origin"].as_str()
                ),
                (Some(unit), until.as_deref(), Some(origin)),
                "{tag}: {a}"
            );
            let held = if origin == "free" { 7 * minor } else { 0 };
            let asset = format!("credit:{}", a["batch_id"].as_str().unwrap());
            assert_eq!(
                balance(&app, &op, &account, &asset).await,
                (7 * minor, held),
                "{tag}"
            );
            // Claw-back applies to allocated rights only.
            let claw = json!({"organization_id": holder, "reserve_organization_id": reserve,
                "instrument": instrument, "quantity": "1", "reason": "企业搬迁",
                "document_sha256": "ef".repeat(32)});
            let (status, c) = app
                .post_as(&g.gov, "/api/v1/reserve/claw-backs", &claw)
                .await;
            if origin == "free" {
                assert_eq!(
                    (status, c["unconverted"].as_str()),
                    (200, Some("1")),
                    "{tag}: {c}"
                );
            } else {
                assert_eq!(
                    (status, c["code"].as_str()),
                    (409, Some("claw_back_not_applicable")),
                    "{tag}: {c}"
                );
            }
        }
    }
}

#[tokio::test]
async fn paid_allocations_free_their_units_instalment_by_instalment() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let g = government(&app, 1).await;
        let (ecology, eco) = bureau(&app, &g, "ecology", 1).await;
        let (reserve, _) = reserve_platform(&app, &g, 1).await;
        let f = funded_buyer(&app, &g, 3).await;
        let (a, a_op) = enterprise(&app, &g, "a@lz.cn", 41).await;
        let a_id = a["id"].as_str().unwrap().to_string();
        deposit(&app, &f, &a_id, "D-A").await;
        let a_account = org_account(&app, &a_op, &a_id).await;
        let b_account = org_account(&app, &f.buyer_op, &f.buyer).await;
        let bureau_account = org_account(&app, &eco, &ecology).await;
        let year = app.year();
        let today = app.today();
        let so2 = format!("TPH-SO2-{year}");
        listed_at_guidance(
            &app,
            &g.gov,
            &so2,
            json!({"price": "4.80", "floor": true, "reason": "2015年基准价"}),
        )
        .await;
        let body = json!({"bureau_organization_id": ecology, "organization_id": a_id,
            "instrument": so2, "quantity": "10000", "origin": "paid",
            "identifier": format!("{}002P", uscc(41)), "price": "5.00", "instalments": 3});

        // Refusals: a price and instalments only on paid allocations, in
        // range, above the floor, the last due while the rights are valid.
        let with = |changes: Value| {
            let mut b = body.clone();
            for (k, v) in changes.as_object().unwrap() {
                b[k] = v.clone();
            }
            b
        };
        for (changes, status, code, param) in [
            (json!({"price": null}), 422, "invalid_field", "price"),
            (
                json!({"instalments": 0}),
                422,
                "invalid_field",
                "instalments",
            ),
            (
                json!({"instalments": 6}),
                422,
                "invalid_field",
                "instalments",
            ),
            (
                json!({"quantity": "2", "instalments": 3}),
                422,
                "invalid_field",
                "instalments",
            ),
            (
                json!({"instrument": format!("TPH-SO2-{}", year - 4)}),
                422,
                "invalid_field",
                "instalments",
            ),
            (json!({"price": "4.79"}), 422, "below_floor", "price"),
            (json!({"price": "5.001"}), 422, "invalid_field", "price"),
            (
                json!({"origin": "free", "reserve_organization_id": reserve}),
                422,
                "invalid_field",
                "price",
            ),
            (
                json!({"origin": "free", "reserve_organization_id": reserve, "price": null}),
                422,
                "invalid_field",
                "instalments",
            ),
            (
                json!({"organization_id": ecology, "identifier": "新增排污权2026-1"}),
                422,
                "invalid_field",
                "organization_id",
            ),
        ] {
            let (s, p) = allocate(&app, &eco, &with(changes.clone())).await;
            assert_eq!(
                (s, problem(&p)),
                (status, (Some(code), Some(param))),
                "{changes}: {p}"
            );
        }

        // 10,000 kg at 5.00 in three instalments: 3,333, 3,333 and 3,334 kg,
        // due 30 days after, then a year apart; all held until paid.
        let (status, paid) = allocate(&app, &eco, &body).await;
        assert_eq!(status, 201, "{paid}");
        let due = |days: u64| {
            (today + chrono::Days::new(days))
                .format("%Y-%m-%d")
                .to_string()
        };
        let schedule: Vec<(String, String, String, String)> = paid["instalments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                let s = |k: &str| i[k].as_str().unwrap().to_string();
                (s("due_on"), s("quantity"), s("amount"), s("status"))
            })
            .collect();
        let row = |d: u64, q: &str, amount: &str, status: &str| {
            (
                due(d),
                q.to_string(),
                amount.to_string(),
                status.to_string(),
            )
        };
        assert_eq!(
            schedule,
            [
                row(30, "3333", "16665.00", "due"),
                row(395, "3333", "16665.00", "due"),
                row(760, "3334", "16670.00", "due")
            ]
        );
        assert_eq!(
            (
                paid["price"].as_str(),
                paid["unconverted"].as_str(),
                paid["converted"].as_str()
            ),
            (Some("5.00"), Some("10000"), Some("0")),
            "{paid}"
        );
        let id = paid["id"].as_str().unwrap().to_string();
        let batch = paid["batch_id"].as_str().unwrap().to_string();
        let asset = format!("credit:{batch}");
        let (status, p) = transfer(&app, &a_op, &a_account, &b_account, &batch, KG).await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("units_unconverted")),
            "{p}"
        );
        let (status, p) = app
            .post_as(
                &a_op,
                &format!("/api/v1/rights/allocations/{id}/conversions"),
                &json!({"quantity": "1"}),
            )
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("insufficient_units")),
            "{p}"
        );
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains("paying its instalments"),
            "{p}"
        );

        // The first instalment: 16,665.00 yuan to the bureau, 3,333 kg free.
        let pay = |token: String| {
            let app = &app;
            let path = format!("/api/v1/rights/allocations/{id}/instalments");
            async move { app.post_as(&token, &path, &json!({})).await }
        };
        let (status, p) = pay(f.buyer_op.clone()).await;
        assert_eq!(
            (status, p["code"].as_str()),
            (404, Some("not_found")),
            "{p}"
        );
        let cash_before = balance(&app, &a_op, &a_account, "cash:CNY").await.0;
        let (status, one) = pay(a_op.clone()).await;
        assert_eq!(status, 201, "{one}");
        assert_eq!(
            (
                one["instalment"]["number"].as_i64(),
                one["instalment"]["status"].as_str(),
                one["freed"].as_str(),
                one["allocation"]["converted"].as_str()
            ),
            (Some(1), Some("paid"), Some("3333"), Some("3333")),
            "{one}"
        );
        assert_eq!(
            balance(&app, &a_op, &a_account, "cash:CNY").await.0,
            cash_before - 1_666_500
        );
        assert_eq!(
            balance(&app, &eco, &bureau_account, "cash:CNY").await.0,
            1_666_500
        );
        assert_eq!(
            balance(&app, &a_op, &a_account, &asset).await,
            (10_000 * KG, 6_667 * KG)
        );
        let (status, t) = transfer(&app, &a_op, &a_account, &b_account, &batch, 3_333 * KG).await;
        assert_eq!(status, 200, "{t}");
        let (status, p) = transfer(&app, &a_op, &a_account, &b_account, &batch, KG).await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("units_unconverted")),
            "{p}"
        );

        // A claw-back takes unpaid units first: 5,000 of the 6,667 held.
        let claw = json!({"organization_id": a_id, "reserve_organization_id": reserve, "instrument": so2,
            "quantity": "5000", "reason": "超排", "document_sha256": "cd".repeat(32)});
        let (status, back) = app
            .post_as(&g.gov, "/api/v1/reserve/claw-backs", &claw)
            .await;
        assert_eq!(status, 200, "{back}");
        assert_eq!(back["unconverted"].as_str(), Some("5000"), "{back}");

        // A year and more later the second instalment is overdue; paid, it
        // frees only what is still held, and the third frees nothing: what
        // is owed stays owed.
        app.clock.advance(chrono::Duration::days(400));
        let a_op = app.token("a@lz.cn").await;
        let shown: Value = app
            .get(&format!("/api/v1/public/rights/allocations/{id}"))
            .await
            .json()
            .await
            .unwrap();
        let statuses: Vec<&str> = shown["instalments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, ["paid", "overdue", "due"], "{shown}");
        let (status, two) = pay(a_op.clone()).await;
        assert_eq!(status, 201, "{two}");
        assert_eq!(
            (two["freed"].as_str(), two["instalment"]["amount"].as_str()),
            (Some("1667"), Some("16665.00")),
            "{two}"
        );
        let (status, three) = pay(a_op.clone()).await;
        assert_eq!(status, 201, "{three}");
        assert_eq!(
            (
                three["freed"].as_str(),
                three["instalment"]["amount"].as_str(),
                three["allocation"]["unconverted"].as_str(),
                three["allocation"]["converted"].as_str()
            ),
            (Some("0"), Some("16670.00"), Some("0"), Some("5000")),
            "{three}"
        );
        let (status, p) = pay(a_op.clone()).await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("nothing_due")),
            "{p}"
        );
        assert_eq!(
            balance(&app, &a_op, &a_account, &asset).await,
            (1_667 * KG, 0)
        );
        let eco = app.token("ecology1@gov.cn").await;
        assert_eq!(
            balance(&app, &eco, &bureau_account, "cash:CNY").await.0,
            5_000_000
        );
    }
}
