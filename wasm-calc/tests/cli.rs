//! The `carbon-calc` command line, as the README's quick start uses it.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_carbon-calc"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

const README_REQUEST: &str = r#"{"preset":"wuhan-2024","legs":[{"mode":"metro","distance_km":"7.35"},{"mode":"bus"},{"mode":"bike","distance_km":"1.2"}]}"#;

#[test]
fn readme_quick_start_prints_the_estimate() {
    let readme = include_str!("../../README.md");
    assert!(
        readme.contains(&format!("estimate-commute '{README_REQUEST}'")),
        "README command drifted"
    );
    let out = run(&["estimate-commute", README_REQUEST], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["credited_g"], "901");
    assert_eq!(v["reduction_g"], "900.7");
}

#[test]
fn reads_the_request_from_stdin_and_accepts_js_names() {
    let out = run(
        &["estimateMethane", "-"],
        Some(r#"{"ch4_t":"12.3","gwp":"ar5"}"#),
    );
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["reduction_t"], "344.4");
}

#[test]
fn calculation_errors_are_json_on_stderr_with_status_1() {
    let out = run(
        &[
            "estimate-commute",
            r#"{"legs":[{"mode":"car","distance_km":"1"}]}"#,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let v: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(v["error"]["code"], "unknown_mode");
    assert_eq!(v["error"]["field"], "legs[0].mode");
}

#[test]
fn usage_errors_have_status_2() {
    assert_eq!(run(&[], None).status.code(), Some(2));
    let out = run(&["estimate-everything", "{}"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown function"));
    assert!(run(&["--help"], None).status.success());
}

#[test]
fn batch_answers_each_call() {
    let calls = r#"[{"function":"estimateMethane","request":{"ch4_t":"1","gwp":"sar"}},
                    {"function":"estimateMethane","request":{"ch4_t":"1","gwp":"ar9"}}]"#;
    let out = run(&["batch"], Some(calls));
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["ok"]["reduction_t"], "21");
    assert_eq!(v[1]["error"]["field"], "gwp");
}

#[test]
fn loads_newer_methodologies_from_a_file() {
    let dir = std::env::temp_dir().join(format!("carbon-calc-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("gwp.json");
    std::fs::write(
        &file,
        r#"{"gwp_sets":[{"id":"ar6","version":1,"title":"IPCC AR6 (test table)","horizon_years":100,"ch4":"27.9","reliability":"unverified","source":"test"}]}"#,
    )
    .unwrap();
    let out = run(
        &[
            "--methodologies",
            file.to_str().unwrap(),
            "estimate-methane",
            r#"{"ch4_t":"1","gwp":"ar6"}"#,
        ],
        None,
    );
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["reduction_t"], "27.9");
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 added"));
}
