//! The shape of a multilayer perceptron and where each of its weights lives in the flat
//! parameter vector.
//!
//! The layout is PyTorch's for an `nn.Sequential` of `nn.Linear` layers with activations between
//! them: layer by layer, the weight [out, in] row-major, then the bias [out]. So a flat vector here
//! is `torch.cat([p.flatten() for p in model.parameters()])`, and the state_dict names are
//! `0.weight, 0.bias, 2.weight, 2.bias, ...` (the odd indices are the activation modules).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Uniform};

use super::real::{vectorized, Real};
use crate::error::{Error, Result};

/// Runs `$body` with `$f` bound to the activation as a constant of each variant in turn, so that
/// `$f.at(z)` in a loop compiles to that variant's code alone (no match per element) and vectorises.
macro_rules! specialize {
    ($activation:expr, $f:ident => $body:expr) => {
        match $activation {
            Activation::Relu => {
                let $f = Activation::Relu;
                $body
            }
            Activation::Tanh => {
                let $f = Activation::Tanh;
                $body
            }
            Activation::Sigmoid => {
                let $f = Activation::Sigmoid;
                $body
            }
            Activation::Gelu => {
                let $f = Activation::Gelu;
                $body
            }
            Activation::Identity => {
                let $f = Activation::Identity;
                $body
            }
        }
    };
}
pub(crate) use specialize;

/// The nonlinearity after every layer but the last (the last layer's outputs are the logits or
/// the regression outputs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// max(z, 0) (`nn.ReLU`); its derivative at 0 is taken as 0, as torch does.
    Relu,
    /// tanh z (`nn.Tanh`).
    Tanh,
    /// 1 / (1 + e^-z) (`nn.Sigmoid`).
    Sigmoid,
    /// z * Phi(z) with the exact normal cdf Phi (`nn.GELU()`'s default, approximate='none').
    Gelu,
    /// z: a linear network (useful to check results against closed forms).
    Identity,
}

/// The activation names accepted by [`Activation::parse`].
pub const ACTIVATION_NAMES: [&str; 5] = ["relu", "tanh", "sigmoid", "gelu", "identity"];

impl Activation {
    /// Parses a name from [`ACTIVATION_NAMES`].
    pub fn parse(name: &str) -> Result<Activation> {
        Ok(match name {
            "relu" => Activation::Relu,
            "tanh" => Activation::Tanh,
            "sigmoid" => Activation::Sigmoid,
            "gelu" => Activation::Gelu,
            "identity" | "linear" => Activation::Identity,
            _ => {
                return Err(Error::Invalid(format!(
                    "unknown activation `{name}`; use one of {}",
                    ACTIVATION_NAMES.join(", ")
                )))
            }
        })
    }

    /// The name [`Activation::parse`] reads.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
            Activation::Gelu => "gelu",
            Activation::Identity => "identity",
        }
    }

    /// `a = f(z)` elementwise.
    pub(crate) fn apply<T: Real>(self, z: &[T], a: &mut [T]) {
        vectorized(
            #[inline(always)]
            || self.apply_here(z, a),
        )
    }

    #[inline(always)]
    fn apply_here<T: Real>(self, z: &[T], a: &mut [T]) {
        specialize!(self, f => {
            for (a, &z) in a.iter_mut().zip(z) {
                *a = f.at(z);
            }
        })
    }

    /// f(z) for one value, inlined into the vectorised loops that call it.
    #[inline(always)]
    pub(crate) fn at<T: Real>(self, z: T) -> T {
        let (zero, half, one) = (T::from_f64(0.0), T::from_f64(0.5), T::one());
        match self {
            Activation::Relu => {
                if z > zero {
                    z
                } else {
                    zero
                }
            }
            Activation::Tanh => z.tanh(),
            // (1 + tanh(z / 2)) / 2: the vectorised tanh, and no overflow of e^-z.
            Activation::Sigmoid => half + half * (half * z).tanh(),
            Activation::Gelu => half * z * (one + (z * T::from_f64(std::f64::consts::FRAC_1_SQRT_2)).erf()),
            Activation::Identity => z,
        }
    }

    /// `g[i] *= f'(z[i])`, given `z` and `a = f(z)`: turns the gradient with respect to the
    /// activations into the gradient with respect to the pre-activations.
    pub(crate) fn backward<T: Real>(self, z: &[T], a: &[T], g: &mut [T]) {
        vectorized(
            #[inline(always)]
            || self.backward_here(z, a, g),
        )
    }

    #[inline(always)]
    fn backward_here<T: Real>(self, z: &[T], a: &[T], g: &mut [T]) {
        let (zero, half, one) = (T::from_f64(0.0), T::from_f64(0.5), T::one());
        match self {
            Activation::Relu => {
                for (g, &z) in g.iter_mut().zip(z) {
                    if z <= zero {
                        *g = zero;
                    }
                }
            }
            Activation::Tanh => {
                for (g, &a) in g.iter_mut().zip(a) {
                    *g = *g * (one - a * a);
                }
            }
            Activation::Sigmoid => {
                for (g, &a) in g.iter_mut().zip(a) {
                    *g = *g * a * (one - a);
                }
            }
            Activation::Gelu => {
                // d/dz z Phi(z) = Phi(z) + z phi(z).
                let r = T::from_f64(std::f64::consts::FRAC_1_SQRT_2);
                let c = T::from_f64(1.0 / (2.0 * std::f64::consts::PI).sqrt());
                for (g, &z) in g.iter_mut().zip(z) {
                    let cdf = half * (one + (z * r).erf());
                    let pdf = c * (-(half * z * z)).exp();
                    *g = *g * (cdf + z * pdf);
                }
            }
            Activation::Identity => {}
        }
    }
}

