//! The 3D surface of a landscape, with optimizer paths that are hidden where a hill stands in
//! front of them.
//!
//! # Why not plotters' 3D charts
//!
//! plotters' `Cartesian3d` with `SurfaceSeries` draws polygons in the order they are generated,
//! with no depth sort and no depth buffer: a far slope painted after a near one covers it, and a
//! line series drawn on top of the surface is never hidden, so a path behind a hill shows through
//! it (the very fault the seed note's figure 5 had). This module draws its own:
//!
//! 1. The landscape is mapped to a box with matplotlib's 4:4:3 aspect and projected
//!    orthographically for the view's azimuth and elevation ([`crate::projection`]).
//! 2. Each grid cell becomes a quad (cells with a non-finite corner are left out, so gaps stay
//!    empty), coloured by viridis at its mean loss and shaded by Lambert's cosine law from its
//!    normal, so the form reads without a legend. Quads are painted back to front by the depth of
//!    their centre (the painter's algorithm), which is exact for a height field seen from above
//!    except for a few pixels where two steep cells interleave. In an SVG each cell is a shape;
//!    in a PNG the box's panes and the cells are painted by [`crate::raster`] straight into the
//!    picture's pixels (plotters' polygon filler, one call per cell, took most of the figure's
//!    time).
//! 3. The same triangles are rasterized by our code into a depth buffer at the output resolution,
//!    a tile at a time where an overlay asks ([`crate::projection::DepthBuffer`]).
//!    Paths are cut into pieces of about 1.5 pixels and only the pieces in front of the surface
//!    (within a small tolerance) are drawn. The decision is ours, not the backend's, so PNG and
//!    SVG hide exactly the same parts. Segments are draped on the surface (sampled finer than the
//!    grid, at the interpolated loss) and hidden the same way, then drawn dashed.

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use lossatlas::Landscape;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontDesc, FontFamily, FontStyle, FontTransform};

use crate::bitmap::Bitmap;
use crate::colorbar::{colorbar_pad, colorbar_width, draw_colorbar};
use crate::colormap::{viridis, ColorScale};
use crate::error::{Error, Result};
use crate::labels::{format_sig, format_tick, Sizes};
use crate::markers::darken;
use crate::output::Figure;
use crate::overlay::{Marker, MarkerShape, PathOverlay, SegmentOverlay};
use crate::placement::beside_end;
use crate::projection::{box_corners, DepthBuffer, Projected, Projection, Triangles, HALF};
use crate::raster::{round, PixelRect, Shapes};
use crate::text::text_box_pad;

/// The floor of the box (the pane under the surface).
pub(crate) const FLOOR_COLOR: RGBColor = RGBColor(233, 233, 237);
/// The two back walls of the box.
pub(crate) const WALL_COLOR: RGBColor = RGBColor(243, 243, 246);
const GRID_COLOR: RGBColor = RGBColor(206, 206, 212);
const AXIS_COLOR: RGBColor = RGBColor(70, 70, 70);
const TEXT_COLOR: RGBColor = RGBColor(20, 20, 20);

/// How far overlays float above the surface, in box units (the box is 0.75 high).
const LIFT: f64 = 0.006;
/// How far behind the surface an overlay point may lie and still count as visible, in box units.
/// It absorbs the difference between the true loss on a path and the flat cells between grid
/// points; a hill that really stands in front is far deeper than this.
const DEPTH_TOLERANCE: f64 = 0.02;
/// The length of the pieces a path is cut into for the visibility test, in pixels.
const PIECE_PX: f64 = 1.5;
/// How far each cell's outline is pushed out when painted, in pixels (see `draw_shapes`).
const GROW: f64 = 0.6;
/// Grids with at most this many cells along both axes get darker cell edges by default.
const EDGE_CELLS: usize = 40;

/// A shaded 3D surface of a [`Landscape`] with a box, axes, a colour bar and optional paths and
/// markers drawn with correct hiding.
///
/// ```
/// use lossatlas::{Axis, GridSpec, Landscape, Plane};
/// use lossatlas_render::{render, ImageFormat, SurfaceFigure};
///
/// let grid = GridSpec::new(Axis::new("a", -1.0, 1.0, 21)?, Axis::new("b", -1.0, 1.0, 21)?, 1 << 20)?;
/// let plane = Plane::parameter_axes(&["a".to_string(), "b".to_string()])?;
/// let values = (0..21 * 21).map(|n| {
///     let (a, b) = (-1.0 + 0.1 * (n % 21) as f64, -1.0 + 0.1 * (n / 21) as f64);
///     a * a + 2.0 * b * b
/// });
/// let landscape = Landscape::from_values(grid, plane, values.collect())?;
/// let figure = SurfaceFigure::new(&landscape).title("a bowl").azimuth(-45.0);
/// let png = render(&figure, ImageFormat::Png, (900, 700))?;
/// assert!(png.starts_with(b"\x89PNG"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct SurfaceFigure<'a> {
    landscape: &'a Landscape,
    title: String,
    x_label: String,
    y_label: String,
    z_label: String,
    elevation: f64,
    azimuth: f64,
    log_color: bool,
    mark_minimum: bool,
    paths: Vec<PathOverlay>,
    markers: Vec<Marker>,
    segments: Vec<SegmentOverlay>,
    z_clip: Option<f64>,
    edges: Option<bool>,
}

impl<'a> SurfaceFigure<'a> {
    /// A surface of `landscape` seen from matplotlib's default view (elevation 30 degrees,
    /// azimuth -60 degrees), axes named after the landscape's axes and "loss", the minimum
    /// marked, no title, no paths, linear colours and no clipping.
    pub fn new(landscape: &'a Landscape) -> SurfaceFigure<'a> {
        SurfaceFigure {
            landscape,
            title: String::new(),
            x_label: landscape.u().name().to_string(),
            y_label: landscape.v().name().to_string(),
            z_label: "loss".to_string(),
            elevation: 30.0,
            azimuth: -60.0,
            log_color: false,
            mark_minimum: true,
            paths: Vec::new(),
            markers: Vec::new(),
            segments: Vec::new(),
            z_clip: None,
            edges: None,
        }
    }

    /// The title drawn above the figure (none when empty, the default).
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// The name of the u axis (default: the landscape's u axis name).
    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = label.into();
        self
    }

    /// The name of the v axis (default: the landscape's v axis name).
    pub fn y_label(mut self, label: impl Into<String>) -> Self {
        self.y_label = label.into();
        self
    }

    /// The name of the vertical axis and the colour bar (default "loss").
    pub fn z_label(mut self, label: impl Into<String>) -> Self {
        self.z_label = label.into();
        self
    }

    /// The angle of the view above the u-v plane in degrees, from 0 (side on) to 90 (straight
    /// down); default 30. Checked when drawing, or by [`SurfaceFigure::validate`].
    pub fn elevation(mut self, degrees: f64) -> Self {
        self.elevation = degrees;
        self
    }

    /// The angle of the view around the vertical axis in degrees, measured from +u towards +v as
    /// in matplotlib's `view_init`; default -60 (looking from the +u, -v side). Any value from
    /// -360 to 360.
    pub fn azimuth(mut self, degrees: f64) -> Self {
        self.azimuth = degrees;
        self
    }

    /// Colours on a logarithmic scale (default false), which shows detail near the minimum when
    /// the loss spans decades. Heights stay linear. Falls back to linear when the smallest loss
    /// is not positive.
    pub fn log_color(mut self, log: bool) -> Self {
        self.log_color = log;
        self
    }

    /// Whether to mark the grid's smallest loss (default true).
    pub fn mark_minimum(mut self, mark: bool) -> Self {
        self.mark_minimum = mark;
        self
    }

    /// Paths drawn on the surface (e.g. optimizer trajectories), hidden where the surface is in
    /// front of them; their heights are their `losses`, or the landscape interpolated.
    pub fn paths(mut self, paths: Vec<PathOverlay>) -> Self {
        self.paths = paths;
        self
    }

    /// Marked points on the surface, hidden like paths.
    pub fn markers(mut self, markers: Vec<Marker>) -> Self {
        self.markers = markers;
        self
    }

    /// Straight segments draped on the surface (e.g. the Hessian's eigen-axes at the minimum),
    /// drawn dashed in their colour, hidden where the surface is in front of them like paths, and
    /// labelled near their visible end (the `to` end when it shows). They get no legend entry.
    pub fn segments(mut self, segments: Vec<SegmentOverlay>) -> Self {
        self.segments = segments;
        self
    }

    /// Caps the height at `max` (None, the default, shows everything). Losses above it are drawn
    /// as a flat cut at `max`, so a few huge values do not flatten the interesting part.
    pub fn z_clip(mut self, max: Option<f64>) -> Self {
        self.z_clip = max;
        self
    }

    /// Whether to outline every cell with a darker line. By default cells are outlined when the
    /// grid has at most 40 cells along each axis, where the outline helps reading the shape.
    pub fn edges(mut self, edges: bool) -> Self {
        self.edges = Some(edges);
        self
    }

    /// Checks the settings: elevation within 0..=90 degrees, azimuth within -360..=360, a finite
    /// clip above the smallest loss, path losses matching their points, finite segment ends, and
    /// at least one finite value in the landscape. Drawing calls it first.
    pub fn validate(&self) -> Result<()> {
        if !(self.elevation.is_finite() && (0.0..=90.0).contains(&self.elevation)) {
            return Err(Error::Invalid(format!(
                "surface elevation {} degrees is out of range; use 0 (side on) to 90 (from above)",
                self.elevation
            )));
        }
        if !(self.azimuth.is_finite() && (-360.0..=360.0).contains(&self.azimuth)) {
            return Err(Error::Invalid(format!(
                "surface azimuth {} degrees is out of range; use -360 to 360",
                self.azimuth
            )));
        }
        let Some((lo, _)) = self.landscape.finite_range() else {
            return Err(Error::Invalid("the landscape has no finite value to draw".into()));
        };
        if let Some(max) = self.z_clip {
            if !(max.is_finite() && max > lo) {
                return Err(Error::Invalid(format!(
                    "z clip {max} must be a number above the smallest loss {}",
                    format_sig(lo, 4)
                )));
            }
        }
        for path in &self.paths {
            if let Some(losses) = &path.losses {
                if losses.len() != path.points.len() {
                    return Err(Error::Invalid(format!(
                        "path `{}` has {} points but {} losses",
                        path.label,
                        path.points.len(),
                        losses.len()
                    )));
                }
            }
        }
        for segment in &self.segments {
            if !segment.from.iter().chain(&segment.to).all(|c| c.is_finite()) {
                return Err(Error::Invalid(format!(
                    "segment `{}` from {:?} to {:?} has a non-finite end",
                    segment.label, segment.from, segment.to
                )));
            }
        }
        Ok(())
    }

    fn show_edges(&self) -> bool {
        self.edges.unwrap_or_else(|| {
            self.landscape.u().n() <= EDGE_CELLS + 1 && self.landscape.v().n() <= EDGE_CELLS + 1
        })
    }

    fn z_range(&self) -> (f64, f64) {
        let (lo, hi) = self.landscape.finite_range().unwrap_or((0.0, 1.0));
        let hi = self.z_clip.map_or(hi, |cap| hi.min(cap));
        if hi > lo {
            (lo, hi)
        } else {
            (lo - 0.5, lo + 0.5)
        }
    }

    fn color_scale(&self) -> ColorScale {
        let (lo, hi) = self.z_range();
        ColorScale::new(lo, hi, self.log_color)
    }

    fn legend_entries(&self) -> Vec<LegendEntry> {
        let mut entries: Vec<LegendEntry> = self
            .paths
            .iter()
            .map(|p| LegendEntry { symbol: LegendSymbol::Line(p.color), text: p.label.clone() })
            .collect();
        if !self.paths.is_empty() {
            entries.push(LegendEntry { symbol: LegendSymbol::Start, text: "start".into() });
            entries.push(LegendEntry { symbol: LegendSymbol::End, text: "end".into() });
        }
        if self.mark_minimum {
            if let Some(m) = self.landscape.minimum() {
                entries.push(LegendEntry {
                    symbol: LegendSymbol::Minimum,
                    text: format!(
                        "grid minimum {} at {} = {}, {} = {}",
                        format_sig(m.loss, 3),
                        self.x_label,
                        format_sig(m.u, 3),
                        self.y_label,
                        format_sig(m.v, 3)
                    ),
                });
            }
        }
        entries
    }

