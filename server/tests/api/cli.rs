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

/// Kills the server if the test fails midway, so no orphan keeps the test
/// runner's output pipe (and CI) waiting.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running `tanpuhui` with its stderr lines arriving through a channel,
/// so that a missing line fails the test after a timeout instead of
/// blocking it.
struct Server {
    child: KillOnDrop,
    lines: std::sync::mpsc::Receiver<String>,
    address: String,
}

impl Server {
    fn start(database_url: &str) -> Server {
        Server::start_with(database_url, &[])
    }

    /// `database_url` is a SQLite file in a test's directory; the
    /// development audit key is made beside it unless `env` says otherwise.
    fn start_with(database_url: &str, env: &[(&str, &str)]) -> Server {
        let db_file = database_url
            .trim_start_matches("sqlite://")
            .split('?')
            .next()
            .unwrap();
        let key_file = std::path::Path::new(db_file).with_file_name("audit-signing.key");
        let child = Command::new(BIN)
            .env("TANPUHUI_AUDIT_KEY_FILE", key_file)
            .envs(env.iter().copied())
            .env("TANPUHUI_DATABASE_URL", database_url)
            .env("TANPUHUI_LISTEN", "127.0.0.1:0")
            .env("TANPUHUI_LOG_FORMAT", "json")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut child = KillOnDrop(child);
        let (tx, lines) = std::sync::mpsc::channel::<String>();
        let stderr = child.0.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            child,
            lines,
            address: String::new(),
        };
        server.address = loop {
            let line = server.next_line("listening line");
            if let Some(rest) = line.strip_prefix("tanpuhui: listening on ") {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        server
    }

    fn next_line(&self, what: &str) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no {what} within 30 s"))
    }
}

fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display())
}

#[test]
fn serves_then_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(&sqlite_url(&dir));
    let address = server.address.clone();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (status, request_id) = rt.block_on(async {
        // Not from a trusted proxy: the header must not become the
        // client's address in the log.
        let res = reqwest::Client::new()
            .get(format!("{address}/healthz"))
            .header("x-forwarded-for", "203.0.113.9")
            .send()
            .await
            .unwrap();
        let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
        (res.status(), id)
    });
    assert_eq!(status, 200);
    // The request's access-log line is JSON and carries the same request id.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let line = server.next_line("access-log line");
        if line.contains(&request_id) {
            let entry: serde_json::Value = serde_json::from_str(&line).expect("log lines are JSON");
            assert_eq!(entry["span"]["request_id"], request_id.as_str(), "{line}");
            assert_eq!(entry["span"]["http.status_code"], 200, "{line}");
            assert_eq!(entry["span"]["http.route"], "/healthz", "{line}");
            assert_eq!(entry["span"]["http.client_ip"], "127.0.0.1", "{line}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no log line with request id {request_id}"
        );
    }

    Command::new("kill")
        .args(["-TERM", &server.child.0.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = server.child.0.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(Instant::now() < deadline, "did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Without a configured key a development key is made once, kept owner-only
/// and reused: the tree heads of two runs are signed by the same key.
#[test]
fn a_development_audit_key_is_made_once_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("audit-signing.key");
    let head_key = |server: &Server| {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let res = reqwest::get(format!("{}/api/v1/audit/tree-head", server.address))
                    .await
                    .unwrap();
                if res.status() == 200 {
                    let head: serde_json::Value = res.json().await.unwrap();
                    return head["public_key"].as_str().unwrap().to_string();
                }
                assert!(Instant::now() < deadline, "no tree head");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let first = Server::start(&sqlite_url(&dir));
    let key = head_key(&first);
    drop(first);
    let seed = std::fs::read_to_string(&key_file).unwrap();
    let signer = tanpuhui_server::audit::signer::TreeSigner::from_hex(&seed).unwrap();
    assert_eq!(signer.public_key_hex(), key);
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
    }
    let second = Server::start(&sqlite_url(&dir));
    assert_eq!(head_key(&second), key);
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), seed);
}

