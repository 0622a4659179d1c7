//! The tamper-evident log of DESIGN.md: every committed registry, ledger
//! and trip event is appended in its own transaction ([`log::append`]), a
//! single sealer ([`sealer`]) makes it an RFC 9162 Merkle tree with Ed25519
//! signed heads, anyone can fetch heads, proofs and entries ([`routes`]),
//! and `tanpuhui audit verify` ([`verify`]) recomputes it all.

pub mod entity;
pub mod log;
pub mod proofs;
pub mod routes;
pub mod sealer;
pub mod signer;
pub mod tree;
pub mod verify;
pub mod views;
