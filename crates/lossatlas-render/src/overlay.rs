//! Things drawn on top of a landscape: optimizer paths, marked points and plain segments. Paths
//! and markers are shared by the contour map and the 3D surface, which draw them in their own way
//! (the surface hides the parts that lie behind hills); segments are drawn on contour maps.

use plotters::style::RGBColor;

/// A polyline on the plane, e.g. an optimizer's trajectory projected onto (u, v).
#[derive(Debug, Clone, PartialEq)]
pub struct PathOverlay {
    /// The legend entry, e.g. `adam lr=0.1 from (2, 4.5)`.
    pub label: String,
    /// The line colour.
    pub color: RGBColor,
    /// The vertices (u, v) in order; the first is marked as the start, the last as the end.
    pub points: Vec<[f64; 2]>,
    /// The loss at each vertex, when known; the surface uses it as the height (else it
    /// interpolates the landscape).
    pub losses: Option<Vec<f64>>,
}

/// How a marked point is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerShape {
    /// A filled circle.
    Circle,
    /// A cross (x).
    Cross,
    /// A filled triangle.
    Triangle,
    /// A five-pointed star, for the global minimum.
    Star,
}

/// A labelled point on the plane: the minimum, a saddle, a start point.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    /// The point (u, v).
    pub at: [f64; 2],
    /// Text drawn beside it (may be empty).
    pub label: String,
    /// The shape.
    pub shape: MarkerShape,
    /// The colour.
    pub color: RGBColor,
}

/// A straight, labelled line segment on the plane, e.g. a principal axis of the Hessian's ellipse
/// at a minimum, drawn from one end of the ellipse to the other through its centre.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentOverlay {
    /// One end (u, v).
    pub from: [f64; 2],
    /// The other end (u, v); the label is written next to it.
    pub to: [f64; 2],
    /// The line colour (the label uses a darker shade of it).
    pub color: RGBColor,
    /// Text written near the `to` end, e.g. `λ = 19.7` (may be empty).
    pub label: String,
}

/// A palette of distinct, colour-blind-friendly colours for paths (Okabe & Ito 2008), in the
/// order they are handed out.
pub const PATH_COLORS: [RGBColor; 7] = [
    RGBColor(213, 94, 0),
    RGBColor(0, 114, 178),
    RGBColor(204, 121, 167),
    RGBColor(0, 158, 115),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
];
