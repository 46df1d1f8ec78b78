//! `passerelle audit`: the DPO's tools on the access log (verify, report,
//! export). `verify` exits 1 when the log has a fault, 3 when it found none
//! but had no signed checkpoint to rest on (only the log's internal
//! consistency was checked).

use anyhow::Context;
use clap::Subcommand;
use passerelle::config::{Config, Overrides};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct AuditArgs {
    /// The gateway configuration.
    #[arg(long, global = true, default_value = "config/passerelle.toml")]
    config: PathBuf,
    /// Data folder (SQLite file, keys), overriding the configuration.
    #[arg(long, global = true)]
    data: Option<PathBuf>,
    /// `postgres://…` to read PostgreSQL instead of the embedded SQLite.
    #[arg(long, global = true, env = "PASSERELLE_DATABASE_URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    action: AuditAction,
}

#[derive(Subcommand)]
enum AuditAction {
    /// Recompute the log, check every signed checkpoint; exit 1 on any fault, 3 with no checkpoint to rest on.
    Verify {
        /// The checkpoint verifier key (default: <data>/audit-signing.pub).
        #[arg(long)]
        public_key: Option<PathBuf>,
        /// A signed checkpoint a partner saved (the client's `state/checkpoint`):
        /// the log must be that tree or an extension of it.
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// A self-contained HTML report for the DPO.
    Report {
        /// First day (AAAA-MM-JJ).
        #[arg(long)]
        from: String,
        /// Last day (AAAA-MM-JJ).
        #[arg(long)]
        to: String,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        /// The checkpoint verifier key (default: <data>/audit-signing.pub).
        #[arg(long)]
        public_key: Option<PathBuf>,
    },
    /// The entries of a period as JSON lines (for an auditor).
    Export {
        /// First day (AAAA-MM-JJ).
        #[arg(long)]
        from: String,
        /// Last day (AAAA-MM-JJ).
        #[arg(long)]
        to: String,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Runs an audit action; returns the exit code (1 when the log has a fault).
pub async fn run(args: AuditArgs) -> anyhow::Result<i32> {
    use passerelle::audit::tlog;
    let overrides = Overrides {
        listen: None,
        data: args.data.clone(),
        database_url: args.database_url.clone(),
        console_listen: None,
    };
    let cfg = Config::load(&args.config, &overrides)?;
    let data = cfg.gateway.storage.data.clone();
    let store = passerelle::store::Store::open(&cfg.gateway.storage.url()).await?;
    let vkey_of = |p: &Option<PathBuf>| -> anyhow::Result<String> {
        let path = p.clone().unwrap_or_else(|| data.join("audit-signing.pub"));
        Ok(std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the verifier key {}", path.display()))?
            .trim()
            .to_owned())
    };
    let mut conn = store.pool().acquire().await?;
    let code = match args.action {
        AuditAction::Verify {
            public_key,
            checkpoint,
            json,
        } => {
            let saved = match &checkpoint {
                Some(p) => Some(
                    std::fs::read_to_string(p)
                        .with_context(|| format!("cannot read the checkpoint {}", p.display()))?,
                ),
                None => None,
            };
            let v = tlog::verify_with(&mut conn, &vkey_of(&public_key)?, saved.as_deref()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else if v.ok() && !v.anchored() {
                println!(
                    "no checkpoint: only internal consistency was checked ({} entries); \
                     pass --checkpoint a checkpoint a partner saved to rule out entries cut or rewritten",
                    v.entries
                );
            } else if v.ok() {
                println!(
                    "OK: {} entries, {} signed checkpoint(s) verified{}{}",
                    v.entries,
                    v.checkpoints_checked,
                    v.latest_checkpoint
                        .as_ref()
                        .map(|(s, r)| format!("; latest covers {s} entries, root {r}"))
                        .unwrap_or_default(),
                    v.saved_checkpoint
                        .map(|s| format!("; extends the saved checkpoint of {s} entries"))
                        .unwrap_or_default()
                );
            } else {
                println!("FAULT: the audit log was altered");
                for f in &v.faults {
                    println!("  entry {}: {} — {}", f.position, f.kind, f.message);
                }
            }
            match (v.ok(), v.anchored()) {
                (false, _) => 1,
                (true, false) => 3,
                (true, true) => 0,
            }
        }
        AuditAction::Report {
            from,
            to,
            out,
            public_key,
        } => {
            let from = passerelle::domain::parse_date(&from).map_err(anyhow::Error::msg)?;
            let to = passerelle::domain::parse_date(&to).map_err(anyhow::Error::msg)?;
            let v = tlog::verify(&mut conn, &vkey_of(&public_key)?).await?;
            let html = passerelle::audit::reporting::build(&mut conn, from, to, &v).await?;
            std::fs::write(&out, html)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "report written to {} (log {})",
                out.display(),
                if v.ok() { "verified" } else { "NOT verified" }
            );
            0
        }
        AuditAction::Export { from, to, out } => {
            let lines = passerelle::audit::query::export(&mut conn, &from, &to)
                .await
                .map_err(anyhow::Error::msg)?;
            std::fs::write(&out, lines)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!("entries written to {}", out.display());
            0
        }
    };
    drop(conn);
    store.close().await;
    Ok(code)
}
