//! Configuration: built-in defaults, then a TOML file (`--config` or
//! `TANPUHUI_CONFIG`), then `TANPUHUI_*` environment variables, then flags —
//! each later source wins. Secrets are wrapped so they never reach a log.
//! Every setting is in [`reference::SETTINGS`] (and `docs/configuration.md`).

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub mod reference;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/tanpuhui.db?mode=rwc";
pub const DEFAULT_AUDIT_KEY_FILE: &str = "./data/audit-signing.key";
pub const DEFAULT_AUDIT_SEAL_INTERVAL_MS: u64 = 1_000;
pub const DEFAULT_METHODOLOGY_REFRESH_SECS: u64 = 60;
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{name}: {message}")]
    Invalid { name: &'static str, message: String },
}

/// A value that must not be printed: database URLs carry passwords.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line (production).
    Json,
    /// Human-readable lines (development).
    Text,
}

/// The settled configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: Secret,
    /// Size of the database connection pool of each replica.
    pub database_max_connections: u32,
    /// How long a request waits for a database connection before it is
    /// answered 503 `unavailable` (an outage, or a pool too small for the
    /// load).
    pub database_acquire_timeout_ms: u64,
    pub listen: SocketAddr,
    pub log_format: LogFormat,
    /// `tracing` filter directives, e.g. `info,tanpuhui_server=debug`.
    pub log_filter: String,
    /// HS256 key of access tokens (at least 32 bytes). When absent a random
    /// one is made at start: fine for development, but tokens then die with
    /// the process and replicas cannot share them.
    pub jwt_secret: Option<Secret>,
    /// Requests per minute one client IP may make to `/api/v1/auth/*`.
    pub auth_rate_per_minute: u32,
    /// Authenticated requests per minute one user may make.
    pub user_rate_per_minute: u32,
    /// Redis for the cache, rate limits and token revocation; in process
    /// when absent (fine for one replica).
    pub redis_url: Option<Secret>,
    /// Prefix of every Redis key, so environments can share a server.
    pub redis_prefix: String,
    /// A Redis call gives up after this long and opens the breaker: the
    /// cache fails open, and fast, until a probe gets an answer.
    pub redis_timeout_ms: u64,
    /// While Redis is unreachable it is pinged this often.
    pub redis_probe_interval_ms: u64,

    /// Reverse proxies whose `X-Forwarded-For` is believed. Requests from
    /// anywhere else are counted by their TCP peer address.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The anti-fraud and fairness rules of trips (`[trip_rules]` in the
    /// file; no environment variables).
    pub trip_rules: crate::trips::rules::TripRules,
    /// Seals partners' signing secrets and keys transit card hashes (32
    /// bytes as 64 hex characters). Partner feeds are off without it. Keep
    /// it: a new key cannot open secrets sealed under the old one.
    pub partner_secrets_key: Option<Secret>,
    /// Signs the audit log's tree heads (an Ed25519 seed, 64 hex
    /// characters). Every replica must have the same one.
    pub audit_signing_key: Option<Secret>,
    /// Where the development key is kept (made on first start) when
    /// `audit_signing_key` is not set.
    pub audit_key_file: PathBuf,
    /// How often the sealer looks for new events.
    pub audit_seal_interval_ms: u64,
    /// How often a replica looks for methodology documents another stored.
    pub methodology_refresh_secs: u64,
    /// Rules of the registry (`[registry]` in the file).
    pub registry: crate::registry::rules::RegistryRules,
    /// Rules of the market (`[market]` in the file).
    pub market: crate::market::rules::MarketRules,
    /// Guidance prices' review and corridor (`[pricing]` in the file).
    pub pricing: crate::pricing::rules::PricingRules,
    /// Pledges, guarantees and insurance (`[finance]` in the file).
    pub finance: crate::finance::rules::FinanceRules,
    /// Environmental rights: validity, surrender, conversion (`[rights]`).
    pub rights: crate::rights::rules::RightsRules,
    /// Largest request head (every header's name and value together);
    /// larger ones are answered 431.
    pub max_header_bytes: usize,
    /// A used refresh token presented again within this many seconds gets
    /// the same successor (a retry after a lost answer); later, it revokes
    /// the sign-in.
    pub refresh_grace_secs: u64,
}

