//! The basin map: which minimum an optimizer reaches from each start of a grid of starts
//! ([`lossatlas::analysis::basins`]).
//!
//! Each start is drawn as a cell centred on it, the cells tiling the range (which therefore
//! reaches half a grid step beyond the first and last starts), filled with the light colour of
//! the minimum its run ends at, light grey where it ends at none and dark grey where it diverges.
//! Runs of equal cells are merged into one rectangle, so an SVG holds one shape per run, not per
//! start. The minima are stars in a darker shade of their basin's colour, numbered 1, 2, ... in
//! the order given; the legend at the right lists each colour with its minimum's label and how
//! many starts (and what share of them) end there. Iso-lines of the loss, optimizer paths and
//! marked points (saddles, say) may be drawn on top for context.
//!
//! Colours come from a categorical palette of light tints (after Okabe & Ito 2008, with a few
//! more hues), handed out biggest basin first so that basins that touch never share a colour
//! (when there are more minima than colours, a colour is reused only between basins apart).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;

use lossatlas::analysis::BasinLabel;
use lossatlas::{isolines, Axis, GridSpec, Landscape};

use crate::error::{Error, Result};
use crate::font::FAMILY;
use crate::geometry::{cut_out, keep_inside, measure, round, Rect};
use crate::labels::{format_levels, Sizes};
use crate::level_labels::{place_labels, LineGeom};
use crate::map_frame::{draw_map_frame, Aspect, Frame, MapFrame, MapFrameSpec, PanelGeometry, FRAME_COLOR};
use crate::markers::{draw_marker, draw_path_on_map, path_pieces};
use crate::output::Figure;
use crate::overlay::{Marker, MarkerShape, PathOverlay};
use crate::placement::{beside_point, place_text, SegmentIndex, MARKER_CROSSING_COST};
use crate::text::{draw_text_box, text_box_pad, ChartText};

/// Light fills for the basins and the darker shade their minima are drawn in, in the order they
/// are handed out (neighbours in this list differ in hue as much as possible).
const BASIN_PALETTE: [(RGBColor, RGBColor); 10] = [
    (RGBColor(158, 206, 238), RGBColor(0, 98, 160)),   // sky blue
    (RGBColor(250, 196, 120), RGBColor(190, 105, 0)),  // orange
    (RGBColor(146, 214, 186), RGBColor(0, 122, 88)),   // bluish green
    (RGBColor(228, 174, 208), RGBColor(160, 60, 120)), // reddish purple
    (RGBColor(240, 230, 130), RGBColor(135, 120, 0)),  // yellow
    (RGBColor(190, 182, 236), RGBColor(84, 70, 170)),  // violet
    (RGBColor(244, 160, 128), RGBColor(180, 56, 10)),  // vermillion
    (RGBColor(196, 222, 130), RGBColor(88, 124, 14)),  // pear
    (RGBColor(150, 222, 230), RGBColor(0, 120, 132)),  // cyan
    (RGBColor(250, 188, 196), RGBColor(186, 52, 80)),  // pink
];
/// Starts whose run ends at no minimum.
const ELSEWHERE_FILL: RGBColor = RGBColor(226, 226, 226);
/// Starts whose run diverged.
const DIVERGED_FILL: RGBColor = RGBColor(92, 92, 92);
const LINE_GREY: RGBColor = RGBColor(45, 45, 45);

/// A map of basins of attraction. Build it by value:
/// `BasinFigure::new(&starts, labels)?.minima(minima).landscape(&landscape, levels)`, and render
/// it with [`crate::render`]; [`BasinFigure::DEFAULT_SIZE`] suits it.
#[derive(Debug, Clone)]
pub struct BasinFigure<'a> {
    u: Axis,
    v: Axis,
    labels: Vec<BasinLabel>,
    minima: Vec<([f64; 2], String)>,
    title: String,
    x_label: String,
    y_label: String,
    legend_title: String,
    landscape: Option<(&'a Landscape, Vec<f64>)>,
    paths: Vec<PathOverlay>,
    markers: Vec<Marker>,
    aspect: Aspect,
}

impl<'a> BasinFigure<'a> {
    /// The size (width, height in pixels) the figure is designed for: a square-ish map and the
    /// legend at its right. Text and lines scale with the picture.
    pub const DEFAULT_SIZE: (u32, u32) = (1100, 700);

