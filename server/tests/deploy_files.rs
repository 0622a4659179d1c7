//! The deployment files may only name configuration the server reads.

use std::path::Path;

use tanpuhui_server::config::{reference, FileSettings};

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn deploy_files_name_only_variables_the_server_reads() {
    let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy");
    let mut files = Vec::new();
    walk(&deploy, &mut files);
    let mut unknown = Vec::new();
    let mut seen = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let mut rest = text.as_str();
        while let Some(i) = rest.find("TANPUHUI_") {
            let name: String = rest[i..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            rest = &rest[i + name.len()..];
            // "TANPUHUI_*" in prose names the family, not a variable.
            if name.ends_with('_') {
                continue;
            }
            seen += 1;
            if !reference::env_vars().contains(&name) {
                unknown.push(format!("{}: {name}", file.display()));
            }
        }
    }
    assert!(seen > 5, "the deploy files name no variables at all?");
    assert!(
        unknown.is_empty(),
        "variables the server does not read:\n{}",
        unknown.join("\n")
    );
}

#[test]
fn example_configuration_parses_with_known_keys_only() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/tanpuhui.example.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let parsed: FileSettings = toml::from_str(&text).expect("example config parses");
    assert!(parsed.database_url.is_some() && parsed.listen.is_some());
}

/// The README's quick start begins with the server, as the issue asks.
#[test]
fn readme_quick_start_runs_the_server_first() {
    let readme = include_str!("../../README.md");
    let start = readme.find("## Quick start").expect("a quick start");
    let block = readme[start..]
        .split("```sh\n")
        .nth(1)
        .expect("a shell block");
    let commands: Vec<&str> = block.lines().take(2).collect();
    assert_eq!(
        commands,
        ["cargo run --release --bin tanpuhui", "scripts/test.sh"]
    );
}

/// The example configuration shows every setting (commented out where it
/// has no default, such as secrets).
#[test]
fn example_configuration_shows_every_setting() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/tanpuhui.example.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let shown = |key: &str| {
        text.lines().any(|l| {
            let l = l.trim_start_matches('#').trim_start();
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
    };
    let missing: Vec<String> = reference::SETTINGS
        .iter()
        .filter(|s| !shown(s.key))
        .map(|s| s.path())
        .collect();
    assert!(missing.is_empty(), "not in the example: {missing:?}");
}
