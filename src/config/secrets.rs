//! The gateway's secret files: read when configured, generated on first
//! start in the data folder otherwise, always mode 0600, never in the
//! database or the repository.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// A secret-file problem.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// I/O on the file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file exists but does not hold what it should.
    #[error("{path}: {problem}")]
    Malformed {
        /// The file.
        path: String,
        /// What is wrong (never the secret itself).
        problem: String,
    },
    /// The file is readable by others.
    #[error("{path}: mode {mode:o} lets other users read a secret; fix: chmod 600 {path}")]
    TooOpen {
        /// The file.
        path: String,
        /// Its mode.
        mode: u32,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SecretError + '_ {
    move |source| SecretError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Writes a new secret file with mode 0600 from the start; fails if it exists.
pub fn write_new(path: &Path, contents: &[u8]) -> Result<(), SecretError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io(path))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io(path))?;
    f.write_all(contents).map_err(io(path))?;
    f.sync_all().map_err(io(path))?;
    Ok(())
}

/// Makes sure a secret file is readable by its owner only. A file that
/// others may read (a git checkout, say, where every file is 0644) is
/// tightened to 0600 with a warning; if that fails, the secret is refused.
pub fn ensure_private(path: &Path) -> Result<(), SecretError> {
    let meta = std::fs::metadata(path).map_err(io(path))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|_| {
            SecretError::TooOpen {
                path: path.display().to_string(),
                mode,
            }
        })?;
        tracing::warn!(file = %path.display(), mode = format!("{mode:o}"), "secret file was readable by others; tightened to 0600");
    }
    Ok(())
}

fn read_private(path: &Path) -> Result<String, SecretError> {
    ensure_private(path)?;
    std::fs::read_to_string(path).map_err(io(path))
}

/// A 32-byte key stored as hex: read, or generated when `generate` and absent.
pub fn key32(path: &Path, generate: bool) -> Result<[u8; 32], SecretError> {
    if generate && !path.exists() {
        let mut k = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut k);
        write_new(path, format!("{}\n", hex::encode(k)).as_bytes())?;
        tracing::info!(file = %path.display(), "generated a new key");
    }
    let text = read_private(path)?;
    let bytes = hex::decode(text.trim()).map_err(|_| SecretError::Malformed {
        path: path.display().to_string(),
        problem: "expected 64 hex digits".into(),
    })?;
    bytes.try_into().map_err(|_| SecretError::Malformed {
        path: path.display().to_string(),
        problem: "expected 64 hex digits (32 bytes)".into(),
    })
}

/// An age X25519 identity in `age-keygen`'s format: read, or generated when
/// `generate` and absent.
pub fn age_identity(path: &Path, generate: bool) -> Result<age::x25519::Identity, SecretError> {
    if generate && !path.exists() {
        let id = age::x25519::Identity::generate();
        let text = format!(
            "# created: {}\n# public key: {}\n{}\n",
            time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            id.to_public(),
            age::secrecy::ExposeSecret::expose_secret(&id.to_string())
        );
        write_new(path, text.as_bytes())?;
        tracing::info!(file = %path.display(), "generated a new age identity");
    }
    let text = read_private(path)?;
    parse_age_identity(&text).ok_or_else(|| SecretError::Malformed {
        path: path.display().to_string(),
        problem: "no AGE-SECRET-KEY-1… line (age-keygen's format expected)".into(),
    })
}

/// Parses the first identity of an age identity file's text.
pub fn parse_age_identity(text: &str) -> Option<age::x25519::Identity> {
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .and_then(|l| l.parse().ok())
}

/// A PKCS#8 Ed25519 key stored as hex: read, or generated when `generate`
/// and absent.
pub fn signing_key(path: &Path, generate: bool) -> Result<Vec<u8>, SecretError> {
    if generate && !path.exists() {
        let k = crate::audit::checkpoint::generate_pkcs8();
        write_new(path, format!("{}\n", hex::encode(k)).as_bytes())?;
        tracing::info!(file = %path.display(), "generated a new audit signing key");
    }
    let text = read_private(path)?;
    hex::decode(text.trim()).map_err(|_| SecretError::Malformed {
        path: path.display().to_string(),
        problem: "expected the hex of a PKCS#8 Ed25519 key".into(),
    })
}