    /// A basin map of the starts `starts` (the grid given to [`lossatlas::analysis::basins`])
    /// with one label per start, row-major: `labels[j * nu + i]` belongs to start (u_i, v_j).
    /// Fails when the number of labels is not nu * nv.
    pub fn new(starts: &GridSpec, labels: Vec<BasinLabel>) -> Result<BasinFigure<'a>> {
        let (u, v) = (starts.u().clone(), starts.v().clone());
        if labels.len() != u.n() * v.n() {
            return Err(Error::Invalid(format!(
                "{} basin labels do not fill the {}x{} grid of starts; pass one label per start",
                labels.len(),
                u.n(),
                v.n()
            )));
        }
        Ok(BasinFigure {
            x_label: u.name().to_string(),
            y_label: v.name().to_string(),
            u,
            v,
            labels,
            minima: Vec::new(),
            title: "Basins of attraction".into(),
            legend_title: "Where the run from each start ends".into(),
            landscape: None,
            paths: Vec::new(),
            markers: Vec::new(),
            aspect: Aspect::Fill,
        })
    }

    /// The minima the labels refer to (`BasinLabel::Minimum(k)` is `minima[k]`), each with its
    /// position (u, v) and its legend text, e.g. `min 1: a=1.20, b=2.50, L=0.010`. Their stars
    /// are numbered 1, 2, ... in this order, so labels that start with the same number read
    /// best. Default: none (drawing fails if a label refers to a minimum).
    pub fn minima(mut self, minima: Vec<([f64; 2], String)>) -> Self {
        self.minima = minima;
        self
    }

    /// The title above the map. Default: "Basins of attraction".
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// The horizontal axis name. Default: the starts' u axis name.
    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = label.into();
        self
    }

    /// The vertical axis name. Default: the starts' v axis name.
    pub fn y_label(mut self, label: impl Into<String>) -> Self {
        self.y_label = label.into();
        self
    }

    /// The heading of the legend (name the optimizer and its settings here, or in the title).
    /// Default: "Where the run from each start ends". Empty for none.
    pub fn legend_title(mut self, title: impl Into<String>) -> Self {
        self.legend_title = title.into();
        self
    }

    /// Draws thin grey iso-lines of `landscape` at `levels` over the cells, labelled with their
    /// levels, so the basins can be read against the shape of the loss. Default: none.
    pub fn landscape(mut self, landscape: &'a Landscape, levels: Vec<f64>) -> Self {
        let mut levels: Vec<f64> = levels.into_iter().filter(|l| l.is_finite()).collect();
        levels.sort_by(f64::total_cmp);
        levels.dedup();
        self.landscape = Some((landscape, levels));
        self
    }

    /// Paths to draw over the map (e.g. a few runs), each listed in the legend. Parts outside
    /// the range are cut off at the frame.
    pub fn paths(mut self, paths: Vec<PathOverlay>) -> Self {
        self.paths = paths;
        self
    }

    /// Points to mark with their labels (e.g. the saddles between basins).
    pub fn markers(mut self, markers: Vec<Marker>) -> Self {
        self.markers = markers;
        self
    }

    /// How the plot's width and height relate to the axis ranges. Default: [`Aspect::Fill`].
    pub fn aspect(mut self, aspect: Aspect) -> Self {
        self.aspect = aspect;
        self
    }

    /// The labels, row-major.
    pub fn labels(&self) -> &[BasinLabel] {
        &self.labels
    }

    /// How many starts end at each minimum, then how many end elsewhere and how many diverge.
    fn counts(&self) -> (Vec<usize>, usize, usize) {
        let mut per_minimum = vec![0usize; self.minima.len()];
        let (mut elsewhere, mut diverged) = (0, 0);
        for label in &self.labels {
            match *label {
                BasinLabel::Minimum(k) => {
                    if let Some(c) = per_minimum.get_mut(k) {
                        *c += 1;
                    }
                }
                BasinLabel::Elsewhere => elsewhere += 1,
                BasinLabel::Diverged => diverged += 1,
            }
        }
        (per_minimum, elsewhere, diverged)
    }

    /// The palette entry of each minimum: biggest basin first, each takes the first colour that
    /// no touching basin has and, while the palette lasts, that no basin has.
    fn palette_indices(&self, counts: &[usize]) -> Vec<usize> {
        let m = self.minima.len();
        let (nu, nv) = (self.u.n(), self.v.n());
        let mut touches = vec![vec![false; m]; m];
        let minimum = |label: BasinLabel| match label {
            BasinLabel::Minimum(k) if k < m => Some(k),
            _ => None,
        };
        for j in 0..nv {
            for i in 0..nu {
                let Some(a) = minimum(self.labels[j * nu + i]) else { continue };
                let right = (i + 1 < nu).then(|| self.labels[j * nu + i + 1]);
                let up = (j + 1 < nv).then(|| self.labels[(j + 1) * nu + i]);
                for b in [right, up].into_iter().flatten().filter_map(minimum) {
                    if a != b {
                        touches[a][b] = true;
                        touches[b][a] = true;
                    }
                }
            }
        }
        let mut order: Vec<usize> = (0..m).collect();
        order.sort_by(|&a, &b| counts[b].cmp(&counts[a]).then(a.cmp(&b)));
        let n = BASIN_PALETTE.len();
        let mut chosen: Vec<Option<usize>> = vec![None; m];
        let mut uses = vec![0usize; n];
        for k in order {
            let taken: Vec<usize> = (0..m).filter(|&o| touches[k][o]).filter_map(|o| chosen[o]).collect();
            let pick = (0..n)
                .find(|c| uses[*c] == 0 && !taken.contains(c))
                .or_else(|| (0..n).filter(|c| !taken.contains(c)).min_by_key(|&c| uses[c]))
                .unwrap_or_else(|| (0..n).min_by_key(|&c| uses[c]).unwrap_or(0));
            chosen[k] = Some(pick);
            uses[pick] += 1;
        }
        chosen.into_iter().map(|c| c.unwrap_or(0)).collect()
    }
}

