//! Marks drawn over a plot: point markers (circle, cross, triangle, star) on a white halo,
//! dashed straight lines, and optimizer paths on a flat map with their start and end marked.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::Result;
use crate::geometry::{dist, distinct_segments, keep_inside, lerp, round, thin_polyline, Rect};
use crate::labels::Sizes;
use crate::map_frame::Frame;
use crate::overlay::{MarkerShape, PathOverlay};

/// Vertices of a path closer than this many pixels to the previous one drawn are left out
/// ([`crate::geometry::thin_polyline`]): a third of the thinnest path line, invisible.
pub(crate) const PATH_VERTEX_GAP: f64 = 0.75;

/// The colour of the star at a landscape's minimum.
pub(crate) const MINIMUM_COLOR: RGBColor = RGBColor(215, 25, 28);

/// Mixes `c` with black: `amount` 0 keeps it, 1 gives black.
pub(crate) fn darken(c: RGBColor, amount: f64) -> RGBColor {
    let f = |x: u8| (x as f64 * (1.0 - amount)).round() as u8;
    RGBColor(f(c.0), f(c.1), f(c.2))
}

/// Draws a marker centred at `p` (pixels in `area`) with radius `r`, on a white halo so it shows
/// on any background.
pub(crate) fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: (f64, f64),
    shape: MarkerShape,
    color: RGBColor,
    r: f64,
    sz: Sizes,
) -> Result<()> {
    let c = round(p);
    let w = sz.px(2.0, 1);
    match shape {
        MarkerShape::Circle => {
            area.draw(&Circle::new(c, (r + 1.5).round() as i32, WHITE.filled()))?;
            area.draw(&Circle::new(c, r.round() as i32, color.filled()))?;
        }
        MarkerShape::Cross => {
            let d = r * 0.8;
            for (a, b) in [((-d, -d), (d, d)), ((-d, d), (d, -d))] {
                let seg = vec![round((p.0 + a.0, p.1 + a.1)), round((p.0 + b.0, p.1 + b.1))];
                area.draw(&PathElement::new(seg.clone(), WHITE.stroke_width(w + 2)))?;
                area.draw(&PathElement::new(seg, color.stroke_width(w + 1)))?;
            }
        }
        MarkerShape::Triangle => {
            let pts: Vec<(i32, i32)> = (0..3)
                .map(|k| {
                    let a = -std::f64::consts::FRAC_PI_2 + k as f64 * 2.0 * std::f64::consts::PI / 3.0;
                    round((p.0 + 1.2 * r * a.cos(), p.1 + 1.2 * r * a.sin()))
                })
                .collect();
            let mut ring = pts.clone();
            ring.push(pts[0]);
            area.draw(&PathElement::new(ring, WHITE.stroke_width(3)))?;
            area.draw(&Polygon::new(pts, color.filled()))?;
        }
        MarkerShape::Star => {
            let pts: Vec<(i32, i32)> = (0..10)
                .map(|k| {
                    let a = -std::f64::consts::FRAC_PI_2 + k as f64 * std::f64::consts::PI / 5.0;
                    let radius = if k % 2 == 0 { 1.35 * r } else { 0.55 * r };
                    round((p.0 + radius * a.cos(), p.1 + radius * a.sin()))
                })
                .collect();
            let mut ring = pts.clone();
            ring.push(pts[0]);
            area.draw(&PathElement::new(ring.clone(), WHITE.stroke_width(w + 1)))?;
            area.draw(&Polygon::new(pts, color.filled()))?;
            area.draw(&PathElement::new(ring, darken(color, 0.35).stroke_width(1)))?;
        }
    }
    Ok(())
}

/// Draws the straight line from `a` to `b` dashed, with whole dashes at both ends (the dashes are
/// stretched a little so they fit exactly) so the ends are where the line ends.
pub(crate) fn draw_dashed<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    a: (f64, f64),
    b: (f64, f64),
    style: ShapeStyle,
    dash: f64,
    space: f64,
) -> Result<()> {
    let len = dist(a, b);
    if len <= 2.0 * dash + space {
        area.draw(&PathElement::new(vec![round(a), round(b)], style))?;
        return Ok(());
    }
    let n = ((len + space) / (dash + space)).round().max(2.0) as usize;
    let d = (len - (n - 1) as f64 * space) / n as f64;
    for k in 0..n {
        let s = k as f64 * (d + space);
        let (p, q) = (lerp(a, b, s / len), lerp(a, b, (s + d) / len));
        area.draw(&PathElement::new(vec![round(p), round(q)], style))?;
    }
    Ok(())
}

