//! The registry through the documented API: an afforestation project from
//! draft to certificate, and the rules along the way.

use serde_json::{json, Value};

use crate::helpers::{backends, spawn_app, spawn_app_with, TestApp};
use crate::helpers::{enterprise, shape};
use crate::helpers::{forest_project, forest_report, issued_forest_batch, registry};

async fn balance(app: &TestApp, token: &str, account: &str, asset: &str) -> i64 {
    let (status, b) = app
        .get_as(token, &format!("/api/v1/accounts/{account}/balances"))
        .await;
    assert_eq!(status, 200, "{b}");
    b["balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["asset"] == asset)
        .map(|x| x["available"].as_str().unwrap().parse().unwrap())
        .unwrap_or(0)
}

/// The "done when": register an afforestation project, notice,
/// approval, monitoring report, verification, issuance with buffer,
/// transfer, partial retirement, a certificate whose proof verifies, the
/// public listing — on both databases.
#[tokio::test]
async fn a_forest_sink_goes_from_draft_to_certificate() {
    for backend in backends() {
        // No notice period here (the notice rules have their own test).
        let app = spawn_app_with(backend, |s| s.registry.notice_working_days = 0).await;
        let r = registry(&app, 1).await;
        let (buyer_org, _buyer) = enterprise(&app, &r.g, "buyer@steel.cn", 800_100).await;
        let buyer_account = buyer_org["account_id"].as_str().unwrap();
        let neighbour = app.signed_in("neighbour@lz.cn").await;

        // Draft, edit, submit to notice.
        let (status, p) = app
            .post_as(
                &r.op,
                "/api/v1/projects",
                &forest_project(app.year(), r.org_id(), "北山", "LZ-0001"),
            )
            .await;
        assert_eq!((status, p["status"].as_str()), (201, Some("draft")), "{p}");
        let id = p["id"].as_str().unwrap().to_string();
        let res = app
            .send(
                reqwest::Method::PUT,
                &format!("/api/v1/projects/{id}"),
                Some(&r.op),
                Some(&forest_project(
                    app.year(),
                    r.org_id(),
                    "新区北山造林",
                    "LZ-0001",
                )),
            )
            .await;
        assert_eq!(res.status(), 200);
        // Drafts are not public.
        let (_, listed) = app.get_as(&neighbour, "/api/v1/projects").await;
        assert_eq!(listed["data"].as_array().unwrap().len(), 0, "{listed}");
        let (status, p) = app
            .post_as(
                &r.op,
                &format!("/api/v1/projects/{id}/submit"),
                &json!(null),
            )
            .await;
        assert_eq!((status, p["status"].as_str()), (200, Some("notice")), "{p}");
        assert_eq!(
            p["identities"],
            json!(["parcel:620100:lz-0001", "parcel:620100:lz-0001-b"])
        );

        // Approved; the registry number is the serial prefix.
        let (status, p) = app
            .post_as(
                &r.verifier,
                &format!("/api/v1/projects/{id}/decision"),
                &json!({"decision": "approve"}),
            )
            .await;
        assert_eq!(
            (status, p["status"].as_str()),
            (200, Some("approved")),
            "{p}"
        );
        assert_eq!(p["number"], 1);

        // Monitoring report: the server computes 5,156.25 t gross.
        let year = app.year() - 1;
        let (status, rep) = app
            .post_as(
                &r.op,
                &format!("/api/v1/projects/{id}/reports"),
                &forest_report(year),
            )
            .await;
        assert_eq!(status, 201, "{rep}");
        assert_eq!(rep["claimed_g"], "5156250000");
        assert_eq!(rep["estimate"]["gross_t"], "5156.25");
        let rid = rep["id"].as_str().unwrap();

        // Verified at a reduced quantity, with reasons; issued with a 20 %
        // buffer.
        let (status, v) = app
            .post_as(
                &r.verifier,
                &format!("/api/v1/reports/{rid}/verification"),
                &json!({"verdict": "accept_reduced", "quantity_g": 5_000_000_000i64, "reason": "parcel LZ-0001-b survey: 3 % mortality"}),
            )
            .await;
        assert_eq!(
            (status, v["verified_g"].as_str()),
            (200, Some("5000000000")),
            "{v}"
        );
        let (status, batch) = app
            .post_as(
                &r.verifier,
                &format!("/api/v1/reports/{rid}/issuance"),
                &json!(null),
            )
            .await;
        assert_eq!(status, 201, "{batch}");
        let batch_id = format!("TPH-0001-{year}-001");
        assert_eq!(batch["id"], batch_id.as_str());
        assert_eq!(batch["quantity_g"], "5000000000");
        assert_eq!(batch["buffer_g"], "1000000000");
        assert_eq!(batch["serial_first"], format!("{batch_id}-000000000001"));
        assert_eq!(batch["serial_last"], format!("{batch_id}-005000000000"));
        let asset = format!("credit:{batch_id}");
        assert_eq!(
            balance(&app, &r.op, r.account_id(), &asset).await,
            4_000_000_000
        );
        // Issued twice? No.
        let (status, _) = app
            .post_as(
                &r.verifier,
                &format!("/api/v1/reports/{rid}/issuance"),
                &json!(null),
            )
            .await;
        assert_eq!(status, 409);

        // Transfer 1,500 t to the buyer; the same transfer again moves nothing.
        let transfer = json!({
            "transfer_id": uuid::Uuid::new_v4(),
            "from_account_id": r.account_id(),
            "to_account_id": buyer_account,
            "batch_id": batch_id,
            "quantity_g": 1_500_000_000i64
        });
        for replay in [false, true] {
            let (status, t) = app.post_as(&r.op, "/api/v1/transfers", &transfer).await;
            assert_eq!(
                (status, t["replayed"].as_bool()),
                (200, Some(replay)),
                "{t}"
            );
        }
        assert_eq!(
            balance(&app, &r.op, r.account_id(), &asset).await,
            2_500_000_000
        );

        // The buyer retires 1,000 t of its 1,500 (partial) — through the
        // service centre on its behalf.
        let retirement = json!({
            "retirement_id": uuid::Uuid::new_v4(),
            "account_id": buyer_account,
            "batch_id": batch_id,
            "quantity_g": 1_000_000_000i64,
            "beneficiary": "兰州新区马拉松 2026",
            "purpose": "carbon-neutral event"
        });
        let (status, ret) = app
            .post_as(&r.verifier, "/api/v1/retirements", &retirement)
            .await;
        assert_eq!(status, 201, "{ret}");
        assert_eq!(ret["serial_first"], format!("{batch_id}-000000000001"));
        assert_eq!(ret["serial_last"], format!("{batch_id}-001000000000"));
        let (status, again) = app
            .post_as(&r.verifier, "/api/v1/retirements", &retirement)
            .await;
        assert_eq!((status, &again["id"]), (200, &ret["id"]));
        let ret_id = ret["id"].as_str().unwrap();

        // The certificate, with its proof once sealed; checked as a phone
        // would with carbon-calc.
        let head = app.sealed_head(1).await;
        let _ = head;
        let cert = loop {
            let res = app
                .get(&format!("/api/v1/retirements/{ret_id}/certificate"))
                .await;
            assert_eq!(res.status(), 200);
            let c: Value = res.json().await.unwrap();
            if !c["audit"].is_null() {
                break c;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        assert_eq!(cert["quantity_t"], "1000");
        // Printed for people in China: China time, to the second.
        let at = cert["retired_at"].as_str().unwrap();
        assert!(at.ends_with("+08:00") && !at.contains('.'), "{at}");
        // The key the certificate's head is signed with is published to pin.
        let key: Value = app
            .get("/api/v1/audit/public-key")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(key["algorithm"], "Ed25519");
        assert_eq!(
            key["public_key"], cert["audit"]["tree_head"]["public_key"],
            "{key}"
        );
        // The Node and browser tests check a committed certificate made by
        // the real server: it must still have this shape.
        let fixture: Value = serde_json::from_str(include_str!(
            "../../../tests/wasm/fixtures/certificate.json"
        ))
        .unwrap();
        assert_eq!(
            shape(&cert),
            shape(&fixture),
            "remake tests/wasm/fixtures/certificate.json with its make-certificate.sh"
        );
        assert_eq!(cert["beneficiary"], "兰州新区马拉松 2026");
        let body = crate::helpers::verified_leaf(&cert["audit"]);
        assert_eq!(body["kind"], "registry.retirement");
        assert_eq!(body["body"]["retirement"], ret_id);
        let res = app
            .get(&format!(
                "/api/v1/retirements/{ret_id}/certificate?format=html"
            ))
            .await;
        assert_eq!(res.status(), 200);
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let page = res.text().await.unwrap();
        assert!(
            page.contains("<svg") && page.contains(&format!("/api/v1/public/retirements/{ret_id}"))
        );

        // Unknown formats are refused, naming the parameter.
        for bad in [
            format!("/api/v1/retirements/{ret_id}/certificate?format=pdf"),
            "/api/v1/public/batches?format=xml".to_string(),
        ] {
            let res = app.get(&bad).await;
            assert_eq!(res.status(), 422, "{bad}");
            let e: Value = res.json().await.unwrap();
            assert_eq!(e["param"], "format", "{bad}");
        }
        assert_eq!(
            app.get("/api/v1/retirements/no-such-id/certificate")
                .await
                .status(),
            404
        );

        // Public listing, no sign-in.
        let res = app.get("/api/v1/public/projects").await;
        let listed: Value = res.json().await.unwrap();
        assert_eq!(listed["data"][0]["status"], "approved", "{listed}");
        let res = app.get("/api/v1/public/projects?status=approved").await;
        let listed: Value = res.json().await.unwrap();
        assert_eq!(listed["data"][0]["status"], "approved", "{listed}");
        let res = app.get("/api/v1/public/projects?status=aproved").await;
        assert_eq!(res.status(), 422, "a misspelt status is not an empty list");
        let e: Value = res.json().await.unwrap();
        assert_eq!(e["param"], "status", "{e}");
        let res = app.get("/api/v1/public/batches").await;
        let listed: Value = res.json().await.unwrap();
        assert_eq!(listed["data"][0]["retired_g"], "1000000000", "{listed}");
        let res = app
            .get(&format!("/api/v1/public/retirements/{ret_id}"))
            .await;
        assert_eq!(res.status(), 200);
        let res = app.get("/api/v1/public/retirements?format=csv").await;
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        let csv = res.text().await.unwrap();
        assert_eq!(
            csv.lines().next().unwrap(),
            "id,batch_id,account_id,quantity_g,serial_first,serial_last,beneficiary,purpose,created_at"
        );
        assert!(csv.contains("兰州新区马拉松 2026"), "{csv}");
        let stats: Value = app
            .get("/api/v1/public/statistics")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(stats["totals"]["issued_g"], "5000000000", "{stats}");
        assert_eq!(stats["totals"]["retired_g"], "1000000000");
        assert_eq!(stats["held_by_account_kind"]["enterprise"], "3000000000");
        assert_eq!(
            stats["held_by_account_kind"]["system"], "1000000000",
            "the buffer"
        );
        assert_eq!(stats["buffer_pool_g"], "1000000000", "{stats}");
        assert_eq!(stats["by_type_and_vintage"][0]["kind"], "afforestation");

        // A fire today (China's today: in the UTC evening it is already
        // tomorrow's date there): 300 t lost, 300 t of buffer cancelled.
        let (status, rev) = app
            .post_as(
                &r.verifier,
                &format!("/api/v1/projects/{id}/reversals"),
                &json!({"loss_g": 300_000_000i64, "cause": "fire on parcel LZ-0001", "occurred_on": app.today().to_string()}),
            )
            .await;
        assert_eq!(
            (status, rev["cancelled_g"].as_str()),
            (201, Some("300000000")),
            "{rev}"
        );
        let stats: Value = app
            .get("/api/v1/public/statistics")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(stats["totals"]["cancelled_g"], "300000000");
        assert_eq!(stats["held_by_account_kind"]["system"], "700000000");
        assert_eq!(stats["buffer_pool_g"], "700000000");
    }
}

#[tokio::test]
async fn notices_objections_and_decisions_follow_the_rules() {
    for backend in backends() {
        let app = spawn_app(backend).await; // 7 working days
        let r = registry(&app, 2).await;
        let neighbour = app.signed_in("neighbour@lz.cn").await;
        let (_, p) = app
            .post_as(
                &r.op,
                "/api/v1/projects",
                &forest_project(app.year(), r.org_id(), "南山", "LZ-0100"),
            )
            .await;
        let id = p["id"].as_str().unwrap().to_string();
        // Nobody else edits or submits it; objections only on notice.
        let (status, _) = app
            .post_as(
                &neighbour,
                &format!("/api/v1/projects/{id}/submit"),
                &json!(null),
            )
            .await;
        assert_eq!(status, 404);
        let objection = json!({"text": "parcel LZ-0100 was forest in 2020"});
        let (status, _) = app
            .post_as(
                &neighbour,
                &format!("/api/v1/projects/{id}/objections"),
                &objection,
            )
            .await;
        assert_eq!(status, 404, "a draft is not visible");
        let (status, p) = app
            .post_as(
                &r.op,
                &format!("/api/v1/projects/{id}/submit"),
                &json!(null),
            )
            .await;
        assert_eq!(status, 200);
        let closes =
            chrono::DateTime::parse_from_rfc3339(p["notice_closes_at"].as_str().unwrap()).unwrap();
        let days = (closes - app.now()).num_days();
        assert!((8..=11).contains(&days), "7 working days: {closes}");
        let (status, o) = app
            .post_as(
                &neighbour,
                &format!("/api/v1/projects/{id}/objections"),
                &objection,
            )
            .await;
        assert_eq!(status, 201, "{o}");
        let (status, rows) = app
            .get_as(&r.verifier, &format!("/api/v1/projects/{id}/objections"))
            .await;
        assert_eq!(
            (status, rows["data"].as_array().unwrap().len()),
            (200, 1),
            "{rows}"
        );
        assert_eq!(rows["has_more"], false);
        let (status, _) = app
            .get_as(&neighbour, &format!("/api/v1/projects/{id}/objections"))
            .await;
        assert_eq!(status, 403);
        // Edits stop at submission; decisions wait for the notice to close.
        let res = app
            .send(
                reqwest::Method::PUT,
                &format!("/api/v1/projects/{id}"),
                Some(&r.op),
                Some(&forest_project(app.year(), r.org_id(), "南山2", "LZ-0100")),
            )
            .await;
        assert_eq!(res.status(), 409);
        let decide = |d: Value| {
            let app = &app;
            let token = r.verifier.clone();
            let path = format!("/api/v1/projects/{id}/decision");
            async move { app.post_as(&token, &path, &d).await }
        };
        let (status, e) = decide(json!({"decision": "approve"})).await;
        assert_eq!(
            (status, e["code"].as_str()),
            (409, Some("notice_open")),
            "{e}"
        );
        let (status, _) = app
            .post_as(
                &r.op,
                &format!("/api/v1/projects/{id}/decision"),
                &json!({"decision": "approve"}),
            )
            .await;
        assert_eq!(status, 403, "enterprises do not approve themselves");

        // A second project over the same parcel is refused at submission.
        let (_, twin) = app
            .post_as(
                &r.op,
                "/api/v1/projects",
                &forest_project(app.year(), r.org_id(), "南山 bis", "LZ-0100"),
            )
            .await;
        let (status, e) = app
            .post_as(
                &r.op,
                &format!("/api/v1/projects/{}/submit", twin["id"].as_str().unwrap()),
                &json!(null),
            )
            .await;
        assert_eq!(
            (status, e["code"].as_str()),
            (409, Some("double_counting")),
            "{e}"
        );

        // Bad drafts name the field.
        let mut bad = forest_project(app.year(), r.org_id(), "x", "LZ-9");
        bad["location"] = json!({"parcels": [{"id": "tiny", "area_ha": "0.01"}]});
        let (status, e) = app.post_as(&r.op, "/api/v1/projects", &bad).await;
        assert_eq!(
            (status, e["param"].as_str()),
            (422, Some("location.parcels")),
            "{e}"
        );
        let mut bad = forest_project(app.year(), r.org_id(), "x", "LZ-9");
        bad["methodology"] = json!("ar-cm-999");
        let (status, e) = app.post_as(&r.op, "/api/v1/projects", &bad).await;
        assert_eq!(status, 422, "{e}");
        let (status, _) = app
            .post_as(
                &neighbour,
                "/api/v1/projects",
                &forest_project(app.year(), r.org_id(), "x", "LZ-9"),
            )
            .await;
        assert_eq!(status, 403);
    }
}

#[tokio::test]
async fn reports_are_computed_checked_and_never_double_counted() {
    for backend in backends() {
        let app = spawn_app_with(backend, |s| s.registry.notice_working_days = 0).await;
        let r = registry(&app, 3).await;
        let (p, _) = issued_forest_batch(&app, &r, "LZ-0200").await;
        let id = p["id"].as_str().unwrap();
        let year = app.year() - 1;
        let path = format!("/api/v1/projects/{id}/reports");
        // The issued report's period again, or overlapping it: refused.
        let mut overlap = forest_report(year);
        overlap["period_start"] = json!(format!("{year}-06-01"));
        overlap["period_end"] = json!(format!("{}-05-31", year + 1));
        let (status, e) = app.post_as(&r.op, &path, &overlap).await;
        assert_eq!(
            (status, e["code"].as_str()),
            (409, Some("period_overlaps")),
            "{e}"
        );
        // Declared as claimed elsewhere: refused.
        let mut elsewhere = forest_report(year - 1);
        elsewhere["claimed_elsewhere"] = json!(["CCER-14-2024-0042"]);
        let (status, e) = app.post_as(&r.op, &path, &elsewhere).await;
        assert_eq!(
            (status, e["code"].as_str()),
            (409, Some("double_counting")),
            "{e}"
        );
        // The wrong calculator, a buffer override, a stock loss: refused.
        let mut wrong = forest_report(year - 1);
        wrong["activity"] = json!({"calculator": "grid", "request": {"grid": "northwest-2022", "electricity_mwh": "10"}});
        let (status, e) = app.post_as(&r.op, &path, &wrong).await;
        assert_eq!(
            (status, e["param"].as_str()),
            (422, Some("activity.calculator")),
            "{e}"
        );
        let mut buffer = forest_report(year - 1);
        buffer["activity"]["request"]["buffer_fraction"] = json!("0");
        let (status, _) = app.post_as(&r.op, &path, &buffer).await;
        assert_eq!(status, 422);
        let mut loss = forest_report(year - 1);
        loss["activity"]["request"]["volume_m3_per_ha_end"] = json!("10");
        let (status, e) = app.post_as(&r.op, &path, &loss).await;
        assert_eq!(
            (status, e["code"].as_str()),
            (422, Some("out_of_range")),
            "{e}"
        );
        // An unfinished period is not reported.
        let (status, _) = app.post_as(&r.op, &path, &forest_report(app.year())).await;
        assert_eq!(status, 422);
        // The previous year is fine; rejected reports need reasons and
        // free their period.
        let (status, rep) = app.post_as(&r.op, &path, &forest_report(year - 1)).await;
        assert_eq!(status, 201, "{rep}");
        // It waits in the service centre's queue, across projects.
        let queued = |status: &'static str| {
            let (app, verifier) = (&app, &r.verifier);
            async move {
                let (code, q) = app
                    .get_as(verifier, &format!("/api/v1/reports?status={status}"))
                    .await;
                assert_eq!(code, 200, "{q}");
                q["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["id"].as_str().unwrap().to_string())
                    .collect::<Vec<_>>()
            }
        };
        let rep_id = rep["id"].as_str().unwrap().to_string();
        assert_eq!(queued("submitted").await, vec![rep_id.clone()]);
        assert_eq!(queued("issued").await.len(), 1, "the issued report");
        let (status, p) = app.get_as(&r.op, "/api/v1/reports").await;
        assert_eq!((status, p["code"].as_str()), (403, Some("forbidden")));
        let (status, p) = app
            .get_as(&r.verifier, "/api/v1/reports?status=draft")
            .await;
        assert_eq!((status, p["param"].as_str()), (422, Some("status")));
        let verify = format!(
            "/api/v1/reports/{}/verification",
            rep["id"].as_str().unwrap()
        );
        let (status, _) = app
            .post_as(&r.verifier, &verify, &json!({"verdict": "reject"}))
            .await;
        assert_eq!(status, 422);
        let (status, _) = app
            .post_as(&r.op, &verify, &json!({"verdict": "accept"}))
            .await;
        assert_eq!(status, 403);
        let (status, _) = app
            .post_as(
                &r.verifier,
                &verify,
                &json!({"verdict": "reject", "reason": "inventory plots not re-measured"}),
            )
            .await;
        assert_eq!(status, 200);
        let (status, _) = app
            .post_as(&r.verifier, &verify, &json!({"verdict": "accept"}))
            .await;
        assert_eq!(status, 409, "decided once");
        assert!(
            queued("submitted").await.is_empty(),
            "decided: out of the queue"
        );
        assert_eq!(queued("rejected").await, vec![rep_id]);
        let (status, _) = app.post_as(&r.op, &path, &forest_report(year - 1)).await;
        assert_eq!(status, 201, "a rejected period may be reported again");
    }
}

#[tokio::test]
async fn holders_move_and_retire_only_what_they_hold() {
    for backend in backends() {
        let app = spawn_app_with(backend, |s| {
            s.registry.notice_working_days = 0;
            s.registry.max_transfer_g = 2_000_000_000;
        })
        .await;
        let r = registry(&app, 4).await;
        let (_, batch) = issued_forest_batch(&app, &r, "LZ-0300").await;
        let batch_id = batch["id"].as_str().unwrap();
        let (other, other_op) = enterprise(&app, &r.g, "other@steel.cn", 800_200).await;
        let other_account = other["account_id"].as_str().unwrap();
        let send = |from: &str, to: &str, q: i64| {
            // Amounts travel as strings of integers, as in answers.
            json!({"transfer_id": uuid::Uuid::new_v4(), "from_account_id": from,
                   "to_account_id": to, "batch_id": batch_id, "quantity_g": q.to_string()})
        };
        // Holder 4,125 t. Over the per-transfer limit; someone else's
        // account; to a personal account; more than held.
        let (status, _) = app
            .post_as(
                &r.op,
                "/api/v1/transfers",
                &send(r.account_id(), other_account, 2_000_000_001),
            )
            .await;
        assert_eq!(status, 422);
        let (status, e) = app
            .post_as(
                &other_op,
                "/api/v1/transfers",
                &send(r.account_id(), other_account, 1),
            )
            .await;
        // Not the caller's: a problem that names the account field.
        assert_eq!(
            (status, e["code"].as_str(), e["param"].as_str()),
            (404, Some("not_found"), Some("from_account_id")),
            "{e}"
        );
        let (_, personal) = app.whoami(&other_op).await;
        let (status, _) = app
            .post_as(
                &r.op,
                "/api/v1/transfers",
                &send(r.account_id(), &personal, 1),
            )
            .await;
        assert_eq!(status, 422);
        let (status, _) = app
            .post_as(
                &other_op,
                "/api/v1/transfers",
                &send(other_account, r.account_id(), 1),
            )
            .await;
        assert_eq!(status, 409, "holds nothing");
        // Reusing a transfer id for another transfer.
        let t = send(r.account_id(), other_account, 1_000);
        assert_eq!(app.post_as(&r.op, "/api/v1/transfers", &t).await.0, 200);
        let mut reused = t.clone();
        reused["quantity_g"] = json!("2000");
        let (status, e) = app.post_as(&r.op, "/api/v1/transfers", &reused).await;
        assert_eq!(
            (status, e["code"].as_str()),
            (409, Some("id_reused")),
            "{e}"
        );

        // Retirements take consecutive serial ranges; never more than held.
        let retire = |q: i64| {
            json!({"retirement_id": uuid::Uuid::new_v4(), "account_id": r.account_id(),
                   "batch_id": batch_id, "quantity_g": q.to_string(), "beneficiary": "A", "purpose": "2026"})
        };
        let (status, e) = app
            .post_as(&other_op, "/api/v1/retirements", &retire(10))
            .await;
        assert_eq!(
            (status, e["param"].as_str()),
            (404, Some("account_id")),
            "{e}"
        );
        assert!(
            e["detail"].as_str().unwrap().contains(r.account_id()),
            "{e}"
        );
        let (_, a) = app.post_as(&r.op, "/api/v1/retirements", &retire(10)).await;
        let (_, b) = app.post_as(&r.op, "/api/v1/retirements", &retire(5)).await;
        assert_eq!(a["serial_last"], format!("{batch_id}-000000000010"));
        assert_eq!(b["serial_first"], format!("{batch_id}-000000000011"));
        let (status, e) = app
            .post_as(&r.op, "/api/v1/retirements", &retire(5_000_000_000))
            .await;
        assert_eq!(
            (status, e["code"].as_str()),
            (409, Some("insufficient_credits")),
            "{e}"
        );
        let (status, _) = app
            .post_as(&other_op, "/api/v1/retirements", &retire(1))
            .await;
        assert_eq!(status, 404, "not the holder's staff");
        let mut blank = retire(1);
        blank["beneficiary"] = json!("  ");
        assert_eq!(
            app.post_as(&r.op, "/api/v1/retirements", &blank).await.0,
            422
        );
    }
}

/// Credited personal reductions become one tradeable batch: each record in
/// at most one batch even when aggregations race (invariant 6), counts of
/// records and persons but no person in public, and the service centre
/// sells from the aggregator account.
#[tokio::test]
async fn personal_reductions_are_aggregated_once() {
    use crate::helpers::{base_time, commute};
    for backend in backends() {
        let app = spawn_app(backend).await;
        let r = registry(&app, 5).await;
        let day = base_time(&app) - chrono::Duration::days(2);
        let mut credited = 0i64;
        let mut people = Vec::new();
        for (i, email) in ["a@lz.cn", "b@lz.cn", "c@lz.cn"].iter().enumerate() {
            let token = app.signed_in(email).await;
            for k in 0..=i as i64 {
                let (status, trip) = app
                    .post_as(
                        &token,
                        "/api/v1/trips",
                        // Each person's own journeys (minutes apart).
                        &commute(
                            day + chrono::Duration::hours(k) + chrono::Duration::minutes(i as i64),
                            30,
                            true,
                        ),
                    )
                    .await;
                assert_eq!(status, 201, "{trip}");
                credited += trip["credited_g"].as_str().unwrap().parse::<i64>().unwrap();
            }
            people.push(app.whoami(&token).await.0);
        }
        let d = day.date_naive();
        let body = json!({"from": d.to_string(), "to": d.to_string(), "preset": "wuhan-2024"});
        // Four at once: one batch takes every record.
        let attempts = futures_util::future::join_all(
            (0..4).map(|_| app.post_as(&r.verifier, "/api/v1/aggregations", &body)),
        )
        .await;
        let made: Vec<&Value> = attempts
            .iter()
            .filter(|(s, _)| *s == 201)
            .map(|(_, b)| b)
            .collect();
        assert_eq!(made.len(), 1, "{attempts:?}");
        for (status, b) in &attempts {
            assert!(
                *status == 201
                    || (*status == 409
                        && ["nothing_to_aggregate", "try_again"]
                            .contains(&b["code"].as_str().unwrap())),
                "{status} {b}"
            );
        }
        let batch = made[0];
        assert_eq!(batch["kind"], "personal");
        assert_eq!(
            batch["quantity_g"],
            credited.to_string().as_str(),
            "{batch}"
        );
        assert_eq!(
            (batch["records"].as_i64(), batch["persons"].as_i64()),
            (Some(6), Some(3))
        );
        let (status, e) = app
            .post_as(&r.verifier, "/api/v1/aggregations", &body)
            .await;
        assert_eq!(
            (status, e["code"].as_str()),
            (409, Some("nothing_to_aggregate"))
        );
        let (status, _) = app.post_as(&r.op, "/api/v1/aggregations", &body).await;
        assert_eq!(status, 403);
        let today = json!({"from": app.today().to_string(), "to": app.today().to_string(), "preset": "wuhan-2024"});
        assert_eq!(
            app.post_as(&r.verifier, "/api/v1/aggregations", &today)
                .await
                .0,
            422
        );

        // Public: counts, no person.
        let text = app
            .get("/api/v1/public/batches?kind=personal")
            .await
            .text()
            .await
            .unwrap();
        assert!(text.contains("\"persons\":3"), "{text}");
        for p in &people {
            assert!(!text.contains(p.as_str()));
        }
        // The service centre sells 1 kg to an enterprise, which retires it.
        let batch_id = batch["id"].as_str().unwrap();
        let (status, t) = app
            .post_as(
                &r.verifier,
                "/api/v1/transfers",
                &json!({"transfer_id": uuid::Uuid::new_v4(), "from_account_id": batch["holder_account_id"],
                        "to_account_id": r.account_id(), "batch_id": batch_id, "quantity_g": 1000}),
            )
            .await;
        assert_eq!(status, 200, "{t}");
        let (status, _) = app
            .post_as(
                &r.op,
                "/api/v1/transfers",
                &json!({"transfer_id": uuid::Uuid::new_v4(), "from_account_id": batch["holder_account_id"],
                        "to_account_id": r.account_id(), "batch_id": batch_id, "quantity_g": 1}),
            )
            .await;
        assert_eq!(
            status, 404,
            "only the service centre moves the aggregator's credits"
        );
        assert_eq!(
            balance(&app, &r.op, r.account_id(), &format!("credit:{batch_id}")).await,
            1000
        );
    }
}

/// An event's footprint, computed by carbon-calc from the electricity it
/// used, covered by two retirements; a retirement covers one claim only.
#[tokio::test]
async fn carbon_neutral_claims_show_what_is_covered() {
    for backend in backends() {
        let app = spawn_app_with(backend, |s| s.registry.notice_working_days = 0).await;
        let r = registry(&app, 6).await;
        let (_, batch) = issued_forest_batch(&app, &r, "LZ-0600").await;
        let batch_id = batch["id"].as_str().unwrap();
        // 10 MWh in the Northwest grid (0.5857 t/MWh) = 5,857 kg.
        let (status, claim) = app
            .post_as(
                &r.op,
                "/api/v1/claims",
                &json!({"organization_id": r.org_id(), "subject": "2026 兰州新区马拉松",
                        "period_start": "2026-05-01", "period_end": "2026-05-01",
                        "activity": {"calculator": "grid", "request": {"grid": "northwest-2022", "electricity_mwh": "10"}}}),
            )
            .await;
        assert_eq!(status, 201, "{claim}");
        assert_eq!(claim["footprint_g"], "5857000");
        assert_eq!(claim["carbon_neutral"], false);
        let id = claim["id"].as_str().unwrap();
        let mut covered = Vec::new();
        for q in [5_000_000i64, 857_000] {
            let (status, ret) = app
                .post_as(
                    &r.op,
                    "/api/v1/retirements",
                    &json!({"retirement_id": uuid::Uuid::new_v4(), "account_id": r.account_id(),
                            "batch_id": batch_id, "quantity_g": q,
                            "beneficiary": "2026 兰州新区马拉松", "purpose": "carbon-neutral event"}),
                )
                .await;
            assert_eq!(status, 201);
            covered.push(ret["id"].as_str().unwrap().to_string());
        }
        let path = format!("/api/v1/claims/{id}/retirements");
        let (_, half) = app
            .post_as(&r.op, &path, &json!({"retirement_id": covered[0]}))
            .await;
        assert_eq!(
            (half["covered_g"].as_str(), half["uncovered_g"].as_str()),
            (Some("5000000"), Some("857000"))
        );
        let (_, full) = app
            .post_as(&r.op, &path, &json!({"retirement_id": covered[1]}))
            .await;
        assert_eq!(full["carbon_neutral"], true, "{full}");
        // Public; a retirement counts once.
        let public: Value = app
            .get(&format!("/api/v1/public/claims/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(public["uncovered_g"], "0");
        let (_, other) = app
            .post_as(
                &r.op,
                "/api/v1/claims",
                &json!({"organization_id": r.org_id(), "subject": "2026",
                    "period_start": "2026-01-01", "period_end": "2026-12-31", "footprint_g": 1}),
            )
            .await;
        let (status, e) = app
            .post_as(
                &r.op,
                &format!(
                    "/api/v1/claims/{}/retirements",
                    other["id"].as_str().unwrap()
                ),
                &json!({"retirement_id": covered[0]}),
            )
            .await;
        assert_eq!(
            (status, e["code"].as_str()),
            (409, Some("retirement_already_claimed"))
        );
        let (status, _) = app
            .post_as(&r.verifier, &path, &json!({"retirement_id": covered[0]}))
            .await;
        assert_eq!(status, 403);
        let (status, _) = app
            .post_as(
                &r.op,
                "/api/v1/claims",
                &json!({"organization_id": r.org_id(), "subject": "x",
                    "period_start": "2026-01-01", "period_end": "2026-12-31"}),
            )
            .await;
        assert_eq!(status, 422, "a footprint is required");
    }
}

/// Projects approved at the same moment get consecutive registry numbers
/// (a counter row, not a read of the maximum).
#[tokio::test]
async fn approvals_at_once_get_consecutive_numbers() {
    for backend in backends() {
        let app = spawn_app_with(backend, |s| s.registry.notice_working_days = 0).await;
        let r = registry(&app, 7).await;
        let mut ids = Vec::new();
        for i in 0..6 {
            let (_, p) = app
                .post_as(
                    &r.op,
                    "/api/v1/projects",
                    &forest_project(app.year(), r.org_id(), &format!("林{i}"), &format!("N-{i}")),
                )
                .await;
            let id = p["id"].as_str().unwrap().to_string();
            let (status, _) = app
                .post_as(
                    &r.op,
                    &format!("/api/v1/projects/{id}/submit"),
                    &json!(null),
                )
                .await;
            assert_eq!(status, 200);
            ids.push(id);
        }
        let paths: Vec<String> = ids
            .iter()
            .map(|id| format!("/api/v1/projects/{id}/decision"))
            .collect();
        let approve = json!({"decision": "approve"});
        let decided = futures_util::future::join_all(
            paths
                .iter()
                .map(|path| app.post_as(&r.verifier, path, &approve)),
        )
        .await;
        let mut numbers: Vec<i64> = decided
            .iter()
            .map(|(status, p)| {
                assert_eq!(*status, 200, "{p}");
                p["number"].as_i64().unwrap()
            })
            .collect();
        numbers.sort();
        assert_eq!(numbers, (1..=6).collect::<Vec<i64>>());
    }
}

/// The notice period runs on the server's clock: a decision waits for it,
/// objections stop with it. Time is moved with the test clock (access
/// tokens expire on the same clock, so people sign in again).
#[tokio::test]
async fn a_notice_closes_when_the_clock_says_so() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let r = registry(&app, 8).await;
        let (status, p) = app
            .post_as(
                &r.op,
                "/api/v1/projects",
                &forest_project(app.year(), r.org_id(), "北山", "LZ-0300"),
            )
            .await;
        assert_eq!(status, 201, "{p}");
        let id = p["id"].as_str().unwrap().to_string();
        let (_, p) = app
            .post_as(
                &r.op,
                &format!("/api/v1/projects/{id}/submit"),
                &json!(null),
            )
            .await;
        let closes =
            chrono::DateTime::parse_from_rfc3339(p["notice_closes_at"].as_str().unwrap()).unwrap();
        let decision = format!("/api/v1/projects/{id}/decision");
        let objection = format!("/api/v1/projects/{id}/objections");
        let signed_in = |email: String| {
            let app = &app;
            async move {
                app.login(&email).await["access_token"]
                    .as_str()
                    .unwrap()
                    .to_string()
            }
        };

        app.clock.set(closes - chrono::Duration::minutes(5));
        let verifier = signed_in("verifier8@centre.cn".into()).await;
        let neighbour = app.signed_in("neighbour@lz.cn").await;
        let (status, e) = app
            .post_as(&verifier, &decision, &json!({"decision": "approve"}))
            .await;
        assert_eq!(
            (status, e["code"].as_str()),
            (409, Some("notice_open")),
            "{backend:?}: five minutes before the close"
        );
        let (status, _) = app
            .post_as(&neighbour, &objection, &json!({"text": "too early?"}))
            .await;
        assert_eq!(status, 201, "objections are taken until the close");

        app.clock.advance(chrono::Duration::minutes(10));
        let verifier = signed_in("verifier8@centre.cn".into()).await;
        let neighbour = signed_in("neighbour@lz.cn".into()).await;
        let (status, e) = app
            .post_as(&neighbour, &objection, &json!({"text": "too late"}))
            .await;
        assert_eq!(
            (status, e["code"].as_str()),
            (409, Some("notice_closed")),
            "{e}"
        );
        let (status, p) = app
            .post_as(&verifier, &decision, &json!({"decision": "approve"}))
            .await;
        assert_eq!(
            (status, p["status"].as_str()),
            (200, Some("approved")),
            "{p}"
        );
    }
}
