//! Crediting a trip and taking a credit back: the personal reduction
//! records, the points through the ledger, the audit log's note of a trip,
//! and the person's lock every trip decision takes first. Logging, review
//! and partner confirmation all credit through here.

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, Set,
};

use super::entity::{reduction, trip};
use super::service::TripError;
use crate::accounts::entity::{self as account, AccountKind};
use crate::amount::{Grams, Points};
use crate::ledger::{self, Asset, Command};

/// Which of a trip's personal reduction records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// What the trip was credited when logged or decided.
    Trip = 0,
    /// The rest of a reduced (self-declared) credit, once a partner's
    /// record confirms the trip.
    PartnerTopUp = 1,
}

impl Part {
    fn ledger_id(self, trip_id: &str) -> String {
        match self {
            Part::Trip => format!("trip:{trip_id}"),
            Part::PartnerTopUp => format!("trip:{trip_id}:confirmed"),
        }
    }
}

/// What the audit log says of a trip: status, source, preset, credited
/// grams — never the person or the trip (the ledger or the event commits
/// to those under a salt; see `audit::log`).
fn audit_note(trip: &trip::Model) -> serde_json::Value {
    serde_json::json!({
        "status": trip.status,
        "source": trip.source,
        "preset": trip.preset,
        "preset_version": trip.preset_version,
        "credited_g": trip.credited_g,
    })
}

/// Appends the state of a trip that moved no points (sent to review,
/// rejected, settled without credit) to the audit log, in the caller's
/// transaction; the trip is a commitment under the event's own salt.
/// Credited trips are logged by their credit's ledger event, which carries
/// the same note: one event per trip, not two.
pub(super) async fn record_event(
    txn: &impl ConnectionTrait,
    kind: &str,
    trip: &trip::Model,
    now: DateTime<FixedOffset>,
) -> Result<(), DbErr> {
    use crate::audit::log::{append, Salt};
    let salt = Salt::fresh();
    let mut body = audit_note(trip);
    body["trip"] = serde_json::json!(format!("commitment:{}", salt.commit(&trip.id)));
    append(txn, kind, body, Some(&salt), now).await?;
    Ok(())
}

/// Where a credit goes: the person's account (locked by `lock_person`)
/// and the points issuer.
pub(super) struct Credit<'a> {
    pub account: &'a account::Model,
    pub issuer: &'a account::Model,
}

/// A personal reduction record of `grams` for a credited trip, and
/// `points` through the ledger.
pub(super) async fn credit(
    txn: &DatabaseTransaction,
    to: &Credit<'_>,
    trip: &trip::Model,
    part: Part,
    Grams(grams): Grams,
    Points(points): Points,
    now: DateTime<FixedOffset>,
) -> Result<(), TripError> {
    let Credit { account, issuer } = *to;
    reduction::Entity::insert(reduction::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        trip_id: Set(trip.id.clone()),
        part: Set(part as i16),
        user_id: Set(trip.user_id.to_string()),
        account_id: Set(account.id.clone()),
        grams: Set(grams),
        preset: Set(trip.preset.clone()),
        preset_version: Set(trip.preset_version),
        local_day: Set(trip.local_day.clone()),
        batch_id: Set(None),
        created_at: Set(now),
    })
    .exec_without_returning(txn)
    .await?;
    // Within the trip's transaction, which any error rolls back whole.
    let mut note = audit_note(trip);
    note["part"] = serde_json::json!(part as i16);
    ledger::apply_within_noted(
        txn,
        &ledger::Request {
            id: part.ledger_id(&trip.id),
            memo: Some(
                match part {
                    Part::Trip => "points for a credited trip",
                    Part::PartnerTopUp => "points for a trip a partner confirmed",
                }
                .into(),
            ),
            command: Command::pay(Asset::points(), &issuer.id, &account.id, points),
        },
        &[account, issuer],
        note,
        now,
    )
    .await?;
    Ok(())
}

/// Takes `points` of a rejected trip back from the person to the issuer
/// (ledger transaction `trip:{id}:withdrawn`).
pub(super) async fn take_back(
    txn: &DatabaseTransaction,
    from: &Credit<'_>,
    trip: &trip::Model,
    Points(points): Points,
    now: DateTime<FixedOffset>,
) -> Result<(), TripError> {
    let Credit { account, issuer } = *from;
    ledger::apply_within_noted(
        txn,
        &ledger::Request {
            id: format!("trip:{}:withdrawn", trip.id),
            memo: Some("points of a trip a reviewer rejected".into()),
            command: Command::pay(Asset::points(), &account.id, &issuer.id, points),
        },
        &[account, issuer],
        audit_note(trip),
        now,
    )
    .await?;
    Ok(())
}

/// One trip decision of a person at a time: the overlap and daily checks
/// then see every earlier trip. Locks the person's account row (on SQLite
/// this first write takes the database's write lock) and answers it, so
/// the credit needs no second read. A non-key column is "changed", so the
/// lock does not block foreign-key checks of concurrent ledger writes.
pub(super) async fn lock_person(
    txn: &impl ConnectionTrait,
    user_id: &crate::ids::UserId,
) -> Result<account::Model, TripError> {
    account::Entity::update_many()
        .col_expr(
            account::Column::AllowNegative,
            Expr::col(account::Column::AllowNegative),
        )
        .filter(account::Column::UserId.eq(user_id))
        .filter(account::Column::Kind.eq(AccountKind::Personal))
        .exec_with_returning(txn)
        .await?
        .into_iter()
        .next()
        .ok_or(TripError::NoAccount)
}
