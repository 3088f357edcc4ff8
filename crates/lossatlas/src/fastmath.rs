//! Branch-free `f64` transcendental functions that LLVM vectorizes.
//!
//! Why this module exists: a formula model spends almost all of its time in `exp`, `tanh`, `sin`
//! and `cos`, and the standard library's versions are opaque calls into libm, one sample at a
//! time. The functions here are plain `f64` arithmetic, integer operations on the bit pattern and
//! select-style `if`s (which LLVM turns into blends), all `#[inline(always)]`, so a loop such as
//! `for (o, &v) in out.iter_mut().zip(xs) { *o = tanh(v) }` compiles to SIMD code with no call
//! and no branch in its body.
//!
//! What that rules out, and why:
//! - `f64::round`, `floor` and `as i64` conversions have no packed instruction in baseline x86-64
//!   (SSE2), so rounding to an integer uses the 1.5 * 2^52 "shifter" trick, and scaling by 2^k
//!   builds the exponent bits from the shifted value.
//! - Runtime CPU dispatch: the formula interpreter runs its chunk loop, with these functions
//!   inlined into it, through `pulp` (`formula/program.rs`, `kernels_arch`), which compiles it for
//!   AVX-512 and AVX2+FMA as well as the baseline and picks once at run time, without `unsafe` in
//!   our crates (the `multiversion` crate's macro expands to `unsafe` blocks inside the calling
//!   crate, so it is out). `exp`, `tanh` and `sigmoid` also exist on whole registers
//!   ([`lanes`]), because the compiler left their loops scalar on the wide paths.
//! - Fused multiply-adds (`f64::mul_add`) in the exponential family's reduction and polynomial:
//!   a third fewer operations in `tanh` (its grids ran 1.4x faster on AVX-512). A fused
//!   multiply-add rounds once whatever computes it (the FMA instruction on the wide paths, the C
//!   library's correctly rounded `fma` in the baseline build), so results stay bit-identical on
//!   every path, which tests check. The baseline build pays a call per `mul_add`, which is why the
//!   formula interpreter runs even short rows on a wide path when the CPU has one
//!   (`formula/program.rs`, `arch_for_rows`). The trigonometric and logarithm kernels keep
//!   fdlibm's separate multiplies and adds.
//!
//! Accuracy: the kernels are fdlibm's (`log`, `__sin`, `__cos`) and a fitted polynomial for
//! e^r - 1, after Cody-Waite argument reductions (ln 2 and pi/2 split into pieces whose products
//! with the quotient are exact), so results stay within a few ulps of the standard library. The
//! tests measure it: at most 2 ulps for exp, ln, sin and cos, 4 for tanh, sigmoid and softplus.
//! `sin` and `cos` reduce exactly only for |x| <= [`TRIG_FAST_LIMIT`]; the slice functions check
//! the whole slice once and send larger arguments to the standard library.

use std::f64::consts::{FRAC_PI_2, LOG2_E};

pub(crate) mod lanes;

/// 1.5 * 2^52: adding it rounds a float of magnitude below 2^51 to an integer (ties to even), and
/// the integer then sits, in two's complement, in the low bits of the sum's mantissa.
const SHIFTER: f64 = 6_755_399_441_055_744.0;

/// `x` rounded to the nearest integer (ties to even), for |x| < 2^51.
#[inline(always)]
fn round_int(x: f64) -> f64 {
    (x + SHIFTER) - SHIFTER
}

/// 2^k for an integer-valued `k` in -1022..=1023, built from exponent bits.
#[inline(always)]
fn pow2(k: f64) -> f64 {
    // The low 52 bits of `k + SHIFTER` hold k; shifting them into the exponent field drops the
    // shifter's own bits (all at positions >= 51).
    f64::from_bits(((k + SHIFTER).to_bits() << 52).wrapping_add(1023 << 52))
}

// ln 2 split so that k * LN2_HI is exact for |k| < 2^21 (fdlibm's ln2HI / ln2LO).
const LN2_HI: f64 = 0.6931471803691238;
const LN2_LO: f64 = 1.9082149292705877e-10;

