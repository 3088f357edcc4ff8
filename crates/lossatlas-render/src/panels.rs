//! Several contour maps side by side or stacked, sharing one colour scale, one set of levels and
//! (when any is filled) one colour bar, so the same colour means the same loss in every panel:
//! how the seed's figure 2 compares raw and standardized inputs.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::colorbar::{colorbar_pad, colorbar_width, draw_colorbar};
use crate::colormap::color_scale_for;
use crate::contour_figure::{ContourFigure, PanelStyle};
use crate::error::{Error, Result};
use crate::font::FAMILY;
use crate::labels::Sizes;
use crate::output::Figure;

/// How panels are arranged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Side by side, left to right.
    Row,
    /// Stacked, top to bottom.
    Column,
}

/// Contour maps drawn together. Each keeps its own title (put the setting and, say, the condition
/// number in it), axes, labels, minimum and paths; the colour scale is computed once over all of
/// them and the levels are the union of theirs.
#[derive(Debug, Clone)]
pub struct Panels<'a> {
    figures: Vec<ContourFigure<'a>>,
    layout: Layout,
    title: String,
}

impl<'a> Panels<'a> {
    /// Panels showing `figures` in `layout`. Drawing fails when there are none.
    pub fn new(figures: Vec<ContourFigure<'a>>, layout: Layout) -> Panels<'a> {
        Panels { figures, layout, title: String::new() }
    }

    /// A title over all panels. Default: none (each panel has its own).
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// The panels.
    pub fn figures(&self) -> &[ContourFigure<'a>] {
        &self.figures
    }

    /// The layout.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// A picture size (width, height in pixels) that gives each panel about the proportions of a
    /// single [`ContourFigure`] at its default size.
    pub fn default_size(&self) -> (u32, u32) {
        let n = self.figures.len().max(1) as u32;
        let bar = if self.figures.iter().any(|f| f.is_filled()) { 110 } else { 0 };
        let title = if self.title.is_empty() { 0 } else { 50 };
        match self.layout {
            Layout::Row => (700 * n + bar, 660 + title),
            Layout::Column => (800 + bar, 600 * n + title),
        }
    }

    /// The shared levels: every panel's levels, ascending, without repeats.
    fn levels(&self) -> Vec<f64> {
        let mut levels: Vec<f64> = self.figures.iter().flat_map(|f| f.levels().iter().copied()).collect();
        levels.sort_by(f64::total_cmp);
        levels.dedup();
        levels
    }
}

impl Figure for Panels<'_> {
    fn supersampling(&self) -> u32 {
        2
    }

    const PREPARES: bool = true;

