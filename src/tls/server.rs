//! Server side: mandatory client certificates checked against the partner CA and CRLs.

use std::sync::Arc;

use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::CertificateRevocationListDer;
use rustls_pki_types::pem::PemObject;

use crate::tls::{ALPN_HTTP11, PROTOCOL_VERSIONS, PeerIdentity, TlsError};

/// Builds the gateway's TLS server configuration.
///
/// - `ca_pem`: the partner CA certificate(s); client certificates must chain to it;
/// - `cert_pem`: the server certificate chain (leaf first, intermediates after);
/// - `key_pem`: the server private key;
/// - `crl_pems`: CRL files (each may hold several CRLs). Revocation is enforced, and an
///   expired CRL fails closed: every client is then refused until a fresh CRL is loaded.
///
/// Client certificates are mandatory; TLS 1.3 and 1.2 with forward-secret AEAD suites only;
/// ALPN `http/1.1`.
pub fn server_config(
    ca_pem: &[u8],
    cert_pem: &[u8],
    key_pem: &[u8],
    crl_pems: &[Vec<u8>],
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    build(ca_pem, cert_pem, key_pem, crl_pems, false)
}

/// The console's TLS configuration: as [`server_config`], except that a
/// client certificate is requested, not required (a browser without a
/// personal certificate reaches the sign-in page). One that is presented
/// is verified as strictly: chained to the partner CA, not revoked.
pub fn console_server_config(
    ca_pem: &[u8],
    cert_pem: &[u8],
    key_pem: &[u8],
    crl_pems: &[Vec<u8>],
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    build(ca_pem, cert_pem, key_pem, crl_pems, true)
}

fn build(
    ca_pem: &[u8],
    cert_pem: &[u8],
    key_pem: &[u8],
    crl_pems: &[Vec<u8>],
    optional_client: bool,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let provider = crate::tls::provider_arc();
    let roots = crate::tls::load_roots(ca_pem, "partner CA certificate")?;

    let mut crls: Vec<CertificateRevocationListDer<'static>> = Vec::new();
    for pem in crl_pems {
        let before = crls.len();
        for crl in CertificateRevocationListDer::pem_slice_iter(pem) {
            crls.push(crl.map_err(|source| TlsError::Pem {
                what: "certificate revocation list",
                source,
            })?);
        }
        if crls.len() == before {
            return Err(TlsError::Missing {
                what: "certificate revocation list",
                marker: "X509 CRL",
            });
        }
    }

    let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .with_crls(crls)
        .enforce_revocation_expiration();
    let verifier = if optional_client {
        builder.allow_unauthenticated().build()?
    } else {
        builder.build()?
    };

    let chain = crate::tls::load_certs(cert_pem, "server certificate")?;
    let key = crate::tls::load_key(key_pem, "server private key")?;

    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(PROTOCOL_VERSIONS)
        .map_err(|source| TlsError::Rustls {
            what: "protocol versions",
            source,
        })?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|source| TlsError::Rustls {
            what: "server certificate and key (do they match?)",
            source,
        })?;
    config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
    Ok(Arc::new(config))
}

/// The verified client certificate (leaf) of an accepted TLS connection.
///
/// Always `Some` after a successful handshake with a configuration from [`server_config`],
/// since client certificates are mandatory.
pub fn peer_certificate<IO>(
    stream: &tokio_rustls::server::TlsStream<IO>,
) -> Option<&CertificateDer<'static>> {
    stream.get_ref().1.peer_certificates()?.first()
}

