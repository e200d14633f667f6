//! Times as people type them into `t`: a full time or a prefix (`2026-01-15 10:30`,
//! `2026-01-15`, `2026-01`), a time of day on the cursor's day (`10:30`), or a step from
//! the cursor's time (`-1h`, `+15m`, `+2d`, `-30s`).
//!
//! A time written with an offset (or `Z`) is that instant. One written without is read in
//! the zone the screen shows times in: UTC while times are shown as stored, the local zone
//! once `u` shows them so — a person reading `10:30+05:30` on screen types `10:30`.

use chrono::{DateTime, Duration, Local, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

use crate::model::parse_time;
use crate::tui::text::Zone;

/// The time `input` means, read near `cursor` (the cursor event's time, if it has one),
/// a time without an offset in `zone`.
pub fn resolve_time(
    input: &str,
    cursor: Option<DateTime<Utc>>,
    zone: Zone,
) -> Option<DateTime<Utc>> {
    resolve_in(input, cursor, zone, &Local)
}

/// `resolve_time` with the local zone given, so tests need not set `TZ`.
fn resolve_in<Tz: TimeZone>(
    input: &str,
    cursor: Option<DateTime<Utc>>,
    zone: Zone,
    local: &Tz,
) -> Option<DateTime<Utc>> {
    let input = input.trim();
    let in_zone = |naive: NaiveDateTime| match zone {
        Zone::Stored => Some(naive.and_utc()),
        // A time the clock skips (a spring-forward gap) is no instant; one it repeats is
        // read as its first.
        Zone::Local => local
            .from_local_datetime(&naive)
            .earliest()
            .map(|t| t.with_timezone(&Utc)),
    };
    let written_with_offset =
        DateTime::parse_from_rfc3339(input).is_ok() || input.ends_with(['Z', 'z']);
    if let Some(at) = parse_time(input) {
        return match written_with_offset {
            true => Some(at),
            false => in_zone(at.naive_utc()),
        };
    }
    if let Some(step) = relative(input) {
        return cursor?.checked_add_signed(step);
    }
    if let Some(day_time) = time_of_day(input) {
        let day = match zone {
            Zone::Stored => cursor?.date_naive(),
            Zone::Local => cursor?.with_timezone(local).date_naive(),
        };
        return in_zone(day.and_time(day_time));
    }
    // A month: its first instant.
    NaiveDate::parse_from_str(&format!("{input}-01"), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(in_zone)
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

    fn resolve_time(input: &str, cursor: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        super::resolve_time(input, cursor, Zone::Stored)
    }

    #[test]
    fn under_the_local_display_a_time_without_offset_is_local() {
        let kolkata = chrono::FixedOffset::east_opt(5 * 3600 + 1800).unwrap();
        // 20:00Z is already the next day in Kolkata: `04:00` is on that day.
        let cursor = Some(t("2026-01-31T20:00:00Z"));
        let local = |input: &str| resolve_in(input, cursor, Zone::Local, &kolkata);
        assert_eq!(local("04:00"), Some(t("2026-01-31T22:30:00Z")));
        assert_eq!(local("2026-02-01 10:30"), Some(t("2026-02-01T05:00:00Z")));
        assert_eq!(local("2026-02"), Some(t("2026-01-31T18:30:00Z")));
        // Written with an offset, or Z, it is that instant whatever the display.
        assert_eq!(
            local("2026-02-01T10:30:00Z"),
            Some(t("2026-02-01T10:30:00Z"))
        );
        assert_eq!(local("2026-02-01 10:30Z"), Some(t("2026-02-01T10:30:00Z")));
        assert_eq!(
            local("2026-02-01T10:30:00+01:00"),
            Some(t("2026-02-01T09:30:00Z"))
        );
        assert_eq!(local("-1h"), Some(t("2026-01-31T19:00:00Z")));
        // As stored, the same text is UTC on the cursor's UTC day.
        let stored = |input: &str| resolve_in(input, cursor, Zone::Stored, &kolkata);
        assert_eq!(stored("04:00"), Some(t("2026-01-31T04:00:00Z")));
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
