//! Progress of long work (training, grids, basins, network planes, store chunks): a bar on standard error with
//! the rate and the time left. indicatif draws it only when standard error is a terminal, so
//! pipes, files and tests see nothing; `--quiet` turns it off everywhere.

use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Called once by `main` with `--quiet`.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// A bar for `total` units of `what` ("rows", "epochs", "chunks"), finished and cleared when
/// dropped.
pub fn bar(total: u64, what: &str) -> Bar {
    // Of an MPI job's ranks, rank 0 alone reports.
    if QUIET.load(Ordering::Relaxed) || !crate::ranks::current().leads() {
        return Bar(ProgressBar::hidden());
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(5));
    let template = format!(
        "{{spinner}} [{{elapsed_precise}}] {{bar:30}} {{pos}}/{{len}} {what} ({{per_sec}}, {{eta}} left)"
    );
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    Bar(bar)
}

/// A progress bar that clears itself when the work ends, however it ends.
pub struct Bar(ProgressBar);

impl Bar {
    /// Counts `n` more units done.
    pub fn inc(&self, n: u64) {
        self.0.inc(n);
    }

    /// Sets how many units are done (when others, such as other ranks, do some of them).
    pub fn set_position(&self, done: u64) {
        self.0.set_position(done);
    }

    /// Writes a line to standard error above the bar.
    pub fn note(&self, line: &str) {
        self.0.suspend(|| eprintln!("{line}"));
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}
