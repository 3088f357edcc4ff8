//! Running an optimizer from a start point and recording every step.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};
use crate::objective::Objective;
use crate::optim::OptimizerSpec;

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// It took the maximum number of steps.
    MaxSteps,
    /// The full-batch gradient norm fell below the tolerance.
    Converged,
    /// A parameter, the loss or the gradient stopped being finite, or the loss grew past the
    /// divergence bound. A normal outcome (a learning rate above 2 / lambda_max does this), not an error.
    Diverged,
}

impl Stopped {
    /// The name in exports: `max_steps`, `converged` or `diverged`.
    pub fn name(self) -> &'static str {
        match self {
            Stopped::MaxSteps => "max_steps",
            Stopped::Converged => "converged",
            Stopped::Diverged => "diverged",
        }
    }
}

/// One recorded step: the parameters before the update and the full-batch loss and gradient there.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// 0 for the start point.
    pub step: usize,
    /// The parameters.
    pub params: Vec<f64>,
    /// The full-batch loss.
    pub loss: f64,
    /// The full-batch gradient.
    pub grad: Vec<f64>,
}

/// When to stop, and how to batch.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    /// Update steps to take at most (>= 1).
    pub max_steps: usize,
    /// Stop when the gradient norm is below this (0 = never).
    pub tolerance: f64,
    /// Declare divergence when the loss exceeds `divergence_factor * (1 + initial loss)`.
    pub divergence_factor: f64,
    /// Mini-batches of this size, reshuffled every epoch by a seeded generator; `None` = full batch.
    pub batch: Option<Batch>,
}

/// Mini-batch settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batch {
    /// Samples per batch.
    pub size: usize,
    /// The shuffling seed.
    pub seed: u64,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions { max_steps: 400, tolerance: 1e-8, divergence_factor: 1e10, batch: None }
    }
}

/// An optimizer's path.
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory {
    spec: OptimizerSpec,
    steps: Vec<Step>,
    stopped: Stopped,
    batch: Option<Batch>,
}

impl Trajectory {
    /// The optimizer and its settings.
    pub fn spec(&self) -> &OptimizerSpec {
        &self.spec
    }

    /// Every recorded step, the start first. A diverged run ends with the first non-finite or
    /// out-of-bound step.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Why it stopped.
    pub fn stopped(&self) -> Stopped {
        self.stopped
    }

    /// The mini-batch settings, if any.
    pub fn batch(&self) -> Option<Batch> {
        self.batch
    }

    /// The last step.
    pub fn last(&self) -> &Step {
        self.steps.last().expect("a trajectory has at least its start")
    }
}

