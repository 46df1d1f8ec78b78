//! age envelopes (<https://age-encryption.org/v1>): what the gateway sends is
//! encrypted to the recipient partner's X25519 recipients, what it receives is
//! decrypted with its own identity. Binary or ASCII-armoured input is read.

use std::io::{Read, Write};

/// An envelope problem. Messages say what to do, never what was inside.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The sender encrypted to someone else, or the bytes are not age.
    #[error(
        "the body is not an age file encrypted to the gateway's recipient (GET /v1/recipient): {0}"
    )]
    Decrypt(String),
    /// The ciphertext is cut or damaged.
    #[error("the age file is truncated or damaged")]
    Damaged,
    /// The plaintext exceeds the limit.
    #[error("the decrypted content exceeds {0} bytes")]
    TooLarge(usize),
    /// Encryption failed (no recipient, I/O).
    #[error("cannot encrypt: {0}")]
    Encrypt(String),
}

/// Encrypts `plaintext` to every recipient (binary age format).
pub fn seal(
    plaintext: &[u8],
    recipients: &[age::x25519::Recipient],
) -> Result<Vec<u8>, EnvelopeError> {
    let mut w = Sealer::new(recipients)?;
    w.write_all(plaintext)
        .map_err(|e| EnvelopeError::Encrypt(e.to_string()))?;
    w.finish()
}

/// A streaming encryptor into `W` (memory by default).
pub struct Sealer<W: Write = Vec<u8>> {
    inner: age::stream::StreamWriter<W>,
}

impl<W: Write> std::fmt::Debug for Sealer<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer")
    }
}

impl Sealer<Vec<u8>> {
    /// Starts an envelope in memory to these recipients.
    pub fn new(recipients: &[age::x25519::Recipient]) -> Result<Self, EnvelopeError> {
        Sealer::to_writer(recipients, Vec::new())
    }
}

impl<W: Write> Sealer<W> {
    /// Starts an envelope to these recipients, written into `out`.
    pub fn to_writer(recipients: &[age::x25519::Recipient], out: W) -> Result<Self, EnvelopeError> {
        let enc =
            age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
                .map_err(|e| EnvelopeError::Encrypt(e.to_string()))?;
        let inner = enc
            .wrap_output(out)
            .map_err(|e| EnvelopeError::Encrypt(e.to_string()))?;
        Ok(Sealer { inner })
    }

    /// Ends the stream (the final chunk is what makes the file whole).
    pub fn finish(self) -> Result<W, EnvelopeError> {
        self.inner
            .finish()
            .map_err(|e| EnvelopeError::Encrypt(e.to_string()))
    }
}

impl<W: Write> Write for Sealer<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Whether bytes look like an age file (binary or armoured).
pub fn looks_like_age(bytes: &[u8]) -> bool {
    bytes.starts_with(b"age-encryption.org/v1\n")
        || bytes.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----")
}

/// Decrypts with `identity`, refusing plaintexts over `limit` bytes.
pub fn open(
    ciphertext: &[u8],
    identity: &age::x25519::Identity,
    limit: usize,
) -> Result<Vec<u8>, EnvelopeError> {
    let dec = age::Decryptor::new_buffered(age::armor::ArmoredReader::new(ciphertext))
        .map_err(|e| EnvelopeError::Decrypt(e.to_string()))?;
    let reader = dec
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .map_err(|e| EnvelopeError::Decrypt(e.to_string()))?;
    let mut out = Vec::new();
    let n = reader
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| EnvelopeError::Damaged)?;
    if n > limit {
        return Err(EnvelopeError::TooLarge(limit));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_to_two_recipients() {
        let a = age::x25519::Identity::generate();
        let b = age::x25519::Identity::generate();
        let ct = seal(b"hello", &[a.to_public(), b.to_public()]).unwrap();
        assert!(looks_like_age(&ct));
        assert_eq!(open(&ct, &a, 100).unwrap(), b"hello");
        assert_eq!(open(&ct, &b, 100).unwrap(), b"hello");
    }

    #[test]
    fn wrong_identity_truncation_and_size_are_refused() {
        let a = age::x25519::Identity::generate();
        let other = age::x25519::Identity::generate();
        let ct = seal(&[7u8; 100_000], &[a.to_public()]).unwrap();
        assert!(matches!(
            open(&ct, &other, 1 << 20),
            Err(EnvelopeError::Decrypt(_))
        ));
        assert!(matches!(
            open(&ct[..ct.len() - 10], &a, 1 << 20),
            Err(EnvelopeError::Damaged)
        ));
        assert!(matches!(
            open(&ct, &a, 1000),
            Err(EnvelopeError::TooLarge(1000))
        ));
    }
}