/// e^r - 1 for |r| <= ln(2)/2 (slightly more), within 1.4 ulps.
///
/// r + r^2 s(r) with s a degree-10 near-minimax (Chebyshev) fit of (e^r - 1 - r)/r^2, evaluated
/// in Estrin's scheme: the tree is shallower than Horner's chain, and the functions here are
/// limited by latency (how many independent samples fit in the CPU's reorder window), not by
/// the number of operations.
#[inline(always)]
fn expm1_kernel(r: f64) -> f64 {
    let [c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10] = EXPM1;
    let r2 = r * r;
    let r4 = r2 * r2;
    let r8 = r4 * r4;
    let low = r2.mul_add(r.mul_add(c3, c2), r.mul_add(c1, c0));
    let mid = r2.mul_add(r.mul_add(c7, c6), r.mul_add(c5, c4));
    let high = r2.mul_add(c10, r.mul_add(c9, c8));
    r2.mul_add(r8.mul_add(high, r4.mul_add(mid, low)), r)
}

/// The coefficients of [`expm1_kernel`]'s s(r), lowest degree first (shared with the vector
/// version in [`lanes`]).
const EXPM1: [f64; 11] = [
    0.5,
    0.166_666_666_666_666_7,
    0.041_666_666_666_666_67,
    0.008_333_333_333_326_136,
    0.001_388_888_888_888_374_8,
    0.000_198_412_698_748_206_27,
    2.480_158_732_554_774_3e-5,
    2.755_725_540_020_642_2e-6,
    2.755_727_364_311_03e-7,
    2.510_521_700_472_074_5e-8,
    2.091_468_696_808_687_6e-9,
];

/// Splits x = k ln 2 + r with k an integer (as a float) and |r| <= ln(2)/2, for |x| <= 1000.
#[inline(always)]
fn reduce_ln2(x: f64) -> (f64, f64) {
    // x * log2(e) rounded to an integer by the shifter, in one rounding.
    let k = x.mul_add(LOG2_E, SHIFTER) - SHIFTER;
    // k * LN2_HI is exact and within a factor 2 of x, so the first step is exact, fused or not.
    (k, k.mul_add(-LN2_LO, k.mul_add(-LN2_HI, x)))
}

/// e^x: overflows to +inf, underflows (through subnormals) to 0, NaN stays NaN.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    // Clamping keeps k within +-1443 without touching NaN (both comparisons are false for it);
    // e^1000 and e^-1000 already overflow and underflow.
    let x = if x > 1000.0 { 1000.0 } else { x };
    let x = if x < -1000.0 { -1000.0 } else { x };
    let (k, r) = reduce_ln2(x);
    let y = 1.0 + expm1_kernel(r);
    // Two scalings by 2^(k/2) keep each factor normal; the second one rounds once into the
    // overflow or subnormal range.
    let k1 = round_int(k * 0.5);
    y * pow2(k1) * pow2(k - k1)
}

/// tanh(x): exactly +-1 beyond |x| = 22, odd (tanh(-0) = -0), NaN stays NaN.
#[inline(always)]
pub fn tanh(x: f64) -> f64 {
    // tanh |x| = m / (m + 2) with m = e^2|x| - 1 = 2^k (1 + expm1(r)) - 1, which stays accurate
    // near zero (where k = 0 and m = expm1(2|x|)) and needs one division.
    let ax = x.abs();
    // tanh(22) rounds to 1, so larger arguments need not reach exp (NaN passes the clamp).
    let a = if ax > 22.0 { 22.0 } else { ax };
    let (k, r) = reduce_ln2(2.0 * a);
    let scale = pow2(k);
    let m = scale.mul_add(expm1_kernel(r), scale - 1.0);
    (m / (m + 2.0)).copysign(x)
}

/// The logistic function 1 / (1 + e^-x), in [0, 1].
#[inline(always)]
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + exp(-x))
}

/// ln(1 + e^x), accurate for large negative x (where it is e^x) and large positive x (where it is x).
#[inline(always)]
pub fn softplus(x: f64) -> f64 {
    // max(x, 0) + log1p(e^-|x|), with log1p(u) = ln(w) + (u - (w - 1)) / w for w = 1 + u, which
    // corrects the rounding of 1 + u (and is exactly u when w rounds to 1).
    let u = exp(-x.abs());
    let w = 1.0 + u;
    let log1p = ln(w) + (u - (w - 1.0)) / w;
    let positive = if x > 0.0 { x } else { 0.0 };
    positive + log1p
}

