//! Dates as written by partners and spreadsheets.

use time::{Date, Duration, Month};

/// Parses `JJ/MM/AAAA` (day and month may have one digit) or `AAAA-MM-JJ`.
///
/// `"31/02/2026"` gives the error `"31/02/2026 is not a date"`. The value is
/// quoted only when it is made of digits and date separators, so the message
/// never carries other data.
pub fn parse_date(s: &str) -> Result<Date, String> {
    let t = s.trim();
    let fail = || {
        let quotable = !t.is_empty()
            && t.chars().count() <= 20
            && t.chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '/' | '-' | '.' | ' ' | ':'));
        if quotable {
            format!("{t} is not a date")
        } else {
            "is not a date (expected JJ/MM/AAAA or AAAA-MM-JJ)".to_owned()
        }
    };
    let (y, m, d) = if let Some((a, rest)) = t.split_once('/') {
        let (b, c) = rest.split_once('/').ok_or_else(fail)?;
        if !(1..=2).contains(&a.len()) || !(1..=2).contains(&b.len()) || c.len() != 4 {
            return Err(fail());
        }
        (c, b, a)
    } else {
        let mut it = t.splitn(3, '-');
        let (a, b, c) = match (it.next(), it.next(), it.next()) {
            (Some(a), Some(b), Some(c)) => (a, b, c),
            _ => return Err(fail()),
        };
        if a.len() != 4 || b.len() != 2 || c.len() != 2 {
            return Err(fail());
        }
        (a, b, c)
    };
    let num = |x: &str| -> Result<u16, String> {
        if x.bytes().all(|b| b.is_ascii_digit()) {
            x.parse::<u16>().map_err(|_| fail())
        } else {
            Err(fail())
        }
    };
    let (y, m, d) = (num(y)?, num(m)?, num(d)?);
    let month = u8::try_from(m)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or_else(fail)?;
    let day = u8::try_from(d).map_err(|_| fail())?;
    Date::from_calendar_date(i32::from(y), month, day).map_err(|_| fail())
}

/// Converts an Excel serial day number (1900 system, epoch 1899-12-30) to a
/// date; the time-of-day fraction is dropped. Returns `None` outside
/// 1900-03-01 ..= 9999-12-31.
pub fn excel_serial_to_date(serial: f64) -> Option<Date> {
    if !serial.is_finite() || !(61.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let epoch = Date::from_calendar_date(1899, Month::December, 30).ok()?;
    epoch.checked_add(Duration::days(serial.floor() as i64))
}

/// Serde helper: a `time::Date` as `"AAAA-MM-JJ"`.
pub mod iso_date {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;

    /// Serialises as `AAAA-MM-JJ`.
    pub fn serialize<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!(
            "{:04}-{:02}-{:02}",
            d.year(),
            u8::from(d.month()),
            d.day()
        ))
    }

    /// Deserialises `AAAA-MM-JJ` (or `JJ/MM/AAAA`).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_date(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn both_writings() {
        assert_eq!(parse_date("05/10/2026").unwrap(), date!(2026 - 10 - 05));
        assert_eq!(parse_date("5/1/2026").unwrap(), date!(2026 - 01 - 05));
        assert_eq!(parse_date(" 2026-09-19 ").unwrap(), date!(2026 - 09 - 19));
        assert_eq!(parse_date("29/02/2028").unwrap(), date!(2028 - 02 - 29));
    }

    #[test]
    fn impossible_dates() {
        assert_eq!(
            parse_date("31/02/2026").unwrap_err(),
            "31/02/2026 is not a date"
        );
        assert_eq!(
            parse_date("2026-13-01").unwrap_err(),
            "2026-13-01 is not a date"
        );
        assert_eq!(
            parse_date("29/02/2026").unwrap_err(),
            "29/02/2026 is not a date"
        );
        for bad in [
            "",
            "2026/10/05",
            "10-05-2026",
            "05/10/26",
            "2026-1-05",
            "aa/bb/cccc",
            "1/2/3/4",
            "+5/10/2026",
        ] {
            assert!(parse_date(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            parse_date("Jean Martin").unwrap_err(),
            "is not a date (expected JJ/MM/AAAA or AAAA-MM-JJ)"
        );
    }

    #[test]
    fn excel_serials() {
        assert_eq!(excel_serial_to_date(46327.0), Some(date!(2026 - 11 - 01)));
        assert_eq!(excel_serial_to_date(45943.5), Some(date!(2025 - 10 - 13)));
        assert_eq!(excel_serial_to_date(1.0), None);
        assert_eq!(excel_serial_to_date(f64::NAN), None);
    }

    #[test]
    fn iso_serde() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct W(#[serde(with = "iso_date")] Date);
        let w = W(date!(2026 - 02 - 03));
        assert_eq!(serde_json::to_string(&w).unwrap(), "\"2026-02-03\"");
        assert_eq!(serde_json::from_str::<W>("\"2026-02-03\"").unwrap(), w);
    }
}
