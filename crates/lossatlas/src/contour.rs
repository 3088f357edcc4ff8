//! Iso-loss lines and filled bands from a [`Landscape`].
//!
//! Lines come from marching squares (Lorensen & Cline 1987, in its 2D form) with linear
//! interpolation along cell edges, saddles resolved by the cell-centre mean. We do not use the
//! `contour` crate here: it follows d3-contour, which treats values as pixel centres (shifting
//! everything by half a cell) and closes every ring along the grid's frame; an iso-line that leaves
//! the grid must instead end at the border, and its vertices must lie on the level.
//!
//! Bands split each cell into two triangles, on which linear interpolation is exact, and clip each
//! triangle to the band's value interval. Cells entirely inside one band are merged along rows into
//! rectangles, which keeps an SVG small.

use std::collections::HashMap;

use crate::landscape::Landscape;

/// A point (u, v) on the plane.
pub type Point = [f64; 2];

/// All iso-lines of one level.
#[derive(Debug, Clone, PartialEq)]
pub struct Isoline {
    level: f64,
    lines: Vec<Polyline>,
}

impl Isoline {
    /// The loss value the lines follow.
    pub fn level(&self) -> f64 {
        self.level
    }

    /// The connected pieces.
    pub fn lines(&self) -> &[Polyline] {
        &self.lines
    }

    /// The pieces, giving up the isoline.
    pub fn into_inner(self) -> Vec<Polyline> {
        self.lines
    }
}

/// One connected piece of an iso-line.
#[derive(Debug, Clone, PartialEq)]
pub struct Polyline {
    points: Vec<Point>,
    closed: bool,
}

impl Polyline {
    /// The vertices in order. A closed line does not repeat its first point at the end.
    pub fn points(&self) -> &[Point] {
        &self.points
    }

    /// Whether the line is a loop (true) or ends at the grid border or at a gap of non-finite
    /// values (false).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The length in plane units, counting the closing segment of a loop.
    pub fn length(&self) -> f64 {
        let mut len: f64 = self.points.windows(2).map(|w| dist(w[0], w[1])).sum();
        if self.closed && self.points.len() > 2 {
            len += dist(self.points[self.points.len() - 1], self.points[0]);
        }
        len
    }
}

fn dist(a: Point, b: Point) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

/// The iso-lines of `landscape` at each of `levels` (in the order given). Cells with a non-finite
/// corner are skipped, so lines stop at gaps.
pub fn isolines(landscape: &Landscape, levels: &[f64]) -> Vec<Isoline> {
    levels.iter().map(|&level| isoline(landscape, level)).collect()
}

