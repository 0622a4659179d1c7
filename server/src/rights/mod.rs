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
