//! `passerelle check-config`: load and validate the configuration, then
//! exit. It reports every problem at once, and what `serve` would trip on
//! later too: TLS material that does not load (a server key that does not
//! match its certificate), a stale CRL, the development PKI (a warning; an
//! error with `production = true`). It never prints a secret.

use passerelle::config::{Config, GatewayConfig, Overrides};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct CheckConfigArgs {
    /// The gateway configuration.
    #[arg(long, default_value = "config/passerelle.toml")]
    config: PathBuf,
}

pub fn run(args: CheckConfigArgs) -> anyhow::Result<()> {
    let mut problems = Vec::new();
    let loaded = Config::load(&args.config, &Overrides::default());
    let gateway = match &loaded {
        Ok(cfg) => Some(cfg.gateway.clone()),
        Err(e) => {
            problems.extend(e.to_string().lines().map(String::from));
            // Its TLS material is checked even when another file is wrong.
            GatewayConfig::load(&args.config).ok()
        }
    };
    if let Some(g) = &gateway {
        tls_problems(g, &mut problems);
    }
    match (loaded, problems.len()) {
        // Alone, the error is shown with its causes.
        (Err(e), 1) => Err(e.into()),
        (Ok(cfg), 0) => {
            println!(
                "{}: OK ({} partners, {} views, {} people)",
                args.config.display(),
                cfg.partners.iter().count(),
                cfg.policy.views.len(),
                cfg.people.iter().count()
            );
            Ok(())
        }
        (_, 1) => Err(anyhow::anyhow!("{}", problems.remove(0))),
        (_, n) => Err(anyhow::anyhow!(
            "{n} problems:\n{}",
            problems
                .iter()
                .map(|p| format!("- {p}"))
                .collect::<Vec<_>>()
                .join("\n")
        )),
    }
}

/// What loading the TLS material would refuse, as `serve` loads it.
fn tls_problems(g: &GatewayConfig, problems: &mut Vec<String>) {
    let read = |p: &std::path::Path, problems: &mut Vec<String>| match std::fs::read(p) {
        Ok(b) => Some(b),
        Err(e) => {
            problems.push(format!("{}: cannot read it: {e}", p.display()));
            None
        }
    };
    let ca = read(&g.tls.ca, problems);
    let cert = read(&g.tls.cert, problems);
    let key = read(&g.tls.key, problems);
    let mut crls = Vec::new();
    for p in &g.tls.crl {
        if let Some(pem) = read(p, problems) {
            problems.extend(
                passerelle::tls::stale_crls(p, &pem)
                    .iter()
                    .map(ToString::to_string),
            );
            crls.push(pem);
        }
    }
    // The first file carrying the development CA's mark.
    let dev = [(&g.tls.ca, &ca), (&g.tls.cert, &cert)]
        .into_iter()
        .find(|(_, pem)| {
            pem.as_deref()
                .is_some_and(passerelle::tls::is_development_pki)
        });
    if let Some((path, _)) = dev {
        {
            if g.server.production {
                problems.push(
                    passerelle::tls::TlsError::DevelopmentPki { path: path.clone() }.to_string(),
                );
            } else {
                eprintln!(
                    "WARNING: {} belongs to the DEVELOPMENT PKI (certs-example/, `passerelle dev-certs`), whose CA key is public: never in production (`production = true` in [server] refuses it)",
                    path.display()
                );
            }
        }
    }
    if let (Some(ca), Some(cert), Some(key)) = (ca, cert, key)
        && crls.len() == g.tls.crl.len()
        && let Err(e) = passerelle::tls::server_config(&ca, &cert, &key, &crls)
    {
        problems.push(format!("{} [tls]: {e}", g.path.display()));
    }
}
