//! The 3D view of a surface figure: data coordinates to a unit box, the box rotated by azimuth and
//! elevation and projected orthographically onto the screen, plus a depth buffer of the projected
//! surface that decides which parts of an overlay are hidden.
//!
//! Conventions follow matplotlib's `Axes3D.view_init(elev, azim)`: the viewer sits at azimuth
//! `azim` degrees around the vertical axis, measured from the +u axis towards +v, and `elev`
//! degrees above the u-v plane, looking at the centre of the box. The box has matplotlib's default
//! aspect 4:4:3 (u : v : z), so a steep landscape does not tower over the picture.
//!
//! The projection is orthographic: depth along the view direction is then an affine function of
//! screen position over every projected triangle, so interpolating it linearly while rasterizing
//! (below) is exact rather than an approximation.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use crate::raster::{ceil, floor};

/// Half extents of the normalized box along u, v and z (matplotlib's 4:4:3 aspect).
pub(crate) const HALF: [f64; 3] = [0.5, 0.5, 0.375];

/// A point after projection: screen position in pixels (y grows downwards) and its depth, the
/// distance towards the viewer along the view direction (larger is nearer).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Projected {
    /// Horizontal pixel coordinate.
    pub x: f64,
    /// Vertical pixel coordinate, growing downwards.
    pub y: f64,
    /// Nearness to the viewer in box units (larger is nearer).
    pub depth: f64,
}