/// What the network's outputs are scored with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Head {
    /// Softmax cross-entropy on class labels, the mean over samples (`nn.CrossEntropyLoss()`); the
    /// outputs are logits, one per class.
    CrossEntropy,
    /// Squared error, the mean over every output of every sample (`nn.MSELoss()`).
    Mse,
}

impl Head {
    /// `"cross-entropy"` or `"mse"`.
    pub fn name(self) -> &'static str {
        match self {
            Head::CrossEntropy => "cross-entropy",
            Head::Mse => "mse",
        }
    }
}

/// Where one dense layer's weight and bias sit in the flat parameter vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerShape {
    /// Input width (columns of the weight).
    pub inputs: usize,
    /// Output width (rows of the weight).
    pub outputs: usize,
    /// Offset of the weight, `[outputs, inputs]` row-major.
    pub weight: usize,
    /// Offset of the bias, `[outputs]`.
    pub bias: usize,
}

impl LayerShape {
    /// The weight's range in the flat vector.
    pub fn weight_range(&self) -> std::ops::Range<usize> {
        self.weight..self.weight + self.inputs * self.outputs
    }

    /// The bias's range in the flat vector.
    pub fn bias_range(&self) -> std::ops::Range<usize> {
        self.bias..self.bias + self.outputs
    }
}

/// A multilayer perceptron: its widths, its activation and its loss. The parameters are not part
/// of it; they are a flat `&[f64]` in PyTorch's layout (see the module documentation), so one
/// architecture serves trained weights, directions and every point of a plane alike.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    widths: Vec<usize>,
    activation: Activation,
    head: Head,
    layers: Vec<LayerShape>,
    prefixes: Vec<String>,
}

impl Mlp {
    /// A network with the given widths (input, hidden..., output), e.g. `[2, 64, 64, 2]`; its
    /// state_dict names are those of `nn.Sequential(Linear, act, Linear, act, ..., Linear)`.
    pub fn new(widths: &[usize], activation: Activation, head: Head) -> Result<Mlp> {
        let prefixes = (0..widths.len().saturating_sub(1)).map(|l| (2 * l).to_string()).collect();
        Mlp::with_prefixes(widths, activation, head, prefixes)
    }

    /// As [`Mlp::new`], with the module names of each layer (`"0"`, `"2"`, ... or those of a loaded
    /// file, e.g. `"net.0"`), so saved tensors keep the names they were loaded with.
    pub fn with_prefixes(
        widths: &[usize],
        activation: Activation,
        head: Head,
        prefixes: Vec<String>,
    ) -> Result<Mlp> {
        if widths.len() < 2 {
            return Err(Error::Invalid(format!(
                "a network needs at least an input and an output width, got {widths:?}; e.g. 2,64,64,2"
            )));
        }
        if let Some(l) = widths.iter().position(|&w| w == 0) {
            return Err(Error::Invalid(format!(
                "layer width {l} of {widths:?} is 0; every width must be >= 1"
            )));
        }
        if head == Head::CrossEntropy && widths[widths.len() - 1] < 2 {
            return Err(Error::Invalid(
                "cross-entropy needs at least 2 outputs (one logit per class); use mse for one output".into(),
            ));
        }
        if prefixes.len() != widths.len() - 1 {
            return Err(Error::Invalid(format!(
                "{} layer names for {} layers; give one module name per layer",
                prefixes.len(),
                widths.len() - 1
            )));
        }
        let mut offset = 0;
        let layers = widths
            .windows(2)
            .map(|w| {
                let shape =
                    LayerShape { inputs: w[0], outputs: w[1], weight: offset, bias: offset + w[0] * w[1] };
                offset += w[0] * w[1] + w[1];
                shape
            })
            .collect();
        Ok(Mlp { widths: widths.to_vec(), activation, head, layers, prefixes })
    }

    /// Input, hidden and output widths.
    pub fn widths(&self) -> &[usize] {
        &self.widths
    }

