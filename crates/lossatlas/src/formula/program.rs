//! Compilation of expression DAGs into column-wise programs, and their interpreter.
//!
//! Why column-wise: interpreting a formula sample by sample pays a dispatch (a `match` and operand
//! fetches) for every operation of every sample, and stops the compiler from vectorizing. Here
//! each operation runs over a whole chunk of [`CHUNK`] samples in a tight loop over slices, like
//! numpy, so dispatch is paid once per operation per chunk and the loops (including the
//! [`fastmath`](crate::fastmath) functions) compile to SIMD code.
//!
//! The program has two parts:
//! - a scalar prelude for the nodes that do not depend on x (parameters, constants, and
//!   expressions of them such as `ln(a)`), evaluated once per call into "slots";
//! - vector steps for the nodes that depend on x, each writing a register (a chunk-sized buffer)
//!   or, when the node is an output used nowhere else, the output slice directly.
//!
//! Registers are reused as soon as their last reader has run, so a formula needs a handful of
//! them and they stay in the L1 cache. Scratch memory is thread-local, so evaluation allocates
//! nothing after its first call on a thread and `&Formula` can be shared between threads.

use std::cell::RefCell;

use super::expr::{powi, relu, sign, step, Func, Id, Node};
use crate::fastmath;

/// Samples per chunk: long loops amortise dispatch; a register (2 KiB) stays small enough that
/// all registers of a typical formula fit the L1 cache.
const CHUNK: usize = 256;

/// Where a program writes: the value, one Jacobian row, or one Hessian row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Value,
    Jacobian(usize),
    Hessian(usize),
}

/// The caller's output slices, each a sequence of rows of `xs.len()` samples.
pub(crate) struct Outputs<'a> {
    pub(crate) value: &'a mut [f64],
    pub(crate) jacobian: &'a mut [f64],
    pub(crate) hessian: &'a mut [f64],
}

impl Outputs<'_> {
    fn chunk(&mut self, target: Target, n: usize, start: usize, len: usize) -> &mut [f64] {
        let (buffer, row) = match target {
            Target::Value => (&mut *self.value, 0),
            Target::Jacobian(r) => (&mut *self.jacobian, r),
            Target::Hessian(r) => (&mut *self.hessian, r),
        };
        &mut buffer[row * n + start..][..len]
    }
}

/// One-operand operations.
#[derive(Debug, Clone, Copy)]
enum Unary {
    Neg,
    PowI(i32),
    Call(Func),
}

/// Two-operand operations.
#[derive(Debug, Clone, Copy)]
enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

impl Unary {
    fn apply(self, x: f64) -> f64 {
        match self {
            Unary::Neg => -x,
            Unary::PowI(n) => powi(x, n),
            Unary::Call(f) => f.apply(x),
        }
    }
}

impl Binary {
    fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            Binary::Add => a + b,
            Binary::Sub => a - b,
            Binary::Mul => a * b,
            Binary::Div => a / b,
            Binary::Pow => a.powf(b),
        }
    }
}

/// The operation a node performs and its operands.
enum Operation {
    Leaf,
    Unary(Unary, Id),
    Binary(Binary, Id, Id),
}

fn operation(node: Node) -> Operation {
    match node {
        Node::Const(_) | Node::X | Node::Param(_) => Operation::Leaf,
        Node::Neg(a) => Operation::Unary(Unary::Neg, a),
        Node::PowI(a, n) => Operation::Unary(Unary::PowI(n), a),
        Node::Call(f, a) => Operation::Unary(Unary::Call(f), a),
        Node::Add(a, b) => Operation::Binary(Binary::Add, a, b),
        Node::Sub(a, b) => Operation::Binary(Binary::Sub, a, b),
        Node::Mul(a, b) => Operation::Binary(Binary::Mul, a, b),
        Node::Div(a, b) => Operation::Binary(Binary::Div, a, b),
        Node::Pow(a, b) => Operation::Binary(Binary::Pow, a, b),
    }
}

