//! `decisions`: the concertation's decision on a case — a referent
//! designated or a not-processed motif.

use super::StoreError;
use crate::domain::CaseId;
use sqlx::{AnyConnection, Row};

/// A decision as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The referent designated…
    pub organisme: Option<String>,
    /// …or the not-processed motif.
    pub non_traite: Option<String>,
}

/// A decision to store.
#[derive(Debug, Clone)]
pub struct NewDecision {
    /// The case.
    pub case_id: CaseId,
    /// The concertation that took it.
    pub concertation_id: String,
    /// The referent designated…
    pub organisme: Option<String>,
    /// …or the not-processed motif.
    pub non_traite: Option<String>,
    /// No member already followed the household.
    pub nouvelle: bool,
}

/// The decision on a case, if taken.
pub async fn of_case(
    conn: &mut AnyConnection,
    case_id: &CaseId,
) -> Result<Option<Stored>, StoreError> {
    let row = sqlx::query("SELECT organisme, non_traite FROM decisions WHERE case_id = $1")
        .bind(case_id.as_str().to_owned())
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| {
        Ok(Stored {
            organisme: r.try_get(0)?,
            non_traite: r.try_get(1)?,
        })
    })
    .transpose()
}

/// Stores a decision.
pub async fn insert(
    conn: &mut AnyConnection,
    d: NewDecision,
    at_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO decisions (case_id, concertation_id, organisme, non_traite, nouvelle, decided_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(d.case_id.as_str().to_owned())
    .bind(d.concertation_id)
    .bind(d.organisme)
    .bind(d.non_traite)
    .bind(i64::from(d.nouvelle))
    .bind(at_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The referent designated for the latest earlier case of the same
/// household, other than `case_id` — under any key version (`households`:
/// the household's token per version).
pub async fn earlier_referent(
    conn: &mut AnyConnection,
    households: &[String],
    case_id: &CaseId,
) -> Result<Option<String>, StoreError> {
    let mut best: Option<(i64, String)> = None;
    for household in households {
        let row = sqlx::query(
            "SELECT d.organisme, d.decided_at FROM decisions d JOIN cases c ON c.case_id = d.case_id \
             WHERE c.household = $1 AND c.case_id <> $2 AND d.organisme IS NOT NULL ORDER BY d.decided_at DESC",
        )
        .bind(household.clone())
        .bind(case_id.as_str().to_owned())
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(r) = row {
            let at: i64 = r.try_get(1)?;
            if best.as_ref().is_none_or(|(b, _)| at > *b) {
                best = Some((at, r.try_get(0)?));
            }
        }
    }
    Ok(best.map(|(_, o)| o))
}
