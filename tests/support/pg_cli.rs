//! The real rewind binary against a PostgreSQL store, with none of the machine's libpq
//! settings leaking in: no PG* variables, and HOME (where ~/.pgpass is looked for) a temp
//! dir of the runner's own.

use std::process::{Command, Output};

use serde_json::Value;

/// Every variable libpq (and so rewind) reads.
pub const PG_ENV: &[&str] = &[
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
    "PGSSLROOTCERT",
    "PGCONNECT_TIMEOUT",
    "PGAPPNAME",
    "PGTARGETSESSIONATTRS",
    "PGCLIENTENCODING",
];

pub struct PgCli {
    pub home: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Default for PgCli {
    fn default() -> Self {
        PgCli::new()
    }
}

impl PgCli {
    pub fn new() -> PgCli {
        PgCli {
            home: tempfile::tempdir().unwrap(),
            env: Vec::new(),
        }
    }

    /// A variable every command of this runner gets.
    pub fn env(mut self, key: &str, value: &str) -> PgCli {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rewind"));
        for var in PG_ENV {
            cmd.env_remove(var);
        }
        cmd.env("NO_COLOR", "1")
            .env("HOME", self.home.path())
            .env("XDG_CACHE_HOME", self.home.path().join("cache"))
            .env("XDG_CONFIG_HOME", self.home.path().join("config"));
        for (key, value) in &self.env {
            cmd.env(key, value);
        }
        cmd
    }

    /// A shell line for tmux that runs rewind with `args` as `command` would (no PG*
    /// variables, this runner's HOME and variables), then prints its exit code.
    pub fn shell_line(&self, args: &[&str]) -> String {
        use super::tmux::sh_quote;
        let mut script = String::from("env");
        for var in PG_ENV {
            script.push_str(&format!(" -u {var}"));
        }
        let home = self.home.path();
        script.push_str(&format!(
            " NO_COLOR=1 HOME={} XDG_CACHE_HOME={} XDG_CONFIG_HOME={}",
            sh_quote(&home.to_string_lossy()),
            sh_quote(&home.join("cache").to_string_lossy()),
            sh_quote(&home.join("config").to_string_lossy())
        ));
        for (key, value) in &self.env {
            script.push_str(&format!(" {key}={}", sh_quote(value)));
        }
        script.push_str(&format!(" {}", sh_quote(env!("CARGO_BIN_EXE_rewind"))));
        for arg in args {
            script.push_str(&format!(" {}", sh_quote(arg)));
        }
        script.push_str("; echo rewind exited $?; sleep 60");
        format!("sh -c {}", sh_quote(&script))
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    /// stdout of a command that must succeed.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    pub fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    /// The one stderr line of a command that must fail with exit 2.
    pub fn bad(&self, args: &[&str]) -> String {
        self.fails_with(2, args)
    }

    /// The one stderr line of a command that must exit with `code`.
    pub fn fails_with(&self, code: i32, args: &[&str]) -> String {
        let output = self.run(args);
        let err = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(code), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "one line expected: {err}");
        assert!(err.starts_with("rewind: "), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        err
    }
}
