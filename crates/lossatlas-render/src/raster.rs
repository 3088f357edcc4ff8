//! Filling convex polygons straight into an RGB8 buffer, for figures that paint thousands of them.
//!
//! # Why not plotters
//!
//! plotters fills a polygon (`plotters_backend::rasterizer::fill_polygon`) by sweeping it with a
//! list of active edges that is rebuilt and re-sorted on every scan line, and writes the two end
//! pixels of every span one by one through the backend's blending `draw_pixel`. For a handful of
//! shapes that does not matter; for the 10,000 cells of a 100 x 100 surface it was most of the
//! figure's time (BENCHMARKS.md). A convex polygon needs none of it: each pixel row meets it in one
//! span, which its edges give directly, and the span is a run of equal bytes.
//!
//! A pixel is painted when its centre lies inside the polygon or on its outline, the rule the
//! surface's depth buffer uses ([`crate::projection::DepthBuffer`]). There is no anti-aliasing
//! here: figures that use this are drawn at twice the size and scaled down ([`crate::Figure`]'s
//! supersampling), which smooths the edges.

use std::ops::Range;
use std::sync::{Mutex, PoisonError};

/// Polygons with more corners than this are filled as a fan of triangles (see
/// [`RgbBand::fill_convex`]).
const MAX_CORNERS: usize = 8;

/// A rectangle of a picture in whole pixels: its top-left pixel and its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PixelRect {
    pub left: usize,
    pub top: usize,
    pub width: usize,
    pub height: usize,
}

/// A band of rows of a window of an RGB8 picture: `pixels` holds whole rows of the picture,
/// `stride` pixels wide, of which the band paints columns `left..left + width`. Positions are
/// the window's: its first row is the window's row `top`, its column 0 the picture's `left`.
#[derive(Debug)]
struct RgbBand<'a> {
    pixels: &'a mut [u8],
    stride: usize,
    left: usize,
    width: usize,
    top: usize,
}

impl RgbBand<'_> {
    /// The window row index one past the band's last row.
    fn bottom(&self) -> usize {
        self.top + self.pixels.len() / (3 * self.stride)
    }

    /// Paints the pixels of row `y` (window coordinates, inside the band) from column `first`
    /// to `last` inclusive with `quad`, four pixels of one colour.
    fn span(&mut self, y: usize, first: usize, last: usize, quad: &[u8; 12]) {
        let row = (y - self.top) * self.stride + self.left;
        let span = &mut self.pixels[(row + first) * 3..(row + last + 1) * 3];
        let mut quads = span.chunks_exact_mut(12);
        for chunk in &mut quads {
            chunk.copy_from_slice(quad);
        }
        for pixel in quads.into_remainder().chunks_exact_mut(3) {
            pixel.copy_from_slice(&quad[..3]);
        }
    }

    /// Paints, in `color`, every pixel of the band whose centre lies inside the convex polygon
    /// `outline` (pixel coordinates, either winding, corners not repeated) or on its edge.
    /// Non-finite corners make the polygon empty.
    fn fill_convex(&mut self, outline: &[(f64, f64)], color: [u8; 3]) {
        // A shape is offered to every band its rows might reach (`Shapes::paint`); one that
        // misses this band's rows is rejected here, before anything else.
        let (y_min, y_max) =
            outline.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
        let (first_row, end_row) = (ceil(y_min - 0.5).max(self.top as i64), floor(y_max - 0.5) + 1);
        let end_row = end_row.min(self.bottom() as i64);
        if outline.len() < 3
            || first_row >= end_row
            || outline.iter().any(|&(x, y)| !(x.is_finite() && y.is_finite()))
        {
            return;
        }
        if outline.len() > MAX_CORNERS {
            // A fan of a convex polygon covers it exactly; pixels on the shared diagonals are
            // painted twice in the same colour.
            for k in 1..outline.len() - 1 {
                self.fill_convex(&[outline[0], outline[k], outline[k + 1]], color);
            }
            return;
        }
        // Each edge as (top y, bottom y, x at the top, dx per unit of y); horizontal edges are
        // covered by the edges that meet them.
        let mut edges = [(0.0, 0.0, 0.0, 0.0); MAX_CORNERS];
        let mut count = 0;
        for (k, &a) in outline.iter().enumerate() {
            let b = outline[(k + 1) % outline.len()];
            let (upper, lower) = if a.1 <= b.1 { (a, b) } else { (b, a) };
            if lower.1 > upper.1 {
                edges[count] = (upper.1, lower.1, upper.0, (lower.0 - upper.0) / (lower.1 - upper.1));
                count += 1;
            }
        }
        // Spans are written four pixels (12 bytes) at a time. The pattern goes through
        // `black_box` so the compiler copies it as the 8- and 4-byte words it is: seeing the three
        // bytes it is made of, it wrote every pixel as three one-byte stores.
        let [r, g, b] = color;
        let quad = std::hint::black_box([r, g, b, r, g, b, r, g, b, r, g, b]);
        // Rows whose centre (y + 0.5) lies within [y_min, y_max] (found above).
        for y in first_row as usize..end_row as usize {
            let centre = y as f64 + 0.5;
            let (mut left, mut right) = (f64::INFINITY, f64::NEG_INFINITY);
            for &(top, bottom, x, slope) in &edges[..count] {
                if (top..=bottom).contains(&centre) {
                    let at = x + (centre - top) * slope;
                    left = left.min(at);
                    right = right.max(at);
                }
            }
            // Columns whose centre (x + 0.5) lies within [left, right].
            let first = ceil(left - 0.5).max(0);
            let last = floor(right - 0.5).min(self.width as i64 - 1);
            if first <= last {
                self.span(y, first as usize, last as usize, &quad);
            }
        }
    }
}

