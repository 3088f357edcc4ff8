//! The interactive landscape page, shared by `lossatlas page` (one self-contained file) and
//! `lossatlas serve` (the same page, live): a hand-written canvas renderer (`page.js`) and its
//! styles (`page.css`), inlined into `page.html` with the data as a JSON island, so the page makes
//! no network request of its own (the live page asks only its own server, for new paths and
//! landscapes).

pub mod api;
pub mod cases;
pub mod http;
pub mod server;

use lossatlas::{
    Landscape, Objective, OptimizerSpec, Plane, RunOptions, Stopped, Trajectory, OPTIMIZER_NAMES,
};
use lossatlas_render::PATH_COLORS;
use serde_json::{json, Value};

const TEMPLATE: &str = include_str!("page.html");
const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// Whether the page can ask a server for new paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A file: everything it shows is inside it.
    Static,
    /// Served by `lossatlas serve`: clicks and sliders ask the server.
    Live,
}

/// The page with `data` inlined. `data` is the JSON island the script reads (see [`page_data`]).
pub fn page(data: &Value) -> String {
    let title = data["landscape"]["title"].as_str().unwrap_or("loss landscape");
    // `<` never appears outside JSON strings, so escaping it keeps `</script>` out of the island.
    let island = data.to_string().replace('<', "\\u003c");
    let title = html_escape(&format!("lossatlas: {title}"));
    // One pass over the template, markers in order, so no inserted text is searched again.
    let parts =
        [("{{title}}", title.as_str()), ("{{style}}", STYLE), ("{{data}}", &island), ("{{script}}", SCRIPT)];
    let mut out = String::with_capacity(TEMPLATE.len() + STYLE.len() + SCRIPT.len() + island.len());
    let mut rest = TEMPLATE;
    for (marker, value) in parts {
        let (before, after) = rest.split_once(marker).expect("page.html holds every marker once, in order");
        out.push_str(before);
        out.push_str(value);
        rest = after;
    }
    out.push_str(rest);
    out
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The whole island: the landscape view, the precomputed paths and what the controls offer.
pub fn page_data(
    mode: Mode,
    scenes: &[&cases::Scene],
    landscape: Value,
    paths: Value,
    lr: f64,
    selected: &[&str],
) -> Value {
    let cases: Vec<Value> = scenes.iter().map(|c| json!({"name": c.name, "title": c.title})).collect();
    let transforms: Vec<Value> = lossatlas::Transform::ALL
        .iter()
        .map(|t| json!({"name": t.name(), "description": t.description()}))
        .collect();
    let optimizers: Vec<Value> = OPTIMIZER_NAMES
        .iter()
        .map(|name| {
            let settings: Vec<String> = OptimizerSpec::parse(name)
                .map(|spec| spec.settings().into_iter().map(|(k, v)| format!("{k}={v}")).collect())
                .unwrap_or_default();
            json!({"name": name, "color": color_of(name), "settings": settings})
        })
        .collect();
    json!({
        "mode": match mode { Mode::Static => "static", Mode::Live => "live" },
        "version": env!("CARGO_PKG_VERSION"),
        "cases": cases,
        "transforms": transforms,
        "optimizers": optimizers,
        "controls": {
            "optimizers": selected,
            "lr": lr,
            "momentum": 0.9,
            "steps": 400,
            "max_steps": api::MAX_STEPS,
            "max_lr": api::MAX_LR,
        },
        "landscape": landscape,
        "paths": paths,
    })
}

/// `x` to `digits` significant digits (non-finite values and zero unchanged): the page shows
/// 4 or 5 digits, and shorter numbers keep it small.
pub fn round(x: f64, digits: usize) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    format!("{:.*e}", digits.saturating_sub(1), x).parse().unwrap_or(x)
}

