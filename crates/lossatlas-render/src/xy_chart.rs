//! The frame of the x-y line charts ([`crate::FitFigure`] and [`crate::LossCurveFigure`]): where
//! the plot goes, its grid, axes, ticks and title, and where the legend goes (a free corner, or
//! outside the plot).
//!
//! These charts are drawn in pixel space rather than through a plotters chart context, so that an
//! axis can be linear or logarithmic with ticks chosen by [`crate::ticks`]. Text sizes and line
//! widths follow [`Sizes`], so a chart looks the same at any picture size.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontTransform;

use crate::error::{Error, Result};
use crate::font::FAMILY;
use crate::geometry::{lerp, measure, round, Rect};
use crate::labels::Sizes;
use crate::legend::Legend;
use crate::map_frame::FRAME_COLOR;
use crate::text::{draw_title, ChartText};
use crate::ticks::{Scale, Ticks};
/// Grid lines at the major ticks: light enough to stay behind the data.
const GRID_COLOR: RGBColor = RGBColor(229, 229, 229);

/// A laid-out chart: where the plot box is and how values map into it.
#[derive(Debug, Clone)]
pub(crate) struct Chart {
    /// The plot box in the drawing area's pixels.
    pub plot: Rect,
    pub xs: Scale,
    pub ys: Scale,
    x_ticks: Ticks,
    y_ticks: Ticks,
    title_h: f64,
    /// The area's size in pixels.
    area: (f64, f64),
    /// The room kept free right of and below the plot's labels.
    reserve: Reserve,
    /// The empty strip along the bottom edge of the area.
    bottom_margin: f64,
}

/// Room kept free beside a chart's plot for a legend, in pixels.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Reserve {
    pub right: f64,
    pub bottom: f64,
}

impl Chart {
    /// Lays out a chart in `area`, keeping the `reserve` free right of the plot and below the x
    /// axis labels.
    pub fn layout<DB: DrawingBackend>(
        area: &DrawingArea<DB, Shift>,
        sz: Sizes,
        text: ChartText,
        xs: Scale,
        ys: Scale,
        reserve: Reserve,
    ) -> Result<Chart> {
        let (aw, ah) = area.dim_in_pixel();
        let (aw, ah) = (aw as f64, ah as f64);
        let title_h = text.title_height(sz);
        let tick_font = (FAMILY, sz.tick).into_font();
        let n_x = (((aw - reserve.right) / (sz.tick * 6.0)) as usize).clamp(3, 10);
        let n_y = (((ah - reserve.bottom) / (sz.tick * 3.5)) as usize).clamp(3, 10);
        let x_ticks = xs.ticks(n_x);
        let y_ticks = ys.ticks(n_y);
        let widest_y = y_ticks.major.iter().map(|(_, t)| measure(area, t, &tick_font).0).fold(0.0, f64::max);
        let tick_len = sz.len(5.0);
        let y_area =
            widest_y + tick_len + sz.len(8.0) + if text.y_label.is_empty() { 0.0 } else { 1.4 * sz.axis };
        let x_area =
            sz.tick + tick_len + sz.len(8.0) + if text.x_label.is_empty() { 0.0 } else { 1.4 * sz.axis };
        // The last x tick label is centred on its tick and may reach past the plot's right edge.
        let last_x = x_ticks.major.last().map(|(_, t)| measure(area, t, &tick_font).0).unwrap_or(0.0);
        let right = (last_x / 2.0 + sz.len(4.0)).max(sz.len(18.0)) + reserve.right;
        let bottom_margin = sz.len(8.0);
        let plot = Rect {
            x0: sz.len(10.0) + y_area,
            y0: title_h,
            x1: aw - right,
            y1: ah - bottom_margin - x_area - reserve.bottom,
        };
        if plot.x1 - plot.x0 < 60.0 || plot.y1 - plot.y0 < 60.0 {
            return Err(Error::Invalid(format!(
                "a chart of {}x{} pixels leaves no room for its plot; use a larger picture",
                aw as u32, ah as u32
            )));
        }
        Ok(Chart { plot, xs, ys, x_ticks, y_ticks, title_h, area: (aw, ah), reserve, bottom_margin })
    }

