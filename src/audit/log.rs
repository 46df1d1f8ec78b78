//! Appending to the log inside the caller's transaction.
//!
//! An entry's households are a *set* of subject references
//! (`audit_subjects`, rows `(set_id, n, subject)` in the order they were
//! written), named by the entry (`audit_log.subjects_set`) and committed in
//! it by count and SHA-256 ([`SubjectsDigest`]). Small entries go through
//! [`append`], which writes their own set. An entry about a whole list is
//! written in steps so that its references never sit in memory together:
//! [`reserve`] its number, [`stage_subjects`] chunk by chunk as the work
//! goes while a [`SubjectsDigest`] follows them, then [`write_reserved`].
//! Entries about the same households share one set: the production of a
//! file holding the whole list and every download of that file name the
//! upload's set ([`subjects_of`]). Entries must be written in number order
//! (each links to the previous one's leaf hash): nothing else is appended
//! between a reservation and its writes.

use super::entry::{CanonicalEntry, StoredEntry};
use super::{AuditRecord, leaf_hash};
use crate::domain::CaseId;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

/// The log could not be written: the action it records fails with it.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the audit log: {0}")]
pub struct AuditError(#[from] sqlx::Error);

/// The households an entry concerns: a stored set, its size and digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subjects {
    /// The set's id (the number of the entry it was first written for).
    pub set: i64,
    /// References in the set.
    pub count: u64,
    /// [`SubjectsDigest`] of the set.
    pub sha256: String,
}

/// SHA-256 over subject references in the set's order, one per line.
#[derive(Debug, Clone, Default)]
pub struct SubjectsDigest {
    hash: Sha256,
    count: u64,
}

impl SubjectsDigest {
    /// An empty digest.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the next reference.
    pub fn add(&mut self, subject: &str) {
        self.hash.update(subject.as_bytes());
        self.hash.update(b"\n");
        self.count += 1;
    }

    /// References added so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The set's description, once all its references are added.
    pub fn finish(self, set: i64) -> Subjects {
        Subjects {
            set,
            count: self.count,
            sha256: hex::encode(self.hash.finalize()),
        }
    }
}