pub const DEFAULT_AUTH_RATE_PER_MINUTE: u32 = 30;
pub const DEFAULT_DATABASE_MAX_CONNECTIONS: u32 = 10;
pub const DEFAULT_DATABASE_ACQUIRE_TIMEOUT_MS: u64 = 1_000;
pub const DEFAULT_USER_RATE_PER_MINUTE: u32 = 600;
pub const DEFAULT_REDIS_PREFIX: &str = "tph:";
pub const DEFAULT_REDIS_TIMEOUT_MS: u64 = 500;
pub const DEFAULT_REDIS_PROBE_INTERVAL_MS: u64 = 1_000;
pub const DEFAULT_REFRESH_GRACE_SECS: u64 = 60;

/// Shortest accepted JWT secret, in bytes.
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// What a configuration file may hold; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    pub database_url: Option<Secret>,
    pub database_max_connections: Option<u32>,
    pub database_acquire_timeout_ms: Option<u64>,
    pub listen: Option<String>,
    pub log_format: Option<LogFormat>,
    pub log: Option<String>,
    pub jwt_secret: Option<Secret>,
    pub auth_rate_per_minute: Option<u32>,
    pub user_rate_per_minute: Option<u32>,
    pub redis_url: Option<Secret>,
    pub redis_prefix: Option<String>,
    pub redis_timeout_ms: Option<u64>,
    pub redis_probe_interval_ms: Option<u64>,
    pub trusted_proxies: Option<Vec<String>>,
    pub trip_rules: Option<crate::trips::rules::TripRules>,
    pub partner_secrets_key: Option<Secret>,
    pub audit_signing_key: Option<Secret>,
    pub audit_key_file: Option<PathBuf>,
    pub audit_seal_interval_ms: Option<u64>,
    pub methodology_refresh_secs: Option<u64>,
    pub registry: Option<crate::registry::rules::RegistryRules>,
    pub market: Option<crate::market::rules::MarketRules>,
    pub pricing: Option<crate::pricing::rules::PricingRules>,
    pub finance: Option<crate::finance::rules::FinanceRules>,
    pub rights: Option<crate::rights::rules::RightsRules>,
    pub max_header_bytes: Option<usize>,
    pub refresh_grace_secs: Option<u64>,
}

