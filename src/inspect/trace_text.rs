//! How a trace reads as text, shared by the CLI's tree and the UI's trace view: the tree
//! lines, the time since the root, the note on a broken link, the one-line summary.

use chrono::{DateTime, Utc};

use super::trace::{Link, Trace};
use crate::display::counted;
use crate::model::format_time;

/// `+1.5s`, `+3m05s`, `+2h10m`, `+4d3h`: how long after the root an event happened.
pub fn elapsed(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> String {
    let (Some(from), Some(to)) = (from, to) else {
        return "-".into();
    };
    let ms = (to - from).num_milliseconds();
    let sign = if ms < 0 { "-" } else { "+" };
    let ms = ms.unsigned_abs();
    let (s, m, h, d) = (ms / 1000, ms / 60_000, ms / 3_600_000, ms / 86_400_000);
    let text = match () {
        _ if ms < 10_000 && ms % 1000 != 0 => format!("{:.1}s", ms as f64 / 1000.0),
        _ if ms < 60_000 => format!("{s}s"),
        _ if ms < 3_600_000 => format!("{m}m{:02}s", s % 60),
        _ if ms < 86_400_000 => format!("{h}h{:02}m", m % 60),
        _ => format!("{d}d{}h", h % 24),
    };
    format!("{sign}{text}")
}

impl Link {
    /// What is wrong with the link, if anything (`! caused by X, which is not in this store`).
    pub fn note(&self) -> String {
        match self {
            Link::Root | Link::CausedBy(_) => String::new(),
            Link::Outside(cause) => format!("caused by {cause}, outside this trace"),
            Link::Dangling(cause) => format!("! caused by {cause}, which is not in this store"),
            Link::Cycle(cause) => format!("! causation cycle (caused by {cause})"),
        }
    }
}

impl Trace {
    /// When the root event happened: the zero of the elapsed times.
    pub fn start_time(&self) -> Option<DateTime<Utc>> {
        self.root().and_then(|root| root.event.timestamp)
    }

    /// `trace req-7a1f: 5 events in 3 aggregates, from 2026-… over 3m05s`.
    pub fn summary(&self) -> String {
        let last = self.events.iter().filter_map(|e| e.event.timestamp).max();
        let start = self.start_time();
        let span = match (start, last) {
            (Some(start), Some(_)) => format!(
                ", from {} over {}",
                format_time(&start),
                elapsed(Some(start), last).trim_start_matches('+')
            ),
            _ => String::new(),
        };
        let events = self.events.len();
        let aggregates = self.aggregates();
        format!(
            "trace {}: {} in {}{span}",
            self.id,
            counted(events, "event"),
            counted(aggregates, "aggregate"),
        )
    }

    /// The tree lines before event `i`: `│  ` for each open ancestor level, then `├─ ` or
    /// `└─ `.
    pub fn branch(&self, i: usize) -> String {
        let depth = self.events[i].depth;
        if depth == 0 {
            return String::new();
        }
        // Whether a later sibling follows at a given depth before the subtree ends.
        let continues = |from: usize, level: usize| {
            self.events[from + 1..]
                .iter()
                .take_while(|e| e.depth >= level)
                .any(|e| e.depth == level)
        };
        let mut prefix = String::new();
        for level in 1..depth {
            // The ancestor at `level` is the nearest earlier event at that depth.
            let ancestor = (0..i).rev().find(|&j| self.events[j].depth == level);
            let open = ancestor.is_some_and(|a| continues(a, level));
            prefix.push_str(if open { "│  " } else { "   " });
        }
        prefix.push_str(if continues(i, depth) {
            "├─ "
        } else {
            "└─ "
        });
        prefix
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_time;

    #[test]
    fn elapsed_reads_like_a_person_would_say_it() {
        let at = |t: &str| parse_time(t);
        let start = at("2026-01-15T10:00:00Z");
        for (to, shown) in [
            ("2026-01-15T10:00:00Z", "+0s"),
            ("2026-01-15T10:00:01.500Z", "+1.5s"),
            ("2026-01-15T10:00:42Z", "+42s"),
            ("2026-01-15T10:03:05Z", "+3m05s"),
            ("2026-01-15T12:10:00Z", "+2h10m"),
            ("2026-01-19T13:00:00Z", "+4d3h"),
            ("2026-01-15T09:59:59Z", "-1s"),
        ] {
            assert_eq!(elapsed(start, at(to)), shown, "{to}");
        }
        assert_eq!(elapsed(start, None), "-");
    }
}
