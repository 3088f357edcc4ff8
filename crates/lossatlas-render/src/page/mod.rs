//! The interactive landscape page: one self-contained HTML file in which a reader turns the
//! surface, hovers to read the loss and toggles iso-lines, bands and paths. A hand-written canvas
//! renderer (`page.js`) and its styles (`page.css`) are inlined into `page.html` with the data as
//! a JSON island, so the page makes no network request of its own.
//!
//! The command line writes it (`lossatlas page`, `net plane --page`) and serves it live
//! (`lossatlas serve`); the Python package shows it inline in a notebook. This module builds the
//! page from typed views of a landscape ([`LandscapeView`]) and its paths ([`PathView`]); which
//! scenes a live server offers and its limits are the caller's ([`page_data`]).

use lossatlas::{
    Landscape, Objective, OptimizerSpec, Plane, RunOptions, Stopped, Trajectory, OPTIMIZER_NAMES,
};
use serde::Serialize;
use serde_json::{json, Value};

use crate::PATH_COLORS;

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

/// `text` safe inside HTML text and attribute values.
pub fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// What a live page's controls may ask its server for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// The most optimizer steps a path may take.
    pub max_steps: usize,
    /// The largest learning rate the slider offers.
    pub max_lr: f64,
}

/// One entry of a live page's menu of scenes: its name and one-line description.
#[derive(Debug, Clone, Copy)]
pub struct SceneEntry<'a> {
    /// The name the server knows it by.
    pub name: &'a str,
    /// What the menu shows.
    pub title: &'a str,
}

/// The whole island: the landscape view, the precomputed paths and what the controls offer
/// (`scenes` fill a live page's menu; a static page has none).
pub fn page_data(
    mode: Mode,
    scenes: &[SceneEntry<'_>],
    landscape: Value,
    paths: Value,
    lr: f64,
    selected: &[&str],
    limits: Limits,
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
            "max_steps": limits.max_steps,
            "max_lr": limits.max_lr,
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

/// An axis of the page's grid.
#[derive(Debug, Clone, Serialize)]
pub struct AxisView {
    /// The axis name.
    pub name: String,
    /// The first grid value.
    pub min: f64,
    /// The last grid value.
    pub max: f64,
    /// The number of grid points.
    pub n: usize,
}

impl From<&lossatlas::Axis> for AxisView {
    fn from(a: &lossatlas::Axis) -> AxisView {
        AxisView { name: a.name().to_string(), min: a.min(), max: a.max(), n: a.n() }
    }
}

/// What the page and the live server send of a landscape: the grid's values (4 significant
/// digits, null where not finite), levels, colour scale, titles and the analysis report.
#[derive(Debug, Clone, Serialize)]
pub struct LandscapeView<'a> {
    /// The axis names (u, v).
    pub params: [String; 2],
    /// The horizontal axis.
    pub u: AxisView,
    /// The vertical axis.
    pub v: AxisView,
    /// Row-major, rows along v.
    pub values: Vec<Option<f64>>,
    /// The lowest and highest finite value.
    pub range: [f64; 2],
    /// The iso-loss levels drawn.
    pub levels: Vec<f64>,
    /// Whether colours follow the logarithm of the loss (a range over two decades).
    pub log_color: bool,
    /// How many grid values are not finite.
    pub non_finite: usize,
    /// The scene's name.
    pub case: String,
    /// The scene's one-line description.
    pub case_title: String,
    /// The input transform's name.
    pub transform: &'static str,
    /// What the transform does, in words.
    pub transform_description: &'static str,
    /// The page's title.
    pub title: String,
    /// The model, as its formula or its network description.
    pub model: String,
    /// The loss's name.
    pub loss: String,
    /// The formula's data (none for a network, whose data [`NetworkView`] describes).
    pub data: Option<lossatlas::report::DataSummary>,
    /// Where the paths start, (u, v); none when the page has no start to mark.
    pub start: Option<[f64; 2]>,
    /// The learning rate the live page's slider starts at.
    pub lr: f64,
    /// The formula's measurements (`analyze`); none for a network.
    pub analysis: Option<lossatlas::report::Report<'a>>,
    /// What the page says of a network's plane, in place of the analysis.
    pub network: Option<NetworkView>,
}

/// A network plane as the page describes it beside the map: the network, its data, the plane,
/// and the loss at the weights the plane goes through.
#[derive(Debug, Clone, Serialize)]
pub struct NetworkView {
    /// "2-64-64-2 tanh, cross-entropy".
    pub network: String,
    /// How many weights the network has.
    pub weights: usize,
    /// "moons (800 points)".
    pub data: String,
    /// How the plane was chosen, e.g. "filter-normalized random directions, seed 1".
    pub plane: String,
    /// Loss at the plane's origin (the trained weights).
    pub loss: f64,
    /// Accuracy at the plane's origin, for a classifier.
    pub accuracy: Option<f64>,
    /// The lowest loss on the grid and where, (u, v).
    pub lowest: Option<([f64; 2], f64)>,
}

impl<'a> LandscapeView<'a> {
    /// The view of `landscape`'s grid with `levels`, its colour scale chosen from its range
    /// (logarithmic over two decades), and nothing said yet about the model: the callers fill in
    /// the titles, the model and either the formula's analysis or the network's description.
    pub fn of(landscape: &Landscape, levels: Vec<f64>) -> LandscapeView<'a> {
        let grid = landscape.grid();
        let (lo, hi) = landscape.finite_range().unwrap_or((0.0, 1.0));
        LandscapeView {
            params: [grid.u().name().to_string(), grid.v().name().to_string()],
            u: grid.u().into(),
            v: grid.v().into(),
            values: page_values(landscape),
            range: [lo, hi],
            levels,
            log_color: lo > 0.0 && hi / lo > 100.0,
            non_finite: landscape.non_finite_count(),
            case: String::new(),
            case_title: String::new(),
            transform: "none",
            transform_description: "",
            title: String::new(),
            model: String::new(),
            loss: String::new(),
            data: None,
            start: None,
            lr: 0.0,
            analysis: None,
            network: None,
        }
    }

    /// The view of a network's landscape: `network` describes the network and the plane in place
    /// of a formula's analysis, `case_title` names the scene ("2-64-64-2 tanh network on moons"),
    /// and the paths (if any) start at `start`.
    pub fn network(
        landscape: &Landscape,
        title: String,
        case_title: String,
        loss: String,
        network: NetworkView,
        start: Option<[f64; 2]>,
    ) -> LandscapeView<'a> {
        LandscapeView {
            case: "network".into(),
            case_title,
            title,
            model: network.network.clone(),
            loss,
            start,
            network: Some(network),
            ..LandscapeView::of(landscape, nice_levels(landscape, 12))
        }
    }
}