/// The identity of the verified client certificate of an accepted TLS connection.
///
/// `None` when the peer presented no certificate (impossible with [`server_config`]).
pub fn peer_identity<IO>(
    stream: &tokio_rustls::server::TlsStream<IO>,
) -> Option<Result<PeerIdentity, TlsError>> {
    peer_certificate(stream).map(|der| PeerIdentity::from_der(der))
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use rustls_pki_types::ServerName;
    use sha2::Digest;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio_rustls::{TlsAcceptor, TlsConnector};

    use super::*;
    use crate::tls::devpki;

    const TIMEOUT: Duration = Duration::from_secs(10);

    fn read(dir: &Path, name: &str) -> Vec<u8> {
        std::fs::read(dir.join(name)).unwrap()
    }

    fn pki() -> (tempfile::TempDir, devpki::DevPki) {
        let dir = tempfile::TempDir::new().unwrap();
        let pki = devpki::generate(dir.path(), &["caf", "ddets"]).unwrap();
        (dir, pki)
    }

    fn default_server(dir: &Path) -> Arc<rustls::ServerConfig> {
        server_config(
            &read(dir, "ca.crt"),
            &read(dir, "server.crt"),
            &read(dir, "server.key"),
            &[read(dir, "crl.pem")],
        )
        .unwrap()
    }

    /// Outcome of one connection, as seen by the server.
    type ServerOutcome = Result<(PeerIdentity, Option<Vec<u8>>), String>;

    /// Accepts one connection, handshakes, reports the client's identity (or the error),
    /// then echoes one byte so the client can check the channel works.
    async fn spawn_server(
        config: Arc<rustls::ServerConfig>,
    ) -> (std::net::SocketAddr, tokio::task::JoinHandle<ServerOutcome>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let handle = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.map_err(|e| e.to_string())?;
            let acceptor = TlsAcceptor::from(config);
            let mut tls = tokio::time::timeout(TIMEOUT, acceptor.accept(tcp))
                .await
                .map_err(|_| "handshake timeout".to_string())?
                .map_err(|e| e.to_string())?;
            let identity = peer_identity(&tls)
                .ok_or_else(|| "no peer certificate".to_string())?
                .map_err(|e| e.to_string())?;
            let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
            let mut byte = [0u8; 1];
            tls.read_exact(&mut byte).await.map_err(|e| e.to_string())?;
            tls.write_all(&byte).await.map_err(|e| e.to_string())?;
            tls.flush().await.map_err(|e| e.to_string())?;
            let _ = tls.shutdown().await;
            Ok((identity, alpn))
        });
        (addr, handle)
    }

    /// Connects, handshakes, writes one byte and reads it back. `Ok(())` only if the whole
    /// exchange worked.
    async fn run_client(
        addr: std::net::SocketAddr,
        config: rustls::ClientConfig,
        server_name: &str,
    ) -> Result<(), String> {
        let connector = TlsConnector::from(Arc::new(config));
        let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let name = ServerName::try_from(server_name.to_string()).map_err(|e| e.to_string())?;
        let mut tls = tokio::time::timeout(TIMEOUT, connector.connect(name, tcp))
            .await
            .map_err(|_| "client handshake timeout".to_string())?
            .map_err(|e| format!("handshake: {e}"))?;
        tls.write_all(b"x")
            .await
            .map_err(|e| format!("write: {e}"))?;
        tls.flush().await.map_err(|e| format!("flush: {e}"))?;
        let mut byte = [0u8; 1];
        match tokio::time::timeout(TIMEOUT, tls.read(&mut byte)).await {
            Err(_) => Err("client read timeout".into()),
            Ok(Err(e)) => Err(format!("read: {e}")),
            Ok(Ok(0)) => Err("connection closed (certificate probably refused)".into()),
            Ok(Ok(_)) if byte == *b"x" => Ok(()),
            Ok(Ok(_)) => Err("unexpected echo".into()),
        }
    }

    fn partner_client(dir: &Path, id: &str) -> rustls::ClientConfig {
        crate::tls::client_config(
            &read(dir, "ca.crt"),
            Some(&read(dir, &format!("{id}.crt"))),
            Some(&read(dir, &format!("{id}.key"))),
        )
        .unwrap()
    }

    /// Runs one connection that must be refused; the server's error must mention `reason`.
    async fn expect_refused(
        server: Arc<rustls::ServerConfig>,
        client: rustls::ClientConfig,
        reason: &str,
    ) {
        let (addr, handle) = spawn_server(server).await;
        let client_result = run_client(addr, client, "localhost").await;
        let server_result = handle.await.unwrap();
        assert!(
            client_result.is_err(),
            "client should have failed, server said {server_result:?}"
        );
        let server_error = server_result.expect_err("server should have refused");
        assert!(
            server_error.contains(reason),
            "server refused for another reason: {server_error} (client: {client_result:?})"
        );
    }

    #[tokio::test]
    async fn partner_certificate_is_accepted_for_localhost_and_loopback_ip() {
        let (dir, _pki) = pki();
        let der = {
            let pem = read(dir.path(), "caf.crt");
            CertificateDer::from_pem_slice(&pem).unwrap()
        };
        let expected_fp = hex::encode(sha2::Sha256::digest(der.as_ref()));
        for name in ["127.0.0.1", "localhost"] {
            let (addr, handle) = spawn_server(default_server(dir.path())).await;
            run_client(addr, partner_client(dir.path(), "caf"), name)
                .await
                .unwrap();
            let (identity, alpn) = handle.await.unwrap().unwrap();
            assert_eq!(identity.common_name.as_deref(), Some("caf"));
            assert_eq!(identity.sha256.len(), 64);
            assert!(
                identity
                    .sha256
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            );
            assert_eq!(identity.sha256, expected_fp);
            assert!(identity.issuer.contains("passerelle development CA"));
            assert_eq!(alpn.as_deref(), Some(ALPN_HTTP11));
        }
    }

    #[tokio::test]
    async fn server_name_mismatch_is_refused_by_the_client() {
        let (dir, _pki) = pki();
        let (addr, handle) = spawn_server(default_server(dir.path())).await;
        let result = run_client(addr, partner_client(dir.path(), "caf"), "gateway.example").await;
        assert!(result.is_err());
        assert!(handle.await.unwrap().is_err());
    }

    #[tokio::test]
    async fn no_client_certificate_is_refused() {
        let (dir, _pki) = pki();
        let client = crate::tls::client_config(&read(dir.path(), "ca.crt"), None, None).unwrap();
        expect_refused(
            default_server(dir.path()),
            client,
            "peer sent no certificates",
        )
        .await;
    }

    #[tokio::test]
    async fn foreign_ca_certificate_with_partner_cn_is_refused() {
        let (dir, _pki) = pki();
        let (_foreign_ca, cert, key) = devpki::make_foreign_ca_client("caf").unwrap();
        let client = crate::tls::client_config(
            &read(dir.path(), "ca.crt"),
            Some(cert.as_bytes()),
            Some(key.as_bytes()),
        )
        .unwrap();
        expect_refused(default_server(dir.path()), client, "UnknownIssuer").await;
    }

    #[tokio::test]
    async fn revoked_certificate_is_refused() {
        let (dir, _pki) = pki();
        expect_refused(
            default_server(dir.path()),
            partner_client(dir.path(), "revoked"),
            "Revoked",
        )
        .await;
    }

    #[tokio::test]
    async fn expired_crl_fails_closed() {
        let (dir, _pki) = pki();
        let now = time::OffsetDateTime::now_utc();
        let crl = devpki::make_crl(
            &String::from_utf8(read(dir.path(), "ca.crt")).unwrap(),
            &String::from_utf8(read(dir.path(), "ca.key")).unwrap(),
            &[],
            now - time::Duration::days(30),
            now - time::Duration::days(1),
        )
        .unwrap();
        let server = server_config(
            &read(dir.path(), "ca.crt"),
            &read(dir.path(), "server.crt"),
            &read(dir.path(), "server.key"),
            &[crl.into_bytes()],
        )
        .unwrap();
        expect_refused(
            server,
            partner_client(dir.path(), "caf"),
            "revocation list expired",
        )
        .await;
    }

    #[tokio::test]
    async fn fresh_crl_from_make_crl_accepts_partner() {
        let (dir, _pki) = pki();
        let now = time::OffsetDateTime::now_utc();
        let crl = devpki::make_crl(
            &String::from_utf8(read(dir.path(), "ca.crt")).unwrap(),
            &String::from_utf8(read(dir.path(), "ca.key")).unwrap(),
            &[],
            now - time::Duration::minutes(1),
            now + time::Duration::days(1),
        )
        .unwrap();
        let server = server_config(
            &read(dir.path(), "ca.crt"),
            &read(dir.path(), "server.crt"),
            &read(dir.path(), "server.key"),
            &[crl.into_bytes()],
        )
        .unwrap();
        let (addr, handle) = spawn_server(server).await;
        run_client(addr, partner_client(dir.path(), "caf"), "localhost")
            .await
            .unwrap();
        handle.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn intruder_certificate_handshakes() {
        let (dir, _pki) = pki();
        let (addr, handle) = spawn_server(default_server(dir.path())).await;
        run_client(addr, partner_client(dir.path(), "intrus"), "localhost")
            .await
            .unwrap();
        let (identity, _) = handle.await.unwrap().unwrap();
        assert_eq!(identity.common_name.as_deref(), Some("intrus"));
    }

    #[tokio::test]
    async fn client_cert_made_by_make_client_cert_is_accepted() {
        let (dir, _pki) = pki();
        let (cert, key) = devpki::make_client_cert(
            &String::from_utf8(read(dir.path(), "ca.crt")).unwrap(),
            &String::from_utf8(read(dir.path(), "ca.key")).unwrap(),
            "mdsf",
        )
        .unwrap();
        let client = crate::tls::client_config(
            &read(dir.path(), "ca.crt"),
            Some(cert.as_bytes()),
            Some(key.as_bytes()),
        )
        .unwrap();
        let (addr, handle) = spawn_server(default_server(dir.path())).await;
        run_client(addr, client, "localhost").await.unwrap();
        let (identity, _) = handle.await.unwrap().unwrap();
        assert_eq!(identity.common_name.as_deref(), Some("mdsf"));
    }

    #[tokio::test]
    async fn tls12_only_client_negotiates_forward_secret_aead() {
        let (dir, _pki) = pki();
        let client = crate::tls::client::client_config_with_versions(
            &read(dir.path(), "ca.crt"),
            Some(&read(dir.path(), "caf.crt")),
            Some(&read(dir.path(), "caf.key")),
            &[&rustls::version::TLS12],
        )
        .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = default_server(dir.path());
        let handle = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut tls = TlsAcceptor::from(server).accept(tcp).await.unwrap();
            let conn = tls.get_ref().1;
            let version = conn.protocol_version();
            let suite = conn.negotiated_cipher_suite().unwrap().suite();
            let identity = peer_identity(&tls).unwrap().unwrap();
            let mut byte = [0u8; 1];
            tls.read_exact(&mut byte).await.unwrap();
            tls.write_all(&byte).await.unwrap();
            tls.flush().await.unwrap();
            (version, suite, identity)
        });
        run_client(addr, client, "localhost").await.unwrap();
        let (version, suite, identity) = handle.await.unwrap();
        assert_eq!(version, Some(rustls::ProtocolVersion::TLSv1_2));
        let name = format!("{suite:?}");
        assert!(name.starts_with("TLS_ECDHE_"), "{name}");
        assert!(
            name.contains("_GCM_") || name.contains("CHACHA20_POLY1305"),
            "{name}"
        );
        assert_eq!(identity.common_name.as_deref(), Some("caf"));
    }

    #[tokio::test]
    async fn bad_inputs_are_reported() {
        let (dir, _pki) = pki();
        let ca = read(dir.path(), "ca.crt");
        let cert = read(dir.path(), "server.crt");
        let key = read(dir.path(), "server.key");
        assert!(matches!(
            server_config(b"", &cert, &key, &[]),
            Err(TlsError::Missing { .. })
        ));
        assert!(matches!(
            server_config(&ca, &cert, b"nothing", &[]),
            Err(TlsError::Missing { .. })
        ));
        assert!(matches!(
            server_config(&ca, &cert, &key, &[b"not a crl".to_vec()]),
            Err(TlsError::Missing { .. })
        ));
        // The key of another certificate does not match the server certificate.
        let other_key = read(dir.path(), "caf.key");
        assert!(server_config(&ca, &cert, &other_key, &[]).is_err());
        // A server chain may hold several certificates.
        let mut chain = cert.clone();
        chain.extend_from_slice(&ca);
        server_config(&ca, &chain, &key, &[]).unwrap();
    }
}
