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
#[derive(Debug, Clone)]
pub(crate) struct DepthBuffer {
    width: usize,
    height: usize,
    depth: Vec<f32>,
}

impl DepthBuffer {
    /// An empty buffer (nothing drawn: every point is visible) of `width` x `height` pixels.
    pub fn new(width: u32, height: u32) -> DepthBuffer {
        let (width, height) = (width as usize, height as usize);
        DepthBuffer { width, height, depth: vec![f32::NEG_INFINITY; width * height] }
    }

    /// Rasterizes one triangle: every pixel whose centre lies inside (edges included) keeps the
    /// larger (nearer) of its current depth and the triangle's depth there.
    pub fn fill_triangle(&mut self, a: Projected, b: Projected, c: Projected) {
        let area = (b.x - a.x) * (c.y - a.y) - (c.x - a.x) * (b.y - a.y);
        if area.abs() < 1e-12 || !(area.is_finite()) {
            return;
        }
        let x0 = a.x.min(b.x).min(c.x).floor().max(0.0) as usize;
        let y0 = a.y.min(b.y).min(c.y).floor().max(0.0) as usize;
        let x1 = (a.x.max(b.x).max(c.x).ceil().max(0.0) as usize).min(self.width);
        let y1 = (a.y.max(b.y).max(c.y).ceil().max(0.0) as usize).min(self.height);
        // A small slack on the barycentric test closes hairline cracks between neighbouring
        // triangles, which would otherwise let a hidden path peek through along cell edges.
        let eps = -1e-3;
        for py in y0..y1 {
            let y = py as f64 + 0.5;
            for px in x0..x1 {
                let x = px as f64 + 0.5;
                let wa = ((b.x - x) * (c.y - y) - (c.x - x) * (b.y - y)) / area;
                let wb = ((c.x - x) * (a.y - y) - (a.x - x) * (c.y - y)) / area;
                let wc = 1.0 - wa - wb;
                if wa >= eps && wb >= eps && wc >= eps {
                    let d = (wa * a.depth + wb * b.depth + wc * c.depth) as f32;
                    let slot = &mut self.depth[py * self.width + px];
                    if d > *slot {
                        *slot = d;
                    }
                }
            }
        }
    }

    /// The depth of the nearest surface at pixel (x, y), `None` where no surface was drawn or
    /// outside the buffer.
    pub fn at(&self, x: i64, y: i64) -> Option<f64> {
        if x < 0 || y < 0 || x as usize >= self.width || y as usize >= self.height {
            return None;
        }
        let d = self.depth[y as usize * self.width + x as usize];
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

    #[test]
    fn depth_buffer_keeps_the_nearest_triangle() {
        let mut buffer = DepthBuffer::new(20, 20);
        let tri = |d: f64| {
            (
                Projected { x: 0.0, y: 0.0, depth: d },
                Projected { x: 20.0, y: 0.0, depth: d },
                Projected { x: 0.0, y: 20.0, depth: d },
            )
        };
        let (a, b, c) = tri(-0.5);
        buffer.fill_triangle(a, b, c);
        let (a, b, c) = tri(0.25);
        buffer.fill_triangle(a, b, c);
        assert_eq!(buffer.at(3, 3), Some(0.25));
        assert_eq!(buffer.at(19, 19), None);
        assert!(buffer.is_visible(Projected { x: 5.0, y: 5.0, depth: 0.3 }, 0.0));
        assert!(!buffer.is_visible(Projected { x: 5.0, y: 5.0, depth: 0.0 }, 0.1));
        assert!(buffer.is_visible(Projected { x: 5.0, y: 5.0, depth: 0.2 }, 0.1));
    }
}
