//! Logging trips over HTTP: the server's own computation, the rules, replay
//! safety, batches, and one credit only under concurrency.

use chrono::Duration;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{any_backend, backends, spawn_app, spawn_app_with, TestApp};
use crate::helpers::{base_time, commute, points, trace};

#[tokio::test]
async fn a_gps_trip_is_credited_once_with_points() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let token = app.signed_in("commuter@lz.cn").await;
        let body = commute(base_time(&app), 30, true);
        let (status, trip) = app.post_as(&token, "/api/v1/trips", &body).await;
        assert_eq!(status, 201, "{backend:?}: {trip}");
        assert_eq!(trip["status"], "credited");
        assert_eq!(trip["reasons"], json!([]));
        assert_eq!(trip["source"], "gps");
        assert_eq!(
            (trip["reduction_g"].as_str(), trip["credited_g"].as_str()),
            (Some("900.7"), Some("901"))
        );
        assert_eq!(trip["points"], "901");
        assert_eq!(
            (trip["preset"].as_str(), trip["preset_version"].as_i64()),
            (Some("wuhan-2024"), Some(1))
        );
        assert_eq!(points(&app, &token).await, "901");

        // Sent again: the first result, nothing credited twice.
        let (status, again) = app.post_as(&token, "/api/v1/trips", &body).await;
        assert_eq!(status, 200);
        assert_eq!(again, trip);
        assert_eq!(points(&app, &token).await, "901");
        let mut changed = body.clone();
        changed["legs"][0]["distance_km"] = json!("9");
        let (status, p) = app.post_as(&token, "/api/v1/trips", &changed).await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("client_trip_id_reused"))
        );

        // The caller's own history; nobody else's.
        let (_, page) = app.get_as(&token, "/api/v1/trips").await;
        assert_eq!(page["data"].as_array().unwrap().len(), 1);
        let id = trip["id"].as_str().unwrap();
        assert_eq!(
            app.get_as(&token, &format!("/api/v1/trips/{id}")).await.1,
            trip
        );
        let other = app.signed_in("other@lz.cn").await;
        assert_eq!(
            app.get_as(&other, &format!("/api/v1/trips/{id}")).await.0,
            404
        );
        assert_eq!(
            app.get_as(&other, "/api/v1/trips").await.1["data"],
            json!([])
        );
    }
}