/// The landscape as the page draws it: axes, rounded values (null where not finite), levels,
/// the colour scale and `extra` fields (analysis, titles) merged in.
pub fn landscape_json(landscape: &Landscape, levels: &[f64], extra: Value) -> Value {
    let axis = |a: &lossatlas::Axis| json!({"name": a.name(), "min": a.min(), "max": a.max(), "n": a.n()});
    let values: Vec<Value> = landscape.values().iter().map(|&v| json!(round(v, 4))).collect();
    let (lo, hi) = landscape.finite_range().unwrap_or((0.0, 1.0));
    let mut out = json!({
        "params": [landscape.u().name(), landscape.v().name()],
        "u": axis(landscape.u()),
        "v": axis(landscape.v()),
        "values": values,
        "range": [lo, hi],
        "levels": levels,
        "log_color": lo > 0.0 && hi / lo > 100.0,
        "non_finite": landscape.non_finite_count(),
    });
    if let (Some(out), Value::Object(extra)) = (out.as_object_mut(), extra) {
        out.extend(extra);
    }
    out
}

/// `count` automatic levels, rounded to two significant digits so their labels read well.
pub fn nice_levels(landscape: &Landscape, count: usize) -> Vec<f64> {
    let mut levels: Vec<f64> =
        lossatlas::auto_levels(landscape, count).into_iter().map(|l| round(l, 2)).collect();
    levels.dedup();
    levels
}

/// The colour of an optimizer's paths (the figures' palette, one colour per algorithm).
pub fn color_of(name: &str) -> String {
    let index = OPTIMIZER_NAMES.iter().position(|n| *n == name).unwrap_or(0);
    let c = PATH_COLORS[index % PATH_COLORS.len()];
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// Runs every optimizer from the point (u, v) = `start` of `plane` (in the full parameter space)
/// and returns the paths as the page draws them: projected onto the plane.
pub fn run_paths(
    objective: &Objective,
    plane: &Plane,
    specs: &[OptimizerSpec],
    start: [f64; 2],
    steps: usize,
) -> lossatlas::Result<Vec<Value>> {
    let theta = plane.point(start[0], start[1]);
    let options = RunOptions { max_steps: steps, ..RunOptions::default() };
    // Two runs of one algorithm (gd at two learning rates) get colours by position instead.
    let mut names: Vec<&str> = specs.iter().map(|s| s.name()).collect();
    names.sort_unstable();
    let repeated = names.windows(2).any(|w| w[0] == w[1]);
    specs
        .iter()
        .enumerate()
        .map(|(k, spec)| {
            let trajectory = lossatlas::run(objective, spec, &theta, &options)?;
            let color = if repeated {
                let c = PATH_COLORS[k % PATH_COLORS.len()];
                format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
            } else {
                color_of(spec.name())
            };
            Ok(path_json(spec, &trajectory, plane, &color))
        })
        .collect()
}

/// One path: its finite points as [u, v, loss, off-plane distance] (6 significant digits), how it
/// ended, and its label.
pub fn path_json(spec: &OptimizerSpec, trajectory: &Trajectory, plane: &Plane, color: &str) -> Value {
    let finite: Vec<&lossatlas::Step> = trajectory
        .steps()
        .iter()
        .take_while(|s| s.params.iter().all(|p| p.is_finite()) && s.loss.is_finite())
        .collect();
    let points: Vec<Value> = finite
        .iter()
        .map(|s| {
            let (u, v) = plane.project(&s.params);
            json!([round(u, 6), round(v, 6), round(s.loss, 6), round(plane.distance(&s.params), 4)])
        })
        .collect();
    let last = trajectory.last();
    let settings: serde_json::Map<String, Value> =
        spec.settings().into_iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    json!({
        "optimizer": spec.name(),
        "label": spec.label(),
        "settings": settings,
        "color": color,
        "stopped": trajectory.stopped().name(),
        "diverged": trajectory.stopped() == Stopped::Diverged,
        "steps": last.step,
        "points": points,
        "final": {"params": last.params, "loss": json!(last.loss)},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_keeps_significant_digits() {
        assert_eq!(round(0.133_846_2, 4), 0.1338);
        assert_eq!(round(123_456.0, 4), 123_500.0);
        assert_eq!(round(-2.0e-9 / 3.0, 3), -6.67e-10);
        assert!(round(f64::NAN, 4).is_nan());
        assert_eq!(round(0.0, 4), 0.0);
    }

    #[test]
    fn the_island_cannot_close_its_script_tag() {
        let data = json!({"landscape": {"title": "a </script><script>alert(1)</script>"}});
        let html = page(&data);
        assert_eq!(html.matches("</script>").count(), 2, "only the island's and the script's own");
        assert!(html.contains("lossatlas: a &lt;/script&gt;"));
    }
}
