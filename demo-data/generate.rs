//! Generates demo-data/demo.db, the store `rewind demo` opens.
//!
//! Deterministic: the same seed gives the same events, so the file only changes when this
//! generator does. Run with `cargo run --example gen_demo [-- OUTPUT]`.
//!
//! Events are stored in the order they arrived, across aggregates, so the store's own order
//! (its rowids) is the order things happened in.
//!
//! Planted anomalies worth finding:
//! - acc-0003: the snapshot at v50 disagrees with replay (balance off by 100.00).
//! - acc-0007: a withdrawal at v31 drives the balance negative with no overdraft.
//! - order-0012: the event at v4 has truncated, malformed JSON.
//! - order-0020: the event at v5 is stamped before v4 (clock skew).
//!
//! And, on the last day, requests that span aggregates, tied together by correlation and
//! causation ids in the metadata:
//! - req-7a1f: order-0031 is placed, paid from acc-0004, shipped and delivered.
//! - transfer-0042: acc-0005 sends 250.00 to acc-0009.
//! - req-5c2e: a saga that stopped halfway: order-0032 is placed and acc-0002 is charged,
//!   but the order is never marked paid.
//! - req-9d4b: order-0033's shipment names as its cause evt-999999, an event that does not
//!   exist.
//! - req-3e88: order-0034, another complete checkout, paid from acc-0002.

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
    /// When the store received it: its timestamp, except where a producer's clock was off.
    arrived: DateTime<Utc>,
    /// Set for the events of a cross-aggregate request.
    flow: Option<Flow>,
}

impl Stored {
    fn new(event_type: &'static str, data: Value, at: DateTime<Utc>) -> Stored {
        Stored {
            event_type,
            data: data.to_string(),
            at,
            arrived: at,
            flow: None,
        }
    }
}

/// An event's part in a request: its correlation id, what caused it, and the name other
/// events of the flow use for it.
struct Flow {
    correlation: &'static str,
    cause: Cause,
    name: Option<&'static str>,
}

