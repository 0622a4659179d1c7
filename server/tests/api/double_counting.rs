//! Figures an enterprise could inflate, and reductions that could be
//! counted twice: identities compared in one spelling, forest inventories
//! tied to the registered parcels, the grid table following from the
//! project's region.

use serde_json::{json, Value};

use crate::helpers::{any_backend, backends, spawn_app_with, TestApp};
use crate::helpers::{forest_project, forest_report, registry, Registry};

async fn app_without_notice(backend: crate::helpers::Backend) -> TestApp {
    spawn_app_with(backend, |s| s.registry.notice_working_days = 0).await
}

/// Drafts and submits `project`; answers the submission's status and body.
async fn submit(app: &TestApp, r: &Registry, project: &Value) -> (u16, Value) {
    let (status, p) = app.post_as(&r.op, "/api/v1/projects", project).await;
    if status != 201 {
        return (status, p);
    }
    let id = p["id"].as_str().unwrap();
    app.post_as(
        &r.op,
        &format!("/api/v1/projects/{id}/submit"),
        &json!(null),
    )
    .await
}

async fn approved(app: &TestApp, r: &Registry, project: &Value) -> String {
    let (status, p) = submit(app, r, project).await;
    assert_eq!(status, 200, "{p}");
    let id = p["id"].as_str().unwrap().to_string();
    let (status, p) = app
        .post_as(
            &r.verifier,
            &format!("/api/v1/projects/{id}/decision"),
            &json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(status, 200, "{p}");
    id
}

#[tokio::test]
async fn identities_collide_whatever_their_spelling() {
    for backend in backends() {
        let app = app_without_notice(backend).await;
        let r = registry(&app, 31).await;
        let (status, first) = submit(
            &app,
            &r,
            &forest_project(app.year(), r.org_id(), "北山", "GL-2021-0007"),
        )
        .await;
        assert_eq!(status, 200, "{first}");
        for spelling in [
            "gl-2021-0007",
            "ＧＬ－２０２１－０００７",
            "GL‐2021‐0007",
            " gl-2021-0007\u{3000}",
        ] {
            let (status, e) = submit(
                &app,
                &r,
                &forest_project(app.year(), r.org_id(), "南山", spelling),
            )
            .await;
            assert_eq!(
                (status, e["code"].as_str()),
                (409, Some("double_counting")),
                "{spelling:?} {e}"
            );
        }
        // Declared identities too.
        let mut a = forest_project(app.year(), r.org_id(), "东山", "LZ-3101");
        a["identities"] = json!(["CCER: 14-2024-0042"]);
        assert_eq!(submit(&app, &r, &a).await.0, 200);
        let mut b = forest_project(app.year(), r.org_id(), "西山", "LZ-3102");
        b["identities"] = json!(["ccer:１４-2024-0042"]);
        let (status, e) = submit(&app, &r, &b).await;
        assert_eq!(
            (status, e["code"].as_str()),
            (409, Some("double_counting")),
            "{e}"
        );
        // One parcel listed twice in one project is refused, not summed.
        let mut twice = forest_project(app.year(), r.org_id(), "重复", "LZ-3103");
        twice["location"]["parcels"][1]["id"] = json!("lz-3103");
        let (status, e) = app.post_as(&r.op, "/api/v1/projects", &twice).await;
        assert_eq!(
            (status, e["param"].as_str()),
            (422, Some("location.parcels")),
            "{e}"
        );
        // What is stored and shown is the one spelling.
        let (_, p) = app
            .get_as(
                &r.op,
                &format!("/api/v1/projects/{}", first["id"].as_str().unwrap()),
            )
            .await;
        let ids = p["identities"].to_string();
        assert!(ids.contains("parcel:620100:gl-2021-0007"), "{ids}");
    }
}

/// Rows written before identities were canonical are brought to the one
/// spelling at start; two projects whose identities are one (double
/// counting that predates the rule) are reported, nothing is lost, and no
/// third project can take the identity.
#[tokio::test]
async fn stored_identities_become_canonical_and_old_collisions_are_reported() {
    use sea_orm::ConnectionTrait;
    use tanpuhui_server::registry::identities::canonicalise_stored;
    for backend in backends() {
        let app = app_without_notice(backend).await;
        let r = registry(&app, 32).await;
        let (_, a) = submit(
            &app,
            &r,
            &forest_project(app.year(), r.org_id(), "甲", "LZ-3201"),
        )
        .await;
        let a = a["id"].as_str().unwrap().to_string();
        let (_, b) = app
            .post_as(
                &r.op,
                "/api/v1/projects",
                &forest_project(app.year(), r.org_id(), "乙", "LZ-3299"),
            )
            .await;
        let b = b["id"].as_str().unwrap().to_string();
        // As an earlier release stored them: parcel ids as given.
        app.db
            .execute_unprepared(
                "UPDATE project_identities SET identity = 'parcel:620100:LZ-3201' WHERE identity = 'parcel:620100:lz-3201'",
            )
            .await
            .unwrap();
        app.db
            .execute_unprepared(&format!(
                "INSERT INTO project_identities (identity, project_id) VALUES ('PARCEL:620100:Lz-3201', '{b}')"
            ))
            .await
            .unwrap();
        let collisions = canonicalise_stored(&app.db).await.unwrap();
        assert_eq!(collisions.len(), 1, "{collisions:?}");
        let c = &collisions[0];
        assert_eq!(c.canonical, "parcel:620100:lz-3201");
        let holders = [c.kept.0.as_str(), c.left.0.as_str()];
        assert!(holders.contains(&a.as_str()) && holders.contains(&b.as_str()));
        let rows = app
            .db
            .query_all_raw(sea_orm::Statement::from_string(
                app.db.get_database_backend(),
                "SELECT identity FROM project_identities WHERE identity LIKE '%3201' ORDER BY identity",
            ))
            .await
            .unwrap();
        let rows: Vec<String> = rows
            .iter()
            .map(|r| r.try_get("", "identity").unwrap())
            .collect();
        assert_eq!(rows.len(), 2, "nothing lost: {rows:?}");
        assert!(
            rows.contains(&"parcel:620100:lz-3201".to_string()),
            "{rows:?}"
        );
        let (status, e) = submit(
            &app,
            &r,
            &forest_project(app.year(), r.org_id(), "丙", "lz-3201"),
        )
        .await;
        assert_eq!(
            (status, e["code"].as_str()),
            (409, Some("double_counting")),
            "{e}"
        );
        // Run again: nothing more to do, the same collision reported.
        assert_eq!(canonicalise_stored(&app.db).await.unwrap(), collisions);
    }
}

#[tokio::test]
async fn forest_inventories_cover_registered_parcels() {
    for backend in backends() {
        let app = app_without_notice(backend).await;
        let r = registry(&app, 33).await;
        // Parcels LZ-3301 (60 ha) and LZ-3301-b (40 ha).
        let id = approved(
            &app,
            &r,
            &forest_project(app.year(), r.org_id(), "北山", "LZ-3301"),
        )
        .await;
        let path = format!("/api/v1/projects/{id}/reports");
        let year = app.year() - 1;
        let mut tenfold = forest_report(year);
        tenfold["activity"]["request"]["area_ha"] = json!("1000");
        let (status, e) = app.post_as(&r.op, &path, &tenfold).await;
        assert_eq!(
            (status, e["param"].as_str()),
            (422, Some("activity.request.area_ha")),
            "{e}"
        );
        assert!(e["detail"].as_str().unwrap().contains("100 ha"), "{e}");
        // Naming one parcel caps the area at its own.
        let mut one = forest_report(year);
        one["activity"]["parcels"] = json!(["LZ-3301"]);
        let (status, e) = app.post_as(&r.op, &path, &one).await;
        assert_eq!(
            (status, e["param"].as_str()),
            (422, Some("activity.request.area_ha")),
            "{e}"
        );
        for (parcels, why) in [
            (json!(["LZ-9999"]), "not a registered parcel"),
            (json!(["LZ-3301", "lz-3301"]), "named twice"),
            (json!([]), "at least one"),
        ] {
            let mut bad = forest_report(year);
            bad["activity"]["parcels"] = parcels;
            let (status, e) = app.post_as(&r.op, &path, &bad).await;
            assert_eq!(
                (status, e["param"].as_str()),
                (422, Some("activity.parcels")),
                "{e}"
            );
            assert!(e["detail"].as_str().unwrap().contains(why), "{e}");
        }
        let mut ok = forest_report(year);
        ok["activity"]["parcels"] = json!(["lz-3301", "ＬＺ-3301-B"]);
        let (status, rep) = app.post_as(&r.op, &path, &ok).await;
        assert_eq!(status, 201, "{rep}");
        assert_eq!(rep["estimate"]["registered_area_ha"], "100", "{rep}");
    }
}

fn solar_project(year: i32, org_id: &str, meter: &str) -> Value {
    json!({
        "organization_id": org_id,
        "name": "新区屋顶光伏",
        "kind": "renewable_power",
        "methodology": "ccer-01-001-v01",
        "methodology_version": 1,
        "region_code": "620100",
        "location": {"coordinates": ["103.68", "36.50"]},
        "crediting_start": format!("{}-01-01", year - 3),
        "crediting_end": format!("{}-12-31", year + 7),
        "identities": [format!("meter:{meter}")]
    })
}

fn grid_report(year: i32, month: u32, grid: &str) -> Value {
    json!({
        "period_start": format!("{year}-{month:02}-01"),
        "period_end": format!("{year}-{month:02}-28"),
        "activity": {"calculator": "grid", "request": {"grid": grid, "electricity_mwh": "100"}}
    })
}

#[tokio::test]
async fn the_grid_table_follows_from_the_projects_region() {
    for backend in backends() {
        let app = app_without_notice(backend).await;
        let r = registry(&app, 34).await;
        let id = approved(
            &app,
            &r,
            &solar_project(app.year(), r.org_id(), "GS-62-0001"),
        )
        .await;
        let path = format!("/api/v1/projects/{id}/reports");
        let year = app.year() - 1;
        // A Gansu project may not pick the North grid (+16%) or the
        // national fossil-only table (+42%) on its own say-so.
        for grid in ["north-2022", "national-fossil-2022", "national-2022"] {
            let (status, e) = app.post_as(&r.op, &path, &grid_report(year, 1, grid)).await;
            assert_eq!(
                (status, e["param"].as_str()),
                (422, Some("activity.request.grid")),
                "{grid} {e}"
            );
            assert!(
                e["detail"].as_str().unwrap().contains("northwest-2022"),
                "{e}"
            );
        }
        let (status, rep) = app
            .post_as(&r.op, &path, &grid_report(year, 1, "northwest-2022"))
            .await;
        assert_eq!(status, 201, "{rep}");
        assert_eq!(rep["claimed_g"], "58570000", "{rep}");
        assert_eq!(rep["estimate"]["grid_fit"]["fit"], "matches");
        // The right table needs no reason; another one needs one, which the
        // verifier sees with the report.
        let mut needless = grid_report(year, 2, "northwest-2022");
        needless["activity"]["grid_override_reason"] = json!("because");
        let (status, e) = app.post_as(&r.op, &path, &needless).await;
        assert_eq!(
            (status, e["param"].as_str()),
            (422, Some("activity.grid_override_reason")),
            "{e}"
        );
        let mut reasoned = grid_report(year, 2, "north-2022");
        reasoned["activity"]["grid_override_reason"] = json!(
            "  the plant feeds the North China grid through a dedicated line (contract 2024-17)  "
        );
        let (status, rep) = app.post_as(&r.op, &path, &reasoned).await;
        assert_eq!(status, 201, "{rep}");
        let (_, seen) = app
            .get_as(
                &r.verifier,
                &format!("/api/v1/reports/{}", rep["id"].as_str().unwrap()),
            )
            .await;
        assert_eq!(
            seen["activity"]["grid_override_reason"],
            "the plant feeds the North China grid through a dedicated line (contract 2024-17)",
            "{seen}"
        );
        assert_eq!(
            seen["estimate"]["grid_fit"]["expected"], "northwest",
            "{seen}"
        );
    }
}

/// One journey sent from two accounts (a copied request body): the copy
/// waits for a reviewer instead of being credited, the original is held
/// (credited, but out of tradeable batches), the reviewer sees them side by
/// side; a rejected original gives its points back.
#[tokio::test]
async fn a_journey_sent_from_two_accounts_goes_to_review_both_times() {
    use crate::helpers::{base_time, commute, points};
    for backend in backends() {
        let app = app_without_notice(backend).await;
        let r = registry(&app, 35).await;
        let (a, b, c) = (
            app.signed_in("original@lz.cn").await,
            app.signed_in("copier@lz.cn").await,
            app.signed_in("second.copier@lz.cn").await,
        );
        let day = base_time(&app) - chrono::Duration::days(2);
        let body = commute(day, 30, true);
        let (status, original) = app.post_as(&a, "/api/v1/trips", &body).await;
        assert_eq!(
            (status, original["status"].as_str()),
            (201, Some("credited")),
            "{original}"
        );
        let original_id = original["id"].as_str().unwrap().to_string();
        let credited_points = points(&app, &a).await;
        assert_ne!(credited_points, "0");

        // The same body from another account, with its own client id.
        let mut copy_body = body.clone();
        copy_body["client_trip_id"] = json!(uuid::Uuid::new_v4().to_string());
        let (status, copy) = app.post_as(&b, "/api/v1/trips", &copy_body).await;
        assert_eq!(status, 201, "{copy}");
        assert_eq!(copy["status"], "pending_review", "{copy}");
        assert_eq!(copy["credited_g"], "0");
        assert!(
            copy["reasons"]
                .to_string()
                .contains("same_journey_as_another_account"),
            "{copy}"
        );
        assert_eq!(points(&app, &b).await, "0");

        // A third account: still review, though the others are marked.
        let third = app.signed_in("third.copier@lz.cn").await;
        let mut third_body = body.clone();
        third_body["client_trip_id"] = json!(uuid::Uuid::new_v4().to_string());
        let (_, t) = app.post_as(&third, "/api/v1/trips", &third_body).await;
        assert_eq!(t["status"], "pending_review", "{t}");

        let (_, mine) = app
            .get_as(&a, &format!("/api/v1/trips/{original_id}"))
            .await;
        assert_eq!(
            (mine["status"].as_str(), mine["held_for_review"].as_bool()),
            (Some("credited"), Some(true)),
            "{mine}"
        );
        assert!(mine["reasons"]
            .to_string()
            .contains("same_journey_as_another_account"));
        assert_eq!(
            points(&app, &a).await,
            credited_points,
            "points stay while held"
        );

        // Both wait for the reviewer, who sees them side by side.
        let (_, queue) = app.get_as(&r.verifier, "/api/v1/reviews/trips").await;
        let ids: Vec<&str> = queue["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap())
            .collect();
        assert!(
            ids.contains(&original_id.as_str()) && ids.contains(&copy["id"].as_str().unwrap()),
            "{queue}"
        );
        let (_, seen) = app
            .get_as(
                &r.verifier,
                &format!("/api/v1/reviews/trips/{}", copy["id"].as_str().unwrap()),
            )
            .await;
        assert!(
            seen["same_journey_as"]
                .as_array()
                .unwrap()
                .contains(&json!(original_id)),
            "{seen}"
        );

        // Held, the original's reduction stays out of batches.
        let d = day.date_naive().to_string();
        let aggregate = json!({"from": d, "to": d, "preset": "wuhan-2024"});
        let (status, e) = app
            .post_as(&r.verifier, "/api/v1/aggregations", &aggregate)
            .await;
        assert_eq!(
            (status, e["code"].as_str()),
            (409, Some("nothing_to_aggregate")),
            "{e}"
        );

        // Without a trace the legs and times are the journey.
        let mut bare = commute(day + chrono::Duration::hours(2), 30, false);
        let (status, first_bare) = app.post_as(&a, "/api/v1/trips", &bare).await;
        assert_eq!(status, 201, "{first_bare}");
        bare["client_trip_id"] = json!(uuid::Uuid::new_v4().to_string());
        let (_, second) = app.post_as(&c, "/api/v1/trips", &bare).await;
        assert!(
            second["reasons"]
                .to_string()
                .contains("same_journey_as_another_account"),
            "{second}"
        );

        // The reviewer rejects the copy and keeps the original: the hold
        // ends and the reduction can be aggregated.
        let decide = |id: String, decision: &'static str| {
            let app = &app;
            let v = r.verifier.clone();
            async move {
                app.post_as(
                    &v,
                    &format!("/api/v1/reviews/trips/{id}"),
                    &json!({"decision": decision, "reason": "trace matches the original's phone"}),
                )
                .await
            }
        };
        let (status, rejected) = decide(copy["id"].as_str().unwrap().to_string(), "reject").await;
        assert_eq!(
            (status, rejected["status"].as_str()),
            (200, Some("rejected")),
            "{rejected}"
        );
        let (status, kept) = decide(original_id.clone(), "approve").await;
        assert_eq!(
            (
                status,
                kept["status"].as_str(),
                kept["held_for_review"].as_bool()
            ),
            (200, Some("credited"), Some(false)),
            "{kept}"
        );
        let (status, batch) = app
            .post_as(&r.verifier, "/api/v1/aggregations", &aggregate)
            .await;
        assert_eq!(status, 201, "{batch}");
        assert_eq!(batch["quantity_g"], original["credited_g"], "{batch}");

        // Had the reviewer rejected a held original, its points go back.
        let day2 = base_time(&app) - chrono::Duration::days(3);
        let twin = commute(day2, 30, true);
        let (_, held) = app.post_as(&c, "/api/v1/trips", &twin).await;
        let before = points(&app, &c).await.parse::<i64>().unwrap();
        let mut twin_copy = twin.clone();
        twin_copy["client_trip_id"] = json!(uuid::Uuid::new_v4().to_string());
        app.post_as(&b, "/api/v1/trips", &twin_copy).await;
        let (status, gone) = decide(held["id"].as_str().unwrap().to_string(), "reject").await;
        assert_eq!(
            (status, gone["status"].as_str(), gone["points"].as_str()),
            (200, Some("rejected"), Some("0")),
            "{gone}"
        );
        let after = points(&app, &c).await.parse::<i64>().unwrap();
        assert_eq!(
            before - after,
            held["points"].as_str().unwrap().parse::<i64>().unwrap()
        );
    }
}

/// A trace may come in GCJ-02 (Chinese map SDKs, WeChat), said by
/// `coordinate_system`: it is converted to WGS-84, measured as such, and the
/// same journey sent in the other system is still the same journey.
#[tokio::test]
async fn gcj02_traces_are_converted_and_still_the_same_journey() {
    use crate::helpers::{base_time, commute};
    let app = app_without_notice(any_backend()).await;
    let (a, b) = (
        app.signed_in("wgs@lz.cn").await,
        app.signed_in("gcj@lz.cn").await,
    );
    let body = commute(base_time(&app) - chrono::Duration::days(1), 30, true);
    let (status, first) = app.post_as(&a, "/api/v1/trips", &body).await;
    assert_eq!(
        (status, first["status"].as_str()),
        (201, Some("credited")),
        "{first}"
    );
    // The same fixes as a Chinese map SDK reports them.
    let mut shifted = body.clone();
    shifted["client_trip_id"] = json!(uuid::Uuid::new_v4().to_string());
    shifted["coordinate_system"] = json!("gcj02");
    for p in shifted["trace"].as_array_mut().unwrap() {
        let (lat, lon) = carbon_calc::coords::wgs84_to_gcj02(
            p["lat"].as_f64().unwrap(),
            p["lon"].as_f64().unwrap(),
        );
        p["lat"] = json!(lat);
        p["lon"] = json!(lon);
    }
    let (status, copy) = app.post_as(&b, "/api/v1/trips", &shifted).await;
    assert_eq!(status, 201, "{copy}");
    assert_eq!(
        copy["measured_km"], first["measured_km"],
        "measured in WGS-84: {copy}"
    );
    assert!(
        copy["reasons"]
            .to_string()
            .contains("same_journey_as_another_account"),
        "converted, it is the same journey: {copy}"
    );
    let mut bad = shifted.clone();
    bad["coordinate_system"] = json!("bd09");
    let (status, e) = app.post_as(&b, "/api/v1/trips", &bad).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (400, Some("invalid_value")),
        "{e}"
    );
}

