//! The PostgreSQL test harness itself: a real throwaway cluster run by an unprivileged user,
//! a fresh database per test, password auth over TCP, SELECT-only roles, and nothing left
//! behind when a server or the whole test binary goes.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::postgres::{PgServer, SUPERUSER};

fn uid_of(pid: u32) -> u32 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the process runs");
    let line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap_or_default()
            .contains("State:\tZ")
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn accepts_tcp(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

#[test]
fn the_shared_cluster_runs_unprivileged_on_loopback_with_its_socket_in_its_dir() {
    let Some(pg) = PgServer::shared("shared cluster") else {
        return;
    };
    let pid = pg.pid().expect("the shared cluster runs");
    assert_ne!(uid_of(pid), 0, "PostgreSQL must not run as root");
    let db = pg.create_database("settings");
    assert_eq!(db.psql("SHOW listen_addresses;").trim(), "127.0.0.1");
    assert_eq!(
        db.psql("SHOW unix_socket_directories;").trim(),
        pg.dir().to_str().unwrap()
    );
    assert!(pg.dir().join(format!(".s.PGSQL.{}", pg.port())).exists());
    let version: u32 = db.psql("SHOW server_version_num;").trim().parse().unwrap();
    assert!(version >= 150000, "PostgreSQL 15 or newer, got {version}");
}

#[test]
fn each_test_gets_a_fresh_database_dropped_with_its_guard() {
    let Some(pg) = PgServer::shared("fresh databases") else {
        return;
    };
    let a = pg.create_database("isolation");
    let b = pg.create_database("isolation");
    assert_ne!(a.name(), b.name());
    a.psql("CREATE TABLE only_in_a(x int); INSERT INTO only_in_a VALUES (1);");
    assert_eq!(a.psql("SELECT count(*) FROM only_in_a;").trim(), "1");
    let err = b.try_psql("SELECT count(*) FROM only_in_a;").unwrap_err();
    assert!(err.contains("does not exist"), "{err}");

    let name = a.name().to_owned();
    drop(a);
    let left = b.psql(&format!(
        "SELECT count(*) FROM pg_database WHERE datname = '{name}';"
    ));
    assert_eq!(left.trim(), "0", "the dropped guard's database is gone");
}

#[test]
fn tcp_asks_for_the_password_and_the_socket_trusts() {
    let Some(pg) = PgServer::shared("password auth") else {
        return;
    };
    let db = pg.create_database("auth");
    let via = |url: &str| {
        let mut psql = pg.psql_command();
        psql.arg("-d").arg(url);
        support::postgres::run_psql(psql, "SELECT current_user || '@' || current_database();")
    };
    let expected = format!("{SUPERUSER}@{}", db.name());
    assert_eq!(via(&db.url()).unwrap().trim(), expected);
    assert_eq!(via(&db.socket_url()).unwrap().trim(), expected);

    let wrong = pg.url(SUPERUSER, "not-the-password", db.name());
    let err = via(&wrong).unwrap_err();
    assert!(err.contains("password authentication failed"), "{err}");
    let no_password = format!(
        "postgres://{SUPERUSER}@127.0.0.1:{}/{}",
        pg.port(),
        db.name()
    );
    let err = via(&no_password).unwrap_err();
    assert!(err.contains("password"), "{err}");

    let unknown = pg.url(
        SUPERUSER,
        support::postgres::SUPERUSER_PASSWORD,
        "no_such_db",
    );
    let err = via(&unknown).unwrap_err();
    assert!(err.contains("does not exist"), "{err}");
}

#[test]
fn a_select_only_role_reads_but_cannot_write_and_a_bare_role_cannot_read() {
    let Some(pg) = PgServer::shared("select-only role") else {
        return;
    };
    let db = pg.create_database("roles");
    db.create_native_schema();
    db.psql(
        "INSERT INTO events (event_id, aggregate_id, aggregate_type, event_type, event_data, version)
         VALUES (gen_random_uuid(), 'acc-1', 'account', 'Opened', '{}', 1);",
    );
    let reader = db.create_role_with_select_only("reader", "public");
    assert_eq!(
        db.psql_as(&reader, "SELECT count(*) FROM events;")
            .unwrap()
            .trim(),
        "1"
    );
    let err = db
        .psql_as(&reader, "INSERT INTO snapshots VALUES ('acc-1', 1, '{}');")
        .unwrap_err();
    assert!(err.contains("permission denied"), "{err}");

    let outsider = db.create_login_role("outsider");
    let err = db
        .psql_as(&outsider, "SELECT count(*) FROM events;")
        .unwrap_err();
    assert!(err.contains("permission denied"), "{err}");

    let mut wrong = reader;
    wrong.password.push('x');
    let err = db.psql_as(&wrong, "SELECT 1;").unwrap_err();
    assert!(err.contains("password authentication failed"), "{err}");
}

#[test]
fn terminating_connections_cuts_a_running_query() {
    let Some(pg) = PgServer::shared("terminate connections") else {
        return;
    };
    let db = pg.create_database("cut");
    let mut reader = pg.psql_command();
    let mut reader = reader
        .arg("-d")
        .arg(db.url())
        .args(["-c", "SELECT pg_sleep(60);"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let busy = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%';";
    wait_for("the sleeping query", || db.psql(busy).trim() == "1");
    assert_eq!(db.terminate_connections(), 1);
    wait_for("psql to see the cut", || {
        reader.try_wait().unwrap().is_some()
    });
    let output = reader.wait_with_output().unwrap();
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("terminating connection"), "{err}");
}

#[test]
fn a_private_server_stops_restarts_with_its_data_and_is_removed_on_drop() {
    let Some(pg) = PgServer::start_private("private server") else {
        return;
    };
    let port = pg.port();
    let dir = pg.dir().to_path_buf();
    let first_pid = pg.pid().unwrap();
    {
        let db = pg.create_database("survives");
        db.psql("CREATE TABLE kept(x int); INSERT INTO kept VALUES (42);");
        pg.stop();
        assert!(!pg.is_running());
        assert!(!alive(first_pid), "the postmaster is gone after stop");
        assert!(!accepts_tcp(port), "nothing listens on {port} after stop");
        assert!(db.try_psql("SELECT 1;").is_err());

        pg.restart();
        assert_eq!(pg.port(), port);
        assert_eq!(db.psql("SELECT x FROM kept;").trim(), "42");
    }
    let pid = pg.pid().unwrap();
    assert_ne!(pid, first_pid);
    drop(pg);
    assert!(!alive(pid), "the postmaster is gone after drop");
    assert!(!dir.exists(), "{} is removed after drop", dir.display());
    assert!(!accepts_tcp(port));
}

/// Run only as a child of the tests below (REWIND_PG_HELPER_REPORT names its report file):
/// starts the shared cluster, reports its pid and dir, then passes, panics or hangs.
#[test]
#[ignore = "a helper the exit tests run in a child process"]
fn helper_start_the_shared_cluster_and_report() {
    let Ok(report) = std::env::var("REWIND_PG_HELPER_REPORT") else {
        return;
    };
    let pg = PgServer::shared("helper").expect("PostgreSQL is installed");
    let db = pg.create_database("helper");
    db.psql("SELECT 1;");
    let line = format!("{} {}\n", pg.pid().unwrap(), pg.dir().display());
    std::fs::write(&report, line).unwrap();
    match std::env::var("REWIND_PG_HELPER_THEN").as_deref() {
        Ok("panic") => panic!("the helper fails on purpose"),
        Ok("hang") => std::thread::sleep(Duration::from_secs(120)),
        _ => {}
    }
}

/// Runs the helper in a child test binary; the cluster's pid and dir once it has reported.
fn run_helper(then: &str) -> (std::process::Child, u32, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report");
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "helper_start_the_shared_cluster_and_report",
            "--ignored",
        ])
        .args(["--test-threads", "1"])
        .env("REWIND_PG_HELPER_REPORT", &report)
        .env("REWIND_PG_HELPER_THEN", then)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the helper's report", || {
        std::fs::read_to_string(&report).is_ok_and(|r| r.ends_with('\n'))
    });
    let text = std::fs::read_to_string(&report).unwrap();
    let (pid, path) = text.trim().split_once(' ').unwrap();
    (child, pid.parse().unwrap(), path.into())
}

#[test]
fn the_shared_cluster_is_removed_when_the_test_binary_exits_passing_or_failing() {
    if PgServer::shared("exit cleanup").is_none() {
        return;
    }
    for (then, code) in [("pass", 0), ("panic", 101)] {
        let (mut child, pid, dir) = run_helper(then);
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "helper ({then})");
        assert!(
            !alive(pid),
            "postgres {pid} outlived the test binary ({then})"
        );
        assert!(
            !dir.exists(),
            "{} outlived the test binary ({then})",
            dir.display()
        );
    }
}

#[test]
fn a_killed_test_binary_takes_its_server_down_and_the_next_start_removes_its_dir() {
    if PgServer::shared("kill cleanup").is_none() {
        return;
    }
    let (mut child, pid, dir) = run_helper("hang");
    child.kill().unwrap();
    child.wait().unwrap();
    wait_for("the orphaned postmaster to stop", || !alive(pid));
    assert!(dir.exists(), "no atexit ran, so the dir is still there");
    let next = PgServer::start_private("stale dir sweep").unwrap();
    assert!(
        !dir.exists(),
        "{} was swept by the next start",
        dir.display()
    );
    drop(next);
}
