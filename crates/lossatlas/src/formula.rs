//! Formulas: models y = f(x; params) typed as text, with exact derivatives, evaluated fast.
//!
//! A formula is parsed once (`parse`) into an expression DAG (`expr`), differentiated
//! symbolically for every parameter and every pair of parameters (so gradients and Hessians are
//! exact, not finite differences), and compiled into three column-wise programs (`program`):
//! value, value + Jacobian, value + Jacobian + Hessian. Each call then runs one program over the
//! samples a chunk at a time.
//!
//! Language: numbers (`2`, `.5`, `1e-3`), `x`, the constant `pi`, parameters (any other name),
//! `+ - * /`, powers `^` or `**` (right-associative, binding tighter than unary minus), parentheses
//! and the functions sin, cos, tan, exp, ln (alias log), log10, sqrt, abs, tanh, sigmoid,
//! relu, softplus, sinh, cosh, atan, sign, step (0 up to 0, then 1: the derivative of relu) and
//! pow(a, b). Integer constant powers (`x^2`, `x^-1`) are multiplications, exact for negative
//! bases; other powers follow `powf`. Values that are not finite are data: they propagate as NaN
//! or infinity and never panic.

mod expr;
mod parse;
mod program;

use std::fmt;

use expr::{write_expr, Graph, Id, Node};
use parse::Params;
use program::{Outputs, Program, Target};

/// Deepest expression tree accepted, so that printing (which recurses) cannot exhaust the stack.
const MAX_DEPTH: u32 = 1000;

/// Error from parsing a formula.
///
/// Displays as one line naming the formula, e.g.
/// "formula `sin(b*cos(a*x)`: expected `)` at position 15 to close the `(` of `sin` at position 4,
/// found end of formula".
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("formula `{source_text}`: {message}")]
pub struct FormulaError {
    /// The formula as given.
    pub source_text: String,
    /// The 1-based character position of the problem, if it has one (one past the last character
    /// when the formula ends too early).
    pub position: Option<usize>,
    /// What is wrong, complete: it already names the position, e.g.
    /// "unknown function `foo` at position 1 (known: sin, cos, ...)".
    pub message: String,
}

/// A parsed formula y = f(x; params) with exact first and second partial derivatives.
///
/// Cheap to share: evaluation takes `&self` and keeps its scratch memory per thread, so one
/// formula can be evaluated from many threads at once.
#[derive(Clone)]
pub struct Formula {
    source: String,
    params: Vec<String>,
    nodes: Vec<Node>,
    value: Id,
    /// df/dp for each parameter p.
    gradient: Vec<Id>,
    value_program: Program,
    jacobian_program: Program,
    hessian_program: Program,
}