    /// Everything about the picture that does not need a backend: layout, projection, sorted
    /// cells and the depth buffer at `width` x `height` pixels.
    #[cfg(test)]
    pub(crate) fn scene(&self, width: u32, height: u32) -> Result<Scene> {
        let mut scene = self.layout(width, height, None)?;
        scene.cells = Arc::new([self.cells(&scene.projection, &scene.color, self.z_range())]);
        Ok(scene)
    }

    /// The picture's layout and projection, with the colour bar's strip `bar_width` pixels wide
    /// (measured by the backend when drawing): a [`Scene`] whose cells are still to be made
    /// ([`SurfaceFigure::cells`]).
    fn layout(&self, width: u32, height: u32, bar_width: Option<f64>) -> Result<Scene> {
        self.validate()?;
        let sizes = Sizes::for_area(width, height);
        let (w, h) = (width as f64, height as f64);
        let pad = sizes.len(12.0);
        let z_range = self.z_range();
        let color = self.color_scale();

        // Bands: title on top, legend under it, colour bar on the right.
        let mut top = pad;
        let title_y = (!self.title.is_empty()).then(|| {
            let y = top + sizes.title * 0.6;
            top += sizes.title * 1.5;
            y
        });
        let legend = self.legend_entries();
        // The colour bar's strip; without a backend to measure it, a generous estimate.
        let bar_width = bar_width.unwrap_or_else(|| {
            let widest = [color.lo(), color.hi()].map(|v| estimate(&format_sig(v, 3), sizes.tick, false).0);
            3.0 * sizes.tick + widest[0].max(widest[1]) + 2.2 * sizes.tick
        });
        let bar_gap = sizes.len(18.0);
        let bar_band = bar_width + bar_gap + pad / 2.0;
        let legend_width = w - bar_band - 2.0 * pad;
        let legend_rows = legend_rows(&legend, &sizes, legend_width, &estimate);
        let legend_top = top;
        top += legend_rows.len() as f64 * sizes.note * 1.6;
        if !legend_rows.is_empty() {
            top += sizes.len(4.0);
        }
        let area = Rect { l: pad, t: top, r: w - bar_band, b: h - pad };
        if area.width() < 50.0 || area.height() < 50.0 {
            return Err(Error::Invalid(format!(
                "a {width}x{height} picture leaves no room for the surface; use at least 400x300 pixels"
            )));
        }

        // Fit the box with its labels into the area: place everything, measure how far it spills
        // over (or how much room is left) on each side, move the box's rectangle by that, repeat.
        let ranges = [
            (self.landscape.u().min(), self.landscape.u().max()),
            (self.landscape.v().min(), self.landscape.v().max()),
            z_range,
        ];
        let mut plot = Rect {
            l: area.l + sizes.len(70.0),
            t: area.t + sizes.len(10.0),
            r: area.r - sizes.len(30.0),
            b: area.b - sizes.len(60.0),
        };
        let mut projection = Projection::new(ranges, self.azimuth, self.elevation, plot.tuple());
        for _ in 0..4 {
            let bounds = self.labelled_bounds(&projection, ranges, &sizes);
            plot.l = (plot.l + (area.l - bounds.l)).max(area.l);
            plot.t = (plot.t + (area.t - bounds.t)).max(area.t);
            plot.r = (plot.r - (bounds.r - area.r)).min(area.r);
            plot.b = (plot.b - (bounds.b - area.b)).min(area.b);
            if plot.width() < 20.0 || plot.height() < 20.0 {
                return Err(Error::Invalid(format!(
                    "a {width}x{height} picture leaves no room for the surface; use at least 400x300 pixels"
                )));
            }
            projection = Projection::new(ranges, self.azimuth, self.elevation, plot.tuple());
        }

        // Centre the box, its labels and the colour bar together across the picture.
        let bounds = self.labelled_bounds(&projection, ranges, &sizes);
        let composition = bounds.width() + bar_gap + bar_width;
        let (lowest, highest) = (pad - bounds.l, area.r - bounds.r);
        let dx = ((w - composition) / 2.0 - bounds.l).clamp(lowest.min(highest), highest);
        plot.l += dx;
        plot.r += dx;
        projection = Projection::new(ranges, self.azimuth, self.elevation, plot.tuple());

        // The bar runs along the middle 80% of the box's height, its end labels within the area.
        let box_bounds = projected_box_bounds(&projection);
        let inset = box_bounds.height() * 0.1;
        let bar_pad = colorbar_pad(sizes.tick) as f64;
        let bar_left = bounds.r + dx + bar_gap;
        let bar = Rect {
            l: bar_left,
            t: (box_bounds.t + inset - bar_pad).max(area.t),
            r: bar_left + bar_width,
            b: (box_bounds.b - inset + bar_pad).min(area.b),
        };

        Ok(Scene {
            projection,
            ranges,
            color,
            cells: Arc::new([]),
            depth: OnceLock::new(),
            pixels: (width, height),
            sizes,
            width: w,
            height: h,
            title_y,
            legend,
            legend_rows,
            legend_top,
            area,
            bar,
        })
    }

    /// The box on screen with every axis text around it (sizes estimated).
    fn labelled_bounds(&self, projection: &Projection, ranges: [(f64, f64); 3], sizes: &Sizes) -> Rect {
        let axes = AxisLayout::compute(projection, ranges, self.labels(), sizes, &estimate);
        axes.all_texts().fold(projected_box_bounds(projection), |acc, t| acc.union(&t.rect()))
    }

    fn labels(&self) -> [&str; 3] {
        [&self.x_label, &self.y_label, &self.z_label]
    }

    /// The surface's cells, sorted back to front.
    fn cells(&self, projection: &Projection, color: &ColorScale, z_range: (f64, f64)) -> Vec<Cell> {
        let cells = self.cells_in_rows(0..self.landscape.v().n() - 1, projection, color, z_range);
        painting_order(&cells).into_iter().map(|n| cells[n as usize]).collect()
    }

