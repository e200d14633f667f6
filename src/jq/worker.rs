//! The jq worker process: `rewind __jq-worker`, started by an `Evaluator`, runs one program
//! on the jobs it reads from stdin and answers on stdout (see `protocol`).
//!
//! It bounds itself before reading anything: no core dumps, a limit on its writable memory
//! of the budget over what it holds at start (RLIMIT_DATA, which counts what mimalloc
//! commits), evaluation on a thread with a big stack. A program that exhausts either kills
//! only this process (a failed allocation aborts); the parent reports the step.

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use jaq_json::Val;
use rustix::process::{setrlimit, Resource, Rlimit};

use super::convert::{self, Refusal};
use super::packed;
use super::program::{compile, Program};
use super::protocol::{self, Reply, Request, Step};

/// The first argument that makes the rewind executable a jq worker.
pub const WORKER_ARG: &str = "__jq-worker";
/// Changes with the protocol, so a rewind of another build is told apart from a bug.
const PROTOCOL: u64 = 2;
/// Deep recursion in a jq program uses the Rust stack; give it room.
const EVAL_STACK: usize = 256 << 20;
/// A worker exits this way when its input makes no sense (not a rewind parent).
const EXIT_PROTOCOL: u8 = 3;
/// Or when its arguments or limits cannot be set up.
const EXIT_SETUP: u8 = 4;

/// How the parent starts a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerArgs {
    pub memory_bytes: u64,
    pub max_frame: usize,
    /// How often progress is reported while a job runs.
    pub heartbeat: Duration,
}

impl WorkerArgs {
    pub fn to_args(self) -> Vec<String> {
        vec![
            WORKER_ARG.into(),
            "--protocol".into(),
            PROTOCOL.to_string(),
            "--memory".into(),
            self.memory_bytes.to_string(),
            "--max-frame".into(),
            self.max_frame.to_string(),
            "--heartbeat-us".into(),
            self.heartbeat.as_micros().to_string(),
        ]
    }

    fn parse(args: &[String]) -> Option<WorkerArgs> {
        let value = |name: &str| -> Option<u64> {
            let at = args.iter().position(|a| a == name)?;
            args.get(at + 1)?.parse().ok()
        };
        Some(WorkerArgs {
            memory_bytes: value("--memory")?,
            max_frame: usize::try_from(value("--max-frame")?).ok()?,
            heartbeat: Duration::from_micros(value("--heartbeat-us")?.max(100)),
        })
    }
}

/// `rewind __jq-worker …`: `args` are the ones after `__jq-worker`.
pub fn worker_main(args: &[String]) -> ExitCode {
    let protocol = args
        .iter()
        .position(|a| a == "--protocol")
        .and_then(|at| args.get(at + 1));
    if protocol.is_some_and(|p| *p != PROTOCOL.to_string()) {
        eprintln!(
            "rewind: this rewind's jq worker speaks protocol {PROTOCOL}, not {}: it is from \
             another build (rebuild it, or set {})",
            protocol.map_or("", String::as_str),
            super::WORKER_EXE_VAR
        );
        return ExitCode::from(EXIT_SETUP);
    }
    let Some(options) = WorkerArgs::parse(args) else {
        eprintln!("rewind: {WORKER_ARG} is started by rewind itself, not by hand");
        return ExitCode::from(EXIT_SETUP);
    };
    // A crash here is expected and reported by the parent; a core file would only litter.
    let _ = setrlimit(
        Resource::Core,
        Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    );
    // Steps finished in the current job, tagged with the job's number (high 32 bits).
    let progress = Arc::new(AtomicU64::new(0));
    let (go, wait) = mpsc::channel::<()>();
    let (started, running) = mpsc::channel::<()>();
    let counter = progress.clone();
    let ready = started.clone();
    let evaluation = std::thread::Builder::new()
        .name("rewind-jq".into())
        .stack_size(EVAL_STACK)
        .spawn(move || {
            let _ = ready.send(());
            match wait.recv() {
                Ok(()) => serve(&counter, options.max_frame),
                Err(_) => ExitCode::from(EXIT_SETUP),
            }
        });
    let Ok(evaluation) = evaluation else {
        eprintln!("rewind: the jq worker cannot start its evaluation thread");
        return ExitCode::from(EXIT_SETUP);
    };
    let beat = std::thread::Builder::new()
        .name("rewind-jq-beat".into())
        .spawn(move || {
            let _ = started.send(());
            heartbeat(&progress, options.heartbeat)
        });
    // Both threads running first: their stacks (and signal stacks, mapped as a thread
    // starts) count in the baseline, not in the budget.
    if beat.is_err() || running.recv().and_then(|()| running.recv()).is_err() {
        eprintln!("rewind: the jq worker cannot start its threads");
        return ExitCode::from(EXIT_SETUP);
    }
    if let Err(err) = limit_memory(options.memory_bytes) {
        eprintln!("rewind: the jq worker cannot limit its memory: {err}");
        return ExitCode::from(EXIT_SETUP);
    }
    if go.send(()).is_err() {
        return ExitCode::from(EXIT_SETUP);
    }
    evaluation
        .join()
        .unwrap_or_else(|_| ExitCode::from(EXIT_PROTOCOL))
}

