//! Units an operation holds in the ledger until it settles or ends: taken
//! by the market's rule (oldest batch first), each batch under its own
//! hold named after the operation.

use chrono::{DateTime, FixedOffset};
use sea_orm::DatabaseTransaction;
use serde::{Deserialize, Serialize};

use crate::accounts::entity as account;
use crate::instruments::Code;
use crate::ledger::{self, Command, Draw, LedgerError, Request};
use crate::market::error::MarketError;
use crate::market::holds;
use crate::market::money;
use crate::problem::ProblemCode;

/// Grams of one batch under one hold.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Lot {
    pub batch: String,
    pub hold: String,
    pub grams: i64,
}

/// Whose units, and how a shortage is put to them.
pub struct Holder<'a> {
    pub account: &'a account::Model,
    /// Named in the problem (`the reserve`, `you`).
    pub who: &'static str,
    /// Units bought on this trading day may not go (T+1), when given.
    pub t_plus_one: Option<(&'a str, &'a str)>,
}

/// Holds `quantity` lots of `code` from `holder` under holds
/// `<prefix>:<n>`.
pub async fn hold(
    txn: &DatabaseTransaction,
    holder: &Holder<'_>,
    code: &Code,
    quantity: i64,
    prefix: &str,
    now: DateTime<FixedOffset>,
) -> Result<Vec<Lot>, MarketError> {
    let instrument = code.to_string();
    let step = money::Step::of(code.class);
    let minor = step.minor_per_lot(code.class.unit().1);
    let grams = money::to_minor(quantity, minor)
        .map_err(|e| MarketError::invalid("quantity", e.to_string()))?;
    let lots = holds::available_lots(txn, &holder.account.id, &instrument).await?;
    let available: i64 = lots.iter().map(|(_, g)| g).sum();
    if available < grams {
        let short = MarketError::Conflict(
            ProblemCode::InsufficientUnits,
            format!(
                "{} {} {} units of {instrument} available",
                holder.who,
                if holder.who == "you" { "have" } else { "has" },
                step.show(available / minor)
            ),
        );
        return Err(crate::finance::encumbrance::short_of_units(
            txn,
            short,
            &holder.account.id,
            &instrument,
            grams,
        )
        .await);
    }
    if let Some((org_id, day)) = holder.t_plus_one {
        let bought = holds::bought_on(txn, org_id, &instrument, day).await?;
        let free = available / minor - bought;
        if quantity > free {
            return Err(MarketError::Conflict(
                ProblemCode::TPlusOne,
                format!(
                    "{} of the units available were bought today and can be offered from the next trading day",
                    step.show(bought)
                ),
            ));
        }
    }
    let mut out = Vec::new();
    for (n, (batch, take)) in holds::oldest_first(lots, grams).into_iter().enumerate() {
        let id = format!("{prefix}:{n}");
        let request = Request {
            id: id.clone(),
            memo: Some(format!("units held by {prefix}")),
            command: Command::Hold {
                account_id: holder.account.id.clone(),
                asset: holds::credit_asset(&batch)?,
                amount: take,
            },
        };
        ledger::apply_within(txn, &request, &[holder.account], now)
            .await
            .map_err(|e| match e {
                LedgerError::Insufficient { .. } => MarketError::Conflict(
                    ProblemCode::InsufficientUnits,
                    format!("units of {batch} moved meanwhile; try again"),
                ),
                other => other.into(),
            })?;
        out.push(Lot {
            batch,
            hold: id,
            grams: take,
        });
    }
    Ok(out)
}

/// The draws that deliver every lot to `to`.
pub fn deliver(lots: &[Lot], to: &str) -> Vec<Draw> {
    lots.iter()
        .map(|l| Draw {
            hold_id: l.hold.clone(),
            to_account_id: Some(to.to_string()),
            amount: l.grams,
        })
        .collect()
}

/// Gives every lot back to its holder.
pub async fn release(
    txn: &DatabaseTransaction,
    lots: &[Lot],
    now: DateTime<FixedOffset>,
) -> Result<(), MarketError> {
    for l in lots {
        let request = Request {
            id: format!("{}:release", l.hold),
            memo: None,
            command: Command::Release {
                hold_id: l.hold.clone(),
            },
        };
        ledger::apply_within(txn, &request, &[], now).await?;
    }
    Ok(())
}

pub fn encode(lots: &[Lot]) -> String {
    serde_json::to_string(lots).expect("lots serialise")
}

pub fn decode(text: &str) -> Result<Vec<Lot>, MarketError> {
    serde_json::from_str(text)
        .map_err(|e| MarketError::Database(sea_orm::DbErr::Custom(format!("stored lots: {e}"))))
}
