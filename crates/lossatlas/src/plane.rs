//! The plane through parameter space that every picture lives on:
//! theta(u, v) = origin + u * d1 + v * d2.
//!
//! For a two-parameter model the plane is the parameter space itself (origin 0, d1 = e1, d2 = e2),
//! so u and v are the parameters and the axes carry their names. For many-parameter models the same
//! plane holds trained weights and two directions (Li et al. 2018, "Visualizing the Loss Landscape
//! of Neural Nets"), and everything drawn on it is unchanged.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

use crate::error::{Error, Result};

/// How a plane was chosen: saved with every export so that any picture can be recomputed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PlaneKind {
    /// Two parameters as the axes, any others held where the origin puts them.
    Axes,
    /// Two random unit directions, the second orthogonalised against the first, from a seeded
    /// ChaCha8 generator.
    Random {
        /// The generator's seed.
        seed: u64,
    },
    /// Directions given by the caller.
    Given,
    /// A network's random directions, each Gaussian vector scaled filter by filter (or layer by
    /// layer) to the norms of the weights (Li et al. 2018), from a seeded ChaCha8 generator.
    Normalized {
        /// The generator's seed.
        seed: u64,
    },
    /// The first two principal directions of a recorded training path (unit length, orthogonal),
    /// through the path's final weights.
    PathPca,
}

/// An affine plane in parameter space with named coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct Plane {
    origin: Vec<f64>,
    d1: Vec<f64>,
    d2: Vec<f64>,
    names: [String; 2],
    kind: PlaneKind,
    /// The names of the parameter vector's components, where known (for exports).
    param_names: Vec<String>,
}

/// A plane as exports record it: how it was chosen, its axes, and the origin and directions in
/// the full parameter space, so that any landscape can be recomputed from its file.
#[derive(Debug, Clone, Serialize)]
pub struct PlaneDoc<'a> {
    /// How the plane was chosen (`axes`, `random` with its seed, `given`).
    #[serde(flatten)]
    pub kind: PlaneKind,
    /// The axis names (u, v).
    pub axes: &'a [String; 2],
    /// The parameter names, in the order of `origin` and the directions (empty when unknown).
    pub parameters: &'a [String],
    /// theta(0, 0).
    pub origin: &'a [f64],
    /// The direction of u.
    pub d1: &'a [f64],
    /// The direction of v.
    pub d2: &'a [f64],
}

impl Plane {
    /// The parameter space of a two-parameter model: u = theta_0, v = theta_1.
    pub fn parameter_axes(param_names: &[String]) -> Result<Plane> {
        if param_names.len() != 2 {
            return Err(Error::Invalid(format!(
                "the parameter plane needs a model with 2 parameters, this one has {} ({}); \
                 pick two with --plane or use --directions random",
                param_names.len(),
                param_names.join(", ")
            )));
        }
        Plane::axes(vec![0.0, 0.0], 0, 1, param_names)
    }

    /// The plane where parameters `p` and `q` vary (u = theta_p, v = theta_q) and every other one
    /// is held at its value in `held` (whose entries p and q are ignored). The axes carry the two
    /// parameters' names from `param_names`.
    pub fn axes(mut held: Vec<f64>, p: usize, q: usize, param_names: &[String]) -> Result<Plane> {
        let n = held.len();
        if p >= n || q >= n || p == q || param_names.len() != n {
            return Err(Error::Invalid(format!(
                "a parameter plane needs two different parameters of the {n}, got indices {p} and {q}"
            )));
        }
        held[p] = 0.0;
        held[q] = 0.0;
        let unit = |k: usize| {
            let mut d = vec![0.0; n];
            d[k] = 1.0;
            d
        };
        Ok(Plane {
            origin: held,
            d1: unit(p),
            d2: unit(q),
            names: [param_names[p].clone(), param_names[q].clone()],
            kind: PlaneKind::Axes,
            param_names: param_names.to_vec(),
        })
    }

