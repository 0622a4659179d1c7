//! The registry: enterprise projects and forest sinks, their public notice
//! and approval, monitoring reports and verification, issuance of credit
//! batches with serial numbers, transfers, retirements and certificates.

pub mod rules;
