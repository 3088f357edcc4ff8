//! The best point of a model with any number of parameters, found without a grid: where a plane
//! is centred when the user does not say (`--at`), and where an analysis of the full parameter
//! space starts.
//!
//! L-BFGS with a backtracking (Armijo) line search needs only exact gradients, which every model
//! has at the cost of a few evaluations, so it scales to hundreds of parameters; a model small
//! enough for its exact Hessian is then polished by Newton's method
//! ([`crate::analysis::newton`]), which converges to machine precision in a few steps.

use crate::analysis::{newton, Minimum, MinimumMethod};
use crate::objective::Objective;

/// Largest parameter count whose exact Hessian the polish computes (n^2 second derivatives).
pub const NEWTON_POLISH_MAX_PARAMS: usize = 64;

/// L-BFGS iterations per start.
const MAX_ITERATIONS: usize = 2000;
/// Curvature pairs kept.
const HISTORY: usize = 10;

/// The lowest loss reached from a few fixed starts (all parameters 0, then 1, 0.5 and -1: the
/// origin is often a saddle or undefined, as for `A*exp(-r*x)`), or `None` if no start has a finite
/// loss. Deterministic: the same objective gives the same point.
pub fn best_point(objective: &Objective) -> Option<Minimum> {
    let n = objective.n_params();
    if let Some(q) = objective.quadratic() {
        if let Some((s, c)) = q.optimum() {
            let (si, ci) = q.indices();
            let mut theta = vec![0.0; n];
            theta[si] = s;
            theta[ci] = c;
            let loss = objective.loss(&theta);
            return Some(Minimum { theta, loss, method: MinimumMethod::ClosedForm });
        }
    }
    let mut best: Option<Minimum> = None;
    for start in [0.0, 1.0, 0.5, -1.0] {
        let Some(found) = minimize_from(objective, vec![start; n]) else { continue };
        if best.as_ref().is_none_or(|b| found.loss < b.loss) {
            best = Some(found);
        }
    }
    best
}

/// L-BFGS from `start`, then a Newton polish for small models. `None` if the start's loss is
/// not finite.
pub fn minimize_from(objective: &Objective, start: Vec<f64>) -> Option<Minimum> {
    let (theta, loss, iterations) = lbfgs(objective, start)?;
    if objective.n_params() <= NEWTON_POLISH_MAX_PARAMS {
        let (polished, polished_loss, steps) = newton(objective, theta.clone());
        if polished_loss.is_finite() && polished_loss <= loss {
            return Some(Minimum {
                theta: polished,
                loss: polished_loss,
                method: MinimumMethod::Search { iterations: iterations + steps },
            });
        }
    }
    Some(Minimum { theta, loss, method: MinimumMethod::Search { iterations } })
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Limited-memory BFGS (Nocedal and Wright, algorithm 7.4) with Armijo backtracking; stops when
/// the gradient is tiny relative to the loss or a step no longer lowers the loss.
fn lbfgs(objective: &Objective, mut theta: Vec<f64>) -> Option<(Vec<f64>, f64, usize)> {
    let (mut loss, mut grad) = objective.gradient(&theta);
    if !loss.is_finite() || grad.iter().any(|g| !g.is_finite()) {
        return None;
    }
    let mut pairs: std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)> = Default::default();
    let mut iterations = 0;
    while iterations < MAX_ITERATIONS {
        let gnorm = dot(&grad, &grad).sqrt();
        if gnorm <= 1e-12 * (1.0 + loss.abs()) {
            break;
        }
        iterations += 1;
        // Two-loop recursion: direction = -H_k g.
        let mut q = grad.clone();
        let mut alphas = Vec::with_capacity(pairs.len());
        for (s, y, rho) in pairs.iter().rev() {
            let alpha = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= alpha * yi);
            alphas.push(alpha);
        }
        let gamma = pairs.back().map_or(1.0 / gnorm.max(1e-300), |(s, y, _)| dot(s, y) / dot(y, y));
        q.iter_mut().for_each(|qi| *qi *= gamma);
        for ((s, y, rho), alpha) in pairs.iter().zip(alphas.iter().rev()) {
            let beta = rho * dot(y, &q);
            q.iter_mut().zip(s).for_each(|(qi, si)| *qi += (alpha - beta) * si);
        }
        let mut direction: Vec<f64> = q.iter().map(|v| -v).collect();
        let mut slope = dot(&direction, &grad);
        if slope.is_nan() || slope >= 0.0 {
            // Not a descent direction (numerically): fall back to steepest descent.
            pairs.clear();
            direction = grad.iter().map(|g| -g / gnorm.max(1e-300)).collect();
            slope = dot(&direction, &grad);
        }
        let mut step = 1.0;
        let mut accepted = None;
        for _ in 0..60 {
            let trial: Vec<f64> = theta.iter().zip(&direction).map(|(t, d)| t + step * d).collect();
            let trial_loss = objective.loss(&trial);
            if trial_loss.is_finite() && trial_loss <= loss + 1e-4 * step * slope {
                accepted = Some(trial);
                break;
            }
            step *= 0.5;
        }
        let Some(next) = accepted else { break };
        let (next_loss, next_grad) = objective.gradient(&next);
        if !next_loss.is_finite() || next_grad.iter().any(|g| !g.is_finite()) {
            break;
        }
        let s: Vec<f64> = next.iter().zip(&theta).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = next_grad.iter().zip(&grad).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-300 {
            if pairs.len() == HISTORY {
                pairs.pop_front();
            }
            pairs.push_back((s, y, 1.0 / sy));
        }
        let stalled = loss - next_loss <= 1e-15 * loss.abs().max(1e-300);
        theta = next;
        loss = next_loss;
        grad = next_grad;
        if stalled {
            break;
        }
    }
    Some((theta, loss, iterations))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::data::Dataset;
    use crate::formula::Formula;
    use crate::loss::Loss;

    #[test]
    fn three_parameter_decay_is_fitted_exactly() {
        // Noise-free data of 1.2 * exp(-0.4 x) + 0.3: the best point is the truth, loss 0.
        let x: Vec<f64> = (0..40).map(|i| i as f64 * 0.25).collect();
        let y = x.iter().map(|x| 1.2 * (-0.4 * x).exp() + 0.3).collect();
        let data = Dataset::new("decay", x, y).unwrap();
        let model = Formula::parse("A*exp(-r*x) + c").unwrap();
        let objective = Objective::new(data, Arc::new(model), Loss::Mse);
        let best = best_point(&objective).unwrap();
        for (got, want) in best.theta.iter().zip([1.2, 0.4, 0.3]) {
            assert!((got - want).abs() < 1e-7, "{:?}", best.theta);
        }
        assert!(best.loss < 1e-14, "{}", best.loss);
    }

    #[test]
    fn a_sum_of_many_parameters_is_solved_without_a_hessian() {
        // y = sum_i p_i * x^(i mod 4) over 100 parameters: a least-squares problem whose optimum
        // fits the data exactly (the data come from a polynomial of degree 3).
        let x: Vec<f64> = (0..30).map(|i| -1.0 + i as f64 / 15.0).collect();
        let y = x.iter().map(|x| 0.5 - x + 2.0 * x * x * x).collect();
        let data = Dataset::new("poly", x, y).unwrap();
        let source: String = (0..100).map(|i| format!("p{i}*x^{}", i % 4)).collect::<Vec<_>>().join(" + ");
        let objective = Objective::new(data, Arc::new(Formula::parse(&source).unwrap()), Loss::Mse);
        let best = best_point(&objective).unwrap();
        assert!(best.loss < 1e-12, "{}", best.loss);
    }
}
