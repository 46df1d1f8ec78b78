//! Key derivation and tokens.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The keys of one version, all derived from that version's root key.
#[derive(Clone)]
struct Keys {
    household: [u8; 32],
    subject: [u8; 32],
    case_token_root: [u8; 32],
    seal: [u8; 32],
}

/// Holds the derived keys of every version in use. New cases use the
/// latest version; a case keeps the version it was created with, so its
/// tokens stay what partners already hold after a rotation. Its `Debug`
/// prints no key.
#[derive(Clone)]
pub struct Pseudonymiser {
    /// `(version, keys)`, versions ascending from 1.
    versions: Vec<(u32, Keys)>,
}

impl std::fmt::Debug for Pseudonymiser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymiser(***)")
    }
}

fn derive(root: &[u8; 32], label: &str) -> [u8; 32] {
    // HKDF (RFC 5869) with SHA-256; the label is the `info` input.
    let hk = hkdf::Hkdf::<Sha256>::new(Some(b"passerelle pseudonymisation"), root);
    let mut out = [0u8; 32];
    hk.expand(label.as_bytes(), &mut out)
        .expect("32 bytes is a valid HKDF-SHA-256 output length");
    out
}

fn mac(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        // Length-prefixed so that ("ab","c") and ("a","bc") differ.
        m.update(&(p.len() as u64).to_be_bytes());
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

/// The normalised identity a household token is computed from: surname,
/// first name and postal code, each folded (upper case, no accents, one
/// space between words), so that a later month's list with another writing
/// of the same names finds the same household.
pub fn household_identity(nom: &str, prenom: &str, code_postal: &str) -> String {
    use crate::domain::fold_key;
    format!(
        "{}|{}|{}",
        fold_key(nom),
        fold_key(prenom),
        code_postal.trim()
    )
}

impl Keys {
    fn new(version: u32, root: &[u8; 32]) -> Keys {
        // Version 1's labels are those of the first release; later
        // versions carry their number (domain separation per version).
        let label = |what: &str| format!("passerelle v{version} {what}");
        Keys {
            household: derive(root, &label("household-token")),
            subject: derive(root, &label("audit-subject")),
            case_token_root: derive(root, &label("case-token")),
            seal: derive(root, &label("seal-at-rest")),
        }
    }
}

impl Pseudonymiser {
    /// Derives every key from one root key (version 1).
    pub fn new(root: &[u8; 32]) -> Pseudonymiser {
        Pseudonymiser::with_versions(&[(1, *root)])
    }

    /// Derives the keys of several versions (`(version, root key)`).
    pub fn with_versions(roots: &[(u32, [u8; 32])]) -> Pseudonymiser {
        let mut versions: Vec<(u32, Keys)> =
            roots.iter().map(|(v, r)| (*v, Keys::new(*v, r))).collect();
        versions.sort_by_key(|(v, _)| *v);
        assert!(!versions.is_empty(), "at least one key version");
        Pseudonymiser { versions }
    }

    /// The version new cases use.
    pub fn current_version(&self) -> u32 {
        self.versions.last().expect("at least one version").0
    }

    fn keys(&self, version: u32) -> &Keys {
        self.versions
            .iter()
            .find(|(v, _)| *v == version)
            .map(|(_, k)| k)
            .unwrap_or_else(|| &self.versions.last().expect("at least one version").1)
    }

    pub(super) fn seal_key(&self, version: u32) -> Option<&[u8; 32]> {
        self.versions
            .iter()
            .find(|(v, _)| *v == version)
            .map(|(_, k)| &k.seal)
    }

    /// The household token of the current version (never shown to partners).
    pub fn household_token(&self, normalised_identity: &str) -> String {
        self.household_token_v(self.current_version(), normalised_identity)
    }

    fn household_token_v(&self, version: u32, normalised_identity: &str) -> String {
        let t = mac(
            &self.keys(version).household,
            &[normalised_identity.as_bytes()],
        );
        format!("hv{version}.{}", hex::encode(&t[..16]))
    }

    /// The household's tokens under every version (to recognise a
    /// household seen before a rotation).
    pub fn household_tokens(&self, normalised_identity: &str) -> Vec<String> {
        self.versions
            .iter()
            .map(|(v, _)| self.household_token_v(*v, normalised_identity))
            .collect()
    }

    /// A keyed lookup key for an identifier that must be found again but
    /// never stored in clear (a CDP's `ref_cdp`, a procedure event): `what`
    /// separates the uses. Current version.
    pub fn lookup_key(&self, what: &str, value: &str) -> String {
        self.lookup_key_v(self.current_version(), what, value)
    }

    fn lookup_key_v(&self, version: u32, what: &str, value: &str) -> String {
        let t = mac(
            &self.keys(version).household,
            &[what.as_bytes(), value.as_bytes()],
        );
        format!("lv{version}.{}", hex::encode(&t[..16]))
    }

    /// [`Pseudonymiser::lookup_key`] under every version in use (to find
    /// what was stored before a rotation).
    pub fn lookup_keys(&self, what: &str, value: &str) -> Vec<String> {
        self.versions
            .iter()
            .map(|(v, _)| self.lookup_key_v(*v, what, value))
            .collect()
    }

    /// The keyed reference an audit entry carries for a household, so the DPO
    /// can find every access to one person's data without the log holding it.
    /// Computed with the version the household token was made with.
    pub fn subject_ref(&self, household_token: &str) -> String {
        let version = household_token
            .strip_prefix("hv")
            .and_then(|r| r.split('.').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        let t = mac(&self.keys(version).subject, &[household_token.as_bytes()]);
        hex::encode(&t[..16])
    }

    /// The keyed references a household may carry in the audit log, one
    /// per key version in use (so a rotation does not hide older accesses).
    pub fn subject_refs(&self, normalised_identity: &str) -> Vec<String> {
        self.household_tokens(normalised_identity)
            .iter()
            .map(|h| self.subject_ref(h))
            .collect()
    }

    /// A partner's token for a case made with key `version`. Each partner's
    /// key is its own HKDF derivation, so two partners' tokens for one case
    /// cannot be linked without the root key.
    pub fn case_token(&self, version: u32, partner: &str, case_id: &str) -> String {
        self.case_tokens_for(version, partner).token(case_id)
    }

    /// A partner's token key for cases of key `version`, derived once for
    /// many tokens.
    pub fn case_tokens_for(&self, version: u32, partner: &str) -> CaseTokens {
        CaseTokens(
            version,
            derive(&self.keys(version).case_token_root, partner),
        )
    }
}

/// One partner's case-token key. Its `Debug` prints no key.
#[derive(Clone)]
pub struct CaseTokens(u32, [u8; 32]);

impl std::fmt::Debug for CaseTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CaseTokens(***)")
    }
}