    /// The cells whose lower grid row is in `rows`, in the order they are made: row by row,
    /// cell by cell, and the pieces of a cell in turn.
    fn cells_in_rows(
        &self,
        rows: Range<usize>,
        projection: &Projection,
        color: &ColorScale,
        z_range: (f64, f64),
    ) -> Vec<Cell> {
        let l = self.landscape;
        let nu = l.u().n();
        let us = l.u().values();
        let vs = &l.v().values()[rows.start..(rows.end + 1).min(l.v().n())];
        let eye = projection.eye();
        let light = projection.light();
        let edges = self.show_edges();
        let cap = HALF[2];
        // Where a box point's height falls on the colour scale.
        let color_at =
            |p: &[f64; 3]| color.position(z_range.0 + (p[2] / cap + 1.0) / 2.0 * (z_range.1 - z_range.0));
        // Each grid point in the box, projected and placed on the colour scale once, for the up
        // to four cells that share it (`None` where the loss is not finite).
        let grid: Vec<Option<GridPoint>> = vs
            .iter()
            .enumerate()
            .flat_map(|(b, &v)| us.iter().enumerate().map(move |(a, &u)| (a, rows.start + b, u, v)))
            .map(|(a, b, u, v)| {
                let value = l.at(a, b);
                value.is_finite().then(|| {
                    let at = projection.to_box(u, v, value);
                    GridPoint { at, projected: projection.project_box(at), color: color_at(&at) }
                })
            })
            .collect();
        let mut cells = Vec::with_capacity((nu - 1) * rows.len());
        for j in rows.clone() {
            for i in 0..nu - 1 {
                let ids = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)];
                let [Some(c0), Some(c1), Some(c2), Some(c3)] =
                    ids.map(|(a, b)| grid[(b - rows.start) * nu + a])
                else {
                    continue;
                };
                let corners = [c0, c1, c2, c3];
                let points = corners.map(|c| c.at);
                // One cell or piece of a cell (box coordinates, its outline on the screen and
                // the mean of its corners' colour positions), shaded and coloured.
                let mut push = |piece: &[[f64; 3]], corners: Outline, t: f64| {
                    let mut normal = newell_normal(piece);
                    if dot(normal, eye) < 0.0 {
                        // We see the underside: light the side that faces us.
                        normal = normal.map(|c| -c);
                    }
                    let lambert = dot(normalize(normal), light).max(0.0);
                    let shade = 0.42 + 0.58 * lambert;
                    let fill = scale_color(viridis(t), shade);
                    let edge = edges.then(|| scale_color(fill, 0.72));
                    let centre = corners.iter().map(|c| c.depth).sum::<f64>() / corners.len() as f64;
                    cells.push(Cell {
                        #[cfg(test)]
                        i,
                        #[cfg(test)]
                        j,
                        corners,
                        fill,
                        edge,
                        depth: centre,
                    });
                };
                // A strongly twisted cell can project to a non-convex or self-crossing outline;
                // such a cell is drawn as the two triangles the depth buffer uses. `colors` are
                // the piece's corners' colour positions.
                let mut convex_parts = |piece: &[[f64; 3]], outline: Outline, colors: &[f64]| {
                    if is_convex(&outline) {
                        push(piece, outline, colors.iter().sum::<f64>() / colors.len() as f64);
                    } else {
                        for k in 1..piece.len() - 1 {
                            let triangle = [piece[0], piece[k], piece[k + 1]];
                            let corners = Outline::new([outline[0], outline[k], outline[k + 1]]);
                            push(&triangle, corners, (colors[0] + colors[k] + colors[k + 1]) / 3.0);
                        }
                    }
                };
                // A cell that crosses the clip height is cut along it: the part below keeps its
                // shape, the part above lies flat at the cap, and the cut line is the exact iso-line.
                if points.iter().all(|p| p[2] <= cap) {
                    let outline = Outline::new(corners.map(|c| c.projected));
                    convex_parts(&points, outline, &corners.map(|c| c.color));
                } else {
                    let mut above = clip_z(&points, cap, false);
                    above.iter_mut().for_each(|p| p[2] = cap);
                    for piece in [clip_z(&points, cap, true), above] {
                        if piece.len() >= 3 {
                            let outline = Outline::new(piece.iter().map(|&p| projection.project_box(p)));
                            convex_parts(&piece, outline, &piece.iter().map(color_at).collect::<Vec<_>>());
                        }
                    }
                }
            }
        }
        cells
    }

    /// The scene laid out for `root` (whose fonts measure the colour bar's labels), its cells
    /// still to be made.
    fn lay_out<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<Scene> {
        self.validate()?;
        let (width, height) = root.dim_in_pixel();
        let sizes = Sizes::for_area(width, height);
        let bar_width = colorbar_width(root, &self.color_scale(), None, &self.z_label, sizes.tick);
        self.layout(width, height, Some(bar_width as f64))
    }

    /// Clears `root` to white and lays out the box's axes, measuring their labels with `root`'s
    /// fonts.
    fn clear_and_lay_out_axes<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        scene: &Scene,
    ) -> Result<AxisLayout> {
        root.fill(&WHITE)?;
        Ok(AxisLayout::compute(
            &scene.projection,
            scene.ranges,
            self.labels(),
            &scene.sizes,
            &measure_with(root),
        ))
    }

    /// Draws the whole figure on `root`, every cell a plotters polygon (an SVG keeps every cell
    /// a shape, and each cell's edge is drawn right after its fill).
    fn draw_shapes<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let mut scene = self.lay_out(root)?;
        let (projection, color) = (scene.projection.clone(), scene.color);
        made_beside(
            1,
            |_| self.cells(&projection, &color, self.z_range()),
            |cells| {
                let axes = self.clear_and_lay_out_axes(root, &scene)?;
                self.draw_box_back(root, &scene, &axes, false)?;
                scene.cells = Arc::new([cells().remove(0)]);
                // The surface, back to front. Each cell's outline is pushed out by `GROW`
                // pixels, so neighbours overlap and no hairline seams open between them
                // (rasterizers and SVG viewers' antialiasing both leave seams between polygons
                // that merely touch, and a steep cell seen nearly edge-on would round to a
                // line); the nearer cell, painted later, wins the overlap.
                for cell in scene.cells() {
                    let points: Vec<(i32, i32)> = grown(&cell.corners, GROW).map(pixel_xy).collect();
                    root.draw(&Polygon::new(points, cell.fill.filled()))?;
                    if let Some(edge) = cell.edge {
                        let mut outline: Vec<(i32, i32)> = cell.corners.iter().map(|&c| pixel(c)).collect();
                        outline.push(outline[0]);
                        root.draw(&PathElement::new(outline, edge.stroke_width(1)))?;
                    }
                }
                self.draw_front(root, &scene, &axes)
            },
        )
    }

    /// Draws the whole figure on `bitmap`, the box's panes and the cells painted by
    /// [`crate::raster`] straight into its pixels (plotters' polygon filler, one call per cell,
    /// took most of the figure's time), the rest by plotters. The cells, and the outlines they
    /// are painted with, are made in two halves on two other threads while this one clears the
    /// picture and draws the box's back.
    fn draw_raster(&self, bitmap: &mut Bitmap<'_>) -> Result<()> {
        let mut scene = bitmap.draw(|root| self.lay_out(root))?;
        // Everything the box holds lies within its projected bounds, with room for the cells'
        // growth and the outlines' rounding; painting is kept to them.
        let bounds = projected_box_bounds(&scene.projection);
        let margin = GROW + 2.0;
        let l = (bounds.l - margin).floor().max(0.0);
        let t = (bounds.t - margin).floor().max(0.0);
        let r = (bounds.r + margin).ceil().min(scene.width);
        let b = (bounds.b + margin).ceil().min(scene.height);
        // The outlines are given from the clip's corner (as when the box was painted into a
        // bitmap of its own), which keeps every pixel as it was.
        let clip = PixelRect {
            left: l as usize,
            top: t as usize,
            width: (r - l).max(0.0) as usize,
            height: (b - t).max(0.0) as usize,
        };
        let (projection, color, z_range) = (scene.projection.clone(), scene.color, self.z_range());
        // The cells in two halves of the grid's rows, each with its outlines pushed out by
        // `GROW` pixels (as in `draw_shapes`), made on other cores while this one clears the
        // picture and draws the box's back: one thread making them all kept this one waiting.
        let rows = self.landscape.v().n() - 1;
        let halves = [0..rows / 2, rows / 2..rows];
        let make_half = |k: usize| {
            let cells = self.cells_in_rows(halves[k].clone(), &projection, &color, z_range);
            let mut outlines = Shapes::with_capacity(cells.len());
            for cell in &cells {
                outlines.push(grown(&cell.corners, GROW).map(|(x, y)| (x - l, y - t)), rgb(cell.fill));
            }
            let keys = painting_keys(&cells);
            Half { cells, outlines, keys }
        };
        made_beside(2, make_half, |halves| {
            let axes = bitmap.draw(|root| self.clear_and_lay_out_axes(root, &scene))?;
            let mut panes = Shapes::default();
            for (corners, color) in Self::panes(&scene) {
                panes.push(corners.map(|(x, y)| (x as f64 - l, y as f64 - t)), rgb(color));
            }
            // On this thread alone: the cells are being made on the other threads meanwhile.
            bitmap.paint(&panes, clip, 1);
            bitmap.draw(|root| self.draw_box_back(root, &scene, &axes, true))?;
            let [first, second]: [Half; 2] =
                halves().try_into().unwrap_or_else(|_| unreachable!("two halves were asked for"));
            let order = merged_order(&first.keys, &second.keys, first.cells.len() as u32);
            let mut shapes = Shapes::with_capacity(order.len());
            for &n in &order {
                let n = n as usize;
                let (outline, color) = match n.checked_sub(first.cells.len()) {
                    None => first.outlines.get(n),
                    Some(n) => second.outlines.get(n),
                };
                shapes.push(outline.iter().copied(), color);
            }
            // The depth buffer takes the cells in any order (a pixel's depth is the nearest of
            // theirs), so they are kept in the halves they were made in: not gathered into
            // painting order, a copy of a megabyte (0.33 ms).
            scene.cells = Arc::new([first.cells, second.cells]);
            bitmap.paint(&shapes, clip, rayon::current_num_threads());
            bitmap.draw(|root| self.draw_front(root, &scene, &axes))
        })
    }

    /// Draws everything in front of the surface: axes, overlays, labels, the colour bar, the
    /// legend and the title.
    fn draw_front<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        scene: &Scene,
        axes: &AxisLayout,
    ) -> Result<()> {
        let measure = measure_with(root);
        let sizes = &scene.sizes;

        // Axis lines and ticks.
        for axis in axes.axes.iter().flatten() {
            root.draw(&PathElement::new(
                vec![pixel_xy(axis.start), pixel_xy(axis.end)],
                AXIS_COLOR.stroke_width(1),
            ))?;
            for &(a, b) in &axis.tick_marks {
                root.draw(&PathElement::new(vec![pixel_xy(a), pixel_xy(b)], AXIS_COLOR.stroke_width(1)))?;
            }
        }

        // Segments, draped and hidden by the surface, dashed on a light casing.
        let segment_w = sizes.px(2.4, 1);
        let (dash, space) = (sizes.len(10.0).max(4.0), sizes.len(5.0).max(2.0));
        let mut segment_ends = Vec::new();
        let mut segment_lines: Vec<Vec<(f64, f64)>> = Vec::new();
        for segment in &self.segments {
            let points = scene.segment_points(self.landscape, segment);
            let runs = scene.visible_runs(&points);
            // Vertices a pixel or two apart, rounded to pixels, would make a wide stroke wobble.
            let dashes: Vec<Vec<(i32, i32)>> = runs
                .iter()
                .flat_map(|run| dashed(run, dash, space))
                .map(|d| thinned(&d, sizes.len(4.0)).into_iter().map(pixel_xy).collect())
                .collect();
            segment_lines.extend(runs.iter().cloned());
            for d in &dashes {
                root.draw(&PathElement::new(d.clone(), WHITE.mix(0.8).stroke_width(segment_w + 2)))?;
            }
            for d in &dashes {
                root.draw(&PathElement::new(d.clone(), segment.color.stroke_width(segment_w)))?;
            }
            let ends = scene.visible_ends(&points, &runs);
            if !segment.label.is_empty() && !ends.is_empty() {
                segment_ends.push((segment, ends));
            }
        }

        // Paths and markers, hidden by the surface.
        let width = sizes.px(2.5, 2);
        for path in &self.paths {
            let points = scene.path_points(self.landscape, path);
            let runs = scene.visible_runs(&points);
            for run in &runs {
                let run: Vec<(i32, i32)> = run.iter().map(|&p| pixel_xy(p)).collect();
                root.draw(&PathElement::new(run, WHITE.stroke_width(width + 2)))?;
            }
            for run in &runs {
                let run: Vec<(i32, i32)> = run.iter().map(|&p| pixel_xy(p)).collect();
                root.draw(&PathElement::new(run, path.color.stroke_width(width)))?;
            }
            let visible = |p: &Option<[f64; 3]>| {
                p.filter(|&p| scene.visible(p)).map(|p| scene.projection.project_box(p))
            };
            if let Some(p) = points.first().and_then(visible) {
                draw_symbol(root, LegendSymbol::Start, path.color, pixel(p), sizes)?;
            }
            if points.len() > 1 {
                if let Some(p) = points.last().and_then(visible) {
                    draw_symbol(root, LegendSymbol::End, path.color, pixel(p), sizes)?;
                }
            }
        }
        // Tick labels keep clear of the marks drawn near the box's edges.
        let mut reserved = scene.reserved();
        let mut keep_clear = |at: (i32, i32), r: f64| {
            let (x, y) = (at.0 as f64, at.1 as f64);
            reserved.push(Rect { l: x - r, t: y - r, r: x + r, b: y + r });
        };
        if self.mark_minimum {
            if let Some(m) = self.landscape.minimum() {
                if let Some(p) = scene.lifted(m.u, m.v, m.loss).filter(|&p| scene.visible(p)) {
                    let at = pixel(scene.projection.project_box(p));
                    draw_symbol(root, LegendSymbol::Minimum, TEXT_COLOR, at, sizes)?;
                    keep_clear(at, sizes.len(7.0));
                }
            }
        }
        let mut marker_labels = Vec::new();
        for marker in &self.markers {
            let z = self.landscape.interpolate(marker.at[0], marker.at[1]);
            if let Some(p) = scene.lifted(marker.at[0], marker.at[1], z).filter(|&p| scene.visible(p)) {
                let at = pixel(scene.projection.project_box(p));
                marker_labels.extend(draw_marker(root, marker, at, sizes)?);
                keep_clear(at, sizes.len(7.0));
            }
        }

        // Tick labels and axis titles.
        let texts = axes.visible_texts(scene.width, scene.height, &reserved, sizes);
        for text in &texts {
            draw_placed(root, text, TEXT_COLOR)?;
        }

        // Segment labels beside the visible ends, clear of every text and mark drawn so far.
        let mut blocked: Vec<Rect> = reserved;
        blocked.extend(texts.iter().map(PlacedText::rect));
        blocked.extend(marker_labels);
        let picture = Rect { l: 0.0, t: 0.0, r: scene.width, b: scene.height };
        for (segment, ends) in segment_ends {
            let (w, h) = measure(&segment.label, sizes.note, false);
            let pad = text_box_pad(sizes.note);
            let boxed = (w + 2.0 * pad.0, h + 2.0 * pad.1);
            let r = segment_label_rect(
                &ends,
                boxed,
                sizes.len(6.0),
                sizes.len(5.0),
                &picture,
                &blocked,
                &segment_lines,
            );
            blocked.push(r);
            let box_points = [pixel_xy((r.l, r.t)), pixel_xy((r.r, r.b))];
            root.draw(&Rectangle::new(box_points, WHITE.mix(0.8).filled()))?;
            let centre = ((r.l + r.r) / 2.0, (r.t + r.b) / 2.0);
            let text = PlacedText::new(&segment.label, sizes.note, false, false, centre, &measure);
            draw_placed(root, &text, darken(segment.color, 0.25))?;
        }

        let bar = scene.bar;
        if bar.height() > 4.0 * sizes.tick {
            let strip = root.clone().shrink(
                (bar.l.round() as i32, bar.t.round() as i32),
                (bar.width().round() as u32, bar.height().round() as u32),
            );
            draw_colorbar(&strip, &scene.color, None, &self.z_label, sizes.tick)?;
        }
        self.draw_legend(root, scene, &measure)?;
        if let Some(y) = scene.title_y {
            // A long title is shrunk to fit the picture with a margin either side, as on the maps.
            let room = scene.width - sizes.title;
            let wide = measure(&self.title, sizes.title, false).0;
            let size = if wide > room { sizes.title * room / wide } else { sizes.title };
            let text = PlacedText::new(&self.title, size, false, false, (scene.width / 2.0, y), &measure);
            draw_placed(root, &text, TEXT_COLOR)?;
        }
        Ok(())
    }

    /// Where the two back walls stand: the u and the v of the box's sides away from the eye.
    fn far_walls(scene: &Scene) -> [f64; 2] {
        let eye = scene.projection.eye();
        [-HALF[0] * eye[0].signum(), -HALF[1] * eye[1].signum()]
    }

    /// The box's floor and two back walls: their corners in the picture and their colours.
    fn panes(scene: &Scene) -> [([(i32, i32); 4], RGBColor); 3] {
        let far = Self::far_walls(scene);
        let [hx, hy, hz] = HALF;
        let at = |corners: [[f64; 3]; 4]| corners.map(|c| pixel(scene.projection.project_box(c)));
        [
            (at([[-hx, -hy, -hz], [hx, -hy, -hz], [hx, hy, -hz], [-hx, hy, -hz]]), FLOOR_COLOR),
            (at([[far[0], -hy, -hz], [far[0], hy, -hz], [far[0], hy, hz], [far[0], -hy, hz]]), WALL_COLOR),
            (at([[-hx, far[1], -hz], [hx, far[1], -hz], [hx, far[1], hz], [-hx, far[1], hz]]), WALL_COLOR),
        ]
    }

    /// The box's floor and back walls (filled unless `filled` says they already are) with their
    /// outlines and grid lines, drawn on `area`.
    fn draw_box_back<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        scene: &Scene,
        axes: &AxisLayout,
        filled: bool,
    ) -> Result<()> {
        let at = |p: [f64; 3]| pixel(scene.projection.project_box(p));
        for (corners, color) in Self::panes(scene) {
            let points = corners.to_vec();
            if !filled {
                area.draw(&Polygon::new(points.clone(), color.filled()))?;
            }
            let mut outline = points;
            outline.push(outline[0]);
            area.draw(&PathElement::new(outline, GRID_COLOR.stroke_width(1)))?;
        }
        let far = Self::far_walls(scene);
        let [hx, hy, hz] = HALF;
        let grid_style = GRID_COLOR.stroke_width(1);
        let line = |a: [f64; 3], b: [f64; 3]| PathElement::new(vec![at(a), at(b)], grid_style);
        for &t in &axes.ticks[0] {
            let x = to_box_1d(t, scene.ranges[0], 0);
            area.draw(&line([x, -hy, -hz], [x, hy, -hz]))?;
            area.draw(&line([x, far[1], -hz], [x, far[1], hz]))?;
        }
        for &t in &axes.ticks[1] {
            let y = to_box_1d(t, scene.ranges[1], 1);
            area.draw(&line([-hx, y, -hz], [hx, y, -hz]))?;
            area.draw(&line([far[0], y, -hz], [far[0], y, hz]))?;
        }
        for &t in &axes.ticks[2] {
            let z = to_box_1d(t, scene.ranges[2], 2);
            area.draw(&line([far[0], -hy, z], [far[0], hy, z]))?;
            area.draw(&line([-hx, far[1], z], [hx, far[1], z]))?;
        }
        Ok(())
    }

    fn draw_legend<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        scene: &Scene,
        measure: &dyn Fn(&str, f64, bool) -> (f64, f64),
    ) -> Result<()> {
        let sizes = &scene.sizes;
        let row_height = sizes.note * 1.6;
        for (r, row) in scene.legend_rows.iter().enumerate() {
            let widths: Vec<f64> =
                row.iter().map(|&k| legend_entry_width(&scene.legend[k], sizes, measure)).collect();
            let total = widths.iter().sum::<f64>() + sizes.len(22.0) * (row.len() as f64 - 1.0);
            let mut x = ((scene.width - total) / 2.0).max(scene.sizes.len(12.0));
            let y = scene.legend_top + row_height * (r as f64 + 0.5);
            for (&k, w) in row.iter().zip(&widths) {
                let entry = &scene.legend[k];
                let symbol_width = symbol_width(entry.symbol, sizes);
                let centre = (x + symbol_width / 2.0, y);
                match entry.symbol {
                    LegendSymbol::Line(color) => {
                        let half = symbol_width / 2.0;
                        let line = vec![pixel_xy((centre.0 - half, y)), pixel_xy((centre.0 + half, y))];
                        root.draw(&PathElement::new(line, color.stroke_width(sizes.px(2.5, 2))))?;
                    }
                    symbol => draw_symbol(root, symbol, AXIS_COLOR, pixel_xy(centre), sizes)?,
                }
                let tx = x + symbol_width + sizes.len(6.0);
                let (tw, _) = measure(&entry.text, sizes.note, false);
                let text =
                    PlacedText::new(&entry.text, sizes.note, false, false, (tx + tw / 2.0, y), measure);
                draw_placed(root, &text, TEXT_COLOR)?;
                x += w + sizes.len(22.0);
            }
        }
        Ok(())
    }
}

