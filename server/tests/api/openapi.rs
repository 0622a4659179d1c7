use serde_json::Value;

use crate::helpers::{any_backend, spawn_app};

const COMMITTED: &str = include_str!("../../../mobile-api-spec/openapi.json");

#[test]
fn committed_spec_matches_the_code() {
    let generated = tanpuhui_server::api_doc::spec_json();
    assert!(
        generated == COMMITTED,
        "mobile-api-spec/openapi.json is out of date; regenerate it with\n  \
         cargo run -q --bin tanpuhui -- openapi > mobile-api-spec/openapi.json"
    );
}

#[tokio::test]
async fn every_documented_path_is_served_and_the_spec_is_published() {
    let app = spawn_app(any_backend()).await;
    let spec: Value = serde_json::from_str(COMMITTED).unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    let paths = spec["paths"].as_object().unwrap();
    assert!(!paths.is_empty());
    for (path, item) in paths {
        if item.get("get").is_some() && !path.contains('{') {
            let status = app.get(path).await.status();
            assert_ne!(status, 404, "documented GET {path} is not served");
        }
    }
    let served: Value = app.get("/openapi.json").await.json().await.unwrap();
    assert_eq!(served, spec);
}

#[tokio::test]
async fn swagger_ui_is_served_from_vendored_files() {
    let app = spawn_app(any_backend()).await;
    let page = app.get("/docs/").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("swagger-ui-bundle.js") && !html.contains("http"),
        "{html}"
    );
    let bundle = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status(), 200);
    assert_eq!(bundle.headers()["content-type"], "text/javascript");
    let redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/docs", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), 308);
    assert_eq!(app.get("/docs/../../etc/passwd").await.status(), 404);
}
