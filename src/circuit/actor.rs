//! Who acts, as the audit log records it.

use crate::audit::{AuditRecord, Outcome};
use crate::config::Partner;
use std::sync::Arc;

/// The authenticated partner behind a step, and the request it came in.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The partner.
    pub partner: Arc<Partner>,
    /// SHA-256 of its certificate.
    pub cert_sha256: String,
    /// Request id.
    pub request_id: String,
    /// `METHOD /route`.
    pub route: String,
}

impl Actor {
    /// An audit record for `action` by this actor.
    pub fn record(&self, action: &str, outcome: Outcome) -> AuditRecord {
        let mut r = AuditRecord::new(action, outcome);
        r.partner = Some(self.partner.id.clone());
        r.cert_sha256 = Some(self.cert_sha256.clone());
        r.request_id = Some(self.request_id.clone());
        r.route = Some(self.route.clone());
        r
    }
}
