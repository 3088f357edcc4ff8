//! Compilation of expression DAGs into column-wise programs, and their interpreter.
//!
//! Why column-wise: interpreting a formula sample by sample pays a dispatch (a `match` and operand
//! fetches) for every operation of every sample, and stops the compiler from vectorizing. Here
//! each operation runs over a whole chunk of [`CHUNK`] samples in a tight loop over slices, like
//! numpy, so dispatch is paid once per operation per chunk and the loops (including the
//! [`crate::fastmath`] functions) compile to SIMD code.
//!
//! The program has two parts:
//! - a scalar prelude for the nodes that do not depend on x (parameters, constants, and
//!   expressions of them such as `ln(a)`), evaluated once per call into "slots";
//! - vector steps for the nodes that depend on x, each writing a register (a chunk-sized buffer)
//!   or, when the node is an output used nowhere else, the output slice directly.
//!
//! Models are mostly functions of affine maps of x (`tanh(k*x + b)`, `cos(a*x)`), and a pass over
//! a chunk costs about as much as the arithmetic of a cheap operation, so an operand of the form
//! `v*s + t` (s and t the same for every sample) is fused into the loop of the one-operand step
//! that reads it: `tanh(k*x + b)` is a single pass. Absent parts are skipped, not replaced by
//! `*1` or `+0`, so fused results are bit-identical to unfused ones.
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
    /// The part of `target`'s row that `chunk` covers.
    fn chunk(&mut self, target: Target, chunk: &Chunk<'_>) -> &mut [f64] {
        let (buffer, row) = match target {
            Target::Value => (&mut *self.value, 0),
            Target::Jacobian(r) => (&mut *self.jacobian, r),
            Target::Hessian(r) => (&mut *self.hessian, r),
        };
        &mut buffer[row * chunk.row_len + chunk.start..][..chunk.len]
    }
}

/// The samples of one chunk and where they sit among all of them.
struct Chunk<'a> {
    /// Every input column, whole; the chunk is `start..start + len` of each.
    inputs: &'a [&'a [f64]],
    start: usize,
    len: usize,
    /// The length of every output row: the number of samples.
    row_len: usize,
}

impl<'a> Chunk<'a> {
    /// This chunk of input column `k`.
    #[inline]
    fn input(&self, k: usize) -> &'a [f64] {
        &self.inputs[k][self.start..self.start + self.len]
    }
}

fn is_input(node: Node) -> bool {
    matches!(node, Node::Input(_))
}

/// One-operand operations.
#[derive(Debug, Clone, Copy)]
enum Unary {
    Neg,
    PowI(i32),
    Call(Func),
    /// The (affine) input itself: a fused `v*s + t` that is stored because several steps read it.
    Identity,
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
            Unary::Identity => x,
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
        Node::Const(_) | Node::Input(_) | Node::Param(_) => Operation::Leaf,
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

/// A vector a step reads.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// An input column of the samples.
    Input(usize),
    Reg(usize),
}

/// An operand of a two-operand step.
#[derive(Debug, Clone, Copy)]
enum Operand {
    Vector(Source),
    /// `src * slots[scale]`, fused into the two-operand step that reads it (`a*u + b*v` is one
    /// pass, not three).
    Scaled(Source, usize),
    /// A value that is the same for every sample.
    Slot(usize),
}

/// The operand of a one-operand step: `src * slots[scale] + slots[shift]`, each part optional.
#[derive(Debug, Clone, Copy)]
struct Input {
    src: Source,
    scale: Option<usize>,
    shift: Option<usize>,
}

/// Where a vector step writes.
#[derive(Debug, Clone, Copy)]
enum Dest {
    Reg(usize),
    Target(Target),
}

/// A scalar step of the prelude.
#[derive(Debug, Clone)]
enum ScalarStep {
    Unary { op: Unary, a: usize, dst: usize },
    Binary { op: Binary, a: usize, b: usize, dst: usize },
}

