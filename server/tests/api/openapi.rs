use serde_json::Value;

use crate::helpers::{any_backend, spawn_app};

const COMMITTED: &str = include_str!("../../../mobile-api-spec/openapi.json");

#[test]
fn committed_spec_matches_the_code() {
    let generated = tanpuhui_server::api_doc::spec_json();
    assert!(
        generated == COMMITTED,
        "mobile-api-spec/openapi.json is out of date; regenerate it with\n  \
         cargo run -q --bin tanpuhui -- openapi > mobile-api-spec/openapi.json"
    );
}

#[tokio::test]
async fn every_documented_path_is_served_and_the_spec_is_published() {
    let app = spawn_app(any_backend()).await;
    let spec: Value = serde_json::from_str(COMMITTED).unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    let paths = spec["paths"].as_object().unwrap();
    assert!(!paths.is_empty());
    for (path, item) in paths {
        if item.get("get").is_some() && !path.contains('{') {
            let status = app.get(path).await.status();
            assert_ne!(status, 404, "documented GET {path} is not served");
        }
    }
    let served: Value = app.get("/openapi.json").await.json().await.unwrap();
    assert_eq!(served, spec);
}

#[tokio::test]
async fn swagger_ui_is_served_from_vendored_files() {
    let app = spawn_app(any_backend()).await;
    let page = app.get("/docs/").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("swagger-ui-bundle.js") && !html.contains("http"),
        "{html}"
    );
    let bundle = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status(), 200);
    assert_eq!(bundle.headers()["content-type"], "text/javascript");
    let redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/docs", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), 308);
    assert_eq!(app.get("/docs/../../etc/passwd").await.status(), 404);
}

/// The console is served from the binary, under its policy, and nothing
/// outside console/ (nor its type declarations) can be read through it.
#[tokio::test]
async fn the_console_is_served_from_embedded_files() {
    let app = spawn_app(any_backend()).await;
    let page = app.get("/console/").await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"src="./app/main.js""#) && !html.contains("<script>"),
        "{html}"
    );
    assert_eq!(app.get("/console/app/main.js").await.status(), 200);
    for hidden in [
        "/console/../Cargo.toml",
        "/console/../../etc/passwd",
        "/console/tsconfig.json",
        "/console/package.json",
        "/console/wasm/carbon_calc.d.ts",
    ] {
        assert_eq!(app.get(hidden).await.status(), 404, "{hidden}");
    }
}

/// Every type the spec documents under its own name has a name no other
/// documented type has: two `ToSchema` types called `Status` would share
/// one component schema, and the spec would describe one of them wrongly.
#[test]
fn documented_types_have_distinct_names() {
    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    rust_files(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut seen: std::collections::BTreeMap<String, String> = Default::default();
    let mut clashes = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut documented = false;
        let mut renamed = false;
        for line in text.lines().map(str::trim) {
            if line.starts_with("#[derive") || (documented && line.starts_with("Debug")) {
                documented |= line.contains("ToSchema");
            }
            if documented && line.starts_with("#[derive(") && !line.contains(')') {
                continue;
            }
            if line.contains("ToSchema") && !line.starts_with("use ") {
                documented = true;
            }
            renamed |= documented && line.starts_with("#[schema(as");
            let name = line
                .strip_prefix("pub struct ")
                .or_else(|| line.strip_prefix("pub enum "))
                .and_then(|rest| {
                    rest.split(|c: char| !c.is_alphanumeric() && c != '_')
                        .next()
                });
            if let Some(name) = name {
                if documented && !renamed {
                    let place = format!("{}", file.display());
                    if let Some(first) = seen.insert(name.to_string(), place.clone()) {
                        clashes.push(format!("{name}: {first} and {place}"));
                    }
                }
                documented = false;
                renamed = false;
            }
        }
    }
    assert!(
        seen.contains_key("InstrumentView"),
        "the scan found the documented types"
    );
    assert!(
        clashes.is_empty(),
        "documented types share a name: {clashes:#?}"
    );
}

/// Generated clients name a method after each operation: two operations
/// with one id (two handlers of one name in different modules) would
/// break them.
#[test]
fn operation_ids_are_unique() {
    let spec: Value = serde_json::from_str(COMMITTED).unwrap();
    let mut seen = std::collections::BTreeMap::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if let Some(id) = op.get("operationId").and_then(Value::as_str) {
                if let Some(first) = seen.insert(id.to_string(), format!("{method} {path}")) {
                    panic!("operationId {id} names {first} and {method} {path}");
                }
            }
        }
    }
}
