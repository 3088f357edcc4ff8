//! `lossatlas basins`: which minimum an optimizer reaches from each start of a grid.

use anyhow::{bail, Result};
use lossatlas::analysis::{basins, critical_points, BasinLabel, CriticalKind};
use lossatlas::{Axis, GridSpec, OptimizerSpec, RunOptions, DEFAULT_GRID_BUDGET_BYTES};
use lossatlas_render::{render, BasinFigure};
use serde_json::json;

use super::grid;
use crate::args::BasinsArgs;
use crate::output::write_atomic;
use crate::problem::Setup;
use crate::progress;
use crate::settings;

pub fn run(args: &BasinsArgs) -> Result<()> {
    let outputs = settings::outputs(&args.outputs)?;
    if let Some(path) = &args.json {
        settings::writable(path)?;
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            bail!("--json `{}`: use a name ending in .json", path.display());
        }
    }
    if outputs.is_empty() && args.json.is_none() {
        bail!("nothing to write: give -o FILE.png|.svg and/or --json FILE.json");
    }
    if !(2..=400).contains(&args.starts) {
        bail!("--starts {}: use between 2 and 400 start points per axis", args.starts);
    }
    if args.steps == 0 || args.steps > 100_000 {
        bail!("--steps {}: use between 1 and 100000 steps", args.steps);
    }
    if !(args.tolerance.is_finite() && args.tolerance > 0.0) {
        bail!("--tolerance {} must be a finite number > 0", args.tolerance);
    }
    let setup = Setup::new(&args.problem, &args.transform, &args.grid)?;
    let spec = OptimizerSpec::parse(&args.optimizer)?;
    let size = settings::size_or(args.size.as_deref(), (800, 700))?;

    let title = super::default_title(&setup.problem, setup.transform, &setup.plane);
    let Some(landscape) = grid::formula_landscape(&args.store, &setup, &title)? else {
        return Ok(());
    };
    let Setup { problem, objective, plane, grid, .. } = setup;
    let names = plane.names().clone();
    super::warn_non_finite(&landscape);
    super::require_finite(&landscape)?;
    let minima: Vec<_> = critical_points(&objective, &landscape)
        .into_iter()
        .filter(|p| p.kind == CriticalKind::Minimum)
        .collect();
    if minima.is_empty() {
        eprintln!(
            "note: no minimum with positive curvature lies in range; every start is labelled `no minimum`"
        );
    }
    let starts = GridSpec::new(
        Axis::new(names[0].clone(), grid.u().min(), grid.u().max(), args.starts)?,
        Axis::new(names[1].clone(), grid.v().min(), grid.v().max(), args.starts)?,
        DEFAULT_GRID_BUDGET_BYTES,
    )?;
    let options = RunOptions { max_steps: args.steps, ..RunOptions::default() };
    let at: Vec<[f64; 2]> = minima.iter().map(|m| m.at).collect();
    let bar = progress::bar(starts.len() as u64, "starts");
    let labels = basins(&objective, &plane, &starts, &spec, &options, &at, args.tolerance, || bar.inc(1))?;
    drop(bar);

    let count = |want: BasinLabel| labels.iter().filter(|l| **l == want).count();
    say!("{} starts, {} under {}:", labels.len(), args.steps, spec.label())?;
    for (k, m) in minima.iter().enumerate() {
        say!(
            "  minimum {}: {} = {:.6}, {} = {:.6}, loss {:.6}: {} starts",
            k + 1,
            names[0],
            m.at[0],
            names[1],
            m.at[1],
            m.loss,
            count(BasinLabel::Minimum(k))
        )?;
    }
    say!("  no minimum reached: {} starts", count(BasinLabel::Elsewhere))?;
    say!("  diverged: {} starts", count(BasinLabel::Diverged))?;

    let title = args
        .title
        .clone()
        .unwrap_or_else(|| format!("basins of y = {} under {}", problem.model.name(), spec.label()));
    let legend: Vec<([f64; 2], String)> = minima
        .iter()
        .enumerate()
        .map(|(k, m)| {
            (
                m.at,
                format!(
                    "min {}: {}={}, {}={}, L={}",
                    k + 1,
                    names[0],
                    unsigned_zero(format!("{:.3}", m.at[0])),
                    names[1],
                    unsigned_zero(format!("{:.3}", m.at[1])),
                    unsigned_zero(format!("{:.4}", m.loss))
                ),
            )
        })
        .collect();
    let levels = lossatlas::auto_levels(&landscape, 10);
    let figure = BasinFigure::new(&starts, labels.clone())?
        .minima(legend)
        .title(title)
        .x_label(names[0].clone())
        .y_label(names[1].clone())
        .landscape(&landscape, levels);
    for (path, format) in &outputs {
        write_atomic(path, &render(&figure, *format, size)?)?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(path) = &args.json {
        let rows: Vec<Vec<i64>> = labels
            .chunks(args.starts)
            .map(|row| {
                row.iter()
                    .map(|l| match l {
                        BasinLabel::Minimum(k) => *k as i64,
                        BasinLabel::Elsewhere => -1,
                        BasinLabel::Diverged => -2,
                    })
                    .collect()
            })
            .collect();
        let doc = json!({
            "params": names,
            "optimizer": spec.name(),
            "settings": spec.settings().into_iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "steps": args.steps,
            "tolerance": args.tolerance,
            "minima": minima.iter().map(|m| json!({"at": m.at, "loss": m.loss, "eigenvalues": m.eigen.values})).collect::<Vec<_>>(),
            "starts": {
                "axes": [
                    {"name": starts.u().name(), "min": starts.u().min(), "max": starts.u().max(), "n": starts.u().n()},
                    {"name": starts.v().name(), "min": starts.v().min(), "max": starts.v().max(), "n": starts.v().n()},
                ],
            },
            "labels": rows,
            "label_meaning": {">= 0": "index into minima", "-1": "reached no minimum", "-2": "diverged"},
        });
        write_atomic(path, serde_json::to_string(&doc)?.as_bytes())?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// `-0.000` (a value that rounds to zero from below) written as `0.000`.
fn unsigned_zero(text: String) -> String {
    match text.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => text,
    }
}