/// Natural logarithm: -inf at +-0, NaN below 0, +inf at +inf, subnormals handled.
#[inline(always)]
pub fn ln(x: f64) -> f64 {
    // fdlibm e_log.c without branches: write x = 2^k * m with m in [sqrt(2)/2, sqrt(2)), then
    // ln(m) = 2 atanh(s) with s = (m - 1)/(m + 1), as a polynomial in s^2.
    const LG1: f64 = 0.6666666666666735;
    const LG2: f64 = 0.3999999999940942;
    const LG3: f64 = 0.2857142874366239;
    const LG4: f64 = 0.22222198432149784;
    const LG5: f64 = 0.1818357216161805;
    const LG6: f64 = 0.15313837699209373;
    const LG7: f64 = 0.14798198605116586;
    const TWO54: f64 = 18_014_398_509_481_984.0;
    // Subnormals are scaled into the normal range first (their exponent is corrected below).
    let subnormal = x < f64::MIN_POSITIVE;
    let xs = if subnormal { x * TWO54 } else { x };
    // Adding the difference of the high words of 1 and sqrt(2)/2 moves the exponent boundary
    // from 1 to sqrt(2)/2, so the mantissa lands in [sqrt(2)/2, sqrt(2)).
    let bits = xs.to_bits().wrapping_add((0x3ff0_0000 - 0x3fe6_a09e) << 32);
    // The biased exponent as a float, via the same mantissa trick as SHIFTER (2^52 + e).
    let biased = f64::from_bits(0x4330_0000_0000_0000 | (bits >> 52)) - 4_503_599_627_371_519.0;
    let k = if subnormal { biased - 54.0 } else { biased };
    let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff).wrapping_add(0x3fe6_a09e << 32));
    let f = m - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    let result = s * (hfsq + r) + k * LN2_LO - hfsq + f + k * LN2_HI;
    // Special values: -inf at zero, NaN below zero, and +inf and NaN unchanged.
    let special = if x == 0.0 {
        f64::NEG_INFINITY
    } else if x < 0.0 {
        f64::NAN
    } else {
        x
    };
    if x > 0.0 && x < f64::INFINITY {
        result
    } else {
        special
    }
}

/// Largest |x| for which [`sin`] and [`cos`] reduce their argument exactly: the quadrant count n
/// stays below 2^20, so n times a 33-bit piece of pi/2 is an exact product.
pub const TRIG_FAST_LIMIT: f64 = 1_048_576.0;

// pi/2 = PIO2_1 + PIO2_2 + PIO2_3 + PIO2_3T, the first three with 33 significant bits each
// (fdlibm's __rem_pio2 constants).
const PIO2_1: f64 = 1.5707963267341256;
const PIO2_2: f64 = 6.077100506303966e-11;
const PIO2_3: f64 = 2.0222662487111665e-21;
const PIO2_3T: f64 = 8.4784276603689e-32;

/// x = n pi/2 + r with |r| <= ~pi/4; returns (r, n mod 4), for |x| <= TRIG_FAST_LIMIT.
///
/// n times each 33-bit piece is exact (n < 2^20), and each subtraction is either
/// exact (when it cancels, by Sterbenz's lemma) or rounds a result that is already close to r, so
/// r keeps its relative accuracy even next to a multiple of pi/2 (the tests check <= 2 ulps).
#[inline(always)]
fn reduce_pio2(x: f64) -> (f64, u64) {
    let t = x * (1.0 / FRAC_PI_2) + SHIFTER;
    let n = t - SHIFTER;
    let r = (((x - n * PIO2_1) - n * PIO2_2) - n * PIO2_3) - n * PIO2_3T;
    (r, t.to_bits() & 3)
}

/// sin(x) for |x| <= ~pi/4 (fdlibm's __kernel_sin).
#[inline(always)]
fn sin_kernel(x: f64) -> f64 {
    const S1: f64 = -0.16666666666666632;
    const S2: f64 = 0.00833333333332249;
    const S3: f64 = -0.0001984126982985795;
    const S4: f64 = 2.7557313707070068e-6;
    const S5: f64 = -2.5050760253406863e-8;
    const S6: f64 = 1.58969099521155e-10;
    let z = x * x;
    let w = z * z;
    let r = S2 + z * (S3 + z * S4) + z * w * (S5 + z * S6);
    x + z * x * (S1 + z * r)
}

