//! `procedure_files` and `procedure_events`: the procedure events EXPLOC
//! exports (docs/convention.md "Procedure events"), each linked to a case
//! or kept `hors_circuit`; and the cases they are linked to, found by a
//! keyed `ref_cdp` or by household.

use super::StoreError;
use crate::domain::{CaseId, CaseState};
use sqlx::{AnyConnection, AnyPool, Row};

/// What became of one line of an upload (stored with it, answered to its
/// sender): no personal data, only the uploader's own token of the case.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LineEffect {
    /// Line in the file.
    pub line: u64,
    /// The step, as its code.
    pub etape: String,
    /// `linked`, `hors_circuit` or `repeated`.
    pub effect: String,
    /// The uploader's token of the case it is linked to.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub token: Option<String>,
    /// How it was linked (`ref_cdp`, `identite`), or why not.
    pub reason: String,
}

/// An upload's counts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Id.
    pub procedures_id: String,
    /// Its period.
    pub period: String,
    /// Rows read.
    pub rows: i64,
    /// New events linked to a case.
    pub linked: i64,
    /// New events that matched no case.
    pub unlinked: i64,
    /// Events already received.
    pub repeated: i64,
}

/// An upload as stored.
#[derive(Debug, Clone)]
pub struct StoredFile {
    /// Its counts.
    pub summary: Summary,
    /// Who sent it.
    pub source: String,
    /// Per line.
    pub lines: Vec<LineEffect>,
    /// Epoch ms.
    pub created_at: i64,
}

/// The upload already received with this content.
pub async fn by_sha256(
    conn: &mut AnyConnection,
    sha256: &str,
) -> Result<Option<Summary>, StoreError> {
    let row = sqlx::query(
        "SELECT procedures_id, period, rows, linked, unlinked, repeated FROM procedure_files WHERE sha256 = $1",
    )
    .bind(sha256.to_owned())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| summary(&r)).transpose()
}

fn summary(r: &sqlx::any::AnyRow) -> Result<Summary, StoreError> {
    Ok(Summary {
        procedures_id: r.try_get(0)?,
        period: r.try_get(1)?,
        rows: r.try_get(2)?,
        linked: r.try_get(3)?,
        unlinked: r.try_get(4)?,
        repeated: r.try_get(5)?,
    })
}

