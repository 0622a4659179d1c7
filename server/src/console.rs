//! The web console and public explorer (`console/` at the repository's
//! top): plain ES modules and vendored libraries compiled into the binary,
//! served under `/console/`. It is a client of the documented `/api/v1`
//! only; nothing here knows a domain.
//!
//! Files have no content hash in their names (there is no build step), so
//! every response carries `cache-control: no-cache` with a strong ETag: a
//! browser keeps its copy and revalidates it with one short request, and a
//! new binary's files are never shadowed by stale ones.

use std::collections::HashMap;
use std::sync::OnceLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use include_dir::{include_dir, Dir};
use sha2::{Digest, Sha256};

static FILES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../console");

/// No inline script or style, nothing from another host; WebAssembly may
/// be compiled (the certificate check and calculators run carbon-calc).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: blob:; \
connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'";

/// Paths under `console/` that are sources of the checks, not served.
fn served(path: &str) -> bool {
    !(path.ends_with(".d.ts")
        || path.ends_with("tsconfig.json")
        || path == "package.json"
        || path == "wasm/SOURCE"
        || path.ends_with(".gitignore"))
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The ETag of every served file, computed once.
fn etags() -> &'static HashMap<&'static str, String> {
    static TAGS: OnceLock<HashMap<&'static str, String>> = OnceLock::new();
    TAGS.get_or_init(|| {
        let mut tags = HashMap::new();
        let mut dirs = vec![&FILES];
        while let Some(dir) = dirs.pop() {
            for entry in dir.entries() {
                if let Some(d) = entry.as_dir() {
                    dirs.push(d);
                } else if let Some(f) = entry.as_file() {
                    if let Some(path) = f.path().to_str().filter(|p| served(p)) {
                        let digest = Sha256::digest(f.contents());
                        tags.insert(path, format!("\"{}\"", hex::encode(&digest[..16])));
                    }
                }
            }
        }
        tags
    })
}

/// The headers every console response carries, found or not.
fn guarded(mut builder: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    builder
        .insert_header(("content-security-policy", CONTENT_SECURITY_POLICY))
        .insert_header(("x-content-type-options", "nosniff"))
        .insert_header(("referrer-policy", "no-referrer"))
        .insert_header(("cross-origin-opener-policy", "same-origin"))
        .insert_header((header::CACHE_CONTROL, "no-cache"));
    builder
}

/// `GET /` and `GET /console` → the console.
pub async fn to_console() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/console/"))
        .finish()
}

/// `GET /explorer` → the console's public explorer (no sign-in).
pub async fn to_explorer() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/console/#/explorer"))
        .finish()
}

/// `GET /console/{file}`: a console file, or 404.
pub async fn file(req: HttpRequest, file: web::Path<String>) -> HttpResponse {
    let name = match file.as_str() {
        "" => "index.html",
        other => other,
    };
    let (Some(found), Some(tag)) = (
        FILES.get_file(name).filter(|_| served(name)),
        etags().get(name),
    ) else {
        return guarded(HttpResponse::NotFound())
            .content_type("text/plain; charset=utf-8")
            .body("not found");
    };
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let etag = HeaderValue::from_str(tag).expect("a hex ETag is a header value");
    if fresh {
        return guarded(HttpResponse::NotModified())
            .insert_header((header::ETAG, etag))
            .finish();
    }
    guarded(HttpResponse::Ok())
        .content_type(content_type(name))
        .insert_header((header::ETAG, etag))
        .body(found.contents())
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(to_console))
        .route("/console", web::get().to(to_console))
        .route("/explorer", web::get().to(to_explorer))
        .route("/explorer/", web::get().to(to_explorer))
        .service(
            web::resource("/console/{file:.*}")
                .wrap(actix_web::middleware::Compress::default())
                .route(web::get().to(file))
                .route(web::head().to(file)),
        );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_file_has_a_type_and_a_tag() {
        let tags = etags();
        assert!(
            tags.contains_key("index.html"),
            "console/index.html embedded"
        );
        for path in tags.keys() {
            assert_ne!(
                content_type(path),
                "application/octet-stream",
                "{path}: no content type"
            );
        }
        assert!(!tags.keys().any(|p| p.ends_with(".d.ts")));
    }
}
