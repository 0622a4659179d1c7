//! Environmental rights other than carbon: what they are allocated against
//! (permits), and next their allocation, conversion, compliance and expiry
//! (docs/decisions.md, "Other environmental rights"). What each class is —
//! unit, minor unit, bureau — is `crate::instruments::Class`.

pub mod permit;
