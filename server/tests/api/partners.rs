//! Partner trip feeds over HTTP: keys (issued once, sealed at rest,
//! revoked), signed requests (every refusal), persons' cards, and records
//! that confirm logged trips or become trips, once each.

use chrono::{DateTime, Duration, FixedOffset};
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{any_backend, backends, spawn_app, spawn_app_with, TestApp};
use crate::helpers::{base_time, commute, points, trace};
use crate::helpers::{enterprise, government};

const FEED: &str = "/api/v1/partner/trips";

/// Signs as the partner documentation says, without the server's code.
fn sign(secret: &str, path: &str, ts: &str, nonce: &str, body: &[u8]) -> String {
    let canonical = format!(
        "POST\n{path}\n{ts}\n{nonce}\n{}",
        hex::encode(Sha256::digest(body))
    );
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(canonical.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

pub struct Partner {
    pub org_id: String,
    pub key: String,
    pub secret: String,
    /// The partner's operator.
    pub op: String,
    pub admin: String,
}

/// An approved enterprise made a partner by an administrator.
pub async fn partner(app: &TestApp, n: u32) -> Partner {
    let g = government(app, n).await;
    let (org, op) = enterprise(app, &g, &format!("transit{n}@lz.cn"), 700 + n).await;
    let org_id = org["id"].as_str().unwrap().to_string();
    let res = app
        .send(
            Method::POST,
            &format!("/api/v1/organizations/{org_id}/partner-keys"),
            Some(&g.admin),
            None,
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let key: Value = res.json().await.unwrap();
    Partner {
        org_id,
        key: key["id"].as_str().unwrap().to_string(),
        secret: key["secret"].as_str().unwrap().to_string(),
        op,
        admin: g.admin,
    }
}

async fn push_raw(app: &TestApp, headers: &[(&str, String)], body: Vec<u8>) -> (u16, Value) {
    let mut req = app
        .client
        .post(format!("{}{FEED}", app.address))
        .header("content-type", "application/json")
        .body(body);
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn signed_headers(p: &Partner, ts: i64, nonce: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    let ts = ts.to_string();
    vec![
        ("x-tanpuhui-key", p.key.clone()),
        ("x-tanpuhui-timestamp", ts.clone()),
        ("x-tanpuhui-nonce", nonce.to_string()),
        (
            "x-tanpuhui-signature",
            sign(&p.secret, FEED, &ts, nonce, body),
        ),
    ]
}

/// Pushes `records`, signed now with a fresh nonce.
pub async fn push(app: &TestApp, p: &Partner, records: Value) -> (u16, Value) {
    let body = serde_json::to_vec(&json!({ "records": records })).unwrap();
    let nonce = uuid::Uuid::new_v4().to_string();
    let headers = signed_headers(p, app.now().timestamp(), &nonce, &body);
    push_raw(app, &headers, body).await
}

pub fn record(
    id: &str,
    card: &str,
    mode: &str,
    km: &str,
    start: DateTime<FixedOffset>,
    minutes: i64,
) -> Value {
    json!({
        "record_id": id,
        "card_id": card,
        "mode": mode,
        "distance_km": km,
        "started_at": start.to_rfc3339(),
        "ended_at": (start + Duration::minutes(minutes)).to_rfc3339(),
    })
}

async fn link(app: &TestApp, token: &str, p: &Partner, card: &str) -> (u16, Value) {
    app.post_as(
        token,
        "/api/v1/me/transit-cards",
        &json!({"organization_id": p.org_id, "card_id": card}),
    )
    .await
}

#[tokio::test]
async fn partner_keys_are_issued_once_sealed_and_revocable() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let p = partner(&app, 1).await;
        assert!(p.key.starts_with("pk_") && p.secret.starts_with("tphs_"));
        // The secret is not in the database in clear, nor in any listing.
        use sea_orm::{ConnectionTrait, Statement};
        let rows = app
            .db
            .query_all_raw(Statement::from_string(
                app.db.get_database_backend(),
                "SELECT secret_sealed FROM partner_keys",
            ))
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        let sealed: String = rows[0].try_get("", "secret_sealed").unwrap();
        assert!(!sealed.contains(&p.secret) && !sealed.contains(&p.secret[5..]));
        let path = format!("/api/v1/organizations/{}/partner-keys", p.org_id);
        let (status, keys) = app.get_as(&p.op, &path).await;
        assert_eq!(status, 200);
        assert_eq!(keys["data"].as_array().unwrap().len(), 1, "{keys}");
        assert!(keys["data"][0].get("secret").is_none() && !keys.to_string().contains(&p.secret));
        // Only administrators issue; only approved enterprises get keys;
        // strangers do not see the keys.
        let (status, _) = app.post_as(&p.op, &path, &json!(null)).await;
        assert_eq!(status, 403);
        let g = government(&app, 2).await;
        let (status, e) = app
            .post_as(
                &p.admin,
                &format!("/api/v1/organizations/{}/partner-keys", g.dept_id),
                &json!(null),
            )
            .await;
        assert_eq!(
            (status, e["code"].as_str()),
            (409, Some("not_an_approved_enterprise"))
        );
        let stranger = app.signed_in("stranger@lz.cn").await;
        assert_eq!(app.get_as(&stranger, &path).await.0, 404);

        // A working key, then revoked by the partner's own operator.
        let (status, _) = push(
            &app,
            &p,
            json!([record("r0", "0000", "metro", "5", base_time(&app), 20)]),
        )
        .await;
        assert_eq!(status, 200);
        let (status, revoked) = app
            .post_as(&p.op, &format!("{path}/{}/revoke", p.key), &json!(null))
            .await;
        assert_eq!(status, 200, "{revoked}");
        assert!(revoked["revoked_at"].is_string());
        let (status, e) = push(
            &app,
            &p,
            json!([record("r1", "0000", "metro", "5", base_time(&app), 20)]),
        )
        .await;
        assert_eq!(
            (status, e["code"].as_str()),
            (401, Some("invalid_signature"))
        );
        assert_eq!(e["detail"], "the key is revoked");
    }
}

#[tokio::test]
async fn every_bad_signature_is_refused() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let p = partner(&app, 1).await;
        let body = serde_json::to_vec(
            &json!({"records": [record("r0", "0000", "metro", "5", base_time(&app), 20)]}),
        )
        .unwrap();
        let now = app.now().timestamp();
        let good = |nonce: &str| signed_headers(&p, now, nonce, &body);
        let n = |i: u32| format!("nonce-{i:04}-{}", uuid::Uuid::new_v4().simple());
        type Headers = Vec<(&'static str, String)>;
        let mut cases: Vec<(Headers, Vec<u8>, &str)> = Vec::new();
        for missing in 0..4 {
            let mut h = good(&n(missing));
            let name = h.remove(missing as usize).0;
            let detail = match name {
                "x-tanpuhui-key" => "the X-Tanpuhui-Key header is missing",
                "x-tanpuhui-timestamp" => "the X-Tanpuhui-Timestamp header is missing",
                "x-tanpuhui-nonce" => "the X-Tanpuhui-Nonce header is missing",
                _ => "the X-Tanpuhui-Signature header is missing",
            };
            cases.push((h, body.clone(), detail));
        }
        let mut unknown = good(&n(10));
        unknown[0].1 = "pk_000000000000000000000000".into();
        cases.push((unknown, body.clone(), "unknown key"));
        // The body changed after signing.
        let mut altered = body.clone();
        let at = altered.len() - 3;
        altered[at] = b'9';
        cases.push((good(&n(11)), altered, "the signature does not match"));
        // Signed with another secret.
        let mut forged = good(&n(12));
        forged[3].1 = sign("tphs_guess", FEED, &now.to_string(), &forged[2].1, &body);
        cases.push((forged, body.clone(), "the signature does not match"));
        // Signed for another path.
        let mut elsewhere = good(&n(13));
        elsewhere[3].1 = sign(
            &p.secret,
            "/api/v1/partner/other",
            &now.to_string(),
            &elsewhere[2].1,
            &body,
        );
        cases.push((elsewhere, body.clone(), "the signature does not match"));
        for skew in [-320, 320] {
            let nonce = n(20 + (skew > 0) as u32);
            let h = signed_headers(&p, now + skew, &nonce, &body);
            cases.push((
                h,
                body.clone(),
                "the timestamp is more than 300 s from the server's clock",
            ));
        }
        let mut bad_ts = good(&n(30));
        bad_ts[1].1 = "yesterday".into();
        cases.push((bad_ts, body.clone(), "the timestamp is not Unix seconds"));
        cases.push((
            good("short"),
            body.clone(),
            "the nonce must be 16 to 64 of [A-Za-z0-9_-]",
        ));
        for (headers, b, detail) in cases {
            let (status, e) = push_raw(&app, &headers, b).await;
            assert_eq!(status, 401, "{detail}: {e}");
            assert_eq!(
                (e["code"].as_str(), e["detail"].as_str()),
                (Some("invalid_signature"), Some(detail))
            );
        }
        // Within the window, a good request passes once: its replay, and
        // the same signature under a fresh nonce, are refused.
        let nonce = n(40);
        let h = signed_headers(&p, now - 290, &nonce, &body);
        assert_eq!(push_raw(&app, &h, body.clone()).await.0, 200);
        let (status, e) = push_raw(&app, &h, body.clone()).await;
        assert_eq!(
            (status, e["detail"].as_str()),
            (401, Some("this nonce was already used"))
        );
        let mut renonced = h.clone();
        renonced[2].1 = n(41);
        let (status, e) = push_raw(&app, &renonced, body.clone()).await;
        assert_eq!(
            (status, e["detail"].as_str()),
            (401, Some("the signature does not match"))
        );
        // Signed but not JSON, or no records: the usual problems.
        let junk = b"records".to_vec();
        let h = signed_headers(&p, now, &n(50), &junk);
        let (status, e) = push_raw(&app, &h, junk).await;
        assert_eq!((status, e["code"].as_str()), (400, Some("invalid_json")));
        let (status, e) = push(&app, &p, json!([])).await;
        assert_eq!((status, e["param"].as_str()), (422, Some("records")));
    }
}

#[tokio::test]
async fn records_confirm_logged_trips_or_become_trips_once() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let p = partner(&app, 1).await;
        let person = app.signed_in("rider@lz.cn").await;
        let (status, card) = link(&app, &person, &p, "6217 0000 1234 5678").await;
        assert_eq!(status, 201, "{card}");
        assert_eq!(card["card_last4"], "5678");
        let card_no = "6217-0000-1234-5678";
        let t0 = base_time(&app);

        // A self-declared trip credited at half, then confirmed by the
        // partner's metro record covering most of it: topped up to full.
        let (_, declared) = app
            .post_as(&person, "/api/v1/trips", &commute(t0, 30, false))
            .await;
        assert_eq!(declared["credited_g"], "450");
        let confirm = record(
            "m-1",
            card_no,
            "metro",
            "7.35",
            t0 + Duration::minutes(2),
            23,
        );
        // A trip waiting for review (its trace is from another hour),
        // confirmed: credited in full.
        let t2 = t0 + Duration::hours(2);
        let mut held = commute(t2, 30, true);
        held["trace"] = trace(t2 - Duration::hours(1), 8.55, 30);
        let (_, held) = app.post_as(&person, "/api/v1/trips", &held).await;
        assert_eq!(held["status"], "pending_review", "{held}");
        let confirm_held = record(
            "m-2",
            card_no,
            "metro",
            "7.35",
            t2 + Duration::minutes(3),
            20,
        );
        // No trip logged: the record becomes one, credited in full.
        let alone = record("m-3", card_no, "metro", "7.35", t0 + Duration::hours(1), 20);
        // A self-declared trip and a short bus ride inside it: the ride
        // does not vouch for the trip; as a trip of its own it overlaps.
        let t3 = t0 + Duration::hours(3);
        let (_, third) = app
            .post_as(&person, "/api/v1/trips", &commute(t3, 30, false))
            .await;
        assert_eq!(third["credited_g"], "450");
        let short = record("b-1", card_no, "bus", "1.5", t3 + Duration::minutes(5), 5);
        // Records over the self-declared trip that cannot vouch for it: a
        // negative distance is refused; a metro ride at 156 km/h becomes a
        // rejected trip of its own (too fast, overlapping).
        let negative = record("m-0", card_no, "metro", "-7", t0 + Duration::minutes(2), 23);
        let warp = record(
            "m-00",
            card_no,
            "metro",
            "60",
            t0 + Duration::minutes(2),
            23,
        );
        let (_, bad) = push(&app, &p, json!([negative, warp])).await;
        assert_eq!(bad["results"][0]["outcome"], "invalid", "{bad}");
        assert_eq!(
            bad["results"][0]["problem"]["param"], "legs[0].distance_km",
            "{bad}"
        );
        assert_eq!(
            (
                bad["results"][1]["outcome"].as_str(),
                bad["results"][1]["trip_status"].as_str()
            ),
            (Some("created"), Some("rejected")),
            "{bad}"
        );
        let stranger_card = record("m-9", "9999 0000", "metro", "7.35", t0, 20);
        let rocket = record("x-1", card_no, "rocket", "7", t0 + Duration::hours(4), 20);
        let (status, out) = push(
            &app,
            &p,
            json!([confirm, confirm_held, alone, short, stranger_card, rocket]),
        )
        .await;
        assert_eq!(status, 200, "{out}");
        let r = out["results"].as_array().unwrap();
        let outcomes: Vec<(&str, Option<&str>)> = r
            .iter()
            .map(|x| (x["outcome"].as_str().unwrap(), x["trip_status"].as_str()))
            .collect();
        assert_eq!(
            outcomes,
            vec![
                ("confirmed", Some("credited")),
                ("confirmed", Some("credited")),
                ("created", Some("credited")),
                ("created", Some("rejected")),
                ("unknown_card", None),
                ("invalid", None),
            ],
            "{out}"
        );
        assert_eq!(r[5]["problem"]["code"], "unknown_mode");
        assert!(r.iter().all(|x| x["replayed"] == false));
        // Partners learn the outcome, not the person's account.
        assert!(!out.to_string().contains("credited_g") && !out.to_string().contains("rider"));

        let trip = |id: &Value| format!("/api/v1/trips/{}", id.as_str().unwrap());
        let (_, first) = app.get_as(&person, &trip(&declared["id"])).await;
        assert_eq!(
            (first["credited_g"].as_str(), first["points"].as_str()),
            (Some("901"), Some("901"))
        );
        assert!(first["confirmed_at"].is_string(), "{first}");
        assert_eq!(first["reasons"], json!([]));
        let (_, second) = app.get_as(&person, &trip(&held["id"])).await;
        assert_eq!(
            (second["status"].as_str(), second["credited_g"].as_str()),
            (Some("credited"), Some("901"))
        );
        let (_, list) = app.get_as(&person, "/api/v1/trips").await;
        let made: Vec<&Value> = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["source"] == "partner")
            .collect();
        assert_eq!(
            made.len(),
            3,
            "the ride at 156 km/h, the short ride, the lone ride"
        );
        let created = made.iter().find(|t| t["status"] == "credited").unwrap();
        let rejected = made.iter().find(|t| t["status"] == "rejected").unwrap();
        assert!(rejected["reasons"]
            .as_array()
            .unwrap()
            .contains(&json!("overlaps_another_trip")));
        let created_g: i64 = created["credited_g"].as_str().unwrap().parse().unwrap();
        assert!(created_g > 0);
        let expected = 901 + 901 + created_g + 450;
        assert_eq!(points(&app, &person).await, expected.to_string());

        // Sent again, every record answers what it did and credits nothing.
        let (_, again) = push(&app, &p, json!([confirm, confirm_held, alone, short])).await;
        let again = again["results"].as_array().unwrap();
        assert!(again.iter().all(|x| x["replayed"] == true), "{again:?}");
        assert_eq!(points(&app, &person).await, expected.to_string());
        // The same record id for another journey is refused.
        let changed = record("m-3", card_no, "metro", "7.35", t0 + Duration::hours(5), 20);
        let (_, reused) = push(&app, &p, json!([changed])).await;
        assert_eq!(
            reused["results"][0]["problem"]["code"], "record_id_reused",
            "{reused}"
        );
        assert_eq!(reused["results"][0]["problem"]["status"], 409);
    }
}

