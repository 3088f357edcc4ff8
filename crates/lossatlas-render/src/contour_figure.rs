//! The contour map: iso-loss lines (or filled bands with a colour bar) of a [`Landscape`],
//! labelled with their levels, with the minimum marked and optimizer paths drawn on top.
//!
//! Level labels sit on their lines, in a gap cut out of the line (and on a white box when the map
//! is filled, so they stay readable on dark colours). Where they go is chosen greedily: for each
//! line, every position along it is scored by how straight the line is there, whether another line
//! or a path would run through the label, how close it is to labels already placed (spread out is
//! better) and to the frame; labels never overlap each other, the legend, the markers or the
//! frame. Long lines (more than the plot's half perimeter) get two labels, far apart.

use plotters::coord::ranged1d::Ranged;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use lossatlas::{bands, isolines, Landscape};

use crate::colorbar::{band_color, colorbar_pad, colorbar_width, draw_colorbar};
use crate::colormap::{viridis, ColorScale};
use crate::error::{Error, Result};
use crate::font::FAMILY;
use crate::geometry::{lerp, measure, round, segment_in_rect, Rect};
use crate::labels::{decimals_for_step, format_fixed, format_levels, format_sig, format_tick, Sizes};
use crate::output::Figure;
use crate::overlay::{Marker, MarkerShape, PathOverlay, SegmentOverlay};

/// How a map's plot box is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Aspect {
    /// Fill the space the figure has: the axes get different scales when their ranges differ.
    #[default]
    Fill,
    /// One unit of u is as long as one unit of v, so circles look round: a well-conditioned
    /// loss (a z-scored input, say) shows circular contours and an ill-conditioned one long,
    /// thin ellipses. The plot shrinks in one direction and is centred.
    Equal,
}

/// A contour map of a landscape: iso-lines at given levels, optionally filled bands, level labels,
/// the minimum, optimizer paths, marked points and labelled segments.
///
/// Built by value: `ContourFigure::new(&landscape, levels).filled(true).paths(paths)`. Render it
/// with [`crate::render`]; [`ContourFigure::DEFAULT_SIZE`] suits it.
#[derive(Debug, Clone)]
pub struct ContourFigure<'a> {
    landscape: &'a Landscape,
    levels: Vec<f64>,
    title: String,
    x_label: String,
    y_label: String,
    colorbar_label: String,
    filled: bool,
    log_color: Option<bool>,
    label_lines: bool,
    mark_minimum: bool,
    aspect: Aspect,
    paths: Vec<PathOverlay>,
    layout_paths: Option<Vec<PathOverlay>>,
    markers: Vec<Marker>,
    segments: Vec<SegmentOverlay>,
}

impl<'a> ContourFigure<'a> {
    /// The size (width, height in pixels) the figure is designed for; text and lines scale with
    /// the picture, so other sizes look the same, only larger or smaller.
    pub const DEFAULT_SIZE: (u32, u32) = (800, 700);

    /// A contour map of `landscape` with lines at `levels` (any order; non-finite values and
    /// repeats are dropped). With no levels, ten are chosen from the data
    /// ([`lossatlas::auto_levels`]).
    pub fn new(landscape: &'a Landscape, levels: Vec<f64>) -> ContourFigure<'a> {
        let mut levels: Vec<f64> = levels.into_iter().filter(|l| l.is_finite()).collect();
        levels.sort_by(f64::total_cmp);
        levels.dedup();
        if levels.is_empty() {
            levels = lossatlas::auto_levels(landscape, 10);
        }
        ContourFigure {
            landscape,
            levels,
            title: "Loss contours".into(),
            x_label: landscape.u().name().to_string(),
            y_label: landscape.v().name().to_string(),
            colorbar_label: "loss".into(),
            filled: false,
            log_color: None,
            label_lines: true,
            mark_minimum: true,
            aspect: Aspect::Fill,
            paths: Vec::new(),
            layout_paths: None,
            markers: Vec::new(),
            segments: Vec::new(),
        }
    }

    /// The title above the map. Default: "Loss contours".
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// The horizontal axis name. Default: the landscape's u axis name.
    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = label.into();
        self
    }

    /// The vertical axis name. Default: the landscape's v axis name.
    pub fn y_label(mut self, label: impl Into<String>) -> Self {
        self.y_label = label.into();
        self
    }

    /// The name written along the colour bar of a filled map. Default: "loss".
    pub fn colorbar_label(mut self, label: impl Into<String>) -> Self {
        self.colorbar_label = label.into();
        self
    }

    /// Fill the bands between levels with colour (viridis, dark for low loss) and add a colour bar
    /// at the right; the lines are then drawn thin and dark. Default: false (coloured lines only).
    pub fn filled(mut self, filled: bool) -> Self {
        self.filled = filled;
        self
    }

    /// Colour by the logarithm of the loss. Default: on when all levels are positive and the last
    /// is at least 20 times the first (loss levels usually grow geometrically), else off.
    pub fn log_color(mut self, log: bool) -> Self {
        self.log_color = Some(log);
        self
    }

    /// Write each line's level on it. Default: true.
    pub fn label_lines(mut self, label: bool) -> Self {
        self.label_lines = label;
        self
    }

    /// Mark the landscape's minimum and state its loss and position in the legend. Default: true.
    pub fn mark_minimum(mut self, mark: bool) -> Self {
        self.mark_minimum = mark;
        self
    }

    /// How the plot's width and height relate to the axis ranges. Default: [`Aspect::Fill`].
    pub fn aspect(mut self, aspect: Aspect) -> Self {
        self.aspect = aspect;
        self
    }

    /// Paths to draw over the map (e.g. optimizer trajectories), each listed in the legend. Parts
    /// outside the map's range are cut off at its frame.
    pub fn paths(mut self, paths: Vec<PathOverlay>) -> Self {
        self.paths = paths;
        self
    }

    /// Plans level labels and the legend around `paths` while drawing only those given to
    /// [`ContourFigure::paths`]: the frames of an animation pass the whole paths here and the
    /// paths so far to `paths`, so labels and legend stay put from frame to frame.
    pub fn plan_around(mut self, paths: Vec<PathOverlay>) -> Self {
        self.layout_paths = Some(paths);
        self
    }

    /// Points to mark (critical points, start points), each with its label beside it: above
    /// and to the right where that is free, else on whichever side keeps it clear of the other
    /// markers and labels and crosses the fewest lines. Markers outside the range are left out.
    pub fn markers(mut self, markers: Vec<Marker>) -> Self {
        self.markers = markers;
        self
    }

    /// Straight segments to draw over the map, dashed in their colour, each with its label near
    /// its `to` end (placed clear of the markers and their labels; level labels keep off both).
    /// Parts outside the map's range are cut off at its frame. They are not listed in the legend.
    ///
    /// Made for the principal axes of the Hessian's ellipse at a minimum: for a minimum with
    /// loss L* and Hessian eigen-pairs (lambda_i, e_i), the iso-line at level L is close to the
    /// ellipse with semi-axes sqrt(2 (L - L*) / lambda_i) along e_i; pass each axis as one
    /// segment from one end to the other, labelled e.g. `λ = 19.7`.
    pub fn segments(mut self, segments: Vec<SegmentOverlay>) -> Self {
        self.segments = segments;
        self
    }

    /// The levels, ascending.
    pub fn levels(&self) -> &[f64] {
        &self.levels
    }

    /// The landscape drawn.
    pub fn landscape(&self) -> &Landscape {
        self.landscape
    }

    /// Whether the bands are filled.
    pub fn is_filled(&self) -> bool {
        self.filled
    }

    /// The colour scale the map uses on its own (panels share one over all their maps).
    pub fn color_scale(&self) -> ColorScale {
        color_scale_for(&self.levels, self.landscape.finite_range().into_iter(), self.log_color)
    }

    pub(crate) fn log_color_setting(&self) -> Option<bool> {
        self.log_color
    }

    pub(crate) fn colorbar_label_text(&self) -> &str {
        &self.colorbar_label
    }
}

impl Figure for ContourFigure<'_> {
    fn supersampling(&self) -> u32 {
        2
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        root.fill(&WHITE)?;
        let (w, h) = root.dim_in_pixel();
        let sizes = Sizes::for_area(w, h);
        let style = PanelStyle {
            sizes,
            scale: self.color_scale(),
            line_levels: self.levels.clone(),
            own_colorbar: self.filled,
        };
        self.draw_panel(root, &style)?;
        Ok(())
    }
}

/// How a panel is drawn when it is one of several (or alone).
#[derive(Debug, Clone)]
pub(crate) struct PanelStyle {
    /// Text sizes.
    pub sizes: Sizes,
    /// The colour scale of the bands.
    pub scale: ColorScale,
    /// The levels whose span the line colours run over (all panels' levels).
    pub line_levels: Vec<f64>,
    /// Whether this panel draws its own colour bar (false when panels share one).
    pub own_colorbar: bool,
}

/// Where a panel's plot went, in the backend's pixels.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PanelGeometry {
    /// The plotting rectangle: left, top, right, bottom (exclusive).
    pub plot: (i32, i32, i32, i32),
}

/// The colour scale for levels over landscapes with the given finite value ranges: it runs from
/// one level step below the first level to one above the last (a step is the mean gap between
/// levels, on the log scale when log), cut to the data, so the lowest and highest bands get their
/// own colours and the colours are spent where the levels are.
pub(crate) fn color_scale_for(
    levels: &[f64],
    ranges: impl Iterator<Item = (f64, f64)>,
    log: Option<bool>,
) -> ColorScale {
    let (mut data_lo, mut data_hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (lo, hi) in ranges {
        data_lo = data_lo.min(lo);
        data_hi = data_hi.max(hi);
    }
    let (first, last) = match (levels.first(), levels.last()) {
        (Some(&a), Some(&b)) => (a, b),
        _ if data_lo.is_finite() => return ColorScale::new(data_lo, data_hi, log.unwrap_or(false)),
        _ => return ColorScale::new(0.0, 1.0, false),
    };
    let log = log.unwrap_or(first > 0.0 && last >= 20.0 * first) && first > 0.0;
    let fwd = |x: f64| if log { x.ln() } else { x };
    let back = |x: f64| if log { x.exp() } else { x };
    let (lo, hi) = if levels.len() >= 2 {
        let step = (fwd(last) - fwd(first)) / (levels.len() - 1) as f64;
        let lo = back(fwd(first) - step);
        let hi = back(fwd(last) + step);
        let lo = if data_lo.is_finite() && (!log || data_lo > 0.0) { lo.max(data_lo) } else { lo };
        let hi = if data_hi.is_finite() { hi.min(data_hi) } else { hi };
        (lo.min(first), hi.max(last))
    } else if data_lo.is_finite() && data_hi > data_lo && (!log || data_lo > 0.0) {
        (data_lo.min(first), data_hi.max(first))
    } else if log {
        (first / 2.0, first * 2.0)
    } else {
        (first - 0.5 * first.abs().max(1.0), first + 0.5 * first.abs().max(1.0))
    };
    ColorScale::new(lo, hi, log)
}

/// The colour of an unfilled line at `level`: viridis over the span of `levels` (in the scale's
/// space), stopping short of the pale yellow end that would vanish on white.
fn line_color(scale: &ColorScale, levels: &[f64], level: f64) -> RGBColor {
    let (Some(&first), Some(&last)) = (levels.first(), levels.last()) else {
        return RGBColor(40, 40, 40);
    };
    let (a, b) = (scale.position(first), scale.position(last));
    let t = if b > a { (scale.position(level) - a) / (b - a) } else { 0.0 };
    viridis(0.82 * t.clamp(0.0, 1.0))
}

/// Mixes `c` with black: `amount` 0 keeps it, 1 gives black.
pub(crate) fn darken(c: RGBColor, amount: f64) -> RGBColor {
    let f = |x: u8| (x as f64 * (1.0 - amount)).round() as u8;
    RGBColor(f(c.0), f(c.1), f(c.2))
}

const NAN_FILL: RGBColor = RGBColor(222, 222, 222);
const NAN_HATCH: RGBColor = RGBColor(170, 170, 170);
const MINIMUM_COLOR: RGBColor = RGBColor(215, 25, 28);
pub(crate) const FRAME_COLOR: RGBColor = RGBColor(40, 40, 40);

/// What a map's frame holds: a title above the plot, ticks and axis names on the left and below,
/// and a strip at the right kept free (for a colour bar or a legend).
#[derive(Debug, Clone, Copy)]
pub(crate) struct MapFrameSpec<'s> {
    /// What the map is called in the "too small" error, e.g. "contour panel".
    pub what: &'s str,
    pub title: &'s str,
    pub x_label: &'s str,
    pub y_label: &'s str,
    /// The horizontal range (min, max).
    pub u: (f64, f64),
    /// The vertical range (min, max).
    pub v: (f64, f64),
    pub aspect: Aspect,
    /// Width in pixels of the strip at the right.
    pub strip_w: u32,
    /// Width in pixels the caller would like free right of the plot (for a legend) when the
    /// aspect leaves spare width; the rest of the spare width is split evenly.
    pub right_reserve: f64,
}

