//! The forward pass of a network on a block of samples held across SIMD lanes, for the plane's
//! many evaluations of the same data.
//!
//! A block is [`BLOCK`] samples stored feature-major: `x[k * BLOCK + s]` is feature k of sample s,
//! so one vector register holds one feature of 8 or 16 consecutive samples. A dense layer then
//! needs no packing and no transpose: each output row is a sum over inputs of a broadcast weight
//! times a vector of samples, computed for a tile of outputs x two vectors of samples held in
//! registers, with the bias and the activation applied before the tile is stored. The layer's
//! outputs come out in the same layout for the next layer, and the loss (softmax cross-entropy or
//! squared error) is taken across the lanes too. This is what a 10-wide output layer or a 64 x 64
//! hidden layer needs: a general matrix product pads, packs and dispatches per call, which costs
//! more than the arithmetic at these sizes.
//!
//! The instruction set is chosen at run time by [`pulp`] (AVX-512, else AVX2+FMA, else scalar),
//! so a generic x86-64 build runs the widest kernel the CPU has. All arithmetic in a block is
//! lane-wise; a sample's result does not depend on its neighbours or on the vector width beyond
//! the rounding of the fused multiply-adds (tested against plain loops).

use pulp::Simd;

use super::mlp::{specialize, Activation};
use super::plane::PlaneTask;
use super::real::Real;

/// Samples per block: a multiple of every vector width (1, 4, 8, 16 lanes).
pub(crate) const BLOCK: usize = 64;

/// Outputs per register tile of a dense layer; each output holds two vectors of samples.
pub(crate) const DENSE_TILE: usize = 6;

/// The vector operations the block kernels need, for `f32` and `f64` (a supertrait of
/// [`Real`], sealed: the module is private).
pub trait Lanes: Copy + Default + Send + Sync + 'static {
    /// A vector of this type under the instruction set `S`.
    type V<S: Simd>: Copy;
    /// `x` (whose length is a multiple of the vector width) as vectors.
    fn as_simd<S: Simd>(x: &[Self]) -> &[Self::V<S>];
    /// `x` (whose length is a multiple of the vector width) as mutable vectors.
    fn as_mut_simd<S: Simd>(x: &mut [Self]) -> &mut [Self::V<S>];
    /// Every lane `x`.
    fn v_splat<S: Simd>(s: S, x: Self) -> Self::V<S>;
    /// a + b.
    fn v_add<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S>;
    /// a - b.
    fn v_sub<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S>;
    /// a * b.
    fn v_mul<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S>;
    /// a * b + c, fused.
    fn v_mul_add<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>, c: Self::V<S>) -> Self::V<S>;
    /// max(a, 0) with relu's convention (0 at 0 and for NaN, as `a > 0 ? a : 0`).
    fn v_relu<S: Simd>(s: S, a: Self::V<S>) -> Self::V<S>;
    /// The lanes where a > b take a's value and `ia`, the others b's value and `ib`.
    fn v_select_greater<S: Simd>(
        s: S,
        a: Self::V<S>,
        b: Self::V<S>,
        ia: Self::V<S>,
        ib: Self::V<S>,
    ) -> (Self::V<S>, Self::V<S>);
    /// tanh of each lane.
    fn v_tanh<S: Simd>(s: S, a: Self::V<S>) -> Self::V<S>;
    /// e^x of each lane, for x <= 0 (the shifted logits of a softmax); NaN for NaN.
    fn v_exp_nonpositive<S: Simd>(s: S, a: Self::V<S>) -> Self::V<S>;
    /// ln x of each lane, for x >= 1 (a softmax's sum of e^(z - max)); NaN for NaN.
    fn v_ln_above_one<S: Simd>(s: S, a: Self::V<S>) -> Self::V<S>;
    /// The lanes where a == b take `yes`, the others `no`.
    fn v_select_equal<S: Simd>(
        s: S,
        a: Self::V<S>,
        b: Self::V<S>,
        yes: Self::V<S>,
        no: Self::V<S>,
    ) -> Self::V<S>;
    /// One plane task's sums under the widest instruction set the CPU has. A method of the
    /// concrete types, not a generic function, so the kernels are compiled here, optimised,
    /// whatever the caller's build: instantiated in a crate built without optimisation (a
    /// doctest, a user's debug build) their unrolled register tiles overflowed a worker
    /// thread's stack, and ran many times slower.
    fn plane_task(task: PlaneTask<'_, '_, Self>) -> Vec<(f64, usize)>
    where
        Self: Real;
}

/// Applies `f` to each lane of `v` through a small array (for the functions without a vector
/// form here: erf for GELU, and f64's exp and tanh).
#[inline(always)]
fn lanewise<S: Simd, T: Lanes>(v: T::V<S>, f: impl Fn(T) -> T) -> T::V<S> {
    let lanes = std::mem::size_of::<T::V<S>>() / std::mem::size_of::<T>();
    let mut buffer = [T::default(); 16];
    T::as_mut_simd::<S>(&mut buffer[..lanes])[0] = v;
    for x in &mut buffer[..lanes] {
        *x = f(*x);
    }
    T::as_simd::<S>(&buffer[..lanes])[0]
}

