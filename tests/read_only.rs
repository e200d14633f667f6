//! rewind never writes to a store: every command and a scripted terminal-UI session, against
//! SQLite stores in rollback-journal mode, in WAL mode with no -wal/-shm files, in WAL mode
//! while a writer connection in this process holds the store open, and in WAL mode with a
//! -wal that no process has open (with and without its -shm: a crashed writer, files copied
//! off a server), leave the store's files (db, -wal, -shm, -journal) byte-identical and the
//! store's directory as it was. Nothing lands in HOME or the cache directory either: SQLite
//! sources need no cache; the private copy a leftover -wal is read through is gone from
//! TMPDIR when each command ends.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use support::tmux::{sh_quote, shell_command, tmux_available, Tmux};
use support::{fingerprint, stderr, Store};

type Fingerprint = Vec<(String, Option<Vec<u8>>)>;

#[derive(Debug, Clone, Copy)]
enum Mode {
    /// SQLite's default journal mode; the test's connection stays open, idle.
    RollbackJournal,
    /// WAL mode, no connection open: no -wal or -shm beside the db.
    WalClosed,
    /// WAL mode with a writer connection open in this process, its -wal and -shm present.
    WalWriterOpen,
    /// The db and a -wal holding commits, no -shm, no process: files copied off a server.
    WalLeftover,
    /// The db, -wal and -shm of a writer that is gone (crashed): nobody holds the locks.
    WalCrashed,
    /// Rollback-journal mode, and the hot -journal of a writer that died mid-transaction.
    HotJournal,
}

/// A store under test: its folder, the db path, and the writer connection of the modes
/// that keep one open.
struct Subject {
    dir: PathBuf,
    path: PathBuf,
    writer: Option<Store>,
    _copy: Option<tempfile::TempDir>,
}

impl Subject {
    fn arg(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }
}

/// A copy taken while a transaction had spilled pages into the db: its -journal must be
/// rolled back before the copy reads as the committed store.
fn hot_journal() -> Subject {
    let live = store(Mode::RollbackJournal);
    live.conn
        .execute_batch("PRAGMA cache_size = 1; BEGIN;")
        .unwrap();
    for version in 1..=2000 {
        live.conn
            .execute(
                "INSERT INTO events VALUES (?1, 'acc-3', 'account', 'Noise', '{}', NULL, ?2, '2026-01-17T00:00:00Z')",
                rusqlite::params![format!("noise-{version}"), version],
            )
            .unwrap();
    }
    let copy = tempfile::tempdir().unwrap();
    for suffix in ["", "-journal"] {
        let copied = Command::new("cp")
            .arg(wal_file(&live.path, suffix))
            .arg(wal_file(&copy.path().join("store.db"), suffix))
            .status()
            .unwrap();
        assert!(copied.success());
    }
    live.conn.execute_batch("ROLLBACK;").unwrap();
    let journal = std::fs::read(wal_file(&copy.path().join("store.db"), "-journal")).unwrap();
    assert!(
        journal.starts_with(&[0xd9, 0xd5, 0x05, 0xf9]),
        "the journal is hot"
    );
    Subject {
        dir: copy.path().to_path_buf(),
        path: copy.path().join("store.db"),
        writer: None,
        _copy: Some(copy),
    }
}

fn subject(mode: Mode) -> Subject {
    let files = match mode {
        Mode::WalLeftover => &["", "-wal"][..],
        Mode::WalCrashed => &["", "-wal", "-shm"][..],
        Mode::HotJournal => return hot_journal(),
        _ => {
            let store = store(mode);
            return Subject {
                dir: store.dir.path().to_path_buf(),
                path: store.path.clone(),
                writer: Some(store),
                _copy: None,
            };
        }
    };
    // Copied with `cp` while the writer holds the store open: the copy is what a crash
    // leaves (commits in the -wal, nobody holding a lock).
    let live = store(Mode::WalWriterOpen);
    let copy = tempfile::tempdir().unwrap();
    for suffix in files {
        let copied = Command::new("cp")
            .arg(wal_file(&live.path, suffix))
            .arg(wal_file(&copy.path().join("store.db"), suffix))
            .status()
            .unwrap();
        assert!(copied.success());
    }
    assert!(
        std::fs::metadata(wal_file(&copy.path().join("store.db"), "-wal"))
            .unwrap()
            .len()
            > 32,
        "the -wal holds commits"
    );
    Subject {
        dir: copy.path().to_path_buf(),
        path: copy.path().join("store.db"),
        writer: None,
        _copy: Some(copy),
    }
}

