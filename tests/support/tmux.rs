//! The real binary in a real terminal: a tmux server of the test's own, polled with bounded
//! waits. Needs tmux (`scripts/install-test-deps`); REWIND_SKIP_TUI_E2E=1 skips without it.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A tmux server of our own (its own socket), killed when the test ends.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// A 160×45 window running `command`.
    pub fn start(name: &str, command: &str) -> Tmux {
        Tmux::start_sized(name, command, 160, 45)
    }

    pub fn start_sized(name: &str, command: &str, width: u16, height: u16) -> Tmux {
        let tmux = Tmux {
            socket: format!("rewind-e2e-{}-{name}", std::process::id()),
        };
        let (width, height) = (width.to_string(), height.to_string());
        let out = tmux.run(&[
            "new-session",
            "-d",
            "-x",
            &width,
            "-y",
            &height,
            "-s",
            "e2e",
            command,
        ]);
        assert!(out.status.success(), "tmux new-session failed: {out:?}");
        tmux
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .env_remove("TMUX")
            .output()
            .expect("run tmux")
    }

    /// Named keys (`Enter`, `Escape`, `End`, `C-c`) or literal text.
    pub fn keys(&self, keys: &[&str]) {
        for key in keys {
            let named = key.len() > 1 && key.chars().next().unwrap().is_ascii_uppercase();
            let out = if named {
                self.run(&["send-keys", "-t", "e2e", key])
            } else {
                self.run(&["send-keys", "-t", "e2e", "-l", key])
            };
            assert!(out.status.success(), "send-keys {key:?}: {out:?}");
        }
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "e2e"]).stdout).into_owned()
    }

    /// Is the pane showing the alternate screen (a full-screen program is running)?
    pub fn alternate_on(&self) -> bool {
        let out = self.run(&["display-message", "-p", "-t", "e2e", "#{alternate_on}"]);
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }

    /// Polls the screen until every needle shows, or fails with the last screen seen.
    pub fn wait_for(&self, needles: &[&str]) -> String {
        self.wait_for_within(TIMEOUT, needles)
    }

    pub fn wait_for_within(&self, timeout: Duration, needles: &[&str]) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if needles.iter().all(|n| screen.contains(n)) {
                return screen;
            }
            if started.elapsed() > timeout {
                panic!("waited {timeout:?} for {needles:?}; the screen shows:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(40));
        }
    }

    /// Polls until none of the needles shows any more.
    pub fn wait_until_gone(&self, needles: &[&str]) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if !needles.iter().any(|n| screen.contains(n)) {
                return screen;
            }
            if started.elapsed() > TIMEOUT {
                panic!("waited {TIMEOUT:?} for {needles:?} to go; the screen shows:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(40));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// Is tmux there? Without it the test fails, unless REWIND_SKIP_TUI_E2E=1 says skip.
pub fn tmux_available() -> bool {
    let found = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        let skip = std::env::var("REWIND_SKIP_TUI_E2E").is_ok_and(|v| v == "1");
        assert!(
            skip,
            "tmux is needed for the terminal UI end-to-end tests: run scripts/install-test-deps, \
             or set REWIND_SKIP_TUI_E2E=1 to skip them"
        );
        eprintln!("REWIND_SKIP_TUI_E2E=1 and no tmux: skipping");
    }
    found
}

/// Quotes a word for `sh -c`.
pub fn sh_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// A shell line that runs rewind with `args` (already quoted), then prints its exit code:
/// the line after rewind proves it exited and left the alternate screen.
pub fn shell_command(args: &str) -> String {
    // `trap : INT QUIT`: a login shell runs rewind in a process group of its own, so a
    // Ctrl-C typed into rewind's pager never reaches that shell; this one shares rewind's
    // group, so it catches the signal and still prints the exit status. Its children get
    // the default disposition back at exec, so rewind is tested as a user runs it.
    let script = format!(
        "trap : INT QUIT; {} {args}; echo rewind exited $?; sleep 60",
        sh_quote(env!("CARGO_BIN_EXE_rewind"))
    );
    format!("sh -c {}", sh_quote(&script))
}
