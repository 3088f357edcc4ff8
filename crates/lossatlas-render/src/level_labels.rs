//! Level labels on iso-lines.
//!
//! Labels sit on their lines, in a gap cut out of the line (and on a white box when the map is
//! filled, so they stay readable on dark colours). Where they go is chosen greedily: for each
//! line, every position along it is scored by how straight the line is there, whether another line
//! or a path would run through the label, how close it is to labels already placed (spread out is
//! better) and to the frame; labels never overlap each other, the reserved places (legend,
//! markers, their labels) or the frame. Long lines (more than the plot's half perimeter) get two
//! labels, far apart.
//!
//! The work is bounded whatever the number of levels: a plot labels at most as many levels as it
//! has room for ([`level_budget`]; with more levels, every k-th is labelled, so the labels still
//! span the range), and at most twice that many labels in all. Lines too short to carry a label
//! are not tried, and collisions are asked of a spatial index, so 500 levels take about what 40
//! do.

use crate::geometry::{dist, lerp, Rect};
use crate::labels::Sizes;
use crate::placement::SegmentIndex;

/// One iso-line piece in pixels with its cumulative arc length.
#[derive(Debug, Clone)]
pub(crate) struct LineGeom {
    pub level: usize,
    pub pts: Vec<(f64, f64)>,
    closed: bool,
    cum: Vec<f64>,
}

impl LineGeom {
    pub(crate) fn new(level: usize, pts: Vec<(f64, f64)>, closed: bool) -> LineGeom {
        let mut cum = Vec::with_capacity(pts.len());
        let mut s = 0.0;
        for (k, p) in pts.iter().enumerate() {
            if k > 0 {
                s += dist(pts[k - 1], *p);
            }
            cum.push(s);
        }
        LineGeom { level, pts, closed, cum }
    }

    pub(crate) fn length(&self) -> f64 {
        self.cum.last().copied().unwrap_or(0.0)
    }

    /// The point at arc length `s` (wrapped around on a loop, clamped on an open line).
    pub(crate) fn at(&self, s: f64) -> (f64, f64) {
        let len = self.length();
        let s = if self.closed && len > 0.0 { s.rem_euclid(len) } else { s.clamp(0.0, len) };
        let k = self.cum.partition_point(|&c| c < s).clamp(1, self.pts.len() - 1);
        let (a, b) = (self.cum[k - 1], self.cum[k]);
        let t = if b > a { (s - a) / (b - a) } else { 0.0 };
        lerp(self.pts[k - 1], self.pts[k], t)
    }
}

/// A level label placed on a line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Placed {
    /// Index into the lines.
    pub line: usize,
    pub center: (f64, f64),
    /// The gap cut into the line (the text box plus padding).
    pub rect: Rect,
}

/// How many levels a plot labels at most: as many label boxes of the levels' mean size as cover
/// a twelfth of the plot (more would hide the lines they name), at least 12 and at most 80.
pub(crate) fn level_budget(plot: &Rect, text_sizes: &[(f64, f64)]) -> usize {
    if text_sizes.is_empty() {
        return 0;
    }
    let boxes: f64 = text_sizes.iter().map(|&(w, h)| (w + 0.6 * h) * (1.4 * h)).sum::<f64>();
    let mean_box = (boxes / text_sizes.len() as f64).max(1.0);
    let area = ((plot.x1 - plot.x0) * (plot.y1 - plot.y0)).max(0.0);
    ((area / (12.0 * mean_box)) as usize).clamp(12, 80)
}

