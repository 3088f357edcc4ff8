//! The data and the curves the runs fitted to them: the second picture of the seed's figure 5
//! ("data points and the fitted curve"), one curve per optimizer run.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::geometry::keep_inside;
use crate::labels::Sizes;
use crate::legend::{Legend, LegendEntry, LegendIcon};
use crate::markers::draw_polyline;
use crate::output::Figure;
use crate::text::ChartText;
use crate::ticks::Scale;
use crate::xy_chart::{sample_pieces, Chart};

/// The colour of the data points: a neutral dark grey, so the runs' colours stand out on top.
const DATA_COLOR: RGBColor = RGBColor(90, 90, 90);

/// How far a curve may reach beyond the data on the y axis, as a fraction of the data's y span on
/// each side. A run that diverged has absurd parameters; its curve is cut at the frame instead of
/// squeezing the data into a thin band.
const CURVE_REACH: f64 = 0.5;

/// The data as a scatter plot with one fitted curve per run on top, each in its run's colour and
/// named in the legend.
///
/// Built by value: `FitFigure::new(&xs, &ys).curve("adam lr=0.1", PATH_COLORS[0], points)`.
/// The axes cover the data and the curves with a small margin, but a curve widens the y range by
/// at most half the data's span each way and is cut at the frame beyond it, so one diverged run
/// cannot squeeze the data into a thin band; a curve lying wholly above or below the plot is
/// named so in the legend ("(above the plot)"). A curve's non-finite points leave gaps. The
/// legend sits in a corner of the plot that holds no data point or curve, or, when every corner
/// is taken, outside: right of the plot or in columns below it, whichever leaves the larger
/// plot. Render it with [`crate::render`]; [`FitFigure::DEFAULT_SIZE`] suits it.
#[derive(Debug, Clone)]
pub struct FitFigure {
    xs: Vec<f64>,
    ys: Vec<f64>,
    curves: Vec<FitCurve>,
    title: String,
    x_label: String,
    y_label: String,
    data_label: Option<String>,
}

/// One fitted curve.
#[derive(Debug, Clone, PartialEq)]
struct FitCurve {
    label: String,
    color: RGBColor,
    points: Vec<(f64, f64)>,
}

impl FitFigure {
    /// The size (width, height in pixels) the figure is designed for; text and lines scale with
    /// the picture.
    pub const DEFAULT_SIZE: (u32, u32) = (800, 600);

    /// A figure of the data points (`xs[i]`, `ys[i]`). Points with a non-finite coordinate are
    /// left out; the two slices must have the same length (checked when drawing).
    pub fn new(xs: &[f64], ys: &[f64]) -> FitFigure {
        FitFigure {
            xs: xs.to_vec(),
            ys: ys.to_vec(),
            curves: Vec::new(),
            title: "Data and fitted curves".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            data_label: None,
        }
    }

    /// Adds a curve through `points` (x, y), drawn as a line in `color` in the given order and
    /// listed in the legend as `label`. Sample it densely enough to look smooth (200 points over
    /// the data's x range is plenty).
    pub fn curve(mut self, label: impl Into<String>, color: RGBColor, points: Vec<(f64, f64)>) -> Self {
        self.curves.push(FitCurve { label: label.into(), color, points });
        self
    }

    /// The title. Default: "Data and fitted curves".
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// The horizontal axis name. Default: "x".
    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = label.into();
        self
    }

    /// The vertical axis name. Default: "y".
    pub fn y_label(mut self, label: impl Into<String>) -> Self {
        self.y_label = label.into();
        self
    }

    /// The legend entry of the data points. Default: "data (N points)".
    pub fn data_label(mut self, label: impl Into<String>) -> Self {
        self.data_label = Some(label.into());
        self
    }

    /// The data points with both coordinates finite.
    fn data(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.xs.iter().zip(&self.ys).map(|(&x, &y)| (x, y)).filter(|p| p.0.is_finite() && p.1.is_finite())
    }

    /// The axis ranges: the data, and the curves as far as [`CURVE_REACH`] allows, plus a margin.
    fn scales(&self) -> (Scale, Scale) {
        let mut x = Range::default();
        let mut y = Range::default();
        for (px, py) in self.data() {
            x.add(px);
            y.add(py);
        }
        let data_y = y;
        let (y_floor, y_ceil) = match data_y.get() {
            Some((lo, hi)) => {
                let span = if hi > lo { hi - lo } else { lo.abs().max(1.0) };
                (lo - CURVE_REACH * span, hi + CURVE_REACH * span)
            }
            None => (f64::NEG_INFINITY, f64::INFINITY),
        };
        for c in &self.curves {
            for &(px, py) in &c.points {
                if px.is_finite() && py.is_finite() && py >= y_floor && py <= y_ceil {
                    x.add(px);
                    y.add(py);
                }
            }
        }
        let (x0, x1) = x.get().unwrap_or((0.0, 1.0));
        let (y0, y1) = y.get().unwrap_or((0.0, 1.0));
        (Scale::linear(x0, x1).padded(0.04), Scale::linear(y0, y1).padded(0.06))
    }
}

