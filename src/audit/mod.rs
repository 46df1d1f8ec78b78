//! The access log: one entry per request, allowed or refused, and per file
//! produced, downloaded or acknowledged, written in the same transaction as
//! the action it records.
//!
//! An entry says who (partner, certificate fingerprint), when, what (action,
//! route, object ids, names of the fields disclosed, row count), a keyed
//! reference to each household concerned (a set in `audit_subjects`, with
//! its count and SHA-256 committed in the entry) and the outcome — never
//! the personal data itself. Entries are numbered without gaps and each is
//! stored with its RFC 6962 leaf hash, so the Merkle tree and signed
//! checkpoints are computed over the stored rows as they are.

pub mod checkpoint;
mod entry;
pub mod instance;
mod log;
pub mod merkle;
pub mod query;
pub mod report;
pub mod reporting;
pub mod tlog;

pub use entry::{AuditRecord, MAX_STORED_CHARS, Outcome, StoredEntry, bounded, leaf_hash};
pub use log::{
    AuditError, Subjects, SubjectsDigest, append, count, prune_before, reserve,
    stage_list_subjects, stage_subjects, subjects_of, write_reserved,
};
