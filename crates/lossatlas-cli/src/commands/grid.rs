//! How a command's grid of losses is computed: in memory (under a progress bar when it is
//! large), or chunk by chunk into a landscape store (`--store DIR`), resuming what is there,
//! computing only the chunks of `--shard I/N`, and sharing them over the ranks of an MPI run.
//! Every grid command, formula or network, goes through here, so the flags mean the same
//! everywhere and memory is bounded by the chunk, not the grid, whenever a store is used.

use std::ops::Range;
use std::path::Path;

use anyhow::{anyhow, bail, Result};
use lossatlas::store::{fingerprint, LandscapeStore, Shard};
use lossatlas::{evaluate_rows, GridSpec, Landscape, Objective, Plane};
use serde_json::{Map, Value};

use crate::args::{GridArgs, ProblemArgs, StoreArgs};
use crate::problem::Setup;
use crate::progress;
use crate::ranks::{self, Ranks};

/// Grid points per store chunk: small enough that a killed run loses little and memory stays
/// bounded by the chunk, large enough that the per-run setup (a network's first-layer products,
/// paid once per run, not per chunk) and the file count stay modest.
const STORE_CHUNK_POINTS: usize = 4096;

/// Grid points between two updates of a large in-memory grid's progress bar.
const PROGRESS_BLOCK_POINTS: usize = 65_536;

/// Computes the values of one chunk's grid rows (indices along v), row by row.
pub(super) type ChunkFn<'a> = Box<dyn Fn(Range<usize>) -> lossatlas::Result<Vec<f64>> + 'a>;

/// The landscape a command computes: what defines it (recorded in a store, and checked when a
/// run resumes it), its plane and its grid.
pub(super) struct Job<'a> {
    pub definition: Map<String, Value>,
    pub plane: &'a Plane,
    pub grid: &'a GridSpec,
}

/// The grid's values, row by row. Without `--store`, `whole` computes them. With it, this
/// process computes the missing chunks of its shard (and, under MPI, of its rank) with the
/// function `prepare` makes, which is called only when there is work, so a finished store costs
/// no setup; each chunk is written as soon as it is done.
///
/// Returns `None` when this process has nothing to draw: the store still lacks other shards'
/// chunks, or this is an MPI rank other than 0.
pub(super) fn values<'a>(
    args: &StoreArgs,
    job: Job,
    whole: impl FnOnce() -> Result<Vec<f64>>,
    prepare: impl FnOnce() -> Result<ChunkFn<'a>>,
) -> Result<Option<Vec<f64>>> {
    let ranks = ranks::current();
    let Some(dir) = &args.store else {
        if ranks.size > 1 {
            bail!("under mpirun the ranks share the chunks of a store: give --store DIR");
        }
        return whole().map(Some);
    };
    let shard = args.shard.as_deref().map(Shard::parse).transpose()?.unwrap_or(Shard::ALL);
    let rows_per_chunk = (STORE_CHUNK_POINTS / job.grid.u().n()).max(1);
    let open = || -> Result<LandscapeStore> {
        let store = LandscapeStore::create_or_resume(
            dir,
            job.definition.clone(),
            job.plane,
            job.grid,
            rows_per_chunk,
        )?;
        if store.missing().iter().any(|&c| shard.owns(c)) {
            store.check_writable()?;
        }
        Ok(store)
    };
    // Rank 0 creates the store (or resumes it) before the other ranks open what it made.
    let first = together(ranks, if ranks.leads() { open().map(Some) } else { Ok(None) })?;
    let then = together(ranks, if first.is_none() { open().map(Some) } else { Ok(None) })?;
    let store = first.or(then).expect("every rank opened the store once");

    let computed = fill(&store, shard, ranks, prepare);
    let computed = ranks.sum(together(ranks, computed)?);
    if !ranks.leads() {
        return Ok(None);
    }
    let missing = store.missing().len();
    if missing > 0 {
        say!(
            "store {}: computed {computed} chunk(s) as shard {}/{}; {missing} of {} chunks are still to do \
             (by the other shards); figures and exports come from the run that completes it, or from \
             `lossatlas store draw`",
            dir.display(),
            shard.index,
            shard.count,
            store.chunk_count()
        )?;
        return Ok(None);
    }
    eprintln!("store {}: computed {computed} chunk(s); complete", dir.display());
    Ok(Some(store.values()?))
}

