//! A real PostgreSQL server for tests: a throwaway cluster in a temp dir, run by an
//! unprivileged user (PostgreSQL refuses root), on a free loopback port with its unix socket
//! in that dir.
//!
//! `PgServer::shared` starts one cluster per test binary on first use and removes it when the
//! binary exits; each test takes its own database from it (`create_database`). Tests that stop
//! or restart the server take a cluster of their own (`PgServer::start_private`), removed on
//! drop, also when the test panics.
//!
//! Nothing is left running: the postmaster is this process's child, started from a thread
//! that lives as long as the process and with a parent-death signal (SIGQUIT, immediate
//! shutdown), so the kernel stops it even when the test binary is killed; a normal exit
//! stops it and deletes its dir from an `atexit` handler, and a dir that a killed binary left
//! behind is deleted by the next cluster's start. (The server user is set by std's
//! `CommandExt::uid`, not `runuser`, so the postmaster is our direct child and can be signalled,
//! waited for and tied to our life.)
//!
//! Authentication: over TCP every role needs its password (scram-sha-256), so the `url()`s
//! carry one and a wrong one is refused; the unix socket trusts (the harness's own `psql`).
//!
//! Without PostgreSQL installed the tests skip loudly, unless `REWIND_REQUIRE_POSTGRES=1`
//! (set by scripts/test), where a missing server fails them.
//!
//! Overrides: `REWIND_PG_BIN` (the dir with initdb, postgres, psql), `REWIND_PG_USER` (who
//! runs the server when the tests run as root; default `postgres`), `REWIND_PG_TMPDIR` (where
//! cluster dirs go; default /dev/shm, else the system temp dir).

mod database;
mod process;
pub mod tls;
pub mod watch;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

#[allow(unused_imports)] // not every test binary names both
pub use database::{PgDatabase, PgRole};

/// The cluster's superuser, made by initdb.
pub const SUPERUSER: &str = "rewind";
pub const SUPERUSER_PASSWORD: &str = "rewind-superuser-secret";

/// A running (or stopped, for a private one) cluster.
pub struct PgServer {
    root: PathBuf,
    port: u16,
    bin: PathBuf,
    run_as: Option<(u32, u32)>,
    postmaster: Mutex<Option<Child>>,
    next_name: AtomicUsize,
}

static SHARED: OnceLock<Option<PgServer>> = OnceLock::new();

