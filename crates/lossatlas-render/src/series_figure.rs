//! Named series of (x, y) points against one shared x axis, in panels stacked top to bottom: a
//! network's loss and accuracy along a line, or a training path's true loss beside its plane's
//! loss over its distance from the plane. Each panel has its own y axis and legend.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{Error, Result};
use crate::font::FAMILY;
use crate::geometry::{keep_inside, round, Rect};
use crate::labels::Sizes;
use crate::legend::{Legend, LegendEntry, LegendIcon};
use crate::markers::{draw_marker, draw_polyline};
use crate::output::Figure;
use crate::overlay::MarkerShape;
use crate::text::ChartText;
use crate::ticks::Scale;
use crate::xy_chart::{sample_pieces, Chart};

/// Grey of the vertical reference lines: visible, but behind the data.
const REFERENCE_COLOR: RGBColor = RGBColor(150, 150, 150);

/// One named series: its points in order of x (non-finite ones leave a gap), drawn as a line, or
/// as dots when there are few points or the points are samples rather than a curve.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    label: String,
    color: RGBColor,
    points: Vec<(f64, f64)>,
    dots: bool,
}

impl Series {
    /// A line through `points`.
    pub fn line(label: impl Into<String>, color: RGBColor, points: Vec<(f64, f64)>) -> Series {
        Series { label: label.into(), color, points, dots: false }
    }

    /// A line through `points` with a dot on each.
    pub fn dotted_line(label: impl Into<String>, color: RGBColor, points: Vec<(f64, f64)>) -> Series {
        Series { label: label.into(), color, points, dots: true }
    }
}

/// A panel: a y axis and the series drawn against it.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesPanel {
    y_label: String,
    series: Vec<Series>,
    log: bool,
}

impl SeriesPanel {
    /// An empty panel whose y axis is called `y_label`.
    pub fn new(y_label: impl Into<String>) -> SeriesPanel {
        SeriesPanel { y_label: y_label.into(), series: Vec::new(), log: false }
    }

    /// Adds a series.
    pub fn series(mut self, series: Series) -> Self {
        self.series.push(series);
        self
    }

    /// A logarithmic y axis; values at or below zero are left out. Default: linear.
    pub fn log(mut self, log: bool) -> Self {
        self.log = log;
        self
    }

    /// Every finite point the panel draws (positive ones only on a log axis).
    fn points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        let log = self.log;
        self.series
            .iter()
            .flat_map(|s| s.points.iter().copied())
            .filter(move |&(x, y)| x.is_finite() && y.is_finite() && (!log || y > 0.0))
    }
}

/// Series in stacked panels sharing one x axis, with optional vertical reference lines (such as
/// "initial" at 0 and "trained" at 1 of an interpolation) labelled at the top of the first panel.
///
/// Built by value: `SeriesFigure::new("title", "alpha").panel(SeriesPanel::new("loss").series(..))`;
/// render it with [`crate::render`]; [`SeriesFigure::size`] suits it.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesFigure {
    title: String,
    x_label: String,
    panels: Vec<SeriesPanel>,
    references: Vec<(f64, String)>,
}

impl SeriesFigure {
    /// A figure with no panels yet.
    pub fn new(title: impl Into<String>, x_label: impl Into<String>) -> SeriesFigure {
        SeriesFigure {
            title: title.into(),
            x_label: x_label.into(),
            panels: Vec::new(),
            references: Vec::new(),
        }
    }

    /// Adds a panel below the others.
    pub fn panel(mut self, panel: SeriesPanel) -> Self {
        self.panels.push(panel);
        self
    }

    /// A vertical line at `x` through every panel, named at the top of the first.
    pub fn reference(mut self, x: f64, label: impl Into<String>) -> Self {
        self.references.push((x, label.into()));
        self
    }

    /// The size (width, height in pixels) the figure is designed for: 800 wide, and 380 high per
    /// panel plus the title.
    pub fn size(&self) -> (u32, u32) {
        (800, 60 + 380 * self.panels.len().max(1) as u32)
    }

    /// The x range over every panel's finite points, widened to the reference lines.
    fn x_scale(&self) -> Scale {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for (x, _) in self.panels.iter().flat_map(SeriesPanel::points) {
            lo = lo.min(x);
            hi = hi.max(x);
        }
        for (x, _) in &self.references {
            lo = lo.min(*x);
            hi = hi.max(*x);
        }
        if !(lo.is_finite() && hi.is_finite()) {
            return Scale::linear(0.0, 1.0);
        }
        if hi <= lo {
            return Scale::linear(lo - 0.5, lo + 0.5);
        }
        Scale::linear(lo, hi).padded(0.015)
    }
}