enum Cause {
    None,
    /// The flow event with this name.
    Named(&'static str),
    /// An id that names no event.
    Missing(&'static str),
}

struct Aggregate {
    id: String,
    kind: &'static str,
    events: Vec<Stored>,
    /// The version whose snapshot is stored with its balance off by this much.
    tamper: Option<(u64, f64)>,
}

impl Aggregate {
    fn state(&self) -> Value {
        let mut state = Value::Null;
        for event in &self.events {
            if let Ok(data) = serde_json::from_str::<Value>(&event.data) {
                merge_patch(&mut state, &data);
            }
        }
        state
    }

    fn append(&mut self, event_type: &'static str, data: Value, at: DateTime<Utc>, flow: Flow) {
        let mut event = Stored::new(event_type, data, at);
        event.flow = Some(flow);
        self.events.push(event);
    }
}

/// Writes every aggregate's events in arrival order, and a snapshot every SNAPSHOT_EVERY
/// versions.
fn write(conn: &Connection, aggregates: &[Aggregate], rng: &mut Rng) -> u64 {
    let mut order: Vec<(usize, usize)> = aggregates
        .iter()
        .enumerate()
        .flat_map(|(a, aggregate)| (0..aggregate.events.len()).map(move |e| (a, e)))
        .collect();
    order.sort_by_key(|&(a, e)| (aggregates[a].events[e].arrived, a, e));
    let id_of = |n: usize| format!("evt-{:06}", n + 1);
    let mut named = std::collections::HashMap::new();
    for (n, &(a, e)) in order.iter().enumerate() {
        if let Some(name) = aggregates[a].events[e].flow.as_ref().and_then(|f| f.name) {
            named.insert(name, id_of(n));
        }
    }
    let mut states = vec![Value::Null; aggregates.len()];
    for (n, &(a, e)) in order.iter().enumerate() {
        let aggregate = &aggregates[a];
        let event = &aggregate.events[e];
        let version = e as u64 + 1;
        if let Ok(data) = serde_json::from_str::<Value>(&event.data) {
            merge_patch(&mut states[a], &data);
        }
        let metadata = match &event.flow {
            Some(flow) => {
                let cause = match flow.cause {
                    Cause::None => None,
                    Cause::Named(name) => Some(named[name].clone()),
                    Cause::Missing(id) => Some(id.to_string()),
                };
                json!({"correlation_id": flow.correlation, "causation_id": cause, "user": "checkout-service"})
            }
            None => json!({
                "correlation_id": format!("corr-{:08x}", rng.next() as u32),
                "user": if rng.below(4) == 0 { "backoffice" } else { "api" },
            }),
        };
        conn.execute(
            "INSERT INTO events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                id_of(n),
                aggregate.id,
                aggregate.kind,
                event.event_type,
                event.data,
                metadata.to_string(),
                version,
                event.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ],
        )
        .expect("insert event");
        if version % SNAPSHOT_EVERY == 0 {
            let mut snapshot = states[a].clone();
            if let Some((at, off_by)) = aggregate.tamper {
                if at == version {
                    let balance = snapshot["balance"].as_f64().unwrap_or(0.0);
                    snapshot["balance"] = json!(round2(balance + off_by));
                }
            }
            conn.execute(
                "INSERT INTO snapshots VALUES (?1, ?2, ?3, ?4)",
                params![
                    aggregate.id,
                    version,
                    snapshot.to_string(),
                    (event.at + Duration::seconds(1))
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                ],
            )
            .expect("insert snapshot");
        }
    }
    order.len() as u64
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
    let mut events = vec![Stored::new(
        "AccountOpened",
        json!({
            "owner": owner,
            "currency": "EUR",
            "balance": 0,
            "status": "open",
            "limits": {"daily": daily, "overdraft": 0},
            "address": {"city": rng.pick(&CITIES), "street": format!("{} Main St", 1 + rng.below(200))},
        }),
        at,
    )];
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
        events.push(Stored::new(event_type, data, at));
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
    let mut events = vec![Stored::new(
        "OrderPlaced",
        json!({
            "customer": format!("cust-{:03}", rng.below(400)),
            "status": "placed",
            "currency": "EUR",
            "items": {first.0: {"qty": first.1, "price": money(first.2)}},
            "total": total(&items),
        }),
        at,
    )];
    let mut push = |rng: &mut Rng, event_type, data: Value, events: &mut Vec<Stored>| {
        at += Duration::minutes(3 + rng.below(240) as i64);
        events.push(Stored::new(event_type, data, at));
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
        // The planted clock skew: v5 is stamped before v4 (and arrives after it).
        events[4].at = events[3].at - Duration::minutes(3);
    }
    events
}

/// One request across aggregates: an order placed, paid from an account, then (as far as
/// `steps` goes) marked paid, shipped and delivered.
struct Checkout {
    correlation: &'static str,
    order: usize,
    account: usize,
    /// 2: placed and charged (a saga stopped halfway); 5: delivered.
    steps: usize,
    /// What the shipment names as its cause, if not the payment.
    shipped_because: Option<&'static str>,
}

fn flow(correlation: &'static str, cause: Cause, name: Option<&'static str>) -> Flow {
    Flow {
        correlation,
        cause,
        name,
    }
}

fn checkout(aggregates: &mut [Aggregate], c: &Checkout, at: DateTime<Utc>, rng: &mut Rng) {
    let name = |step: &str| -> &'static str {
        Box::leak(format!("{}-{step}", c.correlation).into_boxed_str())
    };
    let sku = rng.pick(&SKUS);
    let (qty, price) = (1 + rng.below(3) as i64, 1999 + rng.below(20_000) as i64);
    let total = money(qty * price);
    let order = &mut aggregates[c.order];
    order.append(
        "OrderPlaced",
        json!({"customer": format!("cust-{:03}", rng.below(400)), "status": "placed", "currency": "EUR",
               "items": {sku: {"qty": qty, "price": money(price)}}, "total": total}),
        at,
        flow(c.correlation, Cause::None, Some(name("placed"))),
    );
    let order_id = order.id.clone();
    let account = &mut aggregates[c.account];
    let balance = account.state()["balance"].as_f64().unwrap_or(0.0);
    let amount = total.as_f64().unwrap_or(0.0);
    account.append(
        "Withdrawn",
        json!({"balance": round2(balance - amount),
               "last_transaction": {"kind": "payment", "amount": total, "reference": order_id}}),
        at + Duration::seconds(2),
        flow(
            c.correlation,
            Cause::Named(name("placed")),
            Some(name("charged")),
        ),
    );
    let order = &mut aggregates[c.order];
    if c.steps >= 3 {
        order.append(
            "PaymentAuthorized",
            json!({"status": "paid", "payment": {"method": "account", "amount": total}}),
            at + Duration::seconds(3),
            flow(
                c.correlation,
                Cause::Named(name("charged")),
                Some(name("paid")),
            ),
        );
    }
    if c.steps >= 4 {
        let cause = match c.shipped_because {
            Some(missing) => Cause::Missing(missing),
            None => Cause::Named(name("paid")),
        };
        order.append(
            "OrderShipped",
            json!({"status": "shipped", "shipment": {"carrier": "DHL", "tracking": format!("TRK{:010}", rng.below(10_000_000_000))}}),
            at + Duration::minutes(95),
            flow(c.correlation, cause, Some(name("shipped"))),
        );
    }
    if c.steps >= 5 {
        order.append(
            "OrderDelivered",
            json!({"status": "delivered"}),
            at + Duration::hours(26),
            flow(c.correlation, Cause::Named(name("shipped")), None),
        );
    }
}

