//! The filled contour maps, surfaces and landscape export that the network and store commands
//! write for a landscape, written one way.

use std::path::PathBuf;

use anyhow::Result;
use lossatlas::export::{self, LandscapeFormat};
use lossatlas::Landscape;
use lossatlas_render::{render, ContourFigure, ImageFormat, PathOverlay, SurfaceFigure};

use crate::output::write_atomic;

/// Where a landscape's pictures and grid go (each claimed before any work).
pub(super) struct Maps<'a> {
    /// Filled contour maps, 800 x 700.
    pub contours: &'a [(PathBuf, ImageFormat)],
    /// Surfaces, 900 x 700.
    pub surfaces: &'a [(PathBuf, ImageFormat)],
    /// The grid of losses (`--export-landscape`), and again as a VTK grid (`--export-vts`).
    pub exports: Vec<(&'a PathBuf, LandscapeFormat)>,
}

/// What the pictures say: the title, and the axis names of the map and of the surface (which has
/// less room for long ones).
pub(super) struct MapText<'a> {
    pub title: &'a str,
    pub map_axes: [&'a str; 2],
    pub surface_axes: [&'a str; 2],
}

impl Maps<'_> {
    /// Whether nothing is asked for.
    pub fn is_empty(&self) -> bool {
        self.contours.is_empty() && self.surfaces.is_empty() && self.exports.is_empty()
    }

    /// Writes every picture and the export, with `paths` drawn on both kinds of picture.
    pub fn write(
        &self,
        landscape: &Landscape,
        levels: Vec<f64>,
        text: &MapText,
        paths: Vec<PathOverlay>,
    ) -> Result<()> {
        if !self.contours.is_empty() {
            let figure = ContourFigure::new(landscape, levels)
                .title(text.title)
                .x_label(text.map_axes[0])
                .y_label(text.map_axes[1])
                .filled(true)
                .paths(paths.clone());
            for (path, format) in self.contours {
                write_atomic(path, &render(&figure, *format, (800, 700))?)?;
                eprintln!("wrote {}", path.display());
            }
        }
        if !self.surfaces.is_empty() {
            let surface = SurfaceFigure::new(landscape)
                .title(text.title)
                .x_label(text.surface_axes[0])
                .y_label(text.surface_axes[1])
                .paths(paths);
            surface.validate()?;
            for (path, format) in self.surfaces {
                write_atomic(path, &render(&surface, *format, (900, 700))?)?;
                eprintln!("wrote {}", path.display());
            }
        }
        for &(path, format) in &self.exports {
            write_atomic(path, &export::landscape(landscape, format))?;
            eprintln!("wrote {}", path.display());
        }
        Ok(())
    }
}