/// Values given by environment or flags (clap fills these).
#[derive(Debug, Default, Clone, clap::Args)]
pub struct Overrides {
    /// Configuration file (TOML).
    #[arg(long = "config", env = "TANPUHUI_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://PATH?mode=rwc or postgres://USER@HOST/DB.
    #[arg(
        long,
        env = "TANPUHUI_DATABASE_URL",
        hide_env_values = true,
        global = true
    )]
    pub database_url: Option<String>,
    /// Database connections per replica (default 10).
    #[arg(long, env = "TANPUHUI_DATABASE_MAX_CONNECTIONS", global = true)]
    pub database_max_connections: Option<u32>,
    /// Milliseconds a request waits for a database connection before a
    /// 503 (default 1000).
    #[arg(long, env = "TANPUHUI_DATABASE_ACQUIRE_TIMEOUT_MS", global = true)]
    pub database_acquire_timeout_ms: Option<u64>,
    /// Address to listen on.
    #[arg(long, env = "TANPUHUI_LISTEN", global = true)]
    pub listen: Option<String>,
    /// Log format.
    #[arg(long, env = "TANPUHUI_LOG_FORMAT", value_enum, global = true)]
    pub log_format: Option<LogFormat>,
    /// Log filter (tracing directives).
    #[arg(long = "log", env = "TANPUHUI_LOG", global = true)]
    pub log: Option<String>,
    /// Requests per minute one client IP may make to /api/v1/auth/*.
    #[arg(long, env = "TANPUHUI_AUTH_RATE_PER_MINUTE", global = true)]
    pub auth_rate_per_minute: Option<u32>,
    /// Authenticated requests per minute one user may make.
    #[arg(long, env = "TANPUHUI_USER_RATE_PER_MINUTE", global = true)]
    pub user_rate_per_minute: Option<u32>,
    /// Redis URL (redis://HOST:PORT[/DB]); in-process cache when absent.
    #[arg(
        long,
        env = "TANPUHUI_REDIS_URL",
        hide_env_values = true,
        global = true
    )]
    pub redis_url: Option<String>,
    /// Prefix of every Redis key.
    #[arg(long, env = "TANPUHUI_REDIS_PREFIX", global = true)]
    pub redis_prefix: Option<String>,
    /// Milliseconds before a Redis call gives up and the cache fails open
    /// (default 500).
    #[arg(long, env = "TANPUHUI_REDIS_TIMEOUT_MS", global = true)]
    pub redis_timeout_ms: Option<u64>,
    /// Milliseconds between pings of an unreachable Redis (default 1000).
    #[arg(long, env = "TANPUHUI_REDIS_PROBE_INTERVAL_MS", global = true)]
    pub redis_probe_interval_ms: Option<u64>,

    /// Trusted reverse proxies, comma-separated addresses or CIDR blocks.
    #[arg(
        long,
        env = "TANPUHUI_TRUSTED_PROXIES",
        value_delimiter = ',',
        global = true
    )]
    pub trusted_proxies: Option<Vec<String>>,
    /// Access-token signing key (HS256, at least 32 bytes); environment only.
    #[arg(skip)]
    pub jwt_secret: Option<String>,
    /// Partner secrets key (64 hex characters); environment only.
    #[arg(skip)]
    pub partner_secrets_key: Option<String>,
    /// Audit signing key (64 hex characters); environment only.
    #[arg(skip)]
    pub audit_signing_key: Option<String>,
    /// Development audit key file, made on first start when absent.
    #[arg(long, env = "TANPUHUI_AUDIT_KEY_FILE", global = true)]
    pub audit_key_file: Option<PathBuf>,
    /// Largest request head in bytes, headers' names and values together
    /// (default 16384).
    #[arg(long, env = "TANPUHUI_MAX_HEADER_BYTES", global = true)]
    pub max_header_bytes: Option<usize>,
    /// Seconds in which a used refresh token may be retried and gets the
    /// same successor (default 60; 0 turns retries off).
    #[arg(long, env = "TANPUHUI_REFRESH_GRACE_SECS", global = true)]
    pub refresh_grace_secs: Option<u64>,
}

impl Settings {
    pub fn load(overrides: &Overrides) -> Result<Settings, ConfigError> {
        Settings::load_from(overrides, std::env::vars())
    }

