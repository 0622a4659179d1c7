//! Building and running the HTTP application. `Application::build` binds the
//! listener first, so tests can ask for port 0 and learn the real port.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, Service};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{web, App, HttpMessage, HttpServer};
use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use sea_orm::DatabaseConnection;
use tracing_actix_web::{RequestId, TracingLogger};
use utoipa_actix_web::AppExt;

use crate::api_doc;
use crate::auth::extract::UserRateLimit;
use crate::auth::token::TokenKeys;
use crate::cache::Cache;
use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto::SecretBox;
use crate::db::{self, DbSetupError};
use crate::error::{query_error, JSON_LIMIT_BYTES};
use crate::idempotency::Idempotency;
use crate::methodologies::Methodologies;
use crate::partners::keys::PartnerSecrets;
use crate::rate_limit::{PerIpLimit, TrustedProxies};
use crate::trips::rules::TripRules;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Database(#[from] DbSetupError),
    #[error("cannot connect to the cache: {0}")]
    Cache(#[from] crate::cache::CacheError),
    #[error("cannot set up metrics: {0}")]
    Metrics(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("methodology tables: {0}")]
    Methodologies(#[from] crate::methodologies::MethodologyError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
}

pub struct Application {
    port: u16,
    server: Server,
    db: DatabaseConnection,
}

/// In-flight requests get this long to finish after SIGTERM.
const SHUTDOWN_GRACE_SECS: u64 = 30;

impl Application {
    /// The application on the system clock.
    pub async fn build(settings: &Settings) -> Result<Application, StartupError> {
        Application::build_with_clock(settings, Clock::system()).await
    }

    /// The application on `clock`: handlers and background jobs take `now`
    /// from it (tests pass a [`crate::clock::TestClock`]'s).
    pub async fn build_with_clock(
        settings: &Settings,
        clock: Clock,
    ) -> Result<Application, StartupError> {
        let db = db::connect(&settings.database_url, db::PoolSettings::of(settings)).await?;
        prepare(&db).await?;
        let listener =
            TcpListener::bind(settings.listen).map_err(|source| StartupError::Listen {
                addr: settings.listen.to_string(),
                source,
            })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Listen {
                addr: settings.listen.to_string(),
                source,
            })?;
        let metrics = metrics()?;
        let keys = token_keys(settings);
        // Stored and replayed now, so a table that no longer loads stops
        // the start, not a request.
        let methodologies = Methodologies::prepare(&db, clock.now()).await?;
        let catalog = methodologies.current();
        let tables = catalog.document();
        tracing::info!(
            default_preset = catalog.default_preset_id(),
            commute_presets = tables.commute_presets.len(),
            grid_tables = tables.grid_factors.len(),
            gwp_sets = tables.gwp_sets.len(),
            "methodology tables loaded"
        );
        spawn_methodology_refresh(
            db.clone(),
            methodologies.clone(),
            std::time::Duration::from_secs(settings.methodology_refresh_secs),
        );
        let cache = Cache::connect(
            settings.redis_url.as_ref(),
            &settings.redis_prefix,
            crate::cache::RedisTiming {
                timeout: std::time::Duration::from_millis(settings.redis_timeout_ms),
                probe_interval: std::time::Duration::from_millis(settings.redis_probe_interval_ms),
            },
        )
        .await?;
        tracing::info!(cache = cache.backend(), "cache ready");
        let limits = Limits {
            per_ip: PerIpLimit {
                per_minute: settings.auth_rate_per_minute,
                cache: cache.clone(),
                proxies: TrustedProxies(Arc::new(settings.trusted_proxies.clone())),
            },
            per_user: UserRateLimit(settings.user_rate_per_minute),
            head: crate::input_guard::HeadLimits {
                max_header_bytes: settings.max_header_bytes,
            },
            refresh_grace: crate::auth::refresh::RefreshGrace(std::time::Duration::from_secs(
                settings.refresh_grace_secs,
            )),
        };
        let trip_rules = settings.trip_rules.clone();
        spawn_retention(db.clone(), trip_rules.clone(), clock.clone());
        let feed = crate::market::feed::Feed::connect(
            settings.redis_url.as_ref(),
            &settings.redis_prefix,
            "market",
            std::time::Duration::from_millis(settings.redis_timeout_ms),
            cache.clone(),
        )
        .await?;
        let notices = crate::notifications::live::Notices(
            crate::market::feed::Feed::connect(
                settings.redis_url.as_ref(),
                &settings.redis_prefix,
                "notifications",
                std::time::Duration::from_millis(settings.redis_timeout_ms),
                cache.clone(),
            )
            .await?,
        );
        spawn_daily_close(
            db.clone(),
            settings.market.clone(),
            settings.pricing.clone(),
            settings.finance.clone(),
            clock.clone(),
            feed.clone(),
        );
        let partner_secrets = PartnerSecrets(
            settings
                .partner_secrets_key
                .as_ref()
                .map(|k| SecretBox::from_hex(k.expose()))
                .transpose()
                .map_err(|e| StartupError::Config(e.to_string()))?,
        );
        if partner_secrets.0.is_none() {
            tracing::info!("TANPUHUI_PARTNER_SECRETS_KEY is not set: partner trip feeds are off");
        }
        let signer = audit_signer(settings)?;
        let log_key = crate::audit::routes::LogKey(signer.public_key_hex());
        crate::audit::sealer::spawn(
            db.clone(),
            signer,
            std::time::Duration::from_millis(settings.audit_seal_interval_ms),
            clock.clone(),
        );
        let server = run(
            listener,
            db.clone(),
            cache,
            metrics,
            keys,
            limits,
            Policies {
                trip_rules,
                partner_secrets,
                registry: settings.registry.clone(),
                market: settings.market.clone(),
                pricing: settings.pricing.clone(),
                finance: settings.finance.clone(),
                rights: settings.rights.clone(),
                feed,
                notices,
                log_key,
                clock,
                methodologies,
            },
        )
        .map_err(|source| StartupError::Listen {
            addr: settings.listen.to_string(),
            source,
        })?;
        Ok(Application {
            port: port.port(),
            server,
            db,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The application's connection pool (tests use it to simulate outages).
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Serves until SIGTERM or SIGINT, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// The schema migrations, then the data that newer rules need rewritten
/// (identities in canonical form). Run by every start and by `tanpuhui
/// migrate`; each step does nothing once done.
pub async fn prepare(db: &DatabaseConnection) -> Result<(), DbSetupError> {
    db::migrate(db).await?;
    let collisions = crate::registry::identities::canonicalise_stored(db)
        .await
        .map_err(DbSetupError::Migrate)?;
    for c in &collisions {
        tracing::error!(
            identity = %c.canonical,
            kept_by = %c.kept.0,
            also_claimed_by = %c.left.0,
            spelled = %c.left.1,
            "two registered projects claim one identity (spelt differently before identities were canonical): the service centre must resolve it"
        );
    }
    Ok(())
}

/// Erases expired GPS traces, expires points past their period and forgets
/// old partner nonces at start and then hourly. A failure is logged and retried at the next tick; several
/// replicas doing it is harmless.
fn spawn_retention(db: DatabaseConnection, rules: TripRules, clock: Clock) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let now = clock.now();
            match crate::trips::retention::purge_traces(&db, &rules, now).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(traces = n, "expired GPS traces erased"),
                Err(e) => {
                    tracing::warn!(error = %e, "GPS trace retention failed; retrying in an hour")
                }
            }
            match crate::points::expire_due(&db, rules.points_valid_months, now).await {
                Ok(s) if s.accounts > 0 => {
                    tracing::info!(accounts = s.accounts, points = s.points, "points expired")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "points expiry failed; retrying in an hour"),
            }
            if let Err(e) = crate::partners::keys::purge_nonces(&db, now).await {
                tracing::warn!(error = %e, "forgetting old partner nonces failed; retrying in an hour");
            }
        }
    });
}

