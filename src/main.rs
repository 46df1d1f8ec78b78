//! The `passerelle` command line: parse the arguments, set up the logs,
//! dispatch to the subcommand's module in [`cli`]. Library errors become
//! `anyhow` in the binary only.
#![forbid(unsafe_code)]

mod cli;

use clap::Parser;
use cli::{Cli, Command};

/// mimalloc instead of glibc's allocator: a list's acceptance makes about a
/// hundred small allocations per row across three threads; glibc spent a
/// fifth of the CPU on them and kept freed memory per thread (README
/// "Performance").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Cli::parse();
    cli::init_logs(&args.log_format);
    match args.command {
        Command::Serve(a) => cli::serve::run(a).await,
        Command::Demo(a) => cli::demo::run(a).await,
        Command::DevCerts(a) => cli::dev_certs::run(a),
        Command::Audit(a) => std::process::exit(cli::audit::run(a).await?),
        Command::Register(a) => cli::register::run(a),
        Command::Keys(a) => cli::keys::run(a),
        Command::Migrate(a) => cli::migrate::run(a).await,
        Command::Retention(a) => cli::retention::run(a).await,
        Command::Client(a) => std::process::exit(cli::client::run(a).await),
        Command::CheckConfig(a) => cli::check_config::run(a),
    }
}
