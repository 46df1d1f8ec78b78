//! Reading cases back: the sealed row opened, CAF's enrichment, members'
//! answers. Only the circuit's own steps call these, inside a transaction.

use super::CircuitError;
use crate::app::App;
use crate::ingest::CdpRow;
use crate::ingest::returns::{Enrichment, ReturnKind};
use sqlx::{AnyConnection, Row};

/// Case states, in the order a case moves through them.
pub mod state {
    /// Stored from the list.
    pub const RECEIVED: &str = "received";
    /// CAF's enrichment applied.
    pub const ENRICHED: &str = "enriched";
    /// Routed to the concertation members.
    pub const IN_CONCERTATION: &str = "in_concertation";
    /// A referent designated.
    pub const ATTRIBUTED: &str = "attributed";
    /// The household was reached.
    pub const CONTACTED: &str = "contacted";
    /// The referent closed it.
    pub const CLOSED: &str = "closed";
    /// Not processed (moved out, debt paid, outside the sector…).
    pub const NON_TRAITE: &str = "non_traite";
}

/// A case with its content opened.
#[derive(Debug, Clone)]
pub struct Case {
    /// Id.
    pub case_id: String,
    /// Its list.
    pub list_id: String,
    /// Household token.
    pub household: String,
    /// Audit subject reference.
    pub subject: String,
    /// State.
    pub state: String,
    /// The list row.
    pub row: CdpRow,
    /// CAF's enrichment, once received.
    pub enrichment: Option<Enrichment>,
    /// Its pseudonymisation key version.
    pub key_version: u32,
}

const COLS: &str = "c.case_id, c.list_id, c.household, c.subject, c.state, c.sealed, c.key_version, e.sealed AS e_sealed";

fn open(app: &App, r: &sqlx::any::AnyRow) -> Result<Case, CircuitError> {
    let case_id: String = r.try_get("case_id")?;
    let sealed: Vec<u8> = r.try_get("sealed")?;
    let plain = app
        .pseudo
        .open(&case_id, &sealed)
        .map_err(|e| CircuitError::Sealed(e.to_string()))?;
    let row: CdpRow =
        serde_json::from_slice(&plain).map_err(|e| CircuitError::Sealed(e.to_string()))?;
    let e_sealed: Option<Vec<u8>> = r.try_get("e_sealed")?;
    let enrichment = match e_sealed {
        Some(s) => {
            let plain = app
                .pseudo
                .open(&format!("{case_id}/enrichment"), &s)
                .map_err(|e| CircuitError::Sealed(e.to_string()))?;
            Some(serde_json::from_slice(&plain).map_err(|e| CircuitError::Sealed(e.to_string()))?)
        }
        None => None,
    };
    Ok(Case {
        list_id: r.try_get("list_id")?,
        household: r.try_get("household")?,
        subject: r.try_get("subject")?,
        state: r.try_get("state")?,
        key_version: u32::try_from(r.try_get::<i64, _>("key_version")?).unwrap_or(1),
        case_id,
        row,
        enrichment,
    })
}

/// Cases selected by a `WHERE` clause on `c` (cases) with one text parameter.
pub async fn load_where(
    app: &App,
    conn: &mut AnyConnection,
    clause: &'static str,
    param: &str,
) -> Result<Vec<Case>, CircuitError> {
    let sql = format!(
        "SELECT {COLS} FROM cases c LEFT JOIN enrichments e ON e.case_id = c.case_id WHERE {clause} ORDER BY c.date_cdp, c.case_id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(param.to_owned())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|r| open(app, r)).collect()
}

/// One case by id.
pub async fn load(
    app: &App,
    conn: &mut AnyConnection,
    case_id: &str,
) -> Result<Case, CircuitError> {
    load_where(app, conn, "c.case_id = $1", case_id)
        .await?
        .pop()
        .ok_or(CircuitError::NotFound)
}

/// The case a partner's token stands for, if that token was delivered to it.
pub async fn by_token(
    conn: &mut AnyConnection,
    partner: &str,
    token: &str,
) -> Result<Option<String>, CircuitError> {
    let row = sqlx::query("SELECT case_id FROM case_tokens WHERE token = $1 AND partner = $2")
        .bind(token.to_owned())
        .bind(partner.to_owned())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// Sets a case's state.
pub async fn set_state(
    conn: &mut AnyConnection,
    case_id: &str,
    state: &str,
) -> Result<(), CircuitError> {
    sqlx::query("UPDATE cases SET state = $1 WHERE case_id = $2")
        .bind(state.to_owned())
        .bind(case_id.to_owned())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Seals and stores CAF's enrichment of a case.
pub async fn put_enrichment(
    app: &App,
    conn: &mut AnyConnection,
    case_id: &str,
    return_id: &str,
    e: &Enrichment,
    at: i64,
) -> Result<(), CircuitError> {
    let sealed = app.pseudo.seal(
        &format!("{case_id}/enrichment"),
        &serde_json::to_vec(e).expect("serialises"),
    );
    sqlx::query("DELETE FROM enrichments WHERE case_id = $1")
        .bind(case_id.to_owned())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO enrichments (case_id, return_id, sealed, updated_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(case_id.to_owned())
    .bind(return_id.to_owned())
    .bind(sealed)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The organisme a member declared as already following the case's
/// household (`referent_connu = oui`), if any.
pub async fn known_referent(
    conn: &mut AnyConnection,
    case_id: &str,
) -> Result<Option<String>, CircuitError> {
    let row = sqlx::query(
        "SELECT organisme FROM member_answers WHERE case_id = $1 AND referent_connu = 1 ORDER BY updated_at, partner",
    )
    .bind(case_id.to_owned())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row
        .map(|r| r.try_get::<Option<String>, _>(0))
        .transpose()?
        .flatten())
}

/// The referent designated for an earlier case of the same household, if
/// any — under any key version (`households`: its token per version).
pub async fn earlier_referent(
    conn: &mut AnyConnection,
    households: &[String],
    case_id: &str,
) -> Result<Option<String>, CircuitError> {
    let mut best: Option<(i64, String)> = None;
    for household in households {
        let row = sqlx::query(
            "SELECT d.organisme, d.decided_at FROM decisions d JOIN cases c ON c.case_id = d.case_id \
             WHERE c.household = $1 AND c.case_id <> $2 AND d.organisme IS NOT NULL ORDER BY d.decided_at DESC",
        )
        .bind(household.clone())
        .bind(case_id.to_owned())
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

/// The role a partner needs to send a return of `kind`.
pub fn role_for(kind: ReturnKind) -> crate::config::Role {
    use crate::config::Role;
    match kind {
        ReturnKind::Enrichment => Role::Enricher,
        ReturnKind::Referent => Role::Member,
        ReturnKind::Followup => Role::Referent,
    }
}
