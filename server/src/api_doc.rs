//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]`
//! annotations, and the vendored Swagger UI at `/docs`.
//!
//! Routes are registered in [`configure`] only: the running app and the spec
//! come from the same registration, so they cannot disagree. The committed
//! `mobile-api-spec/openapi.json` is checked against [`spec_json`] by a test.

use actix_web::{get, web, App, HttpResponse};
use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::AppExt;

use crate::{accounts, audit, auth, estimates, health, orgs, partners, registry, rewards, trips};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tanpuhui API",
        description = "Carbon-inclusion accounts, low-carbon trips, registry and audit log. \
                       Errors are RFC 9457 problem documents with a stable `code`."
    ),
    tags(
        (name = "operations", description = "Health and readiness for operators and load balancers"),
        (name = "auth", description = "Registration, sign-in and the signed-in user"),
        (name = "organizations", description = "Departments, enterprises and institutions; applications, memberships and staff roles"),
        (name = "accounts", description = "Carbon accounts: balances and ledger entries"),
        (name = "trips", description = "Low-carbon trips: logging (single and offline batches), the caller's history"),
        (name = "rewards", description = "The rewards catalogue and redeeming points"),
        (name = "partners", description = "Trip feeds of transit operators and bike-share schemes: partner keys, persons' linked cards, the signed feed"),
        (name = "reviews", description = "Trips sent to review, decided by the service centre's verifiers"),
        (name = "registry", description = "Enterprise projects and forest sinks: public notice, monitoring reports and verification, issuance with serial numbers, transfers, retirements and certificates"),
        (name = "public", description = "Public disclosure (no sign-in): projects, batches, retirements, statistics; JSON or CSV"),
        (name = "audit", description = "The public Merkle audit log (RFC 9162): signed tree heads, inclusion and consistency proofs, entries (no sign-in needed)"),
        (name = "estimates", description = "The carbon calculator and the methodology tables it applies (no sign-in needed)")
    ),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

/// Declares the `bearer` security scheme the protected routes name.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// JSON bodies of up to `limit` bytes, errors as problem documents.
pub fn json_config(limit: usize) -> actix_web::web::JsonConfig {
    actix_web::web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req| crate::error::json_error(err).into())
}

/// Every documented route of the API.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(auth::routes::register)
        .service(auth::routes::login)
        .service(auth::routes::refresh_tokens)
        .service(auth::routes::logout)
        .service(auth::routes::me)
        .service(orgs::routes::create_organization)
        .service(orgs::routes::list_organizations)
        .service(orgs::routes::get_organization)
        .service(orgs::routes::approve_organization)
        .service(orgs::routes::reject_organization)
        .service(orgs::routes::request_membership)
        .service(orgs::routes::list_memberships)
        .service(orgs::routes::decide_membership)
        .service(orgs::routes::grant_role)
        .service(accounts::routes::get_account)
        .service(accounts::routes::get_balances)
        .service(accounts::routes::get_entries)
        .service(registry::routes::create_project)
        .service(registry::routes::list_projects)
        .service(registry::routes::get_project)
        .service(registry::routes::update_project)
        .service(registry::routes::submit_project)
        .service(registry::routes::file_objection)
        .service(registry::routes::list_objections)
        .service(registry::routes::decide_project)
        .service(registry::routes::submit_report)
        .service(registry::routes::list_reports)
        .service(registry::routes::record_reversal)
        .service(registry::routes::get_report)
        .service(registry::routes::verify_report)
        .service(registry::routes::issue_report)
        .service(registry::routes::get_batch)
        .service(registry::routes::aggregate)
        .service(registry::routes::create_claim)
        .service(registry::routes::attach_retirement)
        .service(registry::routes::get_claim)
        .service(registry::routes::transfer)
        .service(registry::routes::retire)
        .service(registry::routes::get_certificate)
        .service(registry::disclosure::public_projects)
        .service(registry::disclosure::public_batches)
        .service(registry::disclosure::public_retirements)
        .service(registry::disclosure::public_retirement)
        .service(registry::disclosure::public_statistics)
        .service(audit::routes::public_key)
        .service(audit::routes::get_tree_head)
        .service(audit::routes::inclusion_proof)
        .service(audit::routes::consistency_proof)
        .service(audit::routes::entries)
        .service(estimates::estimate_commute)
        .service(estimates::list_methodologies)
        .service(estimates::get_methodology)
        .service(trips::routes::my_summary)
        .service(trips::routes::leaderboards)
        .service(trips::routes::rebuild_leaderboard)
        .service(trips::routes::set_privacy)
        .service(trips::routes::organization_summary)
        .service(rewards::routes::create_reward)
        .service(rewards::routes::update_reward)
        .service(rewards::routes::list_rewards)
        .service(rewards::routes::redeem)
        .service(rewards::routes::list_redemptions)
        .service(rewards::routes::my_points)
        .service(trips::routes::pending_reviews)
        .service(trips::routes::review_trip)
        .service(trips::routes::decide_review)
        .service(partners::routes::issue_key)
        .service(partners::routes::list_keys)
        .service(partners::routes::revoke_key)
        .service(partners::routes::link_card)
        .service(partners::routes::list_cards)
        .service(partners::routes::unlink_card)
        .service(
            utoipa_actix_web::scope("/api/v1/partner/trips").service(partners::routes::push_trips),
        )
        .service(
            utoipa_actix_web::scope("/api/v1/trips")
                .app_data(json_config(trips::routes::TRIP_BODY_BYTES))
                .service(
                    utoipa_actix_web::scope("/batch")
                        .app_data(json_config(trips::routes::BATCH_BODY_BYTES))
                        .service(trips::routes::log_batch),
                )
                .service(trips::routes::log_trip)
                .service(trips::routes::list_trips)
                .service(trips::routes::get_trip),
        );
}

