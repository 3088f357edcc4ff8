//! The plane a training path moves in most: principal components of the snapshots' offsets from
//! the final weights (Li et al. 2018, section 7), and where each snapshot lies relative to it.
//!
//! With n snapshots of p weights, M = [s_1 - w; ...; s_n - w] is n x p with p far larger than n.
//! The principal directions are M' v_k / sqrt(lambda_k) for the eigenpairs (lambda_k, v_k) of the
//! n x n Gram matrix M M', so the cost is O(n^2 p) time and a few rows of memory, never p x p.
//! Like Li et al. the offsets are taken from the final weights, so the plane passes through them.

use super::path::PathFile;
use crate::analysis::SymmetricEigen;
use crate::error::{Error, Result};

/// Most `f64` values of snapshot rows held at once while forming the Gram matrix (256 MB).
const ROWS_BUDGET: usize = 1 << 25;

/// A sequence of weight snapshots that can be read in order, as often as needed.
pub trait Snapshots {
    /// Number of snapshots.
    fn count(&self) -> usize;
    /// Weights per snapshot.
    fn width(&self) -> usize;
    /// Calls `f(index, weights)` for each snapshot in order.
    fn visit(&self, f: &mut dyn FnMut(usize, &[f64])) -> Result<()>;
}

impl Snapshots for [Vec<f64>] {
    fn count(&self) -> usize {
        self.len()
    }
    fn width(&self) -> usize {
        self.first().map_or(0, Vec::len)
    }
    fn visit(&self, f: &mut dyn FnMut(usize, &[f64])) -> Result<()> {
        self.iter().enumerate().for_each(|(i, s)| f(i, s));
        Ok(())
    }
}

impl Snapshots for PathFile {
    fn count(&self) -> usize {
        self.len()
    }
    fn width(&self) -> usize {
        self.n_params()
    }
    fn visit(&self, f: &mut dyn FnMut(usize, &[f64])) -> Result<()> {
        self.for_each(|i, _, w| f(i, w))
    }
}

/// The principal plane of a path.
#[derive(Debug, Clone, PartialEq)]
pub struct PathPca {
    /// The first principal direction (unit length).
    pub d1: Vec<f64>,
    /// The second principal direction (unit length, orthogonal to the first).
    pub d2: Vec<f64>,
    /// The share of the offsets' total squared length along each principal direction, largest
    /// first (the first two are the plane's); they sum to 1.
    pub explained_variance_ratio: Vec<f64>,
}

/// Where a point lies relative to a plane origin + u d1 + v d2.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection {
    /// Coordinate along d1 of the nearest point of the plane.
    pub u: f64,
    /// Coordinate along d2.
    pub v: f64,
    /// Euclidean distance from the point to the plane.
    pub distance: f64,
}

/// The principal plane of `snapshots` around `origin` (the final weights).
pub fn path_pca<S: Snapshots + ?Sized>(snapshots: &S, origin: &[f64]) -> Result<PathPca> {
    path_pca_in_blocks(snapshots, origin, ROWS_BUDGET)
}