/// Computes this process's missing chunks of `shard` (its rank's part of them under MPI), with the
/// function `prepare` makes when there are any. Returns how many it computed.
fn fill<'a>(
    store: &LandscapeStore,
    shard: Shard,
    ranks: Ranks,
    prepare: impl FnOnce() -> Result<ChunkFn<'a>>,
) -> Result<usize> {
    let part = shard.split(ranks.rank, ranks.size);
    if !store.missing().iter().any(|&c| part.owns(c)) {
        return Ok(0);
    }
    let chunk = prepare()?;
    // The bar counts the chunks the whole run does (every rank's, under MPI).
    let run: Vec<usize> = store.missing().into_iter().filter(|&c| shard.owns(c)).collect();
    let bar = progress::bar(run.len() as u64, "chunks");
    Ok(store.fill(part, chunk, |done, _| {
        if ranks.size > 1 {
            bar.set_position(run.iter().filter(|&&c| store.is_done(c)).count() as u64);
        } else {
            bar.set_position(done as u64);
        }
    })?)
}

/// `result`, once every rank has come this far: a rank whose own step worked but another's
/// failed stops too (the failing rank says why), so no rank waits for one that is gone.
fn together<T>(ranks: Ranks, result: Result<T>) -> Result<T> {
    let all_ok = ranks.all_ok(result.is_ok());
    match result {
        Ok(_) if !all_ok => Err(anyhow!(
            "rank {} stopped because another rank of this MPI run failed (its message says why)",
            ranks.rank
        )),
        other => other,
    }
}

/// Where a figure command's landscape comes from: a finished store, or computed here (into a
/// store when `store` names one).
pub(super) struct Source<'a> {
    pub from_store: Option<&'a Path>,
    pub store: &'a StoreArgs,
}

/// A landscape to draw, its default title, and the objective when it was computed here.
pub(super) struct Drawn {
    pub landscape: Landscape,
    pub title: String,
    pub objective: Option<Objective>,
}

/// The landscape `contour` and `surface` draw: read from a finished store without the model, or
/// computed from the problem's flags. `None` when this process has nothing to draw.
pub(super) fn to_draw(
    source: Source,
    problem: &ProblemArgs,
    transform: &str,
    grid: &GridArgs,
) -> Result<Option<Drawn>> {
    if let Some(dir) = source.from_store {
        let (landscape, title) = super::store::finished(dir)?;
        return Ok(Some(Drawn { landscape, title, objective: None }));
    }
    let setup = Setup::new(problem, transform, grid)?;
    let title = super::default_title(&setup.problem, setup.transform, &setup.plane);
    let Some(landscape) = formula_landscape(source.store, &setup, &title)? else {
        return Ok(None);
    };
    super::warn_non_finite(&landscape);
    super::require_finite(&landscape)?;
    Ok(Some(Drawn { landscape, title, objective: Some(setup.objective) }))
}

/// A formula problem's landscape (contour, surface, basins), computed in memory or through a
/// store; `None` when this process has nothing to draw (see [`values`]). `title` is recorded in
/// a store, so that figures drawn from it later say what it is.
pub(super) fn formula_landscape(args: &StoreArgs, setup: &Setup, title: &str) -> Result<Option<Landscape>> {
    let Setup { problem, transform, objective, plane, grid } = setup;
    let data = objective.data();
    let inputs: Vec<f64> = data.inputs().concat();
    let mut definition = Map::new();
    definition.insert("command".into(), "formula grid".into());
    definition.insert("model".into(), problem.model.name().into());
    definition.insert("loss".into(), problem.loss.to_string().into());
    definition.insert("transform".into(), transform.to_string().into());
    definition.insert("data".into(), format!("{} ({} points)", data.name(), data.len()).into());
    definition.insert("inputs".into(), fingerprint(&inputs).into());
    definition.insert("targets".into(), fingerprint(data.y()).into());
    definition.insert("title".into(), title.into());
    let values = values(
        args,
        Job { definition, plane, grid },
        || formula_grid(objective, plane, grid),
        || {
            Ok(Box::new(|rows| {
                let mut values = Vec::new();
                evaluate_rows(objective, plane, grid, rows, &mut values)?;
                Ok(values)
            }))
        },
    )?;
    Ok(values.map(|v| Landscape::from_values(grid.clone(), plane.clone(), v)).transpose()?)
}

/// A formula grid in memory: all at once when it is small, else in blocks of rows under a
/// progress bar (each value the same however the grid is cut).
fn formula_grid(objective: &Objective, plane: &Plane, grid: &GridSpec) -> Result<Vec<f64>> {
    let (nu, nv) = (grid.u().n(), grid.v().n());
    let mut values = Vec::new();
    if nu * nv <= PROGRESS_BLOCK_POINTS {
        evaluate_rows(objective, plane, grid, 0..nv, &mut values)?;
        return Ok(values);
    }
    let rows = (PROGRESS_BLOCK_POINTS / nu).max(1);
    let bar = progress::bar(nv as u64, "rows");
    values.reserve_exact(nu * nv);
    let mut block = Vec::new();
    for start in (0..nv).step_by(rows) {
        let end = (start + rows).min(nv);
        evaluate_rows(objective, plane, grid, start..end, &mut block)?;
        values.extend_from_slice(&block);
        bar.inc((end - start) as u64);
    }
    Ok(values)
}
