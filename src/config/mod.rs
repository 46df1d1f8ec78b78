//! Configuration: `passerelle.toml` (the gateway), `partners.toml` (who may
//! connect, with which roles, scope and age recipients) and `policy.toml`
//! (which fields each view discloses, and why).
//!
//! Everything is parsed into typed values and checked once at start: an
//! unknown key, a missing file, a partner without recipient, a view field
//! without a purpose or an unknown role refuse to start with a message naming
//! the file, the key and the fix. Relative paths are resolved against the
//! folder of the file that names them.

mod gateway;
mod partners;
mod policy;
pub mod secrets;

pub use gateway::{
    AuditSettings, GatewayConfig, Limits, ServerSettings, StorageSettings, TlsSettings,
};
pub use partners::{CertificateIdentity, Partner, PartnerId, Partners, Role};
pub use policy::{FieldRule, Policy, Retention, Rule, Territory, Transform, View, ViewRows};

use std::path::{Path, PathBuf};

/// A configuration problem, always naming the file and what to change.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A file could not be read.
    #[error(
        "{path}: cannot read the file ({source}); check the path given with --config or in passerelle.toml"
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O cause.
        source: std::io::Error,
    },
    /// A file is not valid TOML or holds an unknown or mistyped key.
    #[error("{path}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message (with line and key).
        message: String,
    },
    /// A value is well-formed but wrong.
    #[error("{path}: {key}: {problem}; fix: {fix}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The key at fault, dotted.
        key: String,
        /// What is wrong.
        problem: String,
        /// How to fix it.
        fix: String,
    },
}

impl ConfigError {
    pub(crate) fn invalid(
        path: &Path,
        key: impl Into<String>,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        ConfigError::Invalid {
            path: path.to_path_buf(),
            key: key.into(),
            problem: problem.into(),
            fix: fix.into(),
        }
    }
}

/// Reads a TOML file into `T`, rejecting unknown keys (every config type is
/// `deny_unknown_fields`).
pub(crate) fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Syntax {
        path: path.to_path_buf(),
        message: e.to_string().trim_end().replace('\n', " "),
    })
}

/// Resolves `p` against `base` when relative.
pub fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// The whole configuration, loaded and checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// The gateway file's settings, paths resolved.
    pub gateway: GatewayConfig,
    /// The partners.
    pub partners: Partners,
    /// The policy.
    pub policy: Policy,
}

/// Command-line overrides of the gateway file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--listen`.
    pub listen: Option<std::net::SocketAddr>,
    /// `--data`.
    pub data: Option<PathBuf>,
    /// `--database-url`.
    pub database_url: Option<String>,
}

impl Config {
    /// Loads `passerelle.toml` and the partner and policy files it names,
    /// applies the overrides and checks everything.
    pub fn load(path: &Path, overrides: &Overrides) -> Result<Config, ConfigError> {
        let mut gateway = GatewayConfig::load(path)?;
        if let Some(listen) = overrides.listen {
            gateway.server.listen = listen;
        }
        if let Some(data) = &overrides.data {
            gateway.storage.data = data.clone();
        }
        if let Some(url) = &overrides.database_url {
            gateway.storage.database_url = Some(url.clone());
        }
        let policy = Policy::load(&gateway.policy_file)?;
        let partners = Partners::load(&gateway.partners_file, &policy)?;
        policy.check_against(&partners)?;
        Ok(Config {
            gateway,
            partners,
            policy,
        })
    }
}
