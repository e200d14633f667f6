//! The read-only connection, and the one case where even opening would leave a trace.
//!
//! Opening a WAL-mode database creates `-wal` and `-shm` files beside it when none exist,
//! even read-only. When a WAL store has neither file, no process has it open and the main
//! file holds everything, so it is read as immutable: nothing is created. As soon as a
//! writer appears (its `-wal` file exists), rewind reopens normally before the next read, so
//! it sees the writer's commits and never reads pages a checkpoint is moving.

use std::cell::{Cell, Ref, RefCell};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::limits::{self, QueryClock};
use crate::files::companion;

pub struct StoreConnection {
    path: PathBuf,
    busy_timeout: Duration,
    clock: QueryClock,
    immutable: Cell<bool>,
    conn: RefCell<Connection>,
}

impl StoreConnection {
    /// Opens a store; each query then gets `query_timeout` of SQLite's work (see `limits`).
    pub fn open(
        path: &Path,
        busy_timeout: Duration,
        query_timeout: Duration,
    ) -> rusqlite::Result<StoreConnection> {
        let immutable = is_wal_mode(path) && !companion(path, "-wal").exists();
        let clock = QueryClock::new(query_timeout);
        let conn = connect(path, busy_timeout, &clock, immutable)?;
        Ok(StoreConnection {
            path: path.to_path_buf(),
            busy_timeout,
            clock,
            immutable: Cell::new(immutable),
            conn: RefCell::new(conn),
        })
    }

    /// Reopens normally if a writer has appeared since; call before each top-level read,
    /// while no borrow from [`StoreConnection::get`] is alive.
    pub fn refresh(&self) -> rusqlite::Result<()> {
        if self.immutable.get() && companion(&self.path, "-wal").exists() {
            *self.conn.borrow_mut() = connect(&self.path, self.busy_timeout, &self.clock, false)?;
            self.immutable.set(false);
        }
        Ok(())
    }

    /// The connection, for one query (or a few in a row): its work clock starts afresh.
    pub fn get(&self) -> Ref<'_, Connection> {
        self.clock.restart();
        self.conn.borrow()
    }

    /// The message for a read stopped by a bound (time, value length), if that is what
    /// `err` is.
    pub fn bound_exceeded(&self, err: &rusqlite::Error, doing: &str) -> Option<String> {
        limits::exceeded(err, doing, &self.clock)
    }
}

fn connect(
    path: &Path,
    busy_timeout: Duration,
    clock: &QueryClock,
    immutable: bool,
) -> rusqlite::Result<Connection> {
    // NO_MUTEX: a source lives on one thread at a time. READ_ONLY: rewind never writes.
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let mut uri = format!("file:{}", uri_path(path));
    if immutable {
        uri.push_str("?immutable=1");
    }
    let conn = Connection::open_with_flags(uri, flags)?;
    conn.busy_timeout(busy_timeout)?;
    limits::bound(&conn, clock)?;
    Ok(conn)
}

/// The store and every file SQLite keeps beside it.
pub fn store_files(path: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-shm", "-journal"]
        .iter()
        .map(|suffix| companion(path, suffix))
        .collect()
}

/// Byte 18 of the SQLite header is the write format version: 2 means WAL.
fn is_wal_mode(path: &Path) -> bool {
    use std::io::Read;
    let mut header = [0u8; 20];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut header))
        .is_ok_and(|()| header.starts_with(b"SQLite format 3\0") && header[18] == 2)
}

/// Percent-encodes the characters that mean something in a SQLite URI.
fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            '%' | '?' | '#' => out.push_str(&format!("%{:02X}", c as u32)),
            _ => out.push(c),
        }
    }
    out
}
