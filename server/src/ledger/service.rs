//! The double-entry ledger of DESIGN.md. Every call is one database
//! transaction (a savepoint when the caller already holds one, so a business
//! record and its postings commit together) identified by a caller-chosen
//! id: the same id with the same request answers the first outcome and
//! changes nothing; with a different request it is refused.
//!
//! Balances keep `posted` and `held`; `available = posted − held` never goes
//! below zero except on issuer accounts. The guard is the `UPDATE … WHERE
//! posted + Δ − held ≥ 0` itself, so concurrent transactions cannot both
//! spend the same units. Rows are changed in (account, asset) order so two
//! transfers in opposite directions cannot deadlock, and issuer accounts
//! (and receive-only ones such as the market's fee account) spread their
//! postings over [`ISSUER_SHARDS`] rows so the account every trip or trade
//! touches is not one hot row.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, Set, TransactionSession, TransactionTrait,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::asset::Asset;
use super::entity::{balance, entry, hold, transaction};
use crate::accounts::entity::{self as account, Entity as Accounts};
use crate::ids::AccountId;

/// Rows an issuer's (or a receive-only account's) balance is spread over.
pub const ISSUER_SHARDS: i32 = 16;
/// Largest amount of one posting or hold, in the asset's minor unit (10^15
/// grams is a gigatonne; 10^15 fen is ten trillion yuan).
pub const MAX_AMOUNT: i64 = 1_000_000_000_000_000;
/// Most postings in one transfer.
pub const MAX_POSTINGS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Posting {
    pub account_id: String,
    pub asset: Asset,
    /// Positive credits the account, negative debits it.
    pub amount: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Command {
    /// Postings that sum to zero per asset.
    Transfer { postings: Vec<Posting> },
    /// Reserve `amount` of the account's available balance; the hold's id is
    /// the transaction's id.
    Hold {
        account_id: String,
        asset: Asset,
        amount: i64,
    },
    /// Give what is still held back to the available balance.
    Release { hold_id: String },
    /// Move `amount` (at most what is still held) of the held units to
    /// `to_account_id`; the rest is released.
    Execute {
        hold_id: String,
        to_account_id: String,
        amount: i64,
    },
    /// Draws parts of holds, which stay held for the rest (a hold drawn to
    /// nothing is executed): one trade's delivery and payment, from the
    /// holds its orders placed, in one transaction.
    Settle { draws: Vec<Draw> },
}

/// `amount` taken from hold `hold_id`: moved to `to_account_id`, or, when
/// that is `None`, given back to the holder's available balance (a buy
/// order that filled below its limit needs less cash held).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Draw {
    pub hold_id: String,
    pub to_account_id: Option<String>,
    pub amount: i64,
}

impl Command {
    /// `amount` of `asset` from one account to another: the two postings
    /// of the commonest transfer.
    pub fn pay(asset: Asset, from: &str, to: &str, amount: i64) -> Command {
        Command::Transfer {
            postings: vec![
                Posting {
                    account_id: from.to_string(),
                    asset: asset.clone(),
                    amount: -amount,
                },
                Posting {
                    account_id: to.to_string(),
                    asset,
                    amount,
                },
            ],
        }
    }