/// cos(x) for |x| <= ~pi/4 (fdlibm's __kernel_cos).
#[inline(always)]
fn cos_kernel(x: f64) -> f64 {
    const C1: f64 = 0.0416666666666666;
    const C2: f64 = -0.001388888888887411;
    const C3: f64 = 2.480158728947673e-5;
    const C4: f64 = -2.7557314351390663e-7;
    const C5: f64 = 2.087572321298175e-9;
    const C6: f64 = -1.1359647557788195e-11;
    let z = x * x;
    let w = z * z;
    let r = z * (C1 + z * (C2 + z * C3)) + w * w * (C4 + z * (C5 + z * C6));
    let hz = 0.5 * z;
    let w = 1.0 - hz;
    w + (((1.0 - w) - hz) + z * r)
}

/// sin(x + quarter_turns * pi/2) for |x| <= TRIG_FAST_LIMIT, without branches.
#[inline(always)]
fn sin_quadrant(x: f64, quarter_turns: u64) -> f64 {
    let (r, q) = reduce_pio2(x);
    let q = q + quarter_turns;
    let s = sin_kernel(r).to_bits();
    let c = cos_kernel(r).to_bits();
    // Odd quadrants take the cosine; quadrants 2 and 3 flip the sign.
    let take_cos = (q & 1).wrapping_neg();
    let bits = (s & !take_cos) | (c & take_cos);
    f64::from_bits(bits ^ ((q & 2) << 62))
}

/// sin(x) for |x| <= [`TRIG_FAST_LIMIT`] (keeps sin(-0) = -0); inaccurate beyond.
#[inline(always)]
fn sin_small(x: f64) -> f64 {
    let s = sin_quadrant(x, 0);
    if x == 0.0 {
        x
    } else {
        s
    }
}

/// cos(x) for |x| <= [`TRIG_FAST_LIMIT`]; inaccurate beyond.
#[inline(always)]
fn cos_small(x: f64) -> f64 {
    sin_quadrant(x, 1)
}

/// sin(x) for one value (the standard library's beyond [`TRIG_FAST_LIMIT`]).
pub fn sin(x: f64) -> f64 {
    if x.abs() <= TRIG_FAST_LIMIT {
        sin_small(x)
    } else {
        x.sin()
    }
}

/// cos(x) for one value (the standard library's beyond [`TRIG_FAST_LIMIT`]).
pub fn cos(x: f64) -> f64 {
    if x.abs() <= TRIG_FAST_LIMIT {
        cos_small(x)
    } else {
        x.cos()
    }
}

/// `out[i] = f(pre(xs[i]))` with the fast branch-free `fast`, then, only if some argument
/// exceeds [`TRIG_FAST_LIMIT`], those elements again with the exact `slow`.
#[inline(always)]
fn trig_map(
    xs: &[f64],
    out: &mut [f64],
    pre: impl Fn(f64) -> f64,
    fast: impl Fn(f64) -> f64,
    slow: impl Fn(f64) -> f64,
) {
    // The flag is an OR-reduction inside the vectorized loop, cheaper than a branch per element.
    let mut any_large = false;
    for (o, &x) in out.iter_mut().zip(xs) {
        let v = pre(x);
        *o = fast(v);
        any_large |= v.abs() > TRIG_FAST_LIMIT;
    }
    if any_large {
        for (o, &x) in out.iter_mut().zip(xs) {
            let v = pre(x);
            if v.abs() > TRIG_FAST_LIMIT {
                *o = slow(v);
            }
        }
    }
}

/// `out[i] = sin(pre(xs[i]))`, where `pre` (e.g. an affine map) is fused into the loop.
#[inline(always)]
pub fn sin_map(xs: &[f64], out: &mut [f64], pre: impl Fn(f64) -> f64) {
    trig_map(xs, out, pre, sin_small, f64::sin);
}

