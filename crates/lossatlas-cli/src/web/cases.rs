//! What the interactive page can show: the teaching example's cases (SEED_FIGURES.md), each a
//! typed value, and the user's own problem, given with the same flags as `lossatlas contour`.
//! Both become a [`Scene`], which the page and the server draw alike.

use std::sync::Arc;

use anyhow::{bail, Result};
use lossatlas::{linear, Activation, Dataset, Formula, Loss, Objective, Transform};

use crate::args::{PlaneArgs, ProblemArgs};
use crate::problem::{self, Notes, Problem, Setup};

/// The model of a built-in case.
#[derive(Debug, Clone, Copy)]
pub enum CaseModel {
    /// The neuron y = act(k*x + b) on the teaching example's six points.
    Neuron(Activation),
    /// Figure 5: y = formula(x) with a = 1.2, b = 2.5 on 200 points of [-1, 1] plus N(0, 0.01)
    /// noise (seed 0), fitted by the same formula; `params` orders its parameters.
    Figure5 { formula: &'static str, params: &'static [&'static str] },
}

/// A built-in case: its problem, its range and where the optimizers start.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// The name in `--case` and in `/api/...?case=`.
    pub name: &'static str,
    /// One line for the case menu.
    pub title: &'static str,
    /// What is fitted.
    pub model: CaseModel,
    /// The (u, v) ranges drawn unless the user gives others.
    pub range: [(f64, f64); 2],
    /// The start point of the precomputed paths.
    pub start: [f64; 2],
    /// The precomputed paths of the static page.
    pub optimizers: &'static [&'static str],
    /// The learning rate the live page's slider starts at.
    pub lr: f64,
}

