//! `/api/v1/market/*`: instruments, cash, and (public) market data. Thin:
//! parse, call the service, map.

mod attestations;
mod auctions;
mod blocks;
mod cash;
mod instruments;
mod live;
mod orders;

pub use attestations::*;
pub use auctions::*;
pub use blocks::*;
pub use cash::*;
pub use instruments::*;
pub use live::*;
pub use orders::*;