/// The pieces of a path in pixels (`pts`, in the plot's pixels) as they are drawn: vertices that
/// add nothing on screen left out ([`thin_polyline`], then [`distinct_segments`]), cut at
/// `plot_rect` (a little grown, so a path along the frame shows whole). Their size follows what
/// the path covers on screen, not its number of steps.
pub(crate) fn path_pieces(pts: &[(f64, f64)], plot_rect: &Rect) -> Vec<Vec<(f64, f64)>> {
    let inside = keep_inside(&thin_polyline(pts, PATH_VERTEX_GAP), &plot_rect.inflate(0.5));
    distinct_segments(inside, 1.0)
}

/// A polyline split at every vertex where it turns back by more than 120 degrees, the pieces
/// sharing that vertex. plotters joins the segments of a wide line with mitres, and the mitre of
/// a turn near 180 degrees (an optimizer zigzagging across a valley) is a spike reaching far past
/// the turn, out through the frame; pieces that meet end to end have no joint to mitre.
pub(crate) fn split_at_sharp_turns(pts: &[(f64, f64)]) -> Vec<&[(f64, f64)]> {
    let mut out = Vec::new();
    let mut start = 0;
    for k in 1..pts.len().saturating_sub(1) {
        let (a, b, c) = (pts[k - 1], pts[k], pts[k + 1]);
        let (d1, d2) = ((b.0 - a.0, b.1 - a.1), (c.0 - b.0, c.1 - b.1));
        let dot = d1.0 * d2.0 + d1.1 * d2.1;
        let norms = d1.0.hypot(d1.1) * d2.0.hypot(d2.1);
        // cos(120 degrees) = -0.5.
        if norms > 0.0 && dot < -0.5 * norms {
            out.push(&pts[start..=k]);
            start = k;
        }
    }
    out.push(&pts[start..]);
    out
}

/// Draws a polyline (pixels in `area`) in `style`, split where it turns back sharply
/// ([`split_at_sharp_turns`]) so no mitre spikes out of it.
pub(crate) fn draw_polyline<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    pts: &[(f64, f64)],
    style: ShapeStyle,
) -> Result<()> {
    for piece in split_at_sharp_turns(pts) {
        area.draw(&PathElement::new(piece.iter().map(|&p| round(p)).collect::<Vec<_>>(), style))?;
    }
    Ok(())
}

/// Draws `path` (already cut into `pieces` of pixels inside `plot_rect`) with a circle at its
/// start and a cross at its end, each only where that point lies in the plot; with `casing`, each
/// line runs on a white casing, so it shows over dark filled colours.
#[allow(clippy::too_many_arguments)]
pub(crate) fn draw_path_on_map<DB: DrawingBackend>(
    plot: &DrawingArea<DB, Shift>,
    path: &PathOverlay,
    pieces: &[Vec<(f64, f64)>],
    frame: &Frame,
    plot_rect: &Rect,
    casing: bool,
    marker_r: f64,
    sz: Sizes,
) -> Result<()> {
    let path_w = sz.px(2.2, 1);
    for piece in pieces {
        if casing {
            draw_polyline(plot, piece, WHITE.mix(0.7).stroke_width(path_w + 2))?;
        }
        draw_polyline(plot, piece, path.color.stroke_width(path_w))?;
    }
    let inside = |q: &[f64; 2]| {
        q[0].is_finite() && q[1].is_finite() && plot_rect.inflate(0.5).contains(frame.px(q[0], q[1]))
    };
    if let Some(first) = path.points.first().filter(|q| inside(q)) {
        let p = frame.px(first[0], first[1]);
        draw_marker(plot, p, MarkerShape::Circle, path.color, 0.75 * marker_r, sz)?;
    }
    if let Some(last) = path.points.last().filter(|q| path.points.len() > 1 && inside(q)) {
        let p = frame.px(last[0], last[1]);
        draw_marker(plot, p, MarkerShape::Cross, path.color, 0.85 * marker_r, sz)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zigzags_are_split_at_their_turns_only() {
        let zigzag = [(0.0, 0.0), (100.0, 1.0), (0.0, 2.0), (100.0, 3.0)];
        let pieces = split_at_sharp_turns(&zigzag);
        assert_eq!(pieces, vec![&zigzag[0..2], &zigzag[1..3], &zigzag[2..4]]);
        // A right angle and a gentle curve stay whole.
        let corner = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (12.0, 20.0)];
        assert_eq!(split_at_sharp_turns(&corner), vec![&corner[..]]);
        assert_eq!(split_at_sharp_turns(&[(1.0, 1.0)]).len(), 1);
    }
}
