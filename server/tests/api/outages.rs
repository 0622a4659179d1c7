//! Outages of PostgreSQL and Redis under load, through a relay the test
//! cuts and restores (no shared server is touched, so tests stay
//! parallel-safe). PostgreSQL down: every request is a fast 503
//! `unavailable` with `Retry-After`, readiness answers inside a second,
//! and writes succeed again once it is back. Redis down: the API fails open
//! and fast (a breaker stops calling it), with latency and throughput close
//! to normal, and logged-out tokens stay logged out whatever the cache
//! lost.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tanpuhui_server::config::Secret;

use crate::helpers::{
    backends, fresh_database, spawn_app_with, start, test_settings, through_proxy, Backend,
    FaultProxy, TestApp,
};

fn redis_url() -> Option<String> {
    std::env::var("TEST_REDIS_URL").ok()
}

/// `n` concurrent requests of `make`; each status and how long it took.
async fn burst<F, Fut>(n: usize, make: F) -> Vec<(u16, Duration, reqwest::header::HeaderMap, Value)>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = reqwest::Response>,
{
    futures_util::future::join_all((0..n).map(|i| {
        let fut = make(i);
        async move {
            let t0 = Instant::now();
            let res = fut.await;
            let took = t0.elapsed();
            let status = res.status().as_u16();
            let headers = res.headers().clone();
            (
                status,
                took,
                headers,
                res.json().await.unwrap_or(Value::Null),
            )
        }
    }))
    .await
}

