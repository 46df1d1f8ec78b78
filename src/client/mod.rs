//! The partner side (`passerelle client`): pull, decrypt, write atomically,
//! acknowledge; encrypt to the pinned gateway recipient and push lists and
//! returns; watch an outbox folder; report status. Runs unattended from
//! cron or a systemd timer; exit codes say what happened (see [`exit`]).

mod config;
mod http;
mod pin;
mod pull;
mod push;
mod status;
mod watch;
pub mod witness;

pub use config::ClientConfig;
pub use http::{GatewayClient, OutboxEntry, backoff};
pub use pin::{accept_recipient, pinned_recipient};
pub use pull::{PullReport, pull};
pub use push::{PushReport, push_file, push_list, push_procedures, push_return};
pub use status::{StatusReport, status};
pub use watch::{WatchReport, watch};

/// Exit codes of `passerelle client` (documented in the README).
pub mod exit {
    /// Done (also: nothing to do).
    pub const OK: i32 = 0;
    /// Bad usage or configuration.
    pub const CONFIG: i32 = 1;
    /// The gateway could not be reached (network, TLS, 5xx, 429) after the retries.
    pub const UNREACHABLE: i32 = 2;
    /// The gateway refused (4xx): the answer says why.
    pub const REFUSED: i32 = 3;
    /// The gateway's age recipient differs from the pinned one.
    pub const RECIPIENT_CHANGED: i32 = 4;
    /// A local file could not be read, written or decrypted.
    pub const LOCAL: i32 = 5;
    /// `status`: the client certificate expires within 30 days.
    pub const CERT_EXPIRING: i32 = 6;
    /// The gateway's access log forked or was rolled back (see the message).
    pub const LOG_INCONSISTENT: i32 = 7;
}

/// A client failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// `client.toml` or a file it names.
    #[error("configuration: {0}")]
    Config(String),
    /// TLS material.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// Network or TLS failure (a refused certificate often shows as a
    /// connection closed right after the handshake).
    #[error(
        "cannot reach the gateway (if this follows a TLS handshake, the certificate was probably refused): {0}"
    )]
    Http(#[from] reqwest::Error),
    /// The gateway stayed unavailable (5xx or 429) through the retries.
    #[error("the gateway is unavailable ({status}): {body}")]
    Unavailable {
        /// HTTP status.
        status: u16,
        /// Its body.
        body: String,
    },
    /// The gateway answered an error.
    #[error("the gateway answered {status}: {body}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The JSON error body.
        body: String,
    },
    /// The gateway now publishes another age recipient than the pinned one.
    #[error(
        "the gateway's age recipient changed: pinned {pinned}, served {served}; nothing was sent. \
         If the gateway's operator confirms the new key, run `passerelle client --config … accept-recipient`"
    )]
    RecipientChanged {
        /// The pinned one.
        pinned: String,
        /// The one served now.
        served: String,
    },
    /// A local file.
    #[error("{0}")]
    Local(String),
    /// The gateway's access log is not the one seen before.
    #[error(
        "the gateway's access log is inconsistent — {0}. Alert the gateway's operator and your DPO; keep state/checkpoint as evidence"
    )]
    LogInconsistent(String),
}

impl ClientError {
    /// The exit code for this failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            ClientError::Config(_) | ClientError::Tls(_) => exit::CONFIG,
            ClientError::Http(_) | ClientError::Unavailable { .. } => exit::UNREACHABLE,
            ClientError::Refused { .. } => exit::REFUSED,
            ClientError::RecipientChanged { .. } => exit::RECIPIENT_CHANGED,
            ClientError::Local(_) => exit::LOCAL,
            ClientError::LogInconsistent(_) => exit::LOG_INCONSISTENT,
        }
    }
}

/// Writes `bytes` to `path` atomically and durably: a temporary file in the
/// same folder, fsync, rename, fsync of the folder. A crash leaves either
/// the old state or the whole new file, never part of it.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<(), ClientError> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    let local = |e: std::io::Error| ClientError::Local(format!("{}: {e}", path.display()));
    std::fs::create_dir_all(dir).map_err(local)?;
    let tmp = dir.join(format!(
        ".part-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file")
    ));
    let mut f = std::fs::File::create(&tmp).map_err(local)?;
    f.write_all(bytes).map_err(local)?;
    f.sync_all().map_err(local)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(local)?;
    sync_dir(dir)
}

/// fsync of a folder, so a rename in it survives a crash.
pub fn sync_dir(dir: &std::path::Path) -> Result<(), ClientError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| ClientError::Local(format!("{}: {e}", dir.display())))
}
