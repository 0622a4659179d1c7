//! Every setting the server reads, in one table: its configuration-file
//! key, its environment variable, its default and what it does.
//! `docs/configuration.md` and `tanpuhui settings` print it, and tests hold
//! it to what `Settings::load` really reads (every key, every default).
//!
//! Environment variables are `TANPUHUI_` and the key in capitals; a key in
//! a section (`[trip_rules]`, `[registry]`) is `TANPUHUI_<SECTION>__<KEY>`,
//! e.g. `TANPUHUI_REGISTRY__NOTICE_WORKING_DAYS=5`.

/// One setting.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// `[section]`, or `""` at the top level of the file.
    pub section: &'static str,
    pub key: &'static str,
    /// The default as the file would spell it (TOML), or `""` for none.
    pub default: &'static str,
    /// What it is for, one line.
    pub what: &'static str,
    /// A secret: environment or file only, never printed.
    pub secret: bool,
    /// Also a command-line flag (`--key-with-dashes`).
    pub flag: bool,
}

impl Setting {
    /// The environment variable that sets it.
    pub fn env(&self) -> String {
        if self.section.is_empty() {
            format!("TANPUHUI_{}", self.key.to_ascii_uppercase())
        } else {
            format!(
                "TANPUHUI_{}__{}",
                self.section.to_ascii_uppercase(),
                self.key.to_ascii_uppercase()
            )
        }
    }

    /// `section.key`, or `key`.
    pub fn path(&self) -> String {
        if self.section.is_empty() {
            self.key.to_string()
        } else {
            format!("{}.{}", self.section, self.key)
        }
    }
}

const fn top(key: &'static str, default: &'static str, what: &'static str) -> Setting {
    Setting {
        section: "",
        key,
        default,
        what,
        secret: false,
        flag: true,
    }
}

const fn file_or_env(key: &'static str, default: &'static str, what: &'static str) -> Setting {
    Setting {
        flag: false,
        ..top(key, default, what)
    }
}

const fn secret(key: &'static str, what: &'static str) -> Setting {
    Setting {
        secret: true,
        flag: false,
        ..top(key, "", what)
    }
}

const fn in_section(
    section: &'static str,
    key: &'static str,
    default: &'static str,
    what: &'static str,
) -> Setting {
    Setting {
        section,
        flag: false,
        ..top(key, default, what)
    }
}

/// The configuration file itself (`--config FILE` or `TANPUHUI_CONFIG`).
pub const CONFIG_FILE_ENV: &str = "TANPUHUI_CONFIG";

