//! Loss per step, one line per optimizer run: how fast each run gets down, and where one blows up.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use lossatlas::Stopped;

use crate::error::Result;
use crate::font::FAMILY;
use crate::geometry::keep_inside;
use crate::geometry::{measure, round, Rect};
use crate::labels::{format_sig, Sizes};
use crate::legend::{Legend, LegendEntry, LegendIcon};
use crate::markers::{draw_marker, draw_polyline};
use crate::output::Figure;
use crate::overlay::MarkerShape;
use crate::text::ChartText;
use crate::ticks::Scale;
use crate::xy_chart::{sample_pieces, Chart};

/// How far above the highest loss of the runs that did not diverge the axis may reach when a
/// diverged run goes further: a factor on a log axis (three decades) ...
const DIVERGED_REACH_LOG: f64 = 1e3;
/// ... and a fraction of their span on a linear axis. Above it the diverged line leaves through
/// the top of the frame, marked where it leaves, so the other runs keep most of the height.
const DIVERGED_REACH_LINEAR: f64 = 0.5;

/// How the loss axis is scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LossScale {
    /// Logarithmic when every finite loss is above zero (losses usually fall geometrically, so a
    /// log axis shows the whole run instead of a drop and a flat line), linear otherwise.
    #[default]
    Auto,
    /// Linear.
    Linear,
    /// Logarithmic; losses at or below zero are left out.
    Log,
}

/// Loss against step, one line per run, each in its run's colour and named in the legend.
///
/// Built by value: `LossCurveFigure::new().run("adam lr=0.1", PATH_COLORS[0], losses, stopped)`,
/// where `losses[i]` is the loss after `i` steps (the start is step 0). Values that are not finite
/// are left out. A run that [`Stopped::Diverged`] ends in a cross at its last finite loss with a
/// note "diverged at step N (loss L)"; when its loss ran far above every other run (more than
/// three decades on a log axis), the axis stops there and the line leaves through the top of the
/// frame, marked by an arrowhead where it leaves. A [`Stopped::Converged`] run ends in a dot. The
/// caller writes the legend text, e.g. with a " (diverged)" suffix. The legend is placed as in
/// [`crate::FitFigure`]: in a free corner, else outside the plot. Render it with
/// [`crate::render`]; [`LossCurveFigure::DEFAULT_SIZE`] suits it.
#[derive(Debug, Clone, Default)]
pub struct LossCurveFigure {
    runs: Vec<LossRun>,
    title: Option<String>,
    x_label: Option<String>,
    y_label: Option<String>,
    scale: LossScale,
}

/// One run's losses.
#[derive(Debug, Clone, PartialEq)]
struct LossRun {
    label: String,
    color: RGBColor,
    losses: Vec<f64>,
    stopped: Stopped,
}

/// A run's line in plot values, with what is needed to mark its end.
#[derive(Debug, Clone)]
struct RunGeometry {
    pieces: Vec<Vec<(f64, f64)>>,
    /// Where the end marker goes and its shape, if it gets one.
    end: Option<((f64, f64), MarkerShape)>,
}

impl LossCurveFigure {
    /// The size (width, height in pixels) the figure is designed for; text and lines scale with
    /// the picture.
    pub const DEFAULT_SIZE: (u32, u32) = (800, 600);

    /// A figure with no runs yet.
    pub fn new() -> LossCurveFigure {
        LossCurveFigure::default()
    }

    /// Adds a run: `losses[i]` is the loss after `i` steps, `stopped` why the run ended.
    pub fn run(
        mut self,
        label: impl Into<String>,
        color: RGBColor,
        losses: Vec<f64>,
        stopped: Stopped,
    ) -> Self {
        self.runs.push(LossRun { label: label.into(), color, losses, stopped });
        self
    }