/// A map's plotting area, once its frame is drawn.
pub(crate) struct MapFrame<DB: DrawingBackend> {
    /// The plotting area (pixel coordinates relative to its top-left corner).
    pub plot: DrawingArea<DB, Shift>,
    /// The map from the plane to `plot`'s pixels.
    pub frame: Frame,
    /// Where the plot went, in the backend's pixels.
    pub geometry: PanelGeometry,
    /// The gap to keep between the plot and the strip at its right, in pixels.
    pub gap: f64,
}

/// Draws the title, the axes with their ticks and names, and returns the plotting area. Ticks are
/// as many as fit comfortably, and the label areas are measured to be exactly wide enough.
pub(crate) fn draw_map_frame<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    spec: &MapFrameSpec,
    sz: Sizes,
) -> Result<MapFrame<DB>> {
    let (aw, ah) = area.dim_in_pixel();
    let title_h = if spec.title.is_empty() { sz.len(14.0) } else { 2.1 * sz.title };
    let bar_w = spec.strip_w;
    if aw < bar_w + 120 || ah < title_h as u32 + 100 {
        return Err(Error::Invalid(format!(
            "a {} of {aw}x{ah} pixels is too small to draw; use a larger picture",
            spec.what
        )));
    }
    let main = area.margin(0, 0, 0, bar_w);
    let ((u0, u1), (v0, v1)) = (spec.u, spec.v);

    let (mw, mh) = main.dim_in_pixel();
    let n_x = ((mw as f64 / (sz.tick * 6.0)) as usize).clamp(3, 10);
    let n_y = ((mh as f64 / (sz.tick * 3.5)) as usize).clamp(3, 10);
    let x_ticks = tick_points(u0, u1, n_x);
    let y_ticks = tick_points(v0, v1, n_y);
    let x_step = tick_step(&x_ticks);
    let y_step = tick_step(&y_ticks);
    let tick_font = (FAMILY, sz.tick).into_font();
    let widest_y =
        y_ticks.iter().map(|&v| measure(area, &format_tick(v, y_step), &tick_font).0).fold(0.0, f64::max);
    let tick_len = sz.len(5.0);
    let y_area =
        widest_y + tick_len + sz.len(8.0) + if spec.y_label.is_empty() { 0.0 } else { 1.4 * sz.axis };
    let x_area = sz.tick + tick_len + sz.len(8.0) + if spec.x_label.is_empty() { 0.0 } else { 1.4 * sz.axis };
    let last_x_label = x_ticks.last().map(|&v| measure(area, &format_tick(v, x_step), &tick_font).0);
    let gap = sz.len(8.0);
    let (mut top, mut left, mut bottom) = (title_h, sz.len(10.0), sz.len(8.0));
    let mut right = if bar_w > 0 { gap } else { (last_x_label.unwrap_or(0.0) / 2.0).max(sz.len(18.0)) };
    if spec.aspect == Aspect::Equal {
        // Shrink the plot in one direction until a unit of u is as long as a unit of v.
        let pw = mw as f64 - left - right - y_area;
        let ph = mh as f64 - top - bottom - x_area;
        let ratio = (u1 - u0) / (v1 - v0);
        if pw > 0.0 && ph > 0.0 {
            if pw / ph > ratio {
                let extra = pw - ph * ratio;
                let reserve = spec.right_reserve.min(extra);
                left += (extra - reserve) / 2.0;
                right += reserve + (extra - reserve) / 2.0;
            } else {
                let extra = ph - pw / ratio;
                top += extra / 2.0;
                bottom += extra / 2.0;
            }
        }
    }

    let mut chart = ChartBuilder::on(&main)
        .margin_top(top.round() as u32)
        .margin_left(left.round() as u32)
        .margin_bottom(bottom.round() as u32)
        .margin_right(right.round() as u32)
        .x_label_area_size(x_area.round() as u32)
        .y_label_area_size(y_area.round() as u32)
        .build_cartesian_2d(u0..u1, v0..v1)?;

    let fmt_x = |v: &f64| format_tick(*v, x_step);
    let fmt_y = |v: &f64| format_tick(*v, y_step);
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(n_x)
        .y_labels(n_y)
        .x_label_formatter(&fmt_x)
        .y_label_formatter(&fmt_y)
        .x_label_style(tick_font.clone().color(&BLACK))
        .y_label_style(tick_font.clone().color(&BLACK))
        .axis_desc_style((FAMILY, sz.axis).into_font().color(&BLACK))
        .x_desc(spec.x_label)
        .y_desc(spec.y_label)
        .axis_style(FRAME_COLOR.stroke_width(sz.px(1.0, 1)))
        .set_all_tick_mark_size(tick_len.round() as u32)
        .draw()?;

    let plot = chart.plotting_area().strip_coord_spec();
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let frame =
        Frame { w: (xr.end - xr.start - 1) as f64, h: (yr.end - yr.start - 1) as f64, u0, u1, v0, v1 };
    let geometry = PanelGeometry { plot: (xr.start, yr.start, xr.end, yr.end) };
    let (base_x, base_y) = area.get_base_pixel();
    if !spec.title.is_empty() {
        // Centred over the plot (not the panel), shrunk if it would not fit the panel.
        let mut font = (FAMILY, sz.title).into_font();
        let tw = measure(area, spec.title, &font).0;
        if tw > aw as f64 - 8.0 {
            font = (FAMILY, sz.title * (aw as f64 - 8.0) / tw).into_font();
        }
        let tw = measure(area, spec.title, &font).0;
        let cx = ((xr.start + xr.end) / 2 - base_x) as f64;
        let cx = cx.clamp(tw / 2.0 + 4.0, (aw as f64 - tw / 2.0 - 4.0).max(tw / 2.0 + 4.0));
        let cy = (yr.start - base_y) as f64 - title_h / 2.0;
        let st = font.color(&BLACK).pos(Pos::new(HPos::Center, VPos::Center));
        area.draw(&Text::new(spec.title.to_string(), round((cx, cy)), st))?;
    }
    Ok(MapFrame { plot, frame, geometry, gap })
}

