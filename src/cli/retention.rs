//! `passerelle retention run`: delete what is past its retention period,
//! as `serve` does daily.

use super::serve::ServeArgs;
use passerelle::config::Config;

#[derive(clap::Args)]
pub struct RetentionArgs {
    #[command(flatten)]
    store: ServeArgs,
    /// `run`.
    #[arg(value_parser = ["run"])]
    action: String,
}

pub async fn run(args: RetentionArgs) -> anyhow::Result<()> {
    let config = Config::load(&args.store.config, &args.store.overrides())?;
    let app = passerelle::app::App::open(config).await?;
    let r = passerelle::retention::run(&app, passerelle::util::now_ms()).await?;
    println!(
        "removed: {} case(s) (of which {} left undecided), {} outbox file(s), {} return record(s), {} audit entr(y/ies) (their leaf hashes kept)",
        r.cases, r.undecided_cases, r.outbox_files, r.returns, r.audit_entries
    );
    app.store.close().await;
    Ok(())
}
