//! `lists`: a received list's metadata (its cases are [`super::cases`]).

use super::StoreError;
use sqlx::{AnyConnection, AnyPool, Row};

/// A stored list's metadata (no content).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ListMeta {
    /// Id.
    pub list_id: String,
    /// `AAAA-MM`.
    pub period: String,
    /// Who sent it.
    pub source: String,
    /// Rows (cases).
    pub rows: i64,
    /// SHA-256 of the received content (decrypted when it came encrypted).
    pub sha256: String,
    /// `csv` or `xlsx`.
    pub format: String,
    /// When it was received (RFC 3339).
    pub created_at: String,
}

fn meta(r: &sqlx::any::AnyRow) -> Result<ListMeta, sqlx::Error> {
    Ok(ListMeta {
        list_id: r.try_get("list_id")?,
        period: r.try_get("period")?,
        source: r.try_get("source")?,
        rows: r.try_get("rows")?,
        sha256: r.try_get("sha256")?,
        format: r.try_get("format")?,
        created_at: crate::util::ms_to_rfc3339(r.try_get("created_at")?),
    })
}

const META_COLS: &str = "list_id, period, source, rows, sha256, format, created_at";

/// The list already received with this content hash, if any.
pub async fn by_sha256(
    conn: &mut AnyConnection,
    sha256: &str,
) -> Result<Option<ListMeta>, StoreError> {
    one_where(conn, "sha256", sha256).await
}

/// Every list, newest first.
pub async fn all(pool: &AnyPool) -> Result<Vec<ListMeta>, StoreError> {
    let sql = format!("SELECT {META_COLS} FROM lists ORDER BY created_at DESC, list_id");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| meta(r).map_err(StoreError::from))
        .collect()
}

/// Inserts a list's metadata.
pub async fn insert(conn: &mut AnyConnection, m: &ListMeta, at_ms: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO lists (list_id, period, source, sha256, rows, format, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(m.list_id.clone())
    .bind(m.period.clone())
    .bind(m.source.clone())
    .bind(m.sha256.clone())
    .bind(m.rows)
    .bind(m.format.clone())
    .bind(at_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Whether a list exists.
pub async fn exists(conn: &mut AnyConnection, list_id: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query("SELECT 1 FROM lists WHERE list_id = $1")
        .bind(list_id.to_owned())
        .fetch_optional(&mut *conn)
        .await?
        .is_some())
}

/// A list's metadata.
pub async fn get(conn: &mut AnyConnection, list_id: &str) -> Result<Option<ListMeta>, StoreError> {
    one_where(conn, "list_id", list_id).await
}

/// The list whose `column` (a unique one, named here, never input) holds
/// `value`.
async fn one_where(
    conn: &mut AnyConnection,
    column: &'static str,
    value: &str,
) -> Result<Option<ListMeta>, StoreError> {
    let sql = format!("SELECT {META_COLS} FROM lists WHERE {column} = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(value.to_owned())
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(meta)
        .transpose()
        .map_err(StoreError::from)
}

/// The list's creation time (epoch ms).
pub async fn created_at(conn: &mut AnyConnection, list_id: &str) -> Result<i64, StoreError> {
    Ok(
        sqlx::query("SELECT created_at FROM lists WHERE list_id = $1")
            .bind(list_id.to_owned())
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?,
    )
}

/// Deletes a list's metadata (its cases first: [`super::cases::delete_of_list`]).
pub async fn delete(conn: &mut AnyConnection, list_id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM lists WHERE list_id = $1")
        .bind(list_id.to_owned())
        .execute(&mut *conn)
        .await?;
    Ok(())
}
