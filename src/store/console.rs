//! `console_sessions`: the console's sessions, named by the SHA-256 of
//! their cookie (never the cookie itself); `console_logins`: the OpenID
//! Connect sign-ins under way, named likewise.

use super::StoreError;
use sqlx::{AnyConnection, Row};

/// A stored session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The person's id (`people.toml`).
    pub person: String,
    /// How the person signed in.
    pub method: SignInMethod,
    /// The certificate it was opened with (empty for OIDC).
    pub cert_sha256: String,
    /// The session's CSRF token.
    pub csrf: String,
    /// Last use, epoch milliseconds.
    pub last_seen: i64,
}

/// How a person signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInMethod {
    /// A personal certificate of the partner CA: the session holds only
    /// while the browser presents it.
    Certificate,
    /// An OpenID Connect provider (ProConnect).
    Oidc,
}

impl SignInMethod {
    /// As stored and audited (`method:<it>`).
    pub fn as_str(self) -> &'static str {
        match self {
            SignInMethod::Certificate => "certificate",
            SignInMethod::Oidc => "oidc",
        }
    }

    fn parse(s: &str) -> Result<SignInMethod, StoreError> {
        match s {
            "certificate" => Ok(SignInMethod::Certificate),
            "oidc" => Ok(SignInMethod::Oidc),
            other => Err(StoreError::Invalid {
                column: "console_sessions.method",
                value: other.to_owned(),
            }),
        }
    }
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
    .bind(s.method.as_str())
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
        method: SignInMethod::parse(&row.try_get::<String, _>(1)?)?,
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

/// An OpenID Connect sign-in under way: what the browser's return must
/// match.
#[derive(Debug, Clone)]
pub struct Login {
    /// The `state` sent to the provider.
    pub state: String,
    /// The `nonce` the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier.
    pub pkce_verifier: String,
}

/// Stores a sign-in under way; those started before `stale_cut_ms` go.
pub async fn insert_login(
    conn: &mut AnyConnection,
    id_sha256: &str,
    login: &Login,
    at_ms: i64,
    stale_cut_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM console_logins WHERE created_at < $1")
        .bind(stale_cut_ms)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO console_logins (id_sha256, state, nonce, pkce_verifier, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id_sha256.to_owned())
    .bind(login.state.clone())
    .bind(login.nonce.clone())
    .bind(login.pkce_verifier.clone())
    .bind(at_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Takes (deletes) the sign-in named `id_sha256`: it if it started at or
/// after `stale_cut_ms`. A second return with the same cookie finds
/// nothing.
pub async fn take_login(
    conn: &mut AnyConnection,
    id_sha256: &str,
    stale_cut_ms: i64,
) -> Result<Option<Login>, StoreError> {
    let row = sqlx::query(
        "DELETE FROM console_logins WHERE id_sha256 = $1 \
         RETURNING state, nonce, pkce_verifier, created_at",
    )
    .bind(id_sha256.to_owned())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let created: i64 = row.try_get(3)?;
    if created < stale_cut_ms {
        return Ok(None);
    }
    Ok(Some(Login {
        state: row.try_get(0)?,
        nonce: row.try_get(1)?,
        pkce_verifier: row.try_get(2)?,
    }))
}