/// A vector step, run once per chunk.
#[derive(Debug, Clone)]
enum Step {
    Unary {
        op: Unary,
        a: Input,
        dst: Dest,
    },
    Binary {
        op: Binary,
        a: Operand,
        b: Operand,
        dst: Dest,
    },
    /// Copies x or a register into an output, or fills an output with a slot's value.
    Store {
        src: Operand,
        target: Target,
    },
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

/// A node `src * scale + shift` with per-call scale and shift (slots), each optional.
#[derive(Debug, Clone, Copy)]
struct Affine {
    src: Id,
    scale: Option<usize>,
    shift: Option<usize>,
    /// The product node `src * scale` folded into this sum, which then needs no step of its own.
    absorbs: Option<Id>,
}

/// What the compiler knows about the graph while it builds a program.
struct Analysis<'n> {
    nodes: &'n [Node],
    /// Depends on x: computed per sample rather than once per call.
    varying: Vec<bool>,
    slot_of: Vec<usize>,
    slots: Vec<f64>,
    prelude: Vec<ScalarStep>,
    /// Steps reading each node, before fusion.
    readers: Vec<usize>,
    /// Whether a one-operand step reads the node.
    read_by_unary: Vec<bool>,
    /// A node reading the node (the only one when `readers` is 1).
    reader: Vec<usize>,
    targets: Vec<Vec<Target>>,
    affine: Vec<Option<Affine>>,
}