#[tokio::test]
async fn the_rules_credit_less_reject_or_send_to_review() {
    let app = spawn_app(any_backend()).await;
    let token = app.signed_in("rules@lz.cn").await;
    let t0 = base_time(&app);
    let now = app.now();
    let (_, first) = app
        .post_as(&token, "/api/v1/trips", &commute(t0, 30, true))
        .await;
    assert_eq!(first["status"], "credited");

    let self_declared = commute(t0 + Duration::hours(1), 30, false);
    let mut too_fast = commute(t0 + Duration::hours(2), 5, false);
    too_fast["legs"] = json!([{"mode": "metro", "distance_km": "30"}]);
    let mut short_trace = commute(t0 + Duration::hours(3), 30, true);
    short_trace["trace"] = trace(t0 + Duration::hours(3), 2.0, 30);
    // A whole trace recorded an hour before the trip: another journey's.
    let mut borrowed_trace = commute(t0 + Duration::hours(4), 30, true);
    borrowed_trace["trace"] = trace(t0 + Duration::hours(3), 8.55, 30);
    // Two minutes of clock drift at each end is allowed.
    let drift_start = t0 + Duration::minutes(130);
    let mut drifting = commute(drift_start, 30, true);
    drifting["trace"] = trace(drift_start - Duration::minutes(2), 8.55, 34);
    let cases = [
        (
            self_declared,
            "credited",
            "self_declared_reduced_rate",
            "450",
        ),
        (too_fast, "rejected", "too_fast", "0"),
        (
            commute(now + Duration::minutes(10), 30, false),
            "rejected",
            "ends_in_future",
            "0",
        ),
        (
            commute(now - Duration::days(8), 30, false),
            "rejected",
            "outside_claim_window",
            "0",
        ),
        (
            commute(t0 + Duration::minutes(10), 30, true),
            "rejected",
            "overlaps_another_trip",
            "0",
        ),
        (
            short_trace,
            "pending_review",
            "trace_shorter_than_claimed",
            "0",
        ),
        (borrowed_trace, "pending_review", "trace_outside_trip", "0"),
    ];
    for (body, status, reason, credited) in cases {
        let (code, trip) = app.post_as(&token, "/api/v1/trips", &body).await;
        assert_eq!(code, 201, "{reason}: {trip}");
        assert_eq!(trip["status"], status, "{reason}: {trip}");
        assert!(
            trip["reasons"].as_array().unwrap().contains(&json!(reason)),
            "{reason}: {trip}"
        );
        assert_eq!(trip["credited_g"], credited, "{reason}");
    }
    let (_, drifted) = app.post_as(&token, "/api/v1/trips", &drifting).await;
    assert_eq!(drifted["status"], "credited", "{drifted}");
    assert_eq!(points(&app, &token).await, "2252", "901 + 450 + 901");

    // Not a trip at all: 422 with the field.
    let mut unknown_mode = commute(t0 + Duration::hours(4), 30, false);
    unknown_mode["legs"][0]["mode"] = json!("rocket");
    let mut backwards = commute(t0 + Duration::hours(4), 30, false);
    backwards["ended_at"] = json!((t0 + Duration::hours(3)).to_rfc3339());
    let mut bad_id = commute(t0 + Duration::hours(4), 30, false);
    bad_id["client_trip_id"] = json!("trip-1");
    let mut bad_fix = commute(t0 + Duration::hours(4), 30, true);
    bad_fix["trace"][1]["t"] = json!("yesterday");
    for (body, code, param) in [
        (unknown_mode, "unknown_mode", "legs[0].mode"),
        (backwards, "invalid_field", "ended_at"),
        (bad_id, "invalid_field", "client_trip_id"),
        (bad_fix, "invalid_value", "trace[1].t"),
    ] {
        let (status, p) = app.post_as(&token, "/api/v1/trips", &body).await;
        // An unreadable value is the request's shape (400); the rest, rules.
        let expected = if code == "invalid_value" { 400 } else { 422 };
        assert_eq!(
            (status, p["code"].as_str(), p["param"].as_str()),
            (expected, Some(code), Some(param)),
            "{p}"
        );
    }
}

#[tokio::test]
async fn daily_limits_count_trips_and_grams() {
    let app = spawn_app_with(any_backend(), |s| s.trip_rules.daily_cap_g = 1_000).await;
    let token = app.signed_in("capped@lz.cn").await;
    let t0 = base_time(&app);
    let mut results = Vec::new();
    for i in 0..3 {
        let (_, trip) = app
            .post_as(
                &token,
                "/api/v1/trips",
                &commute(t0 + Duration::hours(i), 30, true),
            )
            .await;
        results.push((
            trip["status"].clone(),
            trip["credited_g"].clone(),
            trip["reasons"].clone(),
        ));
    }
    assert_eq!(results[0], (json!("credited"), json!("901"), json!([])));
    assert_eq!(
        results[1],
        (
            json!("credited"),
            json!("99"),
            json!(["capped_by_daily_cap"])
        )
    );
    assert_eq!(
        results[2],
        (json!("rejected"), json!("0"), json!(["daily_cap_reached"]))
    );

    let app = spawn_app(any_backend()).await;
    let token = app.signed_in("busy@lz.cn").await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        let (_, trip) = app
            .post_as(
                &token,
                "/api/v1/trips",
                &commute(t0 + Duration::minutes(40 * i), 30, true),
            )
            .await;
        statuses.push(trip["status"].as_str().unwrap().to_string());
        if i == 4 {
            assert_eq!(trip["reasons"], json!(["daily_trip_limit"]));
        }
    }
    assert_eq!(
        statuses,
        ["credited", "credited", "credited", "credited", "rejected"]
    );
}