    pub(super) fn kind(&self) -> &'static str {
        match self {
            Command::Transfer { .. } => "transfer",
            Command::Hold { .. } => "hold",
            Command::Release { .. } => "release",
            Command::Execute { .. } => "execute",
            Command::Settle { .. } => "settle",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Request {
    /// Chosen by the caller, unique in the ledger (e.g. `trip:<uuid>`).
    pub id: String,
    pub memo: Option<String>,
    pub command: Command,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub transaction_id: String,
    pub kind: String,
    pub entries: Vec<entry::Model>,
    /// The id had been applied before: nothing changed now.
    pub replayed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("{0}")]
    Invalid(String),
    #[error("postings of {asset} sum to {sum}, not zero")]
    Unbalanced { asset: Asset, sum: i64 },
    #[error("no account {0}")]
    UnknownAccount(String),
    #[error("account {account} has not enough {asset} available")]
    Insufficient { account: String, asset: Asset },
    #[error("no hold {0}")]
    UnknownHold(String),
    #[error("hold {id} is already {status}")]
    HoldResolved { id: String, status: String },
    #[error("transaction id {0} was already used for a different request")]
    IdReused(String),
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

fn check_amount(amount: i64, what: &str) -> Result<(), LedgerError> {
    if amount == 0 || amount.unsigned_abs() > MAX_AMOUNT as u64 {
        return Err(LedgerError::Invalid(format!(
            "{what} must be non-zero and at most {MAX_AMOUNT} in size"
        )));
    }
    Ok(())
}

/// Checks that need no database.
pub(super) fn validate(req: &Request) -> Result<(), LedgerError> {
    if req.id.is_empty() || req.id.len() > 100 {
        return Err(LedgerError::Invalid(
            "transaction ids are 1 to 100 characters".into(),
        ));
    }
    if req.memo.as_ref().is_some_and(|m| m.chars().count() > 200) {
        return Err(LedgerError::Invalid(
            "memos are at most 200 characters".into(),
        ));
    }
    match &req.command {
        Command::Transfer { postings } => {
            if postings.is_empty() || postings.len() > MAX_POSTINGS {
                return Err(LedgerError::Invalid(format!(
                    "a transfer has 1 to {MAX_POSTINGS} postings"
                )));
            }
            let mut sums: BTreeMap<&Asset, i64> = BTreeMap::new();
            for p in postings {
                check_amount(p.amount, "a posting's amount")?;
                *sums.entry(&p.asset).or_default() += p.amount;
            }
            if let Some((asset, sum)) = sums.into_iter().find(|(_, s)| *s != 0) {
                return Err(LedgerError::Unbalanced {
                    asset: asset.clone(),
                    sum,
                });
            }
        }
        Command::Hold { amount, .. } | Command::Execute { amount, .. } => {
            if *amount < 0 {
                return Err(LedgerError::Invalid("amounts here are positive".into()));
            }
            check_amount(*amount, "the amount")?;
        }
        Command::Release { .. } => {}
        Command::Settle { draws } => {
            if draws.is_empty() || draws.len() > MAX_POSTINGS {
                return Err(LedgerError::Invalid(format!(
                    "a settlement has 1 to {MAX_POSTINGS} draws"
                )));
            }
            for d in draws {
                if d.amount < 0 {
                    return Err(LedgerError::Invalid("amounts here are positive".into()));
                }
                check_amount(d.amount, "a draw's amount")?;
            }
        }
    }
    Ok(())
}

pub(super) fn request_hash(req: &Request) -> String {
    let bytes = serde_json::to_vec(req).expect("ledger requests serialise");
    hex::encode(Sha256::digest(bytes))
}

/// Applies `req` once, in its own database transaction (a savepoint when
/// `db` is a transaction already). See the module documentation.
pub async fn apply<C: TransactionTrait>(
    db: &C,
    req: &Request,
    now: DateTime<FixedOffset>,
) -> Result<Outcome, LedgerError> {
    validate(req)?;
    let txn = crate::db::begin_write(db).await?;
    match apply_on(&txn, req, &[], None, now).await {
        Ok(outcome) => {
            txn.commit().await?;
            Ok(outcome)
        }
        Err(e) => {
            txn.rollback().await?;
            Err(e)
        }
    }
}

/// Applies `req` once inside the caller's transaction, without a savepoint
/// of its own (two round trips fewer on a hot path). On an error the
/// ledger's writes so far are in the caller's transaction: the caller must
/// roll it back.
///
/// `known` are accounts the caller has just read or locked in this
/// transaction; the ledger does not read them again (accounts are never
/// deleted, and their flags never change).
pub async fn apply_within(
    txn: &DatabaseTransaction,
    req: &Request,
    known: &[&account::Model],
    now: DateTime<FixedOffset>,
) -> Result<Outcome, LedgerError> {
    validate(req)?;
    apply_on(txn, req, known, None, now).await
}

/// [`apply_within`], with `note` added to the transaction's audit event:
/// what the caller's business record says about it (e.g. a trip's status
/// and preset), so the record needs no audit event of its own. The note is
/// public: nothing that identifies a person may go in it.
pub async fn apply_within_noted(
    txn: &DatabaseTransaction,
    req: &Request,
    known: &[&account::Model],
    note: serde_json::Value,
    now: DateTime<FixedOffset>,
) -> Result<Outcome, LedgerError> {
    validate(req)?;
    apply_on(txn, req, known, Some(note), now).await
}

async fn apply_on(
    txn: &impl ConnectionTrait,
    req: &Request,
    known: &[&account::Model],
    note: Option<serde_json::Value>,
    now: DateTime<FixedOffset>,
) -> Result<Outcome, LedgerError> {
    let hash = request_hash(req);
    // The transaction row is written first: on SQLite that takes the write
    // lock before anything is read, on PostgreSQL a concurrent use of the
    // same id waits here for the first to commit.
    let inserted = transaction::Entity::insert(transaction_row(req, &hash, now))
        .on_conflict(
            OnConflict::column(transaction::Column::Id)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    if inserted == 0 {
        let first = transaction::Entity::find_by_id(req.id.clone())
            .one(txn)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound(req.id.clone()))?;
        if first.request_hash != hash {
            return Err(LedgerError::IdReused(req.id.clone()));
        }
        return Ok(Outcome {
            transaction_id: first.id,
            kind: first.kind,
            entries: entries_of(txn, &req.id).await?,
            replayed: true,
        });
    }
    let (entries, changes) = run(txn, req, known, now).await?;
    record(txn, req, &changes, note, now).await?;
    Ok(Outcome {
        transaction_id: req.id.clone(),
        kind: req.command.kind().to_string(),
        entries,
        replayed: false,
    })
}

pub(super) fn transaction_row(
    req: &Request,
    hash: &str,
    now: DateTime<FixedOffset>,
) -> transaction::ActiveModel {
    transaction::ActiveModel {
        id: Set(req.id.clone()),
        kind: Set(req.command.kind().to_string()),
        request_hash: Set(hash.to_string()),
        memo: Set(req.memo.clone()),
        created_at: Set(now),
    }
}

/// A change to one balance.
#[derive(Default, Clone, Copy, Debug)]
pub(super) struct Delta {
    pub posted: i64,
    pub held: i64,
}

/// A balance the transaction changed, for the audit log.
pub(super) struct Change {
    account_id: String,
    personal: bool,
    asset: Asset,
    posted: i64,
    held: i64,
}

/// Appends the transaction to the audit log (same transaction). The
/// transaction's category (its id up to the first `:`) is public; when a
/// personal account is touched its id and the transaction's id are
/// commitments (see `audit::log`), so the log shows that a trip was
/// credited but not whose.
async fn record(
    txn: &impl ConnectionTrait,
    req: &Request,
    changes: &[Change],
    note: Option<serde_json::Value>,
    now: DateTime<FixedOffset>,
) -> Result<(), LedgerError> {
    let (body, salt) = event_body(req, changes, note);
    crate::audit::log::append(txn, "ledger", body, salt.as_ref(), now).await?;
    Ok(())
}

/// The transaction's audit event (kind `ledger`) and the salt of its
/// commitments, if it touched a personal account.
pub(super) fn event_body(
    req: &Request,
    changes: &[Change],
    note: Option<serde_json::Value>,
) -> (serde_json::Value, Option<crate::audit::log::Salt>) {
    use crate::audit::log::Salt;
    let personal = changes.iter().any(|c| c.personal);
    let salt = personal.then(Salt::fresh);
    let shown = |text: &str| match &salt {
        Some(s) => format!("commitment:{}", s.commit(text)),
        None => text.to_string(),
    };
    let balances: Vec<serde_json::Value> = changes
        .iter()
        .map(|c| {
            let account = if c.personal {
                shown(&c.account_id)
            } else {
                c.account_id.clone()
            };
            serde_json::json!({
                "account": account,
                "asset": c.asset.as_str(),
                "posted": c.posted,
                "held": c.held,
            })
        })
        .collect();
    let category = req.id.split(':').next().unwrap_or_default();
    let mut body = serde_json::json!({
        "op": req.command.kind(),
        "category": category,
        "transaction": shown(&req.id),
        "balances": balances,
    });
    if let Some(note) = note {
        body["note"] = note;
    }
    (body, salt)
}

async fn run(
    txn: &impl ConnectionTrait,
    req: &Request,
    known: &[&account::Model],
    now: DateTime<FixedOffset>,
) -> Result<(Vec<entry::Model>, Vec<Change>), LedgerError> {
    let holds = touch_holds(txn, req, now).await?;
    let (deltas, postings) = effects(req, &holds)?;
    let ids: Vec<String> = deltas.keys().map(|(a, _)| a.clone()).collect();
    let mut accounts: HashMap<String, account::Model> = known
        .iter()
        .filter(|a| ids.contains(&a.id))
        .map(|a| (a.id.clone(), (*a).clone()))
        .collect();
    let unknown: Vec<String> = ids
        .iter()
        .filter(|id| !accounts.contains_key(*id))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        accounts.extend(
            Accounts::find()
                .filter(account::Column::Id.is_in(unknown))
                .all(txn)
                .await?
                .into_iter()
                .map(|a| (a.id.clone(), a)),
        );
    }
    check_accounts(&deltas, &accounts)?;
    // Balances change in (account, asset) order. Changes that cannot make
    // a balance negative are upserts; consecutive ones go in one statement
    // (a credited trip's two postings are one round trip), which keeps the
    // order, so concurrent transactions still cannot deadlock.
    let mut raises: Vec<balance::ActiveModel> = Vec::new();
    for ((account_id, asset), d) in &deltas {
        let account = &accounts[account_id];
        if d.posted == 0 && d.held == 0 {
            continue;
        }
        if lowers(account, d) {
            raise_balances(txn, std::mem::take(&mut raises)).await?;
            lower_balance(txn, account, asset, d).await?;
        } else {
            raises.push(raise(account, asset, d));
        }
    }
    raise_balances(txn, raises).await?;
    let changes = changes(&deltas, &accounts);
    if postings.is_empty() {
        return Ok((Vec::new(), changes));
    }
    // One statement for all the entries.
    let mut entries = entry::Entity::insert_many(entry_rows(req, postings, now))
        .exec_with_returning(txn)
        .await?;
    entries.sort_by_key(|e| e.id);
    Ok((entries, changes))
}

/// The balance changes of one transaction, by (account, asset): the
/// order they are written in.
pub(super) type Deltas = BTreeMap<(String, Asset), Delta>;

/// Writes what `req` does to the holds it creates or names, each change
/// guarded by its `WHERE` (no read-then-write race); answers the named
/// holds as [`effects`] takes them.
async fn touch_holds(
    txn: &impl ConnectionTrait,
    req: &Request,
    now: DateTime<FixedOffset>,
) -> Result<HashMap<String, hold::Model>, LedgerError> {
    let mut holds = HashMap::new();
    match &req.command {
        Command::Transfer { .. } => {}
        Command::Hold {
            account_id,
            asset,
            amount,
        } => {
            hold::Entity::insert(
                new_hold(req, account_id, asset, *amount, now).into_active_model(),
            )
            .exec_without_returning(txn)
            .await
            .map_err(|e| match e.sql_err() {
                Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_)) => {
                    LedgerError::UnknownAccount(account_id.clone())
                }
                _ => e.into(),
            })?;
        }
        Command::Release { hold_id } => {
            let h = resolve_hold(txn, hold_id, "released", &req.id).await?;
            holds.insert(h.id.clone(), h);
        }
        Command::Execute {
            hold_id, amount, ..
        } => {
            check_execute(&find_hold(txn, hold_id).await?, *amount)?;
            let h = resolve_hold(txn, hold_id, "executed", &req.id).await?;
            holds.insert(h.id.clone(), h);
        }
        Command::Settle { draws } => {
            // One guarded update per hold, in hold-id order (no deadlock
            // between two settlements drawing the same holds).
            for (hold_id, total) in drawn_per_hold(draws) {
                let h = draw_hold(txn, hold_id, total, &req.id).await?;
                holds.insert(h.id.clone(), h);
            }
        }
    }
    Ok(holds)
}