    /// The plane through `origin` along two random directions: each drawn from a standard normal
    /// distribution and scaled to unit length, the second made orthogonal to the first
    /// (Gram-Schmidt), so u and v are distances in parameter space. The same seed gives the same
    /// plane on every machine. Needs at least two parameters.
    pub fn random(origin: Vec<f64>, seed: u64, param_names: &[String]) -> Result<Plane> {
        let n = origin.len();
        if param_names.len() != n {
            return Err(Error::Invalid(format!("{} parameter names for {n} parameters", param_names.len())));
        }
        if n < 2 {
            return Err(Error::Invalid(format!(
                "random directions need a model with at least 2 parameters, this one has {n}"
            )));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut draw = || -> Vec<f64> { (0..n).map(|_| StandardNormal.sample(&mut rng)).collect() };
        let mut d1 = draw();
        normalize(&mut d1);
        // A draw parallel to d1 has probability zero; redraw rather than divide by a tiny norm.
        let d2 = loop {
            let mut d2 = draw();
            let along = dot(&d1, &d2);
            d2.iter_mut().zip(&d1).for_each(|(b, a)| *b -= along * a);
            if normalize(&mut d2) > 1e-6 {
                break d2;
            }
        };
        let names = ["direction 1".to_string(), "direction 2".to_string()];
        Ok(Plane {
            origin,
            d1,
            d2,
            names,
            kind: PlaneKind::Random { seed },
            param_names: param_names.to_vec(),
        })
    }

    /// A plane through `origin` spanned by `d1` and `d2` (all of one length, directions linearly
    /// independent), with axis names for the pictures.
    pub fn new(origin: Vec<f64>, d1: Vec<f64>, d2: Vec<f64>, names: [String; 2]) -> Result<Plane> {
        let n = origin.len();
        if d1.len() != n || d2.len() != n || n == 0 {
            return Err(Error::Invalid(format!(
                "plane origin and directions must have one length, got {}, {} and {}",
                n,
                d1.len(),
                d2.len()
            )));
        }
        let plane = Plane { origin, d1, d2, names, kind: PlaneKind::Given, param_names: Vec::new() };
        let [g11, g12, g22] = plane.gram();
        let det = g11 * g22 - g12 * g12;
        if det.is_nan() || det <= 1e-12 * g11 * g22 {
            return Err(Error::Invalid("plane directions must be linearly independent".into()));
        }
        Ok(plane)
    }

    /// The point theta(u, v).
    pub fn point(&self, u: f64, v: f64) -> Vec<f64> {
        let mut theta = vec![0.0; self.origin.len()];
        self.point_into(u, v, &mut theta);
        theta
    }

    /// theta(u, v) written into `theta` (no allocation on hot paths).
    #[inline]
    pub fn point_into(&self, u: f64, v: f64, theta: &mut [f64]) {
        for (t, ((o, a), b)) in theta.iter_mut().zip(self.origin.iter().zip(&self.d1).zip(&self.d2)) {
            *t = o + u * a + v * b;
        }
    }

    /// The (u, v) of the point of the plane closest to `theta` (orthogonal projection), used to
    /// draw an optimizer's path on the plane.
    pub fn project(&self, theta: &[f64]) -> (f64, f64) {
        if let (PlaneKind::Axes, Some((p, q))) = (self.kind, self.unit_axes()) {
            // Exact for a parameter plane: no Gram-matrix solve to round.
            return (theta[p] - self.origin[p], theta[q] - self.origin[q]);
        }
        let [g11, g12, g22] = self.gram();
        let (mut r1, mut r2) = (0.0, 0.0);
        for (((t, o), a), b) in theta.iter().zip(&self.origin).zip(&self.d1).zip(&self.d2) {
            let d = t - o;
            r1 += d * a;
            r2 += d * b;
        }
        let det = g11 * g22 - g12 * g12;
        ((g22 * r1 - g12 * r2) / det, (g11 * r2 - g12 * r1) / det)
    }

    /// The Euclidean distance from `theta` to the plane: what a path drawn on the plane hides.
    pub fn distance(&self, theta: &[f64]) -> f64 {
        let (u, v) = self.project(theta);
        theta
            .iter()
            .zip(&self.origin)
            .zip(self.d1.iter().zip(&self.d2))
            .map(|((t, o), (a, b))| {
                let r = t - (o + u * a + v * b);
                r * r
            })
            .sum::<f64>()
            .sqrt()
    }

    /// The same plane, recorded as chosen by `kind` (for directions made outside this module).
    pub fn with_kind(mut self, kind: PlaneKind) -> Plane {
        self.kind = kind;
        self
    }

    /// How the plane was chosen.
    pub fn kind(&self) -> PlaneKind {
        self.kind
    }

    /// The plane as exports record it.
    pub fn doc(&self) -> PlaneDoc<'_> {
        PlaneDoc {
            kind: self.kind,
            axes: &self.names,
            parameters: &self.param_names,
            origin: &self.origin,
            d1: &self.d1,
            d2: &self.d2,
        }
    }

    /// `Some((p, q))` when the plane is parameter space itself: u is parameter p and v parameter q
    /// (origin 0, unit coordinate directions). Lets evaluation skip the affine map on hot paths.
    pub fn axis_indices(&self) -> Option<(usize, usize)> {
        if self.origin.iter().any(|&o| o != 0.0) {
            return None;
        }
        self.unit_axes()
    }

