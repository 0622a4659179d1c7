//! WebAssembly exports. Each takes a plain JS object, runs the same JSON
//! function as the native build ([`crate::json::call`]) and returns a plain
//! JS object; going through JSON text is what makes WASM and native outputs
//! identical. Errors are thrown as `Error` with `code` and `field` set.

use std::cell::RefCell;

use js_sys::{Error as JsError, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::error::{CalcError, ErrorCode, WHOLE_REQUEST};
use crate::json;
use crate::methodology::Catalog;

thread_local! {
    static CATALOG: RefCell<Catalog> = RefCell::new(Catalog::builtin().clone());
}

fn throw(err: &CalcError) -> JsValue {
    let e = JsError::new(&err.to_string());
    // Setting a property on a fresh Error object cannot fail.
    let _ = Reflect::set(&e, &"code".into(), &err.code.as_str().into());
    let _ = Reflect::set(&e, &"field".into(), &err.field.as_str().into());
    e.into()
}

fn request_text(request: &JsValue) -> Result<String, JsValue> {
    let bad = || {
        throw(&CalcError::new(
            ErrorCode::InvalidValue,
            WHOLE_REQUEST,
            "expected a plain object (or string) that JSON.stringify can encode",
        ))
    };
    match JSON::stringify(request) {
        Ok(text) => text.as_string().ok_or_else(bad),
        Err(_) => Err(bad()),
    }
}

fn run(function: &str, request: &JsValue) -> Result<JsValue, JsValue> {
    let text = request_text(request)?;
    let out = CATALOG
        .with(|c| json::call(&c.borrow(), function, &text))
        .map_err(|e| throw(&e))?;
    JSON::parse(&out)
}

macro_rules! export {
    ($rust:ident, $js:literal, $req:ident, $resp:ident) => {
        #[wasm_bindgen(js_name = $js)]
        pub fn $rust(request: $req) -> Result<$resp, JsValue> {
            run($js, &request).map(|v| v.unchecked_into())
        }
    };
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "CommuteRequest")]
    pub type CommuteRequest;
    #[wasm_bindgen(typescript_type = "CommuteEstimate")]
    pub type CommuteEstimate;
    #[wasm_bindgen(typescript_type = "GridRequest")]
    pub type GridRequest;
    #[wasm_bindgen(typescript_type = "GridEstimate")]
    pub type GridEstimate;
    #[wasm_bindgen(typescript_type = "MethaneRequest")]
    pub type MethaneRequest;
    #[wasm_bindgen(typescript_type = "MethaneEstimate")]
    pub type MethaneEstimate;
    #[wasm_bindgen(typescript_type = "ForestRequest")]
    pub type ForestRequest;
    #[wasm_bindgen(typescript_type = "ForestEstimate")]
    pub type ForestEstimate;
    #[wasm_bindgen(typescript_type = "SinkInsuranceRequest")]
    pub type SinkInsuranceRequest;
    #[wasm_bindgen(typescript_type = "SinkInsuranceEstimate")]
    pub type SinkInsuranceEstimate;
    #[wasm_bindgen(typescript_type = "PriceInsuranceRequest")]
    pub type PriceInsuranceRequest;
    #[wasm_bindgen(typescript_type = "PriceInsuranceEstimate")]
    pub type PriceInsuranceEstimate;
    #[wasm_bindgen(typescript_type = "TripCheckRequest")]
    pub type TripCheckRequest;
    #[wasm_bindgen(typescript_type = "TripCheck")]
    pub type TripCheck;
    #[wasm_bindgen(typescript_type = "CommuteCheckRequest")]
    pub type CommuteCheckRequest;
    #[wasm_bindgen(typescript_type = "CommuteCheck")]
    pub type CommuteCheck;
    #[wasm_bindgen(typescript_type = "TraceRequest | TracePoint[]")]
    pub type TraceRequest;
    #[wasm_bindgen(typescript_type = "TraceMeasure")]
    pub type TraceMeasure;
    #[wasm_bindgen(typescript_type = "Methodologies")]
    pub type Methodologies;
    #[wasm_bindgen(typescript_type = "LoadReport")]
    pub type LoadReport;
    #[wasm_bindgen(typescript_type = "InclusionRequest")]
    pub type InclusionRequest;
    #[wasm_bindgen(typescript_type = "ConsistencyRequest")]
    pub type ConsistencyRequest;
    #[wasm_bindgen(typescript_type = "TreeHeadRequest")]
    pub type TreeHeadRequest;
}

export!(
    estimate_commute,
    "estimateCommute",
    CommuteRequest,
    CommuteEstimate
);
export!(
    estimate_grid_electricity,
    "estimateGridElectricity",
    GridRequest,
    GridEstimate
);
export!(
    estimate_methane,
    "estimateMethane",
    MethaneRequest,
    MethaneEstimate
);
export!(
    estimate_forest_sink,
    "estimateForestSink",
    ForestRequest,
    ForestEstimate
);
export!(
    estimate_sink_insurance,
    "estimateSinkInsurance",
    SinkInsuranceRequest,
    SinkInsuranceEstimate
);
export!(
    estimate_price_insurance,
    "estimatePriceInsurance",
    PriceInsuranceRequest,
    PriceInsuranceEstimate
);
export!(check_trip, "checkTrip", TripCheckRequest, TripCheck);
export!(
    check_commute,
    "checkCommute",
    CommuteCheckRequest,
    CommuteCheck
);
export!(measure_trace, "measureTrace", TraceRequest, TraceMeasure);

/// Every methodology table this module holds (built-in plus loaded), in the
/// shape `loadMethodologies` accepts.
#[wasm_bindgen(js_name = "listPresets")]
pub fn list_presets() -> Result<Methodologies, JsValue> {
    run("listPresets", &JsValue::NULL).map(|v| v.unchecked_into())
}

/// Loads newer methodology tables (e.g. the server's `/methodologies`
/// response) for the estimates that follow. All or nothing.
#[wasm_bindgen(js_name = "loadMethodologies")]
pub fn load_methodologies(tables: Methodologies) -> Result<LoadReport, JsValue> {
    let text = request_text(&tables)?;
    let report = CATALOG
        .with(|c| c.borrow_mut().load_json(&text))
        .map_err(|e| throw(&e))?;
    let out = serde_json::to_string(&report).expect("report serialises");
    JSON::parse(&out).map(|v| v.unchecked_into())
}

/// RFC 9162 leaf hash of hex-encoded data, as lowercase hex.
#[wasm_bindgen(js_name = "merkleLeafHash")]
pub fn merkle_leaf_hash(data_hex: &str) -> Result<String, JsValue> {
    crate::merkle::api::leaf_hash_hex(data_hex).map_err(|e| throw(&e))
}

fn run_bool(function: &str, request: &JsValue) -> Result<bool, JsValue> {
    run(function, request).map(|v| v.as_bool() == Some(true))
}

#[wasm_bindgen(js_name = "verifyInclusion")]
pub fn verify_inclusion(request: InclusionRequest) -> Result<bool, JsValue> {
    run_bool("verifyInclusion", &request)
}

#[wasm_bindgen(js_name = "verifyConsistency")]
pub fn verify_consistency(request: ConsistencyRequest) -> Result<bool, JsValue> {
    run_bool("verifyConsistency", &request)
}

#[wasm_bindgen(js_name = "verifyTreeHead")]
pub fn verify_tree_head(request: TreeHeadRequest) -> Result<bool, JsValue> {
    run_bool("verifyTreeHead", &request)
}

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = include_str!("../types.d.ts");
