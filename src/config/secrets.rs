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
    /// A symbolic link in the data folder (or the folder itself one).
    #[error(
        "{path} is a symbolic link: the data folder and everything in it must be real \
         files and folders, never followed links (remove it; give the data folder's real path)"
    )]
    Symlink {
        /// The link.
        path: String,
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

/// Prepares the data folder at start: it is the gateway's alone. Returns
/// its real path, which the gateway uses from then on.
///
/// - The folder is created if absent; its path is resolved once, here
///   (systemd's `StateDirectory=` with `DynamicUser=` makes
///   `/var/lib/passerelle` a link to `/var/lib/private/passerelle`).
/// - Any symbolic link inside it (at any depth) is refused, naming it: a
///   link planted there would send temporary files elsewhere or have an
///   outside file overwritten. Files are never opened through a link.
/// - The folder and its sub-folders get mode 0700, every file 0600,
///   whatever the umask and whatever they had (a file loosened by hand is
///   tightened); its `tmp/` folder (uploads being read) is created 0700.
pub fn prepare_data_folder(data: &Path) -> Result<std::path::PathBuf, SecretError> {
    use std::os::unix::fs::DirBuilderExt;
    if !data.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(data)
            .map_err(io(data))?;
    }
    let data = &std::fs::canonicalize(data).map_err(io(data))?;
    let mut budget = MAX_DATA_ENTRIES;
    tighten(data, 0, &mut budget)?;
    let tmp = data.join("tmp");
    if !tmp.exists() {
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&tmp)
            .map_err(io(&tmp))?;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o700)).map_err(io(&tmp))?;
    }
    Ok(data.clone())
}

/// How many entries [`prepare_data_folder`] looks at, and how deep.
const MAX_DATA_ENTRIES: usize = 100_000;
const MAX_DATA_DEPTH: usize = 8;

/// Refuses symbolic links under `dir`, sets folders 0700 and files 0600.
fn tighten(dir: &Path, depth: usize, budget: &mut usize) -> Result<(), SecretError> {
    let meta = std::fs::symlink_metadata(dir).map_err(io(dir))?;
    if meta.file_type().is_symlink() {
        return Err(SecretError::Symlink {
            path: dir.display().to_string(),
        });
    }
    if !meta.is_dir() {
        return Err(SecretError::Malformed {
            path: dir.display().to_string(),
            problem: "the data folder must be a folder".into(),
        });
    }
    if meta.permissions().mode() & 0o777 != 0o700 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io(dir))?;
    }
    if depth >= MAX_DATA_DEPTH {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        *budget = budget.saturating_sub(1);
        if *budget == 0 {
            return Ok(());
        }
        let kind = entry.file_type().map_err(io(&path))?;
        if kind.is_symlink() {
            return Err(SecretError::Symlink {
                path: path.display().to_string(),
            });
        } else if kind.is_dir() {
            tighten(&path, depth + 1, budget)?;
        } else if kind.is_file() {
            let mode = entry.metadata().map_err(io(&path))?.permissions().mode() & 0o777;
            if mode != 0o600 {
                // Opened without following links: the entry was a file
                // a moment ago and must still be one.
                let f = std::fs::OpenOptions::new()
                    .read(true)
                    .custom_flags(libc::O_NOFOLLOW)
                    .open(&path)
                    .map_err(io(&path))?;
                f.set_permissions(std::fs::Permissions::from_mode(0o600))
                    .map_err(io(&path))?;
            }
        }
    }
    Ok(())
}

/// Creates an empty file with mode 0600 if absent (never through a
/// symbolic link); leaves an existing file as it is.
pub fn create_private(path: &Path) -> Result<(), SecretError> {
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
    {
        Ok(f) => f
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(io(path)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io(path)(e)),
    }
}

/// Writes (creates or replaces the content of) a file with mode 0600,
/// never through a symbolic link.
pub fn write_private(path: &Path, contents: &[u8]) -> Result<(), SecretError> {
    write_0600(path, contents, false)
}

/// Writes a new secret file with mode 0600 from the start; fails if it exists.
pub fn write_new(path: &Path, contents: &[u8]) -> Result<(), SecretError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io(path))?;
    }
    write_0600(path, contents, true)
}

/// Opens `path` for writing with mode 0600 and `O_NOFOLLOW` (a new file
/// only when `new`), sets the mode again whatever the umask, writes and
/// syncs.
fn write_0600(path: &Path, contents: &[u8], new: bool) -> Result<(), SecretError> {
    let mut options = std::fs::OpenOptions::new();
    options
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW);
    if new {
        options.create_new(true);
    } else {
        options.create(true).truncate(true);
    }
    let mut f = options.open(path).map_err(io(path))?;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))
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