/// The OpenAPI document of [`configure`]'s routes.
pub fn spec() -> utoipa::openapi::OpenApi {
    let (_, mut api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(configure)
        .split_for_parts();
    add_common_responses(&mut api);
    describe_responses(&mut api);
    query_values(&mut api);
    tidy_components(&mut api);
    api
}

/// Schemas as generated clients need them: a page's items refer to the
/// item's own schema (one name per type, not a copy inside each page), and
/// every `*_at` string is an RFC 3339 `date-time`.
fn tidy_components(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::{
        ArrayItems, KnownFormat, Schema, SchemaFormat, SchemaType, Type,
    };
    use utoipa::openapi::{Ref, RefOr};
    let Some(components) = api.components.as_mut() else {
        return;
    };
    let names: std::collections::BTreeSet<String> = components.schemas.keys().cloned().collect();
    let is_string = |t: &SchemaType| match t {
        SchemaType::Type(Type::String) => true,
        SchemaType::Array(types) => types.contains(&Type::String),
        _ => false,
    };
    // Strings with fixed values that are not Rust enums in the views.
    let fixed: &[(&str, &str, &[&str])] = &[
        (
            "ProjectView",
            "status",
            crate::registry::projects::status::ALL,
        ),
        (
            "ReportView",
            "status",
            crate::registry::reports::status::ALL,
        ),
        ("BatchView", "kind", &["project", "personal"]),
        ("TripView", "source", &["self_declared", "gps", "partner"]),
        ("ReviewView", "decision", &["approved", "rejected"]),
    ];
    for (name, schema) in components.schemas.iter_mut() {
        let RefOr::T(Schema::Object(object)) = schema else {
            continue;
        };
        for (_, property, values) in fixed.iter().filter(|(n, _, _)| n == name) {
            if let Some(RefOr::T(Schema::Object(p))) = object.properties.get_mut(*property) {
                p.enum_values = Some(values.iter().map(|v| serde_json::json!(v)).collect());
            }
        }
        if let Some(item) = name.strip_prefix("Page_").filter(|i| names.contains(*i)) {
            if let Some(RefOr::T(Schema::Array(array))) = object.properties.get_mut("data") {
                array.items =
                    ArrayItems::RefOrSchema(Box::new(RefOr::Ref(Ref::from_schema_name(item))));
            }
        }
        for (property, value) in object.properties.iter_mut() {
            if let RefOr::T(Schema::Object(p)) = value {
                if property.ends_with("_at") && p.format.is_none() && is_string(&p.schema_type) {
                    p.format = Some(SchemaFormat::KnownFormat(KnownFormat::DateTime));
                }
            }
        }
    }
}

/// What every answer carries, said once for all operations: problem
/// documents are the `Problem` schema; every response has `x-request-id`;
/// 429s and 503s have `Retry-After`; successful answers of idempotent
/// POSTs may have `Idempotent-Replayed`.
fn describe_responses(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{header::HeaderBuilder, schema::Type, ObjectBuilder, Ref, RefOr};
    let header = |kind: Type, text: &str| {
        RefOr::T(
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(kind)))
                .description(Some(text))
                .build(),
        )
    };
    each_operation(api, |path, method, op| {
        let replayable = crate::idempotency::covers(method, path);
        for (status, response) in op.responses.responses.iter_mut() {
            let RefOr::T(response) = response else {
                continue;
            };
            if let Some(RefOr::T(content)) = response.content.get_mut("application/problem+json") {
                content.schema = Some(RefOr::Ref(Ref::from_schema_name("Problem")));
            }
            response.headers.insert(
                "x-request-id".into(),
                header(Type::String, "Quote it when reporting a problem"),
            );
            if status == "429" || status == "503" {
                response.headers.insert(
                    "Retry-After".into(),
                    header(Type::Integer, "Seconds to wait before trying again"),
                );
            }
            if replayable && status.starts_with('2') {
                response.headers.insert(
                        "Idempotent-Replayed".into(),
                        header(
                            Type::String,
                            "`true` when this is the stored answer of an earlier request with the same Idempotency-Key",
                        ),
                    );
            }
        }
    });
}