/// Where a vector step reads an operand.
#[derive(Debug, Clone, Copy)]
enum Operand {
    /// The samples themselves.
    X,
    Reg(usize),
    /// A value that is the same for every sample.
    Slot(usize),
}

/// Where a vector step writes.
#[derive(Debug, Clone, Copy)]
enum Dest {
    Reg(usize),
    Target(Target),
}

/// A scalar step of the prelude: `slots[dst] = op(slots[a], slots[b])` (`b` unused when unary).
#[derive(Debug, Clone)]
enum ScalarStep {
    Unary { op: Unary, a: usize, dst: usize },
    Binary { op: Binary, a: usize, b: usize, dst: usize },
}

/// A vector step, run once per chunk.
#[derive(Debug, Clone)]
enum Step {
    Unary { op: Unary, a: Operand, dst: Dest },
    Binary { op: Binary, a: Operand, b: Operand, dst: Dest },
    /// Copies x or a register into an output, or fills an output with a slot's value.
    Store { src: Operand, target: Target },
}

/// A compiled set of expressions over one graph.
#[derive(Debug, Clone)]
pub(crate) struct Program {
    n_params: usize,
    /// Initial slot values: parameters (overwritten per call), then constants, then prelude results.
    slots: Vec<f64>,
    prelude: Vec<ScalarStep>,
    steps: Vec<Step>,
    n_regs: usize,
}

/// Register numbers, reusing freed ones first (they are likelier to be in cache).
struct Registers {
    free: Vec<usize>,
    count: usize,
}

impl Registers {
    fn take(&mut self) -> usize {
        self.free.pop().unwrap_or_else(|| {
            self.count += 1;
            self.count - 1
        })
    }
}

impl Program {
    /// Compiles the expressions `outputs` (node and where it goes) of the graph `nodes`.
    pub(crate) fn compile(nodes: &[Node], n_params: usize, outputs: &[(Id, Target)]) -> Program {
        let n = nodes.len();
        let mut needed = vec![false; n];
        let mut stack: Vec<Id> = outputs.iter().map(|&(id, _)| id).collect();
        while let Some(id) = stack.pop() {
            if !std::mem::replace(&mut needed[id as usize], true) {
                stack.extend(nodes[id as usize].operands());
            }
        }

        // Classify nodes: varying (depends on x) ones become vector steps, the rest slots.
        let mut varying = vec![false; n];
        let mut slot_of = vec![usize::MAX; n];
        let mut slots: Vec<f64> = vec![0.0; n_params];
        let mut prelude = Vec::new();
        for id in (0..n).filter(|&i| needed[i]) {
            let node = nodes[id];
            varying[id] = node == Node::X || node.operands().any(|c| varying[c as usize]);
            if varying[id] {
                continue;
            }
            slot_of[id] = match node {
                Node::Param(p) => p as usize,
                Node::Const(bits) => {
                    slots.push(f64::from_bits(bits));
                    slots.len() - 1
                }
                _ => {
                    let dst = slots.len();
                    slots.push(0.0);
                    let slot = |c: Id| slot_of[c as usize];
                    prelude.push(match operation(node) {
                        Operation::Unary(op, a) => ScalarStep::Unary { op, a: slot(a), dst },
                        Operation::Binary(op, a, b) => ScalarStep::Binary { op, a: slot(a), b: slot(b), dst },
                        Operation::Leaf => unreachable!("leaves are handled above"),
                    });
                    dst
                }
            };
        }

        // Readers left per register-held node, and the outputs each node feeds.
        let mut readers = vec![0usize; n];
        let mut targets: Vec<Vec<Target>> = vec![Vec::new(); n];
        for id in (0..n).filter(|&i| varying[i]) {
            for c in nodes[id].operands() {
                readers[c as usize] += 1;
            }
        }
        for &(id, target) in outputs {
            targets[id as usize].push(target);
        }

        let mut steps = Vec::new();
        for &(id, target) in outputs {
            if nodes[id as usize] == Node::X {
                steps.push(Step::Store { src: Operand::X, target });
            } else if !varying[id as usize] {
                steps.push(Step::Store { src: Operand::Slot(slot_of[id as usize]), target });
            }
        }
        let mut regs = Registers { free: Vec::new(), count: 0 };
        let mut reg_of = vec![usize::MAX; n];
        for id in (0..n).filter(|&i| varying[i] && nodes[i] != Node::X) {
            let dst = match targets[id].as_slice() {
                [only] if readers[id] == 0 => Dest::Target(*only),
                _ => {
                    reg_of[id] = regs.take();
                    Dest::Reg(reg_of[id])
                }
            };
            let operand = |c: Id| {
                let c = c as usize;
                if nodes[c] == Node::X {
                    Operand::X
                } else if varying[c] {
                    Operand::Reg(reg_of[c])
                } else {
                    Operand::Slot(slot_of[c])
                }
            };
            let operands: Vec<Id> = nodes[id].operands().collect();
            steps.push(match operation(nodes[id]) {
                Operation::Unary(op, a) => Step::Unary { op, a: operand(a), dst },
                Operation::Binary(op, a, b) => Step::Binary { op, a: operand(a), b: operand(b), dst },
                Operation::Leaf => unreachable!("x is handled above"),
            });
            if let Dest::Reg(r) = dst {
                for &target in &targets[id] {
                    steps.push(Step::Store { src: Operand::Reg(r), target });
                }
                if readers[id] == 0 {
                    regs.free.push(r);
                }
            }
            // The destination was taken before the operands are freed, so a step never writes a
            // register it reads.
            for c in operands {
                let c = c as usize;
                if reg_of[c] != usize::MAX {
                    readers[c] -= 1;
                    if readers[c] == 0 {
                        regs.free.push(reg_of[c]);
                    }
                }
            }
        }
        Program { n_params, slots, prelude, steps, n_regs: regs.count }
    }

