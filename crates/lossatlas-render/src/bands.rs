//! The fill of a map: bands between levels in the colours of a [`ColorScale`], and the grey,
//! hatched gaps where the loss is not finite.

use plotters::coord::Shift;
use plotters::prelude::*;

use lossatlas::{bands, Landscape};

use crate::colorbar::band_color;
use crate::colormap::ColorScale;
use crate::error::Result;
use crate::geometry::{lerp, round, segment_in_rect, Rect};
use crate::labels::Sizes;
use crate::map_frame::Frame;

/// The fill of the places where the loss is not finite.
pub(crate) const NAN_FILL: RGBColor = RGBColor(222, 222, 222);
/// The hatching over [`NAN_FILL`].
pub(crate) const NAN_HATCH: RGBColor = RGBColor(170, 170, 170);

/// Fills the bands between levels.
///
/// The pieces [`lossatlas::bands`] returns (cells, rectangles, clipped triangles: thousands) are
/// first merged into the rings that bound each band ([`band_rings`]); the outer rings are then
/// painted largest first, each over the ones it lies in. A band's holes are not cut out: whatever
/// fills a hole has a smaller ring and is painted over it later, so where two colours meet the
/// later one is anti-aliased against the right neighbour rather than the white background, and
/// there are no hairline seams (each ring is also outlined in its own colour, which covers the
/// few places where two rings only touch). This keeps a 200 x 200 SVG around a hundred
/// kilobytes. Should a band not merge cleanly, the pieces are drawn as they are, outlined.
pub(crate) fn draw_bands<DB: DrawingBackend>(
    plot: &DrawingArea<DB, Shift>,
    landscape: &Landscape,
    levels: &[f64],
    scale: &ColorScale,
    frame: &Frame,
) -> Result<()> {
    let bands = bands(landscape, levels);
    let (du, dv) = (landscape.u().step(), landscape.v().step());
    let merged: Option<Vec<(f64, RGBColor, Vec<lossatlas::Point>)>> = bands
        .iter()
        .map(|band| {
            let color = band_color(scale, band.lower(), band.upper());
            band_rings(band.polygons(), du, dv).map(|rings| {
                rings
                    .into_iter()
                    .filter(|r| r.0 > 0.0)
                    .map(|(area, ring)| (area, color, ring))
                    .collect::<Vec<_>>()
            })
        })
        .collect::<Option<Vec<_>>>()
        .map(|per_band| per_band.into_iter().flatten().collect());
    if let Some(mut rings) = merged {
        rings.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (_, color, ring) in rings {
            let pts = simplify_ring(ring.iter().map(|p| frame.px_i(p[0], p[1])).collect());
            if pts.len() < 3 {
                continue;
            }
            plot.draw(&Polygon::new(pts.clone(), color.filled()))?;
            let mut outline = pts.clone();
            outline.push(pts[0]);
            plot.draw(&PathElement::new(outline, color.stroke_width(1)))?;
        }
        return Ok(());
    }
    for band in &bands {
        let color = band_color(scale, band.lower(), band.upper());
        for poly in band.polygons() {
            let pts = simplify_ring(poly.iter().map(|p| frame.px_i(p[0], p[1])).collect());
            if pts.len() < 3 {
                continue;
            }
            if let Some([a, b]) = axis_aligned_rect(&pts) {
                plot.draw(&Rectangle::new([a, b], color.filled()))?;
                plot.draw(&Rectangle::new([a, b], color.stroke_width(1)))?;
                continue;
            }
            plot.draw(&Polygon::new(pts.clone(), color.filled()))?;
            let mut outline = pts.clone();
            outline.push(pts[0]);
            plot.draw(&PathElement::new(outline, color.stroke_width(1)))?;
        }
    }
    Ok(())
}

/// A vertex key: coordinates in units of a ten-millionth of a grid step, so the same crossing
/// computed from either side of a cell edge (equal up to rounding) gets the same key.
type Key = (i64, i64);

