//! Builds real SQLite stores in temp dirs and runs the real rewind binary against them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use rusqlite::{params, Connection};

pub const NATIVE_SCHEMA: &str = "
CREATE TABLE events(
    event_id TEXT PRIMARY KEY, aggregate_id TEXT NOT NULL, aggregate_type TEXT NOT NULL,
    event_type TEXT NOT NULL, event_data TEXT NOT NULL, metadata TEXT,
    version INTEGER NOT NULL, timestamp TEXT NOT NULL, UNIQUE(aggregate_id, version));
CREATE TABLE snapshots(
    aggregate_id TEXT NOT NULL, version INTEGER NOT NULL, state TEXT NOT NULL,
    created_at TEXT, PRIMARY KEY(aggregate_id, version));";

pub fn demo_store() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("demo-data/demo.db")
}

/// A native-schema store in its own temp dir.
pub struct Store {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    pub conn: Connection,
    next_id: u64,
}

impl Store {
    pub fn native() -> Store {
        Store::with_schema(NATIVE_SCHEMA)
    }

    pub fn with_schema(schema: &str) -> Store {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(schema).unwrap();
        Store {
            dir,
            path,
            conn,
            next_id: 0,
        }
    }

    /// Appends an event; `data` is stored as given, so malformed JSON can be planted.
    pub fn event(&mut self, aggregate: &str, version: i64, event_type: &str, data: &str, at: &str) {
        self.next_id += 1;
        self.conn
            .execute(
                "INSERT INTO events VALUES (?1, ?2, 'account', ?3, ?4, '{}', ?5, ?6)",
                params![
                    format!("e{}", self.next_id),
                    aggregate,
                    event_type,
                    data,
                    version,
                    at
                ],
            )
            .unwrap();
    }

    pub fn snapshot(&self, aggregate: &str, version: i64, state: &str) {
        self.conn
            .execute(
                "INSERT INTO snapshots VALUES (?1, ?2, ?3, NULL)",
                params![aggregate, version, state],
            )
            .unwrap();
    }

    pub fn arg(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }
}

pub fn rewind() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rewind"));
    cmd.env("NO_COLOR", "1");
    cmd
}

/// rewind under an address-space limit (`prlimit --as`), without core files. mimalloc is
/// told to reserve its arenas in small steps: by default it reserves a whole GiB of address
/// space at once, so under a limit near that size whether the reservation fits, and with it
/// which later allocation fails, would depend on the layout of the process rather than on
/// what rewind holds (a cap of 1.2 GB failed where 1.1 GB passed).
pub fn under_address_limit(cap_bytes: u64) -> Command {
    let mut command = Command::new("prlimit");
    command
        .arg(format!("--as={cap_bytes}"))
        .arg("--core=0")
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_rewind"))
        .env("MIMALLOC_ARENA_RESERVE", "64MiB")
        .env("NO_COLOR", "1");
    command
}

pub fn run(args: &[&str]) -> Output {
    rewind().args(args).output().unwrap()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Runs a command that must fail with exit 2 and exactly one line on stderr; returns it.
pub fn bad_input(args: &[&str]) -> String {
    let output = run(args);
    let err = stderr(&output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "args {args:?}, stderr: {err}"
    );
    assert_eq!(
        err.lines().count(),
        1,
        "one-line error expected, got: {err}"
    );
    assert!(err.starts_with("rewind: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

pub fn json(output: &Output) -> serde_json::Value {
    assert!(output.status.success(), "stderr: {}", stderr(output));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The bytes of every file of a store (db, -wal, -shm, -journal), for proving rewind left
/// them untouched.
///
/// Read by a child process (`cat`): closing a file descriptor drops every POSIX lock this
/// process holds on that file, so reading a store with `std::fs::read` while a test's own
/// connection has it open would silently take away that writer's SQLite locks (a WAL
/// writer's hold on the -shm, for one), and the next reader would rebuild the wal-index.
pub fn fingerprint(db: &Path) -> Vec<(String, Option<Vec<u8>>)> {
    ["", "-wal", "-shm", "-journal"]
        .iter()
        .map(|suffix| {
            let path = PathBuf::from(format!("{}{suffix}", db.display()));
            (suffix.to_string(), read_from_outside(&path))
        })
        .collect()
}

fn read_from_outside(path: &Path) -> Option<Vec<u8>> {
    if !path.exists() {
        return None;
    }
    let out = std::process::Command::new("cat")
        .arg(path)
        .output()
        .expect("cat runs");
    out.status.success().then_some(out.stdout)
}

pub mod kafka;
pub mod pg_cli;
pub mod postgres;
pub mod tmux;

/// The lines a child prints on stdout, as they come, so a test can wait for each with a
/// timeout instead of blocking on a long-running command (`--follow`).
pub fn stdout_lines(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().expect("the child's stdout is piped");
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Processes whose command line has every one of `words` as an argument, found in /proc
/// (so orphans count too).
pub fn processes_with(words: &[&str]) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
        if words.iter().all(|w| args.contains(&w.as_bytes())) {
            found.push(pid);
        }
    }
    found
}

/// Resident memory of a process, in KiB (0 once it is gone).
pub fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            let line = status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))?
                .to_string();
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

/// CPU seconds a process has used (user and system, its reaped children included).
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name: utime, stime, cutime, cstime are the 12th to 15th.
    let after_name = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<f64> = after_name
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    fields.get(11..15).map_or(0.0, |t| t.iter().sum::<f64>()) / 100.0
}
