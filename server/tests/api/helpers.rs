use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
mod fixtures;
mod sse;
pub use fixtures::*;
pub use sse::Sse;

use tanpuhui_server::config::{LogFormat, Secret, Settings};
use tanpuhui_server::startup::Application;

/// Above what any one test sends to /api/v1/auth/ (see the rate-limit test).
pub const TEST_AUTH_RATE_PER_MINUTE: u32 = 40;

pub const TEST_JWT_SECRET: &str = "test-secret-of-at-least-32-bytes-0123456789";

pub const TEST_PARTNER_SECRETS_KEY: &str =
    "7d1c0f3a9b2e4d5c6a7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5";

pub const TEST_AUDIT_SIGNING_KEY: &str =
    "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0";

/// A database the tests may use: SQLite always, PostgreSQL when configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Every database a test of storage behaviour runs on: SQLite always,
/// PostgreSQL when `TEST_DATABASE_URL` is set. Tests that write SQL, or
/// that depend on locking, ordering, types or concurrency, loop over these.
pub fn backends() -> Vec<Backend> {
    let mut all = vec![Backend::Sqlite];
    if std::env::var("TEST_DATABASE_URL").is_ok() {
        all.push(Backend::Postgres);
    }
    all
}

/// One database, for tests whose behaviour does not depend on it (request
/// and answer shapes, limits, sign-in, the binary's commands): SQLite,
/// which every machine has.
pub fn any_backend() -> Backend {
    Backend::Sqlite
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    /// The server's clock: a test moves time with it, never by rewriting
    /// stored timestamps.
    pub clock: tanpuhui_server::clock::TestClock,
    // Keeps the SQLite file alive for the test's duration.
    _dir: Option<tempfile::TempDir>,
}

/// A fresh, empty database for one test.
pub async fn fresh_database(backend: Backend) -> (String, Option<tempfile::TempDir>) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
            (url, Some(dir))
        }
        Backend::Postgres => {
            let admin_url = std::env::var("TEST_DATABASE_URL").unwrap();
            let admin = Database::connect(&admin_url)
                .await
                .expect("TEST_DATABASE_URL reachable");
            sweep_old_databases(&admin).await;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            let name = format!("tph_test_{now}_{}", uuid::Uuid::new_v4().simple());
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .unwrap();
            admin.close().await.unwrap();
            let (base, query) = match admin_url.split_once('?') {
                Some((b, q)) => (b, format!("?{q}")),
                None => (admin_url.as_str(), String::new()),
            };
            let server = base.rsplit_once('/').map(|(s, _)| s).unwrap_or(base);
            (format!("{server}/{name}{query}"), None)
        }
    }
}

/// Test databases are named `tph_test_<unix seconds>_<uuid>`; those older than
/// an hour belong to finished runs and are dropped, so a developer's server
/// does not fill up. Best effort: a failure here never fails a test.
async fn sweep_old_databases(admin: &DatabaseConnection) {
    use sea_orm::{DbBackend, Statement};
    let cutoff = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .saturating_sub(3600);
    let Ok(rows) = admin
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT datname FROM pg_database WHERE datname LIKE 'tph\\_test\\_%'",
        ))
        .await
    else {
        return;
    };
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "datname") else {
            continue;
        };
        let created = name.split('_').nth(2).and_then(|t| t.parse::<u64>().ok());
        if created.is_some_and(|t| t < cutoff) {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await;
        }
    }
}

