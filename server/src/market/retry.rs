//! Running a trade's transaction again when the database broke a deadlock
//! by aborting it. An order's transaction locks its instrument, then the
//! taker's balances (its hold), then each maker's as matching reaches
//! them; two orders on different instruments can so lock two
//! participants' balances in opposite orders, and PostgreSQL aborts one of
//! them. Nothing of the victim committed and every entry path is
//! idempotent by its client id, so running it again is safe; the other
//! transaction has by then released the rows.

use std::future::Future;

use super::error::MarketError;

/// Attempts after the first. Not a business rule: a victim of a deadlock
/// almost always succeeds at once; more attempts only hide a bug.
const AGAIN: usize = 3;

pub async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T, MarketError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, MarketError>>,
{
    let mut left = AGAIN;
    loop {
        match attempt().await {
            Err(e) if e.is_deadlock() && left > 0 => {
                left -= 1;
                tracing::info!(error = %e, "deadlock victim; running the transaction again");
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::cell::Cell;
    use std::error::Error;

    use sea_orm::sqlx::error::{DatabaseError, ErrorKind};
    use sea_orm::{DbErr, RuntimeErr};

    use super::*;

    /// A database error with a SQLSTATE, as PostgreSQL reports one.
    #[derive(Debug)]
    struct Coded(&'static str);

    impl std::fmt::Display for Coded {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "SQLSTATE {}", self.0)
        }
    }

    impl Error for Coded {}

    impl DatabaseError for Coded {
        fn message(&self) -> &str {
            "test"
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(self.0.into())
        }
        fn as_error(&self) -> &(dyn Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> ErrorKind {
            ErrorKind::Other
        }
    }

    fn failed(code: &'static str) -> MarketError {
        MarketError::Database(DbErr::Exec(RuntimeErr::SqlxError(
            sea_orm::sqlx::Error::Database(Box::new(Coded(code))).into(),
        )))
    }

    /// Fails with `code` for the first `n` attempts, then succeeds.
    async fn run(code: &'static str, n: usize) -> (Result<usize, MarketError>, usize) {
        let tries = Cell::new(0);
        let out = retrying(|| {
            tries.set(tries.get() + 1);
            let t = tries.get();
            async move {
                if t <= n {
                    Err(failed(code))
                } else {
                    Ok(t)
                }
            }
        })
        .await;
        (out, tries.get())
    }

    #[tokio::test]
    async fn deadlock_victims_run_again_and_other_errors_do_not() {
        let (out, tries) = run("40P01", 2).await;
        assert_eq!((out.ok(), tries), (Some(3), 3));
        let (out, tries) = run("40001", 1).await;
        assert_eq!((out.ok(), tries), (Some(2), 2));
        // A deadlock every time: the last one is the answer.
        let (out, tries) = run("40P01", 100).await;
        assert!(out.is_err_and(|e| e.is_deadlock()));
        assert_eq!(tries, AGAIN + 1);
        // Not a deadlock (a unique violation): answered at once.
        let (out, tries) = run("23505", 1).await;
        assert!(out.is_err_and(|e| !e.is_deadlock()));
        assert_eq!(tries, 1);
    }
}
