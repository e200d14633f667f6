//! Writing a transcript to the file a user named, all at once or not at all: the content
//! goes to a temporary file in the same directory, renamed over the target only when
//! complete. Terminals, pipes, FIFOs and `/dev/null` are written straight through, and the
//! files being read (a store and its companions) are never a target.

use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::ExportError;
use crate::files::{cleanup, names_a_descriptor};

/// Where a transcript goes, and what it must never replace.
#[derive(Debug, Clone, Copy)]
pub struct FileTarget<'a> {
    pub path: &'a Path,
    /// Replace an existing regular file.
    pub force: bool,
    /// The files being read (see `EventSource::files`); never written, even with `force`.
    pub protected: &'a [PathBuf],
}

/// How deep a chain of symlinks is followed by hand (the kernel's own limit is 40).
const MAX_LINKS: usize = 40;

/// Writes the target with what `write` produces. On any failure (including in `write`) a
/// file target is left as it was and the temporary file is removed, also when rewind is
/// stopped by a signal part-way.
pub fn write_file<F>(target: &FileTarget<'_>, write: F) -> Result<(), ExportError>
where
    F: FnOnce(&mut dyn Write) -> Result<(), ExportError>,
{
    let path = target.path;
    refuse_protected(path, target.protected)?;
    let file_error = |error: io::Error| file_error(path, error);
    let existing = match fs::metadata(path) {
        Ok(meta) => Some(meta),
        Err(err) if err.kind() == io::ErrorKind::NotFound => None,
        Err(err) => return Err(file_error(err)),
    };
    if let Some(meta) = &existing {
        let kind = meta.file_type();
        if kind.is_char_device() || kind.is_fifo() || leads_to_descriptor(path) {
            return write_through(path, kind.is_fifo(), write);
        }
        if let Some(what) = unwritable_kind(meta) {
            return Err(ExportError::NotAFile {
                path: path.to_path_buf(),
                what,
            });
        }
    }
    // A dangling symlink exists too: replacing it needs --force like any file.
    if !target.force && fs::symlink_metadata(path).is_ok() {
        return Err(ExportError::Exists(path.to_path_buf()));
    }
    let (temp, file) = create_temporary(path).map_err(file_error)?;
    let mut writer = BufWriter::new(file);
    write(&mut writer).map_err(|err| naming(path, err))?;
    let file = writer
        .into_inner()
        .map_err(|err| file_error(err.into_error()))?;
    if let Some(meta) = &existing {
        // The replacement keeps the mode of the file it replaces (a private 0600 stays so).
        file.set_permissions(meta.permissions())
            .map_err(file_error)?;
    }
    file.sync_all().map_err(file_error)?;
    drop(file);
    if target.force {
        fs::rename(temp.path(), path).map_err(file_error)?;
    } else {
        // A hard link fails if the target appeared meanwhile, so a file created by someone
        // else after the check above is never replaced.
        match fs::hard_link(temp.path(), path) {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
                return Err(ExportError::Exists(path.to_path_buf()))
            }
            // File systems without hard links: the check above has to do.
            Err(_) => fs::rename(temp.path(), path).map_err(file_error)?,
        }
    }
    drop(temp);
    Ok(())
}

/// A terminal, pipe, FIFO or device: written as it is, with no temporary file and nothing
/// to replace. A FIFO nobody reads is an error, not a wait.
fn write_through<F>(path: &Path, fifo: bool, write: F) -> Result<(), ExportError>
where
    F: FnOnce(&mut dyn Write) -> Result<(), ExportError>,
{
    let file_error = |error: io::Error| file_error(path, error);
    let mut options = OpenOptions::new();
    // Append: `-o /dev/stdout` into `>> log` adds to the log rather than writing over it.
    options.append(true);
    if fifo {
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|err| match err.raw_os_error() {
        Some(libc::ENXIO) => ExportError::NoReader(path.to_path_buf()),
        _ => file_error(err),
    })?;
    if fifo {
        blocking(&file).map_err(file_error)?;
    }
    let mut writer = BufWriter::new(file);
    write(&mut writer).map_err(|err| naming(path, err))?;
    writer.flush().map_err(|err| naming(path, err.into()))?;
    Ok(())
}

fn file_error(path: &Path, error: io::Error) -> ExportError {
    ExportError::File {
        path: path.to_path_buf(),
        error,
    }
}

/// A failed write names the file it went to; a closed pipe stays itself, so `| head` ends
/// quietly as it does for stdout.
fn naming(path: &Path, err: ExportError) -> ExportError {
    match err {
        ExportError::Write(error) if error.kind() != io::ErrorKind::BrokenPipe => {
            file_error(path, error)
        }
        other => other,
    }
}

/// Clears O_NONBLOCK, set only so that opening a FIFO without a reader fails at once.
fn blocking(file: &File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor this function's caller owns, with integer arguments.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Does the path, or any symlink on the way from it, name an open descriptor
/// (`/dev/stdout`, `/proc/self/fd/1`)? Those are written through, never replaced.
fn leads_to_descriptor(path: &Path) -> bool {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        if names_a_descriptor(&current) {
            return true;
        }
        match fs::read_link(&current) {
            Ok(next) => current = parent_of(&current).join(next),
            Err(_) => return false,
        }
    }
    false
}

