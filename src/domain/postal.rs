//! French postal code.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A French postal code: exactly five ASCII digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PostalCode(String);

impl PostalCode {
    /// Parses a postal code (surrounding white space is ignored).
    ///
    /// The error message quotes the value only when it looks like a postal
    /// code (short, digits and spaces), so that it never leaks other data.
    pub fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim();
        if t.len() == 5 && t.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Self(t.to_owned()));
        }
        if !t.is_empty()
            && t.chars().count() <= 10
            && t.chars().all(|c| c.is_ascii_digit() || c == ' ')
        {
            Err(format!("must be 5 digits (got {t})"))
        } else {
            Err("must be 5 digits".to_owned())
        }
    }

    /// The five digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for PostalCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PostalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for PostalCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PostalCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_five_digits() {
        let p = PostalCode::parse(" 85100 ").unwrap();
        assert_eq!(p.as_ref(), "85100");
        assert_eq!(p.to_string(), "85100");
        assert_eq!(PostalCode::parse("01000").unwrap().as_str(), "01000");
    }

    #[test]
    fn refuses_others() {
        assert_eq!(
            PostalCode::parse("8510").unwrap_err(),
            "must be 5 digits (got 8510)"
        );
        assert!(PostalCode::parse("851000").is_err());
        assert!(PostalCode::parse("85 100").is_err());
        assert!(PostalCode::parse("").is_err());
        assert!(PostalCode::parse("８５１００").is_err());
        // Non-postal-looking content is not quoted.
        assert_eq!(
            PostalCode::parse("rue Travot").unwrap_err(),
            "must be 5 digits"
        );
    }

    #[test]
    fn serde_as_string() {
        let p = PostalCode::parse("85100").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"85100\"");
        let back: PostalCode = serde_json::from_str("\"85100\"").unwrap();
        assert_eq!(back, p);
        assert!(serde_json::from_str::<PostalCode>("\"851\"").is_err());
    }
}
