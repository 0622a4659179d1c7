//! `carbon-calc`: Tanpuhui's carbon accounting, the one place where
//! reductions are computed. The server links it natively; phones and WeChat
//! mini-programs load it as WebAssembly (see `wasm.rs`) to estimate on the
//! device and to check audit proofs offline.
//!
//! Pure and deterministic: no I/O, no clock, no floating point in anything
//! that is credited (decimals throughout; floats only for GPS geometry, with
//! `libm` so both targets agree bit for bit).
//!
//! Every calculator takes and returns the JSON shapes of the REST API (see
//! [`json::call`]); the typed functions behind them are public for the
//! server.

pub mod commute;
pub mod coords;
pub mod decimal;
pub mod error;
pub mod forest;
pub mod grid;
pub mod insurance;
pub mod json;
pub mod merkle;
pub mod methane;
pub mod methodology;
pub mod plausibility;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use decimal::Dec;
pub use error::{CalcError, CalcResult, ErrorCode};
pub use methodology::Catalog;
