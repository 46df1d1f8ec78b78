//! The workflow: what happens when a list arrives, when a partner fetches
//! or acknowledges a file. Each step runs in one store transaction with its
//! audit entries.

mod actor;
pub mod cases;
pub mod concertation;
pub mod lists;
pub mod outbox;
pub mod returns;
pub mod routing;

pub use actor::Actor;

/// A step failed. Partners see `code` and `message`; causes go to the log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CircuitError {
    /// A file (a list, a return) is refused: its envelope, its table or
    /// its rows.
    #[error(transparent)]
    File(#[from] crate::ingest::FileError),
    /// The same content was already received for another period.
    #[error("this content was already received as list {list_id} for period {period}")]
    OtherPeriod {
        /// The earlier list.
        list_id: String,
        /// Its period.
        period: String,
    },
    /// No such object for this caller.
    #[error("not found")]
    NotFound,
    /// Rows name cases this partner may not act on.
    #[error("{message}")]
    NotYourCase {
        /// Summary.
        message: String,
        /// `(line or 0, token, why)`.
        lines: Vec<(u64, String, String)>,
    },
    /// Cases already decided, or a transition the case's state forbids.
    #[error("{message}")]
    Conflict {
        /// Summary.
        message: String,
        /// `(line or 0, token, why)`.
        lines: Vec<(u64, String, String)>,
    },
    /// A request that names something invalid.
    #[error("{0}")]
    BadRequest(String),
    /// A sealed record did not open (wrong key or altered database).
    #[error("sealed record: {0}")]
    Sealed(String),
    /// Storage.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// Writing a file.
    #[error(transparent)]
    Write(#[from] crate::export::WriteError),
    /// Encrypting a file.
    #[error(transparent)]
    Envelope(#[from] crate::export::envelope::EnvelopeError),
}

impl From<sqlx::Error> for CircuitError {
    fn from(e: sqlx::Error) -> Self {
        CircuitError::Store(e.into())
    }
}

impl From<crate::audit::AuditError> for CircuitError {
    fn from(e: crate::audit::AuditError) -> Self {
        CircuitError::Store(e.into())
    }
}