/// Settings of a test app on database `url`: Redis (under a key prefix of
/// its own) for PostgreSQL runs when `TEST_REDIS_URL` is set, the
/// in-process cache otherwise.
pub fn test_settings(backend: Backend, url: &str) -> Settings {
    let redis_url = match backend {
        Backend::Postgres => std::env::var("TEST_REDIS_URL").ok().map(Secret::new),
        Backend::Sqlite => None,
    };
    Settings {
        database_url: Secret::new(url),
        database_max_connections: 10,
        // CI runs two tests' apps and PostgreSQL on two cores: a new
        // connection can take longer than the production default (1 s),
        // which failed app starts with PoolTimedOut. The outage test sets
        // the default back, since it measures it.
        database_acquire_timeout_ms: 5_000,
        listen: "127.0.0.1:0".parse().unwrap(),
        log_format: LogFormat::Text,
        log_filter: "warn".into(),
        jwt_secret: Some(Secret::new(TEST_JWT_SECRET)),
        auth_rate_per_minute: TEST_AUTH_RATE_PER_MINUTE,
        user_rate_per_minute: 100_000,
        redis_url,
        redis_prefix: format!("tph-test:{}:", uuid::Uuid::new_v4().simple()),
        redis_timeout_ms: tanpuhui_server::config::DEFAULT_REDIS_TIMEOUT_MS,
        redis_probe_interval_ms: tanpuhui_server::config::DEFAULT_REDIS_PROBE_INTERVAL_MS,
        trusted_proxies: Vec::new(),
        trip_rules: Default::default(),
        partner_secrets_key: Some(Secret::new(TEST_PARTNER_SECRETS_KEY)),
        audit_signing_key: Some(Secret::new(TEST_AUDIT_SIGNING_KEY)),
        audit_key_file: "unused-audit.key".into(),
        audit_seal_interval_ms: 50,
        methodology_refresh_secs: tanpuhui_server::config::DEFAULT_METHODOLOGY_REFRESH_SECS,
        registry: Default::default(),
        market: Default::default(),
        pricing: Default::default(),
        finance: Default::default(),
        rights: Default::default(),
        max_header_bytes: tanpuhui_server::input_guard::DEFAULT_MAX_HEADER_BYTES,
        refresh_grace_secs: tanpuhui_server::config::DEFAULT_REFRESH_GRACE_SECS,
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// A test app whose settings `adjust` changes first.
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_on(backend, tanpuhui_server::clock::TestClock::new(), adjust).await
}

/// Like [`spawn_app_with`], on a test clock read (or moved) before the
/// application starts: settings that depend on the date.
pub async fn spawn_app_on(
    backend: Backend,
    clock: tanpuhui_server::clock::TestClock,
    adjust: impl FnOnce(&mut Settings),
) -> TestApp {
    let (url, dir) = fresh_database(backend).await;
    let mut settings = test_settings(backend, &url);
    adjust(&mut settings);
    start_on(&settings, dir, clock).await
}

/// Starts the application with `settings`.
pub async fn start(settings: &Settings, dir: Option<tempfile::TempDir>) -> TestApp {
    start_on(settings, dir, tanpuhui_server::clock::TestClock::new()).await
}

async fn start_on(
    settings: &Settings,
    dir: Option<tempfile::TempDir>,
    clock: tanpuhui_server::clock::TestClock,
) -> TestApp {
    let app = Application::build_with_clock(settings, clock.clock())
        .await
        .expect("application starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let db = app.db().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::new(),
        db,
        clock,
        _dir: dir,
    }
}

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        let res = self
            .client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request sent");
        assert_declared("GET", path, res.status().as_u16());
        res
    }
}

/// Fails the test when the server answers `status` to an operation whose
/// spec does not list it: every status the suite sees is declared, so
/// clients generated from the spec can trust it. Paths the spec does not
/// document (405s, 404s of unknown paths) are not checked here.
pub fn assert_declared(method: &str, path_and_query: &str, status: u16) {
    use std::sync::OnceLock;
    static SPEC: OnceLock<serde_json::Value> = OnceLock::new();
    let spec = SPEC.get_or_init(|| {
        serde_json::to_value(tanpuhui_server::api_doc::spec()).expect("the spec serialises")
    });
    let path = path_and_query.split('?').next().unwrap_or_default();
    let parts: Vec<&str> = path.split('/').collect();
    let Some(paths) = spec["paths"].as_object() else {
        return;
    };
    let matching = paths.iter().find(|(template, _)| {
        let t: Vec<&str> = template.split('/').collect();
        t.len() == parts.len()
            && t.iter()
                .zip(&parts)
                .all(|(t, p)| (t.starts_with('{') && !p.is_empty() && !p.contains('%')) || t == p)
    });
    let Some((template, item)) = matching else {
        return;
    };
    let Some(op) = item.get(method.to_ascii_lowercase()) else {
        return;
    };
    let declared = op["responses"]
        .as_object()
        .is_some_and(|r| r.contains_key(&status.to_string()) || r.contains_key("default"));
    assert!(
        declared,
        "{method} {template} answered {status}, which its spec does not declare"
    );
}

