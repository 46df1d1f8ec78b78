//! `passerelle migrate`: bring the database schema up to this release, as
//! the database owner, and optionally grant the runtime role what the
//! running gateway needs (deploy/README.md, "PostgreSQL roles").

use super::serve::ServeArgs;
use passerelle::config::Config;

#[derive(clap::Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    store: ServeArgs,
    /// Then grant this PostgreSQL role the runtime's rights: SELECT and
    /// INSERT on the audit tables (plus the guarded UPDATE of their head
    /// and DELETE of what retention released), read and write on the
    /// others; never TRUNCATE nor ownership.
    #[arg(long, value_name = "ROLE")]
    grant_runtime: Option<String>,
}

pub async fn run(args: MigrateArgs) -> anyhow::Result<()> {
    let config = Config::load(&args.store.config, &args.store.overrides())?;
    let store = passerelle::store::Store::open_and_migrate(&config.gateway.storage.url()).await?;
    println!("schema up to date");
    if let Some(role) = &args.grant_runtime {
        store.grant_runtime(role).await?;
        println!("granted the runtime rights to {role}");
    }
    store.close().await;
    Ok(())
}
