//! `passerelle demo`: starts the gateway on the example configuration in a
//! temporary data folder, uploads a sample list as DDETS, pulls and decrypts
//! CAF's file as CAF, and prints what happened.

use crate::app::App;
use crate::client::GatewayClient;
use crate::config::{Config, Overrides};
use std::path::{Path, PathBuf};

/// The sample list used when none is given (invented data, Excel-French CSV).
pub const SAMPLE_LIST: &[u8] = include_bytes!("../tests/samples/liste-2026-10-excel-fr.csv");

/// Demo failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// Start-up.
    #[error(transparent)]
    Start(#[from] crate::app::StartError),
    /// A client call.
    #[error(transparent)]
    Client(#[from] crate::client::ClientError),
    /// Local files.
    #[error("{0}")]
    Io(String),
    /// The circuit did not behave as expected.
    #[error("unexpected: {0}")]
    Unexpected(String),
}

fn read(p: &Path) -> Result<Vec<u8>, DemoError> {
    std::fs::read(p).map_err(|e| DemoError::Io(format!("{}: {e}", p.display())))
}

fn client(base: &str, certs: &Path, id: &str) -> Result<GatewayClient, DemoError> {
    Ok(GatewayClient::new(
        base,
        &read(&certs.join("ca.crt"))?,
        Some(&read(&certs.join(format!("{id}.crt")))?),
        Some(&read(&certs.join(format!("{id}.key")))?),
    )?)
}

/// Runs the demo, printing each step to `out`.
pub async fn run(
    config_path: &Path,
    list: Option<(PathBuf, String)>,
    out: &mut impl std::io::Write,
) -> Result<(), DemoError> {
    let data = tempfile::tempdir().map_err(|e| DemoError::Io(e.to_string()))?;
    let overrides = Overrides {
        listen: Some(([127, 0, 0, 1], 0).into()),
        data: Some(data.path().to_path_buf()),
        database_url: None,
    };
    let config = Config::load(config_path, &overrides).map_err(|e| DemoError::Start(e.into()))?;
    let certs = config
        .gateway
        .tls
        .ca
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let app = App::open(config).await?;
    let server = crate::http::start(app.clone()).await?;
    let base = format!("https://127.0.0.1:{}", server.addr.port());
    let say = |out: &mut dyn std::io::Write, s: String| {
        let _ = writeln!(out, "{s}");
    };
    say(
        out,
        format!(
            "gateway listening on {base} (mutual TLS), data in {}",
            data.path().display()
        ),
    );

    let (bytes, period) = match list {
        Some((p, period)) => (read(&p)?, period),
        None => (SAMPLE_LIST.to_vec(), "2026-10".to_owned()),
    };
    let ddets = client(&base, &certs, "ddets")?;
    let (status, receipt) = ddets.push_list(&period, "text/csv", bytes.clone()).await?;
    if status != 201 {
        return Err(DemoError::Unexpected(format!(
            "upload answered {status}: {receipt}"
        )));
    }
    say(
        out,
        format!(
            "ddets: uploaded the {period} list: {} rows accepted as {} (sha256 {})",
            receipt["rows"], receipt["list_id"], receipt["sha256"]
        ),
    );
    let (status, again) = ddets.push_list(&period, "text/csv", bytes).await?;
    say(
        out,
        format!(
            "ddets: the same file again: HTTP {status}, same list {} — nothing duplicated",
            again["list_id"]
        ),
    );

    let caf = client(&base, &certs, "caf")?;
    let files = caf.outbox().await?;
    say(out, format!("caf: {} file(s) waiting", files.len()));
    let identity_text = String::from_utf8(read(&certs.join("caf.agekey"))?)
        .map_err(|e| DemoError::Io(e.to_string()))?;
    let identity = crate::config::secrets::parse_age_identity(&identity_text)
        .ok_or_else(|| DemoError::Io("caf.agekey holds no identity".into()))?;
    for f in &files {
        let ct = caf.download(&f.file_id).await?;
        let plain = crate::export::envelope::open(&ct, &identity, 1 << 30)
            .map_err(|e| DemoError::Unexpected(e.to_string()))?;
        let text = String::from_utf8_lossy(&plain);
        let header = text.lines().next().unwrap_or_default();
        say(
            out,
            format!(
                "caf: downloaded {} ({} kind, {} rows, {} bytes of age ciphertext), decrypted with caf.agekey",
                f.file_id, f.kind, f.rows, f.size
            ),
        );
        say(out, format!("caf: columns received: {header}"));
        say(out, "caf: (no phone, e-mail, debt, rent, landlord, bailiff or DDETS reference: not needed to find the household)".to_owned());
        let mdsf = client(&base, &certs, "mdsf")?;
        match mdsf.download(&f.file_id).await {
            Err(crate::client::ClientError::Refused { status, .. }) => say(
                out,
                format!(
                    "mdsf: tried to fetch CAF's file: HTTP {status} — a partner never sees another's file"
                ),
            ),
            other => {
                return Err(DemoError::Unexpected(format!(
                    "mdsf fetched CAF's file: {other:?}"
                )));
            }
        }
        caf.ack(&f.file_id).await?;
        say(
            out,
            format!("caf: acknowledged {}; it leaves the outbox", f.file_id),
        );
    }
    let left = caf.outbox().await?.len();
    say(
        out,
        format!("caf: {left} file(s) waiting after acknowledgement"),
    );
    let entries: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) FROM audit_log")
            .fetch_one(app.store.pool())
            .await
            .map_err(|e| DemoError::Unexpected(e.to_string()))?,
        0,
    )
    .map_err(|e| DemoError::Unexpected(e.to_string()))?;
    say(
        out,
        format!(
            "audit: {entries} entries written, one per request and per file produced, downloaded or acknowledged"
        ),
    );
    server.shutdown(std::time::Duration::from_secs(5)).await;
    app.store.close().await;
    Ok(())
}
