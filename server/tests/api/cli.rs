//! The `tanpuhui` binary itself: migrate, serve, SIGTERM, secrets.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_tanpuhui");

#[test]
fn migrate_creates_the_embedded_database() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nested/dir/tph.db");
    let out = Command::new(BIN)
        .arg("migrate")
        .env(
            "TANPUHUI_DATABASE_URL",
            format!("sqlite://{}?mode=rwc", file.display()),
        )
        .env("TANPUHUI_LOG_FORMAT", "text")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(file.exists(), "database file not created");
}

#[test]
fn an_unreachable_database_fails_without_printing_its_password() {
    let out = Command::new(BIN)
        .arg("migrate")
        .env(
            "TANPUHUI_DATABASE_URL",
            "postgres://app:hunter2@127.0.0.1:1/tph",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("cannot connect to the database"), "{all}");
    assert!(!all.contains("hunter2"), "password leaked: {all}");
}

#[test]
fn bad_configuration_is_a_usage_error() {
    let out = Command::new(BIN)
        .env("TANPUHUI_LISTEN", "everywhere")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("listen:"));
}

#[test]
fn serves_then_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .env(
            "TANPUHUI_DATABASE_URL",
            format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display()),
        )
        .env("TANPUHUI_LISTEN", "127.0.0.1:0")
        .env("TANPUHUI_LOG_FORMAT", "json")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let started = Instant::now();
    let address = loop {
        let line = lines.next().expect("server printed its address").unwrap();
        if let Some(rest) = line.strip_prefix("tanpuhui: listening on ") {
            break rest.split_whitespace().next().unwrap().to_string();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no listening line"
        );
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt.block_on(async {
        reqwest::get(format!("{address}/healthz"))
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);

    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(Instant::now() < deadline, "did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}
