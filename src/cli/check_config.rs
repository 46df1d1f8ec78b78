//! `passerelle check-config`: load and validate the configuration, then
//! exit.

use passerelle::config::{Config, Overrides};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct CheckConfigArgs {
    /// The gateway configuration.
    #[arg(long, default_value = "config/passerelle.toml")]
    config: PathBuf,
}

pub fn run(args: CheckConfigArgs) -> anyhow::Result<()> {
    let cfg = Config::load(&args.config, &Overrides::default())?;
    println!(
        "{}: OK ({} partners, {} views)",
        args.config.display(),
        cfg.partners.iter().count(),
        cfg.policy.views.len()
    );
    Ok(())
}