impl Figure for SurfaceFigure<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        self.draw_shapes(root)
    }

    /// The cells painted by the crate's own rasterizer (figure 3 as a whole went from 28 to 12 ms
    /// with it, BENCHMARKS.md), except on the small grids that show cell edges: their few cells are quick
    /// either way, and each cell's edge is drawn right after its fill.
    fn draw_bitmap(&self, bitmap: &mut Bitmap<'_>) -> Result<()> {
        if self.show_edges() {
            bitmap.draw(|root| self.draw_shapes(root))
        } else {
            self.draw_raster(bitmap)
        }
    }

    /// It does: both ways of drawing it begin by filling the picture white.
    fn paints_every_pixel(&self) -> bool {
        true
    }

    /// Twice: sizes and widths here grow with the picture, so a PNG drawn at 2x and scaled down
    /// gets smooth silhouettes and paths. Hiding is decided on the 2x depth buffer then, which
    /// can move the end of a hidden stretch by under a pixel against the SVG.
    fn supersampling(&self) -> u32 {
        2
    }
}

/// An axis-aligned rectangle in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rect {
    l: f64,
    t: f64,
    r: f64,
    b: f64,
}

impl Rect {
    fn width(&self) -> f64 {
        self.r - self.l
    }

    fn height(&self) -> f64 {
        self.b - self.t
    }

    fn tuple(&self) -> (f64, f64, f64, f64) {
        (self.l, self.t, self.r, self.b)
    }

    fn union(&self, o: &Rect) -> Rect {
        Rect { l: self.l.min(o.l), t: self.t.min(o.t), r: self.r.max(o.r), b: self.b.max(o.b) }
    }

    fn overlaps(&self, o: &Rect, gap: f64) -> bool {
        self.l < o.r + gap && o.l < self.r + gap && self.t < o.b + gap && o.t < self.b + gap
    }

    fn inside(&self, width: f64, height: f64) -> bool {
        self.l >= 0.0 && self.t >= 0.0 && self.r <= width && self.b <= height
    }
}

/// One grid cell (or the part of it on one side of the clip height), projected.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cell {
    /// Column index of the cell's lower-left grid point (for tests to find a cell by).
    #[cfg(test)]
    pub i: usize,
    /// Row index of the cell's lower-left grid point.
    #[cfg(test)]
    pub j: usize,
    /// The outline: the cell's four corners, or a part of them where a clip height cuts it.
    corners: Outline,
    fill: RGBColor,
    edge: Option<RGBColor>,
    /// The depth of the cell's centre (larger is nearer).
    pub depth: f64,
}

/// A cell's outline on screen, kept inline: ten thousand cells then need no allocation each.
/// A cell has four corners, a piece of one cut by the clip height at most five (a plane cuts a
/// quadrilateral into a pentagon and a triangle at most), a piece of a twisted one three.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outline {
    corners: [Projected; Outline::MAX],
    len: usize,
}

impl Outline {
    const MAX: usize = 5;

    /// The outline through `corners`, of which there are at most [`Outline::MAX`].
    fn new(corners: impl IntoIterator<Item = Projected>) -> Outline {
        let mut outline =
            Outline { corners: [Projected { x: 0.0, y: 0.0, depth: 0.0 }; Outline::MAX], len: 0 };
        for corner in corners {
            debug_assert!(outline.len < Outline::MAX, "a cell's outline has at most five corners");
            if outline.len < Outline::MAX {
                outline.corners[outline.len] = corner;
                outline.len += 1;
            }
        }
        outline
    }
}

impl std::ops::Deref for Outline {
    type Target = [Projected];

    fn deref(&self) -> &[Projected] {
        &self.corners[..self.len]
    }
}

/// The triangles of the fans of cells' outlines, up to three per cell (a clipped cell can have
/// five corners): triangle `3 n + k` is corners 0, k + 1 and k + 2 of cell `n` (counted through
/// the parts in turn), where it has them.
#[derive(Debug)]
struct CellTriangles(Arc<[Vec<Cell>]>);

impl Triangles for CellTriangles {
    fn count(&self) -> usize {
        3 * self.0.iter().map(Vec::len).sum::<usize>()
    }

    fn get(&self, n: usize) -> Option<[Projected; 3]> {
        let mut cell = n / 3;
        for part in self.0.iter() {
            if let Some(Cell { corners: c, .. }) = part.get(cell) {
                let k = n % 3 + 1;
                return (k + 1 < c.len()).then(|| [c[0], c[k], c[k + 1]]);
            }
            cell -= part.len();
        }
        None
    }
}

/// A surface figure laid out for one picture size.
#[derive(Debug)]
pub(crate) struct Scene {
    projection: Projection,
    ranges: [(f64, f64); 3],
    color: ColorScale,
    /// The cells, in parts: one in painting order, farthest first, where they are drawn as
    /// shapes ([`SurfaceFigure::draw_shapes`]); the two halves they were made in where they are
    /// painted ([`SurfaceFigure::draw_raster`], which holds the painting order apart).
    pub cells: Arc<[Vec<Cell>]>,
    /// The depth buffer of the cells at [`Scene::pixels`], made the first time an overlay asks
    /// whether it is hidden (a surface with nothing on it never needs one).
    depth: OnceLock<DepthBuffer<CellTriangles>>,
    /// The size of the drawing in pixels.
    pixels: (u32, u32),
    sizes: Sizes,
    width: f64,
    height: f64,
    title_y: Option<f64>,
    legend: Vec<LegendEntry>,
    legend_rows: Vec<Vec<usize>>,
    legend_top: f64,
    area: Rect,
    bar: Rect,
}

impl Scene {
    /// The box position of an overlay point at (u, v) with loss `z`: z clamped into the drawn
    /// range and lifted slightly; `None` outside the grid or for a non-finite loss.
    fn lifted(&self, u: f64, v: f64, z: f64) -> Option<[f64; 3]> {
        let [(u0, u1), (v0, v1), (z0, z1)] = self.ranges;
        if !(z.is_finite() && (u0..=u1).contains(&u) && (v0..=v1).contains(&v)) {
            return None;
        }
        let mut p = self.projection.to_box(u, v, z.clamp(z0, z1));
        p[2] += LIFT;
        Some(p)
    }

    /// Every cell, part after part.
    fn cells(&self) -> impl Iterator<Item = &Cell> {
        self.cells.iter().flatten()
    }

    /// Whether a point given in box coordinates is in front of the surface.
    fn visible(&self, p: [f64; 3]) -> bool {
        self.depth().is_visible(self.projection.project_box(p), DEPTH_TOLERANCE)
    }

    /// The depth buffer of the cells' triangles (the fan of each cell's outline).
    fn depth(&self) -> &DepthBuffer<CellTriangles> {
        self.depth.get_or_init(|| {
            DepthBuffer::of_triangles(self.pixels.0, self.pixels.1, CellTriangles(self.cells.clone()))
        })
    }

    /// Whether a point at (u, v) with loss `z` on the surface would be drawn (not hidden).
    #[cfg(test)]
    pub fn point_visible(&self, u: f64, v: f64, z: f64) -> bool {
        self.lifted(u, v, z).is_some_and(|p| self.visible(p))
    }

    /// The depth of the centre of a cell given by its lower-left grid point.
    #[cfg(test)]
    pub fn cell_depth(&self, i: usize, j: usize) -> Option<f64> {
        self.cells().find(|c| c.i == i && c.j == j).map(|c| c.depth)
    }

    /// A path's vertices in box coordinates (`None` where it leaves the grid or has no loss).
    fn path_points(&self, landscape: &Landscape, path: &PathOverlay) -> Vec<Option<[f64; 3]>> {
        self.draped(landscape, &path.points, path.losses.as_deref())
    }

    /// Plane points in box coordinates at heights `losses`, or on the surface (the landscape
    /// interpolated) without them; `None` where a point leaves the grid or has no finite loss.
    fn draped(
        &self,
        landscape: &Landscape,
        points: &[[f64; 2]],
        losses: Option<&[f64]>,
    ) -> Vec<Option<[f64; 3]>> {
        points
            .iter()
            .enumerate()
            .map(|(k, &[u, v])| {
                let z = match losses {
                    Some(losses) => losses[k],
                    None => landscape.interpolate(u, v),
                };
                self.lifted(u, v, z)
            })
            .collect()
    }

