//! `lossatlas surface`: the loss as a shaded, depth-correct 3D surface, computed here (in memory
//! or into a `--store`) or read from a finished store (`--from-store`).

use anyhow::Result;
use lossatlas_render::{render, SurfaceFigure};

use super::grid::{self, Drawn, Source};
use crate::args::SurfaceArgs;
use crate::output::write_atomic;
use crate::settings;

pub fn run(args: &SurfaceArgs) -> Result<()> {
    let outputs = settings::outputs(&args.picture.outputs)?;
    let vts = settings::vts_output(args.export_vts.as_ref())?;
    let size = settings::size(&args.picture, (900, 700))?;
    if let Some(z) = args.z_max {
        if !z.is_finite() {
            anyhow::bail!("--z-max {z} must be a finite number");
        }
    }
    let source = Source { from_store: args.from_store.as_deref(), store: &args.store };
    let Some(Drawn { landscape, title, objective }) =
        grid::to_draw(source, &args.problem, &args.transform, &args.grid)?
    else {
        return Ok(());
    };
    let (u_name, v_name) = (landscape.u().name().to_string(), landscape.v().name().to_string());
    let figure = SurfaceFigure::new(&landscape)
        .title(args.picture.title.clone().unwrap_or(title))
        .x_label(args.picture.x_label.clone().unwrap_or(u_name))
        .y_label(args.picture.y_label.clone().unwrap_or(v_name))
        .elevation(args.elevation)
        .azimuth(args.azimuth)
        .log_color(args.picture.log_color)
        .z_clip(args.z_max);
    let figure = if let (true, Some(objective)) = (args.analysis, &objective) {
        // The lowest level above the minimum defines the ellipse whose axes are drawn.
        let levels = lossatlas::auto_levels(&landscape, 10);
        figure
            .markers(crate::overlays::critical_markers(objective, &landscape))
            .segments(crate::overlays::eigen_axes(objective, &landscape, &levels))
    } else {
        figure
    };
    figure.validate()?;
    for (path, format) in &outputs {
        write_atomic(path, &render(&figure, *format, size)?)?;
        eprintln!("wrote {}", path.display());
    }
    if let Some((path, format)) = vts {
        write_atomic(path, &lossatlas::export::landscape(&landscape, format))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