pub(super) fn new_hold(
    req: &Request,
    account_id: &str,
    asset: &Asset,
    amount: i64,
    now: DateTime<FixedOffset>,
) -> hold::Model {
    hold::Model {
        id: req.id.clone(),
        account_id: account_id.to_string(),
        asset: asset.to_string(),
        amount,
        status: "held".into(),
        created_at: now,
        resolved_by: None,
        drawn: 0,
    }
}

/// What a settlement draws from each hold, in hold-id order.
pub(super) fn drawn_per_hold(draws: &[Draw]) -> BTreeMap<&str, i64> {
    let mut per_hold: BTreeMap<&str, i64> = BTreeMap::new();
    for d in draws {
        *per_hold.entry(d.hold_id.as_str()).or_default() += d.amount;
    }
    per_hold
}

pub(super) fn check_execute(h: &hold::Model, amount: i64) -> Result<(), LedgerError> {
    if amount > h.amount - h.drawn {
        return Err(LedgerError::Invalid(format!(
            "the amount {amount} exceeds the {} held",
            h.amount - h.drawn
        )));
    }
    Ok(())
}

/// The balance changes and the entries of `req`: the one place that says
/// what each command does. `holds` are the holds it names (not one a
/// `Hold` creates), with `amount − drawn` what they held before it.
pub(super) fn effects(
    req: &Request,
    holds: &HashMap<String, hold::Model>,
) -> Result<(Deltas, Vec<Posting>), LedgerError> {
    let mut deltas: Deltas = BTreeMap::new();
    let mut postings: Vec<Posting> = Vec::new();
    let named = |id: &str| {
        holds
            .get(id)
            .ok_or_else(|| LedgerError::UnknownHold(id.to_string()))
            .and_then(|h| {
                let asset =
                    Asset::parse(&h.asset).map_err(|e| LedgerError::Invalid(e.to_string()))?;
                Ok((h, asset))
            })
    };
    match &req.command {
        Command::Transfer { postings: ps } => {
            for p in ps {
                deltas
                    .entry((p.account_id.clone(), p.asset.clone()))
                    .or_default()
                    .posted += p.amount;
            }
            postings = ps.clone();
        }
        Command::Hold {
            account_id,
            asset,
            amount,
        } => {
            deltas
                .entry((account_id.clone(), asset.clone()))
                .or_default()
                .held += amount;
        }
        Command::Release { hold_id } => {
            let (h, asset) = named(hold_id)?;
            deltas
                .entry((h.account_id.clone(), asset))
                .or_default()
                .held -= h.amount - h.drawn;
        }
        Command::Execute {
            hold_id,
            to_account_id,
            amount,
        } => {
            let (h, asset) = named(hold_id)?;
            let from = deltas
                .entry((h.account_id.clone(), asset.clone()))
                .or_default();
            from.held -= h.amount - h.drawn;
            from.posted -= amount;
            deltas
                .entry((to_account_id.clone(), asset.clone()))
                .or_default()
                .posted += amount;
            postings = vec![
                Posting {
                    account_id: h.account_id.clone(),
                    asset: asset.clone(),
                    amount: -amount,
                },
                Posting {
                    account_id: to_account_id.clone(),
                    asset,
                    amount: *amount,
                },
            ];
        }
        Command::Settle { draws } => {
            for d in draws {
                let (h, asset) = named(&d.hold_id)?;
                let from = deltas
                    .entry((h.account_id.clone(), asset.clone()))
                    .or_default();
                from.held -= d.amount;
                let Some(to) = &d.to_account_id else {
                    continue;
                };
                from.posted -= d.amount;
                deltas
                    .entry((to.clone(), asset.clone()))
                    .or_default()
                    .posted += d.amount;
                postings.push(Posting {
                    account_id: h.account_id.clone(),
                    asset: asset.clone(),
                    amount: -d.amount,
                });
                postings.push(Posting {
                    account_id: to.clone(),
                    asset,
                    amount: d.amount,
                });
            }
        }
    }
    Ok((deltas, postings))
}