#[test]
fn refused_partner_requests_are_logged_without_their_signature() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        &sqlite_url(&dir),
        &[(
            "TANPUHUI_PARTNER_SECRETS_KEY",
            crate::helpers::TEST_PARTNER_SECRETS_KEY,
        )],
    );
    let signature = "ab".repeat(32);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{}/api/v1/partner/trips", server.address))
            .header("content-type", "application/json")
            .header("x-tanpuhui-key", "pk_forged")
            .header("x-tanpuhui-timestamp", "1")
            .header("x-tanpuhui-nonce", "0123456789abcdef")
            .header("x-tanpuhui-signature", &signature)
            .body("{\"records\": []}")
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 401);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let line = server.next_line("refusal log line");
        if line.contains("partner request refused") {
            let entry: serde_json::Value = serde_json::from_str(&line).unwrap();
            assert_eq!(entry["level"], "WARN", "{line}");
            assert_eq!(entry["key_id"], "pk_forged", "{line}");
            assert_eq!(entry["reason"], "unknown key", "{line}");
            assert!(!line.contains(&signature), "{line}");
            break;
        }
        assert!(Instant::now() < deadline, "no refusal logged");
    }
}

#[test]
fn admin_create_bootstraps_an_administrator() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let create = |email: &str, password: &str| {
        let mut child = Command::new(BIN)
            .args(["admin", "create", "--email", email, "--password-stdin"])
            .env("TANPUHUI_DATABASE_URL", &url)
            .env("TANPUHUI_LOG_FORMAT", "text")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        let out = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!text.contains(password), "password printed: {text}");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
            text,
        )
    };
    let (code, id, text) = create("ops@tanpuhui.cn", "a long admin passphrase");
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(id.len(), 36, "prints the new user id: {id}");
    assert!(
        !text.to_lowercase().contains("migration"),
        "the schema's progress is not this command's output: {text}"
    );
    let (code, _, text) = create("ops@tanpuhui.cn", "a long admin passphrase");
    assert_eq!(code, Some(1));
    assert!(text.contains("already registered"), "{text}");
    let (code, _, text) = create("short@tanpuhui.cn", "short");
    assert_eq!(code, Some(1));
    assert!(text.contains("10 to 128"), "{text}");
    // The password comes from standard input only.
    let out = Command::new(BIN)
        .args(["admin", "create", "--email", "x@tanpuhui.cn"])
        .env("TANPUHUI_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));

    // The administrator signs in and holds the platform-wide role.
    let server = Server::start(&url);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let me: serde_json::Value = rt.block_on(async {
        let client = reqwest::Client::new();
        let tokens: serde_json::Value = client
            .post(format!("{}/api/v1/auth/login", server.address))
            .json(&serde_json::json!({"login": "ops@tanpuhui.cn", "password": "a long admin passphrase"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        client
            .get(format!("{}/api/v1/me", server.address))
            .bearer_auth(tokens["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(me["id"], id.as_str());
    assert_eq!(me["roles"], serde_json::json!([{"role": "admin"}]));
}

/// `tanpuhui demo` fills an empty database with data the API then serves:
/// accounts that sign in, a credited trip, a public retirement, a market
/// with a book, a trade and its attestation; a second
/// run refuses to touch a database that has users.
#[test]
fn demo_fills_an_empty_database_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let run = || {
        Command::new(BIN)
            .arg("demo")
            .env("TANPUHUI_DATABASE_URL", &url)
            .env("TANPUHUI_LOG_FORMAT", "text")
            .output()
            .unwrap()
    };
    let out = run();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let password = text
        .split("Every account's password: ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .to_string();
    let certificate = text
        .lines()
        .find_map(|l| {
            l.split_whitespace()
                .find(|w| w.starts_with("/api/v1/public/retirements/"))
        })
        .unwrap()
        .to_string();
    assert!(
        text.contains("li.ming@demo.tanpuhui.cn") && text.contains("credited"),
        "{text}"
    );

    let again = run();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("empty database"));

    let server = Server::start(&url);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let address = server.address.clone();
        // GET `path`, signed in when a token is given: the JSON answer.
        let get = |path: String, token: Option<String>| {
            let (client, address) = (client.clone(), address.clone());
            async move {
                let mut req = client.get(format!("{address}{path}"));
                if let Some(t) = token {
                    req = req.bearer_auth(t);
                }
                let res = req.send().await.unwrap();
                assert_eq!(res.status(), 200, "{path}");
                res.json::<serde_json::Value>().await.unwrap()
            }
        };
        let login = |email: &'static str| {
            let (client, address, password) = (client.clone(), address.clone(), password.clone());
            async move {
                let tokens: serde_json::Value = client
                    .post(format!("{address}/api/v1/auth/login"))
                    .json(&serde_json::json!({"login": email, "password": password}))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                tokens["access_token"].as_str().unwrap().to_string()
            }
        };
        get(certificate.clone(), None).await;
        let walker = login("li.ming@demo.tanpuhui.cn").await;
        let trips = get("/api/v1/trips".into(), Some(walker)).await;
        assert_eq!(trips["data"][0]["status"], "credited", "{trips}");
        // The market: a book on both sides, one trade on the tape, and its
        // attestation for the buyer.
        let code = text
            .lines()
            .find_map(|l| l.split_whitespace().find(|w| w.starts_with("TPH-FOR-")))
            .unwrap()
            .to_string();
        let book = get(format!("/api/v1/market/instruments/{code}/book"), None).await;
        assert_eq!(
            (
                book["bids"][0]["price"].as_str(),
                book["asks"][0]["price"].as_str(),
                book["asks"][0]["quantity"].as_str()
            ),
            (Some("35.80"), Some("36.50"), Some("100")),
            "{book}"
        );
        let tape = get(format!("/api/v1/market/instruments/{code}/trades"), None).await;
        assert_eq!(tape["data"].as_array().map(Vec::len), Some(1), "{tape}");
        let attestation = text
            .lines()
            .find_map(|l| l.split_whitespace().find(|w| w.ends_with("/attestation")))
            .unwrap()
            .to_string();
        let trader = login("trader@demo.tanpuhui.cn").await;
        let a = get(attestation, Some(trader)).await;
        assert_eq!(
            (
                a["price"].as_str(),
                a["quantity"].as_str(),
                a["buyer"]["name"].as_str()
            ),
            (
                Some("36.50"),
                Some("100"),
                Some("兰州新区光伏新能源有限公司")
            ),
            "{a}"
        );
        // The reserve platform, with its budget to buy with.
        let keeper = login("reserve@demo.tanpuhui.cn").await;
        let me = get("/api/v1/me".into(), Some(keeper.clone())).await;
        let reserve = me["roles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["role"] == "reserve")
            .and_then(|g| g["organization_id"].as_str())
            .unwrap()
            .to_string();
        let positions = get(
            format!("/api/v1/market/positions?organization_id={reserve}"),
            Some(keeper),
        )
        .await;
        assert_eq!(positions["cash_available"], "500000000", "{positions}");
    });
}

/// The README's quick start, run as written against the real binary,
/// reaches a credited trip whatever the day (its times are computed).
#[test]
fn the_readme_quick_start_reaches_a_credited_trip() {
    let readme = include_str!("../../../README.md");
    let start = readme
        .find("curl -s -X POST localhost:8080/api/v1/auth/register")
        .expect("the quick start registers a user");
    let script = &readme[start..];
    let script = &script[..script.find("```").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&sqlite_url(&dir));
    let host = server.address.trim_start_matches("http://");
    let out = Command::new("bash")
        .arg("-c")
        .arg(script.replace("localhost:8080", host))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(r#""status":"credited""#) && text.contains(r#""credited_g":"394""#),
        "{text}"
    );
}
