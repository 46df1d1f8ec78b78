//! `concertations` and their `agenda`: the cases put before a monthly
//! concertation, each with the proposal made and why.

use super::StoreError;
use crate::domain::CaseId;
use sqlx::{AnyConnection, Row};

/// Stores a concertation held on `date` (`AAAA-MM-JJ`).
pub async fn insert(
    conn: &mut AnyConnection,
    concertation_id: &str,
    date: &str,
    at_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO concertations (concertation_id, date, created_at) VALUES ($1, $2, $3)",
    )
    .bind(concertation_id.to_owned())
    .bind(date.to_owned())
    .bind(at_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A concertation's date (`AAAA-MM-JJ`), if it exists.
pub async fn date(
    conn: &mut AnyConnection,
    concertation_id: &str,
) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT date FROM concertations WHERE concertation_id = $1")
        .bind(concertation_id.to_owned())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// A line of an agenda.
#[derive(Debug, Clone)]
pub struct AgendaLine {
    /// The case.
    pub case_id: CaseId,
    /// The referent proposed…
    pub proposal: Option<String>,
    /// …or the not-processed motif proposed.
    pub non_traite: Option<String>,
    /// Why (or why there is no proposal).
    pub reason: String,
    /// The referent a member said already follows the household.
    pub referent_connu: Option<String>,
}

/// Puts a case on a concertation's agenda.
pub async fn add_to_agenda(
    conn: &mut AnyConnection,
    concertation_id: &str,
    line: AgendaLine,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO agenda (concertation_id, case_id, proposal, non_traite, reason, referent_connu) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(concertation_id.to_owned())
    .bind(line.case_id.as_str().to_owned())
    .bind(line.proposal)
    .bind(line.non_traite)
    .bind(line.reason)
    .bind(line.referent_connu)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Whether a case is on a concertation's agenda.
pub async fn is_on_agenda(
    conn: &mut AnyConnection,
    concertation_id: &str,
    case_id: &CaseId,
) -> Result<bool, StoreError> {
    Ok(
        sqlx::query("SELECT 1 FROM agenda WHERE concertation_id = $1 AND case_id = $2")
            .bind(concertation_id.to_owned())
            .bind(case_id.as_str().to_owned())
            .fetch_optional(&mut *conn)
            .await?
            .is_some(),
    )
}

/// A proposal of an agenda not decided yet.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The case.
    pub case_id: CaseId,
    /// The referent proposed…
    pub organisme: Option<String>,
    /// …or the not-processed motif.
    pub non_traite: Option<String>,
    /// The case's pseudonymisation key version.
    pub key_version: u32,
}

/// The agenda's proposals on cases not decided yet.
pub async fn undecided_proposals(
    conn: &mut AnyConnection,
    concertation_id: &str,
) -> Result<Vec<Pending>, StoreError> {
    sqlx::query(
        "SELECT a.case_id, a.proposal, a.non_traite, c.key_version FROM agenda a JOIN cases c ON c.case_id = a.case_id \
         WHERE a.concertation_id = $1 AND (a.proposal IS NOT NULL OR a.non_traite IS NOT NULL) \
         AND a.case_id NOT IN (SELECT case_id FROM decisions)",
    )
    .bind(concertation_id.to_owned())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(Pending {
            case_id: CaseId::from_stored(r.try_get(0)?),
            organisme: r.try_get(1)?,
            non_traite: r.try_get(2)?,
            key_version: u32::try_from(r.try_get::<i64, _>(3)?).unwrap_or(1),
        })
    })
    .collect()
}

/// A concertation as listed: id, date, cases on its agenda.
#[derive(Debug, Clone)]
pub struct Held {
    /// Id.
    pub concertation_id: String,
    /// `AAAA-MM-JJ`.
    pub date: String,
    /// Cases on its agenda.
    pub cases: i64,
}

/// Every concertation, newest first.
pub async fn all(pool: &sqlx::AnyPool) -> Result<Vec<Held>, StoreError> {
    let rows = sqlx::query(
        "SELECT c.concertation_id, c.date, \
         (SELECT COUNT(*) FROM agenda a WHERE a.concertation_id = c.concertation_id) \
         FROM concertations c ORDER BY c.created_at DESC, c.concertation_id DESC",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Held {
                concertation_id: r.try_get(0)?,
                date: r.try_get(1)?,
                cases: r.try_get(2)?,
            })
        })
        .collect()
}
