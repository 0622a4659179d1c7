//! `Idempotency-Key`: a retried POST answers the first result and changes
//! nothing; the same key with another request is refused.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{any_backend, backends, spawn_app, uscc, TestApp};

async fn post_keyed(
    app: &TestApp,
    token: Option<&str>,
    path: &str,
    key: &str,
    body: &Value,
) -> (u16, Option<String>, Value) {
    let mut req = app
        .client
        .post(format!("{}{path}", app.address))
        .header("idempotency-key", key)
        .json(body);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let replayed = res
        .headers()
        .get("idempotent-replayed")
        .map(|v| v.to_str().unwrap().to_string());
    (status, replayed, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn retries_answer_the_first_result() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let body = json!({"email": "retry@example.cn", "password": "long enough password"});
        let (s1, r1, first) = post_keyed(&app, None, "/api/v1/auth/register", "k-1", &body).await;
        let (s2, r2, again) = post_keyed(&app, None, "/api/v1/auth/register", "k-1", &body).await;
        assert_eq!((s1, r1), (201, None), "{backend:?}");
        assert_eq!((s2, r2.as_deref()), (201, Some("true")), "{backend:?}");
        assert_eq!(first, again);
        let other = json!({"email": "other@example.cn", "password": "long enough password"});
        let (s, _, p) = post_keyed(&app, None, "/api/v1/auth/register", "k-1", &other).await;
        assert_eq!(
            (s, p["code"].as_str()),
            (409, Some("idempotency_key_reused"))
        );

        // Keys are per caller: two users may use the same key.
        let a = app.signed_in("a@example.cn").await;
        let b = app.signed_in("b@example.cn").await;
        let org = json!({"kind": "enterprise", "name": "某企业", "uscc": uscc(1)});
        let (s, _, created) =
            post_keyed(&app, Some(&a), "/api/v1/organizations", "same", &org).await;
        assert_eq!(s, 201);
        let (s, r, replayed) =
            post_keyed(&app, Some(&a), "/api/v1/organizations", "same", &org).await;
        assert_eq!((s, r.as_deref()), (201, Some("true")));
        assert_eq!(created["id"], replayed["id"]);
        let (s, r, p) = post_keyed(&app, Some(&b), "/api/v1/organizations", "same", &org).await;
        assert_eq!(
            (s, r, p["code"].as_str()),
            (409, None, Some("uscc_registered"))
        );

        // Failures are not kept: fix the request, retry with the same key.
        let bad = json!({"kind": "enterprise", "name": "某企业", "uscc": "91620100000000002X"});
        let (s, _, _) = post_keyed(&app, Some(&b), "/api/v1/organizations", "fix-me", &bad).await;
        assert_eq!(s, 422);
        let good = json!({"kind": "enterprise", "name": "某企业", "uscc": uscc(2)});
        let (s, r, _) = post_keyed(&app, Some(&b), "/api/v1/organizations", "fix-me", &good).await;
        assert_eq!((s, r), (201, None));
    }
}

#[tokio::test]
async fn bad_keys_and_uncovered_routes() {
    let app = spawn_app(any_backend()).await;
    let body = json!({"email": "k@example.cn", "password": "long enough password"});
    for key in ["has space", &"k".repeat(256)] {
        let (s, _, p) = post_keyed(&app, None, "/api/v1/auth/register", key, &body).await;
        assert_eq!(
            (s, p["code"].as_str(), p["param"].as_str()),
            (
                400,
                Some("invalid_idempotency_key"),
                Some("Idempotency-Key")
            )
        );
    }
    // Sign-in answers fresh tokens every time: never replayed, never stored.
    app.register("k@example.cn").await;
    let login = json!({"login": "k@example.cn", "password": "long enough password"});
    let (_, r1, t1) = post_keyed(&app, None, "/api/v1/auth/login", "k", &login).await;
    let (_, r2, t2) = post_keyed(&app, None, "/api/v1/auth/login", "k", &login).await;
    assert_eq!((r1, r2), (None, None));
    assert_ne!(t1["refresh_token"], t2["refresh_token"]);
}

