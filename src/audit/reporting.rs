//! Loads a period's entries for the DPO's HTML report ([`super::report`]).

use super::report::{ReportEntry, Verification, render};
use super::tlog;
use sqlx::{AnyConnection, Row};

/// Midnight of `day` in Paris, as epoch milliseconds (Paris is never
/// switching its clock at midnight: the offset of that instant is the
/// day's).
fn paris_midnight_ms(day: time::Date) -> i64 {
    let offset = crate::util::paris(day.midnight().assume_utc()).offset();
    (day.midnight().assume_offset(offset).unix_timestamp_nanos() / 1_000_000) as i64
}

/// The entries of `from..=to` (days in Europe/Paris), in log order, as the report
/// and its anomalies read them.
pub async fn entries(
    conn: &mut AnyConnection,
    from: time::Date,
    to: time::Date,
) -> Result<Vec<ReportEntry>, sqlx::Error> {
    let start = paris_midnight_ms(from);
    let end = paris_midnight_ms(to + time::Duration::days(1));
    let rows = sqlx::query("SELECT seq, at, partner, action, outcome, entry FROM audit_log WHERE at >= $1 AND at < $2 ORDER BY seq")
        .bind(start)
        .bind(end)
        .fetch_all(&mut *conn)
        .await?;
    let mut entries = Vec::with_capacity(rows.len());
    for r in &rows {
        let entry = super::StoredEntry::parse(&r.try_get::<String, _>(5)?).unwrap_or_default();
        entries.push(ReportEntry {
            seq: r.try_get(0)?,
            at_ms: r.try_get(1)?,
            partner: r.try_get(2)?,
            person: entry.person,
            action: r.try_get(3)?,
            outcome: r.try_get(4)?,
            reason: entry.reason,
            route: entry.route,
            rows: entry.rows,
        });
    }
    Ok(entries)
}

/// The report for the entries of `from..=to` (days in Europe/Paris), resting on the
/// verification `v` of the whole log.
pub async fn build(
    conn: &mut AnyConnection,
    from: time::Date,
    to: time::Date,
    v: &tlog::Verification,
) -> Result<String, sqlx::Error> {
    let entries = entries(conn, from, to).await?;
    let verification = Verification {
        ok: v.ok(),
        message: if v.ok() {
            format!(
                "{} entrée(s) recalculée(s) ; {} point(s) de contrôle signé(s) vérifié(s)",
                v.entries, v.checkpoints_checked
            )
        } else {
            v.faults
                .iter()
                .map(|f| format!("entrée {} : {} — {}", f.position, f.label_fr(), f.message))
                .collect::<Vec<_>>()
                .join("\n")
        },
        entries: v.entries,
        checkpoint_size: v.latest_checkpoint.as_ref().map(|c| c.0),
        checkpoint_root: v.latest_checkpoint.as_ref().map(|c| c.1.clone()),
        checkpoint_note: v.latest_note.clone(),
    };
    Ok(render(
        "passerelle — rapport du journal des accès",
        from,
        to,
        &entries,
        &verification,
    ))
}
