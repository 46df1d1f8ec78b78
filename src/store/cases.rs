//! `cases`: one row per CDP of a list — clear routing keys (dates, postal
//! code, landlord type, household token, state) and the row itself sealed
//! — read back with CAF's sealed enrichment (`enrichments`) joined. A case
//! is the root of its aggregate: deleting it deletes what hangs on it.

use super::{StoreError, multi_insert};
use crate::domain::{CaseId, CaseState};
use sqlx::{AnyConnection, AnyPool, Row};

/// A case to store: clear routing keys, sealed personal data.
#[derive(Debug, Clone)]
pub struct NewCase {
    /// Id.
    pub case_id: CaseId,
    /// Line in the list.
    pub line: i64,
    /// Household token.
    pub household: String,
    /// Audit subject reference.
    pub subject: String,
    /// `AAAA-MM-JJ`.
    pub date_cdp: String,
    /// Postal code.
    pub code_postal: String,
    /// `social` or `prive`.
    pub bailleur_type: String,
    /// Sealed row.
    pub sealed: Vec<u8>,
    /// Pseudonymisation key version.
    pub key_version: i64,
    /// Keyed lookup key of its `ref_cdp` (procedure events name it).
    pub ref_key: String,
}

const INSERT_COLS: &[&str] = &[
    "case_id",
    "list_id",
    "line",
    "household",
    "subject",
    "date_cdp",
    "code_postal",
    "bailleur_type",
    "state",
    "sealed",
    "created_at",
    "key_version",
    "ref_key",
];

