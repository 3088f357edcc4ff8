//! The two floating-point types a network computes in (f32 as PyTorch does by default, f64 for
//! checks), the matrix product both use, and the activation functions over whole slices.
//!
//! Everything outside the compute kernels (parameters handed in and out, losses, directions) stays
//! `f64`, the crate's one scalar type; only the data and the per-evaluation copies of the weights
//! are converted, once.

use std::fmt;
use std::ops::{AddAssign, Neg};

use ndarray::{linalg::general_mat_mul, ArrayView2, ArrayViewMut2, ShapeBuilder};

/// A floating-point type a network can compute in: `f32` or `f64`.
pub trait Real:
    ndarray::LinalgScalar
    + PartialOrd
    + AddAssign
    + Neg<Output = Self>
    + Default
    + fmt::Debug
    + Send
    + Sync
    + super::lanes::Lanes
{
    /// `"f32"` or `"f64"`, for messages and benchmark names.
    const NAME: &'static str;
    /// Rounds an `f64` to this type.
    fn from_f64(x: f64) -> Self;
    /// Widens to `f64` (exact).
    fn to_f64(self) -> f64;
    /// e^x.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// The error function, for the exact GELU.
    fn erf(self) -> Self;
    /// tanh, in a branch-free form the compiler vectorises (the inner loop of a tanh network).
    fn tanh(self) -> Self;
    /// self * a + b with one rounding (a fused multiply-add where the CPU has one; exact the same
    /// result everywhere).
    fn mul_add(self, a: Self, b: Self) -> Self;
}

impl Real for f32 {
    const NAME: &'static str = "f32";
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn exp(self) -> Self {
        f32::exp(self)
    }
    #[inline(always)]
    fn ln(self) -> Self {
        f32::ln(self)
    }
    #[inline(always)]
    fn erf(self) -> Self {
        libm::erff(self)
    }
    #[inline(always)]
    fn tanh(self) -> Self {
        tanh_f32(self)
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        f32::mul_add(self, a, b)
    }
}

impl Real for f64 {
    const NAME: &'static str = "f64";
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn exp(self) -> Self {
        f64::exp(self)
    }
    #[inline(always)]
    fn ln(self) -> Self {
        f64::ln(self)
    }
    #[inline(always)]
    fn erf(self) -> Self {
        libm::erf(self)
    }
    #[inline(always)]
    fn tanh(self) -> Self {
        crate::fastmath::tanh(self)
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        f64::mul_add(self, a, b)
    }
}

/// tanh in single precision: the odd rational minimax approximation (degree 13 over degree 6)
/// that Eigen, and through it TensorFlow and XLA, use for float tanh, accurate to a few units in the
/// last place of an `f32` on the clamped range; beyond |x| = 7.9 tanh rounds to +-1 in `f32`.
#[inline(always)]
#[allow(clippy::excessive_precision)] // the published coefficients, as published
pub(crate) fn tanh_f32(x: f32) -> f32 {
    const CLAMP: f32 = 7.905_311_107_635_498_05;
    const A1: f32 = 4.893_524_558_917_86e-3;
    const A3: f32 = 6.372_619_288_754_36e-4;
    const A5: f32 = 1.485_722_357_179_79e-5;
    const A7: f32 = 5.122_297_090_371_14e-8;
    const A9: f32 = -8.604_671_522_137_35e-11;
    const A11: f32 = 2.000_187_904_824_77e-13;
    const A13: f32 = -2.760_768_477_423_55e-16;
    const B0: f32 = 4.893_525_185_543_85e-3;
    const B2: f32 = 2.268_434_632_439_00e-3;
    const B4: f32 = 1.185_347_056_866_54e-4;
    const B6: f32 = 1.198_258_394_667_02e-6;
    let c = x.clamp(-CLAMP, CLAMP); // NaN stays NaN
    let x2 = c * c;
    let mut p = x2 * A13 + A11;
    p = x2 * p + A9;
    p = x2 * p + A7;
    p = x2 * p + A5;
    p = x2 * p + A3;
    p = x2 * p + A1;
    p *= c;
    let mut q = x2 * B6 + B4;
    q = x2 * q + B2;
    q = x2 * q + B0;
    // Near 0 the ratio is x (A1 / B0) = x (1 - 1.3e-7), within an ulp; no branch, so it vectorises.
    p / q
}

/// Runs `f` compiled for AVX-512 (x86-64-v4) or else AVX2+FMA (x86-64-v3) when the CPU has them,
/// detected at run time, so the plain loops inside it vectorise wider than the generic x86-64
/// build. Pass an `#[inline(always)]` closure: one left out of line gets no such features.
#[inline(always)]
pub(crate) fn vectorized<R>(f: impl FnOnce() -> R) -> R {
    pulp::Arch::new().dispatch(f)
}

/// `c = a * op(b) + beta * c` on row-major slices: `a` is m x k, `c` is m x n, and `b` is k x n, or
/// n x k when `b_transposed` (a weight matrix [out, in] used as its transpose). Runs on the calling
/// thread: parallelism is decided by the callers, over fixed chunks.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm<T: Real>(
    m: usize,
    k: usize,
    n: usize,
    a: &[T],
    a_transposed: bool,
    b: &[T],
    b_transposed: bool,
    beta: T,
    c: &mut [T],
) {
    let a = if a_transposed {
        ArrayView2::from_shape((m, k).f(), &a[..m * k])
    } else {
        ArrayView2::from_shape((m, k), &a[..m * k])
    }
    .expect("a holds m x k values");
    let b = if b_transposed {
        ArrayView2::from_shape((k, n).f(), &b[..k * n])
    } else {
        ArrayView2::from_shape((k, n), &b[..k * n])
    }
    .expect("b holds k x n values");
    let mut c = ArrayViewMut2::from_shape((m, n), &mut c[..m * n]).expect("c holds m x n values");
    general_mat_mul(T::one(), &a, &b, beta, &mut c);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tanh_f32_matches_f64_tanh_to_float_precision() {
        let mut worst = 0.0f64;
        for i in -20_000..=20_000 {
            let x = i as f64 * 6e-4;
            let exact = x.tanh();
            let err = (tanh_f32(x as f32) as f64 - exact).abs() / exact.abs().max(1e-30);
            worst = worst.max(if x == 0.0 { 0.0 } else { err });
        }
        assert!(worst < 6e-7, "worst relative error {worst}");
        assert_eq!(tanh_f32(30.0), 1.0);
        assert_eq!(tanh_f32(-30.0), -1.0);
        assert!(tanh_f32(-0.0).is_sign_negative());
        assert!(tanh_f32(f32::NAN).is_nan());
    }

    #[test]
    fn gemm_matches_the_definition_for_every_transpose() {
        // a = [[1, 2, 3], [4, 5, 6]] (2 x 3), b = [[1, 0], [2, 1], [0, 3]] (3 x 2).
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let a_t = [1.0, 4.0, 2.0, 5.0, 3.0, 6.0];
        let b = [1.0, 0.0, 2.0, 1.0, 0.0, 3.0];
        let b_t = [1.0, 2.0, 0.0, 0.0, 1.0, 3.0];
        let want = [5.0, 11.0, 14.0, 23.0];
        for (aa, at) in [(&a, false), (&a_t, true)] {
            for (bb, bt) in [(&b, false), (&b_t, true)] {
                let mut c = [1.0f64; 4];
                gemm(2, 3, 2, aa, at, bb, bt, 1.0, &mut c);
                assert_eq!(c, want.map(|w| w + 1.0));
            }
        }
    }
}