pub const SETTINGS: &[Setting] = &[
    top("database_url", "\"sqlite://./data/tanpuhui.db?mode=rwc\"", "SQLite file or postgres://USER:PASSWORD@HOST/DB; never printed"),
    top("database_max_connections", "10", "database connections per replica"),
    top("database_acquire_timeout_ms", "1000", "how long a request waits for a connection before a 503 `unavailable`"),
    top("listen", "\"127.0.0.1:8080\"", "address and port to serve on"),
    top("log_format", "\"json\"", "`json` (production) or `text`"),
    top("log", "\"info\"", "tracing filter, e.g. `info,tanpuhui_server=debug`"),
    secret("jwt_secret", "HS256 key of access tokens, at least 32 bytes, the same on every replica (random per process when unset)"),
    top("auth_rate_per_minute", "30", "requests per client address per minute on `/api/v1/auth/*` (sign-in, registration, refresh)"),
    top("user_rate_per_minute", "600", "authenticated requests per user per minute"),
    top("redis_url", "", "`redis://…` for shared limits and revocation checks; in-process cache when unset; never printed"),
    top("redis_prefix", "\"tph:\"", "prefix of every Redis key"),
    top("redis_timeout_ms", "500", "a Redis call that takes longer (or loses its connection) opens the breaker: the cache fails open at once"),
    top("redis_probe_interval_ms", "1000", "how often an unreachable Redis is pinged"),
    top("trusted_proxies", "[]", "reverse proxies whose `X-Forwarded-For` is believed (addresses or CIDR blocks; comma-separated in the environment)"),
    secret("partner_secrets_key", "64 hex characters sealing partners' signing secrets and keying card hashes; partner feeds are off without it; keep it"),
    secret("audit_signing_key", "Ed25519 seed (64 hex) signing the audit log's tree heads, the same on every replica"),
    top("audit_key_file", "\"./data/audit-signing.key\"", "the development audit key, made on first start when no key is set"),
    file_or_env("audit_seal_interval_ms", "1000", "milliseconds between sealing rounds of the audit log (10 to 60000)"),
    file_or_env("methodology_refresh_secs", "60", "seconds between a replica's looks for methodology tables another replica or `tanpuhui methodologies load` stored (1 to 3600)"),
    top("max_header_bytes", "16384", "largest request head (names and values of all headers); 431 above"),
    top("refresh_grace_secs", "60", "a refresh retried with the same token within this gets the same new token (lost answers); 0 turns it off"),
    in_section("trip_rules", "future_skew_secs", "300", "a trip may end this far in the future (phone clock skew)"),
    in_section("trip_rules", "claim_window_days", "7", "trips that ended longer ago are not credited"),
    in_section("trip_rules", "max_credited_per_day", "4", "credited trips per person per China day"),
    in_section("trip_rules", "daily_cap_g", "5000", "credited grams per person per China day"),
    in_section("trip_rules", "self_declared_rate", "\"0.5\"", "share of the reduction credited for a trip with neither GPS trace nor partner record"),
    in_section("trip_rules", "self_declared_review", "false", "send such trips to review instead"),
    in_section("trip_rules", "trace_min_ratio", "\"0.8\"", "a trace measuring less than this share of the declared distance goes to review"),
    in_section("trip_rules", "points_per_gram", "1", "points credited per credited gram"),
    in_section("trip_rules", "trace_retention_days", "90", "GPS traces (and journey fingerprints) are erased this long after the trip was logged, unless under review"),
    in_section("trip_rules", "trace_time_slack_secs", "120", "how far a trace's fixes may lie outside the trip's start and end"),
    in_section("trip_rules", "points_valid_months", "24", "points expire this long after they were earned, oldest first"),
    in_section("registry", "notice_working_days", "7", "working days (Monday to Friday, China time) a project stays on public notice"),
    in_section("registry", "forest_buffer_share", "\"0.2\"", "share of each forest-sink issuance held in the buffer pool"),
    in_section("registry", "max_transfer_g", "1000000000000", "largest quantity one transfer moves, in grams (not the reserve platform's)"),
    in_section("registry", "public_base_url", "\"http://127.0.0.1:8080\"", "base of the verification links printed on certificates"),
    in_section("market", "round_the_clock", "false", "trade at every hour of every day, the daily close at midnight China time (development and demos only)"),
    in_section("market", "sessions", "\"09:30-11:30,13:00-15:00\"", "continuous-trading sessions, Monday to Friday, China time"),
    in_section("market", "block_window", "\"13:00-15:00\"", "when block trades may be proposed and answered, Monday to Friday, China time"),
    in_section("market", "holidays", "\"\"", "weekdays the market is closed (public holidays): China dates YYYY-MM-DD separated by commas; no sessions, no close"),
    in_section("market", "band", "\"0.1\"", "book and pick orders within this share of the reference price (the previous close)"),
    in_section("market", "block_band", "\"0.3\"", "block trades within this share of the reference price"),
    in_section("market", "block_min_units", "100000", "smallest block trade, in units (tonnes), for instruments without their own (`POST /api/v1/market/instruments/{code}/rules`)"),
    in_section("market", "max_order_units", "99999", "largest book order, in units"),
    in_section("market", "position_limit_units", "1000000", "most units of one instrument one organisation may hold (not the reserve platform)"),
    in_section("market", "pick_levels", "5", "price levels of the other side a pick (点选) may choose from"),
    in_section("market", "fee_rate", "\"0\"", "fee on each side of a trade, a share of its value (0 to 0.1), to the instrument's fee account (`fees:market:<code>`), for instruments without their own; an order pays the rate it was entered under"),
    in_section("market", "t_plus_one", "true", "units bought on a trading day can be sold from the next trading day"),
    in_section("market", "auction_bidder_cap", "\"0.5\"", "largest share of an auction lot one bidder may bid for (at least one step of the instrument, so a lot of one step can sell)"),
    in_section("market", "auction_min_bid_units", "1000", "smallest bid in a one-way bidding auction, in units, unless the announcement sets its own (Guangdong's rule)"),
    in_section("market", "auction_max_days", "30", "longest an auction may run from its announcement to its close, in days (1 to 366)"),
    in_section("market", "stream_keepalive_secs", "15", "seconds between keep-alive comments on an instrument's live stream (1 to 3600)"),
    in_section("market", "batch_orders", "64", "most book orders and cancels one instrument's lane matches in memory and writes in one database transaction (1 to 1024; 1 is one transaction per order)"),
    in_section("market", "batch_instruments", "16", "most instruments whose queued book orders and cancels one lane batch places in one database transaction (1 to 256; 1 is a transaction per instrument)"),
    in_section("market", "lane_workers", "2", "lane batches a replica runs at once, each on a database connection of its own (1 to 64)"),
    in_section("market", "queue_orders", "4096", "most book orders and cancels waiting for one instrument on a replica; more are refused with 503 and Retry-After (1 to 1000000)"),
    in_section("market", "close_check_secs", "30", "seconds between a replica's looks for trading days to close and auctions due (1 to 3600)"),
    in_section("pricing", "review_every_months", "1", "calendar months between reviews of each guidance price, from the first day of a month, China time (1 to 24)"),
    in_section("pricing", "review_window_months", "3", "calendar months of book and pick trades a review averages (1 to 24)"),
    in_section("pricing", "max_move", "\"0.2\"", "largest move a review proposes, a share of the current guidance price (0 to under 1)"),
    in_section("pricing", "min_volume_units", "1000", "fewer units traded in the review's window than this: the review proposes no change"),
    in_section("pricing", "auto_publish", "false", "publish a review's proposal at once instead of waiting for government staff"),
    in_section("pricing", "upper_trigger", "\"1.3\"", "the corridor's upper trigger, a multiple of the guidance price (above 1, at most 10)"),
    in_section("pricing", "lower_trigger", "\"0.7\"", "the corridor's lower trigger, a multiple of the guidance price (above 0, below 1)"),
    in_section("pricing", "trigger_days", "3", "consecutive trading days of closes beyond a trigger that fire it (1 to 60)"),
    in_section("pricing", "trigger_yearly_rise", "\"0\"", "yearly rise of the trigger prices, a share, in whole years since the guidance price took effect (0 to 1)"),
    in_section("pricing", "release_units", "10000", "most units a release (upper trigger) offers from the reserve platform's stock by one-way bidding"),
    in_section("pricing", "release_auction_hours", "24", "hours a release auction takes bids, from its execution (1 to 720)"),
    in_section("pricing", "support_units", "10000", "most units a support bid (lower trigger) buys in the book, within the reserve's cash"),
    in_section("pricing", "lease_fee_rate", "\"0.03\"", "the reserve platform's leases: the yearly fee, a share of the leased units' guidance value, paid when the lease starts (0 to 1)"),
    in_section("pricing", "lease_deposit_rate", "\"1\"", "the deposit held from a lessee, a share of the leased units' guidance value (1 to 5)"),
    in_section("pricing", "lease_max_days", "1095", "the longest lease of the reserve platform's units, days (1 to 3650)"),
    in_section("pricing", "auto_execute_as", "\"\"", "the email or mobile number of a reserve platform's staff member on whose standing instruction the background loop executes open stabilisation actions, with that person's roles at the time; empty: staff execute them"),
    in_section("finance", "ltv", "\"0.7\"", "the loan-to-value ratio a bank confirms a pledge at when it names none: the loan is at most this share of the collateral's value (above 0, at most max_ltv)"),
    in_section("finance", "max_ltv", "\"0.8\"", "the largest loan-to-value ratio a bank may confirm (above 0, at most 1; 70–80 % of appraised value is the pollutant-rights practice)"),
    in_section("finance", "maintenance_ratio", "\"0.8\"", "a margin call when a pledge's collateral is worth less than its outstanding loan ÷ this (at least max_ltv, at most 1)"),
    in_section("finance", "cure_trading_days", "5", "trading days after a margin call's close for the pledgor to cure it (add units) or the bank to record repayments; then the bank may enforce (1 to 60)"),
    in_section("finance", "guarantee_share", "\"0.5\"", "the share of a pledge loan a guarantee covers when the pledge names none (above 0, at most 1)"),
    in_section("finance", "max_term_days", "3650", "the longest pledge loan, days from confirmation to maturity (1 to 36500)"),
    in_section("finance", "price_averaging_days", "20", "trading days of closes a price insurance policy averages, up to its expiry, when it names none (1 to 366)"),
    in_section("finance", "sink_claim_window_days", "90", "days after a carbon-sink index policy's year during which reversals of that year still make claims; then the policy ends and the insurer's cash held for it is released (0 to 366)"),
    in_section("rights", "pollutant_validity_years", "5", "years pollutant-discharge rights stay valid, counted from their year: they cover that many compliance years and lapse after the last one's surrender deadline (1 to 50; 5 years in principle, national guidance)"),
    in_section("rights", "water_validity_years", "1", "years water-saving rights and clean-water increment indicators stay valid, counted as for pollutants (1 to 50)"),
    in_section("rights", "energy_validity_years", "1", "years energy-use rights stay valid, counted as for pollutants (1 to 50)"),
    in_section("rights", "land_validity_years", "0", "years land indicators stay valid, counted as for pollutants; 0: they do not lapse (0 to 50)"),
    in_section("rights", "surrender_days", "90", "days after a compliance year's end (31 December, China time) by which holders surrender rights covering its verified use; rights lapse after the deadline of the last year they cover (1 to 366)"),
    in_section("rights", "expiry_warning_days", "30", "days before their last valid day that allocations show as expiring to their holders (API field `expiring`, the console's warning) (0 to 366)"),
    in_section("rights", "pollutant_conversion_rate", "\"1.0\"", "share of the holder's applicable guidance price paid into the reserve platform's fund to convert freely allocated pollutant rights into tradeable ones (补缴) (0 to 3)"),
    in_section("rights", "water_conversion_rate", "\"1.0\"", "the same for water-saving rights (0 to 3)"),
    in_section("rights", "energy_conversion_rate", "\"1.0\"", "the same for energy-use rights (0 to 3)"),
    in_section("rights", "so2_benchmark", "\"4.80\"", "yuan per kg: the first guidance version of an SO2 instrument, published as a floor when its rights are first allocated (the Lanzhou 2015 benchmark)"),
    in_section("rights", "nox_benchmark", "\"4.80\"", "the same for NOx"),
    in_section("rights", "cod_benchmark", "\"10.00\"", "the same for COD"),
    in_section("rights", "nh3n_benchmark", "\"10.00\"", "the same for NH3-N"),
    in_section("rights", "new_area_districts", "\"620171\"", "the benchmark's first tier: enterprises registered in these districts (comma-separated division codes; Lanzhou New Area)"),
    in_section("rights", "new_area_adjustment", "\"-0.3\"", "that tier's adjustment of the benchmark (-0.3: 30 % below; 0: no tier)"),
    in_section("rights", "county_districts", "\"620121,620122,620123,620111\"", "the benchmark's second tier: any organisation registered in these districts (the three counties and Honggu district)"),
    in_section("rights", "county_adjustment", "\"-0.2\"", "that tier's adjustment (-0.2: 20 % below; 0: no tier)"),
    in_section("rights", "max_instalments", "5", "most instalments a paid allocation (有偿分配) is paid by (1 to 60)"),
    in_section("rights", "first_instalment_days", "30", "days after a paid allocation that its first instalment falls due"),
    in_section("rights", "instalment_interval_days", "365", "days between a paid allocation's later instalments; the last must fall due while the rights are valid"),
];

