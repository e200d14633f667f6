//! Hostile program and settings files: a FIFO, a device, a directory, a file past the 1 MiB
//! cap or one that is not UTF-8, named as a reducer, a projection, a config (`--config` or a
//! `rewind.toml` found in the current folder), a Kafka properties file or a PostgreSQL password
//! file. Each is one line naming the file and what it is, and exit 2, at once: a FIFO is never
//! waited on and nothing is read past the cap. Every run is under `timeout` (a hang fails) and
//! `prlimit --as` (a runaway read fails instead of exhausting the machine).

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{demo_store, stderr};

/// rewind in `cwd`, killed after 20 seconds and kept under 4 GB of address space.
fn bounded(cwd: &Path, envs: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new("timeout")
        .args(["20", "prlimit", "--as=4000000000", "--core=0", "--"])
        .arg(env!("CARGO_BIN_EXE_rewind"))
        // As support::under_address_limit says: mimalloc reserves in small steps.
        .env("MIMALLOC_ARENA_RESERVE", "64MiB")
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .envs(envs.iter().copied())
        .output()
        .expect("timeout and prlimit run")
}

/// Exit 2 with one line on stderr (a hang is timeout's 124, a runaway read an abort); the line.
fn one_line_error(output: &Output, case: &str) -> String {
    let err = stderr(output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{case}: {:?} {err}",
        output.status
    );
    assert_eq!(err.lines().count(), 1, "{case}: one line expected: {err}");
    assert!(err.starts_with("rewind: "), "{case}: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("internal error"),
        "{case}: {err}"
    );
    err
}

/// A folder holding a FIFO, a directory, a sparse 2 GiB file and one that is not UTF-8.
struct Hostile {
    dir: tempfile::TempDir,
}

impl Hostile {
    fn new() -> Hostile {
        let dir = tempfile::tempdir().unwrap();
        let made = Command::new("mkfifo")
            .args(["-m", "600"])
            .arg(dir.path().join("fifo"))
            .status()
            .unwrap();
        assert!(made.success());
        std::fs::create_dir(dir.path().join("folder")).unwrap();
        let huge = std::fs::File::create(dir.path().join("huge")).unwrap();
        huge.set_len(2 << 30).unwrap();
        std::fs::write(dir.path().join("latin1"), b".name = \"Jos\xe9\"").unwrap();
        for name in ["huge", "latin1"] {
            let perms = std::fs::Permissions::from_mode(0o600);
            std::fs::set_permissions(dir.path().join(name), perms).unwrap();
        }
        Hostile { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn arg(&self, name: &str) -> String {
        self.path(name).to_string_lossy().into_owned()
    }

    /// Each hostile file with what the error must say of it.
    fn cases(&self) -> Vec<(String, &'static str)> {
        vec![
            (self.arg("fifo"), "it is a FIFO, not a regular file"),
            (
                "/dev/zero".into(),
                "it is a character device, not a regular file",
            ),
            (self.arg("folder"), "it is a directory, not a regular file"),
            (self.arg("huge"), "it is larger than 1 MiB"),
            (
                self.arg("latin1"),
                "not UTF-8 text (invalid byte at offset 12)",
            ),
        ]
    }
}

fn demo() -> String {
    demo_store().to_string_lossy().into_owned()
}

#[test]
fn a_hostile_reducer_is_refused_at_once() {
    let files = Hostile::new();
    for (file, says) in files.cases() {
        let output = bounded(
            files.dir.path(),
            &[],
            &["aggregates", &demo(), "--reducer", &file],
        );
        let err = one_line_error(&output, &file);
        assert!(
            err.contains(&format!("cannot read reducer {file}: {says}")),
            "{file}: {err}"
        );
    }
}

#[test]
fn a_hostile_projection_is_refused_at_once() {
    let files = Hostile::new();
    for (file, says) in files.cases() {
        let output = bounded(
            files.dir.path(),
            &[],
            &["project", &demo(), "--projection", &file],
        );
        let err = one_line_error(&output, &file);
        assert!(
            err.contains(&format!("cannot read projection {file}: {says}")),
            "{file}: {err}"
        );
    }
}

#[test]
fn a_hostile_config_is_refused_at_once() {
    let files = Hostile::new();
    for (file, says) in files.cases() {
        let output = bounded(
            files.dir.path(),
            &[],
            &["aggregates", &demo(), "--config", &file],
        );
        let err = one_line_error(&output, &file);
        assert!(
            err.contains(&format!("cannot read config {file}: {says}")),
            "{file}: {err}"
        );
    }
}

/// The `rewind.toml` of the folder rewind runs in names a reducer; even a command that
/// never folds (`aggregates`) must not wait on it.
#[test]
fn a_rewind_toml_naming_a_hostile_reducer_is_refused_at_once() {
    let files = Hostile::new();
    let project = files.path("project");
    std::fs::create_dir(&project).unwrap();
    std::fs::copy(demo_store(), files.path("demo.db")).unwrap();
    for (file, says) in files.cases() {
        let toml = format!("reducer = {}\n", toml::Value::String(file.clone()));
        std::fs::write(project.join("rewind.toml"), toml).unwrap();
        let output = bounded(&project, &[], &["aggregates", "../demo.db"]);
        let err = one_line_error(&output, &file);
        assert!(err.contains("cannot read reducer"), "{file}: {err}");
        assert!(err.contains(says), "{file}: {err}");
    }
    // A rewind.toml that is itself a FIFO is not a config file to look for: passed over,
    // not waited on. Named with --config, it is refused (above).
    std::fs::remove_file(project.join("rewind.toml")).unwrap();
    let made = Command::new("mkfifo")
        .arg(project.join("rewind.toml"))
        .status()
        .unwrap();
    assert!(made.success());
    let output = bounded(&project, &[], &["aggregates", "../demo.db"]);
    assert!(
        output.status.success(),
        "{:?} {}",
        output.status,
        stderr(&output)
    );
}

#[test]
fn a_hostile_kafka_properties_file_is_refused_at_once() {
    let files = Hostile::new();
    for (file, says) in files.cases() {
        let output = bounded(
            files.dir.path(),
            &[],
            &[
                "aggregates",
                "kafka://127.0.0.1:1/orders",
                "--kafka-config",
                &file,
                "--no-cache",
            ],
        );
        let err = one_line_error(&output, &file);
        assert!(
            err.contains(&format!("cannot read Kafka properties file {file}: {says}")),
            "{file}: {err}"
        );
    }
}

/// A password file that is not one is ignored, as libpq ignores one it cannot use: rewind
/// goes on to connect (here to a port nobody listens on) and says only that.
#[test]
fn a_hostile_password_file_is_ignored_at_once() {
    let files = Hostile::new();
    let mut cases: Vec<String> = files.cases().into_iter().map(|(file, _)| file).collect();
    // Owner-only and claiming 0 bytes, it holds 8 bytes per page of the address space:
    // hundreds of GiB, mostly zeros (valid UTF-8).
    cases.push("/proc/self/pagemap".into());
    for file in cases {
        let output = bounded(
            files.dir.path(),
            &[("PGPASSFILE", &file), ("PGCONNECT_TIMEOUT", "5")],
            &["aggregates", "postgres://ada@127.0.0.1:1/shop"],
        );
        let err = one_line_error(&output, &file);
        assert!(err.contains("127.0.0.1"), "{file}: {err}");
        assert!(!err.contains(&file), "{file}: {err}");
    }
}
