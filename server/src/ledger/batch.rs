//! Many ledger transactions worked out in memory and written together: a
//! batch of market orders is a few hundred ledger transactions, and
//! writing each as its own statements made order entry a matter of round
//! trips (about 34 per order). A [`Batch`] applies requests to the balance
//! rows and holds it was given, with the same rules as
//! [`super::apply_within`] (the same functions of `service`), and
//! [`Batch::write`] writes the same rows: transactions, holds, balances,
//! entries and audit events, a few multi-row statements in all.
//!
//! What makes that safe: the balance rows a request may lower are read
//! and locked by [`Batch::load`] (PostgreSQL: `FOR UPDATE`; SQLite's write
//! transactions are exclusive), so nothing changes them before the batch
//! commits, and the holds it names are the caller's (it holds the lock
//! every writer of them takes). Ids must be new: a batch does not replay.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::asset::Asset;
use super::entity::{entry, hold, transaction};
use super::service::{
    changes, check_accounts, check_execute, drawn_per_hold, effects, entry_rows, event_body,
    lowers, new_hold, raise, raise_balances, request_hash, transaction_row, validate, Delta,
};
use super::{Command, LedgerError, Request};
use crate::accounts::entity::{self as account, Entity as Accounts};
use crate::audit::entity::event;

/// Rows per statement: far below PostgreSQL's 65,535 and SQLite's 32,766
/// bind parameters for the widest of these tables.
const ROWS_PER_STATEMENT: usize = 1000;

/// An audit event of the batch, by its place: [`Batch::write`] answers
/// the ids in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventRef(pub usize);

#[derive(Default)]
pub struct Batch {
    accounts: HashMap<String, account::Model>,
    /// Shard-0 balances that were read and locked, as the batch has left
    /// them: (posted, held) by (account, asset).
    balances: HashMap<(String, String), (i64, i64)>,
    /// The balances were read without a lock ([`Batch::read_balances`]):
    /// [`Batch::write_balances`] checks them.
    unlocked: bool,
    /// For each loaded balance the batch lowered: the lowest its available
    /// went, relative to what was read (≤ 0). The requests one by one
    /// would all have passed iff the balance had at least that much
    /// available.
    floors: HashMap<(String, String), i64>,
    holds: HashMap<String, hold::Model>,
    changed_holds: BTreeSet<String>,
    /// Every balance a request changed, with the sum of its changes
    /// (which may be zero: the row is written as the requests one by one
    /// would have left it).
    deltas: BTreeMap<(String, Asset), Delta>,
    ids: HashSet<String>,
    transactions: Vec<transaction::ActiveModel>,
    entries: Vec<entry::ActiveModel>,
    events: Vec<event::ActiveModel>,
}

impl Batch {
    /// A batch that may lower the balances of `accounts` in `assets`
    /// (shard 0): reads the accounts, and reads and locks those rows in
    /// (account, asset) order, the order every ledger transaction changes
    /// balances in.
    pub async fn load(
        txn: &DatabaseTransaction,
        accounts: &[String],
        assets: &[Asset],
    ) -> Result<Batch, DbErr> {
        let mut batch = Batch::default();
        batch.add_accounts(txn, accounts).await?;
        batch.lock_balances(txn, accounts, assets).await?;
        Ok(batch)
    }

    /// Reads and locks the shard-0 balances of `accounts` in `assets`, in
    /// (account, asset) order; the batch may then lower them. Rows that do
    /// not exist are taken as empty.
    pub async fn lock_balances(
        &mut self,
        txn: &DatabaseTransaction,
        accounts: &[String],
        assets: &[Asset],
    ) -> Result<(), DbErr> {
        self.load_balances(txn, accounts, assets, true).await
    }

    /// Reads the shard-0 balances of `accounts` in `assets` without
    /// locking them: other batches do not wait for them until
    /// [`Batch::write_balances`] locks and checks them, as its last
    /// statement. On SQLite, whose write transactions are exclusive, this
    /// is [`Batch::lock_balances`].
    pub async fn read_balances(
        &mut self,
        txn: &DatabaseTransaction,
        accounts: &[String],
        assets: &[Asset],
    ) -> Result<(), DbErr> {
        let postgres = txn.get_database_backend() == sea_orm::DbBackend::Postgres;
        self.unlocked |= postgres;
        self.load_balances(txn, accounts, assets, false).await
    }