/// Two accounts; acc-1 has six events, a snapshot that agrees (v3) and one that drifts (v5).
fn store(mode: Mode) -> Store {
    let mut store = Store::native();
    if !matches!(mode, Mode::RollbackJournal) {
        store
            .conn
            .execute_batch("PRAGMA journal_mode=WAL;")
            .unwrap();
    }
    let events = [
        ("Opened", r#"{"owner": "ada", "balance": 0}"#),
        ("Deposited", r#"{"balance": 10}"#),
        ("Deposited", r#"{"balance": 25}"#),
        ("Withdrawn", r#"{"balance": 5}"#),
        ("Deposited", r#"{"balance": 30}"#),
        ("Renamed", r#"{"owner": "ada l."}"#),
    ];
    for (i, (event_type, data)) in events.iter().enumerate() {
        let at = format!("2026-01-15T10:0{i}:00Z");
        store.event("acc-1", i as i64 + 1, event_type, data, &at);
    }
    store.event(
        "acc-2",
        1,
        "Opened",
        r#"{"owner": "bob", "balance": 1}"#,
        "2026-01-16T09:00:00Z",
    );
    store.snapshot("acc-1", 3, r#"{"owner": "ada", "balance": 25}"#);
    store.snapshot("acc-1", 5, r#"{"owner": "ada", "balance": 31}"#);
    match mode {
        Mode::RollbackJournal => {}
        Mode::WalClosed => {
            // Closing the last connection checkpoints and removes -wal and -shm.
            let conn = std::mem::replace(
                &mut store.conn,
                rusqlite::Connection::open_in_memory().unwrap(),
            );
            drop(conn);
            assert!(!wal_file(&store.path, "-wal").exists());
            assert!(!wal_file(&store.path, "-shm").exists());
        }
        Mode::WalWriterOpen | Mode::WalLeftover | Mode::WalCrashed | Mode::HotJournal => {
            assert!(wal_file(&store.path, "-wal").exists());
            assert!(wal_file(&store.path, "-shm").exists());
            // As applications do, the writer reads after its last commit, which records a
            // read mark for the latest frame in the -shm. (A reader finding none records one
            // itself: see the last test.)
            latest_version(&store.conn);
        }
    }
    store
}

/// Which of the store's files differ, and where: a readable failure instead of two dumps of
/// every byte.
fn changes(before: &Fingerprint, after: &Fingerprint) -> Vec<String> {
    before
        .iter()
        .zip(after)
        .filter(|(b, a)| b != a)
        .map(|((suffix, b), (_, a))| match (b, a) {
            (Some(b), Some(a)) => {
                let first = b.iter().zip(a).position(|(x, y)| x != y);
                format!(
                    "store.db{suffix}: {} → {} bytes, first difference at byte {first:?}",
                    b.len(),
                    a.len()
                )
            }
            (None, Some(_)) => format!("store.db{suffix} appeared"),
            (Some(_), None) => format!("store.db{suffix} disappeared"),
            (None, None) => unreachable!(),
        })
        .collect()
}

fn latest_version(conn: &rusqlite::Connection) -> i64 {
    conn.query_row("SELECT MAX(version) FROM events", [], |r| r.get(0))
        .unwrap()
}

fn wal_file(db: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", db.display()))
}

/// The names in a directory: nothing added beside the store (no temp files, no stray
/// journals). The store's own files are compared byte for byte by `fingerprint`.
fn directory(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// rewind with HOME, the cache directory and TMPDIR pointed at empty folders of the test's
/// own.
struct Runner {
    home: tempfile::TempDir,
    tmp: tempfile::TempDir,
}

impl Runner {
    fn new() -> Runner {
        Runner {
            home: tempfile::tempdir().unwrap(),
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rewind"));
        cmd.env("NO_COLOR", "1")
            .env("HOME", self.home.path())
            .env("XDG_CACHE_HOME", self.home.path().join("cache"))
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env("TMPDIR", self.tmp.path());
        cmd
    }

    /// Nothing left in TMPDIR: a private copy goes when the command ends.
    fn tmp_is_empty(&self) -> bool {
        std::fs::read_dir(self.tmp.path()).unwrap().next().is_none()
    }

    /// Runs a command and checks it really ran (the expected exit code, output printed):
    /// a command that fails early would prove nothing.
    fn expect(&self, args: &[&str], code: i32) {
        let output = self.command().args(args).output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(code),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            !output.stdout.is_empty() || args.contains(&"-o"),
            "{args:?} printed nothing"
        );
    }

    /// `events --follow`: the existing events, then a few polls for new ones, then stopped.
    fn follow(&self, store: &str) {
        let mut child = self
            .command()
            .args(["events", store, "acc-1", "--follow", "--format", "json"])
            .args(["--interval", "0.05"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let rx = support::stdout_lines(&mut child);
        for _ in 0..6 {
            rx.recv_timeout(Duration::from_secs(10))
                .expect("follow printed the existing events");
        }
        // Several polls of --interval 0.05 happen in this time.
        std::thread::sleep(Duration::from_millis(300));
        // Stopped as a user stops it (not SIGKILL, which no program can clean up after).
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let _ = child.wait();
    }

    fn home_is_empty(&self) -> bool {
        std::fs::read_dir(self.home.path())
            .unwrap()
            .next()
            .is_none()
    }
}

/// Every command and format, each expected to do its work.
fn run_every_command(runner: &Runner, store: &Subject, elsewhere: &Path) {
    let s = store.arg();
    let s = s.as_str();
    let reducer = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/reducers/demo.jq");
    let reducer = reducer.to_string_lossy();
    let html = elsewhere.join("acc-1.html");
    let jsonl = elsewhere.join("acc-1.jsonl");
    let md = elsewhere.join("acc-1.md");
    let (html, jsonl, md) = (
        html.to_string_lossy(),
        jsonl.to_string_lossy(),
        md.to_string_lossy(),
    );
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec![s], 0), // no terminal: the aggregate list
        (vec!["aggregates", s], 0),
        (vec!["aggregates", s, "--format", "json"], 0),
        (vec!["events", s, "acc-1"], 0),
        (vec!["events", s, "acc-1", "--format", "json"], 0),
        (vec!["events", s, "acc-1", "--where", ".balance > 10"], 0),
        (
            vec![
                "events",
                s,
                "acc-1",
                "--where",
                r#"$event.type == "Deposited""#,
            ],
            0,
        ),
        (vec!["state", s, "acc-1"], 0),
        (vec!["state", s, "acc-1", "--at-version", "3"], 0),
        (
            vec![
                "state",
                s,
                "acc-1",
                "--at",
                "2026-01-15T10:02:30Z",
                "--format",
                "json",
            ],
            0,
        ),
        (vec!["state", s, "acc-1", "--reducer", &reducer], 0),
        (vec!["diff", s, "acc-1"], 0),
        (vec!["diff", s, "acc-1", "--from", "1", "--to", "4"], 0),
        (
            vec!["diff", s, "acc-1", "--to", "5", "--format", "patch"],
            0,
        ),
        (
            vec![
                "diff",
                s,
                "acc-1",
                "--from",
                "2026-01-15T10:01:00Z",
                "--format",
                "json",
            ],
            0,
        ),
        (vec!["verify", s], 1), // the snapshot at v5 drifts
        (vec!["verify", s, "acc-1", "--format", "json"], 1),
        (vec!["verify", s, "acc-2"], 0),
        (vec!["bisect", s, "acc-1", "--until", ".balance > 20"], 0),
        (vec!["bisect", s, "acc-1", "--until", ".balance > 99"], 1),
        (vec!["blame", s, "acc-1", ".balance"], 0),
        (vec!["blame", s, "acc-1", ".owner", "--format", "json"], 0),
        (vec!["export", s, "acc-1", "--format", "md"], 0),
        (vec!["export", s, "acc-1", "--format", "jsonl"], 0),
        (
            vec!["export", s, "acc-1", "--format", "html", "--with-state"],
            0,
        ),
        (vec!["export", s, "acc-1", "-o", &html], 0),
        (
            vec!["export", s, "acc-1", "-o", &jsonl, "--redact", ".owner"],
            0,
        ),
        (
            vec!["export", s, "acc-1", "-o", &md, "--from", "2", "--to", "5"],
            0,
        ),
    ];
    for (args, code) in &cases {
        runner.expect(args, *code);
    }
    runner.follow(s);
    for file in [&html, &jsonl, &md] {
        assert!(Path::new(file.as_ref()).is_file(), "{file} was written");
    }
}

/// The terminal UI on the store: open, filter, open an aggregate, step, marks, compare, quit.
fn browse_in_the_terminal(runner: &Runner, store: &Subject) {
    let home = sh_quote(&runner.home.path().to_string_lossy());
    let tmp = sh_quote(&runner.tmp.path().to_string_lossy());
    let tmux = Tmux::start(
        &format!("ro-{}", store.dir.file_name().unwrap().to_string_lossy()),
        &format!(
            "env HOME={home} XDG_CACHE_HOME={home}/cache TMPDIR={tmp} {}",
            shell_command(&sh_quote(&store.arg()))
        ),
    );
    tmux.wait_for(&["acc-1", "acc-2", "2 of 2"]);
    tmux.keys(&["/", "acc-1"]);
    tmux.wait_for(&["filter: acc-1", "1 of 2"]);
    tmux.keys(&["Enter", "Enter"]);
    tmux.wait_for(&["acc-1 · account", "v6/6"]);
    tmux.keys(&["g", "l"]);
    tmux.wait_for(&["v2/6"]);
    tmux.keys(&["a"]);
    tmux.wait_for(&["mark A at v2"]);
    tmux.keys(&["G"]);
    tmux.wait_for(&["v6/6"]);
    tmux.keys(&["b"]);
    tmux.wait_for(&["mark B at v6"]);
    tmux.keys(&["c"]);
    tmux.wait_for(&["A v2 → B v6:"]);
    tmux.keys(&["]"]); // the next snapshot: reads them, as the timeline does
    tmux.keys(&["q"]);
    tmux.wait_for(&["filter: acc-1"]);
    tmux.keys(&["q"]);
    tmux.wait_for(&["2 of 2"]);
    tmux.keys(&["q"]);
    tmux.wait_for(&["rewind exited 0"]);
}

fn check_read_only(mode: Mode) {
    let store = subject(mode);
    let runner = Runner::new();
    let elsewhere = tempfile::tempdir().unwrap();
    let before = fingerprint(&store.path);
    let listing = directory(&store.dir);

    run_every_command(&runner, &store, elsewhere.path());
    assert_eq!(
        changes(&before, &fingerprint(&store.path)),
        Vec::<String>::new(),
        "{mode:?}: a command changed the store's files"
    );
    if tmux_available() {
        browse_in_the_terminal(&runner, &store);
        assert_eq!(
            changes(&before, &fingerprint(&store.path)),
            Vec::<String>::new(),
            "{mode:?}: the terminal UI changed the store's files"
        );
    }
    assert_eq!(
        directory(&store.dir),
        listing,
        "{mode:?}: files appeared or vanished beside the store"
    );
    assert!(
        runner.home_is_empty(),
        "{mode:?}: rewind wrote to HOME or the cache dir"
    );
    assert!(
        runner.tmp_is_empty(),
        "{mode:?}: rewind left files in TMPDIR"
    );
    // The writer is still a writer: rewind took no lock it kept.
    if let (Mode::WalWriterOpen | Mode::RollbackJournal, Some(writer)) = (mode, &store.writer) {
        writer
            .conn
            .execute("DELETE FROM snapshots WHERE version = 5", [])
            .unwrap();
    }
}

#[test]
fn every_command_and_the_ui_leave_a_rollback_journal_store_untouched() {
    check_read_only(Mode::RollbackJournal);
}

#[test]
fn every_command_and_the_ui_leave_a_closed_wal_store_untouched() {
    check_read_only(Mode::WalClosed);
}

#[test]
fn every_command_and_the_ui_leave_a_wal_store_with_an_open_writer_untouched() {
    check_read_only(Mode::WalWriterOpen);
}

#[test]
fn every_command_and_the_ui_leave_a_leftover_wal_without_its_shm_untouched() {
    check_read_only(Mode::WalLeftover);
}

#[test]
fn every_command_and_the_ui_leave_a_crashed_writers_wal_and_shm_untouched() {
    check_read_only(Mode::WalCrashed);
}

/// The transaction the dead writer left is rolled back in rewind's copy, never in place:
/// the commands see the committed store (acc-3's 2000 uncommitted events are not there).
#[test]
fn every_command_and_the_ui_leave_a_hot_journal_untouched() {
    check_read_only(Mode::HotJournal);
    let store = subject(Mode::HotJournal);
    let output = Runner::new()
        .command()
        .args(["aggregates", &store.arg(), "--format", "json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let list: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
}

/// The same leftover -wal in a folder rewind cannot write to: read through the private
/// copy, by a user who may not write there (root ignores folder permissions, so the
/// command runs as `nobody` when the test runs as root).
#[test]
fn a_leftover_wal_in_a_read_only_folder_is_read() {
    use std::os::unix::fs::PermissionsExt;
    let store = subject(Mode::WalLeftover);
    for suffix in ["", "-wal"] {
        std::fs::set_permissions(
            wal_file(&store.path, suffix),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
    }
    std::fs::set_permissions(&store.dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    // The temp dir's parent must be reachable by that user too.
    let outer = tempfile::tempdir().unwrap();
    std::fs::set_permissions(outer.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let tmp = outer.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o777)).unwrap();
    let as_root = running_as_root();
    let mut cmd = if as_root {
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid", "65534", "--regid", "65534", "--clear-groups"]);
        cmd.arg(env!("CARGO_BIN_EXE_rewind"));
        cmd
    } else {
        Command::new(env!("CARGO_BIN_EXE_rewind"))
    };
    let before = fingerprint(&store.path);
    let output = cmd
        .args(["state", &store.arg(), "acc-1", "--format", "json"])
        .env("TMPDIR", &tmp)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let state: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(state["owner"], "ada l.");
    assert_eq!(
        changes(&before, &fingerprint(&store.path)),
        Vec::<String>::new()
    );
    assert!(
        std::fs::read_dir(&tmp).unwrap().next().is_none(),
        "the copy is gone"
    );
    std::fs::set_permissions(&store.dir, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Is this test running as root (who may write anywhere)?
fn running_as_root() -> bool {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// The -shm's read marks (bytes 100..120: five 32-bit `aReadMark` slots after the two
/// copies of the wal-index header and `nBackfill`) are SQLite's reader protocol: a reader
/// that finds no slot naming the latest committed frame records one, whoever it is (the
/// sqlite3 shell too). That is the only byte rewind's reads may change, ever: the db, the
/// -wal and the rest of the -shm stay identical, and once a mark is there, nothing changes.
#[test]
fn reading_a_fresh_commit_touches_only_the_shm_read_marks() {
    let mut store = store(Mode::WalWriterOpen);
    store.event(
        "acc-2",
        2,
        "Deposited",
        r#"{"balance": 2}"#,
        "2026-01-16T10:00:00Z",
    );
    let before = fingerprint(&store.path);
    let runner = Runner::new();
    runner.expect(&["aggregates", &store.arg()], 0);
    let after = fingerprint(&store.path);
    for ((suffix, b), (_, a)) in before.iter().zip(&after) {
        let (Some(b), Some(a)) = (b, a) else {
            assert_eq!(
                b.is_some(),
                a.is_some(),
                "store.db{suffix} appeared or vanished"
            );
            continue;
        };
        let differing: Vec<usize> = (0..b.len().max(a.len()))
            .filter(|&i| b.get(i) != a.get(i))
            .collect();
        if suffix == "-shm" {
            assert!(
                differing.iter().all(|i| (100..120).contains(i)),
                "-shm bytes {differing:?} changed beyond the read marks"
            );
        } else {
            assert_eq!(differing, Vec::<usize>::new(), "store.db{suffix} changed");
        }
    }
    runner.expect(&["state", &store.arg(), "acc-2"], 0);
    runner.expect(&["aggregates", &store.arg()], 0);
    assert_eq!(
        changes(&after, &fingerprint(&store.path)),
        Vec::<String>::new()
    );
    assert_eq!(latest_version(&store.conn), 6);
}

/// Through a symlink from another folder, the store is the file it leads to: its -wal is
/// read (a leftover one holds every commit here), and an export may not write over the
/// -wal, -shm or -journal beside the real file, whatever name it is given.
#[test]
fn a_store_named_through_a_symlink_keeps_its_companions() {
    let store = subject(Mode::WalLeftover);
    let elsewhere = tempfile::tempdir().unwrap();
    let alias = elsewhere.path().join("alias.db");
    std::os::unix::fs::symlink(&store.path, &alias).unwrap();
    let alias = alias.to_string_lossy().into_owned();
    let before = fingerprint(&store.path);
    let runner = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_rewind"))
            .args(args)
            .output()
            .unwrap()
    };
    let state = runner(&["state", &alias, "acc-1", "--format", "json"]);
    assert!(state.status.success(), "{}", stderr(&state));
    let state: serde_json::Value = serde_json::from_slice(&state.stdout).unwrap();
    assert_eq!(state["owner"], "ada l.", "the commits in the -wal are read");
    for suffix in ["-wal", "-shm", "-journal"] {
        let target = wal_file(&store.path, suffix).to_string_lossy().into_owned();
        let export = runner(&[
            "export", &alias, "acc-1", "--format", "jsonl", "-o", &target, "--force",
        ]);
        assert_eq!(
            export.status.code(),
            Some(2),
            "{suffix}: {}",
            stderr(&export)
        );
        assert!(
            stderr(&export).contains("is the store being read"),
            "{suffix}: {}",
            stderr(&export)
        );
    }
    assert!(!wal_file(&store.path, "-journal").exists());
    assert_eq!(
        changes(&before, &fingerprint(&store.path)),
        Vec::<String>::new()
    );
}
