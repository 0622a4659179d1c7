//! Issue 4's whole journey through the documented API, as a person and the
//! people around them would use it: register, join a department, log a
//! trip and an offline batch, see the month and the department's ranking,
//! have a partner confirm a trip, and spend the points.

use chrono::Duration;
use serde_json::json;

use crate::helpers::backends;
use crate::helpers::{base_time, commute};
use crate::partners::{partner, push, record};

#[tokio::test]
async fn a_person_logs_trips_and_spends_the_points() {
    for backend in backends() {
        let app = crate::helpers::spawn_app(backend).await;
        let p = partner(&app, 1).await;
        let g = crate::helpers::government(&app, 2).await;
        let me = app.signed_in("commuter@lz.gov.cn").await;

        // Join the department.
        let (status, m) = app
            .post_as(
                &me,
                &format!("/api/v1/organizations/{}/memberships", g.dept_id),
                &json!(null),
            )
            .await;
        assert_eq!(status, 201, "{m}");
        let approve = format!(
            "/api/v1/organizations/{}/memberships/{}/approve",
            g.dept_id,
            m["id"].as_str().unwrap()
        );
        assert_eq!(app.post_as(&g.gov, &approve, &json!(null)).await.0, 200);

        // One trip with a trace, then two recorded offline without one.
        let t0 = base_time(&app);
        let (status, first) = app
            .post_as(&me, "/api/v1/trips", &commute(t0, 30, true))
            .await;
        assert_eq!(
            (status, first["credited_g"].as_str()),
            (201, Some("901")),
            "{first}"
        );
        let batch = json!({"trips": [
            commute(t0 + Duration::hours(1), 30, false),
            commute(t0 + Duration::hours(2), 30, false),
        ]});
        let (status, out) = app.post_as(&me, "/api/v1/trips/batch", &batch).await;
        assert_eq!(status, 200, "{out}");
        let credited: Vec<&str> = out["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["trip"]["credited_g"].as_str().unwrap())
            .collect();
        assert_eq!(credited, ["450", "450"], "self-declared: half");

        // The metro operator confirms the second: topped up to the full 901.
        let (status, _) = app
            .post_as(
                &me,
                "/api/v1/me/transit-cards",
                &json!({"organization_id": p.org_id, "card_id": "6217 0001"}),
            )
            .await;
        assert_eq!(status, 201);
        let ride = record(
            "ride-1",
            "62170001",
            "metro",
            "7.35",
            t0 + Duration::hours(1),
            25,
        );
        let (_, pushed) = push(&app, &p, json!([ride])).await;
        assert_eq!(pushed["results"][0]["outcome"], "confirmed", "{pushed}");

        // The month, the department's ranking, the points.
        let period = t0.format("%Y-%m").to_string();
        let (_, summary) = app
            .get_as(&me, &format!("/api/v1/me/summary?period={period}"))
            .await;
        assert_eq!(summary["trips"]["credited"], 3, "{summary}");
        assert_eq!(summary["credited_g"], "2252", "901 + 901 + 450");
        let board = format!(
            "/api/v1/leaderboards?scope=organization&organization_id={}&period={period}",
            g.dept_id
        );
        let (status, board) = app.get_as(&me, &board).await;
        assert_eq!(status, 200, "{board}");
        assert_eq!(
            (
                board["you"]["rank"].as_u64(),
                board["entries"][0]["credited_g"].as_str()
            ),
            (Some(1), Some("2252")),
            "{board}"
        );
        let (_, points) = app.get_as(&me, "/api/v1/me/points").await;
        assert_eq!(points["balance"], "2252", "{points}");

        // Spend 2,000 on a bus pass; 252 are left.
        let (status, reward) = app
            .post_as(
                &g.admin,
                "/api/v1/rewards",
                &json!({"name": "公交月票", "points_cost": 2000, "stock": 10}),
            )
            .await;
        assert_eq!(status, 201, "{reward}");
        let (status, r) = app
            .post_as(
                &me,
                "/api/v1/redemptions",
                &json!({"reward_id": reward["id"], "quantity": 1}),
            )
            .await;
        assert_eq!(status, 201, "{r}");
        let (_, points) = app.get_as(&me, "/api/v1/me/points").await;
        assert_eq!(points["balance"], "252", "{backend:?}");
        let (_, mine) = app.get_as(&me, "/api/v1/redemptions").await;
        assert_eq!(mine["data"].as_array().map(Vec::len), Some(1));
    }
}
