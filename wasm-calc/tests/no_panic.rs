//! "Never a panic": random and hostile requests to every calculator return a
//! value or a `CalcError`. proptest prints the failing input and stores its
//! seed in `proptest-regressions/` for replay.

use carbon_calc::json::{call, FUNCTIONS};
use carbon_calc::Catalog;
use proptest::prelude::*;
use serde_json::{json, Value};

/// Decimal-ish strings, including the hostile ones.
fn decimal_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (-1000i64..100_000, 0u32..8).prop_map(|(n, dp)| {
            let d = rust_decimal::Decimal::new(n, dp);
            d.to_string()
        }),
        "[0-9]{1,40}(\\.[0-9]{0,30})?",
        "-?[0-9]{0,3}\\.?[0-9]{0,3}",
        Just("79228162514264337593543950335".to_string()),
        Just("0.0000000000000000000000000001".to_string()),
        ".{0,12}",
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        decimal_text().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("legs".to_string()),
                    Just("mode".to_string()),
                    Just("distance_km".to_string()),
                    Just("trace".to_string()),
                    Just("proof".to_string()),
                    Just("preset".to_string()),
                    "[a-z_]{1,12}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_json_never_panics(function in prop::sample::select(FUNCTIONS), body in any_json()) {
        let _ = call(Catalog::builtin(), function, &body.to_string());
    }

    #[test]
    fn arbitrary_text_never_panics(function in prop::sample::select(FUNCTIONS), body in ".{0,64}") {
        let _ = call(Catalog::builtin(), function, &body);
    }

    #[test]
    fn commute_with_hostile_numbers_never_panics(
        legs in prop::collection::vec(
            (prop::sample::select(vec!["metro", "bus", "bike", "electric_bus", "car", ""]), prop::option::of(decimal_text())),
            0..14,
        ),
        preset in prop::sample::select(vec!["wuhan-2024", "shanghai-2024", "shenzhen-2022", "lanzhou-interim", "x"]),
    ) {
        let legs: Vec<Value> = legs.into_iter().map(|(mode, d)| match d {
            Some(d) => json!({"mode": mode, "distance_km": d}),
            None => json!({"mode": mode}),
        }).collect();
        let _ = call(Catalog::builtin(), "estimateCommute", &json!({"preset": preset, "legs": legs}).to_string());
    }

    #[test]
    fn calculators_with_hostile_numbers_never_panic(v in prop::collection::vec(decimal_text(), 8)) {
        let c = Catalog::builtin();
        let _ = call(c, "estimateGridElectricity", &json!({"grid": "northwest-2022", "electricity_mwh": v[0]}).to_string());
        let _ = call(c, "estimateMethane", &json!({"gwp": "ar5", "ch4_t": v[1]}).to_string());
        let _ = call(c, "estimateForestSink", &json!({
            "area_ha": v[0], "volume_m3_per_ha_start": v[1], "volume_m3_per_ha_end": v[2], "wood_density": v[3],
            "bef": v[4], "root_shoot_ratio": v[5], "carbon_fraction": v[6], "buffer_fraction": v[7],
        }).to_string());
        let _ = call(c, "checkTrip", &json!({
            "mode": "bike", "distance_km": v[0], "started_at": "2024-05-01T08:00:00Z", "ended_at": "2024-05-01T08:00:00.001Z",
        }).to_string());
    }

    #[test]
    fn traces_with_hostile_points_never_panic(
        points in prop::collection::vec((-200.0f64..200.0, -400.0f64..400.0, 0i64..10_000_000_000), 0..30),
    ) {
        let trace: Vec<Value> = points.into_iter().map(|(lat, lon, ms)| {
            let t = chrono::DateTime::from_timestamp_millis(ms).unwrap().to_rfc3339();
            json!({"lat": lat, "lon": lon, "t": t})
        }).collect();
        let _ = call(Catalog::builtin(), "measureTrace", &json!({"trace": trace}).to_string());
    }
}

#[test]
fn extreme_but_valid_trip_times_do_not_overflow() {
    let out = call(
        Catalog::builtin(),
        "checkTrip",
        r#"{"mode":"walk","distance_km":"1","started_at":"0001-01-01T00:00:00Z","ended_at":"9999-12-31T23:59:59Z"}"#,
    )
    .unwrap();
    assert!(out.contains("too_slow"), "{out}");
}