    /// Lays out a chart with its legend: inside the plot, in a corner where it covers none of
    /// the points `obstacles` returns for a layout (each `reach` pixels large), if there is one;
    /// else outside, right of the plot or below it in columns, whichever leaves the larger plot.
    /// Returns the chart and where the legend goes (none for an empty legend).
    pub fn with_legend<DB: DrawingBackend>(
        area: &DrawingArea<DB, Shift>,
        sz: Sizes,
        text: ChartText,
        (xs, ys): (Scale, Scale),
        legend: &mut Legend,
        obstacles: impl Fn(&Chart) -> Vec<(f64, f64)>,
        reach: f64,
    ) -> Result<(Chart, Option<Rect>)> {
        let inside = Chart::layout(area, sz, text, xs, ys, Reserve::default())?;
        if legend.is_empty() {
            return Ok((inside, None));
        }
        // Never wider than half the chart beside the plot, or the whole width below it.
        legend.fit_width(area, 0.5 * inside.area.0);
        if let Some(r) = legend.free_corner(&inside.plot, &obstacles(&inside), reach, sz) {
            return Ok((inside, Some(r)));
        }
        let gap = sz.len(12.0);
        legend.set_columns(1);
        let right =
            Chart::layout(area, sz, text, xs, ys, Reserve { right: legend.size.0 + gap, bottom: 0.0 });
        // Below: as many columns as fit under the plot.
        let (_, column_w) = legend.column_width();
        let room = inside.plot.x1 - inside.plot.x0;
        let columns = ((room / column_w).floor() as usize).clamp(1, legend.len());
        // Fewer columns when the rows stay the same (7 entries in 4 columns take 2 rows, as in 4).
        let rows = legend.len().div_ceil(columns);
        let columns = legend.len().div_ceil(rows);
        legend.set_columns(columns);
        let below_fits = legend.size.0 <= inside.area.0 - 2.0 * sz.len(8.0);
        let below =
            Chart::layout(area, sz, text, xs, ys, Reserve { right: 0.0, bottom: legend.size.1 + gap });
        let plot_area =
            |c: &Result<Chart>| c.as_ref().map_or(0.0, |c| (c.plot.x1 - c.plot.x0) * (c.plot.y1 - c.plot.y0));
        if let (Ok(chart), true) = (&below, below_fits && plot_area(&below) >= plot_area(&right)) {
            let rect = chart.legend_below(legend);
            Ok((chart.clone(), Some(rect)))
        } else if let Ok(chart) = right {
            legend.set_columns(1);
            let rect = chart.legend_right(legend, gap);
            Ok((chart, Some(rect)))
        } else {
            // No room outside (a small picture): the legend goes in the corner it covers least
            // of, rather than leaving no room for the plot.
            legend.set_columns(1);
            let obstacles = obstacles(&inside);
            let weighted: Vec<(f64, f64, f64)> = obstacles.iter().map(|p| (p.0, p.1, 1.0)).collect();
            let (rect, _) = legend.least_covering_corner(&inside.plot, &weighted, &[], sz);
            Ok((inside, Some(rect)))
        }
    }

    /// The legend's place in the reserve right of the plot, level with its top.
    fn legend_right(&self, legend: &Legend, gap: f64) -> Rect {
        let x0 = self.plot.x1 + (self.area.0 - self.plot.x1 - legend.size.0).min(gap);
        Rect { x0, y0: self.plot.y0, x1: x0 + legend.size.0, y1: self.plot.y0 + legend.size.1 }
    }

