//! The plan's other rights as instruments: each class listed with its own
//! unit and ledger minor unit, priced like carbon (the Lanzhou SO2
//! benchmark as a floor), and codes of no class refused.

use serde_json::json;

use crate::helpers::{backends, government, spawn_app};
use crate::pricing::listed_at_guidance;

#[tokio::test]
async fn each_right_class_is_listed_in_its_own_unit() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let g = government(&app, 1).await;
        let year = app.year();
        // SO2 at the 2015 benchmark of 4.80 yuan/kg, a floor for its trades.
        let so2 = format!("TPH-SO2-{year}");
        listed_at_guidance(
            &app,
            &g.gov,
            &so2,
            json!({"price": "4.80", "floor": true, "reason": "2015年基准价"}),
        )
        .await;
        for (code, price, class, unit, minor) in [
            (format!("TPH-NH3N-{year}"), "10.00", "nh3n", "kg", "1000"),
            (
                format!("TPH-WCI-{year}"),
                "2.50",
                "water_increment",
                "m3",
                "1000",
            ),
            (
                format!("TPH-WSR-{year}"),
                "1.20",
                "water_saving",
                "m3",
                "1000",
            ),
            (
                format!("TPH-ENU-{year}"),
                "80.00",
                "energy_use",
                "tce",
                "1000",
            ),
            (
                format!("TPH-LCI-{year}"),
                "150000.00",
                "land_cultivated",
                "mu",
                "10000",
            ),
        ] {
            let (status, i) = app
                .post_as(
                    &g.gov,
                    "/api/v1/market/instruments",
                    &json!({"code": code, "reference_price": price}),
                )
                .await;
            assert_eq!(status, 201, "{backend:?} {code}: {i}");
            assert_eq!(
                (
                    i["class"].as_str(),
                    i["unit"].as_str(),
                    i["minor_per_unit"].as_str(),
                    i["reference_price"].as_str()
                ),
                (Some(class), Some(unit), Some(minor), Some(price)),
                "{i}"
            );
        }
        let list: serde_json::Value = app
            .get("/api/v1/market/instruments")
            .await
            .json()
            .await
            .unwrap();
        let so2_line = list
            .as_array()
            .or_else(|| list["data"].as_array())
            .unwrap()
            .iter()
            .find(|i| i["code"] == so2.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("{so2} is listed: {list}"));
        assert_eq!(
            (
                so2_line["class"].as_str(),
                so2_line["unit"].as_str(),
                so2_line["reference_price"].as_str(),
                so2_line["floor_price"].as_str()
            ),
            (Some("so2"), Some("kg"), Some("4.80"), Some("4.80")),
            "{so2_line}"
        );
        // Tags of no class, lower case, a two-digit year.
        for bad in ["TPH-NH3-2026", "TPH-so2-2026", "TPH-SO2-26"] {
            let (status, p) = app
                .post_as(
                    &g.gov,
                    "/api/v1/market/instruments",
                    &json!({"code": bad, "reference_price": "4.80"}),
                )
                .await;
            assert_eq!(
                (status, p["param"].as_str()),
                (422, Some("code")),
                "{bad}: {p}"
            );
        }
    }
}