/// `value.floor()` as an integer (saturating, NaN to 0). The baseline x86-64 target has no
/// rounding instruction, so `f64::floor` is a call into libm: in the per-row loops here and in
/// the depth buffer that was a tenth of the time.
pub(crate) fn floor(value: f64) -> i64 {
    let t = value as i64;
    if (t as f64) > value {
        t.saturating_sub(1)
    } else {
        t
    }
}

/// `value.ceil()` as an integer (saturating, NaN to 0); see [`floor`].
pub(crate) fn ceil(value: f64) -> i64 {
    let t = value as i64;
    if (t as f64) < value {
        t.saturating_add(1)
    } else {
        t
    }
}

/// `value.round()` (halves away from zero) as an integer (saturating, NaN to 0); see [`floor`].
/// Colours are rounded to bytes this way, three channels for every cell of a surface.
pub(crate) fn round(value: f64) -> i64 {
    let t = value as i64;
    // Exact: the fraction of a number below 2^53 is representable, and larger ones have none.
    let fraction = value - t as f64;
    if fraction >= 0.5 {
        t.saturating_add(1)
    } else if fraction <= -0.5 {
        t.saturating_sub(1)
    } else {
        t
    }
}

/// Convex polygons with their colours, to be painted in the order they were added.
#[derive(Debug, Default)]
pub(crate) struct Shapes {
    /// Every outline's corners, one after another.
    corners: Vec<(f64, f64)>,
    /// Each shape's corners in `corners`, and its colour.
    shapes: Vec<(Range<usize>, [u8; 3])>,
}

impl Shapes {
    /// Room for `count` shapes of four corners.
    pub fn with_capacity(count: usize) -> Shapes {
        Shapes { corners: Vec::with_capacity(4 * count), shapes: Vec::with_capacity(count) }
    }

    /// Adds a convex polygon (see [`RgbBand::fill_convex`]).
    pub fn push(&mut self, outline: impl IntoIterator<Item = (f64, f64)>, color: [u8; 3]) {
        let start = self.corners.len();
        self.corners.extend(outline);
        self.shapes.push((start..self.corners.len(), color));
    }

    /// Shape `n`'s outline and colour.
    pub fn get(&self, n: usize) -> (&[(f64, f64)], [u8; 3]) {
        let (outline, color) = &self.shapes[n];
        (&self.corners[outline.clone()], *color)
    }

