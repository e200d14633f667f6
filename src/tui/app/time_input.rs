//! Times as people type them into `t`: a full time or a prefix (`2026-01-15 10:30`,
//! `2026-01-15`, `2026-01`), a time of day on the cursor's day (`10:30`), or a step from
//! the cursor's time (`-1h`, `+15m`, `+2d`, `-30s`).

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

use crate::model::parse_time;

/// The time `input` means, read near `cursor` (the cursor event's time, if it has one).
pub fn resolve_time(input: &str, cursor: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    let input = input.trim();
    if let Some(at) = parse_time(input) {
        return Some(at);
    }
    if let Some(step) = relative(input) {
        return cursor?.checked_add_signed(step);
    }
    if let Some(day_time) = time_of_day(input) {
        return Some(cursor?.date_naive().and_time(day_time).and_utc());
    }
    // A month: its first instant.
    NaiveDate::parse_from_str(&format!("{input}-01"), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// `+15m`, `-1h`: a signed whole number of seconds, minutes, hours or days.
fn relative(input: &str) -> Option<Duration> {
    let (sign, rest) = match input.as_bytes().first()? {
        b'+' => (1, &input[1..]),
        b'-' => (-1, &input[1..]),
        _ => return None,
    };
    let unit = rest.chars().last()?;
    let amount: i64 = rest[..rest.len() - unit.len_utf8()].trim().parse().ok()?;
    let amount = amount.checked_mul(sign)?;
    match unit {
        's' => Duration::try_seconds(amount),
        'm' => Duration::try_minutes(amount),
        'h' => Duration::try_hours(amount),
        'd' => Duration::try_days(amount),
        _ => None,
    }
}

fn time_of_day(input: &str) -> Option<NaiveTime> {
    ["%H:%M:%S%.f", "%H:%M"]
        .iter()
        .find_map(|format| NaiveTime::parse_from_str(input, format).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn times_are_read_near_the_cursor() {
        let cursor = Some(t("2026-01-15T09:20:00Z"));
        assert_eq!(
            resolve_time("10:30", cursor),
            Some(t("2026-01-15T10:30:00Z"))
        );
        assert_eq!(
            resolve_time("10:30:05", cursor),
            Some(t("2026-01-15T10:30:05Z"))
        );
        assert_eq!(resolve_time("-1h", cursor), Some(t("2026-01-15T08:20:00Z")));
        assert_eq!(
            resolve_time("+15m", cursor),
            Some(t("2026-01-15T09:35:00Z"))
        );
        assert_eq!(resolve_time("+2d", cursor), Some(t("2026-01-17T09:20:00Z")));
        assert_eq!(
            resolve_time("2026-02", cursor),
            Some(t("2026-02-01T00:00:00Z"))
        );
        assert_eq!(
            resolve_time("2026-01-16", cursor),
            Some(t("2026-01-16T00:00:00Z"))
        );
        assert_eq!(
            resolve_time("2026-01-15T12:00:00+02:00", cursor),
            Some(t("2026-01-15T10:00:00Z"))
        );
    }

    #[test]
    fn nonsense_and_huge_steps_are_not_times() {
        let cursor = Some(t("2026-01-15T09:20:00Z"));
        for input in ["soon", "+h", "+1y", "-99999999999999999d", "25:00", ""] {
            assert_eq!(resolve_time(input, cursor), None, "{input:?}");
        }
        assert_eq!(
            resolve_time("10:30", None),
            None,
            "no cursor time to read it on"
        );
    }
}
