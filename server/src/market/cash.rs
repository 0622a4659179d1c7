//! Cash (`cash:CNY`, in fen) in participants' accounts. Only a settlement
//! bank creates and destroys it (DESIGN.md invariant 10): its staff record
//! deposits against the bank's own reference (one deposit per bank and
//! reference, so a repeated message credits once), and pay out or refuse
//! withdrawals, which hold the cash from request to decision. Each bank's
//! cash comes from its issuer account `issuer:cash:<bank id>`, whose
//! negative balance is what the bank owes the platform's participants.

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use utoipa::ToSchema;

use super::entity::{deposit, withdrawal, WithdrawalStatus};
use super::error::MarketError;
use super::participants;
use crate::auth::extract::Principal;
use crate::ledger::{self, Asset, Command, LedgerError, Request};
use crate::pagination::{self, Order};
use crate::problem::ProblemCode;
use crate::text::{self, Shape};

/// The issuer account of a bank's cash.
pub fn issuer_code(bank_id: &str) -> String {
    format!("issuer:cash:{bank_id}")
}

/// A cash amount of a request: 1 fen to the ledger's largest.
pub(crate) fn amount(param: &'static str, fen: i64) -> Result<i64, MarketError> {
    if (1..=super::money::MAX_VALUE_FEN).contains(&fen) {
        Ok(fen)
    } else {
        Err(MarketError::invalid(
            param,
            format!("an amount in fen from 1 to {}", super::money::MAX_VALUE_FEN),
        ))
    }
}

