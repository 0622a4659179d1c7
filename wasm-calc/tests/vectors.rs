//! The shared vectors of `vectors.json` (REFERENCE.md's published figures,
//! the examples, error cases) run natively. The Node tests run the
//! same file through WebAssembly and compare with the native CLI's output.

use carbon_calc::json::call;
use carbon_calc::Catalog;
use serde_json::Value;

#[test]
fn shared_vectors_hold_natively() {
    let vectors: Vec<Value> = serde_json::from_str(include_str!("vectors.json")).unwrap();
    assert!(vectors.len() > 50);
    let mut failures = Vec::new();
    for v in &vectors {
        let name = v["name"].as_str().unwrap();
        let function = v["function"].as_str().unwrap();
        let result = call(Catalog::builtin(), function, &v["request"].to_string());
        match (result, v.get("error")) {
            (Err(e), Some(want)) => {
                if want["code"] != e.code.as_str() || want["field"] != e.field.as_str() {
                    failures.push(format!(
                        "{name}: got error {} {} ({})",
                        e.code.as_str(),
                        e.field,
                        e.message
                    ));
                }
            }
            (Err(e), None) => failures.push(format!("{name}: unexpected error {e}")),
            (Ok(out), Some(_)) => failures.push(format!("{name}: expected an error, got {out}")),
            (Ok(out), None) => {
                let out: Value = serde_json::from_str(&out).unwrap();
                if let Some(want) = v.get("expect_value") {
                    if &out != want {
                        failures.push(format!("{name}: got {out}, want {want}"));
                    }
                } else {
                    for (key, want) in v["expect"].as_object().unwrap() {
                        if &out[key] != want {
                            failures.push(format!("{name}: {key} = {}, want {want}", out[key]));
                        }
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
