//! The Merkle audit log: every ledger event sealed, signed heads, proofs
//! that carbon-calc verifies, no personal ids in clear, and `tanpuhui audit
//! verify` catching an edited event.

use std::process::Command;
use std::time::{Duration, Instant};

use carbon_calc::merkle::{leaf_hash, verify_consistency, verify_inclusion, Hash, TreeHead};
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

use crate::helpers::{
    backends, fresh_database, grant_points, start, test_settings, TestApp, TEST_AUDIT_SIGNING_KEY,
};

fn hash(v: &Value) -> Hash {
    hex::decode(v.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

fn proof(v: &Value) -> Vec<Hash> {
    v.as_array().unwrap().iter().map(hash).collect()
}

impl TestApp {
    /// The latest signed head once it covers at least `size` leaves
    /// (sealing runs every 50 ms in tests); fails after 10 s.
    pub async fn sealed_head(&self, size: u64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let res = self.get("/api/v1/audit/tree-head").await;
            if res.status() == 200 {
                let head: Value = res.json().await.unwrap();
                if head["tree_size"].as_u64().unwrap() >= size {
                    return head;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the log did not reach {size} leaves"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A head checked as a phone would: signature, then the pair it binds.
fn checked(head: &Value) -> TreeHead {
    let h = TreeHead {
        tree_size: head["tree_size"].as_u64().unwrap(),
        timestamp: head["timestamp"].as_u64().unwrap(),
        root_hash: hash(&head["root_hash"]),
    };
    let sig: [u8; 64] = hex::decode(head["signature"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let key = tanpuhui_server::audit::signer::TreeSigner::from_hex(TEST_AUDIT_SIGNING_KEY)
        .unwrap()
        .public_key();
    assert_eq!(head["public_key"], hex::encode(key));
    assert!(h.verify(&sig, &key), "tree head signature");
    h
}

#[tokio::test]
async fn ledger_events_are_sealed_with_proofs_that_verify() {
    for backend in backends() {
        let (url, dir) = fresh_database(backend).await;
        let app = start(&test_settings(backend, &url), dir).await;
        let token = app.signed_in("audit@example.cn").await;
        let (_, account) = app.whoami(&token).await;
        for i in 0..3 {
            grant_points(&app, &account, 100 + i, &format!("grant:{i}")).await;
        }
        let first = app.sealed_head(3).await;
        let first_head = checked(&first);
        let n = first_head.tree_size;
        let res = app
            .get(&format!("/api/v1/audit/entries?start=0&end={n}"))
            .await;
        assert_eq!(res.status(), 200);
        let entries: Value = res.json().await.unwrap();
        let entries = entries["entries"].as_array().unwrap().clone();
        assert_eq!(entries.len() as u64, n);
        for (i, e) in entries.iter().enumerate() {
            assert_eq!(e["leaf_index"], i as u64);
            let text = e["leaf"].as_str().unwrap();
            // The person's account never appears in clear; a commitment does.
            assert!(!text.contains(&account), "{text}");
            let leaf: Value = serde_json::from_str(text).unwrap();
            assert_eq!(leaf["kind"], "ledger");
            assert_eq!(leaf["body"]["category"], "grant");
            assert!(leaf["body"]["transaction"]
                .as_str()
                .unwrap()
                .starts_with("commitment:"));
            let res = app
                .get(&format!(
                    "/api/v1/audit/proofs/inclusion?leaf_index={i}&tree_size={n}"
                ))
                .await;
            assert_eq!(res.status(), 200);
            let p: Value = res.json().await.unwrap();
            let leaf = leaf_hash(text.as_bytes());
            assert_eq!(hash(&p["leaf_hash"]), leaf);
            assert!(verify_inclusion(
                &leaf,
                i as u64,
                n,
                &proof(&p["proof"]),
                &first_head.root_hash
            ));
        }

        // More events: the new head extends the old one.
        for i in 3..8 {
            grant_points(&app, &account, 100 + i, &format!("grant:{i}")).await;
        }
        let second = checked(&app.sealed_head(n + 5).await);
        let res = app
            .get(&format!(
                "/api/v1/audit/proofs/consistency?first={n}&second={}",
                second.tree_size
            ))
            .await;
        assert_eq!(res.status(), 200);
        let p: Value = res.json().await.unwrap();
        assert!(verify_consistency(
            n,
            second.tree_size,
            &first_head.root_hash,
            &second.root_hash,
            &proof(&p["proof"])
        ));
        // The old head is still served by size.
        let res = app
            .get(&format!("/api/v1/audit/tree-head?tree_size={n}"))
            .await;
        assert_eq!(res.json::<Value>().await.unwrap(), first);

        for bad in [
            format!("/api/v1/audit/proofs/inclusion?leaf_index={n}&tree_size={n}"),
            "/api/v1/audit/proofs/inclusion?leaf_index=0&tree_size=999999".to_string(),
            format!(
                "/api/v1/audit/proofs/consistency?first={}&second={n}",
                second.tree_size
            ),
            "/api/v1/audit/entries?start=5&end=5".to_string(),
            "/api/v1/audit/entries?start=0&end=5000".to_string(),
            "/api/v1/audit/tree-head?tree_size=999999".to_string(),
        ] {
            let res = app.get(&bad).await;
            assert_eq!(res.status(), 422, "{bad}");
        }
        let res = app
            .get("/api/v1/audit/proofs/inclusion?leaf_index=x&tree_size=1")
            .await;
        assert_eq!(res.status(), 400);
    }
}

fn verify_cli(url: &str) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tanpuhui"))
        .args(["audit", "verify"])
        .env("TANPUHUI_DATABASE_URL", url)
        .env("TANPUHUI_LOG", "error")
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test]
async fn audit_verify_recomputes_the_tree_and_catches_tampering() {
    for backend in backends() {
        let (url, dir) = fresh_database(backend).await;
        let settings = test_settings(backend, &url);
        let app = start(&settings, dir).await;
        // A second replica on the same database seals concurrently.
        let replica = start(&settings, None).await;
        let token = app.signed_in("tamper@example.cn").await;
        let (_, account) = app.whoami(&token).await;
        for i in 0..40 {
            let through = if i % 2 == 0 { &app } else { &replica };
            grant_points(through, &account, 10 + i, &format!("grant:{i}")).await;
        }
        app.sealed_head(40).await;
        let (ok, out) = verify_cli(&url);
        assert!(ok, "{out}");
        assert!(out.contains("40 leaves"), "{out}");
        assert!(out.contains(" 0 problems"), "{out}");

        // Edit one sealed event: the amount credited.
        let edited = app
            .db
            .execute_unprepared(
                "UPDATE audit_events SET leaf = REPLACE(leaf, '\"posted\":17', '\"posted\":1700') WHERE leaf_index IS NOT NULL",
            )
            .await
            .unwrap();
        assert_eq!(
            edited.rows_affected(),
            40,
            "every row rewritten (most unchanged)"
        );
        let (ok, out) = verify_cli(&url);
        assert!(!ok, "{out}");
        assert!(out.contains("differs from the events"), "{out}");
    }
}

/// A logged trip and its credit are in the log, but not whose or which.
#[tokio::test]
async fn trips_are_logged_without_saying_whose() {
    for backend in backends() {
        let app = crate::helpers::spawn_app(backend).await;
        let token = app.signed_in("walker@example.cn").await;
        let (user, account) = app.whoami(&token).await;
        let (status, trip) = app
            .post_as(
                &token,
                "/api/v1/trips",
                &crate::helpers::commute(crate::helpers::base_time(&app), 30, true),
            )
            .await;
        assert_eq!(status, 201, "{trip}");
        let head = app.sealed_head(1).await;
        let n = head["tree_size"].as_u64().unwrap();
        let entries: Value = app
            .get(&format!("/api/v1/audit/entries?start=0&end={n}"))
            .await
            .json()
            .await
            .unwrap();
        let leaves: Vec<Value> = entries["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let text = e["leaf"].as_str().unwrap();
                let secrets = [
                    user.as_str(),
                    account.as_str(),
                    trip["id"].as_str().unwrap(),
                    trip["client_trip_id"].as_str().unwrap(),
                ];
                for secret in secrets {
                    assert!(!text.contains(secret), "{text}");
                }
                serde_json::from_str(text).unwrap()
            })
            .collect();
        // One event for a credited trip: its credit, noting the trip.
        assert_eq!(leaves.len(), 1, "{leaves:?}");
        let credit = &leaves[0];
        assert_eq!(credit["kind"], "ledger");
        assert_eq!(credit["body"]["category"], "trip");
        assert_eq!(credit["body"]["note"]["status"], "credited");
        assert_eq!(credit["body"]["note"]["credited_g"], 901);
        assert!(credit["body"]["transaction"]
            .as_str()
            .unwrap()
            .starts_with("commitment:"));

        // A trip that moves no points has an event of its own.
        let mut late = crate::helpers::commute(crate::helpers::base_time(&app), 30, true);
        late["started_at"] = json!("2020-01-01T08:00:00+08:00");
        late["ended_at"] = json!("2020-01-01T08:30:00+08:00");
        late.as_object_mut().unwrap().remove("trace");
        let (status, rejected) = app.post_as(&token, "/api/v1/trips", &late).await;
        assert_eq!(
            (status, rejected["status"].as_str()),
            (201, Some("rejected")),
            "{rejected}"
        );
        let head = app.sealed_head(n + 1).await;
        let m = head["tree_size"].as_u64().unwrap();
        let entries: Value = app
            .get(&format!("/api/v1/audit/entries?start={n}&end={m}"))
            .await
            .json()
            .await
            .unwrap();
        let text = entries["entries"][0]["leaf"].as_str().unwrap();
        assert!(!text.contains(rejected["id"].as_str().unwrap()), "{text}");
        let leaf: Value = serde_json::from_str(text).unwrap();
        assert_eq!(leaf["kind"], "trip.logged");
        assert_eq!(leaf["body"]["status"], "rejected");
        assert!(leaf["body"]["trip"]
            .as_str()
            .unwrap()
            .starts_with("commitment:"));
    }
}