    /// `Some((p, q))` when d1 and d2 are the unit vectors of parameters p and q.
    fn unit_axes(&self) -> Option<(usize, usize)> {
        let unit = |d: &[f64]| {
            let ones: Vec<usize> = d.iter().enumerate().filter(|(_, &x)| x != 0.0).map(|(i, _)| i).collect();
            (ones.len() == 1 && d[ones[0]] == 1.0).then(|| ones[0])
        };
        match (unit(&self.d1), unit(&self.d2)) {
            (Some(p), Some(q)) if p != q => Some((p, q)),
            _ => None,
        }
    }

    /// The axis names (u, v).
    pub fn names(&self) -> &[String; 2] {
        &self.names
    }

    /// The dimension of the parameter space.
    pub fn dim(&self) -> usize {
        self.origin.len()
    }

    /// The origin.
    pub fn origin(&self) -> &[f64] {
        &self.origin
    }

    /// The two directions.
    pub fn directions(&self) -> (&[f64], &[f64]) {
        (&self.d1, &self.d2)
    }

    fn gram(&self) -> [f64; 3] {
        [dot(&self.d1, &self.d1), dot(&self.d1, &self.d2), dot(&self.d2, &self.d2)]
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Scales `d` to unit length and returns its former length.
fn normalize(d: &mut [f64]) -> f64 {
    let norm = dot(d, d).sqrt();
    d.iter_mut().for_each(|x| *x /= norm);
    norm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_axes_are_the_identity() {
        let p = Plane::parameter_axes(&["k".into(), "b".into()]).unwrap();
        assert_eq!(p.point(0.3, -2.0), vec![0.3, -2.0]);
        assert_eq!(p.project(&[0.3, -2.0]), (0.3, -2.0));
    }

    #[test]
    fn projection_inverts_point_on_a_skew_plane() {
        let p = Plane::new(
            vec![1.0, 2.0, 3.0],
            vec![1.0, 1.0, 0.0],
            vec![0.0, 2.0, -1.0],
            ["a".into(), "b".into()],
        )
        .unwrap();
        let (u, v) = p.project(&p.point(0.7, -1.3));
        assert!((u - 0.7).abs() < 1e-12 && (v + 1.3).abs() < 1e-12);
        assert!(Plane::new(vec![0.0; 2], vec![1.0, 1.0], vec![2.0, 2.0], ["a".into(), "b".into()]).is_err());
    }

    #[test]
    fn held_axes_vary_two_parameters_and_keep_the_rest() {
        let names: Vec<String> = ["A", "r", "c"].iter().map(|s| s.to_string()).collect();
        let p = Plane::axes(vec![9.0, 9.0, 0.3], 0, 1, &names).unwrap();
        assert_eq!(p.point(1.5, 0.2), vec![1.5, 0.2, 0.3]);
        assert_eq!(p.names(), &["A".to_string(), "r".to_string()]);
        assert_eq!(p.project(&[1.5, 0.2, 0.3]), (1.5, 0.2));
        // Off the plane by 0.4 in c only.
        assert!((p.distance(&[1.5, 0.2, 0.7]) - 0.4).abs() < 1e-15);
        assert_eq!(p.distance(&[-2.0, 5.0, 0.3]), 0.0);
        assert!(Plane::axes(vec![0.0; 3], 1, 1, &names).is_err());
    }

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("p{i}")).collect()
    }

    #[test]
    fn random_directions_are_orthonormal_and_reproducible() {
        let origin = vec![1.0, -2.0, 0.5, 3.0, 0.0];
        let p = Plane::random(origin.clone(), 7, &names(5)).unwrap();
        let (d1, d2) = p.directions();
        assert!((dot(d1, d1) - 1.0).abs() < 1e-14 && (dot(d2, d2) - 1.0).abs() < 1e-14);
        assert!(dot(d1, d2).abs() < 1e-14);
        assert_eq!(p, Plane::random(origin.clone(), 7, &names(5)).unwrap());
        assert_ne!(p.directions().0, Plane::random(origin, 8, &names(5)).unwrap().directions().0);
        assert_eq!(p.kind(), PlaneKind::Random { seed: 7 });
        // A point off the plane along a vector orthogonal to both directions: that vector's length.
        let mut w = vec![0.3, 0.1, -0.2, 0.4, 0.5];
        let (a, b) = (dot(&w, d1), dot(&w, d2));
        w.iter_mut().zip(d1.iter().zip(d2)).for_each(|(x, (e, f))| *x -= a * e + b * f);
        let off: Vec<f64> = p.point(0.7, -0.2).iter().zip(&w).map(|(t, x)| t + 2.0 * x).collect();
        assert!((p.distance(&off) - 2.0 * dot(&w, &w).sqrt()).abs() < 1e-12);
        assert!(Plane::random(vec![0.0], 1, &names(1)).is_err());
    }
}
