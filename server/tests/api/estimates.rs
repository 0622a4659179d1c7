//! The calculator over HTTP answers exactly what carbon-calc answers: the
//! shared vectors of `wasm-calc/tests/vectors.json`, successes and errors.

use serde_json::Value;

use crate::helpers::{any_backend, spawn_app};

#[tokio::test]
async fn commute_estimates_match_the_shared_vectors() {
    let app = spawn_app(any_backend()).await;
    let vectors: Vec<Value> =
        serde_json::from_str(include_str!("../../../wasm-calc/tests/vectors.json")).unwrap();
    let mut checked = 0;
    for v in vectors
        .iter()
        .filter(|v| v["function"] == "estimateCommute")
    {
        let res = app
            .post_json("/api/v1/estimates/commute", &v["request"])
            .await;
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap();
        let name = v["name"].as_str().unwrap();
        if let Some(expect) = v["expect"].as_object() {
            assert_eq!(status, 200, "{name}: {body}");
            for (k, want) in expect {
                assert_eq!(&body[k], want, "{name}: {k}");
            }
        } else {
            let e = &v["error"];
            // Wrong shapes are 400 on every route, rules 422.
            let shape = [
                "invalid_json",
                "missing_field",
                "unknown_field",
                "invalid_value",
            ]
            .contains(&e["code"].as_str().unwrap());
            assert_eq!(status, if shape { 400 } else { 422 }, "{name}: {body}");
            assert_eq!(body["code"], e["code"], "{name}");
            assert_eq!(body["param"], e["field"], "{name}");
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} vectors");
}

#[tokio::test]
async fn methodology_tables_are_published() {
    let app = spawn_app(any_backend()).await;
    let all: Value = app.get("/api/v1/methodologies").await.json().await.unwrap();
    let presets = all["commute_presets"].as_array().unwrap();
    assert!(presets.iter().any(|p| p["id"] == "lanzhou-interim"));
    let one: Value = app
        .get("/api/v1/methodologies/wuhan-2024")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["kind"], "commute_presets");
    assert_eq!(one["table"]["version"], 1);
    assert_eq!(
        app.get("/api/v1/methodologies/no-such-table")
            .await
            .status(),
        404
    );
}
