//! `outbox` and `outbox_chunks`: files waiting for partners (metadata,
//! and the age ciphertext in pieces served in order). The tokens a file
//! disclosed are [`super::tokens`].

use super::StoreError;
use sqlx::{AnyConnection, AnyPool, Row};

/// A file's listing entry (docs/convention.md `GET /v1/outbox`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileMeta {
    /// Id.
    pub file_id: String,
    /// `enrichment`, `concertation`, `dossier`.
    pub kind: String,
    /// `AAAA-MM`.
    pub period: String,
    /// Data rows.
    pub rows: i64,
    /// Bytes served (age ciphertext).
    pub size: i64,
    /// SHA-256 of the bytes served.
    pub sha256: String,
    /// When it was produced (RFC 3339).
    pub created_at: String,
    /// Inner format.
    pub format: String,
    #[serde(skip)]
    /// The owner.
    pub partner: String,
    #[serde(skip)]
    /// Fields disclosed, comma-separated.
    pub fields: String,
    #[serde(skip)]
    /// Acknowledged?
    pub acked: bool,
    #[serde(skip)]
    /// The audit entry of its production, which lists its households.
    pub produce_seq: Option<i64>,
}

/// A file to store.
#[derive(Debug, Clone)]
pub struct NewFile {
    /// Id.
    pub file_id: String,
    /// Owner.
    pub partner: String,
    /// Kind.
    pub kind: String,
    /// Period.
    pub period: String,
    /// The list it comes from.
    pub list_id: Option<String>,
    /// Rows.
    pub rows: i64,
    /// `csv`/`xlsx`.
    pub format: String,
    /// Field names disclosed.
    pub fields: Vec<String>,
    /// Bytes of age ciphertext (stored by [`insert_chunk`]).
    pub size: i64,
    /// Their SHA-256.
    pub sha256: String,
    /// The audit entry of its production.
    pub produce_seq: i64,
}

const COLS: &str = "file_id, partner, kind, period, rows, size, sha256, created_at, format, fields, acked_at, produce_seq";

fn meta(r: &sqlx::any::AnyRow) -> Result<FileMeta, StoreError> {
    Ok(FileMeta {
        file_id: r.try_get("file_id")?,
        partner: r.try_get("partner")?,
        kind: r.try_get("kind")?,
        period: r.try_get("period")?,
        rows: r.try_get("rows")?,
        size: r.try_get("size")?,
        sha256: r.try_get("sha256")?,
        created_at: crate::util::ms_to_rfc3339(r.try_get("created_at")?),
        format: r.try_get("format")?,
        fields: r.try_get("fields")?,
        acked: r.try_get::<Option<i64>, _>("acked_at")?.is_some(),
        produce_seq: r.try_get("produce_seq")?,
    })
}

