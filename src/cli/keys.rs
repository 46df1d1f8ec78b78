//! `passerelle keys rotate`: a new pseudonymisation key version for new
//! cases.

use super::serve::ServeArgs;
use passerelle::config::Config;

#[derive(clap::Args)]
pub struct KeysArgs {
    #[command(flatten)]
    store: ServeArgs,
    /// `rotate`.
    #[arg(value_parser = ["rotate"])]
    action: String,
}

pub fn run(args: KeysArgs) -> anyhow::Result<()> {
    let config = Config::load(&args.store.config, &args.store.overrides())?;
    let (version, path) = passerelle::app::rotate_keys(&config)?;
    println!(
        "pseudonymisation key version {version} written to {} (mode 0600); restart the gateway: new cases use it, existing cases keep their tokens",
        path.display()
    );
    Ok(())
}
