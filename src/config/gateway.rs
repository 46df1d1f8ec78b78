//! `passerelle.toml`: where the gateway listens, stores, finds its TLS
//! material and key files, and its limits.

use super::{ConfigError, read_toml, resolve};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGateway {
    server: ServerSettings,
    storage: RawStorage,
    tls: RawTls,
    #[serde(default)]
    keys: RawKeys,
    #[serde(default)]
    limits: Limits,
    #[serde(default)]
    audit: AuditSettings,
    partners: PathBuf,
    policy: PathBuf,
    #[serde(default)]
    people: Option<PathBuf>,
    #[serde(default)]
    console: ConsoleSettings,
    #[serde(default)]
    register: RegisterSettings,
}

/// `[register]`: what the art. 30 record states that the other files
/// cannot (the controller, the legal basis).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegisterSettings {
    /// The controller named in the record; `None`: the CLI's `--controller`
    /// or [`crate::register::DEFAULT_CONTROLLER`].
    pub controller: Option<String>,
    /// The legal basis of the processing (GDPR art. 6 and 9), as the
    /// controller words it; `None`: the record says it is to be added.
    pub legal_basis: Option<String>,
}

/// The console: the people's pages (docs/convention.md "The console").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleSettings {
    /// Address and port of the console's HTTPS listener (the gateway's
    /// server certificate; a client certificate is requested, not
    /// required); `None`: no console.
    pub listen: Option<SocketAddr>,
    /// Minutes a session may stay unused before it ends.
    pub session_idle_minutes: u64,
    /// Sign-in through an OpenID Connect provider (ProConnect in
    /// production); `None`: personal certificates only.
    pub oidc: Option<OidcSettings>,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        ConsoleSettings {
            listen: None,
            session_idle_minutes: 30,
            oidc: None,
        }
    }
}

/// `[console.oidc]`: the provider the console sends people to
/// (authorization code flow with PKCE and `nonce`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSettings {
    /// The issuer (its discovery document is
    /// `<issuer>/.well-known/openid-configuration`). HTTPS; plain HTTP
    /// only on a loopback address (a provider on the same host, tests).
    pub issuer: String,
    /// The client id the provider gave the gateway.
    pub client_id: String,
    /// The file holding the client secret (one line; never in the
    /// repository).
    pub client_secret_file: PathBuf,
    /// Where the provider sends the browser back: the console's address as
    /// people reach it, ending in `/connexion/retour`. Default: the
    /// console's listening address (`https://<listen>/connexion/retour`),
    /// which needs a `listen` on a definite address.
    #[serde(default)]
    pub redirect_url: Option<String>,
    /// The CA certificates (PEM) that vouch for the provider's HTTPS.
    /// Default: the system's bundle, `/etc/ssl/certs/ca-certificates.crt`.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// The provider's name on the sign-in button.
    #[serde(default = "default_oidc_name")]
    pub name: String,
}

fn default_oidc_name() -> String {
    "ProConnect".into()
}

/// The system's CA bundle (Debian, Ubuntu), trusted for the provider's
/// HTTPS when `ca_file` is not given.
pub const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

impl OidcSettings {
    /// Where the provider sends the browser back, given the console's
    /// listening address.
    pub fn redirect_url_for(&self, listen: Option<SocketAddr>) -> Option<String> {
        match (&self.redirect_url, listen) {
            (Some(u), _) => Some(u.clone()),
            (None, Some(a)) if !a.ip().is_unspecified() => {
                Some(format!("https://{a}/connexion/retour"))
            }
            _ => None,
        }
    }

