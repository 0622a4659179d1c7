//! Carbon accounts over HTTP: balances, entries in pages, and object-level
//! authorisation of every route that names an object, tried as every kind
//! of wrong user.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{json, Value};
use tanpuhui_server::accounts::service as accounts;

use crate::helpers::{backends, grant_points, spawn_app, spawn_app_with, uscc};
use crate::helpers::{enterprise, government};

#[tokio::test]
async fn balances_and_entries_in_pages() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let token = app.signed_in("walker@lz.cn").await;
        let (_, account) = app.whoami(&token).await;
        let (status, view) = app
            .get_as(&token, &format!("/api/v1/accounts/{account}"))
            .await;
        assert_eq!((status, view["kind"].as_str()), (200, Some("personal")));
        let (_, b) = app
            .get_as(&token, &format!("/api/v1/accounts/{account}/balances"))
            .await;
        assert_eq!(b["balances"], json!([]));

        for i in 0..25 {
            grant_points(&app, &account, 10 + i, &format!("trip-{i}")).await;
        }
        let (_, b) = app
            .get_as(&token, &format!("/api/v1/accounts/{account}/balances"))
            .await;
        let total: i64 = (0..25).map(|i| 10 + i).sum();
        assert_eq!(
            b["balances"],
            json!([{"asset": "points", "posted": total.to_string(), "held": "0", "available": total.to_string()}])
        );

        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        let mut pages = 0;
        loop {
            let path = match &after {
                None => format!("/api/v1/accounts/{account}/entries?limit=10"),
                Some(a) => {
                    format!("/api/v1/accounts/{account}/entries?limit=10&starting_after={a}")
                }
            };
            let (status, page) = app.get_as(&token, &path).await;
            assert_eq!(status, 200, "{page}");
            pages += 1;
            let data = page["data"].as_array().unwrap();
            seen.extend(
                data.iter()
                    .map(|e| e["transaction_id"].as_str().unwrap().to_string()),
            );
            if !page["has_more"].as_bool().unwrap() {
                break;
            }
            after = Some(data.last().unwrap()["id"].as_str().unwrap().to_string());
        }
        assert_eq!(pages, 3, "{backend:?}");
        let expected: Vec<String> = (0..25).rev().map(|i| format!("trip-{i}")).collect();
        assert_eq!(seen, expected, "newest first, each once");

        for (query, status, param) in [
            ("limit=0", 422, Some("limit")),
            ("limit=101", 422, Some("limit")),
            ("limit=ten", 400, None),
            ("starting_after=abc", 422, Some("starting_after")),
        ] {
            let (got, p) = app
                .get_as(
                    &token,
                    &format!("/api/v1/accounts/{account}/entries?{query}"),
                )
                .await;
            assert_eq!(got, status, "{query}: {p}");
            if let Some(param) = param {
                assert_eq!(p["param"], param);
            }
        }
    }
}