/// Closes the auctions whose window has ended (`market::auctions`) and the
/// trading days whose close has passed (`market::close`), and makes the
/// month's reviews of guidance prices (`pricing::review`), executes open
/// stabilisation actions on a standing instruction (`pricing::execution`),
/// ends sink insurance policies whose claim window passed
/// (`finance::claims`), pays overdue leases from their deposits
/// (`reserve::leases`) and cancels lapsed rights (`rights::expiry`), every
/// `close_check_secs`. Every replica runs it; an auction's status and the
/// bars' keys make each close happen once. A failure is logged and
/// retried at the next tick.
fn spawn_daily_close(
    db: DatabaseConnection,
    rules: crate::market::rules::MarketRules,
    pricing: crate::pricing::rules::PricingRules,
    finance: crate::finance::rules::FinanceRules,
    clock: Clock,
    feed: crate::market::feed::Feed,
) {
    // The standing instruction's orders go through lanes of their own, as
    // another replica's would.
    let lanes = crate::market::lanes::Lanes::new(db.clone(), rules.clone(), feed.clone());
    tokio::spawn(async move {
        let every = std::time::Duration::from_secs(rules.close_check_secs);
        let mut tick = tokio::time::interval(every);
        let systems = crate::accounts::service::SystemAccounts::default();
        let mut warned = std::collections::HashSet::new();
        loop {
            tick.tick().await;
            let now = clock.now();
            let auctions = crate::market::auctions::close_due(&db, &rules, &systems, now).await;
            match auctions {
                Ok(closed) => {
                    for a in &closed {
                        tracing::info!(auction = %a.id, "auction closed");
                        let trades = crate::market::auctions::results(&db, a)
                            .await
                            .unwrap_or_default();
                        crate::market::routes::announce(&feed, &db, &rules, &a.instrument, &trades)
                            .await;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "closing auctions failed; retrying"),
            }
            match crate::market::close::run_due(&db, &rules, &pricing, &finance, now).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(closes = n, "trading days closed");
                    // Expired day orders left the books.
                    for i in crate::market::listing::all(&db).await.unwrap_or_default() {
                        crate::market::routes::announce(&feed, &db, &rules, &i.code, &[]).await;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "the daily close failed; retrying"),
            }
            match crate::pricing::review::run_due(&db, &pricing, now).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(reviews = n, "guidance prices reviewed"),
                Err(e) => tracing::warn!(error = %e, "reviewing guidance prices failed; retrying"),
            }
            let market = crate::pricing::execution::Market {
                db: &db,
                lanes: &lanes,
                feed: &feed,
                rules: &rules,
            };
            match crate::pricing::execution::run_open(&market, &pricing, &mut warned, now).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    actions = n,
                    "stabilisation actions executed on the standing instruction"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "executing stabilisation actions failed; retrying")
                }
            }
            match crate::finance::claims::expire_due(&db, &finance, now).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(policies = n, "sink insurance policies ended"),
                Err(e) => tracing::warn!(error = %e, "ending insurance policies failed; retrying"),
            }
            match crate::reserve::leases::settle_overdue(&db, now).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(leases = n, "overdue leases paid from their deposits"),
                Err(e) => tracing::warn!(error = %e, "settling overdue leases failed; retrying"),
            }
            match crate::rights::expiry::expire_due(&db, now).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(allocations = n, "lapsed rights cancelled"),
                Err(e) => tracing::warn!(error = %e, "cancelling lapsed rights failed; retrying"),
            }
        }
    });
}

