//! The colour bar beside a filled contour map, a heat map or a surface: a vertical strip of the
//! colour map with value ticks, and the quantity's name written along its side.
//!
//! With levels the bar is cut into the same bands as the picture (one flat colour per band,
//! boundaries at the levels, ticks at the levels); without, it is a continuous gradient with
//! the ticks an axis of the same scale would have ([`crate::ticks`]: 1, 2, 5 times a power of
//! ten; decades, or 1-2-5 multiples over a short range, on a log scale).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontTransform;

use crate::colormap::{viridis, ColorScale};
use crate::error::Result;
use crate::font::FAMILY;
use crate::labels::format_levels;
use crate::ticks::Scale;

/// Where a colour bar puts things, in pixels at a font size of `font_px`.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    /// Gap between the area's left edge and the bar.
    left: f64,
    /// The bar's width.
    bar: f64,
    /// Tick mark length.
    tick: f64,
    /// Gap between a tick and its label.
    gap: f64,
}

impl Geometry {
    fn new(font_px: f64) -> Geometry {
        Geometry { left: 0.9 * font_px, bar: 1.4 * font_px, tick: 0.35 * font_px, gap: 0.3 * font_px }
    }
}

/// The space a colour bar keeps free above and below the bar, so the end tick labels fit inside
/// its area: the bar runs from `colorbar_pad(font_px)` below the area's top to the same distance
/// above its bottom.
pub(crate) fn colorbar_pad(font_px: f64) -> u32 {
    (0.7 * font_px).ceil() as u32
}

/// The ticks a bar shows: the levels when given (thinned where they would collide is done at
/// drawing time), else nice values inside the scale.
fn ticks(scale: &ColorScale, levels: Option<&[f64]>) -> Vec<(f64, String)> {
    if let Some(levels) = levels {
        let inside: Vec<f64> =
            levels.iter().copied().filter(|l| *l >= scale.lo() && *l <= scale.hi()).collect();
        let labels = format_levels(&inside);
        return inside.into_iter().zip(labels).collect();
    }
    let axis = if scale.is_log() {
        Scale::log(scale.lo(), scale.hi())
    } else {
        Scale::linear(scale.lo(), scale.hi())
    };
    axis.ticks(8).major.into_iter().filter(|(v, _)| *v >= scale.lo() && *v <= scale.hi()).collect()
}

/// The width in pixels a colour bar needs to draw its bar, ticks, tick labels and name without
/// clipping, measured with the fonts of `area`.
pub(crate) fn colorbar_width<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    scale: &ColorScale,
    levels: Option<&[f64]>,
    label: &str,
    font_px: f64,
) -> u32 {
    let g = Geometry::new(font_px);
    let font = (FAMILY, font_px).into_font();
    let widest = ticks(scale, levels)
        .iter()
        .map(|(_, s)| area.estimate_text_size(s, &TextStyle::from(font.clone())).map(|(w, _)| w).unwrap_or(0))
        .max()
        .unwrap_or(0) as f64;
    let name = if label.is_empty() { 0.0 } else { 1.1 * font_px + 0.5 * font_px };
    (g.left + g.bar + g.tick + g.gap + widest + name + 0.5 * font_px).ceil() as u32
}