/// A fresh database with the schema applied, for tests of services below
/// HTTP. The directory guard keeps a SQLite file alive.
pub async fn migrated_database(
    backend: Backend,
) -> (DatabaseConnection, Option<tempfile::TempDir>) {
    let (url, dir) = fresh_database(backend).await;
    let pool = tanpuhui_server::db::PoolSettings {
        max_connections: 10,
        acquire_timeout: std::time::Duration::from_secs(5),
    };
    let db = tanpuhui_server::db::connect(&Secret::new(url), pool)
        .await
        .expect("test database connects");
    tanpuhui_server::db::migrate(&db)
        .await
        .expect("migrations apply");
    (db, dir)
}

/// A small, seedable generator (SplitMix64) for simulation tests: a failing
/// seed replays exactly.
pub struct Rng(pub u64);

impl Rng {
    /// The seed from `var` if set, otherwise from the clock; printed so a
    /// failure can be replayed.
    pub fn from_env(var: &str) -> Rng {
        let seed = std::env::var(var)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        eprintln!("{var}={seed} (set it to replay this run)");
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

impl TestApp {
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&serde_json::Value>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .request(method.clone(), format!("{}{path}", self.address));
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await.expect("request sent");
        assert_declared(method.as_str(), path, res.status().as_u16());
        res
    }

    /// POST with a bearer token; answers the status and the JSON body.
    pub async fn post_as(
        &self,
        token: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let res = self
            .send(reqwest::Method::POST, path, Some(token), Some(body))
            .await;
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// GET with a bearer token; answers the status and the JSON body.
    pub async fn get_as(&self, token: &str, path: &str) -> (u16, serde_json::Value) {
        let res = self
            .send(reqwest::Method::GET, path, Some(token), None)
            .await;
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// A platform administrator made as `tanpuhui admin create` does;
    /// answers the access token.
    pub async fn admin(&self, email: &str) -> String {
        tanpuhui_server::admin::create(&self.db, email, "long enough password")
            .await
            .expect("admin created");
        self.login(email).await["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The signed-in user's id and personal account id.
    pub async fn whoami(&self, token: &str) -> (String, String) {
        let (status, me) = self.get_as(token, "/api/v1/me").await;
        assert_eq!(status, 200);
        (
            me["id"].as_str().unwrap().to_string(),
            me["account_id"].as_str().unwrap().to_string(),
        )
    }
}

impl TestApp {
    /// The server's now, in China time. Days and years of the rules are
    /// China's, so a test that took the UTC date would fail every evening
    /// (16:00–24:00 UTC), when the two differ.
    pub fn now(&self) -> chrono::DateTime<chrono::FixedOffset> {
        self.clock
            .now()
            .with_timezone(&tanpuhui_server::clock::china_time())
    }

    /// The server's China date today.
    pub fn today(&self) -> chrono::NaiveDate {
        self.now().date_naive()
    }

    /// The server's China year.
    pub fn year(&self) -> i32 {
        chrono::Datelike::year(&self.now())
    }
}

/// Valid unified social credit codes, distinct for distinct `n`.
pub fn uscc(n: u32) -> String {
    tanpuhui_server::orgs::uscc::with_check_character(&format!("91620100{n:09}")).unwrap()
}

/// Issues `n` points to `account` straight through the ledger (as a
/// credited trip would), as ledger transaction `tx_id`.
pub async fn grant_points(app: &TestApp, account: &str, n: i64, tx_id: &str) {
    let db = &app.db;
    use tanpuhui_server::accounts::service as accounts;
    use tanpuhui_server::ledger::{self, Asset, Command, Posting, Request};
    let now = app.now();
    let issuer = accounts::system(db, "issuer:points", now).await.unwrap();
    let points = |account_id: String, amount: i64| Posting {
        account_id,
        asset: Asset::points(),
        amount,
    };
    let req = Request {
        id: tx_id.to_string(),
        memo: None,
        command: Command::Transfer {
            postings: vec![points(issuer.id, -n), points(account.to_string(), n)],
        },
    };
    ledger::apply(db, &req, now).await.unwrap();
}

/// A TCP relay to a server (PostgreSQL, Redis) that a test can take down
/// and bring back, as an outage would: `cut` drops every open connection
/// and refuses new ones (the port stops listening); `restore` listens on
/// the same port again.
pub struct FaultProxy {
    pub port: u16,
    target: String,
    tasks: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl FaultProxy {
    /// A relay to `target` (`host:port`).
    pub async fn to(target: &str) -> FaultProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = FaultProxy {
            port: listener.local_addr().unwrap().port(),
            target: target.to_string(),
            tasks: Default::default(),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let tasks = self.tasks.clone();
        let target = self.target.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let target = target.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tasks.lock().unwrap().push(conn);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    /// The outage: every connection dropped, new ones refused.
    pub fn cut(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    /// The server is back.
    pub async fn restore(&self) {
        let addr = format!("127.0.0.1:{}", self.port);
        for _ in 0..50 {
            // The aborted listener may take a moment to close.
            if let Ok(listener) = tokio::net::TcpListener::bind(&addr).await {
                self.serve(listener);
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("cannot listen on {addr} again");
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.cut();
    }
}

/// `url` (`scheme://[user@]host:port/…`) with its host and port replaced by
/// the proxy's; and the original `host:port`.
pub fn through_proxy(url: &str) -> (String, impl FnOnce(u16) -> String) {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (user, host) = match authority.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h.to_string()),
        None => (String::new(), authority.to_string()),
    };
    let (scheme, path) = (scheme.to_string(), path.to_string());
    (host, move |port| {
        format!("{scheme}://{user}127.0.0.1:{port}{path}")
    })
}

/// The object keys of a JSON value, recursively (values left out): what a
/// committed fixture must still match.
pub fn shape(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().take(1).map(shape).collect()),
        _ => Value::Null,
    }
}

/// Checks an audit receipt (`leaf_index`, `leaf`, `inclusion`,
/// `tree_head`) of a certificate or attestation as a phone does with
/// carbon-calc: the head's signature, then the leaf's inclusion in it.
/// Answers the leaf, parsed.
pub fn verified_leaf(a: &serde_json::Value) -> serde_json::Value {
    use carbon_calc::merkle::{leaf_hash, verify_inclusion, TreeHead};
    let hex32 = |v: &serde_json::Value| -> [u8; 32] {
        hex::decode(v.as_str().expect("hex"))
            .expect("hex")
            .try_into()
            .expect("32 bytes")
    };
    let h = &a["tree_head"];
    let head = TreeHead {
        tree_size: h["tree_size"].as_u64().unwrap(),
        timestamp: h["timestamp"].as_u64().unwrap(),
        root_hash: hex32(&h["root_hash"]),
    };
    let sig: [u8; 64] = hex::decode(h["signature"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    assert!(
        head.verify(&sig, &hex32(&h["public_key"])),
        "signature: {a}"
    );
    let leaf = a["leaf"].as_str().unwrap();
    let proof: Vec<[u8; 32]> = a["inclusion"]["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(hex32)
        .collect();
    assert!(
        verify_inclusion(
            &leaf_hash(leaf.as_bytes()),
            a["leaf_index"].as_u64().unwrap(),
            head.tree_size,
            &proof,
            &head.root_hash
        ),
        "inclusion: {a}"
    );
    serde_json::from_str(leaf).unwrap()
}
