//! Organisations: applications and approval, memberships, staff roles.

use serde_json::{json, Value};

use crate::helpers::government;
use crate::helpers::{any_backend, backends, spawn_app, uscc};

#[tokio::test]
async fn an_enterprise_applies_and_government_approves() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let g = government(&app, 1).await;
        let applicant = app.signed_in("ops@pv.cn").await;
        let stranger = app.signed_in("someone@else.cn").await;

        let bad = [
            (
                json!({"kind": "enterprise", "name": "X", "uscc": "91620100000000001X"}),
                422,
                "uscc",
            ),
            (
                json!({"kind": "enterprise", "name": "X", "uscc": "9162"}),
                422,
                "uscc",
            ),
            (
                json!({"kind": "enterprise", "name": "", "uscc": uscc(5)}),
                422,
                "name",
            ),
            (
                json!({"kind": "cooperative", "name": "X", "uscc": uscc(5)}),
                400,
                "kind",
            ),
        ];
        for (body, status, param) in bad {
            let (got, p) = app
                .post_as(&applicant, "/api/v1/organizations", &body)
                .await;
            assert_eq!(got, status, "{backend:?} {body} → {p}");
            if status == 422 {
                assert_eq!(p["param"], param, "{p}");
            }
        }
        let (status, p) = app
            .post_as(
                &applicant,
                "/api/v1/organizations",
                &json!({"kind": "bank", "name": "某银行", "uscc": uscc(6)}),
            )
            .await;
        assert_eq!((status, p["code"].as_str()), (403, Some("forbidden")));

        let (status, org) = app
            .post_as(
                &applicant,
                "/api/v1/organizations",
                &json!({"kind": "enterprise", "name": "甘肃某光伏有限公司", "uscc": uscc(7).to_lowercase()}),
            )
            .await;
        assert_eq!(status, 201, "{org}");
        assert_eq!(org["status"], "pending");
        assert_eq!(org["uscc"], uscc(7), "stored in canonical form");
        let id = org["id"].as_str().unwrap().to_string();
        assert!(org["account_id"].is_string());

        let (status, p) = app
            .post_as(
                &stranger,
                "/api/v1/organizations",
                &json!({"kind": "enterprise", "name": "copycat", "uscc": uscc(7)}),
            )
            .await;
        assert_eq!((status, p["code"].as_str()), (409, Some("uscc_registered")));

        // A pending application: its applicant and government see it.
        assert_eq!(
            app.get_as(&applicant, &format!("/api/v1/organizations/{id}"))
                .await
                .0,
            200
        );
        assert_eq!(
            app.get_as(&g.gov, &format!("/api/v1/organizations/{id}"))
                .await
                .0,
            200
        );
        assert_eq!(
            app.get_as(&stranger, &format!("/api/v1/organizations/{id}"))
                .await
                .0,
            404
        );
        assert_eq!(
            app.get_as(&stranger, "/api/v1/organizations?status=pending")
                .await
                .0,
            403
        );
        let (status, pending) = app
            .get_as(&g.gov, "/api/v1/organizations?status=pending")
            .await;
        assert_eq!(status, 200);
        assert_eq!(pending["data"].as_array().unwrap().len(), 1);
        assert_eq!(pending["data"][0]["id"], id.as_str());
        assert_eq!(
            app.get_as(&g.gov, "/api/v1/organizations?status=sideways")
                .await
                .0,
            400
        );

        // Nobody but government and admin decides; rejection needs a reason.
        for who in [&applicant, &stranger] {
            let (status, _) = app
                .post_as(
                    who,
                    &format!("/api/v1/organizations/{id}/approve"),
                    &json!({}),
                )
                .await;
            assert_eq!(status, 403);
        }
        let (status, p) = app
            .post_as(
                &g.gov,
                &format!("/api/v1/organizations/{id}/reject"),
                &json!({}),
            )
            .await;
        assert_eq!((status, p["param"].as_str()), (422, Some("reason")));
        let me_before: Value = app.get_as(&applicant, "/api/v1/me").await.1;
        assert_eq!(me_before["roles"], json!([]));

        let (status, approved) = app
            .post_as(
                &g.gov,
                &format!("/api/v1/organizations/{id}/approve"),
                &json!({"reason": "材料齐全"}),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(approved["status"], "approved");
        assert_eq!(approved["decision_reason"], "材料齐全");
        // The applicant is told, with the reason.
        let (_, told) = app.get_as(&applicant, "/api/v1/me/notifications").await;
        assert_eq!(
            (
                told["data"][0]["kind"].as_str(),
                told["data"][0]["body"]["organization_id"].as_str(),
                told["data"][0]["body"]["status"].as_str(),
                told["data"][0]["body"]["reason"].as_str()
            ),
            (
                Some("organization_decided"),
                Some(id.as_str()),
                Some("approved"),
                Some("材料齐全")
            ),
            "{told}"
        );
        let (status, p) = app
            .post_as(
                &g.admin,
                &format!("/api/v1/organizations/{id}/reject"),
                &json!({"reason": "late"}),
            )
            .await;
        assert_eq!((status, p["code"].as_str()), (409, Some("already_decided")));

        let me: Value = app.get_as(&applicant, "/api/v1/me").await.1;
        assert_eq!(
            me["roles"],
            json!([{"role": "enterprise_operator", "organization_id": id}])
        );
        // Approved organisations are visible to everyone signed in.
        let (status, listed) = app.get_as(&stranger, "/api/v1/organizations").await;
        assert_eq!(status, 200);
        let ids: Vec<&str> = listed["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap())
            .collect();
        assert!(
            ids.contains(&id.as_str()) && ids.contains(&g.dept_id.as_str()),
            "{listed}"
        );
    }
}

