//! Expressions as a hash-consed DAG, with simplifying constructors, symbolic derivatives and
//! printing.
//!
//! Why a DAG with interning: a derivative repeats large parts of the function (the derivative of
//! sin(b*cos(a*x)) contains cos(a*x) and b*cos(a*x) again, and the Hessian repeats them once
//! more). Interning every node makes equal subexpressions one node, so the compiled program
//! computes each of them once per chunk (common-subexpression elimination for free), and node ids
//! are a topological order (children are always created before their parents), so derivatives
//! and compilation are simple loops over ids instead of recursions.
//!
//! The constructors fold constants and drop neutral elements (x*1, x*0, x+0, x^1, --x, ...), so
//! derivatives come out short enough to read and cheap to evaluate. x*0 = 0 even where x is
//! infinite or NaN: the usual convention of symbolic algebra.

use std::collections::HashMap;
use std::f64::consts::{LOG10_E, PI};
use std::fmt::Write as _;

use crate::fastmath;

/// Index of a node in its graph.
pub(crate) type Id = u32;

/// A built-in function of one argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Func {
    Sin,
    Cos,
    Tan,
    Exp,
    Ln,
    Log10,
    Sqrt,
    Abs,
    Tanh,
    Sigmoid,
    Relu,
    Softplus,
    Sinh,
    Cosh,
    Atan,
    Sign,
    Step,
}

impl Func {
    /// Every function with its name, in the order error messages list them.
    pub(crate) const ALL: [(&'static str, Func); 17] = [
        ("sin", Func::Sin),
        ("cos", Func::Cos),
        ("tan", Func::Tan),
        ("exp", Func::Exp),
        ("ln", Func::Ln),
        ("log10", Func::Log10),
        ("sqrt", Func::Sqrt),
        ("abs", Func::Abs),
        ("tanh", Func::Tanh),
        ("sigmoid", Func::Sigmoid),
        ("relu", Func::Relu),
        ("softplus", Func::Softplus),
        ("sinh", Func::Sinh),
        ("cosh", Func::Cosh),
        ("atan", Func::Atan),
        ("sign", Func::Sign),
        ("step", Func::Step),
    ];

    /// The name a formula uses for the function.
    pub(crate) fn name(self) -> &'static str {
        Func::ALL.iter().find(|(_, f)| *f == self).map_or("?", |(name, _)| name)
    }

    /// f(x) for one value. The vector kernels call the same per-element functions, so a value
    /// folded at parse time or computed once per call equals the one computed per sample.
    pub(crate) fn apply(self, x: f64) -> f64 {
        match self {
            Func::Sin => fastmath::sin(x),
            Func::Cos => fastmath::cos(x),
            Func::Tan => x.tan(),
            Func::Exp => fastmath::exp(x),
            Func::Ln => fastmath::ln(x),
            Func::Log10 => x.log10(),
            Func::Sqrt => x.sqrt(),
            Func::Abs => x.abs(),
            Func::Tanh => fastmath::tanh(x),
            Func::Sigmoid => fastmath::sigmoid(x),
            Func::Relu => relu(x),
            Func::Softplus => fastmath::softplus(x),
            Func::Sinh => x.sinh(),
            Func::Cosh => x.cosh(),
            Func::Atan => x.atan(),
            Func::Sign => sign(x),
            Func::Step => step(x),
        }
    }
}

/// max(0, x), keeping NaN.
#[inline(always)]
pub(crate) fn relu(x: f64) -> f64 {
    if x <= 0.0 {
        0.0
    } else {
        x
    }
}

/// -1, 0 or 1 by the sign of x (sign(+-0) = +-0), keeping NaN.
#[inline(always)]
pub(crate) fn sign(x: f64) -> f64 {
    let negative = if x < 0.0 { -1.0 } else { x };
    if x > 0.0 {
        1.0
    } else {
        negative
    }
}

/// The derivative of relu: 0 for x <= 0, 1 above, keeping NaN.
#[inline(always)]
pub(crate) fn step(x: f64) -> f64 {
    let low = if x <= 0.0 { 0.0 } else { x };
    if x > 0.0 {
        1.0
    } else {
        low
    }
}

