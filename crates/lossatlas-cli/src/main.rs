//! The `lossatlas` command.

use std::process::ExitCode;

use clap::Parser;

/// Writes a line to standard output and returns the `io::Result` instead of panicking when the
/// reader has gone away (`lossatlas analyze | head -1`); `main` turns that broken pipe into a quiet
/// exit 0, as ripgrep does.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

mod args;
mod commands;
mod output;
mod overlays;
mod problem;
mod settings;
mod web;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(exit_code(&error))
        }
    }
}

/// Whether the error is standard output's reader having gone away.
fn broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// 2 for anything the user can fix (bad input, bad flags, an output path that cannot be written),
/// 1 for failures of our own (the drawing backend failing).
fn exit_code(error: &anyhow::Error) -> u8 {
    let internal = error.chain().any(|cause| {
        matches!(cause.downcast_ref::<lossatlas_render::Error>(), Some(lossatlas_render::Error::Drawing(_)))
    });
    if internal {
        1
    } else {
        2
    }
}