impl fmt::Debug for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Formula")
            .field("source", &self.source)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl Formula {
    /// Parses a formula. Its parameters are all names other than `x` and `pi`, in order of first
    /// appearance: `a*x^3 + b*x^2` has [a, b], `sin(b*cos(a*x))` has [b, a].
    pub fn parse(source: &str) -> Result<Formula, FormulaError> {
        let (graph, root, params) = parse::parse(source, Params::Discover(Vec::new()))?;
        Formula::build(source, graph, root, params.names())
    }

    /// Parses a formula whose parameters are `params`, in that order. Every listed name must occur
    /// in the formula, and every name in the formula other than `x` and `pi` must be listed.
    pub fn parse_with_params(source: &str, params: &[&str]) -> Result<Formula, FormulaError> {
        let fail =
            |message: String| FormulaError { source_text: source.to_string(), position: None, message };
        for (i, name) in params.iter().enumerate() {
            parse::check_param_name(name).map_err(fail)?;
            if params[..i].contains(name) {
                return Err(fail(format!("parameter `{name}` is listed twice")));
            }
        }
        let fixed = Params::Fixed { names: params, used: vec![false; params.len()] };
        let (graph, root, fixed) = parse::parse(source, fixed)?;
        if let Params::Fixed { used, .. } = &fixed {
            if let Some(missing) = used.iter().position(|u| !u) {
                return Err(fail(format!("parameter `{}` does not occur in the formula", params[missing])));
            }
        }
        Formula::build(source, graph, root, fixed.names())
    }

    /// Differentiates and compiles a parsed formula.
    fn build(
        source: &str,
        mut graph: Graph,
        value: Id,
        params: Vec<String>,
    ) -> Result<Formula, FormulaError> {
        if graph.depth(value) > MAX_DEPTH {
            return Err(FormulaError {
                source_text: source.to_string(),
                position: None,
                message: format!(
                    "formula is too long: its expression is nested more than {MAX_DEPTH} levels deep"
                ),
            });
        }
        let n = params.len();
        let gradient: Vec<Id> = (0..n).map(|p| graph.derivatives(&[value], p as u32)[0]).collect();
        // Row q of the second derivatives: d/dq of df/dp for p <= q (the rest mirrors them).
        let mut hessian = vec![value; n * n];
        for q in 0..n {
            for (p, d) in graph.derivatives(&gradient[..=q], q as u32).into_iter().enumerate() {
                hessian[p * n + q] = d;
            }
        }
        let nodes = graph.into_nodes();
        let mut outputs = vec![(value, Target::Value)];
        let value_program = Program::compile(&nodes, n, &outputs);
        outputs.extend(gradient.iter().enumerate().map(|(p, &d)| (d, Target::Jacobian(p))));
        let jacobian_program = Program::compile(&nodes, n, &outputs);
        for p in 0..n {
            outputs.extend((p..n).map(|q| (hessian[p * n + q], Target::Hessian(p * n + q))));
        }
        let hessian_program = Program::compile(&nodes, n, &outputs);
        Ok(Formula {
            source: source.to_string(),
            params,
            nodes,
            value,
            gradient,
            value_program,
            jacobian_program,
            hessian_program,
        })
    }

    /// The formula as given.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The parameter names, in the order of the parameter vector.
    pub fn params(&self) -> &[String] {
        &self.params
    }

    fn check(&self, params: &[f64], xs: &[f64], out: &[f64]) {
        assert_eq!(
            params.len(),
            self.params.len(),
            "formula `{}`: wrong number of parameter values",
            self.source
        );
        assert_eq!(out.len(), xs.len(), "formula `{}`: output and input lengths differ", self.source);
    }

    /// `out[i] = f(xs[i]; params)`.
    ///
    /// # Panics
    /// If `params.len() != self.params().len()` or `out.len() != xs.len()`.
    pub fn eval(&self, params: &[f64], xs: &[f64], out: &mut [f64]) {
        self.check(params, xs, out);
        let mut outputs = Outputs { value: out, jacobian: &mut [], hessian: &mut [] };
        self.value_program.run(params, xs, &mut outputs);
    }

    /// Values and the Jacobian: `jac[p * xs.len() + i] = df/dparam_p at xs[i]`.
    ///
    /// # Panics
    /// If a length does not match: `params` as [`Formula::params`], `out` as `xs`, and `jac`
    /// `params.len() * xs.len()`.
    pub fn eval_jacobian(&self, params: &[f64], xs: &[f64], out: &mut [f64], jac: &mut [f64]) {
        self.check(params, xs, out);
        assert_eq!(jac.len(), params.len() * xs.len(), "formula `{}`: wrong Jacobian length", self.source);
        let mut outputs = Outputs { value: out, jacobian: jac, hessian: &mut [] };
        self.jacobian_program.run(params, xs, &mut outputs);
    }

    /// Values, Jacobian and second derivatives:
    /// `hess[(p * n + q) * xs.len() + i] = d2f/dparam_p dparam_q at xs[i]` with n parameters
    /// (the full symmetric matrix).
    ///
    /// # Panics
    /// If a length does not match: as [`Formula::eval_jacobian`], and `hess` `n * n * xs.len()`.
    pub fn eval_hessian(
        &self,
        params: &[f64],
        xs: &[f64],
        out: &mut [f64],
        jac: &mut [f64],
        hess: &mut [f64],
    ) {
        self.check(params, xs, out);
        let (n, m) = (params.len(), xs.len());
        assert_eq!(jac.len(), n * m, "formula `{}`: wrong Jacobian length", self.source);
        assert_eq!(hess.len(), n * n * m, "formula `{}`: wrong Hessian length", self.source);
        let mut outputs = Outputs { value: out, jacobian: jac, hessian: &mut *hess };
        self.hessian_program.run(params, xs, &mut outputs);
        // Only the upper triangle is computed; the lower one is its mirror image.
        for p in 0..n {
            for q in p + 1..n {
                hess.copy_within((p * n + q) * m..(p * n + q + 1) * m, (q * n + p) * m);
            }
        }
    }

    /// f(x; params) at one point.
    ///
    /// # Panics
    /// If `params.len() != self.params().len()`.
    pub fn eval_at(&self, params: &[f64], x: f64) -> f64 {
        let mut out = [0.0];
        self.eval(params, &[x], &mut out);
        out[0]
    }

    /// `Some((s, i))` if the formula is exactly `params[s]*x + params[i]`, up to the order of
    /// terms and factors (`k*x + b`, `b + x*k`): such a model has a closed-form mean squared error.
    pub fn linear_form(&self) -> Option<(usize, usize)> {
        let node = |id: Id| self.nodes[id as usize];
        let Node::Add(left, right) = node(self.value) else { return None };
        let slope = |id: Id| match node(id) {
            Node::Mul(a, b) => match (node(a), node(b)) {
                (Node::Param(s), Node::X) | (Node::X, Node::Param(s)) => Some(s as usize),
                _ => None,
            },
            _ => None,
        };
        let (s, i) = match (node(left), node(right)) {
            (_, Node::Param(i)) => (slope(left)?, i as usize),
            (Node::Param(i), _) => (slope(right)?, i as usize),
            _ => return None,
        };
        (s != i).then_some((s, i))
    }

    /// The simplified partial derivative of f with respect to `params()[p]`, as text, e.g.
    /// `cos(b*cos(a*x))*cos(a*x)` for p = b of `sin(b*cos(a*x))`.
    ///
    /// # Panics
    /// If `p >= self.params().len()`.
    pub fn derivative_text(&self, p: usize) -> String {
        let mut text = String::new();
        write_expr(&mut text, &self.nodes, &self.params, self.gradient[p]);
        text
    }
}

#[cfg(test)]
mod tests;