#[tokio::test]
async fn batches_answer_each_trip_on_its_own() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let token = app.signed_in("offline@lz.cn").await;
        let t0 = base_time(&app);
        let good = commute(t0, 30, true);
        let mut unknown = commute(t0 + Duration::hours(1), 30, false);
        unknown["legs"][0]["mode"] = json!("rocket");
        let batch = json!({"trips": [good, {"client_trip_id": "x"}, unknown, good, commute(t0 + Duration::hours(2), 30, false)]});
        let (status, res) = app.post_as(&token, "/api/v1/trips/batch", &batch).await;
        assert_eq!(status, 200, "{res}");
        let r = res["results"].as_array().unwrap();
        let got: Vec<(u64, Option<&str>)> = r
            .iter()
            .map(|x| {
                (
                    x["status"].as_u64().unwrap(),
                    x["trip"]["status"]
                        .as_str()
                        .or(x["problem"]["code"].as_str()),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (201, Some("credited")),
                (400, Some("missing_field")),
                (422, Some("unknown_mode")),
                (200, Some("credited")),
                (201, Some("credited"))
            ],
            "{backend:?}"
        );
        assert_eq!(r[3]["trip"]["id"], r[0]["trip"]["id"]);
        assert_eq!(points(&app, &token).await, "1351");
        for bad in [
            json!({"trips": []}),
            json!({"trips": vec![good.clone(); 101]}),
        ] {
            let (status, p) = app.post_as(&token, "/api/v1/trips/batch", &bad).await;
            assert_eq!((status, p["param"].as_str()), (422, Some("trips")));
        }
    }
}

/// The same trip from many clients at once, and many overlapping trips at
/// once: one credit each time.
#[tokio::test]
async fn concurrent_submissions_credit_once() {
    for backend in backends() {
        let app = std::sync::Arc::new(spawn_app(backend).await);
        let token = app.signed_in("racer@lz.cn").await;
        let t0 = base_time(&app);
        let same = commute(t0, 30, true);
        let mut tasks = Vec::new();
        for i in 0..16 {
            // Half resend one trip; half are distinct trips overlapping it.
            let body = if i % 2 == 0 {
                same.clone()
            } else {
                commute(t0 + Duration::minutes(1), 30, true)
            };
            let (app, token) = (app.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                let res = app
                    .send(Method::POST, "/api/v1/trips", Some(&token), Some(&body))
                    .await;
                let status = res.status().as_u16();
                (status, res.json::<Value>().await.unwrap())
            }));
        }
        let mut credited = std::collections::BTreeSet::new();
        for t in tasks {
            let (status, trip) = t.await.unwrap();
            assert!(
                status == 200 || status == 201,
                "{backend:?}: {status} {trip}"
            );
            if trip["status"] == "credited" {
                credited.insert(trip["id"].as_str().unwrap().to_string());
            } else {
                assert_eq!(trip["reasons"], json!(["overlaps_another_trip"]), "{trip}");
            }
        }
        assert_eq!(credited.len(), 1, "{backend:?}: {credited:?}");
        assert_eq!(points(&app, &token).await, "901", "{backend:?}");
    }
}

/// Trips take long traces (more than the 64 KiB of other routes), up to
/// their own limit.
#[tokio::test]
async fn long_traces_fit_and_oversized_bodies_do_not() {
    let app = spawn_app(any_backend()).await;
    let token = app.signed_in("tracker@lz.cn").await;
    let t0 = base_time(&app);
    let mut body = commute(t0, 30, false);
    let points: Vec<Value> = (0..3_000)
        .map(|i| {
            json!({"lat": 36.06 + i as f64 * 8.55 / 111.2 / 3_000.0, "lon": 103.83,
                   "t": (t0 + Duration::milliseconds(i * 600)).to_rfc3339()})
        })
        .collect();
    body["trace"] = Value::Array(points);
    assert!(body.to_string().len() > 64 * 1024);
    let (status, trip) = app.post_as(&token, "/api/v1/trips", &body).await;
    assert_eq!(
        (status, trip["source"].as_str()),
        (201, Some("gps")),
        "{trip}"
    );
    body["client_trip_id"] = json!(uuid::Uuid::new_v4().to_string());
    body["padding"] = json!("x".repeat(2 * 1024 * 1024));
    let (status, p) = app.post_as(&token, "/api/v1/trips", &body).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (413, Some("payload_too_large"))
    );
}