fn path_pca_in_blocks<S: Snapshots + ?Sized>(
    snapshots: &S,
    origin: &[f64],
    budget: usize,
) -> Result<PathPca> {
    let (n, p) = (snapshots.count(), snapshots.width());
    if p != origin.len() {
        return Err(Error::Invalid(format!(
            "the path's snapshots have {p} weights but the final weights have {}; use the path of this network",
            origin.len()
        )));
    }
    if n < 3 {
        return Err(Error::Invalid(format!(
            "a path of {n} snapshot(s) spans no plane; record at least 3 (a smaller --record-every)"
        )));
    }
    // The Gram matrix, a block of rows at a time: one pass to hold the block, one to meet it with
    // every later row.
    let block = (budget / p.max(1)).clamp(1, n);
    let mut gram = vec![0.0; n * n];
    let mut diff = vec![0.0; p];
    for b0 in (0..n).step_by(block) {
        let b1 = (b0 + block).min(n);
        let mut rows = vec![Vec::new(); b1 - b0];
        snapshots.visit(&mut |i, s| {
            if (b0..b1).contains(&i) {
                rows[i - b0] = s.iter().zip(origin).map(|(a, b)| a - b).collect();
            }
        })?;
        snapshots.visit(&mut |i, s| {
            if i < b0 {
                return;
            }
            diff.iter_mut().zip(s).zip(origin).for_each(|((d, a), b)| *d = a - b);
            for (j, row) in rows.iter().enumerate().map(|(k, r)| (b0 + k, r)).filter(|&(j, _)| j <= i) {
                let g: f64 = diff.iter().zip(row).map(|(a, b)| a * b).sum();
                gram[i * n + j] = g;
                gram[j * n + i] = g;
            }
        })?;
    }
    let eigen = SymmetricEigen::new(&gram, n)
        .ok_or_else(|| Error::Invalid("the path holds non-finite weights; it cannot be analysed".into()))?;
    let top = eigen.values.last().copied().unwrap_or(0.0);
    let kept: Vec<usize> = (0..n).rev().filter(|&k| eigen.values[k] > 1e-12 * top && top > 0.0).collect();
    if kept.len() < 2 {
        return Err(Error::Invalid(
            "the path moves along a line (or not at all) around the final weights, so it has no principal plane; \
             use random directions instead"
                .into(),
        ));
    }
    let total: f64 = kept.iter().map(|&k| eigen.values[k]).sum();
    let explained_variance_ratio = kept.iter().map(|&k| eigen.values[k] / total).collect();
    // d_k = M' v_k / sqrt(lambda_k), accumulated in one more pass.
    let (k1, k2) = (kept[0], kept[1]);
    let (mut d1, mut d2) = (vec![0.0; p], vec![0.0; p]);
    snapshots.visit(&mut |i, s| {
        let (c1, c2) = (eigen.vectors[k1][i], eigen.vectors[k2][i]);
        for (((a, b), &x), &o) in d1.iter_mut().zip(d2.iter_mut()).zip(s).zip(origin) {
            *a += c1 * (x - o);
            *b += c2 * (x - o);
        }
    })?;
    let (s1, s2) = (eigen.values[k1].sqrt(), eigen.values[k2].sqrt());
    d1.iter_mut().for_each(|v| *v /= s1);
    d2.iter_mut().for_each(|v| *v /= s2);
    Ok(PathPca { d1, d2, explained_variance_ratio })
}

/// The nearest point of the plane origin + u d1 + v d2 to `point` (least squares, so d1 and d2
/// need not be orthonormal) and the distance to it. A picture of a path projected on a plane hides
/// how far the path left it; this is the number that shows it.
pub fn project(origin: &[f64], d1: &[f64], d2: &[f64], point: &[f64]) -> Projection {
    let (mut a11, mut a12, mut a22, mut r1, mut r2) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (((&o, &x), &e1), &e2) in origin.iter().zip(point).zip(d1).zip(d2) {
        let r = x - o;
        a11 += e1 * e1;
        a12 += e1 * e2;
        a22 += e2 * e2;
        r1 += e1 * r;
        r2 += e2 * r;
    }
    let det = a11 * a22 - a12 * a12;
    let (u, v) =
        if det > 0.0 { ((a22 * r1 - a12 * r2) / det, (a11 * r2 - a12 * r1) / det) } else { (0.0, 0.0) };
    // |r - u d1 - v d2| computed directly: |r|^2 - (u r1 + v r2) would cancel badly near the plane.
    let distance = origin
        .iter()
        .zip(point)
        .zip(d1)
        .zip(d2)
        .map(|(((&o, &x), &e1), &e2)| (x - o - u * e1 - v * e2).powi(2))
        .sum::<f64>()
        .sqrt();
    Projection { u, v, distance }
}

