//! The one error type of a partner's file, from its envelope to its rows:
//! what the list and return routes answer when they refuse a file.

use super::envelope::OpenError;
use super::types::{RowErrors, TableError};

/// Why a file (a monthly list, a return) is refused.
///
/// Messages say what to do and never quote personal data (see
/// [`RowError`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// A plaintext body where the route takes only age envelopes (returns).
    #[error(
        "returns must be age-encrypted to the gateway and sent as {}: \
         age -r $(curl … /v1/recipient) -o return.age return.csv",
        super::envelope::MEDIA_TYPE
    )]
    NotEncrypted,
    /// The body is declared `application/age` but is not an age file.
    #[error(
        "the body is declared {} but is not an age file",
        super::envelope::MEDIA_TYPE
    )]
    NotAge,
    /// The age envelope does not open (or its plaintext cannot be stored).
    #[error(transparent)]
    Envelope(#[from] OpenError),
    /// The file cannot be read as a table.
    #[error(transparent)]
    Table(#[from] TableError),
    /// Required columns are absent (canonical names, contract order).
    #[error("missing required columns: {}", .0.join(", "))]
    MissingColumns(Vec<String>),
    /// Some rows are invalid: every one counted, the first ones kept
    /// (sorted by line), see [`RowErrors`].
    #[error("{}", invalid_rows_message(.0))]
    InvalidRows(RowErrors),
}

fn invalid_rows_message(errors: &RowErrors) -> String {
    match errors.first() {
        None => "the file has invalid rows".to_owned(),
        Some(first) if errors.rows() == 1 => format!("1 invalid row ({first})"),
        Some(first) => format!("{} invalid rows (first: {first})", errors.rows()),
    }
}
