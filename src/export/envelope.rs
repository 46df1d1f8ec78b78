//! Outgoing age envelopes (<https://age-encryption.org/v1>): what the
//! gateway sends is encrypted to the recipient partner's X25519 recipients.
//! Opening what partners send is intake's (`ingest::envelope`); this module
//! only seals.

use std::io::Write;

/// A sealing problem. Messages never say what was inside.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// Decrypts the way a recipient does (`age -d -i …`).
    fn decrypt(ciphertext: &[u8], identity: &age::x25519::Identity) -> Vec<u8> {
        let dec = age::Decryptor::new_buffered(ciphertext).unwrap();
        let mut out = Vec::new();
        dec.decrypt(std::iter::once(identity as &dyn age::Identity))
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn round_trip_to_two_recipients() {
        let a = age::x25519::Identity::generate();
        let b = age::x25519::Identity::generate();
        let ct = seal(b"hello", &[a.to_public(), b.to_public()]).unwrap();
        assert!(ct.starts_with(b"age-encryption.org/v1\n"));
        assert_eq!(decrypt(&ct, &a), b"hello");
        assert_eq!(decrypt(&ct, &b), b"hello");
    }

    #[test]
    fn a_sealer_streams_into_its_writer() {
        let a = age::x25519::Identity::generate();
        let plain: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut w = Sealer::to_writer(&[a.to_public()], Vec::new()).unwrap();
        for chunk in plain.chunks(7_000) {
            w.write_all(chunk).unwrap();
        }
        let ct = w.finish().unwrap();
        assert_eq!(decrypt(&ct, &a), plain);
        assert!(matches!(seal(b"x", &[]), Err(EnvelopeError::Encrypt(_))));
    }
}