    /// Each map's iso-lines.
    fn prepare(&self) {
        self.figures.iter().for_each(ContourFigure::prepare);
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let Some(first) = self.figures.first() else {
            return Err(Error::Invalid("a panel figure needs at least one contour map".into()));
        };
        root.fill(&WHITE)?;
        let (w, h) = root.dim_in_pixel();
        let n = self.figures.len() as u32;
        let sizes = match self.layout {
            Layout::Row => Sizes::for_area(w / n, h),
            Layout::Column => Sizes::for_area(w, h / n),
        };
        let levels = self.levels();
        let scale = color_scale_for(
            &levels,
            self.figures.iter().filter_map(|f| f.landscape().finite_range()),
            first.log_color_setting(),
        );

        let title_h = if self.title.is_empty() {
            0
        } else {
            let size = 1.15 * sizes.title;
            let st = (FAMILY, size)
                .into_font()
                .style(FontStyle::Bold)
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Center));
            root.draw(&Text::new(self.title.clone(), (w as i32 / 2, (1.0 * size) as i32), st))?;
            (2.0 * size).round() as u32
        };
        let filled = self.figures.iter().any(|f| f.is_filled());
        let label = first.colorbar_label_text();
        let bar_w = if filled { colorbar_width(root, &scale, Some(&levels), label, sizes.tick) } else { 0 };
        let content = root.margin(title_h, 0, 0, bar_w);
        let cells = match self.layout {
            Layout::Row => content.split_evenly((1, self.figures.len())),
            Layout::Column => content.split_evenly((self.figures.len(), 1)),
        };
        let style = PanelStyle { sizes, scale, line_levels: levels.clone(), own_colorbar: false };
        let mut top = i32::MAX;
        let mut bottom = i32::MIN;
        for (figure, cell) in self.figures.iter().zip(&cells) {
            let geometry = figure.draw_panel(cell, &style)?;
            top = top.min(geometry.plot.1);
            bottom = bottom.max(geometry.plot.3);
        }
        if filled {
            let pad = colorbar_pad(sizes.tick) as i32;
            let (_, base_y) = root.get_base_pixel();
            let y0 = (top - base_y - pad).max(0);
            let y1 = (bottom - base_y + pad).min(h as i32);
            let strip = root.clone().shrink((w as i32 - bar_w as i32, y0), (bar_w, (y1 - y0).max(1) as u32));
            draw_colorbar(&strip, &scale, Some(&levels), label, sizes.tick)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use lossatlas::{Axis, GridSpec, Landscape, Plane};

    use super::*;
    use crate::output::{render, ImageFormat};
    use crate::Aspect;

    fn ellipse(n: usize, a: f64) -> Landscape {
        let grid = GridSpec::new(
            Axis::new("k", -2.0, 2.0, n).unwrap(),
            Axis::new("b", -2.0, 2.0, n).unwrap(),
            lossatlas::DEFAULT_GRID_BUDGET_BYTES,
        )
        .unwrap();
        let plane = Plane::parameter_axes(&["k".into(), "b".into()]).unwrap();
        let mut values = Vec::new();
        for j in 0..n {
            for i in 0..n {
                let (u, v) = (grid.u().value(i), grid.v().value(j));
                values.push(a * u * u + v * v);
            }
        }
        Landscape::from_values(grid, plane, values).unwrap()
    }

    #[test]
    fn two_panels_share_one_colour_bar() {
        let (a, b) = (ellipse(60, 1.0), ellipse(60, 6.0));
        let levels = vec![0.2, 0.5, 1.0, 2.0];
        let panels = Panels::new(
            vec![
                ContourFigure::new(&a, levels.clone()).filled(true).title("round (condition 1)"),
                ContourFigure::new(&b, levels.clone()).filled(true).title("stretched (condition 6)"),
            ],
            Layout::Row,
        );
        let svg =
            String::from_utf8(render(&panels, ImageFormat::Svg, panels.default_size()).unwrap()).unwrap();
        let texts = crate::test_support::svg_texts(&svg);
        assert!(texts.iter().any(|t| t == "round (condition 1)"));
        assert!(texts.iter().any(|t| t == "stretched (condition 6)"));
        assert_eq!(texts.iter().filter(|t| *t == "loss").count(), 1, "one shared colour bar");
        for layout in [Layout::Row, Layout::Column] {
            let p = Panels::new(panels.figures().to_vec(), layout);
            let size = p.default_size();
            let png = render(&p, ImageFormat::Png, size).unwrap();
            let img = image::load_from_memory(&png).unwrap();
            assert_eq!((img.width(), img.height()), size);
        }
    }

    #[test]
    fn no_panels_is_an_error() {
        let p = Panels::new(Vec::new(), Layout::Row);
        assert!(matches!(render(&p, ImageFormat::Png, (400, 300)), Err(Error::Invalid(_))));
    }

    /// A bowl stretched along k on k in [0, 6], b in [-2, 8]: a range taller than wide.
    fn tall(n: usize, a: f64) -> Landscape {
        let grid = GridSpec::new(
            Axis::new("k", 0.0, 6.0, n).unwrap(),
            Axis::new("b", -2.0, 8.0, n).unwrap(),
            lossatlas::DEFAULT_GRID_BUDGET_BYTES,
        )
        .unwrap();
        let plane = Plane::parameter_axes(&["k".into(), "b".into()]).unwrap();
        let (us, vs) = (grid.u().values(), grid.v().values());
        let values = vs
            .iter()
            .flat_map(|&v| us.iter().map(move |&u| a * (u - 1.0).powi(2) + (v - 1.5).powi(2)))
            .collect();
        Landscape::from_values(grid, plane, values).unwrap()
    }

    #[test]
    fn issue_9_column_panels_put_their_legend_in_the_white_space_beside_the_plot() {
        // Equal units on a tall range leave white space right of each plot: the legend goes there
        // rather than over the plot, leaving the space empty.
        let (a, b) = (tall(60, 1.0), tall(60, 6.0));
        let levels = vec![0.2, 0.5, 1.0];
        let figures = vec![
            ContourFigure::new(&a, levels.clone()).aspect(Aspect::Equal).title("round"),
            ContourFigure::new(&b, levels).aspect(Aspect::Equal).title("stretched"),
        ];
        let panels = Panels::new(figures, Layout::Column);
        let svg = String::from_utf8(render(&panels, ImageFormat::Svg, (486, 1120)).unwrap()).unwrap();
        let texts = crate::test_support::svg_text_positions(&svg);
        // The k axis ends at 6: its last tick label sits at the plot's right edge.
        let right = texts.iter().filter(|t| t.0 == "6").map(|t| t.1).fold(f64::NEG_INFINITY, f64::max);
        let legends: Vec<&(String, f64, f64)> = texts.iter().filter(|t| t.0.starts_with("min L=")).collect();
        assert_eq!(legends.len(), 2);
        for (text, x, _) in legends {
            assert!(*x > right, "{text} at x = {x}, inside the plot (right edge {right})");
        }
    }
}
