//! One way in for partners' files: a body spooled to an unnamed temporary
//! file ([`Spool::from_body`]) is opened here, the same way for a monthly
//! list and for a return, before a reader ([`super::read_list`],
//! [`super::read_return`]) types its rows.
//!
//! [`open_body`] does file and CPU work (age decryption, a temporary file
//! for the plaintext): callers run it off the async threads
//! (`spawn_blocking`). It never holds the body or its plaintext in memory.

use std::path::Path;

use super::envelope::{self, looks_like_age, open_spool};
use super::error::FileError;
use super::spool::Spool;

/// Whether a route takes plaintext files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encryption {
    /// Plaintext (CSV, XLSX) or an age envelope: monthly lists. A body
    /// declared `application/age` must be one.
    Optional,
    /// Only an age envelope, declared `application/age`: returns.
    Required,
}

/// Opens a spooled body: an age envelope (recognised from its first bytes)
/// is decrypted with `identity` into a new unnamed temporary file in
/// `dir`, refusing plaintexts over `limit` bytes; a plaintext is handed on
/// as it is when `encryption` allows it.
///
/// `declared` is the body's media type without parameters. Refusals:
/// [`FileError::NotEncrypted`] for a plaintext (or an envelope not declared
/// `application/age`) where encryption is required,
/// [`FileError::NotAge`] for a body declared `application/age` that is not
/// one, [`FileError::Envelope`] for an envelope that does not open.
pub fn open_body(
    input: Spool,
    declared: &str,
    encryption: Encryption,
    identity: &age::x25519::Identity,
    limit: usize,
    dir: &Path,
) -> Result<Spool, FileError> {
    let declared_age = declared == envelope::MEDIA_TYPE;
    let age = looks_like_age(input.head());
    match encryption {
        Encryption::Required if !(age && declared_age) => Err(FileError::NotEncrypted),
        Encryption::Optional if !age && declared_age => Err(FileError::NotAge),
        _ if !age => Ok(input),
        _ => Ok(open_spool(&input, identity, limit, dir)?),
    }
}

#[cfg(test)]
mod tests {
    use super::super::envelope::OpenError;
    use super::super::envelope::tests::encrypt;
    use super::*;
    use std::io::Read;

    const CSV: &str = "text/csv";

    fn content(s: &Spool) -> Vec<u8> {
        let mut v = Vec::new();
        s.reader().read_to_end(&mut v).unwrap();
        v
    }

    #[test]
    fn an_envelope_is_decrypted_into_a_temporary_file_for_both_routes() {
        let dir = tempfile::tempdir().unwrap();
        let id = age::x25519::Identity::generate();
        let plain = b"token,date,evenement\nt1,2026-11-03,visite\n";
        for armoured in [false, true] {
            let ct = encrypt(plain, &[id.to_public()], armoured);
            for encryption in [Encryption::Optional, Encryption::Required] {
                let body = Spool::from_reader(&ct[..], dir.path(), usize::MAX).unwrap();
                let out = open_body(
                    body,
                    envelope::MEDIA_TYPE,
                    encryption,
                    &id,
                    1 << 20,
                    dir.path(),
                )
                .unwrap();
                assert!(out.is_file());
                assert_eq!(content(&out), plain);
            }
        }
        // Lists: an envelope sent as text/csv is opened all the same.
        let ct = encrypt(plain, &[id.to_public()], false);
        let out = open_body(
            Spool::from(&ct),
            CSV,
            Encryption::Optional,
            &id,
            1 << 20,
            dir.path(),
        )
        .unwrap();
        assert_eq!(content(&out), plain);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn plaintext_is_handed_on_only_where_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let id = age::x25519::Identity::generate();
        let body = Spool::from(b"a;b\n1;2\n");
        let out = open_body(
            body.clone(),
            CSV,
            Encryption::Optional,
            &id,
            100,
            dir.path(),
        )
        .unwrap();
        assert_eq!(out.sha256_hex(), body.sha256_hex());
        for declared in [CSV, envelope::MEDIA_TYPE] {
            assert_eq!(
                open_body(
                    body.clone(),
                    declared,
                    Encryption::Required,
                    &id,
                    100,
                    dir.path()
                )
                .unwrap_err(),
                FileError::NotEncrypted
            );
        }
        assert_eq!(
            open_body(
                body,
                envelope::MEDIA_TYPE,
                Encryption::Optional,
                &id,
                100,
                dir.path()
            )
            .unwrap_err(),
            FileError::NotAge
        );
        // Returns: an envelope must also be declared as one.
        let ct = encrypt(b"x", &[id.to_public()], false);
        assert_eq!(
            open_body(
                Spool::from(&ct),
                CSV,
                Encryption::Required,
                &id,
                100,
                dir.path()
            )
            .unwrap_err(),
            FileError::NotEncrypted
        );
    }

    #[test]
    fn envelopes_that_do_not_open_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let id = age::x25519::Identity::generate();
        let other = age::x25519::Identity::generate();
        let ct = encrypt(&[b'a'; 5_000], &[id.to_public()], false);
        let open = |ct: &[u8], id: &age::x25519::Identity, limit: usize| {
            open_body(
                Spool::from(ct),
                envelope::MEDIA_TYPE,
                Encryption::Required,
                id,
                limit,
                dir.path(),
            )
            .unwrap_err()
        };
        assert!(matches!(
            open(&ct, &other, 1 << 20),
            FileError::Envelope(OpenError::Decrypt(_))
        ));
        assert_eq!(
            open(&ct[..ct.len() - 10], &id, 1 << 20),
            FileError::Envelope(OpenError::Damaged)
        );
        assert_eq!(
            open(&ct, &id, 1_000),
            FileError::Envelope(OpenError::TooLarge(1_000))
        );
    }
}
