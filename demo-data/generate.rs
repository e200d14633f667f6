//! Generates demo-data/demo.db, the store `rewind demo` opens.
//!
//! Deterministic: the same seed gives the same events, so the file only changes when this
//! generator does. Run with `cargo run --example gen_demo [-- OUTPUT]`.
//!
//! Planted anomalies worth finding:
//! - acc-0003: the snapshot at v50 disagrees with replay (balance off by 100.00).
//! - acc-0007: a withdrawal at v31 drives the balance negative with no overdraft.
//! - order-0012: the event at v4 has truncated, malformed JSON.
//! - order-0020: the event at v5 is stamped before v4 (clock skew).

use std::path::PathBuf;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rusqlite::{params, Connection};
use serde_json::{json, Value};

use rewind::replay::merge_patch;

const SNAPSHOT_EVERY: u64 = 25;

/// splitmix64: tiny, deterministic and good enough for demo data.
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

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const OWNERS: [&str; 12] = [
    "Ada Lovelace",
    "Grace Hopper",
    "Alan Turing",
    "Edsger Dijkstra",
    "Barbara Liskov",
    "Donald Knuth",
    "Frances Allen",
    "Ken Thompson",
    "Margaret Hamilton",
    "Dennis Ritchie",
    "Radia Perlman",
    "John McCarthy",
];
const CITIES: [&str; 6] = ["Berlin", "Lisbon", "Oslo", "Vienna", "Dublin", "Tallinn"];
const SKUS: [&str; 8] = [
    "SKU-101", "SKU-204", "SKU-310", "SKU-412", "SKU-519", "SKU-623", "SKU-777", "SKU-808",
];

struct Stored {
    event_type: &'static str,
    data: String,
    at: DateTime<Utc>,
}

struct Writer<'c> {
    conn: &'c Connection,
    next_event_id: u64,
    rng: Rng,
}

impl Writer<'_> {
    /// Stores one aggregate's events and a snapshot every SNAPSHOT_EVERY versions.
    fn aggregate(&mut self, id: &str, kind: &str, events: Vec<Stored>, tamper: Option<(u64, f64)>) {
        let mut state = Value::Null;
        for (i, event) in events.iter().enumerate() {
            let version = i as u64 + 1;
            if let Ok(data) = serde_json::from_str::<Value>(&event.data) {
                merge_patch(&mut state, &data);
            }
            let metadata = json!({
                "correlation_id": format!("corr-{:08x}", self.rng.next() as u32),
                "user": if self.rng.below(4) == 0 { "backoffice" } else { "api" },
            });
            self.next_event_id += 1;
            self.conn
                .execute(
                    "INSERT INTO events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        format!("evt-{:06}", self.next_event_id),
                        id,
                        kind,
                        event.event_type,
                        event.data,
                        metadata.to_string(),
                        version,
                        event.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    ],
                )
                .expect("insert event");
            if version % SNAPSHOT_EVERY == 0 {
                let mut snapshot = state.clone();
                if let Some((at, off_by)) = tamper {
                    if at == version {
                        let balance = snapshot["balance"].as_f64().unwrap_or(0.0);
                        snapshot["balance"] = json!(round2(balance + off_by));
                    }
                }
                self.conn
                    .execute(
                        "INSERT INTO snapshots VALUES (?1, ?2, ?3, ?4)",
                        params![
                            id,
                            version,
                            snapshot.to_string(),
                            (event.at + Duration::seconds(1))
                                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        ],
                    )
                    .expect("insert snapshot");
            }
        }
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn money(cents: i64) -> Value {
    json!(round2(cents as f64 / 100.0))
}

