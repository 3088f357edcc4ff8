//! Models y = f(x; theta): the seam between the loss and what is being fitted.
//!
//! Every two-parameter model of the teaching example (k*x + b with an activation, a*x^3 + b*x^2,
//! sin(b*cos(a*x)), or anything typed on the command line) is a [`Formula`], which knows its exact
//! first and second partial derivatives. Later models (a multi-layer perceptron) implement the same
//! trait.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::formula::Formula;

/// A prediction function with named inputs and parameters and exact derivatives.
///
/// Column-wise by design: every method fills a whole slice of samples at once, so an interpreted
/// formula pays its dispatch cost once per operation and chunk, not once per sample. `inputs` holds
/// one slice per input column (in [`Model::input_names`] order), all as long as `out`.
pub trait Model: Send + Sync + fmt::Debug {
    /// A short description, e.g. the formula as typed.
    fn name(&self) -> &str;

    /// The parameter names, in the order of the parameter vector.
    fn param_names(&self) -> &[String];

    /// The input (data column) names, in the order the columns are passed.
    fn input_names(&self) -> &[String];

    /// `out[i] = f(inputs[..][i]; params)`.
    fn predict(&self, params: &[f64], inputs: &[&[f64]], out: &mut [f64]);

    /// Predictions and the Jacobian: `jac[p * m + i] = df/dtheta_p (sample i)` for m samples.
    fn predict_jacobian(&self, params: &[f64], inputs: &[&[f64]], out: &mut [f64], jac: &mut [f64]);

    /// Predictions, Jacobian and the second derivatives:
    /// `hess[(p * n + q) * m + i] = d2f/dtheta_p dtheta_q (sample i)`.
    fn predict_hessian(
        &self,
        params: &[f64],
        inputs: &[&[f64]],
        out: &mut [f64],
        jac: &mut [f64],
        hess: &mut [f64],
    );

    /// `Some((slope, intercept))` when the model is exactly `theta[slope] * x + theta[intercept]`
    /// of its one input, which lets a mean squared error be evaluated in closed form from data sums.
    fn linear_form(&self) -> Option<(usize, usize)> {
        None
    }

    /// The model as a formula, when it is one: a grid over two of its parameters then computes
    /// the parts that depend on the data alone, or on the data and one of the two, less often than
    /// at every point (a grid plan).
    fn as_formula(&self) -> Option<&Formula> {
        None
    }

    /// The number of parameters.
    fn n_params(&self) -> usize {
        self.param_names().len()
    }
}

impl Model for Formula {
    fn name(&self) -> &str {
        self.source()
    }

    fn param_names(&self) -> &[String] {
        self.params()
    }

    fn input_names(&self) -> &[String] {
        self.inputs()
    }

    fn predict(&self, params: &[f64], inputs: &[&[f64]], out: &mut [f64]) {
        self.eval_columns(params, inputs, out);
    }

    fn predict_jacobian(&self, params: &[f64], inputs: &[&[f64]], out: &mut [f64], jac: &mut [f64]) {
        self.eval_jacobian_columns(params, inputs, out, jac);
    }

    fn predict_hessian(
        &self,
        params: &[f64],
        inputs: &[&[f64]],
        out: &mut [f64],
        jac: &mut [f64],
        hess: &mut [f64],
    ) {
        self.eval_hessian_columns(params, inputs, out, jac, hess);
    }

    fn linear_form(&self) -> Option<(usize, usize)> {
        Formula::linear_form(self)
    }

    fn as_formula(&self) -> Option<&Formula> {
        Some(self)
    }
}

/// The function applied to the neuron's output in the `linear` model: Y = act(k*x + b).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Activation {
    /// Y = k*x + b.
    #[default]
    Identity,
    /// Y = tanh(k*x + b): saturates at -1 and 1, which makes plateaus in the landscape.
    Tanh,
    /// Y = 1 / (1 + exp(-(k*x + b))).
    Sigmoid,
    /// Y = max(0, k*x + b).
    Relu,
}

impl Activation {
    /// Every activation, in the order the help text lists them.
    pub const ALL: [Activation; 4] =
        [Activation::Identity, Activation::Tanh, Activation::Sigmoid, Activation::Relu];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
            Activation::Relu => "relu",
        }
    }
}

impl FromStr for Activation {
    type Err = Error;

    fn from_str(s: &str) -> Result<Activation> {
        Activation::ALL.into_iter().find(|a| a.name() == s).ok_or_else(|| {
            Error::Invalid(format!("unknown activation `{s}`; use one of identity, tanh, sigmoid, relu"))
        })
    }
}

/// The seed's neuron, Y = act(k*x + b), with parameters named `k` and `b`.
pub fn linear(activation: Activation) -> Formula {
    let source = match activation {
        Activation::Identity => "k*x + b",
        Activation::Tanh => "tanh(k*x + b)",
        Activation::Sigmoid => "sigmoid(k*x + b)",
        Activation::Relu => "relu(k*x + b)",
    };
    Formula::parse(source).expect("the built-in linear formulas parse")
}

/// Parses a formula and checks that it has exactly `expected` parameters, so a typo such as
/// `k*x + bb + b` is caught with the list of names it produced.
pub fn formula_with_params(source: &str, order: Option<&[&str]>, expected: usize) -> Result<Formula> {
    let formula = match order {
        Some(names) => Formula::parse_with_params(source, names)?,
        None => Formula::parse(source)?,
    };
    if formula.params().len() != expected {
        return Err(Error::ParameterCount {
            model: source.to_string(),
            found: formula.params().len(),
            names: formula.params().join(", "),
            expected: format!(
                "lossatlas draws models with exactly {expected}; fix the formula or fix a parameter to a number"
            ),
        });
    }
    Ok(formula)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_models_have_k_and_b() {
        for act in Activation::ALL {
            let m = linear(act);
            assert_eq!(m.param_names(), &["k".to_string(), "b".to_string()]);
        }
        assert_eq!(Model::linear_form(&linear(Activation::Identity)), Some((0, 1)));
        assert_eq!(Model::linear_form(&linear(Activation::Tanh)), None);
    }

    #[test]
    fn activations_evaluate_at_hand_points() {
        let xs = [2.0];
        let mut out = [0.0];
        let eval = |act: Activation, out: &mut [f64]| linear(act).predict(&[0.5, -1.5], &[&xs], out);
        // z = 0.5 * 2 - 1.5 = -0.5
        eval(Activation::Identity, &mut out);
        assert_eq!(out[0], -0.5);
        eval(Activation::Tanh, &mut out);
        assert!((out[0] - (-0.46211715726000974)).abs() < 1e-15);
        eval(Activation::Sigmoid, &mut out);
        assert!((out[0] - 0.3775406687981454).abs() < 1e-15);
        eval(Activation::Relu, &mut out);
        assert_eq!(out[0], 0.0);
    }

    #[test]
    fn parameter_count_is_enforced() {
        let e = formula_with_params("k*x + b + c", None, 2).unwrap_err().to_string();
        assert!(e.contains("3 parameter") && e.contains("k, b, c"), "{e}");
        assert!(formula_with_params("a*x^3 + b*x^2", None, 2).is_ok());
        let e = formula_with_params("a*x", None, 2).unwrap_err().to_string();
        assert!(e.contains("1 parameter"), "{e}");
    }

    #[test]
    fn unknown_activation_lists_the_choices() {
        let e = "softmax".parse::<Activation>().unwrap_err().to_string();
        assert!(e.contains("softmax") && e.contains("tanh"), "{e}");
    }
}
