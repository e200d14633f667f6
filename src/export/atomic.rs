//! Writing a file all at once or not at all: the content goes to a temporary file in the
//! same directory, which is renamed over the target only when complete.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::ExportError;

/// Writes `path` with what `write` produces. An existing file is replaced only with
/// `force`; on any failure (including in `write`) the target is left as it was and the
/// temporary file is removed.
pub fn write_file_atomically<F>(path: &Path, force: bool, write: F) -> Result<(), ExportError>
where
    F: FnOnce(&mut dyn Write) -> Result<(), ExportError>,
{
    if !force && fs::symlink_metadata(path).is_ok() {
        return Err(ExportError::Exists(path.to_path_buf()));
    }
    let file_error = |source: io::Error| ExportError::File {
        path: path.to_path_buf(),
        source,
    };
    let (temp, file) = create_temporary(path).map_err(file_error)?;
    let guard = Temporary(Some(temp));
    let mut writer = BufWriter::new(file);
    write(&mut writer)?;
    let file = writer
        .into_inner()
        .map_err(|err| file_error(err.into_error()))?;
    file.sync_all().map_err(file_error)?;
    drop(file);
    let temp = guard.path();
    if force {
        fs::rename(temp, path).map_err(file_error)?;
    } else {
        // A hard link fails if the target appeared meanwhile, so a file created by someone
        // else after the check above is never replaced.
        match fs::hard_link(temp, path) {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
                return Err(ExportError::Exists(path.to_path_buf()))
            }
            // File systems without hard links: the check above has to do.
            Err(_) => fs::rename(temp, path).map_err(file_error)?,
        }
    }
    drop(guard);
    Ok(())
}

/// Removes the temporary file when dropped, whether the write succeeded (it was renamed or
/// linked, so it may be gone already) or failed.
struct Temporary(Option<PathBuf>);

impl Temporary {
    fn path(&self) -> &Path {
        self.0
            .as_deref()
            .expect("the temporary path is set until drop")
    }
}

impl Drop for Temporary {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = fs::remove_file(path);
        }
    }
}

/// A new, empty, hidden file next to `path`, with a name no other writer uses.
fn create_temporary(path: &Path) -> io::Result<(PathBuf, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?
        .to_string_lossy();
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    loop {
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
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
}