/// e^x for x <= 0 in single precision, vectorised: x = n ln2 + r with |r| <= ln2/2, e^r from
/// Cephes' degree-5 polynomial (expf), scaled by 2^n built in the exponent bits. Below -87 the
/// result is e^-87 ~ 1.6e-38 instead of a subnormal or 0; a softmax adds it to a sum >= 1, where
/// neither counts.
#[inline(always)]
#[allow(clippy::excessive_precision)]
fn exp_f32s<S: Simd>(s: S, x: S::f32s) -> S::f32s {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_375;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5 * 2^23: adding it rounds to an integer in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    let input = x;
    let x = s.max_f32s(x, s.splat_f32s(-87.0));
    let t = s.mul_add_f32s(x, s.splat_f32s(LOG2E), s.splat_f32s(ROUND));
    let n = s.sub_f32s(t, s.splat_f32s(ROUND));
    let r = s.negate_mul_add_f32s(n, s.splat_f32s(LN2_HI), x);
    let r = s.negate_mul_add_f32s(n, s.splat_f32s(LN2_LO), r);
    let mut p = s.splat_f32s(1.987_569_150_0e-4);
    for c in
        [1.398_199_950_7e-3, 8.333_451_907_3e-3, 4.166_579_589_4e-2, 1.666_666_545_9e-1, 5.000_000_120_1e-1]
    {
        p = s.mul_add_f32s(p, r, s.splat_f32s(c));
    }
    let r2 = s.mul_f32s(r, r);
    let y = s.add_f32s(s.mul_add_f32s(p, r2, r), s.splat_f32s(1.0));
    // 2^n: the integer n (bits of t minus bits of ROUND) plus the bias 127, shifted into the
    // exponent field by multiplying by 2^23.
    let bits = s.sub_i32s(s.transmute_i32s_f32s(t), s.splat_i32s(ROUND.to_bits() as i32));
    let bits = s.mul_i32s(s.add_i32s(bits, s.splat_i32s(127)), s.splat_i32s(1 << 23));
    let scale = s.transmute_f32s_i32s(bits);
    keep_nan(s, input, s.mul_f32s(y, scale))
}

/// ln x for x >= 1 in single precision, vectorised: x = 2^e m with m in [sqrt(2)/2, sqrt(2)),
/// ln x = e ln2 + ln m with ln m from Cephes' polynomial (logf) in m - 1.
#[inline(always)]
#[allow(clippy::excessive_precision)]
fn ln_f32s<S: Simd>(s: S, x: S::f32s) -> S::f32s {
    let bits = s.transmute_u32s_f32s(x);
    // The biased exponent (x >= 1 is positive: no sign bit) and the mantissa scaled to [1, 2).
    let exponent = s.wrapping_dyn_shr_u32s(bits, s.splat_u32s(23));
    let m = s.transmute_f32s_u32s(
        s.or_u32s(s.and_u32s(bits, s.splat_u32s(0x007f_ffff)), s.splat_u32s(0x3f80_0000)),
    );
    // The exponent as a float: its integer in the low mantissa bits of 2^23, minus 2^23 + 127.
    let e = s.sub_f32s(
        s.transmute_f32s_u32s(s.or_u32s(exponent, s.splat_u32s(0x4b00_0000))),
        s.splat_f32s(8_388_608.0 + 127.0),
    );
    let big = s.greater_than_f32s(m, s.splat_f32s(std::f32::consts::SQRT_2));
    let m = s.select_f32s(big, s.mul_f32s(m, s.splat_f32s(0.5)), m);
    let e = s.select_f32s(big, s.add_f32s(e, s.splat_f32s(1.0)), e);
    let f = s.sub_f32s(m, s.splat_f32s(1.0));
    let z = s.mul_f32s(f, f);
    let mut p = s.splat_f32s(7.037_683_629_2e-2);
    for c in [
        -1.151_461_031_0e-1,
        1.167_699_874_0e-1,
        -1.242_014_084_6e-1,
        1.424_932_278_7e-1,
        -1.666_805_766_5e-1,
        2.000_071_476_5e-1,
        -2.499_999_399_3e-1,
        3.333_333_117_4e-1,
    ] {
        p = s.mul_add_f32s(p, f, s.splat_f32s(c));
    }
    let y = s.mul_f32s(s.mul_f32s(p, f), z);
    let y = s.mul_add_f32s(e, s.splat_f32s(-2.121_944_4e-4), y);
    let y = s.mul_add_f32s(z, s.splat_f32s(-0.5), y);
    let y = s.add_f32s(f, y);
    keep_nan(s, x, s.mul_add_f32s(e, s.splat_f32s(0.693_359_375), y))
}

/// `y`, except NaN where `x` is NaN (the clamps would turn a NaN into a number).
#[inline(always)]
fn keep_nan<S: Simd>(s: S, x: S::f32s, y: S::f32s) -> S::f32s {
    s.select_f32s(s.equal_f32s(x, x), y, x)
}

/// [`tanh_f32`] on every lane: the same rational function and clamp, evaluated with fused
/// multiply-adds.
#[inline(always)]
#[allow(clippy::excessive_precision)]
fn tanh_f32s<S: Simd>(s: S, x: S::f32s) -> S::f32s {
    const CLAMP: f32 = 7.905_311_107_635_498_05;
    let c = s.min_f32s(s.max_f32s(x, s.splat_f32s(-CLAMP)), s.splat_f32s(CLAMP));
    let x2 = s.mul_f32s(c, c);
    let mut p = s.splat_f32s(-2.760_768_477_423_55e-16);
    for a in [
        2.000_187_904_824_77e-13,
        -8.604_671_522_137_35e-11,
        5.122_297_090_371_14e-8,
        1.485_722_357_179_79e-5,
        6.372_619_288_754_36e-4,
        4.893_524_558_917_86e-3,
    ] {
        p = s.mul_add_f32s(x2, p, s.splat_f32s(a));
    }
    let p = s.mul_f32s(p, c);
    let mut q = s.splat_f32s(1.198_258_394_667_02e-6);
    for b in [1.185_347_056_866_54e-4, 2.268_434_632_439_00e-3, 4.893_525_185_543_85e-3] {
        q = s.mul_add_f32s(x2, q, s.splat_f32s(b));
    }
    // +-inf are clamped to +-CLAMP, where tanh is +-1 in f32.
    keep_nan(s, x, s.div_f32s(p, q))
}

