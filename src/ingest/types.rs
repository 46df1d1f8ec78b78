//! The readers' shared vocabulary: resource limits, text cells, and the
//! errors of a table and of a row.
//!
//! A leaf: it imports nothing from `ingest`, so that `decode`, `xlsx` and
//! `table` (and the list and return readers above them) depend on it and
//! never on each other in a circle.

use serde::Serialize;

/// Resource limits applied while reading an untrusted file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum number of data rows (the header excluded, empty rows ignored).
    pub max_rows: usize,
    /// Maximum number of characters in one cell.
    pub max_cell_chars: usize,
    /// Maximum total decompressed size of all the parts of an XLSX file.
    pub max_xlsx_uncompressed_bytes: u64,
    /// Maximum number of non-blank cells of an XLSX sheet, and of its
    /// shared strings: what bounds the memory of reading one.
    pub max_xlsx_cells: usize,
    /// Maximum total bytes of text of the cells held while an XLSX sheet
    /// is read (the gateway gives its `max_body_bytes`: a sheet never
    /// holds more text than a CSV body could carry).
    pub max_xlsx_text_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_rows: 200_000,
            max_cell_chars: 2_000,
            max_xlsx_uncompressed_bytes: 256 * 1024 * 1024,
            max_xlsx_cells: 3_000_000,
            max_xlsx_text_bytes: 64 * 1024 * 1024,
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

/// How many row errors a refusal lists: the first ones by line; the
/// answer also gives the total (docs/convention.md "Errors").
pub const MAX_ERROR_DETAILS: usize = 100;

/// The errors of a refused file's rows, bounded: the first
/// [`MAX_ERROR_DETAILS`] kept (in line order), every one counted, and the
/// number of distinct bad lines. Memory and the answer stay small however
/// many rows are bad (200,000 bad rows once made a 205 MB answer).
///
/// Errors are pushed in line order (rows are read in file order); several
/// errors of one line follow each other.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RowErrors {
    shown: Vec<RowError>,
    total: usize,
    rows: usize,
    last_line: Option<u64>,
}

impl RowErrors {
    /// No error yet.
    pub fn new() -> RowErrors {
        RowErrors::default()
    }

    /// Counts an error, keeping it if fewer than [`MAX_ERROR_DETAILS`]
    /// are kept.
    pub fn push(&mut self, e: RowError) {
        if self.last_line != Some(e.line) {
            self.rows += 1;
            self.last_line = Some(e.line);
        }
        self.total += 1;
        if self.shown.len() < MAX_ERROR_DETAILS {
            self.shown.push(e);
        }
    }

    /// No error at all.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Every error counted (kept or not).
    pub fn total(&self) -> usize {
        self.total
    }

    /// Distinct lines with an error.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Whether some errors were counted but not kept.
    pub fn truncated(&self) -> bool {
        self.total > self.shown.len()
    }

    /// Sorts the kept errors by line (stable).
    pub fn sort(&mut self) {
        self.shown.sort_by_key(|e| e.line);
    }
}

impl Extend<RowError> for RowErrors {
    fn extend<I: IntoIterator<Item = RowError>>(&mut self, iter: I) {
        for e in iter {
            self.push(e);
        }
    }
}

impl FromIterator<RowError> for RowErrors {
    fn from_iter<I: IntoIterator<Item = RowError>>(iter: I) -> RowErrors {
        let mut out = RowErrors::new();
        out.extend(iter);
        out
    }
}

impl From<Vec<RowError>> for RowErrors {
    fn from(v: Vec<RowError>) -> RowErrors {
        v.into_iter().collect()
    }
}

impl std::ops::Deref for RowErrors {
    type Target = [RowError];
    /// The kept errors.
    fn deref(&self) -> &[RowError] {
        &self.shown
    }
}

impl IntoIterator for RowErrors {
    type Item = RowError;
    type IntoIter = std::vec::IntoIter<RowError>;
    fn into_iter(self) -> Self::IntoIter {
        self.shown.into_iter()
    }
}

impl<'a> IntoIterator for &'a RowErrors {
    type Item = &'a RowError;
    type IntoIter = std::slice::Iter<'a, RowError>;
    fn into_iter(self) -> Self::IntoIter {
        self.shown.iter()
    }
}

/// A file that cannot be read as a table at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TableError {
    /// The file holds no data.
    #[error("the file is empty")]
    Empty,
    /// The file is binary and neither CSV text nor an XLSX workbook (an old
    /// `.xls`, a PDF…).
    #[error("the file is neither a CSV text file nor an XLSX workbook")]
    Binary,
    /// The text is UTF-8 in part (it has valid multi-byte sequences) but
    /// holds a byte that is not: a file damaged or pasted together from
    /// two encodings. Refused rather than guessed.
    #[error(
        "line {line}, byte 0x{byte:02X}: the file is UTF-8 but holds a byte that is not \
         valid UTF-8 (ligne {line}, octet 0x{byte:02X} : le fichier est en UTF-8 mais \
         contient un octet invalide); save it again as UTF-8"
    )]
    MixedEncoding {
        /// The line of the first invalid byte (from 1).
        line: u64,
        /// That byte.
        byte: u8,
    },
    /// The first line (first row of the sheet) names no column.
    #[error("the file has no header: the first line must name the columns")]
    NoHeader,
    /// Two header cells name the same column once normalised.
    #[error("the column {column} appears more than once in the header")]
    DuplicateColumn {
        /// The header cell as written in the file.
        column: String,
    },
    /// More data rows than allowed.
    #[error("the file has more than {max} rows")]
    TooManyRows {
        /// The limit.
        max: usize,
    },
    /// The XLSX archive decompresses to more than the limit (zip bomb).
    #[error("the XLSX file is too large once decompressed (more than {limit} bytes)")]
    XlsxTooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// The XLSX sheet (or its shared strings table) holds more cells than
    /// allowed: refused before it fills memory.
    #[error(
        "the XLSX file holds more than {max} cells (or shared strings); \
         send the list as CSV or split it"
    )]
    XlsxTooManyCells {
        /// The limit.
        max: usize,
    },
    /// The cells of an XLSX sheet hold more text than allowed (a long
    /// shared string repeated in many cells).
    #[error(
        "the XLSX file's cells hold more than {max} bytes of text; \
         send the list as CSV or split it"
    )]
    XlsxTooMuchText {
        /// The limit, in bytes.
        max: usize,
    },
    /// The XLSX workbook is corrupt or unsupported.
    #[error("the XLSX file cannot be read: {0}")]
    Xlsx(String),
    /// The CSV text cannot be parsed.
    #[error("CSV error on line {line}: {reason}")]
    Csv {
        /// Line in the file.
        line: u64,
        /// What went wrong.
        reason: String,
    },
    /// The temporary file holding the content cannot be written or read
    /// (the gateway's fault, not the file's).
    #[error("the file could not be stored for reading: {0}")]
    Storage(String),
}

/// One cell, as text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cell {
    /// The text, trimmed. Spreadsheet numbers are written as integers
    /// (`8510`) or with a `.` decimal point; date cells as `AAAA-MM-JJ`.
    pub text: String,
    /// True when the spreadsheet stored a number (so leading zeros of a
    /// postal code or phone number may have been dropped). Always false
    /// for CSV.
    pub numeric: bool,
}