/// What accounts refuse whatever their balance: an issuer cannot hold; a
/// receive-only account (its balance spread over shard rows that no
/// single guarded update could check) cannot pay or hold. `accounts` must
/// hold every account of `deltas`.
pub(super) fn check_accounts(
    deltas: &Deltas,
    accounts: &HashMap<String, account::Model>,
) -> Result<(), LedgerError> {
    for ((account_id, _), d) in deltas {
        let Some(account) = accounts.get(account_id) else {
            return Err(LedgerError::UnknownAccount(account_id.clone()));
        };
        if account.allow_negative && d.held != 0 {
            return Err(LedgerError::Invalid(format!(
                "issuer account {account_id} cannot hold"
            )));
        }
        if account.receive_only() && (d.posted < 0 || d.held != 0) {
            return Err(LedgerError::Invalid(format!(
                "account {account_id} only receives"
            )));
        }
    }
    Ok(())
}

/// The change lowers what is available in a balance that may not go
/// negative, so it must be guarded.
pub(super) fn lowers(account: &account::Model, d: &Delta) -> bool {
    d.posted - d.held < 0 && !account.allow_negative
}

pub(super) fn changes(deltas: &Deltas, accounts: &HashMap<String, account::Model>) -> Vec<Change> {
    deltas
        .iter()
        .filter(|(_, d)| d.posted != 0 || d.held != 0)
        .map(|((account_id, asset), d)| Change {
            account_id: account_id.clone(),
            personal: accounts[account_id].kind == account::AccountKind::Personal,
            asset: asset.clone(),
            posted: d.posted,
            held: d.held,
        })
        .collect()
}

