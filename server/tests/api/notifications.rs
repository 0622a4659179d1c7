//! The inbox, live: a person's stream shows a notification the moment the
//! change that wrote it commits, on any replica, and a reconnection with
//! `Last-Event-ID` loses nothing.

use chrono::Duration;
use serde_json::json;

use crate::helpers::{
    backends, base_time, commute, government, spawn_app_with, verifier, Sse, TestApp,
};

/// A person's notification stream.
async fn stream(app: &TestApp, token: &str, last: Option<&str>) -> Sse {
    Sse::open(app, "/api/v1/me/notifications/stream", Some(token), last).await
}

/// Three trips of `person` sent to review (self-declared), their ids.
async fn three_to_review(app: &TestApp, person: &str) -> Vec<String> {
    let t0 = base_time(app);
    let mut ids = Vec::new();
    for h in 0..3 {
        let (_, t) = app
            .post_as(
                person,
                "/api/v1/trips",
                &commute(t0 + Duration::hours(h), 30, false),
            )
            .await;
        assert_eq!(t["status"], "pending_review", "{t}");
        ids.push(t["id"].as_str().unwrap().to_string());
    }
    ids
}

async fn decide(app: &TestApp, reviewer: &str, trip: &str, decision: &str) {
    let (status, v) = app
        .post_as(
            reviewer,
            &format!("/api/v1/reviews/trips/{trip}"),
            &json!({"decision": decision, "reason": "核对行程"}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
}

#[tokio::test]
async fn the_stream_shows_a_reviewed_trip_at_once_and_resumes_after_the_last_event() {
    for backend in backends() {
        let app = spawn_app_with(backend, |s| s.trip_rules.self_declared_review = true).await;
        let g = government(&app, 5).await;
        let reviewer = verifier(&app, &g.admin, "reviewer5@centre.cn", 5_500).await;
        let person = app.signed_in("walker@lz.cn").await;
        let other = app.signed_in("other@lz.cn").await;
        let ids = three_to_review(&app, &person).await;
        let mut mine = stream(&app, &person, None).await;
        let mut theirs = stream(&app, &other, None).await;
        mine.until(": open").await;
        theirs.until(": open").await;
        decide(&app, &reviewer, &ids[0], "approve").await;
        let seen = mine.until(&ids[0]).await.to_string();
        assert!(seen.contains("event: notification"), "{seen}");
        assert!(seen.contains(r#""kind":"trip_reviewed""#), "{seen}");
        // The event's id is the notification's, as the inbox lists it.
        let (_, inbox) = app.get_as(&person, "/api/v1/me/notifications").await;
        let first = inbox["data"][0]["id"].as_str().unwrap().to_string();
        assert!(seen.contains(&format!("id: {first}")), "{seen}");
        // Disconnected, then two more decisions; reconnecting after the
        // first sends both, oldest first.
        drop(mine);
        decide(&app, &reviewer, &ids[1], "reject").await;
        decide(&app, &reviewer, &ids[2], "approve").await;
        let mut again = stream(&app, &person, Some(&first)).await;
        let seen = again.until(&ids[2]).await.to_string();
        let (at1, at2) = (seen.find(&ids[1]).unwrap(), seen.find(&ids[2]).unwrap());
        assert!(at1 < at2, "{seen}");
        assert!(!seen.contains(&ids[0]), "{seen}");
        // Nobody else's stream carried any of it.
        let heard = theirs.after(std::time::Duration::from_millis(500)).await;
        assert!(!heard.contains("notification"), "{heard}");
        // A Last-Event-ID that is not the caller's starts from now.
        let mut strange = stream(&app, &other, Some(&first)).await;
        let opened = strange.until(": open").await;
        assert!(!opened.contains("notification"), "{opened}");
    }
}

/// Two replicas on one PostgreSQL database and one Redis: a decision taken
/// on one is on the person's stream on the other.
#[tokio::test]
async fn a_replica_streams_a_notification_written_on_another() {
    use crate::helpers::{fresh_database, start, test_settings, Backend};
    if !backends().contains(&Backend::Postgres) || std::env::var("TEST_REDIS_URL").is_err() {
        eprintln!("needs TEST_DATABASE_URL and TEST_REDIS_URL (CI sets both)");
        return;
    }
    let (url, _) = fresh_database(Backend::Postgres).await;
    let mut settings = test_settings(Backend::Postgres, &url);
    settings.trip_rules.self_declared_review = true;
    let a = start(&settings, None).await;
    let b = start(&settings, None).await;
    let g = government(&a, 6).await;
    let reviewer = verifier(&a, &g.admin, "reviewer6@centre.cn", 6_600).await;
    let person = a.signed_in("walker@lz.cn").await;
    let ids = three_to_review(&a, &person).await;
    let mut on_b = stream(&b, &person, None).await;
    on_b.until(": open").await;
    decide(&a, &reviewer, &ids[0], "reject").await;
    let seen = on_b.until(&ids[0]).await;
    assert!(seen.contains(r#""status":"rejected""#), "{seen}");
}
