//! An export stopped part-way leaves nothing behind: every signal that ends a process and can
//! be caught (SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGALRM, SIGUSR1, …) sent to the real binary
//! while it writes a large transcript, a file-size limit reached while writing it (SIGXFSZ),
//! Ctrl-C in the UI while its export job writes one; and a private copy of a store read by
//! `events --follow` goes too. The store is big enough (200,000 events, built here in one
//! transaction) that the signal lands while the temporary file is being written.

mod support;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use support::tmux::{sh_quote, tmux_available, Tmux};
use support::Store;

const EVENTS: i64 = 200_000;

/// A store's folder and path; its connection is closed once built.
struct Built {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Built {
    fn arg(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }
}

/// One aggregate with 200,000 events, shared by the tests of this file.
fn big_store() -> &'static Built {
    static STORE: OnceLock<Built> = OnceLock::new();
    STORE.get_or_init(|| {
        let mut store = Store::native();
        let tx = store.conn.transaction().unwrap();
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO events VALUES (?1, 'acc-big', 'account', 'Deposited', ?2, '{}', ?3, ?4)",
                )
                .unwrap();
            for version in 1..=EVENTS {
                let data = format!(
                    r#"{{"balance": {version}, "note": "deposit number {version} of many", "tags": ["a", "b"]}}"#
                );
                let at = format!("2026-01-01T00:00:{:02}Z", version % 60);
                insert
                    .execute(rusqlite::params![format!("e{version}"), data, version, at])
                    .unwrap();
            }
        }
        tx.commit().unwrap();
        let Store { dir, path, .. } = store;
        Built { _dir: dir, path }
    })
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The temporary file an export is writing in `dir`, once it holds some bytes.
fn wait_for_temporary(dir: &Path, timeout: Duration) -> PathBuf {
    let started = Instant::now();
    loop {
        let found = std::fs::read_dir(dir).unwrap().find_map(|entry| {
            let entry = entry.ok()?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let size = entry.metadata().ok()?.len();
            (name.ends_with(".rewind-tmp") && size > 0).then(|| entry.path())
        });
        if let Some(path) = found {
            return path;
        }
        assert!(
            started.elapsed() < timeout,
            "no temporary file appeared in {timeout:?}: {:?}",
            names(dir)
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn wait_for_exit(child: &mut std::process::Child) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("rewind did not stop after the signal");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// rewind run through `prlimit` with these limits (no core files: SIGQUIT, SIGXCPU and
/// SIGXFSZ would dump one); prlimit execs rewind, so the child's id is rewind's.
fn limited_rewind(limits: &[&str]) -> Command {
    let mut command = Command::new("prlimit");
    command
        .arg("--core=0")
        .args(limits)
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_rewind"))
        // As support::under_address_limit says: mimalloc reserves in small steps.
        .env("MIMALLOC_ARENA_RESERVE", "64MiB");
    command
}

fn send(child: &std::process::Child, signal: i32) {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill with plain integers, to a child of this test that has not been waited for.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "kill {signal}");
}

/// The signals that end a process by default and can be caught, named as the tests report them.
fn stopping_signals() -> Vec<(String, i32)> {
    let mut signals: Vec<(String, i32)> = [
        ("INT", libc::SIGINT),
        ("QUIT", libc::SIGQUIT),
        ("TERM", libc::SIGTERM),
        ("HUP", libc::SIGHUP),
        ("ALRM", libc::SIGALRM),
        ("USR1", libc::SIGUSR1),
        ("USR2", libc::SIGUSR2),
        ("XCPU", libc::SIGXCPU),
        ("XFSZ", libc::SIGXFSZ),
        ("VTALRM", libc::SIGVTALRM),
        ("PROF", libc::SIGPROF),
        ("IO", libc::SIGIO),
        ("PWR", libc::SIGPWR),
    ]
    .into_iter()
    .map(|(name, number)| (name.to_string(), number))
    .collect();
    signals.push(("RTMIN".into(), libc::SIGRTMIN()));
    signals.push(("RTMAX".into(), libc::SIGRTMAX()));
    signals
}

#[test]
fn a_signal_during_an_export_leaves_no_file_behind() {
    let store = big_store();
    for (signal, number) in stopping_signals() {
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("out.jsonl");
        let mut child = limited_rewind(&[])
            .args(["export", &store.arg(), "acc-big", "-o"])
            .arg(&target)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let temporary = wait_for_temporary(out.path(), Duration::from_secs(120));
        send(&child, number);
        let status = wait_for_exit(&mut child);
        assert_eq!(
            status.signal(),
            Some(number),
            "SIG{signal}: rewind should die of the signal, as without a handler ({status:?})"
        );
        assert!(
            !temporary.exists(),
            "SIG{signal} left {}",
            temporary.display()
        );
        assert_eq!(names(out.path()), Vec::<String>::new(), "SIG{signal}");
    }
}

#[test]
fn a_file_size_limit_reached_during_an_export_leaves_no_file_behind() {
    let store = big_store();
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("out.jsonl");
    // The transcript of 200,000 events is far larger than 5 MB: the write past it gets SIGXFSZ.
    let output = limited_rewind(&["--fsize=5000000"])
        .args(["export", &store.arg(), "acc-big", "-o"])
        .arg(&target)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    // The write that crossed the limit also fails (EFBIG): either rewind dies of SIGXFSZ, as
    // without a handler, or its writer reports the failure first. Neither leaves a file.
    match output.status.signal() {
        Some(signal) => assert_eq!(signal, libc::SIGXFSZ, "{:?} {err}", output.status),
        None => {
            assert_eq!(output.status.code(), Some(2), "{err}");
            assert_eq!(err.lines().count(), 1, "{err}");
        }
    }
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(names(out.path()), Vec::<String>::new(), "SIGXFSZ: {err}");
}

/// A signal rewind's parent set to be ignored stays ignored, temporary files or not.
#[test]
fn a_signal_ignored_when_rewind_starts_stays_ignored() {
    let store = big_store();
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("out.jsonl");
    let script = format!(
        "trap '' USR1; exec {} export {} acc-big -o {}",
        sh_quote(env!("CARGO_BIN_EXE_rewind")),
        sh_quote(&store.arg()),
        sh_quote(&target.to_string_lossy())
    );
    let mut child = Command::new("sh")
        .args(["-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let temporary = wait_for_temporary(out.path(), Duration::from_secs(120));
    send(&child, libc::SIGUSR1);
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        child.try_wait().unwrap().is_none(),
        "an ignored SIGUSR1 stopped rewind"
    );
    send(&child, libc::SIGTERM);
    let status = wait_for_exit(&mut child);
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
    assert!(!temporary.exists(), "SIGTERM left {}", temporary.display());
}

/// The big store as a crashed writer leaves it: a `-wal` holding a commit, no `-shm`, nobody
/// holding a lock. rewind reads it through a private copy in `$TMPDIR`.
fn crashed_wal_store(dir: &Path) -> PathBuf {
    let live = dir.join("live.db");
    std::fs::copy(&big_store().path, &live).unwrap();
    let writer = rusqlite::Connection::open(&live).unwrap();
    writer
        .execute_batch("PRAGMA journal_mode = WAL; PRAGMA user_version = 7;")
        .unwrap();
    let copy = dir.join("crashed.db");
    for suffix in ["", "-wal"] {
        let from = format!("{}{suffix}", live.display());
        std::fs::copy(from, format!("{}{suffix}", copy.display())).unwrap();
    }
    drop(writer);
    copy
}

fn private_copies(tmp: &Path) -> Vec<String> {
    names(tmp)
        .into_iter()
        .filter(|name| name.starts_with("rewind-copy-"))
        .collect()
}

fn wait_for_private_copy(tmp: &Path) {
    let started = Instant::now();
    while private_copies(tmp).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no private copy appeared: {:?}",
            names(tmp)
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_signal_during_a_follow_leaves_no_private_copy_behind() {
    let dir = tempfile::tempdir().unwrap();
    let store = crashed_wal_store(dir.path());
    for (signal, number) in [("USR1", libc::SIGUSR1), ("ALRM", libc::SIGALRM)] {
        let tmp = tempfile::tempdir().unwrap();
        let mut child = limited_rewind(&[])
            .args(["events", "--follow"])
            .arg(&store)
            .arg("acc-big")
            .env("TMPDIR", tmp.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for_private_copy(tmp.path());
        send(&child, number);
        let status = wait_for_exit(&mut child);
        assert_eq!(status.signal(), Some(number), "SIG{signal}: {status:?}");
        assert_eq!(names(tmp.path()), Vec::<String>::new(), "SIG{signal}");
    }
}

/// A closed pipe is not a signal that stops rewind: it ends quietly, as `log … | head`
/// does, and still removes its private copy.
#[test]
fn a_follow_into_a_closed_pipe_ends_quietly_and_leaves_no_private_copy() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let store = crashed_wal_store(dir.path());
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args(["events", "--follow"])
        .arg(&store)
        .arg("acc-big")
        .env("TMPDIR", tmp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.contains("VERSION"), "{first}");
    // 200,000 rows are far more than a pipe holds: rewind's next writes find it closed.
    drop(stdout);
    let status = wait_for_exit(&mut child);
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.signal(), None, "{status:?}");
    assert_eq!(err, "", "a closed pipe is not an error");
    assert_eq!(private_copies(tmp.path()), Vec::<String>::new());
}

#[test]
fn ctrl_c_in_the_ui_during_an_export_leaves_no_file_behind() {
    if !tmux_available() {
        return;
    }
    let store = big_store();
    let out = tempfile::tempdir().unwrap();
    let command = format!(
        "sh -c {}",
        sh_quote(&format!(
            "cd {} && {} {}; echo rewind exited $?; sleep 60",
            sh_quote(&out.path().to_string_lossy()),
            sh_quote(env!("CARGO_BIN_EXE_rewind")),
            sh_quote(&store.arg())
        ))
    );
    let tmux = Tmux::start("interrupted-export", &command);
    tmux.wait_for(&["acc-big", "1 of 1"]);
    tmux.keys(&["Enter"]);
    // An aggregate opens at its latest event.
    tmux.wait_for_within(Duration::from_secs(120), &["v200000/200000"]);
    tmux.keys(&["e"]);
    tmux.wait_for_within(Duration::from_secs(120), &["export the whole history as"]);
    tmux.keys(&["j"]);
    tmux.wait_for(&["write JSON Lines to: acc-big.jsonl"]);
    tmux.keys(&["Enter"]);
    let temporary = wait_for_temporary(out.path(), Duration::from_secs(120));
    tmux.keys(&["C-c"]);
    tmux.wait_for(&["rewind exited"]);
    assert!(!temporary.exists(), "Ctrl-C left {}", temporary.display());
    assert_eq!(names(out.path()), Vec::<String>::new());
}
