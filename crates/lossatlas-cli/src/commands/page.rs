//! `lossatlas page`: one self-contained HTML file in which a learner turns the surface, hovers to
//! read the loss and toggles iso-lines, bands and paths, with nothing but a browser.

use anyhow::{bail, Context, Result};
use lossatlas::{evaluate, Axis, GridSpec, OptimizerSpec, Plane, Transform, DEFAULT_GRID_BUDGET_BYTES};
use serde_json::{json, Value};

use crate::args::{GridArgs, PageArgs};
use crate::output::write_atomic;
use crate::settings::{self, Problem};
use crate::web::{self, api, cases::Case, Mode};

pub fn run(args: &PageArgs) -> Result<()> {
    settings::writable(&args.output)?;
    let extension = args.output.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    if !matches!(extension.as_deref(), Some("html" | "htm")) {
        bail!("-o `{}`: the page is HTML; use a name ending in .html", args.output.display());
    }
    let case = web::cases::find(&args.case)?;
    let transform: Transform = args.transform.parse()?;
    let levels = levels(&args.levels)?;
    if !(1..=api::MAX_STEPS).contains(&args.steps) {
        bail!(
            "--steps {}: take from 1 to {} steps (every step is stored in the page)",
            args.steps,
            api::MAX_STEPS
        );
    }
    let (lo, hi) = api::RESOLUTION;
    if !(lo..=hi).contains(&args.resolution) {
        bail!(
            "--resolution {}: use {lo} to {hi} points per axis (the page stores every value)",
            args.resolution
        );
    }
    let specs: Vec<OptimizerSpec> = if args.optimizers.is_empty() {
        case.optimizers.iter().map(|s| OptimizerSpec::parse(s)).collect::<lossatlas::Result<_>>()?
    } else {
        args.optimizers.iter().map(|s| OptimizerSpec::parse(s)).collect::<lossatlas::Result<_>>()?
    };
    let problem = case.problem()?;
    let objective = problem.objective(transform)?;
    let names = objective.param_names().to_vec();
    let start = match &args.start {
        Some(text) => start(text, &names)?,
        None => case.start,
    };
    let mut ranges = default_ranges(case, &objective, &names);
    ranges.extend(args.ranges.iter().cloned());
    let grid = settings::grid(&GridArgs { ranges, resolution: args.resolution.to_string() }, &names)?;

    let mut view = view(case, &problem, transform, &grid, &levels)?;
    view["start"] = json!(start);
    let paths = web::run_paths(&objective, &specs, start, args.steps)?;
    let selected: Vec<&str> = specs.iter().map(|s| s.name()).collect();
    let data = web::page_data(Mode::Static, view, json!(paths), case.lr, &selected);
    let html = web::page(&data);
    write_atomic(&args.output, html.as_bytes())?;
    eprintln!(
        "wrote {} ({} bytes; open it in any browser, it needs no network)",
        args.output.display(),
        html.len()
    );
    Ok(())
}

/// Grid points per axis of the landscape the analysis measures.
const ANALYSIS_RESOLUTION: usize = 61;

/// Contour levels: a comma list or a count of automatic ones.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Levels {
    Explicit(Vec<f64>),
    Auto(usize),
}

fn levels(text: &str) -> Result<Levels> {
    if let Ok(count) = text.trim().parse::<usize>() {
        if !(1..=40).contains(&count) {
            bail!("--levels {count}: ask for 1 to 40 automatic levels, or give a list like 0.2,0.5,1");
        }
        return Ok(Levels::Auto(count));
    }
    let mut levels =
        text.split(',').map(|item| settings::number(item, "--levels")).collect::<Result<Vec<f64>>>()?;
    levels.sort_by(f64::total_cmp);
    levels.dedup();
    Ok(Levels::Explicit(levels))
}

fn start(text: &str, names: &[String]) -> Result<[f64; 2]> {
    let values = text.split(',').map(|v| settings::number(v, "--start")).collect::<Result<Vec<f64>>>()?;
    match values[..] {
        [u, v] => Ok([u, v]),
        _ => bail!("--start `{text}` needs two numbers, {} and {}, e.g. --start 1,2", names[0], names[1]),
    }
}

/// The case's ranges as `--range` values, widened to show a closed-form optimum.
pub(super) fn default_ranges(case: &Case, objective: &lossatlas::Objective, names: &[String]) -> Vec<String> {
    let range = case.range_for(objective);
    names.iter().zip(range).map(|(name, (lo, hi))| format!("{name}={lo}:{hi}")).collect()
}

/// Everything the page draws of one landscape: the values, levels and the `analyze` report.
pub(super) fn view(
    case: &Case,
    problem: &Problem,
    transform: Transform,
    grid: &GridSpec,
    levels: &Levels,
) -> Result<Value> {
    let objective = problem.objective(transform)?;
    let plane = Plane::parameter_axes(objective.param_names())?;
    let landscape = evaluate(&objective, &plane, grid)?;
    super::require_finite(&landscape)?;
    let levels = match levels {
        Levels::Explicit(levels) => levels.clone(),
        Levels::Auto(count) => web::nice_levels(&landscape, *count),
    };
    // The measurements need no fine grid (critical points are refined by Newton's method from
    // the grid's candidates), and on a coarse one they cost a fraction of the time.
    let coarse = |a: &lossatlas::Axis| Axis::new(a.name(), a.min(), a.max(), a.n().min(ANALYSIS_RESOLUTION));
    let analysis_grid = GridSpec::new(coarse(grid.u())?, coarse(grid.v())?, DEFAULT_GRID_BUDGET_BYTES)?;
    let analysis_landscape = evaluate(&objective, &plane, &analysis_grid)?;
    let analysis = super::analyze::report(&objective, &analysis_landscape, transform);
    let extra = json!({
        "case": case.name,
        "case_title": case.title,
        "transform": transform.name(),
        "transform_description": transform.description(),
        "title": super::default_title(problem, transform),
        "model": problem.model.name(),
        "loss": problem.loss.to_string(),
        "data": {"name": objective.data().name(), "rows": objective.data().len()},
        "start": case.start,
        "lr": case.lr,
        "analysis": analysis,
    });
    Ok(web::landscape_json(&landscape, &levels, extra))
}

/// The live page's first landscape and paths (the case's defaults).
pub(super) fn live_page(case: &Case) -> Result<String> {
    let problem = case.problem()?;
    let objective = problem.objective(Transform::None)?;
    let names = objective.param_names().to_vec();
    let ranges = default_ranges(case, &objective, &names);
    let resolution = api::DEFAULT_RESOLUTION.to_string();
    let grid = settings::grid(&GridArgs { ranges, resolution }, &names)?;
    let view = view(case, &problem, Transform::None, &grid, &Levels::Auto(12))
        .with_context(|| format!("case `{}`", case.name))?;
    let selected = ["gd", "momentum", "adam"];
    let specs = selected
        .iter()
        .map(|name| api::spec(name, case.lr, 0.9).map_err(anyhow::Error::from))
        .collect::<Result<Vec<_>>>()?;
    let paths = web::run_paths(&objective, &specs, case.start, 400)?;
    let data = web::page_data(Mode::Live, view, json!(paths), case.lr, &selected);
    Ok(web::page(&data))
}
