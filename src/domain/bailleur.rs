//! Landlord type.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::text::fold_key;

/// Social or private landlord.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BailleurType {
    /// Social landlord (bailleur social).
    Social,
    /// Private landlord (bailleur privé).
    Prive,
}

impl BailleurType {
    /// Parses `social`, `prive`, `privé`, `Bailleur social`, `Bailleur privé`,
    /// any case. The error quotes the value only if it is a short word.
    pub fn parse(s: &str) -> Result<Self, String> {
        let k = fold_key(s);
        let k = k.strip_prefix("BAILLEUR ").unwrap_or(&k);
        match k {
            "SOCIAL" => Ok(Self::Social),
            "PRIVE" | "PRIVEE" => Ok(Self::Prive),
            _ => {
                let t = s.trim();
                if !t.is_empty()
                    && t.chars().count() <= 30
                    && t.chars().all(|c| c.is_alphabetic() || c == ' ' || c == '-')
                {
                    Err(format!("must be social or prive (got {t})"))
                } else {
                    Err("must be social or prive".to_owned())
                }
            }
        }
    }

    /// `"social"` or `"prive"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Social => "social",
            Self::Prive => "prive",
        }
    }
}

impl fmt::Display for BailleurType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writings() {
        for s in ["social", "SOCIAL", "Bailleur social", " bailleur  SOCIAL "] {
            assert_eq!(
                BailleurType::parse(s).unwrap(),
                BailleurType::Social,
                "{s:?}"
            );
        }
        for s in [
            "prive",
            "privé",
            "PRIVE",
            "Privé",
            "Bailleur privé",
            "bailleur-prive",
        ] {
            assert_eq!(
                BailleurType::parse(s).unwrap(),
                BailleurType::Prive,
                "{s:?}"
            );
        }
    }

    #[test]
    fn refusals() {
        assert_eq!(
            BailleurType::parse("locataire").unwrap_err(),
            "must be social or prive (got locataire)"
        );
        assert_eq!(
            BailleurType::parse("").unwrap_err(),
            "must be social or prive"
        );
        assert!(BailleurType::parse("bailleur").is_err());
        assert!(BailleurType::parse("socialprive").is_err());
        assert_eq!(
            BailleurType::parse("jean@exemple.fr").unwrap_err(),
            "must be social or prive"
        );
    }

    #[test]
    fn serde_names() {
        assert_eq!(
            serde_json::to_string(&BailleurType::Prive).unwrap(),
            "\"prive\""
        );
        assert_eq!(
            serde_json::from_str::<BailleurType>("\"social\"").unwrap(),
            BailleurType::Social
        );
        assert_eq!(BailleurType::Social.to_string(), "social");
    }
}