/// The rings bounding the union of a band's pieces, each with its signed area (positive for an
/// outer boundary, negative for a hole), or `None` when the pieces do not fit together (which
/// would be a bug in the pieces, or a rounding coincidence; the caller then draws the pieces).
///
/// Pieces are oriented counter-clockwise; an edge two pieces share appears once in each
/// direction and cancels, leaving the boundary. Runs of whole cells meet their neighbours in the
/// next row with T-junctions, so edges along a grid line are first split at every vertex on it.
fn band_rings(
    polygons: &[Vec<lossatlas::Point>],
    du: f64,
    dv: f64,
) -> Option<Vec<(f64, Vec<lossatlas::Point>)>> {
    use std::collections::{BTreeMap, HashMap};
    let (qu, qv) = (du * 1e-7, dv * 1e-7);
    let key = |p: &lossatlas::Point| -> Key { ((p[0] / qu).round() as i64, (p[1] / qv).round() as i64) };
    let mut points: HashMap<Key, lossatlas::Point> = HashMap::new();
    let mut edges: Vec<(Key, Key)> = Vec::new();
    for poly in polygons {
        let mut keys: Vec<Key> = Vec::with_capacity(poly.len());
        for p in poly {
            let k = key(p);
            points.entry(k).or_insert(*p);
            if keys.last() != Some(&k) {
                keys.push(k);
            }
        }
        while keys.len() > 1 && keys.first() == keys.last() {
            keys.pop();
        }
        if keys.len() < 3 {
            continue;
        }
        let area = ring_area(&keys.iter().map(|k| points[k]).collect::<Vec<_>>());
        if area == 0.0 {
            continue;
        }
        if area < 0.0 {
            keys.reverse();
        }
        for k in 0..keys.len() {
            edges.push((keys[k], keys[(k + 1) % keys.len()]));
        }
    }

    // Split edges along horizontal and vertical lines at every vertex of another edge on them.
    let mut rows: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut cols: HashMap<i64, Vec<i64>> = HashMap::new();
    for &(a, b) in &edges {
        if a.1 == b.1 {
            rows.entry(a.1).or_default().extend([a.0, b.0]);
        }
        if a.0 == b.0 {
            cols.entry(a.0).or_default().extend([a.1, b.1]);
        }
    }
    for list in rows.values_mut().chain(cols.values_mut()) {
        list.sort_unstable();
        list.dedup();
    }
    let mut split: Vec<(Key, Key)> = Vec::with_capacity(edges.len());
    for (a, b) in edges {
        // `horizontal`: the edge runs along a row (split by x), else along a column (by y).
        let (line, horizontal) = if a.1 == b.1 {
            (rows.get(&a.1), true)
        } else if a.0 == b.0 {
            (cols.get(&a.0), false)
        } else {
            (None, true)
        };
        let Some(line) = line else {
            split.push((a, b));
            continue;
        };
        let (from, to) = if horizontal { (a.0, b.0) } else { (a.1, b.1) };
        let (lo, hi) = (from.min(to), from.max(to));
        let start = line.partition_point(|&x| x <= lo);
        let end = line.partition_point(|&x| x < hi);
        let mut inner: Vec<i64> = line[start..end].to_vec();
        if from > to {
            inner.reverse();
        }
        let mut prev = a;
        for x in inner {
            let k = if horizontal { (x, a.1) } else { (a.0, x) };
            split.push((prev, k));
            prev = k;
        }
        split.push((prev, b));
    }

    // Cancel shared edges.
    let mut count: HashMap<(Key, Key), i32> = HashMap::new();
    for (a, b) in split {
        if a == b {
            continue;
        }
        match count.get_mut(&(b, a)) {
            Some(c) if *c > 0 => *c -= 1,
            _ => *count.entry((a, b)).or_default() += 1,
        }
    }
    let mut out: BTreeMap<Key, Vec<Key>> = BTreeMap::new();
    for ((a, b), c) in count {
        for _ in 0..c {
            out.entry(a).or_default().push(b);
        }
    }
    for targets in out.values_mut() {
        targets.sort_unstable();
    }

    // Walk the boundary into rings (BTreeMap order keeps the output deterministic).
    let mut rings = Vec::new();
    let starts: Vec<Key> = out.keys().copied().collect();
    for start in starts {
        while let Some(next) = out.get_mut(&start).and_then(|t| t.pop()) {
            let mut ring = vec![points[&start]];
            let mut current = next;
            while current != start {
                ring.push(*points.get(&current)?);
                current = out.get_mut(&current).and_then(|t| t.pop())?;
            }
            let area = ring_area(&ring);
            rings.push((area, ring));
        }
    }
    Some(rings)
}

