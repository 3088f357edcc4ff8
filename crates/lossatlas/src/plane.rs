//! The plane through parameter space that every picture lives on:
//! theta(u, v) = origin + u * d1 + v * d2.
//!
//! For a two-parameter model the plane is the parameter space itself (origin 0, d1 = e1, d2 = e2),
//! so u and v are the parameters and the axes carry their names. For many-parameter models the same
//! plane holds trained weights and two directions (Li et al. 2018, "Visualizing the Loss Landscape
//! of Neural Nets"), and everything drawn on it is unchanged.

use crate::error::{Error, Result};

/// An affine plane in parameter space with named coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct Plane {
    origin: Vec<f64>,
    d1: Vec<f64>,
    d2: Vec<f64>,
    names: [String; 2],
}

impl Plane {
    /// The parameter space of a two-parameter model: u = theta_0, v = theta_1.
    pub fn parameter_axes(param_names: &[String]) -> Result<Plane> {
        if param_names.len() != 2 {
            return Err(Error::Invalid(format!(
                "the parameter plane needs a model with 2 parameters, this one has {} ({})",
                param_names.len(),
                param_names.join(", ")
            )));
        }
        Ok(Plane {
            origin: vec![0.0, 0.0],
            d1: vec![1.0, 0.0],
            d2: vec![0.0, 1.0],
            names: [param_names[0].clone(), param_names[1].clone()],
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
        let plane = Plane { origin, d1, d2, names };
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

    /// `Some((p, q))` when the plane is parameter space itself: u is parameter p and v parameter q
    /// (origin 0, unit coordinate directions). Lets evaluation skip the affine map on hot paths.
    pub fn axis_indices(&self) -> Option<(usize, usize)> {
        let unit = |d: &[f64]| {
            let ones: Vec<usize> = d.iter().enumerate().filter(|(_, &x)| x != 0.0).map(|(i, _)| i).collect();
            (ones.len() == 1 && d[ones[0]] == 1.0).then(|| ones[0])
        };
        if self.origin.iter().any(|&o| o != 0.0) {
            return None;
        }
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
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        [dot(&self.d1, &self.d1), dot(&self.d1, &self.d2), dot(&self.d2, &self.d2)]
    }
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
}