/// Edge ids: the horizontal edge from (i, j) to (i+1, j) is 2 * (j * nu + i); the vertical edge
/// from (i, j) to (i, j+1) is 2 * (j * nu + i) + 1.
fn isoline(landscape: &Landscape, level: f64) -> Isoline {
    let (nu, nv) = (landscape.u().n(), landscape.v().n());
    let us = landscape.u().values();
    let vs = landscape.v().values();
    let z = |i: usize, j: usize| landscape.at(i, j);
    // The crossing on an edge, computed from the edge's endpoints in a fixed order so that the two
    // cells sharing an edge produce bit-identical points.
    let crossing = |edge: usize| -> Point {
        let (cell, vertical) = (edge / 2, edge % 2 == 1);
        let (i, j) = (cell % nu, cell / nu);
        let (a, b) = if vertical { (z(i, j), z(i, j + 1)) } else { (z(i, j), z(i + 1, j)) };
        let t = ((level - a) / (b - a)).clamp(0.0, 1.0);
        if vertical {
            [us[i], vs[j] + t * (vs[j + 1] - vs[j])]
        } else {
            [us[i] + t * (us[i + 1] - us[i]), vs[j]]
        }
    };
    let mut segments: Vec<[usize; 2]> = Vec::new();
    for j in 0..nv - 1 {
        for i in 0..nu - 1 {
            let corners = [z(i, j), z(i + 1, j), z(i + 1, j + 1), z(i, j + 1)];
            if corners.iter().any(|c| !c.is_finite()) {
                continue;
            }
            let mut case = 0;
            for (bit, c) in corners.iter().enumerate() {
                if *c >= level {
                    case |= 1 << bit;
                }
            }
            if case == 0 || case == 15 {
                continue;
            }
            let bottom = 2 * (j * nu + i);
            let left = bottom + 1;
            let top = 2 * ((j + 1) * nu + i);
            let right = 2 * (j * nu + i + 1) + 1;
            let centre_above = corners.iter().sum::<f64>() / 4.0 >= level;
            // Corner bits: 0 = (i,j), 1 = (i+1,j), 2 = (i+1,j+1), 3 = (i,j+1).
            match case {
                1 | 14 => segments.push([left, bottom]),
                2 | 13 => segments.push([bottom, right]),
                3 | 12 => segments.push([left, right]),
                4 | 11 => segments.push([right, top]),
                6 | 9 => segments.push([bottom, top]),
                7 | 8 => segments.push([left, top]),
                // Saddles: corners 0 and 2 above (5) or 1 and 3 above (10). If the centre is on the
                // side of the diagonal pair, that pair is connected through the middle.
                5 => {
                    if centre_above {
                        segments.push([left, top]);
                        segments.push([bottom, right]);
                    } else {
                        segments.push([left, bottom]);
                        segments.push([right, top]);
                    }
                }
                10 => {
                    if centre_above {
                        segments.push([left, bottom]);
                        segments.push([right, top]);
                    } else {
                        segments.push([left, top]);
                        segments.push([bottom, right]);
                    }
                }
                _ => unreachable!("cases 0 and 15 were skipped"),
            }
        }
    }
    let lines = chain(&segments)
        .into_iter()
        .map(|(edges, closed)| {
            let mut points: Vec<Point> = edges.iter().map(|&e| crossing(e)).collect();
            // A crossing exactly at a grid vertex is shared by two edges: drop the repeat.
            points.dedup();
            if closed && points.len() > 1 && points.first() == points.last() {
                points.pop();
            }
            Polyline { points, closed }
        })
        .filter(|line| line.points.len() >= 2)
        .collect();
    Isoline { level, lines }
}

/// Joins segments that share an edge into maximal chains. Every edge holds at most one crossing and
/// belongs to at most two cells, so the graph has degree <= 2: chains are paths or cycles.
fn chain(segments: &[[usize; 2]]) -> Vec<(Vec<usize>, bool)> {
    let mut by_edge: HashMap<usize, Vec<usize>> = HashMap::with_capacity(segments.len() * 2);
    for (s, seg) in segments.iter().enumerate() {
        for &e in seg {
            by_edge.entry(e).or_default().push(s);
        }
    }
    let mut used = vec![false; segments.len()];
    let mut chains = Vec::new();
    let walk = |start_seg: usize, start_edge: usize, used: &mut Vec<bool>| -> (Vec<usize>, bool) {
        let mut edges = vec![start_edge];
        let (mut seg, mut edge) = (start_seg, start_edge);
        loop {
            used[seg] = true;
            let [a, b] = segments[seg];
            let next_edge = if a == edge { b } else { a };
            edges.push(next_edge);
            match by_edge[&next_edge].iter().find(|&&s| !used[s]) {
                Some(&s) => {
                    seg = s;
                    edge = next_edge;
                }
                None => {
                    let closed = next_edge == start_edge;
                    return (edges, closed);
                }
            }
        }
    };
    // Open lines first, from an end (an edge with one segment), so they are walked whole. Ends are
    // visited in segment order, which keeps the output deterministic.
    for s in 0..segments.len() {
        for &e in &segments[s] {
            if !used[s] && by_edge[&e].len() == 1 {
                chains.push(walk(s, e, &mut used));
            }
        }
    }
    for s in 0..segments.len() {
        if !used[s] {
            chains.push(walk(s, segments[s][0], &mut used));
        }
    }
    chains
}

/// The region where the loss lies in [lower, upper) (either end may be infinite), as polygons.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    lower: f64,
    upper: f64,
    polygons: Vec<Vec<Point>>,
}

impl Band {
    /// The lower bound (inclusive), `-inf` for the lowest band.
    pub fn lower(&self) -> f64 {
        self.lower
    }

    /// The upper bound (exclusive), `+inf` for the highest band.
    pub fn upper(&self) -> f64 {
        self.upper
    }

    /// Convex polygons that together cover the band (cells, merged rectangles, clipped triangles).
    pub fn polygons(&self) -> &[Vec<Point>] {
        &self.polygons
    }
}

