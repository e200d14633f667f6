//! Oddities in a history that replay survives but a person should see.

use chrono::{DateTime, Utc};

use crate::model::{format_time, Event, EventIssue};

#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    /// 0-based index of the event the warning is about.
    pub index: usize,
    pub version: u64,
    pub kind: WarningKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WarningKind {
    /// Versions jump, e.g. from 4 to 7 (or the history does not start at 1).
    VersionGap {
        expected: u64,
    },
    DuplicateVersion,
    TimestampBackwards {
        previous: DateTime<Utc>,
    },
    /// The store row had a problem of its own, e.g. an unparseable timestamp.
    Stored(EventIssue),
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            WarningKind::VersionGap { expected } => {
                write!(
                    f,
                    "version gap: expected v{expected}, found v{}",
                    self.version
                )
            }
            WarningKind::DuplicateVersion => write!(f, "duplicate version v{}", self.version),
            WarningKind::TimestampBackwards { previous } => write!(
                f,
                "timestamp goes backwards (previous event at {})",
                format_time(previous)
            ),
            WarningKind::Stored(issue) => write!(f, "{issue}"),
        }
    }
}

/// The warnings about one event, given the version and time of its aggregate's event before
/// it (none for the first); for readers that see events one by one (the store log).
pub fn warnings_for(event: &Event, previous: Option<(u64, Option<DateTime<Utc>>)>) -> Vec<Warning> {
    let mut out = Vec::new();
    check(0, event, previous, &mut out);
    out
}

/// Checks one event against the version and time of the one before it.
pub fn check(
    index: usize,
    event: &Event,
    previous: Option<(u64, Option<DateTime<Utc>>)>,
    out: &mut Vec<Warning>,
) {
    let mut warn = |kind| {
        out.push(Warning {
            index,
            version: event.version,
            kind,
        })
    };
    for issue in &event.issues {
        warn(WarningKind::Stored(issue.clone()));
    }
    // An unreadable version was said once above; it has no number to be a gap or a duplicate.
    let unreadable = event
        .issues
        .iter()
        .any(|issue| matches!(issue, EventIssue::BadVersion(_)));
    let expected = previous.map_or(1, |(version, _)| version.saturating_add(1));
    match previous {
        _ if unreadable => {}
        Some((version, _)) if event.version == version => warn(WarningKind::DuplicateVersion),
        _ if event.version != expected => warn(WarningKind::VersionGap { expected }),
        _ => {}
    }
    let previous_time = previous.and_then(|(_, time)| time);
    if let (Some(previous), Some(this)) = (previous_time, event.timestamp) {
        if this < previous {
            warn(WarningKind::TimestampBackwards { previous });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_after_the_largest_one_is_a_gap_not_an_overflow() {
        let event = Event {
            version: 7,
            ..Event::default()
        };
        let warnings = warnings_for(&event, Some((u64::MAX, None)));
        assert!(
            warnings
                .iter()
                .any(|w| matches!(w.kind, WarningKind::VersionGap { expected: u64::MAX })),
            "{warnings:?}"
        );
    }
}
