//! Points expire after the configured period, oldest first, once each.

use chrono::{DateTime, Duration, FixedOffset, Months};
use tanpuhui_server::accounts::service as accounts;
use tanpuhui_server::ids::AccountId;
use tanpuhui_server::ledger::{self, Asset, Command, Posting, Request};
use tanpuhui_server::points::{expire_due, Swept};

use crate::helpers::{any_backend, backends, spawn_app, TestApp};

async fn move_points(
    app: &TestApp,
    from: &str,
    to: &str,
    n: i64,
    id: &str,
    at: DateTime<FixedOffset>,
) {
    let post = |account_id: &str, amount: i64| Posting {
        account_id: account_id.to_string(),
        asset: Asset::points(),
        amount,
    };
    let req = Request {
        id: id.to_string(),
        memo: None,
        command: Command::Transfer {
            postings: vec![post(from, -n), post(to, n)],
        },
    };
    ledger::apply(&app.db, &req, at).await.unwrap();
}

async fn balance(app: &TestApp, account: &str) -> i64 {
    ledger::balances(&app.db, &AccountId::new(account))
        .await
        .unwrap()
        .into_iter()
        .find(|b| b.asset == "points")
        .map(|b| b.posted)
        .unwrap_or(0)
}

#[tokio::test]
async fn points_expire_oldest_first_after_two_years() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let token = app.signed_in("saver@lz.cn").await;
        let (_, account) = app.whoami(&token).await;
        let t0 = chrono::DateTime::parse_from_rfc3339("2024-01-10T09:00:00+08:00").unwrap();
        let issuer = accounts::system(&app.db, "issuer:points", t0)
            .await
            .unwrap()
            .id;
        let shop = accounts::system(&app.db, "test:shop", t0).await.unwrap().id;
        let months = |m: u32| t0.checked_add_months(Months::new(m)).unwrap();
        // Earned 500, then 400 a year later; spent 600 at 18 months: the
        // spend used all of the first 500 and 100 of the 400.
        move_points(&app, &issuer, &account, 500, "earn-1", t0).await;
        move_points(&app, &issuer, &account, 400, "earn-2", months(12)).await;
        move_points(&app, &account, &shop, 600, "spend-1", months(18)).await;
        // Two years after the first lot: it is all spent, nothing expires.
        let day = Duration::days(1);
        assert_eq!(
            expire_due(&app.db, 24, months(24) + day).await.unwrap(),
            Swept::default()
        );
        assert_eq!(balance(&app, &account).await, 300);
        // Two years after the second: its 300 left expire.
        let at = months(36) + day;
        let (a, b) = tokio::join!(expire_due(&app.db, 24, at), expire_due(&app.db, 24, at));
        let total = a.unwrap().points + b.unwrap().points;
        assert_eq!(total, 300, "{backend:?}: two sweeps at once expire once");
        assert_eq!(balance(&app, &account).await, 0);
        assert_eq!(
            expire_due(&app.db, 24, at + day).await.unwrap(),
            Swept::default()
        );
        let sink = accounts::system(&app.db, "expired:points", at)
            .await
            .unwrap()
            .id;
        assert_eq!(balance(&app, &sink).await, 300);
        // Points earned later are untouched until their own date; the
        // period is configuration.
        move_points(&app, &issuer, &account, 50, "earn-3", months(37)).await;
        assert_eq!(
            expire_due(&app.db, 24, months(38)).await.unwrap(),
            Swept::default()
        );
        assert_eq!(
            expire_due(&app.db, 1, months(38) + day)
                .await
                .unwrap()
                .points,
            50
        );
    }
}

#[tokio::test]
async fn a_person_sees_when_their_points_expire() {
    let app = spawn_app(any_backend()).await;
    let token = app.signed_in("planner@lz.cn").await;
    let (_, account) = app.whoami(&token).await;
    let now = app.now();
    let issuer = accounts::system(&app.db, "issuer:points", now)
        .await
        .unwrap()
        .id;
    let shop = accounts::system(&app.db, "test:shop", now)
        .await
        .unwrap()
        .id;
    let (first, second) = (now - Duration::days(40), now - Duration::days(3));
    move_points(&app, &issuer, &account, 500, "earn-1", first).await;
    move_points(&app, &issuer, &account, 400, "earn-2", second).await;
    move_points(&app, &account, &shop, 600, "spend-1", now).await;
    let (status, view) = app.get_as(&token, "/api/v1/me/points").await;
    assert_eq!(status, 200, "{view}");
    let cst = FixedOffset::east_opt(8 * 3600).unwrap();
    let day = |t: DateTime<FixedOffset>| {
        t.checked_add_months(Months::new(24))
            .unwrap()
            .with_timezone(&cst)
            .format("%Y-%m-%d")
            .to_string()
    };
    // The spend took the older 500 and 100 of the 400.
    assert_eq!(
        view,
        serde_json::json!({
            "balance": "300",
            "valid_months": 24,
            "expiring": [{"on": day(second), "points": "300"}],
        })
    );
    let (_, empty) = app
        .get_as(&app.signed_in("new@lz.cn").await, "/api/v1/me/points")
        .await;
    assert_eq!(empty["balance"], "0");
    assert_eq!(empty["expiring"], serde_json::json!([]));
}