    /// A segment's part on the grid, sampled at least twice per cell and draped on the surface,
    /// in box coordinates (empty when it misses the grid).
    fn segment_points(&self, landscape: &Landscape, segment: &SegmentOverlay) -> Vec<Option<[f64; 3]>> {
        let [(u0, u1), (v0, v1), _] = self.ranges;
        let ([au, av], [bu, bv]) = (segment.from, segment.to);
        let (du, dv) = (bu - au, bv - av);
        // Clip the parameter range to the grid's rectangle (Liang & Barsky 1984).
        let (mut t0, mut t1) = (0.0f64, 1.0f64);
        for (p, q) in [(-du, au - u0), (du, u1 - au), (-dv, av - v0), (dv, v1 - av)] {
            if p == 0.0 {
                if q < 0.0 {
                    return Vec::new();
                }
            } else if p < 0.0 {
                t0 = t0.max(q / p);
            } else {
                t1 = t1.min(q / p);
            }
        }
        if t0 > t1 {
            return Vec::new();
        }
        let cell_u = (u1 - u0) / (landscape.u().n().max(2) - 1) as f64;
        let cell_v = (v1 - v0) / (landscape.v().n().max(2) - 1) as f64;
        let cells = ((t1 - t0) * (du.abs() / cell_u).max(dv.abs() / cell_v)).max(0.0);
        let n = ((2.0 * cells).ceil() as usize).clamp(1, 10_000);
        let points: Vec<[f64; 2]> = (0..=n)
            .map(|k| {
                let t = t0 + (t1 - t0) * k as f64 / n as f64;
                // Keep the clipped ends exactly on the grid's edge despite rounding.
                [(au + du * t).clamp(u0, u1), (av + dv * t).clamp(v0, v1)]
            })
            .collect();
        self.draped(landscape, &points, None)
    }

    /// The visible stretches of a polyline as screen polylines: each segment is cut into pieces
    /// about [`PIECE_PX`] long and a piece is kept when its midpoint is inside the box and in front
    /// of the surface.
    fn visible_runs(&self, points: &[Option<[f64; 3]>]) -> Vec<Vec<(f64, f64)>> {
        let mut runs = Vec::new();
        let mut current: Vec<(f64, f64)> = Vec::new();
        let screen = |p: [f64; 3]| {
            let q = self.projection.project_box(p);
            (q.x, q.y)
        };
        for pair in points.windows(2) {
            let (Some(a), Some(b)) = (pair[0], pair[1]) else {
                if current.len() > 1 {
                    runs.push(std::mem::take(&mut current));
                }
                current.clear();
                continue;
            };
            let (sa, sb) = (screen(a), screen(b));
            let length = ((sb.0 - sa.0).powi(2) + (sb.1 - sa.1).powi(2)).sqrt();
            let n = ((length / PIECE_PX).ceil() as usize).clamp(1, 100_000);
            let at = |t: f64| [0, 1, 2].map(|k| a[k] + (b[k] - a[k]) * t);
            for piece in 0..n {
                let (t0, t1) = (piece as f64 / n as f64, (piece + 1) as f64 / n as f64);
                let mid = at((t0 + t1) / 2.0);
                let inside = (0..3).all(|k| mid[k].abs() <= HALF[k] + LIFT + 1e-9);
                if inside && self.visible(mid) {
                    if current.is_empty() {
                        current.push(screen(at(t0)));
                    }
                    if piece + 1 == n {
                        current.push(sb);
                    }
                } else if !current.is_empty() {
                    current.push(screen(at(t0)));
                    runs.push(std::mem::take(&mut current));
                }
            }
        }
        if current.len() > 1 {
            runs.push(current);
        }
        runs
    }

    /// Where a segment's label may go, best first: the screen end (`b`) of its visible stretches
    /// nearest its `to` end, with a point `a` a little back along the line for the direction
    /// (unless only the `from` end shows, then that end first), then the other visible end. Empty
    /// when nothing of it is visible.
    fn visible_ends(&self, points: &[Option<[f64; 3]>], runs: &[Vec<(f64, f64)>]) -> Vec<ScreenLine> {
        let (Some(first), Some(last)) = (runs.first(), runs.last()) else { return Vec::new() };
        let shows = |p: Option<&Option<[f64; 3]>>| p.copied().flatten().is_some_and(|p| self.visible(p));
        let forward = last.clone();
        let backward: Vec<(f64, f64)> = first.iter().rev().copied().collect();
        let runs = if !shows(points.last()) && shows(points.first()) {
            [backward, forward]
        } else {
            [forward, backward]
        };
        runs.iter()
            .filter_map(|run| {
                let b = *run.last()?;
                // A point about 20 pixels back along the run gives the line's direction at its end.
                let a = run
                    .iter()
                    .rev()
                    .copied()
                    .find(|p| (p.0 - b.0).hypot(p.1 - b.1) >= 20.0)
                    .unwrap_or(run[0]);
                Some((a, b))
            })
            .collect()
    }

    /// Regions tick labels must keep out of: the title, the legend and the colour bar.
    fn reserved(&self) -> Vec<Rect> {
        vec![
            Rect { l: 0.0, t: 0.0, r: self.width, b: self.area.t },
            Rect { l: self.bar.l, t: 0.0, r: self.width, b: self.height },
        ]
    }
}

/// The legend's symbols.
#[derive(Debug, Clone, Copy, PartialEq)]
enum LegendSymbol {
    Line(RGBColor),
    Start,
    End,
    Minimum,
}

#[derive(Debug, Clone, PartialEq)]
struct LegendEntry {
    symbol: LegendSymbol,
    text: String,
}

fn symbol_width(symbol: LegendSymbol, sizes: &Sizes) -> f64 {
    match symbol {
        LegendSymbol::Line(_) => sizes.len(28.0),
        _ => sizes.len(14.0),
    }
}

fn legend_entry_width(
    entry: &LegendEntry,
    sizes: &Sizes,
    measure: &dyn Fn(&str, f64, bool) -> (f64, f64),
) -> f64 {
    symbol_width(entry.symbol, sizes) + sizes.len(6.0) + measure(&entry.text, sizes.note, false).0
}

/// Greedy rows of legend entries no wider than `width`.
fn legend_rows(
    entries: &[LegendEntry],
    sizes: &Sizes,
    width: f64,
    measure: &dyn Fn(&str, f64, bool) -> (f64, f64),
) -> Vec<Vec<usize>> {
    let gap = sizes.len(22.0);
    let mut rows: Vec<Vec<usize>> = Vec::new();
    let mut used = 0.0;
    for (k, entry) in entries.iter().enumerate() {
        let w = legend_entry_width(entry, sizes, measure);
        match rows.last_mut() {
            Some(row) if used + gap + w <= width => {
                row.push(k);
                used += gap + w;
            }
            _ => {
                rows.push(vec![k]);
                used = w;
            }
        }
    }
    rows
}

/// A text placed at a centre, with its measured size.
#[derive(Debug, Clone, PartialEq)]
struct PlacedText {
    text: String,
    size: f64,
    bold: bool,
    vertical: bool,
    cx: f64,
    cy: f64,
    w: f64,
    h: f64,
}

impl PlacedText {
    fn new(
        text: &str,
        size: f64,
        bold: bool,
        vertical: bool,
        centre: (f64, f64),
        measure: &dyn Fn(&str, f64, bool) -> (f64, f64),
    ) -> PlacedText {
        let (w, h) = measure(text, size, bold);
        let (w, h) = if vertical { (h, w) } else { (w, h) };
        PlacedText { text: text.to_string(), size, bold, vertical, cx: centre.0, cy: centre.1, w, h }
    }

    fn rect(&self) -> Rect {
        Rect {
            l: self.cx - self.w / 2.0,
            t: self.cy - self.h / 2.0,
            r: self.cx + self.w / 2.0,
            b: self.cy + self.h / 2.0,
        }
    }
}

/// One drawn axis: its edge on screen, tick marks, tick labels and title.
#[derive(Debug, Clone)]
struct AxisGeometry {
    start: (f64, f64),
    end: (f64, f64),
    tick_marks: Vec<((f64, f64), (f64, f64))>,
    labels: Vec<PlacedText>,
    title: PlacedText,
}

/// The three axes (u, v, z) of a view; an axis seen end-on is left out (`None`) but still has
/// ticks for the grid lines on the panes.
#[derive(Debug, Clone)]
struct AxisLayout {
    axes: [Option<AxisGeometry>; 3],
    ticks: [Vec<f64>; 3],
}

impl AxisLayout {
    fn compute(
        projection: &Projection,
        ranges: [(f64, f64); 3],
        titles: [&str; 3],
        sizes: &Sizes,
        measure: &dyn Fn(&str, f64, bool) -> (f64, f64),
    ) -> AxisLayout {
        let [hx, hy, hz] = HALF;
        // The z axis stands on the leftmost vertical edge of the box, which is always on its
        // outline; ties (a side-on view) go to the nearer edge.
        let (zx, zy) = [(-hx, -hy), (hx, -hy), (hx, hy), (-hx, hy)]
            .into_iter()
            .min_by(|a, b| {
                let pa = projection.project_box([a.0, a.1, 0.0]);
                let pb = projection.project_box([b.0, b.1, 0.0]);
                let key = |p: Projected| ((p.x * 2.0).round(), -(p.depth * 1e6).round());
                key(pa).partial_cmp(&key(pb)).unwrap_or(std::cmp::Ordering::Equal)
            })
            .unwrap_or((-hx, -hy));
        let z_screen_x = projection.project_box([zx, zy, 0.0]).x;
        // The u and v axes each take the lower of their two bottom edges on screen (the near one
        // when seen from above); on a tie (a view along the axis, or side on), the nearer one,
        // then the one farther from the z axis, so two axes never share a line.
        let pick = |candidates: [([f64; 3], [f64; 3]); 2]| {
            let key = |(a, b): ([f64; 3], [f64; 3])| {
                let (pa, pb) = (projection.project_box(a), projection.project_box(b));
                let mid_x = (pa.x + pb.x) / 2.0;
                (
                    ((pa.y + pb.y) * 1.0).round(),
                    ((pa.depth + pb.depth) * 1e6).round(),
                    (mid_x - z_screen_x).abs(),
                )
            };
            let (ka, kb) = (key(candidates[0]), key(candidates[1]));
            if kb.partial_cmp(&ka) == Some(std::cmp::Ordering::Greater) {
                candidates[1]
            } else {
                candidates[0]
            }
        };
        let edges = [
            pick([([-hx, -hy, -hz], [hx, -hy, -hz]), ([-hx, hy, -hz], [hx, hy, -hz])]),
            pick([([-hx, -hy, -hz], [-hx, hy, -hz]), ([hx, -hy, -hz], [hx, hy, -hz])]),
            ([zx, zy, -hz], [zx, zy, hz]),
        ];
        let centre = projection.project_box([0.0, 0.0, 0.0]);
        let tick_len = sizes.len(6.0);
        let gap = sizes.len(4.0);
        let mut axes: [Option<AxisGeometry>; 3] = [None, None, None];
        let mut ticks: [Vec<f64>; 3] = [Vec::new(), Vec::new(), Vec::new()];
        for k in 0..3 {
            let (lo, hi) = ranges[k];
            let (a, b) = edges[k];
            let (s, e) = (projection.project_box(a), projection.project_box(b));
            let length = ((e.x - s.x).powi(2) + (e.y - s.y).powi(2)).sqrt();
            if length < sizes.len(30.0) {
                ticks[k] = nice_ticks(lo, hi, 5).0;
                continue;
            }
            let d = ((e.x - s.x) / length, (e.y - s.y) / length);
            let mut n = (-d.1, d.0);
            let mid = ((s.x + e.x) / 2.0, (s.y + e.y) / 2.0);
            if n.0 * (mid.0 - centre.x) + n.1 * (mid.1 - centre.y) < 0.0 {
                n = (-n.0, -n.1);
            }
            // As many ticks as fit along the edge with room for their labels.
            let sample = [lo, hi, (lo + hi) / 2.0]
                .iter()
                .map(|&t| measure(&format_sig(t, 3), sizes.tick, false))
                .fold((0.0f64, 0.0f64), |acc, (w, h)| (acc.0.max(w), acc.1.max(h)));
            let along = d.0.abs() * sample.0 + d.1.abs() * sample.1 + sizes.len(18.0);
            let max_count = ((length / along).floor() as usize + 1).clamp(2, 7);
            let (values, step) = nice_ticks(lo, hi, max_count);
            let mut tick_marks = Vec::new();
            let mut labels = Vec::new();
            for &t in &values {
                let f = (t - lo) / (hi - lo);
                let p = projection.project_box([0, 1, 2].map(|c| a[c] + (b[c] - a[c]) * f));
                tick_marks.push(((p.x, p.y), (p.x + n.0 * tick_len, p.y + n.1 * tick_len)));
                let text = format_tick(t, step);
                let (w, h) = measure(&text, sizes.tick, false);
                let half = (n.0.abs() * w + n.1.abs() * h) / 2.0;
                let offset = tick_len + gap + half;
                labels.push(PlacedText::new(
                    &text,
                    sizes.tick,
                    false,
                    false,
                    (p.x + n.0 * offset, p.y + n.1 * offset),
                    measure,
                ));
            }
            let extent = labels.iter().map(|l| n.0.abs() * l.w + n.1.abs() * l.h).fold(0.0, f64::max);
            let vertical = k == 2 && d.1.abs() > 0.8;
            let (tw, th) = measure(titles[k], sizes.axis, false);
            let (tw, th) = if vertical { (th, tw) } else { (tw, th) };
            let offset = tick_len + gap + extent + sizes.len(12.0) + (n.0.abs() * tw + n.1.abs() * th) / 2.0;
            let title = PlacedText::new(
                titles[k],
                sizes.axis,
                false,
                vertical,
                (mid.0 + n.0 * offset, mid.1 + n.1 * offset),
                measure,
            );
            ticks[k] = values;
            axes[k] = Some(AxisGeometry { start: (s.x, s.y), end: (e.x, e.y), tick_marks, labels, title });
        }
        AxisLayout { axes, ticks }
    }