    /// [`Settings::load`] with the environment given (`vars`): settings
    /// without a flag (file-only keys and `[section]` keys) are read from
    /// the environment here; flags' variables are clap's.
    pub fn load_from(
        overrides: &Overrides,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let mut table = match &overrides.config {
            Some(path) => read_table(path)?,
            None => toml::Table::new(),
        };
        reference::overlay_env(&mut table, vars).map_err(|message| ConfigError::Invalid {
            name: "environment",
            message,
        })?;
        let file: FileSettings =
            toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Parse {
                    path: overrides
                        .config
                        .clone()
                        .unwrap_or_else(|| PathBuf::from("(environment)")),
                    message: e.to_string(),
                })?;
        let database_url = overrides
            .database_url
            .clone()
            .map(Secret::new)
            .or(file.database_url)
            .unwrap_or_else(|| Secret::new(DEFAULT_DATABASE_URL));
        if !(database_url.expose().starts_with("sqlite:")
            || database_url.expose().starts_with("postgres://")
            || database_url.expose().starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid {
                name: "database_url",
                message: "must start with sqlite:, postgres:// or postgresql://".into(),
            });
        }
        let listen_text = overrides
            .listen
            .clone()
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.into());
        let listen = listen_text.parse().map_err(|e| ConfigError::Invalid {
            name: "listen",
            message: format!("\"{listen_text}\" is not an address such as 127.0.0.1:8080 ({e})"),
        })?;
        let jwt_secret = overrides
            .jwt_secret
            .clone()
            .or_else(|| std::env::var("TANPUHUI_JWT_SECRET").ok())
            .map(Secret::new)
            .or(file.jwt_secret);
        if jwt_secret
            .as_ref()
            .is_some_and(|s| s.expose().len() < MIN_JWT_SECRET_BYTES)
        {
            return Err(ConfigError::Invalid {
                name: "jwt_secret",
                message: format!("must be at least {MIN_JWT_SECRET_BYTES} bytes"),
            });
        }
        let auth_rate_per_minute = overrides
            .auth_rate_per_minute
            .or(file.auth_rate_per_minute)
            .unwrap_or(DEFAULT_AUTH_RATE_PER_MINUTE);
        if auth_rate_per_minute == 0 {
            return Err(ConfigError::Invalid {
                name: "auth_rate_per_minute",
                message: "must be at least 1".into(),
            });
        }
        let user_rate_per_minute = overrides
            .user_rate_per_minute
            .or(file.user_rate_per_minute)
            .unwrap_or(DEFAULT_USER_RATE_PER_MINUTE);
        if user_rate_per_minute == 0 {
            return Err(ConfigError::Invalid {
                name: "user_rate_per_minute",
                message: "must be at least 1".into(),
            });
        }
        let redis_url = overrides
            .redis_url
            .clone()
            .map(Secret::new)
            .or(file.redis_url)
            .filter(|u| !u.expose().is_empty());
        if redis_url.as_ref().is_some_and(|u| {
            !(u.expose().starts_with("redis://") || u.expose().starts_with("rediss://"))
        }) {
            return Err(ConfigError::Invalid {
                name: "redis_url",
                message: "must start with redis:// or rediss://".into(),
            });
        }
        let ranged = |name: &'static str, value: u64, range: std::ops::RangeInclusive<u64>| {
            if range.contains(&value) {
                Ok(value)
            } else {
                Err(ConfigError::Invalid {
                    name,
                    message: format!("must be {} to {}", range.start(), range.end()),
                })
            }
        };
        let redis_timeout_ms = ranged(
            "redis_timeout_ms",
            overrides
                .redis_timeout_ms
                .or(file.redis_timeout_ms)
                .unwrap_or(DEFAULT_REDIS_TIMEOUT_MS),
            10..=10_000,
        )?;
        let redis_probe_interval_ms = ranged(
            "redis_probe_interval_ms",
            overrides
                .redis_probe_interval_ms
                .or(file.redis_probe_interval_ms)
                .unwrap_or(DEFAULT_REDIS_PROBE_INTERVAL_MS),
            50..=60_000,
        )?;
        let refresh_grace_secs = ranged(
            "refresh_grace_secs",
            overrides
                .refresh_grace_secs
                .or(file.refresh_grace_secs)
                .unwrap_or(DEFAULT_REFRESH_GRACE_SECS),
            0..=600,
        )?;
        let trusted_proxies = overrides
            .trusted_proxies
            .clone()
            .or(file.trusted_proxies)
            .unwrap_or_default()
            .iter()
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
            .map(parse_proxy)
            .collect::<Result<Vec<_>, _>>()?;
        let database_max_connections = overrides
            .database_max_connections
            .or(file.database_max_connections)
            .unwrap_or(DEFAULT_DATABASE_MAX_CONNECTIONS);
        if database_max_connections == 0 {
            return Err(ConfigError::Invalid {
                name: "database_max_connections",
                message: "must be at least 1".into(),
            });
        }
        let database_acquire_timeout_ms = overrides
            .database_acquire_timeout_ms
            .or(file.database_acquire_timeout_ms)
            .unwrap_or(DEFAULT_DATABASE_ACQUIRE_TIMEOUT_MS);
        if !(50..=60_000).contains(&database_acquire_timeout_ms) {
            return Err(ConfigError::Invalid {
                name: "database_acquire_timeout_ms",
                message: "must be 50 to 60000".into(),
            });
        }
        let partner_secrets_key = overrides
            .partner_secrets_key
            .clone()
            .or_else(|| std::env::var("TANPUHUI_PARTNER_SECRETS_KEY").ok())
            .filter(|k| !k.is_empty())
            .map(Secret::new)
            .or(file.partner_secrets_key);
        if let Some(key) = &partner_secrets_key {
            crate::crypto::SecretBox::from_hex(key.expose()).map_err(|e| ConfigError::Invalid {
                name: "partner_secrets_key",
                message: e.to_string(),
            })?;
        }
        let audit_signing_key = overrides
            .audit_signing_key
            .clone()
            .or_else(|| std::env::var("TANPUHUI_AUDIT_SIGNING_KEY").ok())
            .filter(|k| !k.is_empty())
            .map(Secret::new)
            .or(file.audit_signing_key);
        if let Some(key) = &audit_signing_key {
            crate::audit::signer::TreeSigner::from_hex(key.expose()).map_err(|e| {
                ConfigError::Invalid {
                    name: "audit_signing_key",
                    message: e.to_string(),
                }
            })?;
        }
        let audit_seal_interval_ms = file
            .audit_seal_interval_ms
            .unwrap_or(DEFAULT_AUDIT_SEAL_INTERVAL_MS);
        if !(10..=60_000).contains(&audit_seal_interval_ms) {
            return Err(ConfigError::Invalid {
                name: "audit_seal_interval_ms",
                message: "must be 10 to 60000".into(),
            });
        }
        let methodology_refresh_secs = file
            .methodology_refresh_secs
            .unwrap_or(DEFAULT_METHODOLOGY_REFRESH_SECS);
        if !(1..=3600).contains(&methodology_refresh_secs) {
            return Err(ConfigError::Invalid {
                name: "methodology_refresh_secs",
                message: "must be 1 to 3600".into(),
            });
        }
        let max_header_bytes = overrides
            .max_header_bytes
            .or(file.max_header_bytes)
            .unwrap_or(crate::input_guard::DEFAULT_MAX_HEADER_BYTES);
        if !(1024..=65_536).contains(&max_header_bytes) {
            return Err(ConfigError::Invalid {
                name: "max_header_bytes",
                message: "must be 1024 to 65536".into(),
            });
        }
        let registry = file.registry.unwrap_or_default();
        registry
            .validate()
            .map_err(|message| ConfigError::Invalid {
                name: "registry",
                message,
            })?;
        let market = file.market.unwrap_or_default();
        market.validate().map_err(|message| ConfigError::Invalid {
            name: "market",
            message,
        })?;
        let pricing = file.pricing.unwrap_or_default();
        pricing.validate().map_err(|message| ConfigError::Invalid {
            name: "pricing",
            message,
        })?;
        let finance = file.finance.unwrap_or_default();
        finance.validate().map_err(|message| ConfigError::Invalid {
            name: "finance",
            message,
        })?;
        let rights = file.rights.unwrap_or_default();
        rights.validate().map_err(|message| ConfigError::Invalid {
            name: "rights",
            message,
        })?;
        let trip_rules = file.trip_rules.unwrap_or_default();
        trip_rules
            .validate()
            .map_err(|message| ConfigError::Invalid {
                name: "trip_rules",
                message,
            })?;
        Ok(Settings {
            trip_rules,
            partner_secrets_key,
            audit_signing_key,
            audit_key_file: overrides
                .audit_key_file
                .clone()
                .or(file.audit_key_file)
                .unwrap_or_else(|| DEFAULT_AUDIT_KEY_FILE.into()),
            audit_seal_interval_ms,
            methodology_refresh_secs,
            registry,
            market,
            pricing,
            finance,
            rights,
            max_header_bytes,
            refresh_grace_secs,
            database_max_connections,
            database_acquire_timeout_ms,
            auth_rate_per_minute,
            user_rate_per_minute,
            redis_url,
            redis_prefix: overrides
                .redis_prefix
                .clone()
                .or(file.redis_prefix)
                .unwrap_or_else(|| DEFAULT_REDIS_PREFIX.into()),
            redis_timeout_ms,
            redis_probe_interval_ms,
            trusted_proxies,
            jwt_secret,
            database_url,
            listen,
            log_format: overrides
                .log_format
                .or(file.log_format)
                .unwrap_or(LogFormat::Json),
            log_filter: overrides
                .log
                .clone()
                .or(file.log)
                .unwrap_or_else(|| "info".into()),
        })
    }
}