    /// Evaluates the program at `params` over `xs`, writing every output row.
    pub(crate) fn run(&self, params: &[f64], xs: &[f64], outputs: &mut Outputs<'_>) {
        thread_local! {
            static SCRATCH: RefCell<(Vec<f64>, Vec<f64>)> = const { RefCell::new((Vec::new(), Vec::new())) };
        }
        SCRATCH.with_borrow_mut(|(slots, regs)| {
            slots.clear();
            slots.extend_from_slice(&self.slots);
            slots[..self.n_params].copy_from_slice(params);
            for step in &self.prelude {
                match *step {
                    ScalarStep::Unary { op, a, dst } => slots[dst] = op.apply(slots[a]),
                    ScalarStep::Binary { op, a, b, dst } => slots[dst] = op.apply(slots[a], slots[b]),
                }
            }
            if regs.len() < self.n_regs * CHUNK {
                regs.resize(self.n_regs * CHUNK, 0.0);
            }
            let n = xs.len();
            for (c, x) in xs.chunks(CHUNK).enumerate() {
                let start = c * CHUNK;
                for step in &self.steps {
                    self.run_step(step, x, slots, regs, outputs, n, start);
                }
            }
        });
    }

    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn run_step(
        &self,
        step: &Step,
        x: &[f64],
        slots: &[f64],
        regs: &mut [f64],
        outputs: &mut Outputs<'_>,
        n: usize,
        start: usize,
    ) {
        let len = x.len();
        let dest = match *step {
            Step::Unary { dst, .. } | Step::Binary { dst, .. } => dst,
            Step::Store { src, target } => {
                let out = outputs.chunk(target, n, start, len);
                match src {
                    Operand::X => out.copy_from_slice(x),
                    Operand::Reg(r) => out.copy_from_slice(&regs[r * CHUNK..][..len]),
                    Operand::Slot(s) => out.fill(slots[s]),
                }
                return;
            }
        };
        // Split the registers around the destination so that it can be written while the
        // others are read (the compiler never makes a step read its own destination).
        let split = match dest {
            Dest::Reg(r) => r,
            Dest::Target(_) => self.n_regs,
        };
        let (below, rest) = regs.split_at_mut(split * CHUNK);
        let (own, above) = rest.split_at_mut(rest.len().min(CHUNK));
        let read = |operand: Operand| match operand {
            Operand::X => Arg::Vector(x),
            Operand::Slot(s) => Arg::Scalar(slots[s]),
            Operand::Reg(r) if r < split => Arg::Vector(&below[r * CHUNK..][..len]),
            Operand::Reg(r) => Arg::Vector(&above[(r - split - 1) * CHUNK..][..len]),
        };
        let out = match dest {
            Dest::Reg(_) => &mut own[..len],
            Dest::Target(target) => outputs.chunk(target, n, start, len),
        };
        match *step {
            Step::Unary { op, a, .. } => match read(a) {
                Arg::Vector(a) => unary_kernel(op, a, out),
                Arg::Scalar(a) => out.fill(op.apply(a)),
            },
            Step::Binary { op, a, b, .. } => binary_kernel(op, read(a), read(b), out),
            Step::Store { .. } => unreachable!("stores return above"),
        }
    }
}

