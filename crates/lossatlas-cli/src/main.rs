//! The `lossatlas` command.

use std::process::ExitCode;

use clap::Parser;

mod args;
mod commands;
mod output;
mod overlays;
mod settings;
mod web;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(exit_code(&error))
        }
    }
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
