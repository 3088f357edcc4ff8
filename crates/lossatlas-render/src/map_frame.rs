//! The frame of a map (contour maps, panels, basin maps): the title above the plot, the axes
//! with ticks and names, a strip kept free at the right for a colour bar or a legend, and the
//! mapping from the plane to the plot's pixels ([`Frame`]).
//!
//! The axes are drawn through plotters' mesh, with as many ticks as fit comfortably and label
//! areas measured to be exactly wide enough; everything inside the plot is then drawn in pixels
//! through [`Frame::px`], which maps exactly as plotters does.

use plotters::coord::ranged1d::Ranged;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::font::FAMILY;
use crate::geometry::{measure, round};
use crate::labels::{format_tick, Sizes};
use crate::text::{draw_title, ChartText};

/// How a map's plot box is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Aspect {
    /// Fill the space the figure has: the axes get different scales when their ranges differ.
    #[default]
    Fill,
    /// One unit of u is as long as one unit of v, so circles look round: a well-conditioned
    /// loss (a z-scored input, say) shows circular contours and an ill-conditioned one long,
    /// thin ellipses. The plot shrinks in one direction and is centred.
    Equal,
}

/// The colour of frames, ticks and their labels' lines.
pub(crate) const FRAME_COLOR: RGBColor = RGBColor(40, 40, 40);

/// Where a panel's plot went, in the backend's pixels.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PanelGeometry {
    /// The plotting rectangle: left, top, right, bottom (exclusive).
    pub plot: (i32, i32, i32, i32),
}

/// Maps plane coordinates to pixels relative to the plotting area's top-left corner, exactly as
/// plotters maps them (the last pixel column is the range's end), but in floating point.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame {
    /// The last pixel column (the plot is `w + 1` pixels wide).
    pub w: f64,
    /// The last pixel row.
    pub h: f64,
    pub u0: f64,
    pub u1: f64,
    pub v0: f64,
    pub v1: f64,
}

impl Frame {
    pub(crate) fn px(self, u: f64, v: f64) -> (f64, f64) {
        ((u - self.u0) / (self.u1 - self.u0) * self.w, (1.0 - (v - self.v0) / (self.v1 - self.v0)) * self.h)
    }

    pub(crate) fn px_i(self, u: f64, v: f64) -> (i32, i32) {
        round(self.px(u, v))
    }
}

/// What a map's frame holds: a title above the plot, ticks and axis names on the left and below,
/// and a strip at the right kept free (for a colour bar or a legend).
#[derive(Debug, Clone, Copy)]
pub(crate) struct MapFrameSpec<'s> {
    /// What the map is called in the "too small" error, e.g. "contour panel".
    pub what: &'s str,
    /// The title and axis names.
    pub text: ChartText<'s>,
    /// The horizontal range (min, max).
    pub u: (f64, f64),
    /// The vertical range (min, max).
    pub v: (f64, f64),
    pub aspect: Aspect,
    /// Width in pixels of the strip at the right.
    pub strip_w: u32,
    /// Width in pixels the caller would like free right of the plot (for a legend) when the
    /// aspect leaves spare width; the rest of the spare width is split evenly.
    pub right_reserve: f64,
    /// Height in pixels kept free below the axis name (for a legend too large for the plot).
    pub bottom_reserve: f64,
    /// Centre the title over the plot and the strip right of it together (a legend that belongs
    /// to the figure), not over the plot alone (beside a colour bar).
    pub title_over_strip: bool,
}

/// A map's plotting area, once its frame is drawn.
pub(crate) struct MapFrame<DB: DrawingBackend> {
    /// The plotting area (pixel coordinates relative to its top-left corner).
    pub plot: DrawingArea<DB, Shift>,
    /// The map from the plane to `plot`'s pixels.
    pub frame: Frame,
    /// Where the plot went, in the backend's pixels.
    pub geometry: PanelGeometry,
    /// The gap to keep between the plot and the strip at its right, in pixels.
    pub gap: f64,
}

