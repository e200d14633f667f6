//! What a store's schema can make SQLite do is bounded: a view over a recursive query that
//! never ends, or one that builds 100 MB strings, stops with an error naming the read.
//!
//! - Every query gets `--query-timeout` seconds of work. The clock runs while SQLite
//!   executes (its progress handler ticks every few thousand instructions) and pauses
//!   while rewind handles the rows it got: a gap of more than [`PAUSE`] between ticks that
//!   a row was handed over in is rewind's own time (or a wait for a writer's lock, bounded
//!   by `--lock-timeout`), not SQLite's. A gap with no row handed over is SQLite's alone,
//!   however long (one instruction building a huge string, say), and counts; the time rewind spends with a batch of rows it was handed (folding it,
//!   drawing it, waiting for the UI to catch up) is left out explicitly, however short its
//!   gaps. So a healthy scan of millions of rows, which keeps making progress at well
//!   under a second per 100,000 rows, never comes near the default of 60 s.
//! - No value may be longer than [`MAX_VALUE_BYTES`] (`SQLITE_LIMIT_LENGTH`): building a
//!   longer string or reading a longer stored payload is an error, not an allocation.
//! - The schema is not trusted (`trusted_schema = OFF`, `SQLITE_DBCONFIG_DEFENSIVE`): views
//!   and triggers may call only functions SQLite marks harmless.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::config::DbConfig;
use rusqlite::limits::Limit;
use rusqlite::{ffi, Connection};

/// The longest string or blob SQLite may build or hand to rewind.
pub const MAX_VALUE_BYTES: i32 = 64 << 20;

/// SQLite instructions between two ticks of the clock.
const TICK_OPS: i32 = 4000;

/// A gap between ticks longer than this was spent outside SQLite.
pub const PAUSE: Duration = Duration::from_millis(250);

/// The work budget of the query running now, shared with SQLite's progress handler.
#[derive(Clone)]
pub struct QueryClock {
    limit: Duration,
    state: Arc<Mutex<ClockState>>,
    /// Rows handed to rewind so far: a gap between ticks with none is all SQLite's.
    rows: Arc<AtomicU64>,
}

#[derive(Default)]
struct ClockState {
    worked: Duration,
    last_tick: Option<Instant>,
    /// `rows` at the last tick.
    rows_at_tick: u64,
    /// Time spent outside SQLite since the last tick, to leave out of the next gap.
    outside: Duration,
    stopped: bool,
}

impl QueryClock {
    pub fn new(limit: Duration) -> QueryClock {
        QueryClock {
            limit,
            state: Arc::default(),
            rows: Arc::default(),
        }
    }

    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// A new query starts with the whole budget.
    pub fn restart(&self) {
        *self.lock() = ClockState {
            rows_at_tick: self.rows.load(Ordering::Relaxed),
            ..ClockState::default()
        };
    }

    /// SQLite handed rewind a row: the time until the next tick may be rewind's.
    pub fn row_handed(&self) {
        self.rows.fetch_add(1, Ordering::Relaxed);
    }

    /// Runs `work` (rewind's handling of rows it was given) off the query's clock.
    pub fn outside<T>(&self, work: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let result = work();
        self.lock().outside += started.elapsed();
        result
    }

    /// Called by SQLite while it works; `true` stops the query.
    fn tick(&self) -> bool {
        let now = Instant::now();
        let mut state = self.lock();
        let outside = std::mem::take(&mut state.outside);
        let rows = self.rows.load(Ordering::Relaxed);
        let handed = std::mem::replace(&mut state.rows_at_tick, rows) != rows;
        if let Some(last) = state.last_tick {
            let gap = now.duration_since(last).saturating_sub(outside);
            if gap <= PAUSE || !handed {
                state.worked += gap;
            }
        }
        state.last_tick = Some(now);
        state.stopped |= state.worked > self.limit;
        state.stopped
    }