/// Appends `rec` with its own set of `rec.subjects` (sorted, each once)
/// and returns its sequence number. The number comes from a one-row
/// counter updated in the same transaction, so numbers have no gaps even
/// with several gateway instances (a rolled-back action takes its number
/// back with it).
pub async fn append(conn: &mut AnyConnection, rec: &AuditRecord) -> Result<i64, AuditError> {
    // One statement takes the number and the previous leaf hash.
    let row = sqlx::query(
        "UPDATE audit_head SET next_seq = next_seq + 1 WHERE id = 1 RETURNING next_seq - 1, last_leaf",
    )
    .fetch_one(&mut *conn)
    .await?;
    let seq: i64 = row.try_get(0)?;
    let prev: String = row.try_get(1)?;
    let mut subjects = rec.subjects.clone();
    subjects.sort();
    subjects.dedup();
    let set = if subjects.is_empty() {
        None
    } else {
        stage_subjects(conn, seq, 0, &subjects).await?;
        let mut d = SubjectsDigest::new();
        subjects.iter().for_each(|s| d.add(s));
        Some(d.finish(seq))
    };
    write(conn, seq, rec, set.as_ref(), &prev).await?;
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

/// Writes references `first`, `first + 1`… of the set `set`.
pub async fn stage_subjects(
    conn: &mut AnyConnection,
    set: i64,
    first: i64,
    subjects: &[String],
) -> Result<(), AuditError> {
    let mut n = first;
    for chunk in subjects.chunks(crate::store::rows_per_insert(3)) {
        let sql = crate::store::multi_insert(
            conn,
            "audit_subjects",
            &["set_id", "n", "subject"],
            chunk.len(),
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for s in chunk {
            q = q.bind(set).bind(n).bind(s.clone());
            n += 1;
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The households of entry `seq`, for another entry about the same ones.
pub async fn subjects_of(
    conn: &mut AnyConnection,
    seq: i64,
) -> Result<Option<Subjects>, AuditError> {
    let Some(row) = sqlx::query("SELECT subjects_set, entry FROM audit_log WHERE seq = $1")
        .bind(seq)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let Some(set) = row.try_get::<Option<i64>, _>(0)? else {
        return Ok(None);
    };
    let entry = StoredEntry::parse(&row.try_get::<String, _>(1)?).unwrap_or_default();
    Ok(Some(Subjects {
        set,
        count: entry.subjects,
        sha256: entry.subjects_sha256,
    }))
}

/// Writes the households of a list's cases, in line order, as the set
/// `set` (its upload's), in the database: their references never pass
/// through memory together. Its digest is the one `circuit::lists`
/// computed over the same rows.
pub async fn stage_list_subjects(
    conn: &mut AnyConnection,
    set: i64,
    list_id: &str,
) -> Result<(), AuditError> {
    if conn.backend_name().eq_ignore_ascii_case("sqlite") {
        // A list's case ids share a prefix: the primary key finds them in
        // order (SQLite has no list index).
        let (low, high) = CaseId::list_bounds(list_id);
        sqlx::query(
            "INSERT INTO audit_subjects (set_id, n, subject) SELECT $1, line, subject FROM cases \
             WHERE case_id > $2 AND case_id < $3 AND list_id = $4",
        )
        .bind(set)
        .bind(low)
        .bind(high)
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

/// Entries written so far (pruned ones excepted).
pub async fn count(conn: &mut AnyConnection) -> Result<i64, AuditError> {
    Ok(sqlx::query("SELECT COUNT(*) FROM audit_log")
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?)
}

/// Removes the content of the oldest contiguous run of entries written
/// before `cut_ms`, keeping their leaf hashes (`audit_pruned`) so the log
/// stays verifiable against every checkpoint; returns how many.
pub async fn prune_before(conn: &mut AnyConnection, cut_ms: i64) -> Result<u64, AuditError> {
    let keep_from: Option<i64> = sqlx::query("SELECT MIN(seq) FROM audit_log WHERE at >= $1")
        .bind(cut_ms)
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    let below: i64 = match keep_from {
        Some(s) => s,
        None => sqlx::query("SELECT COALESCE(MAX(seq) + 1, 0) FROM audit_log")
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?,
    };
    let first: Option<i64> = sqlx::query("SELECT MIN(seq) FROM audit_log")
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    let Some(first) = first else { return Ok(0) };
    if first >= below {
        return Ok(0);
    }
    sqlx::query(
        "INSERT INTO audit_pruned (seq, leaf_hash) SELECT seq, leaf_hash FROM audit_log WHERE seq < $1",
    )
    .bind(below)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET prunable_below = $1 WHERE id = 1")
        .bind(below)
        .execute(&mut *conn)
        .await?;
    let pruned = sqlx::query("DELETE FROM audit_log WHERE seq < $1")
        .bind(below)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    // Sets are numbered by the entry they were first written for; a set
    // still named by a kept entry (a later download) stays.
    sqlx::query(
        "DELETE FROM audit_subjects WHERE set_id < $1 AND set_id NOT IN \
         (SELECT subjects_set FROM audit_log WHERE subjects_set IS NOT NULL)",
    )
    .bind(below)
    .execute(&mut *conn)
    .await?;
    Ok(pruned)
}

/// Writes the reserved entry `seq` naming the set `subjects` (already
/// staged); `rec.subjects` is not used.
pub async fn write_reserved(
    conn: &mut AnyConnection,
    seq: i64,
    rec: &AuditRecord,
    subjects: Option<&Subjects>,
) -> Result<(), AuditError> {
    debug_assert!(
        rec.subjects.is_empty(),
        "reserved entries name a staged set"
    );
    let prev: String = sqlx::query("SELECT last_leaf FROM audit_head WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    write(conn, seq, rec, subjects, &prev).await
}

/// Writes entry `seq`, linked to `prev`, the previous entry's leaf hash.
async fn write(
    conn: &mut AnyConnection,
    seq: i64,
    rec: &AuditRecord,
    subjects: Option<&Subjects>,
    prev: &str,
) -> Result<(), AuditError> {
    let now = time::OffsetDateTime::now_utc();
    let at_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
    let entry = CanonicalEntry {
        v: 1,
        seq,
        at: crate::util::rfc3339_ms(now),
        partner: rec.partner.as_deref(),
        person: rec.person.as_deref(),
        cert_sha256: rec.cert_sha256.as_deref(),
        action: &rec.action,
        route: rec.route.as_deref(),
        status: rec.status,
        objects: &rec.objects,
        fields: &rec.fields,
        rows: rec.rows,
        subjects: subjects.map_or(0, |s| s.count),
        subjects_sha256: subjects.map_or_else(
            || SubjectsDigest::new().finish(0).sha256,
            |s| s.sha256.clone(),
        ),
        outcome: rec.outcome,
        reason: rec.reason.as_deref(),
        request_id: rec.request_id.as_deref(),
        prev,
    };
    let json = serde_json::to_string(&entry).expect("the entry serialises");
    let leaf = hex::encode(leaf_hash(json.as_bytes()));
    sqlx::query("UPDATE audit_head SET last_leaf = $1 WHERE id = 1")
        .bind(leaf.clone())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO audit_log (seq, at, partner, action, outcome, entry, leaf_hash, subjects_set) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(seq)
    .bind(at_ms)
    .bind(rec.partner.clone())
    .bind(rec.action.clone())
    .bind(rec.outcome.as_str())
    .bind(json)
    .bind(leaf)
    .bind(subjects.map(|s| s.set))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
