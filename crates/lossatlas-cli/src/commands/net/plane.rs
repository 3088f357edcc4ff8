//! `lossatlas net plane`: a network's loss over a plane through its trained weights, along two
//! filter-normalized random directions (Li et al. 2018) or two direction files.

use anyhow::{bail, Result};
use lossatlas::export;
use lossatlas::net::{tensors_bytes, TensorType};
use lossatlas::Landscape;

use super::{describe, load_data, network_definition, network_plane, page_html, two_safetensors, Network};
use crate::args::NetPlaneArgs;
use crate::commands::grid::{self, Job};
use crate::commands::maps::{MapText, Maps};
use crate::output::write_atomic;
use crate::problem::{grid_over, ranges, resolution};
use crate::settings;

pub fn run(args: &NetPlaneArgs) -> Result<()> {
    let (contours, surfaces) = (settings::outputs(&args.outputs)?, settings::outputs(&args.surface_outputs)?);
    let maps = Maps {
        contours: &contours,
        surfaces: &surfaces,
        exports: settings::landscape_output(args.export_landscape.as_ref())?
            .into_iter()
            .chain(settings::vts_output(args.export_vts.as_ref())?)
            .collect(),
    };
    let saved =
        args.save_directions.as_deref().map(|t| two_safetensors(t, "--save-directions")).transpose()?;
    if let Some(page) = &args.page {
        settings::output_with_extension(page, "html", "--page")?;
    }
    if let Some(path) = &args.export_accuracy {
        settings::output_with_extension(path, "npy", "--export-accuracy")?;
    }
    if maps.is_empty() && args.page.is_none() && args.export_accuracy.is_none() && args.store.store.is_none()
    {
        bail!(
            "nothing to write: give -o FILE.png|.svg, --surface FILE, --export-landscape FILE, --export-vts FILE.vts, \
             --page FILE.html or --store DIR"
        );
    }
    let levels = settings::parse_levels(&args.levels, 200)?;
    let (network, weights) = Network::load(&args.weights, &args.activation, &args.data)?;
    let data = load_data(&args.data, network.outputs())?;
    let objective = network.objective(&data.train, &args.data.precision)?;
    let (plane, how) = match args.directions.as_deref() {
        Some("hessian") => super::hessian::hessian_plane(
            network.mlp("--directions hessian")?,
            &data.train,
            &weights,
            &args.data.precision,
            args.random.seed,
        )?,
        files => network_plane(network.layout(), &weights, files, &args.random)?,
    };
    let (d1, d2) = (plane.directions().0.to_vec(), plane.directions().1.to_vec());
    let grid_ranges = ranges(&args.ranges, &plane)?;
    let defaults = [grid_ranges[0].or(Some((-1.0, 1.0))), grid_ranges[1].or(Some((-1.0, 1.0)))];
    let grid = grid_over(defaults, resolution(&args.resolution)?, &plane)?;
    let (us, vs) = (grid.u().values(), grid.v().values());
    let title = format!("{} ({how})", describe(&network, &data));
    if args.store.store.is_some() && args.export_accuracy.is_some() {
        bail!("--export-accuracy: a store keeps the loss only; drop --store or --export-accuracy");
    }
    let mut definition = network_definition(&network, &weights, &data, &args.data);
    definition.insert("title".into(), title.clone().into());
    let whole = || -> Result<Vec<f64>> {
        let values = objective.plane(&weights, &d1, &d2, &us, &vs)?;
        if let Some(path) = &args.export_accuracy {
            let Some(accuracy) = values.accuracy.clone() else {
                bail!("--export-accuracy: an mse network has no accuracy; drop the flag");
            };
            let grid = Landscape::from_values(grid.clone(), plane.clone(), accuracy)?;
            write_atomic(path, &export::landscape(&grid, export::LandscapeFormat::Npy))?;
            eprintln!("wrote {}", path.display());
        }
        Ok(values.loss)
    };
    let job = Job { definition, plane: &plane, grid: &grid };
    let chunks = || objective.chunks(&weights, &d1, &d2, &us, &vs);
    let Some(loss) = grid::values(&args.store, job, whole, chunks)? else {
        return Ok(());
    };
    let landscape = Landscape::from_values(grid, plane, loss)?;
    super::super::require_finite(&landscape)?;
    let levels = levels.resolve(&landscape);
    let text = MapText {
        title: &title,
        map_axes: ["direction 1", "direction 2"],
        surface_axes: ["direction 1", "direction 2"],
    };
    maps.write(&landscape, levels, &text, Vec::new())?;
    if let Some([a, b]) = &saved {
        // In f64 whatever the weights' type, so that the plane recomputes exactly from the files.
        write_atomic(a, &tensors_bytes(network.layout(), &d1, TensorType::F64)?)?;
        write_atomic(b, &tensors_bytes(network.layout(), &d2, TensorType::F64)?)?;
        eprintln!("wrote {} and {}", a.display(), b.display());
    }
    // The trained weights themselves, whether or not the grid has a point there.
    let centre = objective.evaluate(&weights)?;
    if let Some(page) = &args.page {
        let html =
            page_html(&landscape, title.clone(), &network, &data, how.clone(), centre, Vec::new(), None)?;
        write_atomic(page, html.as_bytes())?;
        eprintln!("wrote {} (open it in any browser, it needs no network)", page.display());
    }
    say!(
        "{}: loss at the trained weights {:.4}{}, lowest on the plane {:.4}",
        network.describe(),
        centre.loss,
        centre.accuracy.map_or(String::new(), |a| format!(" (accuracy {a:.3})")),
        landscape.minimum().map_or(f64::NAN, |m| m.loss)
    )?;
    // Exact Hessian-vector products need the MLP's own backward pass.
    if let Some(mlp) = network.as_mlp() {
        let [c1, c2] =
            super::hessian::curvature_along(mlp, &data.train, &weights, &args.data.precision, [&d1, &d2])?;
        say!("curvature v'Hv/v'v along direction 1 {c1:.6}, direction 2 {c2:.6}")?;
    }
    Ok(())
}