/// The signed area of a ring (shoelace formula): positive when counter-clockwise in plane
/// coordinates (v up).
fn ring_area(ring: &[lossatlas::Point]) -> f64 {
    let n = ring.len();
    (0..n).map(|k| ring[k][0] * ring[(k + 1) % n][1] - ring[(k + 1) % n][0] * ring[k][1]).sum::<f64>() / 2.0
}

/// Drops repeated and collinear pixel vertices of a closed ring (most vertices of a merged band
/// lie on straight grid lines, and many crossings round to the same pixel).
fn simplify_ring(mut pts: Vec<(i32, i32)>) -> Vec<(i32, i32)> {
    pts.dedup();
    while pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    let mut changed = true;
    while changed && pts.len() >= 3 {
        changed = false;
        let mut kept: Vec<(i32, i32)> = Vec::with_capacity(pts.len());
        let n = pts.len();
        for k in 0..n {
            let prev = kept.last().copied().unwrap_or(pts[(k + n - 1) % n]);
            let (cur, next) = (pts[k], pts[(k + 1) % n]);
            let cross = (cur.0 - prev.0) as i64 * (next.1 - cur.1) as i64
                - (cur.1 - prev.1) as i64 * (next.0 - cur.0) as i64;
            let dot = (cur.0 - prev.0) as i64 * (next.0 - cur.0) as i64
                + (cur.1 - prev.1) as i64 * (next.1 - cur.1) as i64;
            if cur == prev || (cross == 0 && dot >= 0) {
                changed = true;
                continue;
            }
            kept.push(cur);
        }
        pts = kept;
    }
    pts
}

/// The corners (top-left, bottom-right) of a polygon that is an axis-aligned rectangle.
fn axis_aligned_rect(poly: &[(i32, i32)]) -> Option<[(i32, i32); 2]> {
    if poly.len() != 4 {
        return None;
    }
    let xs = poly.iter().map(|p| p.0);
    let ys = poly.iter().map(|p| p.1);
    let (x0, x1) = (xs.clone().min()?, xs.max()?);
    let (y0, y1) = (ys.clone().min()?, ys.max()?);
    let on_corners = poly.iter().all(|&(x, y)| (x == x0 || x == x1) && (y == y0 || y == y1));
    let distinct = poly.windows(2).all(|w| w[0] != w[1]) && poly[0] != poly[3];
    (on_corners && distinct && x0 < x1 && y0 < y1).then_some([(x0, y0), (x1, y1)])
}

