//! Where short texts go: a spatial index of everything drawn over a plot ([`SegmentIndex`]), so
//! a candidate place can ask which lines would run through it, and the candidate places beside a
//! point ([`beside_point`]) or the end of a segment ([`beside_end`]), from which [`place_text`]
//! takes the first free one that the fewest lines cross.

use crate::geometry::{dist, segment_in_rect, Rect};

/// A segment of line `id` from one pixel point to another, and the first bucket (in x, then in
/// y) its bounding box touches.
type Segment = (usize, (f64, f64), (f64, f64), (i32, i32));

/// Segments of all lines and paths in square pixel buckets, to ask which ones run through a
/// rectangle. A query costs the segments in the buckets the rectangle touches, whatever the
/// total: a label is tried at thousands of places over hundreds of lines.
#[derive(Debug)]
pub(crate) struct SegmentIndex {
    cell: f64,
    segments: Vec<Segment>,
    /// Indices into `segments`; a segment is in every bucket its bounding box touches. (Fx
    /// hashing: the standard library's SipHash was a tenth of the time labels took.)
    buckets: rustc_hash::FxHashMap<(i32, i32), Vec<u32>>,
}

impl SegmentIndex {
    /// An empty index with buckets `cell` pixels square (about a label's size works best).
    pub(crate) fn new(cell: f64) -> SegmentIndex {
        SegmentIndex { cell, segments: Vec::new(), buckets: Default::default() }
    }

    /// The buckets a box from `(x0, y0)` to `(x1, y1)` touches; none when a corner is not finite.
    fn bucket_range(&self, x0: f64, y0: f64, x1: f64, y1: f64) -> Option<((i32, i32), (i32, i32))> {
        if !(x0.is_finite() && y0.is_finite() && x1.is_finite() && y1.is_finite()) {
            return None;
        }
        let b = |v: f64| (v / self.cell).floor() as i32;
        Some(((b(x0), b(x1)), (b(y0), b(y1))))
    }

    /// Adds the segments of the polyline `pts`, all belonging to line `id`.
    pub(crate) fn insert_line(&mut self, id: usize, pts: &[(f64, f64)]) {
        for w in pts.windows(2) {
            let (p, q) = (w[0], w[1]);
            let Some(((bx0, bx1), (by0, by1))) =
                self.bucket_range(p.0.min(q.0), p.1.min(q.1), p.0.max(q.0), p.1.max(q.1))
            else {
                continue;
            };
            let k = self.segments.len() as u32;
            self.segments.push((id, p, q, (bx0, by0)));
            for bx in bx0..=bx1 {
                for by in by0..=by1 {
                    self.buckets.entry((bx, by)).or_default().push(k);
                }
            }
        }
    }

    /// How many segments of lines other than `own` cross `r`.
    pub(crate) fn crossings(&self, r: &Rect, own: usize) -> usize {
        let Some(((bx0, bx1), (by0, by1))) = self.bucket_range(r.x0, r.y0, r.x1, r.y1) else {
            return 0;
        };
        let mut hits = 0;
        for bx in bx0..=bx1 {
            for by in by0..=by1 {
                let Some(bucket) = self.buckets.get(&(bx, by)) else { continue };
                for &k in bucket {
                    let (id, p, q, first) = self.segments[k as usize];
                    // A segment in several of the buckets is looked at in the first of them
                    // only (buckets are visited in x, then in y), so it counts once.
                    let looked_at = (first.0.max(bx0), first.1.max(by0)) == (bx, by);
                    if looked_at && id != own && segment_in_rect(p, q, r).is_some() {
                        hits += 1;
                    }
                }
            }
        }
        hits
    }
}

/// What a line running through a marker's label costs in [`place_text`]: four places further
/// down the list of candidates (the label sits on a box, so a line under it is a small harm).
pub(crate) const MARKER_CROSSING_COST: f64 = 4.0;

/// What a line running through a segment's label costs: half a place. Labels of the short axes of
/// a minimum's ellipse must stay beside it, where the iso-lines crowd; a label a few places out
/// is already far from the minimum it describes.
pub(crate) const SEGMENT_CROSSING_COST: f64 = 0.5;

/// Where a text box of `size` (w, h) may go beside a marker of radius `r` at `p`, best first:
/// upper right, lower right, upper left, lower left, right, left, above, below.
pub(crate) fn beside_point(p: (f64, f64), size: (f64, f64), r: f64) -> Vec<Rect> {
    let (tw, th) = size;
    let d = 1.3 * r; // diagonal positions: clear of a star's tips
    let s = 1.9 * r; // straight positions: clear of a star's tips and its halo
    let at = |x0: f64, y0: f64| Rect { x0, y0, x1: x0 + tw, y1: y0 + th };
    vec![
        at(p.0 + d, p.1 - d - th),
        at(p.0 + d, p.1 + d),
        at(p.0 - d - tw, p.1 - d - th),
        at(p.0 - d - tw, p.1 + d),
        at(p.0 + s, p.1 - th / 2.0),
        at(p.0 - s - tw, p.1 - th / 2.0),
        at(p.0 - tw / 2.0, p.1 - s - th),
        at(p.0 - tw / 2.0, p.1 + s),
    ]
}