/// `10.0.0.0/8` or a single address (`10.0.0.7`).
fn parse_proxy(text: &str) -> Result<ipnet::IpNet, ConfigError> {
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| ConfigError::Invalid {
            name: "trusted_proxies",
            message: format!("\"{text}\" is not an address or CIDR block"),
        })
}

fn read_table(path: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_run_on_embedded_sqlite() {
        let s = Settings::load(&Overrides::default()).unwrap();
        assert_eq!(s.database_url.expose(), DEFAULT_DATABASE_URL);
        assert_eq!(s.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(s.log_format, LogFormat::Json);
    }

    #[test]
    fn file_then_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tanpuhui.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:9000\"\nlog_format = \"text\"\ndatabase_url = \"postgres://u:pw@db/tph\"\n").unwrap();
        let mut o = Overrides {
            config: Some(path.clone()),
            ..Default::default()
        };
        let s = Settings::load(&o).unwrap();
        assert_eq!((s.listen.port(), s.log_format), (9000, LogFormat::Text));
        o.listen = Some("127.0.0.1:9001".into());
        assert_eq!(Settings::load(&o).unwrap().listen.port(), 9001);
        std::fs::write(&path, "lisen = \"x\"\n").unwrap();
        assert!(matches!(Settings::load(&o), Err(ConfigError::Parse { .. })));
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Settings::load(&Overrides {
            database_url: Some("postgres://app:hunter2@db/tph".into()),
            ..Default::default()
        })
        .unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn short_jwt_secrets_are_refused() {
        let e = Settings::load(&Overrides {
            jwt_secret: Some("short".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.to_string().starts_with("jwt_secret: "), "{e}");
        let ok = Settings::load(&Overrides {
            jwt_secret: Some("x".repeat(32)),
            ..Default::default()
        })
        .unwrap();
        assert!(!format!("{ok:?}").contains(&"x".repeat(32)));
    }

    #[test]
    fn redis_and_proxies() {
        let s = Settings::load(&Overrides {
            redis_url: Some("redis://:pw-secret@cache:6379/2".into()),
            trusted_proxies: Some(vec!["10.0.0.0/8".into(), " 192.168.1.7".into()]),
            ..Default::default()
        })
        .unwrap();
        assert!(!format!("{s:?}").contains("pw-secret"));
        assert_eq!(s.trusted_proxies.len(), 2);
        assert!(s.trusted_proxies[1].contains(&"192.168.1.7".parse::<std::net::IpAddr>().unwrap()));
        for (o, name) in [
            (
                Overrides {
                    redis_url: Some("http://cache".into()),
                    ..Default::default()
                },
                "redis_url",
            ),
            (
                Overrides {
                    trusted_proxies: Some(vec!["proxy.local".into()]),
                    ..Default::default()
                },
                "trusted_proxies",
            ),
            (
                Overrides {
                    user_rate_per_minute: Some(0),
                    ..Default::default()
                },
                "user_rate_per_minute",
            ),
        ] {
            let e = Settings::load(&o).unwrap_err();
            assert!(e.to_string().starts_with(name), "{e}");
        }
    }

    #[test]
    fn bad_values_are_named() {
        let e = Settings::load(&Overrides {
            listen: Some("port 80".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.to_string().starts_with("listen: "), "{e}");
        let e = Settings::load(&Overrides {
            database_url: Some("mysql://x".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.to_string().starts_with("database_url: "), "{e}");
    }

    /// The names a type's deserializer accepts, from serde's own refusal
    /// of an unknown key ("expected one of `a`, `b`").
    fn accepted_keys(wrap: impl Fn(toml::Table) -> toml::Table) -> Vec<String> {
        let mut probe = toml::Table::new();
        probe.insert("zz_not_a_key".into(), toml::Value::Integer(1));
        let e = toml::Value::Table(wrap(probe))
            .try_into::<FileSettings>()
            .unwrap_err()
            .to_string();
        let list = e
            .split("expected one of")
            .nth(1)
            .and_then(|l| l.lines().next())
            .unwrap_or_else(|| panic!("{e}"));
        list.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn the_reference_names_every_key_the_server_reads() {
        let section = |name: &'static str| {
            move |t: toml::Table| {
                let mut outer = toml::Table::new();
                outer.insert(name.into(), toml::Value::Table(t));
                outer
            }
        };
        for (name, keys) in [
            ("", accepted_keys(|t| t)),
            ("trip_rules", accepted_keys(section("trip_rules"))),
            ("registry", accepted_keys(section("registry"))),
            ("market", accepted_keys(section("market"))),
            ("pricing", accepted_keys(section("pricing"))),
            ("finance", accepted_keys(section("finance"))),
            ("rights", accepted_keys(section("rights"))),
        ] {
            let listed: Vec<&str> = reference::SETTINGS
                .iter()
                .filter(|s| s.section == name)
                .map(|s| s.key)
                .collect();
            for k in &keys {
                // Sections are listed by their keys.
                if name.is_empty()
                    && [
                        "trip_rules",
                        "registry",
                        "market",
                        "pricing",
                        "finance",
                        "rights",
                    ]
                    .contains(&k.as_str())
                {
                    continue;
                }
                assert!(
                    listed.contains(&k.as_str()),
                    "[{name}] {k} is not in the reference"
                );
            }
            for k in &listed {
                assert!(
                    keys.iter().any(|x| x == k),
                    "the reference lists [{name}] {k}, which nothing reads"
                );
            }
        }
    }

    #[test]
    fn the_references_defaults_are_the_defaults() {
        let mut text = String::new();
        let mut section = "";
        for s in reference::SETTINGS.iter().filter(|s| !s.default.is_empty()) {
            if s.section != section {
                section = s.section;
                text.push_str(&format!("[{section}]\n"));
            }
            text.push_str(&format!("{} = {}\n", s.key, s.default));
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("defaults.toml");
        std::fs::write(&path, &text).unwrap();
        let from_reference = Settings::load_from(
            &Overrides {
                config: Some(path),
                ..Default::default()
            },
            Vec::new(),
        )
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let built_in = Settings::load_from(&Overrides::default(), Vec::new()).unwrap();
        assert_eq!(format!("{from_reference:?}"), format!("{built_in:?}"));
    }

    #[test]
    fn the_environment_sets_section_keys() {
        let s = Settings::load_from(
            &Overrides::default(),
            vec![
                (
                    "TANPUHUI_REGISTRY__NOTICE_WORKING_DAYS".to_string(),
                    "3".to_string(),
                ),
                (
                    "TANPUHUI_TRIP_RULES__CLAIM_WINDOW_DAYS".to_string(),
                    "14".to_string(),
                ),
            ],
        )
        .unwrap();
        assert_eq!(s.registry.notice_working_days, 3);
        assert_eq!(s.trip_rules.claim_window_days, 14);
        let e = Settings::load_from(
            &Overrides::default(),
            vec![(
                "TANPUHUI_REGISTRY__NOTICE_DAYS".to_string(),
                "3".to_string(),
            )],
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("TANPUHUI_REGISTRY__NOTICE_DAYS"),
            "{e}"
        );
        let e = Settings::load_from(
            &Overrides::default(),
            vec![(
                "TANPUHUI_REGISTRY__NOTICE_WORKING_DAYS".to_string(),
                "many".to_string(),
            )],
        )
        .unwrap_err();
        assert!(e.to_string().contains("notice_working_days"), "{e}");
    }

    #[test]
    fn docs_configuration_is_the_reference() {
        let committed = include_str!("../../docs/configuration.md");
        assert!(
            committed == reference::markdown(),
            "docs/configuration.md is out of date: cargo run -q --bin tanpuhui -- settings > docs/configuration.md"
        );
    }
}
