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
mod deferred;
mod output;
mod overlays;
mod problem;
mod progress;
mod ranks;
mod settings;
mod web;

fn main() -> ExitCode {
    output::delete_on_interrupt();
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
    };
    progress::set_quiet(cli.quiet);
    // MPI, when this is a rank of an MPI job, until the end of main.
    let _mpi = ranks::start();
    // A panic of ours must not leave the run's temporary files behind either.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| commands::run(cli)))
        .unwrap_or_else(|panic| {
            output::discard();
            std::panic::resume_unwind(panic)
        });
    // A reader that went away (`| head -1`) ends a run that did its work: its files are written.
    let finished = match outcome {
        Err(error) if !broken_pipe(&error) => Err(error),
        _ => output::commit(),
    };
    report_peak_memory();
    match finished {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            output::discard();
            eprintln!("error: {}", one_line(&message(&error)));
            ExitCode::from(exit_code(&error))
        }
    }
}

/// With `LOSSATLAS_REPORT_PEAK_MEMORY` set, writes the process's peak resident memory (Linux's
/// VmHWM) to standard error as `peak memory: N kB`: how the tests check that a large grid's
/// memory stays bounded by its chunk, measured by the process itself rather than by a timer.
fn report_peak_memory() {
    if std::env::var_os("LOSSATLAS_REPORT_PEAK_MEMORY").is_none() {
        return;
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    match status.lines().find_map(|l| l.strip_prefix("VmHWM:")) {
        Some(value) => eprintln!("peak memory: {}", value.trim()),
        None => eprintln!("peak memory: unknown (no /proc/self/status)"),
    }
}

/// The error and its causes as one message, each cause once: a library error that shows its
/// OS error and also gives it as its source would otherwise print it twice.
fn message(error: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

/// Prints clap's error as one line with where to look, and returns its exit code: 0 for `--help`
/// and `--version`, 2 for bad usage.
fn usage_error(error: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = error.print();
            return ExitCode::from(2);
        }
        _ => {}
    }
    // clap's message: a first line, the items it lists and its tips indented below it, then the
    // usage and a pointer to --help, which the hint replaces.
    let text = error.render().to_string();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("bad arguments");
    let mut line = first.strip_prefix("error: ").unwrap_or(first).to_string();
    let mut items = Vec::new();
    for rest in lines {
        if rest.starts_with("Usage:") || rest.starts_with("For more information") {
            continue;
        }
        match rest.strip_prefix("tip: ") {
            Some(tip) => line = format!("{line}; {tip}"),
            None => items.push(rest),
        }
    }
    if !items.is_empty() {
        line = format!("{line} {}", items.join(", "));
    }
    let command = <args::Cli as clap::CommandFactory>::command();
    let sub = std::env::args()
        .skip(1)
        .find(|a| command.get_subcommands().any(|s| s.get_name() == a))
        .map(|s| format!(" {s}"))
        .unwrap_or_default();
    eprintln!("error: {}; see `lossatlas{sub} --help`", one_line(&shorten_quoted(&line, '\'')));
    ExitCode::from(2)
}

/// The longest echoed input, in characters, a message shows whole.
const ECHO_CHARS: usize = 80;

/// `message` fit for one terminal line: inputs echoed between backticks cut to [`ECHO_CHARS`],
/// control characters (a newline, an escape sequence) shown escaped, and the whole kept to a few
/// hundred characters.
fn one_line(message: &str) -> String {
    let text: String = shorten_quoted(message, '`')
        .chars()
        .flat_map(|c| if c.is_control() { c.escape_default().collect::<Vec<_>>() } else { vec![c] })
        .collect();
    match text.char_indices().nth(4 * ECHO_CHARS + 200) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

/// `text` with every part between a pair of `quote`s longer than [`ECHO_CHARS`] cut short.
fn shorten_quoted(text: &str, quote: char) -> String {
    let mut out = String::with_capacity(text.len().min(4096));
    for (k, part) in text.split(quote).enumerate() {
        if k > 0 {
            out.push(quote);
        }
        let quoted = k % 2 == 1;
        match part.char_indices().nth(ECHO_CHARS) {
            Some((cut, _)) if quoted => {
                out.push_str(&part[..cut]);
                out.push_str("...");
            }
            _ => out.push_str(part),
        }
    }
    out
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