#[tokio::test]
async fn civil_servants_join_their_department() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let g = government(&app, 2).await;
        let clerk = app.signed_in("clerk@lz.gov.cn").await;
        let (clerk_id, _) = app.whoami(&clerk).await;
        let dept = &g.dept_id;

        let (status, m) = app
            .post_as(
                &clerk,
                &format!("/api/v1/organizations/{dept}/memberships"),
                &json!(null),
            )
            .await;
        assert_eq!(status, 201, "{m}");
        assert_eq!(m["status"], "pending");
        let mid = m["id"].as_str().unwrap().to_string();
        let (status, p) = app
            .post_as(
                &clerk,
                &format!("/api/v1/organizations/{dept}/memberships"),
                &json!(null),
            )
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (409, Some("already_requested"))
        );

        // The clerk cannot see or decide the department's requests.
        assert_eq!(
            app.get_as(&clerk, &format!("/api/v1/organizations/{dept}/memberships"))
                .await
                .0,
            403
        );
        let (status, _) = app
            .post_as(
                &clerk,
                &format!("/api/v1/organizations/{dept}/memberships/{mid}/approve"),
                &json!(null),
            )
            .await;
        assert_eq!(status, 403);

        let (status, page) = app
            .get_as(&g.gov, &format!("/api/v1/organizations/{dept}/memberships"))
            .await;
        assert_eq!(status, 200);
        assert_eq!(page["data"][0]["user_id"], clerk_id.as_str());
        let (status, decided) = app
            .post_as(
                &g.gov,
                &format!("/api/v1/organizations/{dept}/memberships/{mid}/approve"),
                &json!(null),
            )
            .await;
        assert_eq!(
            (status, decided["status"].as_str()),
            (200, Some("approved"))
        );
        // The clerk is told, in their inbox; the department's staff are not.
        let (_, told) = app.get_as(&clerk, "/api/v1/me/notifications").await;
        assert_eq!(
            (
                told["data"][0]["kind"].as_str(),
                told["data"][0]["body"]["membership_id"].as_str(),
                told["data"][0]["body"]["status"].as_str()
            ),
            (
                Some("membership_decided"),
                Some(mid.as_str()),
                Some("approved")
            ),
            "{told}"
        );
        let (_, staff) = app.get_as(&g.gov, "/api/v1/me/notifications").await;
        assert!(
            staff["data"]
                .as_array()
                .unwrap()
                .iter()
                .all(|n| n["kind"] != "membership_decided"),
            "{staff}"
        );
        let (status, _) = app
            .post_as(
                &g.gov,
                &format!("/api/v1/organizations/{dept}/memberships/{mid}/reject"),
                &json!(null),
            )
            .await;
        assert_eq!(status, 409);
        let (status, _) = app
            .post_as(
                &g.gov,
                &format!("/api/v1/organizations/{dept}/memberships/{mid}/sideways"),
                &json!(null),
            )
            .await;
        assert_eq!(status, 404);
        let me: Value = app.get_as(&clerk, "/api/v1/me").await.1;
        assert_eq!(me["member_of"], json!([dept]));
        // Membership is not a role: the clerk still cannot read the
        // department's account.
        let dept_view = app
            .get_as(&g.gov, &format!("/api/v1/organizations/{dept}"))
            .await
            .1;
        let account = dept_view["account_id"].as_str().unwrap();
        assert_eq!(
            app.get_as(&clerk, &format!("/api/v1/accounts/{account}"))
                .await
                .0,
            404
        );
        assert_eq!(
            app.get_as(&g.gov, &format!("/api/v1/accounts/{account}"))
                .await
                .0,
            200
        );

        // Banks take no members.
        let (_, bank) = app
            .post_as(
                &g.admin,
                "/api/v1/organizations",
                &json!({"kind": "bank", "name": "某银行兰州分行", "uscc": uscc(99)}),
            )
            .await;
        let bank_id = bank["id"].as_str().unwrap();
        let (status, p) = app
            .post_as(
                &clerk,
                &format!("/api/v1/organizations/{bank_id}/memberships"),
                &json!(null),
            )
            .await;
        assert_eq!((status, p["code"].as_str()), (409, Some("not_joinable")));
    }
}

