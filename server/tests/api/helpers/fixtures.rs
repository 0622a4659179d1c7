//! The fixtures every test file builds on: signing people in, a
//! department with its staff, the service centre's verifiers, approved
//! enterprises, a registry with a forest project, trips and their traces.

use chrono::{DateTime, Duration, FixedOffset, TimeZone};
use serde_json::{json, Value};

use super::{uscc, TestApp};

impl TestApp {
    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        let res = self
            .client
            .post(format!("{}{path}", self.address))
            .json(body)
            .send()
            .await
            .unwrap();
        crate::helpers::assert_declared("POST", path, res.status().as_u16());
        res
    }

    pub async fn get_with_token(&self, path: &str, token: &str) -> reqwest::Response {
        let res = self
            .client
            .get(format!("{}{path}", self.address))
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        crate::helpers::assert_declared("GET", path, res.status().as_u16());
        res
    }

    pub async fn register(&self, email: &str) {
        let res = self
            .post_json(
                "/api/v1/auth/register",
                &json!({"email": email, "password": "long enough password"}),
            )
            .await;
        assert_eq!(res.status(), 201);
    }

    /// Signs in; returns the token response.
    pub async fn login(&self, email: &str) -> Value {
        let res = self
            .post_json(
                "/api/v1/auth/login",
                &json!({"login": email, "password": "long enough password"}),
            )
            .await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// Signs in again (an access token lasts fifteen minutes of the app's
    /// clock); returns the access token.
    pub async fn token(&self, email: &str) -> String {
        self.login(email).await["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Registers and signs in; returns the access token.
    pub async fn signed_in(&self, email: &str) -> String {
        self.register(email).await;
        self.login(email).await["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

/// An admin, and a department with a government user in it.
pub struct Government {
    pub admin: String,
    pub dept_id: String,
    pub gov: String,
}

pub async fn government(app: &TestApp, n: u32) -> Government {
    let admin = app.admin(&format!("admin{n}@tph.cn")).await;
    let (status, dept) = app
        .post_as(
            &admin,
            "/api/v1/organizations",
            &json!({"kind": "government_department", "name": "兰州新区生态环境局", "uscc": uscc(900_000 + n)}),
        )
        .await;
    assert_eq!(status, 201, "{dept}");
    assert_eq!(dept["status"], "approved");
    let dept_id = dept["id"].as_str().unwrap().to_string();
    let gov = app.signed_in(&format!("gov{n}@tph.cn")).await;
    let (gov_id, _) = app.whoami(&gov).await;
    let (status, g) = app
        .post_as(
            &admin,
            &format!("/api/v1/organizations/{dept_id}/roles"),
            &json!({"user_id": gov_id, "role": "government"}),
        )
        .await;
    assert_eq!(status, 201, "{g}");
    Government {
        admin,
        dept_id,
        gov,
    }
}

/// A service centre set up by `admin` and a verifier in it (signed in as
/// `email`); answers the verifier's token.
pub async fn verifier(app: &TestApp, admin: &str, email: &str, n: u32) -> String {
    let (_, centre) = app
        .post_as(
            admin,
            "/api/v1/organizations",
            &json!({"kind": "service_centre", "name": "碳中和服务中心", "uscc": uscc(n)}),
        )
        .await;
    let token = app.signed_in(email).await;
    let (id, _) = app.whoami(&token).await;
    let path = format!(
        "/api/v1/organizations/{}/roles",
        centre["id"].as_str().unwrap()
    );
    let (status, _) = app
        .post_as(admin, &path, &json!({"user_id": id, "role": "verifier"}))
        .await;
    assert_eq!(status, 201);
    token
}

/// An approved enterprise and its operator's token.
pub async fn enterprise(app: &TestApp, g: &Government, email: &str, n: u32) -> (Value, String) {
    let op = app.signed_in(email).await;
    let (status, org) = app
        .post_as(
            &op,
            "/api/v1/organizations",
            &json!({"kind": "enterprise", "name": "甘肃某光伏有限公司", "uscc": uscc(n)}),
        )
        .await;
    assert_eq!(status, 201, "{org}");
    let id = org["id"].as_str().unwrap();
    let (status, org) = app
        .post_as(
            &g.gov,
            &format!("/api/v1/organizations/{id}/approve"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{org}");
    (org, op)
}

/// Forest parcels of the test project.
pub fn forest_project(year: i32, org_id: &str, name: &str, parcel: &str) -> Value {
    json!({
        "organization_id": org_id,
        "name": name,
        "kind": "afforestation",
        "methodology": "ccer-14-001-v01",
        "methodology_version": 1,
        "region_code": "620100",
        "location": {"parcels": [
            {"id": parcel, "area_ha": "60"},
            {"id": format!("{parcel}-b"), "area_ha": "40"}
        ]},
        "crediting_start": format!("{}-01-01", year - 3),
        "crediting_end": format!("{}-12-31", year + 27),
        "documents": [{"name": "可研报告.pdf", "sha256": "ab".repeat(32)}],
        "identities": []
    })
}

/// A forest inventory of 100 ha from 20 to 50 m³/ha: 5,156.25 t CO2 gross
/// with CF 0.5 (carbon-calc's worked example).
pub fn forest_report(year: i32) -> Value {
    json!({
        "period_start": format!("{year}-01-01"),
        "period_end": format!("{year}-12-31"),
        "activity": {"calculator": "forest", "request": {
            "area_ha": "100", "volume_m3_per_ha_start": "20", "volume_m3_per_ha_end": "50",
            "wood_density": "0.5", "bef": "1.5", "root_shoot_ratio": "0.25",
            "carbon_fraction": "0.5"
        }}
    })
}

pub struct Registry {
    pub g: Government,
    pub verifier: String,
    pub op: String,
    pub org: Value,
}

pub async fn registry(app: &TestApp, n: u32) -> Registry {
    let g = government(app, n).await;
    let verifier = verifier(
        app,
        &g.admin,
        &format!("verifier{n}@centre.cn"),
        700_000 + n,
    )
    .await;
    let (org, op) = enterprise(app, &g, &format!("forest{n}@lz.cn"), 800_000 + n).await;
    Registry {
        g,
        verifier,
        op,
        org,
    }
}

impl Registry {
    pub fn org_id(&self) -> &str {
        self.org["id"].as_str().unwrap()
    }

    pub fn account_id(&self) -> &str {
        self.org["account_id"].as_str().unwrap()
    }
}

/// Project approved, report verified as claimed and issued; answers the
/// project and the batch.
pub async fn issued_forest_batch(app: &TestApp, r: &Registry, parcel: &str) -> (Value, Value) {
    let (status, p) = app
        .post_as(
            &r.op,
            "/api/v1/projects",
            &forest_project(app.year(), r.org_id(), "新区北山造林", parcel),
        )
        .await;
    assert_eq!(status, 201, "{p}");
    let id = p["id"].as_str().unwrap();
    let (status, p) = app
        .post_as(
            &r.op,
            &format!("/api/v1/projects/{id}/submit"),
            &json!(null),
        )
        .await;
    assert_eq!(status, 200, "{p}");
    let (status, p) = app
        .post_as(
            &r.verifier,
            &format!("/api/v1/projects/{id}/decision"),
            &json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(status, 200, "{p}");
    let batch = issued_report(app, r, p["id"].as_str().unwrap(), app.year() - 1).await;
    (p, batch)
}

/// A forest report of `year` on the approved project `id`, verified as
/// claimed and issued; answers the batch.
pub async fn issued_report(app: &TestApp, r: &Registry, id: &str, year: i32) -> Value {
    let (status, rep) = app
        .post_as(
            &r.op,
            &format!("/api/v1/projects/{id}/reports"),
            &forest_report(year),
        )
        .await;
    assert_eq!(status, 201, "{rep}");
    let rid = rep["id"].as_str().unwrap();
    let (status, _) = app
        .post_as(
            &r.verifier,
            &format!("/api/v1/reports/{rid}/verification"),
            &json!({"verdict": "accept"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, batch) = app
        .post_as(
            &r.verifier,
            &format!("/api/v1/reports/{rid}/issuance"),
            &json!(null),
        )
        .await;
    assert_eq!(status, 201, "{batch}");
    batch
}

/// The start (00:00 China time) of the Monday after the app's today:
/// take it once, before moving the clock.
pub fn next_monday(app: &TestApp) -> DateTime<FixedOffset> {
    monday_after(app.today())
}

/// The start (00:00 China time) of the Monday after `today`.
pub fn monday_after(today: chrono::NaiveDate) -> DateTime<FixedOffset> {
    use chrono::Datelike;
    let monday = today + Duration::days(7 - i64::from(today.weekday().num_days_from_monday()));
    tanpuhui_server::clock::china_time()
        .from_local_datetime(&monday.and_hms_opt(0, 0, 0).unwrap())
        .unwrap()
}

/// `hh:mm` on the day that starts at `day`.
pub fn at(day: DateTime<FixedOffset>, hh: i64, mm: i64) -> DateTime<FixedOffset> {
    day + Duration::hours(hh) + Duration::minutes(mm)
}

/// A start time such that a few hours of trips after it fall in one China
/// calendar day, all in the past and inside the claim window.
pub fn base_time(app: &TestApp) -> DateTime<FixedOffset> {
    let cst = FixedOffset::east_opt(8 * 3600).unwrap();
    let now = app.now();
    let day_start = cst
        .from_local_datetime(&now.date_naive().and_hms_opt(0, 0, 0).unwrap())
        .unwrap();
    if now - day_start >= Duration::hours(5) {
        day_start + Duration::minutes(5)
    } else {
        day_start - Duration::hours(12)
    }
}

/// A straight northward trace of `km` over `minutes`, from Lanzhou.
pub fn trace(start: DateTime<FixedOffset>, km: f64, minutes: i64) -> Value {
    let n = 30;
    let points: Vec<Value> = (0..=n)
        .map(|i| {
            let f = i as f64 / n as f64;
            json!({
                "lat": 36.06 + f * km / 111.2,
                "lon": 103.83,
                "t": (start + Duration::seconds((f * minutes as f64 * 60.0) as i64)).to_rfc3339(),
            })
        })
        .collect();
    Value::Array(points)
}

/// The README's Wuhan commute: 900.7 g, credited 901, over 8.55 km.
pub fn commute(start: DateTime<FixedOffset>, minutes: i64, with_trace: bool) -> Value {
    let mut body = json!({
        "client_trip_id": uuid::Uuid::new_v4().to_string(),
        "preset": "wuhan-2024",
        "legs": [{"mode": "metro", "distance_km": "7.35"}, {"mode": "bus"}, {"mode": "bike", "distance_km": "1.2"}],
        "started_at": start.to_rfc3339(),
        "ended_at": (start + Duration::minutes(minutes)).to_rfc3339(),
    });
    if with_trace {
        body["trace"] = trace(start, 8.55, minutes);
    }
    body
}

pub async fn points(app: &TestApp, token: &str) -> String {
    let (_, account) = app.whoami(token).await;
    let (_, b) = app
        .get_as(token, &format!("/api/v1/accounts/{account}/balances"))
        .await;
    b["balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["asset"] == "points")
        .map_or("0".into(), |b| b["posted"].as_str().unwrap().to_string())
}

/// An organisation of `kind` set up by the government's admin (so
/// approved at once) with one staff member holding `role`; answers its id
/// and the staff's token.
pub async fn staffed(
    app: &TestApp,
    g: &Government,
    kind: &str,
    name: &str,
    n: u32,
    role: &str,
    email: &str,
) -> (String, String) {
    let (status, org) = app
        .post_as(
            &g.admin,
            "/api/v1/organizations",
            &json!({"kind": kind, "name": name, "uscc": uscc(n)}),
        )
        .await;
    assert_eq!(status, 201, "{org}");
    let id = org["id"].as_str().unwrap().to_string();
    let staff = app.signed_in(email).await;
    let (user, _) = app.whoami(&staff).await;
    let (status, g) = app
        .post_as(
            &g.admin,
            &format!("/api/v1/organizations/{id}/roles"),
            &json!({"user_id": user, "role": role}),
        )
        .await;
    assert_eq!(status, 201, "{g}");
    (id, staff)
}

/// An approved settlement bank set up by the government's admin, and its
/// staff's token; answers the bank's id and the token.
pub async fn bank(app: &TestApp, g: &Government, n: u32) -> (String, String) {
    let email = format!("bank{n}@bank.cn");
    staffed(
        app,
        g,
        "bank",
        "兰州新区结算银行",
        600_000 + n,
        "bank",
        &email,
    )
    .await
}

/// The reserve platform (收储平台), and its staff's token.
pub async fn reserve_platform(app: &TestApp, g: &Government, n: u32) -> (String, String) {
    let email = format!("reserve{n}@reserve.cn");
    let name = "兰州新区环境权益收储平台";
    staffed(
        app,
        g,
        "reserve_platform",
        name,
        500_000 + n,
        "reserve",
        &email,
    )
    .await
}

/// `asset`'s balance (posted, held) on an account the token may read.
pub async fn balance(app: &TestApp, token: &str, account: &str, asset: &str) -> (i64, i64) {
    let (status, b) = app
        .get_as(token, &format!("/api/v1/accounts/{account}/balances"))
        .await;
    assert_eq!(status, 200, "{b}");
    b["balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["asset"] == asset)
        .map_or((0, 0), |x| {
            (
                x["posted"].as_str().unwrap().parse().unwrap(),
                x["held"].as_str().unwrap().parse().unwrap(),
            )
        })
}

/// A financing guarantee company (融资担保), and its staff's token.
pub async fn guarantor(app: &TestApp, g: &Government, n: u32) -> (String, String) {
    let email = format!("guarantor{n}@guarantee.cn");
    let name = "兰州新区融资担保有限公司";
    staffed(app, g, "guarantor", name, 400_000 + n, "guarantor", &email).await
}

/// The account of organisation `org_id`, as its staff (`token`) reads it.
pub async fn org_account(app: &TestApp, token: &str, org_id: &str) -> String {
    let (status, o) = app
        .get_as(token, &format!("/api/v1/organizations/{org_id}"))
        .await;
    assert_eq!(status, 200, "{o}");
    o["account_id"].as_str().unwrap().to_string()
}

/// An insurer (保险公司), and its staff's token.
pub async fn insurer(app: &TestApp, g: &Government, n: u32) -> (String, String) {
    let email = format!("insurer{n}@insure.cn");
    let name = "兰州新区财产保险有限公司";
    staffed(app, g, "insurer", name, 300_000 + n, "insurer", &email).await
}

/// A government department that is the bureau `bureau` (`ecology`,
/// `water`, `economic_development`, `natural_resources`), and its staff's
/// token.
pub async fn bureau(app: &TestApp, g: &Government, bureau: &str, n: u32) -> (String, String) {
    let (status, org) = app
        .post_as(
            &g.admin,
            "/api/v1/organizations",
            &json!({"kind": "government_department", "name": format!("兰州新区{bureau}局"),
                    "uscc": uscc(200_000 + n), "bureau": bureau}),
        )
        .await;
    assert_eq!(status, 201, "{org}");
    let id = org["id"].as_str().unwrap().to_string();
    let staff = app.signed_in(&format!("{bureau}{n}@gov.cn")).await;
    let (user, _) = app.whoami(&staff).await;
    let (status, r) = app
        .post_as(
            &g.admin,
            &format!("/api/v1/organizations/{id}/roles"),
            &json!({"user_id": user, "role": "government"}),
        )
        .await;
    assert_eq!(status, 201, "{r}");
    (id, staff)
}

/// An injected fault: every UPDATE of row `id` of `table` fails, on either
/// database, until [`FaultyRow::repair`].
pub struct FaultyRow {
    table: String,
    sqlite: bool,
}

impl FaultyRow {
    pub async fn inject(app: &TestApp, table: &str, id: &str) -> FaultyRow {
        use sea_orm::ConnectionTrait;
        let sqlite = app.db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite;
        let statements = if sqlite {
            vec![format!(
                "CREATE TRIGGER injected_fault BEFORE UPDATE ON {table} WHEN OLD.id = '{id}' \
                 BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
            )]
        } else {
            vec![
                "CREATE FUNCTION injected_fault() RETURNS trigger AS $$ \
                 BEGIN RAISE EXCEPTION 'injected fault'; END $$ LANGUAGE plpgsql"
                    .to_string(),
                format!(
                    "CREATE TRIGGER injected_fault BEFORE UPDATE ON {table} FOR EACH ROW \
                     WHEN (OLD.id = '{id}') EXECUTE FUNCTION injected_fault()"
                ),
            ]
        };
        for sql in &statements {
            app.db.execute_unprepared(sql).await.unwrap();
        }
        FaultyRow {
            table: table.to_string(),
            sqlite,
        }
    }

    pub async fn repair(self, app: &TestApp) {
        use sea_orm::ConnectionTrait;
        let sql = if self.sqlite {
            "DROP TRIGGER injected_fault".to_string()
        } else {
            format!("DROP TRIGGER injected_fault ON {}", self.table)
        };
        app.db.execute_unprepared(&sql).await.unwrap();
    }
}