/// A verifier of the service centre (set up by an administrator).
async fn verifier(app: &TestApp) -> String {
    let g = crate::helpers::government(app, 77).await;
    crate::helpers::verifier(app, &g.admin, "reviewer@centre.cn", 7_700).await
}

#[tokio::test]
async fn reviewers_decide_trips_sent_to_review() {
    for backend in backends() {
        let app = spawn_app_with(backend, |s| s.trip_rules.self_declared_review = true).await;
        let reviewer = verifier(&app).await;
        let (reviewer_id, _) = app.whoami(&reviewer).await;
        let person = app.signed_in("walker@lz.cn").await;
        let (person_id, _) = app.whoami(&person).await;
        let t0 = base_time(&app);
        let mut short = commute(t0, 30, true);
        short["trace"] = trace(t0, 2.0, 30);
        let (_, first) = app.post_as(&person, "/api/v1/trips", &short).await;
        let (_, second) = app
            .post_as(
                &person,
                "/api/v1/trips",
                &commute(t0 + Duration::hours(1), 30, false),
            )
            .await;
        let (_, third) = app
            .post_as(
                &person,
                "/api/v1/trips",
                &commute(t0 + Duration::hours(2), 30, false),
            )
            .await;
        for t in [&first, &second, &third] {
            assert_eq!(t["status"], "pending_review", "{t}");
        }
        assert_eq!(second["reasons"], json!(["self_declared_review"]));
        assert_eq!(app.get_as(&person, "/api/v1/reviews/trips").await.0, 403);

        let (status, queue) = app.get_as(&reviewer, "/api/v1/reviews/trips").await;
        assert_eq!(status, 200);
        let queue = queue["data"].as_array().unwrap().clone();
        assert_eq!(queue.len(), 3);
        assert_eq!(queue[0]["id"], first["id"], "oldest first");
        assert_eq!(queue[0]["user_id"], person_id.as_str());
        assert_eq!(queue[0]["trace"].as_array().unwrap().len(), 31);

        let decide = |id: &Value, decision: &str| {
            let path = format!("/api/v1/reviews/trips/{}", id.as_str().unwrap());
            let body =
                json!({"decision": decision, "reason": "checked the trace against the timetable"});
            let (app, reviewer) = (&app, &reviewer);
            async move { app.post_as(reviewer, &path, &body).await }
        };
        let (status, approved) = decide(&first["id"], "approve").await;
        assert_eq!(status, 200, "{approved}");
        assert_eq!(
            (approved["status"].as_str(), approved["credited_g"].as_str()),
            (Some("credited"), Some("901"))
        );
        assert_eq!(approved["review"]["reviewer_id"], reviewer_id.as_str());
        assert_eq!(approved["review"]["decision"], "approved");
        let (status, p) = decide(&first["id"], "reject").await;
        assert_eq!((status, p["code"].as_str()), (409, Some("already_decided")));
        // An approved self-declared trip still earns the reduced rate.
        let (_, half) = decide(&second["id"], "approve").await;
        assert_eq!(half["credited_g"], "450");
        let (_, rejected) = decide(&third["id"], "reject").await;
        assert_eq!(
            (rejected["status"].as_str(), rejected["reasons"].clone()),
            (Some("rejected"), json!(["rejected_by_reviewer"]))
        );
        assert_eq!(points(&app, &person).await, "1351", "{backend:?}");
        // The person sees the outcome of their trips.
        let (_, mine) = app
            .get_as(
                &person,
                &format!("/api/v1/trips/{}", first["id"].as_str().unwrap()),
            )
            .await;
        assert_eq!(mine["status"], "credited");
        assert_eq!(
            app.get_as(&reviewer, "/api/v1/reviews/trips").await.1["data"],
            json!([])
        );
    }
}

