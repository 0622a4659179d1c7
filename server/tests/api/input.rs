//! Input that must never reach the database as it is: NUL characters in any
//! part of a request, oversized or malformed heads. On PostgreSQL a NUL in
//! text was a 500 (it cannot store one); SQLite stored it. Every refusal is
//! a problem document with a request id.

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{any_backend, backends, spawn_app, TestApp};

async fn problem(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    assert!(
        res.headers().contains_key("x-request-id"),
        "{status}: no x-request-id"
    );
    assert_eq!(
        res.headers()["content-type"],
        "application/problem+json",
        "{status}"
    );
    (status, res.json().await.unwrap())
}

async fn raw_post(app: &TestApp, path: &str, token: Option<&str>, body: &str) -> reqwest::Response {
    let mut req = app
        .client
        .post(format!("{}{path}", app.address))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn nul_characters_are_refused_everywhere_before_the_database() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let token = app.signed_in("nul@lz.cn").await;
        // Path, signed out and signed in.
        for path in [
            "/api/v1/public/retirements/%00",
            "/api/v1/public/batches/TPH%00",
            "/api/v1/organizations/a%00b",
        ] {
            let (status, p) = problem(app.get(path).await).await;
            assert_eq!(
                (status, p["code"].as_str()),
                (400, Some("invalid_character")),
                "{path} {p}"
            );
            assert_eq!(p["param"], "path");
        }
        // Query values and names.
        for (query, param) in [
            ("starting_after=a%00b", "starting_after"),
            ("project_id=%00", "project_id"),
            ("batch_id=x%00&limit=5", "batch_id"),
            ("li%00mit=5", "query"),
        ] {
            let (status, p) = problem(
                app.get(&format!("/api/v1/public/retirements?{query}"))
                    .await,
            )
            .await;
            assert_eq!(
                (status, p["param"].as_str()),
                (400, Some(param)),
                "{query} {p}"
            );
        }
        // Bodies: signed out (login, register) and signed in.
        let res = raw_post(
            &app,
            "/api/v1/auth/login",
            None,
            r#"{"login":"a\u0000b","password":"long enough password"}"#,
        )
        .await;
        let (status, p) = problem(res).await;
        assert_eq!(
            (status, p["code"].as_str(), p["param"].as_str()),
            (400, Some("invalid_character"), Some("body"))
        );
        let res = raw_post(
            &app,
            "/api/v1/auth/register",
            None,
            r#"{"email":"x\u0000@lz.cn","password":"long enough password"}"#,
        )
        .await;
        assert_eq!(problem(res).await.0, 400);
        let res = raw_post(
            &app,
            "/api/v1/organizations",
            Some(&token),
            r#"{"kind":"enterprise","name":"兰州\u0000新区","uscc":"x"}"#,
        )
        .await;
        assert_eq!(problem(res).await.0, 400);
        // An escaped backslash followed by "u0000" is six ordinary
        // characters: it passes the guard and meets the route's own rules.
        let res = raw_post(
            &app,
            "/api/v1/auth/login",
            None,
            r#"{"login":"a\\u0000b","password":"long enough password"}"#,
        )
        .await;
        assert_eq!(res.status(), 401);
        // Nothing was stored with a NUL, and the server is still well.
        assert_eq!(app.get("/readyz").await.status(), 200);
    }
}

#[tokio::test]
async fn oversized_and_malformed_heads_get_problem_documents() {
    let app = spawn_app(any_backend()).await;
    let res = app
        .client
        .get(format!("{}/api/v1/public/statistics", app.address))
        .header("x-padding", "p".repeat(70 * 1024))
        .send()
        .await
        .unwrap();
    let (status, p) = problem(res).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (431, Some("headers_too_large")),
        "{p}"
    );
    // Just under the limit is fine.
    let res = app
        .client
        .get(format!("{}/api/v1/public/statistics", app.address))
        .header("x-padding", "p".repeat(8 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // A control character in a header value is not HTTP: actix-http's
    // parser answers a bare 400 and closes the connection before any of
    // the application runs (no hook exists there); the server goes on.
    let addr = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            b"GET /api/v1/public/statistics HTTP/1.1\r\nhost: x\r\nx-note: a\x1b[31mb\r\n\r\n",
        )
        .await
        .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert_eq!(app.get("/readyz").await.status(), 200);
}