fn account_events(rng: &mut Rng, number: u32, count: usize, start: DateTime<Utc>) -> Vec<Stored> {
    let mut at = start;
    let mut balance: i64 = 0;
    let mut daily = 1000;
    let mut frozen = false;
    let owner = OWNERS[number as usize % OWNERS.len()];
    let mut events = vec![Stored {
        event_type: "AccountOpened",
        data: json!({
            "owner": owner,
            "currency": "EUR",
            "balance": 0,
            "status": "open",
            "limits": {"daily": daily, "overdraft": 0},
            "address": {"city": rng.pick(&CITIES), "street": format!("{} Main St", 1 + rng.below(200))},
        })
        .to_string(),
        at,
    }];
    for step in 1..count {
        let spread = if count > 500 { 60 * 6 } else { 60 * 30 };
        at += Duration::minutes(20 + rng.below(spread) as i64);
        let version = step as u64 + 1;
        let reference = format!("TX-{number:04}-{version:05}");
        let roll = rng.below(100);
        let (event_type, data) = if number == 7 && version == 31 {
            // The planted invariant break: more than the balance, no overdraft approved.
            let amount = balance + 3550;
            balance -= amount;
            (
                "Withdrawn",
                json!({"balance": money(balance), "last_transaction": {"kind": "withdrawal", "amount": money(amount), "reference": reference}}),
            )
        } else if frozen && roll < 60 {
            frozen = false;
            (
                "AccountUnfrozen",
                json!({"status": "open", "frozen_reason": null}),
            )
        } else if roll < 45 {
            let amount = 500 + rng.below(150_000) as i64;
            balance += amount;
            (
                "Deposited",
                json!({"balance": money(balance), "last_transaction": {"kind": "deposit", "amount": money(amount), "reference": reference}}),
            )
        } else if roll < 85 {
            let amount = (rng.below(100_000) as i64).min(balance);
            balance -= amount;
            (
                "Withdrawn",
                json!({"balance": money(balance), "last_transaction": {"kind": "withdrawal", "amount": money(amount), "reference": reference}}),
            )
        } else if roll < 91 {
            daily = [500, 1000, 2500, 5000][rng.below(4) as usize];
            ("DailyLimitChanged", json!({"limits": {"daily": daily}}))
        } else if roll < 96 {
            (
                "AddressChanged",
                json!({"address": {"city": rng.pick(&CITIES), "street": format!("{} Harbour Rd", 1 + rng.below(90))}}),
            )
        } else if !frozen {
            frozen = true;
            (
                "AccountFrozen",
                json!({"status": "frozen", "frozen_reason": "suspicious activity review"}),
            )
        } else {
            (
                "InterestPaid",
                json!({"balance": money(balance), "last_transaction": {"kind": "interest", "amount": 0, "reference": reference}}),
            )
        };
        events.push(Stored {
            event_type,
            data: data.to_string(),
            at,
        });
    }
    events
}