    /// The legend's place in the reserve at the bottom, centred under the plot where it fits.
    /// The bottom margin is kept, as in [`Chart::layout`].
    fn legend_below(&self, legend: &Legend) -> Rect {
        let (aw, ah) = self.area;
        let (w, h) = legend.size;
        let x0 = ((self.plot.x0 + self.plot.x1 - w) / 2.0).clamp(4.0, (aw - w - 4.0).max(4.0));
        // The reserve ends the chart's bottom margin above the area's edge; the gap is above it.
        let y0 = ah - self.bottom_margin - h;
        Rect { x0, y0, x1: x0 + w, y1: y0 + h }
    }

    /// The pixel position of (x, y); not finite when either value cannot be placed.
    pub fn px(&self, x: f64, y: f64) -> (f64, f64) {
        let p = &self.plot;
        (p.x0 + self.xs.fraction(x) * (p.x1 - p.x0), p.y1 - self.ys.fraction(y) * (p.y1 - p.y0))
    }

    /// Grid lines at the major ticks (drawn first, under the data).
    pub fn draw_grid<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, sz: Sizes) -> Result<()> {
        let p = &self.plot;
        let style = GRID_COLOR.stroke_width(sz.px(1.0, 1));
        for (v, _) in &self.x_ticks.major {
            let x = self.px(*v, self.ys.lo()).0;
            area.draw(&PathElement::new(vec![round((x, p.y0)), round((x, p.y1))], style))?;
        }
        for (v, _) in &self.y_ticks.major {
            let y = self.px(self.xs.lo(), *v).1;
            area.draw(&PathElement::new(vec![round((p.x0, y)), round((p.x1, y))], style))?;
        }
        Ok(())
    }

    /// The frame, ticks, tick labels, axis names and title (drawn last, over the data).
    pub fn draw_axes<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        sz: Sizes,
        text: ChartText,
    ) -> Result<()> {
        let p = &self.plot;
        let line = FRAME_COLOR.stroke_width(sz.px(1.0, 1));
        area.draw(&Rectangle::new(p.corners(), line))?;
        let tick_len = sz.len(5.0);
        let tick_font = (FAMILY, sz.tick).into_font().color(&BLACK);
        let gap = sz.len(4.0);
        for (v, label) in &self.x_ticks.major {
            let x = self.px(*v, self.ys.lo()).0;
            area.draw(&PathElement::new(vec![round((x, p.y1)), round((x, p.y1 + tick_len))], line))?;
            let st = tick_font.clone().pos(Pos::new(HPos::Center, VPos::Top));
            area.draw(&Text::new(label.clone(), round((x, p.y1 + tick_len + gap)), st))?;
        }
        for v in &self.x_ticks.minor {
            let x = self.px(*v, self.ys.lo()).0;
            area.draw(&PathElement::new(vec![round((x, p.y1)), round((x, p.y1 + 0.6 * tick_len))], line))?;
        }
        let mut widest_y: f64 = 0.0;
        for (v, label) in &self.y_ticks.major {
            let y = self.px(self.xs.lo(), *v).1;
            area.draw(&PathElement::new(vec![round((p.x0 - tick_len, y)), round((p.x0, y))], line))?;
            let st = tick_font.clone().pos(Pos::new(HPos::Right, VPos::Center));
            area.draw(&Text::new(label.clone(), round((p.x0 - tick_len - gap, y)), st))?;
            widest_y = widest_y.max(measure(area, label, &(FAMILY, sz.tick).into_font()).0);
        }
        for v in &self.y_ticks.minor {
            let y = self.px(self.xs.lo(), *v).1;
            area.draw(&PathElement::new(vec![round((p.x0 - 0.6 * tick_len, y)), round((p.x0, y))], line))?;
        }
        let axis_font = (FAMILY, sz.axis).into_font().color(&BLACK);
        if !text.x_label.is_empty() {
            let y = p.y1 + tick_len + gap + 1.15 * sz.tick + sz.len(4.0);
            let st = axis_font.clone().pos(Pos::new(HPos::Center, VPos::Top));
            area.draw(&Text::new(text.x_label.to_string(), round(((p.x0 + p.x1) / 2.0, y)), st))?;
        }
        if !text.y_label.is_empty() {
            let x = p.x0 - tick_len - gap - widest_y - sz.len(6.0) - 1.2 * sz.axis;
            let st = axis_font.transform(FontTransform::Rotate270).pos(Pos::new(HPos::Center, VPos::Top));
            area.draw(&Text::new(text.y_label.to_string(), round((x.max(0.0), (p.y0 + p.y1) / 2.0)), st))?;
        }
        // Centred over the plot and a legend right of it.
        let right = (p.x1 + self.reserve.right).min(self.area.0);
        draw_title(area, text.title, ((p.x0 + right) / 2.0, self.title_h / 2.0), sz)?;
        Ok(())
    }
}

