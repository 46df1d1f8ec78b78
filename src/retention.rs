//! Retention: what the policy's `[retention]` periods allow to keep, and
//! nothing longer. Run daily by the gateway and by `passerelle retention
//! run`; one transaction; the run is itself audited (counts per category).
//! Audit entries past their period lose their content but keep their leaf
//! hash (`audit_pruned`), so the log stays verifiable against every
//! checkpoint.

use crate::app::App;
use crate::audit::{self, AuditError, AuditRecord, Outcome};
use crate::store::{StoreError, cases, outbox, returns};
use serde::Serialize;

/// A retention run failed (and removed nothing).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RetentionError {
    /// The store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The audit log.
    #[error(transparent)]
    Audit(#[from] AuditError),
}

impl From<sqlx::Error> for RetentionError {
    fn from(e: sqlx::Error) -> Self {
        RetentionError::Store(e.into())
    }
}

/// What a run removed.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct RetentionReport {
    /// Cases (with their tokens, enrichment, answers, decisions, events).
    pub cases: u64,
    /// Of which cases left undecided past `undecided_cases_months`.
    pub undecided_cases: u64,
    /// Outbox files.
    pub outbox_files: u64,
    /// Records of returns.
    pub returns: u64,
    /// Audit entries whose content was removed (leaf hashes kept).
    pub audit_entries: u64,
    /// Procedure events linked to no case, received more than
    /// `undecided_cases_months` ago (those of a case go with it).
    pub procedure_events: u64,
}

const DAY_MS: i64 = 86_400_000;

/// Removes what is past its period at `now_ms`.
pub async fn run(app: &App, now_ms: i64) -> Result<RetentionReport, RetentionError> {
    let r = &app.config.policy.retention;
    let mut tx = app.store.begin().await?;

    // Outbox files: acknowledged and old enough, or never fetched and too old.
    let outbox_files = outbox::delete_expired(
        &mut tx,
        now_ms - i64::from(r.outbox_days_after_ack) * DAY_MS,
        now_ms - i64::from(r.outbox_max_days) * DAY_MS,
    )
    .await?;

    // Returns' records.
    let returns =
        returns::delete_before(&mut tx, now_ms - i64::from(r.returns_days) * DAY_MS).await?;

    // Cases closed or not processed long enough ago: the last decision or
    // event on them is older than the period.
    let case_cut = now_ms - i64::from(r.cases_months_after_closure) * 30 * DAY_MS;
    let over = cases::over_before(&mut tx, case_cut).await?;
    for id in &over {
        cases::delete(&mut tx, id).await?;
    }
    // Cases the concertation never decided, arrived long enough ago.
    let undecided_cut = now_ms - i64::from(r.undecided_cases_months) * 30 * DAY_MS;
    let undecided = cases::undecided_before(&mut tx, undecided_cut).await?;
    for id in &undecided {
        cases::delete(&mut tx, id).await?;
    }

    // Procedure events that matched no case are kept as long as a case
    // nobody took up; the records of their uploads as long as returns'.
    let procedure_events =
        crate::store::procedures::delete_unlinked_before(&mut tx, undecided_cut).await?;
    crate::store::procedures::delete_files_before(
        &mut tx,
        now_ms - i64::from(r.returns_days) * DAY_MS,
    )
    .await?;

    // Audit entries: the oldest contiguous run older than the period.
    let audit_entries =
        audit::prune_before(&mut tx, now_ms - i64::from(r.audit_days) * DAY_MS).await?;
    let report = RetentionReport {
        cases: (over.len() + undecided.len()) as u64,
        undecided_cases: undecided.len() as u64,
        outbox_files,
        returns,
        audit_entries,
        procedure_events,
    };

    let mut rec = AuditRecord::new("retention.run", Outcome::Ok);
    rec.objects = vec![
        format!("cases:{}", report.cases),
        format!("undecided_cases:{}", report.undecided_cases),
        format!("outbox_files:{}", report.outbox_files),
        format!("returns:{}", report.returns),
        format!("audit_entries:{}", report.audit_entries),
        format!("procedure_events:{}", report.procedure_events),
    ];
    rec.rows = Some(
        report.cases
            + report.outbox_files
            + report.returns
            + report.audit_entries
            + report.procedure_events,
    );
    audit::append(&mut tx, &rec).await?;
    tx.commit().await?;
    tracing::info!(?report, "retention run");
    Ok(report)
}
