//! The eigenvalue density of a Hessian on a log density axis, as PyHessian draws it: the bulk of
//! near-zero eigenvalues and the few large outliers that set the sharpness are decades apart in
//! density, and only a log axis shows both.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{Error, Result};
use crate::font::FAMILY;
use crate::geometry::{keep_inside, measure, round};
use crate::labels::Sizes;
use crate::markers::{draw_dashed, draw_polyline};
use crate::output::Figure;
use crate::text::ChartText;
use crate::ticks::Scale;
use crate::xy_chart::{Chart, Reserve};

/// How many decades below its peak the density axis reaches (PyHessian's figures show 1e-10 to
/// about 1e2): far enough for a lone outlier eigenvalue's bump among thousands of weights.
const DECADES: f64 = 10.0;

/// The density line's colour.
const LINE: RGBColor = RGBColor(31, 119, 180);
/// The colour of the marked eigenvalues.
const MARK: RGBColor = RGBColor(214, 39, 40);

/// An eigenvalue density: `density[i]` at eigenvalue `grid[i]`, drawn as a line over a log density
/// axis from ten decades below the peak to a little above it (lower values run along the bottom of
/// the frame), with optional dashed vertical marks at given eigenvalues (the top ones Lanczos
/// found), each labelled.
///
/// Built by value: `SpectrumFigure::new(grid, density)?.mark(12.3, "lambda_1 = 12.3")`. Render
/// it with [`crate::render`]; [`SpectrumFigure::DEFAULT_SIZE`] suits it.
#[derive(Debug, Clone, PartialEq)]
pub struct SpectrumFigure {
    grid: Vec<f64>,
    density: Vec<f64>,
    marks: Vec<(f64, String)>,
    title: String,
    x_label: String,
    y_label: String,
}

impl SpectrumFigure {
    /// The size (width, height in pixels) the figure is designed for.
    pub const DEFAULT_SIZE: (u32, u32) = (800, 600);

    /// A figure of the density on `grid` (ascending). Refuses grids and densities of different
    /// lengths, fewer than two points, a grid that is not finite and increasing, and a density
    /// with no positive finite value.
    pub fn new(grid: Vec<f64>, density: Vec<f64>) -> Result<SpectrumFigure> {
        if grid.len() != density.len() || grid.len() < 2 {
            return Err(Error::Invalid(format!(
                "a density needs as many values as grid points, at least 2 (got {} and {})",
                density.len(),
                grid.len()
            )));
        }
        if grid.iter().any(|g| !g.is_finite()) || grid.windows(2).any(|w| w[1] <= w[0]) {
            return Err(Error::Invalid("the eigenvalue grid must be finite and increasing".into()));
        }
        if !density.iter().any(|d| d.is_finite() && *d > 0.0) {
            return Err(Error::Invalid("the density has no positive value to draw on a log axis".into()));
        }
        Ok(SpectrumFigure {
            grid,
            density,
            marks: Vec::new(),
            title: "Hessian eigenvalue density".into(),
            x_label: "eigenvalue".into(),
            y_label: "density (log scale)".into(),
        })
    }

    /// Marks an eigenvalue with a dashed vertical line and a label at the top of the plot.
    pub fn mark(mut self, eigenvalue: f64, label: impl Into<String>) -> Self {
        if eigenvalue.is_finite() {
            self.marks.push((eigenvalue, label.into()));
        }
        self
    }

    /// The title. Default: "Hessian eigenvalue density".
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// The horizontal axis name. Default: "eigenvalue".
    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = label.into();
        self
    }

    /// The scales: the grid (and the marks) across, the density's top [`DECADES`] up.
    fn scales(&self) -> (Scale, Scale) {
        let lo = self.marks.iter().map(|m| m.0).fold(self.grid[0], f64::min);
        let hi = self.marks.iter().map(|m| m.0).fold(self.grid[self.grid.len() - 1], f64::max);
        let peak = self.density.iter().copied().filter(|d| d.is_finite()).fold(0.0, f64::max);
        let floor = peak * 10f64.powf(-DECADES);
        let lowest = self.density.iter().copied().filter(|d| d.is_finite() && *d > 0.0).fold(peak, f64::min);
        (Scale::linear(lo, hi).padded(0.02), Scale::log(lowest.max(floor), peak).padded(0.03))
    }
}

