//! Mutual TLS for the gateway: server and client configurations (ring provider only),
//! the verified peer's identity, and the development PKI (`certs-example/`).
//!
//! Partners authenticate with client certificates chained to the configured partner CA.
//! A certificate that does not chain, is revoked, or is checked against an expired CRL is
//! refused at the handshake; authorisation (which partner, which roles) is the HTTP layer's job.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;

pub mod client;
pub mod devpki;
pub mod identity;
pub mod server;

pub use client::client_config;
pub use devpki::{
    DevPartner, DevPki, make_client_cert, make_client_cert_with_two_cns, make_crl,
    make_foreign_ca_client, make_leaf_cert,
};
pub use identity::{AmbiguousIdentity, PeerIdentity};
pub use server::{console_server_config, peer_certificate, peer_identity, server_config};

/// The only ALPN protocol spoken by the gateway.
pub const ALPN_HTTP11: &[u8] = b"http/1.1";

/// Errors raised while loading TLS material, building TLS configurations or generating
/// the development PKI.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM input could not be decoded.
    #[error(
        "cannot read the {what} (PEM): {source}; check that the file holds a PEM-encoded {what}"
    )]
    Pem {
        /// Which input was being read (e.g. "CA certificate", "server private key").
        what: &'static str,
        /// The underlying PEM decoding error.
        #[source]
        source: rustls_pki_types::pem::Error,
    },

    /// A PEM input decoded fine but held no item of the expected kind.
    #[error("the {what} file holds no {what}; expected a \"-----BEGIN {marker}-----\" section")]
    Missing {
        /// Which input was empty (e.g. "CA certificate").
        what: &'static str,
        /// The PEM marker that was expected.
        marker: &'static str,
    },

    /// A client certificate was given without its private key, or the reverse.
    #[error("client certificate and client key go together: give both (cert and key) or neither")]
    IncompleteClientIdentity,

    /// A certificate could not be parsed as X.509, or lacks something required.
    #[error("invalid {what}: {reason}")]
    InvalidCertificate {
        /// Which certificate (e.g. "peer certificate", "CA certificate").
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },

    /// rustls refused the configuration (unsupported key, certificate/key mismatch, …).
    #[error("TLS configuration refused ({what}): {source}")]
    Rustls {
        /// Which step failed.
        what: &'static str,
        /// The rustls error.
        #[source]
        source: rustls::Error,
    },

    /// The client certificate verifier could not be built (bad CA certificate or CRL).
    #[error(
        "cannot build the client certificate verifier: {0}; check the partner CA certificate and the CRL files"
    )]
    Verifier(#[from] rustls::server::VerifierBuilderError),

    /// Certificate, key or CRL generation failed (development PKI).
    #[error("certificate generation failed ({what}): {source}")]
    Generate {
        /// What was being generated or loaded.
        what: &'static str,
        /// The rcgen error.
        #[source]
        source: rcgen::Error,
    },

    /// A person's `.p12` bundle could not be written (development PKI).
    #[error("cannot write the PKCS#12 bundle of {who}: {reason}")]
    Pkcs12 {
        /// The person.
        who: String,
        /// Why.
        reason: String,
    },

    /// A partner id cannot be used as a file name in the development PKI.
    #[error(
        "invalid partner id {id:?}: use lowercase letters, digits, '-' or '_' (not starting with '-'), and not a reserved name (ca, server, gateway, revoked, intrus, crl)"
    )]
    InvalidPartnerId {
        /// The refused id.
        id: String,
    },

    /// The development PKI is configured on a gateway marked `production`.
    #[error(
        "{} is the development PKI (its CA is \"{}\"): refused because `production = true`; fix: give the partner CA, server certificate and key of your real PKI in [tls]",
        path.display(),
        devpki::DEV_CA_CN
    )]
    DevelopmentPki {
        /// The file carrying the development CA's mark.
        path: PathBuf,
    },

    /// A CRL whose nextUpdate has passed: every client would be refused.
    #[error(
        "{}: the CRL is stale (its nextUpdate, {next_update}, has passed): every client certificate would be refused; fix: fetch the partner CA's current CRL",
        path.display()
    )]
    StaleCrl {
        /// The CRL file.
        path: PathBuf,
        /// Its nextUpdate.
        next_update: String,
    },

    /// Reading or writing a file of the development PKI failed.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Whether a PEM buffer holds a certificate of the development PKI: one
