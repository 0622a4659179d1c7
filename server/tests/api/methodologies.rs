//! The methodology catalogue lives in the database: a new table version is
//! loaded without a rebuild (`tanpuhui methodologies load`), served by every
//! replica and after a restart, and a published version never changes.

use std::process::Command;

use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{json, Value};
use tanpuhui_server::methodologies::entity as documents;

use crate::helpers::{any_backend, backends, fresh_database, start, test_settings, TestApp};

fn load_cli(url: &str, document: &Value) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tables.json");
    std::fs::write(&file, document.to_string()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tanpuhui"))
        .args(["methodologies", "load"])
        .arg(&file)
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

async fn preset(app: &TestApp) -> Value {
    let res = app.get("/api/v1/methodologies/wuhan-2024").await;
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["table"].clone()
}

async fn bus_trip_g(app: &TestApp) -> String {
    let res = app
        .post_json(
            "/api/v1/estimates/commute",
            &json!({"preset": "wuhan-2024", "legs": [{"mode": "bus"}]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["credited_g"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Waits (up to 10 s: replicas look every second here) until `app` serves
/// `version` of the preset.
async fn serves(app: &TestApp, version: u64) {
    for _ in 0..100 {
        if preset(app).await["version"].as_u64() == Some(version) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("version {version} not served after 10 s");
}

#[tokio::test]
async fn a_new_table_version_is_served_without_a_rebuild() {
    for backend in backends() {
        let (url, dir) = fresh_database(backend).await;
        let mut settings = test_settings(backend, &url);
        settings.methodology_refresh_secs = 1;
        let app = start(&settings, dir).await;
        let replica = start(&settings, None).await;
        let built_in = preset(&app).await;
        let version = built_in["version"].as_u64().unwrap();
        assert_eq!(
            bus_trip_g(&app).await,
            "213",
            "212.5 g per bus trip, rounded"
        );

        let mut next = built_in.clone();
        next["version"] = json!(version + 1);
        for factor in next["factors"].as_array_mut().unwrap() {
            if factor["mode"] == "bus" {
                factor["factor_g"] = json!("180");
            }
        }
        let (ok, out) = load_cli(&url, &json!({"commute_presets": [next]}));
        assert!(ok, "{backend:?}: {out}");
        assert!(
            out.contains("\"replaced\"") && out.contains("wuhan-2024"),
            "{out}"
        );
        serves(&app, version + 1).await;
        serves(&replica, version + 1).await;
        assert_eq!(bus_trip_g(&replica).await, "180", "{backend:?}");

        // Kept across a restart: the stored documents are replayed.
        let restarted = start(&settings, None).await;
        assert_eq!(
            preset(&restarted).await["version"].as_u64(),
            Some(version + 1)
        );
        assert_eq!(bus_trip_g(&restarted).await, "180");

        // A published version never changes; loading it again changes nothing.
        let mut altered = next.clone();
        altered["title"] = json!("quietly edited");
        let (ok, out) = load_cli(&url, &json!({"commute_presets": [altered]}));
        assert!(!ok, "a changed published version is refused: {out}");
        let stored = documents::Entity::find().count(&app.db).await.unwrap();
        let (ok, out) = load_cli(&url, &json!({"commute_presets": [next]}));
        assert!(ok && out.contains("\"unchanged\""), "{out}");
        assert_eq!(
            documents::Entity::find().count(&app.db).await.unwrap(),
            stored,
            "nothing new is stored"
        );
        assert_eq!(bus_trip_g(&app).await, "180");

        // An older version is ignored, not served.
        let (ok, out) = load_cli(&url, &json!({"commute_presets": [built_in]}));
        assert!(ok && out.contains("\"ignored_older\""), "{out}");
        assert_eq!(preset(&app).await["version"].as_u64(), Some(version + 1));
    }
}

/// A stored document that no longer loads (here: the built-in preset's
/// version with other content, as a build that edited a table without a
/// new version would store) stops the start, naming the document.
#[tokio::test]
async fn a_published_version_that_changed_stops_the_start() {
    use sea_orm::{ActiveModelTrait, Set};
    let backend = any_backend();
    let (url, dir) = fresh_database(backend).await;
    let settings = test_settings(backend, &url);
    let app = start(&settings, dir).await;
    let mut table = preset(&app).await;
    table["factors"][0]["factor_g"] = json!("1");
    let content = json!({"commute_presets": [table]}).to_string();
    documents::ActiveModel {
        sha256: Set("0".repeat(64)),
        source: Set("built_in".into()),
        loaded_by: Set(None),
        content: Set(content),
        created_at: Set(app.clock.now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let err = tanpuhui_server::startup::Application::build(&settings)
        .await
        .err()
        .expect("the start is refused");
    let text = err.to_string();
    assert!(text.contains("stored methodology document"), "{text}");
    assert!(text.contains("wuhan-2024"), "{text}");
}
