//! The words around and on a figure: the title and axis names every figure has ([`ChartText`]),
//! the title drawn centred and shrunk to fit, and short texts on a light box (marker labels,
//! segment labels) that stay readable over lines and colours.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::Result;
use crate::font::FAMILY;
use crate::geometry::{measure, round, Rect};
use crate::labels::Sizes;

/// A figure's title and axis names; an empty text is left out and its room given to the plot.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChartText<'a> {
    /// Written above the plot.
    pub title: &'a str,
    /// The horizontal axis name, under the tick labels.
    pub x_label: &'a str,
    /// The vertical axis name, turned to read bottom to top, left of the tick labels.
    pub y_label: &'a str,
}

impl ChartText<'_> {
    /// The height of the band above the plot: room for the title, or a thin margin without one.
    pub fn title_height(&self, sz: Sizes) -> f64 {
        if self.title.is_empty() {
            sz.len(14.0)
        } else {
            2.1 * sz.title
        }
    }
}

/// Draws `title` centred on `(cx, cy)` (pixels in `area`), shrunk when it is wider than the area
/// and moved sideways as little as keeps it whole inside the area.
pub(crate) fn draw_title<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    (cx, cy): (f64, f64),
    sz: Sizes,
) -> Result<()> {
    if title.is_empty() {
        return Ok(());
    }
    let aw = area.dim_in_pixel().0 as f64;
    // Glyphs' side bearings reach a little past the measured box: keep a margin either side.
    let margin = sz.len(12.0);
    let mut font = (FAMILY, sz.title).into_font();
    let tw = measure(area, title, &font).0;
    if tw > aw - 2.0 * margin {
        font = (FAMILY, sz.title * (aw - 2.0 * margin) / tw).into_font();
    }
    let tw = measure(area, title, &font).0;
    let cx = cx.clamp(tw / 2.0 + margin, (aw - tw / 2.0 - margin).max(tw / 2.0 + margin));
    let st = font.color(&BLACK).pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new(title.to_string(), round((cx, cy)), st))?;
    Ok(())
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
