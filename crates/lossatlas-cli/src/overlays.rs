//! What `--analysis` adds to a figure: critical points marked with their kind, and the Hessian's
//! eigen-axes at the minimum drawn as the principal axes of an iso-loss ellipse.

use lossatlas::analysis::{critical_points, curvature_at_minimum, CriticalKind};
use lossatlas::{Landscape, Objective};
use lossatlas_render::{Marker, MarkerShape, RGBColor, SegmentOverlay};

/// Critical point markers: near black, to stand out on viridis lines and bands.
const MARKER_COLOR: RGBColor = RGBColor(20, 20, 20);
/// The two eigen-axes (smallest eigenvalue first), magenta and orange, which viridis never uses.
const AXIS_COLORS: [RGBColor; 2] = [RGBColor(200, 30, 110), RGBColor(230, 120, 0)];

/// Markers for every critical point the grid reveals (minima, saddles, maxima).
pub fn critical_markers(objective: &Objective, landscape: &Landscape) -> Vec<Marker> {
    critical_points(objective, landscape)
        .into_iter()
        .filter_map(|p| {
            let (shape, name) = match p.kind {
                CriticalKind::Minimum => (MarkerShape::Circle, "min"),
                CriticalKind::Saddle => (MarkerShape::Cross, "saddle"),
                CriticalKind::Maximum => (MarkerShape::Triangle, "max"),
                CriticalKind::Degenerate => return None,
            };
            Some(Marker { at: p.at, label: format!("{name} {}", short(p.loss)), shape, color: MARKER_COLOR })
        })
        .collect()
}

/// The principal axes of the quadratic model's ellipse at the minimum for the lowest of `levels`
/// above the minimum's loss: along eigenvector i, half-length sqrt(2 (level - L*) / lambda_i).
/// Empty when there is no minimum with positive curvature, or no level above it.
pub fn eigen_axes(objective: &Objective, landscape: &Landscape, levels: &[f64]) -> Vec<SegmentOverlay> {
    let Some((minimum, eigen)) = curvature_at_minimum(objective, landscape) else { return Vec::new() };
    let Some(level) = levels.iter().copied().filter(|&l| l > minimum.loss).reduce(f64::min) else {
        return Vec::new();
    };
    if eigen.values[0] <= 0.0 {
        return Vec::new();
    }
    let (cu, cv) = landscape.plane().project(&minimum.theta);
    eigen
        .values
        .iter()
        .zip(&eigen.vectors)
        .zip(AXIS_COLORS)
        .map(|((&lambda, vector), color)| {
            let r = (2.0 * (level - minimum.loss) / lambda).sqrt();
            SegmentOverlay {
                from: [cu - r * vector[0], cv - r * vector[1]],
                to: [cu + r * vector[0], cv + r * vector[1]],
                color,
                label: format!("λ = {}", short(lambda)),
            }
        })
        .collect()
}

fn short(v: f64) -> String {
    crate::settings::trimmed(v, 3, 2, (1e-3, 1e4))
}