/// Filled bands between consecutive `levels` (sorted ascending; unsorted input is sorted), plus
/// one band below the first level and one above the last: `levels.len() + 1` bands in all.
pub fn bands(landscape: &Landscape, levels: &[f64]) -> Vec<Band> {
    let mut levels: Vec<f64> = levels.iter().copied().filter(|l| l.is_finite()).collect();
    levels.sort_by(f64::total_cmp);
    levels.dedup();
    let mut bounds = vec![f64::NEG_INFINITY];
    bounds.extend(&levels);
    bounds.push(f64::INFINITY);
    let mut out: Vec<Band> =
        bounds.windows(2).map(|w| Band { lower: w[0], upper: w[1], polygons: Vec::new() }).collect();
    let band_of = |z: f64| levels.partition_point(|&l| l <= z);
    let (nu, nv) = (landscape.u().n(), landscape.v().n());
    let us = landscape.u().values();
    let vs = landscape.v().values();
    for j in 0..nv - 1 {
        // A run of whole cells in one band: (band, first column).
        let mut run: Option<(usize, usize)> = None;
        let flush = |run: &mut Option<(usize, usize)>, end: usize, out: &mut Vec<Band>| {
            if let Some((b, start)) = run.take() {
                let (u0, u1, v0, v1) = (us[start], us[end], vs[j], vs[j + 1]);
                out[b].polygons.push(vec![[u0, v0], [u1, v0], [u1, v1], [u0, v1]]);
            }
        };
        for i in 0..nu - 1 {
            let p = [
                [us[i], vs[j], landscape.at(i, j)],
                [us[i + 1], vs[j], landscape.at(i + 1, j)],
                [us[i + 1], vs[j + 1], landscape.at(i + 1, j + 1)],
                [us[i], vs[j + 1], landscape.at(i, j + 1)],
            ];
            if p.iter().any(|c| !c[2].is_finite()) {
                flush(&mut run, i, &mut out);
                continue;
            }
            let b0 = band_of(p[0][2]);
            if p.iter().all(|c| band_of(c[2]) == b0) {
                match run {
                    Some((b, _)) if b == b0 => {}
                    _ => {
                        flush(&mut run, i, &mut out);
                        run = Some((b0, i));
                    }
                }
                continue;
            }
            flush(&mut run, i, &mut out);
            for triangle in [[p[0], p[1], p[2]], [p[0], p[2], p[3]]] {
                let lo = triangle.iter().map(|c| band_of(c[2])).min().expect("3 corners");
                let hi = triangle.iter().map(|c| band_of(c[2])).max().expect("3 corners");
                for (b, band) in out.iter_mut().enumerate().take(hi + 1).skip(lo) {
                    let poly = clip_triangle(&triangle, band.lower, band.upper);
                    if poly.len() >= 3 {
                        band.polygons.push(poly);
                    }
                    debug_assert!(b <= hi);
                }
            }
        }
        flush(&mut run, nu - 1, &mut out);
    }
    out
}

/// The part of a triangle (x, y, value at the corner) where lower <= value <= upper, under linear
/// interpolation (Sutherland-Hodgman against two half-planes of the value).
fn clip_triangle(triangle: &[[f64; 3]; 3], lower: f64, upper: f64) -> Vec<Point> {
    let mut poly: Vec<[f64; 3]> = triangle.to_vec();
    for (bound, keep_above) in [(lower, true), (upper, false)] {
        if !bound.is_finite() {
            continue;
        }
        let inside = |p: &[f64; 3]| if keep_above { p[2] >= bound } else { p[2] <= bound };
        let mut next = Vec::with_capacity(poly.len() + 2);
        for k in 0..poly.len() {
            let (a, b) = (poly[k], poly[(k + 1) % poly.len()]);
            if inside(&a) {
                next.push(a);
            }
            if inside(&a) != inside(&b) {
                let t = (bound - a[2]) / (b[2] - a[2]);
                next.push([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]), bound]);
            }
        }
        poly = next;
        if poly.is_empty() {
            break;
        }
    }
    poly.into_iter().map(|p| [p[0], p[1]]).collect()
}

