use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use tanpuhui_server::auth::{refresh::REFRESH_TTL_DAYS, token::ACCESS_TTL_SECS};

use crate::helpers::{any_backend, backends, spawn_app, spawn_app_with, TestApp, TEST_JWT_SECRET};

async fn problem(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    assert_eq!(
        res.headers()["content-type"],
        "application/problem+json",
        "status {status}"
    );
    (status, res.json().await.unwrap())
}

#[tokio::test]
async fn register_by_email_or_mobile_once() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let res = app
            .post_json(
                "/api/v1/auth/register",
                &json!({"email": "Li.Ming@Example.cn", "password": "a long passphrase"}),
            )
            .await;
        assert_eq!(res.status(), 201, "{backend:?}");
        let user: Value = res.json().await.unwrap();
        assert_eq!(user["email"], "li.ming@example.cn");
        assert!(user.get("password_hash").is_none());

        let again = app
            .post_json(
                "/api/v1/auth/register",
                &json!({"email": "LI.MING@example.cn", "password": "another passphrase"}),
            )
            .await;
        let (status, p) = problem(again).await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("already_registered"))
        );

        let res = app
            .post_json(
                "/api/v1/auth/register",
                &json!({"mobile": "+86 138-0013-8000", "password": "a long passphrase"}),
            )
            .await;
        assert_eq!(res.status(), 201);
        assert_eq!(res.json::<Value>().await.unwrap()["mobile"], "13800138000");
        let dup = app
            .post_json(
                "/api/v1/auth/register",
                &json!({"mobile": "13800138000", "password": "a long passphrase"}),
            )
            .await;
        assert_eq!(dup.status(), 409);
    }
}

#[tokio::test]
async fn registration_rules_name_the_field() {
    let app = spawn_app(any_backend()).await;
    let cases = [
        (
            json!({"email": "not-an-email", "password": "a long passphrase"}),
            "email",
        ),
        (json!({"email": "a@b.cn", "password": "short"}), "password"),
        (
            json!({"mobile": "12345", "password": "a long passphrase"}),
            "mobile",
        ),
        (json!({"password": "a long passphrase"}), "email"),
        (
            json!({"email": "a@b.cn", "mobile": "13800138000", "password": "a long passphrase"}),
            "email",
        ),
    ];
    for (body, param) in cases {
        let (status, p) = problem(app.post_json("/api/v1/auth/register", &body).await).await;
        assert_eq!(
            (status, p["code"].as_str(), p["param"].as_str()),
            (422, Some("invalid_field"), Some(param)),
            "{body}"
        );
    }
}

#[tokio::test]
async fn malformed_bodies_are_4xx_problems() {
    let app = spawn_app(any_backend()).await;
    let url = format!("{}/api/v1/auth/register", app.address);
    let send = |body: String, ct: &'static str| {
        let c = app.client.clone();
        let url = url.clone();
        async move {
            c.post(url)
                .header("content-type", ct)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let (s, p) = problem(send("{\"email\":".into(), "application/json").await).await;
    assert_eq!((s, p["code"].as_str()), (400, Some("invalid_json")));
    let (s, p) = problem(send("{}".into(), "text/plain").await).await;
    assert_eq!(
        (s, p["code"].as_str()),
        (415, Some("unsupported_media_type"))
    );
    let big = format!("{{\"email\":\"{}\"}}", "a".repeat(70 * 1024));
    let (s, p) = problem(send(big, "application/json").await).await;
    assert_eq!((s, p["code"].as_str()), (413, Some("payload_too_large")));
    let (s, p) = problem(
        send(
            "{\"email\":\"a@b.cn\",\"password\":\"a long passphrase\",\"admin\":true}".into(),
            "application/json",
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, p["code"].as_str(), p["param"].as_str()),
        (400, Some("unknown_field"), Some("admin"))
    );
    let (s, p) = problem(
        send(
            "{\"email\":42,\"password\":\"a long passphrase\"}".into(),
            "application/json",
        )
        .await,
    )
    .await;
    assert_eq!((s, p["code"].as_str()), (400, Some("invalid_value")));
}

#[tokio::test]
async fn login_and_me() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let token = app.signed_in("wang.fang@example.cn").await;
        let res = app.get_with_token("/api/v1/me", &token).await;
        assert_eq!(res.status(), 200, "{backend:?}");
        assert_eq!(
            res.json::<Value>().await.unwrap()["email"],
            "wang.fang@example.cn"
        );

        let wrong = app
            .post_json(
                "/api/v1/auth/login",
                &json!({"login": "wang.fang@example.cn", "password": "not the password"}),
            )
            .await;
        let (s, p) = problem(wrong).await;
        assert_eq!((s, p["code"].as_str()), (401, Some("invalid_credentials")));
        let nobody = app
            .post_json(
                "/api/v1/auth/login",
                &json!({"login": "nobody@example.cn", "password": "long enough password"}),
            )
            .await;
        let (s, p2) = problem(nobody).await;
        assert_eq!(s, 401);
        assert_eq!(
            p2["detail"], p["detail"],
            "unknown user and wrong password must look alike"
        );
    }
}

