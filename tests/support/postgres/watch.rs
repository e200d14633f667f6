//! Watching a database for writes: a row-level audit trigger on every table, the tables'
//! `pg_stat_user_tables` counters, and a digest of every table's rows, read once nothing but
//! the watcher is connected.
//!
//! The counters are flushed by each backend asynchronously, at the latest when it exits
//! (before it leaves `pg_stat_activity`), so `settled` waits until no other client backend is
//! connected to the database before reading them. `prove_a_write_is_seen` shows that a real
//! write does move every measure, so a test comparing them can fail.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::{quote_literal, PgDatabase};

const AUDIT_SCHEMA: &str = "rewind_audit";

/// Everything that would change if anything wrote: per table its insert, update, delete and
/// live-row counters and the digest of its rows; and the audit table's row count.
pub type Measures = BTreeMap<String, String>;

pub struct Watch<'a> {
    db: &'a PgDatabase<'a>,
    /// `schema.table` of every watched table.
    pub tables: Vec<String>,
}

impl<'a> Watch<'a> {
    /// Installs the audit trigger (rows: INSERT, UPDATE, DELETE; statements: TRUNCATE) on
    /// every table outside the catalogs, writing as the superuser into a table of its own
    /// schema that no reader is granted; autovacuum is turned off on them so nothing but a
    /// client moves their counters.
    pub fn install(db: &'a PgDatabase<'a>) -> Watch<'a> {
        db.psql(&format!(
            "CREATE SCHEMA {AUDIT_SCHEMA};
             CREATE TABLE {AUDIT_SCHEMA}.changes (
                 id bigserial PRIMARY KEY, table_name text NOT NULL, operation text NOT NULL,
                 by_role text NOT NULL DEFAULT session_user, at timestamptz NOT NULL DEFAULT clock_timestamp());
             CREATE FUNCTION {AUDIT_SCHEMA}.record() RETURNS trigger LANGUAGE plpgsql
                 SECURITY DEFINER AS $$
             BEGIN
                 INSERT INTO {AUDIT_SCHEMA}.changes (table_name, operation)
                 VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP);
                 RETURN NULL;
             END $$;"
        ));
        let tables: Vec<String> = db
            .psql(&format!(
                "SELECT schemaname || '.' || tablename FROM pg_tables
                 WHERE schemaname NOT IN ('pg_catalog', 'information_schema', {})
                 ORDER BY 1;",
                quote_literal(AUDIT_SCHEMA)
            ))
            .lines()
            .map(str::to_string)
            .filter(|t| !t.is_empty())
            .collect();
        assert!(!tables.is_empty(), "a store has tables to watch");
        for table in &tables {
            let (schema, name) = table.split_once('.').unwrap();
            db.psql(&format!(
                "DO $$ BEGIN
                 -- A partitioned table (Emmett's) has no rows or storage of its own: its
                 -- partitions, listed too, get the row trigger and the autovacuum setting
                 -- (a row trigger on the parent would be cloned onto them).
                 IF (SELECT c.relkind FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
                     WHERE ns.nspname = {s} AND c.relname = {n}) = 'r' THEN
                     EXECUTE format('CREATE TRIGGER rewind_audit_rows AFTER INSERT OR UPDATE OR DELETE ON %I.%I FOR EACH ROW EXECUTE FUNCTION {AUDIT_SCHEMA}.record()', {s}, {n});
                     EXECUTE format('ALTER TABLE %I.%I SET (autovacuum_enabled = false)', {s}, {n});
                 END IF;
                 EXECUTE format('CREATE TRIGGER rewind_audit_truncate AFTER TRUNCATE ON %I.%I FOR EACH STATEMENT EXECUTE FUNCTION {AUDIT_SCHEMA}.record()', {s}, {n});
                 END $$;",
                s = quote_literal(schema),
                n = quote_literal(name)
            ));
        }
        Watch { db, tables }
    }

    /// The measures once every other client of the database has gone (and so flushed its
    /// counters).
    pub fn settled(&self) -> Measures {
        self.wait_until_alone();
        let mut measures = Measures::new();
        for table in &self.tables {
            let (schema, name) = table.split_once('.').unwrap();
            let (s, n) = (quote_literal(schema), quote_literal(name));
            let counters = self.db.psql(&format!(
                "SELECT pg_stat_clear_snapshot();
                 SELECT format('ins=%s upd=%s del=%s live=%s', n_tup_ins, n_tup_upd, n_tup_del, n_live_tup)
                 FROM pg_stat_user_tables WHERE schemaname = {s} AND relname = {n};"
            ));
            let digest = self.db.psql(&format!(
                "SELECT md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), '')) FROM {} r;",
                quoted_table(table)
            ));
            measures.insert(
                format!("{table} counters"),
                counters.trim().lines().last().unwrap_or("").to_string(),
            );
            measures.insert(format!("{table} rows"), digest.trim().to_string());
        }
        let audit = self
            .db
            .psql(&format!("SELECT count(*) FROM {AUDIT_SCHEMA}.changes;"));
        measures.insert("audit rows".into(), audit.trim().to_string());
        measures
    }

    /// Deletes one row of the first table and puts it back, as the superuser: the row
    /// digests end where they began, but the counters and the audit must show both writes.
    pub fn prove_a_write_is_seen(&self) {
        let before = self.settled();
        let table = quoted_table(&self.tables[0]);
        self.db.psql(&format!(
            "BEGIN;
             CREATE TEMP TABLE taken ON COMMIT DROP AS SELECT * FROM {table} LIMIT 1;
             DELETE FROM {table} t USING taken WHERE t = taken;
             INSERT INTO {table} OVERRIDING SYSTEM VALUE SELECT * FROM taken;
             COMMIT;"
        ));
        let after = self.settled();
        let first = &self.tables[0];
        let count = |m: &Measures, what: &str| -> i64 {
            let counters = &m[&format!("{first} counters")];
            counters
                .split(' ')
                .find_map(|kv| kv.strip_prefix(&format!("{what}=")))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("no {what} in {counters:?}"))
        };
        assert_eq!(count(&after, "ins"), count(&before, "ins") + 1, "{after:?}");
        assert_eq!(count(&after, "del"), count(&before, "del") + 1, "{after:?}");
        let audited = |m: &Measures| m["audit rows"].parse::<i64>().unwrap();
        assert_eq!(audited(&after), audited(&before) + 2, "{after:?}");
        assert_eq!(
            after[&format!("{first} rows")],
            before[&format!("{first} rows")]
        );
    }

    /// Rows of the audit table, for a failure message.
    pub fn audit_log(&self) -> String {
        self.db.psql(&format!(
            "SELECT table_name, operation, by_role FROM {AUDIT_SCHEMA}.changes ORDER BY id;"
        ))
    }

    fn wait_until_alone(&self) {
        let others = format!(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = {} AND backend_type = 'client backend' AND pid <> pg_backend_pid();",
            quote_literal(self.db.name())
        );
        let started = Instant::now();
        loop {
            if self.db.psql(&others).trim() == "0" {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "clients still connected to {} after 30 s",
                self.db.name()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn quoted_table(table: &str) -> String {
    let (schema, name) = table.split_once('.').unwrap();
    format!(
        "{}.{}",
        super::quote_ident(schema),
        super::quote_ident(name)
    )
}
