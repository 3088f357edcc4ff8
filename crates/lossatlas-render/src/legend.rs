//! The legend of a map or chart: rows of an icon and a text in a light box, in one or more
//! columns, measured before it is placed so a figure can decide where it goes (a free corner of
//! the plot, or outside it) before anything is drawn.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::bands::{NAN_FILL, NAN_HATCH};
use crate::error::Result;
use crate::font::FAMILY;
use crate::geometry::{measure, round, Rect};
use crate::labels::Sizes;
use crate::markers::{draw_marker, MINIMUM_COLOR};
use crate::overlay::MarkerShape;

/// The icon in front of a legend entry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum LegendIcon {
    /// A short line (a curve of a chart).
    Line(RGBColor),
    /// A short line ending in a marker (a run that ended, e.g. diverged).
    LineEnd(RGBColor, MarkerShape),
    /// A few scatter dots (data points).
    Dots(RGBColor),
    /// An optimizer path on a map: a line starting at a circle, as the paths start.
    Path(RGBColor),
    /// The red star of a landscape's minimum.
    Minimum,
    /// A grey hatched box: the places where the loss is not finite.
    NonFinite,
}

/// One legend row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LegendEntry {
    pub icon: LegendIcon,
    pub text: String,
}

/// A measured legend, in one or more columns (filled top to bottom, then left to right).
#[derive(Debug, Clone)]
pub(crate) struct Legend {
    entries: Vec<LegendEntry>,
    /// Width and height in pixels, box included.
    pub size: (f64, f64),
    widest: f64,
    columns: usize,
    pad: f64,
    icon_w: f64,
    row_h: f64,
    /// The sizes it is measured and drawn at.
    sz: Sizes,
}

impl Legend {
    /// The legend of `entries` in one column, measured with the fonts of `area`.
    pub fn new<DB: DrawingBackend>(
        area: &DrawingArea<DB, Shift>,
        entries: Vec<LegendEntry>,
        sz: Sizes,
    ) -> Legend {
        let font = (FAMILY, sz.note).into_font();
        let widest = entries.iter().map(|e| measure(area, &e.text, &font).0).fold(0.0, f64::max);
        let mut legend = Legend {
            entries,
            size: (0.0, 0.0),
            widest,
            columns: 1,
            pad: 0.6 * sz.note,
            icon_w: 2.2 * sz.note,
            row_h: 1.45 * sz.note,
            sz,
        };
        legend.set_columns(1);
        legend
    }

