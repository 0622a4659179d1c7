//! Redeeming points: stock and points move together, never oversold, never
//! overdrawn, under concurrency too.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{backends, spawn_app, TestApp};

async fn grant_points(app: &TestApp, token: &str, n: i64) {
    let (_, account) = app.whoami(token).await;
    let id = format!("grant:{}", uuid::Uuid::new_v4());
    crate::helpers::grant_points(app, &account, n, &id).await;
}

async fn available(app: &TestApp, token: &str) -> i64 {
    let (_, account) = app.whoami(token).await;
    let (_, b) = app
        .get_as(token, &format!("/api/v1/accounts/{account}/balances"))
        .await;
    b["balances"][0]["available"]
        .as_str()
        .map_or(0, |s| s.parse().unwrap())
}

async fn reward(app: &TestApp, admin: &str, cost: i64, stock: i64) -> String {
    let (status, r) = app
        .post_as(
            admin,
            "/api/v1/rewards",
            &json!({"name": "公交卡充值 10 元", "points_cost": cost, "stock": stock}),
        )
        .await;
    assert_eq!(status, 201, "{r}");
    r["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn redeeming_spends_points_and_stock_together() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let admin = app.admin("shop@tph.cn").await;
        let person = app.signed_in("saver@lz.cn").await;
        let (status, _) = app
            .post_as(
                &person,
                "/api/v1/rewards",
                &json!({"name": "x", "points_cost": 1, "stock": 1}),
            )
            .await;
        assert_eq!(status, 403);
        for (body, param) in [
            (json!({"name": "", "points_cost": 1, "stock": 1}), "name"),
            (
                json!({"name": "x", "points_cost": 0, "stock": 1}),
                "points_cost",
            ),
            (json!({"name": "x", "points_cost": 1, "stock": -1}), "stock"),
        ] {
            let (status, p) = app.post_as(&admin, "/api/v1/rewards", &body).await;
            assert_eq!((status, p["param"].as_str()), (422, Some(param)), "{body}");
        }
        let id = reward(&app, &admin, 300, 2).await;
        grant_points(&app, &person, 1_000).await;

        let (status, r) = app
            .post_as(
                &person,
                "/api/v1/redemptions",
                &json!({"reward_id": id, "quantity": 2}),
            )
            .await;
        assert_eq!(status, 201, "{backend:?}: {r}");
        assert_eq!(r["points"], "600");
        assert_eq!(available(&app, &person).await, 400);
        let (_, listed) = app.get_as(&person, "/api/v1/rewards").await;
        assert_eq!(listed["data"][0]["stock"], "0");

        let (status, p) = app
            .post_as(&person, "/api/v1/redemptions", &json!({"reward_id": id}))
            .await;
        assert_eq!((status, p["code"].as_str()), (409, Some("out_of_stock")));
        // Not enough points: the stock is not touched either.
        let dear = reward(&app, &admin, 500, 5).await;
        let (status, p) = app
            .post_as(&person, "/api/v1/redemptions", &json!({"reward_id": dear}))
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("insufficient_points"))
        );
        let (_, listed) = app.get_as(&person, "/api/v1/rewards").await;
        assert_eq!(listed["data"][1]["stock"], "5", "{listed}");
        assert_eq!(available(&app, &person).await, 400);
        for (body, status) in [
            (json!({"reward_id": "nope"}), 404),
            (json!({"reward_id": dear, "quantity": 0}), 422),
            (json!({"reward_id": dear, "quantity": 101}), 422),
        ] {
            assert_eq!(
                app.post_as(&person, "/api/v1/redemptions", &body).await.0,
                status,
                "{body}"
            );
        }
        let (_, mine) = app.get_as(&person, "/api/v1/redemptions").await;
        assert_eq!(mine["data"].as_array().unwrap().len(), 1);
    }
}

