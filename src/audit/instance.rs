//! Several gateway instances on one database must use the same keys: an
//! instance with another audit signing key would sign checkpoints the
//! others' log contradicts (a permanent false "log altered"), one with
//! other pseudonymisation or age keys would fail every return. The first
//! instance to open the database records each key's fingerprint
//! (`instance_keys`: a public part, or an HMAC of a fixed label for a
//! symmetric key — never the secret); the others compare theirs at start.

use hmac::{Hmac, Mac};
use sqlx::{AnyConnection, Row};

/// One key of this instance: its stable name, fingerprint and file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFingerprint {
    /// `audit-signing`, `age-identity`, `pseudonymisation-v1`…
    pub name: String,
    /// Public part, or HMAC of a fixed label.
    pub fingerprint: String,
    /// The file it was read from (named in the refusal).
    pub file: String,
}

impl KeyFingerprint {
    /// A symmetric key's fingerprint: HMAC-SHA256(key, fixed label).
    pub fn symmetric(name: &str, key: &[u8], file: &std::path::Path) -> KeyFingerprint {
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key)
            .expect("HMAC takes a key of any length");
        mac.update(b"passerelle key fingerprint v1");
        KeyFingerprint {
            name: name.to_owned(),
            fingerprint: format!("hmac-sha256:{}", hex::encode(mac.finalize().into_bytes())),
            file: file.display().to_string(),
        }
    }

    /// A key pair's fingerprint: its public part.
    pub fn public(name: &str, public: &str, file: &std::path::Path) -> KeyFingerprint {
        KeyFingerprint {
            name: name.to_owned(),
            fingerprint: public.to_owned(),
            file: file.display().to_string(),
        }
    }
}

/// This instance's keys are not those recorded by the first instance.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstanceError {
    /// Some keys differ or are missing here.
    #[error(
        "this database is used by a gateway instance with other keys: {}. \
         Every instance on one database needs the same keys: copy these files from the first \
         instance (deploy/README.md, \"Several instances\")",
        .0.join("; ")
    )]
    KeysDiffer(Vec<String>),
    /// The database.
    #[error("cannot read the recorded key fingerprints: {0}")]
    Db(#[from] sqlx::Error),
}

/// Records the fingerprints of keys the database does not know yet and
/// checks every other one: refuses when one differs, or when the database
/// knows a key this instance lacks (a pseudonymisation version added by
/// `passerelle keys rotate` on another instance).
pub async fn check_keys(
    conn: &mut AnyConnection,
    keys: &[KeyFingerprint],
) -> Result<(), InstanceError> {
    for k in keys {
        sqlx::query(
            "INSERT INTO instance_keys (name, fingerprint, file, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(k.name.clone())
        .bind(k.fingerprint.clone())
        .bind(k.file.clone())
        .bind(crate::util::now_ms())
        .execute(&mut *conn)
        .await?;
    }
    let mut problems = Vec::new();
    for r in sqlx::query("SELECT name, fingerprint, file FROM instance_keys ORDER BY name")
        .fetch_all(&mut *conn)
        .await?
    {
        let name: String = r.try_get(0)?;
        let fingerprint: String = r.try_get(1)?;
        let file: String = r.try_get(2)?;
        match keys.iter().find(|k| k.name == name) {
            Some(k) if k.fingerprint == fingerprint => {}
            Some(k) => problems.push(format!(
                "{name} ({}) is not the key the first instance recorded (its file was {file})",
                k.file
            )),
            None => problems.push(format!(
                "{name} is recorded but missing here (the first instance's file was {file})"
            )),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(InstanceError::KeysDiffer(problems))
    }
}