pub(super) fn entry_rows(
    req: &Request,
    postings: Vec<Posting>,
    now: DateTime<FixedOffset>,
) -> Vec<entry::ActiveModel> {
    postings
        .into_iter()
        .map(|p| entry::ActiveModel {
            id: NotSet,
            transaction_id: Set(req.id.clone()),
            account_id: Set(p.account_id),
            asset: Set(p.asset.to_string()),
            amount: Set(p.amount),
            created_at: Set(now),
        })
        .collect()
}

async fn find_hold(txn: &impl ConnectionTrait, hold_id: &str) -> Result<hold::Model, LedgerError> {
    hold::Entity::find_by_id(hold_id.to_string())
        .one(txn)
        .await?
        .ok_or_else(|| LedgerError::UnknownHold(hold_id.to_string()))
}

/// Moves a hold from `held` to `status` exactly once: of concurrent
/// resolutions one changes the row, the others see it resolved.
async fn resolve_hold(
    txn: &impl ConnectionTrait,
    hold_id: &str,
    status: &str,
    by: &str,
) -> Result<hold::Model, LedgerError> {
    let changed = hold::Entity::update_many()
        .col_expr(hold::Column::Status, Expr::value(status))
        .col_expr(hold::Column::ResolvedBy, Expr::value(by))
        .filter(hold::Column::Id.eq(hold_id))
        .filter(hold::Column::Status.eq("held"))
        .exec_with_returning(txn)
        .await?;
    match changed.into_iter().next() {
        Some(h) => Ok(h),
        None => Err(LedgerError::HoldResolved {
            id: hold_id.to_string(),
            status: find_hold(txn, hold_id).await?.status,
        }),
    }
}