/// x^n by repeated squaring: exact signs for negative x, x^2 = x*x exactly, x^0 = 1.
#[inline(always)]
pub(crate) fn powi(x: f64, n: i32) -> f64 {
    let mut base = x;
    let mut e = n.unsigned_abs();
    let mut acc = 1.0;
    loop {
        if e & 1 == 1 {
            acc *= base;
        }
        e >>= 1;
        if e == 0 {
            break;
        }
        base *= base;
    }
    if n < 0 {
        1.0 / acc
    } else {
        acc
    }
}

/// Largest |n| for which a constant exponent compiles to multiplications.
const MAX_INT_POWER: f64 = 64.0;

/// One node of an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Node {
    /// A number, as its bit pattern (so that nodes can be hashed).
    Const(u64),
    /// One of the model's inputs (a data column), by index.
    Input(u32),
    /// A parameter, by index.
    Param(u32),
    Neg(Id),
    Add(Id, Id),
    Sub(Id, Id),
    Mul(Id, Id),
    Div(Id, Id),
    /// a^b with powf semantics.
    Pow(Id, Id),
    /// a^n for a constant integer n, by multiplications.
    PowI(Id, i32),
    Call(Func, Id),
}

impl Node {
    /// The node's operands.
    pub(crate) fn operands(self) -> impl Iterator<Item = Id> {
        let (a, b) = match self {
            Node::Const(_) | Node::Input(_) | Node::Param(_) => (None, None),
            Node::Neg(a) | Node::PowI(a, _) | Node::Call(_, a) => (Some(a), None),
            Node::Add(a, b) | Node::Sub(a, b) | Node::Mul(a, b) | Node::Div(a, b) | Node::Pow(a, b) => {
                (Some(a), Some(b))
            }
        };
        a.into_iter().chain(b)
    }

    /// The same operation on the operands `f(a)` (and `f(b)`): a node copied into another graph.
    pub(crate) fn map_operands(self, f: impl Fn(Id) -> Id) -> Node {
        match self {
            Node::Const(_) | Node::Input(_) | Node::Param(_) => self,
            Node::Neg(a) => Node::Neg(f(a)),
            Node::PowI(a, n) => Node::PowI(f(a), n),
            Node::Call(g, a) => Node::Call(g, f(a)),
            Node::Add(a, b) => Node::Add(f(a), f(b)),
            Node::Sub(a, b) => Node::Sub(f(a), f(b)),
            Node::Mul(a, b) => Node::Mul(f(a), f(b)),
            Node::Div(a, b) => Node::Div(f(a), f(b)),
            Node::Pow(a, b) => Node::Pow(f(a), f(b)),
        }
    }
}

/// An interned expression DAG under construction.
#[derive(Debug, Default, Clone)]
pub(crate) struct Graph {
    nodes: Vec<Node>,
    /// Longest path from each node to a leaf, to refuse formulas too deep to print recursively.
    depth: Vec<u32>,
    index: HashMap<Node, Id>,
}

impl Graph {
    /// The nodes, indexed by id; every node's operands have smaller ids.
    pub(crate) fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    pub(crate) fn node(&self, id: Id) -> Node {
        self.nodes[id as usize]
    }

    pub(crate) fn depth(&self, id: Id) -> u32 {
        self.depth[id as usize]
    }

    fn intern(&mut self, node: Node) -> Id {
        if let Some(&id) = self.index.get(&node) {
            return id;
        }
        let id = Id::try_from(self.nodes.len()).expect("fewer than 2^32 nodes");
        let depth = node.operands().map(|c| self.depth[c as usize] + 1).max().unwrap_or(0);
        self.nodes.push(node);
        self.depth.push(depth);
        self.index.insert(node, id);
        id
    }

    fn value(&self, id: Id) -> Option<f64> {
        match self.node(id) {
            Node::Const(bits) => Some(f64::from_bits(bits)),
            _ => None,
        }
    }

    pub(crate) fn constant(&mut self, v: f64) -> Id {
        self.intern(Node::Const(v.to_bits()))
    }

    pub(crate) fn input(&mut self, index: u32) -> Id {
        self.intern(Node::Input(index))
    }

