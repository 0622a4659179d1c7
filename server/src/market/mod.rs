//! The market: instruments, cash, orders and their matching, settlement
//! delivery-versus-payment, daily closes and market data. `matching` is
//! the pure rule; everything else works on instruments, never on one kind
//! of right.

pub mod allocation;
pub mod attestation;
pub mod auctions;
pub mod blocks;
pub mod book;
pub mod cash;
pub mod close;
pub mod engine;
pub mod entity;
pub mod error;
pub mod feed;
pub(crate) mod holds;
pub mod lanes;
pub mod listing;
pub mod matching;
pub mod money;
pub mod orders;
pub mod participants;
pub mod picks;
pub mod positions;
pub(crate) mod retry;
pub mod routes;
pub mod rules;
pub mod settlement;
