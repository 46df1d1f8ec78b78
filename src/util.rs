//! Small helpers shared by several modules.

/// RFC 3339 UTC with milliseconds (`2026-11-27T04:34:35.123Z`).
pub fn rfc3339_ms(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Now, in epoch milliseconds.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// RFC 3339 from epoch milliseconds.
pub fn ms_to_rfc3339(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    rfc3339_ms(t)
}

/// `bytes` random bytes from the operating system, in hex.
pub fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
    hex::encode(b)
}

/// A random identifier: a prefix and 128 random bits in hex.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_hex(16))
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A weekday in French (`lundi`).
pub fn weekday_fr(d: time::Weekday) -> &'static str {
    use time::Weekday::*;
    match d {
        Monday => "lundi",
        Tuesday => "mardi",
        Wednesday => "mercredi",
        Thursday => "jeudi",
        Friday => "vendredi",
        Saturday => "samedi",
        Sunday => "dimanche",
    }
}

/// An instant in Europe/Paris time, as the people of the circuit read
/// it: UTC+1, and UTC+2 from the last Sunday of March 01:00 UTC to the
/// last Sunday of October 01:00 UTC (the EU's summer time, directive
/// 2000/84/EC, the only rule France has followed since 1996).
pub fn paris(t: time::OffsetDateTime) -> time::OffsetDateTime {
    let t = t.to_offset(time::UtcOffset::UTC);
    let last_sunday_1h = |m: time::Month| {
        let mut d = time::Date::from_calendar_date(t.year(), m, 31).unwrap_or(t.date());
        while d.weekday() != time::Weekday::Sunday {
            d = d.previous_day().unwrap_or(d);
        }
        d.with_hms(1, 0, 0).unwrap_or(d.midnight()).assume_utc()
    };
    let summer =
        t >= last_sunday_1h(time::Month::March) && t < last_sunday_1h(time::Month::October);
    let hours = if summer { 2 } else { 1 };
    t.to_offset(time::UtcOffset::from_hms(hours, 0, 0).unwrap_or(time::UtcOffset::UTC))
}

#[cfg(test)]
mod paris_tests {
    use super::paris;
    use time::macros::datetime;

    #[test]
    fn summer_time_starts_and_ends_on_the_last_sundays_at_one_utc() {
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        assert_eq!(
            paris(datetime!(2026-03-29 00:59 UTC))
                .offset()
                .whole_hours(),
            1
        );
        assert_eq!(
            paris(datetime!(2026-03-29 01:00 UTC))
                .offset()
                .whole_hours(),
            2
        );
        assert_eq!(
            paris(datetime!(2026-10-25 00:59 UTC))
                .offset()
                .whole_hours(),
            2
        );
        assert_eq!(
            paris(datetime!(2026-10-25 01:00 UTC))
                .offset()
                .whole_hours(),
            1
        );
        let winter = paris(datetime!(2026-12-07 23:30 UTC));
        assert_eq!((winter.day(), winter.hour(), winter.minute()), (8, 0, 30));
    }
}
