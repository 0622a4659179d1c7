//! Environmental rights other than carbon: allocation (确权) against
//! permits and indicators confirmed from verified activity, conversion of
//! free allocations (补缴), paid allocations' instalments, verified use
//! and surrender, expiry, and the public list of trades in rights
//! (docs/decisions.md, "Other environmental rights"). What each class is —
//! unit, minor unit, bureau — is `crate::instruments::Class`; rights trade,
//! are priced, reserved and pledged as instruments like carbon.

pub mod allocation;
pub mod benchmark;
pub mod compliance;
pub mod conversion;
pub mod entity;
pub mod expiry;
pub mod instalments;
pub mod payment;
pub mod permit;
pub mod routes;
pub mod rules;
pub mod trades;
pub mod views;

use crate::amount::Units;
use crate::instruments::Class;
use crate::market::error::MarketError;
use crate::market::money::{self, Step};

/// A quantity of `class` in a request (field `param`): whole steps of the
/// class (0.01 mu of land, one unit of the others), as lots and as ledger
/// minor units.
pub(crate) fn quantity(
    class: Class,
    param: &'static str,
    units: Units,
) -> Result<(i64, i64), MarketError> {
    let step = Step::of(class);
    let lots = crate::market::orders::lots(step, param, units)?;
    let grams = money::to_minor(lots, step.minor_per_lot(class.unit().1))
        .map_err(|e| MarketError::invalid(param, e.to_string()))?;
    Ok((lots, grams))
}
