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
        (name = "notifications", description = "A person's inbox: what happened to them, read state, and which kinds reach them"),
        (name = "registry", description = "Enterprise projects and forest sinks: public notice, monitoring reports and verification, issuance with serial numbers, transfers, retirements and certificates"),
        (name = "market", description = "Trading credited reductions: instruments and their listing, cash deposited and withdrawn through a settlement bank; public market data"),
        (name = "pricing", description = "Guidance prices: published versions per instrument with tiers by district and kind of organisation, floors, an organisation's applicable price"),
        (name = "reserve", description = "The reserve platform's operations with holders: buy-backs at the guidance price, swaps, leases; claw-back orders"),
        (name = "rights", description = "Environmental rights other than carbon (pollutant discharge, water, energy use, land indicators): allocation by the responsible bureau against a permit or project, conversion of free allocations into tradeable units, verified use and surrender by the compliance deadline"),
        (name = "finance", description = "Green finance: pledges of units and of a project's future issuance to banks, valuation at each close, margin calls, repayments and releases, guarantees, enforcement by reserve take-over; the public encumbrance register; carbon-sink index and price insurance"),
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
        .service(crate::me::register)
        .service(auth::routes::login)
        .service(auth::routes::refresh_tokens)
        .service(auth::routes::logout)
        .service(crate::me::me)
        .service(crate::notifications::live::notification_stream)
        .service(crate::notifications::routes::inbox)
        .service(crate::notifications::routes::mark_read)
        .service(crate::notifications::routes::get_settings)
        .service(crate::notifications::routes::set_setting)
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
        .service(registry::routes::report_queue)
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
        .service(trips::routes::region_summary)
        .service(crate::pricing::routes::publish_guidance_price)
        .service(crate::pricing::routes::guidance_price_history)
        .service(crate::pricing::routes::applicable_guidance_price)
        .service(crate::pricing::routes::guidance_reviews)
        .service(crate::pricing::routes::decide_guidance_review)
        .service(crate::pricing::routes::stabilisation_actions)
        .service(crate::pricing::routes::execute_stabilisation_action)
        .service(crate::reserve::routes::offer_buy_back)
        .service(crate::reserve::routes::offer_swap)
        .service(crate::reserve::routes::ask_lease)
        .service(crate::reserve::routes::accept_operation)
        .service(crate::reserve::routes::decline_operation)
        .service(crate::reserve::routes::withdraw_operation)
        .service(crate::reserve::routes::return_lease)
        .service(crate::reserve::routes::reserve_operations)
        .service(crate::reserve::routes::order_claw_back)
        .service(crate::rights::routes::allocate)
        .service(crate::rights::routes::convert)
        .service(crate::rights::routes::pay_instalment)
        .service(crate::rights::routes::public_allocations)
        .service(crate::rights::routes::public_allocation)
        .service(crate::rights::routes::record_verified_use)
        .service(crate::rights::routes::surrender)
        .service(crate::rights::routes::public_compliance)
        .service(crate::rights::routes::public_trades)
        .service(crate::reserve::routes::public_reserve)
        .service(crate::reserve::routes::public_reserve_operations)
        .service(crate::finance::routes::apply_pledge)
        .service(crate::finance::routes::list_pledges)
        .service(crate::finance::routes::get_pledge)
        .service(crate::finance::routes::consent_pledge)
        .service(crate::finance::routes::confirm_pledge)
        .service(crate::finance::routes::decline_pledge)
        .service(crate::finance::routes::withdraw_pledge)
        .service(crate::finance::routes::accept_guarantee)
        .service(crate::finance::routes::decline_guarantee)
        .service(crate::finance::routes::repay_pledge)
        .service(crate::finance::routes::top_up_pledge)
        .service(crate::finance::routes::release_pledged_units)
        .service(crate::finance::routes::enforce_pledge)
        .service(crate::finance::routes::encumbrance_register)
        .service(crate::finance::insurance_routes::offer_policy)
        .service(crate::finance::insurance_routes::list_policies)
        .service(crate::finance::insurance_routes::get_policy)
        .service(crate::finance::insurance_routes::accept_policy)
        .service(crate::finance::insurance_routes::decline_policy)
        .service(crate::finance::insurance_routes::withdraw_policy)
        .service(crate::finance::insurance_routes::approve_claim)
        .service(rewards::routes::create_reward)
        .service(rewards::routes::update_reward)
        .service(rewards::routes::list_rewards)
        .service(rewards::routes::redeem)
        .service(rewards::routes::list_redemptions)
        .service(rewards::routes::my_points)
        .service(trips::routes::pending_reviews)
        .service(trips::routes::review_trip)
        .service(trips::routes::decide_review)
        .service(crate::market::routes::list_instruments)
        .service(crate::market::routes::list_instrument)
        .service(crate::market::routes::get_instrument)
        .service(crate::market::routes::suspend_instrument)
        .service(crate::market::routes::resume_instrument)
        .service(crate::market::routes::set_instrument_rules)
        .service(crate::market::routes::record_deposit)
        .service(crate::market::routes::list_deposits)
        .service(crate::market::routes::request_withdrawal)
        .service(crate::market::routes::list_withdrawals)
        .service(crate::market::routes::decide_withdrawal)
        .service(crate::market::routes::place_order)
        .service(crate::market::routes::list_orders)
        .service(crate::market::routes::get_order)
        .service(crate::market::routes::cancel_order)
        .service(crate::market::routes::list_trades)
        .service(crate::market::routes::get_attestation)
        .service(crate::market::routes::public_trade)
        .service(crate::market::routes::get_depth)
        .service(crate::market::routes::get_tape)
        .service(crate::market::routes::get_bars)
        .service(crate::market::routes::pick_order)
        .service(crate::market::routes::pickable_orders)
        .service(crate::market::routes::get_positions)
        .service(crate::market::routes::propose_block)
        .service(crate::market::routes::list_blocks)
        .service(crate::market::routes::get_block)
        .service(crate::market::routes::accept_block)
        .service(crate::market::routes::decline_block)
        .service(crate::market::routes::withdraw_block)
        .service(crate::market::routes::block_reports)
        .service(crate::market::routes::announce_auction)
        .service(crate::market::routes::list_auctions)
        .service(crate::market::routes::get_auction)
        .service(crate::market::routes::place_bid)
        .service(crate::market::routes::stream)
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
    parameter_shapes(&mut api);
    tidy_components(&mut api);
    request_constraints(&mut api);
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
        ("BatchView", "kind", &["project", "personal", "allocation"]),
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