impl CaseTokens {
    /// The partner's token for a case.
    pub fn token(&self, case_id: &str) -> String {
        let t = mac(&self.1, &[case_id.as_bytes()]);
        // Base32 without padding (RFC 4648), lower case: easy to read aloud
        // and safe in every spreadsheet. The prefix names the key version.
        format!("v{}-{}", self.0, base32(&t[..15]))
    }
}

fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> Pseudonymiser {
        Pseudonymiser::new(&[42u8; 32])
    }

    #[test]
    fn same_household_under_other_writings() {
        let a = household_identity("De La Fontaine", "Hélène", "85100");
        let b = household_identity("DE LA  FONTAINE", "helene", " 85100");
        assert_eq!(p().household_token(&a), p().household_token(&b));
        let c = household_identity("De La Fontaine", "Hélène", "85180");
        assert_ne!(p().household_token(&a), p().household_token(&c));
    }

    #[test]
    fn partners_tokens_differ_and_are_stable() {
        let caf = p().case_token(1, "caf", "case-1");
        let mdsf = p().case_token(1, "mdsf", "case-1");
        assert_ne!(caf, mdsf);
        assert_eq!(caf, p().case_token(1, "caf", "case-1"));
        assert_ne!(caf, p().case_token(1, "caf", "case-2"));
        assert_eq!(caf.len(), 3 + 24);
        let other_root = Pseudonymiser::new(&[1u8; 32]);
        assert_ne!(caf, other_root.case_token(1, "caf", "case-1"));
    }

    #[test]
    fn a_rotation_keeps_old_tokens_and_recognises_old_households() {
        let old = Pseudonymiser::new(&[42u8; 32]);
        let both = Pseudonymiser::with_versions(&[(1, [42u8; 32]), (2, [9u8; 32])]);
        assert_eq!(both.current_version(), 2);
        assert_eq!(
            both.case_token(1, "caf", "c"),
            old.case_token(1, "caf", "c")
        );
        assert!(both.case_token(2, "caf", "c").starts_with("v2-"));
        let id = household_identity("Dupont", "Jean", "85100");
        assert!(
            both.household_tokens(&id)
                .contains(&old.household_token(&id))
        );
        assert!(both.household_token(&id).starts_with("hv2."));
        assert!(
            both.subject_refs(&id)
                .contains(&old.subject_ref(&old.household_token(&id)))
        );
        let sealed = old.seal("r", b"x");
        assert_eq!(both.open("r", &sealed).unwrap(), b"x");
        assert_eq!(both.seal("r", b"y")[0], 2);
    }

    #[test]
    fn base32_matches_rfc4648() {
        assert_eq!(base32(b"foobar"), "mzxw6ytboi");
    }

    #[test]
    fn debug_prints_no_key() {
        assert_eq!(format!("{:?}", p()), "Pseudonymiser(***)");
    }
}