/// The values of `landscape` as the page stores them.
pub fn page_values(landscape: &Landscape) -> Vec<Option<f64>> {
    landscape.values().iter().map(|&v| v.is_finite().then(|| round(v, 4))).collect()
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
) -> lossatlas::Result<Vec<PathView>> {
    let theta = plane.point(start[0], start[1]);
    let options = RunOptions { max_steps: steps, ..RunOptions::default() };
    let trajectories = specs
        .iter()
        .map(|spec| lossatlas::run(objective, spec, &theta, &options))
        .collect::<lossatlas::Result<Vec<_>>>()?;
    Ok(path_views(&trajectories, plane))
}

/// The page's views of `trajectories`, projected on `plane`, each in its optimizer's colour (two
/// runs of one algorithm, gd at two learning rates, get colours by position instead).
pub fn path_views(trajectories: &[Trajectory], plane: &Plane) -> Vec<PathView> {
    let mut names: Vec<&str> = trajectories.iter().map(|t| t.spec().name()).collect();
    names.sort_unstable();
    let repeated = names.windows(2).any(|w| w[0] == w[1]);
    trajectories
        .iter()
        .enumerate()
        .map(|(k, trajectory)| {
            let color = if repeated {
                let c = PATH_COLORS[k % PATH_COLORS.len()];
                format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
            } else {
                color_of(trajectory.spec().name())
            };
            path_view(trajectory.spec(), trajectory, plane, &color)
        })
        .collect()
}

/// Where a path ended.
#[derive(Debug, Clone, Serialize)]
pub struct PathEnd {
    /// Every parameter.
    pub params: Vec<f64>,
    /// The loss there, if finite.
    pub loss: Option<f64>,
}

/// One optimizer's path as the page draws it.
#[derive(Debug, Clone, Serialize)]
pub struct PathView {
    /// The optimizer's name.
    pub optimizer: &'static str,
    /// The legend's label, with the settings.
    pub label: String,
    /// The optimizer's settings by name.
    pub settings: serde_json::Map<String, Value>,
    /// The path's colour, `#rrggbb`.
    pub color: String,
    /// `max_steps`, `converged` or `diverged`.
    pub stopped: &'static str,
    /// Whether the path diverged.
    pub diverged: bool,
    /// How many steps it took.
    pub steps: usize,
    /// The finite steps as [u, v, loss, distance from the plane] (6 and 4 significant digits).
    pub points: Vec<[f64; 4]>,
    /// Where it ended.
    #[serde(rename = "final")]
    pub end: PathEnd,
}

/// One path: its finite points projected on the plane, how it ended, and its label.
pub fn path_view(spec: &OptimizerSpec, trajectory: &Trajectory, plane: &Plane, color: &str) -> PathView {
    let points = trajectory
        .steps()
        .iter()
        .take_while(|s| s.params.iter().all(|p| p.is_finite()) && s.loss.is_finite())
        .map(|s| {
            let (u, v) = plane.project(&s.params);
            [round(u, 6), round(v, 6), round(s.loss, 6), round(plane.distance(&s.params), 4)]
        })
        .collect();
    let last = trajectory.last();
    PathView {
        optimizer: spec.name(),
        label: spec.label(),
        settings: spec.settings().into_iter().map(|(k, v)| (k.to_string(), json!(v))).collect(),
        color: color.to_string(),
        stopped: trajectory.stopped().name(),
        diverged: trajectory.stopped() == Stopped::Diverged,
        steps: last.step,
        points,
        end: PathEnd { params: last.params.clone(), loss: last.loss.is_finite().then_some(last.loss) },
    }
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
