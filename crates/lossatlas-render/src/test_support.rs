//! Fixtures the render tests share: landscapes with known shapes, and readers of the pictures.

use std::sync::Arc;

use lossatlas::{evaluate, linear, Activation, Axis, Dataset, GridSpec, Landscape, Loss, Objective, Plane};

/// The levels of the teaching example's figure 1.
pub(crate) const FIG1_LEVELS: [f64; 9] = [0.2, 0.5, 0.7, 1.0, 3.0, 8.0, 10.0, 15.0, 20.0];

pub(crate) fn seed_landscape(n: usize) -> Landscape {
    let objective = Objective::new(Dataset::seed(), Arc::new(linear(Activation::Identity)), Loss::Mse);
    let plane = Plane::parameter_axes(objective.param_names()).unwrap();
    let grid = GridSpec::new(
        Axis::new("k", 0.0, 2.0, n).unwrap(),
        Axis::new("b", -2.0, 4.0, n).unwrap(),
        lossatlas::DEFAULT_GRID_BUDGET_BYTES,
    )
    .unwrap();
    evaluate(&objective, &plane, &grid).unwrap()
}

/// A bowl u^2 + v^2 on [-2, 2]^2 with the quarter u > 1, v > 1 not finite.
pub(crate) fn bowl_with_hole(n: usize) -> Landscape {
    let grid = GridSpec::new(
        Axis::new("u", -2.0, 2.0, n).unwrap(),
        Axis::new("v", -2.0, 2.0, n).unwrap(),
        lossatlas::DEFAULT_GRID_BUDGET_BYTES,
    )
    .unwrap();
    let plane = Plane::parameter_axes(&["u".into(), "v".into()]).unwrap();
    let mut values = Vec::new();
    for j in 0..n {
        for i in 0..n {
            let (u, v) = (grid.u().value(i), grid.v().value(j));
            values.push(if u > 1.0 && v > 1.0 { f64::NAN } else { u * u + v * v });
        }
    }
    Landscape::from_values(grid, plane, values).unwrap()
}

pub(crate) fn grid_bowl() -> Landscape {
    let grid = GridSpec::new(
        Axis::new("u", -2.0, 2.0, 81).unwrap(),
        Axis::new("v", -2.0, 2.0, 81).unwrap(),
        lossatlas::DEFAULT_GRID_BUDGET_BYTES,
    )
    .unwrap();
    let plane = Plane::parameter_axes(&["u".into(), "v".into()]).unwrap();
    let values = (0..81).flat_map(|j| (0..81).map(move |i| (i, j))).map(|(i, j)| {
        let (u, v) = (grid.u().value(i), grid.v().value(j));
        u * u + v * v
    });
    let values: Vec<f64> = values.collect();
    Landscape::from_values(grid, plane, values).unwrap()
}

/// The trimmed contents of every `<text>` element (plotters writes them on their own line).
pub(crate) fn svg_texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("the SVG is well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .map(|t| t.trim().to_string())
        .collect()
}

pub(crate) fn decode(png: &[u8]) -> image::RgbImage {
    image::load_from_memory_with_format(png, image::ImageFormat::Png).unwrap().to_rgb8()
}

pub(crate) fn distinct_colors(img: &image::RgbImage) -> usize {
    let mut colors: Vec<[u8; 3]> = img.pixels().map(|p| p.0).collect();
    colors.sort_unstable();
    colors.dedup();
    colors.len()
}

/// Every `<text>` element of an SVG with its anchor position (x, y) in pixels.
pub(crate) fn svg_text_positions(svg: &str) -> Vec<(String, f64, f64)> {
    let doc = roxmltree::Document::parse(svg).expect("the SVG is well-formed XML");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| {
            let x = n.attribute("x")?.parse().ok()?;
            let y = n.attribute("y")?.parse().ok()?;
            Some((n.text()?.trim().to_string(), x, y))
        })
        .collect()
}
