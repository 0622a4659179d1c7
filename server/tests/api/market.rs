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