/// Query parameters that take one of a few words (the handlers match the
/// same words).
fn query_values(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::Schema;
    use utoipa::openapi::RefOr;
    const FIXED: &[(&str, &str, &[&str])] = &[
        ("/api/v1/public/projects", "format", &["json", "csv"]),
        ("/api/v1/public/batches", "format", &["json", "csv"]),
        ("/api/v1/public/retirements", "format", &["json", "csv"]),
        ("/api/v1/public/batches", "kind", &["project", "personal"]),
        (
            "/api/v1/retirements/{id}/certificate",
            "format",
            &["json", "html"],
        ),
        ("/api/v1/leaderboards", "scope", &["all", "organization"]),
    ];
    each_operation(api, |path, _, op| {
        for p in op.parameters.iter_mut().flatten() {
            let RefOr::T(p) = p else { continue };
            let Some((_, _, values)) = FIXED
                .iter()
                .find(|(at, name, _)| *at == path && *name == p.name)
            else {
                continue;
            };
            if let Some(RefOr::T(Schema::Object(o))) = p.schema.as_mut() {
                o.enum_values = Some(values.iter().map(|v| serde_json::json!(v)).collect());
            }
        }
    });
}

/// Calls `f` with every operation of the spec, its path and its method.
fn each_operation(
    api: &mut utoipa::openapi::OpenApi,
    mut f: impl FnMut(&str, &actix_web::http::Method, &mut utoipa::openapi::path::Operation),
) {
    use actix_web::http::Method;
    for (path, item) in api.paths.paths.iter_mut() {
        for (method, op) in [
            (Method::GET, &mut item.get),
            (Method::POST, &mut item.post),
            (Method::PUT, &mut item.put),
            (Method::DELETE, &mut item.delete),
            (Method::PATCH, &mut item.patch),
        ] {
            if let Some(op) = op {
                f(path, &method, op);
            }
        }
    }
}

