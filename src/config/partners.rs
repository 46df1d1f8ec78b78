//! `partners.toml`: the institutions allowed to connect.

use super::{ConfigError, Policy, read_toml, resolve};
pub use crate::domain::{PartnerId, Role};
use crate::export::FileFormat;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How the verified client certificate is matched to a partner.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "lowercase")]
pub enum CertificateIdentity {
    /// The subject common name, for certificates issued by the configured
    /// partner CA (which alone can make a handshake succeed).
    Cn(String),
    /// The SHA-256 fingerprint of the certificate (hex), pinning one
    /// certificate exactly.
    Sha256(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPartners {
    partner: Vec<RawPartner>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPartner {
    id: String,
    name: String,
    roles: Vec<String>,
    certificate: CertificateIdentity,
    #[serde(default)]
    recipients: Vec<String>,
    #[serde(default)]
    recipients_file: Option<PathBuf>,
    #[serde(default)]
    territory: Option<String>,
    #[serde(default)]
    landlord: Vec<String>,
    #[serde(default)]
    format: Option<String>,
}

/// A partner, checked.
#[derive(Debug, Clone)]
pub struct Partner {
    /// Stable id (`caf`, `mdsf`…), used in file names, audit and tokens.
    pub id: PartnerId,
    /// Display name.
    pub name: String,
    /// Roles.
    pub roles: BTreeSet<Role>,
    /// Certificate match.
    pub certificate: CertificateIdentity,
    /// age recipients every file for this partner is encrypted to.
    pub recipients: Vec<age::x25519::Recipient>,
    /// Territory (a name from the policy), for members covering an area.
    pub territory: Option<String>,
    /// Landlord names (for social landlords: only their own tenants).
    pub landlord: Vec<String>,
    /// Preferred file format.
    pub format: FileFormat,
}

impl Partner {
    /// Whether the partner holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// All partners.
#[derive(Debug, Clone)]
pub struct Partners {
    list: Vec<Arc<Partner>>,
}

impl Partners {
    /// Reads and checks `partners.toml`.
    pub fn load(path: &Path, policy: &Policy) -> Result<Partners, ConfigError> {
        let raw: RawPartners = read_toml(path)?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut list = Vec::new();
        let mut ids = BTreeSet::new();
        let mut errors = Vec::new();
        for (i, p) in raw.partner.into_iter().enumerate() {
            // Each partner is checked whole; the problems of all of them
            // are reported at once.
            let check = || -> Result<Arc<Partner>, ConfigError> {
                let key = |k: &str| format!("partner[{i}] ({}).{k}", p.id);
                let id = PartnerId::parse(&p.id).map_err(|why| {
                    ConfigError::invalid(
                        path,
                        format!("partner[{i}].id"),
                        why,
                        "use lower-case letters, digits and '-' only",
                    )
                })?;
                if !ids.insert(p.id.clone()) {
                    return Err(ConfigError::invalid(
                        path,
                        key("id"),
                        "this id is used twice",
                        "give each partner its own id",
                    ));
                }
                let mut roles = BTreeSet::new();
                for r in &p.roles {
                    let role: Role = r.parse().map_err(|_| {
                        ConfigError::invalid(
                            path,
                            key("roles"),
                            format!("unknown role {r:?}"),
                            "use source, enricher, member, referent, secretariat or dpo",
                        )
                    })?;
                    roles.insert(role);
                }
                if roles.is_empty() {
                    return Err(ConfigError::invalid(
                        path,
                        key("roles"),
                        "no role",
                        "give the partner at least one role",
                    ));
                }
                let mut recipient_texts = p.recipients.clone();
                if let Some(f) = &p.recipients_file {
                    let f = resolve(base, f);
                    let text = std::fs::read_to_string(&f).map_err(|e| {
                        ConfigError::invalid(
                            path,
                            key("recipients_file"),
                            format!("cannot read {}: {e}", f.display()),
                            "point it at a file of age recipients, one per line (age -R format)",
                        )
                    })?;
                    recipient_texts.extend(
                        text.lines()
                            .map(str::trim)
                            .filter(|l| !l.is_empty() && !l.starts_with('#'))
                            .map(String::from),
                    );
                }
                let mut recipients = Vec::new();
                for t in &recipient_texts {
                    if t.to_ascii_uppercase().starts_with("AGE-SECRET-KEY-") {
                        // Never echoed: the message names it, the value stays put.
                        return Err(ConfigError::invalid(
                            path,
                            key(if p.recipients.contains(t) {
                                "recipients"
                            } else {
                                "recipients_file"
                            }),
                            "this is a SECRET key (AGE-SECRET-KEY-…), not a recipient; it is not printed here",
                            "remove it from the configuration now, consider it disclosed, and give its public key instead (`age-keygen -y` prints the `age1…` recipient)",
                        ));
                    }
                    let r: age::x25519::Recipient = t.parse().map_err(|e| {
                        ConfigError::invalid(
                            path,
                            key("recipients"),
                            format!("{t:?} is not an age X25519 recipient ({e})"),
                            "give the `age1…` public key printed by `age-keygen -y`",
                        )
                    })?;
                    recipients.push(r);
                }
                let needs_files = roles.iter().any(|r| {
                    matches!(
                        r,
                        Role::Enricher
                            | Role::Member
                            | Role::Referent
                            | Role::Source
                            | Role::Secretariat
                    )
                });
                if recipients.is_empty() && needs_files {
                    return Err(ConfigError::invalid(
                        path,
                        key("recipients"),
                        "this partner has no age recipient, so no file could be encrypted to it",
                        "add recipients = [\"age1…\"] or recipients_file = \"…\"",
                    ));
                }
                if let Some(t) = &p.territory
                    && !policy.territories.contains_key(t)
                {
                    return Err(ConfigError::invalid(
                        path,
                        key("territory"),
                        format!("unknown territory {t:?}"),
                        format!(
                            "use one declared in {} under [territories]",
                            policy.path.display()
                        ),
                    ));
                }
                let format = match p.format.as_deref() {
                    None | Some("csv") => FileFormat::Csv,
                    Some("xlsx") => FileFormat::Xlsx,
                    Some(other) => {
                        return Err(ConfigError::invalid(
                            path,
                            key("format"),
                            format!("unknown format {other:?}"),
                            "use \"csv\" or \"xlsx\"",
                        ));
                    }
                };
                if let CertificateIdentity::Sha256(h) = &p.certificate
                    && (h.len() != 64 || !h.chars().all(|c| c.is_ascii_hexdigit()))
                {
                    return Err(ConfigError::invalid(
                        path,
                        key("certificate.sha256"),
                        "not a SHA-256 fingerprint",
                        "give 64 hex digits (openssl x509 -noout -fingerprint -sha256, colons removed)",
                    ));
                }
                Ok(Arc::new(Partner {
                    id,
                    name: p.name,
                    roles,
                    certificate: p.certificate,
                    recipients,
                    territory: p.territory,
                    landlord: p.landlord,
                    format,
                }))
            };
            match check() {
                Ok(partner) => list.push(partner),
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(ConfigError::several(errors));
        }
        if list.is_empty() {
            return Err(ConfigError::invalid(
                path,
                "partner",
                "no partner is configured",
                "declare at least one [[partner]]",
            ));
        }
        Ok(Partners { list })
    }

    /// All partners.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Partner>> {
        self.list.iter()
    }

    /// The partner with this id.
    pub fn get(&self, id: &str) -> Option<&Arc<Partner>> {
        self.list.iter().find(|p| p.id == id)
    }

    /// The partner whose certificate identity matches a verified client
    /// certificate (CN and SHA-256 fingerprint, lower-case hex). A pinned
    /// fingerprint wins over a CN match.
    pub fn by_certificate(&self, cn: Option<&str>, sha256: &str) -> Option<&Arc<Partner>> {
        by_certificate(&self.list, |p| Some(&p.certificate), cn, sha256)
    }

    /// The partners holding `role`.
    pub fn with_role(&self, role: Role) -> impl Iterator<Item = &Arc<Partner>> {
        self.list.iter().filter(move |p| p.has(role))
    }
}

/// The first of `items` whose certificate identity (`identity`) matches a
/// verified client certificate (CN and SHA-256 fingerprint, lower-case
/// hex): a pinned fingerprint wins over a CN match.
pub(super) fn by_certificate<'a, T>(
    items: &'a [Arc<T>],
    identity: impl Fn(&T) -> Option<&CertificateIdentity>,
    cn: Option<&str>,
    sha256: &str,
) -> Option<&'a Arc<T>> {
    items
        .iter()
        .find(|i| {
            matches!(identity(i), Some(CertificateIdentity::Sha256(h)) if h.eq_ignore_ascii_case(sha256))
        })
        .or_else(|| {
            let cn = cn?;
            items
                .iter()
                .find(|i| matches!(identity(i), Some(CertificateIdentity::Cn(c)) if c == cn))
        })
}