/// A row of the legend.
#[derive(Debug, Clone)]
enum Row {
    /// A basin swatch: fill, and the star colour for a minimum.
    Basin { fill: RGBColor, star: Option<RGBColor>, text: String, count: String },
    /// A path.
    Path { color: RGBColor, text: String },
    /// The iso-lines.
    Lines { text: String },
}

/// The legend's rows and measures at one font size.
#[derive(Debug, Clone)]
struct Legend {
    rows: Vec<Row>,
    font: f64,
    /// Width of the text column and of the count column.
    text_w: f64,
    count_w: f64,
    row_h: f64,
    swatch: f64,
    heading_h: f64,
}

impl Legend {
    fn width(&self) -> f64 {
        self.swatch + 0.6 * self.font + self.text_w + self.count_gap() + self.count_w
    }

    fn count_gap(&self) -> f64 {
        if self.count_w > 0.0 {
            1.2 * self.font
        } else {
            0.0
        }
    }

    fn height(&self) -> f64 {
        self.heading_h + self.row_h * self.rows.len() as f64
    }
}

/// "12.5%", "<0.1%" for a small share that is not zero.
fn percent(count: usize, total: usize) -> String {
    if total == 0 {
        return "0%".into();
    }
    let p = 100.0 * count as f64 / total as f64;
    if p > 0.0 && p < 0.05 {
        "<0.1%".into()
    } else {
        format!("{p:.1}%")
    }
}

impl Figure for BasinFigure<'_> {
    fn supersampling(&self) -> u32 {
        2
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        root.fill(&WHITE)?;
        let (w, h) = root.dim_in_pixel();
        let sz = Sizes::for_area(w, h);
        self.draw_map(root, sz)?;
        Ok(())
    }
}

