//! `lossatlas page`: one self-contained HTML file in which a learner turns the surface, hovers to
//! read the loss and toggles iso-lines, bands and paths, with nothing but a browser.

use anyhow::{bail, Context, Result};
use lossatlas::report::report;
use lossatlas::{evaluate, Axis, GridSpec, OptimizerSpec, Transform, DEFAULT_GRID_BUDGET_BYTES};
use serde_json::{json, Value};

use crate::args::{PageArgs, StoreArgs};
use crate::output::write_atomic;
use crate::problem::{Notes, Setup};
use crate::settings::{self, Levels};
use crate::web::{self, api, cases::Scene, Mode};

pub fn run(args: &PageArgs) -> Result<()> {
    settings::writable(&args.output)?;
    let extension = args.output.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    if !matches!(extension.as_deref(), Some("html" | "htm")) {
        bail!("-o `{}`: the page is HTML; use a name ending in .html", args.output.display());
    }
    let scene = Scene::chosen(args.case.as_deref(), &args.problem, &args.ranges)?;
    let transform: Transform = args.transform.parse()?;
    let levels = settings::parse_levels(&args.levels, 40)?;
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
    let spec_texts = if args.optimizers.is_empty() { &scene.optimizers } else { &args.optimizers };
    let specs: Vec<OptimizerSpec> =
        spec_texts.iter().map(|s| OptimizerSpec::parse(s)).collect::<lossatlas::Result<_>>()?;
    let setup = scene.setup(transform, None, args.resolution, Notes::Print)?;
    let start = match &args.start {
        Some(text) => start(text, setup.plane.names())?,
        None => scene.start(&setup),
    };
    let Some(mut view) = view(&scene, &setup, &levels, &args.store)? else {
        // Other shards still owe chunks of the store; the run that completes it writes the page.
        return Ok(());
    };
    view["start"] = json!(start);
    let paths = web::run_paths(&setup.objective, &setup.plane, &specs, start, args.steps)?;
    let selected: Vec<&str> = specs.iter().map(|s| s.name()).collect();
    let data = web::page_data(Mode::Static, &[&scene], view, json!(paths), scene.lr, &selected);
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

fn start(text: &str, names: &[String; 2]) -> Result<[f64; 2]> {
    match settings::numbers(text, "--start")?[..] {
        [u, v] => Ok([u, v]),
        _ => bail!("--start `{text}` needs two numbers, {} and {}, e.g. --start 1,2", names[0], names[1]),
    }
}

/// Everything the page draws of one landscape: the values, levels and the `analyze` report; the
/// grid computed in memory or through the store `store` names (`None` while other shards of it
/// are unfinished).
pub(super) fn view(
    scene: &Scene,
    setup: &Setup,
    levels: &Levels,
    store: &StoreArgs,
) -> Result<Option<Value>> {
    let Setup { objective, plane, grid, transform, problem } = setup;
    let title = super::default_title(problem, *transform, plane);
    let Some(landscape) = super::grid::formula_landscape(store, setup, &title)? else {
        return Ok(None);
    };
    super::require_finite(&landscape)?;
    let levels = match levels {
        Levels::Explicit(levels) => levels.clone(),
        Levels::Auto(count) => web::nice_levels(&landscape, *count),
    };
    // The measurements need no fine grid (critical points are refined by Newton's method from
    // the grid's candidates), and on a coarse one they cost a fraction of the time.
    let coarse = |a: &lossatlas::Axis| Axis::new(a.name(), a.min(), a.max(), a.n().min(ANALYSIS_RESOLUTION));
    let analysis_grid = GridSpec::new(coarse(grid.u())?, coarse(grid.v())?, DEFAULT_GRID_BUDGET_BYTES)?;
    let analysis_landscape = evaluate(objective, plane, &analysis_grid)?;
    let analysis = report(objective, &analysis_landscape, *transform);
    let (lo, hi) = landscape.finite_range().unwrap_or((0.0, 1.0));
    let view = web::LandscapeView {
        params: [grid.u().name().to_string(), grid.v().name().to_string()],
        u: grid.u().into(),
        v: grid.v().into(),
        values: web::page_values(&landscape),
        range: [lo, hi],
        levels,
        log_color: lo > 0.0 && hi / lo > 100.0,
        non_finite: landscape.non_finite_count(),
        case: scene.name.clone(),
        case_title: scene.title.clone(),
        transform: transform.name(),
        transform_description: transform.description(),
        title,
        model: problem.model.name().to_string(),
        loss: problem.loss.to_string(),
        data: Some(analysis.data.clone()),
        start: Some(scene.start(setup)),
        lr: scene.lr,
        analysis: Some(analysis),
        network: None,
    };
    Ok(Some(serde_json::to_value(&view)?))
}

/// The live page's first landscape and paths (the scene's defaults); `scenes` fill the menu.
pub(super) fn live_page(scene: &Scene, scenes: &[&Scene]) -> Result<String> {
    let setup = scene
        .setup(Transform::None, None, api::DEFAULT_RESOLUTION, Notes::Print)
        .with_context(|| format!("case `{}`", scene.name))?;
    let view = view(scene, &setup, &Levels::Auto(12), &StoreArgs::default())
        .with_context(|| format!("case `{}`", scene.name))?
        .context("a page without a store always has its landscape")?;
    let selected = ["gd", "momentum", "adam"];
    let specs = selected
        .iter()
        .map(|name| api::spec(name, scene.lr, 0.9).map_err(anyhow::Error::from))
        .collect::<Result<Vec<_>>>()?;
    let paths = web::run_paths(&setup.objective, &setup.plane, &specs, scene.start(&setup), 400)?;
    let data = web::page_data(Mode::Live, scenes, view, json!(paths), scene.lr, &selected);
    Ok(web::page(&data))
}
