//! `enrichments`: CAF's answer about a case, sealed (read back with the
//! case, see [`super::cases`]).

use super::StoreError;
use crate::domain::CaseId;
use sqlx::AnyConnection;

/// Stores a case's sealed enrichment in place of any earlier one.
pub async fn put(
    conn: &mut AnyConnection,
    case_id: &CaseId,
    return_id: &str,
    sealed: Vec<u8>,
    at_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM enrichments WHERE case_id = $1")
        .bind(case_id.as_str().to_owned())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO enrichments (case_id, return_id, sealed, updated_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(case_id.as_str().to_owned())
    .bind(return_id.to_owned())
    .bind(sealed)
    .bind(at_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
