//! Files rewind handles that are not stores: what a path names (a descriptor, a device),
//! the files rewind makes and must never leave behind ([`cleanup`]), and the small files it
//! reads with bounds ([`bounded`]).

pub mod bounded;
pub mod cleanup;

use std::path::Path;

/// `/dev/stdout`, `/dev/fd/N`, `/proc/self/fd/N`: a path that names an open descriptor
/// (how shells name process substitutions), whatever it points to.
/// What a file that is not a regular one is, as a message says it (`None` for a regular
/// file): the words every refusal of FIFOs, devices and the like uses.
pub fn special_kind(kind: std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    Some(if kind.is_file() {
        return None;
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a special file"
    })
}

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