/// The optional `Idempotency-Key` header and its 400/409 answers.
fn add_idempotency_key(op: &mut utoipa::openapi::path::Operation) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::{ContentBuilder, RefOr, ResponseBuilder};
    let param = ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(utoipa::openapi::Required::False)
        .description(Some(
            "Makes a retry safe: the same key with the same request answers the first \
             successful response (`Idempotent-Replayed: true`) without repeating it; kept 24 h",
        ))
        .schema(Some(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .max_length(Some(255)),
        ))
        .build();
    op.parameters
        .get_or_insert_with(Vec::new)
        .insert(0, RefOr::T(param));
    let note = "`idempotency_key_reused`: this key was used for a different request; \
                `idempotency_key_in_flight`: the first request with this key is still running";
    match op.responses.responses.get_mut("409") {
        Some(RefOr::T(r)) => r.description = format!("{}; {note}", r.description),
        _ => {
            op.responses.responses.insert(
                "409".into(),
                ResponseBuilder::new()
                    .description(note)
                    .content("application/problem+json", ContentBuilder::new().build())
                    .build()
                    .into(),
            );
        }
    }
}

/// The answers that middleware and extractors give on many routes, added
/// here once instead of on every annotation: 401 and the per-user 429 on
/// every route that needs a token, 400/413/415 on every route with a JSON
/// body, the per-IP 429 on `/api/v1/auth/*`.
fn add_common_responses(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, ResponseBuilder};
    let problem = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content("application/problem+json", ContentBuilder::new().build())
            .build()
    };
    each_operation(api, |path, method, op| {
        let by_ip = path.starts_with(crate::rate_limit::LIMITED_PREFIX);
        if crate::idempotency::covers(method, path) {
            add_idempotency_key(op);
        }
        let responses = &mut op.responses.responses;
        if op.security.is_some() && !path.starts_with(partners::routes::FEED_PREFIX) {
            responses.entry("401".into()).or_insert_with(|| {
                problem("Missing, invalid, expired or revoked token (`invalid_token`)").into()
            });
            responses.entry("429".into()).or_insert_with(|| {
                problem("Too many requests by this user (`rate_limited`); see `Retry-After`").into()
            });
        }
        if op.request_body.is_some() {
            for (status, text) in [
                    ("400", "Malformed JSON (`invalid_json`), or a field unknown (`unknown_field`), missing (`missing_field`) or of the wrong type (`invalid_value`); `param` names it"),
                    ("413", "Body larger than the route accepts: 64 KiB, trips 2 MiB, trip batches 8 MiB (`payload_too_large`)"),
                    ("415", "Body not sent as `application/json` (`unsupported_media_type`)"),
                ] {
                    responses
                        .entry(status.into())
                        .or_insert_with(|| problem(text).into());
                }
        }
        if path.starts_with("/api/v1/") {
            responses.entry("503".into()).or_insert_with(|| {
                    problem("The database cannot be reached just now, or the feature is off (`unavailable`); see `Retry-After`").into()
                });
        }
        let params = op.parameters.as_deref().unwrap_or_default();
        let takes = |kind: utoipa::openapi::path::ParameterIn| {
            params.iter().any(|p| match p {
                utoipa::openapi::RefOr::T(p) => p.parameter_in == kind,
                _ => false,
            })
        };
        use utoipa::openapi::path::ParameterIn;
        // The input guard answers these on any route.
        responses.entry("400".into()).or_insert_with(|| {
                problem("A query value of the wrong type (`invalid_query`), or a NUL character in the path, query or body (`invalid_character`)").into()
            });
        responses.entry("431".into()).or_insert_with(|| {
            problem("The request's headers are larger than the server takes (`headers_too_large`)")
                .into()
        });
        if op.request_body.is_some() || takes(ParameterIn::Query) {
            responses.entry("422".into()).or_insert_with(|| {
                problem("A field breaks a rule (`invalid_field`, `param` names it)").into()
            });
        }
        if takes(ParameterIn::Path) {
            responses
                .entry("404".into())
                .or_insert_with(|| problem("No such object, or not yours (`not_found`)").into());
        }
        let pages = params
            .iter()
            .any(|p| matches!(p, utoipa::openapi::RefOr::T(p) if p.name == "starting_after"));
        if pages {
            responses.entry("422".into()).or_insert_with(|| {
                    problem("`limit` outside 1 to 100, or a `starting_after` that names no item of the list (`invalid_field`)").into()
                });
        }
        if by_ip {
            responses.entry("429".into()).or_insert_with(|| {
                problem("Too many requests from this address (`rate_limited`); see `Retry-After`")
                    .into()
            });
        }
    });
}

