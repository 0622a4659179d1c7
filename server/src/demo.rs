//! `tanpuhui demo`: fills an empty database with a small, believable data
//! set, so that the API docs (and later the console) are worth opening at
//! once: a government department with an official, the carbon-neutral
//! service centre with a verifier, an approved forestry enterprise whose
//! afforestation project is registered, reported, verified and issued, a
//! retirement with its certificate, two residents with credited trips, and
//! a market: the forest instrument's guidance price and its listing, a
//! settlement bank that has deposited a buyer's and the reserve platform's
//! cash, resting orders on both sides of the book and one trade with its
//! attestation.
//!
//! Everything goes through the same services the API calls, with the rules
//! of the configuration, except two: the demo project skips its public
//! notice (a demo cannot wait seven working days), and the demo's orders
//! are entered as if the market were open (a demo made at night still has
//! a book). Every account shares one fresh random password, printed once.

use chrono::{Datelike, Duration};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use serde_json::json;

use crate::accounts::service::SystemAccounts;
use crate::auth::extract::Principal;
use crate::auth::roles::Role;
use crate::auth::service::Login;
use crate::cache::Cache;
use crate::clock::Timestamp;
use crate::config::Settings;
use crate::ids::UserId;
use crate::orgs::entity::{Bureau, OrgKind};
use crate::orgs::service::{self as orgs, NewOrganization};
use crate::registry::{holdings, issuance, projects, reports};
use crate::trips::service::{self as trips, TripRequest, Trips};

/// What the demo made, to print.
#[derive(Debug, Default)]
pub struct Made {
    pub password: String,
    /// (email, what the account is for)
    pub accounts: Vec<(String, String)>,
    /// (what, id)
    pub objects: Vec<(String, String)>,
}

impl std::fmt::Display for Made {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "Demo data made. Every account's password: {}",
            self.password
        )?;
        writeln!(
            f,
            "Sign in with POST /api/v1/auth/login {{\"login\": EMAIL, \"password\": …}}.\n"
        )?;
        for (email, what) in &self.accounts {
            writeln!(f, "  {email:<28} {what}")?;
        }
        writeln!(f)?;
        for (what, id) in &self.objects {
            writeln!(f, "  {what:<28} {id}")?;
        }
        Ok(())
    }
}

fn fail(step: &str) -> impl Fn(&dyn std::fmt::Display) -> String + '_ {
    move |e| format!("{step}: {e}")
}

const DOMAIN: &str = "demo.tanpuhui.cn";

