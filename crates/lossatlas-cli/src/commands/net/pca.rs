//! `lossatlas net pca`: a recorded training path in its principal plane (the plane of the first
//! two principal directions of the snapshots' offsets from the trained weights, Li et al. 2018,
//! section 7), drawn on that plane's contour map and surface, and checked against the truth: a
//! chart of each snapshot's distance from the plane, and of its true loss beside the plane's
//! loss at its projection. Where the two differ, the picture of the path is not the path.

use anyhow::{bail, Result};
use lossatlas::net::{path_pca, project_path, tensors_bytes, PathFile, Projection, TensorType};
use lossatlas::{Landscape, Plane, PlaneKind};
use lossatlas_render::{render, PathOverlay, Series, SeriesFigure, SeriesPanel, PATH_COLORS};
use serde::Serialize;

use super::{
    describe, load_data, load_network, network_definition, page_html, two_safetensors, Network, Objective,
};
use crate::args::NetPcaArgs;
use crate::commands::grid::{self, Job};
use crate::commands::maps::{MapText, Maps};
use crate::output::write_atomic;
use crate::problem::{grid_over, ranges, resolution};
use crate::settings;
use crate::web::{self, PathEnd, PathView};

/// How far the default range reaches beyond the projected path, as a share of its extent.
const MARGIN: f64 = 0.25;

/// One snapshot of the path, as exported.
#[derive(Debug, Serialize)]
struct PathPoint {
    /// The training step.
    step: u64,
    /// Its projection on the plane.
    u: f64,
    v: f64,
    /// Its Euclidean distance from the plane.
    distance: f64,
    /// The loss at the snapshot itself.
    loss: f64,
    /// The loss at its projection, the point the picture shows.
    plane_loss: f64,
}

/// The `--export-path FILE.json` document.
#[derive(Debug, Serialize)]
struct PathExport<'a> {
    explained_variance_ratio: &'a [f64],
    points: &'a [PathPoint],
}

