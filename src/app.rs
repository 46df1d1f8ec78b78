//! The running gateway's state: configuration, store, keys.

use crate::config::{Config, secrets};
use crate::pseudo::Pseudonymiser;
use crate::store::Store;
use std::sync::Arc;

/// Start-up failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// Configuration.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A key file.
    #[error(transparent)]
    Secret(#[from] secrets::SecretError),
    /// The store.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// TLS material.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// Binding the listener.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
}

/// Everything a request needs. Its `Debug` prints no key.
pub struct App {
    /// The configuration.
    pub config: Config,
    /// The store.
    pub store: Store,
    /// Pseudonymisation keys.
    pub pseudo: Pseudonymiser,
    /// The gateway's age identity (decrypts what partners send).
    pub identity: age::x25519::Identity,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("store", &self.store)
            .field("recipient", &self.recipient())
            .finish_non_exhaustive()
    }
}

impl App {
    /// Opens the data folder (creating keys on first start), the store, and
    /// runs migrations.
    pub async fn open(config: Config) -> Result<Arc<App>, StartError> {
        let data = &config.gateway.storage.data;
        std::fs::create_dir_all(data).map_err(|e| secrets::SecretError::Io {
            path: data.display().to_string(),
            source: e,
        })?;
        let (root_path, gen_root) = match &config.gateway.pseudonymisation_key {
            Some(p) => (p.clone(), false),
            None => (data.join("pseudonymisation.key"), true),
        };
        let root = secrets::key32(&root_path, gen_root)?;
        let (age_path, gen_age) = match &config.gateway.age_identity {
            Some(p) => (p.clone(), false),
            None => (data.join("gateway.agekey"), true),
        };
        let identity = secrets::age_identity(&age_path, gen_age)?;
        let store = Store::open(&config.gateway.storage.url()).await?;
        Ok(Arc::new(App {
            config,
            store,
            pseudo: Pseudonymiser::new(&root),
            identity,
        }))
    }

    /// The gateway's age recipient (`age1…`).
    pub fn recipient(&self) -> String {
        self.identity.to_public().to_string()
    }
}
