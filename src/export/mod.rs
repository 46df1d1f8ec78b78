//! What leaves the gateway: tables written as CSV or XLSX with no cell a
//! spreadsheet would evaluate, sealed in age envelopes to their recipients.

pub mod envelope;
mod table;

pub use table::{FileFormat, TableWriter, WriteError, defuse};