/// Fills `db`, which must hold no user yet.
pub async fn fill(
    db: &DatabaseConnection,
    settings: &Settings,
    now: Timestamp,
) -> Result<Made, String> {
    let users = crate::auth::entity::Entity::find()
        .count(db)
        .await
        .map_err(|e| fail("reading users")(&e))?;
    if users > 0 {
        return Err(format!(
            "the database already has {users} users: the demo fills an empty database only"
        ));
    }
    let catalog = crate::methodologies::Methodologies::prepare(db, now)
        .await
        .map_err(|e| fail("loading the methodology tables")(&e))?
        .current();
    let password = format!("demo-{}", hex::encode(crate::crypto::random::<6>()));
    let mut made = Made {
        password: password.clone(),
        ..Made::default()
    };
    let email = |name: &str| format!("{name}@{DOMAIN}");
    let person = |name: &'static str| {
        let password = password.clone();
        async move {
            let user = crate::me::register_person(db, Login::email(&email(name)), &password, now)
                .await
                .map_err(|e| fail("registering a person")(&e))?;
            Ok::<_, String>(user.id)
        }
    };
    let load = |id: String| async move {
        Principal::load(db, &UserId::new(id))
            .await
            .map_err(|e| fail("loading roles")(&e))
    };

    // The administrator, and the organisations an administrator sets up.
    let admin_id = crate::admin::create(db, &email("admin"), &password)
        .await
        .map_err(|e| fail("the administrator")(&e))?;
    let admin = load(admin_id).await?;
    made.accounts
        .push((email("admin"), "platform administrator".into()));
    let uscc = |n: u32| {
        crate::orgs::uscc::with_check_character(&format!("91620100{n:09}"))
            .expect("a well-formed code body")
    };
    let setup = |kind: OrgKind, name: &'static str, n: u32, bureau: Option<Bureau>| {
        let admin = &admin;
        async move {
            orgs::create(
                db,
                admin,
                NewOrganization {
                    kind,
                    name: name.into(),
                    uscc: uscc(n),
                    bureau,
                },
                now,
            )
            .await
            .map_err(|e| fail(name)(&e))
        }
    };
    let (dept, _) = setup(
        OrgKind::GovernmentDepartment,
        "兰州新区生态环境局",
        1,
        Some(Bureau::Ecology),
    )
    .await?;
    let (centre, _) = setup(OrgKind::ServiceCentre, "兰州新区碳中和服务中心", 2, None).await?;
    let grant = |user: String, role: Role, org: String| {
        let admin = &admin;
        async move {
            orgs::grant_role(db, admin, &org, &user, role, now)
                .await
                .map_err(|e| fail("granting a role")(&e))
        }
    };
    let official = person("official").await?;
    grant(official.clone(), Role::Government, dept.id.clone()).await?;
    made.accounts
        .push((email("official"), format!("government: {}", dept.name)));
    let verifier = person("verifier").await?;
    grant(verifier.clone(), Role::Verifier, centre.id.clone()).await?;
    made.accounts
        .push((email("verifier"), format!("verifier: {}", centre.name)));
    let official = load(official).await?;
    let verifier = load(verifier).await?;

    // A forestry enterprise applies and is approved.
    let operator = person("forester").await?;
    let (firm, firm_account) = orgs::create(
        db,
        &load(operator.clone()).await?,
        NewOrganization {
            kind: OrgKind::Enterprise,
            name: "兰州新区绿源林业有限公司".into(),
            uscc: uscc(3),
            bureau: None,
        },
        now,
    )
    .await
    .map_err(|e| fail("the enterprise")(&e))?;
    orgs::decide(db, &official, &firm.id, true, None, now)
        .await
        .map_err(|e| fail("approving the enterprise")(&e))?;
    let operator = load(operator).await?;
    made.accounts.push((
        email("forester"),
        format!("enterprise operator: {}", firm.name),
    ));
    made.objects
        .push(("enterprise account".into(), firm_account.clone()));

    // Its afforestation project, registered, reported last year, issued.
    let year = crate::clock::china_date(now).year();
    let project: projects::ProjectInput = serde_json::from_value(json!({
        "organization_id": firm.id,
        "name": "新区北山生态造林项目",
        "kind": "afforestation",
        "methodology": "ccer-14-001-v01",
        "methodology_version": 1,
        "region_code": "620100",
        "location": {"parcels": [
            {"id": "LZXQ-BS-001", "area_ha": "60"},
            {"id": "LZXQ-BS-002", "area_ha": "40"}
        ]},
        "crediting_start": format!("{}-01-01", year - 3),
        "crediting_end": format!("{}-12-31", year + 27),
        "documents": [{"name": "可行性研究报告.pdf", "sha256": "ab".repeat(32)}],
        "identities": []
    }))
    .map_err(|e| fail("the project")(&e))?;
    let p = projects::create(db, &catalog, &operator, project, now)
        .await
        .map_err(|e| fail("the project")(&e))?;
    let no_notice = crate::registry::rules::RegistryRules {
        notice_working_days: 0,
        ..settings.registry.clone()
    };
    projects::submit(db, &operator, &no_notice, &p.id, now)
        .await
        .map_err(|e| fail("submitting the project")(&e))?;
    projects::decide(db, &verifier, &p.id, true, None, now)
        .await
        .map_err(|e| fail("approving the project")(&e))?;
    made.objects.push(("forest project".into(), p.id.clone()));
    let report: reports::ReportInput = serde_json::from_value(json!({
        "period_start": format!("{}-01-01", year - 1),
        "period_end": format!("{}-12-31", year - 1),
        "activity": {"calculator": "forest", "request": {
            "area_ha": "100", "volume_m3_per_ha_start": "20", "volume_m3_per_ha_end": "50",
            "wood_density": "0.5", "bef": "1.5", "root_shoot_ratio": "0.25",
            "carbon_fraction": "0.5"
        }}
    }))
    .map_err(|e| fail("the monitoring report")(&e))?;
    let r = reports::submit(db, &catalog, &operator, &p.id, report, now)
        .await
        .map_err(|e| fail("the monitoring report")(&e))?;
    reports::verify(
        db,
        &verifier,
        &r.id,
        reports::Verdict::Accept,
        None,
        None,
        now,
    )
    .await
    .map_err(|e| fail("verifying the report")(&e))?;
    let batch = issuance::issue(db, &verifier, &settings.registry, &r.id, now)
        .await
        .map_err(|e| fail("issuing the credits")(&e))?;
    made.objects.push(("issued batch".into(), batch.id.clone()));

    // Ten tonnes retired for a city marathon.
    let (retirement, _) = holdings::retire(
        db,
        &operator,
        &holdings::RetireInput {
            retirement_id: uuid::Uuid::new_v4(),
            account_id: firm_account,
            batch_id: batch.id.clone(),
            quantity_g: 10_000_000,
            beneficiary: format!("{year} 兰州新区马拉松"),
            purpose: "赛事碳中和".into(),
        },
        now,
    )
    .await
    .map_err(|e| fail("the retirement")(&e))?;
    made.objects.push((
        "retirement certificate".into(),
        format!("/api/v1/public/retirements/{}", retirement.id),
    ));

    market(
        db,
        settings,
        Market {
            admin: &admin,
            official: &official,
            seller: &operator,
            seller_org: &firm.id,
            code: batch.instrument.as_deref().unwrap_or_default(),
            bank_uscc: uscc(4),
            buyer_uscc: uscc(5),
            reserve_uscc: uscc(6),
            guarantor_uscc: uscc(7),
            insurer_uscc: uscc(8),
        },
        &person,
        &load,
        &mut made,
        now,
    )
    .await?;

    // Two residents with this morning's commutes (each their own journey).
    let cache = Cache::memory();
    let systems = SystemAccounts::default();
    let ctx = Trips {
        db,
        cache: &cache,
        rules: &settings.trip_rules,
        catalog: &catalog,
        systems: &systems,
    };
    for (i, name) in ["li.ming", "wang.fang"].into_iter().enumerate() {
        let id = person(name).await?;
        let start = now - Duration::hours(3) + Duration::minutes(7 * i as i64);
        let trip: TripRequest = serde_json::from_value(json!({
            "client_trip_id": uuid::Uuid::new_v4().to_string(),
            "preset": "lanzhou-interim",
            "legs": [{"mode": "metro", "distance_km": "7.35"}, {"mode": "bus"}],
            "started_at": start.to_rfc3339(),
            "ended_at": (start + Duration::minutes(35)).to_rfc3339(),
            "trace": trace(start, 35, i as f64),
        }))
        .map_err(|e| fail("a trip")(&e))?;
        let logged = trips::log_trip(ctx, &UserId::new(id.clone()), &trip, now)
            .await
            .map_err(|e| fail("logging a trip")(&e))?;
        made.accounts.push((
            email(name),
            format!(
                "resident: one trip, {} ({} g)",
                logged.trip.status.as_str(),
                logged.trip.credited_g
            ),
        ));
    }
    Ok(made)
}

