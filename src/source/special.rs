//! Files a source cannot be read from: FIFOs, devices, sockets and the size-less files of
//! /proc. Each is refused before it is opened, since opening a FIFO blocks until a writer
//! comes and a device like /dev/zero never ends.

use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

use super::SourceError;
use crate::files::{names_a_descriptor, special_kind};

/// Refuses anything but a regular file or a directory (which the SQLite source explains);
/// a path that does not exist is left to the source, which says so in its own words.
/// `backend` is the kind of source asked for (`transcript`, `sqlite`), which the message
/// names: each needs random access for reasons of its own.
pub fn refuse_special_file(path: &Path, backend: &str) -> Result<(), SourceError> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(());
    };
    let (needs, example) = match backend {
        "transcript" => ("transcripts need random access", "out.jsonl"),
        "sqlite" => ("SQLite stores need random access", "store.db"),
        _ => ("stores need random access", "store.db"),
    };
    let shown = path.display();
    let kind = meta.file_type();
    let what = if kind.is_fifo() && names_a_descriptor(path) {
        return Err(SourceError::open(format!(
            "{shown} is a pipe (process substitution?); {needs}: copy it to a file first (cat … > {example}) and give that file"
        )));
    } else if let Some(what) = special_kind(kind).filter(|_| !kind.is_dir()) {
        what
    } else if meta.is_file() && meta.len() == 0 && !is_really_empty(path) {
        // procfs and sysfs report 0 bytes for files that have content (or fail to read).
        return Err(SourceError::open(format!(
            "{shown} is not a regular file on disk (it reports 0 bytes but is not empty); copy it to a file first and give that file"
        )));
    } else {
        return Ok(());
    };
    Err(SourceError::open(format!(
        "{shown} is {what}; give a regular file ({needs})"
    )))
}

/// A regular file that claims 0 bytes: truly empty if reading it gives nothing at once.
fn is_really_empty(path: &Path) -> bool {
    let mut byte = [0u8; 1];
    std::fs::File::open(path)
        .and_then(|mut file| file.read(&mut byte))
        .is_ok_and(|n| n == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_proc_files_are_refused_and_regular_files_pass() {
        let err = refuse_special_file(Path::new("/dev/null"), "sqlite").unwrap_err();
        assert!(err.to_string().contains("a character device"), "{err}");
        assert!(err.to_string().contains("(SQLite stores need"), "{err}");
        let err = refuse_special_file(Path::new("/dev/null"), "transcript").unwrap_err();
        assert!(err.to_string().contains("(transcripts need"), "{err}");
        assert!(!err.to_string().contains("SQLite"), "{err}");
        let err = refuse_special_file(Path::new("/proc/self/status"), "sqlite").unwrap_err();
        assert!(err.to_string().contains("reports 0 bytes"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.db");
        std::fs::write(&empty, "").unwrap();
        assert!(refuse_special_file(&empty, "sqlite").is_ok());
        assert!(refuse_special_file(dir.path(), "sqlite").is_ok());
        assert!(refuse_special_file(&dir.path().join("missing"), "sqlite").is_ok());
    }
}