impl ContourFigure<'_> {
    /// Draws the whole panel (title, axes, map, overlays, legend and, if `style.own_colorbar`, the
    /// colour bar) into `area`.
    pub(crate) fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        style: &PanelStyle,
    ) -> Result<PanelGeometry> {
        let sz = style.sizes;
        let landscape = self.landscape;
        let (u_axis, v_axis) = (landscape.u(), landscape.v());
        let (aw, ah) = area.dim_in_pixel();

        // The colour bar strip, when this panel has its own.
        let bar_w = if style.own_colorbar {
            colorbar_width(area, &style.scale, Some(&self.levels), &self.colorbar_label, sz.tick)
        } else {
            0
        };
        let minimum = if self.mark_minimum { refined_minimum(landscape) } else { None };
        let non_finite = landscape.non_finite_count();
        // The legend: minimum, paths, non-finite note.
        let mut entries: Vec<LegendEntry> = Vec::new();
        if let Some(m) = minimum {
            let du = decimals_for_step(u_axis.step()).min(6);
            let dv = decimals_for_step(v_axis.step()).min(6);
            entries.push(LegendEntry {
                icon: Icon::Minimum,
                text: format!(
                    "min L={} at ({}, {})",
                    format_sig(m.loss, 3),
                    format_fixed(m.u, du),
                    format_fixed(m.v, dv)
                ),
            });
        }
        for p in &self.paths {
            entries.push(LegendEntry { icon: Icon::Path(p.color), text: p.label.clone() });
        }
        if non_finite > 0 {
            let noun = if non_finite == 1 { "point" } else { "points" };
            entries
                .push(LegendEntry { icon: Icon::NonFinite, text: format!("{non_finite} {noun} not finite") });
        }
        let legend_layout = (!entries.is_empty()).then(|| legend_layout(area, &entries, sz));
        // Beside the plot there is no colour bar in the way, only white space (when the aspect
        // leaves some) the legend may use.
        let beside = !style.own_colorbar && legend_layout.is_some();
        let spec = MapFrameSpec {
            what: "contour panel",
            title: &self.title,
            x_label: &self.x_label,
            y_label: &self.y_label,
            u: (u_axis.min(), u_axis.max()),
            v: (v_axis.min(), v_axis.max()),
            aspect: self.aspect,
            strip_w: bar_w,
            right_reserve: if beside { legend_layout.map_or(0.0, |l| l.size.0 + sz.len(12.0)) } else { 0.0 },
        };
        let MapFrame { plot, frame, geometry, gap } = draw_map_frame(area, &spec, sz)?;
        let (base_x, base_y) = area.get_base_pixel();
        let (x_start, y_start, x_end, y_end) = geometry.plot;

        if self.filled {
            draw_bands(&plot, landscape, &self.levels, &style.scale, &frame)?;
        }

        // The parts of the map where the loss is not finite: grey, hatched (over the bands, which
        // may have painted over the gaps: see `draw_bands`).
        let gaps = if non_finite > 0 { draw_non_finite(&plot, landscape, &frame, sz)? } else { Vec::new() };

        // Lines in pixel space, each with an id (paths and segments get ids after the lines).
        let isos = isolines(landscape, &self.levels);
        let level_texts = format_levels(&self.levels);
        let mut lines: Vec<LineGeom> = Vec::new();
        for (k, iso) in isos.iter().enumerate() {
            for pl in iso.lines() {
                let mut pts: Vec<(f64, f64)> = pl.points().iter().map(|p| frame.px(p[0], p[1])).collect();
                if pl.is_closed() {
                    pts.push(pts[0]);
                }
                lines.push(LineGeom::new(k, pts, pl.is_closed()));
            }
        }
        let plot_rect = Rect { x0: 0.0, y0: 0.0, x1: frame.w, y1: frame.h };
        let to_px = |paths: &[PathOverlay]| -> Vec<Vec<Vec<(f64, f64)>>> {
            paths
                .iter()
                .map(|p| {
                    let pts: Vec<(f64, f64)> = p.points.iter().map(|q| frame.px(q[0], q[1])).collect();
                    keep_inside(&pts, &plot_rect.inflate(0.5))
                })
                .collect()
        };
        let paths_px = to_px(&self.paths);
        // What labels and the legend keep clear of: the paths drawn, or the whole paths of an
        // animation (see `plan_around`).
        let plan_px = match &self.layout_paths {
            Some(planned) => to_px(planned),
            None => paths_px.clone(),
        };
        // Segments, cut so that their full stroke width stays inside the frame.
        let segment_w = sz.px(2.4, 1);
        let segments_px: Vec<Option<PixelSegment>> = self
            .segments
            .iter()
            .map(|s| {
                let (a, b) = (frame.px(s.from[0], s.from[1]), frame.px(s.to[0], s.to[1]));
                let inner = plot_rect.inflate(-(segment_w as f64 / 2.0).max(0.5));
                if !(a.0.is_finite() && a.1.is_finite() && b.0.is_finite() && b.1.is_finite()) {
                    return None;
                }
                segment_in_rect(a, b, &inner).map(|(t0, t1)| (lerp(a, b, t0), lerp(a, b, t1)))
            })
            .collect();

        // Everything drawn over the map, in one index: each label asks it what would run through.
        let mut index = SegmentIndex::new(sz.len(24.0).max(8.0));
        for (id, l) in lines.iter().enumerate() {
            index.insert_line(id, &l.pts);
        }
        let mut next_id = lines.len();
        for pieces in &plan_px {
            for piece in pieces {
                index.insert_line(next_id, piece);
                next_id += 1;
            }
        }
        for (a, b) in segments_px.iter().flatten() {
            index.insert_line(next_id, &[*a, *b]);
            next_id += 1;
        }

        // Obstacles labels and the legend must keep clear of.
        let marker_r = sz.len(7.0);
        // Labels stay off the gaps too: a line ending at a gap is better labelled further along.
        let mut reserved: Vec<Rect> = gaps;
        let mut important: Vec<(f64, f64, f64)> = Vec::new(); // (x, y, weight) the legend avoids
        if let Some(m) = minimum {
            let (x, y) = frame.px(m.u, m.v);
            reserved.push(Rect::around((x, y), 2.0 * marker_r, 2.0 * marker_r));
            important.push((x, y, 1000.0));
        }
        for m in &self.markers {
            let (x, y) = frame.px(m.at[0], m.at[1]);
            if plot_rect.contains((x, y)) {
                // Just inside where `beside_point` puts labels.
                reserved.push(Rect::around((x, y), 1.25 * marker_r, 1.25 * marker_r));
                important.push((x, y, 500.0));
            }
        }
        for pieces in &plan_px {
            for piece in pieces {
                let stride = (piece.len() / 200).max(1);
                for p in piece.iter().step_by(stride) {
                    important.push((p.0, p.1, 5.0 * stride as f64));
                }
                if let (Some(a), Some(b)) = (piece.first(), piece.last()) {
                    important.push((a.0, a.1, 300.0));
                    important.push((b.0, b.1, 300.0));
                    reserved.push(Rect::around(*a, marker_r, marker_r));
                    reserved.push(Rect::around(*b, marker_r, marker_r));
                }
            }
        }
        for (a, b) in segments_px.iter().flatten() {
            for k in 0..=10 {
                let p = lerp(*a, *b, k as f64 / 10.0);
                important.push((p.0, p.1, 20.0));
            }
        }

        // Marker labels, then segment labels: each beside its point, where it is free and the
        // fewest lines run through it.
        let note_font = (FAMILY, sz.note).into_font();
        // The text box's padding, and a pixel more.
        let text_pad = text_box_pad(sz.note).0 + 1.0;
        let mut marker_texts: Vec<(Rect, String)> = Vec::new();
        for m in &self.markers {
            let p = frame.px(m.at[0], m.at[1]);
            if m.label.is_empty() || !plot_rect.contains(p) {
                continue;
            }
            let size = measure(area, &m.label, &note_font);
            let candidates = beside_point(p, size, marker_r);
            let r = place_text(&candidates, &plot_rect.inflate(-text_pad), &reserved, &index);
            reserved.push(r.inflate(text_pad));
            important.push(((r.x0 + r.x1) / 2.0, (r.y0 + r.y1) / 2.0, 200.0));
            marker_texts.push((r, m.label.clone()));
        }
        let mut segment_texts: Vec<(Rect, String, RGBColor)> = Vec::new();
        for (s, px) in self.segments.iter().zip(&segments_px) {
            let Some((a, b)) = *px else { continue };
            if s.label.is_empty() {
                continue;
            }
            let size = measure(area, &s.label, &note_font);
            let candidates = beside_end(a, b, size, sz.len(6.0));
            let r = place_text(&candidates, &plot_rect.inflate(-text_pad), &reserved, &index);
            reserved.push(r.inflate(text_pad));
            important.push(((r.x0 + r.x1) / 2.0, (r.y0 + r.y1) / 2.0, 200.0));
            segment_texts.push((r, s.label.clone(), darken(s.color, 0.25)));
        }

        let legend = if let Some(layout) = legend_layout {
            let density: Vec<(f64, f64)> =
                lines.iter().flat_map(|l| l.pts.iter().step_by(4).copied()).collect();
            let room =
                if beside { aw as f64 - bar_w as f64 - (x_end - base_x) as f64 - 2.0 * gap } else { 0.0 };
            let rect = place_legend(layout.size, &frame, &important, &density, room, sz);
            reserved.push(rect.inflate(sz.len(4.0)));
            Some((rect, layout))
        } else {
            None
        };

        // Level labels.
        let level_font = (FAMILY, sz.level).into_font();
        let placed = if self.label_lines && !self.levels.is_empty() {
            let text_sizes: Vec<(f64, f64)> =
                level_texts.iter().map(|t| measure(area, t, &level_font)).collect();
            place_labels(&lines, &text_sizes, &reserved, &index, &plot_rect, sz)
        } else {
            Vec::new()
        };

        // The lines, with gaps where their labels and the marker and segment labels go.
        let text_holes: Vec<Rect> = marker_texts
            .iter()
            .map(|t| t.0)
            .chain(segment_texts.iter().map(|t| t.0))
            .map(|r| r.inflate(text_pad + 1.0))
            .collect();
        let line_w = if self.filled { sz.px(1.0, 1) } else { sz.px(1.8, 1) };
        for (id, line) in lines.iter().enumerate() {
            let color = if self.filled {
                RGBColor(30, 30, 30).mix(0.75)
            } else {
                line_color(&style.scale, &style.line_levels, self.levels[line.level]).mix(1.0)
            };
            let mut holes: Vec<Rect> = placed.iter().filter(|p| p.line == id).map(|p| p.rect).collect();
            holes.extend(text_holes.iter().copied());
            for piece in cut_out(&line.pts, &holes) {
                let pts: Vec<(i32, i32)> = piece.iter().map(|&p| round(p)).collect();
                plot.draw(&PathElement::new(pts, color.stroke_width(line_w)))?;
            }
        }
        for p in &placed {
            let level = lines[p.line].level;
            let color = if self.filled {
                let r = p.rect.inflate(-sz.len(1.5));
                plot.draw(&Rectangle::new(
                    [round((r.x0, r.y0)), round((r.x1, r.y1))],
                    WHITE.mix(0.82).filled(),
                ))?;
                RGBColor(20, 20, 20)
            } else {
                darken(line_color(&style.scale, &style.line_levels, self.levels[level]), 0.3)
            };
            let st = level_font.clone().color(&color).pos(Pos::new(HPos::Center, VPos::Center));
            plot.draw(&Text::new(level_texts[level].clone(), round(p.center), st))?;
        }

        // Segments: dashed, on a white casing over filled bands.
        for (s, px) in self.segments.iter().zip(&segments_px) {
            let Some((a, b)) = *px else { continue };
            let (dash, space) = (sz.len(10.0).max(4.0), sz.len(5.0).max(2.0));
            if self.filled {
                draw_dashed(&plot, a, b, WHITE.mix(0.8).stroke_width(segment_w + 2), dash, space)?;
            }
            draw_dashed(&plot, a, b, s.color.stroke_width(segment_w), dash, space)?;
        }

        // Paths: a white casing under each line on filled maps, start circle, end cross.
        let path_w = sz.px(2.2, 1);
        for (path, pieces) in self.paths.iter().zip(&paths_px) {
            for piece in pieces {
                let pts: Vec<(i32, i32)> = piece.iter().map(|&p| round(p)).collect();
                if self.filled {
                    plot.draw(&PathElement::new(pts.clone(), WHITE.mix(0.7).stroke_width(path_w + 2)))?;
                }
                plot.draw(&PathElement::new(pts, path.color.stroke_width(path_w)))?;
            }
            let inside = |q: &[f64; 2]| {
                q[0].is_finite() && q[1].is_finite() && plot_rect.inflate(0.5).contains(frame.px(q[0], q[1]))
            };
            if let Some(first) = path.points.first().filter(|q| inside(q)) {
                draw_marker(
                    &plot,
                    frame.px(first[0], first[1]),
                    MarkerShape::Circle,
                    path.color,
                    0.75 * marker_r,
                    sz,
                )?;
            }
            if path.points.len() > 1 {
                if let Some(last) = path.points.last().filter(|q| inside(q)) {
                    draw_marker(
                        &plot,
                        frame.px(last[0], last[1]),
                        MarkerShape::Cross,
                        path.color,
                        0.85 * marker_r,
                        sz,
                    )?;
                }
            }
        }

        for m in &self.markers {
            let p = frame.px(m.at[0], m.at[1]);
            if plot_rect.contains(p) {
                draw_marker(&plot, p, m.shape, m.color, marker_r, sz)?;
            }
        }
        for (r, text) in &marker_texts {
            draw_text_box(&plot, r, text, &note_font, BLACK)?;
        }
        for (r, text, color) in &segment_texts {
            draw_text_box(&plot, r, text, &note_font, *color)?;
        }
        if let Some(m) = minimum {
            draw_marker(&plot, frame.px(m.u, m.v), MarkerShape::Star, MINIMUM_COLOR, marker_r, sz)?;
        }

        // The frame on top of everything inside it.
        plot.draw(&Rectangle::new(
            [(0, 0), (frame.w as i32, frame.h as i32)],
            FRAME_COLOR.stroke_width(sz.px(1.0, 1)),
        ))?;

        if let Some((rect, layout)) = legend {
            // On the panel, not the plot: the legend may sit right of the plot, where plotters
            // would clip it.
            let (dx, dy) = ((x_start - base_x) as f64, (y_start - base_y) as f64);
            let rect = Rect { x0: rect.x0 + dx, y0: rect.y0 + dy, x1: rect.x1 + dx, y1: rect.y1 + dy };
            draw_legend(area, rect, &layout, &entries, sz)?;
        }

        if style.own_colorbar {
            // Right of the plot (which is not at the panel's right edge when the aspect is equal).
            let pad = colorbar_pad(sz.tick) as i32;
            let top = (y_start - base_y - pad).max(0);
            let bottom = (y_end - base_y + pad).min(ah as i32);
            let left = (x_end - base_x + gap.round() as i32).min(aw as i32 - bar_w as i32);
            let strip = area.clone().shrink((left, top), (bar_w, (bottom - top).max(1) as u32));
            draw_colorbar(&strip, &style.scale, Some(&self.levels), &self.colorbar_label, sz.tick)?;
        }
        Ok(geometry)
    }
}

/// Where a text box of `size` (w, h) may go beside a marker of radius `r` at `p`, best first:
/// upper right, lower right, upper left, lower left, right, left, above, below.
pub(crate) fn beside_point(p: (f64, f64), size: (f64, f64), r: f64) -> Vec<Rect> {
    let (tw, th) = size;
    let d = 1.3 * r; // diagonal positions: clear of a star's tips
    let s = 1.9 * r; // straight positions: clear of a star's tips and its halo
    let at = |x0: f64, y0: f64| Rect { x0, y0, x1: x0 + tw, y1: y0 + th };
    vec![
        at(p.0 + d, p.1 - d - th),
        at(p.0 + d, p.1 + d),
        at(p.0 - d - tw, p.1 - d - th),
        at(p.0 - d - tw, p.1 + d),
        at(p.0 + s, p.1 - th / 2.0),
        at(p.0 - s - tw, p.1 - th / 2.0),
        at(p.0 - tw / 2.0, p.1 - s - th),
        at(p.0 - tw / 2.0, p.1 + s),
    ]
}

