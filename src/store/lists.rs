//! Lists and their cases.

use super::multi_insert;
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
) -> Result<Option<ListMeta>, sqlx::Error> {
    let sql = format!("SELECT {META_COLS} FROM lists WHERE sha256 = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(sha256.to_owned())
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(meta)
        .transpose()
}

/// Every list, newest first.
pub async fn all(pool: &AnyPool) -> Result<Vec<ListMeta>, sqlx::Error> {
    let sql = format!("SELECT {META_COLS} FROM lists ORDER BY created_at DESC, list_id");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await?
        .iter()
        .map(meta)
        .collect()
}

/// Inserts a list's metadata.
pub async fn insert(conn: &mut AnyConnection, m: &ListMeta, at_ms: i64) -> Result<(), sqlx::Error> {
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

/// A case as stored: clear routing keys, sealed personal data.
#[derive(Debug, Clone)]
pub struct NewCase {
    /// Id.
    pub case_id: String,
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
}

const CASE_COLS: &[&str] = &[
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
];

/// Inserts cases, a few hundred per statement.
pub async fn insert_cases(
    conn: &mut AnyConnection,
    list_id: &str,
    cases: Vec<NewCase>,
    at_ms: i64,
) -> Result<(), sqlx::Error> {
    let per = super::rows_per_insert(CASE_COLS.len());
    let mut cases = cases.into_iter().peekable();
    while cases.peek().is_some() {
        let chunk: Vec<NewCase> = cases.by_ref().take(per).collect();
        let sql = multi_insert(conn, "cases", CASE_COLS, chunk.len());
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for c in chunk {
            q = q
                .bind(c.case_id)
                .bind(list_id.to_owned())
                .bind(c.line)
                .bind(c.household)
                .bind(c.subject)
                .bind(c.date_cdp)
                .bind(c.code_postal)
                .bind(c.bailleur_type)
                .bind("received")
                .bind(c.sealed)
                .bind(at_ms)
                .bind(c.key_version);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Writes the households of a list's cases, in line order, as the audit
/// subject set `set` (its upload's), in the database: their references
/// never pass through memory together. Its digest is the one
/// `circuit::lists` computed over the same rows.
pub async fn log_households(
    conn: &mut AnyConnection,
    list_id: &str,
    set: i64,
) -> Result<(), sqlx::Error> {
    if conn.backend_name().eq_ignore_ascii_case("sqlite") {
        // A list's case ids share a prefix (`cas_<list>_`): the primary
        // key finds them in order (SQLite has no list index; bytewise
        // comparison, '`' follows '_').
        let hex = list_id.strip_prefix("lst_").unwrap_or(list_id);
        sqlx::query(
            "INSERT INTO audit_subjects (set_id, n, subject) SELECT $1, line, subject FROM cases \
             WHERE case_id > $2 AND case_id < $3 AND list_id = $4",
        )
        .bind(set)
        .bind(format!("cas_{hex}_"))
        .bind(format!("cas_{hex}`"))
        .bind(list_id.to_owned())
        .execute(&mut *conn)
        .await?;
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO audit_subjects (set_id, n, subject) SELECT $1, line, subject FROM cases WHERE list_id = $2",
    )
    .bind(set)
    .bind(list_id.to_owned())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