/// Eight accounts send one journey at the same moment: at most one is
/// credited outright, the rest wait for a reviewer (on PostgreSQL the
/// journey is locked while a trip of it is decided).
#[tokio::test]
async fn one_journey_sent_at_once_from_many_accounts_is_credited_once() {
    use crate::helpers::{base_time, commute};
    for backend in backends() {
        let app = app_without_notice(backend).await;
        let mut tokens = Vec::new();
        for i in 0..8 {
            tokens.push(app.signed_in(&format!("ring{i}@lz.cn")).await);
        }
        let body = commute(base_time(&app) - chrono::Duration::days(1), 30, true);
        let answers = futures_util::future::join_all(tokens.iter().map(|t| {
            let mut b = body.clone();
            b["client_trip_id"] = json!(uuid::Uuid::new_v4().to_string());
            let app = &app;
            async move { app.post_as(t, "/api/v1/trips", &b).await }
        }))
        .await;
        let credited = answers
            .iter()
            .filter(|(s, t)| {
                *s == 201 && t["status"] == "credited" && t["held_for_review"] == false
            })
            .count();
        assert!(
            credited <= 1,
            "{backend:?}: {credited} credited outright: {answers:?}"
        );
        assert!(answers.iter().all(|(s, _)| *s == 201), "{answers:?}");
    }
}