impl BasinFigure<'_> {
    /// Draws the whole figure into `area`; returns where the plot went.
    fn draw_map<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        sz: Sizes,
    ) -> Result<PanelGeometry> {
        let m = self.minima.len();
        if let Some(k) = self.labels.iter().find_map(|l| match l {
            BasinLabel::Minimum(k) if *k >= m => Some(*k),
            _ => None,
        }) {
            return Err(Error::Invalid(format!(
                "a start ends at minimum {k}, but {m} minima were given; pass all of them with .minima(...)"
            )));
        }
        let (aw, ah) = area.dim_in_pixel();
        let (counts, elsewhere, diverged) = self.counts();
        let total = self.labels.len();
        let palette: Vec<(RGBColor, RGBColor)> =
            self.palette_indices(&counts).into_iter().map(|c| BASIN_PALETTE[c]).collect();

        // The legend: as large as fits beside a reasonable map, smaller when there are many rows.
        let mut rows: Vec<Row> = Vec::new();
        for (k, (_, text)) in self.minima.iter().enumerate() {
            rows.push(Row::Basin {
                fill: palette[k].0,
                star: Some(palette[k].1),
                text: text.clone(),
                count: format!("{} ({})", counts[k], percent(counts[k], total)),
            });
        }
        if elsewhere > 0 {
            rows.push(Row::Basin {
                fill: ELSEWHERE_FILL,
                star: None,
                text: "no minimum reached".into(),
                count: format!("{elsewhere} ({})", percent(elsewhere, total)),
            });
        }
        if diverged > 0 {
            rows.push(Row::Basin {
                fill: DIVERGED_FILL,
                star: None,
                text: "diverged".into(),
                count: format!("{diverged} ({})", percent(diverged, total)),
            });
        }
        for p in &self.paths {
            rows.push(Row::Path { color: p.color, text: p.label.clone() });
        }
        if let Some((_, levels)) = &self.landscape {
            if !levels.is_empty() {
                rows.push(Row::Lines { text: "loss iso-lines".into() });
            }
        }
        let title_h = ChartText { title: &self.title, x_label: "", y_label: "" }.title_height(sz);
        let avail_h = ah as f64 - title_h - 3.0 * sz.axis;
        let max_w = 0.45 * aw as f64;
        let legend = self.fit_legend(area, rows, sz, avail_h, max_w);
        let strip_w = (legend.width() + 2.0 * sz.len(12.0)).ceil() as u32;

        let (du, dv) = (self.u.step(), self.v.step());
        let spec = MapFrameSpec {
            what: "basin map",
            text: ChartText { title: &self.title, x_label: &self.x_label, y_label: &self.y_label },
            u: (self.u.min() - du / 2.0, self.u.max() + du / 2.0),
            v: (self.v.min() - dv / 2.0, self.v.max() + dv / 2.0),
            aspect: self.aspect,
            strip_w,
            right_reserve: 0.0,
            bottom_reserve: 0.0,
            title_over_strip: true,
        };
        let MapFrame { plot, frame, geometry, gap } = draw_map_frame(area, &spec, sz)?;
        let plot_rect = Rect { x0: 0.0, y0: 0.0, x1: frame.w, y1: frame.h };

        self.draw_cells(&plot, &frame, &palette)?;

        // Lines over the cells, in pixels, cut at the frame.
        let mut index = SegmentIndex::new(sz.len(24.0).max(8.0));
        let mut lines: Vec<LineGeom> = Vec::new();
        let mut level_texts: Vec<String> = Vec::new();
        if let Some((landscape, levels)) = &self.landscape {
            level_texts = format_levels(levels);
            for (k, iso) in isolines(landscape, levels).iter().enumerate() {
                for pl in iso.lines() {
                    let mut pts: Vec<(f64, f64)> = pl.points().iter().map(|p| frame.px(p[0], p[1])).collect();
                    if pl.is_closed() {
                        pts.push(pts[0]);
                    }
                    let inside = pts.iter().all(|&p| plot_rect.contains(p));
                    if inside {
                        lines.push(LineGeom::new(k, pts, pl.is_closed()));
                    } else {
                        for piece in keep_inside(&pts, &plot_rect) {
                            lines.push(LineGeom::new(k, piece, false));
                        }
                    }
                }
            }
        }
        for (id, l) in lines.iter().enumerate() {
            index.insert_line(id, &l.pts);
        }
        let paths_px: Vec<Vec<Vec<(f64, f64)>>> = self
            .paths
            .iter()
            .map(|p| {
                let pts: Vec<(f64, f64)> = p.points.iter().map(|q| frame.px(q[0], q[1])).collect();
                path_pieces(&pts, &plot_rect)
            })
            .collect();
        for (id, piece) in (lines.len()..).zip(paths_px.iter().flatten()) {
            index.insert_line(id, piece);
        }

        // Stars, markers and path ends are kept clear by every label.
        let marker_r = sz.len(7.0);
        let mut reserved: Vec<Rect> = Vec::new();
        let stars: Vec<(usize, (f64, f64))> = self
            .minima
            .iter()
            .enumerate()
            .map(|(k, (at, _))| (k, frame.px(at[0], at[1])))
            .filter(|(_, p)| plot_rect.contains(*p))
            .collect();
        // Just inside where `beside_point` puts labels.
        for (_, p) in &stars {
            reserved.push(Rect::around(*p, 1.25 * marker_r, 1.25 * marker_r));
        }
        for mk in &self.markers {
            let p = frame.px(mk.at[0], mk.at[1]);
            if plot_rect.contains(p) {
                reserved.push(Rect::around(p, 1.25 * marker_r, 1.25 * marker_r));
            }
        }
        for piece in paths_px.iter().flatten() {
            for end in [piece.first(), piece.last()].into_iter().flatten() {
                reserved.push(Rect::around(*end, marker_r, marker_r));
            }
        }
        let text_pad = text_box_pad(sz.note).0 + 1.0;
        let inner = plot_rect.inflate(-text_pad);
        let tag_font = (FAMILY, sz.note, FontStyle::Bold).into_font();
        let mut tags: Vec<(Rect, String, RGBColor)> = Vec::new();
        for (k, p) in &stars {
            let text = (k + 1).to_string();
            let size = measure(area, &text, &tag_font);
            let r = place_text(
                &beside_point(*p, size, marker_r),
                &inner,
                &reserved,
                &index,
                MARKER_CROSSING_COST,
            );
            reserved.push(r.inflate(text_pad));
            tags.push((r, text, palette[*k].1));
        }
        let note_font = (FAMILY, sz.note).into_font();
        let mut marker_texts: Vec<(Rect, String)> = Vec::new();
        for mk in &self.markers {
            let p = frame.px(mk.at[0], mk.at[1]);
            if mk.label.is_empty() || !plot_rect.contains(p) {
                continue;
            }
            let size = measure(area, &mk.label, &note_font);
            let r =
                place_text(&beside_point(p, size, marker_r), &inner, &reserved, &index, MARKER_CROSSING_COST);
            reserved.push(r.inflate(text_pad));
            marker_texts.push((r, mk.label.clone()));
        }

        // Iso-lines, thin and grey, with small labels, cut where the other labels are.
        if !lines.is_empty() {
            let level_font = (FAMILY, 0.85 * sz.level).into_font();
            let text_sizes: Vec<(f64, f64)> =
                level_texts.iter().map(|t| measure(area, t, &level_font)).collect();
            let placed = place_labels(&lines, &text_sizes, &reserved, &index, &plot_rect, sz);
            let text_holes: Vec<Rect> = tags
                .iter()
                .map(|t| t.0)
                .chain(marker_texts.iter().map(|t| t.0))
                .map(|r| r.inflate(text_pad + 1.0))
                .collect();
            // A faint light casing keeps the lines visible on the dark grey of diverged starts.
            let casing = WHITE.mix(0.3).stroke_width(sz.px(1.0, 1) + 2);
            let style = LINE_GREY.mix(0.6).stroke_width(sz.px(1.0, 1));
            for (id, line) in lines.iter().enumerate() {
                let mut holes: Vec<Rect> = placed.iter().filter(|p| p.line == id).map(|p| p.rect).collect();
                holes.extend(text_holes.iter().copied());
                for piece in cut_out(&line.pts, &holes) {
                    let pts: Vec<(i32, i32)> = piece.iter().map(|&p| round(p)).collect();
                    plot.draw(&PathElement::new(pts.clone(), casing))?;
                    plot.draw(&PathElement::new(pts, style))?;
                }
            }
            for p in &placed {
                let r = p.rect.inflate(-sz.len(2.0));
                plot.draw(&Rectangle::new(
                    [round((r.x0, r.y0)), round((r.x1, r.y1))],
                    WHITE.mix(0.6).filled(),
                ))?;
                let st = level_font.clone().color(&LINE_GREY).pos(Pos::new(HPos::Center, VPos::Center));
                plot.draw(&Text::new(level_texts[lines[p.line].level].clone(), round(p.center), st))?;
            }
        }

        // Paths on a white casing, start circle, end cross.
        for (path, pieces) in self.paths.iter().zip(&paths_px) {
            draw_path_on_map(&plot, path, pieces, &frame, &plot_rect, true, marker_r, sz)?;
        }

        // The frame, then the marks on top of it on the panel (not the plot, which would cut a
        // star at the frame in half: a minimum can lie on the range's edge).
        plot.draw(&Rectangle::new(
            [(0, 0), (frame.w as i32, frame.h as i32)],
            FRAME_COLOR.stroke_width(sz.px(1.0, 1)),
        ))?;
        let (base_x, base_y) = area.get_base_pixel();
        let (dx, dy) = ((geometry.plot.0 - base_x) as f64, (geometry.plot.1 - base_y) as f64);
        let on_panel = |p: (f64, f64)| (p.0 + dx, p.1 + dy);
        for mk in &self.markers {
            let p = frame.px(mk.at[0], mk.at[1]);
            if plot_rect.contains(p) {
                draw_marker(area, on_panel(p), mk.shape, mk.color, marker_r, sz)?;
            }
        }
        for (r, text) in &marker_texts {
            draw_text_box(&plot, r, text, &note_font, BLACK)?;
        }
        for (k, p) in &stars {
            draw_marker(area, on_panel(*p), MarkerShape::Star, palette[*k].1, marker_r, sz)?;
        }
        for (r, text, color) in &tags {
            draw_text_box(&plot, r, text, &tag_font, *color)?;
        }

        // The legend, right of the plot, level with its top.
        let x0 = (geometry.plot.2 - base_x) as f64 + gap + sz.len(6.0);
        let x0 = x0.min(aw as f64 - legend.width() - sz.len(4.0)).max(0.0);
        let y0 = (geometry.plot.1 - base_y) as f64;
        self.draw_legend(area, &legend, (x0, y0), sz)?;
        Ok(geometry)
    }

    /// Fills the cells, one rectangle per run of equal cells in a row, runs that repeat in the
    /// next rows merged into one.
    fn draw_cells<DB: DrawingBackend>(
        &self,
        plot: &DrawingArea<DB, Shift>,
        frame: &Frame,
        palette: &[(RGBColor, RGBColor)],
    ) -> Result<()> {
        let (nu, nv) = (self.u.n(), self.v.n());
        let (du, dv) = (self.u.step(), self.v.step());
        // Cell edges in pixels, shared by neighbours so there are no seams.
        let xs: Vec<i32> =
            (0..=nu).map(|i| frame.px(self.u.min() + (i as f64 - 0.5) * du, 0.0).0.round() as i32).collect();
        let ys: Vec<i32> =
            (0..=nv).map(|j| frame.px(0.0, self.v.min() + (j as f64 - 0.5) * dv).1.round() as i32).collect();
        let fill = |label: BasinLabel| match label {
            BasinLabel::Minimum(k) => palette[k].0,
            BasinLabel::Elsewhere => ELSEWHERE_FILL,
            BasinLabel::Diverged => DIVERGED_FILL,
        };
        // (i0, i1, label, j0): runs [i0, i1) open since row j0.
        let mut open: Vec<(usize, usize, BasinLabel, usize)> = Vec::new();
        let mut done: Vec<(usize, usize, BasinLabel, usize, usize)> = Vec::new();
        for j in 0..=nv {
            let mut runs: Vec<(usize, usize, BasinLabel)> = Vec::new();
            if j < nv {
                let mut i = 0;
                while i < nu {
                    let label = self.labels[j * nu + i];
                    let start = i;
                    while i < nu && self.labels[j * nu + i] == label {
                        i += 1;
                    }
                    runs.push((start, i, label));
                }
            }
            let mut still_open = Vec::new();
            for r in open.drain(..) {
                if runs.contains(&(r.0, r.1, r.2)) {
                    still_open.push(r);
                } else {
                    done.push((r.0, r.1, r.2, r.3, j));
                }
            }
            for run in runs {
                if !still_open.iter().any(|r| (r.0, r.1, r.2) == run) {
                    still_open.push((run.0, run.1, run.2, j));
                }
            }
            open = still_open;
        }
        for (i0, i1, label, j0, j1) in done {
            // Row j0 is the lowest (largest pixel y).
            let (x0, x1) = (xs[i0], xs[i1]);
            let (y_top, y_bottom) = (ys[j1], ys[j0]);
            plot.draw(&Rectangle::new([(x0, y_top), (x1, y_bottom)], fill(label).filled()))?;
        }
        Ok(())
    }

    /// The legend at the largest font (from the note size down to 75% of it) at which it fits
    /// `max_h` high and `max_w` wide; when even the smallest is too high, the last minima are
    /// summed up in one row.
    fn fit_legend<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        rows: Vec<Row>,
        sz: Sizes,
        max_h: f64,
        max_w: f64,
    ) -> Legend {
        let build = |rows: Vec<Row>, font: f64| -> Legend {
            let f = (FAMILY, font).into_font();
            let (mut text_w, mut count_w) = (0.0f64, 0.0f64);
            for r in &rows {
                let (text, count) = match r {
                    Row::Basin { text, count, .. } => (text, Some(count)),
                    Row::Path { text, .. } | Row::Lines { text } => (text, None),
                };
                text_w = text_w.max(measure(area, text, &f).0);
                if let Some(c) = count {
                    count_w = count_w.max(measure(area, c, &f).0);
                }
            }
            let heading_w = if self.legend_title.is_empty() {
                0.0
            } else {
                measure(area, &self.legend_title, &(FAMILY, font, FontStyle::Bold).into_font()).0
            };
            let swatch = 1.9 * font;
            let mut legend = Legend {
                rows,
                font,
                text_w,
                count_w,
                row_h: 1.6 * font,
                swatch,
                heading_h: if self.legend_title.is_empty() { 0.0 } else { 1.9 * font },
            };
            if heading_w > legend.width() {
                legend.text_w += heading_w - legend.width();
            }
            legend
        };
        let mut font = sz.note;
        loop {
            let legend = build(rows.clone(), font);
            let fits = legend.height() <= max_h && legend.width() <= max_w;
            if fits || font <= 0.75 * sz.note {
                if legend.height() <= max_h {
                    return legend;
                }
                // Too many rows even at the smallest size: the last minima share one row.
                let allowed = ((max_h - legend.heading_h) / legend.row_h).floor().max(2.0) as usize;
                let m = self.minima.len();
                let drop = (legend.rows.len() + 1).saturating_sub(allowed).min(m);
                if drop < 2 {
                    return legend;
                }
                let first = m - drop;
                let count: usize = self.counts().0[first..].iter().sum();
                let mut rows = legend.rows;
                rows.splice(
                    first..m,
                    [Row::Basin {
                        fill: WHITE,
                        star: None,
                        text: format!("minima {} to {m}", first + 1),
                        count: format!("{count} ({})", percent(count, self.labels.len())),
                    }],
                );
                return build(rows, font);
            }
            font *= 0.92;
        }
    }

    fn draw_legend<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        legend: &Legend,
        at: (f64, f64),
        sz: Sizes,
    ) -> Result<()> {
        let font = (FAMILY, legend.font).into_font();
        let (x0, mut y) = at;
        if !self.legend_title.is_empty() {
            let st = (FAMILY, legend.font, FontStyle::Bold)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Top));
            area.draw(&Text::new(self.legend_title.clone(), round((x0, y)), st))?;
            y += legend.heading_h;
        }
        let text_x = x0 + legend.swatch + 0.6 * legend.font;
        let count_right = x0 + legend.width();
        for row in &legend.rows {
            let cy = y + 0.5 * legend.row_h;
            let sw = Rect::around((x0 + legend.swatch / 2.0, cy), legend.swatch / 2.0, 0.42 * legend.row_h);
            let left = |text: &str| {
                Text::new(
                    text.to_string(),
                    round((text_x, cy)),
                    font.clone().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center)),
                )
            };
            match row {
                Row::Basin { fill, star, text, count } => {
                    area.draw(&Rectangle::new(
                        [round((sw.x0, sw.y0)), round((sw.x1, sw.y1))],
                        fill.filled(),
                    ))?;
                    area.draw(&Rectangle::new(
                        [round((sw.x0, sw.y0)), round((sw.x1, sw.y1))],
                        RGBColor(140, 140, 140).stroke_width(sz.px(1.0, 1)),
                    ))?;
                    if let Some(c) = star {
                        let r = 0.3 * legend.font;
                        draw_marker(area, (x0 + legend.swatch / 2.0, cy), MarkerShape::Star, *c, r, sz)?;
                    }
                    area.draw(&left(text))?;
                    let st =
                        font.clone().color(&RGBColor(60, 60, 60)).pos(Pos::new(HPos::Right, VPos::Center));
                    area.draw(&Text::new(count.clone(), round((count_right, cy)), st))?;
                }
                Row::Path { color, text } => {
                    let seg = vec![round((sw.x0, cy)), round((sw.x1, cy))];
                    area.draw(&PathElement::new(seg, color.stroke_width(sz.px(2.2, 1))))?;
                    draw_marker(
                        area,
                        (sw.x0 + 0.2 * legend.swatch, cy),
                        MarkerShape::Circle,
                        *color,
                        0.28 * legend.font,
                        sz,
                    )?;
                    area.draw(&left(text))?;
                }
                Row::Lines { text } => {
                    let seg = vec![round((sw.x0, cy)), round((sw.x1, cy))];
                    area.draw(&PathElement::new(seg, LINE_GREY.mix(0.6).stroke_width(sz.px(1.0, 1))))?;
                    area.draw(&left(text))?;
                }
            }
            y += legend.row_h;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{render, ImageFormat};
    use crate::test_support::{svg_text_positions, svg_texts};
    use lossatlas::DEFAULT_GRID_BUDGET_BYTES;

    fn starts(nu: usize, nv: usize) -> GridSpec {
        GridSpec::new(
            Axis::new("a", -2.0, 2.0, nu).unwrap(),
            Axis::new("b", -1.0, 1.0, nv).unwrap(),
            DEFAULT_GRID_BUDGET_BYTES,
        )
        .unwrap()
    }

    /// Left half of the starts (a < 0) to minimum 0, right half to minimum 1.
    fn two_basins(nu: usize, nv: usize) -> (GridSpec, Vec<BasinLabel>) {
        let g = starts(nu, nv);
        let labels = (0..nu * nv)
            .map(|k| if g.u().value(k % nu) < 0.0 { BasinLabel::Minimum(0) } else { BasinLabel::Minimum(1) })
            .collect();
        (g, labels)
    }

    fn two_minima() -> Vec<([f64; 2], String)> {
        vec![([-1.0, 0.0], "min 1: a=-1, b=0".into()), ([1.0, 0.0], "min 2: a=1, b=0".into())]
    }

    fn draw_to_buffer(fig: &BasinFigure, (w, h): (u32, u32)) -> (image::RgbImage, PanelGeometry) {
        crate::font::ensure_registered();
        let mut rgb = vec![0u8; (w * h * 3) as usize];
        let geometry = {
            let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
            root.fill(&WHITE).unwrap();
            let g = fig.draw_map(&root, Sizes::for_area(w, h)).unwrap();
            root.present().unwrap();
            g
        };
        (image::RgbImage::from_raw(w, h, rgb).unwrap(), geometry)
    }

    #[test]
    fn png_has_the_requested_size_and_is_not_blank() {
        let (g, labels) = two_basins(20, 10);
        let fig = BasinFigure::new(&g, labels).unwrap().minima(two_minima());
        let png = render(&fig, ImageFormat::Png, (900, 600)).unwrap();
        let img = image::load_from_memory_with_format(&png, image::ImageFormat::Png).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (900, 600));
        let mut colors: Vec<[u8; 3]> = img.pixels().map(|p| p.0).collect();
        colors.sort_unstable();
        colors.dedup();
        assert!(colors.len() > 30, "only {} colours", colors.len());
    }

    #[test]
    fn cells_of_two_basins_fill_their_halves() {
        let (g, labels) = two_basins(20, 10);
        let fig = BasinFigure::new(&g, labels)
            .unwrap()
            .minima(vec![([-1.0, 0.5], "min 1".into()), ([1.0, 0.5], "min 2".into())]);
        let (img, geometry) = draw_to_buffer(&fig, (900, 600));
        let (x0, y0, x1, y1) = geometry.plot;
        let (left, right) = (BASIN_PALETTE[0].0, BASIN_PALETTE[1].0);
        let at = |fx: f64, fy: f64| {
            let x = x0 as f64 + fx * (x1 - x0) as f64;
            let y = y0 as f64 + fy * (y1 - y0) as f64;
            img.get_pixel(x as u32, y as u32).0
        };
        for fy in [0.1, 0.3, 0.8, 0.9] {
            for fx in [0.05, 0.2, 0.45] {
                assert_eq!(at(fx, fy), [left.0, left.1, left.2], "at ({fx}, {fy})");
                assert_eq!(at(1.0 - fx, fy), [right.0, right.1, right.2], "at ({}, {fy})", 1.0 - fx);
            }
        }
        // The boundary runs down the middle (between a = -0.105 and a = 0.105, cells 9 and 10).
        let y = (y0 + y1) / 2 + (y1 - y0) / 8;
        let first_right =
            (x0..x1).find(|&x| img.get_pixel(x as u32, y as u32).0 == [right.0, right.1, right.2]).unwrap();
        let middle = (x0 + x1) as f64 / 2.0;
        assert!((first_right as f64 - middle).abs() <= 2.0, "boundary at {first_right}, middle {middle}");
    }

    #[test]
    fn svg_holds_the_legend_and_one_shape_per_run() {
        let (g, mut labels) = two_basins(40, 30);
        labels[0] = BasinLabel::Diverged;
        labels[1] = BasinLabel::Elsewhere;
        labels[2] = BasinLabel::Elsewhere;
        let fig = BasinFigure::new(&g, labels).unwrap().minima(two_minima()).title("Basins of gd");
        let svg =
            String::from_utf8(render(&fig, ImageFormat::Svg, BasinFigure::DEFAULT_SIZE).unwrap()).unwrap();
        let texts = svg_texts(&svg);
        for want in [
            "Basins of gd",
            "min 1: a=-1, b=0",
            "min 2: a=1, b=0",
            "597 (49.8%)",
            "600 (50.0%)",
            "no minimum reached",
            "2 (0.2%)",
            "diverged",
            "1 (0.1%)",
            "1",
            "2",
        ] {
            assert!(texts.iter().any(|t| t == want), "no text {want:?} in {texts:?}");
        }
        // 1200 cells, but runs: the bottom row's 4 runs, then one rectangle per half for the rest;
        // the legend's swatches and the background add a few.
        let rects = svg.matches("<rect").count();
        assert!(rects < 30, "{rects} rectangles");
    }

    #[test]
    fn labels_must_fill_the_grid_and_name_given_minima() {
        let g = starts(4, 3);
        assert!(BasinFigure::new(&g, vec![BasinLabel::Elsewhere; 11]).is_err());
        let fig = BasinFigure::new(&g, vec![BasinLabel::Minimum(2); 12]).unwrap().minima(two_minima());
        let err = render(&fig, ImageFormat::Svg, (800, 600)).unwrap_err();
        assert!(err.to_string().contains("minimum 2"), "{err}");
    }

    #[test]
    fn touching_basins_never_share_a_colour() {
        // 14 vertical stripes, more than the palette has colours: neighbours still differ.
        let (nu, nv) = (14, 3);
        let g = starts(nu, nv);
        let labels = (0..nu * nv).map(|k| BasinLabel::Minimum(k % nu)).collect();
        let minima = (0..nu).map(|k| ([g.u().value(k), 0.0], format!("min {}", k + 1))).collect();
        let fig = BasinFigure::new(&g, labels).unwrap().minima(minima);
        let counts = fig.counts().0;
        let colors = fig.palette_indices(&counts);
        for k in 1..nu {
            assert_ne!(colors[k - 1], colors[k], "stripes {} and {}", k - 1, k);
        }
        // The first ten get ten different colours.
        let mut first: Vec<usize> = colors[..BASIN_PALETTE.len()].to_vec();
        first.sort_unstable();
        first.dedup();
        assert_eq!(first.len(), BASIN_PALETTE.len());
    }

    #[test]
    fn a_long_legend_is_shrunk_and_summed_up() {
        let (nu, nv) = (60, 2);
        let g = starts(nu, nv);
        let labels = (0..nu * nv).map(|k| BasinLabel::Minimum(k % nu)).collect();
        let minima = (0..nu).map(|k| ([g.u().value(k), 0.0], format!("min {}", k + 1))).collect();
        let fig = BasinFigure::new(&g, labels).unwrap().minima(minima);
        let svg = String::from_utf8(render(&fig, ImageFormat::Svg, (1100, 700)).unwrap()).unwrap();
        let texts = svg_texts(&svg);
        assert!(texts.iter().any(|t| t.starts_with("minima ") && t.ends_with(" to 60")), "{texts:?}");
        assert!(texts.iter().any(|t| t == "min 1"));
    }

    #[test]
    fn issue_9_a_minimum_on_the_edge_keeps_its_whole_star_and_the_title_is_centred() {
        // Minimum 2 sits on the corner of the range (a = 2, b = 1), where the map ends.
        let (g, labels) = two_basins(20, 10);
        let minima = vec![([-1.0, 0.0], "min 1".into()), ([2.0, 1.0], "min 2".into())];
        let fig = BasinFigure::new(&g, labels).unwrap().minima(minima).title("a title of some length");
        let (w, h) = (900, 600);
        let (img, geometry) = draw_to_buffer(&fig, (w, h));
        let (x0, y0, x1, y1) = geometry.plot;
        // The star's colour (the dark shade of its basin) appears right of and above the frame.
        let star =
            fig.palette_indices(&fig.counts().0).into_iter().map(|c| BASIN_PALETTE[c].1).nth(1).unwrap();
        let outside = img
            .enumerate_pixels()
            .filter(|(x, y, p)| p.0 == [star.0, star.1, star.2] && (*x as i32 >= x1 || (*y as i32) < y0))
            .count();
        assert!(outside > 10, "the star is cut at the frame ({outside} pixels outside)");
        // The title is centred over the plot and the legend beside it, not over the plot alone.
        let svg = String::from_utf8(render(&fig, ImageFormat::Svg, (w, h)).unwrap()).unwrap();
        let (_, tx, _) =
            svg_text_positions(&svg).into_iter().find(|t| t.0 == "a title of some length").unwrap();
        let middle = (x0 as f64 + w as f64) / 2.0;
        assert!((tx - middle).abs() < 3.0, "title at {tx}, the plot and legend centred at {middle}");
        assert!(tx > (x0 + x1) as f64 / 2.0 + 20.0, "{tx}");
        let _ = y1;
    }
}
