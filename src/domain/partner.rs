//! `PartnerId`: a partner's stable id (`caf`, `ccas-sables`…), as
//! `partners.toml` gives it and as it appears in file names, tokens'
//! derivations and the audit log.

use std::fmt;

/// A partner's id: lower-case ASCII letters, digits and `-`, not empty.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct PartnerId(String);

impl PartnerId {
    /// Parses an id.
    pub fn parse(s: &str) -> Result<PartnerId, String> {
        if s.is_empty()
            || !s
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(format!("{s:?} is not a valid id"));
        }
        Ok(PartnerId(s.to_owned()))
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for PartnerId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for PartnerId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for PartnerId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PartnerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for PartnerId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for PartnerId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for PartnerId {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl From<PartnerId> for String {
    fn from(id: PartnerId) -> String {
        id.0
    }
}

impl From<&PartnerId> for String {
    fn from(id: &PartnerId) -> String {
        id.0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_lower_case_letters_digits_and_dashes() {
        assert_eq!(PartnerId::parse("ccas-sables").unwrap(), "ccas-sables");
        for bad in ["", "CAF", "caf_1", "caf ", "café"] {
            assert!(PartnerId::parse(bad).is_err(), "{bad}");
        }
    }
}
