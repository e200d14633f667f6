//! Finding, starting and stopping the PostgreSQL server processes, so that none outlives
//! the test binary.

use std::ffi::CString;
use std::io;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Cluster dirs are named after the test process, so a later run can tell a dead one's.
const DIR_PREFIX: &str = "rewind-pg-";
const READY_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// libpq's variables, kept away from psql so a developer's settings cannot redirect a test.
pub const LIBPQ_ENV: &[&str] = &[
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGDATABASE",
    "PGUSER",
    "PGPASSWORD",
    "PGPASSFILE",
    "PGSERVICE",
    "PGSERVICEFILE",
    "PGOPTIONS",
    "PGSSLMODE",
    "PGAPPNAME",
    "PGTARGETSESSIONATTRS",
    "PGCLIENTENCODING",
];

/// The dir holding initdb, postgres and psql of one version: `REWIND_PG_BIN`, else the one
/// `initdb` on PATH links into, else Debian's newest /usr/lib/postgresql/<major>/bin.
pub fn find_bin_dir() -> Option<PathBuf> {
    let complete = |dir: &Path| {
        ["initdb", "postgres", "psql"]
            .iter()
            .all(|p| dir.join(p).is_file())
    };
    if let Some(dir) = std::env::var_os("REWIND_PG_BIN") {
        return Some(PathBuf::from(dir)).filter(|dir| complete(dir));
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .filter_map(|dir| dir.join("initdb").canonicalize().ok())
            .filter_map(|initdb| initdb.parent().map(Path::to_path_buf))
            .find(|dir| complete(dir))
    });
    on_path.or_else(|| {
        let versions = std::fs::read_dir("/usr/lib/postgresql").ok()?;
        versions
            .filter_map(|entry| {
                let entry = entry.ok()?;
                let major: u32 = entry.file_name().to_str()?.parse().ok()?;
                Some((major, entry.path().join("bin")))
            })
            .filter(|(_, dir)| complete(dir))
            .max_by_key(|(major, _)| *major)
            .map(|(_, dir)| dir)
    })
}

/// Who runs the server: ourselves, or (as root, which PostgreSQL refuses) `REWIND_PG_USER`,
/// by default Debian's `postgres` user.
pub fn unprivileged_user() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let name = std::env::var("REWIND_PG_USER").unwrap_or_else(|_| "postgres".to_owned());
    match lookup_user(&name) {
        Some(ids) => Some(ids),
        None => panic!(
            "the tests run as root, which PostgreSQL refuses, and there is no user '{name}' \
             to run it as; run scripts/install-test-deps (or set REWIND_PG_USER)"
        ),
    }
}

fn lookup_user(name: &str) -> Option<(u32, u32)> {
    let name = CString::new(name).ok()?;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: all-zero is a valid passwd; getpwnam_r writes into it and buf, both ours.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call and buf's length is passed.
    let rc = unsafe {
        libc::getpwnam_r(
            name.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut found,
        )
    };
    (rc == 0 && !found.is_null()).then_some((pwd.pw_uid, pwd.pw_gid))
}

/// Where cluster dirs go: `REWIND_PG_TMPDIR`, else /dev/shm (in memory: CREATE DATABASE
/// takes 30 ms there against 550 ms on this machine's disk), else the system temp dir.
pub fn clusters_parent() -> PathBuf {
    if let Some(dir) = std::env::var_os("REWIND_PG_TMPDIR") {
        return PathBuf::from(dir);
    }
    let shm = Path::new("/dev/shm");
    let writable = tempfile::tempdir_in(shm).is_ok();
    if writable {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// A fresh dir for one cluster, owned by the server's user.
pub fn cluster_dir(run_as: Option<(u32, u32)>) -> PathBuf {
    let dir = tempfile::Builder::new()
        .prefix(&format!("{DIR_PREFIX}{}-", std::process::id()))
        .tempdir_in(clusters_parent())
        .expect("a temp dir for the cluster")
        .keep();
    if let Some((uid, gid)) = run_as {
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).expect("chown to the server user");
    }
    dir
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

type SpawnRequest = (Command, mpsc::Sender<io::Result<Child>>);

/// Spawns the postmaster so the kernel sends it SIGQUIT (immediate shutdown) when this
/// process dies, however it dies.
///
/// The parent-death signal fires when the spawning *thread* ends, so spawning happens on a
/// thread that lives as long as the process, never on a test's own thread.
pub fn spawn_with_parent_death_signal(mut command: Command) -> io::Result<Child> {
    static KEEPER: OnceLock<mpsc::Sender<SpawnRequest>> = OnceLock::new();
    let keeper = KEEPER.get_or_init(|| {
        let (requests, incoming) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("postgres-keeper".into())
            .spawn(move || {
                for (mut command, reply) in incoming {
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("the keeper thread starts");
        requests
    });
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure only makes async-signal-safe calls (prctl, getppid) and does not
    // allocate. std runs it after setuid, which would otherwise clear the signal.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGQUIT) == -1 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before the signal was armed.
            if libc::getppid() != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
    let (reply, answer) = mpsc::channel();
    keeper
        .send((command, reply))
        .expect("the keeper thread is alive");
    answer.recv().expect("the keeper thread answers")
}

/// Waits until the postmaster says it accepts connections (its pid file's status line),
/// bounded; the log's tail when it exits or hangs instead.
pub fn wait_until_ready(child: &mut Child, data: &Path, log: &Path) -> Result<(), String> {
    let deadline = Instant::now() + READY_TIMEOUT;
    let pid = child.id().to_string();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Err(format!(
                "postgres exited ({status}) before accepting connections; its log:\n{}",
                log_tail(log)
            ));
        }
        // A stale pid file (a killed server's) names another pid: not ready yet.
        let pid_file = std::fs::read_to_string(data.join("postmaster.pid")).unwrap_or_default();
        let mut lines = pid_file.lines();
        if lines.next() == Some(pid.as_str()) && lines.nth(6).map(str::trim) == Some("ready") {
            return Ok(());
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "postgres did not accept connections within {} s; its log:\n{}",
                READY_TIMEOUT.as_secs(),
                log_tail(log)
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Immediate shutdown (SIGQUIT: the postmaster takes its backends down with it), then
/// SIGKILL if it has not gone within the bound. Never panics: it runs from atexit and drop.
pub fn stop_postmaster(mut child: Child) {
    // SAFETY: kill has no memory preconditions; the pid is our own unreaped child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGQUIT) };
    let deadline = Instant::now() + STOP_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Runs `cleanup` when the process exits normally (also after failed tests: libtest exits
/// through `exit`); statics are never dropped, so this is how the shared cluster goes.
pub fn remove_at_exit(cleanup: extern "C" fn()) {
    // SAFETY: registers a plain function that never unwinds.
    unsafe { libc::atexit(cleanup) };
}

/// Deletes cluster dirs whose test process is gone (killed before its atexit ran); their
/// servers died with it by the parent-death signal.
pub fn remove_stale_clusters() {
    let Ok(entries) = std::fs::read_dir(clusters_parent()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(DIR_PREFIX)) else {
            continue;
        };
        let Some(owner) = rest.split('-').next().and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        let postmaster = std::fs::read_to_string(entry.path().join("data/postmaster.pid"))
            .ok()
            .and_then(|text| text.lines().next()?.parse::<i32>().ok());
        if !process_alive(owner) && !postmaster.is_some_and(process_alive) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

pub fn process_alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}
