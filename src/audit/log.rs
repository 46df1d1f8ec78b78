//! Appending to the log inside the caller's transaction.

use super::entry::{CanonicalEntry, subjects_digest};
use super::{AuditRecord, leaf_hash};
use sqlx::{AnyConnection, Row};

/// The log could not be written: the action it records fails with it.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the audit log: {0}")]
pub struct AuditError(#[from] sqlx::Error);

/// Appends `rec` and returns its sequence number. The number comes from a
/// one-row counter updated in the same transaction, so numbers have no gaps
/// even with several gateway instances (a rolled-back action takes its
/// number back with it).
pub async fn append(conn: &mut AnyConnection, rec: &AuditRecord) -> Result<i64, AuditError> {
    let row = sqlx::query(
        "UPDATE audit_head SET next_seq = next_seq + 1 WHERE id = 1 RETURNING next_seq - 1, last_leaf",
    )
    .fetch_one(&mut *conn)
    .await?;
    let seq: i64 = row.try_get(0)?;
    let prev: String = row.try_get(1)?;
    let now = time::OffsetDateTime::now_utc();
    let at_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
    let mut subjects = rec.subjects.clone();
    subjects.sort();
    subjects.dedup();
    let entry = CanonicalEntry {
        v: 1,
        seq,
        at: crate::util::rfc3339_ms(now),
        partner: rec.partner.as_deref(),
        cert_sha256: rec.cert_sha256.as_deref(),
        action: &rec.action,
        route: rec.route.as_deref(),
        status: rec.status,
        objects: &rec.objects,
        fields: &rec.fields,
        rows: rec.rows,
        subjects: subjects.len(),
        subjects_sha256: subjects_digest(&subjects),
        outcome: rec.outcome,
        reason: rec.reason.as_deref(),
        request_id: rec.request_id.as_deref(),
        prev: &prev,
    };
    let json = serde_json::to_string(&entry).expect("the entry serialises");
    let leaf = hex::encode(leaf_hash(json.as_bytes()));
    sqlx::query("UPDATE audit_head SET last_leaf = $1 WHERE id = 1")
        .bind(leaf.clone())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO audit_log (seq, at, partner, action, outcome, entry, leaf_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(seq)
    .bind(at_ms)
    .bind(rec.partner.clone())
    .bind(rec.action.clone())
    .bind(rec.outcome.as_str())
    .bind(json)
    .bind(leaf)
    .execute(&mut *conn)
    .await?;
    for chunk in subjects.chunks(crate::store::rows_per_insert(2)) {
        let sql =
            crate::store::multi_insert(conn, "audit_subjects", &["subject", "seq"], chunk.len());
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for s in chunk {
            q = q.bind(s.clone()).bind(seq);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(seq)
}
