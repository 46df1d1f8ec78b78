//! The command line's definitions and one module per subcommand, each with
//! its `run`. These modules belong to the binary: library errors become
//! `anyhow` here, and nowhere in the library.
//!
//! Every flag, default, help text, message and exit code is part of the
//! interface scripts rely on: change them only on purpose.

pub mod audit;
pub mod check_config;
pub mod client;
pub mod demo;
pub mod dev_certs;
pub mod keys;
pub mod migrate;
pub mod register;
pub mod retention;
pub mod serve;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "passerelle",
    version,
    about = "Hardened data-exchange gateway for the early prevention of rental evictions"
)]
pub struct Cli {
    /// Log format: text or json.
    #[arg(
        long,
        global = true,
        env = "PASSERELLE_LOG_FORMAT",
        default_value = "text"
    )]
    pub log_format: String,
    #[command(subcommand)]
    pub command: Command,
}

// The variants' doc comments are the subcommands' help: their argument
// structs carry none, so that clap has one text to show.
#[derive(Subcommand)]
pub enum Command {
    /// Run the gateway.
    Serve(serve::ServeArgs),
    /// The circuit on the example configuration, in a temporary folder.
    Demo(demo::DemoArgs),
    /// Make a development PKI and age identities (never for production).
    DevCerts(dev_certs::DevCertsArgs),
    /// The DPO's tools on the access log.
    Audit(audit::AuditArgs),
    /// The GDPR art. 30 record of processing, from the configuration.
    Register(register::RegisterArgs),
    /// Pseudonymisation keys: `rotate` adds a new version for new cases.
    Keys(keys::KeysArgs),
    /// Bring the database schema up to this release (as the database owner).
    Migrate(migrate::MigrateArgs),
    /// Delete what is past its retention period (also run daily by `serve`).
    Retention(retention::RetentionArgs),
    /// The partner side: pull, push, watch, status (exit codes: README).
    Client(client::ClientArgs),
    /// Check the configuration and exit.
    CheckConfig(check_config::CheckConfigArgs),
}

/// Sends log lines to standard error, as text or JSON, filtered by
/// `RUST_LOG` (default `info`).
pub fn init_logs(format: &str) {
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

/// Resolves on Ctrl-C or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
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

/// SIGHUP, as a stream (`serve` reloads on it). Installed, it replaces the
/// default action, which ends the process.
#[cfg(unix)]
pub fn hangups() -> std::io::Result<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
}
