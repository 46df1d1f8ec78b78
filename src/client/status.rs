//! `status`: what waits at the gateway, the last successes, the client
//! certificate's expiry (a warning under 30 days), the pinned recipient.

use super::{ClientConfig, ClientError, write_atomic};
use serde::Serialize;

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    /// The gateway.
    pub gateway: String,
    /// Files waiting for this partner (`None`: gateway unreachable).
    pub waiting: Option<usize>,
    /// Why the gateway could not be asked, if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway_error: Option<String>,
    /// Last successful pull and push (RFC 3339).
    pub last_success: serde_json::Value,
    /// Client certificate subject CN.
    pub certificate: Option<String>,
    /// Its expiry (RFC 3339).
    pub certificate_not_after: String,
    /// Days left.
    pub certificate_days_left: i64,
    /// Under 30 days.
    pub certificate_expiring: bool,
    /// The pinned gateway recipient, if any.
    pub pinned_recipient: Option<String>,
    /// The access log's size when last seen and now (checked consistent).
    pub audit_log_size: (u64, u64),
}

fn last_file(cfg: &ClientConfig) -> std::path::PathBuf {
    cfg.state.join("last-success.json")
}

/// Records a success time for `what` (`pull`, `push`).
pub fn record_success(cfg: &ClientConfig, what: &str) -> Result<(), ClientError> {
    let mut v: serde_json::Value = std::fs::read_to_string(last_file(cfg))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| serde_json::json!({}));
    v[what] = serde_json::Value::String(crate::util::rfc3339_ms(time::OffsetDateTime::now_utc()));
    write_atomic(&last_file(cfg), v.to_string().as_bytes())
}

/// Builds the report.
pub async fn status(cfg: &ClientConfig) -> Result<StatusReport, ClientError> {
    let pem = std::fs::read(&cfg.cert)
        .map_err(|e| ClientError::Config(format!("cert {}: {e}", cfg.cert.display())))?;
    let der = rustls_pki_types::CertificateDer::from_pem_slice(&pem)
        .map_err(|e| ClientError::Config(format!("cert {}: {e}", cfg.cert.display())))?;
    let id = crate::tls::PeerIdentity::from_der(&der)?;
    let days = (id.not_after - time::OffsetDateTime::now_utc()).whole_days();
    let client = cfg.connect()?;
    let log = super::witness::check(cfg, &client).await?;
    let (waiting, gateway_error) = match client.outbox().await {
        Ok(files) => (Some(files.len()), None),
        Err(e) => (None, Some(e.to_string())),
    };
    Ok(StatusReport {
        gateway: cfg.gateway.clone(),
        waiting,
        gateway_error,
        last_success: std::fs::read_to_string(last_file(cfg))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(serde_json::Value::Null),
        certificate: id.common_name.clone(),
        certificate_not_after: crate::util::rfc3339_ms(id.not_after),
        certificate_days_left: days,
        certificate_expiring: days < 30,
        audit_log_size: log,
        pinned_recipient: cfg.gateway_recipient.clone().or_else(|| {
            std::fs::read_to_string(cfg.state.join("gateway.recipient"))
                .ok()
                .map(|s| s.trim().to_owned())
        }),
    })
}

use rustls_pki_types::pem::PemObject;
