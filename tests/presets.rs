//! Stores written by real event-sourcing libraries, opened as they are.
//! The fixtures and their generator scripts live in tests/fixtures/.

mod support;

use serde_json::json;
use support::{bad_input, json, run, stdout};

const ES_BANK: &str = "tests/fixtures/eventsourcing/bank.db";
const ES_ZLIB: &str = "tests/fixtures/eventsourcing/bank-zlib.db";
const ES_AES: &str = "tests/fixtures/eventsourcing/bank-aes.db";
const ES_REDUCER: &str = "assets/reducers/eventsourcing-bank.jq";
const ADA: &str = "00000000000000000000000012340000";
const EMMETT: &str = "tests/fixtures/emmett/shopping.db";

#[test]
fn eventsourcing_store_is_detected_and_listed() {
    let output = run(&["aggregates", ES_BANK]);
    insta::assert_snapshot!(stdout(&output));
}

#[test]
fn eventsourcing_events_have_types_from_topics_and_decoded_transcodings() {
    let events = json(&run(&["events", ES_BANK, ADA, "--format", "json"]));
    let types: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "Opened",
            "Deposited",
            "Withdrawn",
            "DailyLimitChanged",
            "Deposited"
        ]
    );
    assert_eq!(events[0]["timestamp"], "2026-01-15T10:00:00Z");
    assert_eq!(
        events[0]["data"]["account_id"],
        "00000000-0000-0000-0000-00000000002a"
    );
    assert_eq!(events[1]["data"], json!({"amount": 100.5}));
}

#[test]
fn eventsourcing_snapshot_agrees_with_the_shipped_reducer() {
    let output = run(&[
        "verify",
        ES_BANK,
        "--reducer",
        ES_REDUCER,
        "--format",
        "json",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        support::stderr(&output)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["snapshots_checked"], 1);
    assert_eq!(report["drifting"], 0);
    let state = json(&run(&[
        "state",
        ES_BANK,
        ADA,
        "--reducer",
        ES_REDUCER,
        "--format",
        "json",
    ]));
    assert_eq!(state["balance"], json!(75.25));
    assert_eq!(state["limits"]["daily"], 2500);
}

#[test]
fn zlib_compressed_eventsourcing_store_reads_like_the_plain_one() {
    for args in [
        ["events", ADA, "--format", "json"],
        ["state", ADA, "--format", "json"],
    ] {
        let plain = json(&run(&[args[0], ES_BANK, args[1], args[2], args[3]]));
        let compressed = json(&run(&[args[0], ES_ZLIB, args[1], args[2], args[3]]));
        assert_eq!(plain, compressed);
    }
}

#[test]
fn encrypted_eventsourcing_store_is_refused_with_a_reason() {
    let err = bad_input(&["aggregates", ES_AES]);
    assert!(err.contains("looks encrypted"), "{err}");
}

#[test]
fn emmett_store_streams_are_aggregates() {
    let list = json(&run(&["aggregates", EMMETT, "--format", "json"]));
    assert_eq!(list[0]["id"], "shopping_cart-42");
    assert_eq!(list[0]["type"], "shopping_cart");
    assert_eq!(list[0]["events"], 5);
    let events = json(&run(&[
        "events",
        EMMETT,
        "shopping_cart-42",
        "--format",
        "json",
    ]));
    assert_eq!(events[4]["type"], "ShoppingCartConfirmed");
    assert_eq!(events[4]["metadata"]["user"], "ada");
    let state = json(&run(&[
        "state",
        EMMETT,
        "shopping_cart-42",
        "--reducer",
        "assets/reducers/emmett-shopping-cart.jq",
        "--format",
        "json",
    ]));
    assert_eq!(
        state["items"],
        json!({"sku-2": {"price": 20, "quantity": 1}})
    );
    assert_eq!(state["status"], "confirmed");
}

#[test]
fn a_forced_preset_must_match_the_store() {
    let err = bad_input(&["aggregates", EMMETT, "--preset", "eventsourcing"]);
    assert!(
        err.contains("stored_events") && err.contains("emt_messages"),
        "{err}"
    );
    let err = bad_input(&["aggregates", EMMETT, "--preset", "axon"]);
    assert!(
        err.contains("known presets: native, eventsourcing, emmett"),
        "{err}"
    );
    let forced = json(&run(&[
        "aggregates",
        EMMETT,
        "--preset",
        "emmett",
        "--format",
        "json",
    ]));
    assert_eq!(forced.as_array().unwrap().len(), 2);
}

/// A library preset reads its own tables and columns: a mapping given with it would be
/// ignored, so it is refused, naming the keys.
#[test]
fn a_preset_forced_with_a_mapping_refuses_the_mapping() {
    for (store, preset) in [(EMMETT, "emmett"), (ES_BANK, "eventsourcing")] {
        let err = bad_input(&[
            "aggregates",
            store,
            "--preset",
            preset,
            "--map",
            "events.timestamp=created",
            "--map",
            "snapshots.state=body",
        ]);
        assert!(
            err.contains(&format!("the {preset} preset"))
                && err.contains("mapping of events.timestamp, snapshots.state would not be used"),
            "{err}"
        );
    }
    // The preset alone, and a mapping that names the native columns, read as before.
    let plain = run(&["aggregates", EMMETT, "--preset", "emmett"]);
    assert!(plain.status.success());
    let native_names = run(&[
        "aggregates",
        EMMETT,
        "--preset",
        "emmett",
        "--map",
        "events.timestamp=timestamp",
    ]);
    assert_eq!(stdout(&native_names), stdout(&plain));
}

/// A mapping in the user's rewind.toml describes the stores they open without a preset: a
/// preset forced on the command line leaves it aside. Naming a preset's own table is fine.
#[test]
fn a_forced_preset_leaves_the_config_files_mapping_aside() {
    let config = tempfile::tempdir().unwrap();
    std::fs::create_dir(config.path().join("rewind")).unwrap();
    std::fs::write(
        config.path().join("rewind/rewind.toml"),
        "[sqlite.events]\ntable = \"domain_events\"\naggregate_id = \"stream_id\"\n",
    )
    .unwrap();
    let expected = stdout(&run(&["aggregates", ES_BANK]));
    let listed = support::rewind()
        .env("XDG_CONFIG_HOME", config.path())
        .args(["aggregates", ES_BANK, "--preset", "eventsourcing"])
        .output()
        .unwrap();
    assert!(listed.status.success(), "{}", support::stderr(&listed));
    assert_eq!(stdout(&listed), expected);
    let own_table = run(&[
        "aggregates",
        ES_BANK,
        "--preset",
        "eventsourcing",
        "--map",
        "events.table=stored_events",
    ]);
    assert!(
        own_table.status.success(),
        "{}",
        support::stderr(&own_table)
    );
    assert_eq!(stdout(&own_table), expected);
}

/// A library's table mapped by hand lacks the native columns: the error names the preset
/// that reads it, as on PostgreSQL.
#[test]
fn a_library_table_mapped_by_hand_names_its_preset() {
    for (store, table, preset) in [
        (ES_BANK, "stored_events", "eventsourcing"),
        (EMMETT, "emt_messages", "emmett"),
    ] {
        let map = format!("events.table={table}");
        let err = bad_input(&["aggregates", store, "--map", &map]);
        assert!(
            err.contains("has no column")
                && err.contains(&format!(
                    "read it with --preset {preset} instead of the --map"
                )),
            "{err}"
        );
    }
}
