//! `lossatlas contour`: iso-loss lines of a model's loss on a plane of its parameters, computed
//! here (in memory or into a `--store`) or read from a finished store (`--from-store`).

use anyhow::{bail, Result};
use lossatlas::export;
use lossatlas::isolines;
use lossatlas_render::{render, ContourFigure};

use super::grid::{self, Drawn, Source};
use crate::args::ContourArgs;
use crate::output::write_atomic;
use crate::settings;

pub fn run(args: &ContourArgs) -> Result<()> {
    let outputs = settings::outputs(&args.picture.outputs)?;
    let landscape_format = settings::landscape_output(args.export_landscape.as_ref())?;
    let vts = settings::vts_output(args.export_vts.as_ref())?;
    if let Some(path) = &args.export_isolines {
        settings::writable(path)?;
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            bail!("--export-isolines `{}`: use a name ending in .json", path.display());
        }
    }
    let levels = settings::levels(&args.levels)?;
    let log_color = levels.log_color(args.picture.log_color);
    let size = settings::size(&args.picture, (800, 700))?;
    let source = Source { from_store: args.from_store.as_deref(), store: &args.store };
    let Some(Drawn { landscape, title, objective }) =
        grid::to_draw(source, &args.problem, &args.transform, &args.grid)?
    else {
        return Ok(());
    };
    let levels = levels.resolve(&landscape);
    if levels.is_empty() {
        bail!("the loss is the same everywhere on this grid, so there are no contour lines to draw; widen --range");
    }

    let (u_name, v_name) = (landscape.u().name().to_string(), landscape.v().name().to_string());
    let figure = ContourFigure::new(&landscape, levels.clone())
        .title(args.picture.title.clone().unwrap_or(title))
        .x_label(args.picture.x_label.clone().unwrap_or_else(|| u_name.clone()))
        .y_label(args.picture.y_label.clone().unwrap_or_else(|| v_name.clone()))
        .filled(args.levels.filled)
        .log_color_choice(log_color)
        .label_lines(!args.levels.no_labels)
        .aspect(settings::aspect(&args.aspect));
    let figure = if let (true, Some(objective)) = (args.analysis, &objective) {
        figure
            .markers(crate::overlays::critical_markers(objective, &landscape))
            .segments(crate::overlays::eigen_axes(objective, &landscape, &levels))
    } else {
        figure
    };
    for (path, format) in &outputs {
        write_atomic(path, &render(&figure, *format, size)?)?;
        eprintln!("wrote {}", path.display());
    }
    for (path, format) in landscape_format.into_iter().chain(vts) {
        write_atomic(path, &export::landscape(&landscape, format))?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(path) = &args.export_isolines {
        write_atomic(path, &export::isolines_json(&isolines(&landscape, &levels)))?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(min) = landscape.minimum() {
        say!("grid minimum: {} = {:.6}, {} = {:.6}, loss = {:.6}", u_name, min.u, v_name, min.v, min.loss)?;
    }
    Ok(())
}
