//! One module per subcommand, each a short top-down script.

mod analyze;
mod basins;
mod compare;
mod contour;
mod descend;
mod grid;
mod maps;
pub(crate) mod net;
mod page;
mod serve;
mod store;
mod surface;
mod tour;

use anyhow::Result;

use crate::args::{Cli, Command, TourArgs};

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Some(Command::Contour(args)) => contour::run(&args),
        Some(Command::Compare(args)) => compare::run(&args),
        Some(Command::Surface(args)) => surface::run(&args),
        Some(Command::Descend(args)) => descend::run(&args),
        Some(Command::Analyze(args)) => analyze::run(&args),
        Some(Command::Basins(args)) => basins::run(&args),
        Some(Command::Tour(args)) => tour::run(&args),
        Some(Command::Page(args)) => page::run(&args),
        Some(Command::Serve(args)) => serve::run(&args),
        Some(Command::Net(command)) => net::run(command),
        Some(Command::Completions(args)) => completions(args.shell),
        Some(Command::Store(command)) => store::run(command),
        None => {
            eprintln!("no command given, so writing the tour; `lossatlas --help` lists the commands");
            tour::run(&TourArgs { out: "lossatlas-tour".into() })
        }
    }
}

/// Writes the completion script for `shell` to standard output.
fn completions(shell: clap_complete::Shell) -> Result<()> {
    use clap::CommandFactory;
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "lossatlas", &mut script);
    std::io::Write::write_all(&mut std::io::stdout().lock(), &script)?;
    Ok(())
}

/// Tells the user, on standard error, how much of a landscape has no finite loss.
fn warn_non_finite(landscape: &lossatlas::Landscape) {
    let bad = landscape.non_finite_count();
    if bad > 0 {
        let total = landscape.values().len();
        eprintln!(
            "note: {bad} of {total} grid points have no finite loss (overflow or an undefined \
             function value); they are left as gaps"
        );
    }
}

/// Refuses a landscape with no finite value at all: there is nothing to draw, and the user should
/// change the range or the model.
fn require_finite(landscape: &lossatlas::Landscape) -> anyhow::Result<()> {
    if landscape.finite_range().is_none() {
        anyhow::bail!(
            "the loss is not finite anywhere on this grid (e.g. the log of a negative number at every \
             point); change --range or the model"
        );
    }
    Ok(())
}

/// The default title of a figure: what is fitted, how the inputs were transformed, and, for a
/// model with more than two parameters, where the plane lies (the held values, or the random
/// directions' seed).
fn default_title(
    problem: &crate::problem::Problem,
    transform: lossatlas::Transform,
    plane: &lossatlas::Plane,
) -> String {
    let model = problem.model.name();
    let mut title = match transform {
        lossatlas::Transform::None => format!("{} of y = {model}", problem.loss),
        t => format!("{} of y = {model}, {}", problem.loss, t.description()),
    };
    let doc = plane.doc();
    match doc.kind {
        lossatlas::PlaneKind::Axes if doc.parameters.len() > 2 => {
            let held: Vec<String> = doc
                .parameters
                .iter()
                .zip(doc.origin)
                .filter(|(name, _)| !doc.axes.contains(name))
                .take(3)
                .map(|(name, value)| format!("{name} = {}", trimmed(*value)))
                .collect();
            let more = if doc.parameters.len() > 5 { ", ..." } else { "" };
            title.push_str(&format!(" ({}{more})", held.join(", ")));
        }
        lossatlas::PlaneKind::Random { seed } => title.push_str(&format!(" (random plane, seed {seed})")),
        _ => {}
    }
    title
}

/// Four decimals, for titles.
fn trimmed(v: f64) -> String {
    crate::settings::trimmed(v, 4, 3, (1e-3, 1e4))
}