    async fn load_balances(
        &mut self,
        txn: &DatabaseTransaction,
        accounts: &[String],
        assets: &[Asset],
        lock: bool,
    ) -> Result<(), DbErr> {
        if accounts.is_empty() || assets.is_empty() {
            return Ok(());
        }
        let mut ids = accounts.to_vec();
        ids.sort();
        ids.dedup();
        let names: Vec<String> = assets.iter().map(|a| a.to_string()).collect();
        use super::entity::balance;
        let mut q = balance::Entity::find()
            .filter(balance::Column::AccountId.is_in(ids.clone()))
            .filter(balance::Column::Asset.is_in(names.clone()))
            .filter(balance::Column::Shard.eq(0))
            .order_by_asc(balance::Column::AccountId)
            .order_by_asc(balance::Column::Asset);
        if lock && txn.get_database_backend() == sea_orm::DbBackend::Postgres {
            q = q.lock_exclusive();
        }
        let rows = q.all(txn).await?;
        // A balance loaded before keeps what the batch did to it.
        let mut fresh = HashSet::new();
        for a in &ids {
            for n in &names {
                let key = (a.clone(), n.clone());
                if !self.balances.contains_key(&key) {
                    self.balances.insert(key.clone(), (0, 0));
                    fresh.insert(key);
                }
            }
        }
        for row in rows {
            let key = (row.account_id, row.asset);
            if fresh.contains(&key) {
                self.balances.insert(key, (row.posted, row.held));
            }
        }
        Ok(())
    }

    /// An account the batch knows.
    pub fn account(&self, id: &str) -> Option<&account::Model> {
        self.accounts.get(id)
    }

    /// Reads the accounts not known yet (accounts are never deleted and
    /// their flags never change). Their balances are not locked: the batch
    /// may only raise them.
    pub async fn add_accounts(
        &mut self,
        txn: &impl ConnectionTrait,
        ids: &[String],
    ) -> Result<(), DbErr> {
        let unknown: Vec<String> = ids
            .iter()
            .filter(|id| !self.accounts.contains_key(*id))
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        for a in Accounts::find()
            .filter(account::Column::Id.is_in(unknown))
            .all(txn)
            .await?
        {
            self.accounts.insert(a.id.clone(), a);
        }
        Ok(())
    }

    /// An account the caller has read already.
    pub fn know_account(&mut self, a: account::Model) {
        self.accounts.insert(a.id.clone(), a);
    }

    /// A hold made before the batch, as it is now (the caller reads it
    /// under the lock every writer of it takes).
    pub fn know_hold(&mut self, h: hold::Model) {
        self.holds.entry(h.id.clone()).or_insert(h);
    }

    /// A hold as the batch has left it.
    pub fn hold(&self, id: &str) -> Option<&hold::Model> {
        self.holds.get(id)
    }

    /// What hold `id` still holds (0 when it is resolved or unknown).
    pub fn left_in(&self, id: &str) -> i64 {
        self.holds
            .get(id)
            .filter(|h| h.status == "held")
            .map_or(0, |h| h.amount - h.drawn)
    }

    /// A loaded balance (shard 0) as the batch has left it: (posted,
    /// held); `None` when it was not loaded.
    pub fn balance(&self, account_id: &str, asset: &Asset) -> Option<(i64, i64)> {
        self.balances
            .get(&(account_id.to_string(), asset.to_string()))
            .copied()
    }

    /// Applies `req` to the batch, all of it or (on an error) nothing, by
    /// the rules [`super::apply_within_noted`] applies (`note` as there).
    pub fn apply(
        &mut self,
        req: &Request,
        note: Option<serde_json::Value>,
        now: DateTime<FixedOffset>,
    ) -> Result<(), LedgerError> {
        validate(req)?;
        if self.ids.contains(&req.id) || self.holds.contains_key(&req.id) {
            return Err(LedgerError::IdReused(req.id.clone()));
        }
        let named = self.named_holds(req)?;
        let (deltas, postings) = effects(req, &named)?;
        check_accounts(&deltas, &self.accounts)?;
        for ((account_id, asset), d) in &deltas {
            if (d.posted == 0 && d.held == 0) || !lowers(&self.accounts[account_id], d) {
                continue;
            }
            let Some((posted, held)) = self.balance(account_id, asset) else {
                return Err(LedgerError::Database(DbErr::Custom(format!(
                    "the batch lowers {account_id}'s {asset}, which it did not load"
                ))));
            };
            if posted + d.posted - held - d.held < 0 {
                return Err(LedgerError::Insufficient {
                    account: account_id.clone(),
                    asset: asset.clone(),
                });
            }
        }

        // Checked: from here nothing fails.
        self.resolve_holds(req, now);
        for (key, d) in &deltas {
            if d.posted == 0 && d.held == 0 {
                continue;
            }
            let loaded = (key.0.clone(), key.1.to_string());
            if let Some(b) = self.balances.get_mut(&loaded) {
                b.0 += d.posted;
                b.1 += d.held;
                let moved =
                    self.deltas.get(key).map_or(0, |s| s.posted - s.held) + d.posted - d.held;
                if moved < 0 && !self.accounts[&key.0].allow_negative {
                    let floor = self.floors.entry(loaded).or_insert(0);
                    *floor = (*floor).min(moved);
                }
            }
            let sum = self.deltas.entry(key.clone()).or_default();
            sum.posted += d.posted;
            sum.held += d.held;
        }
        self.ids.insert(req.id.clone());
        self.transactions
            .push(transaction_row(req, &request_hash(req), now));
        self.entries.extend(entry_rows(req, postings, now));
        let (body, salt) = event_body(req, &changes(&deltas, &self.accounts), note);
        self.events
            .push(crate::audit::log::row("ledger", body, salt.as_ref(), now));
        Ok(())
    }

