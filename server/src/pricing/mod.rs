//! Guidance prices: published versions per instrument with tiers by
//! district and kind of organisation, their monthly review from the
//! market, and the price corridor whose triggers call on the reserve
//! platform. Works on instruments, never on one kind of right.

pub mod adjustment;
pub mod corridor;
pub mod entity;
pub mod execution;
pub mod guidance;
mod records;
pub mod review;
pub mod routes;
pub mod rules;
pub mod stabilisation;
pub mod tiers;
