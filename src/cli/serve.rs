//! `passerelle serve`: run the gateway until Ctrl-C or SIGTERM; SIGHUP
//! reloads the CRLs, the server certificate and key and the partners file
//! (keeping the previous ones, with an error logged, when the new ones do
//! not load). Its store arguments are shared with `keys` and `retention`.

use passerelle::config::{Config, Overrides};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// The gateway configuration.
    #[arg(long, default_value = "config/passerelle.toml")]
    pub config: PathBuf,
    /// Listening address, overriding the configuration.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Data folder (SQLite file, generated keys), overriding the configuration.
    #[arg(long)]
    data: Option<PathBuf>,
    /// `postgres://…` to use PostgreSQL instead of the embedded SQLite.
    #[arg(long, env = "PASSERELLE_DATABASE_URL")]
    database_url: Option<String>,
    /// The console's listening address (the people's pages), overriding
    /// `[console] listen`.
    #[arg(long)]
    console_listen: Option<SocketAddr>,
}

impl ServeArgs {
    /// What the command line overrides in the configuration file.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            listen: self.listen,
            data: self.data.clone(),
            database_url: self.database_url.clone(),
            console_listen: self.console_listen,
        }
    }
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    // First: SIGHUP's default action ends the process.
    let mut hangups = super::hangups()?;
    let config = Config::load(&args.config, &args.overrides())?;
    let tls = &config.gateway.tls;
    let dev = [&tls.ca, &tls.cert]
        .into_iter()
        .find(|f| std::fs::read(f).is_ok_and(|pem| passerelle::tls::is_development_pki(&pem)));
    if let Some(file) = dev {
        {
            eprintln!(
                "WARNING: {} belongs to the DEVELOPMENT PKI (certs-example/, `passerelle dev-certs`), whose CA key is public: anyone can make a partner certificate. Never in production; `production = true` in [server] refuses it.",
                file.display()
            );
        }
    }
    let app = passerelle::app::App::open(config).await?;
    let server = passerelle::http::start(app.clone()).await?;
    eprintln!(
        "passerelle listening on https://{} (mutual TLS); Ctrl-C to stop, SIGHUP to reload",
        server.addr
    );
    if let Some(console) = server.console_addr {
        eprintln!("console (the people's pages) on https://{console}/");
    }
    let reload = server.reload_handle();
    let stop = super::shutdown_signal();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = hangups.recv() => {
                tracing::info!("SIGHUP: reloading CRLs, server certificate and partners");
                let r = reload.clone();
                // Errors are logged by the reload; the old material stays.
                let _ = tokio::task::spawn_blocking(move || r.reload()).await;
            }
        }
    }
    tracing::info!("stopping");
    server.shutdown(std::time::Duration::from_secs(30)).await;
    app.store.close().await;
    Ok(())
}