    /// What is wrong with these settings, as `(key, problem, fix)`.
    fn problems(&self, listen: Option<SocketAddr>) -> Vec<(&'static str, String, &'static str)> {
        let mut out = Vec::new();
        match url_host(&self.issuer) {
            Some(("https", _)) => {}
            Some(("http", host)) if is_loopback(host) => {}
            _ => out.push((
                "console.oidc.issuer",
                format!("{:?} is not an https:// address", self.issuer),
                "give the provider's issuer, e.g. https://auth.agentconnect.gouv.fr/api/v2 (plain http only on 127.0.0.1)",
            )),
        }
        if self.client_id.trim().is_empty() {
            out.push((
                "console.oidc.client_id",
                "it is empty".into(),
                "give the client id the provider registered for the gateway",
            ));
        }
        if !self.client_secret_file.is_file() {
            out.push((
                "console.oidc.client_secret_file",
                format!("{} does not exist", self.client_secret_file.display()),
                "point it at a file holding the client secret (relative paths are read from this file's folder)",
            ));
        }
        let ca = self
            .ca_file
            .clone()
            .unwrap_or_else(|| SYSTEM_CA_BUNDLE.into());
        if !ca.is_file() {
            out.push((
                "console.oidc.ca_file",
                format!("{} does not exist", ca.display()),
                "point it at the PEM certificates of the provider's CA (without it, the system's bundle: install ca-certificates)",
            ));
        }
        match self.redirect_url_for(listen) {
            None => out.push((
                "console.oidc.redirect_url",
                "the console's address cannot be told from its listening address".into(),
                "give the address people reach the console at, ending in /connexion/retour",
            )),
            Some(u)
                if !matches!(url_host(&u), Some(("https", _)))
                    || !u.ends_with("/connexion/retour") =>
            {
                out.push((
                    "console.oidc.redirect_url",
                    format!("{u:?} is not an https:// address ending in /connexion/retour"),
                    "give the console's address as people reach it, followed by /connexion/retour",
                ))
            }
            Some(_) => {}
        }
        out
    }
}

/// `(scheme, host)` of an absolute `scheme://host[:port]/…` address.
fn url_host(u: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = u.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    (!host.is_empty()).then_some((scheme, host))
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    data: PathBuf,
    #[serde(default)]
    database_url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    #[serde(default)]
    crl: Vec<PathBuf>,
    #[serde(default = "default_crl_poll")]
    crl_poll_secs: u64,
}

fn default_crl_poll() -> u64 {
    5
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeys {
    age_identity: Option<PathBuf>,
    pseudonymisation_key: Option<PathBuf>,
    audit_signing_key: Option<PathBuf>,
}

/// The audit log's checkpoints.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditSettings {
    /// The log's origin line (and checkpoint key name), unique per gateway.
    pub origin: String,
    /// Seconds between signed checkpoints (also signed on demand and at
    /// shutdown).
    pub checkpoint_interval_secs: u64,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings {
            origin: "passerelle.example/audit".into(),
            checkpoint_interval_secs: 300,
        }
    }
}

/// The listening side.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Address and port of the mTLS listener.
    pub listen: SocketAddr,
    /// Seconds a client has to finish the TLS handshake.
    #[serde(default = "default_handshake_timeout")]
    pub handshake_timeout_secs: u64,
    /// Seconds a client has to send a request's headers.
    #[serde(default = "default_header_timeout")]
    pub header_timeout_secs: u64,
    /// Seconds a whole request may take, body included.
    #[serde(default = "default_request_timeout")]
    pub request_timeout_secs: u64,
    /// Connections served at once; more wait in the kernel's backlog.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// New connections a source address may open per second, sustained
    /// (before authentication: bounds handshake floods).
    #[serde(default = "default_connections_per_ip")]
    pub connections_per_ip_per_second: u32,
    /// New connections a source address may open in a burst.
    #[serde(default = "default_connection_burst")]
    pub connection_burst_per_ip: u32,
    /// Connections a source address may hold open at once, handshakes
    /// included: idle sockets from one address cannot take every slot.
    #[serde(default = "default_connections_open_per_ip")]
    pub max_connections_per_ip: usize,
    /// Seconds a new connection has to send its first byte (the TLS
    /// ClientHello); shorter than the whole handshake's timeout.
    #[serde(default = "default_client_hello_timeout")]
    pub client_hello_timeout_secs: u64,
    /// A production gateway: refuses to start with the development PKI
    /// (`passerelle dev-certs`, `certs-example/`).
    #[serde(default)]
    pub production: bool,
}

fn default_connections_open_per_ip() -> usize {
    32
}
fn default_client_hello_timeout() -> u64 {
    3
}

