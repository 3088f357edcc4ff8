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
mod partial;
mod program;

use std::fmt;

use std::sync::OnceLock;

use expr::{write_expr, Graph, Id, Node};
use parse::Params;
pub(crate) use partial::GridPlan;
pub(crate) use program::arch_for_rows;
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

/// A parsed formula y = f(inputs; params) with exact first and second partial derivatives.
///
/// Derivatives are built when first needed, not at parse time: drawing a landscape needs only
/// values, a gradient step only first derivatives, and only the analysis needs the second
/// derivatives, whose number grows with the square of the parameter count. So a formula with
/// hundreds of parameters parses in milliseconds.
///
/// Cheap to share: evaluation takes `&self` and keeps its scratch memory per thread, so one
/// formula can be evaluated from many threads at once.
#[derive(Clone)]
pub struct Formula {
    source: String,
    inputs: Vec<String>,
    params: Vec<String>,
    /// The parsed graph, before any derivative: the value is `value` in it.
    graph: Graph,
    value: Id,
    value_program: Program,
    first: OnceLock<FirstOrder>,
    second: OnceLock<Program>,
}

/// The first derivatives: the graph grown by df/dp for each parameter p, and the program that
/// computes the value and them.
#[derive(Clone)]
struct FirstOrder {
    graph: Graph,
    gradient: Vec<Id>,
    program: Program,
}

