//! `people.toml`: the persons who may enter the console, each for one
//! partner and with some of its roles, recognised by a personal
//! certificate from the partner CA and/or a verified e-mail address (the
//! OpenID Connect provider's claim). Nobody else gets in.

use super::partners::{CertificateIdentity, Partners};
use super::{ConfigError, read_toml};
use crate::domain::{PartnerId, Role};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeople {
    #[serde(default)]
    person: Vec<RawPerson>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPerson {
    id: String,
    name: String,
    partner: String,
    roles: Vec<String>,
    #[serde(default)]
    certificate: Option<CertificateIdentity>,
    #[serde(default)]
    email: Option<String>,
}

/// A person allowed in, checked against the partners.
#[derive(Debug, Clone)]
pub struct PersonEntry {
    /// Stable id (`sec-ddets`…), written in the audit log beside the partner.
    pub id: String,
    /// Full name, shown on the console and in the DPO's answers.
    pub name: String,
    /// The partner the person acts for.
    pub partner: PartnerId,
    /// The person's roles: some of the partner's, never more.
    pub roles: BTreeSet<Role>,
    /// The personal certificate, if the person signs in with one.
    pub certificate: Option<CertificateIdentity>,
    /// The verified e-mail address (lower case), if the person signs in
    /// through OpenID Connect.
    pub email: Option<String>,
}

impl PersonEntry {
    /// Whether the person holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// The people of `people.toml` (none when the gateway names no such file:
/// the console then lets nobody in).
#[derive(Debug, Clone, Default)]
pub struct People {
    list: Vec<Arc<PersonEntry>>,
}

impl People {
    /// Reads `people.toml` and checks each person against the partners;
    /// every problem of every person is reported at once.
    pub fn load(path: &Path, partners: &Partners) -> Result<People, ConfigError> {
        let raw: RawPeople = read_toml(path)?;
        let mut list = Vec::new();
        let mut ids = BTreeSet::new();
        let mut cns = BTreeSet::new();
        let mut emails = BTreeSet::new();
        let mut errors = Vec::new();
        for (i, p) in raw.person.into_iter().enumerate() {
            let key = |k: &str| format!("person[{i}] ({}).{k}", p.id);
            let mut problems = Vec::new();
            let mut problem = |k: &str, what: String, fix: &str| {
                problems.push(ConfigError::invalid(path, key(k), what, fix));
            };
            if PartnerId::parse(&p.id).is_err() {
                problem(
                    "id",
                    format!("{:?} is not an id", p.id),
                    "use lower-case letters, digits and '-' only",
                );
            } else if !ids.insert(p.id.clone()) {
                problem(
                    "id",
                    "this id is used twice".into(),
                    "give each person their own id",
                );
            }
            if p.name.trim().is_empty() {
                problem("name", "empty".into(), "give the person's full name");
            }
            let partner = partners.get(&p.partner);
            if partner.is_none() {
                problem(
                    "partner",
                    format!("no partner {:?} in partners.toml", p.partner),
                    "name one of the partners' ids",
                );
            }
            let mut roles = BTreeSet::new();
            for r in &p.roles {
                match r.parse::<Role>() {
                    Err(_) => problem(
                        "roles",
                        format!("unknown role {r:?}"),
                        "use source, enricher, member, referent, secretariat or dpo",
                    ),
                    Ok(role) if partner.is_some_and(|pt| !pt.has(role)) => problem(
                        "roles",
                        format!("{r:?} is not a role of partner {:?}", p.partner),
                        "a person holds some of their partner's roles, never more",
                    ),
                    Ok(role) => {
                        roles.insert(role);
                    }
                }
            }
            if p.roles.is_empty() {
                problem(
                    "roles",
                    "no role".into(),
                    "give the person at least one of their partner's roles",
                );
            }
            if p.certificate.is_none() && p.email.is_none() {
                problem(
                    "certificate",
                    "neither a certificate nor an e-mail address: this person could never sign in"
                        .into(),
                    "add certificate = { cn = \"…\" } (a personal certificate of the partner CA) and/or email = \"…\"",
                );
            }
            match &p.certificate {
                Some(CertificateIdentity::Cn(cn)) => {
                    // A person's certificate must never open the API as a
                    // partner's machine.
                    if partners
                        .iter()
                        .any(|pt| pt.certificate == CertificateIdentity::Cn(cn.clone()))
                    {
                        problem(
                            "certificate.cn",
                            format!("{cn:?} is a partner's certificate name"),
                            "give personal certificates names of their own (the development PKI uses person-<id>)",
                        );
                    } else if !cns.insert(cn.clone()) {
                        problem(
                            "certificate.cn",
                            "this name is given to two people".into(),
                            "give each person their own certificate",
                        );
                    }
                }
                Some(CertificateIdentity::Sha256(h))
                    if h.len() != 64 || !h.chars().all(|c| c.is_ascii_hexdigit()) =>
                {
                    problem(
                        "certificate.sha256",
                        "not a SHA-256 fingerprint".into(),
                        "give 64 hex digits",
                    )
                }
                _ => {}
            }
            let email = p.email.as_ref().map(|e| e.trim().to_lowercase());
            if let Some(e) = &email {
                let (local, domain) = e.split_once('@').unwrap_or(("", ""));
                if local.is_empty() || !domain.contains('.') {
                    problem(
                        "email",
                        format!("{e:?} is not an e-mail address"),
                        "give the address the identity provider verifies",
                    );
                } else if !emails.insert(e.clone()) {
                    problem(
                        "email",
                        "this address is given to two people".into(),
                        "give each person their own address",
                    );
                }
            }
            match (problems.is_empty(), partner) {
                (true, Some(pt)) => list.push(Arc::new(PersonEntry {
                    id: p.id,
                    name: p.name,
                    partner: pt.id.clone(),
                    roles,
                    certificate: p.certificate,
                    email,
                })),
                _ => errors.extend(problems),
            }
        }
        if !errors.is_empty() {
            return Err(ConfigError::several(errors));
        }
        Ok(People { list })
    }

    /// Every person.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<PersonEntry>> {
        self.list.iter()
    }

    /// The person with this id.
    pub fn get(&self, id: &str) -> Option<&Arc<PersonEntry>> {
        self.list.iter().find(|p| p.id == id)
    }

    /// The person whose personal certificate this is (a pinned fingerprint
    /// wins over a name).
    pub fn by_certificate(&self, cn: Option<&str>, sha256: &str) -> Option<&Arc<PersonEntry>> {
        super::partners::by_certificate(&self.list, |p| p.certificate.as_ref(), cn, sha256)
    }

    /// The person with this verified e-mail address (any case).
    pub fn by_email(&self, email: &str) -> Option<&Arc<PersonEntry>> {
        let email = email.trim().to_lowercase();
        self.list
            .iter()
            .find(|p| p.email.as_deref() == Some(email.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Policy;

    fn partners() -> Partners {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir().unwrap();
        crate::tls::devpki::generate(
            &dir.path().join("certs-example"),
            crate::tls::devpki::EXAMPLE_PARTNERS,
        )
        .unwrap();
        let config = dir.path().join("config");
        std::fs::create_dir_all(&config).unwrap();
        for f in ["partners.toml", "policy.toml"] {
            std::fs::copy(repo.join("config").join(f), config.join(f)).unwrap();
        }
        let policy = Policy::load(&config.join("policy.toml")).unwrap();
        Partners::load(&config.join("partners.toml"), &policy).unwrap()
    }

    fn load(text: &str) -> Result<People, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("people.toml");
        std::fs::write(&path, text).unwrap();
        People::load(&path, &partners())
    }

    #[test]
    fn the_example_people_load_with_their_partners_roles() {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("config/people.toml"),
        )
        .unwrap();
        let people = load(&text).unwrap();
        let ids: Vec<&str> = people.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "sec-ddets",
                "ref-mdsf",
                "ref-ccas",
                "tech-caf",
                "cesf-vh",
                "dpo"
            ]
        );
        let sec = people
            .by_certificate(Some("person-sec-ddets"), "00")
            .unwrap();
        assert!(sec.has(Role::Secretariat) && sec.has(Role::Source));
        assert_eq!(sec.partner.as_str(), "ddets");
        assert_eq!(
            people
                .by_email("Camille.Roux@ddets-vendee.example")
                .unwrap()
                .id,
            "sec-ddets"
        );
        assert!(people.by_certificate(Some("ddets"), "00").is_none());
    }

    #[test]
    fn every_problem_of_every_person_is_reported_at_once() {
        let err = load(
            r#"
[[person]]
id = "a"
name = "A"
partner = "caf"
roles = ["secretariat"]
certificate = { cn = "caf" }

[[person]]
id = "b"
name = "B"
partner = "nobody"
roles = ["member"]

[[person]]
id = "a"
name = "C"
partner = "mdsf"
roles = ["member"]
email = "not-an-address"
"#,
        )
        .unwrap_err()
        .to_string();
        for expected in [
            "\"secretariat\" is not a role of partner \"caf\"",
            "\"caf\" is a partner's certificate name",
            "no partner \"nobody\"",
            "neither a certificate nor an e-mail address",
            "this id is used twice",
            "\"not-an-address\" is not an e-mail address",
        ] {
            assert!(err.contains(expected), "{expected:?} missing from: {err}");
        }
    }
}