    /// The same entries measured again at other sizes (smaller text for a long legend).
    pub fn resized<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, sz: Sizes) -> Legend {
        Legend::new(area, self.entries.clone(), sz)
    }

    /// Shortens every entry whose row would be wider than `max_w` pixels (box included) to fit,
    /// ending it with an ellipsis, so no legend is wider than the figure. A label can be any
    /// length (a learning rate written out with 150 digits, say), and a legend that fits nowhere
    /// would leave no room for the plot.
    pub fn fit_width<DB: DrawingBackend>(&mut self, area: &DrawingArea<DB, Shift>, max_w: f64) {
        let sz = self.sz;
        let font = (FAMILY, sz.note).into_font();
        let room = max_w - 2.0 * self.pad - self.icon_w - 0.4 * self.note();
        if self.widest <= room {
            return;
        }
        for e in &mut self.entries {
            if measure(area, &e.text, &font).0 <= room {
                continue;
            }
            let chars: Vec<char> = e.text.chars().collect();
            // The longest prefix that fits with the ellipsis (at least one character).
            let (mut lo, mut hi) = (1, chars.len());
            while lo < hi {
                let mid = (lo + hi).div_ceil(2);
                let candidate: String = chars[..mid].iter().chain(['…'].iter()).collect();
                if measure(area, &candidate, &font).0 <= room {
                    lo = mid;
                } else {
                    hi = mid - 1;
                }
            }
            e.text = chars[..lo].iter().chain(['…'].iter()).collect();
        }
        self.widest = self.entries.iter().map(|e| measure(area, &e.text, &font).0).fold(0.0, f64::max);
        let columns = self.columns;
        self.set_columns(columns);
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The width of an entry (icon and widest text) and of a column with the gap after it.
    pub fn column_width(&self) -> (f64, f64) {
        let entry = self.icon_w + 0.4 * self.note() + self.widest;
        (entry, entry + 1.5 * self.note())
    }

    /// The text size, recovered from the row height.
    fn note(&self) -> f64 {
        self.row_h / 1.45
    }

    fn rows(&self) -> usize {
        self.entries.len().div_ceil(self.columns)
    }

    /// Lays the entries out in `columns` columns (at least one, at most one per entry).
    pub fn set_columns(&mut self, columns: usize) {
        self.columns = columns.clamp(1, self.entries.len().max(1));
        let (entry, column) = self.column_width();
        self.size = (
            2.0 * self.pad + (self.columns - 1) as f64 * column + entry,
            2.0 * self.pad + self.row_h * self.rows() as f64 - 0.3 * self.note(),
        );
    }

    /// The candidate corners of `plot` for the legend, `inset` pixels in: upper right, upper
    /// left, lower right, lower left.
    fn corners(&self, plot: &Rect, inset: f64) -> [Rect; 4] {
        let (w, h) = self.size;
        [
            (plot.x1 - inset - w, plot.y0 + inset),
            (plot.x0 + inset, plot.y0 + inset),
            (plot.x1 - inset - w, plot.y1 - inset - h),
            (plot.x0 + inset, plot.y1 - inset - h),
        ]
        .map(|(x, y)| Rect { x0: x, y0: y, x1: x + w, y1: y + h })
    }

    /// A corner of `plot` where the legend covers none of `obstacles` (each `reach` pixels
    /// large, plus a margin), trying upper right, upper left, lower right, lower left in order.
    pub fn free_corner(&self, plot: &Rect, obstacles: &[(f64, f64)], reach: f64, sz: Sizes) -> Option<Rect> {
        self.corners(plot, sz.len(8.0)).into_iter().find(|r| {
            r.x0 >= plot.x0 && r.y0 >= plot.y0 && {
                let halo = r.inflate(sz.len(6.0) + reach);
                !obstacles.iter().any(|p| halo.contains(*p))
            }
        })
    }

    /// The corner of `plot` where the legend hides least, and what it hides there: the summed
    /// weights of the `important` points (x, y, weight) near it, plus a little for each point of
    /// `density` (where lines run) under it, plus a little for being a later choice.
    pub fn least_covering_corner(
        &self,
        plot: &Rect,
        important: &[(f64, f64, f64)],
        density: &[(f64, f64)],
        sz: Sizes,
    ) -> (Rect, f64) {
        let mut best: Option<(f64, Rect)> = None;
        for (k, r) in self.corners(plot, sz.len(8.0)).into_iter().enumerate() {
            let halo = r.inflate(sz.len(10.0));
            let cost: f64 = important.iter().filter(|p| halo.contains((p.0, p.1))).map(|p| p.2).sum::<f64>()
                + 0.2 * density.iter().filter(|p| r.contains(**p)).count() as f64
                + 0.5 * k as f64;
            if best.as_ref().is_none_or(|(c, _)| cost < *c) {
                best = Some((cost, r));
            }
        }
        let (cost, rect) = best.expect("four corners");
        (rect, cost)
    }

    /// Draws the legend in `rect` (its [`Legend::size`], placed) on `area`.
    pub fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, rect: Rect) -> Result<()> {
        let sz = self.sz;
        area.draw(&Rectangle::new(rect.corners(), WHITE.mix(0.92).filled()))?;
        area.draw(&Rectangle::new(rect.corners(), RGBColor(150, 150, 150).stroke_width(sz.px(1.0, 1))))?;
        let font = (FAMILY, sz.note).into_font();
        let rows = self.rows();
        let (_, column_w) = self.column_width();
        for (k, e) in self.entries.iter().enumerate() {
            let (col, row) = (k / rows, k % rows);
            let cy = rect.y0 + self.pad + self.row_h * row as f64 + 0.5 * (self.row_h - 0.3 * sz.note);
            let ix = rect.x0 + self.pad + col as f64 * column_w;
            let line = |color: RGBColor, width: f64| -> Result<()> {
                let seg = vec![round((ix, cy)), round((ix + self.icon_w, cy))];
                area.draw(&PathElement::new(seg, color.stroke_width(sz.px(width, 1))))?;
                Ok(())
            };
            match e.icon {
                LegendIcon::Line(color) => line(color, 2.6)?,
                LegendIcon::LineEnd(color, shape) => {
                    line(color, 2.6)?;
                    draw_marker(area, (ix + 0.8 * self.icon_w, cy), shape, color, sz.len(5.0), sz)?;
                }
                LegendIcon::Dots(color) => {
                    for (fx, dy) in [(0.15, 0.2), (0.5, -0.2), (0.85, 0.15)] {
                        let c = round((ix + fx * self.icon_w, cy + dy * sz.note));
                        area.draw(&Circle::new(c, sz.len(3.2).round().max(1.0) as i32, color.filled()))?;
                    }
                }
                LegendIcon::Path(color) => {
                    line(color, 2.2)?;
                    let start = (ix + 0.2 * self.icon_w, cy);
                    draw_marker(area, start, MarkerShape::Circle, color, sz.len(4.5), sz)?;
                }
                LegendIcon::Minimum => {
                    let c = (ix + self.icon_w / 2.0, cy);
                    draw_marker(area, c, MarkerShape::Star, MINIMUM_COLOR, sz.len(7.0), sz)?;
                }
                LegendIcon::NonFinite => {
                    let h = 0.45 * sz.note;
                    let r = Rect::around((ix + self.icon_w / 2.0, cy), h * 1.3, h);
                    area.draw(&Rectangle::new(r.corners(), NAN_FILL.filled()))?;
                    area.draw(&Rectangle::new(r.corners(), NAN_HATCH.stroke_width(sz.px(1.0, 1))))?;
                }
            }
            let st = font.clone().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
            area.draw(&Text::new(e.text.clone(), round((ix + self.icon_w + 0.4 * sz.note, cy)), st))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_entry_is_shortened_to_the_width_given() {
        crate::font::ensure_registered();
        let mut rgb = vec![0u8; 800 * 600 * 3];
        let root = BitMapBackend::with_buffer(&mut rgb, (800, 600)).into_drawing_area();
        let sz = Sizes::for_area(800, 600);
        let long = format!("gd lr=1{}", "0".repeat(150));
        let entries = vec![
            LegendEntry { icon: LegendIcon::Line(BLACK), text: long.clone() },
            LegendEntry { icon: LegendIcon::Minimum, text: "min".into() },
        ];
        let mut legend = Legend::new(&root, entries, sz);
        assert!(legend.size.0 > 800.0, "{:?}", legend.size);
        legend.fit_width(&root, 300.0);
        assert!(legend.size.0 <= 300.0 && legend.size.0 > 200.0, "{:?}", legend.size);
        let text = &legend.entries[0].text;
        assert!(text.starts_with("gd lr=100") && text.ends_with('…') && text.len() < long.len(), "{text}");
        assert_eq!(legend.entries[1].text, "min", "short entries stay whole");
    }
}
