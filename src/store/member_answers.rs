//! `member_answers`: a concertation member's answer about a case (does it
//! already follow the household, and which organisme; the referent's name
//! sealed).

use super::StoreError;
use crate::domain::CaseId;
use sqlx::{AnyConnection, Row};

/// A member's answer to store.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The case.
    pub case_id: CaseId,
    /// The member.
    pub partner: String,
    /// It already follows the household.
    pub referent_connu: bool,
    /// The organisme that follows it.
    pub organisme: Option<String>,
    /// The referent's name, sealed.
    pub sealed: Option<Vec<u8>>,
    /// The return it came in.
    pub return_id: String,
}

/// Stores a member's answer in place of its earlier one about the case.
pub async fn replace(conn: &mut AnyConnection, a: Answer, at_ms: i64) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM member_answers WHERE case_id = $1 AND partner = $2")
        .bind(a.case_id.as_str().to_owned())
        .bind(a.partner.clone())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO member_answers (case_id, partner, referent_connu, organisme, sealed, return_id, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(a.case_id.as_str().to_owned())
    .bind(a.partner)
    .bind(i64::from(a.referent_connu))
    .bind(a.organisme)
    .bind(a.sealed)
    .bind(a.return_id)
    .bind(at_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The organisme a member declared as already following the case's
/// household (`referent_connu = oui`), the earliest answer first.
pub async fn known_referent(
    conn: &mut AnyConnection,
    case_id: &CaseId,
) -> Result<Option<String>, StoreError> {
    let row = sqlx::query(
        "SELECT organisme FROM member_answers WHERE case_id = $1 AND referent_connu = 1 ORDER BY updated_at, partner",
    )
    .bind(case_id.as_str().to_owned())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row
        .map(|r| r.try_get::<Option<String>, _>(0))
        .transpose()?
        .flatten())
}

/// A member's own answer about a case, as stored.
#[derive(Debug, Clone)]
pub struct Given {
    /// It already follows the household.
    pub referent_connu: bool,
    /// The organisme that follows it.
    pub organisme: Option<String>,
    /// The referent's name, sealed.
    pub sealed: Option<Vec<u8>>,
}

/// `partner`'s answer about the case, if it gave one.
pub async fn of_partner(
    conn: &mut AnyConnection,
    case_id: &CaseId,
    partner: &str,
) -> Result<Option<Given>, StoreError> {
    let row = sqlx::query(
        "SELECT referent_connu, organisme, sealed FROM member_answers WHERE case_id = $1 AND partner = $2",
    )
    .bind(case_id.as_str().to_owned())
    .bind(partner.to_owned())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(Given {
            referent_connu: r.try_get::<i64, _>(0)? == 1,
            organisme: r.try_get(1)?,
            sealed: r.try_get(2)?,
        })
    })
    .transpose()
}
