//! The running gateway's state: configuration, store, keys.

use crate::config::{Config, Partners, secrets};
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
    /// This instance's keys are not those of the database's first instance.
    #[error(transparent)]
    Keys(#[from] crate::audit::instance::InstanceError),
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

/// The files of pseudonymisation key versions after the first, beside
/// it: `<root key file>.v2`, `.v3`… (`passerelle keys rotate` adds one).
pub fn key_versions(root_path: &std::path::Path) -> Vec<(u32, std::path::PathBuf)> {
    let mut out = Vec::new();
    for version in 2.. {
        let mut name = root_path.as_os_str().to_owned();
        name.push(format!(".v{version}"));
        let path = std::path::PathBuf::from(name);
        if !path.exists() {
            break;
        }
        out.push((version, path));
    }
    out
}

/// Adds the next pseudonymisation key version (mode 0600) for the
/// configuration `config`; returns `(version, file)`. The running gateway
/// uses it from its next start: new cases get the new key, existing cases
/// keep theirs (their tokens and sealed data still resolve).
pub fn rotate_keys(config: &Config) -> Result<(u32, std::path::PathBuf), StartError> {
    let root_path = config
        .gateway
        .pseudonymisation_key
        .clone()
        .unwrap_or_else(|| config.gateway.storage.data.join("pseudonymisation.key"));
    if !root_path.exists() {
        secrets::key32(&root_path, true)?;
    }
    let next = key_versions(&root_path).last().map_or(2, |(v, _)| v + 1);
    let mut name = root_path.as_os_str().to_owned();
    name.push(format!(".v{next}"));
    let path = std::path::PathBuf::from(name);
    secrets::key32(&path, true)?;
    Ok((next, path))
}

fn spool_dir(config: &Config) -> std::path::PathBuf {
    config.gateway.storage.data.join("tmp")
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
    /// Signs the audit log's checkpoints.
    pub signer: crate::audit::checkpoint::Signer,
    /// The partners in force: those of the configuration until a reload
    /// (SIGHUP) replaces them. Routing and identity read them here.
    partners: std::sync::RwLock<Arc<Partners>>,
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
    pub async fn open(mut config: Config) -> Result<Arc<App>, StartError> {
        // The data folder is the gateway's: no symbolic link in it, the
        // folders 0700 and the files 0600 whatever the umask, `tmp/` for
        // uploads (unnamed files). Used by its real path from now on.
        config.gateway.storage.data = secrets::prepare_data_folder(&config.gateway.storage.data)?;
        let data = &config.gateway.storage.data;
        if config.gateway.storage.database_url.is_none() {
            // SQLite in the data folder: created 0600 here (its WAL and
            // shared-memory files take the database file's mode).
            secrets::create_private(&data.join("passerelle.db"))?;
        }
        let (root_path, gen_root) = match &config.gateway.pseudonymisation_key {
            Some(p) => (p.clone(), false),
            None => (data.join("pseudonymisation.key"), true),
        };
        use crate::audit::instance::KeyFingerprint;
        let mut roots = vec![(1u32, secrets::key32(&root_path, gen_root)?)];
        let mut fingerprints = vec![KeyFingerprint::symmetric(
            "pseudonymisation-v1",
            &roots[0].1,
            &root_path,
        )];
        for (version, path) in key_versions(&root_path) {
            let key = secrets::key32(&path, false)?;
            fingerprints.push(KeyFingerprint::symmetric(
                &format!("pseudonymisation-v{version}"),
                &key,
                &path,
            ));
            roots.push((version, key));
        }
        let (age_path, gen_age) = match &config.gateway.age_identity {
            Some(p) => (p.clone(), false),
            None => (data.join("gateway.agekey"), true),
        };
        let identity = secrets::age_identity(&age_path, gen_age)?;
        let (sig_path, gen_sig) = match &config.gateway.audit_signing_key {
            Some(p) => (p.clone(), false),
            None => (data.join("audit-signing.key"), true),
        };
        let signer = crate::audit::checkpoint::Signer::new(
            &config.gateway.audit.origin,
            &secrets::signing_key(&sig_path, gen_sig)?,
        )
        .map_err(|e| secrets::SecretError::Malformed {
            path: sig_path.display().to_string(),
            problem: e.to_string(),
        })?;
        // The verifier key, published beside the data for offline checks.
        let pub_path = data.join("audit-signing.pub");
        let vkey = format!("{}\n", signer.verifier_key());
        if std::fs::read_to_string(&pub_path).ok().as_deref() != Some(vkey.as_str()) {
            secrets::write_private(&pub_path, vkey.as_bytes())?;
        }
        fingerprints.push(KeyFingerprint::public(
            "age-identity",
            &identity.to_public().to_string(),
            &age_path,
        ));
        fingerprints.push(KeyFingerprint::public(
            "audit-signing",
            &signer.verifier_key(),
            &sig_path,
        ));
        let store = Store::open(&config.gateway.storage.url()).await?;
        {
            let mut conn = store
                .pool()
                .acquire()
                .await
                .map_err(crate::store::StoreError::from)?;
            crate::audit::instance::check_keys(&mut conn, &fingerprints).await?;
        }
        Ok(Arc::new(App {
            partners: std::sync::RwLock::new(Arc::new(config.partners.clone())),
            config,
            store,
            pseudo: Pseudonymiser::with_versions(&roots),
            identity,
            signer,
        }))
    }

    /// The partners in force.
    pub fn partners(&self) -> Arc<Partners> {
        self.partners
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Puts reloaded partners in force, for the requests and routings that
    /// start afterwards.
    pub fn replace_partners(&self, partners: Partners) {
        *self.partners.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(partners);
    }

    /// Signs a checkpoint of the audit log if it grew; returns the latest
    /// `(size, note)`.
    pub async fn checkpoint(&self) -> Result<(u64, String), crate::store::StoreError> {
        self.checkpoint_at_most_every(None).await
    }

    /// The latest checkpoint, signed anew only if the log grew and the
    /// latest is older than `min_age_ms` (what partners' polls get: a GET
    /// must not make the table grow with every call).
    pub async fn checkpoint_at_most_every(
        &self,
        min_age_ms: Option<i64>,
    ) -> Result<(u64, String), crate::store::StoreError> {
        let mut tx = self.store.begin().await?;
        let out = crate::audit::tlog::sign_checkpoint(&mut tx, &self.signer, min_age_ms)
            .await
            .map_err(|e| match e {
                crate::audit::tlog::TlogError::Db(e) => crate::store::StoreError::Db(e),
                other => crate::store::StoreError::Db(sqlx::Error::Protocol(other.to_string())),
            })?;
        tx.commit().await?;
        Ok(out)
    }

    /// Where uploads are spooled while they are read: `<data folder>/tmp`
    /// (mode 0700). Its files are unnamed (`O_TMPFILE`): nothing to clean.
    pub fn spool_dir(&self) -> std::path::PathBuf {
        spool_dir(&self.config)
    }

    /// The gateway's age recipient (`age1…`).
    pub fn recipient(&self) -> String {
        self.identity.to_public().to_string()
    }
}
