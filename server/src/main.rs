//! `tanpuhui`: the API server binary.
//!
//! ```text
//! tanpuhui            # serve (default)
//! tanpuhui serve
//! tanpuhui migrate    # apply pending migrations and exit
//! tanpuhui admin create --email ops@example.cn --password-stdin
//! tanpuhui openapi    # print the OpenAPI document
//! tanpuhui audit verify  # recompute the audit tree, check every head
//! tanpuhui demo       # fill an empty database with demo data
//! tanpuhui settings   # print every setting (docs/configuration.md)
//! tanpuhui problems   # print the problem codes (the mobile guide's table)
//! tanpuhui methodologies load FILE  # serve new methodology table versions
//! ```

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tanpuhui_server::config::{Overrides, Settings};
use tanpuhui_server::{admin, db, startup::Application, telemetry};

#[derive(Parser)]
#[command(
    name = "tanpuhui",
    version,
    about = "Tanpuhui carbon-inclusion API server",
    after_help = "Every setting (file key, environment variable, default): `tanpuhui settings`, or docs/configuration.md."
)]
struct Cli {
    #[command(flatten)]
    overrides: Overrides,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API (the default).
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Print the OpenAPI document (mobile-api-spec/openapi.json) and exit.
    Openapi,
    /// Print every setting: file key, environment variable, default
    /// (docs/configuration.md), and exit.
    Settings,
    /// Print the problem codes with their status and meaning (the table in
    /// mobile-api-spec/README.md), and exit.
    Problems,
    /// Fill an empty database with a small demo data set (organisations,
    /// a forest project with issued credits and a retirement, residents with
    /// trips) and print the accounts it made.
    Demo,
    /// Administrators.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The Merkle audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The methodology tables the server computes with.
    Methodologies {
        #[command(subcommand)]
        command: MethodologyCommand,
    },
}

#[derive(Subcommand)]
enum MethodologyCommand {
    /// Load a document of tables (the shape `GET /api/v1/methodologies`
    /// answers) under the catalogue's version rules: a higher version
    /// replaces a table, the same version must be unchanged, an older one
    /// is ignored. Stored in the database; every running replica serves it
    /// within `methodology_refresh_secs`. Prints what changed.
    Load {
        /// The JSON document; `-` reads standard input.
        file: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the whole tree from the stored events and check every
    /// stored node and signed tree head; exits 1 when anything differs.
    Verify,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Register a platform administrator (the first one bootstraps the
    /// platform). The password is read from standard input, never from the
    /// command line, where other users could see it.
    Create {
        #[arg(long)]
        email: String,
        /// Read the password from standard input (first line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Some(Command::Openapi)) {
        print!("{}", tanpuhui_server::api_doc::spec_json());
        return ExitCode::SUCCESS;
    }
    if matches!(cli.command, Some(Command::Settings)) {
        print!("{}", tanpuhui_server::config::reference::markdown());
        return ExitCode::SUCCESS;
    }
    if matches!(cli.command, Some(Command::Problems)) {
        print!("{}", tanpuhui_server::problem::table());
        return ExitCode::SUCCESS;
    }
    let settings = match Settings::load(&cli.overrides) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tanpuhui: {e}");
            return ExitCode::from(2);
        }
    };
    // One-shot commands print their answer; the schema's progress is the
    // server's and `migrate`'s business.
    let quiet = matches!(
        cli.command,
        Some(
            Command::Admin { .. }
                | Command::Audit { .. }
                | Command::Demo
                | Command::Methodologies { .. }
        )
    );
    let filter = if quiet {
        format!("{},sea_orm_migration=warn", settings.log_filter)
    } else {
        settings.log_filter.clone()
    };
    telemetry::init(settings.log_format, &filter);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&settings).await,
        Command::Migrate => migrate(&settings).await,
        Command::Admin {
            command: AdminCommand::Create { email, .. },
        } => create_admin(&settings, &email).await,
        Command::Audit {
            command: AuditCommand::Verify,
        } => verify_audit(&settings).await,
        Command::Demo => demo(&settings).await,
        Command::Methodologies {
            command: MethodologyCommand::Load { file },
        } => load_methodologies(&settings, &file).await,
        Command::Openapi | Command::Settings | Command::Problems => {
            unreachable!("handled before configuration")
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!(error = %message, "tanpuhui stopped");
            eprintln!("tanpuhui: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: &Settings) -> Result<(), String> {
    let app = Application::build(settings)
        .await
        .map_err(|e| e.to_string())?;
    let addr = format!("http://{}:{}", settings.listen.ip(), app.port());
    tracing::info!(%addr, "tanpuhui listening");
    eprintln!("tanpuhui: listening on {addr} (API docs: {addr}/docs/, spec: {addr}/openapi.json)");
    app.run_until_stopped().await.map_err(|e| e.to_string())
}

/// The database, connected and brought up to date (schema and data).
async fn prepared(settings: &Settings) -> Result<sea_orm::DatabaseConnection, String> {
    let conn = db::connect(&settings.database_url, db::PoolSettings::of(settings))
        .await
        .map_err(|e| e.to_string())?;
    tanpuhui_server::startup::prepare(&conn)
        .await
        .map_err(|e| e.to_string())?;
    Ok(conn)
}

async fn migrate(settings: &Settings) -> Result<(), String> {
    prepared(settings).await?;
    tracing::info!("migrations applied");
    Ok(())
}

async fn create_admin(settings: &Settings, email: &str) -> Result<(), String> {
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = password.trim_end_matches(['\r', '\n']);
    let conn = prepared(settings).await?;
    let user = admin::create(&conn, email, password)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(user_id = %user, "administrator created");
    println!("{user}");
    Ok(())
}

async fn demo(settings: &Settings) -> Result<(), String> {
    let conn = prepared(settings).await?;
    let made = tanpuhui_server::demo::fill(
        &conn,
        settings,
        tanpuhui_server::clock::Clock::system().now(),
    )
    .await?;
    println!("{made}");
    Ok(())
}

async fn load_methodologies(settings: &Settings, file: &std::path::Path) -> Result<(), String> {
    let text = if file == std::path::Path::new("-") {
        std::io::read_to_string(std::io::stdin()).map_err(|e| format!("standard input: {e}"))?
    } else {
        std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?
    };
    let conn = prepared(settings).await?;
    let now = tanpuhui_server::clock::Clock::system().now();
    let methodologies = tanpuhui_server::methodologies::Methodologies::prepare(&conn, now)
        .await
        .map_err(|e| e.to_string())?;
    let report = methodologies
        .load(&conn, &text, None, now)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "{}",
        serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
    );
    Ok(())
}

async fn verify_audit(settings: &Settings) -> Result<(), String> {
    let conn = db::connect(&settings.database_url, db::PoolSettings::of(settings))
        .await
        .map_err(|e| e.to_string())?;
    let report = tanpuhui_server::audit::verify::verify(&conn)
        .await
        .map_err(|e| e.to_string())?;
    for p in &report.problems {
        println!("problem: {p}");
    }
    println!(
        "{} leaves, {} signed tree heads checked, {} problems",
        report.leaves,
        report.heads,
        report.problems.len()
    );
    if report.problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the audit log does not verify ({} problems)",
            report.problems.len()
        ))
    }
}
