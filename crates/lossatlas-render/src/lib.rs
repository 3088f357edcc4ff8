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

// The figures, one per module.
mod basin_figure;
mod contour_figure;
mod fit_figure;
mod loss_curve;
mod panels;
mod series_figure;
mod spectrum;
mod surface;
// What figures share: a kit of parts.
mod animation;
mod backend;
mod bands;
mod bitmap;
mod canvas;
mod colorbar;
pub mod colormap;
mod downsample;
mod error;
pub mod font;
mod geometry;
mod labels;
mod legend;
mod level_labels;
mod map_frame;
mod markers;
mod output;
mod overlay;
pub mod page;
mod placement;
mod png;
mod projection;
mod raster;
#[cfg(test)]
mod test_support;
mod text;
mod ticks;
mod xy_chart;

pub use animation::{frame_steps, paths_at, render_gif, GifOptions};
pub use backend::PictureBackend;
pub use basin_figure::BasinFigure;
pub use bitmap::Bitmap;
pub use contour_figure::ContourFigure;
pub use error::{Error, Result};
pub use fit_figure::FitFigure;
pub use loss_curve::{LossCurveFigure, LossScale};
pub use map_frame::Aspect;
pub use output::{render, Figure, ImageFormat};
pub use overlay::{Marker, MarkerShape, PathOverlay, SegmentOverlay, PATH_COLORS};
pub use panels::{Layout, Panels};
/// The colour type of every overlay, re-exported so callers need not depend on plotters.
pub use plotters::style::RGBColor;
pub use series_figure::{Series, SeriesFigure, SeriesPanel};
pub use spectrum::SpectrumFigure;
pub use surface::SurfaceFigure;