    pub(crate) fn param(&mut self, index: u32) -> Id {
        self.intern(Node::Param(index))
    }

    pub(crate) fn neg(&mut self, a: Id) -> Id {
        match self.node(a) {
            Node::Const(_) => self.constant(-self.value(a).unwrap_or(f64::NAN)),
            Node::Neg(inner) => inner,
            _ => self.intern(Node::Neg(a)),
        }
    }

    pub(crate) fn add(&mut self, a: Id, b: Id) -> Id {
        match (self.value(a), self.value(b), self.node(a), self.node(b)) {
            (Some(u), Some(v), _, _) => self.constant(u + v),
            (Some(0.0), _, _, _) => b,
            (_, Some(0.0), _, _) => a,
            (_, Some(v), _, _) if v < 0.0 => {
                let positive = self.constant(-v);
                self.sub(a, positive)
            }
            (_, _, _, Node::Neg(c)) => self.sub(a, c),
            (_, _, Node::Neg(c), _) => self.sub(b, c),
            _ => self.intern(Node::Add(a, b)),
        }
    }

    pub(crate) fn sub(&mut self, a: Id, b: Id) -> Id {
        match (self.value(a), self.value(b), self.node(b)) {
            (Some(u), Some(v), _) => self.constant(u - v),
            (_, Some(0.0), _) => a,
            (Some(0.0), _, _) => self.neg(b),
            (_, Some(v), _) if v < 0.0 => {
                let positive = self.constant(-v);
                self.add(a, positive)
            }
            (_, _, Node::Neg(c)) => self.add(a, c),
            _ => self.intern(Node::Sub(a, b)),
        }
    }

    pub(crate) fn mul(&mut self, a: Id, b: Id) -> Id {
        match (self.value(a), self.value(b), self.node(a), self.node(b)) {
            (Some(u), Some(v), _, _) => self.constant(u * v),
            (Some(0.0), _, _, _) | (_, Some(0.0), _, _) => self.constant(0.0),
            (Some(1.0), _, _, _) => b,
            (_, Some(1.0), _, _) => a,
            (Some(-1.0), _, _, _) => self.neg(b),
            (_, Some(-1.0), _, _) => self.neg(a),
            (_, Some(_), _, _) => self.mul(b, a),
            (Some(u), _, _, Node::Mul(c, d)) if self.value(c).is_some() => {
                let folded = self.constant(u * self.value(c).unwrap_or(f64::NAN));
                self.mul(folded, d)
            }
            (_, _, Node::Neg(c), _) => {
                let product = self.mul(c, b);
                self.neg(product)
            }
            (_, _, _, Node::Neg(d)) => {
                let product = self.mul(a, d);
                self.neg(product)
            }
            _ if a == b => self.powi(a, 2),
            _ => self.intern(Node::Mul(a, b)),
        }
    }

    pub(crate) fn div(&mut self, a: Id, b: Id) -> Id {
        match (self.value(a), self.value(b), self.node(a), self.node(b)) {
            (Some(u), Some(v), _, _) => self.constant(u / v),
            (Some(0.0), _, _, _) => a,
            (_, Some(1.0), _, _) => a,
            (_, Some(-1.0), _, _) => self.neg(a),
            (_, _, Node::Neg(c), _) => {
                let quotient = self.div(c, b);
                self.neg(quotient)
            }
            (_, _, _, Node::Neg(d)) => {
                let quotient = self.div(a, d);
                self.neg(quotient)
            }
            _ => self.intern(Node::Div(a, b)),
        }
    }

    /// a^b: integer constant exponents become [`Node::PowI`], everything else powf.
    pub(crate) fn pow(&mut self, a: Id, b: Id) -> Id {
        match (self.value(a), self.value(b)) {
            (_, Some(v)) if v == v.trunc() && v.abs() <= MAX_INT_POWER => self.powi(a, v as i32),
            (Some(u), Some(v)) => self.constant(u.powf(v)),
            _ => self.intern(Node::Pow(a, b)),
        }
    }

