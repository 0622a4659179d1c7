//! Bad input on every route of the spec gets a 4xx problem document, never
//! a 5xx: malformed JSON, wrong types, unknown enum values, numbers out of
//! range, oversized bodies, wrong media types, odd query strings.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{any_backend, spawn_app_with};

#[tokio::test]
async fn every_route_answers_bad_input_with_a_problem() {
    // No 429s standing in for the answers under test.
    let app = spawn_app_with(any_backend(), |s| s.auth_rate_per_minute = 10_000).await;
    let token = app.signed_in("fuzz@example.cn").await;
    let spec = tanpuhui_server::api_doc::spec();
    let huge = "9".repeat(400);
    let bodies: Vec<(&str, String)> = vec![
        ("application/json", "{".into()),
        ("application/json", "[]".into()),
        ("application/json", "null".into()),
        ("application/json", "\"text\"".into()),
        (
            "application/json",
            json!({"kind": 5, "role": "overlord", "status": "sideways"}).to_string(),
        ),
        (
            "application/json",
            format!("{{\"limit\": {huge}, \"amount\": -{huge}}}"),
        ),
        (
            "application/json",
            json!({"email": ["a"], "password": {"x": 1}, "user_id": null}).to_string(),
        ),
        (
            "application/json",
            format!("{}{}", "[".repeat(5000), "]".repeat(5000)),
        ),
        (
            "application/json",
            format!("{{\"name\": \"{}\"}}", "x".repeat(70 * 1024)),
        ),
        ("text/plain", "hello".into()),
    ];
    let queries = [
        "?limit=-1",
        &format!("?limit={huge}"),
        "?starting_after=%00",
        "?status=%FF",
    ];
    let mut tried = 0;
    for (template, item) in &spec.paths.paths {
        let path = template
            .split('/')
            .map(|seg| {
                if seg.starts_with('{') {
                    "00000000-0000-0000-0000-000000000000"
                } else {
                    seg
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let with_body = [
            (Method::POST, item.post.is_some()),
            (Method::PUT, item.put.is_some()),
        ];
        for method in with_body
            .into_iter()
            .filter(|(_, has)| *has)
            .map(|(m, _)| m)
        {
            for (content_type, body) in &bodies {
                let res = app
                    .client
                    .request(method.clone(), format!("{}{path}", app.address))
                    .bearer_auth(&token)
                    .header("content-type", *content_type)
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                let status = res.status().as_u16();
                tried += 1;
                assert_ne!(status, 429, "{method} {path}");
                if (200..300).contains(&status) {
                    continue; // routes without a body may ignore it
                }
                assert!(
                    (400..500).contains(&status),
                    "{method} {path} {body:.40}: {status}"
                );
                assert_eq!(
                    res.headers()["content-type"],
                    "application/problem+json",
                    "{method} {path}"
                );
            }
        }
        if item.get.is_some() {
            for q in queries {
                let res = app
                    .send(Method::GET, &format!("{path}{q}"), Some(&token), None)
                    .await;
                let status = res.status().as_u16();
                tried += 1;
                assert!(status < 500, "GET {path}{q}: {status}");
            }
        }
    }
    assert!(tried > 100, "only {tried} requests tried");
}
