//! Small text files the user names (jq programs, `rewind.toml`, Kafka properties, a password
//! file), read with bounds: a FIFO, a device or a directory is refused without waiting or
//! reading (opening a FIFO blocks until a writer comes; `/dev/zero` never ends), at most
//! [`SMALL_FILE_CAP`] bytes are read, and the bytes must be UTF-8.
//!
//! Each error is one line saying what the file is, for a caller that names the file
//! ("cannot read reducer PATH: …").

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The most read of a program or configuration file: 1 MiB.
pub const SMALL_FILE_CAP: u64 = 1 << 20;

/// The text of a small regular file, at most [`SMALL_FILE_CAP`] bytes.
pub fn read_small_text(path: &Path) -> io::Result<String> {
    read_text(path, SMALL_FILE_CAP).map(|(text, _)| text)
}

/// The text of a regular file of at most `cap` bytes, and the metadata of the file read
/// (not of whatever the path names by the time the caller looks).
pub fn read_text(path: &Path, cap: u64) -> io::Result<(String, Metadata)> {
    // Refused before it is opened where it can be: opening some devices does things.
    refuse_special(&std::fs::metadata(path)?)?;
    // O_NONBLOCK: should the path turn into a FIFO since, opening it still does not wait.
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    let meta = file.metadata()?;
    refuse_special(&meta)?;
    if meta.len() > cap {
        return Err(too_large(cap));
    }
    let bytes = read_at_most(file, cap)?;
    let text = String::from_utf8(bytes).map_err(|err| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                err.utf8_error().valid_up_to()
            ),
        )
    })?;
    Ok((text, meta))
}

/// A file that reports fewer bytes than it has (procfs) is still cut at `cap`.
fn read_at_most(file: File, cap: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    file.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(too_large(cap));
    }
    Ok(bytes)
}

fn refuse_special(meta: &Metadata) -> io::Result<()> {
    match super::special_kind(meta.file_type()) {
        None => Ok(()),
        Some(what) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is {what}, not a regular file"),
        )),
    }
}

fn too_large(cap: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        format!(
            "it is larger than {}, the most rewind reads of a program or config file",
            size(cap)
        ),
    )
}

fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes % (1 << 20) == 0 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(path: &Path) -> String {
        read_small_text(path).unwrap_err().to_string()
    }

    #[test]
    fn a_small_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jq");
        std::fs::write(&path, ".balance += 1").unwrap();
        assert_eq!(read_small_text(&path).unwrap(), ".balance += 1");
        let (text, meta) = read_text(&path, 13).unwrap();
        assert_eq!((text.len(), meta.len()), (13, 13));
    }

    #[test]
    fn fifos_devices_and_directories_are_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let name = std::ffi::CString::new(fifo.to_string_lossy().as_bytes()).unwrap();
        // SAFETY: mkfifo with a NUL-terminated path this test owns.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        assert_eq!(error(&fifo), "it is a FIFO, not a regular file");
        assert_eq!(
            error(Path::new("/dev/zero")),
            "it is a character device, not a regular file"
        );
        assert_eq!(error(dir.path()), "it is a directory, not a regular file");
        let missing = read_small_text(&dir.path().join("missing")).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn a_file_past_the_cap_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.jq");
        // Sparse: claims 2 GiB, holds nothing.
        File::create(&path).unwrap().set_len(2 << 30).unwrap();
        assert_eq!(
            error(&path),
            "it is larger than 1 MiB, the most rewind reads of a program or config file"
        );
        std::fs::write(&path, "x".repeat(11)).unwrap();
        let err = read_text(&path, 10).unwrap_err().to_string();
        assert!(
            err.starts_with("it is larger than 10 bytes, the most"),
            "{err}"
        );
    }

    #[test]
    fn a_file_that_reports_no_size_is_still_cut_at_the_cap() {
        // /proc files say 0 bytes; this one holds more than 16.
        let err = read_text(Path::new("/proc/self/status"), 16).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
    }

    #[test]
    fn invalid_utf8_is_refused_with_its_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.jq");
        std::fs::write(&path, b"ab\xffcd").unwrap();
        assert_eq!(error(&path), "not UTF-8 text (invalid byte at offset 2)");
    }
}
