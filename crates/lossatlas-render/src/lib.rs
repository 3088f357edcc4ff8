//! Figures for lossatlas: contour maps, filled bands, depth-correct 3D surfaces and optimizer
//! paths, drawn with plotters into PNG or SVG bytes.
//!
//! # Brief overview
//!
//! Every figure implements [`Figure`], which draws onto any plotters backend; [`render`] picks the
//! backend from an [`ImageFormat`] and returns the encoded file as bytes, so the caller decides
//! where (and whether) it is written. Text uses DejaVu Sans compiled into the binary ([`font`]), so
//! pictures look the same on every machine and nothing is looked up on the system.
#![deny(missing_docs)]

mod colorbar;
pub mod colormap;
mod contour_figure;
mod error;
pub mod font;
mod labels;
mod output;
mod overlay;
mod panels;
mod projection;
mod surface;

pub use contour_figure::{Aspect, ContourFigure};
pub use error::{Error, Result};
pub use output::{render, Figure, ImageFormat};
pub use overlay::{Marker, MarkerShape, PathOverlay, PATH_COLORS};
pub use panels::{Layout, Panels};
pub use surface::SurfaceFigure;