/// Draws the title, the axes with their ticks and names, and returns the plotting area. Ticks are
/// as many as fit comfortably, and the label areas are measured to be exactly wide enough.
pub(crate) fn draw_map_frame<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    spec: &MapFrameSpec,
    sz: Sizes,
) -> Result<MapFrame<DB>> {
    let (aw, ah) = area.dim_in_pixel();
    let title_h = spec.text.title_height(sz);
    let bar_w = spec.strip_w;
    if aw < bar_w + 120 || ah < title_h as u32 + 100 {
        return Err(Error::Invalid(format!(
            "a {} of {aw}x{ah} pixels is too small to draw; use a larger picture",
            spec.what
        )));
    }
    let main = area.margin(0, 0, 0, bar_w);
    let ((u0, u1), (v0, v1)) = (spec.u, spec.v);

    let (mw, mh) = main.dim_in_pixel();
    let n_x = ((mw as f64 / (sz.tick * 6.0)) as usize).clamp(3, 10);
    let n_y = ((mh as f64 / (sz.tick * 3.5)) as usize).clamp(3, 10);
    let x_ticks = tick_points(u0, u1, n_x);
    let y_ticks = tick_points(v0, v1, n_y);
    let x_step = tick_step(&x_ticks);
    let y_step = tick_step(&y_ticks);
    let tick_font = (FAMILY, sz.tick).into_font();
    let widest_y =
        y_ticks.iter().map(|&v| measure(area, &format_tick(v, y_step), &tick_font).0).fold(0.0, f64::max);
    let tick_len = sz.len(5.0);
    let y_area =
        widest_y + tick_len + sz.len(8.0) + if spec.text.y_label.is_empty() { 0.0 } else { 1.4 * sz.axis };
    let x_area =
        sz.tick + tick_len + sz.len(8.0) + if spec.text.x_label.is_empty() { 0.0 } else { 1.4 * sz.axis };
    let last_x_label = x_ticks.last().map(|&v| measure(area, &format_tick(v, x_step), &tick_font).0);
    let gap = sz.len(8.0);
    let (mut top, mut left, mut bottom) = (title_h, sz.len(10.0), sz.len(8.0) + spec.bottom_reserve);
    let mut right = if bar_w > 0 { gap } else { (last_x_label.unwrap_or(0.0) / 2.0).max(sz.len(18.0)) };
    if spec.aspect == Aspect::Equal {
        // Shrink the plot in one direction until a unit of u is as long as a unit of v.
        let pw = mw as f64 - left - right - y_area;
        let ph = mh as f64 - top - bottom - x_area;
        let ratio = (u1 - u0) / (v1 - v0);
        if pw > 0.0 && ph > 0.0 {
            if pw / ph > ratio {
                let extra = pw - ph * ratio;
                let reserve = spec.right_reserve.min(extra);
                left += (extra - reserve) / 2.0;
                right += reserve + (extra - reserve) / 2.0;
            } else {
                let extra = ph - pw / ratio;
                top += extra / 2.0;
                bottom += extra / 2.0;
            }
        }
    }

    let mut chart = ChartBuilder::on(&main)
        .margin_top(top.round() as u32)
        .margin_left(left.round() as u32)
        .margin_bottom(bottom.round() as u32)
        .margin_right(right.round() as u32)
        .x_label_area_size(x_area.round() as u32)
        .y_label_area_size(y_area.round() as u32)
        .build_cartesian_2d(u0..u1, v0..v1)?;

    let fmt_x = |v: &f64| format_tick(*v, x_step);
    let fmt_y = |v: &f64| format_tick(*v, y_step);
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(n_x)
        .y_labels(n_y)
        .x_label_formatter(&fmt_x)
        .y_label_formatter(&fmt_y)
        .x_label_style(tick_font.clone().color(&BLACK))
        .y_label_style(tick_font.clone().color(&BLACK))
        .axis_desc_style((FAMILY, sz.axis).into_font().color(&BLACK))
        .x_desc(spec.text.x_label)
        .y_desc(spec.text.y_label)
        .axis_style(FRAME_COLOR.stroke_width(sz.px(1.0, 1)))
        .set_all_tick_mark_size(tick_len.round() as u32)
        .draw()?;

    let plot = chart.plotting_area().strip_coord_spec();
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let frame =
        Frame { w: (xr.end - xr.start - 1) as f64, h: (yr.end - yr.start - 1) as f64, u0, u1, v0, v1 };
    let geometry = PanelGeometry { plot: (xr.start, yr.start, xr.end, yr.end) };
    let (base_x, base_y) = area.get_base_pixel();
    // Centred over the plot, or over the plot and the strip beside it.
    let right = if spec.title_over_strip { (base_x + aw as i32).max(xr.end) } else { xr.end };
    let cx = ((xr.start + right) / 2 - base_x) as f64;
    let cy = (yr.start - base_y) as f64 - title_h / 2.0;
    draw_title(area, spec.text.title, (cx, cy), sz)?;
    Ok(MapFrame { plot, frame, geometry, gap })
}

/// Tick positions plotters will choose for `n` labels on [lo, hi].
fn tick_points(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let r: RangedCoordf64 = (lo..hi).into();
    r.key_points(n)
}

fn tick_step(ticks: &[f64]) -> f64 {
    match ticks {
        [a, b, ..] => (b - a).abs(),
        [a] => a.abs().max(1.0),
        [] => 1.0,
    }
}
