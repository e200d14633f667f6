//! The five PostgreSQL layouts, detected from the tables, read from stores the libraries
//! wrote themselves (tests/fixtures/postgres/README.md): Python eventsourcing (plain, zlib,
//! AES), Emmett, Message DB, and Marten (hand-built from Marten's DDL: no .NET here).

mod support;

use std::path::Path;

use serde_json::{json, Value};
use support::pg_cli::PgCli;
use support::postgres::{PgDatabase, PgServer};

fn fixture(test: &str, file: &str) -> Option<PgDatabase<'static>> {
    let db = PgServer::shared(test)?.create_database(test);
    db.load_fixture(file);
    Some(db)
}

/// (id, type, events, snapshots) of every aggregate.
fn listing(cli: &PgCli, source: &str, extra: &[&str]) -> Vec<(String, Value, u64, u64)> {
    let mut args = vec!["aggregates", source, "--format", "json"];
    args.extend(extra);
    let list = cli.json(&args);
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["id"].as_str().unwrap().to_string(),
                a["type"].clone(),
                a["events"].as_u64().unwrap(),
                a["snapshots"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn sqlite_fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

const ADA: &str = "00000000-0000-0000-0000-000012340000";
/// The same id as the SQLite recorder lists it (a uuid stored as 16 bytes).
const ADA_IN_SQLITE: &str = "00000000000000000000000012340000";

#[test]
fn eventsourcing_stores_decode_as_the_sqlite_preset_does_plain_or_compressed() {
    let cli = PgCli::new();
    let sqlite = sqlite_fixture("eventsourcing/bank.db");
    for file in ["eventsourcing.sql", "eventsourcing-zlib.sql"] {
        let Some(db) = fixture("eventsourcing", file) else {
            return;
        };
        let url = db.url();
        assert_eq!(
            listing(&cli, &url, &[]),
            vec![
                (ADA.to_string(), json!("BankAccount"), 5, 1),
                (
                    "00000000-0000-0000-0000-000012340001".to_string(),
                    json!("BankAccount"),
                    2,
                    0
                )
            ],
            "{file}"
        );
        for command in [
            vec!["events", "--format", "json"],
            vec!["state", "--format", "json"],
            vec!["state", "--at-version", "3"],
            vec!["verify", "--format", "json"],
            vec!["blame", ".amount"],
        ] {
            let run = |source: &str, id: &str| {
                let mut args = vec![command[0], source, id];
                args.extend(&command[1..]);
                let output = cli.run(&args);
                (
                    output.status.code(),
                    String::from_utf8(output.stdout).unwrap(),
                )
            };
            let (code, theirs) = run(&url, ADA);
            let (sqlite_code, ours) = run(&sqlite, ADA_IN_SQLITE);
            assert_eq!(code, sqlite_code, "{file} {command:?}");
            assert_eq!(
                theirs.replace(ADA, ADA_IN_SQLITE),
                ours,
                "{file} {command:?}"
            );
        }
        // The preset named, as detected; the table named through --map, as detected.
        let forced = listing(&cli, &url, &["--preset", "eventsourcing"]);
        assert_eq!(forced, listing(&cli, &url, &[]));
        let mapped = listing(
            &cli,
            &url,
            &[
                "--preset",
                "eventsourcing",
                "--map",
                "events.table=bank_events",
            ],
        );
        assert_eq!(mapped, forced);
        // FIRST and LAST, from the time inside each (compressed) state as on SQLite.
        let times = |source: &str| -> Vec<(Value, Value)> {
            let list = cli.json(&["aggregates", source, "--format", "json"]);
            list.as_array()
                .unwrap()
                .iter()
                .map(|a| (a["first_timestamp"].clone(), a["last_timestamp"].clone()))
                .collect()
        };
        let listed = times(&url);
        assert!(
            listed.iter().all(|(f, l)| f.is_string() && l.is_string()),
            "{file}: {listed:?}"
        );
        assert_eq!(listed, times(&sqlite), "{file}");
    }
}

#[test]
fn an_encrypted_eventsourcing_store_is_refused_saying_why() {
    let Some(db) = fixture("eventsourcing_aes", "eventsourcing-aes.sql") else {
        return;
    };
    let cli = PgCli::new();
    let err = cli.bad(&["aggregates", &db.url()]);
    assert!(err.contains("encrypted"), "{err}");
    assert!(err.contains("CIPHER_TOPIC"), "{err}");
    // One undecodable state among readable ones is that event's problem, not the store's.
    let plain = fixture("eventsourcing_one_bad", "eventsourcing.sql").unwrap();
    plain.psql(
        "UPDATE bank_events SET state = '\\xb26978e570'::bytea
         WHERE originator_version = 2 AND originator_id = '00000000-0000-0000-0000-000012340000';",
    );
    let events = cli.json(&["events", &plain.url(), ADA, "--format", "json"]);
    let flagged: Vec<&Value> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["error"].is_null())
        .collect();
    assert_eq!(flagged.len(), 1, "{events}");
    assert_eq!(flagged[0]["version"], 2);
}

#[test]
fn emmett_streams_are_aggregates_typed_by_emt_streams_with_only_events() {
    let Some(db) = fixture("emmett", "emmett.sql") else {
        return;
    };
    let cli = PgCli::new();
    let url = db.url();
    assert_eq!(
        listing(&cli, &url, &[]),
        vec![
            ("order-42".into(), json!("order"), 2, 0),
            ("payment-42".into(), json!("payment"), 2, 0),
            ("shopping_cart-42".into(), json!("shopping_cart"), 5, 0),
            ("shopping_cart-7".into(), json!("shopping_cart"), 1, 0),
            ("shopping_cart-99".into(), json!("shopping_cart"), 3, 0),
        ]
    );
    // A stream with a type emt_streams does not follow the id's prefix: the table wins.
    db.psql("UPDATE emt_streams SET stream_type = 'cart' WHERE stream_id = 'shopping_cart-7';");
    let types = listing(&cli, &url, &["--preset", "emmett"]);
    assert_eq!(types[3].1, json!("cart"));
    let state = cli.json(&["state", &url, "shopping_cart-42", "--format", "json"]);
    assert_eq!(state["status"], "confirmed");
    assert_eq!(
        state["items"],
        json!({"sku-2": {"price": 20, "quantity": 1}})
    );
    // Emmett's metadata carries the flow's ids; its message_id is the event id.
    let trace: Vec<Value> = cli
        .ok(&["trace", &url, "corr-cart-42", "--format", "json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let tree: Vec<(String, u64, u64)> = trace
        .iter()
        .map(|e| {
            (
                e["aggregate_id"].as_str().unwrap().to_string(),
                e["version"].as_u64().unwrap(),
                e["depth"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(tree.len(), 9, "{trace:?}");
    assert_eq!(tree[5], ("order-42".into(), 1, 1));
    assert_eq!(tree[8], ("order-42".into(), 2, 4));
    // A command or link message in the same table is not an event.
    db.psql(
        "INSERT INTO emt_messages (stream_id, stream_position, partition, message_kind, message_data,
             message_metadata, message_schema_version, message_type, message_id, is_archived,
             global_position, transaction_id, created)
         SELECT stream_id, 99, partition, 'L', message_data, message_metadata, message_schema_version,
             'Linked', gen_random_uuid()::text, is_archived, 1000, transaction_id, created
         FROM emt_messages WHERE stream_id = 'order-42' AND stream_position = 1;",
    );
    let events = cli.json(&["events", &url, "order-42", "--format", "json"]);
    assert_eq!(events.as_array().unwrap().len(), 2, "{events}");
    let log = cli.ok(&["log", &url]);
    assert!(!log.contains("Linked"), "{log}");
}

#[test]
fn message_db_streams_are_aggregates_their_category_the_type_versions_from_one() {
    let Some(db) = fixture("message_db", "message-db.sql") else {
        return;
    };
    // The server's clock zone and the client's do not move `time`, which Message DB stores
    // in UTC without a zone.
    db.psql(&format!(
        "ALTER DATABASE {} SET timezone = 'Asia/Tokyo';",
        db.name()
    ));
    let cli = PgCli::new().env("TZ", "America/New_York");
    let url = db.url();
    let listed = listing(&cli, &url, &[]);
    assert_eq!(
        listed
            .iter()
            .map(|(id, ty, n, _)| (id.as_str(), ty.as_str().unwrap(), *n))
            .collect::<Vec<_>>(),
        vec![
            ("account-123", "account", 3),
            ("account-456", "account", 3),
            ("account:command-123", "account:command", 3),
            ("account:command-456", "account:command", 3),
            ("transfer-7", "transfer", 3),
        ]
    );
    let events = cli.json(&["events", &url, "transfer-7", "--format", "json"]);
    let events = events.as_array().unwrap();
    // Message DB's position 0 is rewind's v1: v0 is the state before the first message.
    let versions: Vec<u64> = events
        .iter()
        .map(|e| e["version"].as_u64().unwrap())
        .collect();
    assert_eq!(versions, vec![1, 2, 3]);
    let stored = db.psql(
        "SELECT to_char(time, 'YYYY-MM-DD\"T\"HH24:MI:SS.US') FROM message_store.messages \
         WHERE stream_name = 'transfer-7' ORDER BY position LIMIT 1;",
    );
    let shown = events[0]["timestamp"].as_str().unwrap();
    assert_eq!(
        shown.trim_end_matches('Z').trim_end_matches('0'),
        stored.trim().trim_end_matches('0'),
        "read as UTC"
    );
    // Eventide's metadata reaches trace: the correlation stream, and the global position of
    // the message that caused each one.
    let trace: Vec<Value> = cli
        .ok(&["trace", &url, "transfer-7", "--format", "json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let tree: Vec<(&str, u64, u64, &str)> = trace
        .iter()
        .map(|e| {
            (
                e["aggregate_id"].as_str().unwrap(),
                e["version"].as_u64().unwrap(),
                e["depth"].as_u64().unwrap(),
                e["link"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        tree,
        vec![
            ("account:command-123", 3, 0, "outside"),
            ("account-123", 3, 1, "caused_by"),
            ("transfer-7", 2, 2, "caused_by"),
            ("account:command-456", 2, 3, "caused_by"),
            ("account-456", 2, 4, "caused_by"),
            ("transfer-7", 3, 5, "caused_by"),
        ],
        "{trace:?}"
    );
    // The user's rule still wins over the store's convention.
    let by_convention = cli.run(&["trace", &url, "account-123"]);
    assert_eq!(
        by_convention.status.code(),
        Some(1),
        "no correlation stream account-123"
    );
    let by_user = cli.ok(&[
        "trace",
        &url,
        "account-123",
        "--correlation-from",
        ".metadata.causationMessageStreamName",
    ]);
    assert!(by_user.contains("transfer-7 v2 Withdrawn"), "{by_user}");
    // The log shows Message DB's global position.
    let log: Vec<Value> = cli
        .ok(&["log", &url, "--format", "json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let positions: Vec<i64> = log
        .iter()
        .map(|l| l["position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, (1..=15).collect::<Vec<i64>>());
}

#[test]
fn marten_streams_are_typed_by_mt_streams_and_events_carry_tenant_archive_and_ids() {
    let Some(db) = fixture("marten", "marten.sql") else {
        return;
    };
    let cli = PgCli::new();
    let url = db.url();
    let quest = "8f1e2b7a-0000-4000-8000-000000000001";
    let archived = "8f1e2b7a-0000-4000-8000-000000000002";
    assert_eq!(
        listing(&cli, &url, &[]),
        vec![
            (quest.into(), json!("quest_party"), 6, 0),
            (archived.into(), json!("quest_party"), 3, 0),
        ]
    );
    let events = cli.json(&["events", &url, archived, "--format", "json"]);
    let first = &events[0];
    assert_eq!(first["type"], "quest_started", "the type alias");
    assert_eq!(first["metadata"]["tenant_id"], "*DEFAULT*");
    assert_eq!(first["metadata"]["archived"], true);
    assert_eq!(first["metadata"]["correlation_id"], "req-0002");
    assert_eq!(
        first["metadata"]["dotnet_type"],
        "EventSourcingTests.QuestStarted, EventSourcingTests"
    );
    let live = cli.json(&["events", &url, quest, "--format", "json"]);
    assert!(live[0]["metadata"].get("archived").is_none(), "{}", live[0]);
    // Tables mark archived events: in the events' data column, first in the log's notes.
    let text = |args: &[&str]| String::from_utf8(cli.run(args).stdout).unwrap();
    let table = text(&["events", &url, archived]);
    let rows: Vec<&str> = table.lines().skip(1).collect();
    assert_eq!(rows.len(), 3, "{table}");
    assert!(rows.iter().all(|r| r.contains("[archived] {")), "{table}");
    assert!(!text(&["events", &url, quest]).contains("archived"));
    let log = text(&["log", &url]);
    let marked = log.lines().filter(|l| l.ends_with("  archived")).count();
    assert_eq!(marked, 3, "{log}");
    assert_eq!(live[0]["metadata"]["headers"], json!({"user": "gandalf"}));
    let state = cli.json(&["state", &url, quest, "--format", "json"]);
    assert!(state.is_object(), "{state}");
    // The store order is seq_id; correlation ids from Marten's own column.
    let log: Vec<Value> = cli
        .ok(&["log", &url, "--correlation", "req-0001", "--format", "json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(log.len(), 2);
    assert_eq!(log[1]["position"], 2);
    // Without its optional columns (an older Marten), the rest still reads.
    db.psql("ALTER TABLE mt_events DROP COLUMN correlation_id, DROP COLUMN causation_id, DROP COLUMN headers;");
    let events = cli.json(&["events", &url, quest, "--format", "json"]);
    assert_eq!(
        events[0]["metadata"],
        json!({"dotnet_type": "EventSourcingTests.QuestStarted, EventSourcingTests", "tenant_id": "*DEFAULT*"})
    );
}

/// Emmett with a second partition (a tenant), written by Emmett's own functions: its
/// stream of an id the default partition also has is another aggregate, PARTITION/ID.
#[test]
fn emmett_partitions_keep_streams_of_the_same_id_apart() {
    let Some(db) = fixture("emmett_partitions", "emmett.sql") else {
        return;
    };
    let default = db
        .psql("SELECT DISTINCT partition FROM emt_streams WHERE stream_id = 'shopping_cart-7';")
        .trim()
        .to_string();
    db.psql(
        "SELECT emt_add_partition('tenant_b');
         SELECT success FROM emt_append_to_stream(
             ARRAY['b-msg-1'], ARRAY['{\"cartId\": \"7\", \"status\": \"other\"}'::jsonb],
             ARRAY['{}'::jsonb], ARRAY['1'], ARRAY['ShoppingCartOpened'], ARRAY['E'],
             'shopping_cart-7', 'shopping_cart', NULL, 'tenant_b');",
    );
    let cli = PgCli::new();
    let url = db.url();
    let listed: Vec<(String, u64)> = listing(&cli, &url, &[])
        .into_iter()
        .map(|(id, _, events, _)| (id, events))
        .collect();
    let ours = format!("{default}/shopping_cart-7");
    assert!(listed.contains(&(ours.clone(), 1)), "{listed:?}");
    assert!(
        listed.contains(&("tenant_b/shopping_cart-7".into(), 1)),
        "{listed:?}"
    );
    assert_eq!(listed.len(), 6, "{listed:?}");
    let theirs = cli.json(&[
        "events",
        &url,
        "tenant_b/shopping_cart-7",
        "--format",
        "json",
    ]);
    assert_eq!(theirs.as_array().unwrap().len(), 1);
    assert_eq!(theirs[0]["data"]["status"], "other");
    let ours = cli.json(&["events", &url, &ours, "--format", "json"]);
    assert_ne!(ours[0]["data"]["status"], "other", "{ours}");
}

/// Marten with conjoined tenancy: the streams' key is (id, tenant_id), so two tenants may
/// each have a stream of the same id. They are two aggregates, named `TENANT/ID`, each with
/// only its own events. (The fixture's DDL is turned into the conjoined one Marten writes:
/// StreamsTable.cs makes tenant_id part of the primary key under TenancyStyle.Conjoined.)
#[test]
fn marten_conjoined_tenants_keep_streams_of_the_same_id_apart() {
    let Some(db) = fixture("marten_conjoined", "marten.sql") else {
        return;
    };
    let quest = "8f1e2b7a-0000-4000-8000-000000000001";
    db.psql(&format!(
        "ALTER TABLE mt_events DROP CONSTRAINT fkey_mt_events_stream_id;
         DROP INDEX pk_mt_events_stream_and_version;
         CREATE UNIQUE INDEX pk_mt_events_stream_and_version ON mt_events (tenant_id, stream_id, version);
         ALTER TABLE mt_streams DROP CONSTRAINT pkey_mt_streams_id;
         ALTER TABLE mt_streams ADD CONSTRAINT pkey_mt_streams_id PRIMARY KEY (id, tenant_id);
         INSERT INTO mt_streams (id, type, version, tenant_id)
             VALUES ('{quest}', 'quest_party', 1, 'tenant-b');
         INSERT INTO mt_events (seq_id, id, stream_id, version, data, type, tenant_id)
             VALUES (nextval('mt_events_sequence'), gen_random_uuid(), '{quest}', 1,
                     '{{\"Name\": \"Other\"}}', 'quest_started', 'tenant-b');"
    ));
    let cli = PgCli::new();
    let url = db.url();
    let listed: Vec<(String, Value, u64)> = listing(&cli, &url, &[])
        .into_iter()
        .map(|(id, ty, events, _)| (id, ty, events))
        .collect();
    let ours = format!("*DEFAULT*/{quest}");
    let theirs = format!("tenant-b/{quest}");
    assert_eq!(
        listed,
        vec![
            (ours.clone(), json!("quest_party"), 6),
            (
                "*DEFAULT*/8f1e2b7a-0000-4000-8000-000000000002".into(),
                json!("quest_party"),
                3
            ),
            (theirs.clone(), json!("quest_party"), 1),
        ]
    );
    let events = |id: &str| cli.json(&["events", &url, id, "--format", "json"]);
    let other = events(&theirs);
    assert_eq!(other.as_array().unwrap().len(), 1);
    assert_eq!(other[0]["data"], json!({"Name": "Other"}));
    let versions: Vec<Value> = events(&ours)
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["version"].clone())
        .collect();
    assert_eq!(versions, [1, 2, 3, 4, 5, 6], "one tenant's stream alone");
}

/// Each library's store is recognised from its tables; a named preset whose tables are not
/// there says which are.
#[test]
fn presets_are_detected_and_a_wrong_one_names_the_tables_there_are() {
    let Some(pg) = PgServer::shared("preset detection") else {
        return;
    };
    let cli = PgCli::new();
    let db = pg.create_database("marten_named");
    db.load_fixture("marten.sql");
    let err = cli.bad(&["aggregates", &db.url(), "--preset", "emmett"]);
    assert!(
        err.contains("no table \"emt_messages\"") && err.contains("mt_events"),
        "{err}"
    );
    let err = cli.bad(&["aggregates", &db.url(), "--preset", "sometimes"]);
    assert!(
        err.contains("native, eventsourcing, emmett, messagedb, marten"),
        "{err}"
    );
    // The PostgreSQL-only layouts on a SQLite file.
    let sqlite = sqlite_fixture("emmett/shopping.db");
    for preset in ["messagedb", "marten"] {
        let err = cli.bad(&["aggregates", &sqlite, "--preset", preset]);
        assert!(err.contains("reads PostgreSQL stores"), "{err}");
    }
    // An empty database: the native layout's message, with the presets to pick from.
    let empty = pg.create_database("empty");
    let err = cli.bad(&["aggregates", &empty.url()]);
    assert!(err.contains("no table \"events\""), "{err}");
    assert!(err.contains("it has no tables"), "{err}");
    assert!(err.contains("--preset"), "{err}");
}

/// A library's table mapped as if it were a native one (`--map events.table=…`, with or
/// without its schema) fails on its columns, and the line names the preset that reads it;
/// what it suggests then reads the store.
#[test]
fn a_library_table_mapped_by_hand_names_its_preset() {
    let Some(pg) = PgServer::shared("library table mapped") else {
        return;
    };
    let cli = PgCli::new();
    let cases: [(&str, &str, &str, &[&str]); 8] = [
        (
            "message-db.sql",
            "",
            "message_store.messages",
            &["--preset", "messagedb"],
        ),
        ("marten.sql", "", "mt_events", &["--preset", "marten"]),
        (
            "marten.sql",
            "",
            "public.mt_events",
            &["--preset", "marten"],
        ),
        (
            "marten.sql",
            "CREATE SCHEMA tenant1; ALTER TABLE mt_events SET SCHEMA tenant1;
             ALTER TABLE mt_streams SET SCHEMA tenant1;",
            "tenant1.mt_events",
            &["--preset", "marten", "--pg-schema", "tenant1"],
        ),
        ("emmett.sql", "", "emt_messages", &["--preset", "emmett"]),
        (
            "emmett.sql",
            "CREATE SCHEMA shop; ALTER TABLE emt_messages SET SCHEMA shop;
             ALTER TABLE emt_streams SET SCHEMA shop;",
            "shop.emt_messages",
            &["--preset", "emmett", "--pg-schema", "shop"],
        ),
        (
            "eventsourcing.sql",
            "",
            "public.bank_events",
            &["--preset", "eventsourcing"],
        ),
        (
            "eventsourcing.sql",
            "CREATE SCHEMA billing; ALTER TABLE bank_events SET SCHEMA billing;
             ALTER TABLE bank_snapshots SET SCHEMA billing;",
            "billing.bank_events",
            &["--preset", "eventsourcing"],
        ),
    ];
    for (file, moved, table, suggested) in cases {
        let db = pg.create_database("library table mapped");
        db.load_fixture(file);
        let url = db.url();
        let detected = listing(&cli, &url, &[]);
        if !moved.is_empty() {
            db.psql(moved);
        }
        let map = format!("events.table={table}");
        let err = cli.bad(&["aggregates", &url, "--map", &map]);
        assert!(err.contains("has no column"), "{table}: {err}");
        let hint = format!("read it with {}", suggested.join(" "));
        assert!(err.contains(&hint), "{table}: {err}");
        // eventsourcing reads the mapped table; the other presets their own, and say to
        // give them no mapping, which they would not use.
        let mut args = Vec::new();
        if suggested.contains(&"eventsourcing") {
            args.extend(["--map", map.as_str()]);
        } else {
            assert!(err.contains("instead of the --map"), "{table}: {err}");
            let both = cli.bad(&["aggregates", &url, "--map", &map, "--preset", suggested[1]]);
            assert!(both.contains("would not be used"), "{table}: {both}");
        }
        args.extend(suggested);
        assert_eq!(
            listing(&cli, &url, &args),
            detected,
            "{table} {suggested:?}"
        );
    }
    // A table that only looks like one keeps the plain message.
    let db = pg.create_database("native table mapped");
    db.load_fixture("native.sql");
    let err = cli.bad(&[
        "aggregates",
        &db.url(),
        "--map",
        "events.table=public.snapshots",
    ]);
    assert!(!err.contains("read it with"), "{err}");
}

/// Message DB's indexes serve rewind's reads: one stream's history and its pages by
/// `messages_stream` (stream_name, position), in that index's order, although rewind shows
/// `position + 1` as the version; follow polls by the `global_position` key. Pages read
/// back through the index give the same history as one read.
#[test]
fn message_db_reads_are_served_by_its_indexes() {
    use rewind::model::{Chunk, StorePosition};
    use rewind::source::postgres::{PgSource, PostgresOptions};
    use rewind::source::{EventSource, Query};
    use std::ops::ControlFlow;

    let Some(db) = fixture("message_db_plans", "message-db.sql") else {
        return;
    };
    // A store where a stream is a small part of the table, interleaved with the others as
    // writers interleave them.
    db.psql(
        "INSERT INTO message_store.messages (stream_name, position, type, data, metadata)
         SELECT 'load-' || (i % 2000), i / 2000, 'Counted', jsonb_build_object('n', i), '{}'
         FROM generate_series(0, 39999) i;
         INSERT INTO message_store.messages (stream_name, position, type, data, metadata)
         SELECT 'long-1', i, 'Counted', jsonb_build_object('n', i), '{}'
         FROM generate_series(0, 999) i;
         ANALYZE message_store.messages;",
    );
    let source = PgSource::open(&db.url(), PostgresOptions::default()).unwrap();
    let plans = source.explain_reads("long-1").unwrap();
    let plan = |name: &str| -> &str { &plans.iter().find(|(n, _)| *n == name).unwrap().1 };
    // A whole sort of the rows found (not the incremental one over index order).
    let sorts = |plan: &str| {
        plan.lines()
            .any(|l| l.trim_start().trim_start_matches("->  ") == "Sort")
    };
    for name in ["history", "first rows", "page", "count"] {
        assert!(
            plan(name).contains("messages_stream"),
            "{name}:\n{}",
            plan(name)
        );
        assert!(!plan(name).contains("Seq Scan"), "{name}:\n{}", plan(name));
    }
    // The first rows come in the index's order, and a page starts where the index says
    // and stops after its rows, without sorting the rest of the history.
    assert!(!sorts(plan("first rows")), "{}", plan("first rows"));
    assert!(!sorts(plan("page")), "{}", plan("page"));
    assert!(
        plan("page").contains(") AND (\"position\" >= "),
        "the page's start is an index condition:\n{}",
        plan("page")
    );
    for name in ["follow aggregate", "follow store", "store from"] {
        assert!(
            plan(name).contains("messages_pkey"),
            "{name}:\n{}",
            plan(name)
        );
        assert!(
            plan(name).contains("Index Cond: (global_position "),
            "{name}:\n{}",
            plan(name)
        );
    }

    // Pages of 128 through the rewritten keyset read what one read reads, versions from 1.
    let read = |query: Query| {
        let mut got = Vec::new();
        source
            .query(&query, &mut |chunk| {
                if let Chunk::Events(events) = chunk {
                    got.extend(events.into_iter().map(|e| (e.version, e.position)));
                }
                ControlFlow::Continue(())
            })
            .unwrap();
        got
    };
    let whole = read(Query::aggregate("long-1"));
    assert_eq!(whole.len(), 1000);
    assert_eq!(whole.first().unwrap().0, 1);
    assert_eq!(whole.last().unwrap().0, 1000);
    let mut paged = Vec::new();
    let mut after: Option<(u64, StorePosition)> = None;
    loop {
        let page = read(Query::page("long-1", after, 128));
        let Some(last) = page.last() else { break };
        after = Some(*last);
        paged.extend(page);
    }
    assert_eq!(paged, whole);
}

/// FIRST and LAST of an eventsourcing aggregate are its earliest and latest event times
/// as `events` decodes them, whether the server finds the time at the head of the state
/// (compact or spaced JSON, any offset) or rewind decodes the state (another key first).
#[test]
fn eventsourcing_first_and_last_are_the_earliest_and_latest_event_times() {
    use chrono::{DateTime, Utc};

    let Some(db) = fixture("eventsourcing_times", "eventsourcing.sql") else {
        return;
    };
    let heads = [
        r#"{"timestamp": {"_type_": "datetime_iso", "_data_": "2026-02-01T09:00:00+00:00"}, "n": 1}"#,
        r#"{"timestamp":{"_type_":"datetime_iso","_data_":"2026-02-01T12:30:00+02:00"},"n":2}"#,
        r#"{"timestamp":{"_type_": "datetime_iso","_data_": "2026-02-01T08:15:00.250000+00:00"},"n":3}"#,
        r#"{"n":4,"timestamp":{"_type_":"datetime_iso","_data_":"2026-02-01T23:00:00+00:00"}}"#,
        r#"{"timestamp":{"_type_":"datetime_iso","_data_":"2026-02-01T22:30:00+05:00"},"n":5}"#,
    ];
    let id = "00000000-0000-0000-0000-0000000000aa";
    for (v, state) in heads.iter().enumerate() {
        db.psql(&format!(
            "INSERT INTO bank_events (originator_id, originator_version, topic, state) VALUES \
             ('{id}', {}, '__main__:write_store.<locals>.BankAccount.Deposited', \
              convert_to('{state}', 'UTF8'));",
            v + 1
        ));
    }
    let cli = PgCli::new();
    let url = db.url();
    let instant = |v: &Value| -> DateTime<Utc> { v.as_str().unwrap().parse().unwrap() };
    let list = cli.json(&["aggregates", &url, "--format", "json"]);
    for aggregate in list.as_array().unwrap() {
        let events = cli.json(&[
            "events",
            &url,
            aggregate["id"].as_str().unwrap(),
            "--format",
            "json",
        ]);
        let times: Vec<DateTime<Utc>> = events
            .as_array()
            .unwrap()
            .iter()
            .map(|e| instant(&e["timestamp"]))
            .collect();
        let first = instant(&aggregate["first_timestamp"]);
        let last = instant(&aggregate["last_timestamp"]);
        assert_eq!(first, *times.iter().min().unwrap(), "{aggregate}");
        assert_eq!(last, *times.iter().max().unwrap(), "{aggregate}");
        if aggregate["id"] == id {
            assert_eq!(
                first,
                "2026-02-01T08:15:00.25Z".parse::<DateTime<Utc>>().unwrap()
            );
            assert_eq!(
                last,
                "2026-02-01T23:00:00Z".parse::<DateTime<Utc>>().unwrap()
            );
        }
    }
    assert_eq!(list.as_array().unwrap().len(), 3);
}
