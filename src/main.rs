//! The `passerelle` command line. Library errors become `anyhow` here only.
#![forbid(unsafe_code)]

use anyhow::Context;
use clap::{Parser, Subcommand};
use passerelle::config::{Config, Overrides};
use std::net::SocketAddr;
use std::path::PathBuf;

/// mimalloc instead of glibc's allocator: a list's acceptance makes about a
/// hundred small allocations per row across three threads; glibc spent a
/// fifth of the CPU on them and kept freed memory per thread (README
/// "Performance").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "passerelle",
    version,
    about = "Hardened data-exchange gateway for the early prevention of rental evictions"
)]
struct Cli {
    /// Log format: text or json.
    #[arg(
        long,
        global = true,
        env = "PASSERELLE_LOG_FORMAT",
        default_value = "text"
    )]
    log_format: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// The gateway configuration.
    #[arg(long, default_value = "config/passerelle.toml")]
    config: PathBuf,
    /// Listening address, overriding the configuration.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Data folder (SQLite file, generated keys), overriding the configuration.
    #[arg(long)]
    data: Option<PathBuf>,
    /// `postgres://…` to use PostgreSQL instead of the embedded SQLite.
    #[arg(long, env = "PASSERELLE_DATABASE_URL")]
    database_url: Option<String>,
}

impl ServeArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            listen: self.listen,
            data: self.data.clone(),
            database_url: self.database_url.clone(),
        }
    }
}

