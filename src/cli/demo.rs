//! `passerelle demo`: the circuit on the example configuration, in a
//! temporary folder.

use anyhow::Context;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct DemoArgs {
    /// The gateway configuration.
    #[arg(long, default_value = "config/passerelle.toml")]
    config: PathBuf,
    /// A list to upload instead of the built-in sample.
    #[arg(long, requires = "period")]
    list: Option<PathBuf>,
    /// The list's period (AAAA-MM).
    #[arg(long)]
    period: Option<String>,
    /// After the month, leave the gateway and its console running (until
    /// Ctrl-C), printing the console's address and how to import a
    /// person's `.p12` into a browser.
    #[arg(long)]
    keep_running: bool,
    /// With --keep-running: the console's address (default: the
    /// configuration's `[console] listen`, else 127.0.0.1:8444).
    #[arg(long, requires = "keep_running")]
    console_listen: Option<std::net::SocketAddr>,
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let list = args.list.zip(args.period);
    let stop = args.keep_running.then(|| passerelle::demo::KeepRunning {
        console_listen: args.console_listen,
        stop: Box::pin(async {
            let _ = tokio::signal::ctrl_c().await;
        }),
    });
    passerelle::demo::run(&args.config, list, stop, &mut std::io::stdout())
        .await
        .context("the demo failed")?;
    Ok(())
}