    /// The hidden layers' activation.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// The loss on the outputs.
    pub fn head(&self) -> Head {
        self.head
    }

    /// The same network scored with another head.
    pub fn with_head(&self, head: Head) -> Result<Mlp> {
        Mlp::with_prefixes(&self.widths, self.activation, head, self.prefixes.clone())
    }

    /// The dense layers, first to last.
    pub fn layers(&self) -> &[LayerShape] {
        &self.layers
    }

    /// Number of inputs per sample.
    pub fn inputs(&self) -> usize {
        self.widths[0]
    }

    /// Number of outputs per sample.
    pub fn outputs(&self) -> usize {
        self.widths[self.widths.len() - 1]
    }

    /// Length of the flat parameter vector.
    pub fn n_params(&self) -> usize {
        self.layers.last().map_or(0, |l| l.bias + l.outputs)
    }

    /// Each tensor's state_dict name and shape, in flat-vector order: `("0.weight", [out, in])`,
    /// `("0.bias", [out])`, ...
    pub fn tensors(&self) -> Vec<(String, Vec<usize>)> {
        self.layers
            .iter()
            .zip(&self.prefixes)
            .flat_map(|(l, p)| {
                [(format!("{p}.weight"), vec![l.outputs, l.inputs]), (format!("{p}.bias"), vec![l.outputs])]
            })
            .collect()
    }

    /// A description like `2-64-64-2 tanh, cross-entropy`.
    pub fn describe(&self) -> String {
        let widths: Vec<String> = self.widths.iter().map(usize::to_string).collect();
        format!("{} {}, {}", widths.join("-"), self.activation.name(), self.head.name())
    }

    /// Fresh weights as `nn.Linear` initialises them: weight and bias uniform in
    /// [-1/sqrt(in), 1/sqrt(in)] (kaiming_uniform with a = sqrt 5), from a ChaCha8 generator
    /// seeded with `seed`. Same distribution as torch, not the same numbers.
    pub fn init_params(&self, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut params = vec![0.0; self.n_params()];
        for layer in &self.layers {
            let bound = 1.0 / (layer.inputs as f64).sqrt();
            let uniform = Uniform::new_inclusive(-bound, bound);
            for p in &mut params[layer.weight..layer.bias + layer.outputs] {
                *p = uniform.sample(&mut rng);
            }
        }
        params
    }

    /// Checks that `params` has this network's length.
    pub fn check_params(&self, what: &str, params: &[f64]) -> Result<()> {
        if params.len() != self.n_params() {
            return Err(Error::Invalid(format!(
                "{what} has {} values but the {} network has {} parameters; use weights made for this network",
                params.len(),
                self.describe(),
                self.n_params()
            )));
        }
        Ok(())
    }
}

impl super::layout::ParamLayout for Mlp {
    fn tensors(&self) -> Vec<(String, Vec<usize>)> {
        Mlp::tensors(self)
    }

    fn describe(&self) -> String {
        Mlp::describe(self)
    }

    fn n_params(&self) -> usize {
        Mlp::n_params(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_pytorchs_sequential_of_linear() {
        let mlp = Mlp::new(&[3, 4, 2], Activation::Relu, Head::CrossEntropy).unwrap();
        // 4x3 weight, 4 bias, 2x4 weight, 2 bias.
        assert_eq!(mlp.n_params(), 12 + 4 + 8 + 2);
        assert_eq!(mlp.layers()[1], LayerShape { inputs: 4, outputs: 2, weight: 16, bias: 24 });
        let names: Vec<String> = mlp.tensors().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
        assert_eq!(mlp.tensors()[2].1, vec![2, 4]);
    }

    #[test]
    fn init_is_seeded_and_within_the_torch_bounds() {
        let mlp = Mlp::new(&[4, 9, 2], Activation::Tanh, Head::CrossEntropy).unwrap();
        let a = mlp.init_params(1);
        assert_eq!(a, mlp.init_params(1));
        assert_ne!(a, mlp.init_params(2));
        assert!(a[..45].iter().all(|w| w.abs() <= 0.5));
        assert!(a[45..].iter().all(|w| w.abs() <= 1.0 / 3.0));
        assert!(a[45..].iter().any(|w| w.abs() > 0.25), "layer 2 uses its own bound");
    }

    #[test]
    fn bad_shapes_are_refused_with_the_fix() {
        assert!(Mlp::new(&[3], Activation::Relu, Head::Mse).is_err());
        let e = Mlp::new(&[3, 0, 2], Activation::Relu, Head::Mse).unwrap_err().to_string();
        assert!(e.contains("is 0"), "{e}");
        assert!(Mlp::new(&[3, 1], Activation::Relu, Head::CrossEntropy).is_err());
        assert!(Activation::parse("softsign").unwrap_err().to_string().contains("relu, tanh"));
    }
}
