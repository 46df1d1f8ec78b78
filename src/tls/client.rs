//! Client side (partner tooling): trust only the gateway's CA, present the partner certificate.

use crate::tls::{ALPN_HTTP11, PROTOCOL_VERSIONS, TlsError};

/// Builds a TLS client configuration that trusts only the CA(s) in `ca_pem` (no system roots)
/// and presents the client certificate chain `cert_pem` with key `key_pem` when both are given.
///
/// Ring provider, TLS 1.3 and 1.2 with forward-secret AEAD suites, ALPN `http/1.1`.
/// Suitable for `reqwest::ClientBuilder::use_preconfigured_tls`.
pub fn client_config(
    ca_pem: &[u8],
    cert_pem: Option<&[u8]>,
    key_pem: Option<&[u8]>,
) -> Result<rustls::ClientConfig, TlsError> {
    client_config_with_versions(ca_pem, cert_pem, key_pem, PROTOCOL_VERSIONS)
}

/// As [`client_config`], restricted to the given protocol versions (tests use TLS 1.2 only).
pub(crate) fn client_config_with_versions(
    ca_pem: &[u8],
    cert_pem: Option<&[u8]>,
    key_pem: Option<&[u8]>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Result<rustls::ClientConfig, TlsError> {
    let roots = crate::tls::load_roots(ca_pem, "gateway CA certificate")?;
    let builder = rustls::ClientConfig::builder_with_provider(crate::tls::provider_arc())
        .with_protocol_versions(versions)
        .map_err(|source| TlsError::Rustls {
            what: "protocol versions",
            source,
        })?
        .with_root_certificates(roots);
    let mut config = match (cert_pem, key_pem) {
        (Some(cert), Some(key)) => {
            let chain = crate::tls::load_certs(cert, "client certificate")?;
            let key = crate::tls::load_key(key, "client private key")?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|source| TlsError::Rustls {
                    what: "client certificate and key (do they match?)",
                    source,
                })?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => return Err(TlsError::IncompleteClientIdentity),
    };
    config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cert_without_key_is_refused() {
        let dir = tempfile::TempDir::new().unwrap();
        crate::tls::devpki::generate(dir.path(), &["caf"]).unwrap();
        let ca = std::fs::read(dir.path().join("ca.crt")).unwrap();
        let cert = std::fs::read(dir.path().join("caf.crt")).unwrap();
        assert!(matches!(
            client_config(&ca, Some(&cert), None),
            Err(TlsError::IncompleteClientIdentity)
        ));
        let config = client_config(&ca, None, None).unwrap();
        assert_eq!(config.alpn_protocols, vec![ALPN_HTTP11.to_vec()]);
        assert!(matches!(
            client_config(b"garbage", None, None),
            Err(TlsError::Missing { .. })
        ));
    }
}