async fn trip(
    app: &TestApp,
    token: &str,
    start: chrono::DateTime<chrono::FixedOffset>,
) -> reqwest::Response {
    app.client
        .post(format!("{}/api/v1/trips", app.address))
        .header("authorization", format!("Bearer {token}"))
        .json(&crate::helpers::commute(start, 20, false))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn postgres_down_answers_a_fast_503_and_recovers_without_restart() {
    if !backends().contains(&Backend::Postgres) {
        eprintln!("needs TEST_DATABASE_URL (CI sets it)");
        return;
    }
    let (url, _) = fresh_database(Backend::Postgres).await;
    let (target, via) = through_proxy(&url);
    let proxy = FaultProxy::to(&target).await;
    let mut settings = test_settings(Backend::Postgres, &via(proxy.port));
    settings.database_acquire_timeout_ms =
        tanpuhui_server::config::DEFAULT_DATABASE_ACQUIRE_TIMEOUT_MS;
    let acquire = Duration::from_millis(settings.database_acquire_timeout_ms);
    let app = start(&settings, None).await;
    let token = app.signed_in("outage@lz.cn").await;
    let t0 = crate::helpers::base_time(&app);
    assert_eq!(trip(&app, &token, t0).await.status(), 201);

    proxy.cut();
    let answers = burst(24, |i| {
        let minute = chrono::Duration::minutes(30 * (i as i64 + 1));
        let app = &app;
        let token = token.clone();
        async move {
            if i % 2 == 0 {
                trip(app, &token, t0 + minute).await
            } else {
                app.client
                    .get(format!("{}/api/v1/me", app.address))
                    .header("authorization", format!("Bearer {token}"))
                    .send()
                    .await
                    .unwrap()
            }
        }
    })
    .await;
    let slowest = answers.iter().map(|a| a.1).max().unwrap();
    for (status, took, headers, body) in &answers {
        assert_eq!(
            (*status, body["code"].as_str()),
            (503, Some("unavailable")),
            "{took:?} {body}"
        );
        assert!(headers.contains_key("retry-after"), "{headers:?}");
        assert!(headers.contains_key("x-request-id"));
    }
    // One acquire timeout, with room for a loaded machine; it was 5 s.
    assert!(slowest < acquire * 3, "slowest 503 took {slowest:?}");
    let t = Instant::now();
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "/readyz took {:?}",
        t.elapsed()
    );
    assert_eq!(app.get("/healthz").await.status(), 200);
    eprintln!("PostgreSQL down: 24 answers, all 503, slowest {slowest:?}");

    // Back: writes succeed again without a restart.
    proxy.restore().await;
    let back = Instant::now();
    let mut k = 60;
    loop {
        k += 1;
        let status = trip(&app, &token, t0 + chrono::Duration::minutes(30 * k))
            .await
            .status();
        if status == 201 {
            break;
        }
        assert_eq!(status, 503);
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "no recovery in 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("PostgreSQL back: first write after {:?}", back.elapsed());
    assert_eq!(app.get("/readyz").await.status(), 200);
}

/// Requests per second and median latency of `GET /api/v1/me` from 8
/// clients for `span`.
async fn load(app: &TestApp, token: &str, span: Duration) -> (f64, Duration) {
    let stop = Instant::now() + span;
    let runs = futures_util::future::join_all((0..8).map(|_| async {
        let mut took = Vec::new();
        while Instant::now() < stop {
            let t = Instant::now();
            let (status, _) = app.get_as(token, "/api/v1/me").await;
            assert_eq!(status, 200);
            took.push(t.elapsed());
        }
        took
    }))
    .await;
    let mut all: Vec<Duration> = runs.into_iter().flatten().collect();
    all.sort();
    (all.len() as f64 / span.as_secs_f64(), all[all.len() / 2])
}

#[tokio::test]
async fn redis_down_fails_open_fast_and_revocations_hold() {
    let Some(redis) = redis_url() else {
        eprintln!("needs TEST_REDIS_URL (CI sets it)");
        return;
    };
    let (target, via) = through_proxy(&redis);
    let proxy = FaultProxy::to(&target).await;
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.redis_url = Some(Secret::new(via(proxy.port)));
    })
    .await;
    let res = app.get("/readyz").await;
    assert_eq!(res.json::<Value>().await.unwrap()["cache_state"], "ok");
    let token = app.signed_in("during-outage@example.cn").await;
    let doomed = app.login("during-outage@example.cn").await;
    let span = Duration::from_millis(1500);
    let (normal_rps, normal_p50) = load(&app, &token, span).await;

    proxy.cut();
    // The first calls wait out the Redis timeout and open the breaker;
    // after that nobody waits for Redis.
    assert_eq!(app.get_as(&token, "/api/v1/me").await.0, 200);
    let (down_rps, down_p50) = load(&app, &token, span).await;
    eprintln!(
        "Redis down: {down_rps:.0} req/s, p50 {down_p50:?} (normal {normal_rps:.0} req/s, p50 {normal_p50:?})"
    );
    assert!(
        down_rps >= normal_rps / 2.0,
        "throughput {down_rps:.0} vs {normal_rps:.0}"
    );
    assert!(
        down_p50 <= normal_p50 * 2 + Duration::from_millis(10),
        "p50 {down_p50:?} vs {normal_p50:?}"
    );
    let ready = app.get("/readyz").await;
    assert_eq!(
        ready.status(),
        200,
        "a cache outage is not a reason to leave the load balancer"
    );
    assert_eq!(
        ready.json::<Value>().await.unwrap()["cache_state"],
        "unreachable"
    );

    // A logout during the outage holds, during it and after it.
    let access = doomed["access_token"].as_str().unwrap();
    assert_eq!(app.get_as(access, "/api/v1/me").await.0, 200);
    let res = app
        .post_json(
            "/api/v1/auth/logout",
            &json!({"refresh_token": doomed["refresh_token"]}),
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        app.get_as(access, "/api/v1/me").await.0,
        401,
        "during the outage"
    );
    proxy.restore().await;
    let back = Instant::now();
    loop {
        let ready: Value = app.get("/readyz").await.json().await.unwrap();
        if ready["cache_state"] == "ok" {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "Redis not used again in 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for _ in 0..20 {
        assert_eq!(
            app.get_as(access, "/api/v1/me").await.0,
            401,
            "after the outage"
        );
        assert_eq!(app.get_as(&token, "/api/v1/me").await.0, 200);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A cache that lost everything (Redis flushed or restarted, or a replica
/// with a fresh in-process cache) does not bring logged-out tokens back:
/// it no longer vouches for anything, and the database answers.
#[tokio::test]
async fn revocations_survive_a_cache_that_lost_its_data() {
    for backend in backends() {
        let (url, dir) = fresh_database(backend).await;
        let settings = test_settings(backend, &url);
        let app = start(&settings, dir).await;
        app.register("flushed@example.cn").await;
        let gone = app.login("flushed@example.cn").await;
        let kept = app.login("flushed@example.cn").await;
        let res = app
            .post_json(
                "/api/v1/auth/logout",
                &json!({"refresh_token": gone["refresh_token"]}),
            )
            .await;
        assert_eq!(res.status(), 204);
        // The same database behind an empty cache: a new Redis key prefix
        // is a flushed Redis; without Redis, a restarted process.
        let mut emptied = settings.clone();
        emptied.redis_prefix = format!("tph-test:{}:", uuid::Uuid::new_v4().simple());
        let fresh = start(&emptied, None).await;
        for app in [&fresh, &app] {
            for _ in 0..3 {
                let gone = gone["access_token"].as_str().unwrap();
                let kept = kept["access_token"].as_str().unwrap();
                assert_eq!(app.get_as(gone, "/api/v1/me").await.0, 401, "{backend:?}");
                assert_eq!(app.get_as(kept, "/api/v1/me").await.0, 200, "{backend:?}");
                // Once the cache is rebuilt its answers are the same.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}
