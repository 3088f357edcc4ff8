//! `lossatlas surface`: the loss as a shaded, depth-correct 3D surface.

use anyhow::Result;
use lossatlas::evaluate;
use lossatlas_render::{render, SurfaceFigure};

use crate::args::SurfaceArgs;
use crate::output::write_atomic;
use crate::problem::Setup;
use crate::settings;

pub fn run(args: &SurfaceArgs) -> Result<()> {
    let outputs = settings::outputs(&args.picture.outputs)?;
    let vts = settings::vts_output(args.export_vts.as_ref())?;
    let Setup { problem, transform, objective, plane, grid } =
        Setup::new(&args.problem, &args.transform, &args.grid)?;
    let size = settings::size(&args.picture, (900, 700))?;
    if let Some(z) = args.z_max {
        if !z.is_finite() {
            anyhow::bail!("--z-max {z} must be a finite number");
        }
    }
    let landscape = evaluate(&objective, &plane, &grid)?;
    super::warn_non_finite(&landscape);
    super::require_finite(&landscape)?;
    let title =
        args.picture.title.clone().unwrap_or_else(|| super::default_title(&problem, transform, &plane));
    let figure = SurfaceFigure::new(&landscape)
        .title(title)
        .x_label(args.picture.x_label.clone().unwrap_or_else(|| grid.u().name().to_string()))
        .y_label(args.picture.y_label.clone().unwrap_or_else(|| grid.v().name().to_string()))
        .elevation(args.elevation)
        .azimuth(args.azimuth)
        .log_color(args.picture.log_color)
        .z_clip(args.z_max);
    let figure = if args.analysis {
        // The lowest level above the minimum defines the ellipse whose axes are drawn.
        let levels = lossatlas::auto_levels(&landscape, 10);
        figure
            .markers(crate::overlays::critical_markers(&objective, &landscape))
            .segments(crate::overlays::eigen_axes(&objective, &landscape, &levels))
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
