//! Files and folders rewind makes for a while (a transcript being written, a private copy
//! of a store): removed when their owner drops them, and also when rewind is stopped by a
//! signal that would end it (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGALRM, SIGUSR1, SIGXFSZ, …:
//! see [`stopping`]), or quits while a background job still holds one.
//!
//! Signals are caught by signal-hook, whose handler only writes to a pipe; a watcher thread
//! does the removing, then ends the process by the same signal, its default action restored.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, Once};

use libc::{SIGINT, SIGQUIT};

/// What Ctrl-C and Ctrl-\ send.
const TYPED: [i32; 2] = [SIGINT, SIGQUIT];

/// The signals that end rewind and must not leave its files behind: every one whose default
/// action ends the process and that a handler may catch and return from.
///
/// Left out: SIGKILL and SIGSTOP (they cannot be caught); the faults SIGSEGV, SIGBUS, SIGILL,
/// SIGFPE, SIGTRAP and SIGSYS (raised by the instruction that faulted: a handler that
/// returns runs it again) and SIGABRT (`abort()` dies of it whatever a handler does); and
/// SIGPIPE, which Rust's runtime ignores from the start, so that a write to a closed pipe
/// fails with EPIPE and `rewind log … | head` ends quietly (catching it would kill rewind at
/// the first such write instead). A signal ignored when rewind started (`nohup`, a shell's
/// `trap '' USR1`, a background job's SIGINT) stays ignored: it is not caught.
fn stopping() -> Vec<i32> {
    let mut signals = vec![
        libc::SIGHUP,
        SIGINT,
        SIGQUIT,
        libc::SIGTERM,
        libc::SIGALRM,
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGXCPU,
        libc::SIGXFSZ,
        libc::SIGVTALRM,
        libc::SIGPROF,
    ];
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        // Linux ends a process on these too (SIGIO is SIGPOLL there), and on every
        // real-time signal, from the first that libc leaves to programs.
        signals.extend([libc::SIGIO, libc::SIGPWR, libc::SIGSTKFLT]);
        signals.extend(libc::SIGRTMIN()..=libc::SIGRTMAX());
    }
    signals.retain(|&signal| !ignored(signal));
    signals
}

/// Whether `signal` is set to be ignored (as rewind's parent left it).
fn ignored(signal: i32) -> bool {
    // SAFETY: sigaction with a null new action only reads the current one into `current`,
    // a zeroed sigaction this function owns.
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal, std::ptr::null(), &mut current) == 0
            && current.sa_sigaction == libc::SIG_IGN
    }
}

/// Ends the process by `signal`, its default action restored (exit 130 for SIGINT, 153 for
/// SIGXFSZ, … as a shell shows it), as it would have ended without the watcher.
fn die_of(signal: i32) -> ! {
    // SAFETY: signal, sigprocmask and raise with plain integer arguments and a sigset this
    // function owns; none touches Rust's memory.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, signal);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(signal);
    }
    // Only if the signal did not end the process (someone set it again in between).
    std::process::exit(128 + signal)
}

/// Set while a program rewind waits on has the terminal (the UI's pager): a Ctrl-C typed
/// there reaches rewind too, sharing the terminal's process group, but is that program's.
static INTERRUPT_LENT: AtomicBool = AtomicBool::new(false);

/// While `lent`, SIGINT and SIGQUIT do not stop rewind (SIGTERM and SIGHUP still do).
/// The watcher takes them over for that (and keeps them, with their default outcome):
/// one handler for them, so a pager's Ctrl-C cannot slip past another that cleans up.
pub fn lend_interrupt(lent: bool) {
    watch_signals();
    INTERRUPT_LENT.store(lent, Ordering::SeqCst);
}

struct Registry {
    entries: Vec<(u64, PathBuf)>,
    next: u64,
    /// Set once rewind is going away: nothing new may be registered after that.
    closing: bool,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    entries: Vec::new(),
    next: 0,
    closing: false,
});

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A file or folder removed when this is dropped, or when rewind is stopped before.
#[derive(Debug)]
pub struct Registered {
    id: u64,
    path: PathBuf,
}

impl Registered {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut registry = registry();
        registry.entries.retain(|(id, _)| *id != self.id);
        remove(&self.path);
    }
}

/// Creates a file or folder with `create` and registers the path it returns, under one
/// lock, so a signal cannot come between the two and leave it behind.
pub fn create<T>(create: impl FnOnce() -> io::Result<(PathBuf, T)>) -> io::Result<(Registered, T)> {
    watch_signals();
    let mut registry = registry();
    if registry.closing {
        return Err(io::Error::other("rewind is stopping"));
    }
    let (path, made) = create()?;
    let id = registry.next;
    registry.next += 1;
    registry.entries.push((id, path.clone()));
    Ok((Registered { id, path }, made))
}

/// Removes everything registered and refuses new entries: rewind is about to exit while
/// other threads may still be writing.
pub fn remove_all() {
    let mut registry = registry();
    registry.closing = true;
    for (_, path) in registry.entries.drain(..) {
        remove(&path);
    }
}

fn remove(path: &Path) {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => {
            let _ = std::fs::remove_dir_all(path);
        }
        Ok(_) => {
            let _ = std::fs::remove_file(path);
        }
        Err(_) => {}
    }
}

/// Installs the watcher once, the first time rewind makes a file it must clean up or lends
/// its interrupt; until then signals keep their default action untouched.
fn watch_signals() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let Ok(mut signals) = signal_hook::iterator::Signals::new(stopping()) else {
            return;
        };
        let spawned = std::thread::Builder::new()
            .name("rewind-cleanup".into())
            .spawn(move || {
                let mut stopping = signals.forever().filter(|signal| {
                    !(TYPED.contains(signal) && INTERRUPT_LENT.load(Ordering::SeqCst))
                });
                if let Some(signal) = stopping.next() {
                    remove_all();
                    die_of(signal);
                }
            });
        drop(spawned);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registered_file_goes_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.tmp");
        let (registered, ()) =
            create(|| std::fs::write(&path, "x").map(|()| (path.clone(), ()))).unwrap();
        assert!(path.exists());
        drop(registered);
        assert!(!path.exists());
        let folder = dir.path().join("copy");
        let (registered, ()) = create(|| {
            std::fs::create_dir(&folder)?;
            std::fs::write(folder.join("db"), "x")?;
            Ok((folder.clone(), ()))
        })
        .unwrap();
        drop(registered);
        assert!(!folder.exists());
    }
}
