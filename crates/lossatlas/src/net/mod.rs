//! Real networks: multilayer perceptrons on many-feature data, sliced along planes through their
//! trained weights (Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets").
//!
//! - [`Mlp`]: dense layers in PyTorch's `nn.Sequential`-of-`nn.Linear` layout; the parameters are
//!   one flat `f64` vector in `state_dict` order.
//! - [`Samples`]: features and class labels or regression targets; seeded moons, circles, spirals
//!   and blobs; a seeded train/test split.
//! - [`NetObjective`]: loss, accuracy and gradient, batched on a matrix-multiplication kernel, in
//!   `f32` (as PyTorch) or `f64`.
//! - [`PlaneEvaluator`]: the loss over a grid of a plane, the first layer paid once per plane.
//! - [`NetHessian`]: exact Hessian-vector products; with [`crate::spectrum`], the largest
//!   eigenvalues, the trace, the eigenvalue density and the plane of the top two eigenvectors.
//! - [`read_weights`], [`read_direction`], [`tensors_bytes`]: safetensors files with PyTorch's names.
//! - [`Directions`]: random directions with filter-wise or layer-wise normalization.
//! - [`PathRecorder`], [`PathFile`], [`PathPca`]: a training path on disk and its principal plane.
//! - [`train`]: full-batch or mini-batch training with the crate's optimizers.
//!
//! # Example
//!
//! Train a small network on two moons, then slice its loss along two filter-normalized directions.
//!
//! ```
//! use lossatlas::net::*;
//! use lossatlas::OptimizerSpec;
//!
//! let (train_set, _test_set) = Samples::moons(200, 0.1, 0)?.split(0.2, 0)?;
//! let mlp = Mlp::new(&[2, 16, 2], Activation::Tanh, Head::CrossEntropy)?;
//! let objective = NetObjective::<f32>::new(&mlp, &train_set)?;
//! let mut weights = mlp.init_params(0);
//! let options = TrainOptions {
//!     optimizer: OptimizerSpec::parse("adam:lr=0.05")?,
//!     epochs: 100,
//!     batch_size: None,
//!     seed: 0,
//!     record_every: 10,
//! };
//! let last = train(&objective, &mut weights, &options, None, None, |_| {})?;
//! assert!(last.train.accuracy.unwrap() > 0.9);
//!
//! let dirs = Directions::random(&mlp, &weights, 1, Normalization::Filter, BiasDirections::Zero, false)?;
//! let plane = PlaneEvaluator::new(&objective, &weights, &dirs.d1, &dirs.d2)?;
//! let axis: Vec<f64> = (0..11).map(|i| -1.0 + 0.2 * i as f64).collect();
//! let grid = plane.evaluate(&axis, &axis);
//! // The centre of the grid is the trained network itself.
//! let centre = grid.loss[5 * 11 + 5];
//! assert!((centre - last.train.loss).abs() < 1e-5 * last.train.loss);
//! // Weights travel as safetensors with PyTorch's names.
//! let bytes = tensors_bytes(&mlp, &weights, TensorType::F32)?;
//! let loaded = parse_weights("m.safetensors", &bytes, Activation::Tanh, Head::CrossEntropy)?;
//! assert_eq!(loaded.mlp.widths(), &[2, 16, 2]);
//! # Ok::<(), lossatlas::Error>(())
//! ```
//!
//! Every computation splits its work into fixed chunks and adds their results in a fixed order,
//! so a result is the same for any number of threads.

mod directions;
mod hessian;
mod lanes;
mod layout;
mod mlp;
mod objective;
#[cfg(feature = "onnx")]
mod onnx;
mod path;
mod pca;
mod plane;
mod real;
mod samples;
mod train;
mod weights;

pub use directions::{normalize, orthogonalize, BiasDirections, Directions, Normalization};
pub use hessian::{Curvature, CurvatureOptions, NetHessian, CACHE_BYTES};
pub use layout::ParamLayout;
pub use mlp::{Activation, Head, LayerShape, Mlp, ACTIVATION_NAMES};
pub use objective::{Evaluation, NetObjective};
#[cfg(feature = "onnx")]
pub use onnx::{OnnxLoss, OnnxModel, OnnxObjective, OnnxParam, OnnxPlane};
pub use path::{PathFile, PathRecorder};
pub use pca::{path_pca, project, project_path, PathPca, Projection, Snapshots};
pub use plane::{PlaneEvaluator, PlaneValues};
pub use real::Real;
pub use samples::{Samples, TargetKind, Targets};
pub use train::{train, EpochReport, TrainOptions};
pub use weights::{
    parse_direction, parse_weights, read_direction, read_weights, tensors_bytes, LoadedWeights, TensorType,
};

/// `f(i)` for each `i` in `range`, in order; in parallel when the `parallel` feature is on. Each
/// result depends only on its index, so the output is the same for any thread count.
pub(crate) fn map_ordered<R: Send>(
    range: std::ops::Range<usize>,
    f: impl Fn(usize) -> R + Sync + Send,
) -> Vec<R> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        range.into_par_iter().map(f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        range.map(f).collect()
    }
}
