//! Appending to the log inside the caller's transaction.
//!
//! Small entries go through [`append`]. An entry about a whole list (tens
//! of thousands of households) is written in three steps so that its
//! subject references never sit in memory together: [`reserve`] its
//! number, [`stage_subjects`] (or [`copy_subjects`]) chunk by chunk as the
//! work goes, then [`write_reserved`], which counts and hashes the staged
//! references in the database's order. Entries must be written in number
//! order (each links to the previous one's leaf hash): nothing else is
//! appended between a reservation and its writes.

use super::entry::{CanonicalEntry, subjects_digest};
use super::{AuditRecord, leaf_hash};
use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};
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
    let seq = reserve(conn, 1).await?;
    let mut subjects = rec.subjects.clone();
    subjects.sort();
    subjects.dedup();
    stage_subjects(conn, seq, &subjects).await?;
    write(conn, seq, rec, subjects.len(), subjects_digest(&subjects)).await?;
    Ok(seq)
}

/// Reserves `n` consecutive entry numbers and returns the first.
pub async fn reserve(conn: &mut AnyConnection, n: i64) -> Result<i64, AuditError> {
    let row = sqlx::query(
        "UPDATE audit_head SET next_seq = next_seq + $1 WHERE id = 1 RETURNING next_seq - $2",
    )
    .bind(n)
    .bind(n)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get(0)?)
}

/// Records subject references for the reserved entry `seq` (duplicates
/// are kept once).
pub async fn stage_subjects(
    conn: &mut AnyConnection,
    seq: i64,
    subjects: &[String],
) -> Result<(), AuditError> {
    for chunk in subjects.chunks(crate::store::rows_per_insert(2)) {
        let sql =
            crate::store::multi_insert(conn, "audit_subjects", &["seq", "subject"], chunk.len())
                + " ON CONFLICT DO NOTHING";
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for s in chunk {
            q = q.bind(seq).bind(s.clone());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Gives the reserved entry `seq` the subject references of entry `from`
/// (a download discloses the households of the file's production).
pub async fn copy_subjects(
    conn: &mut AnyConnection,
    from: i64,
    seq: i64,
) -> Result<(), AuditError> {
    sqlx::query(
        "INSERT INTO audit_subjects (seq, subject) SELECT $1, subject FROM audit_subjects WHERE seq = $2",
    )
    .bind(seq)
    .bind(from)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes the reserved entry `seq` with the subject references staged for
/// it (`rec.subjects` is staged first). Their count and digest are read
/// back in byte order (references are lowercase hex, ordered alike by
/// every collation), one at a time.
pub async fn write_reserved(
    conn: &mut AnyConnection,
    seq: i64,
    rec: &AuditRecord,
) -> Result<(), AuditError> {
    stage_subjects(conn, seq, &rec.subjects).await?;
    let (count, digest) = {
        let mut rows =
            sqlx::query("SELECT subject FROM audit_subjects WHERE seq = $1 ORDER BY subject")
                .bind(seq)
                .fetch(&mut *conn);
        let mut h = Sha256::new();
        let mut count = 0usize;
        while let Some(row) = rows.try_next().await? {
            let s: String = row.try_get(0)?;
            h.update(s.as_bytes());
            h.update(b"\n");
            count += 1;
        }
        (count, hex::encode(h.finalize()))
    };
    write(conn, seq, rec, count, digest).await
}

async fn write(
    conn: &mut AnyConnection,
    seq: i64,
    rec: &AuditRecord,
    subjects: usize,
    subjects_sha256: String,
) -> Result<(), AuditError> {
    let prev: String = sqlx::query("SELECT last_leaf FROM audit_head WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    let now = time::OffsetDateTime::now_utc();
    let at_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
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
        subjects,
        subjects_sha256,
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
    Ok(())
}