/// The y range of a panel's points, padded; a flat or empty panel gets a range around its value.
fn y_scale(panel: &SeriesPanel) -> Scale {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (_, y) in panel.points() {
        lo = lo.min(y);
        hi = hi.max(y);
    }
    match (lo.is_finite(), panel.log) {
        (false, true) => Scale::log(0.1, 10.0),
        (false, false) => Scale::linear(0.0, 1.0),
        (true, true) if hi <= lo => Scale::log(lo / 2.0, lo * 2.0),
        (true, true) => Scale::log(lo, hi).padded(0.04),
        (true, false) if hi <= lo => {
            let half = if lo == 0.0 { 1.0 } else { lo.abs() * 0.5 };
            Scale::linear(lo - half, lo + half)
        }
        (true, false) => Scale::linear(lo, hi).padded(0.05),
    }
}

impl Figure for SeriesFigure {
    fn supersampling(&self) -> u32 {
        2
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        root.fill(&WHITE)?;
        if self.panels.is_empty() {
            return Err(Error::Invalid("a series figure needs at least one panel".into()));
        }
        let (w, h) = root.dim_in_pixel();
        // Text is sized for one panel's share of the height, so two panels read like two charts.
        let sz = Sizes::for_area(w, (h as usize / self.panels.len()).max(1) as u32 + 320);
        let xs = self.x_scale();
        let title_band = ChartText { title: &self.title, x_label: "", y_label: "" }.title_height(sz);
        let rest = h as f64 - title_band;
        let panel_h = rest / self.panels.len() as f64;
        let marker_r = sz.len(4.0);
        // Lay every panel out first, then give all plots the same left and right edges, so the
        // x axes line up from panel to panel.
        let mut laid_out = Vec::with_capacity(self.panels.len());
        for (k, panel) in self.panels.iter().enumerate() {
            let top = if k == 0 { 0.0 } else { title_band + panel_h * k as f64 };
            let bottom = title_band + panel_h * (k + 1) as f64;
            let area = root.clone().shrink((0, top.round() as u32), (w, (bottom - top).round() as u32));
            let title = if k == 0 { self.title.as_str() } else { "" };
            let text = ChartText { title, x_label: &self.x_label, y_label: &panel.y_label };
            let entries = panel
                .series
                .iter()
                .map(|s| LegendEntry { icon: LegendIcon::Line(s.color), text: s.label.clone() })
                .collect();
            let mut legend = Legend::new(&area, entries, sz);
            let obstacles = |chart: &Chart| {
                let mut points = Vec::new();
                for s in &panel.series {
                    sample_pieces(&pieces(chart, panel, s), sz.len(3.0), &mut points);
                }
                points
            };
            let (chart, legend_rect) =
                Chart::with_legend(&area, sz, text, (xs, y_scale(panel)), &mut legend, obstacles, marker_r)?;
            laid_out.push((area, text, legend, chart, legend_rect));
        }
        let left = laid_out.iter().map(|l| l.3.plot.x0).fold(f64::NEG_INFINITY, f64::max);
        let right = laid_out.iter().map(|l| l.3.plot.x1).fold(f64::INFINITY, f64::min);
        for (k, (panel, (area, text, legend, mut chart, legend_rect))) in
            self.panels.iter().zip(laid_out).enumerate()
        {
            let (dx0, dx1) = (left - chart.plot.x0, right - chart.plot.x1);
            let legend_rect = legend_rect.map(|r| {
                // A legend moves with the plot edge it sits against.
                let dx = if r.x0 < (chart.plot.x0 + chart.plot.x1) / 2.0 { dx0 } else { dx1 };
                Rect { x0: r.x0 + dx, x1: r.x1 + dx, ..r }
            });
            chart.plot.x0 = left;
            chart.plot.x1 = right;
            chart.draw_grid(&area, sz)?;
            let p = chart.plot;
            for (x, label) in &self.references {
                let px = chart.px(*x, chart.ys.lo()).0;
                if !(p.x0 - 0.5..=p.x1 + 0.5).contains(&px) {
                    continue;
                }
                let style = REFERENCE_COLOR.stroke_width(sz.px(1.5, 1));
                area.draw(&PathElement::new(vec![round((px, p.y0)), round((px, p.y1))], style))?;
                if k == 0 {
                    let font = (FAMILY, sz.note).into_font().color(&REFERENCE_COLOR);
                    let st = font.pos(Pos::new(HPos::Left, VPos::Top));
                    area.draw(&Text::new(label.clone(), round((px + sz.len(4.0), p.y0 + sz.len(3.0))), st))?;
                }
            }
            let line_w = sz.px(2.2, 1);
            for series in &panel.series {
                for piece in &pieces(&chart, panel, series) {
                    draw_polyline(&area, piece, series.color.stroke_width(line_w))?;
                    if series.dots {
                        for &q in piece {
                            draw_marker(&area, q, MarkerShape::Circle, series.color, marker_r, sz)?;
                        }
                    }
                }
            }
            chart.draw_axes(&area, sz, text)?;
            if let Some(rect) = legend_rect {
                legend.draw(&area, rect)?;
            }
        }
        Ok(())
    }
}

