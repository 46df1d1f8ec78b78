//! `passerelle.toml`: where the gateway listens, stores, finds its TLS
//! material and key files, and its limits.

use super::{ConfigError, read_toml, resolve};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGateway {
    server: ServerSettings,
    storage: RawStorage,
    tls: RawTls,
    #[serde(default)]
    keys: RawKeys,
    #[serde(default)]
    limits: Limits,
    #[serde(default)]
    audit: AuditSettings,
    partners: PathBuf,
    policy: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    data: PathBuf,
    #[serde(default)]
    database_url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    #[serde(default)]
    crl: Vec<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeys {
    age_identity: Option<PathBuf>,
    pseudonymisation_key: Option<PathBuf>,
    audit_signing_key: Option<PathBuf>,
}

/// The audit log's checkpoints.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditSettings {
    /// The log's origin line (and checkpoint key name), unique per gateway.
    pub origin: String,
    /// Seconds between signed checkpoints (also signed on demand and at
    /// shutdown).
    pub checkpoint_interval_secs: u64,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings {
            origin: "passerelle.example/audit".into(),
            checkpoint_interval_secs: 300,
        }
    }
}

/// The listening side.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Address and port of the mTLS listener.
    pub listen: SocketAddr,
    /// Seconds a client has to finish the TLS handshake.
    #[serde(default = "default_handshake_timeout")]
    pub handshake_timeout_secs: u64,
    /// Seconds a client has to send a request's headers.
    #[serde(default = "default_header_timeout")]
    pub header_timeout_secs: u64,
    /// Seconds a whole request may take, body included.
    #[serde(default = "default_request_timeout")]
    pub request_timeout_secs: u64,
    /// Connections served at once; more wait in the kernel's backlog.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// New connections a source address may open per second, sustained
    /// (before authentication: bounds handshake floods).
    #[serde(default = "default_connections_per_ip")]
    pub connections_per_ip_per_second: u32,
    /// New connections a source address may open in a burst.
    #[serde(default = "default_connection_burst")]
    pub connection_burst_per_ip: u32,
}

fn default_connections_per_ip() -> u32 {
    20
}
fn default_connection_burst() -> u32 {
    100
}

fn default_handshake_timeout() -> u64 {
    10
}
fn default_header_timeout() -> u64 {
    10
}
fn default_request_timeout() -> u64 {
    120
}
fn default_max_connections() -> usize {
    256
}

/// Storage: the data folder (SQLite file, generated keys) and the database.
#[derive(Debug, Clone)]
pub struct StorageSettings {
    /// The data folder.
    pub data: PathBuf,
    /// `postgres://…` or `sqlite:…`; `None`: `sqlite:<data>/passerelle.db`.
    pub database_url: Option<String>,
}

impl StorageSettings {
    /// The database URL in force.
    pub fn url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.is_empty() => url.clone(),
            _ => format!(
                "sqlite://{}?mode=rwc",
                self.data.join("passerelle.db").display()
            ),
        }
    }
}

/// Server TLS material (paths resolved).
#[derive(Debug, Clone)]
pub struct TlsSettings {
    /// The partner CA (client certificates are verified against it).
    pub ca: PathBuf,
    /// The server certificate chain.
    pub cert: PathBuf,
    /// The server key.
    pub key: PathBuf,
    /// Certificate revocation lists from the partner CA.
    pub crl: Vec<PathBuf>,
}

/// Bounds on what a partner may send.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Most data rows in a list or return.
    pub max_rows: usize,
    /// Longest cell, in characters.
    pub max_cell_chars: usize,
    /// Most bytes an XLSX file may decompress to.
    pub max_xlsx_uncompressed_bytes: u64,
    /// Most non-blank cells (and shared strings) an XLSX file may hold:
    /// what bounds the memory reading one takes.
    pub max_xlsx_cells: usize,
    /// Requests a partner may make per minute, sustained.
    pub requests_per_minute: u32,
    /// Requests a partner may make in a burst.
    pub burst: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 64 * 1024 * 1024,
            max_rows: 200_000,
            max_cell_chars: 2_000,
            max_xlsx_uncompressed_bytes: 256 * 1024 * 1024,
            max_xlsx_cells: 3_000_000,
            requests_per_minute: 600,
            burst: 60,
        }
    }
}