struct Market<'a> {
    admin: &'a Principal,
    official: &'a Principal,
    seller: &'a Principal,
    seller_org: &'a str,
    code: &'a str,
    bank_uscc: String,
    buyer_uscc: String,
    reserve_uscc: String,
    guarantor_uscc: String,
    insurer_uscc: String,
}

/// The forest instrument's guidance price of 36.00 and its listing at
/// it, a bank, a buying enterprise
/// with a million yuan deposited, the reserve platform with five million, asks at 36.50 and 37.00, a bid at 35.80,
/// and one trade of 100 t at 36.50 (a buy that took part of the best ask).
async fn market<P, PF, L, LF>(
    db: &DatabaseConnection,
    settings: &Settings,
    m: Market<'_>,
    person: &P,
    load: &L,
    made: &mut Made,
    now: Timestamp,
) -> Result<(), String>
where
    P: Fn(&'static str) -> PF,
    PF: std::future::Future<Output = Result<String, String>>,
    L: Fn(String) -> LF,
    LF: std::future::Future<Output = Result<Principal, String>>,
{
    use crate::market::{cash, listing, orders, settlement};
    let email = |name: &str| format!("{name}@{DOMAIN}");
    let code = listing::parse_code("instrument", m.code).map_err(|e| fail("the instrument")(&e))?;
    // The government's guidance price first: the listing's first
    // reference price.
    let guidance: crate::pricing::guidance::PublishInput = serde_json::from_value(json!({
        "instrument": m.code, "price": "36.00",
        "reason": "林业碳汇指导价（参照广东省林业碳普惠 2020 年价格）"
    }))
    .map_err(|e| fail("the guidance price")(&e))?;
    crate::pricing::guidance::publish(db, m.official, guidance, now)
        .await
        .map_err(|e| fail("the guidance price")(&e))?;
    listing::list(
        db,
        m.official,
        &code,
        None,
        listing::OwnRules::default(),
        now,
    )
    .await
    .map_err(|e| fail("listing the instrument")(&e))?;
    made.objects
        .push(("listed instrument".into(), code.to_string()));
    let new_org = |kind: OrgKind, name: &'static str, uscc: String, by: &Principal| {
        let by = by.clone();
        async move {
            orgs::create(
                db,
                &by,
                NewOrganization {
                    kind,
                    name: name.into(),
                    uscc,
                    bureau: None,
                },
                now,
            )
            .await
            .map_err(|e| fail(name)(&e))
        }
    };
    let (bank, _) = new_org(OrgKind::Bank, "兰州银行新区支行", m.bank_uscc, m.admin).await?;
    let teller = person("teller").await?;
    orgs::grant_role(db, m.admin, &bank.id, &teller, Role::Bank, now)
        .await
        .map_err(|e| fail("granting the bank role")(&e))?;
    let teller = load(teller).await?;
    made.accounts
        .push((email("teller"), format!("settlement bank: {}", bank.name)));
    let trader = person("trader").await?;
    let (buyer, _) = new_org(
        OrgKind::Enterprise,
        "兰州新区光伏新能源有限公司",
        m.buyer_uscc,
        &load(trader.clone()).await?,
    )
    .await?;
    orgs::decide(db, m.official, &buyer.id, true, None, now)
        .await
        .map_err(|e| fail("approving the buyer")(&e))?;
    let trader = load(trader).await?;
    made.accounts.push((
        email("trader"),
        format!("enterprise operator: {}", buyer.name),
    ));
    // Cash the bank confirms it received for an organisation.
    let deposit = |reference: &'static str, org: String, fen: &'static str| {
        let (bank, teller) = (bank.id.clone(), &teller);
        async move {
            let input: cash::DepositInput = serde_json::from_value(json!({
                "bank_id": bank, "reference": reference, "organization_id": org, "amount": fen
            }))
            .map_err(|e| fail("a deposit")(&e))?;
            cash::deposit(db, teller, &input, now)
                .await
                .map_err(|e| fail("a deposit")(&e))
        }
    };
    deposit("DEMO-0001", buyer.id.clone(), "100000000").await?;

    // The state reserve platform, with its budget deposited.
    let (reserve, _) = new_org(
        OrgKind::ReservePlatform,
        "兰州新区环境权益收储平台",
        m.reserve_uscc,
        m.admin,
    )
    .await?;
    let keeper = person("reserve").await?;
    orgs::grant_role(db, m.admin, &reserve.id, &keeper, Role::Reserve, now)
        .await
        .map_err(|e| fail("granting the reserve role")(&e))?;
    made.accounts.push((
        email("reserve"),
        format!("reserve platform: {}", reserve.name),
    ));
    deposit("DEMO-0002", reserve.id.clone(), "500000000").await?;

    // Green finance: a guarantee company and an insurer with cash of their
    // own, and cash for the forest enterprise's premiums.
    for (kind, name, uscc, login, role, reference) in [
        (
            OrgKind::Guarantor,
            "兰州新区融资担保有限公司",
            m.guarantor_uscc,
            "guarantor",
            Role::Guarantor,
            "DEMO-0003",
        ),
        (
            OrgKind::Insurer,
            "兰州新区财产保险有限公司",
            m.insurer_uscc,
            "insurer",
            Role::Insurer,
            "DEMO-0004",
        ),
    ] {
        let (org, _) = new_org(kind, name, uscc, m.admin).await?;
        let staff = person(login).await?;
        orgs::grant_role(db, m.admin, &org.id, &staff, role, now)
            .await
            .map_err(|e| fail("granting a finance role")(&e))?;
        made.accounts
            .push((email(login), format!("{login}: {}", org.name)));
        deposit(reference, org.id.clone(), "100000000").await?;
    }
    deposit("DEMO-0005", m.seller_org.to_string(), "10000000").await?;

    let open = crate::market::rules::MarketRules {
        round_the_clock: true,
        ..settings.market.clone()
    };
    let fees = settlement::fees_of(&SystemAccounts::default(), db, m.code, now)
        .await
        .map_err(|e| fail("the fee account")(&e))?;
    let mut trade = None;
    for (who, org, n, side, price, quantity) in [
        (m.seller, m.seller_org, 1, "sell", "36.50", 200),
        (m.seller, m.seller_org, 2, "sell", "37.00", 300),
        (&trader, buyer.id.as_str(), 1, "buy", "35.80", 50),
        (&trader, buyer.id.as_str(), 2, "buy", "36.50", 100),
    ] {
        let input: orders::OrderInput = serde_json::from_value(json!({
            "organization_id": org, "client_order_id": format!("demo-{n}"),
            "instrument": m.code, "side": side, "price": price,
            "quantity": quantity.to_string(), "time_in_force": "gtc"
        }))
        .map_err(|e| fail("an order")(&e))?;
        let placed = orders::place(db, who, &open, &fees, &input, now)
            .await
            .map_err(|e| fail("an order")(&e))?;
        trade = placed.trades.into_iter().next().or(trade);
    }
    if let Some(t) = trade {
        made.objects.push((
            "trade attestation".into(),
            format!("/api/v1/market/trades/{}/attestation", t.id),
        ));
        made.objects.push((
            "public trade check".into(),
            format!("/api/v1/public/trades/{}", t.id),
        ));
    }
    Ok(())
}

/// A GPS trace northwards from Lanzhou New Area over `minutes` (about 8 km),
/// shifted east by `shift` hundredths of a degree per resident.
fn trace(start: Timestamp, minutes: i64, shift: f64) -> serde_json::Value {
    let n = 20;
    (0..=n)
        .map(|k| {
            let f = k as f64 / n as f64;
            json!({
                "lat": 36.50 + 0.072 * f,
                "lon": 103.68 + 0.01 * shift,
                "t": (start + Duration::seconds((minutes * 60) * k / n)).to_rfc3339(),
            })
        })
        .collect()
}
