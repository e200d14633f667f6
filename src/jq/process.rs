//! One jq worker process, from rewind's side: found, started, fed and listened to with a
//! deadline, and killed and reaped (never left a zombie).
//!
//! The worker's stdin and stdout are one end of a socket pair, its stderr another; rewind
//! reads and writes without blocking, polling both, so a worker that stops reading or
//! answering can never hold rewind up. Writes use MSG_NOSIGNAL: a dead worker is an error
//! to report, not a SIGPIPE (fuzz harnesses do not ignore it).

use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::net::{send, SendFlags};

use super::protocol::{self, Inbox, Reply};
use super::worker::WorkerArgs;

/// Names the executable to run as the worker, instead of this one (tests, fuzzing).
pub const WORKER_EXE_VAR: &str = "REWIND_JQ_WORKER_EXE";
/// What is kept of a worker's stderr: the start, where the cause of its death is.
const STDERR_KEPT: usize = 8192;

/// How a worker ended, as far as its status and last words tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Death {
    StackOverflow,
    OutOfMemory,
    /// Anything else: the exit status and the first line it printed, if any.
    Crashed(String),
}

pub struct WorkerProcess {
    child: Child,
    socket: UnixStream,
    stderr: UnixStream,
    inbox: Inbox,
    outbox: Vec<u8>,
    sent: usize,
    stderr_said: Vec<u8>,
    stderr_open: bool,
    /// The worker's end of the socket is closed: it exited (or is exiting).
    closed: bool,
    max_frame: usize,
    reaped: bool,
}

/// The rewind executable: `REWIND_JQ_WORKER_EXE`, this process if it is rewind, or the
/// `rewind` beside a test or bench harness in target/<profile>/deps.
pub fn worker_exe() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(WORKER_EXE_VAR) {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe()
        .map_err(|err| format!("cannot find the rewind executable to run jq in: {err}"))?;
    if exe.file_stem().is_some_and(|name| name == "rewind") {
        return Ok(exe);
    }
    let beside: Vec<PathBuf> = exe
        .ancestors()
        .skip(1)
        .take(2)
        .map(|dir| dir.join("rewind"))
        .collect();
    beside
        .iter()
        .find(|path| path.is_file())
        .cloned()
        .ok_or_else(|| {
            let looked: Vec<String> = beside.iter().map(|p| p.display().to_string()).collect();
            format!(
                "cannot find the rewind executable to run jq in (looked for {}); build it \
             (cargo build) or set {WORKER_EXE_VAR}",
                looked.join(", ")
            )
        })
}

impl WorkerProcess {
    pub fn start(args: WorkerArgs) -> Result<WorkerProcess, String> {
        let exe = worker_exe()?;
        let cannot =
            |err: io::Error| format!("cannot start the jq worker {}: {err}", exe.display());
        let (socket, theirs) = UnixStream::pair().map_err(cannot)?;
        let (stderr, their_stderr) = UnixStream::pair().map_err(cannot)?;
        let their_stdin = theirs.try_clone().map_err(cannot)?;
        let child = {
            // The command holds the worker's ends; dropping it after the spawn closes them
            // here, so the worker's death reads as the end of the stream.
            let mut command = Command::new(&exe);
            command
                .args(args.to_args())
                .stdin(Stdio::from(OwnedFd::from(their_stdin)))
                .stdout(Stdio::from(OwnedFd::from(theirs)))
                .stderr(Stdio::from(OwnedFd::from(their_stderr)))
                // The worker's budget counts committed memory (RLIMIT_DATA); mimalloc
                // commits 32 MiB segments at once unless told to commit on demand.
                .env("MIMALLOC_EAGER_COMMIT", "0")
                .env("MIMALLOC_ARENA_EAGER_COMMIT", "0")
                // The cause of a crash is its first line; a backtrace would only bury it.
                .env("RUST_BACKTRACE", "0");
            command.spawn().map_err(cannot)?
        };
        let process = WorkerProcess {
            child,
            socket,
            stderr,
            inbox: Inbox::default(),
            outbox: Vec::new(),
            sent: 0,
            stderr_said: Vec::new(),
            stderr_open: true,
            closed: false,
            max_frame: args.max_frame,
            reaped: false,
        };
        if let Err(err) = process
            .socket
            .set_nonblocking(true)
            .and_then(|()| process.stderr.set_nonblocking(true))
        {
            return Err(cannot(err));
        }
        Ok(process)
    }

    /// Queues a frame; it is written while `wait` waits.
    pub fn send(&mut self, frame: Vec<u8>) {
        if self.sent == self.outbox.len() {
            self.outbox = frame;
            self.sent = 0;
        } else {
            self.outbox.extend_from_slice(&frame);
        }
    }