    pub(crate) fn powi(&mut self, a: Id, n: i32) -> Id {
        match (self.value(a), self.node(a)) {
            _ if n == 0 => self.constant(1.0),
            _ if n == 1 => a,
            (Some(u), _) => self.constant(powi(u, n)),
            (_, Node::Neg(c)) => {
                let p = self.powi(c, n);
                if n % 2 == 0 {
                    p
                } else {
                    self.neg(p)
                }
            }
            _ => self.intern(Node::PowI(a, n)),
        }
    }

    pub(crate) fn call(&mut self, f: Func, a: Id) -> Id {
        match self.value(a) {
            Some(u) => self.constant(f.apply(u)),
            None => self.intern(Node::Call(f, a)),
        }
    }

    /// Marks the nodes that `roots` depend on.
    fn reachable(&self, roots: &[Id]) -> Vec<bool> {
        let mut seen = vec![false; self.nodes.len()];
        let mut stack: Vec<Id> = roots.to_vec();
        while let Some(id) = stack.pop() {
            if !std::mem::replace(&mut seen[id as usize], true) {
                stack.extend(self.node(id).operands());
            }
        }
        seen
    }

    /// The partial derivatives of `roots` with respect to parameter `p`.
    pub(crate) fn derivatives(&mut self, roots: &[Id], p: u32) -> Vec<Id> {
        let needed = self.reachable(roots);
        let zero = self.constant(0.0);
        let one = self.constant(1.0);
        let mut d = vec![zero; needed.len()];
        // Ids are a topological order, so operands' derivatives are ready when a node needs them.
        for (id, _) in needed.iter().enumerate().filter(|(_, &n)| n) {
            let node = self.nodes[id];
            let dv = |c: Id| d[c as usize];
            d[id] = match node {
                Node::Const(_) | Node::Input(_) => zero,
                Node::Param(q) => {
                    if q == p {
                        one
                    } else {
                        zero
                    }
                }
                Node::Neg(a) => self.neg(dv(a)),
                Node::Add(a, b) => self.add(dv(a), dv(b)),
                Node::Sub(a, b) => self.sub(dv(a), dv(b)),
                Node::Mul(a, b) => {
                    let (da, db) = (dv(a), dv(b));
                    let left = self.mul(da, b);
                    let right = self.mul(a, db);
                    self.add(left, right)
                }
                Node::Div(a, b) => {
                    // (a/b)' = a'/b - a b'/b^2
                    let (da, db) = (dv(a), dv(b));
                    let first = self.div(da, b);
                    let adb = self.mul(a, db);
                    let b2 = self.powi(b, 2);
                    let second = self.div(adb, b2);
                    self.sub(first, second)
                }
                Node::PowI(a, n) => {
                    // (a^n)' = n a^(n-1) a'
                    let da = dv(a);
                    let coefficient = self.constant(f64::from(n));
                    let lower = self.powi(a, n - 1);
                    let slope = self.mul(coefficient, lower);
                    self.mul(slope, da)
                }
                Node::Pow(a, b) => {
                    // (a^b)' = b a^(b-1) a' + a^b ln(a) b'; the ln term vanishes when b' = 0.
                    let (da, db) = (dv(a), dv(b));
                    let b1 = self.sub(b, one);
                    let lower = self.pow(a, b1);
                    let slope = self.mul(b, lower);
                    let base_term = self.mul(slope, da);
                    let exponent_term = if db == zero {
                        zero
                    } else {
                        let ln_a = self.call(Func::Ln, a);
                        let id = id as Id;
                        let growth = self.mul(id, ln_a);
                        self.mul(growth, db)
                    };
                    self.add(base_term, exponent_term)
                }
                Node::Call(f, a) => {
                    let da = dv(a);
                    if da == zero {
                        zero
                    } else {
                        let slope = self.func_derivative(f, a, id as Id);
                        self.mul(slope, da)
                    }
                }
            };
        }
        roots.iter().map(|&r| d[r as usize]).collect()
    }