/// Picks up methodology documents other replicas stored, every `every`.
/// A failure is logged and retried at the next tick; the catalogue served
/// stays as it was.
fn spawn_methodology_refresh(
    db: DatabaseConnection,
    methodologies: Methodologies,
    every: std::time::Duration,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            match methodologies.refresh(&db).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(documents = n, "methodology tables updated"),
                Err(e) => tracing::error!(error = %e, "methodology tables could not be refreshed"),
            }
        }
    });
}

/// The tree-head key: configured, or the development key file (made on
/// first start, with a warning: replicas must share one configured key).
pub fn audit_signer(settings: &Settings) -> Result<crate::audit::signer::TreeSigner, StartupError> {
    use crate::audit::signer::TreeSigner;
    let config = |e: crate::audit::signer::KeyError| StartupError::Config(e.to_string());
    if let Some(key) = &settings.audit_signing_key {
        return TreeSigner::from_hex(key.expose()).map_err(config);
    }
    let (signer, made) = TreeSigner::from_file(&settings.audit_key_file).map_err(config)?;
    if made {
        tracing::warn!(
            file = %settings.audit_key_file.display(),
            public_key = %signer.public_key_hex(),
            "TANPUHUI_AUDIT_SIGNING_KEY is not set: made a development audit key; set the variable in production (every replica the same key)"
        );
    }
    Ok(signer)
}