/// Takes `amount` from what hold `hold_id` still holds, at most all of it,
/// exactly once per call: the guard is the `WHERE`. A hold drawn to
/// nothing is executed.
async fn draw_hold(
    txn: &impl ConnectionTrait,
    hold_id: &str,
    amount: i64,
    by: &str,
) -> Result<hold::Model, LedgerError> {
    use hold::Column as C;
    let changed = hold::Entity::update_many()
        .col_expr(C::Drawn, Expr::col(C::Drawn).add(amount))
        .col_expr(
            C::Status,
            Expr::case(
                Expr::col(C::Drawn).add(amount).eq(Expr::col(C::Amount)),
                "executed",
            )
            .finally("held")
            .into(),
        )
        .col_expr(C::ResolvedBy, Expr::value(by))
        .filter(C::Id.eq(hold_id))
        .filter(C::Status.eq("held"))
        .filter(Expr::col(C::Amount).sub(Expr::col(C::Drawn)).gte(amount))
        .exec_with_returning(txn)
        .await?;
    if let Some(h) = changed.into_iter().next() {
        return Ok(h);
    }
    let h = find_hold(txn, hold_id).await?;
    Err(if h.status != "held" {
        LedgerError::HoldResolved {
            id: hold_id.to_string(),
            status: h.status,
        }
    } else {
        LedgerError::Invalid(format!(
            "the amount {amount} exceeds the {} held",
            h.amount - h.drawn
        ))
    })
}