/// Where a text box of `size` may go near the end `b` of the segment from `a`, best first: on
/// the line's continuation past `b` and beside the line near `b` on either side (`gap` pixels
/// from the line), then the same a little further out each time.
pub(crate) fn beside_end(a: (f64, f64), b: (f64, f64), size: (f64, f64), gap: f64) -> Vec<Rect> {
    let (tw, th) = size;
    let len = dist(a, b);
    let d = if len > 0.0 { ((b.0 - a.0) / len, (b.1 - a.1) / len) } else { (1.0, 0.0) };
    let n = (-d.1, d.0);
    // Half the box's extent along a unit direction.
    let extent = |e: (f64, f64)| e.0.abs() * tw / 2.0 + e.1.abs() * th / 2.0;
    let across = gap + extent(n);
    let mut centres = Vec::new();
    // Past the end, and beside the end on either side, each a little further out each time.
    for k in 0..6 {
        let out = k as f64 * 1.5 * gap;
        let along = gap + extent(d) + out;
        centres.push((b.0 + along * d.0, b.1 + along * d.1));
        for side in [1.0, -1.0] {
            let back = extent(d) - out;
            centres.push((b.0 - back * d.0 + side * across * n.0, b.1 - back * d.1 + side * across * n.1));
        }
    }
    centres.into_iter().map(|c| Rect::around(c, tw / 2.0, th / 2.0)).collect()
}

/// The first of `candidates` (in order of preference) inside `plot` that overlaps none of
/// `blocked`, preferring those with fewer lines of `index` running through them; if none is free,
/// the first one moved inside `plot`.
pub(crate) fn place_text(candidates: &[Rect], plot: &Rect, blocked: &[Rect], index: &SegmentIndex) -> Rect {
    let mut best: Option<(f64, Rect)> = None;
    for (k, r) in candidates.iter().enumerate() {
        if !r.inside(plot) || blocked.iter().any(|b| b.intersects(r)) {
            continue;
        }
        let score = 4.0 * index.crossings(&r.inflate(1.0), usize::MAX) as f64 + k as f64;
        if best.as_ref().is_none_or(|(s, _)| score < *s) {
            best = Some((score, *r));
        }
    }
    best.map(|(_, r)| r).unwrap_or_else(|| {
        let r = candidates.first().copied().unwrap_or(Rect { x0: 0.0, y0: 0.0, x1: 0.0, y1: 0.0 });
        let dx = (plot.x0 - r.x0).max(0.0) + (plot.x1 - r.x1).min(0.0);
        let dy = (plot.y0 - r.y0).max(0.0) + (plot.y1 - r.y1).min(0.0);
        Rect { x0: r.x0 + dx, y0: r.y0 + dy, x1: r.x1 + dx, y1: r.y1 + dy }
    })
}

/// Writes `text` with its top-left corner at `r`'s on a translucent white box a little larger
/// (by [`text_box_pad`]).
pub(crate) fn draw_text_box<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    r: &Rect,
    text: &str,
    font: &FontDesc,
    color: RGBColor,
) -> Result<()> {
    let pad = text_box_pad(font.get_size());
    area.draw(&Rectangle::new(
        [round((r.x0 - pad.0, r.y0 - pad.1)), round((r.x1 + pad.0, r.y1 + pad.1))],
        WHITE.mix(0.8).filled(),
    ))?;
    let st = font.clone().color(&color).pos(Pos::new(HPos::Left, VPos::Top));
    area.draw(&Text::new(text.to_string(), round((r.x0, r.y0)), st))?;
    Ok(())
}

/// How much larger (x, y) than its text a text box is drawn at a font size of `font_px`.
pub(crate) fn text_box_pad(font_px: f64) -> (f64, f64) {
    (0.2 * font_px, 0.12 * font_px)
}

/// Draws the straight line from `a` to `b` dashed, with whole dashes at both ends (the dashes are
/// stretched a little so they fit exactly) so the ends are where the line ends.
pub(crate) fn draw_dashed<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    a: (f64, f64),
    b: (f64, f64),
    style: ShapeStyle,
    dash: f64,
    space: f64,
) -> Result<()> {
    let len = dist(a, b);
    if len <= 2.0 * dash + space {
        area.draw(&PathElement::new(vec![round(a), round(b)], style))?;
        return Ok(());
    }
    let n = ((len + space) / (dash + space)).round().max(2.0) as usize;
    let d = (len - (n - 1) as f64 * space) / n as f64;
    for k in 0..n {
        let s = k as f64 * (d + space);
        let (p, q) = (lerp(a, b, s / len), lerp(a, b, (s + d) / len));
        area.draw(&PathElement::new(vec![round(p), round(q)], style))?;
    }
    Ok(())
}

/// A straight line between two pixel points.
type PixelSegment = ((f64, f64), (f64, f64));

/// Maps plane coordinates to pixels relative to the plotting area's top-left corner, exactly as
/// plotters maps them (the last pixel column is the range's end), but in floating point.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame {
    /// The last pixel column (the plot is `w + 1` pixels wide).
    pub w: f64,
    /// The last pixel row.
    pub h: f64,
    pub u0: f64,
    pub u1: f64,
    pub v0: f64,
    pub v1: f64,
}

impl Frame {
    pub(crate) fn px(self, u: f64, v: f64) -> (f64, f64) {
        ((u - self.u0) / (self.u1 - self.u0) * self.w, (1.0 - (v - self.v0) / (self.v1 - self.v0)) * self.h)
    }

    fn px_i(self, u: f64, v: f64) -> (i32, i32) {
        round(self.px(u, v))
    }
}

/// Fills the bands between levels.
///
/// The pieces [`lossatlas::bands`] returns (cells, rectangles, clipped triangles: thousands) are
/// first merged into the rings that bound each band ([`band_rings`]); the outer rings are then
/// painted largest first, each over the ones it lies in. A band's holes are not cut out: whatever
/// fills a hole has a smaller ring and is painted over it later, so where two colours meet the
/// later one is anti-aliased against the right neighbour rather than the white background, and
/// there are no hairline seams (each ring is also outlined in its own colour, which covers the
/// few places where two rings only touch). This keeps a 200 x 200 SVG around a hundred
/// kilobytes. Should a band not merge cleanly, the pieces are drawn as they are, outlined.
fn draw_bands<DB: DrawingBackend>(
    plot: &DrawingArea<DB, Shift>,
    landscape: &Landscape,
    levels: &[f64],
    scale: &ColorScale,
    frame: &Frame,
) -> Result<()> {
    let bands = bands(landscape, levels);
    let (du, dv) = (landscape.u().step(), landscape.v().step());
    let merged: Option<Vec<(f64, RGBColor, Vec<lossatlas::Point>)>> = bands
        .iter()
        .map(|band| {
            let color = band_color(scale, band.lower(), band.upper());
            band_rings(band.polygons(), du, dv).map(|rings| {
                rings
                    .into_iter()
                    .filter(|r| r.0 > 0.0)
                    .map(|(area, ring)| (area, color, ring))
                    .collect::<Vec<_>>()
            })
        })
        .collect::<Option<Vec<_>>>()
        .map(|per_band| per_band.into_iter().flatten().collect());
    if let Some(mut rings) = merged {
        rings.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (_, color, ring) in rings {
            let pts = simplify_ring(ring.iter().map(|p| frame.px_i(p[0], p[1])).collect());
            if pts.len() < 3 {
                continue;
            }
            plot.draw(&Polygon::new(pts.clone(), color.filled()))?;
            let mut outline = pts.clone();
            outline.push(pts[0]);
            plot.draw(&PathElement::new(outline, color.stroke_width(1)))?;
        }
        return Ok(());
    }
    for band in &bands {
        let color = band_color(scale, band.lower(), band.upper());
        for poly in band.polygons() {
            let pts = simplify_ring(poly.iter().map(|p| frame.px_i(p[0], p[1])).collect());
            if pts.len() < 3 {
                continue;
            }
            if let Some([a, b]) = axis_aligned_rect(&pts) {
                plot.draw(&Rectangle::new([a, b], color.filled()))?;
                plot.draw(&Rectangle::new([a, b], color.stroke_width(1)))?;
                continue;
            }
            plot.draw(&Polygon::new(pts.clone(), color.filled()))?;
            let mut outline = pts.clone();
            outline.push(pts[0]);
            plot.draw(&PathElement::new(outline, color.stroke_width(1)))?;
        }
    }
    Ok(())
}

/// A vertex key: coordinates in units of a ten-millionth of a grid step, so the same crossing
/// computed from either side of a cell edge (equal up to rounding) gets the same key.
type Key = (i64, i64);

/// The rings bounding the union of a band's pieces, each with its signed area (positive for an
/// outer boundary, negative for a hole), or `None` when the pieces do not fit together (which
/// would be a bug in the pieces, or a rounding coincidence; the caller then draws the pieces).
///
/// Pieces are oriented counter-clockwise; an edge two pieces share appears once in each
/// direction and cancels, leaving the boundary. Runs of whole cells meet their neighbours in the
/// next row with T-junctions, so edges along a grid line are first split at every vertex on it.
fn band_rings(
    polygons: &[Vec<lossatlas::Point>],
    du: f64,
    dv: f64,
) -> Option<Vec<(f64, Vec<lossatlas::Point>)>> {
    use std::collections::{BTreeMap, HashMap};
    let (qu, qv) = (du * 1e-7, dv * 1e-7);
    let key = |p: &lossatlas::Point| -> Key { ((p[0] / qu).round() as i64, (p[1] / qv).round() as i64) };
    let mut points: HashMap<Key, lossatlas::Point> = HashMap::new();
    let mut edges: Vec<(Key, Key)> = Vec::new();
    for poly in polygons {
        let mut keys: Vec<Key> = Vec::with_capacity(poly.len());
        for p in poly {
            let k = key(p);
            points.entry(k).or_insert(*p);
            if keys.last() != Some(&k) {
                keys.push(k);
            }
        }
        while keys.len() > 1 && keys.first() == keys.last() {
            keys.pop();
        }
        if keys.len() < 3 {
            continue;
        }
        let area = ring_area(&keys.iter().map(|k| points[k]).collect::<Vec<_>>());
        if area == 0.0 {
            continue;
        }
        if area < 0.0 {
            keys.reverse();
        }
        for k in 0..keys.len() {
            edges.push((keys[k], keys[(k + 1) % keys.len()]));
        }
    }

    // Split edges along horizontal and vertical lines at every vertex of another edge on them.
    let mut rows: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut cols: HashMap<i64, Vec<i64>> = HashMap::new();
    for &(a, b) in &edges {
        if a.1 == b.1 {
            rows.entry(a.1).or_default().extend([a.0, b.0]);
        }
        if a.0 == b.0 {
            cols.entry(a.0).or_default().extend([a.1, b.1]);
        }
    }
    for list in rows.values_mut().chain(cols.values_mut()) {
        list.sort_unstable();
        list.dedup();
    }
    let mut split: Vec<(Key, Key)> = Vec::with_capacity(edges.len());
    for (a, b) in edges {
        // `horizontal`: the edge runs along a row (split by x), else along a column (by y).
        let (line, horizontal) = if a.1 == b.1 {
            (rows.get(&a.1), true)
        } else if a.0 == b.0 {
            (cols.get(&a.0), false)
        } else {
            (None, true)
        };
        let Some(line) = line else {
            split.push((a, b));
            continue;
        };
        let (from, to) = if horizontal { (a.0, b.0) } else { (a.1, b.1) };
        let (lo, hi) = (from.min(to), from.max(to));
        let start = line.partition_point(|&x| x <= lo);
        let end = line.partition_point(|&x| x < hi);
        let mut inner: Vec<i64> = line[start..end].to_vec();
        if from > to {
            inner.reverse();
        }
        let mut prev = a;
        for x in inner {
            let k = if horizontal { (x, a.1) } else { (a.0, x) };
            split.push((prev, k));
            prev = k;
        }
        split.push((prev, b));
    }

    // Cancel shared edges.
    let mut count: HashMap<(Key, Key), i32> = HashMap::new();
    for (a, b) in split {
        if a == b {
            continue;
        }
        match count.get_mut(&(b, a)) {
            Some(c) if *c > 0 => *c -= 1,
            _ => *count.entry((a, b)).or_default() += 1,
        }
    }
    let mut out: BTreeMap<Key, Vec<Key>> = BTreeMap::new();
    for ((a, b), c) in count {
        for _ in 0..c {
            out.entry(a).or_default().push(b);
        }
    }
    for targets in out.values_mut() {
        targets.sort_unstable();
    }

    // Walk the boundary into rings (BTreeMap order keeps the output deterministic).
    let mut rings = Vec::new();
    let starts: Vec<Key> = out.keys().copied().collect();
    for start in starts {
        while let Some(next) = out.get_mut(&start).and_then(|t| t.pop()) {
            let mut ring = vec![points[&start]];
            let mut current = next;
            while current != start {
                ring.push(*points.get(&current)?);
                current = out.get_mut(&current).and_then(|t| t.pop())?;
            }
            let area = ring_area(&ring);
            rings.push((area, ring));
        }
    }
    Some(rings)
}

