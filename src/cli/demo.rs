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
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let list = args.list.zip(args.period);
    passerelle::demo::run(&args.config, list, &mut std::io::stdout())
        .await
        .context("the demo failed")?;
    Ok(())
}
