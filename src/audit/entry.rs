//! Audit entries and their canonical bytes.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How a request or action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Done.
    Ok,
    /// Refused (authentication, authorisation, rate, validation).
    Refused,
    /// Failed inside the gateway.
    Error,
}

impl Outcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Refused => "refused",
            Outcome::Error => "error",
        }
    }
}

/// What the caller tells the log. Nothing personal: ids, field names,
/// counts and keyed subject references only.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    /// The partner id, when the certificate mapped to one.
    pub partner: Option<String>,
    /// The person acting for the partner on the console (their id in
    /// `people.toml`); `None` for the API's machines.
    pub person: Option<String>,
    /// SHA-256 of the client certificate.
    pub cert_sha256: Option<String>,
    /// The action (`list.upload`, `outbox.download`, `request`…).
    pub action: String,
    /// HTTP method and matched route, for requests.
    pub route: Option<String>,
    /// HTTP status answered.
    pub status: Option<u16>,
    /// Object ids concerned (list, file, return…).
    pub objects: Vec<String>,
    /// Names of the fields disclosed or received.
    pub fields: Vec<String>,
    /// Rows concerned.
    pub rows: Option<u64>,
    /// Keyed household references (see `Pseudonymiser::subject_ref`).
    pub subjects: Vec<String>,
    /// Outcome.
    pub outcome: Outcome,
    /// A stable reason code for refusals and errors.
    pub reason: Option<String>,
    /// The request id, to join entries of one request.
    pub request_id: Option<String>,
}

impl AuditRecord {
    /// Records the HTTP status an answer went out with, and its outcome:
    /// a server error is `error`, a client error `refused`, anything else
    /// (a page, a redirect) `ok`. The API and the console both classify
    /// their answers so.
    pub fn answered(&mut self, status: u16) {
        self.status = Some(status);
        self.outcome = match status {
            500.. => Outcome::Error,
            400..=499 => Outcome::Refused,
            _ => Outcome::Ok,
        };
    }

    /// A record for `action` with everything else empty.
    pub fn new(action: impl Into<String>, outcome: Outcome) -> AuditRecord {
        AuditRecord {
            partner: None,
            person: None,
            cert_sha256: None,
            action: action.into(),
            route: None,
            status: None,
            objects: Vec::new(),
            fields: Vec::new(),
            rows: None,
            subjects: Vec::new(),
            outcome,
            reason: None,
            request_id: None,
        }
    }
}

/// The canonical form hashed into the log: field order fixed by this
/// struct, JSON without spaces.
#[derive(Serialize)]
pub(super) struct CanonicalEntry<'a> {
    pub v: u8,
    pub seq: i64,
    pub at: String,
    pub partner: Option<&'a str>,
    /// The console's person; absent (not `null`) for the API, so that
    /// entries without one keep the bytes of earlier releases.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person: Option<&'a str>,
    pub cert_sha256: Option<&'a str>,
    pub action: &'a str,
    pub route: Option<&'a str>,
    pub status: Option<u16>,
    pub objects: &'a [String],
    pub fields: &'a [String],
    pub rows: Option<u64>,
    pub subjects: u64,
    pub subjects_sha256: String,
    pub outcome: Outcome,
    pub reason: Option<&'a str>,
    pub request_id: Option<&'a str>,
    /// The previous entry's leaf hash (hex; empty for the first): a hash
    /// chain that names the first altered entry even when its own leaf
    /// hash was rewritten to match.
    pub prev: &'a str,
}

