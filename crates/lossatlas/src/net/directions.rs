//! Directions through a network's weights, scaled so a step along them means the same for every
//! neuron (Li et al. 2018).
//!
//! A raw Gaussian direction moves a neuron with small weights proportionally far more than one
//! with large weights, and a network whose weights were rescaled (as batch norm or relu allow
//! without changing the function) would look sharper or flatter for no reason. Filter-wise
//! normalization scales each row of a direction's weight matrices (the incoming weights of one
//! output neuron) to the norm of the same row of the trained weights; layer-wise normalization does
//! the same per whole weight matrix.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::layout::{check_len, slots, ParamLayout};
use crate::error::{Error, Result};

/// How a random direction is scaled against the weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Normalization {
    /// Raw N(0, 1) entries.
    None,
    /// Each weight row (one output neuron's incoming weights) scaled to the norm of that row of
    /// the weights (Li et al.'s `--dir_type weights --xnorm filter --ynorm filter`).
    Filter,
    /// Each weight matrix scaled to the Frobenius norm of that layer's weights.
    Layer,
}

impl Normalization {
    /// Parses `none`, `filter` or `layer`.
    pub fn parse(name: &str) -> Result<Normalization> {
        match name {
            "none" => Ok(Normalization::None),
            "filter" => Ok(Normalization::Filter),
            "layer" => Ok(Normalization::Layer),
            _ => Err(Error::Invalid(format!("unknown normalization `{name}`; use filter, layer or none"))),
        }
    }
}

/// What the bias entries of a direction are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BiasDirections {
    /// Zero: the biases stay at their trained values across the plane (the default, as Li et al.'s
    /// `--ignore biasbn`).
    Zero,
    /// Random, and each layer's bias vector scaled to the norm of that layer's trained bias (for
    /// [`Normalization::None`], left as drawn).
    Normalize,
    /// The trained biases themselves (what Li et al.'s code does for one-dimensional parameters when
    /// biases are not ignored).
    Weights,
}

impl BiasDirections {
    /// Parses `zero`, `normalize` or `weights`.
    pub fn parse(name: &str) -> Result<BiasDirections> {
        match name {
            "zero" => Ok(BiasDirections::Zero),
            "normalize" => Ok(BiasDirections::Normalize),
            "weights" => Ok(BiasDirections::Weights),
            _ => Err(Error::Invalid(format!(
                "unknown bias treatment `{name}`; use zero, normalize or weights"
            ))),
        }
    }
}

/// Two directions spanning a plane through the weights.
#[derive(Debug, Clone, PartialEq)]
pub struct Directions {
    /// The first direction (the u axis).
    pub d1: Vec<f64>,
    /// The second direction (the v axis).
    pub d2: Vec<f64>,
}

impl Directions {
    /// Two Gaussian directions drawn one after the other from one ChaCha8 generator seeded with
    /// `seed`, each normalized against `weights`; with `orthogonal`, the second is then made
    /// orthogonal to the first ([`orthogonalize`]).
    pub fn random(
        layout: &(impl ParamLayout + ?Sized),
        weights: &[f64],
        seed: u64,
        normalization: Normalization,
        bias: BiasDirections,
        orthogonal: bool,
    ) -> Result<Directions> {
        check_len(layout, "the weights", weights)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n = weights.len();
        let mut draw = || -> Vec<f64> { (0..n).map(|_| StandardNormal.sample(&mut rng)).collect() };
        let (mut d1, mut d2) = (draw(), draw());
        normalize(layout, weights, &mut d1, normalization, bias)?;
        normalize(layout, weights, &mut d2, normalization, bias)?;
        if orthogonal {
            orthogonalize(&mut d2, &d1)?;
        }
        Ok(Directions { d1, d2 })
    }
}