/// `passerelle.toml`, checked, paths resolved against its folder.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// The file it came from.
    pub path: PathBuf,
    /// Listener settings.
    pub server: ServerSettings,
    /// Storage settings.
    pub storage: StorageSettings,
    /// TLS material.
    pub tls: TlsSettings,
    /// The gateway's age identity file; `None`: generated in the data folder.
    pub age_identity: Option<PathBuf>,
    /// The pseudonymisation root key file; `None`: generated in the data folder.
    pub pseudonymisation_key: Option<PathBuf>,
    /// The audit checkpoint signing key (PKCS#8, hex); `None`: generated in
    /// the data folder.
    pub audit_signing_key: Option<PathBuf>,
    /// Checkpoint settings.
    pub audit: AuditSettings,
    /// Limits.
    pub limits: Limits,
    /// `partners.toml`.
    pub partners_file: PathBuf,
    /// `policy.toml`.
    pub policy_file: PathBuf,
}

impl GatewayConfig {
    /// Reads and checks `passerelle.toml`.
    pub fn load(path: &Path) -> Result<GatewayConfig, ConfigError> {
        let raw: RawGateway = read_toml(path)?;
        let base = path.parent().unwrap_or(Path::new("."));
        let r = |p: &Path| resolve(base, p);
        let limits = raw.limits;
        if limits.max_rows == 0 || limits.max_body_bytes == 0 || limits.max_cell_chars == 0 {
            return Err(ConfigError::invalid(
                path,
                "limits",
                "a limit is zero",
                "give max_rows, max_body_bytes and max_cell_chars positive values",
            ));
        }
        if limits.requests_per_minute == 0 || limits.burst == 0 {
            return Err(ConfigError::invalid(
                path,
                "limits.requests_per_minute",
                "the rate limit is zero",
                "give requests_per_minute and burst positive values",
            ));
        }
        let cfg = GatewayConfig {
            path: path.to_path_buf(),
            server: raw.server,
            storage: StorageSettings {
                data: r(&raw.storage.data),
                database_url: raw.storage.database_url.filter(|u| !u.is_empty()),
            },
            tls: TlsSettings {
                ca: r(&raw.tls.ca),
                cert: r(&raw.tls.cert),
                key: r(&raw.tls.key),
                crl: raw.tls.crl.iter().map(|p| r(p)).collect(),
            },
            age_identity: raw.keys.age_identity.as_deref().map(r),
            pseudonymisation_key: raw.keys.pseudonymisation_key.as_deref().map(r),
            audit_signing_key: raw.keys.audit_signing_key.as_deref().map(r),
            audit: raw.audit,
            limits,
            partners_file: r(&raw.partners),
            policy_file: r(&raw.policy),
        };
        for (key, file) in [
            ("tls.ca", &cfg.tls.ca),
            ("tls.cert", &cfg.tls.cert),
            ("tls.key", &cfg.tls.key),
        ] {
            if !file.is_file() {
                return Err(ConfigError::invalid(
                    path,
                    key,
                    format!("{} does not exist", file.display()),
                    "point it at an existing PEM file (relative paths are read from this file's folder); `passerelle dev-certs --out DIR` makes a development set",
                ));
            }
        }
        for (key, file) in [
            ("partners", &cfg.partners_file),
            ("policy", &cfg.policy_file),
        ] {
            if !file.is_file() {
                return Err(ConfigError::invalid(
                    path,
                    key,
                    format!("{} does not exist", file.display()),
                    "point it at the file (relative paths are read from this file's folder)",
                ));
            }
        }
        if let Some(f) = cfg.tls.crl.iter().find(|f| !f.is_file()) {
            return Err(ConfigError::invalid(
                path,
                "tls.crl",
                format!("{} does not exist", f.display()),
                "point it at the partner CA's current CRL (PEM)",
            ));
        }
        if let Some(f) = &cfg.age_identity
            && !f.is_file()
        {
            return Err(ConfigError::invalid(
                path,
                "keys.age_identity",
                format!("{} does not exist", f.display()),
                "point it at an age identity file (age-keygen's format) or remove the key to have one generated in the data folder",
            ));
        }
        Ok(cfg)
    }
}