/// The signed area of a ring (shoelace formula): positive when counter-clockwise in plane
/// coordinates (v up).
fn ring_area(ring: &[lossatlas::Point]) -> f64 {
    let n = ring.len();
    (0..n).map(|k| ring[k][0] * ring[(k + 1) % n][1] - ring[(k + 1) % n][0] * ring[k][1]).sum::<f64>() / 2.0
}

/// Drops repeated and collinear pixel vertices of a closed ring (most vertices of a merged band
/// lie on straight grid lines, and many crossings round to the same pixel).
fn simplify_ring(mut pts: Vec<(i32, i32)>) -> Vec<(i32, i32)> {
    pts.dedup();
    while pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    let mut changed = true;
    while changed && pts.len() >= 3 {
        changed = false;
        let mut kept: Vec<(i32, i32)> = Vec::with_capacity(pts.len());
        let n = pts.len();
        for k in 0..n {
            let prev = kept.last().copied().unwrap_or(pts[(k + n - 1) % n]);
            let (cur, next) = (pts[k], pts[(k + 1) % n]);
            let cross = (cur.0 - prev.0) as i64 * (next.1 - cur.1) as i64
                - (cur.1 - prev.1) as i64 * (next.0 - cur.0) as i64;
            let dot = (cur.0 - prev.0) as i64 * (next.0 - cur.0) as i64
                + (cur.1 - prev.1) as i64 * (next.1 - cur.1) as i64;
            if cur == prev || (cross == 0 && dot >= 0) {
                changed = true;
                continue;
            }
            kept.push(cur);
        }
        pts = kept;
    }
    pts
}

/// The corners (top-left, bottom-right) of a polygon that is an axis-aligned rectangle.
fn axis_aligned_rect(poly: &[(i32, i32)]) -> Option<[(i32, i32); 2]> {
    if poly.len() != 4 {
        return None;
    }
    let xs = poly.iter().map(|p| p.0);
    let ys = poly.iter().map(|p| p.1);
    let (x0, x1) = (xs.clone().min()?, xs.max()?);
    let (y0, y1) = (ys.clone().min()?, ys.max()?);
    let on_corners = poly.iter().all(|&(x, y)| (x == x0 || x == x1) && (y == y0 || y == y1));
    let distinct = poly.windows(2).all(|w| w[0] != w[1]) && poly[0] != poly[3];
    (on_corners && distinct && x0 < x1 && y0 < y1).then_some([(x0, y0), (x1, y1)])
}

/// Splits a polyline into the pieces that remain after removing the parts inside `holes`.
pub(crate) fn cut_out(points: &[(f64, f64)], holes: &[Rect]) -> Vec<Vec<(f64, f64)>> {
    keep_intervals(points, |p, q| {
        let mut removed: Vec<(f64, f64)> = holes.iter().filter_map(|r| segment_in_rect(p, q, r)).collect();
        removed.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut kept = Vec::new();
        let mut t = 0.0;
        for (a, b) in removed {
            if a > t {
                kept.push((t, a));
            }
            t = t.max(b);
        }
        if t < 1.0 {
            kept.push((t, 1.0));
        }
        kept
    })
}

/// Splits a polyline into the pieces inside `r`; vertices that are not finite break the line.
pub(crate) fn keep_inside(points: &[(f64, f64)], r: &Rect) -> Vec<Vec<(f64, f64)>> {
    let mut pieces = Vec::new();
    for run in points.split(|p| !(p.0.is_finite() && p.1.is_finite())) {
        if run.len() == 1 && r.contains(run[0]) {
            pieces.push(run.to_vec());
            continue;
        }
        pieces.extend(keep_intervals(run, |p, q| segment_in_rect(p, q, r).into_iter().collect()));
    }
    pieces
}

/// Walks a polyline segment by segment, keeping the parameter intervals `keep(p, q)` returns
/// (ascending, within [0, 1]) and joining kept parts that meet into one piece.
fn keep_intervals(
    points: &[(f64, f64)],
    keep: impl Fn((f64, f64), (f64, f64)) -> Vec<(f64, f64)>,
) -> Vec<Vec<(f64, f64)>> {
    let mut pieces: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    let flush = |current: &mut Vec<(f64, f64)>, pieces: &mut Vec<Vec<(f64, f64)>>| {
        if current.len() >= 2 {
            pieces.push(std::mem::take(current));
        }
        current.clear();
    };
    for w in points.windows(2) {
        let (p, q) = (w[0], w[1]);
        let intervals = keep(p, q);
        // The piece runs on only if this segment is kept from its start (the last one was kept to
        // its end, or the piece would have been closed).
        if !intervals.first().is_some_and(|&(a, _)| a <= 0.0) {
            flush(&mut current, &mut pieces);
        }
        for (a, b) in intervals {
            if b < a {
                continue;
            }
            if current.is_empty() || a > 0.0 {
                flush(&mut current, &mut pieces);
                current.push(lerp(p, q, a));
            }
            current.push(lerp(p, q, b));
            if b < 1.0 {
                flush(&mut current, &mut pieces);
            }
        }
    }
    flush(&mut current, &mut pieces);
    pieces
}

/// One iso-line piece in pixels with its cumulative arc length.
#[derive(Debug, Clone)]
pub(crate) struct LineGeom {
    pub level: usize,
    pub pts: Vec<(f64, f64)>,
    closed: bool,
    cum: Vec<f64>,
}

impl LineGeom {
    pub(crate) fn new(level: usize, pts: Vec<(f64, f64)>, closed: bool) -> LineGeom {
        let mut cum = Vec::with_capacity(pts.len());
        let mut s = 0.0;
        for (k, p) in pts.iter().enumerate() {
            if k > 0 {
                s += dist(pts[k - 1], *p);
            }
            cum.push(s);
        }
        LineGeom { level, pts, closed, cum }
    }

    fn length(&self) -> f64 {
        self.cum.last().copied().unwrap_or(0.0)
    }

    /// The point at arc length `s` (wrapped around on a loop, clamped on an open line).
    fn at(&self, s: f64) -> (f64, f64) {
        let len = self.length();
        let s = if self.closed && len > 0.0 { s.rem_euclid(len) } else { s.clamp(0.0, len) };
        let k = self.cum.partition_point(|&c| c < s).clamp(1, self.pts.len() - 1);
        let (a, b) = (self.cum[k - 1], self.cum[k]);
        let t = if b > a { (s - a) / (b - a) } else { 0.0 };
        lerp(self.pts[k - 1], self.pts[k], t)
    }
}

pub(crate) fn dist(a: (f64, f64), b: (f64, f64)) -> f64 {
    (a.0 - b.0).hypot(a.1 - b.1)
}

/// A segment of line `id` from one pixel point to another.
type Segment = (usize, (f64, f64), (f64, f64));

/// Segments of all lines and paths in pixel buckets, to ask which ones run through a rectangle.
#[derive(Debug)]
pub(crate) struct SegmentIndex {
    cell: f64,
    buckets: std::collections::HashMap<(i32, i32), Vec<Segment>>,
}

impl SegmentIndex {
    pub(crate) fn new(cell: f64) -> SegmentIndex {
        SegmentIndex { cell, buckets: Default::default() }
    }

    pub(crate) fn insert_line(&mut self, id: usize, pts: &[(f64, f64)]) {
        for w in pts.windows(2) {
            let (p, q) = (w[0], w[1]);
            let (bx0, bx1) =
                ((p.0.min(q.0) / self.cell).floor() as i32, (p.0.max(q.0) / self.cell).floor() as i32);
            let (by0, by1) =
                ((p.1.min(q.1) / self.cell).floor() as i32, (p.1.max(q.1) / self.cell).floor() as i32);
            for bx in bx0..=bx1 {
                for by in by0..=by1 {
                    self.buckets.entry((bx, by)).or_default().push((id, p, q));
                }
            }
        }
    }

    /// How many segments of lines other than `own` cross `r`.
    pub(crate) fn crossings(&self, r: &Rect, own: usize) -> usize {
        let (bx0, bx1) = ((r.x0 / self.cell).floor() as i32, (r.x1 / self.cell).floor() as i32);
        let (by0, by1) = ((r.y0 / self.cell).floor() as i32, (r.y1 / self.cell).floor() as i32);
        let mut seen: Vec<((f64, f64), (f64, f64))> = Vec::new();
        for bx in bx0..=bx1 {
            for by in by0..=by1 {
                let Some(bucket) = self.buckets.get(&(bx, by)) else { continue };
                for &(id, p, q) in bucket {
                    if id != own && segment_in_rect(p, q, r).is_some() && !seen.contains(&(p, q)) {
                        seen.push((p, q));
                    }
                }
            }
        }
        seen.len()
    }
}

/// A level label placed on a line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Placed {
    /// Index into the lines.
    pub line: usize,
    pub center: (f64, f64),
    /// The gap cut into the line (the text box plus padding).
    pub rect: Rect,
}

