//! `passerelle client`: the partner side (pull, push, watch, status), with
//! the exit codes of `passerelle::client::exit`.

use clap::Subcommand;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ClientArgs {
    /// The partner's client.toml.
    #[arg(long, default_value = "client.toml")]
    config: PathBuf,
    /// Print nothing but errors.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Print one JSON document (for scripts).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    action: ClientAction,
}

#[derive(Subcommand)]
enum ClientAction {
    /// Download, decrypt, store atomically, then acknowledge every waiting file.
    Pull,
    /// Send the month's list (encrypted to the pinned gateway recipient).
    PushList {
        /// CSV or XLSX file.
        file: PathBuf,
        /// Its period (AAAA-MM).
        #[arg(long)]
        period: String,
    },
    /// Send the month's procedure events exported from EXPLOC (encrypted to
    /// the pinned gateway recipient).
    PushProcedures {
        /// CSV or XLSX file.
        file: PathBuf,
        /// The month of the export (AAAA-MM).
        #[arg(long)]
        period: String,
    },
    /// Send a return: enrichment, referent or followup.
    PushReturn {
        /// The kind.
        kind: String,
        /// CSV or XLSX file.
        file: PathBuf,
    },
    /// Pull on an interval and send what is dropped into the outbox folder.
    Watch {
        /// Seconds between rounds (default: client.toml's interval_secs).
        #[arg(long)]
        interval: Option<u64>,
        /// One round, then exit.
        #[arg(long)]
        once: bool,
    },
    /// What waits, the last successes, the certificate's expiry.
    Status,
    /// Pin the age recipient the gateway serves now (after its operator
    /// confirmed a key change).
    AcceptRecipient,
}

/// Runs a client action and returns its exit code (see
/// `passerelle::client::exit`).
pub async fn run(args: ClientArgs) -> i32 {
    use passerelle::client::{self as c, ClientConfig, ClientError};
    let human = !args.quiet && !args.json;
    let out = |text: String, json: serde_json::Value| {
        if args.json {
            println!("{json}");
        } else if !args.quiet {
            println!("{text}");
        }
    };
    let result: Result<i32, ClientError> = async {
        let mut cfg = ClientConfig::load(&args.config)?;
        match args.action {
            ClientAction::Pull => {
                let progress = human && std::io::IsTerminal::is_terminal(&std::io::stderr());
                let r = c::pull(&cfg, progress).await?;
                let mut text = format!("{} file(s) received", r.received.len());
                for p in &r.received {
                    text.push_str(&format!("\n  {}", p.display()));
                }
                if !r.acknowledged_again.is_empty() {
                    text.push_str(&format!(
                        "\n{} file(s) received earlier, acknowledged now",
                        r.acknowledged_again.len()
                    ));
                }
                out(text, serde_json::to_value(&r).unwrap_or_default());
                Ok(c::exit::OK)
            }
            ClientAction::PushList { file, period } => {
                let r = c::push_list(&cfg, &file, &period).await?;
                out(push_text(&r), serde_json::to_value(&r).unwrap_or_default());
                Ok(c::exit::OK)
            }
            ClientAction::PushProcedures { file, period } => {
                let r = c::push_procedures(&cfg, &file, &period).await?;
                out(push_text(&r), serde_json::to_value(&r).unwrap_or_default());
                Ok(c::exit::OK)
            }
            ClientAction::PushReturn { kind, file } => {
                let r = c::push_return(&cfg, &kind, &file).await?;
                out(push_text(&r), serde_json::to_value(&r).unwrap_or_default());
                Ok(c::exit::OK)
            }
            ClientAction::Watch { interval, once } => {
                if let Some(i) = interval {
                    cfg.interval_secs = i.max(1);
                }
                let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
                tokio::spawn(async move {
                    super::shutdown_signal().await;
                    let _ = stop_tx.send(true);
                });
                let r = c::watch(&cfg, once, stop_rx).await?;
                out(
                    format!(
                        "stopped after {} round(s): {} received, {} sent, {} rejected, {} error(s) left for later",
                        r.rounds,
                        r.received,
                        r.sent.len(),
                        r.rejected.len(),
                        r.errors.len()
                    ),
                    serde_json::to_value(&r).unwrap_or_default(),
                );
                Ok(c::exit::OK)
            }
            ClientAction::Status => {
                let r = c::status(&cfg).await?;
                let text = format!(
                    "gateway {}: {}\nlast success: {}\ncertificate {}: expires {} ({} days){}\npinned gateway recipient: {}",
                    r.gateway,
                    match (&r.waiting, &r.gateway_error) {
                        (Some(n), _) => format!("{n} file(s) waiting"),
                        (None, Some(e)) => format!("unreachable ({e})"),
                        (None, None) => "unknown".to_owned(),
                    },
                    r.last_success,
                    r.certificate.as_deref().unwrap_or("?"),
                    r.certificate_not_after,
                    r.certificate_days_left,
                    if r.certificate_expiring { " — WARNING: renew it now" } else { "" },
                    r.pinned_recipient.as_deref().unwrap_or("none yet")
                );
                if r.certificate_expiring {
                    eprintln!("warning: the client certificate expires in {} days", r.certificate_days_left);
                }
                out(text.trim_end().to_owned(), serde_json::to_value(&r).unwrap_or_default());
                Ok(if r.certificate_expiring { c::exit::CERT_EXPIRING } else { c::exit::OK })
            }
            ClientAction::AcceptRecipient => {
                let (old, new) = c::accept_recipient(&cfg).await?;
                out(
                    format!("pinned {new} (was {})", old.as_deref().unwrap_or("none")),
                    serde_json::json!({"previous": old, "pinned": new}),
                );
                Ok(c::exit::OK)
            }
        }
    }
    .await;
    match result {
        Ok(code) => code,
        Err(e) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({"error": e.to_string(), "exit": e.exit_code()})
                );
            }
            if let ClientError::Refused { body, .. } = &e {
                eprintln!("refused by the gateway:");
                print_gateway_error(body);
            } else {
                eprintln!("error: {e}");
            }
            e.exit_code()
        }
    }
}

fn push_text(r: &passerelle::client::PushReport) -> String {
    let mut t = format!(
        "{} ({}): {}",
        if r.status == 201 {
            "accepted"
        } else {
            "already received"
        },
        r.status,
        r.answer
    );
    if r.pinned_now {
        t.push_str("\n(the gateway's age recipient was pinned on this first use)");
    }
    t
}

/// Prints the gateway's JSON error with one line per detail.
fn print_gateway_error(body: &str) {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(body) else {
        eprintln!("  {body}");
        return;
    };
    eprintln!(
        "  {}: {}",
        v["error"]["code"].as_str().unwrap_or("?"),
        v["error"]["message"].as_str().unwrap_or("")
    );
    for d in v["error"]["details"].as_array().into_iter().flatten() {
        eprintln!(
            "  line {} {}: {}",
            d["line"]
                .as_u64()
                .map(|l| l.to_string())
                .unwrap_or_else(|| "-".into()),
            d["column"].as_str().unwrap_or(""),
            d["message"].as_str().unwrap_or("")
        );
    }
}
