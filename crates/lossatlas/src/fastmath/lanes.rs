//! `exp`, `tanh` and `sigmoid` on whole SIMD registers, with fused multiply-adds.
//!
//! Why by hand: the scalar functions of [`crate::fastmath`] are written for LLVM's loop
//! vectorizer, and in the baseline build it vectorizes them; inlined into the formula
//! interpreter's AVX2 and AVX-512 chunk loops, though, it left the loops of these three functions
//! scalar (one value per instruction, found in the machine code), so the widest paths were the
//! slowest for `tanh`. Written on pulp's vector types they are vectorized by construction.
//!
//! The algorithms, constants and argument reductions are the scalar functions'; the polynomials
//! and reductions use fused multiply-adds (one rounding instead of two), so results can differ
//! from the scalar ones in the last bit or two. The tests hold them to the same bounds against the
//! standard library as the scalar versions, on every instruction set the CPU has. Only for
//! instruction sets with a hardware FMA: on pulp's scalar level `mul_add` is a libm call.

use pulp::Simd;
use std::f64::consts::LOG2_E;

use super::{EXPM1, LN2_HI, LN2_LO, SHIFTER};

/// Splits x = k ln 2 + r (|r| <= ln(2)/2 and a hair) for |x| <= 1000; returns k + SHIFTER
/// (whose bits hold k, for [`pow2`]), k and r.
#[inline(always)]
fn reduce_ln2<S: Simd>(s: S, x: S::f64s) -> (S::f64s, S::f64s, S::f64s) {
    let shifted = s.mul_add_f64s(x, s.splat_f64s(LOG2_E), s.splat_f64s(SHIFTER));
    let k = s.sub_f64s(shifted, s.splat_f64s(SHIFTER));
    // k * LN2_HI is exact (|k| < 2^21), so the first step is exact with or without fusing.
    let r = s.negate_mul_add_f64s(k, s.splat_f64s(LN2_HI), x);
    (shifted, k, s.negate_mul_add_f64s(k, s.splat_f64s(LN2_LO), r))
}

/// 2^k from `shifted` = k + SHIFTER, k an integer in -1022..=1023: k's bits moved into the
/// exponent field (the multiplication by 2^52 is a shift; the shifter's own bits drop out).
#[inline(always)]
fn pow2<S: Simd>(s: S, shifted: S::f64s) -> S::f64s {
    let bits = s.mul_u64s(s.transmute_u64s_f64s(shifted), s.splat_u64s(1 << 52));
    s.transmute_f64s_u64s(s.add_u64s(bits, s.splat_u64s(1023 << 52)))
}

/// e^r - 1 for |r| <= ln(2)/2: the scalar kernel's polynomial, in Estrin's scheme with FMAs.
#[inline(always)]
fn expm1_kernel<S: Simd>(s: S, r: S::f64s) -> S::f64s {
    let c = |i: usize| s.splat_f64s(EXPM1[i]);
    let pair = |i: usize| s.mul_add_f64s(r, c(i + 1), c(i));
    let r2 = s.mul_f64s(r, r);
    let r4 = s.mul_f64s(r2, r2);
    let r8 = s.mul_f64s(r4, r4);
    let low = s.mul_add_f64s(r2, pair(2), pair(0));
    let mid = s.mul_add_f64s(r2, pair(6), pair(4));
    let high = s.mul_add_f64s(r2, c(10), pair(8));
    let poly = s.mul_add_f64s(r8, high, s.mul_add_f64s(r4, mid, low));
    s.mul_add_f64s(r2, poly, r)
}

/// `x` with every value above `limit` replaced by `limit`; NaN passes (the comparison is false).
#[inline(always)]
fn clamp_above<S: Simd>(s: S, x: S::f64s, limit: f64) -> S::f64s {
    let limit = s.splat_f64s(limit);
    s.select_f64s(s.greater_than_f64s(x, limit), limit, x)
}

