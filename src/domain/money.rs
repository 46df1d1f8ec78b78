//! Amounts in euros, held as integer cents.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A non-negative amount in euros, stored as integer cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Euros(i64);

/// Largest accepted amount: 10^13 euros, far above any real debt, and far
/// from `i64` overflow.
const MAX_CENTS: i64 = 1_000_000_000_000_000;

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\u{A0}' | '\u{202F}' | '\u{2009}' | '\u{2007}')
}

impl Euros {
    /// An amount from integer cents. Negative values are refused.
    pub fn from_cents(cents: i64) -> Result<Self, String> {
        if cents < 0 {
            Err("must not be negative".to_owned())
        } else if cents > MAX_CENTS {
            Err("is too large".to_owned())
        } else {
            Ok(Self(cents))
        }
    }

    /// The amount in cents.
    pub fn cents(self) -> i64 {
        self.0
    }

    /// Parses the usual writings: `2311.00`, `2311`, `2 311,00 €`,
    /// `4\u{202F}925,72`, `2\u{A0}569,63€`, `1.234,56`, `1,234.56`.
    ///
    /// Spaces (plain, no-break, narrow no-break, thin) are thousands
    /// separators; the euro sign is optional; the decimal separator is a
    /// comma or a dot (when both appear, the last one is the decimal
    /// separator); at most two decimals. Error messages never quote the
    /// value (amounts are personal data here).
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut t = s.trim();
        if let Some(r) = t.strip_suffix('€') {
            t = r.trim_end();
        } else if let Some(r) = t.strip_prefix('€') {
            t = r.trim_start();
        }
        if let Some(r) = t.strip_suffix("EUR") {
            t = r.trim_end();
        }
        if t.starts_with('-') || t.starts_with('\u{2212}') {
            return Err("must not be negative".to_owned());
        }
        if let Some(r) = t.strip_prefix('+') {
            t = r;
        }
        if t.is_empty() {
            return Err("is not an amount".to_owned());
        }
        let cleaned: String = t.chars().filter(|&c| !is_space(c)).collect();
        let last_comma = cleaned.rfind(',');
        let last_dot = cleaned.rfind('.');
        let n_comma = cleaned.matches(',').count();
        let n_dot = cleaned.matches('.').count();
        // Position of the decimal separator, and the thousands separator char.
        let (decimal_at, thousands): (Option<usize>, Option<char>) = match (last_comma, last_dot) {
            (Some(c), Some(d)) => {
                if c > d {
                    if n_comma > 1 {
                        return Err("is not an amount".to_owned());
                    }
                    (Some(c), Some('.'))
                } else {
                    if n_dot > 1 {
                        return Err("is not an amount".to_owned());
                    }
                    (Some(d), Some(','))
                }
            }
            (Some(c), None) if n_comma == 1 => (Some(c), None),
            (None, Some(d)) if n_dot == 1 => (Some(d), None),
            (Some(_), None) => (None, Some(',')),
            (None, Some(_)) => (None, Some('.')),
            (None, None) => (None, None),
        };
        let (int_raw, frac) = match decimal_at {
            Some(i) => (&cleaned[..i], &cleaned[i + 1..]),
            None => (cleaned.as_str(), ""),
        };
        let int_part: String = match thousands {
            Some(sep) => {
                // Groups after the first must be exactly three digits.
                let mut groups = int_raw.split(sep);
                let first = groups.next().unwrap_or("");
                if first.is_empty() || first.len() > 3 && int_raw.contains(sep) {
                    return Err("is not an amount".to_owned());
                }
                let mut joined = first.to_owned();
                for g in groups {
                    if g.len() != 3 {
                        return Err("is not an amount".to_owned());
                    }
                    joined.push_str(g);
                }
                joined
            }
            None => int_raw.to_owned(),
        };
        if !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || (int_part.is_empty() && frac.is_empty())
            || (decimal_at.is_some() && frac.is_empty())
        {
            return Err("is not an amount".to_owned());
        }
        if frac.len() > 2 {
            return Err("must have at most 2 decimals".to_owned());
        }
        let int_digits = int_part.trim_start_matches('0');
        // Fourteen digits hold the ceiling (10^13 euros) and stay far from
        // `i64` overflow; `from_cents` decides against the ceiling itself,
        // so that every amount it accepts is read back from its text.
        if int_digits.len() > 14 {
            return Err("is too large".to_owned());
        }
        let euros: i64 = if int_digits.is_empty() {
            0
        } else {
            int_digits
                .parse()
                .map_err(|_| "is not an amount".to_owned())?
        };
        let cents: i64 = match frac.len() {
            0 => 0,
            1 => {
                frac.parse::<i64>()
                    .map_err(|_| "is not an amount".to_owned())?
                    * 10
            }
            _ => frac.parse().map_err(|_| "is not an amount".to_owned())?,
        };
        Self::from_cents(euros * 100 + cents)
    }

    /// An amount from a spreadsheet number; values must be within a
    /// millionth of a whole cent (spreadsheet arithmetic noise is tolerated).
    pub fn from_f64(v: f64) -> Result<Self, String> {
        if !v.is_finite() {
            return Err("is not an amount".to_owned());
        }
        if v < 0.0 {
            return Err("must not be negative".to_owned());
        }
        let cents = v * 100.0;
        let rounded = cents.round();
        if (cents - rounded).abs() > 1e-4 {
            return Err("must have at most 2 decimals".to_owned());
        }
        if rounded > MAX_CENTS as f64 {
            return Err("is too large".to_owned());
        }
        Self::from_cents(rounded as i64)
    }
}

