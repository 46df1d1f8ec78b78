//! Sealing at rest: personal fields are stored as XChaCha20-Poly1305
//! ciphertexts (key derived from the root key, random 192-bit nonce, the
//! record's id as associated data so a ciphertext cannot be moved to another
//! record). A copied database alone shows no name, address or amount.

use super::Pseudonymiser;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

/// A sealed record could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("a sealed record could not be opened (wrong key or altered data)")]
pub struct SealError;

impl Pseudonymiser {
    /// Seals `plaintext` bound to `record_id`.
    pub fn seal(&self, record_id: &str, plaintext: &[u8]) -> Vec<u8> {
        let version = self.current_version();
        let key = self
            .seal_key(version)
            .expect("the current version has keys");
        let cipher = XChaCha20Poly1305::new(key.into());
        let mut nonce = [0u8; 24];
        // A CSPRNG seeded from the OS (ChaCha, reseeded periodically): a
        // random 192-bit nonce never repeats in practice, without a system
        // call per record.
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut nonce);
        let ct = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: record_id.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(1 + 24 + ct.len());
        // The first byte names the key version, so records sealed before a
        // rotation still open.
        out.push(u8::try_from(version).expect("fewer than 256 key versions"));
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// Opens what [`Pseudonymiser::seal`] produced for `record_id`.
    pub fn open(&self, record_id: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < 25 {
            return Err(SealError);
        }
        let key = self.seal_key(u32::from(sealed[0])).ok_or(SealError)?;
        let cipher = XChaCha20Poly1305::new(key.into());
        cipher
            .decrypt(
                XNonce::from_slice(&sealed[1..25]),
                Payload {
                    msg: &sealed[25..],
                    aad: record_id.as_bytes(),
                },
            )
            .map_err(|_| SealError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trips_and_binds_the_record() {
        let p = Pseudonymiser::new(&[3u8; 32]);
        let s = p.seal("case-1", b"Dupont");
        assert!(!s.windows(6).any(|w| w == b"Dupont"));
        assert_eq!(p.open("case-1", &s).unwrap(), b"Dupont");
        assert!(p.open("case-2", &s).is_err());
        let mut bad = s.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(p.open("case-1", &bad).is_err());
        assert!(Pseudonymiser::new(&[4u8; 32]).open("case-1", &s).is_err());
    }
}