/// Request counts and latency by route pattern and status at `/metrics`.
/// Paths that match no route count as one `UNKNOWN` pattern, so random URLs
/// cannot blow up the number of series.
fn metrics() -> Result<PrometheusMetrics, StartupError> {
    PrometheusMetricsBuilder::new("tanpuhui")
        .endpoint("/metrics")
        .mask_unmatched_patterns("UNKNOWN")
        .build()
        .map_err(|e| StartupError::Metrics(e.to_string()))
}

fn token_keys(settings: &Settings) -> TokenKeys {
    match &settings.jwt_secret {
        Some(secret) => TokenKeys::new(secret.expose().as_bytes()),
        None => {
            tracing::warn!(
                "TANPUHUI_JWT_SECRET is not set: using a random key; access tokens will not survive a restart or work across replicas"
            );
            TokenKeys::new(&crate::crypto::random::<32>())
        }
    }
}

/// The trip rules, the registry's rules and the partner secrets key the
/// handlers apply.
struct Policies {
    trip_rules: TripRules,
    partner_secrets: PartnerSecrets,
    registry: crate::registry::rules::RegistryRules,
    market: crate::market::rules::MarketRules,
    pricing: crate::pricing::rules::PricingRules,
    finance: crate::finance::rules::FinanceRules,
    rights: crate::rights::rules::RightsRules,
    feed: crate::market::feed::Feed,
    notices: crate::notifications::live::Notices,
    log_key: crate::audit::routes::LogKey,
    clock: Clock,
    methodologies: Methodologies,
}

struct Limits {
    per_ip: PerIpLimit,
    per_user: UserRateLimit,
    head: crate::input_guard::HeadLimits,
    refresh_grace: crate::auth::refresh::RefreshGrace,
}

