//! The `passerelle` command line. Library errors become `anyhow` here only.
#![forbid(unsafe_code)]

use anyhow::Context;
use clap::{Parser, Subcommand};
use passerelle::config::{Config, Overrides};
use std::net::SocketAddr;
use std::path::PathBuf;

/// The example partners of DOMAIN.md.
const EXAMPLE_PARTNERS: &[&str] = &[
    "ddets",
    "caf",
    "mdsf",
    "ccas-sables",
    "vendee-habitat",
    "vendee-logement",
    "dpo",
];

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
                EXAMPLE_PARTNERS.to_vec()
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
