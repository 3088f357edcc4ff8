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
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;

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
///
/// All levels are found in one pass over the cells: each grid value is placed once among the
/// sorted levels (its "band": how many levels lie at or below it), and a cell is crossed by exactly
/// the levels between its lowest and highest corner band. Most cells of a smooth landscape lie
/// inside one band and cost four integer comparisons, however many levels there are.
pub fn isolines(landscape: &Landscape, levels: &[f64]) -> Vec<Isoline> {
    let segments = crossing_segments(landscape, levels);
    let assemble = |(&level, segments): (&f64, Vec<[usize; 2]>)| Isoline {
        level,
        lines: polylines(landscape, level, &segments),
    };
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        levels.par_iter().zip(segments).map(assemble).collect()
    }
    #[cfg(not(feature = "parallel"))]
    levels.iter().zip(segments).map(assemble).collect()
}

/// A grid value's band that marks it as not finite (no level crosses a cell with such a corner).
const NOT_FINITE: u32 = u32::MAX;

/// Rows of cells per parallel task: enough work to outweigh a task's start, few enough to keep
/// both cores busy on a 200-row figure. The tasks' segments are joined in row order, so the
/// result is the same for any thread count.
const ROWS_PER_TASK: usize = 32;

/// The marching-squares segments of every level (indexed like `levels`), each list in row-major
/// cell order, as pairs of edge ids.
///
/// Edge ids: the horizontal edge from (i, j) to (i+1, j) is 2 * (j * nu + i); the vertical edge
/// from (i, j) to (i, j+1) is 2 * (j * nu + i) + 1.
fn crossing_segments(landscape: &Landscape, levels: &[f64]) -> Vec<Vec<[usize; 2]>> {
    // A level that is not finite crosses nothing (no corner is >= NaN; all or none are >= +-inf).
    let mut order: Vec<usize> = (0..levels.len()).filter(|&k| levels[k].is_finite()).collect();
    order.sort_by(|&a, &b| levels[a].total_cmp(&levels[b]));
    let sorted: Vec<f64> = order.iter().map(|&k| levels[k]).collect();
    let mut out: Vec<Vec<[usize; 2]>> = vec![Vec::new(); levels.len()];
    if sorted.is_empty() {
        return out;
    }
    let cell_rows = landscape.v().n() - 1;
    let task = |first_row: usize| {
        let rows = first_row..(first_row + ROWS_PER_TASK).min(cell_rows);
        let mut found: Vec<Vec<[usize; 2]>> = vec![Vec::new(); sorted.len()];
        segments_in_rows(landscape, &sorted, rows, &mut found);
        found
    };
    let starts = (0..cell_rows).step_by(ROWS_PER_TASK);
    #[cfg(feature = "parallel")]
    let per_task: Vec<Vec<Vec<[usize; 2]>>> = {
        use rayon::prelude::*;
        starts.collect::<Vec<_>>().into_par_iter().map(task).collect()
    };
    #[cfg(not(feature = "parallel"))]
    let per_task: Vec<Vec<Vec<[usize; 2]>>> = starts.map(task).collect();
    for found in per_task {
        for (k, segments) in found.into_iter().enumerate() {
            out[order[k]].extend(segments);
        }
    }
    out
}

/// How many of the ascending `sorted` levels lie at or below each value of `row` (the value's
/// band), [`NOT_FINITE`] for values that are not finite. Neighbouring values of a landscape are
/// nearly always in the same band, so the previous value's band is tried before a binary search.
fn bands_of(row: &[f64], sorted: &[f64], bands: &mut [u32]) {
    let mut guess = 0usize;
    for (b, &z) in bands.iter_mut().zip(row) {
        *b = if !z.is_finite() {
            NOT_FINITE
        } else {
            let fits = (guess == 0 || sorted[guess - 1] <= z) && (guess == sorted.len() || z < sorted[guess]);
            if !fits {
                guess = sorted.partition_point(|&l| l <= z);
            }
            guess as u32
        };
    }
}