/// Inserts a list's cases (state `received`), a few hundred per statement.
pub async fn insert(
    conn: &mut AnyConnection,
    list_id: &str,
    cases: Vec<NewCase>,
    at_ms: i64,
) -> Result<(), StoreError> {
    let per = super::rows_per_insert(INSERT_COLS.len());
    let mut cases = cases.into_iter().peekable();
    while cases.peek().is_some() {
        let chunk: Vec<NewCase> = cases.by_ref().take(per).collect();
        let sql = multi_insert(conn, "cases", INSERT_COLS, chunk.len());
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for c in chunk {
            q = q
                .bind(c.case_id.as_str().to_owned())
                .bind(list_id.to_owned())
                .bind(c.line)
                .bind(c.household)
                .bind(c.subject)
                .bind(c.date_cdp)
                .bind(c.code_postal)
                .bind(c.bailleur_type)
                .bind(CaseState::Received.as_str())
                .bind(c.sealed)
                .bind(at_ms)
                .bind(c.key_version)
                .bind(c.ref_key);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A case as stored, still sealed.
#[derive(Debug, Clone)]
pub struct StoredCase {
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
    /// The sealed list row.
    pub sealed: Vec<u8>,
    /// CAF's sealed enrichment, once received.
    pub enrichment: Option<Vec<u8>>,
    /// Its pseudonymisation key version.
    pub key_version: u32,
}

pub(super) fn state(s: String) -> Result<CaseState, StoreError> {
    CaseState::parse(&s).ok_or(StoreError::Invalid {
        column: "cases.state",
        value: s,
    })
}

pub(super) fn key_version(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(1)
}

const COLS: &str = "c.case_id, c.list_id, c.household, c.subject, c.state, c.sealed, c.key_version, e.sealed AS e_sealed";

fn stored(r: &sqlx::any::AnyRow) -> Result<StoredCase, StoreError> {
    Ok(StoredCase {
        case_id: CaseId::from_stored(r.try_get("case_id")?),
        list_id: r.try_get("list_id")?,
        household: r.try_get("household")?,
        subject: r.try_get("subject")?,
        state: state(r.try_get("state")?)?,
        sealed: r.try_get("sealed")?,
        enrichment: r.try_get("e_sealed")?,
        key_version: key_version(r.try_get("key_version")?),
    })
}

/// Cases selected by a `WHERE` clause on `c` (cases) with one text
/// parameter, in CDP date order.
async fn select(
    conn: &mut AnyConnection,
    clause: &'static str,
    param: &str,
) -> Result<Vec<StoredCase>, StoreError> {
    let sql = format!(
        "SELECT {COLS} FROM cases c LEFT JOIN enrichments e ON e.case_id = c.case_id WHERE {clause} ORDER BY c.date_cdp, c.case_id"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(param.to_owned())
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(stored)
        .collect()
}

/// One case.
pub async fn by_id(
    conn: &mut AnyConnection,
    case_id: &CaseId,
) -> Result<Option<StoredCase>, StoreError> {
    Ok(select(conn, "c.case_id = $1", case_id.as_str())
        .await?
        .pop())
}

/// The cases in `state`.
pub async fn in_state(
    conn: &mut AnyConnection,
    state: CaseState,
) -> Result<Vec<StoredCase>, StoreError> {
    select(conn, "c.state = $1", state.as_str()).await
}

/// The cases the concertation attributed to `partner`.
pub async fn attributed_to(
    conn: &mut AnyConnection,
    partner: &str,
) -> Result<Vec<StoredCase>, StoreError> {
    select(
        conn,
        "c.case_id IN (SELECT case_id FROM decisions WHERE organisme = $1)",
        partner,
    )
    .await
}

/// The cases of a list.
pub async fn of_list(
    conn: &mut AnyConnection,
    list_id: &str,
) -> Result<Vec<StoredCase>, StoreError> {
    select(conn, "c.list_id = $1", list_id).await
}

/// Every case without a decision that is still to be processed.
pub async fn awaiting_decision(conn: &mut AnyConnection) -> Result<Vec<StoredCase>, StoreError> {
    select(
        conn,
        "c.case_id NOT IN (SELECT case_id FROM decisions) AND c.state <> $1",
        CaseState::NonTraite.as_str(),
    )
    .await
}

/// The cases on a concertation's agenda.
pub async fn on_agenda(
    conn: &mut AnyConnection,
    concertation_id: &str,
) -> Result<Vec<StoredCase>, StoreError> {
    select(
        conn,
        "c.case_id IN (SELECT case_id FROM agenda WHERE concertation_id = $1)",
        concertation_id,
    )
    .await
}

/// Sets a case's state.
pub async fn set_state(
    conn: &mut AnyConnection,
    case_id: &CaseId,
    to: CaseState,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE cases SET state = $1 WHERE case_id = $2")
        .bind(to.as_str())
        .bind(case_id.as_str().to_owned())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A case's state.
pub async fn state_of(
    conn: &mut AnyConnection,
    case_id: &CaseId,
) -> Result<Option<CaseState>, StoreError> {
    let row = sqlx::query("SELECT state FROM cases WHERE case_id = $1")
        .bind(case_id.as_str().to_owned())
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| state(r.try_get(0)?)).transpose()
}

/// A case whose household has not been reached yet.
#[derive(Debug, Clone)]
pub struct Unreached {
    /// Id.
    pub case_id: CaseId,
    /// `AAAA-MM-JJ`.
    pub date_cdp: String,
    /// State.
    pub state: CaseState,
    /// The referent designated, if any.
    pub referent: Option<String>,
    /// Its pseudonymisation key version.
    pub key_version: u32,
}

/// Cases not settled and with no successful contact event among
/// `contact_events`, in CDP date order.
pub async fn unreached(
    conn: &mut AnyConnection,
    contact_events: &[&str],
) -> Result<Vec<Unreached>, StoreError> {
    let settled = states_sql(CaseState::is_settled);
    let contacts: Vec<String> = contact_events
        .iter()
        .map(|e| format!("'{}'", e.replace('\'', "")))
        .collect();
    let sql = format!(
        "SELECT c.case_id, c.date_cdp, c.state, d.organisme, c.key_version FROM cases c LEFT JOIN decisions d ON d.case_id = c.case_id \
         WHERE c.state NOT IN ({}) \
         AND c.case_id NOT IN (SELECT case_id FROM events WHERE evenement IN ({})) \
         ORDER BY c.date_cdp, c.case_id",
        settled,
        contacts.join(", ")
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(Unreached {
                case_id: CaseId::from_stored(r.try_get(0)?),
                date_cdp: r.try_get(1)?,
                state: state(r.try_get(2)?)?,
                referent: r.try_get(3)?,
                key_version: key_version(r.try_get(4)?),
            })
        })
        .collect()
}

/// A case of a window with its decision, for the figures.
#[derive(Debug, Clone)]
pub struct Decided {
    /// Id.
    pub case_id: CaseId,
    /// `AAAA-MM-JJ`.
    pub date_cdp: String,
    /// The referent designated…
    pub organisme: Option<String>,
    /// …or the not-processed motif (both `None`: not decided yet).
    pub non_traite: Option<String>,
    /// The attribution went to a household no member already followed.
    pub nouvelle: bool,
}

/// The cases whose CDP is dated `from..=to` (`AAAA-MM-JJ`), with their
/// decisions.
pub async fn dated_between(
    pool: &AnyPool,
    from: &str,
    to: &str,
) -> Result<Vec<Decided>, StoreError> {
    sqlx::query(
        "SELECT c.case_id, c.date_cdp, d.organisme, d.non_traite, d.nouvelle FROM cases c \
         LEFT JOIN decisions d ON d.case_id = c.case_id WHERE c.date_cdp >= $1 AND c.date_cdp <= $2",
    )
    .bind(from.to_owned())
    .bind(to.to_owned())
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(Decided {
            case_id: CaseId::from_stored(r.try_get(0)?),
            date_cdp: r.try_get(1)?,
            organisme: r.try_get(2)?,
            non_traite: r.try_get(3)?,
            nouvelle: r.try_get::<Option<i64>, _>(4)? == Some(1),
        })
    })
    .collect()
}

/// Cases over (closed or not processed) whose last decision and last
/// event are older than `cut_ms`.
pub async fn over_before(conn: &mut AnyConnection, cut_ms: i64) -> Result<Vec<CaseId>, StoreError> {
    let over = states_sql(CaseState::is_over);
    let sql = format!(
        "SELECT c.case_id FROM cases c WHERE c.state IN ({}) \
         AND COALESCE((SELECT MAX(d.decided_at) FROM decisions d WHERE d.case_id = c.case_id), 0) < $1 \
         AND COALESCE((SELECT MAX(e.created_at) FROM events e WHERE e.case_id = c.case_id), 0) < $1 \
         AND COALESCE((SELECT MAX(p.created_at) FROM procedure_events p WHERE p.case_id = c.case_id), 0) < $1",
        over
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(cut_ms)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok(CaseId::from_stored(r.try_get(0)?)))
        .collect()
}

/// Deletes a case with everything that hangs on it: its tokens,
/// enrichment, members' answers, agenda lines, decision, events and
/// procedure events.
pub async fn delete(conn: &mut AnyConnection, case_id: &CaseId) -> Result<(), StoreError> {
    for sql in [
        "DELETE FROM case_tokens WHERE case_id = $1",
        "DELETE FROM enrichments WHERE case_id = $1",
        "DELETE FROM member_answers WHERE case_id = $1",
        "DELETE FROM agenda WHERE case_id = $1",
        "DELETE FROM decisions WHERE case_id = $1",
        "DELETE FROM events WHERE case_id = $1",
        "DELETE FROM procedure_events WHERE case_id = $1",
        "DELETE FROM cases WHERE case_id = $1",
    ] {
        sqlx::query(sql)
            .bind(case_id.as_str().to_owned())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Whether any case of the list has been decided (a decision recorded).
pub async fn any_decided_in_list(
    conn: &mut AnyConnection,
    list_id: &str,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "SELECT 1 FROM decisions d JOIN cases c ON c.case_id = d.case_id WHERE c.list_id = $1 LIMIT 1",
    )
    .bind(list_id.to_owned())
    .fetch_optional(&mut *conn)
    .await?
    .is_some())
}

/// Deletes every case of a list with everything that hangs on it (as
/// [`delete`] does for one); returns how many cases.
pub async fn delete_of_list(conn: &mut AnyConnection, list_id: &str) -> Result<u64, StoreError> {
    for table in [
        "case_tokens",
        "enrichments",
        "member_answers",
        "agenda",
        "decisions",
        "events",
        "procedure_events",
    ] {
        let sql = format!(
            "DELETE FROM {table} WHERE case_id IN (SELECT case_id FROM cases WHERE list_id = $1)"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(list_id.to_owned())
            .execute(&mut *conn)
            .await?;
    }
    Ok(sqlx::query("DELETE FROM cases WHERE list_id = $1")
        .bind(list_id.to_owned())
        .execute(&mut *conn)
        .await?
        .rows_affected())
}

/// Cases never decided (no decision, not over) that arrived before
/// `cut_ms`.
pub async fn undecided_before(
    conn: &mut AnyConnection,
    cut_ms: i64,
) -> Result<Vec<CaseId>, StoreError> {
    let over = states_sql(CaseState::is_over);
    let sql = format!(
        "SELECT c.case_id FROM cases c WHERE c.created_at < $1 AND c.state NOT IN ({}) \
         AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.case_id = c.case_id) \
         ORDER BY c.case_id",
        over
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(cut_ms)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok(CaseId::from_stored(r.try_get(0)?)))
        .collect()
}

/// The states `keep` selects as SQL literals, `'a', 'b'` (for `IN (…)`):
/// codes of the closed vocabulary, never input.
fn states_sql(keep: fn(CaseState) -> bool) -> String {
    CaseState::ALL
        .into_iter()
        .filter(|s| keep(*s))
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Cases with CAF's enrichment received, by list: `(list_id, cases)`.
pub async fn enriched_by_list(pool: &AnyPool) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT c.list_id, COUNT(*) FROM cases c \
         JOIN enrichments e ON e.case_id = c.case_id GROUP BY c.list_id",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// How many cases of each list are in each state: `(list_id, state,
/// count)` (what became of each list, for the source's console page).
pub async fn states_by_list(pool: &AnyPool) -> Result<Vec<(String, CaseState, i64)>, StoreError> {
    let rows = sqlx::query("SELECT list_id, state, COUNT(*) FROM cases GROUP BY list_id, state")
        .fetch_all(pool)
        .await?;
    let mut out = Vec::new();
    for r in rows {
        let state: String = r.try_get(1)?;
        let state = CaseState::parse(&state).ok_or(StoreError::Invalid {
            column: "cases.state",
            value: state,
        })?;
        out.push((r.try_get(0)?, state, r.try_get(2)?));
    }
    Ok(out)
}
