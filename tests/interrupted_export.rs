//! An export stopped part-way leaves nothing behind: SIGINT, SIGQUIT, SIGTERM and SIGHUP
//! sent to the real binary while it writes a large transcript, and Ctrl-C in the UI while its
//! export job writes one. The store is big enough (200,000 events, built here in one transaction)
//! that the signal lands while the temporary file is being written.

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

#[test]
fn a_signal_during_an_export_leaves_no_file_behind() {
    let store = big_store();
    for (signal, number) in [("INT", 2), ("QUIT", 3), ("TERM", 15), ("HUP", 1)] {
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("out.jsonl");
        let mut child = Command::new(env!("CARGO_BIN_EXE_rewind"))
            .args(["export", &store.arg(), "acc-big", "-o"])
            .arg(&target)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let temporary = wait_for_temporary(out.path(), Duration::from_secs(120));
        let killed = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
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
