//! Registration and sign-in. Handlers call these; they know nothing of HTTP.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set, SqlErr,
};

use super::entity::{self, Entity as Users};
use super::password;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0} is already registered")]
    AlreadyRegistered(&'static str),
    #[error("wrong login or password")]
    InvalidCredentials,
    #[error("missing, invalid, expired or revoked token")]
    InvalidToken,
    #[error("this refresh token was already used; the sign-in it belongs to is revoked")]
    TokenReused,
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error("password hashing: {0}")]
    Hashing(String),
}

/// How a person signs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    Email(String),
    Mobile(String),
}

impl Login {
    /// Emails compare case-insensitively: the one normalisation of both
    /// registration and sign-in.
    pub fn email(text: &str) -> Login {
        Login::Email(text.trim().to_ascii_lowercase())
    }

    /// What a sign-in form gives: an email address or a mobile number
    /// (compared as its 11 digits).
    pub fn parse(text: &str) -> Login {
        let t = text.trim();
        if t.contains('@') {
            Login::email(t)
        } else {
            Login::Mobile(normalize_mobile(t).unwrap_or_else(|| t.to_string()))
        }
    }
}

/// `+86 138-0013-8000` → `13800138000`; `None` unless it is a mainland
/// mobile number (11 digits starting 13–19).
pub fn normalize_mobile(text: &str) -> Option<String> {
    let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let digits = digits.strip_prefix("+86").unwrap_or(&digits);
    let ok = digits.len() == 11
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.starts_with('1')
        && (b'3'..=b'9').contains(&digits.as_bytes()[1]);
    ok.then(|| digits.to_string())
}

/// Whether a password is acceptable: the one rule for the API and the
/// `admin create` command.
pub fn password_length_ok(password: &str) -> bool {
    (password::MIN_CHARS..=password::MAX_CHARS).contains(&(password.chars().count() as u64))
}

/// A new user (the caller opens their personal account in the same
/// transaction: `crate::me::register_person`).
pub async fn create_user(
    db: &impl sea_orm::ConnectionTrait,
    login: Login,
    password_text: &str,
    now: chrono::DateTime<chrono::FixedOffset>,
) -> Result<entity::Model, AuthError> {
    let hash = password::hash(password_text).map_err(AuthError::Hashing)?;
    let (email, mobile, what) = match login {
        Login::Email(e) => (Some(e), None, "email"),
        Login::Mobile(m) => (None, Some(m), "mobile"),
    };
    let user = entity::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        email: Set(email),
        mobile: Set(mobile),
        password_hash: Set(hash),
        created_at: Set(now),
        leaderboard_opt_out: Set(false),
    };
    user.insert(db).await.map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => AuthError::AlreadyRegistered(what),
        _ => AuthError::Database(e),
    })
}

/// The user who signs in as `login`, if any.
pub async fn find_by_login(
    db: &impl sea_orm::ConnectionTrait,
    login: &Login,
) -> Result<Option<entity::Model>, DbErr> {
    let query = match login {
        Login::Email(e) => Users::find().filter(entity::Column::Email.eq(e.as_str())),
        Login::Mobile(m) => Users::find().filter(entity::Column::Mobile.eq(m.as_str())),
    };
    query.one(db).await
}

pub async fn authenticate(
    db: &DatabaseConnection,
    login: &Login,
    password_text: &str,
) -> Result<entity::Model, AuthError> {
    match find_by_login(db, login).await? {
        Some(user) if password::verify(password_text, &user.password_hash) => Ok(user),
        Some(_) => Err(AuthError::InvalidCredentials),
        None => {
            password::verify_dummy(password_text);
            Err(AuthError::InvalidCredentials)
        }
    }
}

/// Whether the user is shown as anonymous on leaderboards.
pub async fn set_leaderboard_opt_out(
    db: &DatabaseConnection,
    user_id: &str,
    opt_out: bool,
) -> Result<(), DbErr> {
    Users::update_many()
        .col_expr(
            entity::Column::LeaderboardOptOut,
            sea_orm::sea_query::Expr::value(opt_out),
        )
        .filter(entity::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn find(db: &DatabaseConnection, id: &str) -> Result<Option<entity::Model>, AuthError> {
    Ok(Users::find_by_id(id.to_string()).one(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobile_numbers_normalise() {
        assert_eq!(
            normalize_mobile("+86 138-0013-8000").as_deref(),
            Some("13800138000")
        );
        assert_eq!(
            normalize_mobile("13800138000").as_deref(),
            Some("13800138000")
        );
        for bad in [
            "12800138000",
            "1380013800",
            "138001380001",
            "1380013800a",
            "",
        ] {
            assert_eq!(normalize_mobile(bad), None, "{bad}");
        }
        assert_eq!(
            Login::parse(" Li.Ming@Example.CN "),
            Login::Email("li.ming@example.cn".into())
        );
    }
}