/// Chooses label positions; see the module docs for the rules.
pub(crate) fn place_labels(
    lines: &[LineGeom],
    text_sizes: &[(f64, f64)],
    reserved: &[Rect],
    index: &SegmentIndex,
    plot: &Rect,
    sz: Sizes,
) -> Vec<Placed> {
    let mut placed: Vec<Placed> = Vec::new();
    let n_levels = text_sizes.len();
    let diag = (plot.x1 - plot.x0).hypot(plot.y1 - plot.y0);
    let half_perimeter = (plot.x1 - plot.x0) + (plot.y1 - plot.y0);
    let inner = plot.inflate(-sz.len(3.0));

    // The longest piece of each level first (every level gets a label where at all possible),
    // the levels with the shortest such piece first, since they have the fewest places.
    let mut longest: Vec<Option<usize>> = vec![None; n_levels];
    for (id, l) in lines.iter().enumerate() {
        let best = &mut longest[l.level];
        if best.is_none_or(|b| lines[b].length() < l.length()) {
            *best = Some(id);
        }
    }
    let mut first_pass: Vec<usize> = longest.iter().flatten().copied().collect();
    first_pass.sort_by(|&a, &b| lines[a].length().total_cmp(&lines[b].length()));
    let mut others: Vec<usize> = (0..lines.len()).filter(|id| !first_pass.contains(id)).collect();
    others.sort_by(|&a, &b| lines[b].length().total_cmp(&lines[a].length()));

    let try_place = |id: usize, placed: &[Placed], strict: bool, min_len_factor: f64| -> Option<Placed> {
        let line = &lines[id];
        let (tw, th) = text_sizes[line.level];
        let pad = (0.3 * th).max(2.0);
        let (hw, hh) = (tw / 2.0 + pad, th / 2.0 + pad * 0.6);
        let len = line.length();
        if len < min_len_factor * (tw + th) {
            return None;
        }
        // Labels of this line already placed: keep the next one far along the line.
        let own: Vec<(f64, f64)> = placed.iter().filter(|p| p.line == id).map(|p| p.center).collect();
        let step = sz.len(4.0).max(2.0);
        let reach = hw.max(hh) + sz.len(4.0);
        let (s_lo, s_hi) = if line.closed { (0.0, len) } else { (reach, len - reach) };
        let mut best: Option<(f64, Placed)> = None;
        let mut s = s_lo;
        while s <= s_hi {
            let c = line.at(s);
            s += step;
            let rect = Rect::around(c, hw, hh);
            if !rect.inside(&inner) {
                continue;
            }
            let keep_off = sz.len(6.0);
            if placed.iter().any(|p| p.rect.inflate(keep_off).intersects(&rect)) {
                continue;
            }
            if reserved.iter().any(|r| r.intersects(&rect)) {
                continue;
            }
            if own.iter().any(|&o| dist(o, c) < 0.25 * len.min(diag)) {
                continue;
            }
            let crossings = index.crossings(&rect.inflate(1.0), id);
            if strict && crossings > 0 {
                continue;
            }
            // Straightness over the label's reach on both sides.
            let (a, b) = (line.at(s - step - reach), line.at(s - step + reach));
            let (d1, d2) = ((c.0 - a.0, c.1 - a.1), (b.0 - c.0, b.1 - c.1));
            let turn = {
                let cross = d1.0 * d2.1 - d1.1 * d2.0;
                let dot = d1.0 * d2.0 + d1.1 * d2.1;
                cross.atan2(dot).abs()
            };
            // Spread: distance to the nearest label of any line.
            let nearest = placed.iter().map(|p| dist(p.center, c)).fold(f64::INFINITY, f64::min);
            let spread = (nearest / (0.35 * diag)).min(1.0);
            // The frame: keep a label's width away from it where possible.
            let edge = [rect.x0 - plot.x0, plot.x1 - rect.x1, rect.y0 - plot.y0, plot.y1 - rect.y1]
                .into_iter()
                .fold(f64::INFINITY, f64::min);
            let edge_pen = (1.0 - edge / (1.5 * th + tw)).max(0.0);
            let score = 100.0 * crossings as f64 + 6.0 * turn + 3.0 * edge_pen - 4.0 * spread;
            if best.as_ref().is_none_or(|(b, _)| score < *b) {
                best = Some((score, Placed { line: id, center: c, rect }));
            }
        }
        best.map(|(_, p)| p)
    };

    for &id in &first_pass {
        if let Some(p) = try_place(id, &placed, true, 2.0) {
            placed.push(p);
        }
    }
    for &id in &others {
        if let Some(p) = try_place(id, &placed, true, 2.5) {
            placed.push(p);
        }
    }
    for &id in first_pass.iter().chain(&others) {
        if lines[id].length() > half_perimeter {
            if let Some(p) = try_place(id, &placed, true, 2.5) {
                placed.push(p);
            }
        }
    }
    // Levels still without a label: allow a line to run through it rather than lose it.
    for &id in &first_pass {
        let level = lines[id].level;
        if !placed.iter().any(|p| lines[p.line].level == level) {
            if let Some(p) = try_place(id, &placed, false, 1.2) {
                placed.push(p);
            }
        }
    }
    placed
}

/// The smallest finite value and where it is, refined below the grid spacing by the quadratic
/// through the 3 x 3 neighbourhood of the smallest grid value (exact for a quadratic loss; kept
/// on the grid point when the neighbourhood is not convex, touches the border or holds a gap).
fn refined_minimum(landscape: &Landscape) -> Option<lossatlas::GridMinimum> {
    let m = landscape.minimum()?;
    let (nu, nv) = (landscape.u().n(), landscape.v().n());
    if m.i == 0 || m.j == 0 || m.i + 1 >= nu || m.j + 1 >= nv {
        return Some(m);
    }
    let z = |di: i32, dj: i32| landscape.at((m.i as i32 + di) as usize, (m.j as i32 + dj) as usize);
    let f0 = z(0, 0);
    let gx = (z(1, 0) - z(-1, 0)) / 2.0;
    let gy = (z(0, 1) - z(0, -1)) / 2.0;
    let hxx = z(1, 0) - 2.0 * f0 + z(-1, 0);
    let hyy = z(0, 1) - 2.0 * f0 + z(0, -1);
    let hxy = (z(1, 1) - z(1, -1) - z(-1, 1) + z(-1, -1)) / 4.0;
    let det = hxx * hyy - hxy * hxy;
    if !(det.is_finite() && hxx > 0.0 && det > 0.0 && gx.is_finite() && gy.is_finite()) {
        return Some(m);
    }
    let dx = -(hyy * gx - hxy * gy) / det;
    let dy = -(hxx * gy - hxy * gx) / det;
    if dx.abs() > 1.0 || dy.abs() > 1.0 {
        return Some(m);
    }
    let loss = f0 + 0.5 * (gx * dx + gy * dy);
    Some(lossatlas::GridMinimum {
        u: m.u + dx * landscape.u().step(),
        v: m.v + dy * landscape.v().step(),
        loss: loss.min(f0),
        ..m
    })
}

/// Cells with a non-finite corner, merged into rectangles (runs along rows, then runs of equal
/// rows), filled grey and hatched. Returns the rectangles in pixels.
fn draw_non_finite<DB: DrawingBackend>(
    plot: &DrawingArea<DB, Shift>,
    landscape: &Landscape,
    frame: &Frame,
    sz: Sizes,
) -> Result<Vec<Rect>> {
    let (nu, nv) = (landscape.u().n(), landscape.v().n());
    let bad = |i: usize, j: usize| {
        !(landscape.at(i, j).is_finite()
            && landscape.at(i + 1, j).is_finite()
            && landscape.at(i, j + 1).is_finite()
            && landscape.at(i + 1, j + 1).is_finite())
    };
    // (i0, i1, j0, j1) in cell indices, inclusive-exclusive.
    let mut open: Vec<(usize, usize, usize, usize)> = Vec::new();
    let mut rects: Vec<(usize, usize, usize, usize)> = Vec::new();
    for j in 0..nv - 1 {
        let mut runs = Vec::new();
        let mut i = 0;
        while i < nu - 1 {
            if bad(i, j) {
                let start = i;
                while i < nu - 1 && bad(i, j) {
                    i += 1;
                }
                runs.push((start, i));
            } else {
                i += 1;
            }
        }
        let mut next_open = Vec::new();
        for r in open.drain(..) {
            if runs.contains(&(r.0, r.1)) {
                next_open.push((r.0, r.1, r.2, j + 1));
            } else {
                rects.push(r);
            }
        }
        for run in runs {
            if !next_open.iter().any(|r: &(usize, usize, usize, usize)| (r.0, r.1) == run) {
                next_open.push((run.0, run.1, j, j + 1));
            }
        }
        open = next_open;
    }
    rects.extend(open);
    let spacing = sz.len(9.0).max(4.0);
    let (u, v) = (landscape.u(), landscape.v());
    let mut out = Vec::with_capacity(rects.len());
    for (i0, i1, j0, j1) in rects {
        let a = frame.px(u.value(i0), v.value(j1));
        let b = frame.px(u.value(i1), v.value(j0));
        let r = Rect { x0: a.0, y0: a.1, x1: b.0, y1: b.1 };
        plot.draw(&Rectangle::new([round((r.x0, r.y0)), round((r.x1, r.y1))], NAN_FILL.filled()))?;
        // Hatching: lines x + y = c, with a phase shared by all rectangles so it runs on across them.
        let mut c = ((r.x0 + r.y0) / spacing).ceil() * spacing;
        while c <= r.x1 + r.y1 {
            let (p, q) = ((c - r.y1 - 10.0, r.y1 + 10.0), (c - r.y0 + 10.0, r.y0 - 10.0));
            if let Some((t0, t1)) = segment_in_rect(p, q, &r) {
                let (s, e) = (lerp(p, q, t0), lerp(p, q, t1));
                plot.draw(&PathElement::new(
                    vec![round(s), round(e)],
                    NAN_HATCH.stroke_width(sz.px(1.0, 1)),
                ))?;
            }
            c += spacing;
        }
        out.push(r);
    }
    Ok(out)
}

/// Draws a marker centred at `p` (pixels in `area`) with radius `r`, on a white halo so it shows
/// on any background.
pub(crate) fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: (f64, f64),
    shape: MarkerShape,
    color: RGBColor,
    r: f64,
    sz: Sizes,
) -> Result<()> {
    let c = round(p);
    let w = sz.px(2.0, 1);
    match shape {
        MarkerShape::Circle => {
            area.draw(&Circle::new(c, (r + 1.5).round() as i32, WHITE.filled()))?;
            area.draw(&Circle::new(c, r.round() as i32, color.filled()))?;
        }
        MarkerShape::Cross => {
            let d = r * 0.8;
            for (a, b) in [((-d, -d), (d, d)), ((-d, d), (d, -d))] {
                let seg = vec![round((p.0 + a.0, p.1 + a.1)), round((p.0 + b.0, p.1 + b.1))];
                area.draw(&PathElement::new(seg.clone(), WHITE.stroke_width(w + 2)))?;
                area.draw(&PathElement::new(seg, color.stroke_width(w + 1)))?;
            }
        }
        MarkerShape::Triangle => {
            let pts: Vec<(i32, i32)> = (0..3)
                .map(|k| {
                    let a = -std::f64::consts::FRAC_PI_2 + k as f64 * 2.0 * std::f64::consts::PI / 3.0;
                    round((p.0 + 1.2 * r * a.cos(), p.1 + 1.2 * r * a.sin()))
                })
                .collect();
            let mut ring = pts.clone();
            ring.push(pts[0]);
            area.draw(&PathElement::new(ring, WHITE.stroke_width(3)))?;
            area.draw(&Polygon::new(pts, color.filled()))?;
        }
        MarkerShape::Star => {
            let pts: Vec<(i32, i32)> = (0..10)
                .map(|k| {
                    let a = -std::f64::consts::FRAC_PI_2 + k as f64 * std::f64::consts::PI / 5.0;
                    let radius = if k % 2 == 0 { 1.35 * r } else { 0.55 * r };
                    round((p.0 + radius * a.cos(), p.1 + radius * a.sin()))
                })
                .collect();
            let mut ring = pts.clone();
            ring.push(pts[0]);
            area.draw(&PathElement::new(ring.clone(), WHITE.stroke_width(w + 1)))?;
            area.draw(&Polygon::new(pts, color.filled()))?;
            area.draw(&PathElement::new(ring, darken(color, 0.35).stroke_width(1)))?;
        }
    }
    Ok(())
}

/// The icon in front of a legend entry.
#[derive(Debug, Clone, Copy)]
enum Icon {
    Minimum,
    Path(RGBColor),
    NonFinite,
}

#[derive(Debug, Clone)]
struct LegendEntry {
    icon: Icon,
    text: String,
}

#[derive(Debug, Clone, Copy)]
struct LegendLayout {
    size: (f64, f64),
    pad: f64,
    icon_w: f64,
    row_h: f64,
}

fn legend_layout<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
    sz: Sizes,
) -> LegendLayout {
    let font = (FAMILY, sz.note).into_font();
    let widest = entries.iter().map(|e| measure(area, &e.text, &font).0).fold(0.0, f64::max);
    let pad = 0.6 * sz.note;
    let icon_w = 2.2 * sz.note;
    let row_h = 1.45 * sz.note;
    LegendLayout {
        size: (
            2.0 * pad + icon_w + 0.4 * sz.note + widest,
            2.0 * pad + row_h * entries.len() as f64 - 0.3 * sz.note,
        ),
        pad,
        icon_w,
        row_h,
    }
}