/// What a path is, when it is nothing a transcript can be written to.
fn unwritable_kind(meta: &Metadata) -> Option<&'static str> {
    let kind = meta.file_type();
    if kind.is_dir() {
        Some("a directory; name a file in it")
    } else if kind.is_block_device() {
        Some("a block device; write transcripts to files, pipes or terminals")
    } else if kind.is_socket() {
        Some("a socket; write transcripts to files, pipes or terminals")
    } else {
        None
    }
}

/// The source's own files are never a target: not by name (a `-wal` or `-journal` that
/// does not exist yet would be taken for the store's), not through a symlink, not as
/// another hard link to the same file.
fn refuse_protected(path: &Path, protected: &[PathBuf]) -> Result<(), ExportError> {
    let refuse = || Err(ExportError::IsSource(path.to_path_buf()));
    let identity = |meta: &Metadata| (meta.dev(), meta.ino());
    let target_ids: Vec<(u64, u64)> = [fs::metadata(path), fs::symlink_metadata(path)]
        .into_iter()
        .flatten()
        .map(|m| identity(&m))
        .collect();
    let target_name = resolved(path);
    for file in protected {
        if let Ok(meta) = fs::metadata(file) {
            if target_ids.contains(&identity(&meta)) {
                return refuse();
            }
        }
        if target_name.is_some() && target_name == resolved(file) {
            return refuse();
        }
    }
    Ok(())
}

/// Where a path leads once every symlink is followed, even when the last one dangles:
/// the real directory joined with the final name.
fn resolved(path: &Path) -> Option<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        if let Ok(real) = fs::canonicalize(&current) {
            return Some(real);
        }
        match fs::read_link(&current) {
            Ok(next) => current = parent_of(&current).join(next),
            Err(_) => {
                let dir = fs::canonicalize(parent_of(&current)).ok()?;
                return Some(dir.join(current.file_name()?));
            }
        }
    }
    None
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// A new, empty, hidden file next to `path`, with a name no other writer uses, removed
/// when dropped or when rewind is stopped first.
fn create_temporary(path: &Path) -> io::Result<(cleanup::Registered, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?
        .to_string_lossy();
    let dir = parent_of(path);
    cleanup::create(|| loop {
        let candidate = dir.join(format!(
            ".{name}.{}-{}.rewind-tmp",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&candidate)
        {
            Ok(file) => return Ok((candidate, file)),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(err),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn write_file_atomically<F>(path: &Path, force: bool, write: F) -> Result<(), ExportError>
    where
        F: FnOnce(&mut dyn Write) -> Result<(), ExportError>,
    {
        let target = FileTarget {
            path,
            force,
            protected: &[],
        };
        write_file(&target, write)
    }

    #[test]
    fn writes_the_whole_file_and_leaves_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.md");
        write_file_atomically(&path, false, |w| Ok(w.write_all(b"hello")?)).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "hello");
        assert_eq!(entries(dir.path()), vec!["t.md"]);
    }

    #[test]
    fn an_existing_file_is_kept_without_force_and_replaced_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.md");
        fs::write(&path, "old").unwrap();
        let err = write_file_atomically(&path, false, |w| Ok(w.write_all(b"new")?)).unwrap_err();
        assert!(matches!(err, ExportError::Exists(_)), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "old");
        write_file_atomically(&path, true, |w| Ok(w.write_all(b"new")?)).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(entries(dir.path()), vec!["t.md"]);
    }

    #[test]
    fn a_replaced_file_keeps_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("private.jsonl");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        write_file_atomically(&path, true, |w| Ok(w.write_all(b"new")?)).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn a_failure_half_way_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        fs::write(&path, "old").unwrap();
        let err = write_file_atomically(&path, true, |w| {
            w.write_all(&[b'x'; 100_000])?;
            Err(ExportError::Write(io::Error::other("disk on fire")))
        })
        .unwrap_err();
        assert!(err.to_string().contains("disk on fire"), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(entries(dir.path()), vec!["t.jsonl"]);
    }

    #[test]
    fn a_missing_directory_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope/t.md");
        let err = write_file_atomically(&path, false, |_| Ok(())).unwrap_err();
        assert!(err.to_string().contains("nope/t.md"), "{err}");
        assert!(entries(dir.path()).is_empty());
    }

    #[test]
    fn protected_files_are_refused_by_name_link_and_inode() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store.db");
        fs::write(&store, "db").unwrap();
        let protected = [store.clone(), crate::files::companion(&store, "-wal")];
        std::os::unix::fs::symlink(&store, dir.path().join("link.db")).unwrap();
        std::os::unix::fs::symlink("store.db-wal", dir.path().join("dangling")).unwrap();
        fs::hard_link(&store, dir.path().join("hard.db")).unwrap();
        let sub = dir.path().join("sub");
        fs::create_dir(&sub).unwrap();
        for name in [
            "store.db",
            "link.db",
            "hard.db",
            "store.db-wal",
            "dangling",
            "sub/../store.db",
        ] {
            let path = dir.path().join(name);
            let target = FileTarget {
                path: &path,
                force: true,
                protected: &protected,
            };
            let err = write_file(&target, |w| Ok(w.write_all(b"x")?)).unwrap_err();
            assert!(matches!(err, ExportError::IsSource(_)), "{name}: {err}");
        }
        assert_eq!(fs::read_to_string(&store).unwrap(), "db");
        assert!(!dir.path().join("store.db-wal").exists());
    }
}
