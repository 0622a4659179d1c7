//! The double-entry ledger (see [`service`]).

pub mod asset;
pub mod batch;
pub mod entity;
pub mod service;

pub use asset::Asset;
pub use batch::{Batch, EventRef};
pub use service::{
    apply, apply_within, apply_within_noted, balances, entries_page, Command, Draw, LedgerError,
    Outcome, Posting, Request,
};
