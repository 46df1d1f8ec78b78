//! `watch`: pull on an interval, and send every file dropped into the
//! outbox folder, moving it to `sent/` (with the receipt beside it) or to
//! `rejected/` (with the gateway's errors beside it). Network errors, 5xx
//! and 429 are retried with backoff; what still fails stays in place for
//! the next round. SIGTERM or Ctrl-C stops it cleanly between two steps.

use super::{ClientConfig, ClientError, push_file};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What a watch did before it stopped.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WatchReport {
    /// Rounds run.
    pub rounds: u64,
    /// Files received.
    pub received: usize,
    /// Files sent.
    pub sent: Vec<String>,
    /// Files refused.
    pub rejected: Vec<String>,
    /// Errors that will be retried next round.
    pub errors: Vec<String>,
}

fn move_with_note(file: &Path, to: &Path, suffix: &str, note: &str) -> Result<(), ClientError> {
    let local = |e: std::io::Error| ClientError::Local(format!("{}: {e}", to.display()));
    std::fs::create_dir_all(to).map_err(local)?;
    let name = file.file_name().unwrap_or_default();
    super::write_atomic(
        &to.join(format!("{}{suffix}", name.to_string_lossy())),
        note.as_bytes(),
    )?;
    std::fs::rename(file, to.join(name)).map_err(local)?;
    super::sync_dir(to)
}

/// Files ready to send: regular, not hidden, untouched for two seconds (so
/// a file still being written is left for the next round).
fn ready(outbox: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(outbox)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter(|e| {
            e.metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age >= Duration::from_secs(2))
        })
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

/// One round: pull, then send what waits in the outbox.
async fn round(cfg: &ClientConfig, report: &mut WatchReport) -> Result<(), ClientError> {
    match super::pull(cfg, false).await {
        Ok(r) => report.received += r.received.len(),
        Err(e @ ClientError::RecipientChanged { .. }) => return Err(e),
        Err(e) => report.errors.push(format!("pull: {e}")),
    }
    std::fs::create_dir_all(&cfg.outbox)
        .map_err(|e| ClientError::Local(format!("{}: {e}", cfg.outbox.display())))?;
    for file in ready(&cfg.outbox) {
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        match push_file(cfg, &file).await {
            Ok(r) => {
                move_with_note(
                    &file,
                    &cfg.outbox.join("sent"),
                    ".receipt.json",
                    &r.answer.to_string(),
                )?;
                tracing::info!(file = %name, status = r.status, "sent");
                report.sent.push(name);
            }
            Err(ClientError::Refused { status, body }) => {
                let note = if body.trim_start().starts_with('{') {
                    body
                } else {
                    serde_json::json!({"status": status, "error": body}).to_string()
                };
                move_with_note(&file, &cfg.outbox.join("rejected"), ".errors.json", &note)?;
                tracing::warn!(file = %name, status, "refused by the gateway; moved to rejected/");
                report.rejected.push(name);
            }
            Err(e @ ClientError::RecipientChanged { .. }) => return Err(e),
            Err(e) => {
                tracing::warn!(file = %name, error = %e, "not sent; will retry");
                report.errors.push(format!("{name}: {e}"));
            }
        }
    }
    Ok(())
}

/// Runs rounds until `stop` turns true (or once, when `once`). A stop
/// asked during a round lets the round finish: no request is cut short.
pub async fn watch(
    cfg: &ClientConfig,
    once: bool,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<WatchReport, ClientError> {
    let mut report = WatchReport::default();
    loop {
        round(cfg, &mut report).await?;
        report.rounds += 1;
        if once || *stop.borrow() {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(cfg.interval_secs)) => {}
            _ = stop.changed() => break,
        }
    }
    Ok(report)
}