/// A series' line in pixels: broken where a value is not finite (or not positive on a log axis),
/// and clipped to the plot.
fn pieces(chart: &Chart, panel: &SeriesPanel, series: &Series) -> Vec<Vec<(f64, f64)>> {
    let frame = chart.plot.inflate(0.5);
    let mut pieces = Vec::new();
    let mut run: Vec<(f64, f64)> = Vec::new();
    for &(x, y) in &series.points {
        let p = if panel.log && y <= 0.0 { (f64::NAN, f64::NAN) } else { chart.px(x, y) };
        if p.0.is_finite() && p.1.is_finite() {
            run.push(p);
        } else if !run.is_empty() {
            pieces.extend(keep_inside(&std::mem::take(&mut run), &frame));
        }
    }
    pieces.extend(keep_inside(&run, &frame));
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{render, ImageFormat};

    fn figure() -> SeriesFigure {
        let xs: Vec<f64> = (0..=40).map(|i| -0.5 + i as f64 * 0.05).collect();
        let loss: Vec<(f64, f64)> = xs.iter().map(|&a| (a, 0.1 + (a - 1.0).powi(2))).collect();
        let acc: Vec<(f64, f64)> = xs.iter().map(|&a| (a, 1.0 - 0.4 * (a - 1.0).abs().min(1.0))).collect();
        SeriesFigure::new("loss along a line", "alpha")
            .panel(SeriesPanel::new("loss").series(Series::line("train", RGBColor(0, 114, 178), loss)))
            .panel(SeriesPanel::new("accuracy").series(Series::dotted_line(
                "train",
                RGBColor(213, 94, 0),
                acc,
            )))
            .reference(0.0, "initial")
            .reference(1.0, "trained")
    }

    #[test]
    fn panels_and_references_draw_as_png_and_svg() {
        let f = figure();
        let png = render(&f, ImageFormat::Png, f.size()).unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        let svg = String::from_utf8(render(&f, ImageFormat::Svg, f.size()).unwrap()).unwrap();
        for text in ["loss along a line", "accuracy", "initial", "trained", "alpha"] {
            assert!(svg.contains(text), "the SVG lacks `{text}`");
        }
    }

    #[test]
    fn scales_cover_the_data_and_the_references_and_survive_empty_or_flat_panels() {
        let f = figure();
        let xs = f.x_scale();
        assert!(xs.lo() <= -0.5 && xs.hi() >= 1.5);
        let flat =
            SeriesPanel::new("d").series(Series::line("d", RGBColor(0, 0, 0), vec![(0.0, 2.0), (1.0, 2.0)]));
        let s = y_scale(&flat);
        assert!(s.lo() < 2.0 && s.hi() > 2.0);
        let empty = SeriesPanel::new("e").series(Series::line("e", RGBColor(0, 0, 0), vec![(0.0, f64::NAN)]));
        let s = y_scale(&empty);
        assert!(s.lo() < s.hi());
        let log = SeriesPanel::new("l").log(true).series(Series::line(
            "l",
            RGBColor(0, 0, 0),
            vec![(0.0, 0.0), (1.0, 10.0), (2.0, 1000.0)],
        ));
        let s = y_scale(&log);
        assert!(s.is_log() && s.lo() <= 10.0 && s.hi() >= 1000.0 && s.lo() > 0.0);
        assert!(render(&SeriesFigure::new("t", "x"), ImageFormat::Png, (400, 300)).is_err());
    }
}