    /// The title. Default: "Loss per step".
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// The horizontal axis name. Default: "step".
    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = Some(label.into());
        self
    }

    /// The vertical axis name. Default: "loss", or "loss (log scale)" on a log axis.
    pub fn y_label(mut self, label: impl Into<String>) -> Self {
        self.y_label = Some(label.into());
        self
    }

    /// How the loss axis is scaled. Default: [`LossScale::Auto`].
    pub fn scale(mut self, scale: LossScale) -> Self {
        self.scale = scale;
        self
    }

    /// Whether the loss axis comes out logarithmic.
    pub fn is_log(&self) -> bool {
        match self.scale {
            LossScale::Linear => false,
            LossScale::Log => self.points().any(|(_, l)| l > 0.0),
            LossScale::Auto => {
                let mut any = false;
                for (_, l) in self.points() {
                    if l <= 0.0 {
                        return false;
                    }
                    any = true;
                }
                any
            }
        }
    }

    /// Every finite (step, loss) of every run.
    fn points(&self) -> impl Iterator<Item = (usize, f64)> + '_ {
        self.runs.iter().flat_map(finite_points)
    }

    /// The axis ranges: all steps; all losses, except that diverged runs may reach only so far
    /// above the others.
    fn scales(&self) -> (Scale, Scale) {
        let log = self.is_log();
        let usable = |l: f64| !log || l > 0.0;
        let last_step = self.runs.iter().map(|r| r.losses.len().saturating_sub(1)).max().unwrap_or(0);
        let xs = Scale::linear(0.0, last_step.max(1) as f64).padded(0.015);
        let range = |diverged: bool| {
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for run in self.runs.iter().filter(|r| (r.stopped == Stopped::Diverged) == diverged) {
                for (_, l) in finite_points(run).filter(|&(_, l)| usable(l)) {
                    lo = lo.min(l);
                    hi = hi.max(l);
                }
            }
            (lo, hi)
        };
        let (calm_lo, calm_hi) = range(false);
        let (wild_lo, wild_hi) = range(true);
        let lo = calm_lo.min(wild_lo);
        let hi = if calm_hi.is_finite() && wild_hi > calm_hi {
            let reach = if log {
                calm_hi * DIVERGED_REACH_LOG
            } else {
                calm_hi + DIVERGED_REACH_LINEAR * (calm_hi - calm_lo.min(wild_lo)).max(calm_hi.abs())
            };
            wild_hi.min(reach)
        } else {
            calm_hi.max(wild_hi)
        };
        let ys = match (lo.is_finite() && hi.is_finite(), log) {
            (false, true) => Scale::log(0.1, 10.0),
            (false, false) => Scale::linear(0.0, 1.0),
            (true, true) => Scale::log(lo, hi).padded(0.04),
            (true, false) => Scale::linear(lo, hi).padded(0.05),
        };
        (xs, ys)
    }
}

/// A run's finite (step, loss) pairs.
fn finite_points(run: &LossRun) -> impl Iterator<Item = (usize, f64)> + '_ {
    run.losses.iter().copied().enumerate().filter(|(_, l)| l.is_finite())
}

