//! The service layer: every operation of the circuit — accept a list,
//! apply a return, route a list, open a concertation, decide, read the
//! alerts and figures, fetch and acknowledge files, answer the DPO — is a
//! function here that takes the [`Actor`] and typed input, checks the
//! actor's roles, runs in one store transaction with its audit entries and
//! returns a typed result. Adapters (the API in `http/`, the console to
//! come) parse, call and render; they hold no rule and no SQL. The SQL is
//! `store`'s and `audit`'s; this module never writes any.

mod actor;
pub mod alerts;
pub mod cases;
pub mod concertation;
pub mod desk;
pub mod dpo;
pub mod figures;
pub mod lists;
pub mod outbox;
pub mod procedures;
pub mod returns;
pub mod routing;
pub mod todo;

pub use actor::Actor;

/// The bounds a partner's file is read under, from the gateway's
/// `[limits]` (an XLSX sheet never holds more text than a body could
/// carry).
pub(crate) fn reading_limits(app: &crate::app::App) -> crate::ingest::Limits {
    let l = &app.config.gateway.limits;
    crate::ingest::Limits {
        max_rows: l.max_rows,
        max_cell_chars: l.max_cell_chars,
        max_xlsx_uncompressed_bytes: l.max_xlsx_uncompressed_bytes,
        max_xlsx_cells: l.max_xlsx_cells,
        max_xlsx_text_bytes: l.max_body_bytes,
    }
}

/// Writes one audit entry on its own, in its own transaction: what an
/// adapter records outside any operation (a page or an answer served, a
/// refused handshake, a summary of refusals).
pub async fn audit_alone(
    app: &crate::app::App,
    rec: &crate::audit::AuditRecord,
) -> Result<(), CircuitError> {
    let mut tx = app.store.begin().await?;
    crate::audit::append(&mut tx, rec).await?;
    tx.commit().await?;
    Ok(())
}

/// A step failed. Partners see `code` and `message`; causes go to the log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CircuitError {
    /// The actor holds none of the roles the operation needs (their names,
    /// joined by " or ").
    #[error("this operation needs the role {0}")]
    Forbidden(String),
    /// A file (a list, a return) is refused: its envelope, its table or
    /// its rows.
    #[error(transparent)]
    File(#[from] crate::ingest::FileError),
    /// The same content was already received for another period.
    #[error("this content was already received as {list_id} for period {period}")]
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
    /// The audit log could not be written (the action fails with it).
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
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

impl From<crate::audit::tlog::TlogError> for CircuitError {
    fn from(e: crate::audit::tlog::TlogError) -> Self {
        match e {
            crate::audit::tlog::TlogError::Bad(m) => CircuitError::BadRequest(m),
            crate::audit::tlog::TlogError::Db(e) => e.into(),
        }
    }
}

impl From<crate::audit::query::QueryError> for CircuitError {
    fn from(e: crate::audit::query::QueryError) -> Self {
        match e {
            crate::audit::query::QueryError::BadFilter(m) => CircuitError::BadRequest(m),
            crate::audit::query::QueryError::Db(e) => e.into(),
        }
    }
}
