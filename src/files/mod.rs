//! Files rewind handles that are not stores: what a path names (a descriptor, a device),
//! the files rewind makes and must never leave behind ([`cleanup`]), and the small files it
//! reads with bounds ([`bounded`]).

pub mod bounded;
pub mod cleanup;

use std::path::Path;

/// `/dev/stdout`, `/dev/fd/N`, `/proc/self/fd/N`: a path that names an open descriptor
/// (how shells name process substitutions), whatever it points to.
pub fn names_a_descriptor(path: &Path) -> bool {
    let text = path.to_string_lossy();
    matches!(text.as_ref(), "/dev/stdin" | "/dev/stdout" | "/dev/stderr")
        || text.starts_with("/dev/fd/")
        || (text.starts_with("/proc/") && text.contains("/fd/"))
}

/// `store.db` → `store.db-wal` (or `-shm`, `-journal`): SQLite's names for a store's companions.
pub fn companion(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    std::path::PathBuf::from(name)
}
