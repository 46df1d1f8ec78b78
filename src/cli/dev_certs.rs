//! `passerelle dev-certs`: a development PKI and age identities, never for
//! production.

use std::path::PathBuf;

#[derive(clap::Args)]
pub struct DevCertsArgs {
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
    /// Partner ids (default: the seven example partners).
    #[arg(long, value_delimiter = ',')]
    partners: Vec<String>,
}

pub fn run(args: DevCertsArgs) -> anyhow::Result<()> {
    let ids: Vec<&str> = if args.partners.is_empty() {
        passerelle::tls::devpki::EXAMPLE_PARTNERS.to_vec()
    } else {
        args.partners.iter().map(String::as_str).collect()
    };
    let pki = passerelle::tls::devpki::generate(&args.out, &ids)?;
    println!(
        "development PKI written to {} (never for production)",
        pki.dir.display()
    );
    println!("gateway age recipient: {}", pki.gateway_recipient);
    Ok(())
}