/// Caps writable private memory at what is mapped now plus `budget`, so the heap can grow
/// by about `budget` before an allocation fails (and the worker aborts).
fn limit_memory(budget: u64) -> std::io::Result<()> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let data_kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmData:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| std::io::Error::other("no VmData in /proc/self/status"))?;
    let limit = data_kb.saturating_mul(1024).saturating_add(budget);
    setrlimit(
        Resource::Data,
        Rlimit {
            current: Some(limit),
            maximum: Some(limit),
        },
    )?;
    Ok(())
}

/// Reports progress while a job runs, and ends the worker if rewind is gone (a worker
/// stuck in a step would otherwise outlive it).
fn heartbeat(progress: &AtomicU64, every: Duration) {
    let parent = std::os::unix::process::parent_id();
    let mut sent = 0;
    loop {
        std::thread::sleep(every);
        if std::os::unix::process::parent_id() != parent {
            std::process::exit(0);
        }
        let now = progress.load(Ordering::Acquire);
        if now != sent && now & u64::from(u32::MAX) != 0 {
            sent = now;
            let reply = Reply::Progress(now);
            if send(&reply).is_err() {
                std::process::exit(0);
            }
        }
    }
}

/// Writes one reply as a whole frame; stdout's lock keeps the heartbeat's frames apart.
fn send(reply: &Reply) -> std::io::Result<()> {
    let frame = protocol::encode_reply(reply);
    let mut out = std::io::stdout().lock();
    out.write_all(&frame)?;
    out.flush()
}

/// Compiles the program, then runs jobs until stdin ends.
fn serve(progress: &AtomicU64, max_frame: usize) -> ExitCode {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let Ok(Some(frame)) = protocol::read_frame(&mut input, max_frame) else {
        return ExitCode::from(EXIT_PROTOCOL);
    };
    let Ok(Request::Program { origin, code }) = protocol::decode_request(&frame) else {
        return ExitCode::from(EXIT_PROTOCOL);
    };
    let program = match compile(code, origin) {
        Ok(program) => program,
        Err(err) => {
            let text = match err {
                super::JqError::Compile(text) => text,
                other => other.to_string(),
            };
            let _ = send(&Reply::Compiled(Err(text)));
            return ExitCode::SUCCESS;
        }
    };
    if send(&Reply::Compiled(Ok(()))).is_err() {
        return ExitCode::SUCCESS;
    }
    // Kept between folds, so a fold that goes on from the last one parses no state; gone
    // when the last one's could not be handed back, so nothing goes on from it.
    let mut state: Option<Val> = None;
    let mut job: u64 = 0;
    let max_text = max_frame.saturating_sub(1 << 16);
    loop {
        let frame = match protocol::read_frame(&mut input, max_frame) {
            Ok(Some(frame)) => frame,
            Ok(None) => return ExitCode::SUCCESS,
            Err(_) => return ExitCode::from(EXIT_PROTOCOL),
        };
        job += 1;
        progress.store(job << 32, Ordering::Release);
        let reply = match protocol::decode_request(&frame) {
            Ok(Request::Fold {
                state: given,
                events,
                marks,
            }) => {
                let start = match given.map(convert::parse) {
                    None => state
                        .take()
                        .ok_or_else(|| "no state to go on from".to_string()),
                    Some(parsed) => {
                        parsed.map_err(|err| format!("the state does not parse: {err}"))
                    }
                };
                match start {
                    Ok(start) => {
                        let fold = fold_job(&program, start, &events, &marks, max_text, progress);
                        state = fold.end;
                        Reply::Folded {
                            steps: fold.steps,
                            states: fold.states,
                        }
                    }
                    Err(why) => Reply::Folded {
                        steps: vec![Step::Failed(why.clone()); events.len()],
                        states: vec![Err(why); marks.len()],
                    },
                }
            }
            Ok(Request::Map { items }) => {
                // The outputs of one job share the room a frame has.
                let mut room = max_text;
                let outputs = items
                    .iter()
                    .map(|(input, event)| {
                        let output = run_one(&program, input, event, room, max_text);
                        room -= output.as_ref().map_or(0, String::len);
                        progress.fetch_add(1, Ordering::Release);
                        output
                    })
                    .collect();
                Reply::Mapped { outputs }
            }
            Ok(Request::Program { .. }) | Err(_) => return ExitCode::from(EXIT_PROTOCOL),
        };
        if send(&reply).is_err() {
            return ExitCode::SUCCESS;
        }
    }
}

