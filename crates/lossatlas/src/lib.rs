//! lossatlas: see what a loss function looks like.
//!
//! # Brief overview
//!
//! Every picture is a function on a plane through parameter space,
//! theta(u, v) = origin + u * d1 + v * d2 ([`Plane`]). An [`Objective`] (a [`Dataset`], a [`Model`]
//! and a [`Loss`]) is evaluated on a grid over the plane ([`evaluate`]) into a [`Landscape`], from
//! which [`isolines`] and [`bands`] are drawn. Models are [`Formula`]s with exact derivatives, so
//! gradients and Hessians are exact too.
//!
//! # Example
//!
//! The seed's figure 1: the mse of y = k*x + b on six points, over k in [0, 2] and b in [-2, 4].
//!
//! ```
//! use std::sync::Arc;
//! use lossatlas::{evaluate, isolines, linear, Activation, Axis, Dataset, GridSpec, Loss, Objective, Plane};
//!
//! let objective = Objective::new(Dataset::seed(), Arc::new(linear(Activation::Identity)), Loss::Mse);
//! let plane = Plane::parameter_axes(objective.param_names())?;
//! let grid = GridSpec::new(
//!     Axis::new("k", 0.0, 2.0, 200)?,
//!     Axis::new("b", -2.0, 4.0, 200)?,
//!     lossatlas::DEFAULT_GRID_BUDGET_BYTES,
//! )?;
//! let landscape = evaluate(&objective, &plane, &grid)?;
//! let minimum = landscape.minimum().expect("the seed loss is finite everywhere");
//! assert!((minimum.u - 0.8257).abs() < 0.01 && (minimum.v - 1.4857).abs() < 0.03);
//! let lines = isolines(&landscape, &[0.2, 0.5, 1.0]);
//! assert_eq!(lines.len(), 3);
//! # Ok::<(), lossatlas::Error>(())
//! ```
#![deny(missing_docs)]

pub mod analysis;
mod contour;
mod data;
mod error;
pub mod export;
mod fastmath;
mod formula;
mod landscape;
mod loss;
mod minimize;
mod model;
pub mod net;
pub mod npy;
mod objective;
mod optim;
mod plane;
pub mod report;
#[cfg(test)]
mod simd_paths;
pub mod spectrum;
pub mod store;
mod trajectory;
mod transform;

pub use contour::{auto_levels, bands, isolines, Band, Isoline, Point, Polyline};
pub use data::{linspace, read_data_file, Columns, Dataset, MAX_DATA_BYTES, MAX_INPUTS};
pub use error::{Error, Result};
pub use formula::{Formula, FormulaError};
pub use landscape::{
    evaluate, evaluate_into, evaluate_rows, Axis, GridMinimum, GridSpec, Landscape, DEFAULT_GRID_BUDGET_BYTES,
};
pub use loss::Loss;
pub use minimize::{best_point, minimize_from, NEWTON_POLISH_MAX_PARAMS};
pub use model::{formula_with_params, linear, Activation, Model};
pub use objective::{Objective, Quadratic};
pub use optim::{Optimizer, OptimizerSpec, OPTIMIZER_NAMES};
pub use plane::{Plane, PlaneDoc, PlaneKind};
pub use trajectory::{run, Batch, RunOptions, Step, Stopped, Trajectory};
pub use transform::Transform;