#[tokio::test]
async fn cards_are_linked_once_and_unlinked_by_their_holder() {
    let app = spawn_app(any_backend()).await;
    let p = partner(&app, 1).await;
    let a = app.signed_in("a@lz.cn").await;
    let b = app.signed_in("b@lz.cn").await;
    let (status, card) = link(&app, &a, &p, "ab12 3456").await;
    assert_eq!(status, 201);
    // The same card, however written, is taken; whose is not said.
    let (status, e) = link(&app, &b, &p, "AB12-3456").await;
    assert_eq!(
        (status, e["code"].as_str()),
        (409, Some("card_already_linked"))
    );
    assert!(!e.to_string().contains("a@lz.cn"));
    for (body, param) in [
        (
            json!({"organization_id": p.org_id, "card_id": "12"}),
            "card_id",
        ),
        (
            json!({"organization_id": "no-such-org", "card_id": "12345678"}),
            "organization_id",
        ),
    ] {
        let (status, e) = app.post_as(&b, "/api/v1/me/transit-cards", &body).await;
        assert_eq!((status, e["param"].as_str()), (422, Some(param)), "{e}");
    }
    let (_, mine) = app.get_as(&a, "/api/v1/me/transit-cards").await;
    assert_eq!(mine["data"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(
        app.get_as(&b, "/api/v1/me/transit-cards").await.1,
        json!({"data": [], "has_more": false})
    );
    let path = format!("/api/v1/me/transit-cards/{}", card["id"].as_str().unwrap());
    assert_eq!(
        app.send(Method::DELETE, &path, Some(&b), None)
            .await
            .status(),
        404
    );
    assert_eq!(
        app.send(Method::DELETE, &path, Some(&a), None)
            .await
            .status(),
        204
    );
    // Unlinked: the partner's records of it are no one's.
    let (_, out) = push(
        &app,
        &p,
        json!([record("r", "AB123456", "metro", "5", base_time(&app), 20)]),
    )
    .await;
    assert_eq!(out["results"][0]["outcome"], "unknown_card");
    // Now b may link it.
    assert_eq!(link(&app, &b, &p, "ab123456").await.0, 201);
}

#[tokio::test]
async fn without_a_secrets_key_partner_feeds_are_off() {
    let app = spawn_app_with(any_backend(), |s| s.partner_secrets_key = None).await;
    let g = government(&app, 1).await;
    let (org, _) = enterprise(&app, &g, "t@lz.cn", 701).await;
    let id = org["id"].as_str().unwrap();
    let (status, e) = app
        .post_as(
            &g.admin,
            &format!("/api/v1/organizations/{id}/partner-keys"),
            &json!(null),
        )
        .await;
    assert_eq!((status, e["code"].as_str()), (503, Some("unavailable")));
    assert!(e["detail"]
        .as_str()
        .unwrap()
        .contains("TANPUHUI_PARTNER_SECRETS_KEY"));
    let (status, _) = push_raw(&app, &[], b"{}".to_vec()).await;
    assert_eq!(status, 503);
}

#[tokio::test]
async fn concurrent_pushes_of_a_record_apply_it_once() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let p = partner(&app, 1).await;
        let person = app.signed_in("rush@lz.cn").await;
        assert_eq!(link(&app, &person, &p, "88880000").await.0, 201);
        let t0 = base_time(&app);
        let (_, declared) = app
            .post_as(&person, "/api/v1/trips", &commute(t0, 30, false))
            .await;
        assert_eq!(declared["credited_g"], "450");
        let confirm = record(
            "c-1",
            "88880000",
            "metro",
            "7.35",
            t0 + Duration::minutes(1),
            25,
        );
        let create = record(
            "c-2",
            "88880000",
            "metro",
            "7.35",
            t0 + Duration::hours(1),
            20,
        );
        let pushes = (0..8).map(|i| {
            let body = if i % 2 == 0 {
                json!([confirm])
            } else {
                json!([create, confirm])
            };
            push(&app, &p, body)
        });
        let answers = futures_util::future::join_all(pushes).await;
        let mut fresh = 0;
        for (status, out) in &answers {
            assert_eq!(*status, 200, "{out}");
            for r in out["results"].as_array().unwrap() {
                assert!(r["problem"].is_null(), "{backend:?}: {r}");
                fresh += (r["replayed"] == false) as u32;
            }
        }
        assert_eq!(
            fresh, 2,
            "{backend:?}: each record applied once: {answers:?}"
        );
        let (_, list) = app.get_as(&person, "/api/v1/trips").await;
        assert_eq!(list["data"].as_array().unwrap().len(), 2, "{backend:?}");
        let created: i64 = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["source"] == "partner")
            .map(|t| t["credited_g"].as_str().unwrap().parse().unwrap())
            .unwrap();
        assert_eq!(
            points(&app, &person).await,
            (901 + created).to_string(),
            "{backend:?}"
        );
    }
}

#[tokio::test]
async fn a_partner_key_is_limited_per_minute() {
    let app = spawn_app(any_backend()).await;
    let p = partner(&app, 1).await;
    let records = json!([record("r", "00001111", "metro", "5", base_time(&app), 20)]);
    for i in 0..120 {
        let (status, out) = push(&app, &p, records.clone()).await;
        assert_eq!(status, 200, "request {i}: {out}");
    }
    let (status, e) = push(&app, &p, records.clone()).await;
    assert_eq!((status, e["code"].as_str()), (429, Some("rate_limited")));
    // Another partner's key is counted on its own.
    let other = partner(&app, 2).await;
    assert_eq!(push(&app, &other, records).await.0, 200);
}
