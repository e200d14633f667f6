use std::process::ExitCode;

use clap::Parser;
use rewind::cli::{self, Cli, Output};

/// Replay allocates many small values, often on one thread and freed on another;
/// mimalloc handles that pattern markedly faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // rewind runs jq programs in a copy of itself; that copy is told so before anything else.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|arg| arg == rewind::jq::WORKER_ARG)
    {
        let args: Vec<String> = std::env::args_os()
            .skip(2)
            .take(16)
            .map(|arg| arg.to_string_lossy().into_owned())
            .collect();
        return rewind::jq::worker_main(&args);
    }
    cli::panic::install_hook();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return cli::command_line_error(&err),
    };
    let mut out = Output::stdout();
    let result = cli::run(cli, &mut out).and_then(|code| out.flush().map(|()| code));
    cli::finish(result)
}
