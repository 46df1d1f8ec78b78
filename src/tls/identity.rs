//! The identity of a verified peer certificate, and whether it names one
//! partner without ambiguity.

use sha2::Digest;

use crate::tls::TlsError;

/// What the gateway knows about a verified client certificate.
///
/// Identify partners by `sha256` (or `issuer` + `serial`), not by `common_name` alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerIdentity {
    /// The subject's common name when it holds exactly one (in `certs-example/`,
    /// the partner id); `None` when it holds none or several (see `ambiguous`).
    pub common_name: Option<String>,
    /// Why the certificate cannot name one partner, if so: such a peer is
    /// refused (a `/CN=dpo/CN=intrus` certificate must not pass for `dpo`).
    pub ambiguous: Option<AmbiguousIdentity>,
    /// Lowercase hex of the SHA-256 of the certificate's DER (64 characters).
    pub sha256: String,
    /// The serial number, lowercase hex of its DER content bytes.
    pub serial: String,
    /// The issuer's distinguished name (RFC 4514-like string).
    pub issuer: String,
    /// End of validity.
    pub not_after: time::OffsetDateTime,
}

/// A certificate whose subject repeats an attribute the partner lookup reads
/// (`config::Partners::by_certificate`: the common name): which value is
/// "the" identity would depend on the reader, so none is taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "ambiguous certificate identity: the subject holds {count} {attribute} attributes, a partner certificate holds at most one"
)]
pub struct AmbiguousIdentity {
    /// The repeated attribute (`"common name"`).
    pub attribute: &'static str,
    /// How many times the subject holds it.
    pub count: usize,
}

impl PeerIdentity {
    /// `Err` when the certificate's identity is ambiguous (see [`AmbiguousIdentity`]).
    pub fn check_unambiguous(&self) -> Result<(), AmbiguousIdentity> {
        self.ambiguous.clone().map_or(Ok(()), Err)
    }

    /// Parses a DER-encoded X.509 certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, TlsError> {
        let (rest, cert) =
            x509_parser::parse_x509_certificate(der).map_err(|e| TlsError::InvalidCertificate {
                what: "peer certificate",
                reason: format!("not a DER X.509 certificate: {e}"),
            })?;
        if !rest.is_empty() {
            return Err(TlsError::InvalidCertificate {
                what: "peer certificate",
                reason: "trailing bytes after the certificate".into(),
            });
        }
        let cns: Vec<_> = cert.subject().iter_common_name().collect();
        let (common_name, ambiguous) = match cns.as_slice() {
            [] => (None, None),
            [cn] => (
                Some(
                    cn.as_str()
                        .map_err(|e| TlsError::InvalidCertificate {
                            what: "peer certificate",
                            reason: format!("unreadable common name: {e}"),
                        })?
                        .to_owned(),
                ),
                None,
            ),
            several => (
                None,
                Some(AmbiguousIdentity {
                    attribute: "common name",
                    count: several.len(),
                }),
            ),
        };
        Ok(Self {
            common_name,
            ambiguous,
            sha256: hex::encode(sha2::Sha256::digest(der)),
            serial: hex::encode(cert.tbs_certificate.raw_serial()),
            issuer: cert.issuer().to_string(),
            not_after: cert.validity().not_after.to_datetime(),
        })
    }
}

#[cfg(test)]
mod tests {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    use super::*;

    #[test]
    fn identity_of_a_partner_certificate() {
        let dir = tempfile::TempDir::new().unwrap();
        crate::tls::devpki::generate(dir.path(), &["caf"]).unwrap();
        let pem = std::fs::read(dir.path().join("caf.crt")).unwrap();
        let der = CertificateDer::from_pem_slice(&pem).unwrap();
        let id = PeerIdentity::from_der(&der).unwrap();
        assert_eq!(id.common_name.as_deref(), Some("caf"));
        assert_eq!(id.sha256.len(), 64);
        assert_eq!(id.serial.len(), 32, "16-byte serial: {}", id.serial);
        assert!(id.issuer.contains("passerelle development CA"));
        let years = (id.not_after - time::OffsetDateTime::now_utc()).whole_days() / 365;
        assert!((9..=10).contains(&years));
        assert!(PeerIdentity::from_der(b"not a certificate").is_err());
        assert_eq!(id.ambiguous, None);
        assert_eq!(id.check_unambiguous(), Ok(()));
    }

    #[test]
    fn two_common_names_are_ambiguous_and_neither_is_taken() {
        let dir = tempfile::TempDir::new().unwrap();
        crate::tls::devpki::generate(dir.path(), &["dpo"]).unwrap();
        let ca = std::fs::read_to_string(dir.path().join("ca.crt")).unwrap();
        let key = std::fs::read_to_string(dir.path().join("ca.key")).unwrap();
        let (pem, _) =
            crate::tls::devpki::make_client_cert_with_two_cns(&ca, &key, "dpo", "intrus").unwrap();
        let der = CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
        // The certificate really holds both names, in this order.
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        let names: Vec<_> = cert
            .subject()
            .iter_common_name()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["dpo", "intrus"]);

        let id = PeerIdentity::from_der(&der).unwrap();
        assert_eq!(id.common_name, None, "an ambiguous subject names no one");
        let expected = AmbiguousIdentity {
            attribute: "common name",
            count: 2,
        };
        assert_eq!(id.ambiguous.as_ref(), Some(&expected));
        assert_eq!(id.check_unambiguous(), Err(expected));
        assert_eq!(id.sha256.len(), 64);
    }
}