/// The segments of the cells in `rows`, pushed onto `out[k]` for the k-th of the ascending levels.
fn segments_in_rows(landscape: &Landscape, sorted: &[f64], rows: Range<usize>, out: &mut [Vec<[usize; 2]>]) {
    let nu = landscape.u().n();
    let values = landscape.values();
    // Corner c is at or above sorted level k exactly when band(c) > k, also with repeated levels.
    let mut below: Vec<u32> = vec![0; nu];
    let mut above: Vec<u32> = vec![0; nu];
    bands_of(&values[rows.start * nu..(rows.start + 1) * nu], sorted, &mut below);
    for j in rows {
        let (row0, row1) = (&values[j * nu..(j + 1) * nu], &values[(j + 1) * nu..(j + 2) * nu]);
        bands_of(row1, sorted, &mut above);
        // Runs of RUN cells whose corners all lie in one band (or a gap) are skipped whole, with
        // a check the compiler vectorises; the others are looked at one by one.
        const RUN: usize = 8;
        for start in (0..nu - 1).step_by(RUN) {
            let end = (start + RUN).min(nu - 1);
            let first = below[start];
            let uniform = below[start..=end]
                .iter()
                .zip(&above[start..=end])
                .fold(0, |acc, (&b, &a)| acc | (b ^ first) | (a ^ first));
            if uniform == 0 {
                continue;
            }
            for i in start..end {
                // Corner order: 0 = (i,j), 1 = (i+1,j), 2 = (i+1,j+1), 3 = (i,j+1).
                let bands = [below[i], below[i + 1], above[i + 1], above[i]];
                // Most cells lie inside one band (or a gap): nothing crosses them.
                if (bands[0] ^ bands[1]) | (bands[0] ^ bands[2]) | (bands[0] ^ bands[3]) == 0 {
                    continue;
                }
                let lo = bands.iter().copied().min().expect("4 corners");
                let hi = bands.iter().copied().max().expect("4 corners");
                if hi == NOT_FINITE {
                    continue;
                }
                let corners = [row0[i], row0[i + 1], row1[i + 1], row1[i]];
                let bottom = 2 * (j * nu + i);
                let edges =
                    CellEdges { left: bottom + 1, bottom, top: 2 * ((j + 1) * nu + i), right: bottom + 3 };
                for k in lo..hi {
                    let mut case = 0;
                    for (bit, &b) in bands.iter().enumerate() {
                        if b > k {
                            case |= 1 << bit;
                        }
                    }
                    edges.segments(case, &corners, sorted[k as usize], &mut out[k as usize]);
                }
            }
        }
        std::mem::swap(&mut below, &mut above);
    }
}

/// The four edges of one cell, as edge ids.
#[derive(Debug, Clone, Copy)]
struct CellEdges {
    left: usize,
    bottom: usize,
    top: usize,
    right: usize,
}

impl CellEdges {
    /// Pushes the segments of marching-squares `case` (bit b set when corner b is at or above
    /// `level`; never 0 or 15) onto `out`.
    fn segments(self, case: u32, corners: &[f64; 4], level: f64, out: &mut Vec<[usize; 2]>) {
        let CellEdges { left, bottom, top, right } = self;
        match case {
            1 | 14 => out.push([left, bottom]),
            2 | 13 => out.push([bottom, right]),
            3 | 12 => out.push([left, right]),
            4 | 11 => out.push([right, top]),
            6 | 9 => out.push([bottom, top]),
            7 | 8 => out.push([left, top]),
            // Saddles: corners 0 and 2 above (5) or 1 and 3 above (10). If the centre is on the
            // side of the diagonal pair, that pair is connected through the middle.
            5 | 10 => {
                let centre_above = corners.iter().sum::<f64>() / 4.0 >= level;
                if centre_above == (case == 5) {
                    out.push([left, top]);
                    out.push([bottom, right]);
                } else {
                    out.push([left, bottom]);
                    out.push([right, top]);
                }
            }
            _ => unreachable!("a crossed cell has corners on both sides of the level"),
        }
    }
}

/// Joins one level's segments into polylines whose vertices are the crossings on the edges.
fn polylines(landscape: &Landscape, level: f64, segments: &[[usize; 2]]) -> Vec<Polyline> {
    let nu = landscape.u().n();
    let (u_axis, v_axis) = (landscape.u(), landscape.v());
    let z = |i: usize, j: usize| landscape.at(i, j);
    // The crossing on an edge, computed from the edge's endpoints in a fixed order so that the two
    // cells sharing an edge produce bit-identical points.
    let crossing = |edge: usize| -> Point {
        let (cell, vertical) = (edge / 2, edge % 2 == 1);
        let (i, j) = (cell % nu, cell / nu);
        let (a, b) = if vertical { (z(i, j), z(i, j + 1)) } else { (z(i, j), z(i + 1, j)) };
        let t = ((level - a) / (b - a)).clamp(0.0, 1.0);
        let (u0, v0) = (u_axis.value(i), v_axis.value(j));
        if vertical {
            [u0, v0 + t * (v_axis.value(j + 1) - v0)]
        } else {
            [u0 + t * (u_axis.value(i + 1) - u0), v0]
        }
    };
    chain(segments)
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
        .collect()
}

