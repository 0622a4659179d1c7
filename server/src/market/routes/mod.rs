//! `/api/v1/market/*`: instruments, cash, and (public) market data. Thin:
//! parse, call the service, map.

mod cash;
mod instruments;
mod orders;

pub use cash::*;
pub use instruments::*;
pub use orders::*;