/// whose subject or issuer is the development CA ([`devpki::DEV_CA_CN`],
/// the mark `passerelle dev-certs` puts in its CA's subject), whatever
/// the file is called.
pub fn is_development_pki(pem: &[u8]) -> bool {
    use rustls_pki_types::pem::PemObject;
    rustls_pki_types::CertificateDer::pem_slice_iter(pem)
        .filter_map(Result::ok)
        .any(|der| {
            x509_parser::parse_x509_certificate(&der).is_ok_and(|(_, cert)| {
                [cert.subject(), cert.issuer()].iter().any(|name| {
                    name.iter_common_name()
                        .any(|cn| cn.as_str().is_ok_and(|s| s == devpki::DEV_CA_CN))
                })
            })
        })
}

/// The CRLs of a PEM file whose nextUpdate has passed, as
/// [`TlsError::StaleCrl`] (none for a CRL without nextUpdate).
pub fn stale_crls(path: &std::path::Path, pem: &[u8]) -> Vec<TlsError> {
    use rustls_pki_types::pem::PemObject;
    let now = x509_parser::time::ASN1Time::now();
    rustls_pki_types::CertificateRevocationListDer::pem_slice_iter(pem)
        .filter_map(Result::ok)
        .filter_map(|der| {
            let (_, crl) = x509_parser::parse_x509_crl(&der).ok()?;
            let next = crl.next_update()?;
            (next < now).then(|| TlsError::StaleCrl {
                path: path.to_path_buf(),
                next_update: next.to_string(),
            })
        })
        .collect()
}

/// The ring crypto provider restricted to forward-secret AEAD suites:
/// TLS 1.3 AES-128/256-GCM and ChaCha20-Poly1305; TLS 1.2 ECDHE-ECDSA/ECDHE-RSA with
/// AES-GCM or ChaCha20-Poly1305.
pub fn crypto_provider() -> CryptoProvider {
    use rustls::crypto::ring::cipher_suite as cs;
    CryptoProvider {
        cipher_suites: vec![
            cs::TLS13_AES_256_GCM_SHA384,
            cs::TLS13_AES_128_GCM_SHA256,
            cs::TLS13_CHACHA20_POLY1305_SHA256,
            cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        ],
        ..rustls::crypto::ring::default_provider()
    }
}

/// The protocol versions the gateway accepts: TLS 1.3 and TLS 1.2.
pub(crate) static PROTOCOL_VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// Installs the (restricted) ring provider as the process-wide default rustls provider.
///
/// Idempotent: if a provider is already installed, it is left in place.
pub fn install_crypto_provider() {
    // `install_default` fails only when a provider is already installed: nothing to do then.
    let _ = crypto_provider().install_default();
}

pub(crate) fn provider_arc() -> Arc<CryptoProvider> {
    Arc::new(crypto_provider())
}

/// Reads every certificate of a PEM buffer; at least one is required.
pub(crate) fn load_certs(
    pem: &[u8],
    what: &'static str,
) -> Result<Vec<rustls_pki_types::CertificateDer<'static>>, TlsError> {
    use rustls_pki_types::pem::PemObject;
    let certs = rustls_pki_types::CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::Pem { what, source })?;
    if certs.is_empty() {
        return Err(TlsError::Missing {
            what,
            marker: "CERTIFICATE",
        });
    }
    Ok(certs)
}

/// Reads the private key of a PEM buffer (PKCS#8, SEC1 or PKCS#1).
pub(crate) fn load_key(
    pem: &[u8],
    what: &'static str,
) -> Result<rustls_pki_types::PrivateKeyDer<'static>, TlsError> {
    use rustls_pki_types::pem::PemObject;
    rustls_pki_types::PrivateKeyDer::from_pem_slice(pem).map_err(|source| match source {
        rustls_pki_types::pem::Error::NoItemsFound => TlsError::Missing {
            what,
            marker: "PRIVATE KEY",
        },
        source => TlsError::Pem { what, source },
    })
}

/// Builds a root store holding only the CA certificate(s) of `ca_pem`.
pub(crate) fn load_roots(
    ca_pem: &[u8],
    what: &'static str,
) -> Result<rustls::RootCertStore, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in load_certs(ca_pem, what)? {
        roots
            .add(cert)
            .map_err(|source| TlsError::Rustls { what, source })?;
    }
    Ok(roots)
}