fn order_events(rng: &mut Rng, number: u32, start: DateTime<Utc>) -> Vec<Stored> {
    let mut at = start;
    let mut items: Vec<(&str, i64, i64)> = Vec::new();
    let total = |items: &[(&str, i64, i64)]| money(items.iter().map(|(_, q, p)| q * p).sum());
    let item = |rng: &mut Rng| {
        (
            rng.pick(&SKUS),
            1 + rng.below(3) as i64,
            199 + rng.below(5000) as i64,
        )
    };
    let first = item(rng);
    items.push(first);
    let mut events = vec![Stored {
        event_type: "OrderPlaced",
        data: json!({
            "customer": format!("cust-{:03}", rng.below(400)),
            "status": "placed",
            "currency": "EUR",
            "items": {first.0: {"qty": first.1, "price": money(first.2)}},
            "total": total(&items),
        })
        .to_string(),
        at,
    }];
    let mut push = |rng: &mut Rng, event_type, data: Value, events: &mut Vec<Stored>| {
        at += Duration::minutes(3 + rng.below(240) as i64);
        events.push(Stored {
            event_type,
            data: data.to_string(),
            at,
        });
    };
    for _ in 0..(1 + rng.below(5)) {
        let (sku, qty, price) = item(rng);
        if items.iter().any(|(s, _, _)| *s == sku) {
            continue;
        }
        items.push((sku, qty, price));
        let data =
            json!({"items": {sku: {"qty": qty, "price": money(price)}}, "total": total(&items)});
        push(rng, "ItemAdded", data, &mut events);
    }
    if items.len() > 1 && rng.below(2) == 0 {
        let (sku, _, _) = items.remove(0);
        push(
            rng,
            "ItemRemoved",
            json!({"items": {sku: null}, "total": total(&items)}),
            &mut events,
        );
    }
    let city = rng.pick(&CITIES);
    let data = json!({"shipping": {"city": city, "zip": format!("{:05}", rng.below(99999))}});
    push(rng, "ShippingAddressSet", data, &mut events);
    if rng.below(6) == 0 {
        push(
            rng,
            "OrderCancelled",
            json!({"status": "cancelled", "cancel_reason": "customer request"}),
            &mut events,
        );
    } else {
        let amount = total(&items);
        let data = json!({"status": "paid", "payment": {"method": rng.pick(&["card", "sepa", "paypal"]), "amount": amount}});
        push(rng, "PaymentAuthorized", data, &mut events);
        let data = json!({"status": "shipped", "shipment": {"carrier": rng.pick(&["DHL", "UPS", "PostNL"]), "tracking": format!("TRK{:010}", rng.below(10_000_000_000))}});
        push(rng, "OrderShipped", data, &mut events);
        if rng.below(3) > 0 {
            push(
                rng,
                "OrderDelivered",
                json!({"status": "delivered"}),
                &mut events,
            );
        }
    }
    if number == 12 {
        // The planted malformed event: a producer cut the payload short.
        events[3].data = r#"{"items": {"SKU-999": {"qty": 2, "price": 4.5}"#.to_string();
    }
    if number == 20 {
        // The planted clock skew: v5 is stamped before v4.
        events[4].at = events[3].at - Duration::minutes(3);
    }
    events
}

fn main() {
    let out = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("demo-data/demo.db"));
    let _ = std::fs::remove_file(&out);
    let conn = Connection::open(&out).expect("create demo store");
    conn.execute_batch(
        "PRAGMA page_size = 4096;
         CREATE TABLE events(
             event_id TEXT PRIMARY KEY, aggregate_id TEXT NOT NULL, aggregate_type TEXT NOT NULL,
             event_type TEXT NOT NULL, event_data TEXT NOT NULL, metadata TEXT,
             version INTEGER NOT NULL, timestamp TEXT NOT NULL, UNIQUE(aggregate_id, version));
         CREATE TABLE snapshots(
             aggregate_id TEXT NOT NULL, version INTEGER NOT NULL, state TEXT NOT NULL,
             created_at TEXT, PRIMARY KEY(aggregate_id, version));
         BEGIN;",
    )
    .expect("create schema");
    let mut writer = Writer {
        conn: &conn,
        next_event_id: 0,
        rng: Rng(0x5EED),
    };
    let mut rng = Rng(42);
    let epoch = Utc.with_ymd_and_hms(2026, 1, 5, 8, 0, 0).unwrap();
    for number in 1..=24u32 {
        let count = if number == 1 {
            1500
        } else {
            20 + rng.below(100) as usize
        };
        let start = epoch + Duration::hours(rng.below(24 * 10) as i64);
        let events = account_events(&mut rng, number, count, start);
        let tamper = (number == 3).then_some((50, 100.0));
        writer.aggregate(&format!("acc-{number:04}"), "account", events, tamper);
    }
    for number in 1..=30u32 {
        let start = epoch + Duration::hours(rng.below(24 * 60) as i64);
        let events = order_events(&mut rng, number, start);
        writer.aggregate(&format!("order-{number:04}"), "order", events, None);
    }
    conn.execute_batch("COMMIT; VACUUM;").expect("commit");
    println!("wrote {} events to {}", writer.next_event_id, out.display());
}
