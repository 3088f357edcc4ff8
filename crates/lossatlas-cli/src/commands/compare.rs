//! `lossatlas compare`: one landscape under several input transforms, with shared levels and
//! colour scale, each panel titled with its Hessian condition number and the largest learning rate
//! plain gradient descent survives there (2 / lambda_max).

use anyhow::{bail, Result};
use lossatlas::analysis::{curvature_at_minimum, StepSizeReport};
use lossatlas_render::{render, ContourFigure, Layout, Panels};

use crate::args::{CompareArgs, StoreArgs};
use crate::output::write_atomic;
use crate::problem::{Problem, Setup};
use crate::settings;

pub fn run(args: &CompareArgs) -> Result<()> {
    let outputs = settings::outputs(&args.picture.outputs)?;
    let problem = Problem::from_args(&args.problem)?;
    let transforms = settings::transforms(&args.transform)?;
    let levels = settings::levels(&args.levels)?;
    let log_color = levels.log_color(args.picture.log_color);
    let layout = if args.layout == "column" { Layout::Column } else { Layout::Row };
    let setups = transforms
        .iter()
        .map(|&t| Setup::with_problem(problem.clone(), t, &args.problem, &args.grid))
        .collect::<Result<Vec<_>>>()?;
    let grid = setups[0].grid.clone();
    let panel_size = panel_size(layout, &args.aspect, &grid);
    let count = transforms.len() as u32;
    let default_size = match layout {
        Layout::Row => (panel_size.0 * count, panel_size.1),
        Layout::Column => (panel_size.0, panel_size.1 * count),
    };
    let size = settings::size(&args.picture, default_size)?;

    let mut landscapes = Vec::new();
    let mut titles = Vec::new();
    let mut unfinished = false;
    for setup in &setups {
        let Setup { transform, objective, plane, .. } = setup;
        // One store per panel, each a landscape of its own (the transform changes every value).
        let store = StoreArgs {
            store: args.store.store.as_ref().map(|dir| dir.join(transform.name())),
            shard: args.store.shard.clone(),
        };
        let title = super::default_title(&setup.problem, *transform, plane);
        let Some(landscape) = super::grid::formula_landscape(&store, setup, &title)? else {
            unfinished = true;
            continue;
        };
        super::warn_non_finite(&landscape);
        super::require_finite(&landscape)?;
        let stats =
            curvature_at_minimum(objective, &landscape).and_then(|(_, e)| StepSizeReport::from_eigen(&e));
        let condition = match stats {
            Some(r) => format!(
                "condition number {}, stable lr < {}",
                format_kappa(r.condition_number),
                format_rate(r.max_stable_learning_rate)
            ),
            None => "no minimum with positive curvature in range".to_string(),
        };
        titles.push(format!("{}: {condition}", transform.short_description()));
        landscapes.push(landscape);
    }
    if unfinished {
        // Other shards still owe chunks; the run that completes the stores draws.
        return Ok(());
    }
    // Shared levels: explicit ones as given, automatic ones from the first panel.
    let levels = levels.resolve(&landscapes[0]);
    if levels.is_empty() {
        bail!("the loss is the same everywhere on this grid, so there are no contour lines to draw; widen --range");
    }
    let figures = landscapes
        .iter()
        .zip(titles)
        .map(|(landscape, title)| {
            ContourFigure::new(landscape, levels.clone())
                .title(title)
                .x_label(args.picture.x_label.clone().unwrap_or_else(|| grid.u().name().to_string()))
                .y_label(args.picture.y_label.clone().unwrap_or_else(|| grid.v().name().to_string()))
                .filled(args.levels.filled)
                .log_color_choice(log_color)
                .label_lines(!args.levels.no_labels)
                .aspect(settings::aspect(&args.aspect))
        })
        .collect();
    let mut panels = Panels::new(figures, layout);
    if let Some(title) = &args.picture.title {
        panels = panels.title(title.clone());
    }
    for (path, format) in &outputs {
        write_atomic(path, &render(&panels, *format, size)?)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Condition numbers to three significant figures, and exactly 1 shown as 1.
fn format_kappa(k: f64) -> String {
    if (k - 1.0).abs() < 1e-9 {
        "1.00".into()
    } else if k < 10.0 {
        format!("{k:.2}")
    } else if k < 100.0 {
        format!("{k:.1}")
    } else {
        format!("{k:.3e}")
    }
}

/// A learning rate to three significant digits.
fn format_rate(lr: f64) -> String {
    if !(1e-3..100.0).contains(&lr) {
        format!("{lr:.2e}")
    } else {
        let digits = (2 - lr.log10().floor() as i32).max(0) as usize;
        format!("{lr:.digits$}")
    }
}

/// A panel size that suits the layout; with equal aspect the panel is as wide as the plot's
/// u:v proportions need (plus room for the axis labels and the legend beside it), so a tall range
/// does not leave most of each panel empty.
fn panel_size(layout: Layout, aspect: &str, grid: &lossatlas::GridSpec) -> (u32, u32) {
    let (width, height) = if layout == Layout::Column { (800, 560) } else { (640, 620) };
    if aspect != "equal" {
        return (width, height);
    }
    let ratio = (grid.u().max() - grid.u().min()) / (grid.v().max() - grid.v().min());
    let plot_height = f64::from(height) - 150.0;
    let plot_width = (plot_height * ratio).clamp(220.0, 900.0);
    ((plot_width + 130.0).round() as u32, height)
}
