//! Pixel geometry shared by every figure: rectangles for layout and collision tests, clipping of
//! segments and polylines to a rectangle (and cutting holes out of them), and the size of a
//! piece of text.

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

/// The distance between two pixel points.
pub(crate) fn dist(a: (f64, f64), b: (f64, f64)) -> f64 {
    (a.0 - b.0).hypot(a.1 - b.1)
}

/// The polyline without the vertices closer than `min_gap` pixels to the last vertex kept. The
/// first and last vertices stay, and so does every vertex that is not finite and each vertex
/// next to one (they break the line). An optimizer's path of 30,000 steps that creeps the last
/// thousands of them within a pixel is drawn and indexed at the cost of its length on screen,
/// not of its steps.
pub(crate) fn thin_polyline(points: &[(f64, f64)], min_gap: f64) -> Vec<(f64, f64)> {
    let finite = |p: &(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(points.len().min(4096));
    for (k, p) in points.iter().enumerate() {
        let keep = match out.last() {
            None => true,
            Some(last) => {
                !finite(p)
                    || !finite(last)
                    || k + 1 == points.len()
                    || !finite(&points[k + 1])
                    || dist(*last, *p) >= min_gap
            }
        };
        if keep {
            out.push(*p);
        }
    }
    out
}

/// The pieces of polylines left when every segment whose ends, rounded to whole multiples of
/// `quantum` pixels, match (either way round) those of a segment kept before is left out.
///
/// An optimizer that oscillates across a valley for thousands of steps retraces the same zigzag
/// to within a pixel over and over; drawing or indexing it again changes nothing on screen but
/// costs time in proportion to the steps. After this, the cost follows what is on screen.
pub(crate) fn distinct_segments(pieces: Vec<Vec<(f64, f64)>>, quantum: f64) -> Vec<Vec<(f64, f64)>> {
    let key = |p: (f64, f64)| ((p.0 / quantum).round() as i64, (p.1 / quantum).round() as i64);
    let mut seen: std::collections::HashSet<((i64, i64), (i64, i64))> = Default::default();
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    for piece in pieces {
        if piece.len() < 2 {
            out.push(piece);
            continue;
        }
        let mut current: Vec<(f64, f64)> = Vec::new();
        for w in piece.windows(2) {
            let (a, b) = (key(w[0]), key(w[1]));
            let new = a == b || seen.insert((a.min(b), a.max(b)));
            if new {
                if current.is_empty() {
                    current.push(w[0]);
                }
                current.push(w[1]);
            } else if current.len() >= 2 {
                out.push(std::mem::take(&mut current));
            } else {
                current.clear();
            }
        }
        if current.len() >= 2 {
            out.push(current);
        }
    }
    out
}

/// Splits a polyline into the pieces that remain after removing the parts inside `holes`.
pub(crate) fn cut_out(points: &[(f64, f64)], holes: &[Rect]) -> Vec<Vec<(f64, f64)>> {
    keep_intervals(points, |p, q| {
        let mut removed: Vec<(f64, f64)> = holes.iter().filter_map(|r| segment_in_rect(p, q, r)).collect();
        removed.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut kept = Vec::new();
        let mut t = 0.0;
        for (a, b) in removed {
            if a > t {
                kept.push((t, a));
            }
            t = t.max(b);
        }
        if t < 1.0 {
            kept.push((t, 1.0));
        }
        kept
    })
}

/// Splits a polyline into the pieces inside `r`; vertices that are not finite break the line.
pub(crate) fn keep_inside(points: &[(f64, f64)], r: &Rect) -> Vec<Vec<(f64, f64)>> {
    let mut pieces = Vec::new();
    for run in points.split(|p| !(p.0.is_finite() && p.1.is_finite())) {
        if run.len() == 1 && r.contains(run[0]) {
            pieces.push(run.to_vec());
            continue;
        }
        pieces.extend(keep_intervals(run, |p, q| segment_in_rect(p, q, r).into_iter().collect()));
    }
    pieces
}

/// Walks a polyline segment by segment, keeping the parameter intervals `keep(p, q)` returns
/// (ascending, within [0, 1]) and joining kept parts that meet into one piece.
fn keep_intervals(
    points: &[(f64, f64)],
    keep: impl Fn((f64, f64), (f64, f64)) -> Vec<(f64, f64)>,
) -> Vec<Vec<(f64, f64)>> {
    let mut pieces: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    let flush = |current: &mut Vec<(f64, f64)>, pieces: &mut Vec<Vec<(f64, f64)>>| {
        if current.len() >= 2 {
            pieces.push(std::mem::take(current));
        }
        current.clear();
    };
    for w in points.windows(2) {
        let (p, q) = (w[0], w[1]);
        let intervals = keep(p, q);
        // The piece runs on only if this segment is kept from its start (the last one was kept to
        // its end, or the piece would have been closed).
        if !intervals.first().is_some_and(|&(a, _)| a <= 0.0) {
            flush(&mut current, &mut pieces);
        }
        for (a, b) in intervals {
            if b < a {
                continue;
            }
            if current.is_empty() || a > 0.0 {
                flush(&mut current, &mut pieces);
                current.push(lerp(p, q, a));
            }
            current.push(lerp(p, q, b));
            if b < 1.0 {
                flush(&mut current, &mut pieces);
            }
        }
    }
    flush(&mut current, &mut pieces);
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_cuts_at_the_frame_and_at_gaps() {
        let r = Rect { x0: 0.0, y0: 0.0, x1: 10.0, y1: 10.0 };
        let pieces = keep_inside(
            &[(5.0, 5.0), (5.0, -5.0), (8.0, -5.0), (8.0, 5.0), (f64::NAN, 1.0), (1.0, 1.0), (2.0, 2.0)],
            &r,
        );
        assert_eq!(
            pieces,
            vec![vec![(5.0, 5.0), (5.0, 0.0)], vec![(8.0, 0.0), (8.0, 5.0)], vec![(1.0, 1.0), (2.0, 2.0)]]
        );
        // A diverged run's line: both ends far outside, the segment still crossing the plot.
        let far = keep_inside(&[(-3e12, 5.0), (1e12, 5.0)], &r);
        assert_eq!(far.len(), 1);
        assert!((far[0][0].0 - 0.0).abs() < 1e-3 && (far[0][1].0 - 10.0).abs() < 1e-3, "{far:?}");
    }

    #[test]
    fn cutting_and_clipping_polylines() {
        let line = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0)];
        let hole = Rect { x0: 4.0, y0: -1.0, x1: 6.0, y1: 1.0 };
        let pieces = cut_out(&line, &[hole]);
        assert_eq!(pieces, vec![vec![(0.0, 0.0), (4.0, 0.0)], vec![(6.0, 0.0), (10.0, 0.0), (10.0, 10.0)]]);
        let frame = Rect { x0: 0.0, y0: 0.0, x1: 5.0, y1: 5.0 };
        let pieces = keep_inside(
            &[(1.0, 1.0), (9.0, 1.0), (9.0, 3.0), (1.0, 3.0), (f64::NAN, 0.0), (2.0, 2.0), (3.0, 2.0)],
            &frame,
        );
        assert_eq!(
            pieces,
            vec![vec![(1.0, 1.0), (5.0, 1.0)], vec![(5.0, 3.0), (1.0, 3.0)], vec![(2.0, 2.0), (3.0, 2.0)]]
        );
        assert!(segment_in_rect((-1.0, 7.0), (7.0, 7.0), &frame).is_none());
    }

    #[test]
    fn thinning_keeps_ends_and_breaks_and_drops_crowded_vertices() {
        // 1000 vertices creeping within half a pixel, then a jump, a gap and a last run.
        let mut pts: Vec<(f64, f64)> = (0..1000).map(|k| (k as f64 * 5e-4, 0.0)).collect();
        pts.extend([(10.0, 0.0), (f64::NAN, 0.0), (20.0, 0.0), (20.1, 0.0), (20.2, 0.0)]);
        let thin = thin_polyline(&pts, 0.75);
        assert_eq!(thin.first(), Some(&(0.0, 0.0)));
        assert_eq!(thin.last(), Some(&(20.2, 0.0)));
        assert!(thin.len() <= 8, "{thin:?}");
        assert!(thin.iter().any(|p| p.0.is_nan()), "the break is kept: {thin:?}");
        assert!(thin.contains(&(10.0, 0.0)) && thin.contains(&(20.0, 0.0)), "{thin:?}");
        // Between kept vertices (other than at the ends) there is at least the gap.
        let run: Vec<&(f64, f64)> = thin.iter().take_while(|p| p.0 < 1.0).collect();
        assert!(run.len() <= 2, "{run:?}");
    }

    #[test]
    fn a_retraced_zigzag_keeps_one_copy_of_each_segment() {
        // Forty times back and forth between the same two points (within a tenth of a pixel),
        // then a new segment.
        let mut pts: Vec<(f64, f64)> = (0..80)
            .map(|k| if k % 2 == 0 { (10.0 + 0.001 * k as f64, 10.0) } else { (90.0, 50.0) })
            .collect();
        pts.push((90.0, 90.0));
        let pieces = distinct_segments(vec![pts], 1.0);
        let segments: usize = pieces.iter().map(|p| p.len() - 1).sum();
        assert_eq!(segments, 2, "{pieces:?}");
        assert!(pieces.iter().any(|p| p.ends_with(&[(90.0, 50.0), (90.0, 90.0)])), "{pieces:?}");
        // Segments that differ by a pixel or more are all kept.
        let stairs: Vec<(f64, f64)> = (0..50).map(|k| (k as f64 * 2.0, (k % 2) as f64 * 3.0)).collect();
        assert_eq!(distinct_segments(vec![stairs.clone()], 1.0), vec![stairs]);
    }
}
