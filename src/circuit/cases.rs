//! Cases read back for the circuit's steps: the sealed row opened, CAF's
//! enrichment opened. The rows come from [`crate::store::cases`]; only the
//! circuit's own steps call these, inside a transaction.

use super::CircuitError;
use crate::app::App;
use crate::domain::{CaseId, CaseState};
use crate::ingest::CdpRow;
use crate::ingest::returns::{Enrichment, ReturnKind};
use crate::store::cases::StoredCase;
use sqlx::AnyConnection;

/// A case with its content opened.
#[derive(Debug, Clone)]
pub struct Case {
    /// Id.
    pub case_id: CaseId,
    /// Its list.
    pub list_id: String,
    /// Household token.
    pub household: String,
    /// Audit subject reference.
    pub subject: String,
    /// State.
    pub state: CaseState,
    /// The list row.
    pub row: CdpRow,
    /// CAF's enrichment, once received.
    pub enrichment: Option<Enrichment>,
    /// Its pseudonymisation key version.
    pub key_version: u32,
}

/// The sealing context of a case's enrichment.
pub(super) fn enrichment_context(case_id: &CaseId) -> String {
    format!("{case_id}/enrichment")
}

/// Opens a stored case's sealed row and enrichment.
pub fn open(app: &App, c: StoredCase) -> Result<Case, CircuitError> {
    let sealed = |e: &dyn std::fmt::Display| CircuitError::Sealed(e.to_string());
    let plain = app
        .pseudo
        .open(c.case_id.as_str(), &c.sealed)
        .map_err(|e| sealed(&e))?;
    let row: CdpRow = serde_json::from_slice(&plain).map_err(|e| sealed(&e))?;
    let enrichment = match &c.enrichment {
        Some(s) => {
            let plain = app
                .pseudo
                .open(&enrichment_context(&c.case_id), s)
                .map_err(|e| sealed(&e))?;
            Some(serde_json::from_slice(&plain).map_err(|e| sealed(&e))?)
        }
        None => None,
    };
    Ok(Case {
        case_id: c.case_id,
        list_id: c.list_id,
        household: c.household,
        subject: c.subject,
        state: c.state,
        row,
        enrichment,
        key_version: c.key_version,
    })
}

/// Opens every stored case of `cases`.
pub fn open_all(app: &App, cases: Vec<StoredCase>) -> Result<Vec<Case>, CircuitError> {
    cases.into_iter().map(|c| open(app, c)).collect()
}

/// One case by id, opened.
pub async fn load(
    app: &App,
    conn: &mut AnyConnection,
    case_id: &CaseId,
) -> Result<Case, CircuitError> {
    let stored = crate::store::cases::by_id(conn, case_id)
        .await?
        .ok_or(CircuitError::NotFound)?;
    open(app, stored)
}

/// The role a partner needs to send a return of `kind`.
pub fn role_for(kind: ReturnKind) -> crate::config::Role {
    use crate::config::Role;
    match kind {
        ReturnKind::Enrichment => Role::Enricher,
        ReturnKind::Referent => Role::Member,
        ReturnKind::Followup => Role::Referent,
    }
}