impl PgServer {
    /// The test binary's shared cluster, started on first use; `None` (said loudly) when
    /// PostgreSQL is not installed and `REWIND_REQUIRE_POSTGRES` is not set.
    pub fn shared(test: &str) -> Option<&'static PgServer> {
        let server = SHARED.get_or_init(|| {
            let bin = process::find_bin_dir()?;
            let server = PgServer::init(bin);
            process::remove_at_exit(remove_shared_cluster);
            Some(server)
        });
        match server {
            Some(server) => Some(server),
            None => unavailable(test),
        }
    }

    /// A cluster of the test's own, for stopping and restarting; removed on drop.
    pub fn start_private(test: &str) -> Option<PgServer> {
        match process::find_bin_dir() {
            Some(bin) => Some(PgServer::init(bin)),
            None => unavailable(test),
        }
    }

    fn init(bin: PathBuf) -> PgServer {
        process::remove_stale_clusters();
        let run_as = process::unprivileged_user();
        let root = process::cluster_dir(run_as);
        let server = PgServer {
            port: 0,
            root,
            bin,
            run_as,
            postmaster: Mutex::new(None),
            next_name: AtomicUsize::new(0),
        };
        server.initdb();
        server.start_on_a_free_port()
    }

    fn initdb(&self) {
        let pwfile = self.root.join("superuser-password");
        std::fs::write(&pwfile, SUPERUSER_PASSWORD).expect("the password file is written");
        self.hand_over(&pwfile);
        let mut initdb = self.server_command("initdb");
        initdb
            .arg("--pgdata")
            .arg(self.data_dir())
            .args(["--username", SUPERUSER, "--pwfile"])
            .arg(&pwfile)
            .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
            .args(["--encoding=UTF8", "--locale=C", "--no-sync"]);
        let output = initdb.output().expect("initdb runs");
        let _ = std::fs::remove_file(&pwfile);
        assert!(
            output.status.success(),
            "initdb failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Another test binary's server may take a port between our probe and the bind: retry.
    fn start_on_a_free_port(mut self) -> PgServer {
        let mut last_error = String::new();
        for _ in 0..5 {
            self.port = process::free_port();
            match self.spawn_postmaster() {
                Ok(()) => return self,
                Err(err) if err.contains("Address already in use") => last_error = err,
                Err(err) => panic!("{err}"),
            }
        }
        panic!("{last_error}")
    }

    fn spawn_postmaster(&self) -> Result<(), String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("the server log opens");
        let mut postgres = self.server_command("postgres");
        postgres
            .arg("-D")
            .arg(self.data_dir())
            .args(["-p", &self.port.to_string(), "-h", "127.0.0.1", "-k"])
            .arg(&self.root)
            // Throwaway: no flushing to disk, but a commit still survives a server stop.
            .args(["-c", "fsync=off", "-c", "full_page_writes=off"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log);
        let child = process::spawn_with_parent_death_signal(postgres)
            .map_err(|err| format!("cannot start {}: {err}", self.bin.display()))?;
        let mut slot = self
            .postmaster
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *slot = Some(child);
        process::wait_until_ready(slot.as_mut().unwrap(), &self.data_dir(), &self.log_path())
    }

    /// Stops the server at once (immediate shutdown: clients see the connection drop).
    pub fn stop(&self) {
        let child = self
            .postmaster
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(child) = child {
            process::stop_postmaster(child);
        }
    }

    /// Starts the server again on the same port and data (stopping it first if it runs).
    pub fn restart(&self) {
        self.stop();
        if let Err(err) = self.spawn_postmaster() {
            panic!("the restart failed: {err}");
        }
    }

    pub fn is_running(&self) -> bool {
        let mut slot = self
            .postmaster
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        slot.as_mut()
            .is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }

    /// The postmaster's pid while it runs.
    pub fn pid(&self) -> Option<u32> {
        let slot = self
            .postmaster
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        slot.as_ref().map(Child::id)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster's dir: the socket and server log are here, the data in `data/`.
    pub fn dir(&self) -> &Path {
        &self.root
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    /// Everything the server logged (start-up, errors, shutdowns).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn log_path(&self) -> PathBuf {
        self.root.join("postgres.log")
    }

    /// A TCP URL for any role and database, e.g. one that does not exist.
    pub fn url(&self, user: &str, password: &str, database: &str) -> String {
        format!(
            "postgres://{}:{}@127.0.0.1:{}/{}",
            database::percent_encode(user),
            database::percent_encode(password),
            self.port,
            database::percent_encode(database)
        )
    }

    /// A fresh, empty database for one test, dropped with the guard.
    pub fn create_database(&self, name_hint: &str) -> PgDatabase<'_> {
        let name = self.unique_name(name_hint);
        self.psql_in(
            "postgres",
            &format!(
                "CREATE DATABASE {} STRATEGY = FILE_COPY;",
                quote_ident(&name)
            ),
        )
        .unwrap_or_else(|err| panic!("CREATE DATABASE {name} failed: {err}"));
        PgDatabase::new(self, name)
    }

    fn unique_name(&self, hint: &str) -> String {
        let n = self.next_name.fetch_add(1, Ordering::Relaxed);
        let mut name: String = hint
            .chars()
            .map(|c| match c.to_ascii_lowercase() {
                c @ ('a'..='z' | '0'..='9') => c,
                _ => '_',
            })
            .take(40)
            .collect();
        if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
            name.insert(0, 't');
        }
        format!("{name}_{n}")
    }

    /// Runs SQL through the real `psql` over the socket as the superuser; stdout (unaligned,
    /// tuples only) or the error text.
    pub fn psql_in(&self, database: &str, sql: &str) -> Result<String, String> {
        let mut psql = self.psql_command();
        psql.args(["-h"]).arg(&self.root);
        psql.args([
            "-p",
            &self.port.to_string(),
            "-U",
            SUPERUSER,
            "-d",
            database,
        ]);
        run_psql(psql, sql)
    }

    /// `psql` of this cluster's version, with no user settings or PG* variables leaking in.
    pub fn psql_command(&self) -> Command {
        let mut psql = Command::new(self.bin.join("psql"));
        for var in process::LIBPQ_ENV {
            psql.env_remove(var);
        }
        psql.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]);
        psql.env("PGCONNECT_TIMEOUT", "10");
        psql
    }

    fn server_command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin.join(program));
        command.current_dir(&self.root).env("LC_ALL", "C");
        if let Some((uid, gid)) = self.run_as {
            use std::os::unix::process::CommandExt;
            command.uid(uid).gid(gid);
        }
        command
    }

    fn hand_over(&self, path: &Path) {
        if let Some((uid, gid)) = self.run_as {
            std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("chown to the server user");
        }
    }

    fn stop_and_remove(&self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.stop_and_remove();
    }
}

extern "C" fn remove_shared_cluster() {
    if let Some(Some(server)) = SHARED.get() {
        server.stop_and_remove();
    }
}

fn unavailable<T>(test: &str) -> Option<T> {
    if std::env::var("REWIND_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
        panic!(
            "REWIND_REQUIRE_POSTGRES=1 but PostgreSQL (initdb, postgres) is not installed; \
             run scripts/install-test-deps"
        );
    }
    // Straight to the stderr handle: libtest's capture would hide an eprintln!.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: PostgreSQL (initdb, postgres) is not installed; \
         run scripts/install-test-deps, or scripts/test which requires it"
    );
    None
}

/// Feeds SQL on stdin (so psql splits statements and CREATE DATABASE runs outside a
/// transaction); stdout on success, stderr on failure.
pub fn run_psql(mut psql: Command, sql: &str) -> Result<String, String> {
    psql.args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = psql.spawn().expect("psql runs");
    let mut stdin = child.stdin.take().expect("psql's stdin is piped");
    let sql = sql.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(sql.as_bytes()));
    let output = child.wait_with_output().expect("psql finishes");
    let _ = writer.join();
    psql_result(output)
}

fn psql_result(output: Output) -> Result<String, String> {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if output.status.success() {
        Ok(stdout)
    } else {
        Err(format!("{stderr}{stdout}"))
    }
}

/// A double-quoted SQL identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A single-quoted SQL string literal.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// tests/fixtures/postgres, where the checked-in dumps and their generators live.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/postgres")
}
