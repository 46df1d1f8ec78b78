//! The identity of a verified peer certificate.

use sha2::Digest;

use crate::tls::TlsError;

/// What the gateway knows about a verified client certificate.
///
/// Identify partners by `sha256` (or `issuer` + `serial`), not by `common_name` alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerIdentity {
    /// The subject's first common name, if any (in `certs-example/`, the partner id).
    pub common_name: Option<String>,
    /// Lowercase hex of the SHA-256 of the certificate's DER (64 characters).
    pub sha256: String,
    /// The serial number, lowercase hex of its DER content bytes.
    pub serial: String,
    /// The issuer's distinguished name (RFC 4514-like string).
    pub issuer: String,
    /// End of validity.
    pub not_after: time::OffsetDateTime,
}

impl PeerIdentity {
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
        let common_name = match cert.subject().iter_common_name().next() {
            None => None,
            Some(cn) => Some(
                cn.as_str()
                    .map_err(|e| TlsError::InvalidCertificate {
                        what: "peer certificate",
                        reason: format!("unreadable common name: {e}"),
                    })?
                    .to_owned(),
            ),
        };
        Ok(Self {
            common_name,
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
    }
}