fn reference(param: &'static str, text: &str) -> Result<String, MarketError> {
    text::clean(text, text::CODE_MAX, Shape::Line)
        .map_err(|e| MarketError::invalid(param, e.to_string()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepositInput {
    /// The settlement bank that received the money (the caller's bank).
    pub bank_id: String,
    /// The bank's reference of the incoming payment: a deposit is recorded
    /// once per bank and reference.
    pub reference: String,
    /// The participant whose account is credited.
    pub organization_id: String,
    /// Fen, as a string of digits.
    #[serde(deserialize_with = "crate::amount::deserialize")]
    #[schema(value_type = String, example = "100000000")]
    pub amount: i64,
}

/// Records a deposit and credits the participant's cash. The same bank
/// reference again with the same organisation and amount answers the first
/// deposit (`true`: replayed); with anything else it is refused.
pub async fn deposit(
    db: &DatabaseConnection,
    who: &Principal,
    input: &DepositInput,
    now: DateTime<FixedOffset>,
) -> Result<(deposit::Model, bool), MarketError> {
    let bank = participants::bank_staff(db, who, "bank_id", &input.bank_id).await?;
    let reference = reference("reference", &input.reference)?;
    let amount = amount("amount", input.amount)?;
    let to = participants::cash_holder(db, "organization_id", &input.organization_id).await?;
    let same = |d: &deposit::Model| d.organization_id == to.org.id && d.amount == amount;
    let earlier = || async {
        deposit::Entity::find()
            .filter(deposit::Column::BankId.eq(bank.id.as_str()))
            .filter(deposit::Column::Reference.eq(reference.as_str()))
            .one(db)
            .await
    };
    if let Some(first) = earlier().await? {
        return replayed(first, same);
    }
    let issuer = crate::accounts::service::system(db, &issuer_code(&bank.id), now).await?;
    let id = uuid::Uuid::now_v7().to_string();
    let txn = crate::db::begin_write(db).await?;
    let row = deposit::Entity::insert(deposit::ActiveModel {
        id: Set(id.clone()),
        bank_id: Set(bank.id.clone()),
        reference: Set(reference.clone()),
        organization_id: Set(to.org.id.clone()),
        account_id: Set(to.account.id.clone()),
        amount: Set(amount),
        recorded_by: Set(who.user_id.to_string()),
        created_at: Set(now),
    })
    .exec_with_returning(&txn)
    .await;
    let row = match row {
        Ok(row) => row,
        // The same reference recorded at the same moment: the first wins.
        Err(e) if crate::registry::error::unique_violation(&e) => {
            txn.rollback().await?;
            let first = earlier().await?.ok_or(e)?;
            return replayed(first, same);
        }
        Err(e) => return Err(e.into()),
    };
    ledger::apply_within_noted(
        &txn,
        &Request {
            id: format!("deposit:{id}"),
            memo: Some(format!("deposit at {} ref {reference}", bank.name)),
            command: Command::pay(Asset::cny(), &issuer.id, &to.account.id, amount),
        },
        &[&issuer, &to.account],
        serde_json::json!({ "bank": bank.id, "organization": to.org.id }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok((row, false))
}

fn replayed(
    first: deposit::Model,
    same: impl Fn(&deposit::Model) -> bool,
) -> Result<(deposit::Model, bool), MarketError> {
    if same(&first) {
        Ok((first, true))
    } else {
        Err(MarketError::Conflict(
            ProblemCode::ReferenceReused,
            format!(
                "the bank recorded reference {:?} before for a different deposit",
                first.reference
            ),
        ))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalInput {
    /// The participant whose cash is paid out (the caller acts for it).
    pub organization_id: String,
    /// The settlement bank that pays it.
    pub bank_id: String,
    /// The organisation's account at the bank.
    pub bank_account: String,
    /// Fen, as a string of digits.
    #[serde(deserialize_with = "crate::amount::deserialize")]
    #[schema(value_type = String, example = "50000000")]
    pub amount: i64,
}

/// The ledger's hold of a withdrawal.
fn hold_id(id: &str) -> String {
    format!("withdrawal:{id}")
}

/// Asks the bank to pay out cash: the amount is held from now until the
/// bank decides.
pub async fn request_withdrawal(
    db: &DatabaseConnection,
    who: &Principal,
    input: &WithdrawalInput,
    now: DateTime<FixedOffset>,
) -> Result<withdrawal::Model, MarketError> {
    let from =
        participants::acting_for_cash(db, who, "organization_id", &input.organization_id).await?;
    let bank = participants::bank(db, "bank_id", &input.bank_id).await?;
    let amount = amount("amount", input.amount)?;
    let bank_account = reference("bank_account", &input.bank_account)?;
    let id = uuid::Uuid::now_v7().to_string();
    let txn = crate::db::begin_write(db).await?;
    let row = withdrawal::Entity::insert(withdrawal::ActiveModel {
        id: Set(id.clone()),
        organization_id: Set(from.org.id.clone()),
        account_id: Set(from.account.id.clone()),
        amount: Set(amount),
        bank_account: Set(bank_account),
        status: Set(WithdrawalStatus::Requested),
        requested_by: Set(who.user_id.to_string()),
        requested_at: Set(now),
        decided_by: Set(None),
        decided_at: Set(None),
        bank_id: Set(bank.id.clone()),
        reference: Set(None),
        reason: Set(None),
    })
    .exec_with_returning(&txn)
    .await?;
    let held = ledger::apply_within(
        &txn,
        &Request {
            id: hold_id(&id),
            memo: Some("withdrawal requested".into()),
            command: Command::Hold {
                account_id: from.account.id.clone(),
                asset: Asset::cny(),
                amount,
            },
        },
        &[&from.account],
        now,
    )
    .await;
    match held {
        Ok(_) => {}
        Err(LedgerError::Insufficient { .. }) => {
            txn.rollback().await?;
            return Err(insufficient_cash());
        }
        Err(e) => return Err(e.into()),
    }
    txn.commit().await?;
    Ok(row)
}

pub fn insufficient_cash() -> MarketError {
    MarketError::Conflict(
        ProblemCode::InsufficientCash,
        "not enough cash available".into(),
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WithdrawalDecision {
    /// The bank paid it: the cash leaves the platform.
    Execute,
    /// The bank will not pay it: the cash is available again.
    Refuse,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalDecisionInput {
    pub decision: WithdrawalDecision,
    /// The bank's reference of the payment; required to execute.
    pub reference: Option<String>,
    /// Why; required to refuse.
    pub reason: Option<String>,
}

/// The bank's staff pay out or refuse a requested withdrawal, once.
pub async fn decide_withdrawal(
    db: &DatabaseConnection,
    who: &Principal,
    id: &str,
    input: &WithdrawalDecisionInput,
    now: DateTime<FixedOffset>,
) -> Result<withdrawal::Model, MarketError> {
    let w = withdrawal::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(MarketError::NotFound)?;
    // A withdrawal of another bank looks absent.
    if !who.has_role_in(crate::auth::roles::Role::Bank, &w.bank_id) {
        return Err(MarketError::NotFound);
    }
    let bank = participants::bank_staff(db, who, "bank_id", &w.bank_id).await?;
    let (status, reference, reason) = match input.decision {
        WithdrawalDecision::Execute => {
            let r = input.reference.as_deref().ok_or_else(|| {
                MarketError::invalid(
                    "reference",
                    "the payment's reference is required to execute",
                )
            })?;
            (
                WithdrawalStatus::Executed,
                Some(reference("reference", r)?),
                None,
            )
        }
        WithdrawalDecision::Refuse => {
            let r = input
                .reason
                .as_deref()
                .ok_or_else(|| MarketError::invalid("reason", "a reason is required to refuse"))?;
            let r = text::clean(r, text::REASON_MAX, Shape::Paragraph)
                .map_err(|e| MarketError::invalid("reason", e.to_string()))?;
            (WithdrawalStatus::Refused, None, Some(r))
        }
    };
    let issuer = crate::accounts::service::system(db, &issuer_code(&bank.id), now).await?;
    let txn = crate::db::begin_write(db).await?;
    let changed = withdrawal::Entity::update_many()
        .col_expr(withdrawal::Column::Status, Expr::value(status))
        .col_expr(
            withdrawal::Column::DecidedBy,
            Expr::value(who.user_id.to_string()),
        )
        .col_expr(withdrawal::Column::DecidedAt, Expr::value(now))
        .col_expr(withdrawal::Column::Reference, Expr::value(reference))
        .col_expr(withdrawal::Column::Reason, Expr::value(reason))
        .filter(withdrawal::Column::Id.eq(id))
        .filter(withdrawal::Column::Status.eq(WithdrawalStatus::Requested))
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 {
        return Err(MarketError::Conflict(
            ProblemCode::AlreadyDecided,
            "the withdrawal was decided before".into(),
        ));
    }
    let command = match status {
        WithdrawalStatus::Executed => Command::Execute {
            hold_id: hold_id(id),
            to_account_id: issuer.id.clone(),
            amount: w.amount,
        },
        _ => Command::Release {
            hold_id: hold_id(id),
        },
    };
    ledger::apply_within_noted(
        &txn,
        &Request {
            id: format!(
                "withdrawal:{id}:{}",
                match status {
                    WithdrawalStatus::Executed => "executed",
                    _ => "refused",
                }
            ),
            memo: None,
            command,
        },
        &[&issuer],
        serde_json::json!({ "bank": bank.id, "organization": w.organization_id }),
        now,
    )
    .await?;
    let decided = withdrawal::Entity::find_by_id(id.to_string())
        .one(&txn)
        .await?
        .ok_or(MarketError::NotFound)?;
    txn.commit().await?;
    Ok(decided)
}

/// Whose cash movements a listing shows: one participant's (its staff) or
/// one bank's (its staff).
pub enum Scope<'a> {
    Organization(&'a str),
    Bank(&'a str),
}

async fn authorise_scope(
    db: &impl ConnectionTrait,
    who: &Principal,
    scope: &Scope<'_>,
) -> Result<(), MarketError> {
    match scope {
        Scope::Organization(org) => {
            participants::acting_for_cash(db, who, "organization_id", org).await?;
        }
        Scope::Bank(bank) => {
            participants::bank_staff(db, who, "bank_id", bank).await?;
        }
    }
    Ok(())
}

pub async fn deposits(
    db: &DatabaseConnection,
    who: &Principal,
    scope: Scope<'_>,
    starting_after: Option<&str>,
    limit: u64,
) -> Result<(Vec<deposit::Model>, bool), MarketError> {
    authorise_scope(db, who, &scope).await?;
    let q = match scope {
        Scope::Organization(o) => {
            deposit::Entity::find().filter(deposit::Column::OrganizationId.eq(o))
        }
        Scope::Bank(b) => deposit::Entity::find().filter(deposit::Column::BankId.eq(b)),
    };
    Ok(pagination::fetch(
        db,
        q,
        deposit::Column::Id,
        Order::Descending,
        starting_after,
        limit,
    )
    .await?)
}

pub async fn withdrawals(
    db: &DatabaseConnection,
    who: &Principal,
    scope: Scope<'_>,
    status: Option<WithdrawalStatus>,
    starting_after: Option<&str>,
    limit: u64,
) -> Result<(Vec<withdrawal::Model>, bool), MarketError> {
    authorise_scope(db, who, &scope).await?;
    let mut q = match scope {
        Scope::Organization(o) => {
            withdrawal::Entity::find().filter(withdrawal::Column::OrganizationId.eq(o))
        }
        Scope::Bank(b) => withdrawal::Entity::find().filter(withdrawal::Column::BankId.eq(b)),
    };
    if let Some(s) = status {
        q = q.filter(withdrawal::Column::Status.eq(s));
    }
    Ok(pagination::fetch(
        db,
        q,
        withdrawal::Column::Id,
        Order::Descending,
        starting_after,
        limit,
    )
    .await?)
}
