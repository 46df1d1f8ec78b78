//! `returns`: a partner's return once applied — its content hash (a
//! second identical return is a duplicate) and what each row did.

use super::StoreError;
use crate::ingest::returns::ReturnKind;
use sqlx::{AnyConnection, Row};

/// What was applied for one row of a return (stored with it, answered to
/// its sender).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RowResult {
    /// Line in the file.
    pub line: u64,
    /// The caller's token.
    pub token: String,
    /// What was applied.
    pub effect: String,
}

/// A return's counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Id.
    pub return_id: String,
    /// Rows read.
    pub rows: i64,
    /// Rows applied.
    pub applied: i64,
}

/// A return to store.
#[derive(Debug, Clone)]
pub struct NewReturn {
    /// Id.
    pub return_id: String,
    /// Sender.
    pub partner: String,
    /// Kind.
    pub kind: ReturnKind,
    /// SHA-256 of its plaintext.
    pub sha256: String,
    /// Rows read.
    pub rows: i64,
    /// Rows applied.
    pub applied: i64,
    /// Per row.
    pub results: Vec<RowResult>,
}

/// A stored return.
#[derive(Debug, Clone)]
pub struct Stored {
    /// Sender.
    pub partner: String,
    /// Kind, as stored.
    pub kind: String,
    /// Rows read.
    pub rows: i64,
    /// Rows applied.
    pub applied: i64,
    /// Per row.
    pub results: Vec<RowResult>,
    /// Epoch ms.
    pub created_at: i64,
}

/// The return of `kind` that `partner` already sent with this content.
pub async fn by_content(
    conn: &mut AnyConnection,
    partner: &str,
    kind: ReturnKind,
    sha256: &str,
) -> Result<Option<Summary>, StoreError> {
    let row = sqlx::query(
        "SELECT return_id, rows, applied FROM returns WHERE partner = $1 AND kind = $2 AND sha256 = $3",
    )
    .bind(partner.to_owned())
    .bind(kind.as_str())
    .bind(sha256.to_owned())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(Summary {
            return_id: r.try_get(0)?,
            rows: r.try_get(1)?,
            applied: r.try_get(2)?,
        })
    })
    .transpose()
}

/// Stores an applied return.
pub async fn insert(conn: &mut AnyConnection, r: NewReturn, at_ms: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO returns (return_id, partner, kind, sha256, rows, applied, result, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(r.return_id)
    .bind(r.partner)
    .bind(r.kind.as_str())
    .bind(r.sha256)
    .bind(r.rows)
    .bind(r.applied)
    .bind(serde_json::to_string(&r.results).expect("serialises"))
    .bind(at_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A return by id.
pub async fn get(conn: &mut AnyConnection, return_id: &str) -> Result<Option<Stored>, StoreError> {
    let row = sqlx::query(
        "SELECT partner, kind, rows, applied, result, created_at FROM returns WHERE return_id = $1",
    )
    .bind(return_id.to_owned())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(Stored {
            partner: r.try_get(0)?,
            kind: r.try_get(1)?,
            rows: r.try_get(2)?,
            applied: r.try_get(3)?,
            results: serde_json::from_str(&r.try_get::<String, _>(4)?).unwrap_or_default(),
            created_at: r.try_get(5)?,
        })
    })
    .transpose()
}

/// Deletes the records of returns received before `cut_ms`; returns how
/// many.
pub async fn delete_before(conn: &mut AnyConnection, cut_ms: i64) -> Result<u64, StoreError> {
    Ok(sqlx::query("DELETE FROM returns WHERE created_at < $1")
        .bind(cut_ms)
        .execute(&mut *conn)
        .await?
        .rows_affected())
}