/// The corner of the plot where the legend hides the least: it must not cover the minimum,
/// markers or path ends, and it prefers empty space to lines. When there are `room` pixels free
/// right of the plot (an equal-aspect plot leaves some) and the legend fits there, it goes there,
/// next to the plot's top, and hides nothing.
fn place_legend(
    size: (f64, f64),
    frame: &Frame,
    important: &[(f64, f64, f64)],
    density: &[(f64, f64)],
    room: f64,
    sz: Sizes,
) -> Rect {
    let inset = sz.len(8.0);
    let (w, h) = size;
    if w <= room && h <= frame.h {
        let x0 = frame.w + sz.len(10.0);
        return Rect { x0, y0: 0.0, x1: x0 + w, y1: h };
    }
    let corners = [
        (frame.w - inset - w, inset),               // upper right
        (inset, inset),                             // upper left
        (frame.w - inset - w, frame.h - inset - h), // lower right
        (inset, frame.h - inset - h),               // lower left
    ];
    let mut best: Option<(f64, Rect)> = None;
    for (k, (x, y)) in corners.into_iter().enumerate() {
        let r = Rect { x0: x, y0: y, x1: x + w, y1: y + h };
        let halo = r.inflate(sz.len(10.0));
        let cost: f64 = important.iter().filter(|p| halo.contains((p.0, p.1))).map(|p| p.2).sum::<f64>()
            + 0.2 * density.iter().filter(|p| r.contains(**p)).count() as f64
            + 0.5 * k as f64;
        if best.as_ref().is_none_or(|(c, _)| cost < *c) {
            best = Some((cost, r));
        }
    }
    best.expect("four corners").1
}

fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    rect: Rect,
    layout: &LegendLayout,
    entries: &[LegendEntry],
    sz: Sizes,
) -> Result<()> {
    area.draw(&Rectangle::new(
        [round((rect.x0, rect.y0)), round((rect.x1, rect.y1))],
        WHITE.mix(0.9).filled(),
    ))?;
    area.draw(&Rectangle::new(
        [round((rect.x0, rect.y0)), round((rect.x1, rect.y1))],
        RGBColor(150, 150, 150).stroke_width(sz.px(1.0, 1)),
    ))?;
    let font = (FAMILY, sz.note).into_font();
    for (k, e) in entries.iter().enumerate() {
        let cy = rect.y0 + layout.pad + layout.row_h * k as f64 + 0.5 * (layout.row_h - 0.3 * sz.note);
        let ix = rect.x0 + layout.pad;
        let icon_c = (ix + layout.icon_w / 2.0, cy);
        match e.icon {
            Icon::Minimum => draw_marker(area, icon_c, MarkerShape::Star, MINIMUM_COLOR, sz.len(7.0), sz)?,
            Icon::Path(color) => {
                let seg = vec![round((ix, cy)), round((ix + layout.icon_w, cy))];
                area.draw(&PathElement::new(seg, color.stroke_width(sz.px(2.2, 1))))?;
                draw_marker(
                    area,
                    (ix + 0.2 * layout.icon_w, cy),
                    MarkerShape::Circle,
                    color,
                    sz.len(4.5),
                    sz,
                )?;
            }
            Icon::NonFinite => {
                let h = 0.45 * sz.note;
                let r = Rect::around(icon_c, h * 1.3, h);
                area.draw(&Rectangle::new([round((r.x0, r.y0)), round((r.x1, r.y1))], NAN_FILL.filled()))?;
                area.draw(&Rectangle::new(
                    [round((r.x0, r.y0)), round((r.x1, r.y1))],
                    NAN_HATCH.stroke_width(sz.px(1.0, 1)),
                ))?;
            }
        }
        let st = font.clone().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
        let tx = ix + layout.icon_w + 0.4 * sz.note;
        area.draw(&Text::new(e.text.clone(), round((tx, cy)), st))?;
    }
    Ok(())
}

/// Tick positions plotters will choose for `n` labels on [lo, hi].
fn tick_points(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let r: RangedCoordf64 = (lo..hi).into();
    r.key_points(n)
}