impl Analysis<'_> {
    fn uniform(&self, id: Id) -> Option<usize> {
        (!self.varying[id as usize]).then(|| self.slot_of[id as usize])
    }

    /// The affine form of a varying node, if it has one; a sum can absorb a product that only
    /// it reads.
    fn affine_form(&mut self, id: Id) -> Option<Affine> {
        let node = self.nodes[id as usize];
        if let Node::Mul(a, b) = node {
            let (src, scale) = match (self.uniform(a), self.uniform(b)) {
                (None, Some(s)) => (a, s),
                (Some(s), None) => (b, s),
                _ => return None,
            };
            return Some(Affine { src, scale: Some(scale), shift: None, absorbs: None });
        }
        let (m, t, subtract) = match (node, self.uniform_operands(node)) {
            (Node::Add(a, _), (None, Some(t))) | (Node::Add(_, a), (Some(t), None)) => (a, t, false),
            (Node::Sub(a, _), (None, Some(t))) => (a, t, true),
            _ => return None,
        };
        // m - t is exactly m + (-t).
        let shift = if subtract {
            let dst = self.slots.len();
            self.slots.push(0.0);
            self.prelude.push(ScalarStep::Unary { op: Unary::Neg, a: t, dst });
            dst
        } else {
            t
        };
        let mu = m as usize;
        Some(match self.affine[mu] {
            Some(inner) if inner.shift.is_none() && self.readers[mu] == 1 && self.targets[mu].is_empty() => {
                Affine { src: inner.src, scale: inner.scale, shift: Some(shift), absorbs: Some(m) }
            }
            _ => Affine { src: m, scale: None, shift: Some(shift), absorbs: None },
        })
    }

    fn uniform_operands(&self, node: Node) -> (Option<usize>, Option<usize>) {
        match node {
            Node::Add(a, b) | Node::Sub(a, b) => (self.uniform(a), self.uniform(b)),
            _ => (None, None),
        }
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
        let mut an = Analysis {
            nodes,
            varying: vec![false; n],
            slot_of: vec![usize::MAX; n],
            slots: vec![0.0; n_params],
            prelude: Vec::new(),
            readers: vec![0; n],
            read_by_unary: vec![false; n],
            reader: vec![usize::MAX; n],
            targets: vec![Vec::new(); n],
            affine: vec![None; n],
        };

        // Nodes that do not depend on x become slots, computed once per call.
        for id in (0..n).filter(|&i| needed[i]) {
            let node = nodes[id];
            an.varying[id] = is_input(node) || node.operands().any(|c| an.varying[c as usize]);
            if an.varying[id] {
                continue;
            }
            an.slot_of[id] = match node {
                Node::Param(p) => p as usize,
                Node::Const(bits) => {
                    an.slots.push(f64::from_bits(bits));
                    an.slots.len() - 1
                }
                _ => {
                    let dst = an.slots.len();
                    an.slots.push(0.0);
                    let slot = |c: Id| an.slot_of[c as usize];
                    let step = match operation(node) {
                        Operation::Unary(op, a) => ScalarStep::Unary { op, a: slot(a), dst },
                        Operation::Binary(op, a, b) => ScalarStep::Binary { op, a: slot(a), b: slot(b), dst },
                        Operation::Leaf => unreachable!("leaves are parameters or constants"),
                    };
                    an.prelude.push(step);
                    dst
                }
            };
        }

        // Who reads what, then which nodes are affine and which of those fuse into their reader.
        for id in (0..n).filter(|&i| an.varying[i]) {
            let unary = matches!(operation(nodes[id]), Operation::Unary(..));
            for c in nodes[id].operands() {
                an.readers[c as usize] += 1;
                an.read_by_unary[c as usize] |= unary;
                an.reader[c as usize] = id;
            }
        }
        for &(id, target) in outputs {
            an.targets[id as usize].push(target);
        }
        for (id, &node) in nodes.iter().enumerate() {
            if an.varying[id] && !is_input(node) {
                an.affine[id] = an.affine_form(id as Id);
            }
        }
        let mut absorbed = vec![false; n];
        for f in an.affine.iter().flatten() {
            if let Some(m) = f.absorbs {
                absorbed[m as usize] = true;
            }
        }
        // An affine node read by one step and stored nowhere is computed inside that step's loop:
        // any affine form by a one-operand step, a scaled vector (`v*s`) by a two-operand step
        // (a reader that is not affine itself, so it is a step and not fused anywhere).
        let fused: Vec<bool> = (0..n)
            .map(|i| match an.affine[i] {
                Some(f) if an.readers[i] == 1 && an.targets[i].is_empty() => {
                    let r = an.reader[i];
                    an.read_by_unary[i]
                        || (f.shift.is_none()
                            && f.scale.is_some()
                            && an.affine[r].is_none()
                            && matches!(operation(nodes[r]), Operation::Binary(..)))
                }
                _ => false,
            })
            .collect();

        // The one-operand input a step gets for operand c.
        let input_of = |c: Id| match an.affine[c as usize] {
            Some(f) if fused[c as usize] => (f.src, f.scale, f.shift),
            _ => (c, None, None),
        };
        // Nodes with a step, and the register-held nodes each step reads.
        let with_step: Vec<usize> =
            (0..n).filter(|&i| an.varying[i] && !is_input(nodes[i]) && !absorbed[i] && !fused[i]).collect();
        let reads = |id: usize| -> Vec<Id> {
            let vectors: Vec<Id> = match (an.affine[id], operation(nodes[id])) {
                (Some(f), _) => vec![f.src],
                (None, Operation::Unary(_, a)) => vec![input_of(a).0],
                (None, Operation::Binary(_, a, b)) => vec![input_of(a).0, input_of(b).0],
                (None, Operation::Leaf) => Vec::new(),
            };
            vectors.into_iter().filter(|&v| an.varying[v as usize] && !is_input(nodes[v as usize])).collect()
        };
        let mut uses = vec![0usize; n];
        for &id in &with_step {
            for v in reads(id) {
                uses[v as usize] += 1;
            }
        }

        let mut steps = Vec::new();
        for &(id, target) in outputs {
            if let Node::Input(k) = nodes[id as usize] {
                steps.push(Step::Store { src: Operand::Vector(Source::Input(k as usize)), target });
            } else if let Some(slot) = an.uniform(id) {
                steps.push(Step::Store { src: Operand::Slot(slot), target });
            }
        }
        let mut regs = Registers { free: Vec::new(), count: 0 };
        let mut reg_of = vec![usize::MAX; n];
        for &id in &with_step {
            // The destination is taken before the operands are freed, so a step never writes a
            // register it reads.
            let dst = match an.targets[id].as_slice() {
                [only] if uses[id] == 0 => Dest::Target(*only),
                _ => {
                    reg_of[id] = regs.take();
                    Dest::Reg(reg_of[id])
                }
            };
            let source = |v: Id| match nodes[v as usize] {
                Node::Input(k) => Source::Input(k as usize),
                _ => Source::Reg(reg_of[v as usize]),
            };
            let operand = |c: Id| match (an.uniform(c), an.affine[c as usize]) {
                (Some(slot), _) => Operand::Slot(slot),
                (None, Some(Affine { src, scale: Some(scale), .. })) if fused[c as usize] => {
                    Operand::Scaled(source(src), scale)
                }
                (None, _) => Operand::Vector(source(c)),
            };
            let input = |(src, scale, shift): (Id, Option<usize>, Option<usize>)| Input {
                src: source(src),
                scale,
                shift,
            };
            steps.push(match (an.affine[id], operation(nodes[id])) {
                (Some(f), _) => Step::Unary { op: Unary::Identity, a: input((f.src, f.scale, f.shift)), dst },
                (None, Operation::Unary(op, a)) => Step::Unary { op, a: input(input_of(a)), dst },
                (None, Operation::Binary(op, a, b)) => Step::Binary { op, a: operand(a), b: operand(b), dst },
                (None, Operation::Leaf) => unreachable!("x is not a step and other leaves are slots"),
            });
            if let Dest::Reg(r) = dst {
                for &target in &an.targets[id] {
                    steps.push(Step::Store { src: Operand::Vector(Source::Reg(r)), target });
                }
                if uses[id] == 0 {
                    regs.free.push(r);
                }
            }
            for v in reads(id) {
                uses[v as usize] -= 1;
                if uses[v as usize] == 0 {
                    regs.free.push(reg_of[v as usize]);
                }
            }
        }
        Program { n_params, slots: an.slots, prelude: an.prelude, steps, n_regs: regs.count }
    }

    /// Evaluates the program at `params` over the input columns `inputs` (all of one length, as
    /// many as the formula has inputs, each as long as the value row), writing every output row.
    pub(crate) fn run(&self, params: &[f64], inputs: &[&[f64]], outputs: &mut Outputs<'_>) {
        let arch = arch_for_rows(outputs.value.len());
        self.run_on(arch, params, inputs, outputs)
    }

    /// [`Program::run`] with the kernels compiled for `arch` (tests compare every path the CPU
    /// has with the baseline, `pulp::Arch::Scalar`).
    pub(crate) fn run_on(
        &self,
        arch: pulp::Arch,
        params: &[f64],
        inputs: &[&[f64]],
        outputs: &mut Outputs<'_>,
    ) {
        let row_len = outputs.value.len();
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
            let slots = &slots[..];
            arch.dispatch(ChunkLoop { program: self, row_len, inputs, slots, regs, outputs });
        });
    }

    #[inline(always)]
    fn run_step<S: pulp::Simd>(
        &self,
        simd: S,
        step: &Step,
        chunk: &Chunk<'_>,
        slots: &[f64],
        regs: &mut [f64],
        outputs: &mut Outputs<'_>,
    ) {
        let len = chunk.len;
        let dest = match *step {
            Step::Unary { dst, .. } | Step::Binary { dst, .. } => dst,
            Step::Store { src, target } => {
                let out = outputs.chunk(target, chunk);
                match src {
                    Operand::Vector(Source::Input(k)) => out.copy_from_slice(chunk.input(k)),
                    Operand::Vector(Source::Reg(r)) => out.copy_from_slice(&regs[r * CHUNK..][..len]),
                    Operand::Slot(s) => out.fill(slots[s]),
                    Operand::Scaled(..) => unreachable!("scaled operands are fused, never stored"),
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
        let vector = |src: Source| match src {
            Source::Input(k) => chunk.input(k),
            Source::Reg(r) if r < split => &below[r * CHUNK..][..len],
            Source::Reg(r) => &above[(r - split - 1) * CHUNK..][..len],
        };
        let out = match dest {
            Dest::Reg(_) => &mut own[..len],
            Dest::Target(target) => outputs.chunk(target, chunk),
        };
        match *step {
            Step::Unary { op, a, .. } => {
                let (scale, shift) = (a.scale.map(|s| slots[s]), a.shift.map(|s| slots[s]));
                unary_kernel(simd, op, vector(a.src), scale, shift, out);
            }
            Step::Binary { op, a, b, .. } => {
                let arg = |o: Operand| match o {
                    Operand::Vector(src) => Arg::Vector(vector(src)),
                    Operand::Scaled(src, s) => Arg::Scaled(vector(src), slots[s]),
                    Operand::Slot(s) => Arg::Scalar(slots[s]),
                };
                binary_kernel(op, arg(a), arg(b), out);
            }
            Step::Store { .. } => unreachable!("stores return above"),
        }
    }
}

/// The chunk loop with every kernel inlined into it, compiled once for each instruction set
/// `arch` may pick (see [`kernels_arch`]).
///
/// Why a struct and not a closure: pulp compiles `with_simd` inside its `#[target_feature]`
/// function, where an `#[inline(always)]` method is inlined and so gets the wider instruction
/// set; a closure passed to `Arch::dispatch` is reached through a separate `FnOnce::call_once`
/// shim that rustc 1.95 does not inline there, so its body stayed baseline SSE2 code on every
/// path (found by looking at the machine code: no ymm or zmm register anywhere in it).
struct ChunkLoop<'a, 'o> {
    program: &'a Program,
    row_len: usize,
    inputs: &'a [&'a [f64]],
    slots: &'a [f64],
    regs: &'a mut [f64],
    outputs: &'a mut Outputs<'o>,
}

impl pulp::WithSimd for ChunkLoop<'_, '_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) {
        let ChunkLoop { program, row_len, inputs, slots, regs, outputs } = self;
        for start in (0..row_len).step_by(CHUNK) {
            let len = CHUNK.min(row_len - start);
            let chunk = Chunk { inputs, start, len, row_len };
            for step in &program.steps {
                program.run_step(simd, step, &chunk, slots, regs, outputs);
            }
        }
    }
}