/// Names and other displayed text: trimmed by Unicode white space, then
/// checked; what fakes the display is refused, on every text field.
#[tokio::test]
async fn displayed_text_is_trimmed_and_cannot_fake_what_is_shown() {
    use crate::helpers::{forest_project, registry};
    for backend in backends() {
        let app = spawn_app(backend).await;
        let r = registry(&app, 41).await;
        let token = app.signed_in("names@lz.cn").await;
        let org = |name: &str, n: u32| serde_json::json!({"kind": "enterprise", "name": name, "uscc": crate::helpers::uscc(n)});
        for (i, bad) in ["", "   ", "\t", "\u{3000}", " \u{3000} \n"]
            .iter()
            .enumerate()
        {
            let (status, p) = app
                .post_as(&token, "/api/v1/organizations", &org(bad, 60 + i as u32))
                .await;
            assert_eq!(
                (status, p["param"].as_str()),
                (422, Some("name")),
                "{bad:?} {p}"
            );
        }
        for (i, fake) in [
            "Evil\u{202E}gnp.exe",
            "\u{1b}[31mRed Ltd",
            "Ad\u{200B}min Co",
            "A\u{2067}B",
        ]
        .iter()
        .enumerate()
        {
            let (status, p) = app
                .post_as(&token, "/api/v1/organizations", &org(fake, 70 + i as u32))
                .await;
            assert_eq!(
                (status, p["param"].as_str()),
                (422, Some("name")),
                "{fake:?} {p}"
            );
            assert!(p["detail"].as_str().unwrap().contains("U+"), "{p}");
        }
        let (status, o) = app
            .post_as(
                &token,
                "/api/v1/organizations",
                &org("\u{3000} 兰州绿能 \t", 80),
            )
            .await;
        assert_eq!((status, o["name"].as_str()), (201, Some("兰州绿能")), "{o}");

        // Registry texts: a project name, an objection, a retirement's
        // beneficiary and purpose use the same rule.
        let mut project = forest_project(app.year(), r.org_id(), "  南山林场  ", "LZ-T-1");
        let (status, p) = app.post_as(&r.op, "/api/v1/projects", &project).await;
        assert_eq!((status, p["name"].as_str()), (201, Some("南山林场")), "{p}");
        project["name"] = serde_json::json!("南山\u{202E}林场");
        let (status, p) = app.post_as(&r.op, "/api/v1/projects", &project).await;
        assert_eq!((status, p["param"].as_str()), (422, Some("name")), "{p}");
        let (status, p) = app
            .post_as(
                &r.verifier,
                "/api/v1/retirements",
                &serde_json::json!({
                    "retirement_id": uuid::Uuid::new_v4().to_string(),
                    "account_id": r.account_id(), "batch_id": "TPH-0001-2025-001",
                    "quantity_g": 1, "beneficiary": "\u{3000}", "purpose": "offset"
                }),
            )
            .await;
        assert_eq!(
            (status, p["param"].as_str()),
            (422, Some("beneficiary")),
            "{p}"
        );
    }
}

/// Times and dates far outside any real use are a 422 naming the field,
/// never a 500 from a column that cannot hold them.
#[tokio::test]
async fn far_off_dates_are_refused_naming_the_field() {
    use crate::helpers::{forest_project, registry};
    for backend in backends() {
        let app = spawn_app(backend).await;
        let r = registry(&app, 42).await;
        let token = app.signed_in("years@lz.cn").await;
        for (field, value) in [
            ("started_at", "9999-12-31T20:00:00+00:00"),
            ("started_at", "0001-01-01T00:00:00+08:00"),
            ("ended_at", "9999-12-31T23:59:59+08:00"),
        ] {
            let mut trip = crate::helpers::commute(crate::helpers::base_time(&app), 30, false);
            trip[field] = serde_json::json!(value);
            let (status, p) = app.post_as(&token, "/api/v1/trips", &trip).await;
            assert_eq!(
                (status, p["param"].as_str()),
                (422, Some(field)),
                "{field}={value} {p}"
            );
        }
        let batch = serde_json::json!({"trips": [{
            "client_trip_id": uuid::Uuid::new_v4().to_string(),
            "legs": [{"mode": "bus"}],
            "started_at": "9999-12-31T20:00:00+00:00", "ended_at": "9999-12-31T21:00:00+00:00"
        }]});
        let (status, b) = app.post_as(&token, "/api/v1/trips/batch", &batch).await;
        let item = &b["results"][0];
        assert_eq!(
            (
                status,
                item["status"].as_u64(),
                item["problem"]["param"].as_str()
            ),
            (200, Some(422), Some("started_at")),
            "{b}"
        );

        let mut project = forest_project(app.year(), r.org_id(), "远期", "LZ-Y-1");
        project["crediting_end"] = serde_json::json!("9999-12-31");
        let (status, p) = app.post_as(&r.op, "/api/v1/projects", &project).await;
        assert_eq!(
            (status, p["param"].as_str()),
            (422, Some("crediting_end")),
            "{p}"
        );
        let (status, p) = app
            .post_as(
                &r.verifier,
                "/api/v1/aggregations",
                &serde_json::json!({"from": "9999-01-01", "to": "9999-12-31", "preset": "wuhan-2024"}),
            )
            .await;
        assert_eq!((status, p["param"].as_str()), (422, Some("from")), "{p}");
    }
}