/// Lowers what is available in a balance that may not go negative: the
/// guard is the `WHERE`, so no read-then-write race.
async fn lower_balance(
    txn: &impl ConnectionTrait,
    account: &account::Model,
    asset: &Asset,
    d: &Delta,
) -> Result<(), LedgerError> {
    use balance::Column as C;
    let changed = balance::Entity::update_many()
        .col_expr(C::Posted, Expr::col(C::Posted).add(d.posted))
        .col_expr(C::Held, Expr::col(C::Held).add(d.held))
        .filter(C::AccountId.eq(account.id.as_str()))
        .filter(C::Asset.eq(asset.as_str()))
        .filter(C::Shard.eq(0))
        .filter(
            Expr::col(C::Posted)
                .add(d.posted)
                .sub(Expr::col(C::Held))
                .sub(d.held)
                .gte(0),
        )
        .exec(txn)
        .await?;
    if changed.rows_affected != 1 {
        return Err(LedgerError::Insufficient {
            account: account.id.clone(),
            asset: asset.clone(),
        });
    }
    Ok(())
}

/// A change that cannot make the balance negative (or is an issuer's,
/// spread over a random shard row), as a row to upsert.
pub(super) fn raise(account: &account::Model, asset: &Asset, d: &Delta) -> balance::ActiveModel {
    let shard = if account.spreads_postings() {
        crate::crypto::random_below(ISSUER_SHARDS as u64) as i32
    } else {
        0
    };
    balance::ActiveModel {
        account_id: Set(account.id.clone()),
        asset: Set(asset.to_string()),
        shard: Set(shard),
        posted: Set(d.posted),
        held: Set(d.held),
    }
}

