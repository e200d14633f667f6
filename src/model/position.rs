use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// A point in an aggregate's history, as a person names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// After the event with this version (0 is the empty state before the first event).
    Version(u64),
    /// After the last event whose timestamp is at or before this time.
    Time(DateTime<Utc>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a position: use a version like 12 or v12, or a time like 2026-01-15T10:30:00Z")]
pub struct PositionError {
    pub input: String,
}

impl std::str::FromStr for Position {
    type Err = PositionError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let trimmed = input.trim();
        let digits = trimmed
            .strip_prefix('v')
            .or_else(|| trimmed.strip_prefix('V'))
            .unwrap_or(trimmed);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return digits
                .parse()
                .map(Position::Version)
                .map_err(|_| PositionError {
                    input: input.to_string(),
                });
        }
        parse_time(trimmed)
            .map(Position::Time)
            .ok_or_else(|| PositionError {
                input: input.to_string(),
            })
    }
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Position::Version(v) => write!(f, "v{v}"),
            Position::Time(t) => write!(f, "{}", crate::model::format_time(t)),
        }
    }
}

/// Parses RFC 3339, or a UTC prefix of it such as `2026-01-15 10:30` or `2026-01-15`.
///
/// A prefix stands for the earliest instant it names (`2026-01-15` is midnight UTC).
pub fn parse_time(input: &str) -> Option<DateTime<Utc>> {
    let input = input.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(input) {
        return Some(t.with_timezone(&Utc));
    }
    let mut naive = input.strip_suffix('Z').unwrap_or(input).replace('T', " ");
    if naive.len() == 13 {
        // chrono needs minutes; `2026-01-15 10` means the top of that hour.
        naive.push_str(":00");
    }
    const FORMATS: [&str; 2] = ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M"];
    for format in FORMATS {
        if let Ok(t) = NaiveDateTime::parse_from_str(&naive, format) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(&naive, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn versions_with_and_without_prefix() {
        assert_eq!("12".parse(), Ok(Position::Version(12)));
        assert_eq!("v12".parse(), Ok(Position::Version(12)));
        assert_eq!(" V0 ".parse(), Ok(Position::Version(0)));
    }

    #[test]
    fn rfc3339_with_offset_is_normalised_to_utc() {
        assert_eq!(
            "2026-01-15T12:30:00+02:00".parse(),
            Ok(Position::Time(time("2026-01-15T10:30:00Z")))
        );
    }

    #[test]
    fn prefixes_name_their_earliest_instant() {
        assert_eq!(
            parse_time("2026-01-15 10:30"),
            Some(time("2026-01-15T10:30:00Z"))
        );
        assert_eq!(
            parse_time("2026-01-15T10"),
            Some(time("2026-01-15T10:00:00Z"))
        );
        assert_eq!(parse_time("2026-01-15"), Some(time("2026-01-15T00:00:00Z")));
        assert_eq!(
            parse_time("2026-01-15 10:30:05.250"),
            Some(time("2026-01-15T10:30:05.250Z"))
        );
    }

    #[test]
    fn garbage_is_rejected_with_a_hint() {
        for bad in [
            "",
            "v",
            "v-1",
            "twelve",
            "2026-13-01",
            "99999999999999999999999",
        ] {
            let err = bad.parse::<Position>().unwrap_err();
            assert!(err.to_string().contains("is not a position"), "{bad}");
        }
    }
}
