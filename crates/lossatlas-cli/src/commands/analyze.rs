//! `lossatlas analyze`: the numbers behind a landscape, as a table or JSON. Both are printed from
//! one typed report ([`lossatlas::report::Report`]), which the page and the server also use.

use anyhow::Result;
use lossatlas::analysis::{curvature_at_minimum, StepSizeReport};
use lossatlas::evaluate;
use lossatlas::report::{report, Report};
use serde::Serialize;

use crate::args::AnalyzeArgs;
use crate::problem::{Problem, Setup};

pub fn run(args: &AnalyzeArgs) -> Result<()> {
    let problem = Problem::from_args(&args.problem)?;
    if args.transforms {
        return transform_table(args, &problem);
    }
    let setup = Setup::with_problem(problem, args.transform.parse()?, &args.problem, &args.grid)?;
    let title = super::default_title(&setup.problem, setup.transform, &setup.plane);
    let Some(landscape) = super::grid::formula_landscape(&args.store, &setup, &title)? else {
        return Ok(());
    };
    let report = report(&setup.objective, &landscape, setup.transform);
    if args.json {
        say!("{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        print_report(&report)?;
    }
    Ok(())
}

fn fmt(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let s = if x != 0.0 && (x.abs() >= 1e5 || x.abs() < 1e-3) {
        format!("{x:.4e}")
    } else {
        format!("{x:.6}").trim_end_matches('0').trim_end_matches('.').to_string()
    };
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), fmt)
}

fn list(xs: &[f64]) -> String {
    xs.iter().map(|&x| fmt(x)).collect::<Vec<_>>().join(", ")
}

/// `name = value` pairs, at most `MAX_LISTED` of them, then how many more.
fn named(names: &[String], values: &[f64]) -> String {
    const MAX_LISTED: usize = 8;
    let mut parts: Vec<String> =
        names.iter().zip(values).take(MAX_LISTED).map(|(n, v)| format!("{n} = {}", fmt(*v))).collect();
    if values.len() > MAX_LISTED {
        parts.push(format!("... ({} more; see --json)", values.len() - MAX_LISTED));
    }
    parts.join(", ")
}

fn print_report(r: &Report<'_>) -> Result<()> {
    say!(
        "model      y = {}   loss {}   data {} ({} rows)   transform {}",
        r.model,
        r.loss,
        r.data.name,
        r.data.rows,
        r.transform
    )?;
    say!("plane      {} by {} ({} parameters)", r.plane.axes[0], r.plane.axes[1], r.params.len())?;
    let Some(m) = &r.minimum else {
        say!("{}", r.statement.as_deref().unwrap_or(""))?;
        return Ok(());
    };
    let how = match m.found_by.iterations {
        Some(i) => format!("{}, {i} iterations", m.found_by.method),
        None => m.found_by.method.clone(),
    };
    say!("minimum    {}   loss {}   ({how})", named(&r.params, &m.at), fmt(m.loss))?;
    say!("           gradient norm {}", fmt(m.gradient_norm))?;
    if r.params.len() > 2 || m.distance_from_plane > 0.0 {
        say!("           on the plane at ({}), {} from it", list(&m.plane_at), fmt(m.distance_from_plane))?;
    }
    if !m.inside_range {
        say!("           note: the minimum lies outside the drawn range")?;
    }
    if let Some(rows) = r.hessian.as_ref().filter(|h| h.len() <= 8) {
        for (i, row) in rows.iter().enumerate() {
            say!("{}[ {} ]", if i == 0 { "Hessian    " } else { "           " }, list(row))?;
        }
    }
    if let (Some(vals), Some(vecs)) = (&r.eigenvalues, &r.eigenvectors) {
        if vals.len() <= 8 {
            for (i, (val, vec)) in vals.iter().zip(vecs).enumerate() {
                say!(
                    "{}{}  along ({})",
                    if i == 0 { "eigen      " } else { "           " },
                    fmt(*val),
                    list(vec)
                )?;
            }
        } else {
            say!(
                "eigen      {} eigenvalues from {} to {}",
                vals.len(),
                fmt(vals[0]),
                fmt(vals[vals.len() - 1])
            )?;
        }
    }
    if let (Some(kappa), Some(gd), Some(mo)) = (r.condition_number, &r.gradient_descent, &r.momentum) {
        say!("condition  {}", fmt(kappa))?;
        say!(
            "gd         stable for lr < {} (2 / lambda_max); best lr {} contracts the error by {} a step, {} steps to 1e-6",
            fmt(gd.max_stable_learning_rate),
            fmt(gd.best_learning_rate),
            fmt(gd.contraction_per_step),
            steps(gd.steps_to_shrink_error)
        )?;
        say!(
            "momentum   best lr {} with momentum {} contracts by {} a step, {} steps to 1e-6",
            fmt(mo.best_learning_rate),
            fmt(mo.best_momentum),
            fmt(mo.contraction_per_step),
            steps(mo.steps_to_shrink_error)
        )?;
    }
    if let Some(c) = r.plane_curvature.as_ref().filter(|_| r.params.len() > 2) {
        say!(
            "plane      Hessian on the plane at ({}): [[{}], [{}]] ({}), eigenvalues {}, condition {}",
            list(&c.at),
            list(&c.hessian[0]),
            list(&c.hessian[1]),
            c.method,
            list(&c.eigenvalues),
            opt(c.condition_number)
        )?;
    }
    if let Some(statement) = &r.statement {
        say!("note       {statement}")?;
    }
    say!("critical points on the plane, in range: {}", r.critical_points.len())?;
    for p in &r.critical_points {
        say!(
            "  {:<10} {}   loss {}   eigenvalues {}",
            p.kind,
            named(&r.params, &p.at),
            fmt(p.loss),
            list(&p.eigenvalues)
        )?;
    }
    Ok(())
}