#[tokio::test]
async fn monthly_summaries_for_a_person_a_department_and_the_region() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let g = crate::helpers::government(&app, 88).await;
        let clerk = app.signed_in("clerk@lz.gov.cn").await;
        let (_, m) = app
            .post_as(
                &clerk,
                &format!("/api/v1/organizations/{}/memberships", g.dept_id),
                &json!(null),
            )
            .await;
        let (status, _) = app
            .post_as(
                &g.gov,
                &format!(
                    "/api/v1/organizations/{}/memberships/{}/approve",
                    g.dept_id,
                    m["id"].as_str().unwrap()
                ),
                &json!(null),
            )
            .await;
        assert_eq!(status, 200);
        let t0 = base_time(&app);
        let mut fast = commute(t0 + Duration::hours(2), 5, false);
        fast["legs"] = json!([{"mode": "metro", "distance_km": "30"}]);
        for body in [
            commute(t0, 30, true),
            commute(t0 + Duration::hours(1), 30, false),
            fast,
        ] {
            app.post_as(&clerk, "/api/v1/trips", &body).await;
        }
        let period = t0.format("%Y-%m").to_string();
        let (status, s) = app
            .get_as(&clerk, &format!("/api/v1/me/summary?period={period}"))
            .await;
        assert_eq!(status, 200, "{s}");
        assert_eq!(
            s["trips"],
            json!({"logged": 3, "credited": 2, "rejected": 1, "pending_review": 0})
        );
        assert_eq!(
            (s["credited_g"].as_str(), s["points"].as_str()),
            (Some("1351"), Some("1351"))
        );
        assert_eq!(
            s["by_mode"],
            json!([
                {"mode": "bike", "trips": 2, "distance_km": "2.4"},
                {"mode": "bus", "trips": 2, "distance_km": "0"},
                {"mode": "metro", "trips": 2, "distance_km": "14.7"}
            ])
        );
        let (status, p) = app
            .get_as(&clerk, "/api/v1/me/summary?period=2026-13")
            .await;
        assert_eq!((status, p["param"].as_str()), (422, Some("period")));

        let path = format!(
            "/api/v1/organizations/{}/summary?period={period}",
            g.dept_id
        );
        let (status, d) = app.get_as(&g.gov, &path).await;
        assert_eq!(status, 200, "{d}");
        assert_eq!(
            (d["members"].as_u64(), d["active_members"].as_u64()),
            (Some(1), Some(1))
        );
        assert_eq!(d["credited_g"], "1351");
        assert!(
            d.get("data").is_none() && !d.to_string().contains("trace"),
            "no trips exposed: {d}"
        );
        assert_eq!(
            app.get_as(&clerk, &path).await.0,
            403,
            "members are not staff"
        );

        // The region: everyone's trips, members or not, in aggregate.
        let outsider = app.signed_in("resident@example.cn").await;
        let (status, t) = app
            .post_as(
                &outsider,
                "/api/v1/trips",
                &commute(t0 + Duration::hours(3), 30, true),
            )
            .await;
        assert_eq!(
            (status, t["status"].as_str()),
            (201, Some("credited")),
            "{t}"
        );
        let path = format!("/api/v1/statistics/personal?period={period}");
        let (status, r) = app.get_as(&g.gov, &path).await;
        assert_eq!(status, 200, "{r}");
        assert_eq!(r["participants"], 2);
        assert_eq!(
            r["trips"],
            json!({"logged": 4, "credited": 3, "rejected": 1, "pending_review": 0})
        );
        assert_eq!(
            (r["credited_g"].as_str(), r["points"].as_str()),
            (Some("2252"), Some("2252"))
        );
        assert_eq!(
            r["by_mode"][2],
            json!({"mode": "metro", "trips": 3, "distance_km": "22.05"})
        );
        assert!(!r.to_string().contains("trace"), "no trips exposed: {r}");
        // Read a trip at a time, the same answer.
        let month = tanpuhui_server::trips::summary::Period::parse(&period).unwrap();
        for page in [1, 2, 3] {
            let paged = tanpuhui_server::trips::summary::of_region_in_pages(&app.db, &month, page)
                .await
                .unwrap();
            assert_eq!(serde_json::to_value(&paged).unwrap(), r, "pages of {page}");
        }
        let (_, empty) = app
            .get_as(&g.gov, "/api/v1/statistics/personal?period=2001-02")
            .await;
        assert_eq!(
            (empty["participants"].as_u64(), empty["credited_g"].as_str()),
            (Some(0), Some("0"))
        );
        for who in [&clerk, &outsider] {
            let (status, p) = app.get_as(who, &path).await;
            assert_eq!((status, p["code"].as_str()), (403, Some("forbidden")));
        }
        let (status, p) = app
            .get_as(&g.gov, "/api/v1/statistics/personal?period=2026-1")
            .await;
        assert_eq!((status, p["param"].as_str()), (422, Some("period")));
    }
}

