//! age envelopes (<https://age-encryption.org/v1>): what the gateway sends is
//! encrypted to the recipient partner's X25519 recipients, what it receives is
//! decrypted with its own identity. Binary or ASCII-armoured input is read.

use std::io::{Read, Write};
use std::path::Path;

use crate::ingest::spool::{CopyError, Spool, SpoolError, SpoolWriter};

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
    /// The plaintext cannot be written to its temporary file (the
    /// gateway's fault, not the sender's).
    #[error("cannot store the decrypted content: {0}")]
    Storage(std::io::Error),
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

/// Decrypts `input` with `identity` into a new temporary file in `dir`,
/// streaming (neither the ciphertext nor the plaintext is held in memory),
/// refusing plaintexts over `limit` bytes. Binary or armoured input, with
/// the same errors as [`open`] (plus [`EnvelopeError::Storage`] when the
/// file cannot be written).
pub fn open_spool(
    input: &Spool,
    identity: &age::x25519::Identity,
    limit: usize,
    dir: &Path,
) -> Result<Spool, EnvelopeError> {
    let dec = age::Decryptor::new_buffered(age::armor::ArmoredReader::new(input.reader()))
        .map_err(|e| EnvelopeError::Decrypt(e.to_string()))?;
    let reader = dec
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .map_err(|e| EnvelopeError::Decrypt(e.to_string()))?;
    let spool_error = |e: SpoolError| match e {
        SpoolError::TooLarge { .. } => EnvelopeError::TooLarge(limit),
        SpoolError::Io(e) => EnvelopeError::Storage(e),
        other => EnvelopeError::Storage(std::io::Error::other(other.to_string())),
    };
    let mut out = SpoolWriter::new(Some(dir), limit).map_err(spool_error)?;
    out.copy_from(reader).map_err(|e| match e {
        CopyError::Read(_) => EnvelopeError::Damaged,
        CopyError::Spool(e) => spool_error(e),
    })?;
    out.finish().map_err(spool_error)
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

    fn file_spool(bytes: &[u8], dir: &Path) -> Spool {
        Spool::from_reader(bytes, dir, usize::MAX).unwrap()
    }

    fn content(s: &Spool) -> Vec<u8> {
        let mut v = Vec::new();
        s.reader().read_to_end(&mut v).unwrap();
        v
    }

    #[test]
    fn open_spool_binary_and_armoured() {
        let dir = tempfile::tempdir().unwrap();
        let a = age::x25519::Identity::generate();
        // Several age chunks (64 KiB each).
        let plain: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        let ct = seal(&plain, &[a.to_public()]).unwrap();
        let out = open_spool(&file_spool(&ct, dir.path()), &a, 1 << 20, dir.path()).unwrap();
        assert!(out.is_file());
        assert_eq!(out.dir(), Some(dir.path()));
        assert_eq!(content(&out), plain);
        assert_eq!(out.sha256_hex(), crate::util::sha256_hex(&plain));
        // From bytes in memory too.
        let out = open_spool(&Spool::from(&ct), &a, 1 << 20, dir.path()).unwrap();
        assert_eq!(content(&out), plain);

        let mut armoured = Vec::new();
        {
            let enc = age::Encryptor::with_recipients(std::iter::once(
                &a.to_public() as &dyn age::Recipient
            ))
            .unwrap();
            let armor = age::armor::ArmoredWriter::wrap_output(
                &mut armoured,
                age::armor::Format::AsciiArmor,
            )
            .unwrap();
            let mut w = enc.wrap_output(armor).unwrap();
            w.write_all(b"nom;prenom\n").unwrap();
            w.finish().unwrap().finish().unwrap();
        }
        assert!(looks_like_age(&armoured));
        let input = file_spool(&armoured, dir.path());
        let out = open_spool(&input, &a, 100, dir.path()).unwrap();
        assert_eq!(content(&out), b"nom;prenom\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn open_spool_refuses_like_open() {
        let dir = tempfile::tempdir().unwrap();
        let a = age::x25519::Identity::generate();
        let other = age::x25519::Identity::generate();
        let ct = seal(&[7u8; 100_000], &[a.to_public()]).unwrap();
        let input = file_spool(&ct, dir.path());
        assert!(matches!(
            open_spool(&input, &other, 1 << 20, dir.path()),
            Err(EnvelopeError::Decrypt(_))
        ));
        let cut = file_spool(&ct[..ct.len() - 10], dir.path());
        assert!(matches!(
            open_spool(&cut, &a, 1 << 20, dir.path()),
            Err(EnvelopeError::Damaged)
        ));
        assert!(matches!(
            open_spool(&input, &a, 1000, dir.path()),
            Err(EnvelopeError::TooLarge(1000))
        ));
        assert!(matches!(
            open_spool(
                &file_spool(b"not age at all", dir.path()),
                &a,
                1000,
                dir.path()
            ),
            Err(EnvelopeError::Decrypt(_))
        ));
        // The exact limit is accepted.
        let exact = open_spool(&input, &a, 100_000, dir.path()).unwrap();
        assert_eq!(exact.len(), 100_000);
    }
}