/// `count` levels spread over the finite values of `landscape`: log-spaced when the positive
/// values span more than two decades (loss surfaces usually do), else evenly spaced, each rounded
/// to two significant digits so labels read 0.4 or 15 rather than 0.403 or 15.3 (as long as
/// rounding keeps them distinct). The levels lie strictly inside the range, so each one draws a
/// line. Empty when no two values differ.
pub fn auto_levels(landscape: &Landscape, count: usize) -> Vec<f64> {
    let Some((lo, hi)) = landscape.finite_range() else {
        return Vec::new();
    };
    if count == 0 || hi <= lo {
        return Vec::new();
    }
    let positive_lo = if lo > 0.0 { lo } else { f64::NAN };
    let raw: Vec<f64> = if positive_lo.is_finite() && hi / positive_lo > 100.0 {
        let (a, b) = (positive_lo.ln(), hi.ln());
        (1..=count).map(|k| (a + (b - a) * k as f64 / (count + 1) as f64).exp()).collect()
    } else {
        (1..=count).map(|k| lo + (hi - lo) * k as f64 / (count + 1) as f64).collect()
    };
    let rounded: Vec<f64> = raw.iter().map(|&l| round_significant(l, 2)).collect();
    let distinct = rounded.windows(2).all(|w| w[0] < w[1]);
    let inside = rounded.iter().all(|&l| l > lo && l < hi);
    if distinct && inside {
        rounded
    } else {
        raw
    }
}