    /// Every text, overlapping or not (for the layout, which must leave room for all of them).
    fn all_texts(&self) -> impl Iterator<Item = &PlacedText> {
        self.axes.iter().flatten().flat_map(|a| a.labels.iter().chain(std::iter::once(&a.title)))
    }

    /// The texts to draw: all axis titles, then tick labels in axis order, each skipped when it
    /// would overlap one already taken, a `reserved` region, or leave the picture.
    fn visible_texts(&self, width: f64, height: f64, reserved: &[Rect], sizes: &Sizes) -> Vec<PlacedText> {
        // Labels of one axis may sit close together; labels of different axes (which meet at
        // the box's corners) need a clear gap, or "2" and "-4" read as one label "2 -4".
        let (own_gap, other_gap) = (3.0, sizes.len(12.0));
        let mut taken: Vec<(Option<usize>, Rect)> = reserved.iter().map(|&r| (None, r)).collect();
        let mut out = Vec::new();
        for (k, axis) in self.axes.iter().enumerate() {
            let Some(axis) = axis else { continue };
            let mut title = axis.title.clone();
            let r = title.rect();
            // Keep a title inside the picture even if the layout could not make room.
            title.cx += (-r.l).max(0.0) - (r.r - width).max(0.0);
            title.cy += (-r.t).max(0.0) - (r.b - height).max(0.0);
            taken.push((Some(k), title.rect()));
            out.push(title);
        }
        for (k, axis) in self.axes.iter().enumerate() {
            let Some(axis) = axis else { continue };
            for label in &axis.labels {
                let r = label.rect();
                let clear = taken.iter().all(|(owner, t)| {
                    let gap = if *owner == Some(k) { own_gap } else { other_gap };
                    !t.overlaps(&r, gap)
                });
                if r.inside(width, height) && clear {
                    taken.push((Some(k), r));
                    out.push(label.clone());
                }
            }
        }
        out
    }
}

/// Nice tick values (1, 2, 2.5 or 5 times a power of ten apart) within [lo, hi], at most
/// `max_count` of them, and their spacing.
pub(crate) fn nice_ticks(lo: f64, hi: f64, max_count: usize) -> (Vec<f64>, f64) {
    let span = hi - lo;
    if !(span > 0.0 && span.is_finite()) {
        return (vec![lo], 1.0);
    }
    let max_count = max_count.max(2);
    let base = 10f64.powf((span / max_count as f64).log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0, 20.0, 25.0, 50.0, 100.0] {
        let step = base * m;
        let first = (lo / step - 1e-9).ceil() as i64;
        let last = (hi / step + 1e-9).floor() as i64;
        if last - first < max_count as i64 {
            let values = (first..=last)
                .map(|k| k as f64 * step)
                .map(|v| if v.abs() < step * 1e-9 { 0.0 } else { v })
                .collect();
            return (values, step);
        }
    }
    (vec![lo, hi], span)
}

fn draw_symbol<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    symbol: LegendSymbol,
    color: RGBColor,
    at: (i32, i32),
    sizes: &Sizes,
) -> Result<()> {
    match symbol {
        LegendSymbol::Start => {
            let r = sizes.px(5.0, 3) as i32;
            root.draw(&Circle::new(at, r + 1, WHITE.filled()))?;
            root.draw(&Circle::new(at, r, color.filled()))?;
        }
        LegendSymbol::End => {
            let r = sizes.px(5.5, 3) as i32;
            let w = sizes.px(2.5, 2);
            for (dx, dy) in [(r, r), (r, -r)] {
                let line = vec![(at.0 - dx, at.1 - dy), (at.0 + dx, at.1 + dy)];
                root.draw(&PathElement::new(line.clone(), WHITE.stroke_width(w + 2)))?;
            }
            for (dx, dy) in [(r, r), (r, -r)] {
                let line = vec![(at.0 - dx, at.1 - dy), (at.0 + dx, at.1 + dy)];
                root.draw(&PathElement::new(line, color.stroke_width(w)))?;
            }
        }
        LegendSymbol::Minimum => {
            let r = sizes.px(6.0, 4) as i32;
            root.draw(&Circle::new(at, r, WHITE.filled()))?;
            root.draw(&Circle::new(at, r, color.stroke_width(sizes.px(2.0, 1))))?;
            root.draw(&Circle::new(at, (r / 3).max(1), color.filled()))?;
        }
        LegendSymbol::Line(_) => {}
    }
    Ok(())
}

fn draw_marker<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    marker: &Marker,
    at: (i32, i32),
    sizes: &Sizes,
) -> Result<Option<Rect>> {
    let r = sizes.px(6.0, 3) as i32;
    match marker.shape {
        MarkerShape::Circle => draw_symbol(root, LegendSymbol::Start, marker.color, at, sizes)?,
        MarkerShape::Cross => draw_symbol(root, LegendSymbol::End, marker.color, at, sizes)?,
        MarkerShape::Triangle => {
            let points = vec![(at.0, at.1 - r), (at.0 + r, at.1 + r * 2 / 3), (at.0 - r, at.1 + r * 2 / 3)];
            root.draw(&Polygon::new(points.clone(), marker.color.filled()))?;
            let mut outline = points;
            outline.push(outline[0]);
            root.draw(&PathElement::new(outline, WHITE.stroke_width(1)))?;
        }
        MarkerShape::Star => {
            root.draw(&Circle::new(at, r, marker.color.stroke_width(2)))?;
            root.draw(&PathElement::new(
                vec![(at.0 - r, at.1), (at.0 + r, at.1)],
                marker.color.stroke_width(2),
            ))?;
            root.draw(&PathElement::new(
                vec![(at.0, at.1 - r), (at.0, at.1 + r)],
                marker.color.stroke_width(2),
            ))?;
        }
    }
    if !marker.label.is_empty() {
        let (w, _) = estimate(&marker.label, sizes.note, false);
        let text = PlacedText::new(
            &marker.label,
            sizes.note,
            false,
            false,
            (at.0 as f64 + r as f64 + sizes.len(4.0) + w / 2.0, at.1 as f64 - r as f64),
            &estimate,
        );
        // A light box keeps dark text readable on the dark valley floor where minima sit.
        let (l, t, r, b) = text.rect().tuple();
        let pad = text_box_pad(sizes.note);
        root.draw(&Rectangle::new(
            [
                ((l - pad.0).round() as i32, (t - pad.1).round() as i32),
                ((r + pad.0).round() as i32, (b + pad.1).round() as i32),
            ],
            WHITE.mix(0.8).filled(),
        ))?;
        draw_placed(root, &text, marker.color)?;
        return Ok(Some(text.rect()));
    }
    Ok(None)
}

/// The dashes of a screen polyline: stretches `dash` long (following its bends) with gaps `space`
/// long between them, starting with a dash at its first point.
fn dashed(run: &[(f64, f64)], dash: f64, space: f64) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let Some(&first) = run.first() else { return out };
    let (mut on, mut left) = (true, dash);
    let mut current = vec![first];
    for pair in run.windows(2) {
        let (p, q) = (pair[0], pair[1]);
        let length = (q.0 - p.0).hypot(q.1 - p.1);
        let mut done = 0.0;
        while length - done > left {
            done += left;
            let t = done / length;
            let at = (p.0 + (q.0 - p.0) * t, p.1 + (q.1 - p.1) * t);
            if on {
                current.push(at);
                out.push(std::mem::take(&mut current));
            } else {
                current = vec![at];
            }
            on = !on;
            left = if on { dash } else { space };
        }
        left -= length - done;
        if on {
            current.push(q);
        }
    }
    if on && current.len() > 1 {
        out.push(current);
    }
    out
}

/// A straight line on screen from its first point to its second, in pixels.
type ScreenLine = ((f64, f64), (f64, f64));

/// `points` without the inner vertices closer than `min` to the last one kept (the ends stay).
fn thinned(points: &[(f64, f64)], min: f64) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(points.len());
    for (k, &p) in points.iter().enumerate() {
        let last = k + 1 == points.len();
        match out.last() {
            Some(&q) if !last && (p.0 - q.0).hypot(p.1 - q.1) < min => {}
            _ => out.push(p),
        }
    }
    out
}

/// The box of `size` (a label's text with its padding) for a segment's label near one of its
/// `ends` (each the end `b` of the screen line from `a`, best first): the first of the contour
/// map's candidates around them that lies inside
/// `picture`, at least `clearance` from each of `blocked` and crossed by none of `lines`, else
/// the first one clear of `blocked` only, else the first one inside.
fn segment_label_rect(
    ends: &[ScreenLine],
    size: (f64, f64),
    gap: f64,
    clearance: f64,
    picture: &Rect,
    blocked: &[Rect],
    lines: &[Vec<(f64, f64)>],
) -> Rect {
    let candidates: Vec<Rect> = ends
        .iter()
        .flat_map(|&(a, b)| beside_end(a, b, size, gap))
        .map(|c| Rect { l: c.x0, t: c.y0, r: c.x1, b: c.y1 })
        .collect();
    let fits = |r: &Rect| r.l >= picture.l && r.t >= picture.t && r.r <= picture.r && r.b <= picture.b;
    let clear = |r: &Rect| fits(r) && !blocked.iter().any(|o| r.overlaps(o, clearance));
    let crossed = |r: &Rect| {
        lines.iter().any(|line| {
            line.windows(2).any(|w| {
                // Sample each piece finely enough to catch it passing through the box.
                let n = ((w[1].0 - w[0].0).hypot(w[1].1 - w[0].1) / 2.0).ceil().max(1.0) as usize;
                (0..=n).any(|k| {
                    let t = k as f64 / n as f64;
                    let p = (w[0].0 + (w[1].0 - w[0].0) * t, w[0].1 + (w[1].1 - w[0].1) * t);
                    p.0 > r.l - 2.0 && p.0 < r.r + 2.0 && p.1 > r.t - 2.0 && p.1 < r.b + 2.0
                })
            })
        })
    };
    candidates
        .iter()
        .find(|r| clear(r) && !crossed(r))
        .or_else(|| candidates.iter().find(|r| clear(r)))
        .or_else(|| candidates.iter().find(|r| fits(r)))
        .or(candidates.first())
        .copied()
        .unwrap_or(Rect { l: 0.0, t: 0.0, r: size.0, b: size.1 })
}