/// Maps data coordinates (u, v, z) into the normalized box and the box onto the screen.
#[derive(Debug, Clone)]
pub(crate) struct Projection {
    ranges: [(f64, f64); 3],
    eye: [f64; 3],
    right: [f64; 3],
    up: [f64; 3],
    scale: f64,
    offset: (f64, f64),
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

impl Projection {
    /// A view of the box spanned by `ranges` (u, v, z in data units, each min < max) from
    /// `azimuth` and `elevation` (degrees), scaled and centred so the whole box fits inside the
    /// screen rectangle `rect` = (left, top, right, bottom) in pixels.
    pub fn new(
        ranges: [(f64, f64); 3],
        azimuth: f64,
        elevation: f64,
        rect: (f64, f64, f64, f64),
    ) -> Projection {
        let (az, el) = (azimuth.to_radians(), elevation.to_radians());
        let eye = [el.cos() * az.cos(), el.cos() * az.sin(), el.sin()];
        let right = [-az.sin(), az.cos(), 0.0];
        let up = [-el.sin() * az.cos(), -el.sin() * az.sin(), el.cos()];
        let mut projection = Projection { ranges, eye, right, up, scale: 1.0, offset: (0.0, 0.0) };
        let (mut x0, mut x1, mut y0, mut y1) =
            (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
        for corner in box_corners() {
            let p = projection.project_box(corner);
            x0 = x0.min(p.x);
            x1 = x1.max(p.x);
            y0 = y0.min(p.y);
            y1 = y1.max(p.y);
        }
        let (left, top, rect_right, bottom) = rect;
        let width = (rect_right - left).max(1.0);
        let height = (bottom - top).max(1.0);
        let scale = (width / (x1 - x0).max(1e-9)).min(height / (y1 - y0).max(1e-9));
        projection.scale = scale;
        projection.offset = (
            left + (width - (x1 - x0) * scale) / 2.0 - x0 * scale,
            top + (height - (y1 - y0) * scale) / 2.0 - y0 * scale,
        );
        projection
    }

    /// The unit vector from the box centre towards the viewer.
    pub fn eye(&self) -> [f64; 3] {
        self.eye
    }

    /// The direction towards the light, a unit vector in box coordinates. The light sits above
    /// and to the left of the viewer and turns with the view, so the side of a hill facing the
    /// reader is never in full shadow whatever the azimuth.
    pub fn light(&self) -> [f64; 3] {
        let l: [f64; 3] = std::array::from_fn(|k| self.eye[k] + 1.2 * self.up[k] - 0.6 * self.right[k]);
        let n = dot(l, l).sqrt();
        l.map(|c| c / n)
    }

    /// Data coordinates to box coordinates (each within its [`HALF`] extent when inside the
    /// ranges).
    pub fn to_box(&self, u: f64, v: f64, z: f64) -> [f64; 3] {
        let mut out = [0.0; 3];
        for (k, value) in [u, v, z].into_iter().enumerate() {
            let (lo, hi) = self.ranges[k];
            out[k] = ((value - lo) / (hi - lo) - 0.5) * 2.0 * HALF[k];
        }
        out
    }

    /// Projects a point given in box coordinates.
    pub fn project_box(&self, p: [f64; 3]) -> Projected {
        Projected {
            x: self.offset.0 + self.scale * dot(p, self.right),
            y: self.offset.1 - self.scale * dot(p, self.up),
            depth: dot(p, self.eye),
        }
    }

    /// Projects a point given in data coordinates.
    #[cfg(test)]
    pub fn project(&self, u: f64, v: f64, z: f64) -> Projected {
        self.project_box(self.to_box(u, v, z))
    }
}

/// The eight corners of the normalized box.
pub(crate) fn box_corners() -> [[f64; 3]; 8] {
    let mut out = [[0.0; 3]; 8];
    for (n, corner) in out.iter_mut().enumerate() {
        for (k, c) in corner.iter_mut().enumerate() {
            *c = if n >> k & 1 == 1 { HALF[k] } else { -HALF[k] };
        }
    }
    out
}

/// The depth of the nearest surface at every pixel, rasterized by our own code (triangles, depth
/// interpolated linearly, nearest wins). Figures ask it whether an overlay point is in front of
/// the surface, so hiding is decided identically for every output format.
///
/// The buffer is made a tile at a time, when a question first touches the tile: a figure asks
/// about a marker or the pixels along a few paths, and rasterizing all of a 100 x 100 surface's
/// 20,000 triangles at 1800 x 1400 pixels to answer them took longer than painting the surface.
/// The first few tiles find their triangles by looking at every one; after that, the triangles
/// are sorted once into the tiles their bounds touch ([`Bins`]). The usual question, the
/// minimum's marker, touches one to four tiles, and sorting all of figure 3's triangles for it
/// cost more than looking (figure 3: 8.93 -> 8.71 ms).
#[derive(Debug)]
pub(crate) struct DepthBuffer<T> {
    width: usize,
    height: usize,
    triangles: T,
    /// How many tiles have been made by looking at every triangle.
    scanned: AtomicUsize,
    /// The triangles sorted into tiles, once more than [`SCANNED_TILES`] tiles are asked for.
    bins: OnceLock<Bins>,
    /// Each tile's depths, row by row, once asked for.
    tiles: Vec<OnceLock<Box<[f32]>>>,
}

/// The triangles that may cover each tile of a [`DepthBuffer`] (tiles row by row, [`TILE`]
/// pixels square): those of tile `t` are `binned[starts[t]..starts[t + 1]]`.
#[derive(Debug)]
struct Bins {
    starts: Vec<u32>,
    binned: Vec<u32>,
}

/// The side of a [`DepthBuffer`] tile in pixels (smaller in tests, so that small buffers have
/// many tiles).
const TILE: usize = if cfg!(test) { 16 } else { 32 };

/// Tiles a [`DepthBuffer`] makes by looking at every triangle before it sorts them into tiles.
const SCANNED_TILES: usize = 8;

/// The tiles (in a grid `columns` x `rows` tiles large, row by row) that a triangle's bounds
/// touch: the pixels [`fill_rows`] may reach.
fn tiles_touched(&[a, b, c]: &[Projected; 3], columns: usize, rows: usize) -> impl Iterator<Item = usize> {
    let span = |lo: f64, hi: f64, count: usize| {
        let first = floor(lo).max(0) as usize / TILE;
        let end = (ceil(hi).max(0) as usize).div_ceil(TILE).min(count);
        first..end
    };
    let across = span(a.x.min(b.x).min(c.x), a.x.max(b.x).max(c.x), columns);
    let down = span(a.y.min(b.y).min(c.y), a.y.max(b.y).max(c.y), rows);
    down.flat_map(move |row| across.clone().map(move |column| row * columns + column))
}

impl Bins {
    /// `triangles` sorted into the tiles of a grid `columns` x `rows` tiles large: counted, then
    /// placed, in one array for all tiles rather than a list per tile.
    fn of(triangles: &impl Triangles, columns: usize, rows: usize) -> Bins {
        let mut starts = vec![0u32; columns * rows + 1];
        for triangle in (0..triangles.count()).filter_map(|n| triangles.get(n)) {
            for tile in tiles_touched(&triangle, columns, rows) {
                starts[tile + 1] += 1;
            }
        }
        for t in 1..starts.len() {
            starts[t] += starts[t - 1];
        }
        let mut next = starts.clone();
        let mut binned = vec![0u32; starts[columns * rows] as usize];
        for (n, triangle) in (0..triangles.count()).filter_map(|n| Some((n, triangles.get(n)?))) {
            for tile in tiles_touched(&triangle, columns, rows) {
                binned[next[tile] as usize] = n as u32;
                next[tile] += 1;
            }
        }
        Bins { starts, binned }
    }
}

/// Triangles numbered from 0, read one at a time where they are kept: the surface's are its
/// cells' outlines, and copying 20,000 of them into a list of their own (1.4 MB, every page of it
/// new) took longer than answering the figure's usual question.
pub(crate) trait Triangles {
    /// One past the largest number a triangle may have.
    fn count(&self) -> usize;

