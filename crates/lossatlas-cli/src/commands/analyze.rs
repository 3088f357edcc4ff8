//! `lossatlas analyze`: the numbers behind a landscape, as a table or JSON.

use anyhow::Result;
use lossatlas::analysis::{
    critical_points, curvature_at_minimum, find_minimum, MinimumMethod, StepSizeReport, SymmetricEigen,
};
use lossatlas::{evaluate, Objective, Plane, Transform};
use serde_json::{json, Value};

use crate::args::AnalyzeArgs;
use crate::settings;

pub fn run(args: &AnalyzeArgs) -> Result<()> {
    let problem = settings::problem(&args.problem)?;
    if args.transforms {
        return transform_table(args, &problem);
    }
    let transform: Transform = args.transform.parse()?;
    let objective = problem.objective(transform)?;
    let grid = settings::grid(&args.grid, objective.param_names())?;
    let plane = Plane::parameter_axes(objective.param_names())?;
    let landscape = evaluate(&objective, &plane, &grid)?;
    let report = report(&objective, &landscape, transform);
    if args.json {
        say!("{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        print_report(&report)?;
    }
    Ok(())
}

/// Everything `analyze` measures, as a JSON value (the table is printed from it, so both always
/// agree).
pub fn report(objective: &Objective, landscape: &lossatlas::Landscape, transform: Transform) -> Value {
    let names = objective.param_names();
    let mut out = json!({
        "model": objective.model().name(),
        "params": names,
        "loss": objective.loss_kind().to_string(),
        "data": { "name": objective.data().name(), "rows": objective.data().len() },
        "transform": transform.name(),
        "grid": {
            "axes": [axis(landscape.u()), axis(landscape.v())],
            "non_finite_points": landscape.non_finite_count(),
        },
    });
    let Some(minimum) = find_minimum(objective, landscape) else {
        out["minimum"] = Value::Null;
        out["statement"] = json!("the loss is not finite anywhere on the grid: there is no minimum to measure; change --range or the model");
        return out;
    };
    let method = match minimum.method {
        MinimumMethod::ClosedForm => json!({"method": "closed form (least squares)"}),
        MinimumMethod::Newton(n) => {
            json!({"method": "best grid point refined by Newton's method", "iterations": n})
        }
    };
    let on_grid = landscape.u().contains(minimum.theta[0]) && landscape.v().contains(minimum.theta[1]);
    out["minimum"] = json!({
        "at": minimum.theta,
        "loss": minimum.loss,
        "found_by": method,
        "inside_range": on_grid,
    });
    let hessian = objective.hessian(&minimum.theta);
    let n = names.len();
    out["hessian"] = json!(hessian.chunks(n).map(|r| r.to_vec()).collect::<Vec<_>>());
    match SymmetricEigen::new(&hessian, n) {
        None => {
            out["statement"] =
                json!("the Hessian at the minimum is not finite, so curvature cannot be measured there");
        }
        Some(eigen) => {
            out["eigenvalues"] = json!(eigen.values);
            out["eigenvectors"] = json!(eigen.vectors);
            match StepSizeReport::from_eigen(&eigen) {
                Some(r) => {
                    out["condition_number"] = json!(r.condition_number);
                    out["gradient_descent"] = json!({
                        "max_stable_learning_rate": r.max_stable_learning_rate,
                        "best_learning_rate": r.best_learning_rate,
                        "contraction_per_step": r.gd_contraction,
                        "steps_to_shrink_error_1e-6": r.gd_steps_to_1e_minus_6,
                    });
                    out["momentum"] = json!({
                        "best_learning_rate": r.momentum_best_learning_rate,
                        "best_momentum": r.momentum_best_momentum,
                        "contraction_per_step": r.momentum_contraction,
                        "steps_to_shrink_error_1e-6": r.momentum_steps_to_1e_minus_6,
                    });
                }
                None => {
                    out["condition_number"] = Value::Null;
                    out["statement"] = json!(format!(
                        "the Hessian at the minimum has eigenvalues {:?}: it is singular or not positive definite, so the \
                         minimum is not isolated and there is no finite condition number or stable step to report",
                        eigen.values
                    ));
                }
            }
        }
    }
    let points = critical_points(objective, landscape);
    out["critical_points"] = json!(points
        .iter()
        .map(|p| json!({
            "kind": p.kind.name(),
            "at": p.theta,
            "loss": p.loss,
            "eigenvalues": p.eigen.values,
            "gradient_norm": p.gradient_norm,
            "newton_iterations": p.iterations,
        }))
        .collect::<Vec<_>>());
    out
}

fn axis(a: &lossatlas::Axis) -> Value {
    json!({"name": a.name(), "min": a.min(), "max": a.max(), "n": a.n()})
}

fn num(v: &Value) -> String {
    match v.as_f64() {
        Some(x) => fmt(x),
        None => "-".into(),
    }
}

fn fmt(x: f64) -> String {
    if x != 0.0 && (x.abs() >= 1e5 || x.abs() < 1e-3) {
        format!("{x:.4e}")
    } else {
        format!("{x:.6}").trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A whole number of steps.
fn count(v: &Value) -> String {
    v.as_f64().map(|x| format!("{x:.0}")).unwrap_or_else(|| "-".into())
}

fn list(v: &Value) -> String {
    v.as_array().map(|a| a.iter().map(num).collect::<Vec<_>>().join(", ")).unwrap_or_default()
}

fn print_report(r: &Value) -> Result<()> {
    let names: Vec<String> = r["params"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .filter_map(|v| v.as_str().map(String::from))
        .collect();
    say!(
        "model      y = {}   loss {}   data {} ({} rows)   transform {}",
        r["model"].as_str().unwrap_or(""),
        r["loss"].as_str().unwrap_or(""),
        r["data"]["name"].as_str().unwrap_or(""),
        r["data"]["rows"],
        r["transform"].as_str().unwrap_or("")
    )?;
    if r["minimum"].is_null() {
        say!("{}", r["statement"].as_str().unwrap_or(""))?;
        return Ok(());
    }
    let m = &r["minimum"];
    let at: Vec<String> = names
        .iter()
        .zip(m["at"].as_array().unwrap_or(&Vec::new()))
        .map(|(n, v)| format!("{n} = {}", num(v)))
        .collect();
    let how = match m["found_by"]["iterations"].as_u64() {
        Some(i) => format!("{}, {i} iterations", m["found_by"]["method"].as_str().unwrap_or("")),
        None => m["found_by"]["method"].as_str().unwrap_or("").to_string(),
    };
    say!("minimum    {}   loss {}   ({how})", at.join(", "), num(&m["loss"]))?;
    if m["inside_range"] == json!(false) {
        say!("           note: the minimum lies outside the drawn range")?;
    }
    if let Some(rows) = r["hessian"].as_array() {
        for (i, row) in rows.iter().enumerate() {
            say!("{}[ {} ]", if i == 0 { "Hessian    " } else { "           " }, list(row))?;
        }
    }
    if let (Some(vals), Some(vecs)) = (r["eigenvalues"].as_array(), r["eigenvectors"].as_array()) {
        for (i, (val, vec)) in vals.iter().zip(vecs).enumerate() {
            say!(
                "{}{}  along ({})",
                if i == 0 { "eigen      " } else { "           " },
                num(val),
                list(vec)
            )?;
        }
    }
    if r["condition_number"].is_number() {
        let gd = &r["gradient_descent"];
        let mo = &r["momentum"];
        say!("condition  {}", num(&r["condition_number"]))?;
        say!("gd         stable for lr < {} (2 / lambda_max); best lr {} contracts the error by {} a step, {} steps to 1e-6",
            num(&gd["max_stable_learning_rate"]), num(&gd["best_learning_rate"]), num(&gd["contraction_per_step"]), count(&gd["steps_to_shrink_error_1e-6"]))?;
        say!(
            "momentum   best lr {} with momentum {} contracts by {} a step, {} steps to 1e-6",
            num(&mo["best_learning_rate"]),
            num(&mo["best_momentum"]),
            num(&mo["contraction_per_step"]),
            count(&mo["steps_to_shrink_error_1e-6"])
        )?;
    }
    if let Some(statement) = r["statement"].as_str() {
        say!("note       {statement}")?;
    }
    if let Some(points) = r["critical_points"].as_array() {
        say!("critical points in range: {}", points.len())?;
        for p in points {
            let at: Vec<String> = names
                .iter()
                .zip(p["at"].as_array().unwrap_or(&Vec::new()))
                .map(|(n, v)| format!("{n} = {}", num(v)))
                .collect();
            say!(
                "  {:<10} {}   loss {}   eigenvalues {}",
                p["kind"].as_str().unwrap_or(""),
                at.join(", "),
                num(&p["loss"]),
                list(&p["eigenvalues"])
            )?;
        }
    }
    Ok(())
}

/// Condition number, learning-rate limit and predicted step counts for every input transform, one
/// JSON object per transform (a transform that cannot apply gets a `statement`).
pub fn transform_rows(problem: &settings::Problem, grid_args: &crate::args::GridArgs) -> Result<Vec<Value>> {
    let mut rows = Vec::new();
    for t in Transform::ALL {
        let objective = match problem.objective(t) {
            Ok(o) => o,
            Err(e) => {
                rows.push(json!({"transform": t.name(), "description": t.description(), "statement": format!("{e:#}")}));
                continue;
            }
        };
        let grid = settings::grid(grid_args, objective.param_names())?;
        let plane = Plane::parameter_axes(objective.param_names())?;
        let landscape = evaluate(&objective, &plane, &grid)?;
        let mut row = json!({"transform": t.name(), "description": t.description()});
        let stats =
            curvature_at_minimum(&objective, &landscape).and_then(|(_, e)| StepSizeReport::from_eigen(&e));
        match stats {
            Some(r) => {
                row["condition_number"] = json!(r.condition_number);
                row["max_stable_learning_rate"] = json!(r.max_stable_learning_rate);
                row["gd_steps_to_1e-6"] = json!(r.gd_steps_to_1e_minus_6);
                row["momentum_steps_to_1e-6"] = json!(r.momentum_steps_to_1e_minus_6);
            }
            None => row["statement"] = json!("no minimum with positive curvature in range"),
        }
        rows.push(row);
    }
    Ok(rows)
}

/// Condition number and learning-rate limits for every transform, as a table.
fn transform_table(args: &AnalyzeArgs, problem: &settings::Problem) -> Result<()> {
    let rows = transform_rows(problem, &args.grid)?;
    if args.json {
        say!("{}", serde_json::to_string_pretty(&rows)?)?;
        return Ok(());
    }
    say!(
        "{:<10} {:>10} {:>12} {:>10} {:>14}",
        "transform",
        "condition",
        "stable lr <",
        "gd steps",
        "momentum steps"
    )?;
    for row in &rows {
        match row["statement"].as_str() {
            Some(s) => say!("{:<10} {s}", row["transform"].as_str().unwrap_or(""))?,
            None => say!(
                "{:<10} {:>10} {:>12} {:>10} {:>14}",
                row["transform"].as_str().unwrap_or(""),
                num(&row["condition_number"]),
                num(&row["max_stable_learning_rate"]),
                count(&row["gd_steps_to_1e-6"]),
                count(&row["momentum_steps_to_1e-6"])
            )?,
        }
    }
    say!("(gd and momentum steps: at their best settings, to shrink the error by 1e-6)")?;
    Ok(())
}