fn b64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[tokio::test]
async fn bad_tokens_are_401() {
    let app = spawn_app(any_backend()).await;
    let good = app.signed_in("zhao.lei@example.cn").await;
    let me: Value = app
        .get_with_token("/api/v1/me", &good)
        .await
        .json()
        .await
        .unwrap();
    let sub = me["id"].as_str().unwrap().to_string();
    let now = app.clock.now().timestamp();
    let claims = |exp: i64| json!({"sub": sub, "iat": now, "exp": exp, "jti": "x", "typ": "access", "sid": "s"});
    let secret = EncodingKey::from_secret(TEST_JWT_SECRET.as_bytes());

    let mut tampered = good.clone().into_bytes();
    let mid = tampered.len() / 2;
    tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
    let expired = encode(&Header::new(Algorithm::HS256), &claims(now - 10), &secret).unwrap();
    let hs512 = encode(&Header::new(Algorithm::HS512), &claims(now + 600), &secret).unwrap();
    let other_key = encode(
        &Header::new(Algorithm::HS256),
        &claims(now + 600),
        &EncodingKey::from_secret(b"another secret of at least 32 bytes!!"),
    )
    .unwrap();
    let none = format!(
        "{}.{}.",
        b64url(br#"{"alg":"none","typ":"JWT"}"#),
        b64url(claims(now + 600).to_string().as_bytes())
    );
    let refresh_typ = encode(
        &Header::new(Algorithm::HS256),
        &json!({"sub": sub, "iat": now, "exp": now + 600, "jti": "x", "typ": "refresh", "sid": "s"}),
        &secret,
    )
    .unwrap();
    let still_good = encode(&Header::new(Algorithm::HS256), &claims(now + 600), &secret).unwrap();
    assert_eq!(
        app.get_with_token("/api/v1/me", &still_good).await.status(),
        200,
        "control token must pass"
    );

    for (name, token) in [
        ("tampered", String::from_utf8(tampered).unwrap()),
        ("expired", expired),
        ("HS512", hs512),
        ("other key", other_key),
        ("alg none", none),
        ("not an access token", refresh_typ),
        ("garbage", "abc.def.ghi".into()),
    ] {
        let (s, p) = problem(app.get_with_token("/api/v1/me", &token).await).await;
        assert_eq!(
            (s, p["code"].as_str()),
            (401, Some("invalid_token")),
            "{name}"
        );
    }
    let res = app.get("/api/v1/me").await;
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
}

async fn sign_in_pair(app: &TestApp, email: &str) -> Value {
    app.register(email).await;
    app.login(email).await
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    for backend in backends() {
        // No retry window: any second use is a reuse.
        let app = spawn_app_with(backend, |s| s.refresh_grace_secs = 0).await;
        let pair = sign_in_pair(&app, "sun.li@example.cn").await;
        let first = pair["refresh_token"].as_str().unwrap().to_string();

        let res = app
            .post_json("/api/v1/auth/refresh", &json!({"refresh_token": first}))
            .await;
        assert_eq!(res.status(), 200, "{backend:?}");
        let next: Value = res.json().await.unwrap();
        let second = next["refresh_token"].as_str().unwrap().to_string();
        assert_ne!(first, second);
        assert_eq!(
            app.get_with_token("/api/v1/me", next["access_token"].as_str().unwrap())
                .await
                .status(),
            200
        );

        // The first token again: reuse. The family dies, successor included.
        let (s, p) = problem(
            app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": first}))
                .await,
        )
        .await;
        assert_eq!((s, p["code"].as_str()), (401, Some("token_reused")));
        let (s, p) = problem(
            app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": second}))
                .await,
        )
        .await;
        assert_eq!((s, p["code"].as_str()), (401, Some("invalid_token")));

        let (s, _) = problem(
            app.post_json(
                "/api/v1/auth/refresh",
                &json!({"refresh_token": "0".repeat(64)}),
            )
            .await,
        )
        .await;
        assert_eq!(s, 401);
    }
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_succeed_once() {
    for backend in backends() {
        let app = spawn_app_with(backend, |s| s.refresh_grace_secs = 0).await;
        let pair = sign_in_pair(&app, "qian.hua@example.cn").await;
        let token = pair["refresh_token"].as_str().unwrap().to_string();
        let url = format!("{}/api/v1/auth/refresh", app.address);
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (client, url, body) = (
                    app.client.clone(),
                    url.clone(),
                    json!({"refresh_token": token}),
                );
                tokio::spawn(async move {
                    client
                        .post(url)
                        .json(&body)
                        .send()
                        .await
                        .unwrap()
                        .status()
                        .as_u16()
                })
            })
            .collect();
        let mut statuses = Vec::new();
        for t in tasks {
            statuses.push(t.await.unwrap());
        }
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "{backend:?}: {statuses:?}"
        );
        assert!(
            statuses.iter().all(|s| *s == 200 || *s == 401),
            "{statuses:?}"
        );
    }
}