fn run_one(
    program: &Program,
    input: &[u8],
    event: &[u8],
    room: usize,
    max_text: usize,
) -> Result<String, String> {
    let input = convert::parse(input).map_err(|err| format!("the input does not parse: {err}"))?;
    let event = parse_event(event)?;
    let output = program.run_val(input, event)?;
    convert::to_json(&output, room).map_err(|refusal: Refusal| refusal.describe("output", max_text))
}

fn parse_event(text: &[u8]) -> Result<Val, String> {
    match text.split_first() {
        Some((&packed::MARK, fields)) => packed::unpack(fields),
        _ => convert::parse(text),
    }
    .map_err(|err| format!("$event does not parse: {err}"))
}

struct Fold {
    steps: Vec<Step>,
    /// The state at each mark, as JSON text.
    states: Vec<Result<String, String>>,
    /// The final state, unless it could not be handed back.
    end: Option<Val>,
}

/// Folds one job's events. The state is handed to the program by value, so jaq updates it
/// in place instead of copying it for every event. A failing step consumes that value, so
/// the state before it is rebuilt by replaying the job's earlier steps (programs are
/// deterministic: no clock, no input); from then on the job keeps a copy before each step.
fn fold_job(
    program: &Program,
    start: Val,
    events: &[Option<&[u8]>],
    marks: &[usize],
    max_text: usize,
    progress: &AtomicU64,
) -> Fold {
    // A reference to the start (cheap: jaq values are reference-counted) for the replay.
    let first = start.clone();
    let mut val = start;
    let mut steps = Vec::with_capacity(events.len());
    let mut states = Vec::with_capacity(marks.len());
    let mut marks = marks.iter().peekable();
    let mut careful = false;
    let mut handed_back = true;
    // What the states of one job may take together, so the reply fits in a frame.
    let mut room = max_text;
    let mut hand_back = |val: &Val, states: &mut Vec<Result<String, String>>| {
        let text = convert::to_json(val, room).map_err(|r| r.describe("state", max_text));
        room -= text.as_ref().map_or(0, String::len);
        handed_back &= text.is_ok();
        states.push(text);
    };
    if marks.next_if_eq(&&0).is_some() {
        hand_back(&val, &mut states);
    }
    for (i, event) in events.iter().enumerate() {
        let step = match event.map(parse_event) {
            None => Step::Skipped,
            Some(Err(err)) => Step::Failed(err),
            Some(Ok(event)) if careful => match program.run_val(val.clone(), event) {
                Ok(next) => {
                    val = next;
                    Step::Done
                }
                Err(err) => Step::Failed(err),
            },
            Some(Ok(event)) => match program.run_val(std::mem::take(&mut val), event) {
                Ok(next) => {
                    val = next;
                    Step::Done
                }
                Err(err) => {
                    val = replay_done(program, &first, &events[..i], &steps);
                    careful = true;
                    Step::Failed(err)
                }
            },
        };
        progress.fetch_add(1, Ordering::Release);
        steps.push(step);
        if marks.next_if_eq(&&(i + 1)).is_some() {
            hand_back(&val, &mut states);
        }
    }
    Fold {
        steps,
        states,
        end: handed_back.then_some(val),
    }
}

/// The state after the steps that were applied, computed again from the job's start.
fn replay_done(program: &Program, start: &Val, events: &[Option<&[u8]>], steps: &[Step]) -> Val {
    let mut val = start.clone();
    for (event, step) in events.iter().zip(steps) {
        if let (Some(event), Step::Done) = (event, step) {
            if let Ok(next) = parse_event(event).and_then(|e| program.run_val(val.clone(), e)) {
                val = next;
            }
        }
    }
    val
}