impl Lanes for f32 {
    fn plane_task(task: PlaneTask<'_, '_, f32>) -> Vec<(f64, usize)> {
        dispatch(task)
    }
    type V<S: Simd> = S::f32s;
    #[inline(always)]
    fn as_simd<S: Simd>(x: &[f32]) -> &[S::f32s] {
        let (v, rest) = S::as_simd_f32s(x);
        debug_assert!(rest.is_empty());
        v
    }
    #[inline(always)]
    fn as_mut_simd<S: Simd>(x: &mut [f32]) -> &mut [S::f32s] {
        let (v, rest) = S::as_mut_simd_f32s(x);
        debug_assert!(rest.is_empty());
        v
    }
    #[inline(always)]
    fn v_splat<S: Simd>(s: S, x: f32) -> S::f32s {
        s.splat_f32s(x)
    }
    #[inline(always)]
    fn v_add<S: Simd>(s: S, a: S::f32s, b: S::f32s) -> S::f32s {
        s.add_f32s(a, b)
    }
    #[inline(always)]
    fn v_sub<S: Simd>(s: S, a: S::f32s, b: S::f32s) -> S::f32s {
        s.sub_f32s(a, b)
    }
    #[inline(always)]
    fn v_mul<S: Simd>(s: S, a: S::f32s, b: S::f32s) -> S::f32s {
        s.mul_f32s(a, b)
    }
    #[inline(always)]
    fn v_mul_add<S: Simd>(s: S, a: S::f32s, b: S::f32s, c: S::f32s) -> S::f32s {
        s.mul_add_f32s(a, b, c)
    }
    #[inline(always)]
    fn v_relu<S: Simd>(s: S, a: S::f32s) -> S::f32s {
        s.select_f32s(s.greater_than_f32s(a, s.splat_f32s(0.0)), a, s.splat_f32s(0.0))
    }
    #[inline(always)]
    fn v_select_greater<S: Simd>(
        s: S,
        a: S::f32s,
        b: S::f32s,
        ia: S::f32s,
        ib: S::f32s,
    ) -> (S::f32s, S::f32s) {
        let m = s.greater_than_f32s(a, b);
        (s.select_f32s(m, a, b), s.select_f32s(m, ia, ib))
    }
    #[inline(always)]
    fn v_tanh<S: Simd>(s: S, a: S::f32s) -> S::f32s {
        tanh_f32s(s, a)
    }
    #[inline(always)]
    fn v_exp_nonpositive<S: Simd>(s: S, a: S::f32s) -> S::f32s {
        exp_f32s(s, a)
    }
    #[inline(always)]
    fn v_ln_above_one<S: Simd>(s: S, a: S::f32s) -> S::f32s {
        ln_f32s(s, a)
    }
    #[inline(always)]
    fn v_select_equal<S: Simd>(s: S, a: S::f32s, b: S::f32s, yes: S::f32s, no: S::f32s) -> S::f32s {
        s.select_f32s(s.equal_f32s(a, b), yes, no)
    }
}

impl Lanes for f64 {
    fn plane_task(task: PlaneTask<'_, '_, f64>) -> Vec<(f64, usize)> {
        dispatch(task)
    }
    type V<S: Simd> = S::f64s;
    #[inline(always)]
    fn as_simd<S: Simd>(x: &[f64]) -> &[S::f64s] {
        let (v, rest) = S::as_simd_f64s(x);
        debug_assert!(rest.is_empty());
        v
    }
    #[inline(always)]
    fn as_mut_simd<S: Simd>(x: &mut [f64]) -> &mut [S::f64s] {
        let (v, rest) = S::as_mut_simd_f64s(x);
        debug_assert!(rest.is_empty());
        v
    }
    #[inline(always)]
    fn v_splat<S: Simd>(s: S, x: f64) -> S::f64s {
        s.splat_f64s(x)
    }
    #[inline(always)]
    fn v_add<S: Simd>(s: S, a: S::f64s, b: S::f64s) -> S::f64s {
        s.add_f64s(a, b)
    }
    #[inline(always)]
    fn v_sub<S: Simd>(s: S, a: S::f64s, b: S::f64s) -> S::f64s {
        s.sub_f64s(a, b)
    }
    #[inline(always)]
    fn v_mul<S: Simd>(s: S, a: S::f64s, b: S::f64s) -> S::f64s {
        s.mul_f64s(a, b)
    }
    #[inline(always)]
    fn v_mul_add<S: Simd>(s: S, a: S::f64s, b: S::f64s, c: S::f64s) -> S::f64s {
        s.mul_add_f64s(a, b, c)
    }
    #[inline(always)]
    fn v_relu<S: Simd>(s: S, a: S::f64s) -> S::f64s {
        s.select_f64s(s.greater_than_f64s(a, s.splat_f64s(0.0)), a, s.splat_f64s(0.0))
    }
    #[inline(always)]
    fn v_select_greater<S: Simd>(
        s: S,
        a: S::f64s,
        b: S::f64s,
        ia: S::f64s,
        ib: S::f64s,
    ) -> (S::f64s, S::f64s) {
        let m = s.greater_than_f64s(a, b);
        (s.select_f64s(m, a, b), s.select_f64s(m, ia, ib))
    }
    #[inline(always)]
    fn v_tanh<S: Simd>(_: S, a: S::f64s) -> S::f64s {
        lanewise::<S, f64>(a, crate::fastmath::tanh)
    }
    #[inline(always)]
    fn v_exp_nonpositive<S: Simd>(_: S, a: S::f64s) -> S::f64s {
        lanewise::<S, f64>(a, f64::exp)
    }
    #[inline(always)]
    fn v_ln_above_one<S: Simd>(_: S, a: S::f64s) -> S::f64s {
        lanewise::<S, f64>(a, f64::ln)
    }
    #[inline(always)]
    fn v_select_equal<S: Simd>(s: S, a: S::f64s, b: S::f64s, yes: S::f64s, no: S::f64s) -> S::f64s {
        s.select_f64s(s.equal_f64s(a, b), yes, no)
    }
}