fn text_style(size: f64, bold: bool, vertical: bool, color: RGBColor) -> TextStyle<'static> {
    let style = if bold { FontStyle::Bold } else { FontStyle::Normal };
    let mut font = FontDesc::new(FontFamily::Name(crate::font::FAMILY), size, style);
    if vertical {
        // Rotate270 turns the text a quarter counter-clockwise: it reads from bottom to top.
        font = font.transform(FontTransform::Rotate270);
    }
    TextStyle { font, color: color.to_backend_color(), pos: Pos::new(HPos::Center, VPos::Center) }
}

fn draw_placed<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &PlacedText,
    color: RGBColor,
) -> Result<()> {
    let style = text_style(text.size, text.bold, text.vertical, color);
    root.draw_text(&text.text, &style, pixel_xy((text.cx, text.cy)))?;
    Ok(())
}

/// A conservative text size without a backend (DejaVu Sans advances are at most about 0.6 of
/// the font size for digits and lower case), used for the layout before drawing.
fn estimate(text: &str, size: f64, bold: bool) -> (f64, f64) {
    let per_char = if bold { 0.64 } else { 0.6 };
    (text.chars().count() as f64 * per_char * size, size / 1.24)
}

/// The cells of half a PNG's grid rows, made on a thread of their own: in the order they were
/// made, their outlines as painted, and their [`painting_keys`].
struct Half {
    cells: Vec<Cell>,
    outlines: Shapes,
    keys: Vec<(u64, u32)>,
}

/// A grid point of a surface figure: its place in the box, on the screen and on the colour
/// scale.
#[derive(Debug, Clone, Copy)]
struct GridPoint {
    at: [f64; 3],
    projected: Projected,
    color: f64,
}

/// The order in which to paint `cells` (given in the order they were made, see
/// [`SurfaceFigure::cells_in_rows`]): back to front by the depth of each cell's centre; ties by
/// grid position, then by the order the pieces of one cell were made, which is the order they
/// were made in.
fn painting_order(cells: &[Cell]) -> Vec<u32> {
    painting_keys(cells).into_iter().map(|(_, n)| n).collect()
}

/// Each of `cells`' depth, as bits ordered as the depths ([`ordered_bits`]), and its index,
/// sorted: [`painting_order`]. The keys are all different, so an unstable sort gives the one
/// order; it sorts integers, not the cells.
fn painting_keys(cells: &[Cell]) -> Vec<(u64, u32)> {
    let mut keys: Vec<(u64, u32)> =
        cells.iter().enumerate().map(|(n, c)| (ordered_bits(c.depth), n as u32)).collect();
    keys.sort_unstable();
    keys
}

/// The painting order of two runs of cells made one after the other, from each run's sorted
/// [`painting_keys`]: the second run's cells are numbered from `offset`, after the first's, so
/// on equal depths the first run's come first, as sorting them all together would have it.
fn merged_order(first: &[(u64, u32)], second: &[(u64, u32)], offset: u32) -> Vec<u32> {
    let mut order = Vec::with_capacity(first.len() + second.len());
    let (mut a, mut b) = (first.iter().peekable(), second.iter().peekable());
    loop {
        match (a.peek(), b.peek()) {
            (Some(&&(x, n)), Some(&&(y, _))) if x <= y => {
                order.push(n);
                a.next();
            }
            (_, Some(&&(_, m))) => {
                order.push(m + offset);
                b.next();
            }
            (Some(&&(_, n)), None) => {
                order.push(n);
                a.next();
            }
            (None, None) => return order,
        }
    }
}

/// `value`'s bits as an integer that orders as `f64::total_cmp` orders the values.
fn ordered_bits(value: f64) -> u64 {
    let bits = value.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

/// Text measured with `root`'s fonts (estimated where the backend cannot say): width and
/// height in pixels of `text` at `size`, bold or not.
fn measure_with<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
) -> impl Fn(&str, f64, bool) -> (f64, f64) + '_ {
    move |text: &str, size: f64, bold: bool| -> (f64, f64) {
        root.estimate_text_size(text, &text_style(size, bold, false, TEXT_COLOR))
            .map(|(w, h)| (w as f64, h as f64))
            .unwrap_or_else(|_| estimate(text, size, bold))
    }
}

/// Calls `then` while `make(0)`, ..., `make(parts - 1)` run on other threads; `then` gets their
/// results, in that order, by calling the function it is given (once). Where no thread can be
/// started, the part is made when the results are asked for. (Threads started here, not
/// rayon's workers: handing these parts to rayon made figure 3 slower, 7.2 -> 7.7 ms.)
fn made_beside<T: Send, R>(
    parts: usize,
    make: impl Fn(usize) -> T + Sync,
    then: impl FnOnce(&mut dyn FnMut() -> Vec<T>) -> R,
) -> R {
    std::thread::scope(|threads| {
        let make = &make;
        let mut made: Vec<_> = (0..parts)
            .map(|k| std::thread::Builder::new().spawn_scoped(threads, move || make(k)).ok())
            .collect();
        let mut results = || {
            let made = made.drain(..);
            made.enumerate()
                .map(|(k, thread)| match thread {
                    Some(thread) => thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                    None => make(k),
                })
                .collect()
        };
        then(&mut results)
    })
}

fn rgb(RGBColor(red, green, blue): RGBColor) -> [u8; 3] {
    [red, green, blue]
}

fn projected_box_bounds(projection: &Projection) -> Rect {
    box_corners().iter().fold(
        Rect { l: f64::INFINITY, t: f64::INFINITY, r: f64::NEG_INFINITY, b: f64::NEG_INFINITY },
        |acc, &c| {
            let p = projection.project_box(c);
            acc.union(&Rect { l: p.x, t: p.y, r: p.x, b: p.y })
        },
    )
}

fn to_box_1d(value: f64, (lo, hi): (f64, f64), k: usize) -> f64 {
    ((value - lo) / (hi - lo) - 0.5) * 2.0 * HALF[k]
}

fn pixel(p: Projected) -> (i32, i32) {
    pixel_xy((p.x, p.y))
}

fn pixel_xy((x, y): (f64, f64)) -> (i32, i32) {
    (x.round() as i32, y.round() as i32)
}

fn scale_color(RGBColor(r, g, b): RGBColor, factor: f64) -> RGBColor {
    let f = |c: u8| round(c as f64 * factor).clamp(0, 255) as u8;
    RGBColor(f(r), f(g), f(b))
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// A convex polygon with every side moved outwards by `by` pixels (corners mitred, the miter
/// capped at three times `by` so a needle-sharp corner does not spike).
fn grown(corners: &[Projected], by: f64) -> impl Iterator<Item = (f64, f64)> + '_ {
    let n = corners.len();
    let (cx, cy) = corners.iter().fold((0.0, 0.0), |acc, c| (acc.0 + c.x / n as f64, acc.1 + c.y / n as f64));
    // The outward unit normal of side k (from corner k to k + 1), `None` for a side of no length.
    let normal = move |k: usize| {
        let (a, b) = (corners[k], corners[(k + 1) % n]);
        let (dx, dy) = (b.x - a.x, b.y - a.y);
        // Not `hypot`: a libm call (no overflow to guard against at pixel scale), and this runs
        // for every side of every cell.
        let length = (dx * dx + dy * dy).sqrt();
        if length < 1e-9 {
            return None;
        }
        let normal = (dy / length, -dx / length);
        let outward = normal.0 * ((a.x + b.x) / 2.0 - cx) + normal.1 * ((a.y + b.y) / 2.0 - cy);
        Some(if outward < 0.0 { (-normal.0, -normal.1) } else { normal })
    };
    let first = if n > 0 { normal(n - 1) } else { None };
    (0..n).scan(first, move |previous, k| {
        let c = corners[k];
        let next = normal(k);
        let offset = match (*previous, next) {
            (Some(p), Some(q)) => {
                let cos = p.0 * q.0 + p.1 * q.1;
                let (mx, my) = (p.0 + q.0, p.1 + q.1);
                let scale = by / (1.0 + cos).max(1e-9);
                let (ox, oy) = (mx * scale, my * scale);
                let length = (ox * ox + oy * oy).sqrt();
                let cap = 3.0 * by;
                if length > cap {
                    (ox * cap / length, oy * cap / length)
                } else {
                    (ox, oy)
                }
            }
            (Some(p), None) | (None, Some(p)) => (p.0 * by, p.1 * by),
            (None, None) => (0.0, 0.0),
        };
        *previous = next;
        Some((c.x + offset.0, c.y + offset.1))
    })
}

/// Whether a projected polygon is convex (and not self-crossing): its turns all go one way.
fn is_convex(corners: &[Projected]) -> bool {
    let n = corners.len();
    let mut sign = 0.0;
    for k in 0..n {
        let (a, b, c) = (corners[k], corners[(k + 1) % n], corners[(k + 2) % n]);
        let turn = (b.x - a.x) * (c.y - b.y) - (b.y - a.y) * (c.x - b.x);
        if turn.abs() < 1e-9 {
            continue;
        }
        if sign == 0.0 {
            sign = turn.signum();
        } else if turn.signum() != sign {
            return false;
        }
    }
    true
}

/// The part of polygon `poly` below (`keep_below`) or above the plane z = `c`
/// (Sutherland & Hodgman 1974, against one plane).
fn clip_z(poly: &[[f64; 3]], c: f64, keep_below: bool) -> Vec<[f64; 3]> {
    let inside = |p: &[f64; 3]| if keep_below { p[2] <= c } else { p[2] >= c };
    let mut out = Vec::with_capacity(poly.len() + 2);
    for (k, a) in poly.iter().enumerate() {
        let b = &poly[(k + 1) % poly.len()];
        if inside(a) {
            out.push(*a);
        }
        if inside(a) != inside(b) {
            let t = (c - a[2]) / (b[2] - a[2]);
            out.push([a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, c]);
        }
    }
    out
}

/// The normal of a polygon that may not be quite planar (Newell's method); it points up for a
/// polygon listed counter-clockwise seen from above.
fn newell_normal(poly: &[[f64; 3]]) -> [f64; 3] {
    let mut n = [0.0; 3];
    for (k, a) in poly.iter().enumerate() {
        let b = &poly[(k + 1) % poly.len()];
        n[0] += (a[1] - b[1]) * (a[2] + b[2]);
        n[1] += (a[2] - b[2]) * (a[0] + b[0]);
        n[2] += (a[0] - b[0]) * (a[1] + b[1]);
    }
    n
}

fn normalize(a: [f64; 3]) -> [f64; 3] {
    let n = dot(a, a).sqrt();
    if n > 0.0 {
        a.map(|c| c / n)
    } else {
        [0.0, 0.0, 1.0]
    }
}

#[cfg(test)]
mod tests {
    use lossatlas::{Axis, GridSpec, Plane};

    use super::*;
    use crate::output::{render, ImageFormat};

    /// A landscape on [-1, 1] x [-1, 1] with `n` x `n` points and values `f(u, v)`.
    fn landscape(n: usize, f: impl Fn(f64, f64) -> f64) -> Landscape {
        let grid = GridSpec::new(
            Axis::new("kappa", -1.0, 1.0, n).unwrap(),
            Axis::new("beta", -1.0, 1.0, n).unwrap(),
            1 << 30,
        )
        .unwrap();
        let us = grid.u().values();
        let vs = grid.v().values();
        let values = vs.iter().flat_map(|&v| us.iter().map(move |&u| (u, v))).map(|(u, v)| f(u, v)).collect();
        let plane = Plane::parameter_axes(&["kappa".to_string(), "beta".to_string()]).unwrap();
        Landscape::from_values(grid, plane, values).unwrap()
    }