    /// The next reply, `None` if none came within `timeout`, or how the worker died.
    pub fn wait(&mut self, timeout: Duration) -> Result<Option<Reply>, Death> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.inbox.next_frame(self.max_frame) {
                Ok(Some(frame)) => {
                    return match protocol::decode_reply(&frame) {
                        Ok(reply) => Ok(Some(reply)),
                        Err(err) => Err(self.end(Some(err.to_string()))),
                    };
                }
                Ok(None) if self.closed => return Err(self.end(None)),
                Ok(None) => {}
                Err(err) => return Err(self.end(Some(err.to_string()))),
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let writing = self.sent < self.outbox.len();
            let (readable, writable, said) = {
                let mut interest = PollFlags::IN;
                if writing {
                    interest |= PollFlags::OUT;
                }
                let mut fds = vec![PollFd::new(&self.socket, interest)];
                if self.stderr_open {
                    fds.push(PollFd::new(&self.stderr, PollFlags::IN));
                }
                let timeout = Timespec::try_from(left).unwrap_or(Timespec {
                    tv_sec: i64::MAX,
                    tv_nsec: 0,
                });
                match poll(&mut fds, Some(&timeout)) {
                    Ok(_) => {}
                    Err(rustix::io::Errno::INTR) => continue,
                    Err(err) => return Err(self.end(Some(format!("poll: {err}")))),
                }
                let ready = |fd: &PollFd| !fd.revents().is_empty();
                let socket = fds[0].revents();
                (
                    socket.intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR),
                    socket.contains(PollFlags::OUT),
                    fds.get(1).is_some_and(ready),
                )
            };
            if said {
                self.read_stderr();
            }
            if writable && self.write_pending().is_err() {
                return Err(self.end(None));
            }
            if readable && !self.read_replies() {
                // Replies it sent before it went are still read first.
                self.closed = true;
            }
        }
    }

    /// Writes what the socket takes now; an error means the worker is gone.
    fn write_pending(&mut self) -> io::Result<()> {
        while self.sent < self.outbox.len() {
            match send(&self.socket, &self.outbox[self.sent..], SendFlags::NOSIGNAL) {
                Ok(n) => self.sent += n,
                Err(rustix::io::Errno::AGAIN) => return Ok(()),
                Err(rustix::io::Errno::INTR) => {}
                Err(err) => return Err(err.into()),
            }
        }
        Ok(())
    }

    /// Reads what has arrived; false at the end of the stream (the worker is gone).
    fn read_replies(&mut self) -> bool {
        let mut buffer = [0u8; 64 << 10];
        loop {
            match self.socket.read(&mut buffer) {
                Ok(0) => return false,
                Ok(n) => self.inbox.push(&buffer[..n]),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return true,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
    }

    fn read_stderr(&mut self) {
        let mut buffer = [0u8; 4096];
        loop {
            match self.stderr.read(&mut buffer) {
                Ok(0) => {
                    self.stderr_open = false;
                    return;
                }
                Ok(n) => {
                    let room = STDERR_KEPT.saturating_sub(self.stderr_said.len());
                    self.stderr_said.extend_from_slice(&buffer[..n.min(room)]);
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return,
                Err(_) => {
                    self.stderr_open = false;
                    return;
                }
            }
        }
    }

    /// Kills the worker if it still runs, reaps it and says how it ended.
    fn end(&mut self, protocol_error: Option<String>) -> Death {
        // A worker whose stream ended is exiting: give it a moment to become reapable, so
        // its own status is read rather than the SIGKILL sent here.
        let grace = match protocol_error {
            Some(_) => Duration::ZERO,
            None => Duration::from_millis(500),
        };
        let status = self.reap(grace);
        // The worker is gone, so what it wrote to stderr is all there; read it to the end.
        if self.stderr.set_nonblocking(false).is_ok() {
            let _ = self
                .stderr
                .set_read_timeout(Some(Duration::from_millis(200)));
            self.read_stderr();
        }
        let said = String::from_utf8_lossy(&self.stderr_said).into_owned();
        match protocol_error {
            Some(error) => Death::Crashed(error),
            None => classify(status, &said),
        }
    }

    /// Reaps the worker, killing it (SIGKILL) if it has not exited within `grace`; its
    /// exit status, if it could be had.
    pub fn reap(&mut self, grace: Duration) -> Option<ExitStatus> {
        if self.reaped {
            return None;
        }
        self.reaped = true;
        let until = Instant::now() + grace;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= until {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let _ = self.child.kill();
        self.child.wait().ok()
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        self.reap(Duration::ZERO);
    }
}

/// Rust prints why it aborts (a stack overflow, a failed allocation) before the signal; a
/// SIGKILL nobody here sent is the kernel's out-of-memory killer.
fn classify(status: Option<ExitStatus>, said: &str) -> Death {
    if said.contains("has overflowed its stack") {
        return Death::StackOverflow;
    }
    if said.contains("memory allocation of") || said.contains("out of memory") {
        return Death::OutOfMemory;
    }
    let how = match status {
        Some(status) if status.signal() == Some(9) => return Death::OutOfMemory,
        Some(status) => match status.signal() {
            Some(signal) => format!("signal {signal}"),
            None => format!("exit status {}", status.code().unwrap_or(-1)),
        },
        None => "status unknown".to_string(),
    };
    match said.lines().find(|line| !line.trim().is_empty()) {
        Some(line) => Death::Crashed(format!("{how}: {}", line.trim())),
        None => Death::Crashed(how),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deaths_are_told_apart_by_status_and_last_words() {
        let abort = Some(ExitStatus::from_raw(6));
        let overflow =
            "\nthread 'rewind-jq' has overflowed its stack\nfatal runtime error: stack overflow";
        assert_eq!(classify(abort, overflow), Death::StackOverflow);
        let oom = "memory allocation of 1073741824 bytes failed\n";
        assert_eq!(classify(abort, oom), Death::OutOfMemory);
        assert_eq!(
            classify(Some(ExitStatus::from_raw(9)), ""),
            Death::OutOfMemory
        );
        assert_eq!(
            classify(
                Some(ExitStatus::from_raw(2 << 8)),
                "error: unrecognized subcommand\n"
            ),
            Death::Crashed("exit status 2: error: unrecognized subcommand".into())
        );
    }
}
