//! `exp`, `tanh` and `sigmoid` on whole SIMD registers.
//!
//! Why by hand: the scalar functions of [`crate::fastmath`] are written for LLVM's loop
//! vectorizer, and in the baseline build it vectorizes them; inlined into the formula
//! interpreter's AVX2 and AVX-512 chunk loops, though, it left the loops of these three functions
//! scalar (one value per instruction, found in the machine code), so the widest paths were the
//! slowest for `tanh`. Written on pulp's vector types they are vectorized by construction.
//!
//! Every operation is the scalar function's, in the same order, with the same roundings, fused
//! multiply-adds included (a fused multiply-add rounds once, whatever computes it). So a value is
//! bit for bit the same whichever path computes it (a grid in wide chunks, one point on the
//! baseline path, another CPU), which the tests check.

use pulp::Simd;
use std::f64::consts::LOG2_E;

use super::{EXPM1, LN2_HI, LN2_LO, SHIFTER};

/// Splits x = k ln 2 + r (|r| <= ln(2)/2) for |x| <= 1000; returns k + SHIFTER (whose bits hold
/// k, for [`pow2`]), k and r, as the scalar `reduce_ln2` computes them.
#[inline(always)]
fn reduce_ln2<S: Simd>(s: S, x: S::f64s) -> (S::f64s, S::f64s, S::f64s) {
    let shifted = s.mul_add_f64s(x, s.splat_f64s(LOG2_E), s.splat_f64s(SHIFTER));
    let k = s.sub_f64s(shifted, s.splat_f64s(SHIFTER));
    let r = s.mul_add_f64s(k, s.splat_f64s(-LN2_HI), x);
    (shifted, k, s.mul_add_f64s(k, s.splat_f64s(-LN2_LO), r))
}

/// 2^k from `shifted` = k + SHIFTER, k an integer in -1022..=1023: k's bits moved into the
/// exponent field (the multiplication by 2^52 is a shift; the shifter's own bits drop out).
#[inline(always)]
fn pow2<S: Simd>(s: S, shifted: S::f64s) -> S::f64s {
    let bits = s.mul_u64s(s.transmute_u64s_f64s(shifted), s.splat_u64s(1 << 52));
    s.transmute_f64s_u64s(s.add_u64s(bits, s.splat_u64s(1023 << 52)))
}

/// e^r - 1 for |r| <= ln(2)/2: the scalar kernel's polynomial (Estrin's scheme), with its
/// fused multiply-adds.
#[inline(always)]
fn expm1_kernel<S: Simd>(s: S, r: S::f64s) -> S::f64s {
    let c = |i: usize| s.splat_f64s(EXPM1[i]);
    let (fma, mul) = (|a, b, c| s.mul_add_f64s(a, b, c), |a, b| s.mul_f64s(a, b));
    // c_i + r c_{i+1}
    let pair = |i: usize| fma(r, c(i + 1), c(i));
    let r2 = mul(r, r);
    let r4 = mul(r2, r2);
    let r8 = mul(r4, r4);
    let low = fma(r2, pair(2), pair(0));
    let mid = fma(r2, pair(6), pair(4));
    let high = fma(r2, c(10), pair(8));
    fma(r2, fma(r8, high, fma(r4, mid, low)), r)
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
    let low = s.splat_f64s(-1000.0);
    let x = s.select_f64s(s.less_than_f64s(x, low), low, x);
    let (_, k, r) = reduce_ln2(s, x);
    let y = s.add_f64s(s.splat_f64s(1.0), expm1_kernel(s, r));
    // Two scalings by 2^(k/2) keep each factor normal (as in the scalar version).
    let shifter = s.splat_f64s(SHIFTER);
    let half = s.add_f64s(s.mul_f64s(k, s.splat_f64s(0.5)), shifter);
    let k1 = s.sub_f64s(half, shifter);
    let rest = s.add_f64s(s.sub_f64s(k, k1), shifter);
    s.mul_f64s(s.mul_f64s(y, pow2(s, half)), pow2(s, rest))
}

/// tanh(x) = sign(x) m / (m + 2) with m = e^2|x| - 1; exactly +-1 beyond |x| = 22, odd, NaN
/// stays NaN.
#[inline(always)]
pub(crate) fn tanh<S: Simd>(s: S, x: S::f64s) -> S::f64s {
    let sign = s.splat_f64s(-0.0);
    let ax = s.and_f64s(x, s.not_f64s(sign));
    let a = clamp_above(s, ax, 22.0);
    let (shifted, _, r) = reduce_ln2(s, s.mul_f64s(s.splat_f64s(2.0), a));
    let scale = pow2(s, shifted);
    let m = s.mul_add_f64s(scale, expm1_kernel(s, r), s.sub_f64s(scale, s.splat_f64s(1.0)));
    let t = s.div_f64s(m, s.add_f64s(m, s.splat_f64s(2.0)));
    // copysign: t's own sign bit replaced by x's.
    s.or_f64s(s.and_f64s(t, s.not_f64s(sign)), s.and_f64s(x, sign))
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
    use crate::fastmath::tests::sample_points;

    struct Apply<'a> {
        xs: &'a [f64],
        function: Which,
    }

    #[derive(Debug, Clone, Copy)]
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

    fn apply(arch: pulp::Arch, function: Which, xs: &[f64]) -> Vec<f64> {
        arch.dispatch(Apply { xs, function })
    }

    #[test]
    fn vector_functions_equal_the_scalar_ones_bit_for_bit() {
        let mut xs = sample_points(800.0, 20_000, 5);
        xs.extend(sample_points(30.0, 20_000, 6));
        xs.extend([
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
            -22.0,
            f64::NEG_INFINITY,
            f64::NAN,
            709.7,
            710.0,
            -708.5,
            -745.2,
            -800.0,
            1000.5,
        ]);
        // An odd count, so the last register is partial.
        if xs.len().is_multiple_of(2) {
            xs.push(0.25);
        }
        let scalar = [
            (Which::Exp, super::super::exp as fn(f64) -> f64),
            (Which::Tanh, super::super::tanh),
            (Which::Sigmoid, super::super::sigmoid),
        ];
        for arch in crate::simd_paths::wide() {
            for (which, reference) in scalar {
                let ys = apply(arch, which, &xs);
                for (&x, &y) in xs.iter().zip(&ys) {
                    let want = reference(x);
                    assert!(
                        y.to_bits() == want.to_bits() || (y.is_nan() && want.is_nan()),
                        "{arch:?}: {y} against the scalar {want} at {x}"
                    );
                }
            }
        }
    }
}