    /// Triangle `n`, if there is one of that number.
    fn get(&self, n: usize) -> Option<[Projected; 3]>;
}

impl Triangles for Vec<[Projected; 3]> {
    fn count(&self) -> usize {
        self.len()
    }

    fn get(&self, n: usize) -> Option<[Projected; 3]> {
        self.as_slice().get(n).copied()
    }
}

impl<T: Triangles> DepthBuffer<T> {
    /// The depth buffer of `triangles` on a picture `width` x `height` pixels large (nothing
    /// drawn where no triangle is: every point there is visible).
    pub fn of_triangles(width: u32, height: u32, triangles: T) -> DepthBuffer<T> {
        let (width, height) = (width as usize, height as usize);
        let tiles = (0..width.div_ceil(TILE) * height.div_ceil(TILE)).map(|_| OnceLock::new()).collect();
        DepthBuffer { width, height, triangles, scanned: AtomicUsize::new(0), bins: OnceLock::new(), tiles }
    }

    /// The depth of the nearest surface at pixel (x, y), `None` where no surface was drawn or
    /// outside the buffer.
    pub fn at(&self, x: i64, y: i64) -> Option<f64> {
        if x < 0 || y < 0 || x as usize >= self.width || y as usize >= self.height {
            return None;
        }
        let (x, y) = (x as usize, y as usize);
        let (columns, rows) = (self.width.div_ceil(TILE), self.height.div_ceil(TILE));
        let index = (y / TILE) * columns + x / TILE;
        let tile = self.tiles[index].get_or_init(|| {
            let window = Window { left: x / TILE * TILE, top: y / TILE * TILE, width: TILE };
            let mut depth = vec![f32::NEG_INFINITY; TILE * TILE].into_boxed_slice();
            let bins = match self.bins.get() {
                Some(bins) => Some(bins),
                None if self.scanned.fetch_add(1, Ordering::Relaxed) < SCANNED_TILES => None,
                None => Some(self.bins.get_or_init(|| Bins::of(&self.triangles, columns, rows))),
            };
            match bins {
                Some(Bins { starts, binned }) => {
                    for &n in &binned[starts[index] as usize..starts[index + 1] as usize] {
                        if let Some(triangle) = self.triangles.get(n as usize) {
                            fill_rows(&mut depth, window, triangle);
                        }
                    }
                }
                // Every triangle whose bounds reach the tile's pixels (a depth is the largest of
                // the triangles' there, whatever their order), found by comparing bounds: the
                // usual question makes the first tiles, and building a list of the tiles each
                // triangle touches, to look for this one in it, took most of their time.
                None => {
                    let (right, bottom) = ((window.left + TILE) as f64, (window.top + TILE) as f64);
                    for n in 0..self.triangles.count() {
                        let Some(triangle @ [a, b, c]) = self.triangles.get(n) else {
                            continue;
                        };
                        // The pixels `fill_rows` may reach: columns floor(min x) up to but not
                        // including ceil(max x), and rows likewise.
                        if a.x.min(b.x).min(c.x) < right
                            && a.x.max(b.x).max(c.x) > window.left as f64
                            && a.y.min(b.y).min(c.y) < bottom
                            && a.y.max(b.y).max(c.y) > window.top as f64
                        {
                            fill_rows(&mut depth, window, triangle);
                        }
                    }
                }
            }
            depth
        });
        let d = tile[(y % TILE) * TILE + x % TILE];
        d.is_finite().then_some(d as f64)
    }