#[tokio::test]
async fn leaderboards_rank_everyone_and_each_department() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let g = crate::helpers::government(&app, 99).await;
        let join = |token: String| {
            let app = &app;
            let g = &g;
            async move {
                let (_, m) = app
                    .post_as(
                        &token,
                        &format!("/api/v1/organizations/{}/memberships", g.dept_id),
                        &json!(null),
                    )
                    .await;
                let path = format!(
                    "/api/v1/organizations/{}/memberships/{}/approve",
                    g.dept_id,
                    m["id"].as_str().unwrap()
                );
                assert_eq!(app.post_as(&g.gov, &path, &json!(null)).await.0, 200);
                token
            }
        };
        let a = join(app.signed_in("li.ming@lz.gov.cn").await).await;
        let b = join(app.signed_in("wang.fang@lz.gov.cn").await).await;
        let outsider = app.signed_in("zhao.lei@example.cn").await;
        let t0 = base_time(&app);
        app.post_as(&a, "/api/v1/trips", &commute(t0, 30, true))
            .await;
        app.post_as(
            &b,
            "/api/v1/trips",
            &commute(t0 + Duration::minutes(1), 30, false),
        )
        .await;
        // Each person's own journey (one journey from two accounts would
        // go to review).
        app.post_as(
            &outsider,
            "/api/v1/trips",
            &commute(t0 + Duration::minutes(2), 30, true),
        )
        .await;
        app.post_as(
            &outsider,
            "/api/v1/trips",
            &commute(t0 + Duration::hours(1), 30, false),
        )
        .await;
        let period = t0.format("%Y-%m").to_string();
        let rows = |board: &Value| -> Vec<(u64, String, String, bool)> {
            board["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        e["rank"].as_u64().unwrap(),
                        e["name"].as_str().unwrap().into(),
                        e["credited_g"].as_str().unwrap().into(),
                        e["you"].as_bool().unwrap(),
                    )
                })
                .collect()
        };
        let all = format!("/api/v1/leaderboards?period={period}");
        let (status, board) = app.get_as(&a, &all).await;
        assert_eq!(status, 200, "{board}");
        assert_eq!(
            rows(&board),
            [
                (1, "zh***@example.cn".into(), "1351".into(), false),
                (2, "li***@lz.gov.cn".into(), "901".into(), true),
                (3, "wa***@lz.gov.cn".into(), "450".into(), false)
            ],
            "{backend:?}"
        );
        assert_eq!(board["you"]["rank"], 2);

        // Opting out keeps the rank and hides the name.
        let res = app
            .send(
                Method::PUT,
                "/api/v1/me/privacy",
                Some(&outsider),
                Some(&json!({"leaderboard_opt_out": true})),
            )
            .await;
        assert_eq!(res.status(), 200);
        let (_, board) = app.get_as(&a, &all).await;
        assert_eq!(board["entries"][0]["name"], "anonymous");

        // A department's board: its members only, for its members and staff.
        let dept = format!(
            "/api/v1/leaderboards?scope=organization&organization_id={}&period={period}",
            g.dept_id
        );
        let (_, board) = app.get_as(&b, &dept).await;
        assert_eq!(
            rows(&board),
            [
                (1, "li***@lz.gov.cn".into(), "901".into(), false),
                (2, "wa***@lz.gov.cn".into(), "450".into(), true)
            ]
        );
        assert_eq!(app.get_as(&g.gov, &dept).await.0, 200);
        assert_eq!(app.get_as(&outsider, &dept).await.0, 403);
        for bad in [
            "?scope=organization",
            "?scope=galaxy",
            "?period=2026-13",
            "?limit=0",
        ] {
            assert_eq!(
                app.get_as(&a, &format!("/api/v1/leaderboards{bad}"))
                    .await
                    .0,
                422,
                "{bad}"
            );
        }

        // New credits reach built boards at once.
        app.post_as(
            &a,
            "/api/v1/trips",
            &commute(t0 + Duration::hours(2), 30, true),
        )
        .await;
        let (_, board) = app.get_as(&a, &all).await;
        assert_eq!(
            rows(&board)[0],
            (1, "li***@lz.gov.cn".into(), "1802".into(), true),
            "{backend:?}"
        );
        let (_, board) = app.get_as(&b, &dept).await;
        assert_eq!(board["entries"][0]["credited_g"], "1802");

        let rebuild = format!("/api/v1/leaderboards/rebuild?period={period}");
        assert_eq!(app.post_as(&a, &rebuild, &json!(null)).await.0, 403);
        assert_eq!(
            app.send(Method::POST, &rebuild, Some(&g.admin), None)
                .await
                .status(),
            204
        );
        let (_, board) = app.get_as(&a, &all).await;
        assert_eq!(rows(&board).len(), 3);
        assert_eq!(board["entries"][0]["credited_g"], "1802");
    }
}

