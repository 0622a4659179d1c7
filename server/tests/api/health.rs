use serde_json::Value;

use crate::helpers::{any_backend, backends, spawn_app};

#[tokio::test]
async fn healthz_answers_with_a_request_id() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let res = app.get("/healthz").await;
        assert_eq!(res.status(), 200, "{backend:?}");
        let id = res
            .headers()
            .get("x-request-id")
            .expect("x-request-id")
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(id.len(), 36, "{id}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["status"], "ok");
        let other = app.get("/healthz").await;
        assert_ne!(
            other.headers()["x-request-id"].to_str().unwrap(),
            id,
            "ids must differ per request"
        );
    }
}

#[tokio::test]
async fn readyz_reports_the_database() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let res = app.get("/readyz").await;
        assert_eq!(res.status(), 200, "{backend:?}");
        assert_eq!(res.json::<Value>().await.unwrap()["database"], "ok");

        // Database gone: not ready, with a problem document.
        app.db.close_by_ref().await.unwrap();
        let res = app.get("/readyz").await;
        assert_eq!(res.status(), 503, "{backend:?}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let problem: Value = res.json().await.unwrap();
        assert_eq!(problem["code"], "unavailable");
        assert_eq!(problem["status"], 503);
        // Liveness does not depend on the database.
        assert_eq!(app.get("/healthz").await.status(), 200);
    }
}

#[tokio::test]
async fn unknown_paths_are_problem_documents() {
    let app = spawn_app(any_backend()).await;
    let res = app.get("/api/v1/nothing-here").await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["code"], "not_found");
    assert_eq!(problem["type"], "/problems/not_found");
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern() {
    let app = spawn_app(any_backend()).await;
    for _ in 0..3 {
        app.get("/healthz").await;
    }
    app.get("/no/such/path/12345").await;
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    let healthz = text
        .lines()
        .find(|l| {
            l.starts_with("tanpuhui_http_requests_total{") && l.contains("endpoint=\"/healthz\"")
        })
        .unwrap_or_else(|| panic!("no healthz counter in:\n{text}"));
    assert!(healthz.ends_with(" 3"), "{healthz}");
    assert!(
        text.contains("endpoint=\"UNKNOWN\""),
        "unmatched paths are not masked"
    );
    assert!(!text.contains("12345"), "a raw path became a label");
    assert!(text.contains("tanpuhui_http_requests_duration_seconds_bucket"));
}
