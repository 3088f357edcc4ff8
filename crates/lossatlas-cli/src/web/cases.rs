//! The seed's cases (SEED_FIGURES.md) that the interactive page can switch between: the note's
//! neuron on its six points, and figure 5's three models on generated data.

use anyhow::{bail, Context, Result};
use clap::Parser;
use lossatlas::{Objective, Transform};

use crate::args::ProblemArgs;
use crate::settings::{self, Problem};

/// One case: a problem given as the command-line flags that describe it (so the page draws exactly
/// what `lossatlas contour ...` with the same flags draws), its range and where the optimizers start.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// The name in `--case` and in `/api/...?case=`.
    pub name: &'static str,
    /// One line for the case menu.
    pub title: &'static str,
    /// The problem flags.
    pub flags: &'static [&'static str],
    /// The (u, v) ranges drawn unless the user gives others.
    pub range: [(f64, f64); 2],
    /// The start point of the precomputed paths.
    pub start: [f64; 2],
    /// The precomputed paths of the static page.
    pub optimizers: &'static [&'static str],
    /// The learning rate the live page's slider starts at.
    pub lr: f64,
}

const FIG5: &[&str] = &["--true", "a=1.2,b=2.5", "--samples", "200", "--noise", "0.1", "--seed", "0"];

/// Every case, the default first.
pub const CASES: &[Case] = &[
    Case {
        name: "linear",
        title: "y = k*x + b on the seed's six points",
        flags: &[],
        range: [(-1.0, 3.0), (-2.0, 5.0)],
        start: [2.5, -1.0],
        optimizers: &["gd:lr=0.05", "momentum:lr=0.02", "adam:lr=0.1"],
        lr: 0.05,
    },
    Case {
        name: "tanh",
        title: "y = tanh(k*x + b) on the seed's six points",
        flags: &["--activation", "tanh"],
        range: [(-2.0, 4.0), (-4.0, 6.0)],
        start: [-1.5, -3.0],
        optimizers: &["gd:lr=0.3", "momentum:lr=0.05", "adam:lr=0.1"],
        lr: 0.1,
    },
    Case {
        name: "sigmoid",
        title: "y = sigmoid(k*x + b) on the seed's six points",
        flags: &["--activation", "sigmoid"],
        range: [(-2.0, 4.0), (-4.0, 6.0)],
        start: [-1.5, -3.0],
        optimizers: &["gd:lr=0.3", "momentum:lr=0.05", "adam:lr=0.1"],
        lr: 0.1,
    },
    Case {
        name: "fig5-linear",
        title: "figure 5: y = a*x + b on 200 noisy points",
        flags: &["--generate", "a*x + b", "--model", "a*x + b"],
        range: [(-2.0, 7.0), (-2.0, 7.0)],
        start: [5.0, 4.0],
        optimizers: &["gd:lr=0.1", "momentum:lr=0.1", "adam:lr=0.1"],
        lr: 0.1,
    },
    Case {
        name: "fig5-cubic",
        title: "figure 5: y = a*x^3 + b*x^2 on 200 noisy points",
        flags: &["--generate", "a*x^3 + b*x^2", "--model", "a*x^3 + b*x^2"],
        range: [(-2.0, 7.0), (-2.0, 7.0)],
        start: [5.0, 1.0],
        optimizers: &["gd:lr=0.1", "momentum:lr=0.1", "adam:lr=0.1"],
        lr: 0.1,
    },
    Case {
        name: "fig5-sincos",
        title: "figure 5: y = sin(b*cos(a*x)) on 200 noisy points",
        flags: &["--generate", "sin(b*cos(a*x))", "--model", "sin(b*cos(a*x))", "--params", "a,b"],
        range: [(-2.0, 7.0), (-2.0, 7.0)],
        start: [2.0, 4.5],
        optimizers: &["gd:lr=0.1", "momentum:lr=0.1", "adam:lr=0.1"],
        lr: 0.1,
    },
];

/// The case called `name`, or an error that lists the names.
pub fn find(name: &str) -> Result<&'static Case> {
    match CASES.iter().find(|c| c.name == name) {
        Some(case) => Ok(case),
        None => bail!("unknown case `{name}`; the cases are {}", names().join(", ")),
    }
}

/// The case names, in menu order.
pub fn names() -> Vec<&'static str> {
    CASES.iter().map(|c| c.name).collect()
}

/// Parses a case's flags with the same parser the subcommands use.
#[derive(Debug, Parser)]
#[command(no_binary_name = true)]
struct CaseFlags {
    #[command(flatten)]
    problem: ProblemArgs,
}

impl Case {
    /// The data, model and loss.
    pub fn problem(&self) -> Result<Problem> {
        let mut flags: Vec<&str> = self.flags.to_vec();
        if flags.contains(&"--generate") {
            flags.extend(FIG5);
        }
        let parsed =
            CaseFlags::try_parse_from(flags).with_context(|| format!("case `{}`: bad flags", self.name))?;
        settings::problem(&parsed.problem)
    }

    /// The objective under `transform`.
    pub fn objective(&self, transform: Transform) -> Result<Objective> {
        self.problem()?.objective(transform)
    }

    /// The case's range, widened so that it shows the least-squares optimum when the objective has
    /// one in closed form (a transform moves it: min-max scaling multiplies the seed's slope by 5).
    pub fn range_for(&self, objective: &Objective) -> [(f64, f64); 2] {
        let mut range = self.range;
        if let Some((s, c)) = objective.quadratic().and_then(|q| q.optimum()) {
            let (is, ic) = objective.quadratic().map(|q| q.indices()).unwrap_or((0, 1));
            let mut at = [0.0; 2];
            at[is.min(1)] = s;
            at[ic.min(1)] = c;
            for (axis, value) in range.iter_mut().zip(at) {
                let span = axis.1 - axis.0;
                if value < axis.0 + 0.1 * span {
                    axis.0 = (value - 0.25 * span).floor();
                }
                if value > axis.1 - 0.1 * span {
                    axis.1 = (value + 0.25 * span).ceil();
                }
            }
        }
        range
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_builds_with_two_named_parameters() {
        for case in CASES {
            let objective = case.objective(Transform::None).unwrap();
            assert_eq!(objective.n_params(), 2, "{}", case.name);
            let loss = objective.loss(&case.start);
            assert!(loss.is_finite(), "{}: loss at the start is {loss}", case.name);
        }
        assert_eq!(
            find("fig5-sincos").unwrap().objective(Transform::None).unwrap().param_names(),
            ["a", "b"]
        );
        assert!(find("nope").unwrap_err().to_string().contains("linear, tanh"));
    }

    #[test]
    fn the_range_widens_to_show_the_transformed_optimum() {
        let case = find("linear").unwrap();
        assert_eq!(case.range_for(&case.objective(Transform::None).unwrap()), case.range);
        // Min-max scaling of x = 0..5 multiplies the optimal slope by 5: k* = 4.13.
        let range = case.range_for(&case.objective(Transform::MinMax).unwrap());
        assert!(range[0].1 > 4.5, "{range:?}");
    }
}
