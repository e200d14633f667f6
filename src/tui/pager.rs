//! `v` in the value viewer: the value in the user's `$PAGER` while the UI steps aside.
//!
//! The runtime leaves full-screen mode and stops reading keys first, so the pager has the
//! terminal to itself; the text is terminal-safe already (the viewer escapes it).

use std::io::Write;
use std::process::{Command, Stdio};

/// The pager when `$PAGER` is unset or empty, as git and man do.
const DEFAULT_PAGER: &str = "less";

/// Runs `$PAGER` (through `sh -c`, so `less -S` works) on `text` and waits for it to end.
/// Ctrl-C and Ctrl-\ are the pager's, not rewind's: the pager shares the terminal's
/// process group, so rewind catches them meanwhile instead of dying of them.
pub fn show(text: &str) -> Result<(), String> {
    let command = std::env::var("PAGER")
        .ok()
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_PAGER.to_string());
    let shown = crate::display::terminal_safe(&command).into_owned();
    crate::files::cleanup::lend_interrupt(true);
    let result = run(&command, text).map_err(|err| format!("cannot run the pager {shown}: {err}"));
    crate::files::cleanup::lend_interrupt(false);
    result
}

fn run(command: &str, text: &str) -> std::io::Result<()> {
    let mut shell = Command::new("sh");
    shell.arg("-c").arg(command).stdin(Stdio::piped());
    // No signal set-up for the shell: dash and bash wait out a Ctrl-C their child handles
    // (less does), so the shell lives as long as the pager does.
    let mut child = shell.spawn()?;
    // Written from another thread: a pager reads as it pages, and may quit before the end
    // (the broken pipe that follows is not an error).
    let mut stdin = child.stdin.take();
    let text = text.to_owned();
    let writer = std::thread::spawn(move || {
        if let Some(stdin) = stdin.as_mut() {
            let _ = stdin.write_all(text.as_bytes());
        }
    });
    let status = child.wait()?;
    let _ = writer.join();
    match status.code() {
        Some(0) | None => Ok(()),
        // sh's own answer for a command it cannot find or run.
        Some(127) => Err(std::io::Error::other("command not found")),
        Some(126) => Err(std::io::Error::other("not executable")),
        Some(_) => Ok(()),
    }
}
