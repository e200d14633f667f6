//! The read-only connection, and the cases where even opening would leave a trace.
//!
//! Opening a WAL-mode database creates `-wal` and `-shm` files beside it when none exist,
//! even read-only, and a reader that finds no process holding the store open rebuilds the
//! `-shm`'s wal-index. So how a store is read depends on what is beside it:
//!
//! - no `-wal` (a WAL store no process has open): the main file holds everything and is
//!   read as immutable, so nothing is created;
//! - a `-wal` and a process holding the store open (a live writer): read alongside it, as
//!   any SQLite reader does;
//! - a `-wal` with commits and no process holding it open (a writer crashed, the files were
//!   copied): read through a private copy (see `private_copy`), since reading in place
//!   would write the `-shm`, and cannot work at all in a read-only folder;
//! - a rollback-journal store: read in place, read-only; unless its `-journal` holds a
//!   transaction to undo and no process has it open (a writer died mid-transaction): then
//!   the private copy is rolled back and read.
//!
//! Before each top-level read ([`StoreConnection::refresh`]) the choice is made again, so a
//! writer that appears is read alongside, and a copy whose originals changed is made anew.

use std::cell::{Ref, RefCell};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::limits::{self, QueryClock};
use super::private_copy::{self, PrivateCopy};
use crate::files::companion;
use crate::source::SourceError;

/// How the store is being read.
enum Mode {
    Immutable,
    Alongside,
    /// Shared with the store's other connections in this process.
    Copy(Arc<PrivateCopy>),
}

pub struct StoreConnection {
    path: PathBuf,
    busy_timeout: Duration,
    clock: QueryClock,
    /// Declared before `mode`: the connection closes before a private copy is removed.
    conn: RefCell<Connection>,
    mode: RefCell<Mode>,
}

impl StoreConnection {
    /// Opens a store; each query then gets `query_timeout` of SQLite's work (see `limits`).
    pub fn open(
        path: &Path,
        busy_timeout: Duration,
        query_timeout: Duration,
    ) -> Result<StoreConnection, SourceError> {
        let clock = QueryClock::new(query_timeout);
        // SQLite follows a symlink to the store and keeps its -wal, -shm and -journal
        // beside the real file: every judgement of those files (and the list an export
        // must not write over) is made there too, not beside the name as typed.
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let (mode, conn) = choose(&path, busy_timeout, &clock)?;
        Ok(StoreConnection {
            path,
            busy_timeout,
            clock,
            conn: RefCell::new(conn),
            mode: RefCell::new(mode),
        })
    }

    /// Reads alongside a writer that has appeared since, or copies a changed store anew;
    /// call before each top-level read, while no borrow from [`StoreConnection::get`] is
    /// alive. Once alongside a writer, rewind stays so (its own locks are on the files).
    /// The store and the files SQLite keeps beside it, where they really are.
    pub fn files(&self) -> Vec<PathBuf> {
        store_files(&self.path)
    }

    pub fn refresh(&self) -> Result<(), SourceError> {
        let stale = match &*self.mode.borrow() {
            Mode::Alongside => false,
            Mode::Immutable => !matches!(plan(&self.path), Plan::Immutable),
            Mode::Copy(copy) => copy.is_stale(&self.path),
        };
        if stale {
            let (mode, conn) = choose(&self.path, self.busy_timeout, &self.clock)?;
            *self.conn.borrow_mut() = conn;
            *self.mode.borrow_mut() = mode;
        }
        Ok(())
    }

    /// The connection, for one query (or a few in a row): its work clock starts afresh.
    pub fn get(&self) -> Ref<'_, Connection> {
        self.clock.restart();
        self.conn.borrow()
    }

    /// SQLite handed a row over (see `limits`): call after each step that gave one.
    pub fn row_handed(&self) {
        self.clock.row_handed();
    }

    /// Runs `work` (handing rows on) off the running query's work clock.
    pub fn outside<T>(&self, work: impl FnOnce() -> T) -> T {
        self.clock.outside(work)
    }

    /// The message for a read stopped by a bound (time, value length), if that is what
    /// `err` is.
    pub fn bound_exceeded(&self, err: &rusqlite::Error, doing: &str) -> Option<String> {
        limits::exceeded(err, doing, &self.clock)
    }
}

/// How a store is to be read, judged from the files beside it now.
enum Plan {
    Immutable,
    Alongside,
    /// Through a private copy of the db and this companion.
    Copy(&'static str),
}

fn plan(path: &Path) -> Plan {
    if !is_wal_mode(path) {
        let hot = private_copy::journal_to_roll_back(path) && !private_copy::open_elsewhere(path);
        return if hot {
            Plan::Copy("-journal")
        } else {
            Plan::Alongside
        };
    }
    let Ok(wal) = std::fs::metadata(companion(path, "-wal")) else {
        return Plan::Immutable;
    };
    if private_copy::open_elsewhere(path) {
        Plan::Alongside
    } else if wal.len() <= private_copy::WAL_HEADER_BYTES {
        // A -wal with no commit in it: the main file holds everything.
        Plan::Immutable
    } else {
        Plan::Copy("-wal")
    }
}

/// Picks how to read the store as it is now, and connects that way.
fn choose(
    path: &Path,
    busy_timeout: Duration,
    clock: &QueryClock,
) -> Result<(Mode, Connection), SourceError> {
    let opened = |target: &Path, access: Access| {
        connect(target, busy_timeout, clock, access).map_err(|err| open_error(path, err))
    };
    let alongside = || Ok((Mode::Alongside, opened(path, Access::ReadOnly)?));
    let suffix = match plan(path) {
        Plan::Immutable => return Ok((Mode::Immutable, opened(path, Access::Immutable)?)),
        Plan::Alongside => return alongside(),
        Plan::Copy(suffix) => suffix,
    };
    match private_copy::make(path, suffix) {
        Ok(Some(copy)) => {
            // The copy is rewind's own: a hot journal is rolled back there, never here.
            let access = match suffix {
                "-journal" => Access::PrivateCopy,
                _ => Access::ReadOnly,
            };
            let conn = opened(&copy.db(), access)?;
            Ok((Mode::Copy(copy), conn))
        }
        // A writer came while copying: read alongside it.
        Ok(None) => alongside(),
        Err(err) => {
            let message = format!(
                "cannot read {}: its {suffix} holds changes that no process has open (a writer crashed, or the files were copied), and rewind reads such a store through a private copy, which it could not make in {}: {err}; set TMPDIR to a writable folder with room for the store",
                path.display(),
                std::env::temp_dir().display()
            );
            Err(SourceError::open_rephrasing(message, err))
        }
    }
}

/// How a connection opens its file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    ReadOnly,
    /// Nothing can change the file while it is read: no locks, no `-wal`/`-shm`.
    Immutable,
    /// rewind's private copy, which SQLite may write to roll back a hot journal.
    PrivateCopy,
}

