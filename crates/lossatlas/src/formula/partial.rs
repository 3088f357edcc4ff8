//! Partial evaluation of a formula over a grid of two of its parameters.
//!
//! Over a grid in two parameters (the others held), a part of the formula that depends on the data
//! but on neither grid parameter has one value per sample for the whole grid (`x^3` and `x^2` in
//! `a*x^3 + b*x^2`), and a part that depends on the data and one grid parameter alone has one value
//! per sample along each grid line on which that parameter is constant (`cos(a*x)` in
//! `sin(b*cos(a*x))`, along a line of constant `a`). A [`GridPlan`] splits the expression into three
//! programs: the data stage, run once per grid; the line stage, run once per line; and the point
//! stage, run at every point, which reads what the earlier stages wrote as extra input columns.
//! It is the same move as a network plane's first layer, whose products are paid once per plane
//! ([`crate::net::PlaneEvaluator`]).
//!
//! The stages run the same operations the whole program would, on the same operands, so a planned
//! grid is bit-identical to one evaluated point by point (tested).
//!
//! Only a part worth storing is handed on: a scalar map of a vector (`a*x + 1`, `b*cos(a*x)`) read
//! by one-operand steps is recomputed there from its operand, because such a step fuses it into its
//! own loop for free, while a stored column costs a pass to write and a load to read.

use super::expr::{Id, Node};
use super::program::{Outputs, Program, Target};

/// The stage a node is computed in, in the order the stages run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Data,
    Line,
    Point,
}

/// A compiled earlier stage: its program and the number of columns it writes.
#[derive(Debug, Clone)]
struct Hoisted {
    program: Program,
    columns: usize,
}

/// A formula split by what each part depends on, for a grid whose lines hold one parameter
/// (the line parameter) constant while the other (the point parameter) varies.
#[derive(Debug, Clone)]
pub(crate) struct GridPlan {
    n_inputs: usize,
    data: Option<Hoisted>,
    line: Option<Hoisted>,
    point: Program,
}

impl GridPlan {
    /// Splits the expression `root` of the graph `nodes` (with `n_inputs` input columns and
    /// `n_params` parameters) for lines of constant parameter `line_param` along which
    /// `point_param` varies. `None` when the value does not depend on the data and on
    /// `point_param` (nothing would be left per point).
    pub(crate) fn new(
        nodes: &[Node],
        root: Id,
        n_inputs: usize,
        n_params: usize,
        line_param: usize,
        point_param: usize,
    ) -> Option<GridPlan> {
        let n = nodes.len();
        // What each node depends on, then the stage it belongs to (None: a scalar, computed by
        // whichever program reads it, once per call).
        const DATA: u8 = 1;
        const LINE: u8 = 2;
        const POINT: u8 = 4;
        let mut depends = vec![0u8; n];
        for (id, &node) in nodes.iter().enumerate() {
            depends[id] = match node {
                Node::Input(_) => DATA,
                Node::Param(p) if p as usize == line_param => LINE,
                Node::Param(p) if p as usize == point_param => POINT,
                _ => node.operands().fold(0, |d, c| d | depends[c as usize]),
            };
        }
        let stage = |id: Id| {
            let d = depends[id as usize];
            let stage = if d & POINT != 0 {
                Stage::Point
            } else if d & LINE != 0 {
                Stage::Line
            } else {
                Stage::Data
            };
            (d & DATA != 0).then_some(stage)
        };
        if stage(root) != Some(Stage::Point) {
            return None;
        }

        // In reverse order, so every reader of a node is settled before it: the latest stage
        // that reads each node (the root is read by the point stage's output), and whether the
        // node is stored by its own stage for a later one. A later stage recomputes an input or a
        // scalar map of one vector node (`a*v + t`) itself, since its reading step fuses that
        // into its own loop; the vector node then is what crosses the stages.
        let mut reachable = vec![false; n];
        reachable[root as usize] = true;
        let mut read_from: Vec<Option<Stage>> = vec![None; n];
        read_from[root as usize] = Some(Stage::Point);
        // Whether a later stage reads the node in a step of two vector operands (`u + v`), into
        // which nothing is fused.
        let mut read_by_binary = vec![false; n];
        let mut stored = vec![false; n];
        for id in (0..n).rev() {
            if !reachable[id] {
                continue;
            }
            let node = nodes[id];
            let own = stage(id as Id);
            let crosses = own.is_some() && read_from[id] > own;
            let scalar_map_of = scalar_map_operand(node, |c| stage(c).is_some());
            if crosses && !matches!(node, Node::Input(_)) && (scalar_map_of.is_none() || read_by_binary[id]) {
                stored[id] = true;
            }
            let binary = node.operands().filter(|&c| stage(c).is_some()).count() == 2;
            for c in node.operands() {
                reachable[c as usize] = true;
                read_from[c as usize] = read_from[c as usize].max(own);
                read_by_binary[c as usize] |= binary && own > stage(c);
            }
            if let (false, true, Some(m)) = (stored[id], crosses, scalar_map_of) {
                read_from[m as usize] = read_from[m as usize].max(read_from[id]);
            }
        }
        let of_stage = |s: Stage| -> Vec<Id> {
            (0..n as Id).filter(|&i| stored[i as usize] && stage(i) == Some(s)).collect()
        };
        let (data_nodes, line_nodes) = (of_stage(Stage::Data), of_stage(Stage::Line));
        // Input column of each stored node: after the data's own columns, the data stage's
        // columns, then the line stage's.
        let mut column: Vec<Option<(Stage, u32)>> = vec![None; n];
        for (k, &id) in data_nodes.iter().chain(&line_nodes).enumerate() {
            column[id as usize] =
                Some((stage(id).expect("a stored node is a vector"), (n_inputs + k) as u32));
        }
        let compile = |roots: &[Id], s: Stage| {
            let (stage_nodes, new_roots) = extract(nodes, roots, |id| match column[id as usize] {
                Some((from, col)) if from < s => Some(col),
                _ => None,
            });
            let outputs: Vec<(Id, Target)> = if s == Stage::Point {
                vec![(new_roots[0], Target::Value)]
            } else {
                // An earlier stage writes its columns as the rows of the program's multi-row
                // output (the rows a gradient is written to).
                new_roots.iter().enumerate().map(|(k, &r)| (r, Target::Jacobian(k))).collect()
            };
            Program::compile(&stage_nodes, n_params, &outputs)
        };
        let hoisted = |roots: &[Id], s: Stage| {
            (!roots.is_empty()).then(|| Hoisted { program: compile(roots, s), columns: roots.len() })
        };
        Some(GridPlan {
            n_inputs,
            data: hoisted(&data_nodes, Stage::Data),
            line: hoisted(&line_nodes, Stage::Line),
            point: compile(&[root], Stage::Point),
        })
    }

