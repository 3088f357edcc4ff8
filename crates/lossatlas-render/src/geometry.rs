//! Pixel geometry shared by every figure: rectangles for layout and collision tests, clipping of
//! segments to a rectangle, and the size of a piece of text.

use plotters::coord::Shift;
use plotters::prelude::*;

/// An axis-aligned rectangle in pixels (x grows to the right, y downwards).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rect {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl Rect {
    /// The rectangle centred on `c` with half-width `half_w` and half-height `half_h`.
    pub(crate) fn around(c: (f64, f64), half_w: f64, half_h: f64) -> Rect {
        Rect { x0: c.0 - half_w, y0: c.1 - half_h, x1: c.0 + half_w, y1: c.1 + half_h }
    }

    /// The rectangle grown by `d` on every side.
    pub(crate) fn inflate(&self, d: f64) -> Rect {
        Rect { x0: self.x0 - d, y0: self.y0 - d, x1: self.x1 + d, y1: self.y1 + d }
    }

    /// Whether the two rectangles overlap (touching edges do not count).
    pub(crate) fn intersects(&self, o: &Rect) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }

    /// Whether `p` lies inside or on the edge.
    pub(crate) fn contains(&self, p: (f64, f64)) -> bool {
        p.0 >= self.x0 && p.0 <= self.x1 && p.1 >= self.y0 && p.1 <= self.y1
    }

    /// Whether this rectangle lies entirely within `o`.
    pub(crate) fn inside(&self, o: &Rect) -> bool {
        self.x0 >= o.x0 && self.x1 <= o.x1 && self.y0 >= o.y0 && self.y1 <= o.y1
    }

    /// The top-left and bottom-right corners as whole pixels.
    pub(crate) fn corners(&self) -> [(i32, i32); 2] {
        [round((self.x0, self.y0)), round((self.x1, self.y1))]
    }
}

/// A point rounded to whole pixels.
pub(crate) fn round(p: (f64, f64)) -> (i32, i32) {
    (p.0.round() as i32, p.1.round() as i32)
}

/// The parameter interval [t0, t1] of the segment p + t (q - p), t in [0, 1], that lies inside `r`
/// (Liang & Barsky 1984), or None.
pub(crate) fn segment_in_rect(p: (f64, f64), q: (f64, f64), r: &Rect) -> Option<(f64, f64)> {
    let (dx, dy) = (q.0 - p.0, q.1 - p.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (pk, qk) in [(-dx, p.0 - r.x0), (dx, r.x1 - p.0), (-dy, p.1 - r.y0), (dy, r.y1 - p.1)] {
        if pk == 0.0 {
            if qk < 0.0 {
                return None;
            }
        } else {
            let t = qk / pk;
            if pk < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    (t0 <= t1).then_some((t0, t1))
}

/// The point a fraction `t` of the way from `p` to `q`.
pub(crate) fn lerp(p: (f64, f64), q: (f64, f64), t: f64) -> (f64, f64) {
    (p.0 + t * (q.0 - p.0), p.1 + t * (q.1 - p.1))
}

/// Width and height of `text` in pixels as drawn on `area`.
pub(crate) fn measure<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    font: &FontDesc,
) -> (f64, f64) {
    area.estimate_text_size(text, &TextStyle::from(font.clone()))
        .map(|(w, h)| (w as f64, h as f64))
        .unwrap_or_else(|_| {
            // A rough size if the font cannot be measured: 0.6 em per character.
            (0.6 * font.get_size() * text.chars().count() as f64, font.get_size())
        })
}
