//! `case_tokens`: which partner was shown which token for which case. A
//! partner may only act on a case through a token it was given.

use super::{StoreError, multi_insert};
use crate::domain::{CaseId, Token};
use sqlx::{AnyConnection, Row};

/// Records the tokens a file (or an agenda, or alerts) disclosed to its
/// partner: `(token, case)`. A token already recorded stays as it is.
pub async fn insert(
    conn: &mut AnyConnection,
    partner: &str,
    tokens: Vec<(Token, CaseId)>,
    at_ms: i64,
) -> Result<(), StoreError> {
    let per = super::rows_per_insert(4);
    let mut tokens = tokens.into_iter().peekable();
    while tokens.peek().is_some() {
        let chunk: Vec<(Token, CaseId)> = tokens.by_ref().take(per).collect();
        let sql = multi_insert(
            conn,
            "case_tokens",
            &["token", "partner", "case_id", "created_at"],
            chunk.len(),
        ) + " ON CONFLICT (token) DO NOTHING";
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (token, case_id) in chunk {
            q = q
                .bind(token.into_string())
                .bind(partner.to_owned())
                .bind(case_id.as_str().to_owned())
                .bind(at_ms);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The case `token` stands for, if that token was delivered to `partner`.
pub async fn case_of(
    conn: &mut AnyConnection,
    partner: &str,
    token: &Token,
) -> Result<Option<CaseId>, StoreError> {
    let row = sqlx::query("SELECT case_id FROM case_tokens WHERE token = $1 AND partner = $2")
        .bind(token.as_str().to_owned())
        .bind(partner.to_owned())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row
        .map(|r| r.try_get::<String, _>(0))
        .transpose()?
        .map(CaseId::from_stored))
}

/// Every token shown for the cases of a list: `(partner, token)`, sorted.
pub async fn of_list(
    conn: &mut AnyConnection,
    list_id: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    sqlx::query(
        "SELECT t.partner, t.token FROM case_tokens t JOIN cases c ON c.case_id = t.case_id \
         WHERE c.list_id = $1 ORDER BY t.partner, t.token",
    )
    .bind(list_id.to_owned())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
    .collect()
}