/// A store that cannot be opened, with what to do when the folder is the reason.
fn open_error(path: &Path, err: rusqlite::Error) -> SourceError {
    if err.sqlite_error_code() == Some(rusqlite::ffi::ErrorCode::CannotOpen) && is_wal_mode(path) {
        let message = format!(
            "cannot open {}: {err} (a WAL store being written needs its -shm readable and writable beside it; if the folder or the -shm is read-only, copy the db and its -wal to a writable folder and open the copy)",
            path.display()
        );
        return SourceError::open_rephrasing(message, err);
    }
    super::sqlite_error(path, err, "open")
}

fn connect(
    path: &Path,
    busy_timeout: Duration,
    clock: &QueryClock,
    access: Access,
) -> rusqlite::Result<Connection> {
    // NO_MUTEX: a source lives on one thread at a time. READ_ONLY: rewind never writes a
    // store; only its own private copy is opened for writing.
    let access_flag = match access {
        Access::PrivateCopy => OpenFlags::SQLITE_OPEN_READ_WRITE,
        Access::ReadOnly | Access::Immutable => OpenFlags::SQLITE_OPEN_READ_ONLY,
    };
    let flags = access_flag | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let mut uri = format!("file:{}", uri_path(path));
    if access == Access::Immutable {
        uri.push_str("?immutable=1");
    }
    let conn = Connection::open_with_flags(uri, flags)?;
    conn.busy_timeout(busy_timeout)?;
    limits::bound(&conn, clock)?;
    super::time_range::register(&conn)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A closed WAL store, in its own folder.
    fn wal_store() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES (1);")
            .unwrap();
        drop(conn);
        (dir, path)
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_wal_with_no_commit_is_read_immutable_and_stays_so() {
        let (dir, path) = wal_store();
        assert!(matches!(plan(&path), Plan::Immutable));
        // A -wal holding only its header (or nothing), left by a writer that is gone.
        std::fs::write(companion(&path, "-wal"), b"").unwrap();
        assert!(matches!(plan(&path), Plan::Immutable));
        let store =
            StoreConnection::open(&path, Duration::from_secs(1), Duration::from_secs(5)).unwrap();
        store.refresh().unwrap();
        let x: i64 = store
            .get()
            .query_row("SELECT x FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(x, 1);
        assert!(matches!(*store.mode.borrow(), Mode::Immutable));
        drop(store);
        assert_eq!(names(dir.path()), vec!["store.db", "store.db-wal"]);
    }

    #[test]
    fn connections_to_one_store_share_its_private_copy() {
        let (dir, path) = wal_store();
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch("PRAGMA wal_autocheckpoint = 0; INSERT INTO t VALUES (2);")
            .unwrap();
        // What a crash leaves: the db and its -wal, copied while the writer had them open.
        let crashed = dir.path().join("crashed");
        std::fs::create_dir(&crashed).unwrap();
        for name in ["store.db", "store.db-wal"] {
            std::fs::copy(dir.path().join(name), crashed.join(name)).unwrap();
        }
        drop(writer);
        let path = crashed.join("store.db");
        let open = || {
            StoreConnection::open(&path, Duration::from_secs(1), Duration::from_secs(5)).unwrap()
        };
        let copy_of = |store: &StoreConnection| match &*store.mode.borrow() {
            Mode::Copy(copy) => copy.db(),
            _ => panic!("not read through a copy"),
        };
        let (first, second) = (open(), open());
        assert_eq!(copy_of(&first), copy_of(&second));
        let count: i64 = second
            .get()
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, 2, "the copy holds the -wal's commit");
        let folder = copy_of(&first).parent().unwrap().to_path_buf();
        drop(first);
        assert!(folder.exists(), "still held by the second connection");
        drop(second);
        assert!(!folder.exists(), "gone with the last connection");
        // A copy of a store that has changed since is not handed out again.
        let third = open();
        std::fs::write(companion(&path, "-wal"), [0u8; 64]).unwrap();
        let fourth = open();
        assert_ne!(copy_of(&third), copy_of(&fourth));
    }

    #[test]
    fn a_wal_with_commits_and_no_process_is_read_through_a_copy() {
        let (dir, path) = wal_store();
        std::fs::write(companion(&path, "-wal"), [0u8; 64]).unwrap();
        assert!(matches!(plan(&path), Plan::Copy("-wal")));
        assert_eq!(names(dir.path()), vec!["store.db", "store.db-wal"]);
    }
}