fn run(
    listener: TcpListener,
    db: DatabaseConnection,
    cache: Cache,
    metrics: PrometheusMetrics,
    keys: TokenKeys,
    limits: Limits,
    policies: Policies,
) -> std::io::Result<Server> {
    let partner_secrets = web::Data::new(policies.partner_secrets);
    let systems = web::Data::new(crate::accounts::service::SystemAccounts::default());
    let points_validity = web::Data::new(crate::points::Validity {
        months: policies.trip_rules.points_valid_months,
    });
    let trip_rules = web::Data::new(policies.trip_rules);
    let registry_rules = web::Data::new(policies.registry);
    let lanes = web::Data::new(crate::market::lanes::Lanes::new(
        db.clone(),
        policies.market.clone(),
        policies.feed.clone(),
    ));
    let market_rules = web::Data::new(policies.market);
    let pricing_rules = web::Data::new(policies.pricing);
    let finance_rules = web::Data::new(policies.finance);
    let rights_rules = web::Data::new(policies.rights);
    let feed = web::Data::new(policies.feed);
    let notices = web::Data::new(policies.notices);
    let log_key = web::Data::new(policies.log_key);
    let clock = web::Data::new(policies.clock);
    let methodologies = web::Data::new(policies.methodologies);
    let db = web::Data::new(db);
    let keys = web::Data::new(keys);
    let cache = web::Data::new(cache);
    let per_user = web::Data::new(limits.per_user);
    let idempotency = Idempotency {
        db: db.get_ref().clone(),
        keys: keys.get_ref().clone(),
        proxies: limits.per_ip.proxies.clone(),
    };
    let per_ip = limits.per_ip;
    let proxies = web::Data::new(per_ip.proxies.clone());
    let spec = web::Data::new(api_doc::SpecJson(api_doc::spec_json()));
    let routes = web::Data::new(api_doc::Routes::of(&api_doc::spec()));
    let head_limits = web::Data::new(limits.head);
    let revocations = web::Data::new(crate::auth::revocation::Revocations::default());
    let refresh_grace = web::Data::new(limits.refresh_grace);
    let server = HttpServer::new(move || {
        let (app, _) = App::new()
            .into_utoipa_app()
            .configure(api_doc::configure)
            .split_for_parts();
        app.app_data(db.clone())
            .app_data(spec.clone())
            .app_data(keys.clone())
            .app_data(cache.clone())
            .app_data(per_user.clone())
            .app_data(trip_rules.clone())
            .app_data(points_validity.clone())
            .app_data(registry_rules.clone())
            .app_data(market_rules.clone())
            .app_data(pricing_rules.clone())
            .app_data(finance_rules.clone())
            .app_data(rights_rules.clone())
            .app_data(feed.clone())
            .app_data(notices.clone())
            .app_data(lanes.clone())
            .app_data(log_key.clone())
            .app_data(clock.clone())
            .app_data(methodologies.clone())
            .app_data(partner_secrets.clone())
            .app_data(systems.clone())
            .app_data(proxies.clone())
            .app_data(head_limits.clone())
            .app_data(revocations.clone())
            .app_data(refresh_grace.clone())
            .app_data(api_doc::json_config(JSON_LIMIT_BYTES))
            .app_data(
                web::QueryConfig::default().error_handler(|err, _req| query_error(err).into()),
            )
            .route("/openapi.json", web::get().to(api_doc::openapi_json))
            .service(api_doc::docs_redirect)
            .service(api_doc::docs_file)
            .configure(crate::console::configure)
            // Innermost first: replays and 409s of the idempotency layer,
            // 429s of the rate limit and refusals of the input guard all
            // pass the request-id echo on their way out.
            .wrap(idempotency.clone())
            .wrap(per_ip.clone())
            .wrap(actix_web::middleware::from_fn(crate::input_guard::guard))
            // Echo the request id so a client can quote it in a bug report.
            .wrap_fn(|req, srv| {
                let id = req.extensions().get::<RequestId>().map(|id| id.to_string());
                let fut = srv.call(req);
                async move {
                    let mut res = fut.await?;
                    if let Some(value) = id.and_then(|id| HeaderValue::from_str(&id).ok()) {
                        res.headers_mut()
                            .insert(HeaderName::from_static("x-request-id"), value);
                    }
                    Ok(res)
                }
            })
            .wrap(TracingLogger::<crate::telemetry::AccessSpan>::new())
            .wrap(metrics.clone())
            .app_data(routes.clone())
            .default_service(web::to(
                |req: actix_web::HttpRequest, routes: web::Data<api_doc::Routes>| async move {
                    Err::<actix_web::HttpResponse, _>(api_doc::unrouted(&req, &routes))
                },
            ))
    })
    .shutdown_timeout(SHUTDOWN_GRACE_SECS)
    .listen(listener)?
    .run();
    Ok(server)
}