/// A stored entry read back: the one typed reading of `audit_log.entry`
/// (the DPO's listing and subject-access answers, the report, the
/// households an entry names). Its fields and their order are
/// [`CanonicalEntry`]'s, so serialising it gives back the stored JSON.
/// Entries of earlier releases may lack fields: they read as empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoredEntry {
    /// Entry format version.
    pub v: u8,
    /// Sequence number.
    pub seq: i64,
    /// When (RFC 3339 UTC, milliseconds).
    pub at: String,
    /// The partner id.
    pub partner: Option<String>,
    /// The console's person (their id), when a person acted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    /// SHA-256 of the client certificate.
    pub cert_sha256: Option<String>,
    /// The action.
    pub action: String,
    /// HTTP method and route.
    pub route: Option<String>,
    /// HTTP status answered.
    pub status: Option<u16>,
    /// Object ids concerned.
    pub objects: Vec<String>,
    /// Names of the fields disclosed or received.
    pub fields: Vec<String>,
    /// Rows concerned.
    pub rows: Option<u64>,
    /// How many households the entry's set names.
    pub subjects: u64,
    /// The set's digest ([`super::SubjectsDigest`]).
    pub subjects_sha256: String,
    /// Outcome (absent only from a malformed entry).
    pub outcome: Option<Outcome>,
    /// Reason code.
    pub reason: Option<String>,
    /// Request id.
    pub request_id: Option<String>,
    /// The previous entry's leaf hash.
    pub prev: String,
}

impl StoredEntry {
    /// Reads a stored entry's JSON; `None` when it is not an entry.
    pub fn parse(json: &str) -> Option<StoredEntry> {
        serde_json::from_str(json).ok()
    }
}

impl std::fmt::Display for StoredEntry {
    /// The entry's JSON, as stored.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&serde_json::to_string(self).map_err(|_| std::fmt::Error)?)
    }
}

/// RFC 6962 §2.1 leaf hash: SHA-256(0x00 || entry).
pub fn leaf_hash(entry: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(entry);
    h.finalize().into()
}

/// The longest piece of request text (a path…) an audit entry stores whole.
pub const MAX_STORED_CHARS: usize = 256;

/// `text` as an audit entry stores it: whole up to [`MAX_STORED_CHARS`]
/// characters; else its first ones, then a marker with its length in bytes
/// and its SHA-256 (enough to match it against another record).
pub fn bounded(text: &str) -> String {
    if text.chars().count() <= MAX_STORED_CHARS {
        return text.to_owned();
    }
    let head: String = text.chars().take(MAX_STORED_CHARS).collect();
    format!(
        "{head}…[cut: {} bytes, sha256 {}]",
        text.len(),
        hex::encode(sha2::Sha256::digest(text.as_bytes()))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_entry_serialises_back_to_its_canonical_bytes() {
        let objects = vec!["file:fil_1".to_owned()];
        let fields = vec!["token".to_owned(), "nom".to_owned()];
        let canonical = CanonicalEntry {
            v: 1,
            seq: 7,
            at: "2026-11-29T10:00:00.000Z".into(),
            partner: Some("caf"),
            person: None,
            cert_sha256: None,
            action: "outbox.download",
            route: Some("GET /v1/outbox/fil_1"),
            status: None,
            objects: &objects,
            fields: &fields,
            rows: Some(3),
            subjects: 3,
            subjects_sha256: "ab".into(),
            outcome: Outcome::Ok,
            reason: None,
            request_id: Some("req_1"),
            prev: "cd",
        };
        let json = serde_json::to_string(&canonical).unwrap();
        let stored = StoredEntry::parse(&json).unwrap();
        assert_eq!(stored.to_string(), json);
        assert_eq!(stored.partner.as_deref(), Some("caf"));
        assert_eq!(stored.outcome, Some(Outcome::Ok));
        assert_eq!(StoredEntry::parse("\"entry\""), None);
        assert!(
            !json.contains("person"),
            "no person: the bytes of earlier entries"
        );
        let with_person = CanonicalEntry {
            person: Some("sec-ddets"),
            ..canonical
        };
        let json = serde_json::to_string(&with_person).unwrap();
        assert!(
            json.contains(r#""partner":"caf","person":"sec-ddets","#),
            "{json}"
        );
        assert_eq!(StoredEntry::parse(&json).unwrap().to_string(), json);
    }

    #[test]
    fn an_answer_is_ok_refused_or_an_error_by_its_status() {
        for (status, outcome) in [
            (200, Outcome::Ok),
            (201, Outcome::Ok),
            (303, Outcome::Ok),
            (403, Outcome::Refused),
            (422, Outcome::Refused),
            (500, Outcome::Error),
            (503, Outcome::Error),
        ] {
            let mut rec = AuditRecord::new("request", Outcome::Ok);
            rec.answered(status);
            assert_eq!((rec.status, rec.outcome), (Some(status), outcome));
        }
    }
}