fn tick_step(ticks: &[f64]) -> f64 {
    match ticks {
        [a, b, ..] => (b - a).abs(),
        [a] => a.abs().max(1.0),
        [] => 1.0,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;

    use lossatlas::{evaluate, linear, Activation, Axis, Dataset, GridSpec, Loss, Objective, Plane};

    use super::*;
    use crate::output::render;
    use crate::output::ImageFormat;

    const FIG1_LEVELS: [f64; 9] = [0.2, 0.5, 0.7, 1.0, 3.0, 8.0, 10.0, 15.0, 20.0];

    fn seed_landscape(n: usize) -> Landscape {
        let objective = Objective::new(Dataset::seed(), Arc::new(linear(Activation::Identity)), Loss::Mse);
        let plane = Plane::parameter_axes(objective.param_names()).unwrap();
        let grid = GridSpec::new(
            Axis::new("k", 0.0, 2.0, n).unwrap(),
            Axis::new("b", -2.0, 4.0, n).unwrap(),
            lossatlas::DEFAULT_GRID_BUDGET_BYTES,
        )
        .unwrap();
        evaluate(&objective, &plane, &grid).unwrap()
    }

    /// A bowl u^2 + v^2 on [-2, 2]^2 with the quarter u > 1, v > 1 not finite.
    fn bowl_with_hole(n: usize) -> Landscape {
        let grid = GridSpec::new(
            Axis::new("u", -2.0, 2.0, n).unwrap(),
            Axis::new("v", -2.0, 2.0, n).unwrap(),
            lossatlas::DEFAULT_GRID_BUDGET_BYTES,
        )
        .unwrap();
        let plane = Plane::parameter_axes(&["u".into(), "v".into()]).unwrap();
        let mut values = Vec::new();
        for j in 0..n {
            for i in 0..n {
                let (u, v) = (grid.u().value(i), grid.v().value(j));
                values.push(if u > 1.0 && v > 1.0 { f64::NAN } else { u * u + v * v });
            }
        }
        Landscape::from_values(grid, plane, values).unwrap()
    }

    /// The trimmed contents of every `<text>` element (plotters writes them on their own line).
    pub(crate) fn svg_texts(svg: &str) -> Vec<String> {
        let doc = roxmltree::Document::parse(svg).expect("the SVG is well-formed XML");
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        doc.descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text())
            .map(|t| t.trim().to_string())
            .collect()
    }

    fn decode(png: &[u8]) -> image::RgbImage {
        image::load_from_memory_with_format(png, image::ImageFormat::Png).unwrap().to_rgb8()
    }

    fn distinct_colors(img: &image::RgbImage) -> usize {
        let mut colors: Vec<[u8; 3]> = img.pixels().map(|p| p.0).collect();
        colors.sort_unstable();
        colors.dedup();
        colors.len()
    }

    #[test]
    fn png_has_the_requested_size_and_is_not_blank() {
        let l = seed_landscape(80);
        for filled in [false, true] {
            let fig = ContourFigure::new(&l, FIG1_LEVELS.to_vec()).filled(filled);
            let img = decode(&render(&fig, ImageFormat::Png, (640, 560)).unwrap());
            assert_eq!(img.dimensions(), (640, 560));
            let n = distinct_colors(&img);
            assert!(n > 40, "only {n} colours (filled: {filled})");
        }
    }

    #[test]
    fn svg_holds_the_level_labels_and_lines() {
        let l = seed_landscape(80);
        let fig = ContourFigure::new(&l, FIG1_LEVELS.to_vec()).title("Loss Func Contour Line");
        let svg = String::from_utf8(render(&fig, ImageFormat::Svg, (800, 700)).unwrap()).unwrap();
        assert!(svg.contains("<svg") && svg.contains("<text") && svg.contains("<polyline"));
        let texts = svg_texts(&svg);
        for label in ["0.2", "0.5", "1", "3", "15", "20"] {
            assert!(texts.iter().any(|t| t == label), "no label {label} in {texts:?}");
        }
        assert!(texts.iter().any(|t| t == "Loss Func Contour Line"));
        assert!(
            texts.iter().any(|t| t == "min L=0.134 at (0.83, 1.49)"),
            "minimum annotation missing: {texts:?}"
        );
    }

    #[test]
    fn every_level_gets_a_label_and_labels_do_not_overlap() {
        let l = seed_landscape(200);
        let fig = ContourFigure::new(&l, FIG1_LEVELS.to_vec());
        let svg = String::from_utf8(render(&fig, ImageFormat::Svg, (800, 700)).unwrap()).unwrap();
        let texts = svg_texts(&svg);
        // Tick labels on the k axis (0, 0.5, 1, 1.5, 2) and the b axis (-2 ... 4) share some of
        // these numbers; the levels that are not tick values must be there, the others twice.
        let ticks = ["0", "0.5", "1", "1.5", "2", "-2", "-1", "3", "4"];
        for label in format_levels(&FIG1_LEVELS) {
            let n = texts.iter().filter(|t| **t == label).count();
            let need = if ticks.contains(&label.as_str()) { 2 } else { 1 };
            assert!(n >= need, "level {label} is not labelled ({n} texts)");
        }
    }

    /// Draws `fig` as [`Figure::draw`] does into an RGB buffer, returning where the plot went.
    fn draw_to_buffer(fig: &ContourFigure, (w, h): (u32, u32)) -> (image::RgbImage, PanelGeometry) {
        crate::font::ensure_registered();
        let mut rgb = vec![0u8; (w * h * 3) as usize];
        let geometry = {
            let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
            root.fill(&WHITE).unwrap();
            let style = PanelStyle {
                sizes: Sizes::for_area(w, h),
                scale: fig.color_scale(),
                line_levels: fig.levels().to_vec(),
                own_colorbar: fig.is_filled(),
            };
            let g = fig.draw_panel(&root, &style).unwrap();
            root.present().unwrap();
            g
        };
        (image::RgbImage::from_raw(w, h, rgb).unwrap(), geometry)
    }

    #[test]
    fn filled_map_has_a_colour_bar() {
        let l = seed_landscape(80);
        // The most saturated pixels in one column right of the plot: the colour bar runs along
        // the plot's height; the plain map has nothing there.
        let longest_run = |(img, g): &(image::RgbImage, PanelGeometry)| {
            let mut best = 0;
            for x in (g.plot.2 + 4) as u32..img.width() {
                let n = (0..img.height())
                    .filter(|&y| {
                        let [r, g, b] = img.get_pixel(x, y).0;
                        r.max(g).max(b) - r.min(g).min(b) > 60
                    })
                    .count();
                best = best.max(n as i32);
            }
            best
        };
        let plain = draw_to_buffer(&ContourFigure::new(&l, FIG1_LEVELS.to_vec()), (800, 700));
        let filled = draw_to_buffer(&ContourFigure::new(&l, FIG1_LEVELS.to_vec()).filled(true), (800, 700));
        assert_eq!(longest_run(&plain), 0);
        let height = filled.1.plot.3 - filled.1.plot.1;
        assert!(longest_run(&filled) > height * 9 / 10, "{} of {height}", longest_run(&filled));
        let svg = String::from_utf8(
            render(&ContourFigure::new(&l, FIG1_LEVELS.to_vec()).filled(true), ImageFormat::Svg, (800, 700))
                .unwrap(),
        )
        .unwrap();
        assert!(svg_texts(&svg).iter().any(|t| t == "loss"), "the colour bar is named");
    }

    #[test]
    fn a_path_leaving_the_range_is_cut_at_the_frame() {
        let l = seed_landscape(60);
        let magenta = RGBColor(255, 0, 255);
        let path = PathOverlay {
            label: String::new(),
            color: magenta,
            points: vec![
                [1.0, 1.0],
                [5.0, 1.5],
                [5.0, 9.0],
                [-3.0, 9.0],
                [-3.0, -5.0],
                [1.5, -5.0],
                [1.5, 0.0],
            ],
            losses: None,
        };
        let fig = ContourFigure::new(&l, FIG1_LEVELS.to_vec())
            .label_lines(false)
            .mark_minimum(false)
            .paths(vec![path]);
        let (w, h) = (700u32, 600u32);
        let (img, geometry) = draw_to_buffer(&fig, (w, h));
        let (x0, y0, x1, y1) = geometry.plot;
        let mut inside = 0;
        for y in 0..h as i32 {
            for x in 0..w as i32 {
                if img.get_pixel(x as u32, y as u32).0 != [255, 0, 255] {
                    continue;
                }
                let near = x >= x0 - 2 && x < x1 + 2 && y >= y0 - 2 && y < y1 + 2;
                assert!(near, "path pixel at ({x}, {y}) outside the plot {:?}", geometry.plot);
                inside += 1;
            }
        }
        assert!(inside > 100, "the path was not drawn inside ({inside} pixels)");
    }

    #[test]
    fn segments_are_drawn_inside_the_plot_only() {
        let l = seed_landscape(60);
        let magenta = RGBColor(255, 0, 255);
        // Both ends far outside the range (k in [0, 2], b in [-2, 4]), crossing the map.
        let segment =
            SegmentOverlay { from: [-1.0, -4.0], to: [3.0, 6.0], color: magenta, label: "λ = 19.7".into() };
        let fig = ContourFigure::new(&l, FIG1_LEVELS.to_vec()).mark_minimum(false).segments(vec![segment]);
        let (w, h) = (700u32, 600u32);
        let (img, geometry) = draw_to_buffer(&fig, (w, h));
        let (x0, y0, x1, y1) = geometry.plot;
        let mut inside = 0;
        for (x, y, p) in img.enumerate_pixels() {
            if p.0 != [255, 0, 255] {
                continue;
            }
            let (x, y) = (x as i32, y as i32);
            assert!(
                x >= x0 && x < x1 && y >= y0 && y < y1,
                "segment pixel at ({x}, {y}) outside the plot {:?}",
                geometry.plot
            );
            inside += 1;
        }
        assert!(inside > 300, "the segment was not drawn ({inside} pixels)");
        let svg = String::from_utf8(render(&fig, ImageFormat::Svg, (800, 700)).unwrap()).unwrap();
        assert!(svg_texts(&svg).iter().any(|t| t == "λ = 19.7"), "no segment label");
    }

    #[test]
    fn labels_beside_points_keep_clear_of_each_other() {
        let plot = Rect { x0: 0.0, y0: 0.0, x1: 400.0, y1: 300.0 };
        let index = SegmentIndex::new(24.0);
        // Three markers close together, and one in the top-right corner.
        let points = [(200.0, 150.0), (215.0, 150.0), (200.0, 162.0), (385.0, 15.0)];
        let mut blocked: Vec<Rect> = points.iter().map(|&p| Rect::around(p, 8.5, 8.5)).collect();
        let mut placed: Vec<Rect> = Vec::new();
        for &p in &points {
            let r = place_text(&beside_point(p, (60.0, 14.0), 7.0), &plot, &blocked, &index);
            assert!(r.inside(&plot), "{r:?} leaves the plot");
            assert!(!blocked.iter().any(|b| b.intersects(&r)), "{r:?} covers a marker or a label");
            blocked.push(r.inflate(2.0));
            placed.push(r);
        }
        // Beside the end of a segment: past it when that is free.
        let r =
            place_text(&beside_end((100.0, 100.0), (150.0, 100.0), (40.0, 14.0), 6.0), &plot, &[], &index);
        assert!(r.x0 > 150.0 && (r.y0 + r.y1) / 2.0 == 100.0, "{r:?}");
    }

    #[test]
    fn non_finite_points_are_grey_and_counted() {
        let l = bowl_with_hole(41);
        let n = l.non_finite_count();
        assert!(n > 0);
        let fig = ContourFigure::new(&l, vec![0.5, 1.0, 2.0, 4.0]).filled(true);
        let svg = String::from_utf8(render(&fig, ImageFormat::Svg, (800, 700)).unwrap()).unwrap();
        assert!(svg_texts(&svg).contains(&format!("{n} points not finite")), "no note of {n} points");
        assert!(svg.contains("#DEDEDE") || svg.contains("#dedede"), "no grey gap");
        let img = decode(&render(&fig, ImageFormat::Png, (800, 700)).unwrap());
        assert_eq!(img.dimensions(), (800, 700));
    }

    #[test]
    fn the_minimum_is_refined_below_the_grid_step() {
        let l = seed_landscape(200);
        let m = refined_minimum(&l).unwrap();
        assert!((m.u - 0.825_714_285_7).abs() < 1e-3, "{m:?}");
        assert!((m.v - 1.485_714_285_7).abs() < 3e-3, "{m:?}");
        assert!((m.loss - 0.133_904_761_9).abs() < 1e-4, "{m:?}");
    }

    #[test]
    fn the_colour_scale_spans_the_levels_and_the_data() {
        let l = seed_landscape(100);
        let s = ContourFigure::new(&l, FIG1_LEVELS.to_vec()).color_scale();
        assert!(s.is_log());
        let (lo, hi) = l.finite_range().unwrap();
        assert!((s.lo() - lo).abs() < 1e-9, "{} vs {lo}", s.lo());
        assert!(s.hi() <= hi && s.hi() >= 20.0);
        let s = ContourFigure::new(&l, vec![0.2, 0.5, 0.7, 0.8, 1.0]).color_scale();
        assert!(!s.is_log());
        assert!(s.lo() >= 0.0 && s.hi() <= 1.3, "{s:?}");
        let s = ContourFigure::new(&l, vec![0.2, 0.5, 0.7, 0.8, 1.0]).log_color(true).color_scale();
        assert!(s.is_log());
    }

    #[test]
    fn band_pieces_merge_into_rings_of_the_same_area() {
        let bumpy = {
            let grid = GridSpec::new(
                Axis::new("u", -2.0, 2.0, 90).unwrap(),
                Axis::new("v", -2.0, 2.0, 70).unwrap(),
                lossatlas::DEFAULT_GRID_BUDGET_BYTES,
            )
            .unwrap();
            let plane = Plane::parameter_axes(&["u".into(), "v".into()]).unwrap();
            let mut values = Vec::new();
            for j in 0..70 {
                for i in 0..90 {
                    let (u, v) = (grid.u().value(i), grid.v().value(j));
                    values.push((3.0 * u).sin() * (3.0 * v).cos() + 0.1 * u);
                }
            }
            Landscape::from_values(grid, plane, values).unwrap()
        };
        let cases = [
            (seed_landscape(120), FIG1_LEVELS.to_vec()),
            (bowl_with_hole(61), vec![0.5, 1.0, 2.0, 4.0]),
            (bumpy, vec![-0.6, -0.2, 0.0, 0.3, 0.7]),
        ];
        for (l, levels) in &cases {
            for band in bands(l, levels) {
                let pieces: f64 = band.polygons().iter().map(|p| ring_area(p).abs()).sum();
                let rings = band_rings(band.polygons(), l.u().step(), l.v().step()).expect("the pieces fit");
                let merged: f64 = rings.iter().map(|r| r.0).sum();
                assert!((merged - pieces).abs() <= 1e-9 * pieces.max(1.0), "{merged} vs {pieces}");
                if pieces > 0.0 {
                    assert!(rings.len() < band.polygons().len().max(2), "nothing merged");
                }
            }
        }
        // The bowl's band [0.5, 1) is an annulus: one outer ring, one hole.
        let l = grid_bowl();
        let band = &bands(&l, &[0.5, 1.0])[1];
        let rings = band_rings(band.polygons(), l.u().step(), l.v().step()).unwrap();
        assert_eq!(rings.iter().filter(|r| r.0 > 0.0).count(), 1);
        assert_eq!(rings.iter().filter(|r| r.0 < 0.0).count(), 1);
    }

    fn grid_bowl() -> Landscape {
        let grid = GridSpec::new(
            Axis::new("u", -2.0, 2.0, 81).unwrap(),
            Axis::new("v", -2.0, 2.0, 81).unwrap(),
            lossatlas::DEFAULT_GRID_BUDGET_BYTES,
        )
        .unwrap();
        let plane = Plane::parameter_axes(&["u".into(), "v".into()]).unwrap();
        let values = (0..81).flat_map(|j| (0..81).map(move |i| (i, j))).map(|(i, j)| {
            let (u, v) = (grid.u().value(i), grid.v().value(j));
            u * u + v * v
        });
        let values: Vec<f64> = values.collect();
        Landscape::from_values(grid, plane, values).unwrap()
    }

    #[test]
    fn rings_lose_repeated_and_collinear_pixels() {
        let ring = vec![(0, 0), (5, 0), (10, 0), (10, 0), (10, 10), (0, 10), (0, 5), (0, 0)];
        assert_eq!(simplify_ring(ring), vec![(0, 0), (10, 0), (10, 10), (0, 10)]);
    }

    #[test]
    fn cutting_and_clipping_polylines() {
        let line = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0)];
        let hole = Rect { x0: 4.0, y0: -1.0, x1: 6.0, y1: 1.0 };
        let pieces = cut_out(&line, &[hole]);
        assert_eq!(pieces, vec![vec![(0.0, 0.0), (4.0, 0.0)], vec![(6.0, 0.0), (10.0, 0.0), (10.0, 10.0)]]);
        let frame = Rect { x0: 0.0, y0: 0.0, x1: 5.0, y1: 5.0 };
        let pieces = keep_inside(
            &[(1.0, 1.0), (9.0, 1.0), (9.0, 3.0), (1.0, 3.0), (f64::NAN, 0.0), (2.0, 2.0), (3.0, 2.0)],
            &frame,
        );
        assert_eq!(
            pieces,
            vec![vec![(1.0, 1.0), (5.0, 1.0)], vec![(5.0, 3.0), (1.0, 3.0)], vec![(2.0, 2.0), (3.0, 2.0)]]
        );
        assert!(segment_in_rect((-1.0, 7.0), (7.0, 7.0), &frame).is_none());
    }

    #[test]
    fn labels_on_circles_stay_apart_and_inside() {
        let sz = Sizes::with_scale(1.0);
        let plot = Rect { x0: 0.0, y0: 0.0, x1: 600.0, y1: 500.0 };
        let lines: Vec<LineGeom> = (1..=6)
            .map(|k| {
                let r = 35.0 * k as f64;
                let pts: Vec<(f64, f64)> = (0..=180)
                    .map(|a| {
                        let t = a as f64 / 180.0 * std::f64::consts::TAU;
                        (300.0 + r * t.cos(), 250.0 + r * t.sin())
                    })
                    .collect();
                LineGeom::new(k - 1, pts, true)
            })
            .collect();
        let mut index = SegmentIndex::new(24.0);
        for (id, l) in lines.iter().enumerate() {
            index.insert_line(id, &l.pts);
        }
        let sizes = vec![(22.0, 14.0); 6];
        let placed = place_labels(&lines, &sizes, &[], &index, &plot, sz);
        for level in 0..6 {
            assert!(placed.iter().any(|p| lines[p.line].level == level), "level {level} unlabelled");
        }
        for (a, p) in placed.iter().enumerate() {
            assert!(p.rect.inside(&plot));
            for q in &placed[a + 1..] {
                assert!(!p.rect.intersects(&q.rect), "{p:?} overlaps {q:?}");
            }
            assert_eq!(index.crossings(&p.rect, p.line), 0, "another circle runs through {p:?}");
        }
    }
}