/// e^x: overflows to +inf, underflows (through subnormals) to 0, NaN stays NaN.
#[inline(always)]
pub(crate) fn exp<S: Simd>(s: S, x: S::f64s) -> S::f64s {
    let x = clamp_above(s, x, 1000.0);
    let x = s.neg_f64s(clamp_above(s, s.neg_f64s(x), 1000.0));
    let (_, k, r) = reduce_ln2(s, x);
    let y = s.add_f64s(s.splat_f64s(1.0), expm1_kernel(s, r));
    // Two scalings by 2^(k/2) keep each factor normal (as in the scalar version).
    let half = s.mul_add_f64s(k, s.splat_f64s(0.5), s.splat_f64s(SHIFTER));
    let k1 = s.sub_f64s(half, s.splat_f64s(SHIFTER));
    let rest = s.add_f64s(s.sub_f64s(k, k1), s.splat_f64s(SHIFTER));
    s.mul_f64s(s.mul_f64s(y, pow2(s, half)), pow2(s, rest))
}

/// tanh(x) = sign(x) m / (m + 2) with m = e^2|x| - 1; exactly +-1 beyond |x| = 22, odd, NaN
/// stays NaN.
#[inline(always)]
pub(crate) fn tanh<S: Simd>(s: S, x: S::f64s) -> S::f64s {
    let sign = s.splat_f64s(-0.0);
    let ax = s.and_f64s(x, s.not_f64s(sign));
    let a = clamp_above(s, ax, 22.0);
    let (shifted, _, r) = reduce_ln2(s, s.add_f64s(a, a));
    let scale = pow2(s, shifted);
    let m = s.mul_add_f64s(scale, expm1_kernel(s, r), s.sub_f64s(scale, s.splat_f64s(1.0)));
    let t = s.div_f64s(m, s.add_f64s(m, s.splat_f64s(2.0)));
    s.or_f64s(t, s.and_f64s(x, sign))
}

/// The logistic function 1 / (1 + e^-x), in [0, 1].
#[inline(always)]
pub(crate) fn sigmoid<S: Simd>(s: S, x: S::f64s) -> S::f64s {
    let one = s.splat_f64s(1.0);
    s.div_f64s(one, s.add_f64s(one, exp(s, s.neg_f64s(x))))
}

/// A function of one register, as a type: generic code calls it through a trait method that is
/// inlined into pulp's `#[target_feature]` function. A closure or a function item passed by value
/// is not: it is reached through an `Fn::call` shim that stays a call, compiled without the wide
/// instruction set, so every intrinsic inside it becomes a call too (measured 7x slower).
pub(crate) trait Function {
    fn apply<S: Simd>(s: S, x: S::f64s) -> S::f64s;
}

/// [`exp`] as a [`Function`].
pub(crate) struct Exp;
/// [`tanh`] as a [`Function`].
pub(crate) struct Tanh;
/// [`sigmoid`] as a [`Function`].
pub(crate) struct Sigmoid;

impl Function for Exp {
    #[inline(always)]
    fn apply<S: Simd>(s: S, x: S::f64s) -> S::f64s {
        exp(s, x)
    }
}

impl Function for Tanh {
    #[inline(always)]
    fn apply<S: Simd>(s: S, x: S::f64s) -> S::f64s {
        tanh(s, x)
    }
}

impl Function for Sigmoid {
    #[inline(always)]
    fn apply<S: Simd>(s: S, x: S::f64s) -> S::f64s {
        sigmoid(s, x)
    }
}