/// Cells with a non-finite corner, merged into rectangles (runs along rows, then runs of equal
/// rows), filled grey and hatched. Returns the rectangles in pixels.
pub(crate) fn draw_non_finite<DB: DrawingBackend>(
    plot: &DrawingArea<DB, Shift>,
    landscape: &Landscape,
    frame: &Frame,
    sz: Sizes,
) -> Result<Vec<Rect>> {
    let (nu, nv) = (landscape.u().n(), landscape.v().n());
    let bad = |i: usize, j: usize| {
        !(landscape.at(i, j).is_finite()
            && landscape.at(i + 1, j).is_finite()
            && landscape.at(i, j + 1).is_finite()
            && landscape.at(i + 1, j + 1).is_finite())
    };
    // (i0, i1, j0, j1) in cell indices, inclusive-exclusive.
    let mut open: Vec<(usize, usize, usize, usize)> = Vec::new();
    let mut rects: Vec<(usize, usize, usize, usize)> = Vec::new();
    for j in 0..nv - 1 {
        let mut runs = Vec::new();
        let mut i = 0;
        while i < nu - 1 {
            if bad(i, j) {
                let start = i;
                while i < nu - 1 && bad(i, j) {
                    i += 1;
                }
                runs.push((start, i));
            } else {
                i += 1;
            }
        }
        let mut next_open = Vec::new();
        for r in open.drain(..) {
            if runs.contains(&(r.0, r.1)) {
                next_open.push((r.0, r.1, r.2, j + 1));
            } else {
                rects.push(r);
            }
        }
        for run in runs {
            if !next_open.iter().any(|r: &(usize, usize, usize, usize)| (r.0, r.1) == run) {
                next_open.push((run.0, run.1, j, j + 1));
            }
        }
        open = next_open;
    }
    rects.extend(open);
    let spacing = sz.len(9.0).max(4.0);
    let (u, v) = (landscape.u(), landscape.v());
    let mut out = Vec::with_capacity(rects.len());
    for (i0, i1, j0, j1) in rects {
        let a = frame.px(u.value(i0), v.value(j1));
        let b = frame.px(u.value(i1), v.value(j0));
        let r = Rect { x0: a.0, y0: a.1, x1: b.0, y1: b.1 };
        plot.draw(&Rectangle::new([round((r.x0, r.y0)), round((r.x1, r.y1))], NAN_FILL.filled()))?;
        // Hatching: lines x + y = c, with a phase shared by all rectangles so it runs on across them.
        let mut c = ((r.x0 + r.y0) / spacing).ceil() * spacing;
        while c <= r.x1 + r.y1 {
            let (p, q) = ((c - r.y1 - 10.0, r.y1 + 10.0), (c - r.y0 + 10.0, r.y0 - 10.0));
            if let Some((t0, t1)) = segment_in_rect(p, q, &r) {
                let (s, e) = (lerp(p, q, t0), lerp(p, q, t1));
                plot.draw(&PathElement::new(
                    vec![round(s), round(e)],
                    NAN_HATCH.stroke_width(sz.px(1.0, 1)),
                ))?;
            }
            c += spacing;
        }
        out.push(r);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use lossatlas::{Axis, GridSpec, Plane};

    use super::*;
    use crate::test_support::{bowl_with_hole, grid_bowl, seed_landscape, FIG1_LEVELS};

    #[test]
    fn band_pieces_merge_into_rings_of_the_same_area() {
        let bumpy = {
            let grid = GridSpec::new(
                Axis::new("u", -2.0, 2.0, 90).unwrap(),
                Axis::new("v", -2.0, 2.0, 70).unwrap(),
                lossatlas::DEFAULT_GRID_BUDGET_BYTES,
            )
            .unwrap();
            let plane = Plane::parameter_axes(&["u".into(), "v".into()]).unwrap();
            let mut values = Vec::new();
            for j in 0..70 {
                for i in 0..90 {
                    let (u, v) = (grid.u().value(i), grid.v().value(j));
                    values.push((3.0 * u).sin() * (3.0 * v).cos() + 0.1 * u);
                }
            }
            Landscape::from_values(grid, plane, values).unwrap()
        };
        let cases = [
            (seed_landscape(120), FIG1_LEVELS.to_vec()),
            (bowl_with_hole(61), vec![0.5, 1.0, 2.0, 4.0]),
            (bumpy, vec![-0.6, -0.2, 0.0, 0.3, 0.7]),
        ];
        for (l, levels) in &cases {
            for band in bands(l, levels) {
                let pieces: f64 = band.polygons().iter().map(|p| ring_area(p).abs()).sum();
                let rings = band_rings(band.polygons(), l.u().step(), l.v().step()).expect("the pieces fit");
                let merged: f64 = rings.iter().map(|r| r.0).sum();
                assert!((merged - pieces).abs() <= 1e-9 * pieces.max(1.0), "{merged} vs {pieces}");
                if pieces > 0.0 {
                    assert!(rings.len() < band.polygons().len().max(2), "nothing merged");
                }
            }
        }
        // The bowl's band [0.5, 1) is an annulus: one outer ring, one hole.
        let l = grid_bowl();
        let band = &bands(&l, &[0.5, 1.0])[1];
        let rings = band_rings(band.polygons(), l.u().step(), l.v().step()).unwrap();
        assert_eq!(rings.iter().filter(|r| r.0 > 0.0).count(), 1);
        assert_eq!(rings.iter().filter(|r| r.0 < 0.0).count(), 1);
    }

    #[test]
    fn rings_lose_repeated_and_collinear_pixels() {
        let ring = vec![(0, 0), (5, 0), (10, 0), (10, 0), (10, 10), (0, 10), (0, 5), (0, 0)];
        assert_eq!(simplify_ring(ring), vec![(0, 0), (10, 0), (10, 10), (0, 10)]);
    }
}