/// A transfer: one account sends money, the other receives it because of that.
fn transfer(aggregates: &mut [Aggregate], from: usize, to: usize, cents: i64, at: DateTime<Utc>) {
    let correlation = "transfer-0042";
    let reference = "TRANSFER-0042";
    let sent = aggregates[from].state()["balance"].as_f64().unwrap_or(0.0);
    aggregates[from].append(
        "Withdrawn",
        json!({"balance": round2(sent - cents as f64 / 100.0),
               "last_transaction": {"kind": "transfer", "amount": money(cents), "reference": reference}}),
        at,
        flow(correlation, Cause::None, Some("transfer-sent")),
    );
    let received = aggregates[to].state()["balance"].as_f64().unwrap_or(0.0);
    aggregates[to].append(
        "Deposited",
        json!({"balance": round2(received + cents as f64 / 100.0),
               "last_transaction": {"kind": "transfer", "amount": money(cents), "reference": reference}}),
        at + Duration::seconds(1),
        flow(correlation, Cause::Named("transfer-sent"), None),
    );
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
    let mut rng = Rng(42);
    let epoch = Utc.with_ymd_and_hms(2026, 1, 5, 8, 0, 0).unwrap();
    let mut aggregates = Vec::new();
    for number in 1..=24u32 {
        let count = if number == 1 {
            1500
        } else {
            20 + rng.below(100) as usize
        };
        let start = epoch + Duration::hours(rng.below(24 * 10) as i64);
        aggregates.push(Aggregate {
            id: format!("acc-{number:04}"),
            kind: "account",
            events: account_events(&mut rng, number, count, start),
            tamper: (number == 3).then_some((50, 100.0)),
        });
    }
    for number in 1..=30u32 {
        let start = epoch + Duration::hours(rng.below(24 * 60) as i64);
        aggregates.push(Aggregate {
            id: format!("order-{number:04}"),
            kind: "order",
            events: order_events(&mut rng, number, start),
            tamper: None,
        });
    }
    // The requests of the last day, after everything else.
    let last = aggregates
        .iter()
        .flat_map(|a| a.events.iter().map(|e| e.arrived))
        .max()
        .expect("events");
    let day = (last + Duration::days(1))
        .date_naive()
        .and_hms_opt(9, 0, 0)
        .unwrap()
        .and_utc();
    for number in 31..=34u32 {
        aggregates.push(Aggregate {
            id: format!("order-{number:04}"),
            kind: "order",
            events: Vec::new(),
            tamper: None,
        });
    }
    let account = |n: usize| n - 1;
    let order = |n: usize| 24 + n - 1;
    let checkouts = [
        (
            day,
            Checkout {
                correlation: "req-7a1f",
                order: order(31),
                account: account(4),
                steps: 5,
                shipped_because: None,
            },
        ),
        (
            day + Duration::hours(3),
            Checkout {
                correlation: "req-5c2e",
                order: order(32),
                account: account(2),
                steps: 2,
                shipped_because: None,
            },
        ),
        (
            day + Duration::hours(4),
            Checkout {
                correlation: "req-9d4b",
                order: order(33),
                account: account(11),
                steps: 4,
                shipped_because: Some("evt-999999"),
            },
        ),
        (
            day + Duration::hours(6),
            Checkout {
                correlation: "req-3e88",
                order: order(34),
                account: account(2),
                steps: 5,
                shipped_because: None,
            },
        ),
    ];
    for (at, c) in &checkouts {
        checkout(&mut aggregates, c, *at, &mut rng);
    }
    transfer(
        &mut aggregates,
        account(5),
        account(9),
        25_000,
        day + Duration::hours(1),
    );
    let written = write(&conn, &aggregates, &mut Rng(0x5EED));
    conn.execute_batch("COMMIT; VACUUM;").expect("commit");
    println!("wrote {written} events to {}", out.display());
}