/// GPS traces are erased after the retention period, except while their
/// trip waits for review.
#[tokio::test]
async fn old_traces_are_erased() {
    use sea_orm::EntityTrait;
    use tanpuhui_server::trips::entity::trip;
    use tanpuhui_server::trips::rules::TripRules;
    for backend in backends() {
        let app = spawn_app(backend).await;
        let token = app.signed_in("private@lz.cn").await;
        let t0 = base_time(&app);
        let (_, kept) = app
            .post_as(&token, "/api/v1/trips", &commute(t0, 30, true))
            .await;
        let mut short = commute(t0 + Duration::hours(1), 30, true);
        short["trace"] = trace(t0 + Duration::hours(1), 2.0, 30);
        let (_, waiting) = app.post_as(&token, "/api/v1/trips", &short).await;
        assert_eq!(waiting["status"], "pending_review");
        let rules = TripRules::default();
        assert_eq!(
            tanpuhui_server::trips::retention::purge_traces(&app.db, &rules, app.clock.now())
                .await
                .unwrap(),
            0
        );
        app.clock
            .advance(Duration::days(rules.trace_retention_days + 1));
        assert_eq!(
            tanpuhui_server::trips::retention::purge_traces(&app.db, &rules, app.clock.now())
                .await
                .unwrap(),
            1,
            "{backend:?}"
        );
        let traces = |id: &Value| {
            let id = id.as_str().unwrap().to_string();
            let db = app.db.clone();
            async move {
                trip::Entity::find_by_id(id)
                    .one(&db)
                    .await
                    .unwrap()
                    .unwrap()
                    .trace
            }
        };
        assert_eq!(traces(&kept["id"]).await, None);
        assert!(
            traces(&waiting["id"]).await.is_some(),
            "kept while in review"
        );
    }
}