/// Every documented path template with the methods it takes, to tell a
/// wrong method (405 with `Allow`) from a wrong path (404).
#[derive(Debug, Clone)]
pub struct Routes(Vec<(Vec<String>, Vec<String>)>);

impl Routes {
    pub fn of(api: &utoipa::openapi::OpenApi) -> Routes {
        Routes(
            api.paths
                .paths
                .iter()
                .map(|(template, item)| {
                    let segments = template.split('/').map(str::to_string).collect();
                    let methods = [
                        ("GET", item.get.is_some()),
                        ("POST", item.post.is_some()),
                        ("PUT", item.put.is_some()),
                        ("PATCH", item.patch.is_some()),
                        ("DELETE", item.delete.is_some()),
                    ]
                    .into_iter()
                    .filter(|(_, has)| *has)
                    .map(|(m, _)| m.to_string())
                    .collect();
                    (segments, methods)
                })
                .collect(),
        )
    }

    /// The methods `path` takes, if a documented template matches it.
    pub fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let parts: Vec<&str> = path.split('/').collect();
        let mut allowed: Vec<String> = self
            .0
            .iter()
            .filter(|(template, _)| {
                template.len() == parts.len()
                    && template.iter().zip(&parts).all(|(t, p)| {
                        (t.starts_with('{') && t.ends_with('}') && !p.is_empty()) || t == p
                    })
            })
            .flat_map(|(_, methods)| methods.iter().cloned())
            .collect();
        if allowed.is_empty() {
            return None;
        }
        allowed.sort();
        allowed.dedup();
        Some(allowed)
    }
}

/// What no route answered: 405 with `Allow` when the path is documented
/// under other methods, 404 otherwise.
pub fn unrouted(req: &actix_web::HttpRequest, routes: &Routes) -> crate::error::ApiError {
    match routes.allowed(req.path()) {
        Some(allowed) if !allowed.iter().any(|m| m == req.method().as_str()) => {
            crate::error::ApiError::MethodNotAllowed(allowed)
        }
        _ => crate::error::ApiError::NotFound,
    }
}

/// The spec as committed in `mobile-api-spec/openapi.json` (pretty, final
/// newline).
pub fn spec_json() -> String {
    let mut text = spec()
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    text.push('\n');
    text
}

/// `GET /openapi.json`.
pub async fn openapi_json(spec: web::Data<SpecJson>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(spec.0.clone())
}

/// The spec text, computed once at start.
pub struct SpecJson(pub String);

const SWAGGER_FILES: &[(&str, &str, &[u8])] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_bytes!("../assets/swagger-ui/index.html"),
    ),
    (
        "init.js",
        "text/javascript",
        include_bytes!("../assets/swagger-ui/init.js"),
    ),
    (
        "swagger-ui-bundle.js",
        "text/javascript",
        include_bytes!("../assets/swagger-ui/swagger-ui-bundle.js"),
    ),
    (
        "swagger-ui.css",
        "text/css",
        include_bytes!("../assets/swagger-ui/swagger-ui.css"),
    ),
    (
        "favicon-32x32.png",
        "image/png",
        include_bytes!("../assets/swagger-ui/favicon-32x32.png"),
    ),
];

/// `GET /docs` → `/docs/`, the Swagger UI page.
#[get("/docs")]
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header(("location", "/docs/"))
        .finish()
}

/// `GET /docs/{file}`: the vendored Swagger UI (nothing fetched at run time).
#[get("/docs/{file:.*}")]
pub async fn docs_file(file: web::Path<String>) -> HttpResponse {
    let name = match file.as_str() {
        "" => "index.html",
        other => other,
    };
    match SWAGGER_FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, body)) => HttpResponse::Ok()
            .content_type(*content_type)
            .insert_header(("cache-control", "public, max-age=3600"))
            .body(*body),
        None => HttpResponse::NotFound().finish(),
    }
}