/// Adds the rows' changes to their balances, opening those that do not
/// exist yet, in one statement.
pub(super) async fn raise_balances(
    txn: &impl ConnectionTrait,
    rows: Vec<balance::ActiveModel>,
) -> Result<(), LedgerError> {
    if rows.is_empty() {
        return Ok(());
    }
    balance::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                balance::Column::AccountId,
                balance::Column::Asset,
                balance::Column::Shard,
            ])
            .value(
                balance::Column::Posted,
                Expr::col((balance::Entity, balance::Column::Posted))
                    .add(Expr::cust("excluded.posted")),
            )
            .value(
                balance::Column::Held,
                Expr::col((balance::Entity, balance::Column::Held))
                    .add(Expr::cust("excluded.held")),
            )
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

async fn entries_of(
    db: &impl ConnectionTrait,
    transaction_id: &str,
) -> Result<Vec<entry::Model>, DbErr> {
    entry::Entity::find()
        .filter(entry::Column::TransactionId.eq(transaction_id))
        .order_by_asc(entry::Column::Id)
        .all(db)
        .await
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Balance {
    pub asset: String,
    pub posted: i64,
    pub held: i64,
}

impl Balance {
    pub fn available(&self) -> i64 {
        self.posted - self.held
    }
}

/// Every asset the account has ever held, by asset name.
pub async fn balances(
    db: &impl ConnectionTrait,
    account_id: &AccountId,
) -> Result<Vec<Balance>, DbErr> {
    let rows = balance::Entity::find()
        .filter(balance::Column::AccountId.eq(account_id))
        .all(db)
        .await?;
    let mut sums: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for r in rows {
        let s = sums.entry(r.asset).or_default();
        s.0 += r.posted;
        s.1 += r.held;
    }
    Ok(sums
        .into_iter()
        .map(|(asset, (posted, held))| Balance {
            asset,
            posted,
            held,
        })
        .collect())
}

/// A page of the account's entries, newest first, after the entry id
/// `starting_after` when given; `true` when more follow.
pub async fn entries_page(
    db: &impl ConnectionTrait,
    account_id: &AccountId,
    starting_after: Option<i64>,
    limit: u64,
) -> Result<(Vec<entry::Model>, bool), DbErr> {
    crate::pagination::fetch(
        db,
        entry::Entity::find().filter(entry::Column::AccountId.eq(account_id)),
        entry::Column::Id,
        crate::pagination::Order::Descending,
        starting_after,
        limit,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transfer(postings: &[(&str, i64)]) -> Request {
        Request {
            id: "t1".into(),
            memo: None,
            command: Command::Transfer {
                postings: postings
                    .iter()
                    .map(|(a, n)| Posting {
                        account_id: a.to_string(),
                        asset: Asset::points(),
                        amount: *n,
                    })
                    .collect(),
            },
        }
    }

    #[test]
    fn static_checks() {
        assert!(validate(&transfer(&[("a", -5), ("b", 5)])).is_ok());
        assert!(matches!(
            validate(&transfer(&[("a", -5), ("b", 4)])),
            Err(LedgerError::Unbalanced { sum: -1, .. })
        ));
        assert!(matches!(
            validate(&transfer(&[])),
            Err(LedgerError::Invalid(_))
        ));
        assert!(matches!(
            validate(&transfer(&[("a", 0), ("b", 0)])),
            Err(LedgerError::Invalid(_))
        ));
        assert!(matches!(
            validate(&transfer(&[("a", -MAX_AMOUNT - 1), ("b", MAX_AMOUNT + 1)])),
            Err(LedgerError::Invalid(_))
        ));
        let mut long_id = transfer(&[("a", -1), ("b", 1)]);
        long_id.id = "x".repeat(101);
        assert!(validate(&long_id).is_err());
    }

    #[test]
    fn the_hash_covers_the_whole_request() {
        let a = transfer(&[("a", -5), ("b", 5)]);
        let b = transfer(&[("a", -6), ("b", 6)]);
        let mut c = a.clone();
        c.memo = Some("x".into());
        assert_ne!(request_hash(&a), request_hash(&b));
        assert_ne!(request_hash(&a), request_hash(&c));
        assert_eq!(request_hash(&a), request_hash(&a.clone()));
    }
}
