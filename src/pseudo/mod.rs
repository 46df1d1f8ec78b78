//! Pseudonymisation (ENISA 2019, EDPB guidelines 01/2025): keyed tokens and
//! sealing at rest, all derived from one root key.
//!
//! Keys are derived with HKDF-SHA-256 (RFC 5869) from the root key, one
//! derivation per purpose and per partner (domain separation), each label
//! carrying a version (`v1`) so that a new key or normaliser is a rotation,
//! not a rewrite. Tokens are HMAC-SHA-256 (RFC 2104) truncated to 128 bits.
//! This module never logs and never returns what it was given.

mod keys;
mod seal;

pub use keys::{CaseTokens, Pseudonymiser, household_identity};
pub use seal::SealError;