/// Every case, the default first.
pub const CASES: &[Case] = &[
    Case {
        name: "linear",
        title: "y = k*x + b on the teaching example's six points",
        model: CaseModel::Neuron(Activation::Identity),
        range: [(-1.0, 3.0), (-2.0, 5.0)],
        start: [2.5, -1.0],
        optimizers: &["gd:lr=0.05", "momentum:lr=0.02", "adam:lr=0.1"],
        lr: 0.05,
    },
    Case {
        name: "tanh",
        title: "y = tanh(k*x + b) on the teaching example's six points",
        model: CaseModel::Neuron(Activation::Tanh),
        range: [(-2.0, 4.0), (-4.0, 6.0)],
        start: [-1.5, -3.0],
        optimizers: &["gd:lr=0.3", "momentum:lr=0.05", "adam:lr=0.1"],
        lr: 0.1,
    },
    Case {
        name: "sigmoid",
        title: "y = sigmoid(k*x + b) on the teaching example's six points",
        model: CaseModel::Neuron(Activation::Sigmoid),
        range: [(-2.0, 4.0), (-4.0, 6.0)],
        start: [-1.5, -3.0],
        optimizers: &["gd:lr=0.3", "momentum:lr=0.05", "adam:lr=0.1"],
        lr: 0.1,
    },
    Case {
        name: "fig5-linear",
        title: "figure 5: y = a*x + b on 200 noisy points",
        model: CaseModel::Figure5 { formula: "a*x + b", params: &["a", "b"] },
        range: [(-2.0, 7.0), (-2.0, 7.0)],
        start: [5.0, 4.0],
        optimizers: &["gd:lr=0.1", "momentum:lr=0.1", "adam:lr=0.1"],
        lr: 0.1,
    },
    Case {
        name: "fig5-cubic",
        title: "figure 5: y = a*x^3 + b*x^2 on 200 noisy points",
        model: CaseModel::Figure5 { formula: "a*x^3 + b*x^2", params: &["a", "b"] },
        range: [(-2.0, 7.0), (-2.0, 7.0)],
        start: [5.0, 1.0],
        optimizers: &["gd:lr=0.1", "momentum:lr=0.1", "adam:lr=0.1"],
        lr: 0.1,
    },
    Case {
        name: "fig5-sincos",
        title: "figure 5: y = sin(b*cos(a*x)) on 200 noisy points",
        model: CaseModel::Figure5 { formula: "sin(b*cos(a*x))", params: &["a", "b"] },
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

impl Case {
    /// The data, model and loss.
    pub fn problem(&self) -> Result<Problem> {
        Ok(match self.model {
            CaseModel::Neuron(activation) => {
                Problem { data: Dataset::seed(), model: Arc::new(linear(activation)), loss: Loss::Mse }
            }
            CaseModel::Figure5 { formula, params } => {
                let model = Formula::parse_with_params(formula, params)?;
                let truth = [1.2, 2.5];
                let description = format!("200 points of {formula} + noise 0.1");
                let data =
                    Dataset::generate(description, |x| model.eval_at(&truth, x), 200, (-1.0, 1.0), 0.1, 0)?;
                Problem { data, model: Arc::new(model), loss: Loss::Mse }
            }
        })
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

/// One landscape the page can show: a built-in case or the user's own problem.
#[derive(Debug, Clone)]
pub struct Scene {
    /// The name in the case menu and in `/api/...?case=`.
    pub name: String,
    /// One line for the menu and the subtitle.
    pub title: String,
    /// What is fitted.
    pub problem: Problem,
    /// The plane through its parameters.
    pub plane: PlaneArgs,
    /// The seed of random directions.
    pub seed: u64,
    /// The built-in case, whose range and start are the defaults.
    pub case: Option<&'static Case>,
    /// The user's `--range` flags.
    pub ranges: Vec<String>,
    /// The optimizers of the static page's precomputed paths.
    pub optimizers: Vec<String>,
    /// The learning rate the live page's slider starts at.
    pub lr: f64,
}

/// The name of the user's own problem in the case menu.
pub const CUSTOM: &str = "yours";

impl Scene {
    /// A built-in case.
    pub fn builtin(case: &'static Case) -> Result<Scene> {
        Ok(Scene {
            name: case.name.into(),
            title: case.title.into(),
            problem: case.problem()?,
            plane: PlaneArgs::default_axes(),
            seed: 0,
            case: Some(case),
            ranges: Vec::new(),
            optimizers: case.optimizers.iter().map(|s| s.to_string()).collect(),
            lr: case.lr,
        })
    }

    /// The user's problem from the same flags as `lossatlas contour`.
    pub fn custom(args: &ProblemArgs, ranges: &[String]) -> Result<Scene> {
        let problem = Problem::from_args(args)?;
        let data = problem.data.name();
        let data = std::path::Path::new(data).file_name().and_then(|n| n.to_str()).unwrap_or(data);
        let title = format!("y = {} on {data} ({} rows)", problem.model.name(), problem.data.len());
        Ok(Scene {
            name: CUSTOM.into(),
            title,
            problem,
            plane: args.plane.clone(),
            seed: args.seed,
            case: None,
            ranges: ranges.to_vec(),
            optimizers: vec!["gd:lr=0.05".into(), "momentum:lr=0.02".into(), "adam:lr=0.1".into()],
            lr: 0.05,
        })
    }

    /// The scene `--case` and the problem flags ask for: the user's problem when any problem flag
    /// is given, else the named case (linear by default). Both at once is refused.
    pub fn chosen(case: Option<&str>, args: &ProblemArgs, ranges: &[String]) -> Result<Scene> {
        let own = *args != ProblemArgs::defaults();
        match (case, own) {
            (Some(name), true) => bail!(
                "--case `{name}` picks a built-in problem, but --data/--model/... describe your own; give one or the other"
            ),
            (None, true) => Scene::custom(args, ranges),
            (name, false) => {
                let mut scene = Scene::builtin(find(name.unwrap_or(CASES[0].name))?)?;
                scene.ranges = ranges.to_vec();
                Ok(scene)
            }
        }
    }

    /// Objective, plane and grid under `transform`, over `range` (the scene's when `None`): the
    /// user's `--range` flags, and the case's range for every axis they leave out.
    pub fn setup(
        &self,
        transform: Transform,
        range: Option<[(f64, f64); 2]>,
        resolution: usize,
        notes: Notes,
    ) -> Result<Setup> {
        Setup::build(self.problem.clone(), transform, &self.plane, self.seed, notes, |plane, objective| {
            let ranges = match range {
                Some([u, v]) => [Some(u), Some(v)],
                None => {
                    let mut given = problem::ranges(&self.ranges, plane)?;
                    if let Some(case) = self.case {
                        let widened = case.range_for(objective);
                        for (axis, default) in given.iter_mut().zip(widened) {
                            axis.get_or_insert(default);
                        }
                    }
                    given
                }
            };
            Ok((ranges, (resolution, resolution)))
        })
    }

    /// Where the paths start unless asked otherwise: the case's start, or a point near a corner of
    /// the drawn range, so a path has a way to go.
    pub fn start(&self, setup: &Setup) -> [f64; 2] {
        match self.case {
            Some(case) => case.start,
            None => {
                let (u, v) = (setup.grid.u(), setup.grid.v());
                [u.min() + 0.85 * (u.max() - u.min()), v.min() + 0.15 * (v.max() - v.min())]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_builds_with_two_named_parameters() {
        for case in CASES {
            let objective = case.problem().unwrap().objective(Transform::None).unwrap();
            assert_eq!(objective.n_params(), 2, "{}", case.name);
            let loss = objective.loss(&case.start);
            assert!(loss.is_finite(), "{}: loss at the start is {loss}", case.name);
        }
        let sincos = find("fig5-sincos").unwrap().problem().unwrap();
        assert_eq!(sincos.model.param_names(), ["a", "b"]);
        // The generated data are figure 5's: 200 points, y = sin(2.5 cos(1.2 x)) + noise.
        assert_eq!(sincos.data.len(), 200);
        assert!(find("nope").unwrap_err().to_string().contains("linear, tanh"));
    }

    #[test]
    fn the_range_widens_to_show_the_transformed_optimum() {
        let case = find("linear").unwrap();
        let objective = |t| case.problem().unwrap().objective(t).unwrap();
        assert_eq!(case.range_for(&objective(Transform::None)), case.range);
        // Min-max scaling of x = 0..5 multiplies the optimal slope by 5: k* = 4.13.
        let range = case.range_for(&objective(Transform::MinMax));
        assert!(range[0].1 > 4.5, "{range:?}");
    }
}