/// The person's inbox tells of each verifier's decision the moment it is
/// made, with the reason; read state and pages are theirs alone; a kind
/// switched off is no longer written.
#[tokio::test]
async fn the_inbox_tells_a_person_of_their_reviewed_trips() {
    for backend in backends() {
        let app = spawn_app_with(backend, |s| s.trip_rules.self_declared_review = true).await;
        let reviewer = verifier(&app).await;
        let person = app.signed_in("walker@lz.cn").await;
        let other = app.signed_in("other@lz.cn").await;
        let t0 = base_time(&app);
        let mut ids = Vec::new();
        for h in 0..3 {
            let (_, t) = app
                .post_as(
                    &person,
                    "/api/v1/trips",
                    &commute(t0 + Duration::hours(h), 30, false),
                )
                .await;
            assert_eq!(t["status"], "pending_review", "{t}");
            ids.push(t["id"].as_str().unwrap().to_string());
        }
        let inbox = |token: &str, query: &str| {
            let (app, token) = (&app, token.to_string());
            let path = format!("/api/v1/me/notifications{query}");
            async move {
                let (status, v) = app.get_as(&token, &path).await;
                assert_eq!(status, 200, "{v}");
                v
            }
        };
        assert_eq!(inbox(&person, "").await["data"], json!([]));
        let decide = |id: &str, decision: &str, reason: &str| {
            let path = format!("/api/v1/reviews/trips/{id}");
            let body = json!({"decision": decision, "reason": reason});
            let (app, reviewer) = (&app, &reviewer);
            async move {
                let (status, v) = app.post_as(reviewer, &path, &body).await;
                assert_eq!(status, 200, "{v}");
            }
        };
        decide(&ids[0], "approve", "路线与时刻表一致").await;
        decide(&ids[1], "reject", "行程时间与站点不符").await;
        let all = inbox(&person, "").await;
        let rows = all["data"].as_array().unwrap();
        assert_eq!(rows.len(), 2, "{all}");
        // Newest first: the rejection, with the reviewer's reason.
        assert_eq!(
            (
                rows[0]["kind"].as_str(),
                rows[0]["body"]["trip_id"].as_str(),
                rows[0]["body"]["status"].as_str(),
                rows[0]["body"]["reason"].as_str(),
                rows[0]["read_at"].is_null()
            ),
            (
                Some("trip_reviewed"),
                Some(ids[1].as_str()),
                Some("rejected"),
                Some("行程时间与站点不符"),
                true
            ),
            "{all}"
        );
        assert_eq!(
            (
                rows[1]["body"]["status"].as_str(),
                rows[1]["body"]["points"].as_str()
            ),
            (Some("credited"), Some("450")),
            "{all}"
        );
        // Nobody else sees or marks them.
        assert_eq!(inbox(&other, "").await["data"], json!([]));
        let read = format!(
            "/api/v1/me/notifications/{}/read",
            rows[0]["id"].as_str().unwrap()
        );
        assert_eq!(app.post_as(&other, &read, &json!({})).await.0, 404);
        let (status, n) = app.post_as(&person, &read, &json!({})).await;
        assert_eq!((status, n["read_at"].is_string()), (200, true), "{n}");
        let (_, again) = app.post_as(&person, &read, &json!({})).await;
        assert_eq!(again["read_at"], n["read_at"], "read once");
        let unread = inbox(&person, "?unread=true").await;
        assert_eq!(unread["data"].as_array().unwrap().len(), 1, "{unread}");
        assert_eq!(unread["data"][0]["id"], rows[1]["id"]);
        // Pages, newest first.
        let first = inbox(&person, "?limit=1").await;
        assert_eq!(
            (first["data"][0]["id"].clone(), first["has_more"].clone()),
            (rows[0]["id"].clone(), json!(true))
        );
        let next = inbox(
            &person,
            &format!(
                "?limit=1&starting_after={}",
                rows[0]["id"].as_str().unwrap()
            ),
        )
        .await;
        assert_eq!(
            (next["data"][0]["id"].clone(), next["has_more"].clone()),
            (rows[1]["id"].clone(), json!(false))
        );
        // Switched off, the next decision is not written.
        let (status, s) = app
            .post_as(
                &person,
                "/api/v1/me/notification-settings",
                &json!({"kind": "trip_reviewed", "enabled": false}),
            )
            .await;
        assert_eq!(status, 200, "{s}");
        assert!(
            s["data"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["kind"] == "trip_reviewed" && k["enabled"] == false),
            "{s}"
        );
        let (_, mine) = app.get_as(&other, "/api/v1/me/notification-settings").await;
        assert!(
            mine["data"]
                .as_array()
                .unwrap()
                .iter()
                .all(|k| k["enabled"] == true),
            "{mine}"
        );
        decide(&ids[2], "approve", "核对无误").await;
        assert_eq!(
            inbox(&person, "").await["data"].as_array().unwrap().len(),
            2
        );
        let (status, p) = app
            .post_as(
                &person,
                "/api/v1/me/notification-settings",
                &json!({"kind": "lottery", "enabled": false}),
            )
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (400, Some("invalid_value")),
            "{p}"
        );
    }
}