/// f(z) on every lane, `f` a constant activation (see `specialize!`).
#[inline(always)]
fn activate<S: Simd, T: Real>(s: S, f: Activation, z: T::V<S>) -> T::V<S> {
    match f {
        Activation::Relu => T::v_relu(s, z),
        Activation::Tanh => T::v_tanh(s, z),
        // (1 + tanh(z / 2)) / 2, as Activation::at.
        Activation::Sigmoid => {
            let half = T::v_splat(s, T::from_f64(0.5));
            T::v_mul_add(s, half, T::v_tanh(s, T::v_mul(s, half, z)), half)
        }
        Activation::Gelu => lanewise::<S, T>(z, |z| f.at(z)),
        Activation::Identity => z,
    }
}

/// `out = f(base + u * x1 + bias)` over a block, `base`, `x1` and `out` being `width x BLOCK`
/// (feature-major) and `bias` one value per feature: a plane point's first layer from the
/// precomputed products.
#[inline(always)]
pub(crate) fn first_layer<S: Simd, T: Real>(
    s: S,
    f: Activation,
    u: T,
    base: &[T],
    x1: &[T],
    bias: &[T],
    out: &mut [T],
) {
    let (base, x1, out) = (T::as_simd::<S>(base), T::as_simd::<S>(x1), T::as_mut_simd::<S>(out));
    let per_row = out.len() / bias.len().max(1);
    let ut = T::v_splat(s, u);
    specialize!(f, f => {
        for (((o, b), x), &c) in out
            .chunks_exact_mut(per_row)
            .zip(base.chunks_exact(per_row))
            .zip(x1.chunks_exact(per_row))
            .zip(bias)
        {
            let c = T::v_splat(s, c);
            for ((o, &b), &x) in o.iter_mut().zip(b).zip(x) {
                *o = activate::<S, T>(s, f, T::v_add(s, T::v_mul_add(s, ut, x, b), c));
            }
        }
    })
}

/// The widest second layer [`first_two_layers`] takes in one register tile under `S`: 10
/// outputs (20 accumulators) with AVX-512's 32 registers, 5 with 16; `None` when wider.
#[inline(always)]
pub(crate) fn fused_width<S: Simd>(outputs: usize) -> Option<usize> {
    let most = if S::REGISTER_COUNT >= 32 { 10 } else { 5 };
    (outputs <= most).then_some(outputs)
}

/// A plane point's first two layers in one pass over the block, for a narrow second layer
/// (at most [`fused_width`] outputs): each first-layer activation `f1(base + u x1 + bias)` is
/// formed in registers and used at once by every output of the second layer, so the
/// first layer's activations (`width x BLOCK`, too big for the L1 cache with a wide first layer)
/// are never stored. `second` is the second layer's packed weight and bias; `out` gets
/// `f2(W2 a1 + b2)`, `outputs x BLOCK`.
#[inline(always)]
pub(crate) fn first_two_layers<S: Simd, T: Real>(
    s: S,
    [f1, f2]: [Activation; 2],
    u: T,
    (base, x1, first_bias): (&[T], &[T], &[T]),
    (packed, bias): (&[T], &[T]),
    out: &mut [T],
) {
    let (base, x1, out) = (T::as_simd::<S>(base), T::as_simd::<S>(x1), T::as_mut_simd::<S>(out));
    let per_row = base.len() / first_bias.len();
    debug_assert!(fused_width::<S>(bias.len()).is_some(), "a second layer too wide to fuse");
    specialize!(f1, f1 => {
        match bias.len() {
            10 => fused::<S, T, 10>(s, f1, u, (base, x1, first_bias), (packed, bias), out, per_row),
            9 => fused::<S, T, 9>(s, f1, u, (base, x1, first_bias), (packed, bias), out, per_row),
            8 => fused::<S, T, 8>(s, f1, u, (base, x1, first_bias), (packed, bias), out, per_row),
            7 => fused::<S, T, 7>(s, f1, u, (base, x1, first_bias), (packed, bias), out, per_row),
            6 => fused::<S, T, 6>(s, f1, u, (base, x1, first_bias), (packed, bias), out, per_row),
            5 => fused::<S, T, 5>(s, f1, u, (base, x1, first_bias), (packed, bias), out, per_row),
            4 => fused::<S, T, 4>(s, f1, u, (base, x1, first_bias), (packed, bias), out, per_row),
            3 => fused::<S, T, 3>(s, f1, u, (base, x1, first_bias), (packed, bias), out, per_row),
            2 => fused::<S, T, 2>(s, f1, u, (base, x1, first_bias), (packed, bias), out, per_row),
            // fused_width keeps wider layers out.
            _ => fused::<S, T, 1>(s, f1, u, (base, x1, first_bias), (packed, bias), out, per_row),
        }
    });
    if f2 != Activation::Identity {
        specialize!(f2, f2 => {
            for o in out.iter_mut() {
                *o = activate::<S, T>(s, f2, *o);
            }
        })
    }
}