/// What request fields must look like beyond their JSON types, so that a
/// request a generated client builds from the schema is one the server
/// takes (up to the business rules): text lengths and the characters text
/// may hold (the one rule of [`crate::text`]), ids, amounts, codes.
fn request_constraints(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::{ArrayItems, Object, Schema, SchemaFormat};
    use utoipa::openapi::RefOr;
    fn apply(o: &mut Object, field: &Field) {
        match field {
            Field::Text(max, shape) => {
                o.min_length = Some(1);
                o.max_length = Some(*max);
                o.pattern = Some(text_pattern(*shape));
            }
            Field::Uuid => o.format = Some(SchemaFormat::Custom("uuid".into())),
            Field::Pattern(p) => o.pattern = Some(p.clone()),
            Field::Bounded(max, p) => {
                o.max_length = Some(*max);
                o.pattern = Some(p.clone());
            }
            Field::Items { .. } => {}
        }
    }
    let requests = request_schemas(api);
    let Some(components) = api.components.as_mut() else {
        return;
    };
    for (name, schema) in components.schemas.iter_mut() {
        if !requests.contains(name) {
            continue;
        }
        let RefOr::T(Schema::Object(object)) = schema else {
            continue;
        };
        for (property, value) in object.properties.iter_mut() {
            let Some(field) = request_field(name, property) else {
                continue;
            };
            match (value, &field) {
                (RefOr::T(Schema::Object(o)), _) => apply(o, &field),
                (RefOr::T(Schema::Array(array)), Field::Items { min, max, each }) => {
                    array.min_items = Some(*min);
                    array.max_items = Some(*max);
                    if let (Some(each), ArrayItems::RefOrSchema(item)) = (each, &mut array.items) {
                        if let RefOr::T(Schema::Object(o)) = item.as_mut() {
                            apply(o, each);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// What a request field must look like beyond its JSON type.
enum Field {
    /// Human-readable text: at most this many characters, as
    /// [`crate::text::clean`] takes it.
    Text(usize, crate::text::Shape),
    Uuid,
    Pattern(String),
    /// At most this many characters, matching the pattern.
    Bounded(usize, String),
    /// A list of `min` to `max` items, each (when given) so.
    Items {
        min: usize,
        max: usize,
        each: Option<Box<Field>>,
    },
}

fn request_field(schema: &str, property: &str) -> Option<Field> {
    use crate::text::{Shape, CODE_MAX, FINDING_MAX, NAME_MAX, OBJECTION_MAX, REASON_MAX};
    use Field::*;
    let grams = || Pattern(integer_range(1, crate::ledger::service::MAX_AMOUNT as u64));
    let decimal = r"^[0-9]{1,12}(\.[0-9]{1,12})?$";
    Some(match (schema, property) {
        ("Parcel", "id") | ("ProjectInput", "methodology") => Text(CODE_MAX, Shape::Line),
        ("ProjectInput", "identities") => Items {
            min: 0,
            max: crate::registry::projects::MAX_IDENTITIES,
            each: Some(Box::new(Text(NAME_MAX, Shape::Line))),
        },
        (_, "name" | "methodology_name" | "subject" | "beneficiary") => Text(NAME_MAX, Shape::Line),
        ("DecisionInput" | "VerificationInput", "reason") => Text(FINDING_MAX, Shape::Paragraph),
        (_, "reason" | "grid_override_reason" | "purpose" | "cause") => {
            Text(REASON_MAX, Shape::Paragraph)
        }
        ("ObjectionInput", "text") => Text(OBJECTION_MAX, Shape::Paragraph),
        (
            _,
            "organization_id"
            | "account_id"
            | "from_account_id"
            | "to_account_id"
            | "merchant_id"
            | "reward_id"
            | "retirement_id"
            | "transfer_id"
            | "user_id"
            | "buyer_organization_id",
        ) => Uuid,
        (_, "batch_id") => Pattern(BATCH_ID.into()),
        (_, "bank_id" | "order_id") => Uuid,
        ("DepositInput" | "WithdrawalDecisionInput", "reference") | (_, "bank_account") => {
            Text(CODE_MAX, Shape::Line)
        }
        ("DepositInput" | "WithdrawalInput", "amount") => {
            Pattern(integer_range(1, crate::market::money::MAX_VALUE_FEN as u64))
        }
        (_, "reference_price" | "price") => Pattern(PRICE.into()),
        ("ListingInput", "code") | ("OrderInput" | "BlockInput" | "AuctionInput", "instrument") => {
            Pattern(crate::instruments::CODE_PATTERN.into())
        }
        (_, "client_order_id") => Text(CODE_MAX, Shape::Line),
        ("OrderInput" | "PickInput" | "BlockInput" | "AuctionInput" | "BidInput", "quantity")
        | ("AuctionInput", "min_bid_units") => Pattern(QUANTITY.into()),
        (_, "quantity_g" | "loss_g" | "footprint_g") => grams(),
        ("CreateReward", "points_cost") => {
            Pattern(integer_range(1, crate::rewards::service::MAX_UNITS as u64))
        }
        (_, "stock") => Pattern(integer_range(0, crate::rewards::service::MAX_UNITS as u64)),
        ("RedeemRequest", "quantity") => Pattern(integer_range(
            1,
            crate::rewards::service::MAX_QUANTITY as u64,
        )),
        (_, "region_code") => Pattern(r"^[0-9]{6}$".into()),
        (_, "sha256") => Pattern(r"^[0-9a-fA-F]{64}$".into()),
        (_, "uscc") => Pattern(r"^[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{18}$".into()),
        (_, "card_id") => Bounded(64, r"^[ -]*([0-9A-Za-z][ -]*){4,32}$".into()),
        (_, "distance_km" | "area_ha") => Pattern(decimal.into()),
        ("Location", "coordinates") => Items {
            min: 2,
            max: 2,
            each: Some(Box::new(Pattern(r"^-?[0-9]{1,3}(\.[0-9]{1,12})?$".into()))),
        },
        ("BatchRequest", "trips") => Items {
            min: 1,
            max: crate::trips::routes::MAX_BATCH,
            each: None,
        },
        (_, "legs") => Items {
            min: 1,
            max: carbon_calc::commute::MAX_LEGS,
            each: None,
        },
        _ => return None,
    })
}

/// `min` (0 or 1) to `max` (a power of ten) as digits without leading
/// zeros.
fn integer_range(min: u64, max: u64) -> String {
    let digits = max.to_string().len() - 1;
    debug_assert!(min <= 1 && max == 10u64.pow(digits as u32) && digits >= 1);
    let zero = if min == 0 { "0|" } else { "" };
    format!("^({zero}[1-9][0-9]{{0,{}}}|{max})$", digits - 1)
}

/// [`crate::text::clean`] as a pattern: a visible character somewhere, no
/// control or invisible formatting character (line breaks only in
/// paragraphs). Stricter than the server where a pattern cannot follow it:
/// surrounding white space is trimmed there, refused here when it is a
/// control character; `\r` is refused here, taken as part of `\r\n` there.
fn text_pattern(shape: crate::text::Shape) -> String {
    let breaks = match shape {
        crate::text::Shape::Line => r"\x00-\x1f",
        crate::text::Shape::Paragraph => r"\x00-\x09\x0b-\x1f",
    };
    format!(
        r"^(?=[\s\S]*\S)[^{breaks}\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]*$"
    )
}

/// The component schemas that request bodies use, directly or nested.
fn request_schemas(api: &utoipa::openapi::OpenApi) -> std::collections::BTreeSet<String> {
    let spec = serde_json::to_value(api).unwrap_or_default();
    let mut found = std::collections::BTreeSet::new();
    let mut todo: Vec<String> = Vec::new();
    fn refs(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(r)) = map.get("$ref") {
                    if let Some(name) = r.strip_prefix("#/components/schemas/") {
                        out.push(name.to_string());
                    }
                }
                map.values().for_each(|v| refs(v, out));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    for item in spec["paths"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values())
    {
        for op in item.as_object().into_iter().flat_map(|o| o.values()) {
            refs(&op["requestBody"], &mut todo);
        }
    }
    while let Some(name) = todo.pop() {
        if found.insert(name.clone()) {
            refs(&spec["components"]["schemas"][&name], &mut todo);
        }
    }
    found
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

/// What the ids and few-word values in paths and queries look like, so a
/// generated client (and a fuzzer) sends what the server can answer: most
/// ids are UUIDs, a batch is its serial, a methodology table its catalogue
/// id, a ledger entry its sequence number.
fn parameter_shapes(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::{Schema, SchemaFormat};
    use utoipa::openapi::RefOr;
    each_operation(api, |path, _, op| {
        for p in op.parameters.iter_mut().flatten() {
            let RefOr::T(p) = p else { continue };
            let Some(RefOr::T(Schema::Object(o))) = p.schema.as_mut() else {
                continue;
            };
            match parameter_shape(path, &p.name) {
                Some(ParamShape::Uuid) => o.format = Some(SchemaFormat::Custom("uuid".into())),
                Some(ParamShape::Pattern(re)) => o.pattern = Some(re.into()),
                Some(ParamShape::Values(values)) => {
                    o.enum_values = Some(values.iter().map(|v| serde_json::json!(v)).collect())
                }
                None => {}
            }
        }
    });
}

enum ParamShape {
    Uuid,
    Pattern(&'static str),
    Values(&'static [&'static str]),
}

/// A batch's serial: `TPH-<project number>-<vintage>-<seq>`,
/// `TPH-PER-<vintage>-<seq>` for aggregated personal reductions, or
/// `<instrument>-<seq>` for a bureau's allocation of rights.
const BATCH_ID: &str =
    r"^TPH-(PER|[0-9]{4,}|SO2|NOX|COD|NH3N|WCI|WSR|ENU|LCI|LLS)-[0-9]{4}-[0-9]{3,}$";
/// A methodology table id (the catalogue refuses any other).
const TABLE_ID: &str = r"^[a-z0-9-]{1,64}$";
/// Yuan with at most two decimals (the tick is one fen).
/// (0.01 to 9,999,999.99: `market::money::MAX_PRICE_FEN`).
const PRICE: &str = r"^(0\.(0[1-9]|[1-9][0-9]?)|[1-9][0-9]{0,6}(\.[0-9]{1,2})?)$";
/// A market quantity: units with at most two decimals (land's step is
/// 0.01 mu; other classes take whole units, which the server checks
/// against the instrument), above 0 and at most `MAX_UNITS`.
const QUANTITY: &str =
    r"^(0\.(0[1-9]|[1-9][0-9]?)|[1-9][0-9]{0,8}(\.[0-9]{1,2})?|1000000000(\.00?)?)$";
const ENTRY_ID: &str = r"^[1-9][0-9]{0,18}$";
const PARTNER_KEY_ID: &str = r"^pk_[0-9a-f]{24}$";

fn parameter_shape(path: &str, name: &str) -> Option<ParamShape> {
    use ParamShape::*;
    Some(match (path, name) {
        ("/api/v1/retirements/{id}/certificate", "format") => Values(&["json", "html"]),
        (_, "format") => Values(&["json", "csv"]),
        ("/api/v1/public/batches", "kind") => Values(&["project", "personal", "allocation"]),
        (_, "scope") => Values(&["all", "organization"]),
        (_, "decision") => Values(&["approve", "reject"]),
        (_, "status") if path.ends_with("/projects") => {
            Values(crate::registry::projects::status::ALL)
        }
        (_, "batch_id") => Pattern(BATCH_ID),
        ("/api/v1/public/batches", "starting_after") => Pattern(BATCH_ID),
        ("/api/v1/accounts/{id}/entries", "starting_after") => Pattern(ENTRY_ID),
        (_, "id") if path.starts_with("/api/v1/batches/") => Pattern(BATCH_ID),
        (_, "id") if path.starts_with("/api/v1/methodologies/") => Pattern(TABLE_ID),
        (_, "key_id") => Pattern(PARTNER_KEY_ID),
        (_, "code") if path.starts_with("/api/v1/market/instruments/") => {
            Pattern(crate::instruments::CODE_PATTERN)
        }
        (_, "starting_after") if path.ends_with("/partner-keys") => Pattern(PARTNER_KEY_ID),
        (_, "id" | "starting_after") => Uuid,
        (_, n) if n.ends_with("_id") => Uuid,
        _ => return None,
    })
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
                .min_length(Some(1))
                .max_length(Some(crate::idempotency::MAX_KEY_LEN))
                .pattern(Some(r"^[\x21-\x7e]+$")),
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

#[cfg(test)]
mod tests {
    use super::{integer_range, text_pattern};
    use crate::text::{clean, Shape};

    /// The pattern admits a character between visible ones exactly when the
    /// text rule does, for every Unicode scalar value (the astral tag
    /// characters aside: a portable pattern cannot name them).
    #[test]
    fn the_text_pattern_admits_what_the_text_rule_takes() {
        for shape in [Shape::Line, Shape::Paragraph] {
            let pattern = text_pattern(shape);
            let body = pattern
                .strip_prefix(r"^(?=[\s\S]*\S)")
                .expect("the visible-character lookahead leads the pattern");
            let chars = regex::Regex::new(&format!("^{body}")).unwrap();
            for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
                if ('\u{E0000}'..='\u{E007F}').contains(&c) || c == '\r' {
                    continue;
                }
                let text = format!("a{c}a");
                assert_eq!(
                    chars.is_match(&text),
                    clean(&text, 10, shape).is_ok(),
                    "U+{:04X} in a {shape:?}",
                    c as u32
                );
            }
        }
    }

    #[test]
    fn quantities_are_positive_decimals_of_two_places_up_to_the_largest() {
        let re = regex::Regex::new(super::QUANTITY).unwrap();
        for good in [
            "0.01",
            "0.1",
            "0.25",
            "1",
            "10.5",
            "999999999.99",
            "1000000000",
        ] {
            assert!(re.is_match(good), "{good}");
        }
        for bad in [
            "",
            "0",
            "0.00",
            "0.001",
            "01",
            "-1",
            "1.",
            ".5",
            "1e3",
            "1000000000.01",
            "10000000000",
        ] {
            assert!(!re.is_match(bad), "{bad:?}");
        }
    }

    #[test]
    fn integer_ranges_admit_exactly_their_numbers() {
        for (min, max) in [(0u64, 100u64), (1, 100), (1, 1_000_000_000)] {
            let re = regex::Regex::new(&integer_range(min, max)).unwrap();
            for n in (0..=max.min(1_000)).chain([max - 1, max, max + 1, max * 10]) {
                assert_eq!(
                    re.is_match(&n.to_string()),
                    (min..=max).contains(&n),
                    "{n} in {min}..={max}"
                );
            }
            for not_canonical in ["", "01", "-1", "+1", "1.0", " 1"] {
                assert!(!re.is_match(not_canonical), "{not_canonical:?}");
            }
        }
    }
}