/// Where a curve is drawn relative to the plot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    /// Some of it is inside.
    Shown,
    /// All of it is above the y range (a diverged run's line, say).
    Above,
    /// All of it is below.
    Below,
    /// It has no point with finite coordinates.
    NotFinite,
}

impl FitCurve {
    /// Whether the curve shows in a plot with the y range of `ys`. A curve that passes the range
    /// between two points (from far below to far above) counts as shown.
    fn placement(&self, ys: &Scale) -> Placement {
        let mut finite = self.points.iter().filter(|p| p.0.is_finite() && p.1.is_finite());
        let Some(first) = finite.next() else { return Placement::NotFinite };
        let side = |y: f64| match ys.fraction(y) {
            t if t > 1.0 => Placement::Above,
            t if t < 0.0 => Placement::Below,
            _ => Placement::Shown,
        };
        let start = side(first.1);
        if start != Placement::Shown && finite.all(|p| side(p.1) == start) {
            start
        } else {
            Placement::Shown
        }
    }
}

/// The smallest interval holding the values added.
#[derive(Debug, Clone, Copy)]
struct Range {
    lo: f64,
    hi: f64,
}

impl Default for Range {
    fn default() -> Range {
        Range { lo: f64::INFINITY, hi: f64::NEG_INFINITY }
    }
}

impl Range {
    fn add(&mut self, v: f64) {
        self.lo = self.lo.min(v);
        self.hi = self.hi.max(v);
    }

    fn get(self) -> Option<(f64, f64)> {
        (self.lo <= self.hi).then_some((self.lo, self.hi))
    }
}

