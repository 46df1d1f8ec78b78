//! `passerelle register`: the GDPR art. 30 record of processing, written
//! to a file or to standard output.

use anyhow::Context;
use passerelle::config::{Config, Overrides};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct RegisterArgs {
    /// The gateway configuration.
    #[arg(long, default_value = "config/passerelle.toml")]
    config: PathBuf,
    /// `md` (Markdown) or `html`.
    #[arg(long, default_value = "md", value_parser = ["md", "html"])]
    format: String,
    /// Output file (default: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
    /// The controller named in the record (default: `[register] controller`
    /// of the configuration).
    #[arg(long)]
    controller: Option<String>,
}

pub fn run(args: RegisterArgs) -> anyhow::Result<()> {
    let cfg = Config::load(&args.config, &Overrides::default())?;
    let retention = &cfg.policy.retention;
    let controller = args
        .controller
        .as_deref()
        .unwrap_or_else(|| passerelle::register::controller(&cfg));
    let text = if args.format == "html" {
        passerelle::register::html(&cfg, retention, controller)
    } else {
        passerelle::register::markdown(&cfg, retention, controller)
    };
    match args.out {
        Some(p) => {
            std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))?;
            println!("record of processing written to {}", p.display());
        }
        None => print!("{text}"),
    }
    Ok(())
}