/// Amounts are strings of integers in requests as in answers; a JSON
/// integer is still taken, anything else is refused naming the field.
#[tokio::test]
async fn amounts_are_strings_in_requests_too() {
    let app = spawn_app(any_backend()).await;
    let admin = app.admin("amounts@tph.cn").await;
    for (points_cost, status) in [
        (serde_json::json!("100"), 201),
        (serde_json::json!(100), 201),
        (serde_json::json!("1.5"), 400),
        (serde_json::json!("1e3"), 400),
        (serde_json::json!(""), 400),
    ] {
        let (got, body) = app
            .post_as(
                &admin,
                "/api/v1/rewards",
                &serde_json::json!({"name": "公交卡充值", "points_cost": points_cost, "stock": "10"}),
            )
            .await;
        assert_eq!(got, status, "{points_cost}: {body}");
        if status == 201 {
            assert_eq!(body["points_cost"], "100");
        }
    }
    // The calculator answers amounts as strings as well.
    let res = app
        .post_json(
            "/api/v1/estimates/commute",
            &serde_json::json!({"legs": [{"mode": "bus"}], "preset": "wuhan-2024"}),
        )
        .await;
    let estimate: Value = res.json().await.unwrap();
    assert_eq!(estimate["credited_g"], "213", "{estimate}");
}

/// A documented path with a method it does not take answers 405 with
/// `Allow`; an undocumented path stays 404.
#[tokio::test]
async fn wrong_methods_are_405_with_allow() {
    let app = spawn_app(any_backend()).await;
    for (method, path, allow) in [
        (reqwest::Method::DELETE, "/api/v1/trips", "GET, POST"),
        (reqwest::Method::POST, "/healthz", "GET"),
        (
            reqwest::Method::PUT,
            "/api/v1/public/retirements/abc",
            "GET",
        ),
    ] {
        let res = app.send(method.clone(), path, None, None).await;
        assert_eq!(
            res.headers()
                .get("allow")
                .map(|v| v.to_str().unwrap().to_string()),
            Some(allow.to_string()),
            "{method} {path}"
        );
        let (status, p) = problem(res).await;
        assert_eq!(
            (status, p["code"].as_str()),
            (405, Some("method_not_allowed")),
            "{method} {path}"
        );
    }
    let (status, p) = problem(app.get("/api/v1/nothing/here").await).await;
    assert_eq!((status, p["code"].as_str()), (404, Some("not_found")));
}

/// An unknown or stale `starting_after` is refused instead of answering a
/// first or empty page as if all were well.
#[tokio::test]
async fn unknown_cursors_are_refused() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let token = app.signed_in("pages@lz.cn").await;
        for path in [
            "/api/v1/trips?starting_after=zzz",
            "/api/v1/organizations?starting_after=zzz",
            "/api/v1/me/transit-cards?starting_after=zzz",
        ] {
            let (status, p) = app.get_as(&token, path).await;
            assert_eq!(
                (status, p["param"].as_str()),
                (422, Some("starting_after")),
                "{path} {p}"
            );
        }
        let (status, p) = problem(
            app.get("/api/v1/public/retirements?starting_after=zzz")
                .await,
        )
        .await;
        assert_eq!(
            (status, p["param"].as_str()),
            (422, Some("starting_after")),
            "{p}"
        );
        // A real cursor pages on.
        let (status, page) = app.get_as(&token, "/api/v1/trips?limit=1").await;
        assert_eq!((status, page["has_more"].as_bool()), (200, Some(false)));
    }
}
