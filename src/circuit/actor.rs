//! Who acts: the partner (with its roles), the person when there is one,
//! and the request it came in, as the audit log records it.

use super::CircuitError;
use crate::audit::{AuditRecord, Outcome};
use crate::config::{Partner, Role};
use std::collections::BTreeSet;
use std::sync::Arc;

/// A person acting for a partner (the console's users, to come). The API's
/// callers are machines: no person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// A stable identifier of the person (certificate subject or OpenID
    /// Connect `sub`); never a name.
    pub id: String,
}

/// The authenticated partner behind a step, and the request it came in.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The partner (its roles are what the operations check).
    pub partner: Arc<Partner>,
    /// The person acting for it, when one signed in.
    pub person: Option<Person>,
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

    /// The partner's id.
    pub fn partner_id(&self) -> &str {
        &self.partner.id
    }

    /// The partner's roles.
    pub fn roles(&self) -> &BTreeSet<Role> {
        &self.partner.roles
    }

    /// Whether the actor holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.partner.has(role)
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
        r.cert_sha256 = Some(self.cert_sha256.clone());
        r.request_id = Some(self.request_id.clone());
        r.route = Some(self.route.clone());
        r
    }
}
