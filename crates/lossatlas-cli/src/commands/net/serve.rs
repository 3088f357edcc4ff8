//! `lossatlas net serve`: a network's plane on the live page. The landscape is the network's loss
//! over the plane; a click starts the chosen optimizers there, and they run full-batch in all
//! of the network's weights, their paths drawn projected on the plane with each step's distance
//! from it, as the formula pages draw paths of models with more than two parameters.

use std::time::Instant;

use anyhow::{bail, Result};
use lossatlas::{Landscape, OptimizerSpec, Plane, Stopped};
use serde_json::json;

use super::{load_data, load_network, network_plane, page_view, NetData, Network, Objective};
use crate::args::NetServeArgs;
use crate::commands::serve::{listen, Site};
use crate::problem::{grid_over, ranges};
use crate::web::api::{spec, LandscapeRequest, PathsRequest, DEFAULT_RESOLUTION};
use crate::web::{self, color_of, Mode, PathEnd, PathView};

/// The optimizers the page starts with, and their learning rate.
const OPTIMIZERS: [&str; 3] = ["gd", "momentum", "adam"];
const LEARNING_RATE: f64 = 0.05;
/// Steps of the first paths, from the start the page opens with.
const FIRST_STEPS: usize = 200;

pub fn run(args: &NetServeArgs) -> Result<()> {
    let loaded = load_network(&args.weights, &args.activation, &args.data)?;
    let (mlp, weights) = (loaded.mlp, loaded.params);
    let data = load_data(&args.data, mlp.outputs())?;
    let objective = Objective::new(&mlp, &data.train, &args.data.precision)?;
    let (plane, how) = network_plane(&mlp, &weights, args.directions.as_deref(), &args.random)?;
    let given = ranges(&args.ranges, &plane)?;
    let range = [given[0].unwrap_or((-1.0, 1.0)), given[1].unwrap_or((-1.0, 1.0))];
    let site =
        NetworkSite { page: String::new(), network: Network::Mlp(mlp), data, objective, plane, how, range };
    let page = site.first_page()?;
    listen(&args.host, args.port, NetworkSite { page, ..site })
}

/// A network, its data and a plane through its weights.
struct NetworkSite {
    page: String,
    network: Network,
    data: NetData,
    objective: Objective,
    plane: Plane,
    /// How the plane was chosen, for the page.
    how: String,
    /// The (u, v) range the page opens with.
    range: [(f64, f64); 2],
}

impl NetworkSite {
    /// The landscape over `range` at `resolution` points a side, as the page's JSON.
    fn view(
        &self,
        range: [(f64, f64); 2],
        resolution: usize,
        start: Option<[f64; 2]>,
    ) -> Result<serde_json::Value> {
        let grid = grid_over([Some(range[0]), Some(range[1])], (resolution, resolution), &self.plane)?;
        let (us, vs) = (grid.u().values(), grid.v().values());
        let (d1, d2) = self.plane.directions();
        let values = self.objective.plane(self.plane.origin(), d1, d2, &us, &vs)?;
        let landscape = Landscape::from_values(grid, self.plane.clone(), values.loss)?;
        crate::commands::require_finite(&landscape)?;
        let centre = self.objective.evaluate(self.plane.origin())?;
        let title = format!("{} ({})", super::describe(&self.network, &self.data), self.how);
        let view = page_view(&landscape, title, &self.network, &self.data, self.how.clone(), centre, start);
        Ok(serde_json::to_value(&view)?)
    }

    /// The page with the default landscape and the default optimizers' paths from a point near a
    /// corner, so the first picture shows paths finding their way to the trained weights.
    fn first_page(&self) -> Result<String> {
        let [(u0, u1), (v0, v1)] = self.range;
        let start = [u0 + 0.8 * (u1 - u0), v0 + 0.8 * (v1 - v0)];
        let view = self.view(self.range, DEFAULT_RESOLUTION.min(61), Some(start))?;
        let specs =
            OPTIMIZERS.iter().map(|n| Ok(spec(n, LEARNING_RATE, 0.9)?)).collect::<Result<Vec<_>>>()?;
        let paths = self.run_paths(&specs, start, FIRST_STEPS)?;
        let data =
            web::page_data(Mode::Live, &[], view, serde_json::to_value(&paths)?, LEARNING_RATE, &OPTIMIZERS);
        Ok(web::page(&data))
    }

    /// Each optimizer run full-batch from the plane's point `start` for at most `steps` steps.
    fn run_paths(&self, specs: &[OptimizerSpec], start: [f64; 2], steps: usize) -> Result<Vec<PathView>> {
        specs.iter().map(|spec| self.run_path(spec, start, steps)).collect()
    }

    fn run_path(&self, spec: &OptimizerSpec, start: [f64; 2], steps: usize) -> Result<PathView> {
        let n = self.plane.dim();
        let mut theta = self.plane.point(start[0], start[1]);
        let mut optimizer = spec.build(n);
        let mut grad = vec![0.0; n];
        let mut points = Vec::with_capacity(steps + 1);
        let mut stopped = Stopped::MaxSteps;
        let mut taken = 0;
        let mut last_loss = None;
        for step in 0..=steps {
            let e = self.objective.gradient(&theta, &mut grad)?;
            if !e.loss.is_finite() || grad.iter().any(|g| !g.is_finite()) {
                stopped = Stopped::Diverged;
                break;
            }
            let (u, v) = self.plane.project(&theta);
            let r = web::round;
            points.push([r(u, 6), r(v, 6), r(e.loss, 6), r(self.plane.distance(&theta), 4)]);
            last_loss = Some(e.loss);
            taken = step;
            if step == steps {
                break;
            }
            optimizer.step(&mut theta, &grad);
        }
        let end = points.last().map_or(Vec::new(), |p| vec![p[0], p[1]]);
        Ok(PathView {
            optimizer: spec.name(),
            label: spec.label(),
            settings: spec.settings().into_iter().map(|(k, v)| (k.to_string(), json!(v))).collect(),
            color: color_of(spec.name()),
            stopped: stopped.name(),
            diverged: stopped == Stopped::Diverged,
            steps: taken,
            points,
            end: PathEnd { params: end, loss: last_loss },
        })
    }
}

impl Site for NetworkSite {
    fn page(&self) -> &str {
        &self.page
    }

    fn landscape(&self, request: LandscapeRequest) -> Result<serde_json::Value> {
        if !request.case.is_empty() && request.case != "network" {
            bail!("unknown case `{}`; this server shows one network (case `network`)", request.case);
        }
        self.view(request.range.unwrap_or(self.range), request.resolution, None)
    }

    fn paths(&self, request: PathsRequest) -> Result<serde_json::Value> {
        let began = Instant::now();
        let paths = self.run_paths(&request.optimizers, request.start, request.steps)?;
        Ok(json!({
            "case": "network",
            "transform": "none",
            "start": request.start,
            "steps": request.steps,
            "paths": paths,
            "compute_ms": began.elapsed().as_secs_f64() * 1e3,
        }))
    }
}