/// Scales `direction` against `weights` as `normalization` says, and sets its biases as `bias`
/// says. A filter is the first axis of a weight tensor (a neuron's incoming weights, a
/// convolution's output channel); tensors of rank 0 or 1 (biases, batch-norm scales and shifts)
/// follow `bias`, as Li et al.'s `--ignore biasbn` does. A filter scaled to the norm of a weight
/// filter is multiplied by |w_f| / (|d_f| + 1e-10), Li et al.'s exact rule (the 1e-10 keeps an
/// all-zero filter at zero).
pub fn normalize(
    layout: &(impl ParamLayout + ?Sized),
    weights: &[f64],
    direction: &mut [f64],
    normalization: Normalization,
    bias: BiasDirections,
) -> Result<()> {
    check_len(layout, "the weights", weights)?;
    check_len(layout, "the direction", direction)?;
    let scale_to = |d: &mut [f64], w: &[f64]| {
        let factor = norm(w) / (norm(d) + 1e-10);
        d.iter_mut().for_each(|x| *x *= factor);
    };
    for slot in slots(layout) {
        let r = slot.range;
        match (slot.filter_len, normalization) {
            (Some(_), Normalization::None) => {}
            (Some(filter_len), Normalization::Filter) => {
                for (d_row, w_row) in
                    direction[r.clone()].chunks_exact_mut(filter_len).zip(weights[r].chunks_exact(filter_len))
                {
                    scale_to(d_row, w_row);
                }
            }
            (Some(_), Normalization::Layer) => scale_to(&mut direction[r.clone()], &weights[r]),
            (None, _) => match bias {
                BiasDirections::Zero => direction[r].iter_mut().for_each(|x| *x = 0.0),
                BiasDirections::Normalize if normalization != Normalization::None => {
                    scale_to(&mut direction[r.clone()], &weights[r])
                }
                BiasDirections::Normalize => {}
                BiasDirections::Weights => direction[r.clone()].copy_from_slice(&weights[r]),
            },
        }
    }
    Ok(())
}

