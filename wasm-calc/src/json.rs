//! The JSON face of the calculators: one function per exported calculator,
//! text in and text out. The WebAssembly exports, the CLI and (later) the REST
//! handlers all go through here, so every client sees identical behaviour.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{CalcError, CalcResult, ErrorCode, WHOLE_REQUEST};
use crate::methodology::Catalog;
use crate::{commute, forest, grid, insurance, merkle, methane, plausibility};

/// Largest request text accepted; a trace of the maximum length fits.
pub const MAX_REQUEST_BYTES: usize = 2 * 1024 * 1024;

/// Parses a request, naming the JSON path of whatever is wrong with it.
pub fn parse_request<T: DeserializeOwned>(text: &str) -> CalcResult<T> {
    if text.len() > MAX_REQUEST_BYTES {
        return Err(CalcError::new(
            ErrorCode::TooManyItems,
            WHOLE_REQUEST,
            format!("request larger than {MAX_REQUEST_BYTES} bytes"),
        ));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(CalcError::from_json)?;
    de.end().map_err(|e| {
        CalcError::new(
            ErrorCode::InvalidJson,
            WHOLE_REQUEST,
            format!(
                "trailing characters after the JSON value (column {})",
                e.column()
            ),
        )
    })?;
    Ok(value)
}

/// Whether JSON text starts as an object (empty text is left to the parser,
/// which reports it precisely).
pub(crate) fn is_object_text(text: &str) -> bool {
    matches!(text.trim_start().as_bytes().first(), None | Some(b'{'))
}

/// Like [`parse_request`] for requests that are objects. serde would also
/// accept a struct written as a JSON array of its fields; refuse that at the
/// top level so a wrong payload gets a plain answer.
pub fn parse_object<T: DeserializeOwned>(text: &str) -> CalcResult<T> {
    if !is_object_text(text) {
        return Err(CalcError::new(
            ErrorCode::InvalidValue,
            WHOLE_REQUEST,
            "expected a JSON object",
        ));
    }
    parse_request(text)
}

/// `measureTrace` takes `{"trace":[…]}` or the bare list of points; errors in
/// a bare list are reported at `trace[i]…` all the same.
fn trace_request(text: &str) -> CalcResult<plausibility::TraceRequest> {
    if !text.trim_start().starts_with('[') {
        return parse_object(text);
    }
    let trace = parse_request(text).map_err(|mut e| {
        if e.field.starts_with('[') {
            e.field.insert_str(0, "trace");
        } else if e.field == WHOLE_REQUEST {
            e.field = "trace".into();
        }
        e
    })?;
    Ok(plausibility::TraceRequest {
        preset: None,
        trace,
    })
}

fn to_json<T: Serialize>(value: &T) -> String {
    // Our response types contain only strings, integers, bools, lists and
    // maps with string keys, which always serialise.
    serde_json::to_string(value).expect("response types serialise")
}

/// The calculator functions by their exported (JavaScript) names.
pub const FUNCTIONS: &[&str] = &[
    "estimateCommute",
    "estimateGridElectricity",
    "estimateMethane",
    "estimateForestSink",
    "estimateSinkInsurance",
    "estimatePriceInsurance",
    "checkTrip",
    "checkCommute",
    "measureTrace",
    "listPresets",
    "merkleLeafHash",
    "verifyInclusion",
    "verifyConsistency",
    "verifyTreeHead",
];

/// Runs the named calculator on a JSON request and returns the JSON response.
pub fn call(catalog: &Catalog, function: &str, request: &str) -> CalcResult<String> {
    match function {
        "estimateCommute" => Ok(to_json(&commute::estimate(
            catalog,
            &parse_object(request)?,
        )?)),
        "estimateGridElectricity" => {
            Ok(to_json(&grid::estimate(catalog, &parse_object(request)?)?))
        }
        "estimateMethane" => Ok(to_json(&methane::estimate(
            catalog,
            &parse_object(request)?,
        )?)),
        "estimateForestSink" => Ok(to_json(&forest::estimate(
            catalog,
            &parse_object(request)?,
        )?)),
        "estimateSinkInsurance" => Ok(to_json(&insurance::estimate_sink(&parse_object(request)?)?)),
        "estimatePriceInsurance" => Ok(to_json(&insurance::estimate_price(&parse_object(
            request,
        )?)?)),
        "checkTrip" => Ok(to_json(&plausibility::check_trip(
            catalog,
            &parse_object(request)?,
        )?)),
        "checkCommute" => Ok(to_json(&plausibility::check_commute(
            catalog,
            &parse_object(request)?,
        )?)),
        "measureTrace" => Ok(to_json(&plausibility::measure_trace(
            catalog,
            &trace_request(request)?,
        )?)),
        "listPresets" => Ok(to_json(&catalog.document())),
        "merkleLeafHash" => {
            let data: String = parse_request(request)?;
            Ok(to_json(&merkle::api::leaf_hash_hex(&data)?))
        }
        "verifyInclusion" => Ok(to_json(&merkle::api::verify_inclusion(&parse_object(
            request,
        )?)?)),
        "verifyConsistency" => Ok(to_json(&merkle::api::verify_consistency(&parse_object(
            request,
        )?)?)),
        "verifyTreeHead" => Ok(to_json(&merkle::api::verify_tree_head(&parse_object(
            request,
        )?)?)),
        other => Err(CalcError::new(
            ErrorCode::InvalidValue,
            "function",
            format!(
                "unknown function \"{other}\" (known: {})",
                FUNCTIONS.join(", ")
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(function: &str, request: &str) -> CalcError {
        call(Catalog::builtin(), function, request).unwrap_err()
    }

    #[test]
    fn parse_errors_name_the_field() {
        let e = err(
            "estimateCommute",
            r#"{"preset":"wuhan-2024","legs":[{"mode":"metro","distance_km":7.35}]}"#,
        );
        assert_eq!(
            (e.code, e.field.as_str()),
            (ErrorCode::InvalidValue, "legs[0].distance_km")
        );
        assert!(e.message.contains("quote it"), "{}", e.message);
        assert!(
            !e.message.contains("line"),
            "position leaked: {}",
            e.message
        );

        let e = err("estimateCommute", r#"{"legs":[{"distance_km":"1"}]}"#);
        assert_eq!(
            (e.code, e.field.as_str()),
            (ErrorCode::MissingField, "legs[0].mode")
        );

        let e = err("estimateCommute", r#"{"legs":[],"presett":"x"}"#);
        assert_eq!(
            (e.code, e.field.as_str()),
            (ErrorCode::UnknownField, "presett")
        );

        let e = err("estimateCommute", r#"{"legs":[}"#);
        assert_eq!(
            (e.code, e.field.as_str()),
            (ErrorCode::InvalidJson, "request")
        );

        let e = err("estimateCommute", r#"{"legs":[]} x"#);
        assert_eq!(e.code, ErrorCode::InvalidJson);

        let e = err("estimateCommute", "[1]");
        assert_eq!(
            (e.code, e.field.as_str()),
            (ErrorCode::InvalidValue, "request")
        );
    }

    #[test]
    fn a_bare_trace_is_accepted_and_errors_keep_their_path() {
        let points = r#"[{"lat":0,"lon":0,"t":"2024-05-01T08:00:00Z"},{"lat":0,"lon":1,"t":"2024-05-01T09:00:00Z"}]"#;
        let bare = call(Catalog::builtin(), "measureTrace", points).unwrap();
        let wrapped = call(
            Catalog::builtin(),
            "measureTrace",
            &format!(r#"{{"trace":{points}}}"#),
        )
        .unwrap();
        assert_eq!(bare, wrapped);
        let e = err(
            "measureTrace",
            r#"[{"lat":0,"lon":0,"t":"x"},{"lat":"n","lon":0,"t":"x"}]"#,
        );
        assert_eq!(
            (e.code, e.field.as_str()),
            (ErrorCode::InvalidValue, "trace[1].lat")
        );
        let e = err("measureTrace", r#"[{"lat":0,"lon":0}]"#);
        assert_eq!(
            (e.code, e.field.as_str()),
            (ErrorCode::MissingField, "trace[0].t")
        );
    }

    #[test]
    fn unknown_function_is_an_error() {
        assert_eq!(err("estimateEverything", "{}").field, "function");
    }

    #[test]
    fn oversized_requests_are_refused_before_parsing() {
        let big = format!("\"{}\"", "0".repeat(MAX_REQUEST_BYTES));
        assert_eq!(err("merkleLeafHash", &big).code, ErrorCode::TooManyItems);
    }
}