    /// Whether a point is in front of the surface (or within `tolerance` box units behind it).
    ///
    /// The point is compared with the farthest surface depth among the 3 x 3 pixels around it:
    /// a point lying on a steep, front-facing part of the surface is then not hidden by its own
    /// neighbourhood one pixel away, while a hill in front covers the whole neighbourhood and
    /// still hides it.
    pub fn is_visible(&self, p: Projected, tolerance: f64) -> bool {
        if !(p.x.is_finite() && p.y.is_finite() && p.depth.is_finite()) {
            return false;
        }
        let (cx, cy) = (p.x.floor() as i64, p.y.floor() as i64);
        let mut farthest = f64::INFINITY;
        for dy in -1..=1 {
            for dx in -1..=1 {
                match self.at(cx + dx, cy + dy) {
                    Some(d) => farthest = farthest.min(d),
                    None => return true,
                }
            }
        }
        p.depth + tolerance >= farthest
    }
}

/// A rectangle of a picture held row by row in a buffer `width` pixels wide (as many rows as
/// the buffer holds), whose first pixel is (`left`, `top`) in the picture.
#[derive(Debug, Clone, Copy)]
struct Window {
    left: usize,
    top: usize,
    width: usize,
}

/// Rasterizes one triangle into the part of the picture `depth` holds: every pixel whose centre
/// lies inside (edges included) keeps the larger (nearer) of its current depth and the triangle's
/// depth there.
fn fill_rows(depth: &mut [f32], window: Window, [a, b, c]: [Projected; 3]) {
    let Window { left, top, width } = window;
    let bottom = top + depth.len() / width;
    let (y_min, y_max) = (a.y.min(b.y).min(c.y), a.y.max(b.y).max(c.y));
    let y0 = floor(y_min).max(top as i64);
    let y1 = ceil(y_max).min(bottom as i64);
    if y0 >= y1 {
        return;
    }
    let area = (b.x - a.x) * (c.y - a.y) - (c.x - a.x) * (b.y - a.y);
    if area.abs() < 1e-12 || !(area.is_finite()) {
        return;
    }
    let x0 = floor(a.x.min(b.x).min(c.x)).max(left as i64);
    let x1 = ceil(a.x.max(b.x).max(c.x)).min((left + width) as i64);
    if x0 >= x1 {
        return;
    }
    // A small slack on the barycentric test closes hairline cracks between neighbouring
    // triangles, which would otherwise let a hidden path peek through along cell edges.
    let eps = -1e-3;
    // Each barycentric weight is an affine function of the pixel centre: w = k + sx x + sy y.
    let inverse_area = 1.0 / area;
    let weight = |p: Projected, q: Projected| {
        // (q.x - x) * (p.y - y) - (p.x - x) * (q.y - y), divided by the area, expanded.
        let k = (q.x * p.y - p.x * q.y) * inverse_area;
        let sx = (q.y - p.y) * inverse_area;
        let sy = (p.x - q.x) * inverse_area;
        (k, sx, sy)
    };
    let (wa, wb) = (weight(c, b), weight(a, c));
    let wc = (1.0 - wa.0 - wb.0, -(wa.1 + wb.1), -(wa.2 + wb.2));
    for py in y0 as usize..y1 as usize {
        let y = py as f64 + 0.5;
        // The span of x where all three weights reach `eps`, widened by a pixel either side
        // against rounding; every pixel in it is still tested.
        let (mut lo, mut hi) = (x0 as f64, x1 as f64);
        for (k, sx, sy) in [wa, wb, wc] {
            let k = k + sy * y;
            if sx > 0.0 {
                lo = lo.max((eps - k) / sx);
            } else if sx < 0.0 {
                hi = hi.min((eps - k) / sx);
            } else if k < eps {
                hi = lo - 1.0;
            }
        }
        if lo > hi {
            continue;
        }
        let first = (floor(lo - 0.5)).max(x0) as usize;
        let last = (ceil(hi + 0.5)).min(x1) as usize;
        let row = (py - top) * width;
        let at = |(k, sx, sy): (f64, f64, f64), x: f64| k + sx * x + sy * y;
        for (px, slot) in (first..last).zip(&mut depth[row + first - left..row + last - left]) {
            let x = px as f64 + 0.5;
            let (u, v, w) = (at(wa, x), at(wb, x), at(wc, x));
            if u >= eps && v >= eps && w >= eps {
                let d = (u * a.depth + v * b.depth + w * c.depth) as f32;
                if d > *slot {
                    *slot = d;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(az: f64, el: f64) -> Projection {
        Projection::new([(0.0, 1.0), (0.0, 1.0), (0.0, 1.0)], az, el, (0.0, 0.0, 400.0, 300.0))
    }

    #[test]
    fn default_view_matches_matplotlib_orientation() {
        // azim -60, elev 30: the viewer stands on the +u, -v side, so +u runs to the right and
        // slightly down the screen, +v to the right and up (into the picture), +z straight up.
        let p = view(-60.0, 30.0);
        let o = p.project(0.5, 0.5, 0.5);
        let pu = p.project(1.0, 0.5, 0.5);
        let pv = p.project(0.5, 1.0, 0.5);
        let pz = p.project(0.5, 0.5, 1.0);
        assert!(pu.x > o.x && pu.y > o.y);
        assert!(pv.x > o.x && pv.y < o.y);
        assert!((pz.x - o.x).abs() < 1e-9 && pz.y < o.y);
        // The corner (u max, v min) is the nearest, (u min, v max) the farthest.
        assert!(p.project(1.0, 0.0, 0.0).depth > p.project(0.0, 1.0, 0.0).depth);
    }

    #[test]
    fn the_box_fits_the_rectangle() {
        for (az, el) in [(-60.0, 30.0), (0.0, 0.0), (123.0, 90.0), (-300.0, 10.0)] {
            let p = view(az, el);
            for c in box_corners() {
                let q = p.project_box(c);
                assert!(
                    q.x >= -1e-6 && q.x <= 400.0 + 1e-6 && q.y >= -1e-6 && q.y <= 300.0 + 1e-6,
                    "{az} {el}"
                );
            }
        }
    }

    /// The rule written out pixel by pixel over the bounding box, with the weights divided by
    /// the area at every pixel: the reference for the span-based fill.
    fn fill_reference(depth: &mut [f32], width: usize, a: Projected, b: Projected, c: Projected) {
        let area = (b.x - a.x) * (c.y - a.y) - (c.x - a.x) * (b.y - a.y);
        for py in 0..depth.len() / width {
            let y = py as f64 + 0.5;
            for px in 0..width {
                let x = px as f64 + 0.5;
                let wa = ((b.x - x) * (c.y - y) - (c.x - x) * (b.y - y)) / area;
                let wb = ((c.x - x) * (a.y - y) - (a.x - x) * (c.y - y)) / area;
                let wc = 1.0 - wa - wb;
                if wa >= -1e-3 && wb >= -1e-3 && wc >= -1e-3 {
                    let d = (wa * a.depth + wb * b.depth + wc * c.depth) as f32;
                    depth[py * width + px] = depth[py * width + px].max(d);
                }
            }
        }
    }

    #[test]
    fn the_span_fill_matches_the_per_pixel_rule_on_random_triangles() {
        // A fixed pseudo-random sequence (an LCG): triangles of every size and both windings,
        // some reaching past the buffer, in a buffer of several tiles. Its 5 x 6 tiles (of 16
        // pixels, the test build's size) are more than `SCANNED_TILES`: some tiles are made by
        // looking at every triangle and the rest from the sorted bins.
        let mut state = 7u64;
        let mut next = |scale: f64| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) * scale
        };
        let (w, h): (usize, usize) = (70, 90);
        assert!(w.div_ceil(TILE) * h.div_ceil(TILE) > SCANNED_TILES + 4);
        let mut triangles = Vec::new();
        for _ in 0..300 {
            let size = [3.0, 15.0, 60.0][triangles.len() % 3];
            let (cx, cy) = (next(80.0) - 5.0, next(100.0) - 5.0);
            let mut corner = || Projected { x: cx + next(size), y: cy + next(size), depth: next(2.0) - 1.0 };
            triangles.push([corner(), corner(), corner()]);
        }
        let fast = DepthBuffer::of_triangles(w as u32, h as u32, triangles.clone());
        let mut reference = vec![f32::NEG_INFINITY; w * h];
        for &[a, b, c] in &triangles {
            fill_reference(&mut reference, w, a, b, c);
        }
        for (n, &want) in reference.iter().enumerate() {
            let got = fast.at((n % w) as i64, (n / w) as i64).map_or(f32::NEG_INFINITY, |d| d as f32);
            assert!(
                got == want || (got - want).abs() < 1e-6,
                "pixel ({}, {}): {got} against {want}",
                n % w,
                n / w
            );
        }
    }

    #[test]
    fn depth_buffer_keeps_the_nearest_triangle() {
        let tri = |d: f64| {
            [
                Projected { x: 0.0, y: 0.0, depth: d },
                Projected { x: 20.0, y: 0.0, depth: d },
                Projected { x: 0.0, y: 20.0, depth: d },
            ]
        };
        let buffer = DepthBuffer::of_triangles(20, 20, vec![tri(-0.5), tri(0.25)]);
        assert_eq!(buffer.at(3, 3), Some(0.25));
        assert_eq!(buffer.at(19, 19), None);
        assert!(buffer.is_visible(Projected { x: 5.0, y: 5.0, depth: 0.3 }, 0.0));
        assert!(!buffer.is_visible(Projected { x: 5.0, y: 5.0, depth: 0.0 }, 0.1));
        assert!(buffer.is_visible(Projected { x: 5.0, y: 5.0, depth: 0.2 }, 0.1));
    }
}