#[tokio::test]
async fn concurrent_retries_create_once() {
    for backend in backends() {
        let app = std::sync::Arc::new(spawn_app(backend).await);
        let token = app.signed_in("busy@example.cn").await;
        let org = json!({"kind": "enterprise", "name": "并发企业", "uscc": uscc(3)});
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (app, token, org) = (app.clone(), token.clone(), org.clone());
            tasks.push(tokio::spawn(async move {
                post_keyed(&app, Some(&token), "/api/v1/organizations", "burst", &org).await
            }));
        }
        let mut ids = std::collections::BTreeSet::new();
        let mut fresh = 0;
        for t in tasks {
            let (status, replayed, body) = t.await.unwrap();
            match status {
                201 => {
                    fresh += replayed.is_none() as usize;
                    ids.insert(body["id"].as_str().unwrap().to_string());
                }
                409 => assert_eq!(body["code"], "idempotency_key_in_flight", "{body}"),
                other => panic!("{backend:?}: {other} {body}"),
            }
        }
        assert_eq!((fresh, ids.len()), (1, 1), "{backend:?}");
        let res = app
            .send(Method::GET, "/api/v1/me", Some(&token), None)
            .await;
        assert_eq!(res.status(), 200);
    }
}

/// Many identical requests under one key whose first attempt fails (4xx,
/// so its row is deleted): a request that lost the insert race used to
/// find nothing and answer 500. Every answer is now the request's own
/// refusal or the in-flight 409, each with a request id.
#[tokio::test]
async fn a_failed_first_attempt_never_leaves_a_racer_with_a_500() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let token = app.signed_in("racer@example.cn").await;
        // A wrong check character: 422, not stored.
        let bad = json!({"kind": "enterprise", "name": "某企业", "uscc": "91620100000000001X"});
        let mut seen = std::collections::BTreeMap::new();
        for round in 0..40 {
            let key = format!("race-{round}");
            let answers = futures_util::future::join_all((0..16).map(|_| {
                app.client
                    .post(format!("{}/api/v1/organizations", app.address))
                    .header("authorization", format!("Bearer {token}"))
                    .header("idempotency-key", &key)
                    .json(&bad)
                    .send()
            }))
            .await;
            for res in answers {
                let res = res.unwrap();
                assert!(res.headers().contains_key("x-request-id"), "{backend:?}");
                let status = res.status().as_u16();
                let p: Value = res.json().await.unwrap();
                let code = p["code"].as_str().unwrap_or_default().to_string();
                assert!(
                    (status, code.as_str()) == (422, "invalid_field")
                        || (status, code.as_str()) == (409, "idempotency_key_in_flight"),
                    "{backend:?} round {round}: {status} {p}"
                );
                *seen.entry((status, code)).or_insert(0) += 1;
            }
        }
        eprintln!("{backend:?}: {seen:?}");
    }
}

/// Replays and in-flight refusals come from the idempotency layer, not a
/// handler: they carry a request id too.
#[tokio::test]
async fn answers_of_the_idempotency_layer_carry_a_request_id() {
    let app = spawn_app(any_backend()).await;
    let body = json!({"email": "rid@example.cn", "password": "long enough password"});
    for _ in 0..2 {
        let res = app
            .client
            .post(format!("{}/api/v1/auth/register", app.address))
            .header("idempotency-key", "rid-1")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        assert!(res.headers().contains_key("x-request-id"));
    }
    let res = app
        .client
        .post(format!("{}/api/v1/auth/register", app.address))
        .header("idempotency-key", "rid-1")
        .json(&json!({"email": "other@example.cn", "password": "long enough password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    assert!(res.headers().contains_key("x-request-id"));
}