#[derive(clap::Args)]
struct AuditArgs {
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
    /// Recompute the log, check every signed checkpoint; non-zero exit on any fault.
    Verify {
        /// The checkpoint verifier key (default: <data>/audit-signing.pub).
        #[arg(long)]
        public_key: Option<PathBuf>,
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

#[derive(clap::Args)]
struct ClientArgs {
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

#[derive(Subcommand)]
enum Command {
    /// Run the gateway.
    Serve(ServeArgs),
    /// The circuit on the example configuration, in a temporary folder.
    Demo {
        /// The gateway configuration.
        #[arg(long, default_value = "config/passerelle.toml")]
        config: PathBuf,
        /// A list to upload instead of the built-in sample.
        #[arg(long, requires = "period")]
        list: Option<PathBuf>,
        /// The list's period (AAAA-MM).
        #[arg(long)]
        period: Option<String>,
    },
    /// Make a development PKI and age identities (never for production).
    DevCerts {
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Partner ids (default: the seven example partners).
        #[arg(long, value_delimiter = ',')]
        partners: Vec<String>,
    },
    /// The DPO's tools on the access log.
    Audit(AuditArgs),
    /// The GDPR art. 30 record of processing, from the configuration.
    Register {
        /// The gateway configuration.
        #[arg(long, default_value = "config/passerelle.toml")]
        config: PathBuf,
        /// `md` (Markdown) or `html`.
        #[arg(long, default_value = "md", value_parser = ["md", "html"])]
        format: String,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The controller named in the record.
        #[arg(
            long,
            default_value = "CCAPEX de la Vendée (DDETS), with the partners of partners.toml"
        )]
        controller: String,
    },
    /// Pseudonymisation keys: `rotate` adds a new version for new cases.
    Keys {
        #[command(flatten)]
        store: ServeArgs,
        /// `rotate`.
        #[arg(value_parser = ["rotate"])]
        action: String,
    },
    /// Delete what is past its retention period (also run daily by `serve`).
    Retention {
        #[command(flatten)]
        store: ServeArgs,
        /// `run`.
        #[arg(value_parser = ["run"])]
        action: String,
    },
    /// The partner side: pull, push, watch, status (exit codes: README).
    Client(ClientArgs),
    /// Check the configuration and exit.
    CheckConfig {
        /// The gateway configuration.
        #[arg(long, default_value = "config/passerelle.toml")]
        config: PathBuf,
    },
}

fn init_logs(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logs(&cli.log_format);
    match cli.command {
        Command::Serve(args) => {
            let config = Config::load(&args.config, &args.overrides())?;
            let app = passerelle::app::App::open(config).await?;
            let server = passerelle::http::start(app.clone()).await?;
            eprintln!(
                "passerelle listening on https://{} (mutual TLS); Ctrl-C to stop",
                server.addr
            );
            shutdown_signal().await;
            tracing::info!("stopping");
            server.shutdown(std::time::Duration::from_secs(30)).await;
            app.store.close().await;
        }
        Command::Demo {
            config,
            list,
            period,
        } => {
            let list = list.zip(period);
            passerelle::demo::run(&config, list, &mut std::io::stdout())
                .await
                .context("the demo failed")?;
        }
        Command::DevCerts { out, partners } => {
            let ids: Vec<&str> = if partners.is_empty() {
                passerelle::tls::devpki::EXAMPLE_PARTNERS.to_vec()
            } else {
                partners.iter().map(String::as_str).collect()
            };
            let pki = passerelle::tls::devpki::generate(&out, &ids)?;
            println!(
                "development PKI written to {} (never for production)",
                pki.dir.display()
            );
            println!("gateway age recipient: {}", pki.gateway_recipient);
        }
        Command::Register {
            config,
            format,
            out,
            controller,
        } => {
            let cfg = Config::load(&config, &Overrides::default())?;
            let retention = &cfg.policy.retention;
            let text = if format == "html" {
                passerelle::register::html(&cfg, retention, &controller)
            } else {
                passerelle::register::markdown(&cfg, retention, &controller)
            };
            match out {
                Some(p) => {
                    std::fs::write(&p, text)
                        .with_context(|| format!("cannot write {}", p.display()))?;
                    println!("record of processing written to {}", p.display());
                }
                None => print!("{text}"),
            }
        }
        Command::Keys { store, .. } => {
            let config = Config::load(&store.config, &store.overrides())?;
            let (version, path) = passerelle::app::rotate_keys(&config)?;
            println!(
                "pseudonymisation key version {version} written to {} (mode 0600); restart the gateway: new cases use it, existing cases keep their tokens",
                path.display()
            );
        }
        Command::Retention { store, .. } => {
            let config = Config::load(&store.config, &store.overrides())?;
            let app = passerelle::app::App::open(config).await?;
            let r = passerelle::retention::run(&app, passerelle::util::now_ms()).await?;
            println!(
                "removed: {} case(s), {} outbox file(s), {} return record(s), {} audit entr(y/ies) (their leaf hashes kept)",
                r.cases, r.outbox_files, r.returns, r.audit_entries
            );
            app.store.close().await;
        }
        Command::Audit(args) => {
            let code = run_audit(args).await?;
            std::process::exit(code);
        }
        Command::Client(args) => {
            let code = run_client(args).await;
            std::process::exit(code);
        }
        Command::CheckConfig { config } => {
            let cfg = Config::load(&config, &Overrides::default())?;
            println!(
                "{}: OK ({} partners, {} views)",
                config.display(),
                cfg.partners.iter().count(),
                cfg.policy.views.len()
            );
        }
    }
    Ok(())
}

/// Runs an audit action; returns the exit code (1 when the log has a fault).
async fn run_audit(args: AuditArgs) -> anyhow::Result<i32> {
    use passerelle::audit::tlog;
    let overrides = Overrides {
        listen: None,
        data: args.data.clone(),
        database_url: args.database_url.clone(),
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
        AuditAction::Verify { public_key, json } => {
            let v = tlog::verify(&mut conn, &vkey_of(&public_key)?).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else if v.ok() {
                println!(
                    "OK: {} entries, {} signed checkpoint(s) verified{}",
                    v.entries,
                    v.checkpoints_checked,
                    v.latest_checkpoint
                        .as_ref()
                        .map(|(s, r)| format!("; latest covers {s} entries, root {r}"))
                        .unwrap_or_default()
                );
            } else {
                println!("FAULT: the audit log was altered");
                for f in &v.faults {
                    println!("  entry {}: {} — {}", f.position, f.kind, f.message);
                }
            }
            if v.ok() { 0 } else { 1 }
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
            let f = passerelle::audit::query::Filter {
                from: Some(from),
                to: Some(to),
                per_page: Some(500),
                ..Default::default()
            };
            let mut lines = String::new();
            let mut page = 1;
            loop {
                let (entries, _) = passerelle::audit::query::list(
                    &mut conn,
                    &passerelle::audit::query::Filter {
                        page: Some(page),
                        ..f.clone()
                    },
                )
                .await
                .map_err(anyhow::Error::msg)?;
                if entries.is_empty() {
                    break;
                }
                for e in entries {
                    lines.push_str(&e.to_string());
                    lines.push('\n');
                }
                page += 1;
            }
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

/// Runs a client action and returns its exit code (see
/// `passerelle::client::exit`).
async fn run_client(args: ClientArgs) -> i32 {
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
                    shutdown_signal().await;
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

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler can be installed");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
