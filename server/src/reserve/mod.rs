//! The reserve platform's operations with holders (buy-back, swap, lease)
//! and claw-back, settled in the ledger at guidance prices, and the public
//! view of its cash, stock and operations. Works on instruments, never on
//! one kind of right. Its market operations (release auctions and support
//! bids) are `pricing::stabilisation`'s.

pub mod answers;
pub mod claw_back;
pub mod entity;
pub mod leases;
pub(crate) mod lots;
pub mod offers;
pub mod routes;
pub mod terms;
pub mod views;