    /// Whether the plan computes anything less often than per point.
    pub(crate) fn hoists_anything(&self) -> bool {
        self.data.is_some() || self.line.is_some()
    }

    /// The number of columns the line stage computes once per line instead of once per point:
    /// what a plan saves that any evaluation order could not.
    pub(crate) fn line_columns(&self) -> usize {
        self.line.as_ref().map_or(0, |s| s.columns)
    }

    /// The number of columns the data stage writes.
    pub(crate) fn data_columns(&self) -> usize {
        self.data.as_ref().map_or(0, |s| s.columns)
    }

    /// The data stage over `inputs` (the data's own columns, whole): its columns, each as long as
    /// the data. Parameters other than the grid's two are read from `params`.
    pub(crate) fn run_data(&self, params: &[f64], inputs: &[&[f64]]) -> Vec<Vec<f64>> {
        let len = inputs.first().map_or(0, |c| c.len());
        let Some(stage) = &self.data else { return Vec::new() };
        let mut rows = vec![0.0; stage.columns * len];
        run_stage(&stage.program, params, inputs, len, &mut rows);
        rows.chunks(len.max(1)).map(<[f64]>::to_vec).collect()
    }

    /// The line stage at `params` over `inputs` (the data's columns, then the data stage's, all
    /// of one chunk), written as `line_columns` rows of the chunk's length into `rows`.
    pub(crate) fn run_line(&self, params: &[f64], inputs: &[&[f64]], rows: &mut [f64]) {
        debug_assert_eq!(inputs.len(), self.n_inputs + self.data_columns());
        if let Some(stage) = &self.line {
            let len = inputs.first().map_or(0, |c| c.len());
            run_stage(&stage.program, params, inputs, len, rows);
        }
    }

    /// The formula's value at `params` over `inputs` (the data's columns, the data stage's and the
    /// line stage's, all of one chunk).
    pub(crate) fn run_point(&self, params: &[f64], inputs: &[&[f64]], out: &mut [f64]) {
        debug_assert_eq!(inputs.len(), self.n_inputs + self.data_columns() + self.line_columns());
        let mut outputs = Outputs { value: out, jacobian: &mut [], hessian: &mut [] };
        self.point.run(params, inputs, &mut outputs);
    }
}

