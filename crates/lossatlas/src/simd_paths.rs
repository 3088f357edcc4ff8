//! The instruction sets tests run pulp's generic kernels on. Every kernel written once for all
//! instruction sets is tested on each one this CPU has, against the portable scalar path or a
//! reference, so a fault on one path cannot hide behind the path the machine happens to pick.

/// Every instruction set this CPU has: the portable scalar one first, then the wide ones.
pub(crate) fn all() -> Vec<pulp::Arch> {
    let mut all = vec![pulp::Arch::Scalar];
    all.extend(wide());
    all
}

/// The wide instruction sets this CPU has: on x86-64, AVX2+FMA (pulp's x86-v3) and AVX-512
/// (x86-v4); none elsewhere.
pub(crate) fn wide() -> Vec<pulp::Arch> {
    #[allow(unused_mut)]
    let mut wide = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        if let Some(v3) = pulp::x86::V3::try_new() {
            wide.push(pulp::Arch::V3(v3));
        }
        if let Some(v4) = pulp::x86::V4::try_new() {
            wide.push(pulp::Arch::V4(v4));
        }
    }
    wide
}
