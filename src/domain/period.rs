//! `Period`: a month, `AAAA-MM`.

use std::fmt;

/// A month of the circuit (`2026-10`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: u16,
    month: u8,
}

impl Period {
    /// Parses `AAAA-MM`.
    pub fn parse(s: &str) -> Result<Period, String> {
        let bad = || format!("period must be AAAA-MM (got {s:?})");
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        // Digits only: `u16::from_str` would also take a sign (`2026-+1`),
        // and a period is one writing of one month.
        if y.len() != 4 || m.len() != 2 || !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let year: u16 = y.parse().map_err(|_| bad())?;
        let month: u8 = m.parse().map_err(|_| bad())?;
        if !(2000..=2999).contains(&year) || !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Period { year, month })
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_and_print() {
        assert_eq!(Period::parse("2026-10").unwrap().to_string(), "2026-10");
        for bad in [
            "2026-13", "2026-1", "26-10", "2026/10", "", "2026-00", "2026-+1", "+206-10",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
    }
}
