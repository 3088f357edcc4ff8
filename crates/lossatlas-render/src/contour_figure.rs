//! The contour map: iso-loss lines (or filled bands with a colour bar) of a [`Landscape`],
//! labelled with their levels ([`crate::level_labels`]), with the minimum marked, optimizer paths,
//! marked points and labelled segments drawn on top, and a legend.
//!
//! The map is put together from the kit the other figures share: the frame
//! ([`crate::map_frame`]), the bands ([`crate::bands`]), text placement ([`crate::placement`]),
//! markers ([`crate::markers`]), the legend ([`crate::legend`]) and the colour bar.

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use lossatlas::{isolines, Isoline, Landscape};

use crate::bands::{draw_bands, draw_non_finite};
use crate::colorbar::{colorbar_pad, colorbar_width, draw_colorbar};
use crate::colormap::{color_scale_for, viridis, ColorScale};
use crate::error::Result;
use crate::font::FAMILY;
use crate::geometry::{cut_out, lerp, measure, round, segment_in_rect, Rect};
use crate::labels::{decimals_for_step, format_fixed, format_levels, format_sig, Sizes};
use crate::legend::{Legend, LegendEntry, LegendIcon};
use crate::level_labels::{place_labels, LineGeom};
use crate::map_frame::{draw_map_frame, Aspect, Frame, MapFrame, MapFrameSpec, PanelGeometry, FRAME_COLOR};
use crate::markers::{darken, draw_dashed, draw_marker, draw_path_on_map, path_pieces, MINIMUM_COLOR};
use crate::output::Figure;
use crate::overlay::{Marker, MarkerShape, PathOverlay, SegmentOverlay};
use crate::placement::{
    beside_end, beside_point, place_text, SegmentIndex, MARKER_CROSSING_COST, SEGMENT_CROSSING_COST,
};
use crate::text::{draw_text_box, text_box_pad, ChartText};

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
    /// The iso-lines at `levels`, found once: on another thread while a PNG's drawing begins
    /// ([`Figure::prepare`]), or by the drawing when it gets there first.
    isolines: OnceLock<Vec<Isoline>>,
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
            isolines: OnceLock::new(),
        }
    }

    /// The iso-lines at the figure's levels, found the first time they are asked for.
    fn isolines(&self) -> &[Isoline] {
        self.isolines.get_or_init(|| isolines(self.landscape, &self.levels))
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

    /// [`ContourFigure::log_color`] when `Some`, the default choice when `None`.
    pub fn log_color_choice(self, choice: Option<bool>) -> Self {
        match choice {
            Some(log) => self.log_color(log),
            None => self,
        }
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

    /// It does: drawing begins by filling the picture white.
    fn paints_every_pixel(&self) -> bool {
        true
    }

    const PREPARES: bool = true;

    /// Finds the iso-lines (figure 1's 0.4 ms, done while the frame is drawn).
    fn prepare(&self) {
        self.isolines();
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
                icon: LegendIcon::Minimum,
                text: format!(
                    "min L={} at ({}, {})",
                    format_sig(m.loss, 3),
                    format_fixed(m.u, du),
                    format_fixed(m.v, dv)
                ),
            });
        }
        for p in &self.paths {
            entries.push(LegendEntry { icon: LegendIcon::Path(p.color), text: p.label.clone() });
        }
        if non_finite > 0 {
            let noun = if non_finite == 1 { "point" } else { "points" };
            entries.push(LegendEntry {
                icon: LegendIcon::NonFinite,
                text: format!("{non_finite} {noun} not finite"),
            });
        }
        let mut legend = (!entries.is_empty()).then(|| {
            let mut legend = Legend::new(area, entries, sz);
            legend.fit_width(area, 0.6 * aw as f64);
            legend
        });
        // Beside the plot there is no colour bar in the way, only white space (when the aspect
        // leaves some) the legend may use.
        let beside = !style.own_colorbar && legend.is_some();
        let mut spec = MapFrameSpec {
            what: "contour panel",
            text: ChartText { title: &self.title, x_label: &self.x_label, y_label: &self.y_label },
            u: (u_axis.min(), u_axis.max()),
            v: (v_axis.min(), v_axis.max()),
            aspect: self.aspect,
            strip_w: bar_w,
            right_reserve: if beside {
                legend.as_ref().map_or(0.0, |l| l.size.0 + sz.len(12.0))
            } else {
                0.0
            },
            bottom_reserve: 0.0,
            title_over_strip: false,
        };
        // A legend that hides the minimum, a marker or a path's end in every corner of the plot
        // (many paths, long labels) goes under the plot instead, in as many columns as fit: the
        // frame is drawn again with room for it.
        let mut below = false;
        let MapFrame { plot, frame, geometry, gap } = loop {
            let drawn = draw_map_frame(area, &spec, sz)?;
            let Some(legend) = legend.as_mut().filter(|_| !below) else { break drawn };
            let room = self.room_beside(aw, bar_w, beside, &drawn, area);
            if !self.legend_hides_something(legend, &drawn.frame, minimum, room, sz) {
                break drawn;
            }
            // Under the plot in columns, at smaller text when that is what it takes to keep the
            // legend under a third of the panel's height.
            let width = aw as f64 - bar_w as f64 - sz.len(16.0);
            let fitted = [1.0, 0.85, 0.72].into_iter().find_map(|f| {
                let mut l = legend.resized(area, Sizes::with_scale(sz.scale * f));
                l.fit_width(area, width);
                let (_, column_w) = l.column_width();
                let columns = ((width / column_w).floor() as usize).clamp(1, l.len());
                l.set_columns(l.len().div_ceil(l.len().div_ceil(columns)));
                (l.size.0 <= width && l.size.1 <= ah as f64 / 3.0).then_some(l)
            });
            let Some(fitted) = fitted else { break drawn };
            *legend = fitted;
            area.fill(&WHITE)?;
            spec.bottom_reserve = legend.size.1 + sz.len(10.0);
            spec.right_reserve = 0.0;
            below = true;
        };
        let (base_x, base_y) = area.get_base_pixel();
        let (x_start, y_start, x_end, y_end) = geometry.plot;

        if self.filled {
            draw_bands(&plot, landscape, &self.levels, &style.scale, &frame)?;
        }

        // The parts of the map where the loss is not finite: grey, hatched (over the bands, which
        // may have painted over the gaps: see `draw_bands`).
        let gaps = if non_finite > 0 { draw_non_finite(&plot, landscape, &frame, sz)? } else { Vec::new() };

        // Lines in pixel space, each with an id (paths and segments get ids after the lines).
        let isos = self.isolines();
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
                    path_pieces(&pts, &plot_rect)
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

        // Segment labels, then marker labels: each beside its point, where it is free and the
        // fewest lines run through it. Segments first, so the labels of a minimum's axes get the
        // places right beside it (the minimum's own label can sit a little further out).
        let note_font = (FAMILY, sz.note).into_font();
        // The text box's padding, and a pixel more.
        let text_pad = text_box_pad(sz.note).0 + 1.0;
        let mut segment_texts: Vec<(Rect, String, RGBColor)> = Vec::new();
        for (s, px) in self.segments.iter().zip(&segments_px) {
            let Some((a, b)) = *px else { continue };
            if s.label.is_empty() {
                continue;
            }
            let size = measure(area, &s.label, &note_font);
            let candidates = beside_end(a, b, size, sz.len(6.0));
            let r = place_text(
                &candidates,
                &plot_rect.inflate(-text_pad),
                &reserved,
                &index,
                SEGMENT_CROSSING_COST,
            );
            reserved.push(r.inflate(text_pad));
            important.push(((r.x0 + r.x1) / 2.0, (r.y0 + r.y1) / 2.0, 200.0));
            segment_texts.push((r, s.label.clone(), darken(s.color, 0.25)));
        }

        let mut marker_texts: Vec<(Rect, String)> = Vec::new();
        for m in &self.markers {
            let p = frame.px(m.at[0], m.at[1]);
            if m.label.is_empty() || !plot_rect.contains(p) {
                continue;
            }
            let size = measure(area, &m.label, &note_font);
            let candidates = beside_point(p, size, marker_r);
            let r = place_text(
                &candidates,
                &plot_rect.inflate(-text_pad),
                &reserved,
                &index,
                MARKER_CROSSING_COST,
            );
            reserved.push(r.inflate(text_pad));
            important.push(((r.x0 + r.x1) / 2.0, (r.y0 + r.y1) / 2.0, 200.0));
            marker_texts.push((r, m.label.clone()));
        }
        // The legend's place in the panel's pixels.
        let (dx, dy) = ((x_start - base_x) as f64, (y_start - base_y) as f64);
        let legend = if let (Some(legend), true) = (legend.clone(), below) {
            // Centred under the plot, at the bottom of the panel.
            let (w, h) = legend.size;
            let x0 =
                (dx + frame.w / 2.0 - w / 2.0).clamp(sz.len(4.0), (aw as f64 - w - sz.len(4.0)).max(0.0));
            let y0 = ah as f64 - sz.len(8.0) - h;
            Some((Rect { x0, y0, x1: x0 + w, y1: y0 + h }, legend))
        } else if let Some(legend) = legend {
            // Beside the plot when the aspect leaves white space there (at smaller text if that
            // is what it takes), else in the corner of the plot where it hides least.
            let room =
                if beside { aw as f64 - bar_w as f64 - (x_end - base_x) as f64 - sz.len(12.0) } else { 0.0 };
            let fitted = [1.0, 0.85, 0.72].into_iter().find_map(|f| {
                let l = if f == 1.0 {
                    legend.clone()
                } else {
                    legend.resized(area, Sizes::with_scale(sz.scale * f))
                };
                (l.size.0 <= room && l.size.1 <= frame.h).then_some(l)
            });
            let (rect, legend) = match fitted {
                Some(l) => {
                    let x0 = frame.w + sz.len(10.0);
                    (Rect { x0, y0: 0.0, x1: x0 + l.size.0, y1: l.size.1 }, l)
                }
                None => {
                    let density: Vec<(f64, f64)> =
                        lines.iter().flat_map(|l| l.pts.iter().step_by(4).copied()).collect();
                    let (rect, _) = legend.least_covering_corner(&plot_rect, &important, &density, sz);
                    reserved.push(rect.inflate(sz.len(4.0)));
                    (rect, legend)
                }
            };
            // On the panel, not the plot: the legend may sit right of the plot, where plotters
            // would clip it.
            Some((Rect { x0: rect.x0 + dx, y0: rect.y0 + dy, x1: rect.x1 + dx, y1: rect.y1 + dy }, legend))
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
        for (path, pieces) in self.paths.iter().zip(&paths_px) {
            draw_path_on_map(&plot, path, pieces, &frame, &plot_rect, self.filled, marker_r, sz)?;
        }

        // The frame, then the marks on top of it on the panel (not the plot, which would cut a
        // marker on the range's edge in half).
        plot.draw(&Rectangle::new(
            [(0, 0), (frame.w as i32, frame.h as i32)],
            FRAME_COLOR.stroke_width(sz.px(1.0, 1)),
        ))?;
        let on_panel = |p: (f64, f64)| (p.0 + dx, p.1 + dy);
        for m in &self.markers {
            let p = frame.px(m.at[0], m.at[1]);
            if plot_rect.contains(p) {
                draw_marker(area, on_panel(p), m.shape, m.color, marker_r, sz)?;
            }
        }
        for (r, text) in &marker_texts {
            draw_text_box(&plot, r, text, &note_font, BLACK)?;
        }
        for (r, text, color) in &segment_texts {
            draw_text_box(&plot, r, text, &note_font, *color)?;
        }
        if let Some(m) = minimum {
            let p = on_panel(frame.px(m.u, m.v));
            draw_marker(area, p, MarkerShape::Star, MINIMUM_COLOR, marker_r, sz)?;
        }

        if let Some((rect, legend)) = legend {
            legend.draw(area, rect)?;
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

impl ContourFigure<'_> {
    /// The pixels free right of a drawn plot for a legend (an equal-aspect plot leaves some), or
    /// 0 when the strip there holds a colour bar.
    fn room_beside<DB: DrawingBackend>(
        &self,
        aw: u32,
        bar_w: u32,
        beside: bool,
        drawn: &MapFrame<DB>,
        area: &DrawingArea<DB, Shift>,
    ) -> f64 {
        if !beside {
            return 0.0;
        }
        let x_end = drawn.geometry.plot.2 - area.get_base_pixel().0;
        aw as f64 - bar_w as f64 - x_end as f64 - 1.5 * drawn.gap
    }

    /// Whether `legend`, in the corner of the plot where it hides least, would still hide the
    /// minimum, a marker or the start or end of a path (or a stretch of paths as costly), when it
    /// cannot go beside the plot instead.
    fn legend_hides_something(
        &self,
        legend: &Legend,
        frame: &Frame,
        minimum: Option<lossatlas::GridMinimum>,
        room: f64,
        sz: Sizes,
    ) -> bool {
        // It goes beside the plot if it fits there at the smallest text tried.
        let (w, h) = legend.size;
        if 0.72 * w <= room && 0.72 * h <= frame.h {
            return false;
        }
        let plot = Rect { x0: 0.0, y0: 0.0, x1: frame.w, y1: frame.h };
        let mut important: Vec<(f64, f64, f64)> = Vec::new();
        if let Some(m) = minimum {
            let (x, y) = frame.px(m.u, m.v);
            important.push((x, y, 1000.0));
        }
        for m in &self.markers {
            let p = frame.px(m.at[0], m.at[1]);
            if plot.contains(p) {
                important.push((p.0, p.1, 500.0));
            }
        }
        let paths = self.layout_paths.as_ref().unwrap_or(&self.paths);
        for path in paths {
            let finite: Vec<(f64, f64)> = path
                .points
                .iter()
                .filter(|q| q[0].is_finite() && q[1].is_finite())
                .map(|q| frame.px(q[0], q[1]))
                .collect();
            let stride = (finite.len() / 200).max(1);
            for p in finite.iter().step_by(stride).filter(|p| plot.contains(**p)) {
                important.push((p.0, p.1, 5.0 * stride as f64));
            }
            for end in [finite.first(), finite.last()].into_iter().flatten() {
                if plot.contains(*end) {
                    important.push((end.0, end.1, 300.0));
                }
            }
        }
        let (_, cost) = legend.least_covering_corner(&plot, &important, &[], sz);
        cost >= 300.0
    }
}

/// A straight line between two pixel points.
type PixelSegment = ((f64, f64), (f64, f64));

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{render, ImageFormat};
    use crate::test_support::{
        bowl_with_hole, decode, distinct_colors, seed_landscape, svg_text_positions, svg_texts, FIG1_LEVELS,
    };

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
    fn prepared_lines_are_the_ones_the_drawing_finds() {
        let l = seed_landscape(80);
        let prepared = ContourFigure::new(&l, FIG1_LEVELS.to_vec());
        prepared.prepare();
        assert_eq!(prepared.isolines.get().map(Vec::len), Some(FIG1_LEVELS.len()));
        // Drawn through `draw` (no preparation) and through `render` (prepared on a thread).
        let size = (640, 560);
        let plain = ContourFigure::new(&l, FIG1_LEVELS.to_vec());
        let drawn = crate::output::draw_rgb(size, 2, true, |b| plain.draw_bitmap(b), crate::png::encode);
        assert_eq!(render(&prepared, ImageFormat::Png, size).unwrap(), drawn.unwrap());
        let fresh = ContourFigure::new(&l, FIG1_LEVELS.to_vec());
        assert_eq!(
            render(&fresh, ImageFormat::Png, size).unwrap(),
            render(&prepared, ImageFormat::Png, size).unwrap()
        );
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
    fn issue_9_a_legend_of_many_paths_goes_under_the_plot() {
        let l = seed_landscape(80);
        // Twelve paths from all over the map to the minimum, in the middle.
        let starts = [[0.1, -1.8], [1.9, -1.8], [0.1, 3.8], [1.9, 3.8], [1.0, -1.9], [1.0, 3.9]];
        let paths: Vec<PathOverlay> = (0..12)
            .map(|k| {
                let s = starts[k % 6];
                let end = [0.83 + 0.01 * k as f64, 1.49];
                PathOverlay {
                    label: format!("optimizer number {k} with a long label (converged, step 3{k}0)"),
                    color: crate::PATH_COLORS[k % 7],
                    points: (0..=20)
                        .map(|i| i as f64 / 20.0)
                        .map(|t| [s[0] + t * (end[0] - s[0]), s[1] + t * (end[1] - s[1])])
                        .collect(),
                    losses: None,
                }
            })
            .collect();
        let fig = ContourFigure::new(&l, FIG1_LEVELS.to_vec()).paths(paths);
        let size = ContourFigure::DEFAULT_SIZE;
        let (_, geometry) = draw_to_buffer(&fig, size);
        let svg = String::from_utf8(render(&fig, ImageFormat::Svg, size).unwrap()).unwrap();
        let texts = svg_text_positions(&svg);
        let entries: Vec<&(String, f64, f64)> =
            texts.iter().filter(|t| t.0.starts_with("optimizer number")).collect();
        assert_eq!(entries.len(), 12);
        let bottom = geometry.plot.3 as f64;
        for (text, _, y) in &entries {
            assert!(*y > bottom, "{text} at y = {y}, over the plot (bottom {bottom})");
        }
        // The minimum's entry too, and the plot still takes most of the height.
        let min = texts.iter().find(|t| t.0.starts_with("min L=")).unwrap();
        assert!(min.2 > bottom, "{min:?}");
        assert!((geometry.plot.3 - geometry.plot.1) as f64 > 0.5 * size.1 as f64, "{geometry:?}");
    }

    #[test]
    fn issue_9_a_few_paths_keep_their_legend_in_a_corner() {
        let l = seed_landscape(80);
        let path = PathOverlay {
            label: "gd".into(),
            color: crate::PATH_COLORS[0],
            points: vec![[1.8, -1.5], [1.2, 0.0], [0.83, 1.49]],
            losses: None,
        };
        let fig = ContourFigure::new(&l, FIG1_LEVELS.to_vec()).paths(vec![path]);
        let (_, geometry) = draw_to_buffer(&fig, ContourFigure::DEFAULT_SIZE);
        let svg =
            String::from_utf8(render(&fig, ImageFormat::Svg, ContourFigure::DEFAULT_SIZE).unwrap()).unwrap();
        let gd = svg_text_positions(&svg).into_iter().find(|t| t.0 == "gd").unwrap();
        assert!(gd.2 < geometry.plot.3 as f64 && gd.2 > geometry.plot.1 as f64, "{gd:?} {geometry:?}");
    }

    #[test]
    fn issue_9_the_labels_of_a_minimums_axes_sit_beside_it() {
        // Crowded: many levels around the minimum, a marker with a label on it.
        let l = seed_landscape(120);
        let levels: Vec<f64> = (0..20).map(|i| 0.1339 + 0.004 * 1.45f64.powi(i)).collect();
        // The minimum of the seed's loss, and its two axes: short, where the iso-lines crowd.
        let (cu, cv) = (0.8257, 1.4857);
        let axes = [(0.015, 0.09, "λ = 0.7"), (0.04, -0.012, "λ = 19.7")];
        let segments: Vec<SegmentOverlay> = axes
            .iter()
            .map(|&(du, dv, label)| SegmentOverlay {
                from: [cu - du, cv - dv],
                to: [cu + du, cv + dv],
                color: RGBColor(200, 30, 110),
                label: label.into(),
            })
            .collect();
        let marker = Marker {
            at: [cu, cv],
            label: "min 0.134".into(),
            shape: MarkerShape::Circle,
            color: RGBColor(0, 0, 0),
        };
        let fig = ContourFigure::new(&l, levels).segments(segments.clone()).markers(vec![marker]);
        let size = ContourFigure::DEFAULT_SIZE;
        let (_, geometry) = draw_to_buffer(&fig, size);
        let svg = String::from_utf8(render(&fig, ImageFormat::Svg, size).unwrap()).unwrap();
        let texts = svg_text_positions(&svg);
        let frame = Frame {
            w: (geometry.plot.2 - geometry.plot.0 - 1) as f64,
            h: (geometry.plot.3 - geometry.plot.1 - 1) as f64,
            u0: 0.0,
            u1: 2.0,
            v0: -2.0,
            v1: 4.0,
        };
        let at = |u: f64, v: f64| {
            let p = frame.px(u, v);
            (p.0 + geometry.plot.0 as f64, p.1 + geometry.plot.1 as f64)
        };
        for s in &segments {
            let (_, x, y) = texts.iter().find(|t| t.0 == s.label).unwrap();
            // From the segment's labelled end to the text's top-left corner.
            let end = at(s.to[0], s.to[1]);
            let d = (x - end.0).hypot(y - end.1);
            // Beside it (35 and 16 pixels here; 58 and 52 when lines through it weighed more).
            assert!(d < 45.0, "{} is {d:.0} pixels from the end of its axis", s.label);
        }
    }
}