/// Every route with an object id in its path, tried by users who must not
/// reach the object and by those who may. A route added to the API without
/// a row here fails the test.
#[tokio::test]
async fn every_object_route_refuses_the_wrong_user() {
    for backend in backends() {
        // No public notice, so the project can be decided at once.
        let app = spawn_app_with(backend, |s| {
            s.registry.notice_working_days = 0;
            s.market.round_the_clock = true;
        })
        .await;
        let g = government(&app, 4).await;
        let (org, operator) = enterprise(&app, &g, "op@pv.cn", 40).await;
        let org_id = org["id"].as_str().unwrap().to_string();
        let org_account = org["account_id"].as_str().unwrap().to_string();
        let owner = app.signed_in("owner@lz.cn").await;
        let (_, personal) = app.whoami(&owner).await;
        let (status, trip) = app
            .post_as(
                &owner,
                "/api/v1/trips",
                &crate::helpers::commute(crate::helpers::base_time(&app), 30, false),
            )
            .await;
        assert_eq!(status, 201, "{trip}");
        let trip_id = trip["id"].as_str().unwrap().to_string();
        let stranger = app.signed_in("stranger@lz.cn").await;
        let (stranger_id, _) = app.whoami(&stranger).await;
        // A member of the enterprise who holds no role in it.
        let member = app.signed_in("member@pv.cn").await;
        let (status, m) = app
            .post_as(
                &member,
                &format!("/api/v1/organizations/{org_id}/memberships"),
                &json!(null),
            )
            .await;
        assert_eq!(status, 201);
        let mid = m["id"].as_str().unwrap().to_string();
        // A verifier of the service centre.
        let verifier = crate::helpers::verifier(&app, &g.admin, "verifier@centre.cn", 41).await;
        let now = app.now();
        let issuer = accounts::system(&app.db, "issuer:points", now)
            .await
            .unwrap()
            .id;

        // A pending application nobody but its applicant and government see.
        let applicant = app.signed_in("applicant@x.cn").await;
        let (_, pending) = app
            .post_as(
                &applicant,
                "/api/v1/organizations",
                &json!({"kind": "enterprise", "name": "待审企业", "uscc": uscc(42)}),
            )
            .await;
        let pending_id = pending["id"].as_str().unwrap().to_string();
        // The enterprise as a trip-feed partner, and the owner's card of it.
        let (status, key) = app
            .post_as(
                &g.admin,
                &format!("/api/v1/organizations/{org_id}/partner-keys"),
                &json!(null),
            )
            .await;
        assert_eq!(status, 201, "{key}");
        let key_id = key["id"].as_str().unwrap().to_string();
        let (status, card) = app
            .post_as(
                &owner,
                "/api/v1/me/transit-cards",
                &json!({"organization_id": org_id, "card_id": "62170000"}),
            )
            .await;
        assert_eq!(status, 201, "{card}");
        let card_id = card["id"].as_str().unwrap().to_string();
        // A reward the enterprise offers as a merchant.
        let (status, reward) = app
            .post_as(
                &operator,
                "/api/v1/rewards",
                &json!({"name": "x", "points_cost": 1, "stock": 1, "merchant_id": org_id}),
            )
            .await;
        assert_eq!(status, 201, "{reward}");
        let reward_id = reward["id"].as_str().unwrap().to_string();

        // A draft project of the enterprise, and an approved one with a
        // monitoring report.
        let project = |name: &str, parcel: &str| {
            crate::helpers::forest_project(app.year(), &org_id, name, parcel)
        };
        let (status, draft) = app
            .post_as(&operator, "/api/v1/projects", &project("草稿", "P-1"))
            .await;
        assert_eq!(status, 201, "{draft}");
        let draft_id = draft["id"].as_str().unwrap().to_string();
        let (_, live) = app
            .post_as(&operator, "/api/v1/projects", &project("林", "P-2"))
            .await;
        let live_id = live["id"].as_str().unwrap().to_string();
        let (status, _) = app
            .post_as(
                &operator,
                &format!("/api/v1/projects/{live_id}/submit"),
                &json!(null),
            )
            .await;
        assert_eq!(status, 200);
        let (status, _) = app
            .post_as(
                &verifier,
                &format!("/api/v1/projects/{live_id}/decision"),
                &json!({"decision": "approve"}),
            )
            .await;
        assert_eq!(status, 200);
        let year = app.year() - 1;
        let (status, report) = app
            .post_as(
                &operator,
                &format!("/api/v1/projects/{live_id}/reports"),
                &crate::helpers::forest_report(year),
            )
            .await;
        assert_eq!(status, 201, "{report}");
        let report_id = report["id"].as_str().unwrap().to_string();

        let users: Vec<(&str, &String)> = vec![
            ("owner", &owner),
            ("operator", &operator),
            ("member", &member),
            ("stranger", &stranger),
            ("verifier", &verifier),
            ("government", &g.gov),
            ("admin", &g.admin),
        ];
        // (route template, method, concrete path, body, users allowed, status for the others)
        type Row = (
            &'static str,
            Method,
            String,
            Option<Value>,
            &'static [&'static str],
            u16,
        );
        let mut rows: Vec<Row> = Vec::new();
        for (account, allowed) in [
            (&personal, &["owner", "verifier", "admin"][..]),
            (&org_account, &["operator", "verifier", "admin"][..]),
            (&issuer, &["admin"][..]),
        ] {
            rows.push((
                "/api/v1/accounts/{id}",
                Method::GET,
                format!("/api/v1/accounts/{account}"),
                None,
                allowed,
                404,
            ));
            rows.push((
                "/api/v1/accounts/{id}/balances",
                Method::GET,
                format!("/api/v1/accounts/{account}/balances"),
                None,
                allowed,
                404,
            ));
            rows.push((
                "/api/v1/accounts/{id}/entries",
                Method::GET,
                format!("/api/v1/accounts/{account}/entries"),
                None,
                allowed,
                404,
            ));
        }
        rows.push((
            "/api/v1/organizations/{id}",
            Method::GET,
            format!("/api/v1/organizations/{pending_id}"),
            None,
            &["government", "admin"],
            404,
        ));
        rows.push((
            "/api/v1/organizations/{id}/memberships",
            Method::GET,
            format!("/api/v1/organizations/{org_id}/memberships"),
            None,
            &["operator", "admin"],
            403,
        ));
        rows.push((
            "/api/v1/organizations/{id}/roles",
            Method::POST,
            format!("/api/v1/organizations/{org_id}/roles"),
            Some(json!({"user_id": stranger_id, "role": "enterprise_operator"})),
            &["operator", "admin"],
            403,
        ));
        rows.push((
            "/api/v1/organizations/{id}/memberships/{membership_id}/{decision}",
            Method::POST,
            format!("/api/v1/organizations/{org_id}/memberships/{mid}/reject"),
            None,
            &["operator", "admin"],
            403,
        ));
        // A person's notifications are theirs alone: the operator was told
        // of the organisation's approval.
        let (_, told) = app.get_as(&operator, "/api/v1/me/notifications").await;
        let notification = told["data"][0]["id"].as_str().unwrap().to_string();
        rows.push((
            "/api/v1/me/notifications/{id}/read",
            Method::POST,
            format!("/api/v1/me/notifications/{notification}/read"),
            None,
            &["operator"],
            404,
        ));
        // A person's trips are theirs alone (reviewers get their own route).
        rows.push((
            "/api/v1/trips/{id}",
            Method::GET,
            format!("/api/v1/trips/{trip_id}"),
            None,
            &["owner"],
            404,
        ));
        rows.push((
            "/api/v1/reviews/trips/{id}",
            Method::GET,
            format!("/api/v1/reviews/trips/{trip_id}"),
            None,
            &["verifier", "admin"],
            403,
        ));
        rows.push((
            "/api/v1/reviews/trips/{id}",
            Method::POST,
            format!("/api/v1/reviews/trips/{trip_id}"),
            Some(json!({"decision": "reject", "reason": "not yours to decide"})),
            &["verifier", "admin"],
            403,
        ));
        rows.push((
            "/api/v1/organizations/{id}/summary",
            Method::GET,
            format!("/api/v1/organizations/{org_id}/summary"),
            None,
            &["operator", "admin"],
            403,
        ));
        // Applying to join a pending organisation: invisible to all but
        // those who review it (they get 409 not_joinable).
        rows.push((
            "/api/v1/organizations/{id}/memberships",
            Method::POST,
            format!("/api/v1/organizations/{pending_id}/memberships"),
            None,
            &["government", "admin"],
            404,
        ));
        rows.push((
            "/api/v1/organizations/{id}/approve",
            Method::POST,
            format!("/api/v1/organizations/{pending_id}/approve"),
            Some(json!({})),
            &["government", "admin"],
            403,
        ));
        rows.push((
            "/api/v1/organizations/{id}/reject",
            Method::POST,
            format!("/api/v1/organizations/{pending_id}/reject"),
            Some(json!({"reason": "x"})),
            &["government", "admin"],
            403,
        ));

        rows.push((
            "/api/v1/organizations/{id}/partner-keys",
            Method::GET,
            format!("/api/v1/organizations/{org_id}/partner-keys"),
            None,
            &["operator", "admin"],
            404,
        ));
        rows.push((
            "/api/v1/organizations/{id}/partner-keys",
            Method::POST,
            format!("/api/v1/organizations/{org_id}/partner-keys"),
            None,
            &["admin"],
            403,
        ));
        rows.push((
            "/api/v1/organizations/{id}/partner-keys/{key_id}/revoke",
            Method::POST,
            format!("/api/v1/organizations/{org_id}/partner-keys/{key_id}/revoke"),
            None,
            &["operator", "admin"],
            404,
        ));
        rows.push((
            "/api/v1/me/transit-cards/{id}",
            Method::DELETE,
            format!("/api/v1/me/transit-cards/{card_id}"),
            None,
            &["owner"],
            404,
        ));

        rows.push((
            "/api/v1/rewards/{id}",
            Method::PATCH,
            format!("/api/v1/rewards/{reward_id}"),
            Some(json!({"stock": 0})),
            &["operator", "admin"],
            404,
        ));

        let seen_by_centre = &["operator", "verifier", "admin"][..];
        for (route, method, path) in [
            (
                "/api/v1/projects/{id}",
                Method::GET,
                format!("/api/v1/projects/{draft_id}"),
            ),
            (
                "/api/v1/projects/{id}/objections",
                Method::GET,
                format!("/api/v1/projects/{draft_id}/objections"),
            ),
            (
                "/api/v1/projects/{id}/reports",
                Method::GET,
                format!("/api/v1/projects/{live_id}/reports"),
            ),
            (
                "/api/v1/reports/{id}",
                Method::GET,
                format!("/api/v1/reports/{report_id}"),
            ),
        ] {
            rows.push((route, method, path, None, seen_by_centre, 404));
        }
        // Writes the enterprise's operators make: others cannot see a draft
        // (404); the service centre and administrators see it but may not
        // act for the enterprise (403, below).
        let draft_body = project("草稿", "P-1");
        for (route, method, path, body) in [
            (
                "/api/v1/projects/{id}",
                Method::PUT,
                format!("/api/v1/projects/{draft_id}"),
                Some(draft_body),
            ),
            (
                "/api/v1/projects/{id}/submit",
                Method::POST,
                format!("/api/v1/projects/{draft_id}/submit"),
                None,
            ),
            (
                "/api/v1/projects/{id}/reports",
                Method::POST,
                format!("/api/v1/projects/{draft_id}/reports"),
                Some(crate::helpers::forest_report(year - 1)),
            ),
        ] {
            rows.push((route, method, path, body, &["operator"], 404));
        }
        rows.push((
            "/api/v1/projects/{id}/objections",
            Method::POST,
            format!("/api/v1/projects/{draft_id}/objections"),
            Some(json!({"text": "x"})),
            seen_by_centre,
            404,
        ));
        // The service centre's decisions: refused by role, whatever the id.
        for (route, path, body) in [
            (
                "/api/v1/projects/{id}/decision",
                format!("/api/v1/projects/{draft_id}/decision"),
                json!({"decision": "reject", "reason": "x"}),
            ),
            (
                "/api/v1/projects/{id}/reversals",
                format!("/api/v1/projects/{live_id}/reversals"),
                json!({"loss_g": 1, "cause": "x", "occurred_on": "2026-01-01"}),
            ),
            (
                "/api/v1/reports/{id}/verification",
                format!("/api/v1/reports/{report_id}/verification"),
                json!({"verdict": "reject", "reason": "x"}),
            ),
            (
                "/api/v1/reports/{id}/issuance",
                format!("/api/v1/reports/{report_id}/issuance"),
                json!(null),
            ),
        ] {
            rows.push((route, Method::POST, path, Some(body), &["verifier"], 403));
        }
        let (status, claim) = app
            .post_as(
                &operator,
                "/api/v1/claims",
                &json!({"organization_id": org_id, "subject": "2026", "period_start": "2026-01-01",
                        "period_end": "2026-12-31", "footprint_g": 1}),
            )
            .await;
        assert_eq!(status, 201, "{claim}");
        rows.push((
            "/api/v1/claims/{id}/retirements",
            Method::POST,
            format!(
                "/api/v1/claims/{}/retirements",
                claim["id"].as_str().unwrap()
            ),
            Some(json!({"retirement_id": "x"})),
            &["operator"],
            403,
        ));
        // The market: listing decisions by role; a withdrawal is decided by
        // its bank's staff only (none of these users): even the
        // organisation that asked for it sees no such withdrawal to decide.
        rows.push((
            "/api/v1/market/instruments/{code}/rules",
            Method::POST,
            format!("/api/v1/market/instruments/TPH-FOR-{}/rules", year - 1),
            Some(json!({"reason": "x"})),
            &["government", "admin"],
            403,
        ));
        for what in ["suspend", "resume"] {
            rows.push((
                if what == "suspend" {
                    "/api/v1/market/instruments/{code}/suspend"
                } else {
                    "/api/v1/market/instruments/{code}/resume"
                },
                Method::POST,
                format!("/api/v1/market/instruments/TPH-FOR-{}/{what}", year - 1),
                Some(json!({"reason": "x"})),
                &["government", "admin"],
                403,
            ));
        }
        let (bank_id, teller) = crate::helpers::bank(&app, &g, 43).await;
        let (status, d) = app
            .post_as(
                &teller,
                "/api/v1/market/deposits",
                &json!({"bank_id": bank_id, "reference": "R", "organization_id": org_id, "amount": "1000"}),
            )
            .await;
        assert_eq!(status, 201, "{d}");
        let (status, w) = app
            .post_as(
                &operator,
                "/api/v1/market/withdrawals",
                &json!({"organization_id": org_id, "bank_id": bank_id, "bank_account": "1", "amount": "100"}),
            )
            .await;
        assert_eq!(status, 201, "{w}");
        // An open order of the enterprise: its staff's alone.
        let code = format!("TPH-FOR-{}", year - 1);
        let (status, i) = app
            .post_as(
                &g.gov,
                "/api/v1/market/instruments",
                &json!({"code": code, "reference_price": "1.00"}),
            )
            .await;
        assert_eq!(status, 201, "{i}");
        let (status, placed) = app
            .post_as(
                &operator,
                "/api/v1/market/orders",
                &json!({"organization_id": org_id, "client_order_id": "o-1", "instrument": code,
                        "side": "buy", "price": "1.00", "quantity": "1"}),
            )
            .await;
        assert_eq!(status, 201, "{placed}");
        let order_id = placed["order"]["id"].as_str().unwrap();
        rows.push((
            "/api/v1/market/orders/{id}",
            Method::GET,
            format!("/api/v1/market/orders/{order_id}"),
            None,
            &["operator"],
            404,
        ));
        rows.push((
            "/api/v1/market/instruments/{code}/orders",
            Method::GET,
            format!("/api/v1/market/instruments/{code}/orders"),
            None,
            &["operator", "verifier", "government", "admin"],
            403,
        ));
        rows.push((
            "/api/v1/market/orders/{id}/cancel",
            Method::POST,
            format!("/api/v1/market/orders/{order_id}/cancel"),
            None,
            &["operator"],
            404,
        ));
        rows.push((
            "/api/v1/market/withdrawals/{id}/decision",
            Method::POST,
            format!(
                "/api/v1/market/withdrawals/{}/decision",
                w["id"].as_str().unwrap()
            ),
            Some(json!({"decision": "refuse", "reason": "x"})),
            &[],
            404,
        ));
        // Block trades and bids name an organisation the caller must act
        // for and an object of it; a block of other organisations (here one
        // that does not exist) looks absent to everyone, staff included.
        let nobody = uuid::Uuid::now_v7().to_string();
        let as_org = json!({"organization_id": org_id});
        rows.push((
            "/api/v1/market/blocks/{id}",
            Method::GET,
            format!("/api/v1/market/blocks/{nobody}"),
            None,
            &[],
            404,
        ));
        for (template, what) in [
            ("/api/v1/market/blocks/{id}/accept", "accept"),
            ("/api/v1/market/blocks/{id}/decline", "decline"),
            ("/api/v1/market/blocks/{id}/withdraw", "withdraw"),
        ] {
            rows.push((
                template,
                Method::POST,
                format!("/api/v1/market/blocks/{nobody}/{what}"),
                Some(as_org.clone()),
                &[],
                404,
            ));
        }
        rows.push((
            "/api/v1/market/auctions/{id}/bids",
            Method::POST,
            format!("/api/v1/market/auctions/{nobody}/bids"),
            Some(json!({"organization_id": org_id, "client_order_id": "bid-1", "price": "1.00", "quantity": "1"})),
            &[],
            404,
        ));
        // Guidance price reviews and stabilisation actions are public: one
        // that does not exist is absent to everyone (deciding and executing
        // real ones as the wrong user: pricing).
        rows.push((
            "/api/v1/guidance-reviews/{id}/decision",
            Method::POST,
            format!("/api/v1/guidance-reviews/{nobody}/decision"),
            Some(json!({"decision": "approve"})),
            &[],
            404,
        ));
        rows.push((
            "/api/v1/stabilisation-actions/{id}/execute",
            Method::POST,
            format!("/api/v1/stabilisation-actions/{nobody}/execute"),
            Some(as_org.clone()),
            &[],
            404,
        ));
        // A reserve operation is its two parties': one that does not exist
        // is absent to everyone (the wrong party of a real one: reserve).
        for what in ["accept", "decline", "withdraw", "return"] {
            let mut body = as_org.clone();
            body["reason"] = json!("不符合收储条件");
            rows.push((
                match what {
                    "accept" => "/api/v1/reserve/operations/{id}/accept",
                    "decline" => "/api/v1/reserve/operations/{id}/decline",
                    "withdraw" => "/api/v1/reserve/operations/{id}/withdraw",
                    _ => "/api/v1/reserve/operations/{id}/return",
                },
                Method::POST,
                format!("/api/v1/reserve/operations/{nobody}/{what}"),
                Some(body),
                &[],
                404,
            ));
        }
        // A pledge is its parties': one that does not exist is absent to
        // everyone (the wrong party of a real one: finance).
        rows.push((
            "/api/v1/pledges/{id}",
            Method::GET,
            format!("/api/v1/pledges/{nobody}"),
            None,
            &[],
            404,
        ));
        for (template, what, body) in [
            (
                "/api/v1/pledges/{id}/confirm",
                "confirm",
                json!({"organization_id": org_id, "loan_amount": "1", "matures_on": "2030-01-01"}),
            ),
            ("/api/v1/pledges/{id}/consent", "consent", as_org.clone()),
            (
                "/api/v1/pledges/{id}/decline",
                "decline",
                json!({"organization_id": org_id, "reason": "x"}),
            ),
            ("/api/v1/pledges/{id}/withdraw", "withdraw", as_org.clone()),
            (
                "/api/v1/pledges/{id}/enforce",
                "enforce",
                json!({"organization_id": org_id, "method": "reserve", "reserve_organization_id": org_id}),
            ),
            (
                "/api/v1/pledges/{id}/guarantee/accept",
                "guarantee/accept",
                as_org.clone(),
            ),
            (
                "/api/v1/pledges/{id}/guarantee/decline",
                "guarantee/decline",
                as_org.clone(),
            ),
            (
                "/api/v1/pledges/{id}/repayments",
                "repayments",
                json!({"organization_id": org_id, "reference": "r", "amount": "1"}),
            ),
            (
                "/api/v1/pledges/{id}/top-ups",
                "top-ups",
                json!({"organization_id": org_id, "reference": "r", "quantity": "1"}),
            ),
            (
                "/api/v1/pledges/{id}/releases",
                "releases",
                json!({"organization_id": org_id, "reference": "r", "quantity": "1"}),
            ),
        ] {
            rows.push((
                template,
                Method::POST,
                format!("/api/v1/pledges/{nobody}/{what}"),
                Some(body),
                &[],
                404,
            ));
        }
        // A policy is its insurer's and holder's, a claim its insurer's:
        // one that does not exist is absent to everyone (the wrong side of
        // a real one: finance).
        rows.push((
            "/api/v1/insurance/policies/{id}",
            Method::GET,
            format!("/api/v1/insurance/policies/{nobody}"),
            None,
            &[],
            404,
        ));
        for what in ["accept", "decline", "withdraw"] {
            rows.push((
                match what {
                    "accept" => "/api/v1/insurance/policies/{id}/accept",
                    "decline" => "/api/v1/insurance/policies/{id}/decline",
                    _ => "/api/v1/insurance/policies/{id}/withdraw",
                },
                Method::POST,
                format!("/api/v1/insurance/policies/{nobody}/{what}"),
                Some(as_org.clone()),
                &[],
                404,
            ));
        }
        rows.push((
            "/api/v1/insurance/claims/{id}/approve",
            Method::POST,
            format!("/api/v1/insurance/claims/{nobody}/approve"),
            Some(as_org.clone()),
            &[],
            404,
        ));
        // An allocation's conversion and instalments and a compliance
        // year's surrenders are the holder's (the wrong holder of real
        // ones: rights_allocation, rights_compliance).
        rows.push((
            "/api/v1/rights/allocations/{id}/instalments",
            Method::POST,
            format!("/api/v1/rights/allocations/{nobody}/instalments"),
            Some(json!({})),
            &[],
            404,
        ));
        rows.push((
            "/api/v1/rights/allocations/{id}/conversions",
            Method::POST,
            format!("/api/v1/rights/allocations/{nobody}/conversions"),
            Some(json!({"quantity": "1"})),
            &[],
            404,
        ));
        rows.push((
            "/api/v1/rights/compliance/{id}/surrenders",
            Method::POST,
            format!("/api/v1/rights/compliance/{nobody}/surrenders"),
            Some(json!({"quantity": "1"})),
            &[],
            404,
        ));
        // A trade's attestation is its parties' (a third party's refusal
        // of a real trade: market_methods).
        rows.push((
            "/api/v1/market/trades/{id}/attestation",
            Method::GET,
            format!("/api/v1/market/trades/{nobody}/attestation"),
            None,
            &[],
            404,
        ));
        let sees_but_may_not_act = |method: &Method, path: &str, name: &str| {
            *method != Method::GET
                && path.contains(&draft_id)
                && !path.ends_with("/objections")
                && !path.ends_with("/decision")
                && matches!(name, "verifier" | "admin")
        };

        for (_, method, path, body, allowed, refused) in &rows {
            for (name, token) in &users {
                if allowed.contains(name) {
                    continue;
                }
                let refused = if sees_but_may_not_act(method, path, name) {
                    &403
                } else {
                    refused
                };
                let res = app
                    .send(method.clone(), path, Some(token), body.as_ref())
                    .await;
                assert_eq!(
                    res.status().as_u16(),
                    *refused,
                    "{backend:?}: {name} {method} {path}"
                );
            }
            let res = app.send(method.clone(), path, None, body.as_ref()).await;
            assert_eq!(
                res.status().as_u16(),
                401,
                "{backend:?}: anonymous {method} {path}"
            );
            // The allowed users get through (reads only: the writes above
            // would change the fixtures).
            if *method == Method::GET {
                for (name, token) in &users {
                    if allowed.contains(name) {
                        let res = app.send(method.clone(), path, Some(token), None).await;
                        assert_eq!(res.status().as_u16(), 200, "{backend:?}: {name} {path}");
                    }
                }
            }
        }

        let covered: BTreeSet<&str> = rows.iter().map(|r| r.0).collect();
        let spec = tanpuhui_server::api_doc::spec();
        // Public routes (no bearer security, e.g. methodology tables) hold no
        // one's objects.
        let with_ids: BTreeSet<String> = spec
            .paths
            .paths
            .iter()
            .filter(|(p, item)| {
                p.contains('{')
                    && [&item.get, &item.post, &item.put, &item.delete, &item.patch]
                        .into_iter()
                        .flatten()
                        .any(|op| op.security.is_some())
            })
            .map(|(p, _)| p.clone())
            .collect();
        let missing: Vec<&String> = with_ids
            .iter()
            .filter(|p| !covered.contains(p.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "object routes not tried as the wrong user: {missing:?}"
        );
    }
}
