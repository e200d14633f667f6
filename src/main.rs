use std::process::ExitCode;

use clap::Parser;
use rewind::cli::{self, Cli, Output};

fn main() -> ExitCode {
    cli::panic::install_hook();
    let cli = Cli::parse();
    let mut out = Output::stdout();
    let result = cli::run(cli, &mut out).and_then(|code| out.flush().map(|()| code));
    cli::finish(result)
}
