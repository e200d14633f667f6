//! The last of issue 15's reading aids in a real terminal (tmux): v0 before the first event,
//! marks set by typed version, times in the local zone `TZ` names, a State value full
//! screen, a pane zoomed to the whole screen.
//!
//! Needs tmux (`scripts/install-test-deps`); set REWIND_SKIP_TUI_E2E=1 to skip without it.

mod support;

use support::tmux::{shell_command, tmux_available, Tmux};

fn demo_store() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo-data/demo.db");
    support::tmux::sh_quote(&path.to_string_lossy())
}

#[test]
fn v0_marks_by_version_and_local_times_under_tz() {
    if !tmux_available() {
        return;
    }
    // Kolkata has no summer time: +05:30 all year.
    let command = format!(
        "env TZ=Asia/Kolkata {}",
        shell_command(&format!("{} acc-0007", demo_store()))
    );
    let tmux = Tmux::start("reading-zone", &command);
    tmux.wait_for(&["acc-0007 · account", "v49/49"]);
    tmux.keys(&[":", "0", "Enter"]);
    tmux.wait_for(&["v0/49", "empty state", "v0 is the empty state"]);
    tmux.keys(&["l"]);
    tmux.wait_for(&["v1/49", "2026-01-10T22:00:00Z"]);
    tmux.keys(&["u"]);
    tmux.wait_for(&["2026-01-11T03:30:00+05:30 local", "times in the local zone"]);
    tmux.keys(&["M", "a 12", "Enter"]);
    // A typed mark leaves the cursor where it is.
    tmux.wait_for(&["mark A at v12", "v1/49"]);
    tmux.keys(&["u"]);
    tmux.wait_until_gone(&["+05:30"]);
    tmux.keys(&["q", "q"]);
    tmux.wait_for(&["rewind exited 0"]);
}

#[test]
fn a_state_value_full_screen_and_a_zoomed_pane() {
    if !tmux_available() {
        return;
    }
    let command = shell_command(&format!("{} acc-0007", demo_store()));
    let tmux = Tmux::start("reading-viewer", &command);
    tmux.wait_for(&["acc-0007 · account", "v49/49"]);
    // The State tab's first line is the whole state.
    tmux.keys(&["Tab", "Enter"]);
    tmux.wait_for(&[". at v49 ·", "unfolded"]);
    tmux.keys(&["1"]);
    tmux.wait_for(&["folded to depth 1", "\"address\": {…},  2 keys"]);
    tmux.keys(&["q"]);
    tmux.wait_for(&["VER  TIME", "1 State"]);
    tmux.keys(&["+"]);
    tmux.wait_until_gone(&["VER  TIME"]);
    tmux.wait_for(&["the detail fills the screen"]);
    tmux.keys(&["o"]);
    tmux.wait_for(&["VER  TIME", "all panes again"]);
    tmux.keys(&["q", "q"]);
    tmux.wait_for(&["rewind exited 0"]);
}

#[test]
fn v_in_the_value_viewer_hands_the_value_to_pager_and_comes_back() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (paged, typed) = (dir.path().join("paged"), dir.path().join("typed"));
    let pid = dir.path().join("rewind.pid");
    // A pager that keeps what it was given, then reads a line from the terminal: the line
    // reaches it, not rewind, while it runs. Its parent (the pager runs as `sh -c`) is rewind.
    let pager = format!(
        "echo $PPID > {}; cat > {}; echo PAGER IS READING; read line < /dev/tty; echo \"$line\" > {}",
        support::tmux::sh_quote(&pid.to_string_lossy()),
        support::tmux::sh_quote(&paged.to_string_lossy()),
        support::tmux::sh_quote(&typed.to_string_lossy()),
    );
    let command = format!(
        "env PAGER={} {}",
        support::tmux::sh_quote(&pager),
        shell_command(&format!("{} acc-0007", demo_store()))
    );
    let tmux = Tmux::start("reading-pager", &command);
    tmux.wait_for(&["acc-0007 · account", "v49/49"]);
    tmux.keys(&["Tab", "Enter"]);
    tmux.wait_for(&[". at v49 ·", "v pager"]);
    tmux.keys(&["v"]);
    tmux.wait_for(&["PAGER IS READING"]);
    assert!(!tmux.alternate_on(), "the pager has the normal screen");
    tmux.keys(&["qjk", "Enter"]);
    tmux.wait_for(&[". at v49 ·", "v pager"]);
    assert!(tmux.alternate_on());
    assert_eq!(std::fs::read_to_string(&typed).unwrap(), "qjk\n");
    let text = std::fs::read_to_string(&paged).unwrap();
    assert!(text.starts_with("# . at v49\n{\n"), "{text}");
    let value: serde_json::Value = serde_json::from_str(text.split_once('\n').unwrap().1).unwrap();
    assert!(value.get("address").is_some(), "{text}");
    // Still rewind's keys after the pager: the viewer closes, the aggregate is there.
    tmux.keys(&["q"]);
    tmux.wait_for(&["VER  TIME", "1 State"]);
    // SIGINT was the pager's for its time only: now it ends rewind as it always has.
    let pid = std::fs::read_to_string(&pid).unwrap();
    let killed = std::process::Command::new("kill")
        .args(["-INT", pid.trim()])
        .status()
        .unwrap();
    assert!(killed.success());
    // Killed, rewind leaves the cursor where it was: the shell's line may wrap.
    let started = std::time::Instant::now();
    while !tmux
        .screen()
        .replace('\n', "")
        .contains("rewind exited 130")
    {
        assert!(
            started.elapsed().as_secs() < 10,
            "rewind lives on after SIGINT: {}",
            tmux.screen()
        );
        std::thread::sleep(std::time::Duration::from_millis(40));
    }
}

