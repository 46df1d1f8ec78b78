//! `console_sessions`: the console's sessions, named by the SHA-256 of
//! their cookie (never the cookie itself).

use super::StoreError;
use sqlx::{AnyConnection, Row};

/// A stored session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The person's id (`people.toml`).
    pub person: String,
    /// `certificate` or `oidc`.
    pub method: String,
    /// The certificate it was opened with (empty for OIDC).
    pub cert_sha256: String,
    /// The session's CSRF token.
    pub csrf: String,
    /// Last use, epoch milliseconds.
    pub last_seen: i64,
}

/// Stores a new session.
pub async fn insert(
    conn: &mut AnyConnection,
    id_sha256: &str,
    s: &Session,
    at_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO console_sessions (id_sha256, person, method, cert_sha256, csrf, created_at, last_seen) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id_sha256.to_owned())
    .bind(s.person.clone())
    .bind(s.method.clone())
    .bind(s.cert_sha256.clone())
    .bind(s.csrf.clone())
    .bind(at_ms)
    .bind(at_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The session named `id_sha256` if it was used at or after `idle_cut_ms`
/// (its last use moved to `now_ms`); an idle one is deleted.
pub async fn touch(
    conn: &mut AnyConnection,
    id_sha256: &str,
    idle_cut_ms: i64,
    now_ms: i64,
) -> Result<Option<Session>, StoreError> {
    let row = sqlx::query(
        "SELECT person, method, cert_sha256, csrf, last_seen FROM console_sessions WHERE id_sha256 = $1",
    )
    .bind(id_sha256.to_owned())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let s = Session {
        person: row.try_get(0)?,
        method: row.try_get(1)?,
        cert_sha256: row.try_get(2)?,
        csrf: row.try_get(3)?,
        last_seen: row.try_get(4)?,
    };
    if s.last_seen < idle_cut_ms {
        delete(conn, id_sha256).await?;
        return Ok(None);
    }
    sqlx::query("UPDATE console_sessions SET last_seen = $1 WHERE id_sha256 = $2")
        .bind(now_ms)
        .bind(id_sha256.to_owned())
        .execute(&mut *conn)
        .await?;
    Ok(Some(s))
}

/// Ends a session.
pub async fn delete(conn: &mut AnyConnection, id_sha256: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM console_sessions WHERE id_sha256 = $1")
        .bind(id_sha256.to_owned())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Deletes every session idle since before `idle_cut_ms`; how many.
pub async fn delete_idle(conn: &mut AnyConnection, idle_cut_ms: i64) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM console_sessions WHERE last_seen < $1")
            .bind(idle_cut_ms)
            .execute(&mut *conn)
            .await?
            .rows_affected(),
    )
}