/// [`first_two_layers`] for `J` second-layer outputs before the second activation, two vectors
/// of samples at a time (one for the scalar fallback's single-lane vectors, whose rows are a
/// whole block).
#[inline(always)]
#[allow(clippy::type_complexity)]
fn fused<S: Simd, T: Real, const J: usize>(
    s: S,
    f1: Activation,
    u: T,
    (base, x1, first_bias): (&[T::V<S>], &[T::V<S>], &[T]),
    (packed, bias): (&[T], &[T]),
    out: &mut [T::V<S>],
    per_row: usize,
) {
    let u = T::v_splat(s, u);
    let mut c = 0;
    while c + 2 <= per_row {
        let mut acc = [[T::v_splat(s, T::default()); 2]; J];
        for (a, &b) in acc.iter_mut().zip(bias) {
            *a = [T::v_splat(s, b); 2];
        }
        for (((w, b), x), &c0) in packed
            .chunks_exact(J)
            .zip(base.chunks_exact(per_row))
            .zip(x1.chunks_exact(per_row))
            .zip(first_bias)
        {
            let c0 = T::v_splat(s, c0);
            // (No closures here: a closure is compiled without the instruction set's features.)
            let a = [
                activate::<S, T>(s, f1, T::v_add(s, T::v_mul_add(s, u, x[c], b[c]), c0)),
                activate::<S, T>(s, f1, T::v_add(s, T::v_mul_add(s, u, x[c + 1], b[c + 1]), c0)),
            ];
            for (r, &w) in w.iter().enumerate() {
                let w = T::v_splat(s, w);
                acc[r][0] = T::v_mul_add(s, w, a[0], acc[r][0]);
                acc[r][1] = T::v_mul_add(s, w, a[1], acc[r][1]);
            }
        }
        for (r, a) in acc.iter().enumerate() {
            out[r * per_row + c] = a[0];
            out[r * per_row + c + 1] = a[1];
        }
        c += 2;
    }
    if c < per_row {
        let mut acc = [T::v_splat(s, T::default()); J];
        for (a, &b) in acc.iter_mut().zip(bias) {
            *a = T::v_splat(s, b);
        }
        for (((w, b), x), &c0) in packed
            .chunks_exact(J)
            .zip(base.chunks_exact(per_row))
            .zip(x1.chunks_exact(per_row))
            .zip(first_bias)
        {
            let a = activate::<S, T>(s, f1, T::v_add(s, T::v_mul_add(s, u, x[c], b[c]), T::v_splat(s, c0)));
            for (r, &w) in w.iter().enumerate() {
                acc[r] = T::v_mul_add(s, T::v_splat(s, w), a, acc[r]);
            }
        }
        for (r, &a) in acc.iter().enumerate() {
            out[r * per_row + c] = a;
        }
    }
}

/// A dense layer's weight `[outputs, inputs]` (row-major, PyTorch's layout) rearranged for the
/// kernels: tile by tile of up to `tile` outputs ([`DENSE_TILE`] for [`dense`], all of them for
/// [`first_two_layers`]), input by input, the tile's weights side by side, so the kernel reads
/// them in order.
pub(crate) fn pack<T: Copy>(weight: &[T], outputs: usize, inputs: usize, tile: usize) -> Vec<T> {
    let mut packed = Vec::with_capacity(outputs * inputs);
    for j0 in (0..outputs).step_by(tile) {
        let rows = (outputs - j0).min(tile);
        for k in 0..inputs {
            packed.extend((0..rows).map(|r| weight[(j0 + r) * inputs + k]));
        }
    }
    packed
}

/// `out = f(W input + b)` on a block: `packed` is the weight W as [`pack`] lays it out, `input`
/// is `inputs x BLOCK` and `out` `outputs x BLOCK`, both feature-major.
#[inline(always)]
pub(crate) fn dense<S: Simd, T: Real>(
    s: S,
    f: Activation,
    packed: &[T],
    bias: &[T],
    input: &[T],
    out: &mut [T],
) {
    let outputs = bias.len();
    let inputs = packed.len() / outputs;
    let input = T::as_simd::<S>(input);
    let out = T::as_mut_simd::<S>(out);
    let per_row = input.len() / inputs;
    specialize!(f, f => {
        let mut j = 0;
        while j < outputs {
            let rows = (outputs - j).min(DENSE_TILE);
            let w = &packed[j * inputs..(j + rows) * inputs];
            let (b, o) = (&bias[j..j + rows], &mut out[j * per_row..(j + rows) * per_row]);
            match rows {
                6 => columns::<S, T, 6>(s, f, w, b, input, o, per_row),
                5 => columns::<S, T, 5>(s, f, w, b, input, o, per_row),
                4 => columns::<S, T, 4>(s, f, w, b, input, o, per_row),
                3 => columns::<S, T, 3>(s, f, w, b, input, o, per_row),
                2 => columns::<S, T, 2>(s, f, w, b, input, o, per_row),
                _ => columns::<S, T, 1>(s, f, w, b, input, o, per_row),
            }
            j += rows;
        }
    })
}

/// `J` outputs of a dense layer over a block, as many vectors of samples at a time as the
/// registers hold: 4 with AVX-512's 32 registers (24 accumulators), else 2, else 1.
#[inline(always)]
fn columns<S: Simd, T: Real, const J: usize>(
    s: S,
    f: Activation,
    packed: &[T],
    bias: &[T],
    input: &[T::V<S>],
    out: &mut [T::V<S>],
    per_row: usize,
) {
    let mut c = 0;
    if S::REGISTER_COUNT >= 320 {
        while c + 4 <= per_row {
            tile::<S, T, J, 4>(s, f, packed, bias, input, out, per_row, c);
            c += 4;
        }
    }
    while c + 2 <= per_row {
        tile::<S, T, J, 2>(s, f, packed, bias, input, out, per_row, c);
        c += 2;
    }
    if c < per_row {
        tile::<S, T, J, 1>(s, f, packed, bias, input, out, per_row, c);
    }
}