/// `out[i] = cos(pre(xs[i]))`, where `pre` (e.g. an affine map) is fused into the loop.
#[inline(always)]
pub fn cos_map(xs: &[f64], out: &mut [f64], pre: impl Fn(f64) -> f64) {
    trig_map(xs, out, pre, cos_small, f64::cos);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in units in the last place, treating equal NaNs and equal infinities as 0.
    fn ulps(a: f64, b: f64) -> f64 {
        if a == b || (a.is_nan() && b.is_nan()) {
            return 0.0;
        }
        if !a.is_finite() || !b.is_finite() || a.signum() != b.signum() {
            return f64::INFINITY;
        }
        let spacing = f64::from_bits(b.abs().to_bits() + 1) - b.abs();
        (a - b).abs() / spacing
    }

    /// A deterministic stream of uniform numbers in [0, 1) (xorshift64*).
    fn uniform(seed: u64) -> impl FnMut() -> f64 {
        let mut s = seed;
        move || {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            (s.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Points spread over [-limit, limit]: uniform, log-uniform in magnitude from 1e-30, and a sweep.
    pub(super) fn sample_points(limit: f64, count: usize, seed: u64) -> Vec<f64> {
        let mut u = uniform(seed);
        let (lo, hi) = (1e-30f64.ln(), limit.ln());
        let mut v = Vec::with_capacity(3 * count);
        for i in 0..count {
            v.push((2.0 * u() - 1.0) * limit);
            let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
            v.push(sign * (lo + (hi - lo) * u()).exp().min(limit));
            v.push(-limit + 2.0 * limit * i as f64 / count as f64);
        }
        v
    }

    /// Largest ulp distance of `fast` from `exact` over the points, with the worst point.
    fn worst(points: &[f64], fast: impl Fn(f64) -> f64, exact: impl Fn(f64) -> f64) -> (f64, f64) {
        points
            .iter()
            .map(|&x| (ulps(fast(x), exact(x)), x))
            .fold((0.0, 0.0), |w, p| if p.0 > w.0 { p } else { w })
    }

    /// The scalar function applied to each element.
    fn through_slice(xs: &[f64], f: impl Fn(f64) -> f64) -> Vec<f64> {
        xs.iter().map(|&x| f(x)).collect()
    }

    #[test]
    fn exp_is_within_an_ulp_or_two_of_std() {
        let pts = sample_points(708.0, 20_000, 1);
        let (w, at) = worst(&pts, exp, f64::exp);
        assert!(w <= 2.0, "exp off by {w} ulps at {at}");
    }

    #[test]
    fn exp_edge_cases() {
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-0.0), 1.0);
        assert!(ulps(exp(1.0), std::f64::consts::E) <= 1.0);
        assert_eq!(exp(709.8), f64::INFINITY);
        assert_eq!(exp(1e300), f64::INFINITY);
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp(-745.2), 0.0);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert!(exp(f64::NAN).is_nan());
        assert!(ulps(exp(709.7), 709.7f64.exp()) <= 2.0);
        // Subnormal results: within a couple of subnormal spacings.
        for x in [-708.5, -720.0, -740.0, -744.0] {
            assert!((exp(x) - x.exp()).abs() <= 2.0 * 4.9e-324 + 2e-16 * x.exp(), "{x}");
        }
    }

    #[test]
    fn tanh_is_within_a_few_ulps_of_std() {
        let pts = sample_points(30.0, 20_000, 2);
        let (w, at) = worst(&pts, tanh, f64::tanh);
        assert!(w <= 4.0, "tanh off by {w} ulps at {at}");
        // Around the switch between the two forms.
        let near: Vec<f64> = (0..2000).map(|i| 0.6 + 0.05 * i as f64 / 2000.0).collect();
        let (w, at) = worst(&near, tanh, f64::tanh);
        assert!(w <= 4.0, "tanh off by {w} ulps at {at}");
    }

    #[test]
    fn tanh_edge_cases() {
        assert_eq!(tanh(0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(tanh(-0.0).to_bits(), (-0.0f64).to_bits());
        for x in [19.1, 22.0, 50.0, 1e10, 1e308, f64::INFINITY] {
            assert_eq!(tanh(x), 1.0, "{x}");
            assert_eq!(tanh(-x), -1.0, "{x}");
        }
        assert!(tanh(f64::NAN).is_nan());
        assert_eq!(tanh(1e-300), 1e-300);
        assert_eq!(tanh(5e-324), 5e-324);
    }

    #[test]
    fn sin_and_cos_are_within_a_few_ulps_of_std() {
        for limit in [1.0, 10.0, 1000.0, TRIG_FAST_LIMIT] {
            let pts = sample_points(limit, 20_000, 3);
            let (w, at) = worst(&pts, sin, f64::sin);
            assert!(w <= 2.0, "sin off by {w} ulps at {at}");
            let (w, at) = worst(&pts, cos, f64::cos);
            assert!(w <= 2.0, "cos off by {w} ulps at {at}");
        }
    }

    #[test]
    fn sin_and_cos_keep_relative_accuracy_near_their_zeros() {
        // The doubles nearest to multiples of pi/2 are where the reduction cancels the most.
        let mut pts = Vec::new();
        for k in 1..20_000u64 {
            let m = (k * k * 7 + k) % 1_300_000 + 1;
            let x = m as f64 * FRAC_PI_2;
            if x <= TRIG_FAST_LIMIT {
                pts.extend([x, f64::from_bits(x.to_bits() + 1), f64::from_bits(x.to_bits() - 1)]);
            }
        }
        let (w, at) = worst(&pts, sin, f64::sin);
        assert!(w <= 2.0, "sin off by {w} ulps at {at}");
        let (w, at) = worst(&pts, cos, f64::cos);
        assert!(w <= 2.0, "cos off by {w} ulps at {at}");
    }

    #[test]
    fn sin_and_cos_edge_cases_and_large_arguments() {
        assert_eq!(sin(0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(sin(-0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(cos(0.0), 1.0);
        assert_eq!(sin(1e-300), 1e-300);
        for x in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(sin(x).is_nan() && cos(x).is_nan());
        }
        let xs = [0.5, 2e6, -3e12, 1e300, f64::INFINITY, f64::NAN, -1.0, TRIG_FAST_LIMIT];
        let mut s = [0.0; 8];
        let mut c = [0.0; 8];
        sin_map(&xs, &mut s, |v| v);
        cos_map(&xs, &mut c, |v| v);
        for i in 0..xs.len() {
            assert!(ulps(s[i], xs[i].sin()) <= 2.0, "sin {}", xs[i]);
            assert!(ulps(c[i], xs[i].cos()) <= 2.0, "cos {}", xs[i]);
        }
        // The slice versions agree with the scalar ones everywhere, also past the limit.
        let pts = sample_points(1e6, 1000, 4);
        let mut out = vec![0.0; pts.len()];
        sin_map(&pts, &mut out, |v| v);
        assert_eq!(out, through_slice(&pts, sin));
        cos_map(&pts, &mut out, |v| 2.0 * v - 1e6);
        assert_eq!(out, through_slice(&pts, |v| cos(2.0 * v - 1e6)));
    }

    #[test]
    fn ln_is_within_an_ulp_or_two_of_std() {
        let mut u = uniform(5);
        let mut pts: Vec<f64> = (0..20_000).map(|_| (1400.0 * u() - 700.0).exp()).collect();
        pts.extend((0..20_000).map(|i| 0.5 + 1.5 * i as f64 / 20_000.0));
        pts.extend((0..2000).map(|_| 5e-324 * (1u64 << 40) as f64 * u()));
        let (w, at) = worst(&pts, ln, f64::ln);
        assert!(w <= 2.0, "ln off by {w} ulps at {at}");
    }

    #[test]
    fn ln_edge_cases() {
        assert_eq!(ln(1.0), 0.0);
        assert_eq!(ln(0.0), f64::NEG_INFINITY);
        assert_eq!(ln(-0.0), f64::NEG_INFINITY);
        assert_eq!(ln(f64::INFINITY), f64::INFINITY);
        assert!(ln(-1.0).is_nan() && ln(f64::NEG_INFINITY).is_nan() && ln(f64::NAN).is_nan());
        assert_eq!(ln(f64::MAX), f64::MAX.ln());
        assert_eq!(ln(5e-324), 5e-324f64.ln());
        assert_eq!(ln(f64::MIN_POSITIVE), f64::MIN_POSITIVE.ln());
    }

    #[test]
    fn sigmoid_and_softplus_match_their_definitions() {
        let pts = sample_points(700.0, 5000, 6);
        let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
        let (w, at) = worst(&pts, sigmoid, sig);
        assert!(w <= 4.0, "sigmoid off by {w} ulps at {at}");
        let soft = |x: f64| x.max(0.0) + (-x.abs()).exp().ln_1p();
        let (w, at) = worst(&pts, softplus, soft);
        assert!(w <= 4.0, "softplus off by {w} ulps at {at}");
        assert_eq!(sigmoid(-800.0), 0.0);
        assert_eq!(sigmoid(800.0), 1.0);
        assert_eq!(softplus(-800.0), 0.0);
        assert_eq!(softplus(800.0), 800.0);
        assert!(sigmoid(f64::NAN).is_nan() && softplus(f64::NAN).is_nan());
    }
}