/// Every environment variable the server reads.
pub fn env_vars() -> Vec<String> {
    std::iter::once(CONFIG_FILE_ENV.to_string())
        .chain(SETTINGS.iter().map(Setting::env))
        .collect()
}

/// The reference as Markdown (`docs/configuration.md`).
pub fn markdown() -> String {
    let mut out = String::from(
        "# Configuration\n\n\
         Generated by `tanpuhui settings` from the server's own table \
         (`server/src/config/reference.rs`); a test fails when the two differ.\n\n\
         Each setting comes from its built-in default, then the TOML file given by \
         `--config FILE` or `TANPUHUI_CONFIG` (`deploy/tanpuhui.example.toml` has every \
         key), then its environment variable, then its command-line flag where it has \
         one: the later wins. A key in a section (`[trip_rules]`, `[registry]`) is \
         `TANPUHUI_<SECTION>__<KEY>` in the environment. An unknown `TANPUHUI_` \
         variable or file key stops the server with its name, so a typo is never \
         silently ignored. Secrets are read from the environment or the file only and \
         never printed.\n\n\
         | file key | environment variable | default | what |\n|---|---|---|---|\n",
    );
    for s in SETTINGS {
        let default = if s.default.is_empty() {
            "none".to_string()
        } else {
            format!("`{}`", s.default)
        };
        let flag = if s.flag {
            format!(" (flag `--{}`)", s.key.replace('_', "-"))
        } else {
            String::new()
        };
        let secret = if s.secret { " Secret." } else { "" };
        out.push_str(&format!(
            "| `{}` | `{}`{flag} | {default} | {}.{secret} |\n",
            s.path(),
            s.env(),
            s.what
        ));
    }
    out
}