    /// The holds `req` names, checked as the guarded updates of the
    /// one-by-one path check them.
    fn named_holds(&self, req: &Request) -> Result<HashMap<String, hold::Model>, LedgerError> {
        let held = |id: &str| {
            let h = self
                .holds
                .get(id)
                .ok_or_else(|| LedgerError::UnknownHold(id.to_string()))?;
            if h.status != "held" {
                return Err(LedgerError::HoldResolved {
                    id: id.to_string(),
                    status: h.status.clone(),
                });
            }
            Ok(h)
        };
        let mut named = HashMap::new();
        match &req.command {
            Command::Transfer { .. } | Command::Hold { .. } => {}
            Command::Release { hold_id } => {
                named.insert(hold_id.clone(), held(hold_id)?.clone());
            }
            Command::Execute {
                hold_id, amount, ..
            } => {
                // In the one-by-one path's order: the amount, then the
                // hold's state.
                let h = self
                    .holds
                    .get(hold_id)
                    .ok_or_else(|| LedgerError::UnknownHold(hold_id.clone()))?;
                check_execute(h, *amount)?;
                named.insert(hold_id.clone(), held(hold_id)?.clone());
            }
            Command::Settle { draws } => {
                for (hold_id, total) in drawn_per_hold(draws) {
                    let h = held(hold_id)?;
                    if total > h.amount - h.drawn {
                        return Err(LedgerError::Invalid(format!(
                            "the amount {total} exceeds the {} held",
                            h.amount - h.drawn
                        )));
                    }
                    named.insert(hold_id.to_string(), h.clone());
                }
            }
        }
        Ok(named)
    }

    /// The holds as the one-by-one path's updates leave them.
    fn resolve_holds(&mut self, req: &Request, now: DateTime<FixedOffset>) {
        let by = Some(req.id.clone());
        let mut resolve = |id: &str, status: &str| {
            let h = self.holds.get_mut(id).expect("checked");
            h.status = status.to_string();
            h.resolved_by = by.clone();
            self.changed_holds.insert(id.to_string());
        };
        match &req.command {
            Command::Transfer { .. } => {}
            Command::Hold {
                account_id,
                asset,
                amount,
            } => {
                let h = new_hold(req, account_id, asset, *amount, now);
                self.holds.insert(req.id.clone(), h);
                self.changed_holds.insert(req.id.clone());
            }
            Command::Release { hold_id } => resolve(hold_id, "released"),
            Command::Execute { hold_id, .. } => resolve(hold_id, "executed"),
            Command::Settle { draws } => {
                for (hold_id, total) in drawn_per_hold(draws) {
                    let h = self.holds.get_mut(hold_id).expect("checked");
                    h.drawn += total;
                    h.status = if h.drawn == h.amount {
                        "executed"
                    } else {
                        "held"
                    }
                    .into();
                    h.resolved_by = by.clone();
                    self.changed_holds.insert(hold_id.to_string());
                }
            }
        }
    }

    /// Adds an audit event of the caller's (in the log after the events
    /// of the requests applied so far).
    pub fn event(
        &mut self,
        kind: &str,
        body: serde_json::Value,
        now: DateTime<FixedOffset>,
    ) -> EventRef {
        self.events
            .push(crate::audit::log::row(kind, body, None, now));
        EventRef(self.events.len() - 1)
    }

    /// Writes the batch in the caller's transaction; answers the audit
    /// events' ids in the order they were added, or `None` when balances
    /// read by [`Batch::read_balances`] changed meanwhile so that a
    /// request would have been refused (the caller rolls back and runs
    /// again with [`Batch::lock_balances`]).
    pub async fn write(mut self, txn: &DatabaseTransaction) -> Result<Option<Vec<i64>>, DbErr> {
        let ids = self.write_rows(txn).await?;
        Ok(self.write_balances(txn).await?.then_some(ids))
    }