/// Stores an upload's record.
pub async fn insert_file(
    conn: &mut AnyConnection,
    s: &Summary,
    source: &str,
    sha256: &str,
    lines: &[LineEffect],
    at_ms: i64,
) -> Result<(), StoreError> {
    let result = serde_json::to_string(lines).expect("line effects serialise");
    sqlx::query(
        "INSERT INTO procedure_files (procedures_id, period, source, sha256, rows, linked, unlinked, repeated, result, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(s.procedures_id.clone())
    .bind(s.period.clone())
    .bind(source.to_owned())
    .bind(sha256.to_owned())
    .bind(s.rows)
    .bind(s.linked)
    .bind(s.unlinked)
    .bind(s.repeated)
    .bind(result)
    .bind(at_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One upload.
pub async fn file(conn: &mut AnyConnection, id: &str) -> Result<Option<StoredFile>, StoreError> {
    let Some(r) = sqlx::query(
        "SELECT procedures_id, period, rows, linked, unlinked, repeated, source, result, created_at \
         FROM procedure_files WHERE procedures_id = $1",
    )
    .bind(id.to_owned())
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let result: String = r.try_get(7)?;
    Ok(Some(StoredFile {
        summary: summary(&r)?,
        source: r.try_get(6)?,
        lines: serde_json::from_str(&result).map_err(|e| StoreError::Invalid {
            column: "procedure_files.result",
            value: e.to_string(),
        })?,
        created_at: r.try_get(8)?,
    }))
}

/// An event to store.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Id.
    pub event_id: String,
    /// Its upload.
    pub procedures_id: String,
    /// Line in the file.
    pub line: i64,
    /// Keyed key of (`ref_procedure`, `etape`, `date_etape`).
    pub event_key: String,
    /// The case it is linked to (`None`: hors_circuit).
    pub case_id: Option<CaseId>,
    /// The step's code.
    pub etape: String,
    /// `AAAA-MM-JJ`.
    pub date_etape: String,
    /// `AAAA-MM-JJ`, for an `assignation`.
    pub date_audience: Option<String>,
    /// The row, sealed.
    pub sealed: Vec<u8>,
    /// Pseudonymisation key version.
    pub key_version: i64,
}

/// Stores an event.
pub async fn insert_event(
    conn: &mut AnyConnection,
    e: NewEvent,
    at_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO procedure_events (event_id, procedures_id, line, event_key, case_id, etape, date_etape, date_audience, sealed, key_version, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(e.event_id)
    .bind(e.procedures_id)
    .bind(e.line)
    .bind(e.event_key)
    .bind(e.case_id.map(|c| c.as_str().to_owned()))
    .bind(e.etape)
    .bind(e.date_etape)
    .bind(e.date_audience)
    .bind(e.sealed)
    .bind(e.key_version)
    .bind(at_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// `$first, $first+1, …` for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether an event with one of these keys (one per key version) was
/// already received.
pub async fn known_event(conn: &mut AnyConnection, keys: &[String]) -> Result<bool, StoreError> {
    let sql = format!(
        "SELECT 1 FROM procedure_events WHERE event_key IN ({}) LIMIT 1",
        placeholders(1, keys.len())
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for k in keys {
        q = q.bind(k.clone());
    }
    Ok(q.fetch_optional(&mut *conn).await?.is_some())
}

/// A case an event may be linked to, with what routing it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Id.
    pub case_id: CaseId,
    /// `AAAA-MM-JJ`.
    pub date_cdp: String,
    /// Its pseudonymisation key version.
    pub key_version: u32,
    /// Audit subject reference of its household.
    pub subject: String,
    /// The referent designated, if any (a partner id or a free label).
    pub referent: Option<String>,
}

const CANDIDATE: &str = "SELECT c.case_id, c.date_cdp, c.key_version, c.subject, d.organisme FROM cases c \
     LEFT JOIN decisions d ON d.case_id = c.case_id";

fn candidate(r: &sqlx::any::AnyRow) -> Result<Candidate, StoreError> {
    Ok(Candidate {
        case_id: CaseId::from_stored(r.try_get(0)?),
        date_cdp: r.try_get(1)?,
        key_version: super::cases::key_version(r.try_get(2)?),
        subject: r.try_get(3)?,
        referent: r.try_get(4)?,
    })
}

/// The most recent case (by CDP date, then arrival) whose `ref_cdp` has
/// one of these keys.
pub async fn case_by_ref(
    conn: &mut AnyConnection,
    ref_keys: &[String],
) -> Result<Option<Candidate>, StoreError> {
    let sql = format!(
        "{CANDIDATE} WHERE c.ref_key IN ({}) ORDER BY c.date_cdp DESC, c.created_at DESC, c.case_id DESC LIMIT 1",
        placeholders(1, ref_keys.len())
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for k in ref_keys {
        q = q.bind(k.clone());
    }
    q.fetch_optional(&mut *conn)
        .await?
        .map(|r| candidate(&r))
        .transpose()
}

/// The most recent case of the household (one token per key version)
/// whose CDP is dated on or before `date` (`AAAA-MM-JJ`).
pub async fn case_of_household(
    conn: &mut AnyConnection,
    households: &[String],
    date: &str,
) -> Result<Option<Candidate>, StoreError> {
    let sql = format!(
        "{CANDIDATE} WHERE c.household IN ({}) AND c.date_cdp <= ${} \
         ORDER BY c.date_cdp DESC, c.created_at DESC, c.case_id DESC LIMIT 1",
        placeholders(1, households.len()),
        households.len() + 1
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for h in households {
        q = q.bind(h.clone());
    }
    q.bind(date.to_owned())
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| candidate(&r))
        .transpose()
}

/// Cases stored before their `ref_cdp` had a lookup key: `(case_id,
/// key_version, sealed row)`.
pub async fn cases_without_ref_key(
    conn: &mut AnyConnection,
) -> Result<Vec<(CaseId, u32, Vec<u8>)>, StoreError> {
    sqlx::query("SELECT case_id, key_version, sealed FROM cases WHERE ref_key IS NULL")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok((
                CaseId::from_stored(r.try_get(0)?),
                super::cases::key_version(r.try_get(1)?),
                r.try_get(2)?,
            ))
        })
        .collect()
}

/// Sets a case's `ref_cdp` lookup key.
pub async fn set_ref_key(
    conn: &mut AnyConnection,
    case_id: &CaseId,
    key: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE cases SET ref_key = $1 WHERE case_id = $2")
        .bind(key.to_owned())
        .bind(case_id.as_str().to_owned())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A linked event, for the figures: its case, step and date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linked {
    /// The case.
    pub case_id: CaseId,
    /// The step's code.
    pub etape: String,
    /// `AAAA-MM-JJ`.
    pub date_etape: String,
}

/// The events linked to the cases whose CDP is dated `from..=to`,
/// whatever their own dates.
pub async fn of_cases_dated_between(
    pool: &AnyPool,
    from: &str,
    to: &str,
) -> Result<Vec<Linked>, StoreError> {
    sqlx::query(
        "SELECT p.case_id, p.etape, p.date_etape FROM procedure_events p JOIN cases c ON c.case_id = p.case_id \
         WHERE c.date_cdp >= $1 AND c.date_cdp <= $2",
    )
    .bind(from.to_owned())
    .bind(to.to_owned())
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(Linked {
            case_id: CaseId::from_stored(r.try_get(0)?),
            etape: r.try_get(1)?,
            date_etape: r.try_get(2)?,
        })
    })
    .collect()
}

/// The steps of the events linked to no case, dated `from..=to`:
/// `(etape, events)`.
pub async fn unlinked_between(
    pool: &AnyPool,
    from: &str,
    to: &str,
) -> Result<Vec<(String, i64)>, StoreError> {
    sqlx::query(
        "SELECT etape, COUNT(*) FROM procedure_events WHERE case_id IS NULL \
         AND date_etape >= $1 AND date_etape <= $2 GROUP BY etape ORDER BY etape",
    )
    .bind(from.to_owned())
    .bind(to.to_owned())
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
    .collect()
}

/// A hearing coming for a case of the circuit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hearing {
    /// The case.
    pub case_id: CaseId,
    /// `AAAA-MM-JJ`.
    pub date_cdp: String,
    /// The hearing, `AAAA-MM-JJ`.
    pub date_audience: String,
    /// The case's state.
    pub state: CaseState,
    /// The referent designated, if any.
    pub referent: Option<String>,
    /// The case's pseudonymisation key version.
    pub key_version: u32,
}

/// The linked `assignation` events whose hearing is dated `from..=to`,
/// hearing first; one per case (its earliest hearing in the window).
pub async fn hearings_between(
    conn: &mut AnyConnection,
    from: &str,
    to: &str,
) -> Result<Vec<Hearing>, StoreError> {
    let rows = sqlx::query(
        "SELECT c.case_id, c.date_cdp, MIN(p.date_audience), c.state, d.organisme, c.key_version \
         FROM procedure_events p JOIN cases c ON c.case_id = p.case_id \
         LEFT JOIN decisions d ON d.case_id = c.case_id \
         WHERE p.etape = 'assignation' AND p.date_audience >= $1 AND p.date_audience <= $2 \
         GROUP BY c.case_id, c.date_cdp, c.state, d.organisme, c.key_version \
         ORDER BY MIN(p.date_audience), c.case_id",
    )
    .bind(from.to_owned())
    .bind(to.to_owned())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Hearing {
                case_id: CaseId::from_stored(r.try_get(0)?),
                date_cdp: r.try_get(1)?,
                date_audience: r.try_get(2)?,
                state: super::cases::state(r.try_get(3)?)?,
                referent: r.try_get(4)?,
                key_version: super::cases::key_version(r.try_get(5)?),
            })
        })
        .collect()
}

/// Deletes the events linked to no case received before `cut_ms`;
/// returns how many.
pub async fn delete_unlinked_before(
    conn: &mut AnyConnection,
    cut_ms: i64,
) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM procedure_events WHERE case_id IS NULL AND created_at < $1")
            .bind(cut_ms)
            .execute(&mut *conn)
            .await?
            .rows_affected(),
    )
}

/// Deletes the records of uploads received before `cut_ms` (their events
/// stay); returns how many.
pub async fn delete_files_before(conn: &mut AnyConnection, cut_ms: i64) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM procedure_files WHERE created_at < $1")
            .bind(cut_ms)
            .execute(&mut *conn)
            .await?
            .rows_affected(),
    )
}
