//! Retention: what the policy's `[retention]` periods allow to keep, and
//! nothing longer. Run daily by the gateway and by `passerelle retention
//! run`; one transaction; the run is itself audited (counts per category).
//! Audit entries past their period lose their content but keep their leaf
//! hash (`audit_pruned`), so the log stays verifiable against every
//! checkpoint.

use crate::app::App;
use crate::audit::{self, AuditRecord, Outcome};
use crate::store::StoreError;
use serde::Serialize;
use sqlx::Row;

/// What a run removed.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct RetentionReport {
    /// Cases (with their tokens, enrichment, answers, decisions, events).
    pub cases: u64,
    /// Outbox files.
    pub outbox_files: u64,
    /// Records of returns.
    pub returns: u64,
    /// Audit entries whose content was removed (leaf hashes kept).
    pub audit_entries: u64,
}

const DAY_MS: i64 = 86_400_000;

/// Removes what is past its period at `now_ms`.
pub async fn run(app: &App, now_ms: i64) -> Result<RetentionReport, StoreError> {
    let r = &app.config.policy.retention;
    let mut tx = app.store.begin().await?;
    let mut report = RetentionReport::default();

    // Outbox files: acknowledged and old enough, or never fetched and too old.
    let ack_cut = now_ms - i64::from(r.outbox_days_after_ack) * DAY_MS;
    let max_cut = now_ms - i64::from(r.outbox_max_days) * DAY_MS;
    let old_files = "SELECT file_id FROM outbox WHERE (acked_at IS NOT NULL AND acked_at < $1) OR created_at < $2";
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM outbox_chunks WHERE file_id IN ({old_files})"
    )))
    .bind(ack_cut)
    .bind(max_cut)
    .execute(&mut *tx)
    .await?;
    report.outbox_files = sqlx::query(
        "DELETE FROM outbox WHERE (acked_at IS NOT NULL AND acked_at < $1) OR created_at < $2",
    )
    .bind(ack_cut)
    .bind(max_cut)
    .execute(&mut *tx)
    .await?
    .rows_affected();

    // Returns' records.
    report.returns = sqlx::query("DELETE FROM returns WHERE created_at < $1")
        .bind(now_ms - i64::from(r.returns_days) * DAY_MS)
        .execute(&mut *tx)
        .await?
        .rows_affected();

    // Cases closed or not processed long enough ago: the last decision or
    // event on them is older than the period.
    let case_cut = now_ms - i64::from(r.cases_months_after_closure) * 30 * DAY_MS;
    let rows = sqlx::query(
        "SELECT c.case_id FROM cases c WHERE c.state IN ('closed', 'non_traite') \
         AND COALESCE((SELECT MAX(d.decided_at) FROM decisions d WHERE d.case_id = c.case_id), 0) < $1 \
         AND COALESCE((SELECT MAX(e.created_at) FROM events e WHERE e.case_id = c.case_id), 0) < $1",
    )
    .bind(case_cut)
    .fetch_all(&mut *tx)
    .await?;
    for row in &rows {
        let id: String = row.try_get(0)?;
        for sql in [
            "DELETE FROM case_tokens WHERE case_id = $1",
            "DELETE FROM enrichments WHERE case_id = $1",
            "DELETE FROM member_answers WHERE case_id = $1",
            "DELETE FROM agenda WHERE case_id = $1",
            "DELETE FROM decisions WHERE case_id = $1",
            "DELETE FROM events WHERE case_id = $1",
            "DELETE FROM cases WHERE case_id = $1",
        ] {
            sqlx::query(sql).bind(id.clone()).execute(&mut *tx).await?;
        }
    }
    report.cases = rows.len() as u64;

    // Audit entries: the oldest contiguous run older than the period.
    let audit_cut = now_ms - i64::from(r.audit_days) * DAY_MS;
    let keep_from: Option<i64> = sqlx::query("SELECT MIN(seq) FROM audit_log WHERE at >= $1")
        .bind(audit_cut)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    let below: i64 = match keep_from {
        Some(s) => s,
        None => sqlx::query("SELECT COALESCE(MAX(seq) + 1, 0) FROM audit_log")
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?,
    };
    let first: Option<i64> = sqlx::query("SELECT MIN(seq) FROM audit_log")
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    if let Some(first) = first
        && first < below
    {
        sqlx::query("INSERT INTO audit_pruned (seq, leaf_hash) SELECT seq, leaf_hash FROM audit_log WHERE seq < $1")
            .bind(below)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE audit_head SET prunable_below = $1 WHERE id = 1")
            .bind(below)
            .execute(&mut *tx)
            .await?;
        report.audit_entries = sqlx::query("DELETE FROM audit_log WHERE seq < $1")
            .bind(below)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        // Sets are numbered by the entry they were first written for; a
        // set still named by a kept entry (a later download) stays.
        sqlx::query(
            "DELETE FROM audit_subjects WHERE set_id < $1 AND set_id NOT IN \
             (SELECT subjects_set FROM audit_log WHERE subjects_set IS NOT NULL)",
        )
        .bind(below)
        .execute(&mut *tx)
        .await?;
    }

    let mut rec = AuditRecord::new("retention.run", Outcome::Ok);
    rec.objects = vec![
        format!("cases:{}", report.cases),
        format!("outbox_files:{}", report.outbox_files),
        format!("returns:{}", report.returns),
        format!("audit_entries:{}", report.audit_entries),
    ];
    rec.rows = Some(report.cases + report.outbox_files + report.returns + report.audit_entries);
    audit::append(&mut tx, &rec).await?;
    tx.commit().await?;
    tracing::info!(?report, "retention run");
    Ok(report)
}
