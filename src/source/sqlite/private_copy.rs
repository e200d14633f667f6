//! A WAL store that no process has open but whose `-wal` still holds commits (a writer
//! crashed, or the files were copied off a server) cannot be read in place without a trace:
//! SQLite would create a `-shm` beside it, or rebuild the one there (its wal-index header),
//! and in a read-only folder it cannot open it at all. Likewise a rollback-journal store
//! with a hot `-journal` (a writer died mid-transaction) must be rolled back before it can
//! be read, which a read-only reader may not do. rewind reads such a store through a
//! private copy of the db and that companion in the temporary folder, removed when the
//! source closes or rewind is stopped.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use crate::files::{cleanup, companion};

/// The wal-index's "dead man switch" byte in the `-shm`: every connection holds a read lock
/// on it while open (SQLite's unix VFS, `UNIX_SHM_DMS`).
const SHM_DMS_BYTE: i64 = 128;

/// The lock bytes of the main file (`PENDING_BYTE` and the shared range after it), which a
/// writer in exclusive locking mode (no `-shm`) holds.
const DB_LOCK_START: i64 = 0x4000_0000;
const DB_LOCK_LEN: i64 = 512;

/// The WAL header; a `-wal` no longer than this holds no commit.
pub const WAL_HEADER_BYTES: u64 = 32;

/// Does any other process have the store open? Asked without taking a lock (F_GETLK).
/// Only called while rewind itself has no connection to these files: closing a descriptor
/// would drop any lock this process holds on them.
pub fn open_elsewhere(db: &Path) -> bool {
    let locked = |path: &Path, start: i64, len: i64| {
        File::open(path).is_ok_and(|file| lock_held(&file, start, len).unwrap_or(true))
    };
    locked(&companion(db, "-shm"), SHM_DMS_BYTE, 1) || locked(db, DB_LOCK_START, DB_LOCK_LEN)
}

fn lock_held(file: &File, start: i64, len: i64) -> io::Result<bool> {
    // SAFETY: a zeroed flock is a valid value; fcntl(F_GETLK) fills it in and takes no lock.
    let mut query: libc::flock = unsafe { std::mem::zeroed() };
    query.l_type = libc::F_WRLCK as libc::c_short;
    query.l_whence = libc::SEEK_SET as libc::c_short;
    query.l_start = start;
    query.l_len = len;
    // SAFETY: the descriptor is open for the call; `query` outlives it.
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLK, &mut query) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(query.l_type != libc::F_UNLCK as libc::c_short)
}

/// The first bytes of a journal that still has to be rolled back.
const JOURNAL_MAGIC: [u8; 8] = [0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7];

/// Does the rollback journal beside `db` hold a transaction to undo? (It is hot only if no
/// process holds the store open, which [`open_elsewhere`] tells.)
pub fn journal_to_roll_back(db: &Path) -> bool {
    use std::io::Read;
    let mut start = [0u8; 8];
    File::open(companion(db, "-journal"))
        .and_then(|mut file| file.read_exact(&mut start))
        .is_ok_and(|()| start == JOURNAL_MAGIC)
}

/// What the db and its companion looked like when copied: a copy is stale once they change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp(Vec<Option<(u64, i64, i64, u64)>>);

impl Stamp {
    pub fn of(db: &Path, suffix: &str) -> Stamp {
        Stamp(
            [db.to_path_buf(), companion(db, suffix)]
                .iter()
                .map(|path| {
                    let meta = std::fs::metadata(path).ok()?;
                    Some((meta.len(), meta.mtime(), meta.mtime_nsec(), meta.ino()))
                })
                .collect(),
        )
    }
}

/// The copy: its folder (removed on drop), the db inside it, and what the originals were.
pub struct PrivateCopy {
    folder: cleanup::Registered,
    suffix: &'static str,
    stamp: Stamp,
}

impl PrivateCopy {
    pub fn db(&self) -> PathBuf {
        self.folder.path().join("store.db")
    }

    /// Have the originals changed, or has a process opened them, since the copy was made?
    pub fn is_stale(&self, db: &Path) -> bool {
        Stamp::of(db, self.suffix) != self.stamp || open_elsewhere(db)
    }
}

/// Copies still held by a connection, by the original db's path. The UI reads one store on
/// several connections (the list, the history loader, previews): without this each made its
/// own copy of the whole store.
static SHARED: Mutex<Vec<(PathBuf, Weak<PrivateCopy>)>> = Mutex::new(Vec::new());

/// A private copy of the db and its companion (`-wal` or `-journal`): the one another
/// connection holds if the originals have not changed since, else a new one. The originals
/// are checked before and after copying: a writer that came or wrote meanwhile makes this
/// `Ok(None)`, and the store is then read alongside it.
pub fn make(db: &Path, suffix: &'static str) -> io::Result<Option<Arc<PrivateCopy>>> {
    let key = std::fs::canonicalize(db).unwrap_or_else(|_| db.to_path_buf());
    // Held while copying: a second connection waits for the copy and shares it.
    let mut shared = SHARED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    shared.retain(|(_, copy)| copy.strong_count() > 0);
    let held = shared
        .iter()
        .filter(|(path, _)| *path == key)
        .find_map(|(_, copy)| copy.upgrade())
        .filter(|copy| copy.suffix == suffix && !copy.is_stale(db));
    if let Some(copy) = held {
        return Ok(Some(copy));
    }
    let Some(copy) = copy_anew(db, suffix)? else {
        return Ok(None);
    };
    let copy = Arc::new(copy);
    shared.push((key, Arc::downgrade(&copy)));
    Ok(Some(copy))
}

fn copy_anew(db: &Path, suffix: &'static str) -> io::Result<Option<PrivateCopy>> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let stamp = Stamp::of(db, suffix);
    let (folder, ()) = cleanup::create(|| {
        let base = std::env::temp_dir();
        loop {
            let folder = base.join(format!(
                "rewind-copy-{}-{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
            match std::fs::DirBuilder::new().mode(0o700).create(&folder) {
                Ok(()) => return Ok((folder, ())),
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(err) => return Err(err),
            }
        }
    })?;
    let copy = folder.path().join("store.db");
    std::fs::copy(db, &copy)?;
    std::fs::copy(companion(db, suffix), companion(&copy, suffix))?;
    let copy = PrivateCopy {
        folder,
        suffix,
        stamp,
    };
    Ok((!copy.is_stale(db)).then_some(copy))
}