/// `J` outputs x `N` vectors of samples (from vector column `c`) of a dense layer, in `J N`
/// registers: each input costs `N` loads, `J` broadcasts and `J N` fused multiply-adds.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn tile<S: Simd, T: Real, const J: usize, const N: usize>(
    s: S,
    f: Activation,
    packed: &[T],
    bias: &[T],
    input: &[T::V<S>],
    out: &mut [T::V<S>],
    per_row: usize,
    c: usize,
) {
    let mut acc = [[T::v_splat(s, T::default()); N]; J];
    for (a, &b) in acc.iter_mut().zip(bias) {
        *a = [T::v_splat(s, b); N];
    }
    for (w, x) in packed.chunks_exact(J).zip(input.chunks_exact(per_row)) {
        let x: &[T::V<S>; N] = x[c..c + N].try_into().expect("N vectors");
        for (r, &w) in w.iter().enumerate() {
            let w = T::v_splat(s, w);
            for (a, &x) in acc[r].iter_mut().zip(x) {
                *a = T::v_mul_add(s, w, x, *a);
            }
        }
    }
    for (r, a) in acc.iter().enumerate() {
        for (o, &a) in out[r * per_row + c..][..N].iter_mut().zip(a) {
            *o = activate::<S, T>(s, f, a);
        }
    }
}

/// Softmax cross-entropy over a block of logits (`classes x BLOCK`, feature-major): adds the
/// first `real` samples' losses (in f64, in sample order) and counts those whose first largest
/// logit is their label, as `objective::score` does row by row. `labels` holds the block's labels
/// as values of `T` (exact small integers).
#[inline(always)]
pub(crate) fn cross_entropy<S: Simd, T: Real>(s: S, logits: &[T], labels: &[T], real: usize) -> (f64, usize) {
    let classes = logits.len() / BLOCK;
    let z = T::as_simd::<S>(logits);
    let labels = T::as_simd::<S>(labels);
    let per_row = z.len() / classes;
    let mut losses = [T::default(); BLOCK];
    let mut hits = [T::default(); BLOCK];
    {
        let (loss_v, hit_v) = (T::as_mut_simd::<S>(&mut losses), T::as_mut_simd::<S>(&mut hits));
        let (zero, one) = (T::v_splat(s, T::default()), T::v_splat(s, T::one()));
        for c in 0..per_row {
            // The first largest logit and its class (strictly greater replaces, as torch.argmax),
            // and the label's logit.
            let (mut top, mut best, mut own) = (z[c], zero, z[c]);
            for j in 1..classes {
                let (zj, jt) = (z[j * per_row + c], T::v_splat(s, T::from_f64(j as f64)));
                (top, best) = T::v_select_greater(s, zj, top, jt, best);
                own = T::v_select_equal(s, labels[c], jt, zj, own);
            }
            let mut total = zero;
            for j in 0..classes {
                total = T::v_add(s, total, T::v_exp_nonpositive(s, T::v_sub(s, z[j * per_row + c], top)));
            }
            let lse = T::v_add(s, top, T::v_ln_above_one(s, total));
            loss_v[c] = T::v_sub(s, lse, own);
            hit_v[c] = T::v_select_equal(s, best, labels[c], one, zero);
        }
    }
    let sum = losses[..real].iter().fold(0.0f64, |sum, l| sum + l.to_f64());
    let correct = hits[..real].iter().filter(|&&h| h > T::default()).count();
    (sum, correct)
}

/// The sum of squared errors of the first `real` samples of a block (outputs and targets both
/// `width x BLOCK`, feature-major), in f64, output by output.
#[inline(always)]
pub(crate) fn squared_error<T: Real>(outputs: &[T], targets: &[T], real: usize) -> f64 {
    let mut sum = 0.0f64;
    for (o, t) in outputs.chunks_exact(BLOCK).zip(targets.chunks_exact(BLOCK)) {
        for (&z, &y) in o[..real].iter().zip(&t[..real]) {
            let e = z - y;
            sum += (e * e).to_f64();
        }
    }
    sum
}

/// Rows of `rows x width` row-major values as blocks of `width x BLOCK` feature-major values,
/// the last block padded with zeros.
pub(crate) fn to_blocks<T: Real>(values: &[T], rows: usize, width: usize) -> Vec<T> {
    let blocks = rows.div_ceil(BLOCK);
    let mut out = vec![T::default(); blocks * width * BLOCK];
    for (r, row) in values.chunks_exact(width).take(rows).enumerate() {
        let block = &mut out[(r / BLOCK) * width * BLOCK..][..width * BLOCK];
        for (k, &v) in row.iter().enumerate() {
            block[k * BLOCK + r % BLOCK] = v;
        }
    }
    out
}

/// Runs `op` with the widest instruction set the CPU has.
pub(crate) fn dispatch<Op: pulp::WithSimd>(op: Op) -> Op::Output {
    pulp::Arch::new().dispatch(op)
}

#[cfg(test)]
mod tests {
    use super::*;

    enum Function {
        Tanh,
        Exp,
        Ln,
    }