fn default_connections_per_ip() -> u32 {
    20
}
fn default_connection_burst() -> u32 {
    100
}

fn default_handshake_timeout() -> u64 {
    10
}
fn default_header_timeout() -> u64 {
    10
}
fn default_request_timeout() -> u64 {
    120
}
fn default_max_connections() -> usize {
    256
}

/// Storage: the data folder (SQLite file, generated keys) and the database.
#[derive(Debug, Clone)]
pub struct StorageSettings {
    /// The data folder.
    pub data: PathBuf,
    /// `postgres://…` or `sqlite:…`; `None`: `sqlite:<data>/passerelle.db`.
    pub database_url: Option<String>,
}

impl StorageSettings {
    /// The database URL in force.
    pub fn url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.is_empty() => url.clone(),
            _ => format!(
                "sqlite://{}?mode=rwc",
                self.data.join("passerelle.db").display()
            ),
        }
    }
}

/// Server TLS material (paths resolved).
#[derive(Debug, Clone)]
pub struct TlsSettings {
    /// The partner CA (client certificates are verified against it).
    pub ca: PathBuf,
    /// The server certificate chain.
    pub cert: PathBuf,
    /// The server key.
    pub key: PathBuf,
    /// Certificate revocation lists from the partner CA.
    pub crl: Vec<PathBuf>,
    /// Seconds between two looks at the CRL files (modification time and
    /// size): a CRL that changes is loaded without a signal.
    pub crl_poll_secs: u64,
}

/// Bounds on what a partner may send.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Most data rows in a list or return.
    pub max_rows: usize,
    /// Longest cell, in characters.
    pub max_cell_chars: usize,
    /// Most bytes an XLSX file may decompress to.
    pub max_xlsx_uncompressed_bytes: u64,
    /// Most non-blank cells (and shared strings) an XLSX file may hold:
    /// what bounds the memory reading one takes.
    pub max_xlsx_cells: usize,
    /// Requests a partner may make per minute, sustained.
    pub requests_per_minute: u32,
    /// Requests a partner may make in a burst.
    pub burst: u32,
    /// Refusals before authentication (unknown or ambiguous certificate,
    /// rate exceeded) are audited in full once per certificate, reason and
    /// interval of this many seconds; the others of the interval are
    /// counted into one summary entry.
    pub refused_log_interval_secs: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 64 * 1024 * 1024,
            max_rows: 200_000,
            max_cell_chars: 2_000,
            max_xlsx_uncompressed_bytes: 256 * 1024 * 1024,
            max_xlsx_cells: 3_000_000,
            requests_per_minute: 600,
            burst: 60,
            refused_log_interval_secs: 60,
        }
    }
}

/// `passerelle.toml`, checked, paths resolved against its folder.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// The file it came from.
    pub path: PathBuf,
    /// Listener settings.
    pub server: ServerSettings,
    /// Storage settings.
    pub storage: StorageSettings,
    /// TLS material.
    pub tls: TlsSettings,
    /// The gateway's age identity file; `None`: generated in the data folder.
    pub age_identity: Option<PathBuf>,
    /// The pseudonymisation root key file; `None`: generated in the data folder.
    pub pseudonymisation_key: Option<PathBuf>,
    /// The audit checkpoint signing key (PKCS#8, hex); `None`: generated in
    /// the data folder.
    pub audit_signing_key: Option<PathBuf>,
    /// Checkpoint settings.
    pub audit: AuditSettings,
    /// Limits.
    pub limits: Limits,
    /// `partners.toml`.
    pub partners_file: PathBuf,
    /// `policy.toml`.
    pub policy_file: PathBuf,
    /// `people.toml`, the console's people (none: nobody enters the console).
    pub people_file: Option<PathBuf>,
    /// The console.
    pub console: ConsoleSettings,
    /// The record of processing.
    pub register: RegisterSettings,
}

