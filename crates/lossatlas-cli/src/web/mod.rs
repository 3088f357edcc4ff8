//! The interactive landscape page as `lossatlas page` writes it and `lossatlas serve` serves it.
//! The page itself (template, script, styles and the typed views it reads) is
//! `lossatlas_render::page`, shared with the Python package; this module adds what only the
//! command line has: the scenes of the live page's menu and the server's limits.

pub mod api;
pub mod cases;
pub mod http;
pub mod server;

pub use lossatlas_render::page::{
    color_of, nice_levels, page, page_values, round, run_paths, LandscapeView, Mode, NetworkView, PathEnd,
    PathView,
};
use lossatlas_render::page::{Limits, SceneEntry};
use serde_json::Value;

/// The whole island (see [`lossatlas_render::page::page_data`]) with `scenes` in the live page's
/// menu and this server's limits.
pub fn page_data(
    mode: Mode,
    scenes: &[&cases::Scene],
    landscape: Value,
    paths: Value,
    lr: f64,
    selected: &[&str],
) -> Value {
    let entries: Vec<SceneEntry> =
        scenes.iter().map(|c| SceneEntry { name: &c.name, title: &c.title }).collect();
    let limits = Limits { max_steps: api::MAX_STEPS, max_lr: api::MAX_LR };
    lossatlas_render::page::page_data(mode, &entries, landscape, paths, lr, selected, limits)
}
