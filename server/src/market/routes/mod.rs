//! `/api/v1/market/*`: instruments, cash, and (public) market data. Thin:
//! parse, call the service, map.

mod cash;
mod instruments;

pub use cash::*;
pub use instruments::*;
