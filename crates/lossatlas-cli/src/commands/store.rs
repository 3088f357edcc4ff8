//! `lossatlas store`: landscape stores made with `--store DIR`. How far one has got, joining the
//! stores of separate shards, and the figures and exports of a finished store, drawn without the
//! model or data that made it (`contour --from-store` and `surface --from-store` read a store
//! the same way, through [`finished`]).

use std::path::Path;

use anyhow::{bail, Result};
use lossatlas::store::LandscapeStore;
use lossatlas::Landscape;

use super::maps::{MapText, Maps};
use crate::args::{StoreCommand, StoreDrawArgs, StoreInfoArgs, StoreMergeArgs};
use crate::settings;

pub fn run(command: StoreCommand) -> Result<()> {
    match command {
        StoreCommand::Info(args) => info(&args),
        StoreCommand::Merge(args) => merge(&args),
        StoreCommand::Draw(args) => draw(&args),
    }
}

fn info(args: &StoreInfoArgs) -> Result<()> {
    let store = LandscapeStore::open(&args.dir)?;
    let grid = store.grid()?;
    let (done, total) = (store.chunk_count() - store.missing().len(), store.chunk_count());
    say!("store {}", args.dir.display())?;
    for (key, value) in store.definition() {
        say!("  {key}: {}", value.as_str().map_or_else(|| value.to_string(), str::to_string))?;
    }
    let (u, v) = (grid.u(), grid.v());
    say!(
        "  grid: {} from {} to {} ({} points) x {} from {} to {} ({} points)",
        u.name(),
        u.min(),
        u.max(),
        u.n(),
        v.name(),
        v.min(),
        v.max(),
        v.n()
    )?;
    say!("  chunks: {done} of {total} finished ({:.1}%)", 100.0 * done as f64 / total as f64)?;
    let missing = store.missing();
    if !missing.is_empty() {
        let shown: Vec<String> = missing.iter().take(12).map(|c| c.to_string()).collect();
        let more =
            if missing.len() > 12 { format!(", ... ({} more)", missing.len() - 12) } else { String::new() };
        say!("  missing: {}{more}", shown.join(", "))?;
    }
    Ok(())
}

fn merge(args: &StoreMergeArgs) -> Result<()> {
    let into = LandscapeStore::open(&args.into)?;
    for from in &args.from {
        let copied = into.merge_from(&LandscapeStore::open(from)?)?;
        eprintln!("took {copied} chunk(s) from {}", from.display());
    }
    let missing = into.missing().len();
    say!(
        "store {}: {} of {} chunks finished",
        args.into.display(),
        into.chunk_count() - missing,
        into.chunk_count()
    )?;
    Ok(())
}

fn draw(args: &StoreDrawArgs) -> Result<()> {
    let (contours, surfaces) = (settings::outputs(&args.outputs)?, settings::outputs(&args.surface_outputs)?);
    let maps = Maps {
        contours: &contours,
        surfaces: &surfaces,
        exports: settings::landscape_output(args.export_landscape.as_ref())?.into_iter().collect(),
    };
    if maps.is_empty() {
        bail!("nothing to write: give -o FILE.png|.svg, --surface FILE or --export-landscape FILE");
    }
    let levels = settings::parse_levels(&args.levels, 200)?;
    let (landscape, title) = finished(&args.dir)?;
    let levels = levels.resolve(&landscape);
    let [x, y] = landscape.plane().names().clone();
    maps.write(
        &landscape,
        levels,
        &MapText { title: &title, map_axes: [&x, &y], surface_axes: [&x, &y] },
        Vec::new(),
    )?;
    Ok(())
}

/// A finished store's landscape, read without the model or data that made it, and its title (as
/// recorded, or naming the store): what `store draw`, `contour --from-store` and
/// `surface --from-store` draw.
pub(super) fn finished(dir: &Path) -> Result<(Landscape, String)> {
    let store = LandscapeStore::open(dir)?;
    let landscape = store.landscape()?;
    super::warn_non_finite(&landscape);
    super::require_finite(&landscape)?;
    let title = store
        .definition()
        .get("title")
        .and_then(|t| t.as_str())
        .map_or_else(|| format!("landscape of store {}", dir.display()), str::to_string);
    Ok((landscape, title))
}