/// The instruction set for loops over rows of `len` samples: [`kernels_arch`], except for rows
/// of a few samples (the seed's six), which never fill a wide register: those run on AVX2 where
/// the CPU has it. The baseline build would call the C library once per fused multiply-add of
/// the exponential family (see [`crate::fastmath`]), and the AVX-512 loops measured 1.25x slower
/// than the AVX2 ones for `sin(b*cos(a*x))` on six samples (AVX2 and the old FMA-free baseline
/// path were within 7% of each other).
pub(crate) fn arch_for_rows(len: usize) -> pulp::Arch {
    const WIDE_ROWS_FROM: usize = 64;
    if len >= WIDE_ROWS_FROM {
        return kernels_arch();
    }
    static SHORT_ROWS: std::sync::OnceLock<pulp::Arch> = std::sync::OnceLock::new();
    *SHORT_ROWS.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        if let Some(v3) = pulp::x86::V3::try_new() {
            return pulp::Arch::V3(v3);
        }
        kernels_arch()
    })
}

/// The instruction set the grid kernels run with, chosen once per process from what the CPU has
/// (pulp's runtime detection: AVX-512, x86-64-v4, else AVX2 with FMA, x86-64-v3, else the
/// baseline x86-64 build).
///
/// The kernels are plain loops over `f64` and the vector functions of `fastmath::lanes`; their
/// only fused multiply-adds are explicit ones (Rust never contracts `a * b + c` by itself), which
/// round once on every path, so every path computes bit-identical results: the wider registers
/// change how many samples a loop handles at once, not what it computes for each.
pub(crate) fn kernels_arch() -> pulp::Arch {
    static ARCH: std::sync::OnceLock<pulp::Arch> = std::sync::OnceLock::new();
    *ARCH.get_or_init(pulp::Arch::new)
}

