//! Readers for partner files: bytes in, typed rows out.
//!
//! [`read_table`] reads any CSV (comma, semicolon or tab; UTF-8, UTF-8 with
//! BOM, Windows-1252) or XLSX file into a [`Table`] of text cells with
//! normalised headers; [`read_list`] builds the monthly CDP list on top of it.
//!
//! Both read a [`Spool`]: bytes in memory, or an unnamed temporary file
//! (what `POST /v1/lists` receives). From a file, nothing grows with the
//! file's size for CSV: the upload, its age plaintext and (for
//! Windows-1252 or UTF-16) its UTF-8 transcoding are temporary files read
//! in streaming passes; memory holds the header, buffers of a few tens of
//! KiB and one record at a time. For XLSX the archive is read from the file
//! but the first sheet's non-blank cells (and calamine's shared strings)
//! are held in memory.

pub mod decode;
pub mod list;
pub mod returns;
pub mod spool;
pub mod table;
pub mod xlsx;

use serde::Serialize;

pub use decode::{Utf8Spool, decode_spool};
pub use list::{CdpRow, Checked, ListError, ListFile, read_list};
pub use spool::{Spool, SpoolError, SpoolReader, SpoolWriter};
pub use table::{Cell, Row, Rows, Table, TableError, read_table};

/// Resource limits applied while reading an untrusted file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum number of data rows (the header excluded, empty rows ignored).
    pub max_rows: usize,
    /// Maximum number of characters in one cell.
    pub max_cell_chars: usize,
    /// Maximum total decompressed size of all the parts of an XLSX file.
    pub max_xlsx_uncompressed_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_rows: 200_000,
            max_cell_chars: 2_000,
            max_xlsx_uncompressed_bytes: 256 * 1024 * 1024,
        }
    }
}

/// A problem on one row of a file.
///
/// Messages never contain names, addresses, phone numbers, e-mails or
/// amounts: they may be logged. They may quote a date, a postal code, a
/// landlord type or a `ref_cdp`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// Line in the file (the header is line 1; for XLSX the sheet row).
    pub line: u64,
    /// Column concerned, by canonical name when known.
    pub column: Option<String>,
    /// What is wrong, in a sentence an agent can act on.
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}