/// An operand as a kernel sees it.
#[derive(Clone, Copy)]
enum Arg<'a> {
    Vector(&'a [f64]),
    Scalar(f64),
}

/// `out[i] = f(a[i])`, one monomorphized (and so vectorizable) loop per function.
#[inline(always)]
fn map(a: &[f64], out: &mut [f64], f: impl Fn(f64) -> f64) {
    for (o, &v) in out.iter_mut().zip(a) {
        *o = f(v);
    }
}

fn unary_kernel(op: Unary, a: &[f64], out: &mut [f64]) {
    match op {
        Unary::Neg => map(a, out, |v| -v),
        // Constant exponents unroll into straight multiplications.
        Unary::PowI(2) => map(a, out, |v| powi(v, 2)),
        Unary::PowI(3) => map(a, out, |v| powi(v, 3)),
        Unary::PowI(4) => map(a, out, |v| powi(v, 4)),
        Unary::PowI(-1) => map(a, out, |v| powi(v, -1)),
        Unary::PowI(-2) => map(a, out, |v| powi(v, -2)),
        Unary::PowI(n) => map(a, out, |v| powi(v, n)),
        Unary::Call(f) => match f {
            Func::Sin => fastmath::sin_slice(a, out),
            Func::Cos => fastmath::cos_slice(a, out),
            Func::Exp => map(a, out, fastmath::exp),
            Func::Ln => map(a, out, fastmath::ln),
            Func::Sqrt => map(a, out, f64::sqrt),
            Func::Abs => map(a, out, f64::abs),
            Func::Tanh => map(a, out, fastmath::tanh),
            Func::Sigmoid => map(a, out, fastmath::sigmoid),
            Func::Relu => map(a, out, relu),
            Func::Softplus => map(a, out, fastmath::softplus),
            Func::Sign => map(a, out, sign),
            Func::Step => map(a, out, step),
            // Rare functions: the standard library's scalar versions.
            Func::Tan | Func::Log10 | Func::Sinh | Func::Cosh | Func::Atan => map(a, out, |v| f.apply(v)),
        },
    }
}

fn binary_kernel(op: Binary, a: Arg<'_>, b: Arg<'_>, out: &mut [f64]) {
    macro_rules! each {
        ($f:expr) => {
            match (a, b) {
                (Arg::Vector(a), Arg::Vector(b)) => {
                    for ((o, &u), &v) in out.iter_mut().zip(a).zip(b) {
                        *o = $f(u, v);
                    }
                }
                (Arg::Vector(a), Arg::Scalar(v)) => map(a, out, |u| $f(u, v)),
                (Arg::Scalar(u), Arg::Vector(b)) => map(b, out, |v| $f(u, v)),
                (Arg::Scalar(u), Arg::Scalar(v)) => out.fill($f(u, v)),
            }
        };
    }
    match op {
        Binary::Add => each!(|u: f64, v: f64| u + v),
        Binary::Sub => each!(|u: f64, v: f64| u - v),
        Binary::Mul => each!(|u: f64, v: f64| u * v),
        Binary::Div => each!(|u: f64, v: f64| u / v),
        Binary::Pow => each!(f64::powf),
    }
}