/// A configuration-file table with the settings the environment gives
/// (`vars`), laid over `table`. Variables handled by command-line flags
/// (clap reads those) and secrets (read on their own) are left alone; an
/// unknown `TANPUHUI_` variable is an error naming it.
pub fn overlay_env(
    table: &mut toml::Table,
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<(), String> {
    for (name, raw) in vars {
        if !name.starts_with("TANPUHUI_") || name == CONFIG_FILE_ENV {
            continue;
        }
        let Some(setting) = SETTINGS.iter().find(|s| s.env() == name) else {
            return Err(format!(
                "{name} is not a setting of this server (see docs/configuration.md or `tanpuhui settings`)"
            ));
        };
        if setting.flag || setting.secret {
            continue;
        }
        let value = env_value(&raw);
        let target = if setting.section.is_empty() {
            &mut *table
        } else {
            table
                .entry(setting.section)
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .ok_or_else(|| format!("[{}] in the file is not a table", setting.section))?
        };
        target.insert(setting.key.to_string(), value);
    }
    Ok(())
}

/// An environment value as TOML: whole numbers and booleans as such,
/// everything else (decimals included, which the file spells as strings)
/// as a string.
fn env_value(raw: &str) -> toml::Value {
    let text = raw.trim();
    if let Ok(n) = text.parse::<i64>() {
        return toml::Value::Integer(n);
    }
    match text {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        _ => toml::Value::String(text.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_names() {
        let s = SETTINGS
            .iter()
            .find(|s| s.key == "notice_working_days")
            .unwrap();
        assert_eq!(s.env(), "TANPUHUI_REGISTRY__NOTICE_WORKING_DAYS");
        assert!(env_vars().contains(&"TANPUHUI_DATABASE_URL".to_string()));
    }

    #[test]
    fn the_environment_fills_sections_and_refuses_unknown_names() {
        let mut t = toml::Table::new();
        overlay_env(
            &mut t,
            [
                ("TANPUHUI_REGISTRY__NOTICE_WORKING_DAYS".into(), "5".into()),
                (
                    "TANPUHUI_REGISTRY__FOREST_BUFFER_SHARE".into(),
                    "0.25".into(),
                ),
                (
                    "TANPUHUI_TRIP_RULES__SELF_DECLARED_REVIEW".into(),
                    "true".into(),
                ),
                ("TANPUHUI_AUDIT_SEAL_INTERVAL_MS".into(), "250".into()),
                // Flags and secrets are read elsewhere.
                ("TANPUHUI_LISTEN".into(), "0.0.0.0:1".into()),
                ("TANPUHUI_JWT_SECRET".into(), "x".into()),
                ("HOME".into(), "/root".into()),
            ],
        )
        .unwrap();
        assert_eq!(t["registry"]["notice_working_days"].as_integer(), Some(5));
        assert_eq!(t["registry"]["forest_buffer_share"].as_str(), Some("0.25"));
        assert_eq!(
            t["trip_rules"]["self_declared_review"].as_bool(),
            Some(true)
        );
        assert_eq!(t["audit_seal_interval_ms"].as_integer(), Some(250));
        assert!(!t.contains_key("listen") && !t.contains_key("jwt_secret"));
        let e = overlay_env(
            &mut t,
            [("TANPUHUI_NOTICE_WORKING_DAYS".to_string(), "5".to_string())],
        )
        .unwrap_err();
        assert!(
            e.starts_with("TANPUHUI_NOTICE_WORKING_DAYS is not a setting"),
            "{e}"
        );
    }
}