    /// A function of each value, through the vector kernels.
    struct Elementwise<'a> {
        xs: &'a [f32],
        which: Function,
    }

    impl pulp::WithSimd for Elementwise<'_> {
        type Output = Vec<f32>;
        #[inline(always)]
        fn with_simd<S: Simd>(self, s: S) -> Vec<f32> {
            let mut out = self.xs.to_vec();
            for v in f32::as_mut_simd::<S>(&mut out) {
                *v = match self.which {
                    Function::Tanh => tanh_f32s(s, *v),
                    Function::Exp => exp_f32s(s, *v),
                    Function::Ln => ln_f32s(s, *v),
                };
            }
            out
        }
    }

    #[test]
    fn vector_tanh_and_exp_match_f64_to_float_precision() {
        // 64 * 1000 points: a multiple of every vector width.
        let tanh_xs: Vec<f32> = (0..64_000).map(|i| (i as f32 - 32_000.0) * 3e-4).collect();
        let exp_xs: Vec<f32> = (0..64_000).map(|i| -(i as f32) * 1.35e-3).collect();
        for level in crate::simd_paths::all() {
            let tanh = level.dispatch(Elementwise { xs: &tanh_xs, which: Function::Tanh });
            for (&x, &y) in tanh_xs.iter().zip(&tanh) {
                let exact = (x as f64).tanh();
                let err = (y as f64 - exact).abs() / exact.abs().max(1e-30);
                assert!(x == 0.0 || err < 6e-7, "{level:?} tanh({x}) = {y}, want {exact}");
            }
            let exp = level.dispatch(Elementwise { xs: &exp_xs, which: Function::Exp });
            for (&x, &y) in exp_xs.iter().zip(&exp) {
                let exact = (x as f64).exp();
                let err = (y as f64 - exact).abs() / exact;
                // A few units in the last place of f32 (the inputs are exact f32 values), down to
                // x = -87 (e^-87 ~ 1.6e-38).
                assert!(err < 3e-7, "{level:?} exp({x}) = {y}, want {exact}, relative error {err}");
            }
            // ln over [1, 1e6] (a softmax's sum of exponentials is in [1, classes]).
            let ln_xs: Vec<f32> = (0..64_000).map(|i| 1.0 + (i as f32).powi(2) * 2.5e-4).collect();
            let ln = level.dispatch(Elementwise { xs: &ln_xs, which: Function::Ln });
            for (&x, &y) in ln_xs.iter().zip(&ln) {
                let exact = (x as f64).ln();
                // Relative to ln, and absolute near x = 1 where ln x -> 0.
                let err = (y as f64 - exact).abs() / exact.max(1e-3);
                assert!(err < 3e-7, "{level:?} ln({x}) = {y}, want {exact}, error {err}");
            }
            assert_eq!(level.dispatch(Elementwise { xs: &[1.0; 64], which: Function::Ln })[0], 0.0);
            assert!(level.dispatch(Elementwise { xs: &[f32::NAN; 64], which: Function::Ln })[0].is_nan());
            // Non-finite and edge inputs.
            let mut special = vec![0.0f32; 64];
            special[..5].copy_from_slice(&[f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.0, -200.0]);
            let t = level.dispatch(Elementwise { xs: &special, which: Function::Tanh });
            assert!(t[0].is_nan(), "{level:?}");
            // Clamped to +-7.9, where tanh is 1 - 2.7e-7: within 3e-7 of +-1.
            for (y, want) in [(t[1], 1.0), (t[2], -1.0), (t[4], -1.0)] {
                assert!((y - want).abs() < 3e-7, "{level:?}: {y} vs {want}");
            }
            assert!(t[3] == 0.0 && t[3].is_sign_negative(), "{level:?}");
            let e = level.dispatch(Elementwise { xs: &special, which: Function::Exp });
            assert!(e[0].is_nan(), "{level:?}");
            assert_eq!(e[3], 1.0);
            assert!((0.0..2e-38).contains(&e[2]) && (0.0..2e-38).contains(&e[4]), "{level:?} {e:?}");
        }
    }

    /// A dense layer, and the fused first two layers, on one block through the kernels.
    struct Layers<'a, T> {
        activation: Activation,
        weight: &'a [T],
        bias: &'a [T],
        input: &'a [T],
        base: &'a [T],
        first_bias: &'a [T],
        u: T,
    }

    impl<T: Real> pulp::WithSimd for Layers<'_, T> {
        /// The dense layer's outputs, and the fused layers' when the width allows them.
        type Output = (Vec<T>, Option<Vec<T>>);
        #[inline(always)]
        fn with_simd<S: Simd>(self, s: S) -> (Vec<T>, Option<Vec<T>>) {
            let outputs = self.bias.len();
            let inputs = self.weight.len() / outputs;
            let mut dense_out = vec![T::default(); outputs * BLOCK];
            let packed = pack(self.weight, outputs, inputs, DENSE_TILE);
            dense::<S, T>(s, self.activation, &packed, self.bias, self.input, &mut dense_out);
            if fused_width::<S>(outputs).is_none() {
                return (dense_out, None);
            }
            let mut fused_out = vec![T::default(); outputs * BLOCK];
            let packed = pack(self.weight, outputs, inputs, outputs);
            first_two_layers::<S, T>(
                s,
                [self.activation, self.activation],
                self.u,
                (self.base, self.input, self.first_bias),
                (&packed, self.bias),
                &mut fused_out,
            );
            (dense_out, Some(fused_out))
        }
    }

    fn numbers(n: usize, seed: u64) -> Vec<f64> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..n).map(|_| rng.gen_range(-1.5..1.5)).collect()
    }

    /// Checks `dense` and `first_two_layers` against plain loops in f64 on a block, for every
    /// width up to 13 outputs (every tile shape and remainder), every activation and instruction
    /// set, in `T`, to `tolerance` relative to the sum of the absolute terms.
    fn check_layers<T: Real>(tolerance: f64) {
        let f64s = |v: &[T]| v.iter().map(|x| x.to_f64()).collect::<Vec<f64>>();
        let to_t = |v: &[f64]| v.iter().map(|&x| T::from_f64(x)).collect::<Vec<T>>();
        let inputs = 7;
        for outputs in 1..=13 {
            let (weight, bias) = (to_t(&numbers(outputs * inputs, 1)), to_t(&numbers(outputs, 2)));
            let (input, base, first_bias) = (
                to_t(&numbers(inputs * BLOCK, 3)),
                to_t(&numbers(inputs * BLOCK, 4)),
                to_t(&numbers(inputs, 5)),
            );
            let u = T::from_f64(0.75);
            for activation in [
                Activation::Relu,
                Activation::Tanh,
                Activation::Sigmoid,
                Activation::Gelu,
                Activation::Identity,
            ] {
                let f = |z: f64| activation.at(z);
                for level in crate::simd_paths::all() {
                    let layers = Layers {
                        activation,
                        weight: &weight,
                        bias: &bias,
                        input: &input,
                        base: &base,
                        first_bias: &first_bias,
                        u,
                    };
                    let (dense_out, fused_out) = level.dispatch(layers);
                    let (w, b, x, x0, c0) =
                        (f64s(&weight), f64s(&bias), f64s(&input), f64s(&base), f64s(&first_bias));
                    for j in 0..outputs {
                        for sample in 0..BLOCK {
                            // Dense: f(b_j + sum_k w_jk x_k).
                            let terms: Vec<f64> =
                                (0..inputs).map(|k| w[j * inputs + k] * x[k * BLOCK + sample]).collect();
                            let z = b[j] + terms.iter().sum::<f64>();
                            let scale = b[j].abs() + terms.iter().map(|t| t.abs()).sum::<f64>();
                            let got = dense_out[j * BLOCK + sample].to_f64();
                            assert!(
                                (got - f(z)).abs() <= tolerance * scale.max(1.0),
                                "{level:?} {activation:?} {outputs} outputs: dense {got} vs {}",
                                f(z)
                            );
                            // Fused: f(b_j + sum_k w_jk f(x0_k + u x_k + c_k)).
                            let hidden: Vec<f64> = (0..inputs)
                                .map(|k| f(x0[k * BLOCK + sample] + 0.75 * x[k * BLOCK + sample] + c0[k]))
                                .collect();
                            let terms: Vec<f64> =
                                (0..inputs).map(|k| w[j * inputs + k] * hidden[k]).collect();
                            let z = b[j] + terms.iter().sum::<f64>();
                            let scale = b[j].abs() + terms.iter().map(|t| t.abs()).sum::<f64>();
                            let Some(fused_out) = &fused_out else { continue };
                            let got = fused_out[j * BLOCK + sample].to_f64();
                            assert!(
                                (got - f(z)).abs() <= tolerance * scale.max(1.0),
                                "{level:?} {activation:?} {outputs} outputs: fused {got} vs {}",
                                f(z)
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn block_layers_match_plain_loops() {
        check_layers::<f64>(1e-14);
        check_layers::<f32>(3e-6);
    }

    struct CrossEntropy<'a, T> {
        logits: &'a [T],
        labels: &'a [T],
        real: usize,
    }

    impl<T: Real> pulp::WithSimd for CrossEntropy<'_, T> {
        type Output = (f64, usize);
        #[inline(always)]
        fn with_simd<S: Simd>(self, s: S) -> (f64, usize) {
            cross_entropy::<S, T>(s, self.logits, self.labels, self.real)
        }
    }

    #[test]
    fn block_cross_entropy_matches_the_definition() {
        let classes = 5;
        let mut logits = numbers(classes * BLOCK, 9).iter().map(|x| 4.0 * x).collect::<Vec<f64>>();
        // Ties: sample 3's largest logit is shared by classes 1 and 4 (the first counts).
        logits[BLOCK + 3] = 9.0;
        logits[4 * BLOCK + 3] = 9.0;
        let labels: Vec<f64> = (0..BLOCK).map(|s| ((s * 3) % classes) as f64).collect();
        let real = 50;
        let (mut want, mut hits) = (0.0, 0);
        for sample in 0..real {
            let z: Vec<f64> = (0..classes).map(|j| logits[j * BLOCK + sample]).collect();
            let label = labels[sample] as usize;
            want += z.iter().map(|v| v.exp()).sum::<f64>().ln() - z[label];
            let best = (0..classes).fold(0, |b, j| if z[j] > z[b] { j } else { b });
            hits += usize::from(best == label);
        }
        assert_eq!(labels[3], 4.0, "sample 3 is labelled with the second of its tied classes");
        for level in crate::simd_paths::all() {
            let (sum, correct) = level.dispatch(CrossEntropy { logits: &logits, labels: &labels, real });
            assert!((sum - want).abs() < 1e-12 * want, "{level:?} f64: {sum} vs {want}");
            assert_eq!(correct, hits, "{level:?}");
            let (l32, t32): (Vec<f32>, Vec<f32>) =
                (logits.iter().map(|&v| v as f32).collect(), labels.iter().map(|&v| v as f32).collect());
            let (sum, correct) = level.dispatch(CrossEntropy { logits: &l32, labels: &t32, real });
            assert!((sum - want).abs() < 1e-6 * want, "{level:?} f32: {sum} vs {want}");
            assert_eq!(correct, hits, "{level:?}");
        }
    }
}