/// Runs `spec` from `start` on `objective`.
pub fn run(
    objective: &Objective,
    spec: &OptimizerSpec,
    start: &[f64],
    options: &RunOptions,
) -> Result<Trajectory> {
    let n = objective.n_params();
    if start.len() != n {
        return Err(Error::Invalid(format!(
            "start point has {} coordinate(s) but the model has {n} parameters ({})",
            start.len(),
            objective.param_names().join(", ")
        )));
    }
    if options.max_steps == 0 {
        return Err(Error::Invalid("the number of steps must be at least 1".into()));
    }
    if let Some(batch) = options.batch {
        if batch.size == 0 || batch.size > objective.data().len() {
            return Err(Error::Invalid(format!(
                "batch size {} must be between 1 and the number of samples ({})",
                batch.size,
                objective.data().len()
            )));
        }
    }
    let mut optimizer = spec.build(n);
    let mut theta = start.to_vec();
    let mut steps = Vec::with_capacity(options.max_steps + 1);
    let mut rng = options.batch.map(|b| ChaCha8Rng::seed_from_u64(b.seed));
    let mut order: Vec<usize> = (0..objective.data().len()).collect();
    let mut cursor = order.len();
    let mut bound = f64::INFINITY;
    let finite = |v: &[f64]| v.iter().all(|x| x.is_finite());
    for step in 0..=options.max_steps {
        let (loss, grad) = objective.gradient(&theta);
        if step == 0 {
            bound = options.divergence_factor * (1.0 + loss.abs());
        }
        let diverged = !(loss.is_finite() && finite(&grad) && finite(&theta)) || loss > bound;
        let gnorm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
        steps.push(Step { step, params: theta.clone(), loss, grad: grad.clone() });
        if diverged {
            return Ok(Trajectory {
                spec: spec.clone(),
                steps,
                stopped: Stopped::Diverged,
                batch: options.batch,
            });
        }
        if gnorm < options.tolerance {
            return Ok(Trajectory {
                spec: spec.clone(),
                steps,
                stopped: Stopped::Converged,
                batch: options.batch,
            });
        }
        if step == options.max_steps {
            break;
        }
        let update_grad = match (&mut rng, options.batch) {
            (Some(rng), Some(batch)) => {
                if cursor + batch.size > order.len() {
                    order.shuffle(rng);
                    cursor = 0;
                }
                let subset = objective.data().select(&order[cursor..cursor + batch.size]);
                cursor += batch.size;
                objective.gradient_on(&subset, &theta).1
            }
            _ => grad,
        };
        optimizer.step(&mut theta, &update_grad);
    }
    Ok(Trajectory { spec: spec.clone(), steps, stopped: Stopped::MaxSteps, batch: options.batch })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{linear, Activation, Dataset, Loss};

    fn seed() -> Objective {
        Objective::new(Dataset::seed(), Arc::new(linear(Activation::Identity)), Loss::Mse)
    }

    #[test]
    fn gd_reaches_the_closed_form_optimum() {
        let obj = seed();
        let spec = OptimizerSpec::parse("gd:lr=0.1").unwrap();
        let options = RunOptions { max_steps: 20_000, tolerance: 1e-12, ..RunOptions::default() };
        let t = run(&obj, &spec, &[0.0, 0.0], &options).unwrap();
        assert_eq!(t.stopped(), Stopped::Converged);
        let p = &t.last().params;
        assert!((p[0] - 0.825_714_285_714_285_7).abs() < 1e-10, "{p:?}");
        assert!((p[1] - 1.485_714_285_714_285_7).abs() < 1e-10, "{p:?}");
    }

    #[test]
    fn first_step_is_the_hand_gradient_step() {
        // At (0, 0): residuals -y, gradient (2/m sum x r, 2/m sum r) = (-2 * 67.7 / 6, -2 * 21.3 / 6).
        let t =
            run(&seed(), &OptimizerSpec::parse("gd:lr=0.1").unwrap(), &[0.0, 0.0], &RunOptions::default())
                .unwrap();
        let g = &t.steps()[0].grad;
        assert!((g[0] + 135.4 / 6.0).abs() < 1e-12 && (g[1] + 42.6 / 6.0).abs() < 1e-12);
        let p1 = &t.steps()[1].params;
        assert!((p1[0] - 13.54 / 6.0).abs() < 1e-12 && (p1[1] - 4.26 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn learning_rate_one_diverges_and_says_where() {
        let t = run(&seed(), &OptimizerSpec::parse("gd:lr=1").unwrap(), &[0.0, 0.0], &RunOptions::default())
            .unwrap();
        assert_eq!(t.stopped(), Stopped::Diverged);
        // |1 - lambda_max| = 18.7 per step: the loss grows ~350x a step past 1e10 (1 + L0) in a few.
        assert!(t.steps().len() < 10, "{}", t.steps().len());
    }

    #[test]
    fn mini_batches_are_reproducible() {
        let data = Dataset::generate("g", |x| 1.2 * x + 2.5, 200, (-1.0, 1.0), 0.1, 0).unwrap();
        let obj = Objective::new(data, Arc::new(linear(Activation::Identity)), Loss::Mse);
        let spec = OptimizerSpec::parse("adam:lr=0.05").unwrap();
        let options =
            RunOptions { max_steps: 300, batch: Some(Batch { size: 16, seed: 9 }), ..RunOptions::default() };
        let a = run(&obj, &spec, &[5.0, 1.0], &options).unwrap();
        let b = std::thread::spawn({
            let (obj, spec, options) = (obj.clone(), spec.clone(), options.clone());
            move || run(&obj, &spec, &[5.0, 1.0], &options).unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(a, b);
        let p = &a.last().params;
        assert!((p[0] - 1.2).abs() < 0.1 && (p[1] - 2.5).abs() < 0.1, "{p:?}");
        let other = RunOptions { batch: Some(Batch { size: 16, seed: 10 }), ..options };
        assert_ne!(run(&obj, &spec, &[5.0, 1.0], &other).unwrap(), a);
    }

    #[test]
    fn bad_runs_are_refused() {
        let spec = OptimizerSpec::parse("gd").unwrap();
        let e = run(&seed(), &spec, &[1.0], &RunOptions::default()).unwrap_err().to_string();
        assert!(e.contains("1 coordinate") && e.contains("k, b"), "{e}");
        let zero = RunOptions { max_steps: 0, ..RunOptions::default() };
        assert!(run(&seed(), &spec, &[1.0, 1.0], &zero).unwrap_err().to_string().contains("at least 1"));
    }
}
