//! French phone numbers.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A French phone number normalised to ten digits starting with `0`
/// (`0612345678`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Parses the usual French writings: `06 12 34 56 78`, `06.12.34.56.78`,
    /// `06-12-34-56-78`, `0612345678`, `+33 6 12 34 56 78`,
    /// `+33 (0)6 12 34 56 78`, `0033 6 12 34 56 78`.
    ///
    /// Error messages never quote the value.
    pub fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim().replace("(0)", "");
        let mut digits = String::with_capacity(t.len());
        let mut plus = false;
        for (i, c) in t.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                '+' if i == 0 => plus = true,
                ' ' | '.' | '-' | '/' | '(' | ')' | '\u{A0}' | '\u{202F}' => {}
                _ => return Err("must be a phone number".to_owned()),
            }
        }
        // After the country code, the national number without its 0
        // (`+33 6…`), or with it (`+33 06…`, a frequent mistake).
        let with_zero = |rest: &str| {
            if rest.starts_with('0') {
                rest.to_owned()
            } else {
                format!("0{rest}")
            }
        };
        let national = if plus {
            match digits.strip_prefix("33") {
                Some(rest) => with_zero(rest),
                None => return Err("must be a French number".to_owned()),
            }
        } else if let Some(rest) = digits.strip_prefix("0033") {
            with_zero(rest)
        } else if digits.starts_with("00") {
            return Err("must be a French number".to_owned());
        } else if digits.len() == 11 && digits.starts_with("33") {
            with_zero(&digits[2..])
        } else {
            digits
        };
        if national.len() != 10 || !national.starts_with('0') || national.starts_with("00") {
            return Err("must have 10 digits".to_owned());
        }
        Ok(Self(national))
    }

    /// The ten digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Phone {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Phone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Phone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(|e| serde::de::Error::custom(format!("phone {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> String {
        Phone::parse(s)
            .unwrap_or_else(|e| panic!("{s:?}: {e}"))
            .to_string()
    }

    #[test]
    fn french_writings() {
        for s in [
            "06 12 34 56 78",
            "06.12.34.56.78",
            "06-12-34-56-78",
            "0612345678",
            " 0612345678 ",
            "+33 6 12 34 56 78",
            "+33612345678",
            "+33 (0)6 12 34 56 78",
            "+33 06 12 34 56 78",
            "0033 6 12 34 56 78",
            "0033612345678",
            "33 6 12 34 56 78",
            "06\u{A0}12\u{A0}34\u{A0}56\u{A0}78",
        ] {
            assert_eq!(p(s), "0612345678", "{s:?}");
        }
        assert_eq!(p("02.22.38.72.12"), "0222387212");
    }

    #[test]
    fn refusals() {
        assert_eq!(Phone::parse("0612").unwrap_err(), "must have 10 digits");
        assert!(Phone::parse("061234567890").is_err());
        assert!(Phone::parse("").is_err());
        assert!(Phone::parse("+32 2 123 45 67").is_err());
        assert!(Phone::parse("0044 20 1234 5678").is_err());
        assert!(Phone::parse("06 12 34 56 7x").is_err());
        assert!(Phone::parse("0012345678").is_err());
        assert!(Phone::parse("6+12345678").is_err());
        assert!(Phone::parse("612345678").is_err());
    }

    #[test]
    fn serde_as_string() {
        let ph = Phone::parse("+33 6 12 34 56 78").unwrap();
        assert_eq!(serde_json::to_string(&ph).unwrap(), "\"0612345678\"");
        let back: Phone = serde_json::from_str("\"06 12 34 56 78\"").unwrap();
        assert_eq!(back, ph);
    }
}