/// Many people at once for few items, and one person at once for more than
/// they can pay: exactly the stock and exactly the points go.
#[tokio::test]
async fn concurrent_redemptions_never_oversell_or_overdraw() {
    for backend in backends() {
        let app = Arc::new(spawn_app(backend).await);
        let admin = app.admin("shop@tph.cn").await;
        let scarce = reward(&app, &admin, 100, 5).await;
        let mut people = Vec::new();
        for i in 0..12 {
            let t = app.signed_in(&format!("p{i}@lz.cn")).await;
            grant_points(&app, &t, 100).await;
            people.push(t);
        }
        let mut tasks = Vec::new();
        for t in &people {
            let (app, t, id) = (app.clone(), t.clone(), scarce.clone());
            tasks.push(tokio::spawn(async move {
                let res = app
                    .send(
                        Method::POST,
                        "/api/v1/redemptions",
                        Some(&t),
                        Some(&json!({"reward_id": id})),
                    )
                    .await;
                let status = res.status().as_u16();
                (status, res.json::<Value>().await.unwrap())
            }));
        }
        let mut sold = 0;
        for task in tasks {
            let (status, body) = task.await.unwrap();
            match status {
                201 => sold += 1,
                409 => assert_eq!(body["code"], "out_of_stock", "{body}"),
                other => panic!("{backend:?}: {other} {body}"),
            }
        }
        assert_eq!(sold, 5, "{backend:?}");
        let mut left = 0;
        for t in &people {
            left += available(&app, t).await;
        }
        assert_eq!(left, 12 * 100 - 5 * 100, "{backend:?}");

        let plenty = reward(&app, &admin, 100, 1_000).await;
        let rich = app.signed_in("rich@lz.cn").await;
        grant_points(&app, &rich, 250).await;
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let (app, t, id) = (app.clone(), rich.clone(), plenty.clone());
            tasks.push(tokio::spawn(async move {
                app.send(
                    Method::POST,
                    "/api/v1/redemptions",
                    Some(&t),
                    Some(&json!({"reward_id": id})),
                )
                .await
                .status()
                .as_u16()
            }));
        }
        let mut ok = 0;
        for task in tasks {
            ok += (task.await.unwrap() == 201) as usize;
        }
        assert_eq!(ok, 2, "{backend:?}");
        assert_eq!(available(&app, &rich).await, 50);
        let (_, listed) = app.get_as(&rich, "/api/v1/rewards").await;
        let stock = listed["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == plenty.as_str())
            .unwrap()["stock"]
            .clone();
        assert_eq!(stock, "998", "stock given back when points were short");
    }
}

#[tokio::test]
async fn merchants_manage_their_own_rewards() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let g = crate::helpers::government(&app, 1).await;
        let (shop, op) = crate::helpers::enterprise(&app, &g, "shop@bike.cn", 81).await;
        let (other, _) = crate::helpers::enterprise(&app, &g, "other@bus.cn", 82).await;
        let shop_id = shop["id"].as_str().unwrap();
        let offer = |merchant: Option<&str>| json!({"name": "共享单车月卡", "points_cost": 300, "stock": 2, "merchant_id": merchant});
        let (status, r) = app
            .post_as(&op, "/api/v1/rewards", &offer(Some(shop_id)))
            .await;
        assert_eq!(status, 201, "{r}");
        assert_eq!(r["merchant_id"], shop_id);
        let id = r["id"].as_str().unwrap().to_string();
        // Not for another merchant, nor as the platform.
        for merchant in [other["id"].as_str(), None] {
            let (status, _) = app.post_as(&op, "/api/v1/rewards", &offer(merchant)).await;
            assert_eq!(status, 403, "{backend:?} {merchant:?}");
        }
        // Administrators may offer for a merchant, which must be approved.
        assert_eq!(
            app.post_as(&g.admin, "/api/v1/rewards", &offer(Some(shop_id)))
                .await
                .0,
            201
        );
        let (status, e) = app
            .post_as(&g.admin, "/api/v1/rewards", &offer(Some(&g.dept_id)))
            .await;
        assert_eq!((status, e["param"].as_str()), (422, Some("merchant_id")));

        // Sold out, restocked by the merchant; others cannot touch it.
        let person = app.signed_in("rider@lz.cn").await;
        grant_points(&app, &person, 1_000).await;
        let redeem = json!({"reward_id": id, "quantity": 2});
        assert_eq!(
            app.post_as(&person, "/api/v1/redemptions", &redeem).await.0,
            201
        );
        let (status, e) = app
            .post_as(
                &person,
                "/api/v1/redemptions",
                &json!({"reward_id": id, "quantity": 1}),
            )
            .await;
        assert_eq!((status, e["code"].as_str()), (409, Some("out_of_stock")));
        let path = format!("/api/v1/rewards/{id}");
        let restock = json!({"stock": 5});
        let res = app
            .send(Method::PATCH, &path, Some(&person), Some(&restock))
            .await;
        assert_eq!(res.status(), 404);
        let res = app
            .send(Method::PATCH, &path, Some(&op), Some(&restock))
            .await;
        assert_eq!(res.status(), 200);
        let r: Value = res.json().await.unwrap();
        assert_eq!(r["stock"], "5");
        assert_eq!(
            app.post_as(
                &person,
                "/api/v1/redemptions",
                &json!({"reward_id": id, "quantity": 1})
            )
            .await
            .0,
            201
        );
        // Withdrawn: off the list and not redeemable.
        let res = app
            .send(
                Method::PATCH,
                &path,
                Some(&op),
                Some(&json!({"active": false})),
            )
            .await;
        assert_eq!(res.status(), 200);
        let (_, list) = app.get_as(&person, "/api/v1/rewards").await;
        assert!(!list.to_string().contains(&id), "{list}");
        let (status, _) = app
            .post_as(
                &person,
                "/api/v1/redemptions",
                &json!({"reward_id": id, "quantity": 1}),
            )
            .await;
        assert_eq!(status, 404, "{backend:?}");
    }
}