/// Joins segments that share an edge into maximal chains. Every edge holds at most one crossing and
/// belongs to at most two cells, so the graph has degree <= 2: chains are paths or cycles.
fn chain(segments: &[[usize; 2]]) -> Vec<(Vec<usize>, bool)> {
    // The segments at each edge, in the order they were made (at most two; `NONE` marks a free
    // place).
    const NONE: usize = usize::MAX;
    let mut by_edge: HashMap<usize, [usize; 2], BuildHasherDefault<EdgeHasher>> =
        HashMap::with_capacity_and_hasher(segments.len() * 2, Default::default());
    for (s, seg) in segments.iter().enumerate() {
        for &e in seg {
            let at = by_edge.entry(e).or_insert([NONE; 2]);
            at[usize::from(at[0] != NONE)] = s;
        }
    }
    let ends = |e: usize| by_edge[&e].iter().filter(|&&s| s != NONE).count();
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
            match by_edge[&next_edge].iter().find(|&&s| s != NONE && !used[s]) {
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
            if !used[s] && ends(e) == 1 {
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

/// Hashes an edge id with one multiplication (Fibonacci hashing). Edge ids are our own dense
/// integers, not input an attacker chooses, and the default SipHash was a third of the time
/// spent joining segments on a landscape with many lines.
#[derive(Debug, Default)]
struct EdgeHasher(u64);

impl Hasher for EdgeHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b) ^ self.0.rotate_left(8));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
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

    /// Marching squares one level at a time, with the float comparisons written out: the way
    /// isolines were found before the one-pass version, kept as its reference.
    fn one_level_at_a_time(landscape: &Landscape, level: f64) -> Isoline {
        let nu = landscape.u().n();
        let z = |i: usize, j: usize| landscape.at(i, j);
        let mut segments = Vec::new();
        for j in 0..landscape.v().n() - 1 {
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
                let (left, top, right) = (bottom + 1, 2 * ((j + 1) * nu + i), 2 * (j * nu + i + 1) + 1);
                let centre_above = corners.iter().sum::<f64>() / 4.0 >= level;
                let pairs: &[[usize; 2]] = match (case, centre_above) {
                    (1 | 14, _) => &[[left, bottom]],
                    (2 | 13, _) => &[[bottom, right]],
                    (3 | 12, _) => &[[left, right]],
                    (4 | 11, _) => &[[right, top]],
                    (6 | 9, _) => &[[bottom, top]],
                    (7 | 8, _) => &[[left, top]],
                    (5, true) | (10, false) => &[[left, top], [bottom, right]],
                    (5, false) | (10, true) => &[[left, bottom], [right, top]],
                    _ => unreachable!(),
                };
                segments.extend_from_slice(pairs);
            }
        }
        Isoline { level, lines: polylines(landscape, level, &segments) }
    }

    #[test]
    fn all_levels_in_one_pass_match_one_level_at_a_time() {
        let wavy = |u: f64, v: f64| (3.0 * u).sin() * (2.0 * v).cos() + 0.1 * u * v;
        let with_gaps = |u: f64, v: f64| match ((u * 7.0) as i64 + (v * 5.0) as i64).rem_euclid(11) {
            0 => f64::NAN,
            3 => f64::INFINITY,
            7 => f64::NEG_INFINITY,
            _ => wavy(u, v),
        };
        // Values on a coarse lattice, so levels hit grid values exactly (crossings at vertices).
        let lattice = |u: f64, v: f64| ((u * 2.0).round() + (v * 3.0).round()) * 0.5;
        let grids = [
            grid_of(wavy, 60, -2.0, 2.0),
            grid_of(with_gaps, 47, -2.0, 2.0),
            grid_of(lattice, 33, -2.0, 2.0),
            grid_of(|u, v| u + 2.0 * v, 2, -1.0, 1.0),
        ];
        // Unsorted, repeated, outside the range, not finite, and exactly on lattice values.
        let levels = [
            0.5,
            -0.5,
            0.0,
            0.5,
            1.5,
            -3.0,
            9.0,
            f64::NAN,
            f64::INFINITY,
            1.0,
            0.25,
            -1.0,
            f64::NEG_INFINITY,
        ];
        for (g, l) in grids.iter().enumerate() {
            let all = isolines(l, &levels);
            assert_eq!(all.len(), levels.len());
            for (got, &level) in all.iter().zip(&levels) {
                let want = one_level_at_a_time(l, level);
                // Bitwise: same lines, same order, same points (NaN levels compare by their bits).
                assert_eq!(got.level().to_bits(), level.to_bits());
                assert_eq!(got.lines(), want.lines(), "grid {g}, level {level}");
            }
            assert!(all.iter().any(|iso| !iso.lines().is_empty()), "grid {g} drew nothing");
        }
        assert!(isolines(&grids[0], &[]).is_empty());
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
