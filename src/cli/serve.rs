//! `passerelle serve`: run the gateway until Ctrl-C or SIGTERM. Its store
//! arguments are shared with `keys` and `retention`.

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
}

impl ServeArgs {
    /// What the command line overrides in the configuration file.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            listen: self.listen,
            data: self.data.clone(),
            database_url: self.database_url.clone(),
        }
    }
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::load(&args.config, &args.overrides())?;
    let app = passerelle::app::App::open(config).await?;
    let server = passerelle::http::start(app.clone()).await?;
    eprintln!(
        "passerelle listening on https://{} (mutual TLS); Ctrl-C to stop",
        server.addr
    );
    super::shutdown_signal().await;
    tracing::info!("stopping");
    server.shutdown(std::time::Duration::from_secs(30)).await;
    app.store.close().await;
    Ok(())
}