/// [`project`] for every snapshot of a path, in order.
pub fn project_path<S: Snapshots + ?Sized>(
    snapshots: &S,
    origin: &[f64],
    d1: &[f64],
    d2: &[f64],
) -> Result<Vec<Projection>> {
    let mut out = Vec::with_capacity(snapshots.count());
    snapshots.visit(&mut |_, s| out.push(project(origin, d1, d2, s)))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn combine(o: &[f64], e1: &[f64], e2: &[f64], a: f64, b: f64) -> Vec<f64> {
        o.iter().zip(e1).zip(e2).map(|((o, x), y)| o + a * x + b * y).collect()
    }

    #[test]
    fn a_path_in_a_known_plane_gives_that_plane_and_zero_distance() {
        let p = 40;
        let o: Vec<f64> = (0..p).map(|k| (k as f64 * 0.37).sin()).collect();
        let e1: Vec<f64> = (0..p).map(|k| (k as f64 * 1.3).cos()).collect();
        let e2: Vec<f64> = (0..p).map(|k| ((k * k) as f64 * 0.11).sin()).collect();
        // A spiral into the final weights o.
        let path: Vec<Vec<f64>> = (0..30)
            .map(|i| {
                let r = 1.0 - i as f64 / 29.0;
                combine(&o, &e1, &e2, 3.0 * r * (i as f64).cos(), r * (i as f64).sin())
            })
            .collect();
        for budget in [ROWS_BUDGET, 3 * p] {
            let pca = path_pca_in_blocks(path.as_slice(), &o, budget).unwrap();
            assert_eq!(pca.explained_variance_ratio.len(), 2);
            assert!((pca.explained_variance_ratio.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            assert!(pca.explained_variance_ratio[0] > pca.explained_variance_ratio[1]);
            let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
            assert!(
                (dot(&pca.d1, &pca.d1) - 1.0).abs() < 1e-10 && (dot(&pca.d2, &pca.d2) - 1.0).abs() < 1e-10
            );
            assert!(dot(&pca.d1, &pca.d2).abs() < 1e-10);
            // The known plane's directions lie in the found plane, and every snapshot is on it.
            let zero = vec![0.0; p];
            for e in [&e1, &e2] {
                assert!(project(&zero, &pca.d1, &pca.d2, e).distance < 1e-9);
            }
            for (s, q) in path.iter().zip(project_path(path.as_slice(), &o, &pca.d1, &pca.d2).unwrap()) {
                assert!(q.distance < 1e-9);
                let back = combine(&o, &pca.d1, &pca.d2, q.u, q.v);
                assert!(back.iter().zip(s).all(|(a, b)| (a - b).abs() < 1e-9));
            }
        }
    }

    #[test]
    fn the_largest_spread_comes_first_and_distances_are_euclidean() {
        // Offsets (5t, t^2, 0) for t = -5..5: uncorrelated (sum t^3 = 0), with squared lengths
        // sum 25 t^2 = 2750 along x and sum t^4 = 1958 along y.
        let path: Vec<Vec<f64>> = (-5..=5).map(|t| vec![5.0 * t as f64, (t * t) as f64, 0.0]).collect();
        let pca = path_pca(path.as_slice(), &[0.0; 3]).unwrap();
        assert!((pca.d1[0].abs() - 1.0).abs() < 1e-12, "{:?}", pca.d1);
        assert!((pca.d2[1].abs() - 1.0).abs() < 1e-12, "{:?}", pca.d2);
        assert!((pca.explained_variance_ratio[0] - 2750.0 / 4708.0).abs() < 1e-12);
        let q = project(&[0.0; 3], &[2.0, 0.0, 0.0], &[0.0, 1.0, 1.0], &[4.0, 1.0, 3.0]);
        assert!((q.u - 2.0).abs() < 1e-12 && (q.v - 2.0).abs() < 1e-12);
        assert!((q.distance - 2f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn degenerate_paths_are_refused() {
        let line: Vec<Vec<f64>> = (0..5).map(|t| vec![t as f64, 2.0 * t as f64]).collect();
        assert!(path_pca(line.as_slice(), &[0.0, 0.0]).unwrap_err().to_string().contains("along a line"));
        assert!(path_pca(line.as_slice(), &[0.0]).is_err());
        assert!(path_pca(&line[..2], &[0.0, 0.0]).is_err());
    }
}
