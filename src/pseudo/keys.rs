//! Key derivation and tokens.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The current key version, written into every token and label.
pub const KEY_VERSION: &str = "v1";

/// Holds the derived keys. Its `Debug` prints no key.
#[derive(Clone)]
pub struct Pseudonymiser {
    household: [u8; 32],
    subject: [u8; 32],
    case_token_root: [u8; 32],
    pub(super) seal: [u8; 32],
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

impl Pseudonymiser {
    /// Derives every key from the root key.
    pub fn new(root: &[u8; 32]) -> Pseudonymiser {
        Pseudonymiser {
            household: derive(root, "passerelle v1 household-token"),
            subject: derive(root, "passerelle v1 audit-subject"),
            case_token_root: derive(root, "passerelle v1 case-token"),
            seal: derive(root, "passerelle v1 seal-at-rest"),
        }
    }

    /// The internal household token (never shown to partners).
    pub fn household_token(&self, normalised_identity: &str) -> String {
        let t = mac(&self.household, &[normalised_identity.as_bytes()]);
        format!("h{KEY_VERSION}.{}", hex::encode(&t[..16]))
    }

    /// The keyed reference an audit entry carries for a household, so the DPO
    /// can find every access to one person's data without the log holding it.
    pub fn subject_ref(&self, household_token: &str) -> String {
        let t = mac(&self.subject, &[household_token.as_bytes()]);
        hex::encode(&t[..16])
    }

    /// The keyed references a household may carry in the audit log, one
    /// per key version in use (so a rotation does not hide older accesses).
    pub fn subject_refs(&self, normalised_identity: &str) -> Vec<String> {
        vec![self.subject_ref(&self.household_token(normalised_identity))]
    }

    /// A partner's token for a case. Each partner's key is its own HKDF
    /// derivation, so two partners' tokens for one case cannot be linked
    /// without the root key.
    pub fn case_token(&self, partner: &str, case_id: &str) -> String {
        self.case_tokens_for(partner).token(case_id)
    }

    /// A partner's token key, derived once for many tokens.
    pub fn case_tokens_for(&self, partner: &str) -> CaseTokens {
        CaseTokens(derive(&self.case_token_root, partner))
    }
}

/// One partner's case-token key. Its `Debug` prints no key.
#[derive(Clone)]
pub struct CaseTokens([u8; 32]);

impl std::fmt::Debug for CaseTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CaseTokens(***)")
    }
}

impl CaseTokens {
    /// The partner's token for a case.
    pub fn token(&self, case_id: &str) -> String {
        let t = mac(&self.0, &[case_id.as_bytes()]);
        // Base32 without padding (RFC 4648), lower case: easy to read aloud
        // and safe in every spreadsheet.
        format!("{KEY_VERSION}-{}", base32(&t[..15]))
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
        let caf = p().case_token("caf", "case-1");
        let mdsf = p().case_token("mdsf", "case-1");
        assert_ne!(caf, mdsf);
        assert_eq!(caf, p().case_token("caf", "case-1"));
        assert_ne!(caf, p().case_token("caf", "case-2"));
        assert_eq!(caf.len(), 3 + 24);
        let other_root = Pseudonymiser::new(&[1u8; 32]);
        assert_ne!(caf, other_root.case_token("caf", "case-1"));
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