impl Figure for LossCurveFigure {
    fn supersampling(&self) -> u32 {
        2
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        root.fill(&WHITE)?;
        let (w, h) = root.dim_in_pixel();
        let sz = Sizes::for_area(w, h);
        let log = self.is_log();
        let y_label = match (&self.y_label, log) {
            (Some(l), _) => l.clone(),
            (None, true) => "loss (log scale)".into(),
            (None, false) => "loss".into(),
        };
        let title = self.title.clone().unwrap_or_else(|| "Loss per step".into());
        let x_label = self.x_label.clone().unwrap_or_else(|| "step".into());
        let text = ChartText { title: &title, x_label: &x_label, y_label: &y_label };
        let (xs, ys) = self.scales();

        let entries = self
            .runs
            .iter()
            .map(|r| LegendEntry {
                icon: match r.stopped {
                    Stopped::Diverged => LegendIcon::LineEnd(r.color, MarkerShape::Cross),
                    Stopped::Converged => LegendIcon::LineEnd(r.color, MarkerShape::Circle),
                    Stopped::MaxSteps => LegendIcon::Line(r.color),
                },
                text: r.label.clone(),
            })
            .collect();
        let mut legend = Legend::new(root, entries, sz);
        let note_font = (FAMILY, sz.note).into_font();
        let marker_r = sz.len(6.0);

        let geometry = |chart: &Chart| {
            let frame = chart.plot.inflate(0.5);
            let runs: Vec<RunGeometry> = self.runs.iter().map(|r| run_geometry(r, chart, &frame)).collect();
            let notes = diverged_notes(root, &self.runs, &runs, chart, &note_font, marker_r);
            (runs, notes)
        };
        let obstacles = |chart: &Chart| {
            let (runs, notes) = geometry(chart);
            let mut points = Vec::new();
            for g in &runs {
                sample_pieces(&g.pieces, sz.len(3.0), &mut points);
                points.extend(g.end.map(|(p, _)| p));
            }
            for (r, _) in &notes {
                // The corners and the middle of the box, spaced finer than a legend row.
                let n = ((r.x1 - r.x0) / sz.len(8.0)).ceil().max(1.0) as usize;
                for k in 0..=n {
                    let x = r.x0 + (r.x1 - r.x0) * k as f64 / n as f64;
                    points.extend([(x, r.y0), (x, r.y1)]);
                }
            }
            points
        };
        let (chart, legend_rect) =
            Chart::with_legend(root, sz, text, (xs, ys), &mut legend, obstacles, marker_r)?;
        let (geometry, notes) = geometry(&chart);

        chart.draw_grid(root, sz)?;
        let line_w = sz.px(2.4, 1);
        for (run, g) in self.runs.iter().zip(&geometry) {
            for piece in &g.pieces {
                draw_polyline(root, piece, run.color.stroke_width(line_w))?;
            }
        }
        for (run, g) in self.runs.iter().zip(&geometry) {
            if let Some((p, shape)) = g.end {
                let r = if shape == MarkerShape::Circle { 0.7 * marker_r } else { marker_r };
                draw_marker(root, p, shape, run.color, r, sz)?;
            }
        }
        for (r, note) in &notes {
            root.draw(&Rectangle::new([round((r.x0, r.y0)), round((r.x1, r.y1))], WHITE.mix(0.8).filled()))?;
            let st = note_font.clone().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
            let at = (r.x0 + sz.len(3.0), (r.y0 + r.y1) / 2.0);
            root.draw(&Text::new(note.clone(), round(at), st))?;
        }
        chart.draw_axes(root, sz, text)?;
        if let Some(rect) = legend_rect {
            legend.draw(root, rect)?;
        }
        Ok(())
    }
}

/// A run's line in pixels, clipped to `frame`, and its end marker: a cross at the last finite
/// loss of a diverged run (or a triangle where its line leaves the top of the frame), a dot at
/// the end of a converged one.
fn run_geometry(run: &LossRun, chart: &Chart, frame: &Rect) -> RunGeometry {
    let pts: Vec<(f64, f64)> = finite_points(run)
        .map(|(i, l)| chart.px(i as f64, l))
        .filter(|p| p.0.is_finite() && p.1.is_finite())
        .collect();
    let pieces = keep_inside(&pts, frame);
    let end = match (run.stopped, pts.last()) {
        (Stopped::Diverged, Some(&last)) if frame.contains(last) => Some((last, MarkerShape::Cross)),
        (Stopped::Diverged, Some(&last)) if last.1 < frame.y0 => {
            // Where the line last crosses the top of the frame, going up.
            let exit = pieces.iter().rev().filter_map(|p| p.last()).find(|p| (p.1 - frame.y0).abs() < 1.0);
            exit.map(|&p| ((p.0, frame.y0 + 0.5), MarkerShape::Triangle))
        }
        (Stopped::Converged, Some(&last)) if frame.contains(last) => Some((last, MarkerShape::Circle)),
        _ => None,
    };
    RunGeometry { pieces, end }
}

