//! Intake of partner files: a body in, typed rows out.
//!
//! [`intake::open_body`] opens what a partner sent (an age envelope is
//! decrypted by [`envelope`]) into a [`Spool`], the same way for a monthly
//! list and for a return. [`read_table`] reads any CSV (comma, semicolon or
//! tab; UTF-8, UTF-8 with BOM, Windows-1252) or XLSX file into a [`Table`]
//! of text cells with normalised headers; [`read_list`] and
//! [`read_return`] type its rows with one row checker and refuse a file
//! with one error type, [`FileError`].
//!
//! Dependencies inside the module go one way: `types` and `spool` are
//! leaves; `decode` and `xlsx` use them; `table` uses `decode` and `xlsx`;
//! `check` uses `table`; `list` and `returns` use `check`; `intake` uses
//! `envelope`. Nothing here depends on `export` (what leaves the gateway).
//!
//! Readers read a [`Spool`]: bytes in memory, or an unnamed temporary file
//! (what `POST /v1/lists` and `POST /v1/returns` receive). From a file, nothing grows with the
//! file's size for CSV: the upload, its age plaintext and (for
//! Windows-1252 or UTF-16) its UTF-8 transcoding are temporary files read
//! in streaming passes; memory holds the header, buffers of a few tens of
//! KiB and one record at a time. For XLSX the archive is read from the file
//! but the first sheet's non-blank cells (and calamine's shared strings)
//! are held in memory.

mod check;
pub mod decode;
pub mod envelope;
mod error;
pub mod intake;
pub mod list;
pub mod procedures;
pub mod returns;
pub mod spool;
pub mod table;
mod types;
pub mod xlsx;

pub use decode::{Utf8Spool, decode_spool};
pub use error::FileError;
pub use list::{CdpRow, Checked, ListFile, read_list};
pub use returns::{ReturnFile, open_return, read_return};
pub use spool::{Spool, SpoolError, SpoolReader, SpoolWriter};
pub use table::{Row, Rows, Table, read_table};
pub use types::{Cell, Limits, MAX_ERROR_DETAILS, RowError, RowErrors, TableError};