/// `value` rounded to `digits` significant digits.
fn round_significant(value: f64, digits: i32) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    let scale = 10f64.powi(digits - 1 - value.abs().log10().floor() as i32);
    // Dividing by an exact power of ten (rather than multiplying by its inverse) gives the
    // nearest double to the decimal, e.g. 0.4 and not 0.4000000000000001.
    if scale >= 1.0 {
        (value * scale).round() / scale
    } else {
        (value / (1.0 / scale).round()).round() * (1.0 / scale).round()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::landscape::{evaluate, Axis, GridSpec, DEFAULT_GRID_BUDGET_BYTES};
    use crate::plane::Plane;
    use crate::{Dataset, Loss, Objective};

    fn grid_of(f: impl Fn(f64, f64) -> f64, n: usize, lo: f64, hi: f64) -> Landscape {
        let grid = GridSpec::new(
            Axis::new("u", lo, hi, n).unwrap(),
            Axis::new("v", lo, hi, n).unwrap(),
            DEFAULT_GRID_BUDGET_BYTES,
        )
        .unwrap();
        let plane = Plane::parameter_axes(&["u".into(), "v".into()]).unwrap();
        let mut values = Vec::new();
        for j in 0..n {
            for i in 0..n {
                values.push(f(grid.u().value(i), grid.v().value(j)));
            }
        }
        Landscape::from_values(grid, plane, values).unwrap()
    }

    #[test]
    fn a_bowl_gives_one_closed_circle_per_level() {
        let l = grid_of(|u, v| u * u + v * v, 101, -2.0, 2.0);
        for iso in isolines(&l, &[0.25, 1.0, 2.25]) {
            assert_eq!(iso.lines().len(), 1);
            let line = &iso.lines()[0];
            assert!(line.is_closed());
            let r = iso.level().sqrt();
            for p in line.points() {
                // Linear interpolation of r^2 across a cell of width h errs by at most h^2/4 in r^2.
                assert!((p[0].hypot(p[1]) - r).abs() < 0.002, "{p:?} off radius {r}");
            }
            let circumference = 2.0 * std::f64::consts::PI * r;
            assert!((line.length() - circumference).abs() / circumference < 1e-3);
        }
    }

    #[test]
    fn a_line_that_leaves_the_grid_ends_at_the_border() {
        // Level 1 of u^2 + v^2 on [0, 2]^2 is a quarter circle from (1, 0) to (0, 1).
        let l = grid_of(|u, v| u * u + v * v, 41, 0.0, 2.0);
        let iso = &isolines(&l, &[1.0])[0];
        assert_eq!(iso.lines().len(), 1);
        let line = &iso.lines()[0];
        assert!(!line.is_closed());
        let (first, last) = (line.points()[0], *line.points().last().unwrap());
        let mut ends = [first, last];
        ends.sort_by(|a, b| a[0].total_cmp(&b[0]));
        assert!((ends[0][0]).abs() < 1e-12 && (ends[0][1] - 1.0).abs() < 1e-12, "{ends:?}");
        assert!((ends[1][0] - 1.0).abs() < 1e-12 && ends[1][1].abs() < 1e-12, "{ends:?}");
    }

    #[test]
    fn gaps_cut_lines() {
        let l = grid_of(|u, v| if u.abs() < 0.3 { f64::NAN } else { u * u + v * v }, 41, -2.0, 2.0);
        let iso = &isolines(&l, &[1.0])[0];
        assert_eq!(iso.lines().len(), 2);
        assert!(iso.lines().iter().all(|line| !line.is_closed()));
    }

    #[test]
    fn seed_isolines_lie_on_their_levels() {
        let obj = Objective::new(
            Dataset::seed(),
            Arc::new(crate::model::linear(crate::model::Activation::Identity)),
            Loss::Mse,
        );
        let plane = Plane::parameter_axes(obj.param_names()).unwrap();
        let grid = GridSpec::new(
            Axis::new("k", 0.0, 2.0, 200).unwrap(),
            Axis::new("b", -2.0, 4.0, 200).unwrap(),
            DEFAULT_GRID_BUDGET_BYTES,
        )
        .unwrap();
        let l = evaluate(&obj, &plane, &grid).unwrap();
        let levels = [0.2, 0.5, 0.7, 1.0, 3.0, 8.0, 10.0, 15.0, 20.0];
        let mut worst: f64 = 0.0;
        for iso in isolines(&l, &levels) {
            assert!(!iso.lines().is_empty(), "level {} has no line", iso.level());
            for line in iso.lines() {
                for p in line.points() {
                    worst = worst.max((obj.loss(p) - iso.level()).abs());
                }
            }
        }
        // Linear interpolation along an edge of length h errs by at most max|L''| h^2 / 8, with
        // L''= 2 along b (h = 6/199) and 110/6 along k (h = 2/199): both under 2.3e-4.
        assert!(worst < 3e-4, "worst deviation {worst}");
    }

    #[test]
    fn bands_cover_the_grid_exactly_once() {
        let l = grid_of(|u, v| (u * 1.3).sin() + v * v, 30, -2.0, 2.0);
        let levels = [-0.5, 0.0, 0.5, 1.5, 3.0];
        let bs = bands(&l, &levels);
        assert_eq!(bs.len(), levels.len() + 1);
        let area = |poly: &Vec<Point>| {
            let mut a = 0.0;
            for k in 0..poly.len() {
                let (p, q) = (poly[k], poly[(k + 1) % poly.len()]);
                a += p[0] * q[1] - q[0] * p[1];
            }
            a.abs() / 2.0
        };
        let total: f64 = bs.iter().flat_map(|b| b.polygons()).map(area).sum();
        assert!((total - 16.0).abs() < 1e-9, "{total}");
        // The middle of each polygon has a value inside its band (the polygons are convex).
        for b in &bs {
            for poly in b.polygons() {
                let c = poly.iter().fold([0.0, 0.0], |acc, p| [acc[0] + p[0], acc[1] + p[1]]);
                let c = [c[0] / poly.len() as f64, c[1] / poly.len() as f64];
                let z = l.interpolate(c[0], c[1]);
                let tol = 0.05; // bilinear vs triangle-linear inside a cell
                assert!(
                    z >= b.lower() - tol && z <= b.upper() + tol,
                    "{z} not in [{}, {})",
                    b.lower(),
                    b.upper()
                );
            }
        }
    }

    #[test]
    fn auto_levels_are_log_spaced_over_many_decades() {
        let l = grid_of(|u, v| (u * u + v * v) * 1000.0 + 0.01, 21, -1.0, 1.0);
        let levels = auto_levels(&l, 5);
        assert_eq!(levels.len(), 5);
        // Range 0.01 .. 2000.01: log-spaced by a factor (2e5)^(1/6) = 7.647, so the first level is
        // 0.07647, rounded to 2 digits.
        let ratios: Vec<f64> = levels.windows(2).map(|w| w[1] / w[0]).collect();
        for r in &ratios {
            assert!((r - 7.66).abs() < 0.5, "{levels:?}");
        }
        assert_eq!(levels[0], 0.076, "{levels:?}");
        let flat = grid_of(|u, _| u + 5.0, 11, 0.0, 1.0);
        let even = auto_levels(&flat, 4);
        for (got, want) in even.iter().zip([5.2, 5.4, 5.6, 5.8]) {
            assert!((got - want).abs() < 1e-12, "{even:?}");
        }
    }
}