/// Where a text box of `size` may go near the end `b` of the segment from `a`, best first: on
/// the line's continuation past `b` and beside the line near `b` on either side (`gap` pixels
/// from the line), then the same a little further out each time.
pub(crate) fn beside_end(a: (f64, f64), b: (f64, f64), size: (f64, f64), gap: f64) -> Vec<Rect> {
    let (tw, th) = size;
    let len = dist(a, b);
    let d = if len > 0.0 { ((b.0 - a.0) / len, (b.1 - a.1) / len) } else { (1.0, 0.0) };
    let n = (-d.1, d.0);
    // Half the box's extent along a unit direction.
    let extent = |e: (f64, f64)| e.0.abs() * tw / 2.0 + e.1.abs() * th / 2.0;
    let across = gap + extent(n);
    let mut centres = Vec::new();
    // Past the end, and beside the end on either side, each a little further out each time.
    for k in 0..6 {
        let out = k as f64 * 1.5 * gap;
        let along = gap + extent(d) + out;
        centres.push((b.0 + along * d.0, b.1 + along * d.1));
        for side in [1.0, -1.0] {
            let back = extent(d) - out;
            centres.push((b.0 - back * d.0 + side * across * n.0, b.1 - back * d.1 + side * across * n.1));
        }
    }
    centres.into_iter().map(|c| Rect::around(c, tw / 2.0, th / 2.0)).collect()
}

/// The first of `candidates` (in order of preference) inside `plot` that overlaps none of
/// `blocked`, preferring those with fewer lines of `index` running through them (each line costs
/// as much as `crossing_cost` places further down the list); if none is free, the first one
/// moved inside `plot`.
pub(crate) fn place_text(
    candidates: &[Rect],
    plot: &Rect,
    blocked: &[Rect],
    index: &SegmentIndex,
    crossing_cost: f64,
) -> Rect {
    let mut best: Option<(f64, Rect)> = None;
    for (k, r) in candidates.iter().enumerate() {
        if !r.inside(plot) || blocked.iter().any(|b| b.intersects(r)) {
            continue;
        }
        let score = crossing_cost * index.crossings(&r.inflate(1.0), usize::MAX) as f64 + k as f64;
        if best.as_ref().is_none_or(|(s, _)| score < *s) {
            best = Some((score, *r));
        }
    }
    best.map(|(_, r)| r).unwrap_or_else(|| {
        let r = candidates.first().copied().unwrap_or(Rect { x0: 0.0, y0: 0.0, x1: 0.0, y1: 0.0 });
        let dx = (plot.x0 - r.x0).max(0.0) + (plot.x1 - r.x1).min(0.0);
        let dy = (plot.y0 - r.y0).max(0.0) + (plot.y1 - r.y1).min(0.0);
        Rect { x0: r.x0 + dx, y0: r.y0 + dy, x1: r.x1 + dx, y1: r.y1 + dy }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_beside_points_keep_clear_of_each_other() {
        let plot = Rect { x0: 0.0, y0: 0.0, x1: 400.0, y1: 300.0 };
        let index = SegmentIndex::new(24.0);
        // Three markers close together, and one in the top-right corner.
        let points = [(200.0, 150.0), (215.0, 150.0), (200.0, 162.0), (385.0, 15.0)];
        let mut blocked: Vec<Rect> = points.iter().map(|&p| Rect::around(p, 8.5, 8.5)).collect();
        let mut placed: Vec<Rect> = Vec::new();
        for &p in &points {
            let r = place_text(&beside_point(p, (60.0, 14.0), 7.0), &plot, &blocked, &index, 4.0);
            assert!(r.inside(&plot), "{r:?} leaves the plot");
            assert!(!blocked.iter().any(|b| b.intersects(&r)), "{r:?} covers a marker or a label");
            blocked.push(r.inflate(2.0));
            placed.push(r);
        }
        // Beside the end of a segment: past it when that is free.
        let r = place_text(
            &beside_end((100.0, 100.0), (150.0, 100.0), (40.0, 14.0), 6.0),
            &plot,
            &[],
            &index,
            4.0,
        );
        assert!(r.x0 > 150.0 && (r.y0 + r.y1) / 2.0 == 100.0, "{r:?}");
    }

    /// The index counts what looking at every segment counts: long segments spanning many
    /// buckets once each, short ones, ones reaching outside the plot, the asking line's own never.
    #[test]
    fn crossings_count_each_segment_once() {
        let mut state = 7u64;
        let mut random = |scale: f64| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64 * scale - 0.1 * scale
        };
        let mut index = SegmentIndex::new(24.0);
        let mut all = Vec::new();
        for id in 0..12 {
            let pts: Vec<(f64, f64)> = (0..8).map(|_| (random(400.0), random(300.0))).collect();
            index.insert_line(id, &pts);
            all.extend(pts.windows(2).map(|w| (id, w[0], w[1])));
        }
        for case in 0..500 {
            let (x, y, w, h) = (random(400.0), random(300.0), random(120.0).abs(), random(60.0).abs());
            let r = Rect { x0: x, y0: y, x1: x + w, y1: y + h };
            let own = case % 13;
            let expected =
                all.iter().filter(|(id, p, q)| *id != own && segment_in_rect(*p, *q, &r).is_some()).count();
            assert_eq!(index.crossings(&r, own), expected, "{r:?}, own line {own}");
        }
    }
}