/// Makes `d2` orthogonal to `d1` (one Gram-Schmidt step: d2 - (d1.d2 / d1.d1) d1) and rescales
/// it to its former norm, so the axis keeps the scale its normalization gave it.
pub fn orthogonalize(d2: &mut [f64], d1: &[f64]) -> Result<()> {
    let (n1, n2) = (dot(d1, d1), norm(d2));
    if n1 == 0.0 || d1.len() != d2.len() {
        return Err(Error::Invalid(
            "cannot orthogonalize against a zero (or differently sized) first direction".into(),
        ));
    }
    let c = dot(d1, d2) / n1;
    d2.iter_mut().zip(d1).for_each(|(b, a)| *b -= c * a);
    let left = norm(d2);
    if left <= 1e-12 * n2 {
        return Err(Error::Invalid(
            "the two directions are parallel, so they span no plane; use a different second direction or seed".into(),
        ));
    }
    d2.iter_mut().for_each(|b| *b *= n2 / left);
    Ok(())
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Activation, Head, Mlp};

    fn setup() -> (Mlp, Vec<f64>) {
        let mlp = Mlp::new(&[3, 5, 4, 2], Activation::Relu, Head::CrossEntropy).unwrap();
        let weights =
            mlp.init_params(3).iter().enumerate().map(|(k, w)| w * (1.0 + (k % 7) as f64)).collect();
        (mlp, weights)
    }

    #[test]
    fn filter_normalization_gives_each_row_its_weight_rows_norm() {
        let (mlp, weights) = setup();
        let dirs = Directions::random(&mlp, &weights, 11, Normalization::Filter, BiasDirections::Zero, false)
            .unwrap();
        for d in [&dirs.d1, &dirs.d2] {
            for layer in mlp.layers() {
                for r in 0..layer.outputs {
                    let row = layer.weight + r * layer.inputs..layer.weight + (r + 1) * layer.inputs;
                    let (dn, wn) = (norm(&d[row.clone()]), norm(&weights[row]));
                    assert!((dn - wn).abs() < 1e-9 * wn, "row {r}: {dn} vs {wn}");
                }
                assert!(d[layer.bias_range()].iter().all(|&b| b == 0.0));
            }
        }
        assert_ne!(dirs.d1, dirs.d2);
        assert_eq!(
            dirs,
            Directions::random(&mlp, &weights, 11, Normalization::Filter, BiasDirections::Zero, false)
                .unwrap()
        );
    }

    /// A convolutional layout: filters are output channels (the first axis of a 4-D kernel),
    /// and rank-1 tensors (bias, batch-norm scale and shift) follow the bias rule.
    struct Conv;

    impl ParamLayout for Conv {
        fn tensors(&self) -> Vec<(String, Vec<usize>)> {
            vec![
                ("conv.weight".into(), vec![3, 2, 3, 3]),
                ("conv.bias".into(), vec![3]),
                ("bn.weight".into(), vec![3]),
                ("fc.weight".into(), vec![4, 12]),
            ]
        }
        fn describe(&self) -> String {
            "a small CNN".into()
        }
    }

    #[test]
    fn filter_normalization_of_a_convolution_scales_each_output_channel() {
        let n = Conv.n_params();
        assert_eq!(n, 54 + 3 + 3 + 48);
        let weights: Vec<f64> = (0..n).map(|k| ((k * 37 % 11) as f64 - 5.0) / 3.0).collect();
        let dirs = Directions::random(&Conv, &weights, 9, Normalization::Filter, BiasDirections::Zero, false)
            .unwrap();
        for channel in 0..3 {
            let r = channel * 18..(channel + 1) * 18;
            let (dn, wn) = (norm(&dirs.d1[r.clone()]), norm(&weights[r]));
            assert!((dn - wn).abs() < 1e-9 * wn, "channel {channel}: {dn} vs {wn}");
        }
        for row in 0..4 {
            let r = 60 + row * 12..60 + (row + 1) * 12;
            assert!((norm(&dirs.d1[r.clone()]) - norm(&weights[r])).abs() < 1e-9);
        }
        assert!(dirs.d1[54..60].iter().all(|&b| b == 0.0), "bias and batch norm get zero");
        let kept =
            Directions::random(&Conv, &weights, 9, Normalization::Filter, BiasDirections::Weights, false)
                .unwrap();
        assert_eq!(kept.d1[54..60], weights[54..60]);
        let short =
            Directions::random(&Conv, &weights[1..], 9, Normalization::Filter, BiasDirections::Zero, false);
        assert!(short.unwrap_err().to_string().contains("the network (a small CNN) has 108 parameters"));
    }

    #[test]
    fn layer_normalization_and_the_bias_options() {
        let (mlp, weights) = setup();
        let dirs =
            Directions::random(&mlp, &weights, 2, Normalization::Layer, BiasDirections::Normalize, false)
                .unwrap();
        for layer in mlp.layers() {
            let (w, b) = (layer.weight_range(), layer.bias_range());
            assert!((norm(&dirs.d1[w.clone()]) - norm(&weights[w])).abs() < 1e-9);
            assert!((norm(&dirs.d1[b.clone()]) - norm(&weights[b])).abs() < 1e-9);
        }
        let dirs =
            Directions::random(&mlp, &weights, 2, Normalization::Filter, BiasDirections::Weights, false)
                .unwrap();
        let b = mlp.layers()[1].bias_range();
        assert_eq!(dirs.d2[b.clone()], weights[b]);
    }

    #[test]
    fn orthogonalized_second_direction_is_orthogonal_and_keeps_its_norm() {
        let (mlp, weights) = setup();
        let raw = Directions::random(&mlp, &weights, 5, Normalization::Filter, BiasDirections::Zero, false)
            .unwrap();
        let dirs =
            Directions::random(&mlp, &weights, 5, Normalization::Filter, BiasDirections::Zero, true).unwrap();
        assert_eq!(dirs.d1, raw.d1);
        assert!(dot(&dirs.d1, &dirs.d2).abs() < 1e-12 * norm(&dirs.d1) * norm(&dirs.d2));
        assert!((norm(&dirs.d2) - norm(&raw.d2)).abs() < 1e-12 * norm(&raw.d2));
        let mut d = raw.d1.clone();
        assert!(orthogonalize(&mut d, &raw.d1).unwrap_err().to_string().contains("parallel"));
    }
}