impl Figure for FitFigure {
    fn supersampling(&self) -> u32 {
        2
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        if self.xs.len() != self.ys.len() {
            return Err(Error::Invalid(format!(
                "the fit figure got {} x values but {} y values; give one y per x",
                self.xs.len(),
                self.ys.len()
            )));
        }
        root.fill(&WHITE)?;
        let (w, h) = root.dim_in_pixel();
        let sz = Sizes::for_area(w, h);
        let text = ChartText { title: &self.title, x_label: &self.x_label, y_label: &self.y_label };
        let (xs, ys) = self.scales();

        let n_data = self.data().count();
        let mut entries = Vec::new();
        if n_data > 0 {
            let text = self
                .data_label
                .clone()
                .unwrap_or_else(|| format!("data ({n_data} point{})", if n_data == 1 { "" } else { "s" }));
            entries.push(LegendEntry { icon: LegendIcon::Dots(DATA_COLOR), text });
        }
        for c in &self.curves {
            let text = match c.placement(&ys) {
                Placement::Shown => c.label.clone(),
                Placement::Above => format!("{} (above the plot)", c.label),
                Placement::Below => format!("{} (below the plot)", c.label),
                Placement::NotFinite => format!("{} (no finite values)", c.label),
            };
            entries.push(LegendEntry { icon: LegendIcon::Line(c.color), text });
        }
        let mut legend = Legend::new(root, entries, sz);

        let dot_r = sz.len(3.2).max(1.0);
        let geometry = |chart: &Chart| {
            let frame = chart.plot.inflate(0.5);
            let dots: Vec<(f64, f64)> =
                self.data().map(|(x, y)| chart.px(x, y)).filter(|p| frame.contains(*p)).collect();
            let curves: Vec<Vec<Vec<(f64, f64)>>> = self
                .curves
                .iter()
                .map(|c| {
                    let pts: Vec<(f64, f64)> = c.points.iter().map(|&(x, y)| chart.px(x, y)).collect();
                    keep_inside(&pts, &frame)
                })
                .collect();
            (dots, curves)
        };
        let obstacles = |chart: &Chart| {
            let (mut points, curves) = geometry(chart);
            for pieces in &curves {
                sample_pieces(pieces, sz.len(3.0), &mut points);
            }
            points
        };
        let (chart, legend_rect) =
            Chart::with_legend(root, sz, text, (xs, ys), &mut legend, obstacles, dot_r)?;
        let (dots, curves) = geometry(&chart);

        chart.draw_grid(root, sz)?;
        let r = dot_r.round().max(1.0) as i32;
        for &p in &dots {
            root.draw(&Circle::new(
                (p.0.round() as i32, p.1.round() as i32),
                r,
                DATA_COLOR.mix(0.6).filled(),
            ))?;
        }
        let line_w = sz.px(2.6, 1);
        for (c, pieces) in self.curves.iter().zip(&curves) {
            for piece in pieces {
                draw_polyline(root, piece, c.color.stroke_width(line_w))?;
            }
        }
        chart.draw_axes(root, sz, text)?;
        if let Some(rect) = legend_rect {
            legend.draw(root, rect)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{render, ImageFormat};
    use crate::PATH_COLORS;

    fn line_data() -> (Vec<f64>, Vec<f64>) {
        let xs: Vec<f64> = (0..50).map(|i| -1.0 + 2.0 * i as f64 / 49.0).collect();
        let ys = xs.iter().map(|x| 1.2 * x + 2.5 + 0.05 * (7.0 * x).sin()).collect();
        (xs, ys)
    }

    fn curve(a: f64, b: f64) -> Vec<(f64, f64)> {
        (0..=100).map(|i| -1.0 + i as f64 / 50.0).map(|x| (x, a * x + b)).collect()
    }

    fn decode(png: &[u8]) -> image::RgbImage {
        image::load_from_memory_with_format(png, image::ImageFormat::Png).unwrap().to_rgb8()
    }

    #[test]
    fn png_and_svg_have_the_requested_size_and_content() {
        let (xs, ys) = line_data();
        let fig = FitFigure::new(&xs, &ys).curve("gd lr=0.1", PATH_COLORS[0], curve(1.2, 2.5)).curve(
            "adam lr=0.1",
            PATH_COLORS[1],
            curve(1.0, 2.4),
        );
        let img = decode(&render(&fig, ImageFormat::Png, (640, 480)).unwrap());
        assert_eq!(img.dimensions(), (640, 480));
        // Both curve colours are there (allowing for anti-aliasing at the edges).
        for c in &PATH_COLORS[..2] {
            let n = img.pixels().filter(|p| p.0 == [c.0, c.1, c.2]).count();
            assert!(n > 200, "only {n} pixels of {c:?}");
        }
        let svg = String::from_utf8(render(&fig, ImageFormat::Svg, (800, 600)).unwrap()).unwrap();
        let texts = crate::test_support::svg_texts(&svg);
        for t in ["Data and fitted curves", "gd lr=0.1", "adam lr=0.1", "data (50 points)", "x", "y"] {
            assert!(texts.iter().any(|s| s == t), "no text {t:?} in {texts:?}");
        }
    }

    #[test]
    fn a_diverged_curve_does_not_squash_the_data() {
        let (xs, ys) = line_data();
        let fig = FitFigure::new(&xs, &ys)
            .curve("fine", PATH_COLORS[0], curve(1.2, 2.5))
            .curve("diverged", PATH_COLORS[1], curve(-3e12, 8e11))
            .curve("nan", PATH_COLORS[2], vec![(0.0, f64::NAN), (0.5, f64::INFINITY)]);
        let (_, ys_scale) = fig.scales();
        // Data y in [1.25, 3.75] or so, span 2.5: the axis stops within half a span of it.
        assert!(ys_scale.lo() > 1.3 - 1.25 - 0.3 && ys_scale.hi() < 3.7 + 1.25 + 0.3, "{ys_scale:?}");
        let img = decode(&render(&fig, ImageFormat::Png, (500, 400)).unwrap());
        assert_eq!(img.dimensions(), (500, 400));
        let flat = FitFigure::new(&xs, &ys)
            .curve("fine", PATH_COLORS[0], curve(1.2, 2.5))
            .curve("far", PATH_COLORS[1], curve(0.0, 4e5))
            .curve("nan", PATH_COLORS[2], vec![(0.0, f64::NAN)]);
        let (_, ys_scale) = flat.scales();
        assert!(ys_scale.hi() < 4.0, "a curve wholly above the data does not stretch the axis: {ys_scale:?}");
        let svg = String::from_utf8(render(&flat, ImageFormat::Svg, (800, 600)).unwrap()).unwrap();
        let texts = crate::test_support::svg_texts(&svg);
        assert!(texts.iter().any(|t| t == "far (above the plot)"), "{texts:?}");
        assert!(texts.iter().any(|t| t == "nan (no finite values)"), "{texts:?}");
    }

    #[test]
    fn mismatched_lengths_are_an_error_and_empty_data_draws() {
        let e = render(&FitFigure::new(&[1.0, 2.0], &[1.0]), ImageFormat::Png, (400, 300)).unwrap_err();
        assert!(e.to_string().contains("2 x values but 1 y values"), "{e}");
        let img = decode(&render(&FitFigure::new(&[], &[]), ImageFormat::Png, (400, 300)).unwrap());
        assert_eq!(img.dimensions(), (400, 300));
    }
}