pub fn run(args: &NetPcaArgs) -> Result<()> {
    let (contours, surfaces) = (settings::outputs(&args.outputs)?, settings::outputs(&args.surface_outputs)?);
    let maps = Maps {
        contours: &contours,
        surfaces: &surfaces,
        exports: settings::landscape_output(args.export_landscape.as_ref())?.into_iter().collect(),
    };
    let off_plane = settings::outputs(&args.off_plane_outputs)?;
    let path_export = match &args.export_path {
        Some(path) => {
            let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
            match ext.as_deref() {
                Some(e @ ("csv" | "json")) => {
                    settings::output_with_extension(path, e, "--export-path")?;
                    Some((path, e == "json"))
                }
                _ => bail!("--export-path `{}`: use a name ending in .csv or .json", path.display()),
            }
        }
        None => None,
    };
    let saved =
        args.save_directions.as_deref().map(|t| two_safetensors(t, "--save-directions")).transpose()?;
    if let Some(page) = &args.page {
        settings::output_with_extension(page, "html", "--page")?;
    }
    if maps.is_empty()
        && args.page.is_none()
        && off_plane.is_empty()
        && path_export.is_none()
        && args.store.store.is_none()
    {
        bail!(
            "nothing to write: give -o FILE.png|.svg, --surface FILE, --off-plane FILE, \
             --export-landscape FILE, --export-path FILE, --page FILE.html or --store DIR"
        );
    }
    let levels = settings::parse_levels(&args.levels, 200)?;
    let loaded = load_network(&args.weights, &args.activation, &args.data)?;
    let (mlp, weights) = (loaded.mlp, loaded.params);
    let network = Network::Mlp(mlp.clone());
    let file = PathFile::open(&args.path)?;
    if file.n_params() != mlp.n_params() {
        bail!(
            "--path {} holds snapshots of {} weights, but --weights {} is a {} network with {}; \
             give the path recorded while training these weights",
            args.path.display(),
            file.n_params(),
            args.weights.display(),
            mlp.describe(),
            mlp.n_params()
        );
    }
    if file.len() < 3 {
        bail!(
            "--path {} holds {} snapshot(s); a principal plane needs at least 3 (record more often with --record-every)",
            args.path.display(),
            file.len()
        );
    }
    let data = load_data(&args.data, mlp.outputs())?;
    let objective = Objective::new(&mlp, &data.train, &args.data.precision)?;

    let pca = path_pca(&file, &weights)?;
    let projections = project_path(&file, &weights, &pca.d1, &pca.d2)?;
    let steps = file.steps()?;
    let mut losses = Vec::with_capacity(file.len());
    let mut to_origin = Vec::with_capacity(file.len());
    let mut failure = None;
    file.for_each(|_, _, snapshot| {
        let distance = snapshot.iter().zip(&weights).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt();
        to_origin.push(distance);
        match objective.evaluate(snapshot) {
            Ok(e) => losses.push(e.loss),
            Err(e) => failure = failure.take().or(Some(e)),
        }
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    let plane = Plane::new(weights.clone(), pca.d1.clone(), pca.d2.clone(), ["PC 1".into(), "PC 2".into()])?
        .with_kind(PlaneKind::PathPca);
    let at = |p: &Projection| -> Vec<f64> {
        weights.iter().zip(&pca.d1).zip(&pca.d2).map(|((o, a), b)| o + p.u * a + p.v * b).collect()
    };
    let plane_losses =
        projections.iter().map(|p| Ok(objective.evaluate(&at(p))?.loss)).collect::<Result<Vec<f64>>>()?;

    let given = ranges(&args.ranges, &plane)?;
    let around = |coordinate: fn(&Projection) -> f64| {
        let (lo, hi) =
            projections.iter().map(coordinate).fold((0.0f64, 0.0f64), |(a, b), c| (a.min(c), b.max(c)));
        let pad = MARGIN * (hi - lo).max(1e-12);
        Some((lo - pad, hi + pad))
    };
    let defaults = [given[0].or_else(|| around(|p| p.u)), given[1].or_else(|| around(|p| p.v))];
    let grid = grid_over(defaults, resolution(&args.resolution)?, &plane)?;
    let (us, vs) = (grid.u().values(), grid.v().values());
    let title = format!("{}: training path in its PCA plane", describe(&network, &data));
    let mut definition = network_definition(&network, &weights, &data, &args.data);
    definition.insert("command".into(), "net pca".into());
    definition.insert("title".into(), title.clone().into());
    let job = Job { definition, plane: &plane, grid: &grid };
    let whole = || Ok(objective.plane(&weights, &pca.d1, &pca.d2, &us, &vs)?.loss);
    let chunks = || objective.chunks(&weights, &pca.d1, &pca.d2, &us, &vs);
    let Some(loss) = grid::values(&args.store, job, whole, chunks)? else {
        return Ok(());
    };
    let landscape = Landscape::from_values(grid, plane, loss)?;
    super::super::require_finite(&landscape)?;
    let levels = levels.resolve(&landscape);

    let [r1, r2] =
        [pca.explained_variance_ratio[0], pca.explained_variance_ratio.get(1).copied().unwrap_or(0.0)];
    let x_label = format!("PC 1 ({:.1}% of the path's variance)", 100.0 * r1);
    let y_label = format!("PC 2 ({:.1}%)", 100.0 * r2);
    let overlay = PathOverlay {
        label: format!("training path ({} snapshots)", file.len()),
        color: PATH_COLORS[0],
        points: projections.iter().map(|p| [p.u, p.v]).collect(),
        losses: Some(plane_losses.clone()),
    };
    let text = MapText { title: &title, map_axes: [&x_label, &y_label], surface_axes: ["PC 1", "PC 2"] };
    maps.write(&landscape, levels, &text, vec![overlay])?;
    if !off_plane.is_empty() {
        let figure =
            off_plane_chart(&network, &data, &steps, &losses, &plane_losses, &projections, &to_origin);
        for (path, format) in &off_plane {
            write_atomic(path, &render(&figure, *format, figure.size())?)?;
            eprintln!("wrote {}", path.display());
        }
    }
    let points: Vec<PathPoint> = (0..projections.len())
        .map(|i| PathPoint {
            step: steps[i],
            u: projections[i].u,
            v: projections[i].v,
            distance: projections[i].distance,
            loss: losses[i],
            plane_loss: plane_losses[i],
        })
        .collect();
    if let Some((path, json)) = path_export {
        let bytes = if json {
            serde_json::to_vec_pretty(&PathExport {
                explained_variance_ratio: &pca.explained_variance_ratio,
                points: &points,
            })?
        } else {
            let mut csv = String::from("step,u,v,distance,loss,plane_loss\n");
            for p in &points {
                csv.push_str(&format!(
                    "{},{},{},{},{},{}\n",
                    p.step, p.u, p.v, p.distance, p.loss, p.plane_loss
                ));
            }
            csv.into_bytes()
        };
        write_atomic(path, &bytes)?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(page) = &args.page {
        let plane_text = format!(
            "principal directions of the training path ({:.1}% and {:.1}% of its variance)",
            100.0 * r1,
            100.0 * r2
        );
        let centre = objective.evaluate(&weights)?;
        let start = points.first().map(|p| [p.u, p.v]);
        let html = page_html(
            &landscape,
            title,
            &network,
            &data,
            plane_text,
            centre,
            vec![path_view(&points, file.len())],
            start,
        )?;
        write_atomic(page, html.as_bytes())?;
        eprintln!("wrote {} (open it in any browser, it needs no network)", page.display());
    }
    if let Some([a, b]) = &saved {
        write_atomic(a, &tensors_bytes(&mlp, &pca.d1, TensorType::F64)?)?;
        write_atomic(b, &tensors_bytes(&mlp, &pca.d2, TensorType::F64)?)?;
        eprintln!("wrote {} and {}", a.display(), b.display());
    }
    let farthest = points.iter().max_by(|a, b| a.distance.total_cmp(&b.distance));
    let worst =
        points.iter().max_by(|a, b| (a.loss - a.plane_loss).abs().total_cmp(&(b.loss - b.plane_loss).abs()));
    say!(
        "{} snapshots; PC 1 and PC 2 explain {:.1}% and {:.1}% of the path's variance ({:.1}% together)",
        points.len(),
        100.0 * r1,
        100.0 * r2,
        100.0 * (r1 + r2)
    )?;
    if let (Some(f), Some(w)) = (farthest, worst) {
        say!(
            "farthest from the plane: {:.4} at step {}; largest gap between the true loss and the plane's: \
             {:.4} vs {:.4} at step {}",
            f.distance,
            f.step,
            w.loss,
            w.plane_loss,
            w.step
        )?;
    }
    Ok(())
}

/// The recorded path as the page draws it: each snapshot at its projection, with the plane's loss
/// there (so it lies on the surface) and its distance from the plane.
fn path_view(points: &[PathPoint], snapshots: usize) -> PathView {
    let last = points.last();
    let color = PATH_COLORS[0];
    PathView {
        optimizer: "training",
        label: format!("training path ({snapshots} snapshots)"),
        settings: serde_json::Map::new(),
        color: format!("#{:02x}{:02x}{:02x}", color.0, color.1, color.2),
        stopped: "max_steps",
        diverged: false,
        steps: last.map_or(0, |p| p.step as usize),
        points: points
            .iter()
            .filter(|p| p.plane_loss.is_finite())
            .map(|p| {
                [
                    web::round(p.u, 6),
                    web::round(p.v, 6),
                    web::round(p.plane_loss, 6),
                    web::round(p.distance, 4),
                ]
            })
            .collect(),
        end: PathEnd {
            params: last.map_or(Vec::new(), |p| vec![p.u, p.v]),
            loss: last.map(|p| p.plane_loss),
        },
    }
}

/// The chart that says how far to trust the projected path: per snapshot, the true loss beside
/// the plane's loss at the projection (top), and the distance from the plane beside the distance
/// to the trained weights (bottom), against the training step.
fn off_plane_chart(
    network: &Network,
    data: &super::NetData,
    steps: &[u64],
    losses: &[f64],
    plane_losses: &[f64],
    projections: &[Projection],
    to_origin: &[f64],
) -> SeriesFigure {
    let xy = |values: &[f64]| steps.iter().map(|&s| s as f64).zip(values.iter().copied()).collect::<Vec<_>>();
    let distances: Vec<f64> = projections.iter().map(|p| p.distance).collect();
    let spread = |v: &[f64]| {
        let finite = v.iter().copied().filter(|l| l.is_finite() && *l > 0.0);
        let (lo, hi) = finite.fold((f64::INFINITY, 0.0f64), |(a, b), l| (a.min(l), b.max(l)));
        hi > 100.0 * lo
    };
    let dots = |label: &str, color, values: &[f64]| {
        if steps.len() <= 60 {
            Series::dotted_line(label, color, xy(values))
        } else {
            Series::line(label, color, xy(values))
        }
    };
    let loss = SeriesPanel::new(network.loss_label())
        .series(dots("at the snapshot (true)", PATH_COLORS[1], losses))
        .series(dots("at its projection (drawn)", PATH_COLORS[0], plane_losses))
        .log(spread(losses) || spread(plane_losses));
    let distance = SeriesPanel::new("distance in weight space")
        .series(dots("from the plane", PATH_COLORS[2], &distances))
        .series(dots("from the trained weights", PATH_COLORS[3], to_origin));
    SeriesFigure::new(
        format!("{}: how far the path leaves its PCA plane", describe(network, data)),
        "training step",
    )
    .panel(loss)
    .panel(distance)
}