/// `out[i] = F(xs[i] * scale + shift)` register by register; the last, partial register is
/// loaded and stored in part, so every value goes through the same instructions wherever it sits.
///
/// An absent scale is 1 and an absent shift -0, which change no value (`v * 1 = v`, and
/// `v + -0 = v` for every v, -0 included), so one loop serves every affine shape bit for bit.
#[inline(always)]
pub(crate) fn map<S: Simd, F: Function>(
    s: S,
    xs: &[f64],
    out: &mut [f64],
    scale: Option<f64>,
    shift: Option<f64>,
) {
    let scale = s.splat_f64s(scale.unwrap_or(1.0));
    let shift = s.splat_f64s(shift.unwrap_or(-0.0));
    let (xs_body, xs_tail) = S::as_simd_f64s(xs);
    let (out_body, out_tail) = S::as_mut_simd_f64s(out);
    for (o, &v) in out_body.iter_mut().zip(xs_body) {
        *o = F::apply(s, s.add_f64s(s.mul_f64s(v, scale), shift));
    }
    if !xs_tail.is_empty() {
        let v = s.partial_load_f64s(xs_tail);
        s.partial_store_f64s(out_tail, F::apply(s, s.add_f64s(s.mul_f64s(v, scale), shift)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fastmath::tests::{sample_points, ulps};

    struct Apply<'a> {
        xs: &'a [f64],
        function: Which,
    }

    #[derive(Clone, Copy)]
    enum Which {
        Exp,
        Tanh,
        Sigmoid,
    }

    impl pulp::WithSimd for Apply<'_> {
        type Output = Vec<f64>;
        #[inline(always)]
        fn with_simd<S: Simd>(self, s: S) -> Vec<f64> {
            let mut out = vec![0.0; self.xs.len()];
            match self.function {
                Which::Exp => map::<S, Exp>(s, self.xs, &mut out, None, None),
                Which::Tanh => map::<S, Tanh>(s, self.xs, &mut out, None, None),
                Which::Sigmoid => map::<S, Sigmoid>(s, self.xs, &mut out, None, None),
            }
            out
        }
    }

    /// The instruction sets with a hardware FMA this CPU has.
    fn levels() -> Vec<pulp::Arch> {
        #[allow(unused_mut)]
        let mut all = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if let Some(v3) = pulp::x86::V3::try_new() {
                all.push(pulp::Arch::V3(v3));
            }
            if let Some(v4) = pulp::x86::V4::try_new() {
                all.push(pulp::Arch::V4(v4));
            }
        }
        all
    }

    fn apply(arch: pulp::Arch, function: Which, xs: &[f64]) -> Vec<f64> {
        arch.dispatch(Apply { xs, function })
    }

    #[test]
    fn vector_functions_are_as_accurate_as_the_scalar_ones() {
        for arch in levels() {
            for (function, reference, limit, bound) in [
                (Which::Exp, f64::exp as fn(f64) -> f64, 700.0, 2.0),
                (Which::Tanh, f64::tanh, 30.0, 4.0),
                (Which::Sigmoid, |x: f64| 1.0 / (1.0 + (-x).exp()), 700.0, 4.0),
            ] {
                // An odd count, so the last register is partial.
                let xs = sample_points(limit, 20_001, 5);
                let ys = apply(arch, function, &xs);
                for (&x, &y) in xs.iter().zip(&ys) {
                    let off = ulps(y, reference(x));
                    assert!(off <= bound, "{arch:?}: off by {off} ulps at {x}");
                }
            }
        }
    }

    #[test]
    fn vector_functions_keep_the_edge_cases() {
        let xs = [
            0.0,
            -0.0,
            1e-300,
            5e-324,
            -5e-324,
            19.1,
            22.0,
            50.0,
            1e308,
            f64::INFINITY,
            -19.1,
            -22.0,
            -1e308,
            f64::NEG_INFINITY,
            f64::NAN,
            709.7,
            710.0,
            -708.5,
            -745.2,
            -800.0,
        ];
        for arch in levels() {
            let tanh = apply(arch, Which::Tanh, &xs);
            let exp = apply(arch, Which::Exp, &xs);
            let sigmoid = apply(arch, Which::Sigmoid, &xs);
            for (i, &x) in xs.iter().enumerate() {
                let same = |a: f64, b: f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
                // Exactly the scalar version's special values.
                if x.is_nan() || x.abs() >= 19.0 || x == 0.0 || x.abs() < 1e-200 {
                    assert!(same(tanh[i], crate::fastmath::tanh(x)), "{arch:?}: tanh({x}) = {}", tanh[i]);
                }
                if x.is_nan() || x.abs() >= 709.0 || x == 0.0 || x.is_infinite() {
                    assert!(same(exp[i], crate::fastmath::exp(x)), "{arch:?}: exp({x}) = {}", exp[i]);
                    assert!(same(sigmoid[i], crate::fastmath::sigmoid(x)), "{arch:?}: sigmoid({x})");
                }
            }
            // Subnormal results stay within a couple of subnormal spacings.
            for x in [-708.5, -720.0, -740.0, -744.0] {
                let e = apply(arch, Which::Exp, &[x])[0];
                assert!((e - x.exp()).abs() <= 2.0 * 4.9e-324 + 2e-16 * x.exp(), "{arch:?}: exp({x}) = {e}");
            }
        }
    }
}