/// Chooses label positions; see the module docs for the rules.
pub(crate) fn place_labels(
    lines: &[LineGeom],
    text_sizes: &[(f64, f64)],
    reserved: &[Rect],
    index: &SegmentIndex,
    plot: &Rect,
    sz: Sizes,
) -> Vec<Placed> {
    let mut placed: Vec<Placed> = Vec::new();
    let n_levels = text_sizes.len();
    let diag = (plot.x1 - plot.x0).hypot(plot.y1 - plot.y0);
    let half_perimeter = (plot.x1 - plot.x0) + (plot.y1 - plot.y0);
    let inner = plot.inflate(-sz.len(3.0));

    // The longest piece of each level first (every level gets a label where at all possible),
    // the levels with the shortest such piece first, since they have the fewest places.
    // With more levels than fit, every `stride`-th is labelled, starting at the lowest.
    let budget = level_budget(plot, text_sizes);
    let stride = n_levels.div_ceil(budget.max(1)).max(1);
    let max_labels = 2 * budget;
    let mut longest: Vec<Option<usize>> = vec![None; n_levels];
    for (id, l) in lines.iter().enumerate() {
        if l.level % stride != 0 {
            continue;
        }
        let best = &mut longest[l.level];
        if best.is_none_or(|b| lines[b].length() < l.length()) {
            *best = Some(id);
        }
    }
    let mut first_pass: Vec<usize> = longest.iter().flatten().copied().collect();
    first_pass.sort_by(|&a, &b| lines[a].length().total_cmp(&lines[b].length()));
    let mut in_first = vec![false; lines.len()];
    for &id in &first_pass {
        in_first[id] = true;
    }
    let mut others: Vec<usize> =
        (0..lines.len()).filter(|&id| !in_first[id] && lines[id].level.is_multiple_of(stride)).collect();
    others.sort_by(|&a, &b| lines[b].length().total_cmp(&lines[a].length()));

    let try_place = |id: usize, placed: &[Placed], strict: bool, min_len_factor: f64| -> Option<Placed> {
        let line = &lines[id];
        let (tw, th) = text_sizes[line.level];
        let pad = (0.3 * th).max(2.0);
        let (hw, hh) = (tw / 2.0 + pad, th / 2.0 + pad * 0.6);
        let len = line.length();
        if len < min_len_factor * (tw + th) {
            return None;
        }
        // Labels of this line already placed: keep the next one far along the line.
        let own: Vec<(f64, f64)> = placed.iter().filter(|p| p.line == id).map(|p| p.center).collect();
        let step = sz.len(4.0).max(2.0);
        let reach = hw.max(hh) + sz.len(4.0);
        let (s_lo, s_hi) = if line.closed { (0.0, len) } else { (reach, len - reach) };
        let mut best: Option<(f64, Placed)> = None;
        let mut s = s_lo;
        while s <= s_hi {
            let c = line.at(s);
            s += step;
            let rect = Rect::around(c, hw, hh);
            if !rect.inside(&inner) {
                continue;
            }
            let keep_off = sz.len(6.0);
            if placed.iter().any(|p| p.rect.inflate(keep_off).intersects(&rect)) {
                continue;
            }
            if reserved.iter().any(|r| r.intersects(&rect)) {
                continue;
            }
            if own.iter().any(|&o| dist(o, c) < 0.25 * len.min(diag)) {
                continue;
            }
            let crossings = index.crossings(&rect.inflate(1.0), id);
            if strict && crossings > 0 {
                continue;
            }
            // Straightness over the label's reach on both sides.
            let (a, b) = (line.at(s - step - reach), line.at(s - step + reach));
            let (d1, d2) = ((c.0 - a.0, c.1 - a.1), (b.0 - c.0, b.1 - c.1));
            let turn = {
                let cross = d1.0 * d2.1 - d1.1 * d2.0;
                let dot = d1.0 * d2.0 + d1.1 * d2.1;
                cross.atan2(dot).abs()
            };
            // Spread: distance to the nearest label of any line.
            let nearest = placed.iter().map(|p| dist(p.center, c)).fold(f64::INFINITY, f64::min);
            let spread = (nearest / (0.35 * diag)).min(1.0);
            // The frame: keep a label's width away from it where possible.
            let edge = [rect.x0 - plot.x0, plot.x1 - rect.x1, rect.y0 - plot.y0, plot.y1 - rect.y1]
                .into_iter()
                .fold(f64::INFINITY, f64::min);
            let edge_pen = (1.0 - edge / (1.5 * th + tw)).max(0.0);
            let score = 100.0 * crossings as f64 + 6.0 * turn + 3.0 * edge_pen - 4.0 * spread;
            if best.as_ref().is_none_or(|(b, _)| score < *b) {
                best = Some((score, Placed { line: id, center: c, rect }));
            }
        }
        best.map(|(_, p)| p)
    };

    for &id in &first_pass {
        if let Some(p) = try_place(id, &placed, true, 2.0) {
            placed.push(p);
        }
    }
    for &id in &others {
        if placed.len() >= max_labels {
            break;
        }
        if let Some(p) = try_place(id, &placed, true, 2.5) {
            placed.push(p);
        }
    }
    for &id in first_pass.iter().chain(&others) {
        if placed.len() >= max_labels {
            break;
        }
        if lines[id].length() > half_perimeter {
            if let Some(p) = try_place(id, &placed, true, 2.5) {
                placed.push(p);
            }
        }
    }
    // Levels still without a label: allow a line to run through it rather than lose it.
    for &id in &first_pass {
        let level = lines[id].level;
        if !placed.iter().any(|p| lines[p.line].level == level) {
            if let Some(p) = try_place(id, &placed, false, 1.2) {
                placed.push(p);
            }
        }
    }
    placed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_on_circles_stay_apart_and_inside() {
        let sz = Sizes::with_scale(1.0);
        let plot = Rect { x0: 0.0, y0: 0.0, x1: 600.0, y1: 500.0 };
        let lines: Vec<LineGeom> = (1..=6)
            .map(|k| {
                let r = 35.0 * k as f64;
                let pts: Vec<(f64, f64)> = (0..=180)
                    .map(|a| {
                        let t = a as f64 / 180.0 * std::f64::consts::TAU;
                        (300.0 + r * t.cos(), 250.0 + r * t.sin())
                    })
                    .collect();
                LineGeom::new(k - 1, pts, true)
            })
            .collect();
        let mut index = SegmentIndex::new(24.0);
        for (id, l) in lines.iter().enumerate() {
            index.insert_line(id, &l.pts);
        }
        let sizes = vec![(22.0, 14.0); 6];
        let placed = place_labels(&lines, &sizes, &[], &index, &plot, sz);
        for level in 0..6 {
            assert!(placed.iter().any(|p| lines[p.line].level == level), "level {level} unlabelled");
        }
        for (a, p) in placed.iter().enumerate() {
            assert!(p.rect.inside(&plot));
            for q in &placed[a + 1..] {
                assert!(!p.rect.intersects(&q.rect), "{p:?} overlaps {q:?}");
            }
            assert_eq!(index.crossings(&p.rect, p.line), 0, "another circle runs through {p:?}");
        }
    }

    #[test]
    fn issue_14_five_hundred_levels_get_a_bounded_number_of_labels() {
        let sz = Sizes::with_scale(1.0);
        let plot = Rect { x0: 0.0, y0: 0.0, x1: 600.0, y1: 500.0 };
        // 500 gently waving vertical lines 1.2 pixels apart: room for a few dozen labels at most.
        let n = 500;
        let lines: Vec<LineGeom> = (0..n)
            .map(|k| {
                let x = 0.6 + 1.19 * k as f64;
                let pts = (0..=100).map(|j| (x + 0.5 * (j as f64 / 7.0).sin(), 5.0 * j as f64)).collect();
                LineGeom::new(k, pts, false)
            })
            .collect();
        let mut index = SegmentIndex::new(24.0);
        for (id, l) in lines.iter().enumerate() {
            index.insert_line(id, &l.pts);
        }
        let sizes = vec![(30.0, 14.0); n];
        let budget = level_budget(&plot, &sizes);
        assert!((12..=80).contains(&budget), "{budget}");
        let placed = place_labels(&lines, &sizes, &[], &index, &plot, sz);
        assert!(placed.len() <= 2 * budget, "{} labels for a budget of {budget}", placed.len());
        let mut levels: Vec<usize> = placed.iter().map(|p| lines[p.line].level).collect();
        levels.sort_unstable();
        levels.dedup();
        assert!(levels.len() <= budget && levels.len() >= 5, "{levels:?}");
        // Every k-th level, so the labels still span the levels.
        let stride = n.div_ceil(budget);
        assert!(levels.iter().all(|l| l % stride == 0), "stride {stride}: {levels:?}");
        assert!(levels[0] < n / 4 && *levels.last().unwrap() > 3 * n / 4, "{levels:?}");
        for (a, p) in placed.iter().enumerate() {
            assert!(p.rect.inside(&plot));
            for q in &placed[a + 1..] {
                assert!(!p.rect.intersects(&q.rect), "{p:?} overlaps {q:?}");
            }
        }
    }

    #[test]
    fn the_budget_follows_the_room_for_labels() {
        let plot = Rect { x0: 0.0, y0: 0.0, x1: 600.0, y1: 500.0 };
        // A box of (30 + 0.6 * 14) x (1.4 * 14) = 38.4 x 19.6 pixels; 300000 / (12 * 752.64) = 33.
        assert_eq!(level_budget(&plot, &[(30.0, 14.0); 9]), 33);
        // Tiny plots still label a dozen levels, huge ones no more than 80; no levels, no labels.
        assert_eq!(level_budget(&Rect { x1: 60.0, y1: 50.0, ..plot }, &[(30.0, 14.0)]), 12);
        assert_eq!(level_budget(&Rect { x1: 6000.0, y1: 5000.0, ..plot }, &[(30.0, 14.0)]), 80);
        assert_eq!(level_budget(&plot, &[]), 0);
    }
}