    fn stopped(&self) -> bool {
        self.lock().stopped
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ClockState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Puts every bound on a fresh connection.
pub fn bound(conn: &Connection, clock: &QueryClock) -> rusqlite::Result<()> {
    conn.execute_batch("PRAGMA trusted_schema = OFF;")?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)?;
    let clock = clock.clone();
    conn.progress_handler(TICK_OPS, Some(move || clock.tick()));
    Ok(())
}

/// What to tell the user when a bound stopped a read, if one did.
pub fn exceeded(err: &rusqlite::Error, doing: &str, clock: &QueryClock) -> Option<String> {
    match err.sqlite_error_code()? {
        ffi::ErrorCode::OperationInterrupted if clock.stopped() => Some(format!(
            "stopped the query to {doing} after {} s of work: the store's schema may loop \
             (a view over a recursive query, say); if the store is just that big, raise \
             --query-timeout (query_timeout in rewind.toml)",
            seconds(clock.limit())
        )),
        ffi::ErrorCode::TooBig => Some(format!(
            "could not {doing}: a value is longer than {} MiB, the most rewind reads from one \
             column (a stored payload that size, or a view that builds one)",
            MAX_VALUE_BYTES >> 20
        )),
        _ => None,
    }
}

fn seconds(duration: Duration) -> String {
    let s = duration.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        format!("{s}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounded(limit: Duration) -> (Connection, QueryClock) {
        let conn = Connection::open_in_memory().unwrap();
        let clock = QueryClock::new(limit);
        bound(&conn, &clock).unwrap();
        (conn, clock)
    }

    #[test]
    fn a_stores_schema_cannot_call_functions_or_write_itself() {
        use rusqlite::functions::FunctionFlags;
        // A store whose view calls an application function (one of rewind's own, say).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE VIEW v AS SELECT side_effect() AS x;")
            .unwrap();
        let conn = Connection::open(&path).unwrap();
        bound(&conn, &QueryClock::new(Duration::from_secs(60))).unwrap();
        // Not marked innocuous: with the schema untrusted, SQLite refuses the view's call.
        conn.create_scalar_function("side_effect", 0, FunctionFlags::SQLITE_UTF8, |_| Ok(1))
            .unwrap();
        let err = conn
            .query_row("SELECT x FROM v", [], |r| r.get::<_, i64>(0))
            .unwrap_err();
        assert!(
            err.to_string().contains("unsafe use of side_effect"),
            "{err}"
        );
        assert_eq!(
            conn.query_row("SELECT side_effect()", [], |r| r.get::<_, i64>(0))
                .unwrap(),
            1
        );
        // Defensive: the schema cannot be made writable.
        assert!(conn.db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE).unwrap());
        conn.execute_batch("PRAGMA writable_schema = ON;").unwrap();
        let writable: i64 = conn
            .query_row("PRAGMA writable_schema", [], |r| r.get(0))
            .unwrap();
        assert_eq!(writable, 0, "ignored in defensive mode");
    }

    #[test]
    fn a_query_that_never_ends_is_stopped_and_named() {
        let (conn, clock) = bounded(Duration::from_millis(300));
        let started = Instant::now();
        let err = conn
            .query_row(
                "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r",
                [],
                |row| row.get::<_, i64>(0),
            )
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(10));
        let message = exceeded(&err, "list aggregates", &clock).unwrap();
        assert!(message.contains("list aggregates after 0.3 s"), "{message}");
        assert!(message.contains("--query-timeout"), "{message}");
        // The next query has its budget back.
        clock.restart();
        let n: i64 = conn.query_row("SELECT 41 + 1", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 42);
    }

    #[test]
    fn time_outside_sqlite_is_not_counted() {
        let (conn, clock) = bounded(Duration::from_millis(1500));
        // Each row costs SQLite some work (counting to 100,000 and more).
        let mut stmt = conn
            .prepare(
                "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 6) \
                 SELECT i, (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c \
                 WHERE n < 100000 + i) SELECT count(*) FROM c) FROM r",
            )
            .unwrap();
        let mut rows = stmt.query([]).unwrap();
        let started = Instant::now();
        while rows.next().unwrap().is_some() {
            clock.row_handed();
            // rewind's own work between rows: together longer than the whole budget.
            std::thread::sleep(PAUSE + Duration::from_millis(50));
        }
        assert!(started.elapsed() > clock.limit());
        assert!(!clock.stopped());
    }

    /// Rows that each cost one long instruction (a 10 MB string built and dropped) and are
    /// then filtered out: no tick falls inside the instruction and no row reaches rewind,
    /// so every gap is SQLite's. (They were taken for rewind's time, and such a view ran
    /// forever.) An interrupt after 60 s stands guard, so a failure cannot hang the suite.
    #[test]
    fn long_single_instructions_count_when_no_row_was_handed_over() {
        let (conn, clock) = bounded(Duration::from_millis(1000));
        let guard = conn.get_interrupt_handle();
        let (done, finished) = std::sync::mpsc::channel::<()>();
        let watchdog = std::thread::spawn(move || {
            if finished.recv_timeout(Duration::from_secs(60)).is_err() {
                guard.interrupt();
            }
        });
        let err = conn
            .query_row(
                "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) \
                 SELECT i FROM r WHERE length(hex(randomblob(5000000 + i % 2))) < 0",
                [],
                |row| row.get::<_, i64>(0),
            )
            .unwrap_err();
        let _ = done.send(());
        watchdog.join().unwrap();
        assert!(
            clock.stopped(),
            "stopped by the watchdog, not the budget: {err}"
        );
        assert!(exceeded(&err, "list aggregates", &clock).is_some());
    }

    #[test]
    fn huge_strings_are_an_error_not_an_allocation() {
        let (conn, clock) = bounded(Duration::from_secs(60));
        let err = conn
            .query_row("SELECT length(zeroblob(100000000))", [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap_err();
        let message = exceeded(&err, "read events", &clock).unwrap();
        assert!(message.contains("longer than 64 MiB"), "{message}");
    }
}