/// A phone that lost a refresh's answer retries with the same token and
/// gets the same new refresh token, so it stays signed in; concurrent
/// retries all get it. Reuse detection holds after: once the new token was
/// used, or once the grace period is over, the old one revokes the sign-in.
#[tokio::test]
async fn a_lost_refresh_answer_can_be_retried_without_signing_out() {
    for backend in backends() {
        let app = spawn_app_with(backend, |s| s.refresh_grace_secs = 1).await;
        let refresh = |token: String| {
            let app = &app;
            async move {
                let res = app
                    .post_json("/api/v1/auth/refresh", &json!({"refresh_token": token}))
                    .await;
                let status = res.status().as_u16();
                (status, res.json::<Value>().await.unwrap())
            }
        };
        let first = sign_in_pair(&app, "lost.answer@example.cn").await["refresh_token"]
            .as_str()
            .unwrap()
            .to_string();
        // The answer is lost; the phone retries, several times at once.
        let answers = futures_util::future::join_all((0..4).map(|_| refresh(first.clone()))).await;
        let second = answers[0].1["refresh_token"].as_str().unwrap().to_string();
        for (status, body) in &answers {
            assert_eq!(*status, 200, "{backend:?} {body}");
            assert_eq!(body["refresh_token"], second.as_str(), "one successor");
            let access = body["access_token"].as_str().unwrap();
            assert_eq!(app.get_with_token("/api/v1/me", access).await.status(), 200);
        }
        assert_ne!(first, second);
        // The phone goes on with the successor; the old token is spent.
        let (status, third) = refresh(second.clone()).await;
        assert_eq!(status, 200);
        let third = third["refresh_token"].as_str().unwrap().to_string();
        let (status, p) = refresh(first.clone()).await;
        assert_eq!(
            (status, p["code"].as_str()),
            (401, Some("token_reused")),
            "{p}"
        );
        let (status, _) = refresh(third).await;
        assert_eq!(status, 401, "the sign-in was revoked");

        // After the grace period a retry is a reuse, as before.
        let old = sign_in_pair(&app, "late.retry@example.cn").await["refresh_token"]
            .as_str()
            .unwrap()
            .to_string();
        let (status, next) = refresh(old.clone()).await;
        assert_eq!(status, 200);
        tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
        let (status, p) = refresh(old).await;
        assert_eq!(
            (status, p["code"].as_str()),
            (401, Some("token_reused")),
            "{p}"
        );
        let (status, _) = refresh(next["refresh_token"].as_str().unwrap().to_string()).await;
        assert_eq!(status, 401);
    }
}

#[tokio::test]
async fn logout_and_expiry_end_refresh() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let pair = sign_in_pair(&app, "zhou.yu@example.cn").await;
        let token = pair["refresh_token"].as_str().unwrap().to_string();
        let res = app
            .post_json("/api/v1/auth/logout", &json!({"refresh_token": token}))
            .await;
        assert_eq!(res.status(), 204, "{backend:?}");
        assert_eq!(
            app.post_json("/api/v1/auth/logout", &json!({"refresh_token": token}))
                .await
                .status(),
            204
        );
        let (s, p) = problem(
            app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": token}))
                .await,
        )
        .await;
        assert_eq!((s, p["code"].as_str()), (401, Some("invalid_token")));

        // Tokens expire on the server's clock: the access token after 15
        // minutes, the refresh token after its lifetime.
        let pair = app.login("zhou.yu@example.cn").await;
        let token = pair["refresh_token"].as_str().unwrap().to_string();
        let access = pair["access_token"].as_str().unwrap().to_string();
        app.clock
            .advance(chrono::Duration::seconds(ACCESS_TTL_SECS - 60));
        assert_eq!(
            app.get_as(&access, "/api/v1/me").await.0,
            200,
            "{backend:?}"
        );
        app.clock.advance(chrono::Duration::seconds(120));
        assert_eq!(
            app.get_as(&access, "/api/v1/me").await.0,
            401,
            "{backend:?}"
        );
        app.clock.advance(chrono::Duration::days(REFRESH_TTL_DAYS));
        let (s, p) = problem(
            app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": token}))
                .await,
        )
        .await;
        assert_eq!((s, p["code"].as_str()), (401, Some("invalid_token")));
    }
}

#[tokio::test]
async fn sign_in_routes_are_rate_limited_per_ip() {
    use crate::helpers::TEST_AUTH_RATE_PER_MINUTE;
    let app = spawn_app(any_backend()).await;
    let body = json!({"login": "nobody@example.cn", "password": "wrong password!"});
    for i in 0..TEST_AUTH_RATE_PER_MINUTE {
        let status = app.post_json("/api/v1/auth/login", &body).await.status();
        assert_eq!(status, 401, "request {i}");
    }
    let res = app.post_json("/api/v1/auth/login", &body).await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let (s, p) = problem(res).await;
    assert_eq!((s, p["code"].as_str()), (429, Some("rate_limited")));
    // Other routes are not counted.
    assert_eq!(app.get("/healthz").await.status(), 200);
}