/// Stores a file's metadata (its bytes go in with [`insert_chunk`]).
pub async fn insert(
    conn: &mut AnyConnection,
    f: &NewFile,
    at_ms: i64,
) -> Result<FileMeta, StoreError> {
    sqlx::query(
        "INSERT INTO outbox (file_id, partner, kind, period, list_id, rows, format, fields, size, sha256, created_at, produce_seq) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(f.file_id.clone())
    .bind(f.partner.clone())
    .bind(f.kind.clone())
    .bind(f.period.clone())
    .bind(f.list_id.clone())
    .bind(f.rows)
    .bind(f.format.clone())
    .bind(f.fields.join(","))
    .bind(f.size)
    .bind(f.sha256.clone())
    .bind(at_ms)
    .bind(f.produce_seq)
    .execute(&mut *conn)
    .await?;
    Ok(FileMeta {
        file_id: f.file_id.clone(),
        kind: f.kind.clone(),
        period: f.period.clone(),
        rows: f.rows,
        size: f.size,
        sha256: f.sha256.clone(),
        created_at: crate::util::ms_to_rfc3339(at_ms),
        format: f.format.clone(),
        partner: f.partner.clone(),
        fields: f.fields.join(","),
        acked: false,
        produce_seq: Some(f.produce_seq),
    })
}

/// Stores the `n`th piece of a file's ciphertext (pieces are served in
/// order).
pub async fn insert_chunk(
    conn: &mut AnyConnection,
    file_id: &str,
    n: i64,
    bytes: Vec<u8>,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO outbox_chunks (file_id, n, bytes) VALUES ($1, $2, $3)")
        .bind(file_id.to_owned())
        .bind(n)
        .bind(bytes)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The partner's files not yet acknowledged, oldest first.
pub async fn waiting(pool: &AnyPool, partner: &str) -> Result<Vec<FileMeta>, StoreError> {
    let sql = format!(
        "SELECT {COLS} FROM outbox WHERE partner = $1 AND acked_at IS NULL ORDER BY created_at, file_id"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(partner.to_owned())
        .fetch_all(pool)
        .await?
        .iter()
        .map(meta)
        .collect()
}

/// A file's metadata.
pub async fn get(conn: &mut AnyConnection, file_id: &str) -> Result<Option<FileMeta>, StoreError> {
    let sql = format!("SELECT {COLS} FROM outbox WHERE file_id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(file_id.to_owned())
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(meta)
        .transpose()
}

/// A file's ciphertext as a stream of its chunks, read one at a time (so a
/// download holds one chunk, not the file).
pub fn body_stream(
    pool: AnyPool,
    file_id: String,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, sqlx::Error>> + Send + 'static {
    futures_util::stream::try_unfold(0i64, move |n| {
        let pool = pool.clone();
        let file_id = file_id.clone();
        async move {
            let row = sqlx::query("SELECT bytes FROM outbox_chunks WHERE file_id = $1 AND n = $2")
                .bind(file_id)
                .bind(n)
                .fetch_optional(&pool)
                .await?;
            match row {
                Some(r) => Ok(Some((r.try_get::<Vec<u8>, _>(0)?, n + 1))),
                None => Ok(None),
            }
        }
    })
}

/// Marks a file acknowledged (idempotent).
pub async fn ack(conn: &mut AnyConnection, file_id: &str, at_ms: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE outbox SET acked_at = $1 WHERE file_id = $2 AND acked_at IS NULL")
        .bind(at_ms)
        .bind(file_id.to_owned())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Deletes the files acknowledged before `acked_before_ms` or produced
/// before `created_before_ms`, with their ciphertext; returns how many.
pub async fn delete_expired(
    conn: &mut AnyConnection,
    acked_before_ms: i64,
    created_before_ms: i64,
) -> Result<u64, StoreError> {
    let old_files = "SELECT file_id FROM outbox WHERE (acked_at IS NOT NULL AND acked_at < $1) OR created_at < $2";
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM outbox_chunks WHERE file_id IN ({old_files})"
    )))
    .bind(acked_before_ms)
    .bind(created_before_ms)
    .execute(&mut *conn)
    .await?;
    Ok(sqlx::query(
        "DELETE FROM outbox WHERE (acked_at IS NOT NULL AND acked_at < $1) OR created_at < $2",
    )
    .bind(acked_before_ms)
    .bind(created_before_ms)
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

/// Deletes a list's files not yet acknowledged (with their chunks);
/// returns their ids.
pub async fn delete_waiting_of_list(
    conn: &mut AnyConnection,
    list_id: &str,
) -> Result<Vec<String>, StoreError> {
    let ids: Vec<String> = sqlx::query(
        "SELECT file_id FROM outbox WHERE list_id = $1 AND acked_at IS NULL ORDER BY file_id",
    )
    .bind(list_id.to_owned())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| r.try_get::<String, _>(0))
    .collect::<Result<_, _>>()?;
    for id in &ids {
        sqlx::query("DELETE FROM outbox_chunks WHERE file_id = $1")
            .bind(id.clone())
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM outbox WHERE file_id = $1")
            .bind(id.clone())
            .execute(&mut *conn)
            .await?;
    }
    Ok(ids)
}

/// The partners a list's cases may have reached: those that acknowledged
/// one of the list's files, and those sent a file of several lists
/// (`list_id` empty) since the list arrived (`since_ms`).
pub async fn partners_reached(
    conn: &mut AnyConnection,
    list_id: &str,
    since_ms: i64,
) -> Result<std::collections::BTreeSet<String>, StoreError> {
    sqlx::query(
        "SELECT DISTINCT partner FROM outbox WHERE (list_id = $1 AND acked_at IS NOT NULL) \
         OR (list_id IS NULL AND created_at >= $2)",
    )
    .bind(list_id.to_owned())
    .bind(since_ms)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| r.try_get::<String, _>(0).map_err(StoreError::from))
    .collect()
}