impl fmt::Display for Euros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl Serialize for Euros {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Euros {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(|e| serde::de::Error::custom(format!("amount {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> i64 {
        Euros::parse(s)
            .unwrap_or_else(|e| panic!("{s:?}: {e}"))
            .cents()
    }

    #[test]
    fn usual_writings() {
        assert_eq!(c("2311.00"), 231_100);
        assert_eq!(c("2311"), 231_100);
        assert_eq!(c("2 311,00 €"), 231_100);
        assert_eq!(c("2 311,00€"), 231_100);
        assert_eq!(c("4\u{202F}925,72"), 492_572);
        assert_eq!(c("2\u{A0}569,63€"), 256_963);
        assert_eq!(c("1 577,31 "), 157_731);
        assert_eq!(c("1200,5"), 120_050);
        assert_eq!(c("0,07"), 7);
        assert_eq!(c("€ 12"), 1200);
        assert_eq!(c("12 EUR"), 1200);
        assert_eq!(c("0"), 0);
    }

    #[test]
    fn both_separators_last_is_decimal() {
        assert_eq!(c("1.234,56"), 123_456);
        assert_eq!(c("1,234.56"), 123_456);
        assert_eq!(c("1.234.567,8"), 123_456_780);
        assert_eq!(c("1,234,567"), 123_456_700);
    }

    #[test]
    fn refusals() {
        assert_eq!(Euros::parse("-40").unwrap_err(), "must not be negative");
        assert_eq!(
            Euros::parse(" -1,00 €").unwrap_err(),
            "must not be negative"
        );
        assert_eq!(
            Euros::parse("12,345").unwrap_err(),
            "must have at most 2 decimals"
        );
        for bad in [
            "",
            "€",
            "abc",
            "12a",
            "1,2,3,4",
            "1.234,56,7",
            "12,",
            ",",
            "1,23.4.5",
            "12,34 56,7",
        ] {
            assert!(Euros::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(Euros::parse("99999999999999999999").is_err());
        assert_eq!(
            Euros::parse("10000000000000.01").unwrap_err(),
            "is too large"
        );
    }

    #[test]
    fn the_ceiling_is_read_back() {
        let top = Euros::from_cents(MAX_CENTS).unwrap();
        assert_eq!(Euros::parse(&top.to_string()), Ok(top));
    }

    #[test]
    fn from_f64() {
        assert_eq!(Euros::from_f64(912.16).unwrap().cents(), 91216);
        assert_eq!(Euros::from_f64(775.2).unwrap().cents(), 77520);
        assert_eq!(Euros::from_f64(0.1 + 0.2).unwrap().cents(), 30);
        assert!(Euros::from_f64(1.234).is_err());
        assert!(Euros::from_f64(-1.0).is_err());
        assert!(Euros::from_f64(f64::NAN).is_err());
    }

    #[test]
    fn display_and_serde() {
        let e = Euros::parse("2 311,00 €").unwrap();
        assert_eq!(e.to_string(), "2311.00");
        assert_eq!(Euros::parse("0,5").unwrap().to_string(), "0.50");
        assert_eq!(serde_json::to_string(&e).unwrap(), "\"2311.00\"");
        let back: Euros = serde_json::from_str("\"2311.00\"").unwrap();
        assert_eq!(back, e);
    }
}