    /// Writes everything but the balances; answers the audit events' ids
    /// in the order they were added. [`Batch::write_balances`] must follow
    /// in the same transaction.
    pub async fn write_rows(&mut self, txn: &DatabaseTransaction) -> Result<Vec<i64>, DbErr> {
        for rows in chunks(std::mem::take(&mut self.transactions)) {
            transaction::Entity::insert_many(rows)
                .exec_without_returning(txn)
                .await?;
        }
        let holds: Vec<hold::ActiveModel> = self
            .changed_holds
            .iter()
            // Set and unchanged values are all written: a new hold is
            // inserted whole, a changed one takes the batch's drawn, status
            // and resolver.
            .map(|id| self.holds[id].clone().into_active_model())
            .collect();
        for rows in chunks(holds) {
            hold::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::column(hold::Column::Id)
                        .update_columns([
                            hold::Column::Drawn,
                            hold::Column::Status,
                            hold::Column::ResolvedBy,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(txn)
                .await?;
        }
        for rows in chunks(std::mem::take(&mut self.entries)) {
            entry::Entity::insert_many(rows)
                .exec_without_returning(txn)
                .await?;
        }
        let mut ids = Vec::with_capacity(self.events.len());
        for rows in chunks(std::mem::take(&mut self.events)) {
            let leaves: Vec<String> = rows
                .iter()
                .map(|r| match &r.leaf {
                    sea_orm::ActiveValue::Set(l) => l.clone(),
                    _ => String::new(),
                })
                .collect();
            let mut written = event::Entity::insert_many(rows)
                .exec_with_returning(txn)
                .await?;
            // Ids are taken in the order of the rows (a sequence on
            // PostgreSQL, consecutive row ids in SQLite's exclusive write
            // transaction); RETURNING's order is not promised, the ids'
            // is.
            written.sort_by_key(|e| e.id);
            if written.len() != leaves.len()
                || written.iter().zip(&leaves).any(|(e, l)| &e.leaf != l)
            {
                return Err(DbErr::Custom(
                    "audit events were not numbered in the order they were written".into(),
                ));
            }
            ids.extend(written.into_iter().map(|e| e.id));
        }
        Ok(ids)
    }

    /// Writes the balances, last: the rows other batches wait for are
    /// locked only from here to the commit. Balances read without a lock
    /// are locked now (in account, asset order) and checked: `false` when
    /// one has less available than the batch's requests needed (it was
    /// read before another transaction lowered it); nothing is written
    /// then.
    pub async fn write_balances(self, txn: &DatabaseTransaction) -> Result<bool, DbErr> {
        if self.unlocked {
            let keys: Vec<(String, String)> = self
                .deltas
                .keys()
                .filter(|(a, _)| !self.accounts[a].spreads_postings())
                .map(|(a, asset)| (a.clone(), asset.to_string()))
                .collect();
            let now = locked(txn, &keys).await?;
            for (key, floor) in &self.floors {
                let (posted, held) = now.get(key).copied().unwrap_or((0, 0));
                if posted - held + floor < 0 {
                    return Ok(false);
                }
            }
        }
        let balances: Vec<_> = self
            .deltas
            .iter()
            .map(|((account_id, asset), d)| raise(&self.accounts[account_id], asset, d))
            .collect();
        for rows in chunks(balances) {
            raise_balances(txn, rows).await.map_err(|e| match e {
                LedgerError::Database(e) => e,
                other => DbErr::Custom(other.to_string()),
            })?;
        }
        Ok(true)
    }
}

/// Locks the shard-0 rows of `keys` (account, asset), in that order;
/// answers their (posted, held).
async fn locked(
    txn: &DatabaseTransaction,
    keys: &[(String, String)],
) -> Result<HashMap<(String, String), (i64, i64)>, DbErr> {
    use super::entity::balance;
    let mut out = HashMap::new();
    if keys.is_empty() || txn.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(out);
    }
    let mut which = sea_orm::Condition::any();
    for (account, asset) in keys {
        which = which.add(
            sea_orm::Condition::all()
                .add(balance::Column::AccountId.eq(account.as_str()))
                .add(balance::Column::Asset.eq(asset.as_str())),
        );
    }
    let rows = balance::Entity::find()
        .filter(which)
        .filter(balance::Column::Shard.eq(0))
        .order_by_asc(balance::Column::AccountId)
        .order_by_asc(balance::Column::Asset)
        .lock_exclusive()
        .all(txn)
        .await?;
    for r in rows {
        out.insert((r.account_id, r.asset), (r.posted, r.held));
    }
    Ok(out)
}

fn chunks<T>(mut rows: Vec<T>) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    while rows.len() > ROWS_PER_STATEMENT {
        let rest = rows.split_off(ROWS_PER_STATEMENT);
        out.push(std::mem::replace(&mut rows, rest));
    }
    if !rows.is_empty() {
        out.push(rows);
    }
    out
}
