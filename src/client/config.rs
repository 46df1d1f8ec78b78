//! `client.toml`, the partner side (docs/convention.md).

use super::ClientError;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    gateway: String,
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    identity: PathBuf,
    inbox: PathBuf,
    outbox: PathBuf,
    #[serde(default)]
    state: Option<PathBuf>,
    #[serde(default)]
    gateway_recipient: Option<String>,
    #[serde(default = "default_interval")]
    interval_secs: u64,
    #[serde(default = "default_retries")]
    max_retries: u32,
}

fn default_interval() -> u64 {
    300
}
fn default_retries() -> u32 {
    6
}

/// The partner client's configuration, paths resolved against the file's
/// folder.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `https://host:port`.
    pub gateway: String,
    /// The gateway's CA (PEM).
    pub ca: PathBuf,
    /// This partner's certificate (PEM).
    pub cert: PathBuf,
    /// Its key (PEM).
    pub key: PathBuf,
    /// Its age identity (age-keygen format).
    pub identity: PathBuf,
    /// Where decrypted files land.
    pub inbox: PathBuf,
    /// Where returns to send are dropped (`watch`).
    pub outbox: PathBuf,
    /// The client's own state: pinned recipient, received ids, last success.
    pub state: PathBuf,
    /// A recipient pinned by the operator (else pinned on first use).
    pub gateway_recipient: Option<String>,
    /// `watch` interval.
    pub interval_secs: u64,
    /// Attempts after the first on network errors, 5xx and 429.
    pub max_retries: u32,
}

impl ClientConfig {
    /// Reads `client.toml`.
    pub fn load(path: &Path) -> Result<ClientConfig, ClientError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ClientError::Config(format!("{}: {e}", path.display())))?;
        let raw: Raw = toml::from_str(&text).map_err(|e| {
            ClientError::Config(format!(
                "{}: {}",
                path.display(),
                e.to_string().trim_end().replace('\n', " ")
            ))
        })?;
        if !raw.gateway.starts_with("https://") {
            return Err(ClientError::Config(format!(
                "{}: gateway must be an https:// URL (got {:?})",
                path.display(),
                raw.gateway
            )));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let r = |p: &Path| crate::config::resolve(base, p);
        Ok(ClientConfig {
            gateway: raw.gateway,
            ca: r(&raw.ca),
            cert: r(&raw.cert),
            key: r(&raw.key),
            identity: r(&raw.identity),
            inbox: r(&raw.inbox),
            outbox: r(&raw.outbox),
            state: raw
                .state
                .as_deref()
                .map(r)
                .unwrap_or_else(|| base.join("state")),
            gateway_recipient: raw.gateway_recipient,
            interval_secs: raw.interval_secs.max(1),
            max_retries: raw.max_retries,
        })
    }

    fn read(&self, p: &Path, what: &str) -> Result<Vec<u8>, ClientError> {
        std::fs::read(p).map_err(|e| ClientError::Config(format!("{what} {}: {e}", p.display())))
    }

    /// An HTTP client of the gateway with this partner's certificate.
    pub fn connect(&self) -> Result<super::GatewayClient, ClientError> {
        let mut c = super::GatewayClient::new(
            &self.gateway,
            &self.read(&self.ca, "ca")?,
            Some(&self.read(&self.cert, "cert")?),
            Some(&self.read(&self.key, "key")?),
        )?;
        c.set_retries(self.max_retries);
        Ok(c)
    }

    /// This partner's age identity.
    pub fn age_identity(&self) -> Result<age::x25519::Identity, ClientError> {
        let text = String::from_utf8(self.read(&self.identity, "identity")?).map_err(|_| {
            ClientError::Config(format!("identity {}: not text", self.identity.display()))
        })?;
        crate::config::secrets::parse_age_identity(&text).ok_or_else(|| {
            ClientError::Config(format!(
                "identity {}: no AGE-SECRET-KEY-1… line (age-keygen's format expected)",
                self.identity.display()
            ))
        })
    }
}