/// Runs an earlier stage's program over `len` samples into `rows` (its columns, one after
/// another). The value row only sets the length and the kernels' width, as for the point stage.
fn run_stage(program: &Program, params: &[f64], inputs: &[&[f64]], len: usize, rows: &mut [f64]) {
    thread_local! {
        static LENGTH: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    LENGTH.with_borrow_mut(|value| {
        value.resize(len, 0.0);
        let mut outputs = Outputs { value, jacobian: rows, hessian: &mut [] };
        program.run(params, inputs, &mut outputs);
    });
}

/// The vector operand of `node` when `node` is a product or sum of it with a per-call scalar
/// (`v*a`, `v + t`, `v - t`): what a reading step computes in its own loop (the program's fused
/// affine operands). `is_vector` tells whether a node depends on the data.
fn scalar_map_operand(node: Node, is_vector: impl Fn(Id) -> bool) -> Option<Id> {
    match node {
        Node::Mul(a, b) | Node::Add(a, b) => match (is_vector(a), is_vector(b)) {
            (true, false) => Some(a),
            (false, true) => Some(b),
            _ => None,
        },
        Node::Sub(a, b) => (is_vector(a) && !is_vector(b)).then_some(a),
        _ => None,
    }
}

/// The part of `nodes` that `roots` need, with every node that `column` maps replaced by an input
/// of that column: the nodes (in their original, topological order) and the roots' new ids.
fn extract(nodes: &[Node], roots: &[Id], column: impl Fn(Id) -> Option<u32>) -> (Vec<Node>, Vec<Id>) {
    let mut needed = vec![false; nodes.len()];
    let mut stack: Vec<Id> = roots.to_vec();
    while let Some(id) = stack.pop() {
        if !std::mem::replace(&mut needed[id as usize], true) && column(id).is_none() {
            stack.extend(nodes[id as usize].operands());
        }
    }
    let mut new_id = vec![Id::MAX; nodes.len()];
    let mut out = Vec::new();
    for (id, &node) in nodes.iter().enumerate().filter(|&(i, _)| needed[i]) {
        let copied = match column(id as Id) {
            Some(col) => Node::Input(col),
            None => node.map_operands(|c| new_id[c as usize]),
        };
        new_id[id] = out.len() as Id;
        out.push(copied);
    }
    let roots = roots.iter().map(|&r| new_id[r as usize]).collect();
    (out, roots)
}

#[cfg(test)]
mod tests {
    use crate::Formula;

    /// The plan of `source` for lines of constant `line` along which `point` varies: (data
    /// columns, line columns), or None.
    fn stored(source: &str, line: &str, point: &str) -> Option<(usize, usize)> {
        let f = Formula::parse(source).unwrap();
        let index = |name: &str| f.params().iter().position(|p| p == name).unwrap();
        f.grid_plan(index(line), index(point)).map(|p| (p.data_columns(), p.line_columns()))
    }

    #[test]
    fn each_part_is_stored_by_the_stage_it_depends_on() {
        // cos(a*x) is constant along a line of constant a; nothing is along one of constant b.
        assert_eq!(stored("sin(b*cos(a*x))", "a", "b"), Some((0, 1)));
        assert_eq!(stored("sin(b*cos(a*x))", "b", "a"), Some((0, 0)));
        // x^3 and x^2 depend on the data alone; a*x^3 is stored per line because a sum of two
        // vectors reads it, into which nothing is fused.
        assert_eq!(stored("a*x^3 + b*x^2", "a", "b"), Some((2, 1)));
        // An affine map of the input is recomputed where it is read, not stored.
        assert_eq!(stored("tanh(k*x + b)", "k", "b"), Some((0, 0)));
        assert_eq!(stored("tanh(k*x + b)", "b", "k"), Some((0, 0)));
        // exp(-x^2) is data-only; a*sin(a*x) per line of a.
        assert_eq!(stored("a*sin(a*x) + b*exp(-x^2)", "a", "b"), Some((1, 1)));
        // A value that does not depend on the point's parameter has no point stage.
        assert_eq!(stored("sin(a*x) + b", "b", "a"), Some((0, 0)));
        assert_eq!(stored("sin(a*x) + b*b", "a", "b"), Some((0, 1)));
    }
}