#[tokio::test]
async fn staff_roles_fit_the_organisation() {
    let app = spawn_app(any_backend()).await;
    let g = government(&app, 3).await;
    let other = app.signed_in("other@lz.gov.cn").await;
    let (other_id, _) = app.whoami(&other).await;
    let path = format!("/api/v1/organizations/{}/roles", g.dept_id);
    let cases = [
        (
            &g.gov,
            json!({"user_id": other_id, "role": "enterprise_operator"}),
            422,
            Some("role"),
        ),
        (
            &g.gov,
            json!({"user_id": "no-such-user", "role": "government"}),
            422,
            Some("user_id"),
        ),
        (
            &g.gov,
            json!({"user_id": other_id, "role": "admin"}),
            422,
            Some("role"),
        ),
        (
            &g.gov,
            json!({"user_id": other_id, "role": "overlord"}),
            400,
            None,
        ),
        (
            &other,
            json!({"user_id": other_id, "role": "government"}),
            403,
            None,
        ),
        (
            &g.gov,
            json!({"user_id": other_id, "role": "government"}),
            201,
            None,
        ),
        (
            &g.gov,
            json!({"user_id": other_id, "role": "government"}),
            409,
            None,
        ),
    ];
    for (who, body, status, param) in cases {
        let (got, p) = app.post_as(who, &path, &body).await;
        assert_eq!(got, status, "{body} → {p}");
        if let Some(param) = param {
            assert_eq!(p["param"], param, "{p}");
        }
    }
}

/// An operator knows a colleague's email or mobile number, not their user
/// id: grants take any one of the three.
#[tokio::test]
async fn roles_are_granted_by_email_or_mobile() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let g = government(&app, 71).await;
        let path = format!("/api/v1/organizations/{}/roles", g.dept_id);
        let by_email = app.signed_in("Colleague.One@lz.gov.cn").await;
        let (status, granted) = app
            .post_as(
                &g.gov,
                &path,
                &json!({"email": " colleague.one@LZ.gov.cn", "role": "government"}),
            )
            .await;
        assert_eq!(status, 201, "{granted}");
        let (_, me) = app.get_as(&by_email, "/api/v1/me").await;
        assert!(me["roles"].to_string().contains(&g.dept_id), "{me}");

        let res = app
            .post_json(
                "/api/v1/auth/register",
                &json!({"mobile": "13900139001", "password": "long enough password"}),
            )
            .await;
        assert_eq!(res.status(), 201);
        let (status, granted) = app
            .post_as(
                &g.gov,
                &path,
                &json!({"mobile": "+86 139-0013-9001", "role": "government"}),
            )
            .await;
        assert_eq!(status, 201, "{granted}");

        for (body, param) in [
            (
                json!({"email": "nobody@lz.gov.cn", "role": "government"}),
                "email",
            ),
            (json!({"mobile": "12345", "role": "government"}), "mobile"),
            (json!({"role": "government"}), "user_id"),
            (
                json!({"email": "a@b.cn", "mobile": "13900139001", "role": "government"}),
                "user_id",
            ),
        ] {
            let (status, p) = app.post_as(&g.gov, &path, &body).await;
            assert_eq!(
                (status, p["param"].as_str()),
                (422, Some(param)),
                "{body} {p}"
            );
        }
    }
}

/// A department may be the bureau responsible for a class of rights; no
/// other kind of organisation is one, and a bureau of no such name is
/// refused.
#[tokio::test]
async fn a_department_may_be_the_bureau_for_a_class_of_rights() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let admin = app.admin("admin1@tph.cn").await;
        let (status, water) = app
            .post_as(
                &admin,
                "/api/v1/organizations",
                &json!({"kind": "government_department", "name": "兰州新区水务局",
                        "uscc": uscc(910_001), "bureau": "water"}),
            )
            .await;
        assert_eq!(
            (status, water["bureau"].as_str(), water["status"].as_str()),
            (201, Some("water"), Some("approved")),
            "{backend:?}: {water}"
        );
        let id = water["id"].as_str().unwrap();
        let (status, read) = app
            .get_as(&admin, &format!("/api/v1/organizations/{id}"))
            .await;
        assert_eq!((status, &read["bureau"]), (200, &json!("water")), "{read}");
        // A department without a portfolio shows none.
        let (status, plain) = app
            .post_as(
                &admin,
                "/api/v1/organizations",
                &json!({"kind": "government_department", "name": "兰州新区管委会办公室",
                        "uscc": uscc(910_002)}),
            )
            .await;
        assert_eq!(status, 201, "{plain}");
        assert!(plain.get("bureau").is_none(), "{plain}");
        let (status, p) = app
            .post_as(
                &admin,
                "/api/v1/organizations",
                &json!({"kind": "bank", "name": "银行", "uscc": uscc(910_003), "bureau": "ecology"}),
            )
            .await;
        assert_eq!((status, p["param"].as_str()), (422, Some("bureau")), "{p}");
        let (status, p) = app
            .post_as(
                &admin,
                "/api/v1/organizations",
                &json!({"kind": "government_department", "name": "某局",
                        "uscc": uscc(910_004), "bureau": "forestry"}),
            )
            .await;
        assert_eq!(status, 400, "{p}");
    }
}
