//! `events`: a referent's follow-up events on a case (contacts,
//! accompaniment axes, court events, closure); the detail sealed.

use super::StoreError;
use crate::domain::CaseId;
use sqlx::{AnyConnection, AnyPool, Row};

/// An event to store.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Id.
    pub event_id: String,
    /// The case.
    pub case_id: CaseId,
    /// The referent reporting it.
    pub partner: String,
    /// When it happened (`AAAA-MM-JJ`).
    pub date: String,
    /// What happened.
    pub evenement: String,
    /// Why (closure motif).
    pub motif: Option<String>,
    /// Free detail, sealed.
    pub sealed: Option<Vec<u8>>,
    /// The return it came in.
    pub return_id: String,
}

/// Stores an event.
pub async fn insert(conn: &mut AnyConnection, e: NewEvent, at_ms: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO events (event_id, case_id, partner, date, evenement, motif, sealed, return_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(e.event_id)
    .bind(e.case_id.as_str().to_owned())
    .bind(e.partner)
    .bind(e.date)
    .bind(e.evenement)
    .bind(e.motif)
    .bind(e.sealed)
    .bind(e.return_id)
    .bind(at_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An event as the figures read it (no detail).
#[derive(Debug, Clone)]
pub struct Event {
    /// The case.
    pub case_id: CaseId,
    /// `AAAA-MM-JJ`.
    pub date: String,
    /// What happened.
    pub evenement: String,
    /// Why.
    pub motif: Option<String>,
}

/// An [`Event`] from a row of `case_id, date, evenement, motif`.
fn event(r: &sqlx::any::AnyRow) -> Result<Event, StoreError> {
    Ok(Event {
        case_id: CaseId::from_stored(r.try_get(0)?),
        date: r.try_get(1)?,
        evenement: r.try_get(2)?,
        motif: r.try_get(3)?,
    })
}

/// The events on cases whose CDP is dated `from..=to` (`AAAA-MM-JJ`).
pub async fn of_cases_dated_between(
    pool: &AnyPool,
    from: &str,
    to: &str,
) -> Result<Vec<Event>, StoreError> {
    sqlx::query(
        "SELECT e.case_id, e.date, e.evenement, e.motif FROM events e JOIN cases c ON c.case_id = e.case_id \
         WHERE c.date_cdp >= $1 AND c.date_cdp <= $2",
    )
    .bind(from.to_owned())
    .bind(to.to_owned())
    .fetch_all(pool)
    .await?
    .iter()
    .map(event)
    .collect()
}

/// The events reported on one case, in date order (no detail).
pub async fn of_case(conn: &mut AnyConnection, case_id: &CaseId) -> Result<Vec<Event>, StoreError> {
    sqlx::query(
        "SELECT case_id, date, evenement, motif FROM events WHERE case_id = $1 ORDER BY date, created_at, event_id",
    )
    .bind(case_id.as_str().to_owned())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(event)
    .collect()
}
