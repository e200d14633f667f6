//! Where an event sits in its store, so events of different aggregates share one order.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

/// A store position: totally ordered within one store (never compared across stores).
///
/// SQL stores have a global sequence (SQLite's rowid or a mapped column, PostgreSQL's global
/// position) and transcripts their step order. A Kafka topic has none, so its records are
/// merged across partitions by record timestamp, then partition, then offset: the derived
/// order compares exactly those fields, in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StorePosition {
    Seq(i64),
    Record {
        timestamp_ms: i64,
        partition: i32,
        offset: i64,
    },
}

impl Default for StorePosition {
    fn default() -> Self {
        StorePosition::Seq(0)
    }
}

impl StorePosition {
    /// The position as `$event.position` and JSON output carry it: a number, or
    /// `{"partition", "offset"}` for a Kafka record.
    pub fn to_json(&self) -> Value {
        match self {
            StorePosition::Seq(n) => json!(n),
            StorePosition::Record {
                partition, offset, ..
            } => json!({"partition": partition, "offset": offset}),
        }
    }
}

/// Shown as `1234`, or `0:1234` (partition:offset) for a Kafka record.
impl std::fmt::Display for StorePosition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StorePosition::Seq(n) => write!(f, "{n}"),
            StorePosition::Record {
                partition, offset, ..
            } => write!(f, "{partition}:{offset}"),
        }
    }
}

/// A store position as a person types it; Kafka positions still need their record's time,
/// which only the source knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionInput {
    Seq(i64),
    Record { partition: i32, offset: i64 },
}

/// Where a store-wide read starts, as `--since` gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SincePoint {
    Position(PositionInput),
    Time(DateTime<Utc>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a store position or a time: use a position like 1234 (Kafka: PARTITION:OFFSET like 0:1234) or a time like 2026-01-15T10:30:00Z")]
pub struct SincePointError {
    pub input: String,
}

impl std::str::FromStr for SincePoint {
    type Err = SincePointError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let fail = || SincePointError {
            input: input.to_string(),
        };
        let text = input.trim();
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if digits(text) {
            return text
                .parse()
                .map(|n| SincePoint::Position(PositionInput::Seq(n)))
                .map_err(|_| fail());
        }
        if let Some((partition, offset)) = text.split_once(':') {
            if digits(partition) && digits(offset) {
                let partition = partition.parse().map_err(|_| fail())?;
                let offset = offset.parse().map_err(|_| fail())?;
                return Ok(SincePoint::Position(PositionInput::Record {
                    partition,
                    offset,
                }));
            }
        }
        super::parse_time(text)
            .map(SincePoint::Time)
            .ok_or_else(fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(timestamp_ms: i64, partition: i32, offset: i64) -> StorePosition {
        StorePosition::Record {
            timestamp_ms,
            partition,
            offset,
        }
    }

    #[test]
    fn kafka_records_order_by_time_then_partition_then_offset() {
        let mut positions = vec![record(20, 0, 1), record(10, 2, 9), record(10, 1, 50)];
        positions.sort();
        assert_eq!(
            positions,
            vec![record(10, 1, 50), record(10, 2, 9), record(20, 0, 1)]
        );
        assert_eq!(record(10, 1, 50).to_string(), "1:50");
        assert_eq!(StorePosition::Seq(7).to_string(), "7");
    }

    #[test]
    fn since_takes_a_position_or_a_time() {
        assert_eq!(
            "1234".parse(),
            Ok(SincePoint::Position(PositionInput::Seq(1234)))
        );
        assert_eq!(
            "2:17".parse(),
            Ok(SincePoint::Position(PositionInput::Record {
                partition: 2,
                offset: 17
            }))
        );
        assert!(matches!(
            "2026-01-15 10:30".parse::<SincePoint>(),
            Ok(SincePoint::Time(_))
        ));
        for bad in [
            "",
            "-3",
            "a:b",
            "yesterday",
            "1:2:3",
            "99999999999999999999",
        ] {
            assert!(bad.parse::<SincePoint>().is_err(), "{bad}");
        }
    }
}