/// An operand as a two-operand kernel sees it.
#[derive(Clone, Copy)]
enum Arg<'a> {
    Vector(&'a [f64]),
    /// A vector times a number, multiplied inside the step's loop.
    Scaled(&'a [f64], f64),
    Scalar(f64),
}

/// `out[i] = f(a[i])`, one monomorphized (and so vectorizable) loop per function.
#[inline(always)]
fn map(a: &[f64], out: &mut [f64], f: impl Fn(f64) -> f64) {
    for (o, &v) in out.iter_mut().zip(a) {
        *o = f(v);
    }
}

/// `out[i] = op(a[i] * scale + shift)`, with absent parts skipped.
#[inline(always)]
fn unary_kernel<S: pulp::Simd>(
    simd: S,
    op: Unary,
    a: &[f64],
    scale: Option<f64>,
    shift: Option<f64>,
    out: &mut [f64],
) {
    // On the wide instruction sets the exponential family runs on explicit vectors (see
    // `fastmath::lanes` for why); elsewhere, the scalar functions the compiler vectorizes.
    if let (false, Unary::Call(f @ (Func::Tanh | Func::Exp | Func::Sigmoid))) = (S::IS_SCALAR, op) {
        return lanes_kernel(simd, f, a, scale, shift, out);
    }
    // One loop per function and affine shape, with the affine map inlined into it.
    macro_rules! with_input {
        (|$pre:ident| $body:expr) => {
            match (scale, shift) {
                (None, None) => {
                    let $pre = |v: f64| v;
                    $body
                }
                (Some(s), None) => {
                    let $pre = |v: f64| v * s;
                    $body
                }
                (None, Some(t)) => {
                    let $pre = |v: f64| v + t;
                    $body
                }
                (Some(s), Some(t)) => {
                    let $pre = |v: f64| v * s + t;
                    $body
                }
            }
        };
    }
    with_input!(|pre| match op {
        Unary::Identity => map(a, out, pre),
        Unary::Neg => map(a, out, |v| -pre(v)),
        // Constant exponents unroll into straight multiplications.
        Unary::PowI(2) => map(a, out, |v| powi(pre(v), 2)),
        Unary::PowI(3) => map(a, out, |v| powi(pre(v), 3)),
        Unary::PowI(-1) => map(a, out, |v| powi(pre(v), -1)),
        Unary::PowI(n) => map(a, out, |v| powi(pre(v), n)),
        Unary::Call(f) => match f {
            Func::Sin => fastmath::sin_map(a, out, pre),
            Func::Cos => fastmath::cos_map(a, out, pre),
            Func::Exp => map(a, out, |v| fastmath::exp(pre(v))),
            Func::Ln => map(a, out, |v| fastmath::ln(pre(v))),
            Func::Sqrt => map(a, out, |v| pre(v).sqrt()),
            Func::Abs => map(a, out, |v| pre(v).abs()),
            Func::Tanh => map(a, out, |v| fastmath::tanh(pre(v))),
            Func::Sigmoid => map(a, out, |v| fastmath::sigmoid(pre(v))),
            Func::Relu => map(a, out, |v| relu(pre(v))),
            Func::Softplus => map(a, out, |v| fastmath::softplus(pre(v))),
            Func::Sign => map(a, out, |v| sign(pre(v))),
            Func::Step => map(a, out, |v| step(pre(v))),
            // Rare functions: the standard library's scalar versions.
            Func::Tan | Func::Log10 | Func::Sinh | Func::Cosh | Func::Atan =>
                map(a, out, |v| f.apply(pre(v))),
        },
    })
}

/// [`unary_kernel`] for a function of [`fastmath::lanes`].
#[inline(always)]
fn lanes_kernel<S: pulp::Simd>(
    s: S,
    f: Func,
    a: &[f64],
    scale: Option<f64>,
    shift: Option<f64>,
    out: &mut [f64],
) {
    use fastmath::lanes::{map, Exp, Sigmoid, Tanh};
    match f {
        Func::Tanh => map::<S, Tanh>(s, a, out, scale, shift),
        Func::Exp => map::<S, Exp>(s, a, out, scale, shift),
        Func::Sigmoid => map::<S, Sigmoid>(s, a, out, scale, shift),
        _ => unreachable!("{f:?} has no vector version"),
    }
}

#[inline(always)]
fn binary_kernel(op: Binary, a: Arg<'_>, b: Arg<'_>, out: &mut [f64]) {
    macro_rules! each {
        ($f:expr) => {
            match (a, b) {
                (Arg::Vector(a), Arg::Vector(b)) => {
                    for ((o, &u), &v) in out.iter_mut().zip(a).zip(b) {
                        *o = $f(u, v);
                    }
                }
                (Arg::Vector(a), Arg::Scaled(b, t)) => {
                    for ((o, &u), &v) in out.iter_mut().zip(a).zip(b) {
                        *o = $f(u, v * t);
                    }
                }
                (Arg::Scaled(a, s), Arg::Vector(b)) => {
                    for ((o, &u), &v) in out.iter_mut().zip(a).zip(b) {
                        *o = $f(u * s, v);
                    }
                }
                (Arg::Scaled(a, s), Arg::Scaled(b, t)) => {
                    for ((o, &u), &v) in out.iter_mut().zip(a).zip(b) {
                        *o = $f(u * s, v * t);
                    }
                }
                (Arg::Scaled(a, s), Arg::Scalar(v)) => map(a, out, |u| $f(u * s, v)),
                (Arg::Scalar(u), Arg::Scaled(b, t)) => map(b, out, |v| $f(u, v * t)),
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