/// Draws a vertical colour bar for `scale` at the left of `area` (which should be at least
/// [`colorbar_width`] wide), running from `colorbar_pad` below its top to as far above its
/// bottom, with `label` (e.g. "loss") written bottom-to-top along its right side.
///
/// With `levels`, the bar shows one flat colour per band between consecutive levels (and below the
/// first and above the last, as far as the scale reaches), coloured like the filled contour map,
/// with ticks at the levels. Without, it is a smooth gradient with nice ticks.
pub(crate) fn draw_colorbar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    scale: &ColorScale,
    levels: Option<&[f64]>,
    label: &str,
    font_px: f64,
) -> Result<()> {
    let g = Geometry::new(font_px);
    let (w, h) = area.dim_in_pixel();
    let pad = colorbar_pad(font_px) as f64;
    let (top, bottom) = (pad, h as f64 - pad);
    if bottom - top < 4.0 {
        return Ok(());
    }
    let x0 = g.left.round() as i32;
    let x1 = (g.left + g.bar).round() as i32;
    let y_of = |v: f64| bottom - scale.position(v) * (bottom - top);
    // One pixel at the reference tick size (17.5), growing with it.
    let lw = ((font_px / 17.5).round() as u32).max(1);
    if let Some(levels) = levels {
        let mut bounds = vec![scale.lo()];
        bounds.extend(levels.iter().copied().filter(|l| *l > scale.lo() && *l < scale.hi()));
        bounds.push(scale.hi());
        for pair in bounds.windows(2) {
            let color = band_color(scale, pair[0], pair[1]);
            let (ya, yb) = (y_of(pair[1]).round() as i32, y_of(pair[0]).round() as i32);
            area.draw(&Rectangle::new([(x0, ya), (x1, yb)], color.filled()))?;
        }
        for &l in &bounds[1..bounds.len() - 1] {
            let y = y_of(l).round() as i32;
            area.draw(&PathElement::new(vec![(x0, y), (x1, y)], RGBColor(40, 40, 40).stroke_width(lw)))?;
        }
    } else {
        let (ya, yb) = (top.round() as i32, bottom.round() as i32);
        for y in ya..yb {
            let t = (bottom - (y as f64 + 0.5)) / (bottom - top);
            area.draw(&Rectangle::new([(x0, y), (x1, y + 1)], viridis(t).filled()))?;
        }
    }
    area.draw(&Rectangle::new(
        [(x0, top.round() as i32), (x1, bottom.round() as i32)],
        RGBColor(60, 60, 60).stroke_width(lw),
    ))?;

    // Tick labels, skipping any that would touch the one before (levels bunch up at the low end of
    // a linear scale).
    let font = (FAMILY, font_px).into_font();
    let style = font.color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
    let mut last_y = f64::INFINITY;
    let mut ticks = ticks(scale, levels);
    ticks.sort_by(|a, b| a.0.total_cmp(&b.0));
    let min_gap = 1.15 * font_px;
    for (v, text) in &ticks {
        let y = y_of(*v);
        let tick_style = RGBColor(60, 60, 60).stroke_width(lw);
        let yi = y.round() as i32;
        area.draw(&PathElement::new(vec![(x1, yi), (x1 + g.tick.round() as i32, yi)], tick_style))?;
        if last_y - y >= min_gap {
            let x = (g.left + g.bar + g.tick + g.gap).round() as i32;
            area.draw(&Text::new(text.clone(), (x, yi), style.clone()))?;
            last_y = y;
        }
    }

    if !label.is_empty() {
        let name_style = (FAMILY, 1.1 * font_px)
            .into_font()
            .transform(FontTransform::Rotate270)
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Center));
        let x = w as i32 - (0.55 * 1.1 * font_px).round() as i32 - (0.25 * font_px) as i32;
        area.draw(&Text::new(label.to_string(), (x, ((top + bottom) / 2.0) as i32), name_style))?;
    }
    Ok(())
}

/// The colour of the band between `lower` and `upper` (either may be infinite): the colour of its
/// middle in the scale's own space (geometric middle on a log scale), after clipping the band to
/// the scale's range. Used by the filled contour map and its colour bar alike, so they agree.
pub(crate) fn band_color(scale: &ColorScale, lower: f64, upper: f64) -> RGBColor {
    let a = scale.position(lower.max(scale.lo()));
    let b = scale.position(upper.min(scale.hi()));
    viridis((a + b) / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ticks_are_decades() {
        let t = ticks(&ColorScale::new(0.05, 300.0, true), None);
        let values: Vec<f64> = t.iter().map(|p| p.0).collect();
        assert_eq!(values, [0.1, 1.0, 10.0, 100.0]);
        let t = ticks(&ColorScale::new(0.1, 8.0, true), None);
        let labels: Vec<&str> = t.iter().map(|p| p.1.as_str()).collect();
        assert_eq!(labels, ["0.1", "0.2", "0.5", "1", "2", "5"]);
        // Three decades but two powers of ten inside: labelled 1-2-5, not only 1 and 10.
        let t = ticks(&ColorScale::new(0.134, 33.0, true), None);
        let labels: Vec<&str> = t.iter().map(|p| p.1.as_str()).collect();
        assert_eq!(labels, ["0.2", "0.5", "1", "2", "5", "10", "20"]);
        let t = ticks(&ColorScale::new(0.0, 33.0, false), None);
        let labels: Vec<&str> = t.iter().map(|p| p.1.as_str()).collect();
        assert_eq!(labels, ["0", "5", "10", "15", "20", "25", "30"]);
    }

    #[test]
    fn level_ticks_are_the_levels_inside_the_scale() {
        let t = ticks(&ColorScale::new(0.1, 30.0, true), Some(&[0.2, 1.0, 20.0, 50.0]));
        let labels: Vec<&str> = t.iter().map(|p| p.1.as_str()).collect();
        assert_eq!(labels, ["0.2", "1", "20"]);
    }

    #[test]
    fn band_colours_run_from_dark_to_light() {
        let s = ColorScale::new(0.0, 10.0, false);
        let RGBColor(r0, g0, _) = band_color(&s, f64::NEG_INFINITY, 1.0);
        let RGBColor(r1, g1, _) = band_color(&s, 9.0, f64::INFINITY);
        assert!((r0 as u32 + g0 as u32) < (r1 as u32 + g1 as u32));
    }
}