/// "diverged at step N" beside each diverged run's end marker, inside the plot, stacked downwards
/// where two would overlap.
fn diverged_notes<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    runs: &[LossRun],
    geometry: &[RunGeometry],
    chart: &Chart,
    font: &FontDesc,
    marker_r: f64,
) -> Vec<(Rect, String)> {
    let plot = chart.plot;
    let mut notes: Vec<(Rect, String)> = Vec::new();
    for (run, g) in runs.iter().zip(geometry) {
        let Some((p, shape)) = g.end.filter(|_| run.stopped == Stopped::Diverged) else { continue };
        let step = run.losses.len().saturating_sub(1);
        let text = match finite_points(run).last() {
            Some((_, l)) => format!("diverged at step {step} (loss {})", format_sig(l, 2)),
            None => format!("diverged at step {step}"),
        };
        let (tw, th) = measure(area, &text, font);
        let (w, h) = (tw + 0.4 * th, 1.3 * th);
        let gap = 1.4 * marker_r;
        let mut x0 = p.0 + gap;
        if x0 + w > plot.x1 - 2.0 {
            x0 = p.0 - gap - w;
        }
        x0 = x0.max(plot.x0 + 2.0);
        // Beside the marker, or just below the frame's top edge for a line leaving through it.
        let mut y0 = if shape == MarkerShape::Triangle { plot.y0 + 0.6 * gap } else { p.1 - h / 2.0 };
        y0 = y0.clamp(plot.y0 + 2.0, (plot.y1 - h - 2.0).max(plot.y0 + 2.0));
        let mut r = Rect { x0, y0, x1: x0 + w, y1: y0 + h };
        while notes.iter().any(|(o, _)| o.intersects(&r)) && r.y1 + h < plot.y1 {
            r = Rect { y0: r.y0 + h, y1: r.y1 + h, ..r };
        }
        notes.push((r, text));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{render, ImageFormat};
    use crate::test_support::svg_texts;
    use crate::PATH_COLORS;

    fn decay(l0: f64, rate: f64, floor: f64, n: usize) -> Vec<f64> {
        (0..=n).map(|i| floor + l0 * (1.0 - rate).powi(i as i32)).collect()
    }

    fn decode(png: &[u8]) -> image::RgbImage {
        image::load_from_memory_with_format(png, image::ImageFormat::Png).unwrap().to_rgb8()
    }

    #[test]
    fn png_and_svg_have_the_requested_size_and_content() {
        let fig = LossCurveFigure::new()
            .run("gd lr=0.1", PATH_COLORS[0], decay(7.0, 0.05, 0.01, 400), Stopped::MaxSteps)
            .run("adam lr=0.1", PATH_COLORS[1], decay(7.0, 0.1, 0.01, 150), Stopped::Converged);
        assert!(fig.is_log());
        let img = decode(&render(&fig, ImageFormat::Png, (640, 480)).unwrap());
        assert_eq!(img.dimensions(), (640, 480));
        for c in &PATH_COLORS[..2] {
            let n = img.pixels().filter(|p| p.0 == [c.0, c.1, c.2]).count();
            assert!(n > 200, "only {n} pixels of {c:?}");
        }
        let svg = String::from_utf8(render(&fig, ImageFormat::Svg, (800, 600)).unwrap()).unwrap();
        let texts = svg_texts(&svg);
        for t in ["Loss per step", "gd lr=0.1", "adam lr=0.1", "step", "loss (log scale)", "0.1", "1"] {
            assert!(texts.iter().any(|s| s == t), "no text {t:?} in {texts:?}");
        }
    }

    #[test]
    fn a_diverged_run_is_cut_and_marked_without_panicking() {
        let mut wild: Vec<f64> = (0..18).map(|i| 7.0 * 4f64.powi(i)).collect();
        wild.push(f64::INFINITY);
        let fig = LossCurveFigure::new()
            .run("gd lr=0.1", PATH_COLORS[0], decay(7.0, 0.05, 0.01, 400), Stopped::MaxSteps)
            .run("gd lr=1.5 (diverged)", PATH_COLORS[1], wild.clone(), Stopped::Diverged);
        let (_, ys) = fig.scales();
        assert!(ys.is_log() && ys.hi() < 8.0 * 1e3 * 2.0, "{ys:?}");
        let svg = String::from_utf8(render(&fig, ImageFormat::Svg, (800, 600)).unwrap()).unwrap();
        let texts = svg_texts(&svg);
        assert!(texts.iter().any(|t| t == "diverged at step 18 (loss 1.2e11)"), "{texts:?}");
        assert!(texts.iter().any(|t| t == "gd lr=1.5 (diverged)"));
        decode(&render(&fig, ImageFormat::Png, (500, 400)).unwrap());
        // Alone, the diverged run gets the whole axis; NaN, zero and negative losses do not panic.
        let alone = LossCurveFigure::new().run("wild", PATH_COLORS[1], wild, Stopped::Diverged);
        assert!(alone.scales().1.hi() > 1e10);
        decode(&render(&alone, ImageFormat::Png, (500, 400)).unwrap());
        let odd = LossCurveFigure::new()
            .run("zeros", PATH_COLORS[0], vec![1.0, 0.0, -1.0, f64::NAN], Stopped::Diverged)
            .run("empty", PATH_COLORS[1], vec![], Stopped::MaxSteps)
            .run("nan", PATH_COLORS[2], vec![f64::NAN], Stopped::Diverged);
        assert!(!odd.is_log());
        decode(&render(&odd, ImageFormat::Png, (400, 300)).unwrap());
        decode(&render(&LossCurveFigure::new(), ImageFormat::Png, (400, 300)).unwrap());
    }

    #[test]
    fn the_scale_can_be_forced() {
        let fig =
            LossCurveFigure::new().run("a", PATH_COLORS[0], decay(1.0, 0.1, 0.0, 50), Stopped::MaxSteps);
        assert!(fig.is_log());
        assert!(!fig.clone().scale(LossScale::Linear).is_log());
        let with_zero =
            LossCurveFigure::new().run("z", PATH_COLORS[0], vec![1.0, 0.5, 0.0], Stopped::Converged);
        assert!(!with_zero.is_log());
        assert!(with_zero.scale(LossScale::Log).is_log());
    }

    #[test]
    fn issue_14_a_run_whose_loss_overflows_to_infinity_still_draws() {
        // Losses that reach the largest doubles and then infinity (gd with a far too large rate):
        // every span, padding and power of ten of such an axis overflowed.
        let runs: [Vec<f64>; 4] = [
            vec![5.0, 1e100, 1e300, 1.7e308, f64::INFINITY],
            vec![5.0, 1e308, f64::INFINITY, f64::INFINITY],
            vec![5.0, -1e308, f64::INFINITY],
            vec![f64::INFINITY, f64::INFINITY],
        ];
        for losses in runs {
            for scale in [LossScale::Auto, LossScale::Linear, LossScale::Log] {
                let alone =
                    LossCurveFigure::new().run("wild", PATH_COLORS[1], losses.clone(), Stopped::Diverged);
                let with_calm =
                    alone.clone().run("calm", PATH_COLORS[0], decay(7.0, 0.05, 0.01, 50), Stopped::MaxSteps);
                for fig in [alone.scale(scale), with_calm.scale(scale)] {
                    let (xs, ys) = fig.scales();
                    assert!(ys.lo().is_finite() && ys.hi().is_finite() && ys.hi() > ys.lo(), "{ys:?}");
                    assert!(xs.lo().is_finite() && xs.hi().is_finite());
                    let png = render(&fig, ImageFormat::Png, (800, 600))
                        .unwrap_or_else(|e| panic!("{losses:?} {scale:?}: {e}"));
                    let img = decode(&png);
                    let c = PATH_COLORS[1];
                    let n = img.pixels().filter(|p| p.0 == [c.0, c.1, c.2]).count();
                    assert!(n > 0 || losses[0].is_infinite(), "{losses:?} {scale:?}: the run is not drawn");
                }
            }
        }
    }
}
