//! `pull`: every waiting file is downloaded, checked against its listed
//! SHA-256, decrypted with the partner's identity into a temporary file,
//! fsynced, renamed to its final name and only then acknowledged. The
//! received ids are recorded (appended, fsynced) before the ack, so a re-run
//! after a crash at any point neither loses nor duplicates a file: a file
//! already received is acknowledged again, never written twice; a partial
//! temporary file is removed.

use super::{ClientConfig, ClientError, OutboxEntry, sync_dir};
use serde::Serialize;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// What a pull did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PullReport {
    /// Files written to the inbox now.
    pub received: Vec<PathBuf>,
    /// Files received earlier whose acknowledgement is now done.
    pub acknowledged_again: Vec<String>,
}

fn ledger(cfg: &ClientConfig) -> PathBuf {
    cfg.state.join("received")
}

fn received_ids(cfg: &ClientConfig) -> std::collections::BTreeSet<String> {
    std::fs::read_to_string(ledger(cfg))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn record_received(cfg: &ClientConfig, file_id: &str) -> Result<(), ClientError> {
    let local = |e: std::io::Error| ClientError::Local(format!("{}: {e}", ledger(cfg).display()));
    std::fs::create_dir_all(&cfg.state).map_err(local)?;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(ledger(cfg))
        .map_err(local)?;
    writeln!(f, "{file_id}").map_err(local)?;
    f.sync_all().map_err(local)
}

/// The inbox name of a file: period, kind and id say what it is.
pub fn inbox_name(f: &OutboxEntry) -> String {
    let safe = |s: &str| {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect::<String>()
    };
    format!(
        "{}-{}-{}.{}",
        safe(&f.period),
        safe(&f.kind),
        safe(&f.file_id),
        if f.format == "xlsx" { "xlsx" } else { "csv" }
    )
}

/// Decrypts `ct` into `dir/.part-<name>`, fsyncs, renames to `dir/<name>`.
fn store(
    dir: &Path,
    name: &str,
    ct: &[u8],
    id: &age::x25519::Identity,
) -> Result<PathBuf, ClientError> {
    let final_path = dir.join(name);
    let tmp = dir.join(format!(".part-{name}"));
    let local = |e: std::io::Error| ClientError::Local(format!("{}: {e}", tmp.display()));
    let result = (|| {
        let dec = age::Decryptor::new_buffered(age::armor::ArmoredReader::new(ct))
            .map_err(|e| ClientError::Local(format!("{name}: not an age file: {e}")))?;
        let mut reader = dec
            .decrypt(std::iter::once(id as &dyn age::Identity))
            .map_err(|e| {
                ClientError::Local(format!("{name}: cannot decrypt with this identity: {e}"))
            })?;
        let mut out = std::fs::File::create(&tmp).map_err(local)?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = reader
                .read(&mut buf)
                .map_err(|e| ClientError::Local(format!("{name}: damaged ciphertext: {e}")))?;
            if n == 0 {
                break;
            }
            out.write_all(&buf[..n]).map_err(local)?;
        }
        out.sync_all().map_err(local)?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, &final_path).map_err(local)?;
    sync_dir(dir)?;
    Ok(final_path)
}

/// Removes temporary files a crash left in the inbox.
fn clean(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(".part-") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// Pulls every waiting file.
pub async fn pull(cfg: &ClientConfig, progress: bool) -> Result<PullReport, ClientError> {
    let identity = cfg.age_identity()?;
    let client = cfg.connect()?;
    super::witness::check(cfg, &client).await?;
    std::fs::create_dir_all(&cfg.inbox)
        .map_err(|e| ClientError::Local(format!("{}: {e}", cfg.inbox.display())))?;
    clean(&cfg.inbox);
    let files = client.outbox().await?;
    let bar = progress.then(|| {
        let b = indicatif::ProgressBar::new(files.len() as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}") {
            b.set_style(style);
        }
        b
    });
    let done = received_ids(cfg);
    let mut report = PullReport::default();
    for f in &files {
        if let Some(b) = &bar {
            b.set_message(format!("{} {}", f.kind, f.file_id));
        }
        let name = inbox_name(f);
        if done.contains(&f.file_id) || cfg.inbox.join(&name).exists() {
            // Written by an earlier run that stopped before its ack.
            if !done.contains(&f.file_id) {
                record_received(cfg, &f.file_id)?;
            }
            client.ack(&f.file_id).await?;
            report.acknowledged_again.push(f.file_id.clone());
        } else {
            let ct = client.download(&f.file_id).await?;
            if crate::util::sha256_hex(&ct) != f.sha256 {
                return Err(ClientError::Local(format!(
                    "{}: the downloaded bytes do not match the listed SHA-256; not written, not acknowledged",
                    f.file_id
                )));
            }
            let dir = cfg.inbox.clone();
            let id = identity.clone();
            let path = tokio::task::spawn_blocking(move || store(&dir, &name, &ct, &id))
                .await
                .map_err(|e| ClientError::Local(e.to_string()))??;
            record_received(cfg, &f.file_id)?;
            client.ack(&f.file_id).await?;
            tracing::info!(file = %f.file_id, kind = %f.kind, rows = f.rows, "received");
            report.received.push(path);
        }
        if let Some(b) = &bar {
            b.inc(1);
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    super::status::record_success(cfg, "pull")?;
    Ok(report)
}
