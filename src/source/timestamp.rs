//! Timestamps as stores keep them: RFC 3339 text (or SQLite's `YYYY-MM-DD HH:MM:SS`), or
//! epoch seconds or milliseconds, as a number or as digit-only text (a `TEXT` column keeps
//! an inserted integer as text). One rule for every source that reads stored times.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};

use crate::model::parse_time;

/// Numbers at or above this cannot be seconds of any plausible date (year 5138), so they are
/// milliseconds.
const MILLISECONDS_FROM: i64 = 100_000_000_000;

/// A stored time written as text: a date and time, or an epoch number spelled in digits.
pub fn from_text(text: &str) -> Option<DateTime<Utc>> {
    let trimmed = text.trim();
    if is_epoch_number(trimmed) {
        return match trimmed.parse::<i64>() {
            Ok(n) => from_epoch(n),
            Err(_) => from_epoch_real(trimmed.parse::<f64>().ok()?),
        };
    }
    parse_time(trimmed)
}

/// The UTC offset a stored time was written with (`+05:00` in `2026-03-01T11:00:00+05:00`),
/// so a display can keep it; `None` for UTC (`Z`, `+00:00`), epoch numbers and times
/// without one. Only the text's tail is looked at: it runs once per event read.
pub fn written_offset(text: &str) -> Option<FixedOffset> {
    let bytes = text.trim_end().as_bytes();
    let digit = |at: usize| {
        bytes
            .get(at)
            .filter(|b| b.is_ascii_digit())
            .map(|b| i32::from(b - b'0'))
    };
    let number = |at: usize| Some(digit(at)? * 10 + digit(at + 1)?);
    // `+05:00` or `+0500`, after a time (a digit or a fraction's last digit before it).
    let (sign_at, minutes_at) = match bytes.len().checked_sub(6) {
        Some(at) if bytes[at + 3] == b':' => (at, at + 4),
        _ => (bytes.len().checked_sub(5)?, bytes.len() - 2),
    };
    let sign = match bytes[sign_at] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    // A date's `-01-15` has a digit then `-` before it too: only a time has a `:` first.
    bytes[..sign_at]
        .iter()
        .rev()
        .take(16)
        .position(|&b| b == b':')?;
    digit(sign_at.checked_sub(1)?)?;
    let (hours, minutes) = (number(sign_at + 1)?, number(minutes_at)?);
    if hours > 23 || minutes > 59 {
        return None;
    }
    let seconds = sign * (hours * 3600 + minutes * 60);
    (seconds != 0)
        .then(|| FixedOffset::east_opt(seconds))
        .flatten()
}

/// Epoch seconds, or milliseconds for numbers too large to be seconds.
pub fn from_epoch(n: i64) -> Option<DateTime<Utc>> {
    if n.checked_abs().is_none_or(|n| n >= MILLISECONDS_FROM) {
        Utc.timestamp_millis_opt(n).single()
    } else {
        Utc.timestamp_opt(n, 0).single()
    }
}

/// A real-valued epoch time; the fraction is dropped, as the integer rule reads the rest.
pub fn from_epoch_real(f: f64) -> Option<DateTime<Utc>> {
    if !f.is_finite() || f.abs() >= i64::MAX as f64 {
        return None;
    }
    from_epoch(f as i64)
}

/// `1772359200`, `-5`, `1772359200.5`: an optional minus, digits, an optional fraction.
fn is_epoch_number(text: &str) -> bool {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && digits(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(s: &str) -> Option<DateTime<Utc>> {
        parse_time(s)
    }

    #[test]
    fn digit_only_text_is_epoch_seconds_or_milliseconds() {
        let expected = time("2026-03-01T10:00:00Z");
        assert_eq!(from_text("1772359200"), expected);
        assert_eq!(from_text(" 1772359200000 "), expected);
        assert_eq!(from_text("1772359200.75"), expected);
        assert_eq!(from_text("-86400"), time("1969-12-31T00:00:00Z"));
        assert_eq!(from_epoch(1_772_359_200), expected);
        assert_eq!(from_epoch(1_772_359_200_000), expected);
    }

    #[test]
    fn written_offsets_are_kept_and_utc_is_not_one() {
        let east = |s| FixedOffset::east_opt(s);
        assert_eq!(written_offset("2026-03-01T11:00:00+05:00"), east(5 * 3600));
        assert_eq!(
            written_offset("2026-03-01T11:00:00.125-03:30"),
            east(-(3 * 3600 + 1800))
        );
        assert_eq!(
            written_offset("2026-03-01 11:00:00+0530 "),
            east(5 * 3600 + 1800)
        );
        for none in [
            "2026-03-01T11:00:00Z",
            "2026-03-01T11:00:00+00:00",
            "2026-03-01 11:00:00",
            "2026-03-01",
            "2026-03-01T11:00",
            "1772359200",
            "-05:00",
            "",
            "2026-03-01T11:00:00+25:00",
        ] {
            assert_eq!(written_offset(none), None, "{none:?}");
        }
    }

    #[test]
    fn dates_still_parse_and_garbage_does_not() {
        assert_eq!(
            from_text("2026-03-01 10:00:00"),
            time("2026-03-01T10:00:00Z")
        );
        assert_eq!(
            from_text("2026-03-01T12:00:00+02:00"),
            time("2026-03-01T10:00:00Z")
        );
        for bad in [
            "",
            "-",
            ".5",
            "1.",
            "12a",
            "9".repeat(40).as_str(),
            "yesterday",
        ] {
            assert_eq!(from_text(bad), None, "{bad:?}");
        }
        assert_eq!(from_epoch(i64::MIN), None);
        assert_eq!(from_epoch_real(f64::NAN), None);
        assert_eq!(from_epoch_real(1e300), None);
    }
}
