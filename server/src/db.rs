//! Database connections: embedded SQLite by default (WAL, synchronous=NORMAL,
//! a busy timeout), PostgreSQL in production; the same code for both.

use std::path::Path;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DbErr, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};

use crate::config::Secret;

#[derive(Debug, thiserror::Error)]
pub enum DbSetupError {
    #[error("cannot create the database directory {path}: {source}")]
    Directory {
        path: String,
        source: std::io::Error,
    },
    // The URL is never part of the message: it may carry a password.
    #[error("cannot connect to the database: {0}")]
    Connect(DbErr),
    #[error("cannot apply migrations: {0}")]
    Migrate(DbErr),
}

/// The file of a `sqlite:` URL, if it names one (not `:memory:`).
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && !path.starts_with(":memory:")).then_some(path)
}

/// How the pool connects: its size, and how long a request waits for a
/// connection before the database counts as unavailable.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl PoolSettings {
    pub fn of(settings: &crate::config::Settings) -> PoolSettings {
        PoolSettings {
            max_connections: settings.database_max_connections,
            acquire_timeout: Duration::from_millis(settings.database_acquire_timeout_ms),
        }
    }
}

pub async fn connect(url: &Secret, pool: PoolSettings) -> Result<DatabaseConnection, DbSetupError> {
    let url = url.expose();
    if let Some(file) = sqlite_file(url) {
        if let Some(dir) = Path::new(file)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|source| DbSetupError::Directory {
                path: dir.display().to_string(),
                source,
            })?;
        }
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(pool.max_connections)
        .connect_timeout(pool.acquire_timeout)
        .acquire_timeout(pool.acquire_timeout)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
        });
    Database::connect(options)
        .await
        .map_err(DbSetupError::Connect)
}

/// Begins a transaction that will write. On SQLite it is `BEGIN IMMEDIATE`:
/// the write lock is taken (waiting up to the busy timeout) before anything
/// is read. A deferred transaction that reads and then writes fails at once
/// with `SQLITE_BUSY` when another connection committed in between — which
/// the audit sealer, committing every second, makes common. Elsewhere (and
/// nested, as a savepoint) it is a plain `BEGIN`.
pub async fn begin_write<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Whether `e` says the database cannot be reached or cannot take work now
/// (no connection within the acquire timeout, a connection lost, the
/// server shutting down, too many clients, SQLite locked past its busy
/// timeout): the client should retry, so these are 503s, not bugs.
/// Holds a lock named `name` until the transaction ends, so that writers of
/// one thing (a journey's trips, the methodology documents) take turns.
/// PostgreSQL: a transaction-scoped advisory lock on a hash of the name;
/// SQLite's write transactions are exclusive already.
pub async fn lock_named(txn: &impl sea_orm::ConnectionTrait, name: &str) -> Result<(), DbErr> {
    use sha2::Digest;
    if txn.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(());
    }
    let digest = sha2::Sha256::digest(name.as_bytes());
    let key = i64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    txn.execute_raw(sea_orm::Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1)",
        [key.into()],
    ))
    .await?;
    Ok(())
}

pub fn is_outage(e: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::RuntimeErr;
    let sqlx = match e {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(RuntimeErr::SqlxError(s))
        | DbErr::Exec(RuntimeErr::SqlxError(s))
        | DbErr::Query(RuntimeErr::SqlxError(s)) => s,
        _ => return false,
    };
    match sqlx.as_ref() {
        Sqlx::Io(_)
        | Sqlx::Tls(_)
        | Sqlx::PoolTimedOut
        | Sqlx::PoolClosed
        | Sqlx::WorkerCrashed => true,
        Sqlx::Database(d) => d.code().is_some_and(|code| {
            // PostgreSQL: connection exceptions (08…), shutdown and
            // start-up (57P01–57P03), too many connections (53300);
            // SQLite: busy and locked (5, 6 and their extended codes).
            code.starts_with("08")
                || [
                    "57P01", "57P02", "57P03", "53300", "5", "6", "261", "262", "517",
                ]
                .contains(&code.as_ref())
        }),
        _ => false,
    }
}

/// Whether the database aborted the transaction to break a deadlock
/// (PostgreSQL 40P01) or a serialization conflict (40001): nothing of it
/// committed, and running it again may succeed.
pub fn is_deadlock(e: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    match e {
        DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s)) => {
            matches!(s.as_ref(), sea_orm::sqlx::Error::Database(d)
                if d.code().is_some_and(|c| c == "40P01" || c == "40001"))
        }
        _ => false,
    }
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbSetupError> {
    Migrator::up(db, None).await.map_err(DbSetupError::Migrate)
}

#[cfg(test)]
mod tests {
    use super::sqlite_file;

    #[test]
    fn finds_the_sqlite_file() {
        assert_eq!(
            sqlite_file("sqlite://./data/t.db?mode=rwc"),
            Some("./data/t.db")
        );
        assert_eq!(sqlite_file("sqlite:/tmp/x.db"), Some("/tmp/x.db"));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://u@h/db"), None);
    }
}
