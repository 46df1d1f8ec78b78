//! Incoming age envelopes (<https://age-encryption.org/v1>): what partners
//! send is decrypted with the gateway's own identity, binary or
//! ASCII-armoured. Sealing what the gateway sends is `export::envelope`'s;
//! this module only opens.

use std::io::Read;
use std::path::Path;

use super::spool::{CopyError, Spool, SpoolError, SpoolWriter};

/// The media type of an age file.
pub const MEDIA_TYPE: &str = "application/age";

/// An envelope that does not open. Messages say what to do, never what was
/// inside.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
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
    /// The plaintext cannot be written to its temporary file (the
    /// gateway's fault, not the sender's).
    #[error("cannot store the decrypted content: {0}")]
    Storage(String),
}

/// Whether bytes look like an age file (binary or armoured).
pub fn looks_like_age(bytes: &[u8]) -> bool {
    bytes.starts_with(b"age-encryption.org/v1\n")
        || bytes.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----")
}

/// A decrypting reader over `input` (binary or armoured).
fn decryptor<R: std::io::BufRead>(
    input: R,
    identity: &age::x25519::Identity,
) -> Result<impl Read, OpenError> {
    let dec = age::Decryptor::new_buffered(age::armor::ArmoredReader::new(input))
        .map_err(|e| OpenError::Decrypt(e.to_string()))?;
    dec.decrypt(std::iter::once(identity as &dyn age::Identity))
        .map_err(|e| OpenError::Decrypt(e.to_string()))
}

/// Decrypts bytes in memory with `identity`, refusing plaintexts over
/// `limit` bytes (a partner's side: opening what the gateway sealed to it;
/// the gateway's own intake uses [`open_spool`]).
pub fn open(
    ciphertext: &[u8],
    identity: &age::x25519::Identity,
    limit: usize,
) -> Result<Vec<u8>, OpenError> {
    let reader = decryptor(ciphertext, identity)?;
    let mut out = Vec::new();
    let n = reader
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| OpenError::Damaged)?;
    if n > limit {
        return Err(OpenError::TooLarge(limit));
    }
    Ok(out)
}

/// Decrypts `input` with `identity` into a new temporary file in `dir`,
/// streaming (neither the ciphertext nor the plaintext is held in memory),
/// refusing plaintexts over `limit` bytes. Binary or armoured input, with
/// the same errors as [`open`] (plus [`OpenError::Storage`] when the file
/// cannot be written).
pub fn open_spool(
    input: &Spool,
    identity: &age::x25519::Identity,
    limit: usize,
    dir: &Path,
) -> Result<Spool, OpenError> {
    let reader = decryptor(input.reader(), identity)?;
    let spool_error = |e: SpoolError| match e {
        SpoolError::TooLarge { .. } => OpenError::TooLarge(limit),
        other => OpenError::Storage(other.to_string()),
    };
    let mut out = SpoolWriter::new(Some(dir), limit).map_err(spool_error)?;
    out.copy_from(reader).map_err(|e| match e {
        CopyError::Read(_) => OpenError::Damaged,
        CopyError::Spool(e) => spool_error(e),
    })?;
    out.finish().map_err(spool_error)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    /// Encrypts to `recipients` the way partners do (`age -r …`), binary
    /// or armoured. The gateway's own sealing is not used here: intake
    /// does not depend on export.
    pub(crate) fn encrypt(
        plain: &[u8],
        recipients: &[age::x25519::Recipient],
        armoured: bool,
    ) -> Vec<u8> {
        let enc =
            age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
                .unwrap();
        let mut out = Vec::new();
        let format = if armoured {
            age::armor::Format::AsciiArmor
        } else {
            age::armor::Format::Binary
        };
        let armor = age::armor::ArmoredWriter::wrap_output(&mut out, format).unwrap();
        let mut w = enc.wrap_output(armor).unwrap();
        w.write_all(plain).unwrap();
        w.finish().unwrap().finish().unwrap();
        out
    }

    #[test]
    fn opens_for_each_recipient() {
        let a = age::x25519::Identity::generate();
        let b = age::x25519::Identity::generate();
        let ct = encrypt(b"hello", &[a.to_public(), b.to_public()], false);
        assert!(looks_like_age(&ct));
        assert!(!looks_like_age(b"token,date\n"));
        assert_eq!(open(&ct, &a, 100).unwrap(), b"hello");
        assert_eq!(open(&ct, &b, 100).unwrap(), b"hello");
    }

    #[test]
    fn wrong_identity_truncation_and_size_are_refused() {
        let a = age::x25519::Identity::generate();
        let other = age::x25519::Identity::generate();
        let ct = encrypt(&[7u8; 100_000], &[a.to_public()], false);
        assert!(matches!(
            open(&ct, &other, 1 << 20),
            Err(OpenError::Decrypt(_))
        ));
        assert_eq!(
            open(&ct[..ct.len() - 10], &a, 1 << 20),
            Err(OpenError::Damaged)
        );
        assert_eq!(open(&ct, &a, 1000), Err(OpenError::TooLarge(1000)));
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
        let ct = encrypt(&plain, &[a.to_public()], false);
        let out = open_spool(&file_spool(&ct, dir.path()), &a, 1 << 20, dir.path()).unwrap();
        assert!(out.is_file());
        assert_eq!(out.dir(), Some(dir.path()));
        assert_eq!(content(&out), plain);
        assert_eq!(out.sha256_hex(), crate::util::sha256_hex(&plain));
        // From bytes in memory too.
        let out = open_spool(&Spool::from(&ct), &a, 1 << 20, dir.path()).unwrap();
        assert_eq!(content(&out), plain);

        let armoured = encrypt(b"nom;prenom\n", &[a.to_public()], true);
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
        let ct = encrypt(&[7u8; 100_000], &[a.to_public()], false);
        let input = file_spool(&ct, dir.path());
        assert!(matches!(
            open_spool(&input, &other, 1 << 20, dir.path()),
            Err(OpenError::Decrypt(_))
        ));
        let cut = file_spool(&ct[..ct.len() - 10], dir.path());
        assert!(matches!(
            open_spool(&cut, &a, 1 << 20, dir.path()),
            Err(OpenError::Damaged)
        ));
        assert!(matches!(
            open_spool(&input, &a, 1000, dir.path()),
            Err(OpenError::TooLarge(1000))
        ));
        assert!(matches!(
            open_spool(
                &file_spool(b"not age at all", dir.path()),
                &a,
                1000,
                dir.path()
            ),
            Err(OpenError::Decrypt(_))
        ));
        // The exact limit is accepted.
        let exact = open_spool(&input, &a, 100_000, dir.path()).unwrap();
        assert_eq!(exact.len(), 100_000);
    }
}