    /// A tall ridge along u at v = 0 on a flat floor.
    fn ridge() -> Landscape {
        landscape(81, |_, v| 10.0 * (-v * v / 0.02).exp())
    }

    fn decode(png: &[u8]) -> image::RgbImage {
        image::load_from_memory_with_format(png, image::ImageFormat::Png).unwrap().to_rgb8()
    }

    #[test]
    fn a_ridge_hides_the_point_behind_it_and_not_the_one_in_front() {
        let l = ridge();
        // The viewer stands on the -v side, 20 degrees up: the ridge at v = 0 blocks the floor
        // behind it (v > 0) but not the floor in front (v < 0).
        let figure = SurfaceFigure::new(&l).azimuth(-90.0).elevation(20.0);
        let scene = figure.scene(900, 700).unwrap();
        assert!(!scene.point_visible(0.0, 0.6, l.interpolate(0.0, 0.6)));
        assert!(!scene.point_visible(0.3, 0.3, l.interpolate(0.3, 0.3)));
        assert!(scene.point_visible(0.0, -0.6, l.interpolate(0.0, -0.6)));
        assert!(scene.point_visible(0.5, 0.0, 10.0), "the crest itself is visible");
        // From straight above nothing is hidden.
        let top = SurfaceFigure::new(&l).elevation(90.0).scene(900, 700).unwrap();
        assert!(top.point_visible(0.0, 0.6, l.interpolate(0.0, 0.6)));
    }

    #[test]
    fn a_path_over_the_ridge_is_cut_where_it_goes_behind() {
        let l = ridge();
        let figure = SurfaceFigure::new(&l).azimuth(-90.0).elevation(20.0);
        let scene = figure.scene(900, 700).unwrap();
        let path = PathOverlay {
            label: "across".into(),
            color: crate::overlay::PATH_COLORS[0],
            points: (0..=40).map(|k| [0.2, -0.8 + 0.04 * k as f64]).collect(),
            losses: None,
        };
        let points = scene.path_points(&l, &path);
        let runs = scene.visible_runs(&points);
        assert!(!runs.is_empty());
        let end = scene.projection.project_box(points.last().unwrap().unwrap());
        let start = scene.projection.project_box(points[0].unwrap());
        let near = |p: (f64, f64), q: Projected| (p.0 - q.x).hypot(p.1 - q.y) < 3.0;
        assert!(runs.iter().flatten().any(|&p| near(p, start)), "the front end is drawn");
        assert!(!runs.iter().flatten().any(|&p| near(p, end)), "the far end is hidden");
    }

    /// How many pixels are within a small distance of `color`.
    fn pixels_of(img: &image::RgbImage, RGBColor(r, g, b): RGBColor) -> usize {
        img.pixels()
            .filter(|p| {
                let [pr, pg, pb] = p.0;
                (pr as i32 - r as i32).abs() + (pg as i32 - g as i32).abs() + (pb as i32 - b as i32).abs()
                    < 40
            })
            .count()
    }

    const SEGMENT_COLOR: RGBColor = RGBColor(255, 0, 255);

    fn segment(from: [f64; 2], to: [f64; 2], label: &str) -> SegmentOverlay {
        SegmentOverlay { from, to, color: SEGMENT_COLOR, label: label.into() }
    }

    #[test]
    fn a_segment_on_a_bowl_seen_from_above_is_drawn() {
        let l = landscape(41, |u, v| u * u + 2.0 * v * v);
        let plain = SurfaceFigure::new(&l).elevation(90.0).azimuth(-90.0);
        let img = decode(&render(&plain, ImageFormat::Png, (900, 700)).unwrap());
        assert_eq!(pixels_of(&img, SEGMENT_COLOR), 0, "no magenta without the segment");
        let figure = plain.segments(vec![segment([-0.8, -0.4], [0.8, 0.4], "λ = 2")]);
        let img = decode(&render(&figure, ImageFormat::Png, (900, 700)).unwrap());
        assert!(pixels_of(&img, SEGMENT_COLOR) > 300, "{} pixels", pixels_of(&img, SEGMENT_COLOR));
        let svg = String::from_utf8(render(&figure, ImageFormat::Svg, (900, 700)).unwrap()).unwrap();
        assert!(svg.contains("λ = 2"), "the label is written");
    }

    #[test]
    fn a_segment_behind_a_ridge_is_hidden() {
        let l = ridge();
        let view = |s: SegmentOverlay| {
            let figure = SurfaceFigure::new(&l).azimuth(-90.0).elevation(20.0).segments(vec![s]);
            pixels_of(&decode(&render(&figure, ImageFormat::Png, (900, 700)).unwrap()), SEGMENT_COLOR)
        };
        assert!(view(segment([-0.8, -0.6], [0.8, -0.6], "")) > 300, "in front of the ridge it shows");
        assert_eq!(view(segment([-0.8, 0.6], [0.8, 0.6], "")), 0, "behind the ridge it is hidden");
    }

    #[test]
    fn a_segment_is_clipped_to_the_grid_and_draped() {
        let l = landscape(21, |u, v| u * u + v * v);
        let scene = SurfaceFigure::new(&l).scene(900, 700).unwrap();
        let points = scene.segment_points(&l, &segment([-2.0, 0.0], [2.0, 0.0], ""));
        assert!(points.len() > 40, "sampled finer than the grid");
        let first = points[0].unwrap();
        let last = points.last().unwrap().unwrap();
        assert!((first[0] + HALF[0]).abs() < 1e-9 && (last[0] - HALF[0]).abs() < 1e-9);
        let middle = points[points.len() / 2].unwrap();
        let bottom = scene.projection.to_box(0.0, 0.0, 0.0)[2] + LIFT;
        assert!((middle[2] - bottom).abs() < 1e-9, "on the surface, lifted");
        assert!(scene.segment_points(&l, &segment([2.0, 2.0], [3.0, 2.0], "")).is_empty());
    }

    #[test]
    fn dashes_follow_the_line() {
        let run = [(0.0, 0.0), (10.0, 0.0), (10.0, 20.0)];
        let dashes = dashed(&run, 6.0, 4.0);
        assert_eq!(dashes[0], vec![(0.0, 0.0), (6.0, 0.0)]);
        assert_eq!(dashes[1], vec![(10.0, 0.0), (10.0, 6.0)]);
        assert_eq!(dashes[2], vec![(10.0, 10.0), (10.0, 16.0)]);
        assert_eq!(dashes.len(), 3);
    }

    #[test]
    fn cells_are_painted_far_to_near() {
        let l = landscape(11, |u, v| u * u + v * v);
        let scene = SurfaceFigure::new(&l).scene(900, 700).unwrap();
        // Default view from the +u, -v side: cell (9, 0) is near, cell (0, 9) far.
        let near = scene.cell_depth(9, 0).unwrap();
        let far = scene.cell_depth(0, 9).unwrap();
        assert!(near > far);
        let cells: Vec<&Cell> = scene.cells().collect();
        let position = |i, j| cells.iter().position(|c| c.i == i && c.j == j).unwrap();
        assert!(position(0, 9) < position(9, 0));
        assert!(cells.windows(2).all(|w| w[0].depth <= w[1].depth));
    }

    #[test]
    fn png_has_the_requested_size_and_a_picture() {
        let l = landscape(30, |u, v| (3.0 * u).sin() + v * v);
        let png = render(&SurfaceFigure::new(&l).title("waves"), ImageFormat::Png, (640, 480)).unwrap();
        let img = decode(&png);
        assert_eq!(img.dimensions(), (640, 480));
        let coloured = img.pixels().filter(|p| {
            let [r, g, b] = p.0;
            r.max(g).max(b) - r.min(g).min(b) > 40
        });
        assert!(coloured.count() > 640 * 480 / 10, "the surface covers a good part of the picture");
    }

    #[test]
    fn svg_names_the_axes() {
        let l = landscape(12, |u, v| u * u + v * v);
        let figure = SurfaceFigure::new(&l).title("a bowl").z_label("mse");
        let svg = String::from_utf8(render(&figure, ImageFormat::Svg, (900, 700)).unwrap()).unwrap();
        for name in ["kappa", "beta", "mse", "a bowl"] {
            assert!(svg.contains(&format!(">{name}<")) || svg.contains(&format!(">\n{name}\n<")), "{name}");
        }
    }

    #[test]
    fn non_finite_values_leave_a_gap() {
        let l = landscape(41, |u, v| if u.abs() < 0.3 && v.abs() < 0.3 { f64::NAN } else { u * u + v * v });
        let figure = SurfaceFigure::new(&l).elevation(90.0).azimuth(-90.0);
        let scene = figure.scene(800, 700).unwrap();
        let png = render(&figure, ImageFormat::Png, (800, 700)).unwrap();
        let img = decode(&png);
        let grey = |x: f64, y: f64| {
            let [r, g, b] = img.get_pixel(x as u32, y as u32).0;
            r.max(g).max(b) - r.min(g).min(b) <= 8 && r.min(g).min(b) >= 190
        };
        let hole = scene.projection.project(0.1, -0.1, 0.5);
        assert!(grey(hole.x, hole.y), "the gap shows the floor");
        let surface = scene.projection.project(0.7, 0.7, 0.5);
        assert!(!grey(surface.x, surface.y), "outside the gap the surface is drawn");
    }

    #[test]
    fn bad_angles_are_refused() {
        let l = landscape(5, |u, v| u + v);
        for figure in [
            SurfaceFigure::new(&l).elevation(91.0),
            SurfaceFigure::new(&l).elevation(-1.0),
            SurfaceFigure::new(&l).elevation(f64::NAN),
            SurfaceFigure::new(&l).azimuth(361.0),
            SurfaceFigure::new(&l).azimuth(f64::INFINITY),
        ] {
            let err = render(&figure, ImageFormat::Png, (400, 300)).unwrap_err();
            assert!(matches!(err, Error::Invalid(ref m) if m.contains("degrees")), "{err}");
        }
        assert!(SurfaceFigure::new(&l).elevation(0.0).azimuth(-360.0).validate().is_ok());
        assert!(SurfaceFigure::new(&l).elevation(90.0).azimuth(360.0).validate().is_ok());
        assert!(matches!(SurfaceFigure::new(&l).z_clip(Some(-5.0)).validate(), Err(Error::Invalid(_))));
    }

    #[test]
    fn two_runs_merge_into_the_order_of_all_the_cells() {
        // Equal depths across the two runs and within each: the first run's come first.
        let l = landscape(21, |u, v| (u * u).round() + v.abs().round());
        let scene = SurfaceFigure::new(&l).scene(400, 300).unwrap();
        let mut cells: Vec<Cell> = scene.cells().copied().collect();
        cells.sort_by_key(|c| (c.j, c.i));
        let (first, second) = cells.split_at(150);
        let merged = merged_order(&painting_keys(first), &painting_keys(second), first.len() as u32);
        assert_eq!(merged, painting_order(&cells));
        assert!(merged.windows(2).any(|w| cells[w[0] as usize].depth == cells[w[1] as usize].depth));
    }

    #[test]
    fn ordered_bits_order_as_total_cmp() {
        let values = [f64::NEG_INFINITY, -1e300, -2.5, -1e-320, -0.0, 0.0, 1e-320, 3.0, 1e300, f64::INFINITY];
        for a in values {
            for b in values {
                assert_eq!(ordered_bits(a).cmp(&ordered_bits(b)), a.total_cmp(&b), "{a} against {b}");
            }
        }
    }

    #[test]
    fn nice_ticks_are_round() {
        assert_eq!(nice_ticks(-2.0, 2.0, 5), (vec![-2.0, -1.0, 0.0, 1.0, 2.0], 1.0));
        assert_eq!(nice_ticks(0.13, 230.0, 6).0, vec![50.0, 100.0, 150.0, 200.0]);
        assert_eq!(nice_ticks(-4.0, 4.0, 4), (vec![-2.5, 0.0, 2.5], 2.5));
        assert_eq!(nice_ticks(0.0, 1e-3, 3).0, vec![0.0, 5e-4, 1e-3]);
    }
}