impl Figure for SpectrumFigure {
    fn supersampling(&self) -> u32 {
        2
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        root.fill(&WHITE)?;
        let (w, h) = root.dim_in_pixel();
        let sz = Sizes::for_area(w, h);
        let text = ChartText { title: &self.title, x_label: &self.x_label, y_label: &self.y_label };
        let (xs, ys) = self.scales();
        let chart = Chart::layout(root, sz, text, xs, ys, Reserve::default())?;
        chart.draw_grid(root, sz)?;
        let plot = chart.plot;
        // Values under the axis run along its bottom rather than leaving gaps in the line.
        let bottom = ys.lo();
        let points = column_peaks(
            self.grid
                .iter()
                .zip(&self.density)
                .map(|(&x, &d)| chart.px(x, if d.is_finite() { d.max(bottom) } else { f64::NAN })),
        );
        let style = LINE.stroke_width(sz.px(2.4, 1));
        for piece in keep_inside(&points, &plot.inflate(0.5)) {
            draw_polyline(root, &piece, style)?;
        }
        let font = (FAMILY, sz.note).into_font();
        let mut label_y = plot.y0 + sz.len(6.0);
        for (value, label) in &self.marks {
            let x = chart.px(*value, bottom).0;
            draw_dashed(
                root,
                (x, plot.y0),
                (x, plot.y1),
                MARK.stroke_width(sz.px(1.5, 1)),
                sz.len(6.0),
                sz.len(4.0),
            )?;
            // Left of the line when the label would leave the plot on the right.
            let tw = measure(root, label, &font).0;
            let (anchor, lx) = if x + sz.len(4.0) + tw < plot.x1 {
                (HPos::Left, x + sz.len(4.0))
            } else {
                (HPos::Right, x - sz.len(4.0))
            };
            let st = font.clone().color(&MARK).pos(Pos::new(anchor, VPos::Top));
            root.draw(&Text::new(label.clone(), round((lx, label_y)), st))?;
            label_y += 1.3 * sz.note;
        }
        chart.draw_axes(root, sz, text)?;
        Ok(())
    }
}

/// One point per pixel column: the highest (smallest y) of the points that fall in it, at the
/// column's centre. Thousands of grid points per hundred pixels would otherwise draw a beaded
/// line of sub-pixel segments; keeping each column's peak keeps every narrow bump's height. A
/// point that is not finite breaks the line, as it does unbinned.
fn column_peaks(points: impl Iterator<Item = (f64, f64)>) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    let mut column = f64::NAN;
    for (x, y) in points {
        if !(x.is_finite() && y.is_finite()) {
            out.push((f64::NAN, f64::NAN));
            column = f64::NAN;
            continue;
        }
        let c = x.floor();
        match out.last_mut() {
            Some(last) if c == column => last.1 = last.1.min(y),
            _ => {
                out.push((c + 0.5, y));
                column = c;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{render, ImageFormat};
    use crate::test_support::{decode, svg_texts};

    /// A bulk at 0 and an outlier at 10 with a millionth of the mass.
    fn bulk_and_outlier() -> (Vec<f64>, Vec<f64>) {
        let grid: Vec<f64> = (0..2001).map(|i| -1.0 + 12.0 * i as f64 / 2000.0).collect();
        let bump =
            |x: f64, at: f64, mass: f64| mass * (-0.5 * ((x - at) / 0.1f64).powi(2)).exp() / (0.1 * 2.5066);
        let density = grid.iter().map(|&x| bump(x, 0.0, 1.0) + bump(x, 10.0, 1e-6)).collect();
        (grid, density)
    }

    #[test]
    fn the_outlier_shows_on_the_log_axis_and_the_marks_are_labelled() {
        let (grid, density) = bulk_and_outlier();
        let fig = SpectrumFigure::new(grid, density).unwrap().mark(10.0, "lambda_max 10");
        let (_, ys) = fig.scales();
        assert!(ys.is_log());
        assert!(ys.lo() < 1e-6 && ys.lo() > 1e-12, "{ys:?}");
        let svg = String::from_utf8(render(&fig, ImageFormat::Svg, (800, 600)).unwrap()).unwrap();
        let texts = svg_texts(&svg);
        for t in ["Hessian eigenvalue density", "eigenvalue", "density (log scale)", "lambda_max 10"] {
            assert!(texts.iter().any(|s| s == t), "no text {t:?} in {texts:?}");
        }
        let img = decode(&render(&fig, ImageFormat::Png, (800, 600)).unwrap());
        assert_eq!(img.dimensions(), (800, 600));
        // The line is drawn, in the right part of the plot too (the outlier's bump reaches high
        // above the floor there).
        let blue = |x0: u32, x1: u32| {
            (x0..x1)
                .flat_map(|x| (0..600).map(move |y| (x, y)))
                .filter(|&(x, y)| {
                    let p = img.get_pixel(x, y).0;
                    (p[0] as i32 - 31).abs() < 30
                        && (p[1] as i32 - 119).abs() < 30
                        && (p[2] as i32 - 180).abs() < 30
                })
                .count()
        };
        assert!(blue(100, 400) > 200);
        assert!(blue(600, 780) > 100);
    }

    #[test]
    fn columns_keep_their_peaks() {
        let pts = [(0.2, 5.0), (0.7, 1.0), (1.1, 3.0), (f64::NAN, 0.0), (1.5, 4.0), (2.0, 2.0)];
        let got = column_peaks(pts.into_iter());
        assert_eq!(got[..2], [(0.5, 1.0), (1.5, 3.0)]);
        assert!(got[2].0.is_nan());
        assert_eq!(got[3..], [(1.5, 4.0), (2.5, 2.0)]);
    }

    #[test]
    fn bad_densities_are_refused() {
        assert!(SpectrumFigure::new(vec![0.0, 1.0], vec![1.0]).is_err());
        assert!(SpectrumFigure::new(vec![1.0, 0.0], vec![1.0, 1.0]).is_err());
        assert!(SpectrumFigure::new(vec![0.0, 1.0], vec![0.0, 0.0]).is_err());
    }
}