/// A whole number of steps.
fn steps(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.0}")
    } else {
        "-".into()
    }
}

/// One row of the transform comparison.
#[derive(Debug, Clone, Serialize)]
pub struct TransformRow {
    /// The transform's name.
    pub transform: &'static str,
    /// What it does.
    pub description: &'static str,
    /// lambda_max / lambda_min at the minimum.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition_number: Option<f64>,
    /// 2 / lambda_max.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_stable_learning_rate: Option<f64>,
    /// Gradient descent's steps to 1e-6 at its best rate.
    #[serde(rename = "gd_steps_to_1e-6", skip_serializing_if = "Option::is_none")]
    pub gd_steps: Option<f64>,
    /// Momentum's steps to 1e-6 at its best settings.
    #[serde(rename = "momentum_steps_to_1e-6", skip_serializing_if = "Option::is_none")]
    pub momentum_steps: Option<f64>,
    /// Why there are no numbers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
}

/// Condition number, learning-rate limit and predicted step counts for every input transform (a
/// transform that cannot apply gets a `statement`).
pub fn transform_rows(problem: &Problem, args: &AnalyzeArgs) -> Result<Vec<TransformRow>> {
    let mut rows = Vec::new();
    for t in lossatlas::Transform::ALL {
        let mut row = TransformRow {
            transform: t.name(),
            description: t.description(),
            condition_number: None,
            max_stable_learning_rate: None,
            gd_steps: None,
            momentum_steps: None,
            statement: None,
        };
        let setup = match Setup::with_problem(problem.clone(), t, &args.problem, &args.grid) {
            Ok(s) => s,
            Err(e) => {
                row.statement = Some(format!("{e:#}"));
                rows.push(row);
                continue;
            }
        };
        let landscape = evaluate(&setup.objective, &setup.plane, &setup.grid)?;
        match curvature_at_minimum(&setup.objective, &landscape)
            .and_then(|(_, e)| StepSizeReport::from_eigen(&e))
        {
            Some(r) => {
                row.condition_number = Some(r.condition_number);
                row.max_stable_learning_rate = Some(r.max_stable_learning_rate);
                row.gd_steps = Some(r.gd_steps_to_1e_minus_6);
                row.momentum_steps = Some(r.momentum_steps_to_1e_minus_6);
            }
            None => row.statement = Some("no minimum with positive curvature in range".into()),
        }
        rows.push(row);
    }
    Ok(rows)
}

/// Condition number and learning-rate limits for every transform, as a table.
fn transform_table(args: &AnalyzeArgs, problem: &Problem) -> Result<()> {
    let rows = transform_rows(problem, args)?;
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
        match &row.statement {
            Some(s) => say!("{:<10} {s}", row.transform)?,
            None => say!(
                "{:<10} {:>10} {:>12} {:>10} {:>14}",
                row.transform,
                opt(row.condition_number),
                opt(row.max_stable_learning_rate),
                row.gd_steps.map_or_else(|| "-".into(), steps),
                row.momentum_steps.map_or_else(|| "-".into(), steps)
            )?,
        }
    }
    say!("(gd and momentum steps: at their best settings, to shrink the error by 1e-6)")?;
    Ok(())
}
