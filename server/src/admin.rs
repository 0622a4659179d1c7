//! Bootstrapping administrators (`tanpuhui admin create`).

use sea_orm::DatabaseConnection;
use validator::ValidateEmail;

use crate::auth::service::{self, AuthError, Login};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0} is not an email address")]
    Email(String),
    #[error("the password must be 10 to 128 characters")]
    Password,
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
}

/// Registers `email` with `password` and the platform-wide `admin` role, in
/// one transaction; answers the new user's id.
pub async fn create(
    db: &DatabaseConnection,
    email: &str,
    password: &str,
) -> Result<String, AdminError> {
    if !email.validate_email() {
        return Err(AdminError::Email(email.to_string()));
    }
    if !service::password_length_ok(password) {
        return Err(AdminError::Password);
    }
    let now = crate::clock::Clock::system().now();
    let txn = crate::db::begin_write(db).await?;
    let user = crate::me::register_person(&txn, Login::email(email), password, now).await?;
    crate::orgs::service::grant_admin(&txn, &user.id, now).await?;
    txn.commit().await?;
    Ok(user.id)
}
