//! The benchmark's 1,000,000 events, made deterministically; shared by the store generator
//! (`gen_bench`) and the Kafka bench, so both hold exactly the same events.
//!
//! 10,000 aggregates of ~80 events each plus `acc-big` with 200,000 events; JSON payloads of
//! 150–400 bytes.
// Each includer uses a different part of this module.
#![allow(dead_code)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{json, Value};

pub const SMALL_AGGREGATES: usize = 10_000;
pub const SMALL_EVENTS: usize = 80;
pub const BIG_EVENTS: usize = 200_000;
pub const TOTAL_EVENTS: usize = SMALL_AGGREGATES * SMALL_EVENTS + BIG_EVENTS;

/// One benchmark event, in aggregate order (all of an aggregate's events, versions 1, 2, …).
pub struct BenchEvent<'a> {
    pub aggregate_id: &'a str,
    pub version: usize,
    pub kind: &'static str,
    pub at: DateTime<Utc>,
    pub data: Value,
}

impl BenchEvent<'_> {
    /// RFC 3339 to the second, as the store and the JSON lines hold it.
    pub fn timestamp(&self) -> String {
        self.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    /// The event as one JSON object: `{"key","type","version","timestamp","data"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "key": self.aggregate_id,
            "type": self.kind,
            "version": self.version,
            "timestamp": self.timestamp(),
            "data": self.data,
        })
    }
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: [&str; 16] = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima", "mike", "november", "oscar", "papa",
];

/// An event payload of 150–400 bytes: a balance update with a transaction record and a note.
fn payload(rng: &mut Rng, version: usize, balance: &mut i64) -> (&'static str, Value) {
    let amount = 100 + rng.below(50_000) as i64;
    let (kind, signed) = if rng.below(3) == 0 && *balance > amount {
        ("Withdrawn", -amount)
    } else {
        ("Deposited", amount)
    };
    *balance += signed;
    let note_words = 2 + rng.below(30) as usize;
    let note: Vec<&str> = (0..note_words)
        .map(|_| WORDS[rng.below(16) as usize])
        .collect();
    let channel = ["card", "sepa", "atm", "branch"][rng.below(4) as usize];
    let reference = format!("TX-{version:07}-{:08x}", rng.next() as u32);
    let data = json!({
        "balance": *balance as f64 / 100.0,
        "last_transaction": {
            "amount": amount as f64 / 100.0,
            "kind": kind,
            "reference": reference,
            "channel": channel,
        },
        "note": note.join(" "),
    });
    (kind, data)
}

/// The aggregate ids and how many events each has; the counts add up to [`TOTAL_EVENTS`].
pub fn aggregates() -> Vec<(String, usize)> {
    let mut aggregates: Vec<(String, usize)> = (0..SMALL_AGGREGATES)
        // Pairs vary around the mean in opposite directions, so the total stays exact.
        .map(|i| {
            let spread = (i / 2) % 10;
            let count = if i % 2 == 0 {
                SMALL_EVENTS + spread
            } else {
                SMALL_EVENTS - spread
            };
            (format!("acc-{i:05}"), count)
        })
        .collect();
    aggregates.push(("acc-big".to_string(), BIG_EVENTS));
    aggregates
}

/// Hands every benchmark event to `visit`, aggregate by aggregate. Same seed, same events.
pub fn for_each_event(mut visit: impl FnMut(BenchEvent<'_>)) {
    let mut rng = Rng(1_000_000);
    let epoch = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    for (id, count) in &aggregates() {
        let mut balance = 0i64;
        let mut at = epoch + Duration::minutes(rng.below(60 * 24 * 30) as i64);
        for version in 1..=*count {
            let (kind, data) = payload(&mut rng, version, &mut balance);
            at += Duration::seconds(1 + rng.below(600) as i64);
            visit(BenchEvent {
                aggregate_id: id,
                version,
                kind,
                at,
                data,
            });
        }
    }
}