impl GatewayConfig {
    /// The policy and partner files `passerelle.toml` names, read even
    /// when the rest of it is wrong (so that their problems are reported
    /// too).
    pub(crate) fn named_files(path: &Path) -> Option<(PathBuf, PathBuf)> {
        let text = std::fs::read_to_string(path).ok()?;
        let table: toml::Table = text.parse().ok()?;
        let base = path.parent().unwrap_or(Path::new("."));
        let policy = table.get("policy")?.as_str()?;
        let partners = table.get("partners")?.as_str()?;
        Some((
            resolve(base, Path::new(policy)),
            resolve(base, Path::new(partners)),
        ))
    }

    /// Reads and checks `passerelle.toml`; every problem is reported at
    /// once.
    pub fn load(path: &Path) -> Result<GatewayConfig, ConfigError> {
        let raw: RawGateway = read_toml(path)?;
        let base = path.parent().unwrap_or(Path::new("."));
        let r = |p: &Path| resolve(base, p);
        let mut errors = Vec::new();
        let limits = raw.limits;
        if limits.max_rows == 0 || limits.max_body_bytes == 0 || limits.max_cell_chars == 0 {
            errors.push(ConfigError::invalid(
                path,
                "limits",
                "a limit is zero",
                "give max_rows, max_body_bytes and max_cell_chars positive values",
            ));
        }
        if limits.requests_per_minute == 0 || limits.burst == 0 {
            errors.push(ConfigError::invalid(
                path,
                "limits.requests_per_minute",
                "the rate limit is zero",
                "give requests_per_minute and burst positive values",
            ));
        }
        if limits.refused_log_interval_secs == 0 {
            errors.push(ConfigError::invalid(
                path,
                "limits.refused_log_interval_secs",
                "the interval is zero",
                "give it a positive number of seconds (60 in the example)",
            ));
        }
        let s = &raw.server;
        for (key, zero) in [
            ("server.max_connections", s.max_connections == 0),
            (
                "server.max_connections_per_ip",
                s.max_connections_per_ip == 0,
            ),
            (
                "server.client_hello_timeout_secs",
                s.client_hello_timeout_secs == 0,
            ),
            ("tls.crl_poll_secs", raw.tls.crl_poll_secs == 0),
        ] {
            if zero {
                errors.push(ConfigError::invalid(
                    path,
                    key,
                    "the value is zero",
                    "give it a positive value (see config/passerelle.toml)",
                ));
            }
        }
        let cfg = GatewayConfig {
            path: path.to_path_buf(),
            server: raw.server,
            storage: StorageSettings {
                data: r(&raw.storage.data),
                database_url: raw.storage.database_url.filter(|u| !u.is_empty()),
            },
            tls: TlsSettings {
                ca: r(&raw.tls.ca),
                cert: r(&raw.tls.cert),
                key: r(&raw.tls.key),
                crl: raw.tls.crl.iter().map(|p| r(p)).collect(),
                crl_poll_secs: raw.tls.crl_poll_secs,
            },
            age_identity: raw.keys.age_identity.as_deref().map(r),
            pseudonymisation_key: raw.keys.pseudonymisation_key.as_deref().map(r),
            audit_signing_key: raw.keys.audit_signing_key.as_deref().map(r),
            audit: raw.audit,
            limits,
            partners_file: r(&raw.partners),
            policy_file: r(&raw.policy),
            people_file: raw.people.as_deref().map(r),
            console: ConsoleSettings {
                oidc: raw.console.oidc.map(|o| OidcSettings {
                    client_secret_file: r(&o.client_secret_file),
                    ca_file: o.ca_file.as_deref().map(r),
                    ..o
                }),
                ..raw.console
            },
            register: raw.register,
        };
        if let Some(o) = &cfg.console.oidc {
            for (key, problem, fix) in o.problems(cfg.console.listen) {
                errors.push(ConfigError::invalid(path, key, problem, fix));
            }
        }
        if cfg.console.session_idle_minutes == 0 {
            errors.push(ConfigError::invalid(
                path,
                "console.session_idle_minutes",
                "the value is zero",
                "give it a positive number of minutes (30 in the example)",
            ));
        }
        for (key, file) in [
            ("tls.ca", &cfg.tls.ca),
            ("tls.cert", &cfg.tls.cert),
            ("tls.key", &cfg.tls.key),
        ] {
            if !file.is_file() {
                errors.push(ConfigError::invalid(
                    path,
                    key,
                    format!("{} does not exist", file.display()),
                    "point it at an existing PEM file (relative paths are read from this file's folder); `passerelle dev-certs --out DIR` makes a development set",
                ));
            }
        }
        for (key, file) in [
            ("partners", &cfg.partners_file),
            ("policy", &cfg.policy_file),
        ]
        .into_iter()
        .chain(cfg.people_file.as_ref().map(|f| ("people", f)))
        {
            if !file.is_file() {
                errors.push(ConfigError::invalid(
                    path,
                    key,
                    format!("{} does not exist", file.display()),
                    "point it at the file (relative paths are read from this file's folder)",
                ));
            }
        }
        for f in cfg.tls.crl.iter().filter(|f| !f.is_file()) {
            errors.push(ConfigError::invalid(
                path,
                "tls.crl",
                format!("{} does not exist", f.display()),
                "point it at the partner CA's current CRL (PEM)",
            ));
        }
        if let Some(f) = &cfg.age_identity
            && !f.is_file()
        {
            errors.push(ConfigError::invalid(
                path,
                "keys.age_identity",
                format!("{} does not exist", f.display()),
                "point it at an age identity file (age-keygen's format) or remove the key to have one generated in the data folder",
            ));
        }
        if !errors.is_empty() {
            return Err(ConfigError::several(errors));
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(issuer: &str, secret: &Path) -> OidcSettings {
        OidcSettings {
            issuer: issuer.into(),
            client_id: "passerelle".into(),
            client_secret_file: secret.to_path_buf(),
            redirect_url: None,
            ca_file: Some(secret.to_path_buf()),
            name: default_oidc_name(),
        }
    }

    #[test]
    fn the_return_address_comes_from_a_definite_listening_address_only() {
        let f = tempfile::NamedTempFile::new().unwrap();
        let s = settings("https://idp.example", f.path());
        assert_eq!(
            s.redirect_url_for(Some(([127, 0, 0, 1], 8444).into()))
                .as_deref(),
            Some("https://127.0.0.1:8444/connexion/retour")
        );
        assert_eq!(s.redirect_url_for(Some(([0, 0, 0, 0], 8444).into())), None);
        assert!(s.problems(Some(([127, 0, 0, 1], 8444).into())).is_empty());
        let keys: Vec<_> = s
            .problems(Some(([0, 0, 0, 0], 8444).into()))
            .into_iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(keys, ["console.oidc.redirect_url"]);
        let given = OidcSettings {
            redirect_url: Some("https://gw.example/connexion/retour".into()),
            ..s.clone()
        };
        assert!(given.problems(None).is_empty());
        let wrong = OidcSettings {
            redirect_url: Some("http://gw.example/ailleurs".into()),
            ..s
        };
        assert_eq!(wrong.problems(None)[0].0, "console.oidc.redirect_url");
    }

    #[test]
    fn a_plain_http_issuer_is_refused_unless_on_loopback() {
        let f = tempfile::NamedTempFile::new().unwrap();
        let listen = Some(([127, 0, 0, 1], 8444).into());
        for ok in [
            "https://auth.agentconnect.gouv.fr/api/v2",
            "http://127.0.0.1:4000",
            "http://localhost:4000/oidc",
            "http://[::1]:4000",
        ] {
            assert!(settings(ok, f.path()).problems(listen).is_empty(), "{ok}");
        }
        for bad in ["http://idp.example", "ftp://idp.example", "idp.example", ""] {
            let keys: Vec<_> = settings(bad, f.path())
                .problems(listen)
                .into_iter()
                .map(|p| p.0)
                .collect();
            assert_eq!(keys, ["console.oidc.issuer"], "{bad}");
        }
        let missing = OidcSettings {
            client_secret_file: "/nonexistent/secret".into(),
            client_id: " ".into(),
            ..settings("https://idp.example", f.path())
        };
        let keys: Vec<_> = missing.problems(listen).into_iter().map(|p| p.0).collect();
        assert_eq!(
            keys,
            ["console.oidc.client_id", "console.oidc.client_secret_file"]
        );
    }
}