    /// f'(a), where `fa` is the node f(a) itself (reused by tanh and sigmoid).
    fn func_derivative(&mut self, f: Func, a: Id, fa: Id) -> Id {
        let one = self.constant(1.0);
        match f {
            Func::Sin => self.call(Func::Cos, a),
            Func::Cos => {
                let s = self.call(Func::Sin, a);
                self.neg(s)
            }
            Func::Tan => {
                let t2 = self.powi(fa, 2);
                self.add(one, t2)
            }
            Func::Exp => fa,
            Func::Ln => self.div(one, a),
            Func::Log10 => {
                let c = self.constant(LOG10_E);
                self.div(c, a)
            }
            Func::Sqrt => {
                let half = self.constant(0.5);
                self.div(half, fa)
            }
            Func::Abs => self.call(Func::Sign, a),
            Func::Tanh => {
                let t2 = self.powi(fa, 2);
                self.sub(one, t2)
            }
            Func::Sigmoid => {
                let complement = self.sub(one, fa);
                self.mul(fa, complement)
            }
            Func::Relu => self.call(Func::Step, a),
            Func::Softplus => self.call(Func::Sigmoid, a),
            Func::Sinh => self.call(Func::Cosh, a),
            Func::Cosh => self.call(Func::Sinh, a),
            Func::Atan => {
                let a2 = self.powi(a, 2);
                let den = self.add(one, a2);
                self.div(one, den)
            }
            Func::Sign | Func::Step => self.constant(0.0),
        }
    }
}

/// Binding strength of a node when printed: 1 sums, 2 products, 3 negations, 4 powers, 5 atoms.
fn precedence(nodes: &[Node], id: Id) -> u8 {
    match nodes[id as usize] {
        Node::Add(..) | Node::Sub(..) => 1,
        Node::Mul(..) | Node::Div(..) => 2,
        Node::Neg(_) => 3,
        Node::Const(bits) if f64::from_bits(bits).is_sign_negative() => 3,
        Node::Pow(..) | Node::PowI(..) => 4,
        Node::Const(_) | Node::Input(_) | Node::Param(_) | Node::Call(..) => 5,
    }
}

/// A number as a formula would write it: `pi`, integers without a fraction, others in Rust's
/// shortest round-trip form (`0.5`, `1e-7`).
fn write_number(out: &mut String, v: f64) {
    if v == PI {
        out.push_str("pi");
    } else if v.is_finite() && v == v.trunc() && v.abs() < 1e15 {
        let _ = write!(out, "{}", v as i64);
    } else {
        let _ = write!(out, "{v:?}");
    }
}

/// Prints node `id` with as few parentheses as keep it parsing back to the same tree.
pub(crate) fn write_expr(out: &mut String, nodes: &[Node], inputs: &[String], params: &[String], id: Id) {
    let operand = |out: &mut String, child: Id, min: u8| {
        if precedence(nodes, child) < min {
            out.push('(');
            write_expr(out, nodes, inputs, params, child);
            out.push(')');
        } else {
            write_expr(out, nodes, inputs, params, child);
        }
    };
    match nodes[id as usize] {
        Node::Const(bits) => write_number(out, f64::from_bits(bits)),
        Node::Input(k) => out.push_str(&inputs[k as usize]),
        Node::Param(p) => out.push_str(&params[p as usize]),
        Node::Neg(a) => {
            out.push('-');
            operand(out, a, 2);
        }
        Node::Add(a, b) | Node::Sub(a, b) => {
            let is_add = matches!(nodes[id as usize], Node::Add(..));
            operand(out, a, 1);
            out.push_str(if is_add { " + " } else { " - " });
            operand(out, b, 2);
        }
        Node::Mul(a, b) | Node::Div(a, b) => {
            let is_mul = matches!(nodes[id as usize], Node::Mul(..));
            operand(out, a, 2);
            out.push(if is_mul { '*' } else { '/' });
            // Products associate (a*(b*c) reads as a*b*c); a divisor needs its parentheses.
            operand(out, b, if is_mul { 2 } else { 3 });
        }
        Node::Pow(a, b) => {
            operand(out, a, 5);
            out.push('^');
            operand(out, b, 3);
        }
        Node::PowI(a, n) => {
            operand(out, a, 5);
            let _ = write!(out, "^{n}");
        }
        Node::Call(f, a) => {
            out.push_str(f.name());
            out.push('(');
            write_expr(out, nodes, inputs, params, a);
            out.push(')');
        }
    }
}