    /// Paints every shape, in order, into `window` of an RGB8 picture `stride` pixels wide; the
    /// shapes' coordinates are the window's (its top-left corner at 0, 0), and nothing outside it
    /// is painted. Bands of rows are painted by `threads` threads (this one and others started
    /// for the purpose), each band with the shapes that reach it (sorted into bands first,
    /// keeping their order), so overlaps come out as a single thread would paint them.
    ///
    /// Not rayon: the painting of a surface's cells takes a millisecond or two, and rayon's
    /// workers, asleep since the last parallel section, were woken too late to share it (in
    /// figure 3's benchmark one worker painted every band while the other slept). Threads
    /// started here take bands as soon as they run.
    pub fn paint(&self, pixels: &mut [u8], stride: usize, window: PixelRect, threads: usize) {
        let picture_rows = if stride == 0 { 0 } else { pixels.len() / (3 * stride) };
        let width = window.width.min(stride.saturating_sub(window.left));
        let height = window.height.min(picture_rows.saturating_sub(window.top));
        if width == 0 || height == 0 {
            return;
        }
        let rows = band_rows(height, threads);
        let band_count = height.div_ceil(rows);
        let mut bins = vec![Vec::new(); band_count];
        for (n, (outline, _)) in self.shapes.iter().enumerate() {
            let (lo, hi) = self.corners[outline.clone()]
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
            // The bands holding the rows whose centres lie within [lo, hi], give or take one.
            let first = (floor(lo).max(0) as usize) / rows;
            let end = ((ceil(hi) + 1).max(0) as usize).div_ceil(rows).min(band_count);
            for bin in bins.iter_mut().take(end).skip(first) {
                bin.push(n as u32);
            }
        }
        let window_rows = &mut pixels[window.top * stride * 3..(window.top + height) * stride * 3];
        let bands = Mutex::new(window_rows.chunks_mut(rows * stride * 3).zip(&bins).enumerate());
        let paint_bands = || loop {
            let Some((k, (chunk, bin))) = bands.lock().unwrap_or_else(PoisonError::into_inner).next() else {
                break;
            };
            let mut band = RgbBand { pixels: chunk, stride, left: window.left, width, top: k * rows };
            for &n in bin {
                let (outline, color) = &self.shapes[n as usize];
                band.fill_convex(&self.corners[outline.clone()], *color);
            }
        };
        std::thread::scope(|scope| {
            for _ in 1..threads.min(band_count) {
                // Where no thread can be started, the ones running paint every band.
                if std::thread::Builder::new().spawn_scoped(scope, paint_bands).is_err() {
                    break;
                }
            }
            paint_bands();
        });
    }
}