impl fmt::Debug for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Formula")
            .field("source", &self.source)
            .field("inputs", &self.inputs)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl Formula {
    /// Parses a formula of one input, `x`. Its parameters are all other names except `pi`, in
    /// order of first appearance: `a*x^3 + b*x^2` has [a, b], `sin(b*cos(a*x))` has [b, a].
    pub fn parse(source: &str) -> Result<Formula, FormulaError> {
        Formula::parse_with(source, &["x".to_string()], None)
    }

    /// Parses a formula of input `x` whose parameters are `params`, in that order. Every listed
    /// name must occur in the formula, and every name in the formula other than `x` and `pi` must
    /// be listed.
    pub fn parse_with_params(source: &str, params: &[&str]) -> Result<Formula, FormulaError> {
        Formula::parse_with(source, &["x".to_string()], Some(params))
    }

    /// Parses a formula whose inputs (data columns) are named `inputs`, in the order in which
    /// evaluation receives them; every other name is a parameter, in the order `params` gives or,
    /// without it, in order of first appearance. An input the formula does not use is allowed (it
    /// is simply not read); a parameter named like an input is refused.
    pub fn parse_with(
        source: &str,
        inputs: &[String],
        params: Option<&[&str]>,
    ) -> Result<Formula, FormulaError> {
        let fail =
            |message: String| FormulaError { source_text: source.to_string(), position: None, message };
        if inputs.is_empty() {
            return Err(fail("a formula needs at least one input column".into()));
        }
        for (i, name) in inputs.iter().enumerate() {
            parse::check_name(name, "an input").map_err(fail)?;
            if inputs[..i].contains(name) {
                return Err(fail(format!("input `{name}` is listed twice")));
            }
        }
        let Some(params) = params else {
            let (graph, root, found) = parse::parse(source, inputs, Params::Discover(Vec::new()))?;
            return Formula::build(source, inputs, graph, root, found.names());
        };
        for (i, name) in params.iter().enumerate() {
            parse::check_name(name, "a parameter").map_err(fail)?;
            if inputs.iter().any(|input| input == name) {
                return Err(fail(format!(
                    "`{name}` is listed as a parameter but is an input column; rename the parameter"
                )));
            }
            if params[..i].contains(name) {
                return Err(fail(format!("parameter `{name}` is listed twice")));
            }
        }
        let fixed = Params::Fixed { names: params, used: vec![false; params.len()] };
        let (graph, root, fixed) = parse::parse(source, inputs, fixed)?;
        if let Params::Fixed { used, .. } = &fixed {
            if let Some(missing) = used.iter().position(|u| !u) {
                return Err(fail(format!("parameter `{}` does not occur in the formula", params[missing])));
            }
        }
        Formula::build(source, inputs, graph, root, fixed.names())
    }

    /// Checks a parsed formula and compiles its value program; derivatives wait until needed.
    fn build(
        source: &str,
        inputs: &[String],
        graph: Graph,
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
        let value_program = Program::compile(graph.nodes(), params.len(), &[(value, Target::Value)]);
        Ok(Formula {
            source: source.to_string(),
            inputs: inputs.to_vec(),
            params,
            graph,
            value,
            value_program,
            first: OnceLock::new(),
            second: OnceLock::new(),
        })
    }

    /// The first derivatives, differentiated and compiled on first use.
    fn first(&self) -> &FirstOrder {
        self.first.get_or_init(|| {
            let mut graph = self.graph.clone();
            let n = self.params.len();
            let gradient: Vec<Id> = (0..n).map(|p| graph.derivatives(&[self.value], p as u32)[0]).collect();
            let mut outputs = vec![(self.value, Target::Value)];
            outputs.extend(gradient.iter().enumerate().map(|(p, &d)| (d, Target::Jacobian(p))));
            let program = Program::compile(graph.nodes(), n, &outputs);
            FirstOrder { graph, gradient, program }
        })
    }

    /// The second derivatives (with the value and first derivatives), on first use.
    fn second(&self) -> &Program {
        self.second.get_or_init(|| {
            let first = self.first();
            let mut graph = first.graph.clone();
            let n = self.params.len();
            // Row q of the second derivatives: d/dq of df/dp for p <= q (the rest mirrors them).
            let mut hessian = vec![self.value; n * n];
            for q in 0..n {
                for (p, d) in graph.derivatives(&first.gradient[..=q], q as u32).into_iter().enumerate() {
                    hessian[p * n + q] = d;
                }
            }
            let mut outputs = vec![(self.value, Target::Value)];
            outputs.extend(first.gradient.iter().enumerate().map(|(p, &d)| (d, Target::Jacobian(p))));
            for p in 0..n {
                outputs.extend((p..n).map(|q| (hessian[p * n + q], Target::Hessian(p * n + q))));
            }
            Program::compile(graph.nodes(), n, &outputs)
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

    /// The input (data column) names, in the order evaluation receives the columns.
    pub fn inputs(&self) -> &[String] {
        &self.inputs
    }

    fn check(&self, params: &[f64], inputs: &[&[f64]], out: &[f64]) {
        assert_eq!(
            params.len(),
            self.params.len(),
            "formula `{}`: wrong number of parameter values",
            self.source
        );
        assert_eq!(
            inputs.len(),
            self.inputs.len(),
            "formula `{}`: wrong number of input columns",
            self.source
        );
        assert!(
            inputs.iter().all(|column| column.len() == out.len()),
            "formula `{}`: output and input lengths differ",
            self.source
        );
    }

    /// `out[i] = f(inputs[..][i]; params)`: one slice per input column, in [`Formula::inputs`]
    /// order.
    ///
    /// # Panics
    /// If `params.len() != self.params().len()`, the number of columns is not that of the inputs,
    /// or a column's length differs from `out.len()`.
    pub fn eval_columns(&self, params: &[f64], inputs: &[&[f64]], out: &mut [f64]) {
        self.check(params, inputs, out);
        let mut outputs = Outputs { value: out, jacobian: &mut [], hessian: &mut [] };
        self.value_program.run(params, inputs, &mut outputs);
    }

    /// Values and the Jacobian: `jac[p * m + i] = df/dparam_p at sample i`, m samples.
    ///
    /// # Panics
    /// If a length does not match: as [`Formula::eval_columns`], and `jac` `params.len() * m`.
    pub fn eval_jacobian_columns(&self, params: &[f64], inputs: &[&[f64]], out: &mut [f64], jac: &mut [f64]) {
        self.check(params, inputs, out);
        assert_eq!(jac.len(), params.len() * out.len(), "formula `{}`: wrong Jacobian length", self.source);
        let mut outputs = Outputs { value: out, jacobian: jac, hessian: &mut [] };
        self.first().program.run(params, inputs, &mut outputs);
    }

    /// Values, Jacobian and second derivatives:
    /// `hess[(p * n + q) * m + i] = d2f/dparam_p dparam_q at sample i` with n parameters and m
    /// samples (the full symmetric matrix).
    ///
    /// # Panics
    /// If a length does not match: as [`Formula::eval_jacobian_columns`], and `hess` `n * n * m`.
    pub fn eval_hessian_columns(
        &self,
        params: &[f64],
        inputs: &[&[f64]],
        out: &mut [f64],
        jac: &mut [f64],
        hess: &mut [f64],
    ) {
        self.check(params, inputs, out);
        let (n, m) = (params.len(), out.len());
        assert_eq!(jac.len(), n * m, "formula `{}`: wrong Jacobian length", self.source);
        assert_eq!(hess.len(), n * n * m, "formula `{}`: wrong Hessian length", self.source);
        let mut outputs = Outputs { value: out, jacobian: jac, hessian: &mut *hess };
        self.second().run(params, inputs, &mut outputs);
        // Only the upper triangle is computed; the lower one is its mirror image.
        for p in 0..n {
            for q in p + 1..n {
                hess.copy_within((p * n + q) * m..(p * n + q + 1) * m, (q * n + p) * m);
            }
        }
    }

    /// [`Formula::eval_columns`] for a formula of one input.
    pub fn eval(&self, params: &[f64], xs: &[f64], out: &mut [f64]) {
        self.eval_columns(params, &[xs], out);
    }

    /// [`Formula::eval_jacobian_columns`] for a formula of one input.
    pub fn eval_jacobian(&self, params: &[f64], xs: &[f64], out: &mut [f64], jac: &mut [f64]) {
        self.eval_jacobian_columns(params, &[xs], out, jac);
    }

    /// [`Formula::eval_hessian_columns`] for a formula of one input.
    pub fn eval_hessian(
        &self,
        params: &[f64],
        xs: &[f64],
        out: &mut [f64],
        jac: &mut [f64],
        hess: &mut [f64],
    ) {
        self.eval_hessian_columns(params, &[xs], out, jac, hess);
    }

    /// f(x; params) at one point of a one-input formula.
    ///
    /// # Panics
    /// If `params.len() != self.params().len()` or the formula has several inputs.
    pub fn eval_at(&self, params: &[f64], x: f64) -> f64 {
        let mut out = [0.0];
        self.eval(params, &[x], &mut out);
        out[0]
    }

    /// The formula split for a grid over two of its parameters whose lines hold `line_param`
    /// constant while `point_param` varies: the parts that depend on the data alone, computed once,
    /// and on the data and `line_param` alone, computed once per line (see [`GridPlan`]).
    pub(crate) fn grid_plan(&self, line_param: usize, point_param: usize) -> Option<GridPlan> {
        GridPlan::new(
            self.graph.nodes(),
            self.value,
            self.inputs.len(),
            self.params.len(),
            line_param,
            point_param,
        )
    }

    /// `Some((s, i))` if the formula has one input and is exactly `params[s]*x + params[i]`, up to
    /// the order of terms and factors (`k*x + b`, `b + x*k`): such a model has a closed-form mean
    /// squared error.
    pub fn linear_form(&self) -> Option<(usize, usize)> {
        if self.inputs.len() != 1 {
            return None;
        }
        let node = |id: Id| self.graph.node(id);
        let Node::Add(left, right) = node(self.value) else { return None };
        let slope = |id: Id| match node(id) {
            Node::Mul(a, b) => match (node(a), node(b)) {
                (Node::Param(s), Node::Input(0)) | (Node::Input(0), Node::Param(s)) => Some(s as usize),
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
        let first = self.first();
        let mut text = String::new();
        write_expr(&mut text, first.graph.nodes(), &self.inputs, &self.params, first.gradient[p]);
        text
    }
}

#[cfg(test)]
mod tests;
