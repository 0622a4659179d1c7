//! Green finance: pledges of credits and rights (and of a project's future
//! issuance) to banks, with valuation at each close, margin calls,
//! repayment and release, guarantees and enforcement by reserve
//! take-over; the public encumbrance register; carbon-sink index and price
//! insurance. Works on instruments and ledger holds, never on one kind of
//! right.

pub mod claims;
pub mod collateral;
pub mod encumbrance;
pub mod enforcement;
pub mod entity;
pub mod future;
pub mod insurance_routes;
pub mod insurance_views;
pub mod loan;
pub mod pledges;
pub mod policies;
pub mod routes;
pub mod rules;
pub mod terms;
pub mod valuation;
pub mod views;
