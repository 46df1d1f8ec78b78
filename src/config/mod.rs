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
mod people;
mod policy;
pub mod secrets;

pub use gateway::{
    AuditSettings, ConsoleSettings, GatewayConfig, Limits, OidcSettings, SYSTEM_CA_BUNDLE,
    ServerSettings, StorageSettings, TlsSettings,
};
pub use partners::{CertificateIdentity, Partner, PartnerId, Partners, Role};
pub use people::{People, PersonEntry};
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
    /// Several problems at once (each on its own line).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Several(Vec<ConfigError>),
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

    /// One error for a non-empty list: itself when alone, `Several` else.
    pub(crate) fn several(mut errors: Vec<ConfigError>) -> ConfigError {
        if errors.len() == 1 {
            errors.remove(0)
        } else {
            ConfigError::Several(errors)
        }
    }

    /// Every single problem this error holds, `Several` flattened.
    pub fn flatten(self) -> Vec<ConfigError> {
        match self {
            ConfigError::Several(list) => list.into_iter().flat_map(ConfigError::flatten).collect(),
            e => vec![e],
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
    toml::from_str(&text).map_err(|e| {
        // The parser quotes the offending line: never a secret key in it.
        let mut message = redact_secrets(&e.to_string().trim_end().replace('\n', " "));
        if let Some(hint) = nearest_key(e.message()) {
            message.push_str(&format!("; did you mean `{hint}`?"));
        }
        ConfigError::Syntax {
            path: path.to_path_buf(),
            message,
        }
    })
}

/// `text` with every age secret key (`AGE-SECRET-KEY-1…`) replaced by a
/// note saying one was there.
pub(crate) fn redact_secrets(text: &str) -> String {
    const MARK: &str = "AGE-SECRET-KEY-";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.to_ascii_uppercase().find(MARK) {
        out.push_str(&rest[..at]);
        out.push_str("AGE-SECRET-KEY-… (a SECRET key, not printed)");
        let tail = &rest[at + MARK.len()..];
        let end = tail
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// For serde's "unknown field `x`, expected one of `a`, `b`" (or
/// "expected `a` or `b`"), the expected name nearest to `x`, when one is
/// near enough to be a typo.
fn nearest_key(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (unknown, expected) = rest.split_once('`')?;
    expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|k| (strsim::normalized_damerau_levenshtein(unknown, k), k))
        .filter(|(score, _)| *score >= 0.6)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k.to_owned())
}

/// The configuration's files as `config/` holds them (the gateway file
/// names the others), for tools and tests that copy a configuration.
pub const FILES: &[&str] = &[
    "passerelle.toml",
    "partners.toml",
    "policy.toml",
    "people.toml",
];

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
    /// The people who may enter the console.
    pub people: People,
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
    /// `--console-listen`.
    pub console_listen: Option<std::net::SocketAddr>,
}

impl Config {
    /// Loads `passerelle.toml` and the partner and policy files it names,
    /// applies the overrides and checks everything.
    /// Every problem found is reported at once ([`ConfigError::Several`]):
    /// the policy and partner files are checked even when the gateway file
    /// has problems that do not prevent reading them.
    pub fn load(path: &Path, overrides: &Overrides) -> Result<Config, ConfigError> {
        let mut gateway = match GatewayConfig::load(path) {
            Ok(g) => g,
            Err(e) => {
                // Its own problems, plus those of the files it names.
                let mut errors = e.flatten();
                // (A missing one is already among the gateway file's problems.)
                if let Some((policy_file, partners_file)) = GatewayConfig::named_files(path)
                    && policy_file.is_file()
                    && partners_file.is_file()
                {
                    match Policy::load(&policy_file) {
                        Ok(policy) => {
                            if let Err(e) = Partners::load(&partners_file, &policy) {
                                errors.extend(e.flatten());
                            }
                        }
                        Err(e) => errors.extend(e.flatten()),
                    }
                }
                return Err(ConfigError::several(errors));
            }
        };
        if let Some(listen) = overrides.listen {
            gateway.server.listen = listen;
        }
        if let Some(listen) = overrides.console_listen {
            gateway.console.listen = Some(listen);
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
        let people = match &gateway.people_file {
            Some(f) => People::load(f, &partners)?,
            None => People::default(),
        };
        Ok(Config {
            gateway,
            partners,
            policy,
            people,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::nearest_key;

    #[test]
    fn a_secret_key_in_a_parse_error_is_not_printed() {
        let text = "[keys]\nage_identity = AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("passerelle.toml");
        std::fs::write(&path, text).unwrap();
        let err = super::read_toml::<toml::Table>(&path)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("1QQQQ"), "{err}");
        assert!(err.contains("a SECRET key, not printed"), "{err}");
    }

    #[test]
    fn a_typo_gets_the_nearest_known_key() {
        let m = "unknown field `handshake_timeot_secs`, expected one of `listen`, `handshake_timeout_secs`, `header_timeout_secs`";
        assert_eq!(nearest_key(m).as_deref(), Some("handshake_timeout_secs"));
        let m = "unknown field `port`, expected one of `listen`, `max_connections`";
        assert_eq!(nearest_key(m), None);
        let m = "unknown field `crls`, expected `ca` or `crl`";
        assert_eq!(nearest_key(m).as_deref(), Some("crl"));
    }
}