/// How many rows each band of a picture `height` rows high gets when `threads` threads paint
/// it: a few bands per thread, so a band full of shapes next to an empty one does not leave a
/// core idle, and no band so thin that walking every shape's bounds costs more than filling it.
fn band_rows(height: usize, threads: usize) -> usize {
    height.div_ceil(8 * threads.max(1)).max(16)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The polygon filled by testing every pixel centre against every edge (inside means on the
    /// inner side of all edges, or on one), as the reference.
    fn brute_force(outline: &[(f64, f64)], width: usize, height: usize) -> Vec<bool> {
        let n = outline.len();
        let area: f64 = (0..n)
            .map(|k| outline[k].0 * outline[(k + 1) % n].1 - outline[(k + 1) % n].0 * outline[k].1)
            .sum();
        let mut inside = vec![false; width * height];
        for y in 0..height {
            for x in 0..width {
                let (px, py) = (x as f64 + 0.5, y as f64 + 0.5);
                inside[y * width + x] = (0..n).all(|k| {
                    let (a, b) = (outline[k], outline[(k + 1) % n]);
                    let cross = (b.0 - a.0) * (py - a.1) - (b.1 - a.1) * (px - a.0);
                    cross * area.signum() >= -1e-9
                });
            }
        }
        inside
    }

    fn painted(outline: &[(f64, f64)], width: usize, height: usize) -> Vec<bool> {
        let mut pixels = vec![0u8; width * height * 3];
        let mut shapes = Shapes::default();
        shapes.push(outline.iter().copied(), [9, 8, 7]);
        shapes.paint(&mut pixels, width, PixelRect { left: 0, top: 0, width, height }, 2);
        pixels.chunks_exact(3).map(|p| p == [9, 8, 7]).collect()
    }

    #[test]
    fn convex_polygons_cover_exactly_the_pixel_centres_inside() {
        // Both windings, thin slivers, corners off the picture, a pentagon (a clipped cell) and a
        // polygon with more corners than the edge table holds (filled as a fan).
        let octagon_and_more: Vec<(f64, f64)> = (0..11)
            .map(|k| {
                let t = k as f64 / 11.0 * std::f64::consts::TAU;
                (30.0 + 22.3 * t.cos(), 20.0 + 14.7 * t.sin())
            })
            .collect();
        let cases: Vec<Vec<(f64, f64)>> = vec![
            vec![(3.2, 4.7), (40.1, 9.9), (22.6, 35.3)],
            vec![(22.6, 35.3), (40.1, 9.9), (3.2, 4.7)],
            vec![(-10.0, -5.0), (70.0, 2.0), (75.0, 50.0), (-3.0, 44.0)],
            vec![(10.0, 10.0), (50.0, 10.4), (11.0, 11.1)],
            vec![(5.5, 5.5), (20.5, 5.5), (25.0, 15.0), (15.0, 25.25), (4.0, 17.0)],
            octagon_and_more,
        ];
        for (n, outline) in cases.iter().enumerate() {
            // 61 x 41: more than one band at 16 rows each, and an odd width.
            assert_eq!(painted(outline, 61, 41), brute_force(outline, 61, 41), "case {n}");
        }
    }

    #[test]
    fn integer_floor_ceil_and_round_agree_with_the_float_ones() {
        let below_half = 0.5 - f64::EPSILON / 4.0;
        for v in [
            -3.5,
            -3.0,
            -2.999,
            -2.5,
            -0.5,
            -0.0,
            0.0,
            1e-300,
            0.5,
            1.0,
            2.5,
            1e15 + 0.5,
            -1e15 - 0.5,
            below_half,
            -below_half,
            254.49999999999997,
            254.5,
            4503599627370495.5,
            9007199254740993.0,
            f64::NAN,
        ] {
            assert_eq!(floor(v), v.floor() as i64, "{v}");
            assert_eq!(ceil(v), v.ceil() as i64, "{v}");
            assert_eq!(round(v), v.round() as i64, "{v}");
        }
        assert_eq!((round(f64::INFINITY), round(f64::NEG_INFINITY)), (i64::MAX, i64::MIN));
        assert_eq!((floor(f64::INFINITY), ceil(f64::INFINITY)), (i64::MAX, i64::MAX));
        assert_eq!((floor(f64::NEG_INFINITY), ceil(f64::NEG_INFINITY)), (i64::MIN, i64::MIN));
    }

    #[test]
    fn degenerate_and_non_finite_outlines_paint_nothing() {
        for outline in [
            vec![(1.0, 1.0), (5.0, 5.0)],
            vec![(1.0, 1.0), (f64::NAN, 5.0), (9.0, 2.0)],
            vec![(1.0, 1.0), (f64::INFINITY, 5.0), (9.0, 2.0)],
        ] {
            assert!(painted(&outline, 20, 20).iter().all(|&p| !p));
        }
    }

    #[test]
    fn later_shapes_cover_earlier_ones_in_every_band() {
        let (w, h) = (40, 70);
        let mut pixels = vec![0u8; w * h * 3];
        let mut shapes = Shapes::default();
        shapes.push([(0.0, 0.0), (40.0, 0.0), (40.0, 70.0), (0.0, 70.0)], [1, 1, 1]);
        shapes.push([(10.0, 10.0), (30.0, 10.0), (30.0, 60.0), (10.0, 60.0)], [2, 2, 2]);
        // Shapes reaching past the picture's bottom and top.
        shapes.push([(35.0, -20.0), (39.0, -20.0), (39.0, 200.0)], [3, 3, 3]);
        shapes.paint(&mut pixels, w, PixelRect { left: 0, top: 0, width: w, height: h }, 3);
        let at = |x: usize, y: usize| pixels[(y * w + x) * 3];
        assert_eq!((at(5, 5), at(20, 35), at(20, 59), at(20, 60)), (1, 2, 2, 1));
        assert_eq!((at(38, 0), at(38, 69), at(36, 69)), (3, 3, 1));
    }

    #[test]
    fn a_window_is_painted_as_a_picture_of_its_own_and_nothing_outside_it() {
        let (w, h) = (50, 90);
        let window = PixelRect { left: 7, top: 11, width: 31, height: 60 };
        let mut shapes = Shapes::default();
        shapes.push([(-5.0, -5.0), (20.3, 3.0), (40.0, 70.0), (2.0, 50.5)], [4, 5, 6]);
        shapes.push([(10.5, 20.5), (29.0, 33.3), (12.0, 58.9)], [7, 8, 9]);
        let mut picture = vec![0u8; w * h * 3];
        shapes.paint(&mut picture, w, window, 2);
        let mut alone = vec![0u8; window.width * window.height * 3];
        let whole = PixelRect { left: 0, top: 0, width: window.width, height: window.height };
        shapes.paint(&mut alone, window.width, whole, 1);
        for y in 0..h {
            for x in 0..w {
                let at = &picture[(y * w + x) * 3..][..3];
                let (wx, wy) = (x.wrapping_sub(window.left), y.wrapping_sub(window.top));
                if wx < window.width && wy < window.height {
                    assert_eq!(at, &alone[(wy * window.width + wx) * 3..][..3], "({x}, {y})");
                } else {
                    assert_eq!(at, [0, 0, 0], "({x}, {y}) is outside the window");
                }
            }
        }
        assert!(alone.chunks_exact(3).filter(|p| *p == [7, 8, 9]).count() > 100);
    }
}
