//! Who acts: the partner (with its roles), the person when there is one,
//! and the request it came in, as the audit log records it.

use super::CircuitError;
use crate::audit::{AuditRecord, Outcome};
use crate::config::{Partner, PersonEntry, Role};
use std::collections::BTreeSet;
use std::sync::Arc;

/// The authenticated partner behind a step, and the request it came in.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The partner.
    pub partner: Arc<Partner>,
    /// The person acting for it, when one signed in on the console (of
    /// `people.toml`); the API's callers are machines: no person.
    pub person: Option<Arc<PersonEntry>>,
    /// SHA-256 of its certificate.
    pub cert_sha256: String,
    /// Request id.
    pub request_id: String,
    /// `METHOD /route`.
    pub route: String,
}

impl Actor {
    /// A partner acting through the API (no person).
    pub fn new(
        partner: Arc<Partner>,
        cert_sha256: impl Into<String>,
        request_id: impl Into<String>,
        route: impl Into<String>,
    ) -> Actor {
        Actor {
            partner,
            person: None,
            cert_sha256: cert_sha256.into(),
            request_id: request_id.into(),
            route: route.into(),
        }
    }

    /// A person of `people.toml` acting for their partner (the console).
    /// `None` when the person is not the partner's.
    pub fn for_person(
        partner: Arc<Partner>,
        person: Arc<PersonEntry>,
        cert_sha256: impl Into<String>,
        request_id: impl Into<String>,
        route: impl Into<String>,
    ) -> Option<Actor> {
        (person.partner == partner.id).then(|| Actor {
            person: Some(person),
            ..Actor::new(partner, cert_sha256, request_id, route)
        })
    }

    /// The partner's id.
    pub fn partner_id(&self) -> &str {
        &self.partner.id
    }

    /// The roles the operations check: the person's when a person acts
    /// (some of the partner's, never more), else the partner's.
    pub fn roles(&self) -> &BTreeSet<Role> {
        match &self.person {
            Some(p) => &p.roles,
            None => &self.partner.roles,
        }
    }

    /// Whether the actor holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles().contains(&role)
    }

    /// Refuses unless the actor holds `role`.
    pub fn require(&self, role: Role) -> Result<(), CircuitError> {
        self.require_any(&[role])
    }

    /// Refuses unless the actor holds one of `roles`.
    pub fn require_any(&self, roles: &[Role]) -> Result<(), CircuitError> {
        if roles.iter().any(|r| self.has(*r)) {
            Ok(())
        } else {
            Err(CircuitError::Forbidden(
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(" or "),
            ))
        }
    }

    /// An audit record for `action` by this actor.
    pub fn record(&self, action: &str, outcome: Outcome) -> AuditRecord {
        let mut r = AuditRecord::new(action, outcome);
        r.partner = Some(self.partner.id.to_string());
        r.person = self.person.as_ref().map(|p| p.id.clone());
        r.cert_sha256 = Some(self.cert_sha256.clone());
        r.request_id = Some(self.request_id.clone());
        r.route = Some(self.route.clone());
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{CertificateIdentity, PartnerId};

    fn partner(id: &str, roles: &[Role]) -> Arc<Partner> {
        Arc::new(Partner {
            id: PartnerId::parse(id).unwrap(),
            name: id.to_owned(),
            roles: roles.iter().copied().collect(),
            certificate: CertificateIdentity::Cn(id.to_owned()),
            recipients: Vec::new(),
            territory: None,
            landlord: Vec::new(),
            format: crate::export::FileFormat::Csv,
        })
    }

    fn person(id: &str, partner: &str, roles: &[Role]) -> Arc<PersonEntry> {
        Arc::new(PersonEntry {
            id: id.to_owned(),
            name: id.to_owned(),
            partner: PartnerId::parse(partner).unwrap(),
            roles: roles.iter().copied().collect(),
            certificate: None,
            email: None,
        })
    }

    #[test]
    fn a_person_acts_with_their_own_roles_never_the_partners_others() {
        let ddets = partner("ddets", &[Role::Source, Role::Secretariat]);
        let machine = Actor::new(ddets.clone(), "00", "req", "POST /v1/concertations");
        assert!(machine.require(Role::Secretariat).is_ok());
        let agent = person("agent", "ddets", &[Role::Source]);
        let a = Actor::for_person(ddets.clone(), agent, "00", "req", "POST /concertations")
            .expect("the person is the DDETS's");
        assert!(a.require(Role::Source).is_ok());
        assert!(a.require(Role::Secretariat).is_err());
        assert!(a.require_any(&[Role::Dpo, Role::Source]).is_ok());
        let stranger = person("x", "caf", &[Role::Source]);
        assert!(Actor::for_person(ddets, stranger, "00", "req", "GET /").is_none());
    }
}