#[test]
fn without_pager_set_less_pages_the_value() {
    if !tmux_available() {
        return;
    }
    let command = format!(
        "env -u PAGER {}",
        shell_command(&format!("{} acc-0007", demo_store()))
    );
    let tmux = Tmux::start("reading-less", &command);
    tmux.wait_for(&["acc-0007 · account", "v49/49"]);
    tmux.keys(&["Tab", "Enter"]);
    tmux.wait_for(&[". at v49 ·"]);
    tmux.keys(&["v"]);
    tmux.wait_for(&["# . at v49", "\"address\": {"]);
    // Ctrl-C is the pager's (less stops a search with it); rewind, and the shell that runs
    // the pager, sharing the terminal, live on.
    tmux.keys(&["C-c"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    // less still has the screen: rewind did not take it back from under a pager that runs.
    let screen = tmux.screen();
    assert!(
        screen.contains("\"address\": {") && !screen.contains("v pager"),
        "{screen}"
    );
    tmux.keys(&["q"]);
    tmux.wait_for(&[". at v49 ·", "v pager"]);
    tmux.keys(&["q", "q", "q"]);
    tmux.wait_for(&["rewind exited 0"]);
}

#[test]
fn a_pager_that_cannot_run_is_a_message() {
    if !tmux_available() {
        return;
    }
    let command = format!(
        "env PAGER=/nonexistent/pager {}",
        shell_command(&format!("{} acc-0007", demo_store()))
    );
    let tmux = Tmux::start("reading-no-pager", &command);
    tmux.wait_for(&["acc-0007 · account", "v49/49"]);
    tmux.keys(&["Tab", "Enter"]);
    tmux.wait_for(&[". at v49 ·"]);
    tmux.keys(&["v"]);
    tmux.wait_for(&["cannot run the pager /nonexistent/pager", ". at v49 ·"]);
    tmux.keys(&["q", "q", "q"]);
    tmux.wait_for(&["rewind exited 0"]);
}

/// A copy of the demo store as a crashed writer leaves it: the db and a -wal holding a
/// commit, no -shm, nobody holding a lock. rewind reads it through a private copy, whose
/// clean-up watches SIGINT.
fn crashed_wal_store(dir: &std::path::Path) -> std::path::PathBuf {
    let live = dir.join("live.db");
    std::fs::copy(support::demo_store(), &live).unwrap();
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

#[test]
fn ctrl_c_in_the_pager_spares_rewind_reading_a_private_copy() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = crashed_wal_store(dir.path());
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let command = format!(
        "env -u PAGER TMPDIR={} {}",
        support::tmux::sh_quote(&tmp.to_string_lossy()),
        shell_command(&format!(
            "{} acc-0007",
            support::tmux::sh_quote(&store.to_string_lossy())
        ))
    );
    let tmux = Tmux::start("reading-copy-less", &command);
    tmux.wait_for(&["acc-0007 · account", "v49/49"]);
    let copies = || {
        std::fs::read_dir(&tmp)
            .unwrap()
            .filter(|e| {
                let name = e.as_ref().unwrap().file_name();
                name.to_string_lossy().starts_with("rewind-copy-")
            })
            .count()
    };
    let open = copies();
    assert_eq!(
        open, 1,
        "rewind reads one private copy, however many connections"
    );
    tmux.keys(&["Tab", "Enter"]);
    tmux.wait_for(&[". at v49 ·"]);
    tmux.keys(&["v"]);
    tmux.wait_for(&["# . at v49", "\"address\": {"]);
    tmux.keys(&["C-c"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(tmux.screen().contains("\"address\": {"), "less still pages");
    tmux.keys(&["q"]);
    tmux.wait_for(&[". at v49 ·", "v pager"]);
    assert_eq!(copies(), open, "rewind and its copy live on");
    tmux.keys(&["q", "q", "q"]);
    tmux.wait_for(&["rewind exited 0"]);
    assert_eq!(copies(), 0, "the copy goes with rewind");
}
