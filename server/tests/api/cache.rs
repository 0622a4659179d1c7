//! What goes through the cache: revocation of access tokens, per-user and
//! per-IP limits (behind trusted proxies), shared by replicas through Redis,
//! and readiness when Redis is configured.

use serde_json::{json, Value};

use crate::helpers::{backends, fresh_database, spawn_app_with, start, test_settings, Backend};

#[tokio::test]
async fn logout_and_refresh_reuse_revoke_access_tokens_at_once() {
    for backend in backends() {
        // No retry window for refresh tokens: a second use is a reuse.
        let app = spawn_app_with(backend, |s| s.refresh_grace_secs = 0).await;
        app.register("wang.fang@example.cn").await;
        let tokens = app.login("wang.fang@example.cn").await;
        let access = tokens["access_token"].as_str().unwrap();
        let other = app.login("wang.fang@example.cn").await;
        assert_eq!(app.get_as(access, "/api/v1/me").await.0, 200);
        let res = app
            .post_json(
                "/api/v1/auth/logout",
                &json!({"refresh_token": tokens["refresh_token"]}),
            )
            .await;
        assert_eq!(res.status(), 204);
        let (status, p) = app.get_as(access, "/api/v1/me").await;
        assert_eq!(
            (status, p["code"].as_str()),
            (401, Some("invalid_token")),
            "{backend:?}"
        );
        // Another sign-in of the same user is untouched.
        let other_access = other["access_token"].as_str().unwrap();
        assert_eq!(app.get_as(other_access, "/api/v1/me").await.0, 200);

        // A reused refresh token ends its sign-in's access tokens too.
        let refresh = other["refresh_token"].as_str().unwrap();
        let next: Value = app
            .post_json("/api/v1/auth/refresh", &json!({"refresh_token": refresh}))
            .await
            .json()
            .await
            .unwrap();
        let next_access = next["access_token"].as_str().unwrap();
        assert_eq!(app.get_as(next_access, "/api/v1/me").await.0, 200);
        let reuse = app
            .post_json("/api/v1/auth/refresh", &json!({"refresh_token": refresh}))
            .await;
        assert_eq!(reuse.status(), 401);
        assert_eq!(
            app.get_as(next_access, "/api/v1/me").await.0,
            401,
            "{backend:?}"
        );
    }
}

#[tokio::test]
async fn each_user_has_a_request_budget() {
    for backend in backends() {
        let app = spawn_app_with(backend, |s| s.user_rate_per_minute = 5).await;
        let a = app.signed_in("a@example.cn").await;
        let b = app.signed_in("b@example.cn").await;
        for _ in 0..5 {
            assert_eq!(app.get_as(&a, "/api/v1/me").await.0, 200);
        }
        let res = app
            .send(reqwest::Method::GET, "/api/v1/me", Some(&a), None)
            .await;
        assert_eq!(res.status(), 429, "{backend:?}");
        let retry: u64 = res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
        let p: Value = res.json().await.unwrap();
        assert_eq!(p["code"], "rate_limited");
        assert_eq!(
            app.get_as(&b, "/api/v1/me").await.0,
            200,
            "users are counted apart"
        );
    }
}

#[tokio::test]
async fn forwarded_for_counts_only_behind_trusted_proxies() {
    let register = |app: &crate::helpers::TestApp, ip: &'static str| {
        let req = app
            .client
            .post(format!("{}/api/v1/auth/login", app.address))
            .header("x-forwarded-for", ip)
            .json(&json!({"login": "nobody@example.cn", "password": "wrong password!"}));
        async move { req.send().await.unwrap().status().as_u16() }
    };
    // Behind a trusted proxy (the test client is 127.0.0.1): per client.
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.auth_rate_per_minute = 3;
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    for _ in 0..3 {
        assert_eq!(register(&app, "198.51.100.1").await, 401);
    }
    assert_eq!(register(&app, "198.51.100.1").await, 429);
    assert_eq!(register(&app, "198.51.100.2").await, 401, "another client");
    // Not trusted: the header is ignored and the peer is counted.
    let app = spawn_app_with(Backend::Sqlite, |s| s.auth_rate_per_minute = 3).await;
    for ip in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
        assert_eq!(register(&app, ip).await, 401);
    }
    assert_eq!(
        register(&app, "198.51.100.4").await,
        429,
        "spoofed header believed"
    );
}

/// Two replicas on one PostgreSQL database and one Redis: a sign-in ended
/// on one is ended on the other, and a user's budget is shared.
#[tokio::test]
async fn replicas_share_revocations_and_limits_through_redis() {
    if !backends().contains(&Backend::Postgres) || std::env::var("TEST_REDIS_URL").is_err() {
        eprintln!("needs TEST_DATABASE_URL and TEST_REDIS_URL (CI sets both)");
        return;
    }
    let (url, _) = fresh_database(Backend::Postgres).await;
    let mut settings = test_settings(Backend::Postgres, &url);
    settings.user_rate_per_minute = 6;
    let a = start(&settings, None).await;
    let b = start(&settings, None).await;
    a.register("shared@example.cn").await;
    let tokens = a.login("shared@example.cn").await;
    let access = tokens["access_token"].as_str().unwrap();
    for app in [&a, &b, &a, &b, &a, &b] {
        assert_eq!(app.get_as(access, "/api/v1/me").await.0, 200);
    }
    assert_eq!(
        b.get_as(access, "/api/v1/me").await.0,
        429,
        "budget not shared"
    );

    let tokens = a.login("shared@example.cn").await;
    let access = tokens["access_token"].as_str().unwrap();
    let res = a
        .post_json(
            "/api/v1/auth/logout",
            &json!({"refresh_token": tokens["refresh_token"]}),
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        b.get_as(access, "/api/v1/me").await.0,
        401,
        "revocation not shared"
    );
}
