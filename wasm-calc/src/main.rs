//! `carbon-calc`: the calculators on the command line, with the JSON of the
//! REST API and the WebAssembly package.
//!
//! ```text
//! carbon-calc estimate-commute '{"preset":"wuhan-2024","legs":[{"mode":"bus"}]}'
//! carbon-calc list-presets
//! echo '{...}' | carbon-calc check-trip -
//! carbon-calc batch < calls.json        # [{"function":…,"request":…},…]
//! carbon-calc --methodologies newer.json estimate-commute '…'
//! ```

use std::io::Read;
use std::process::ExitCode;

use carbon_calc::json::{self, FUNCTIONS};
use carbon_calc::{CalcError, Catalog};
use serde::{Deserialize, Serialize};

const USAGE: &str = "usage: carbon-calc [--methodologies FILE] <function> [JSON | -]
       carbon-calc [--methodologies FILE] batch < calls.json

functions (kebab-case or the JavaScript name):
  estimate-commute, estimate-grid-electricity, estimate-methane,
  estimate-forest-sink, check-trip, check-commute, measure-trace, list-presets,
  merkle-leaf-hash, verify-inclusion, verify-consistency, verify-tree-head

The request is JSON as in the REST API (decimals as strings); `-` or no
argument reads it from standard input. The response is printed as JSON; an
error is printed to standard error as {\"error\":{code,field,message}} with
exit status 1.";

/// `estimate-commute` → `estimateCommute`.
fn js_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '-' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Call {
    function: String,
    request: serde_json::Value,
}

#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum Outcome {
    Ok(serde_json::Value),
    Error(CalcError),
}

fn outcome(catalog: &Catalog, function: &str, request: &str) -> Outcome {
    match json::call(catalog, function, request) {
        Ok(text) => Outcome::Ok(serde_json::from_str(&text).expect("calculators emit JSON")),
        Err(e) => Outcome::Error(e),
    }
}

fn read_stdin() -> Result<String, String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read standard input: {e}"))?;
    Ok(text)
}

fn run(args: &[String]) -> Result<ExitCode, String> {
    let mut catalog = Catalog::builtin().clone();
    let mut rest = args;
    if rest.first().map(String::as_str) == Some("--methodologies") {
        let path = rest.get(1).ok_or("--methodologies needs a file")?;
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        let report = catalog
            .load_json(&text)
            .map_err(|e| format!("{path}: {e}"))?;
        eprintln!(
            "loaded {path}: {} added, {} replaced, {} unchanged, {} older ignored",
            report.added.len(),
            report.replaced.len(),
            report.unchanged.len(),
            report.ignored_older.len()
        );
        rest = &rest[2..];
    }
    let Some(command) = rest.first() else {
        return Err(USAGE.to_string());
    };
    if command == "-h" || command == "--help" {
        println!("{USAGE}");
        return Ok(ExitCode::SUCCESS);
    }
    if command == "batch" {
        let calls: Vec<Call> = serde_json::from_str(&read_stdin()?)
            .map_err(|e| format!("batch input must be [{{\"function\",\"request\"}},…]: {e}"))?;
        let results: Vec<Outcome> = calls
            .iter()
            .map(|c| outcome(&catalog, &c.function, &c.request.to_string()))
            .collect();
        println!(
            "{}",
            serde_json::to_string(&results).expect("outcomes serialise")
        );
        return Ok(ExitCode::SUCCESS);
    }
    let function = js_name(command);
    if !FUNCTIONS.contains(&function.as_str()) {
        return Err(format!("unknown function \"{command}\"\n\n{USAGE}"));
    }
    let request = match rest.get(1).map(String::as_str) {
        Some("-") => read_stdin()?,
        Some(text) => text.to_string(),
        None if function == "listPresets" => "null".to_string(),
        None => read_stdin()?,
    };
    match outcome(&catalog, &function, &request) {
        Outcome::Ok(value) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&value).expect("JSON value")
            );
            Ok(ExitCode::SUCCESS)
        }
        err @ Outcome::Error(_) => {
            eprintln!("{}", serde_json::to_string(&err).expect("error serialises"));
            Ok(ExitCode::FAILURE)
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}