/// Points every `spacing` pixels along the pieces: what the legend must not cover.
pub(crate) fn sample_pieces(pieces: &[Vec<(f64, f64)>], spacing: f64, out: &mut Vec<(f64, f64)>) {
    for piece in pieces {
        if let Some(&first) = piece.first() {
            out.push(first);
        }
        for w in piece.windows(2) {
            let len = (w[1].0 - w[0].0).hypot(w[1].1 - w[0].1);
            let n = (len / spacing).ceil().max(1.0) as usize;
            out.extend((1..=n).map(|k| lerp(w[0], w[1], k as f64 / n as f64)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::legend::{LegendEntry, LegendIcon};

    #[test]
    fn a_legend_goes_in_a_free_corner_or_outside_the_plot() {
        crate::font::ensure_registered();
        let mut rgb = vec![0u8; 800 * 600 * 3];
        let root = BitMapBackend::with_buffer(&mut rgb, (800, 600)).into_drawing_area();
        let sz = Sizes::for_area(800, 600);
        let text = ChartText { title: "t", x_label: "x", y_label: "y" };
        let scales = (Scale::linear(0.0, 1.0), Scale::linear(0.0, 1.0));
        let entries = |n: usize| {
            (0..n)
                .map(|k| LegendEntry { icon: LegendIcon::Line(BLACK), text: format!("run number {k}") })
                .collect::<Vec<_>>()
        };
        // Data along the rising diagonal: the upper-left corner is free.
        let diagonal = |c: &Chart| (0..=100).map(|i| c.px(i as f64 / 100.0, i as f64 / 100.0)).collect();
        let mut legend = Legend::new(&root, entries(3), sz);
        let (chart, rect) = Chart::with_legend(&root, sz, text, scales, &mut legend, diagonal, 0.0).unwrap();
        let rect = rect.unwrap();
        assert!(
            rect.x0 < (chart.plot.x0 + chart.plot.x1) / 2.0 && rect.y0 < chart.plot.y0 + 20.0,
            "{rect:?}"
        );
        // Data everywhere: the legend goes outside, below the plot in columns for many entries.
        let everywhere = |c: &Chart| {
            (0..=40)
                .flat_map(|i| (0..=40).map(move |j| (i, j)))
                .map(|(i, j)| c.px(i as f64 / 40.0, j as f64 / 40.0))
                .collect()
        };
        for n in [2, 9] {
            let mut legend = Legend::new(&root, entries(n), sz);
            let (chart, rect) =
                Chart::with_legend(&root, sz, text, scales, &mut legend, everywhere, 0.0).unwrap();
            let rect = rect.unwrap();
            assert!(!rect.intersects(&chart.plot), "{n} entries: {rect:?} on {:?}", chart.plot);
            assert!(rect.x1 <= 800.0 && rect.y1 <= 600.0, "{rect:?}");
        }
        let mut empty = Legend::new(&root, Vec::new(), sz);
        assert!(Chart::with_legend(&root, sz, text, scales, &mut empty, everywhere, 0.0)
            .unwrap()
            .1
            .is_none());
    }
}
