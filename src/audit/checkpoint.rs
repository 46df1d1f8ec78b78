//! Signed checkpoints of the audit log: C2SP tlog-checkpoint bodies
//! (<https://c2sp.org/tlog-checkpoint>) in C2SP signed notes
//! (<https://c2sp.org/signed-note>), Ed25519.
//!
//! ```text
//! <origin>
//! <tree size>
//! <base64 root hash>
//!
//! — <key name> <base64(key id || signature)>
//! ```

use super::merkle::Hash;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use sha2::{Digest, Sha256};

/// A checkpoint problem.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckpointError {
    /// Not a signed note of the expected shape.
    #[error("malformed checkpoint: {0}")]
    Malformed(String),
    /// No signature by the expected key, or a bad one.
    #[error("the checkpoint's signature does not verify with key {0}")]
    BadSignature(String),
    /// The verifier key string is malformed.
    #[error("malformed verifier key: {0}")]
    BadKey(String),
}

/// A parsed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line.
    pub origin: String,
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
}

/// The signer (the gateway's audit signing key). `Debug` prints no key.
pub struct Signer {
    name: String,
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({}, ***)", self.name)
    }
}

/// C2SP signed-note key id for an Ed25519 key: the first four bytes of
/// SHA-256(name || 0x0A || 0x01 || public key).
fn key_id(name: &str, public: &[u8]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([0x0A, 0x01]);
    h.update(public);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// A fresh Ed25519 key as PKCS#8 bytes.
pub fn generate_pkcs8() -> Vec<u8> {
    Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
        .expect("the system random generator works")
        .as_ref()
        .to_vec()
}

impl Signer {
    /// A signer named `name` (the log's origin) from PKCS#8 bytes.
    pub fn new(name: &str, pkcs8: &[u8]) -> Result<Signer, CheckpointError> {
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8)
            .map_err(|e| CheckpointError::BadKey(e.to_string()))?;
        Ok(Signer {
            name: name.to_owned(),
            pair,
        })
    }

    /// The log's origin (also the key's name).
    pub fn origin(&self) -> &str {
        &self.name
    }

    /// The verifier key in C2SP note form: `name+hex(key id)+base64(0x01 || public key)`.
    pub fn verifier_key(&self) -> String {
        let public = self.pair.public_key().as_ref();
        let mut typed = vec![0x01];
        typed.extend_from_slice(public);
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(key_id(&self.name, public)),
            B64.encode(typed)
        )
    }

    /// Signs a checkpoint of `size` leaves with head `root`.
    pub fn sign(&self, size: u64, root: &Hash) -> String {
        let body = format!("{}\n{size}\n{}\n", self.name, B64.encode(root));
        let sig = self.pair.sign(body.as_bytes());
        let mut blob = key_id(&self.name, self.pair.public_key().as_ref()).to_vec();
        blob.extend_from_slice(sig.as_ref());
        format!("{body}\n\u{2014} {} {}\n", self.name, B64.encode(blob))
    }
}

/// Parses a verifier key string.
fn parse_verifier(vkey: &str) -> Result<(String, [u8; 4], Vec<u8>), CheckpointError> {
    let mut parts = vkey.trim().splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(CheckpointError::BadKey("expected name+keyid+key".into()));
    };
    let id: [u8; 4] = hex::decode(id)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| CheckpointError::BadKey("key id is not 8 hex digits".into()))?;
    let key = B64
        .decode(key)
        .map_err(|e| CheckpointError::BadKey(e.to_string()))?;
    if key.len() != 33 || key[0] != 0x01 {
        return Err(CheckpointError::BadKey(
            "not an Ed25519 key (0x01 || 32 bytes)".into(),
        ));
    }
    let public = key[1..].to_vec();
    if key_id(name, &public) != id {
        return Err(CheckpointError::BadKey(
            "key id does not match the key".into(),
        ));
    }
    Ok((name.to_owned(), id, public))
}

/// Verifies a signed checkpoint against a verifier key and parses it.
pub fn verify(note: &str, vkey: &str) -> Result<Checkpoint, CheckpointError> {
    let (name, id, public) = parse_verifier(vkey)?;
    let (body, sigs) = note
        .split_once("\n\n")
        .ok_or_else(|| CheckpointError::Malformed("no blank line before the signatures".into()))?;
    let body = format!("{body}\n");
    let mut ok = false;
    for line in sigs.lines() {
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            continue;
        };
        let Some((n, b)) = rest.split_once(' ') else {
            continue;
        };
        if n != name {
            continue;
        }
        let Ok(blob) = B64.decode(b) else { continue };
        if blob.len() != 68 || blob[..4] != id {
            continue;
        }
        if UnparsedPublicKey::new(&ED25519, &public)
            .verify(body.as_bytes(), &blob[4..])
            .is_ok()
        {
            ok = true;
        }
    }
    if !ok {
        return Err(CheckpointError::BadSignature(name));
    }
    let mut lines = body.lines();
    let origin = lines.next().unwrap_or_default().to_owned();
    let size = lines
        .next()
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| CheckpointError::Malformed("tree size".into()))?;
    let root: Hash = lines
        .next()
        .and_then(|s| B64.decode(s).ok())
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| CheckpointError::Malformed("root hash".into()))?;
    if origin != name {
        return Err(CheckpointError::Malformed(format!(
            "origin {origin:?} is not the key's name"
        )));
    }
    Ok(Checkpoint { origin, size, root })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_checkpoint_verifies_and_a_tampered_one_does_not() {
        let s = Signer::new("passerelle.test/audit", &generate_pkcs8()).unwrap();
        let note = s.sign(42, &[9u8; 32]);
        assert!(note.starts_with("passerelle.test/audit\n42\n"));
        let c = verify(&note, &s.verifier_key()).unwrap();
        assert_eq!((c.size, c.root), (42, [9u8; 32]));
        let tampered = note.replacen("\n42\n", "\n43\n", 1);
        assert!(matches!(
            verify(&tampered, &s.verifier_key()),
            Err(CheckpointError::BadSignature(_))
        ));
        let other = Signer::new("passerelle.test/audit", &generate_pkcs8()).unwrap();
        assert!(verify(&note, &other.verifier_key()).is_err());
    }
}
