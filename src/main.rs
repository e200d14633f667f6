use std::process::ExitCode;

use clap::Parser;
use rewind::cli::{self, Cli, Output};

/// Replay allocates many small values, often on one thread and freed on another (the jq
/// worker); mimalloc handles that pattern markedly faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    cli::panic::install_hook();
    let cli = Cli::parse();
    let mut out = Output::stdout();
    let result = cli::run(cli, &mut out).and_then(|code| out.flush().map(|()| code));
    cli::finish(result)
}
