//! A landscape on disk, computed chunk by chunk: a Zarr v3 group that Python's `zarr.open` reads
//! without lossatlas, which an interrupted run resumes and any number of processes (shards, MPI
//! ranks) fill together.
//!
//! Layout of a store folder:
//!
//! - `zarr.json`: the group, its attributes holding what defines the landscape (`definition`:
//!   model, data and direction fingerprints, precision, ...), the grid's axes, the plane's axis
//!   names and kind, the rows per chunk and the lossatlas version.
//! - `loss/`: a float64 array of shape (n_v, n_u), rows along the second direction as in every
//!   export, in chunks of whole rows; `loss/c/J/0` is chunk J.
//! - `origin/`, `d1/`, `d2/`: the plane, float64 vectors, so a finished store makes every figure
//!   and export without the model.
//!
//! A chunk is written to a temporary file and renamed into place when it is complete, so a chunk
//! file that exists is finished, whatever happened to the process that wrote it, and a missing
//! chunk is simply not computed yet. Nothing marks "not computed" with a loss value (a NaN in a
//! finished chunk is a real non-finite loss), and Zarr readers see missing chunks as NaN.
//!
//! Written by hand rather than through the `zarrs` crate: the store needs only uncompressed
//! little-endian chunks of one data type, and it needs each chunk to appear atomically (written
//! whole, then renamed), which is the property resuming after a kill rests on.

use std::fs;
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::landscape::{Axis, GridSpec, Landscape};
use crate::plane::{Plane, PlaneKind};

/// The version written into every store: a store made by another version is still read, but
/// resuming it needs the same definition, which includes this.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What lossatlas keeps in the group's attributes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoreDoc {
    /// Everything that decides the numbers: two runs with equal definitions give equal stores.
    definition: Map<String, Value>,
    /// The grid's axes, u then v.
    axes: [AxisDoc; 2],
    /// The plane's axis names and how it was chosen.
    names: [String; 2],
    kind: PlaneKind,
    rows_per_chunk: usize,
    version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct AxisDoc {
    name: String,
    min: f64,
    max: f64,
    n: usize,
}

impl From<&Axis> for AxisDoc {
    fn from(a: &Axis) -> AxisDoc {
        AxisDoc { name: a.name().to_string(), min: a.min(), max: a.max(), n: a.n() }
    }
}

/// Which chunks one of `count` processes computes: chunk `c` belongs to shard `c % count`, so
/// every shard gets rows from the whole grid and the shards finish at about the same time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This process's shard, from 0.
    pub index: usize,
    /// How many shards share the work.
    pub count: usize,
}

impl Shard {
    /// The whole grid in one process.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Reads `I/N` (shard I of N, counted from 0).
    pub fn parse(text: &str) -> Result<Shard> {
        let bad = || {
            Error::Invalid(format!(
                "shard `{text}` should be I/N with 0 <= I < N, e.g. 0/4 for the first of four shards"
            ))
        };
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count) =
            (i.trim().parse::<usize>().map_err(|_| bad())?, n.trim().parse::<usize>().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether chunk `c` is this shard's.
    pub fn owns(&self, c: usize) -> bool {
        c % self.count == self.index
    }

    /// The part of this shard that process `rank` of `ranks` computes (the ranks of an MPI run
    /// within one `--shard`): shard `index + count * rank` of `count * ranks`. A chunk `c` of it
    /// has `c % count == index`, so the ranks' parts are disjoint and together are this shard.
    pub fn split(self, rank: usize, ranks: usize) -> Shard {
        assert!(rank < ranks, "rank {rank} of {ranks}");
        Shard { index: self.index + self.count * rank, count: self.count * ranks }
    }
}

/// A landscape store folder, opened or created.
#[derive(Debug, Clone)]
pub struct LandscapeStore {
    dir: PathBuf,
    doc: StoreDoc,
}

/// A stable 64-bit fingerprint (FNV-1a over the numbers' bits) of `values`: what a store's
/// definition records of large inputs such as weights, directions and data, so a resumed run can
/// tell they are the same without keeping a copy.
pub fn fingerprint(values: &[f64]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for v in values {
        for byte in v.to_bits().to_le_bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

impl LandscapeStore {
    /// Opens the store in `dir` if it holds one with the same definition, grid and chunking, or
    /// creates it there (the folder may exist if empty). A store of a different landscape is
    /// refused, naming what differs; a folder that holds something else is refused too.
    pub fn create_or_resume(
        dir: &Path,
        definition: Map<String, Value>,
        plane: &Plane,
        grid: &GridSpec,
        rows_per_chunk: usize,
    ) -> Result<LandscapeStore> {
        if rows_per_chunk == 0 {
            return Err(Error::Invalid("a store chunk needs at least one row".into()));
        }
        let mut definition = definition;
        definition.insert("lossatlas".into(), json!(VERSION));
        definition.insert("origin".into(), json!(fingerprint(plane.origin())));
        definition.insert("d1".into(), json!(fingerprint(plane.directions().0)));
        definition.insert("d2".into(), json!(fingerprint(plane.directions().1)));
        let doc = StoreDoc {
            definition,
            axes: [grid.u().into(), grid.v().into()],
            names: plane.names().clone(),
            kind: plane.kind(),
            rows_per_chunk: rows_per_chunk.min(grid.v().n()),
            version: VERSION.into(),
        };
        if dir.join("zarr.json").exists() {
            let store = LandscapeStore::open(dir)?;
            store.check_same(&doc)?;
            return Ok(store);
        }
        match fs::read_dir(dir) {
            Ok(mut entries) => {
                if entries.next().is_some() {
                    return Err(Error::Invalid(format!(
                        "`{}` is not empty and not a lossatlas store; give a new or empty folder",
                        dir.display()
                    )));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                fs::create_dir_all(dir).map_err(|e| write_error(dir, e))?;
            }
            Err(e) => return Err(write_error(dir, e)),
        }
        let store = LandscapeStore { dir: dir.to_path_buf(), doc };
        let (nu, nv) = (grid.u().n(), grid.v().n());
        store.write_array_meta("loss", &[nv, nu], &[store.doc.rows_per_chunk, nu], &["v", "u"])?;
        let (d1, d2) = plane.directions();
        for (name, values) in [("origin", plane.origin()), ("d1", d1), ("d2", d2)] {
            store.write_array_meta(name, &[values.len()], &[values.len().max(1)], &["parameter"])?;
            store.write_chunk_file(&format!("{name}/c/0"), values)?;
        }
        // The group's metadata comes last and says the store is whole; when several processes
        // create one store at once, the first link wins and the others check against it.
        let group = json!({
            "zarr_format": 3,
            "node_type": "group",
            "attributes": { "lossatlas": serde_json::to_value(&store.doc).expect("plain values") },
        });
        let temp = store.temp_path("zarr.json");
        write_synced(&temp, &serde_json::to_vec_pretty(&group).expect("plain values"))?;
        let linked = fs::hard_link(&temp, dir.join("zarr.json"));
        let _ = fs::remove_file(&temp);
        match linked {
            Ok(()) => Ok(store),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let existing = LandscapeStore::open(dir)?;
                existing.check_same(&store.doc)?;
                Ok(existing)
            }
            Err(e) => Err(write_error(dir, e)),
        }
    }

    /// Opens an existing store (to resume, report or draw it).
    pub fn open(dir: &Path) -> Result<LandscapeStore> {
        let not_a_store = |why: String| {
            Error::Invalid(format!(
                "`{}` is not a lossatlas store ({why}); give the folder a --store run made",
                dir.display()
            ))
        };
        let text = fs::read(dir.join("zarr.json")).map_err(|e| not_a_store(e.to_string()))?;
        let group: Value =
            serde_json::from_slice(&text).map_err(|e| not_a_store(format!("zarr.json: {e}")))?;
        let doc = group
            .get("attributes")
            .and_then(|a| a.get("lossatlas"))
            .ok_or_else(|| not_a_store("zarr.json has no lossatlas attributes".into()))?;
        let doc: StoreDoc =
            serde_json::from_value(doc.clone()).map_err(|e| not_a_store(format!("zarr.json: {e}")))?;
        if doc.rows_per_chunk == 0 || doc.axes.iter().any(|a| a.n < 2) {
            return Err(not_a_store("its grid is empty".into()));
        }
        Ok(LandscapeStore { dir: dir.to_path_buf(), doc })
    }

    /// Refuses `wanted` unless it is the landscape this store holds, naming the first things
    /// that differ.
    fn check_same(&self, wanted: &StoreDoc) -> Result<()> {
        let mut differences = Vec::new();
        let have = &self.doc.definition;
        for key in wanted.definition.keys().chain(have.keys().filter(|k| !wanted.definition.contains_key(*k)))
        {
            let (a, b) = (have.get(key), wanted.definition.get(key));
            if a != b {
                let show = |v: Option<&Value>| v.map_or("none".to_string(), |v| v.to_string());
                differences.push(format!("{key} is {} in the store but {} now", show(a), show(b)));
            }
        }
        if self.doc.axes != wanted.axes {
            differences.push("the grid's axes differ (ranges or resolution)".into());
        }
        if self.doc.rows_per_chunk != wanted.rows_per_chunk {
            differences.push(format!(
                "its chunks hold {} rows, not {}",
                self.doc.rows_per_chunk, wanted.rows_per_chunk
            ));
        }
        if differences.is_empty() {
            return Ok(());
        }
        differences.truncate(3);
        Err(Error::Invalid(format!(
            "store `{}` holds a different landscape: {}; use another folder, or the settings it was made with",
            self.dir.display(),
            differences.join("; ")
        )))
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The grid: its axes as stored.
    pub fn grid(&self) -> Result<GridSpec> {
        let [u, v] = &self.doc.axes;
        GridSpec::new(
            Axis::new(&u.name, u.min, u.max, u.n)?,
            Axis::new(&v.name, v.min, v.max, v.n)?,
            u64::MAX,
        )
    }

    /// What defines the landscape, as recorded.
    pub fn definition(&self) -> &Map<String, Value> {
        &self.doc.definition
    }

    /// The number of chunks.
    pub fn chunk_count(&self) -> usize {
        self.doc.axes[1].n.div_ceil(self.doc.rows_per_chunk)
    }

    /// The grid rows (indices along v) of chunk `c`.
    pub fn chunk_rows(&self, c: usize) -> Range<usize> {
        let r = self.doc.rows_per_chunk;
        c * r..((c + 1) * r).min(self.doc.axes[1].n)
    }

    fn chunk_key(c: usize) -> String {
        format!("loss/c/{c}/0")
    }

    /// Whether chunk `c` is finished.
    pub fn is_done(&self, c: usize) -> bool {
        self.dir.join(LandscapeStore::chunk_key(c)).is_file()
    }

    /// The chunks not finished yet, in order.
    pub fn missing(&self) -> Vec<usize> {
        (0..self.chunk_count()).filter(|&c| !self.is_done(c)).collect()
    }

    /// Refuses, before any work, a store this process cannot add chunks to (a read-only folder),
    /// leaving it as it is.
    pub fn check_writable(&self) -> Result<()> {
        let probe = self.temp_path("loss/c/probe");
        let written = fs::create_dir_all(probe.parent().expect("a key has a folder"))
            .and_then(|()| fs::File::create(&probe).and_then(|f| f.sync_all()));
        let _ = fs::remove_file(&probe);
        written.map_err(|e| {
            Error::Invalid(format!(
                "store `{}` cannot be written ({e}); give a folder you can write, or draw the chunks it has \
                 once it is finished with `lossatlas store draw`",
                self.dir.display()
            ))
        })
    }

    /// Writes chunk `c`: `values` are its rows of the grid, row by row (n_u values each).
    pub fn write_chunk(&self, c: usize, values: &[f64]) -> Result<()> {
        let rows = self.chunk_rows(c);
        let nu = self.doc.axes[0].n;
        if c >= self.chunk_count() || values.len() != rows.len() * nu {
            return Err(Error::Invalid(format!(
                "chunk {c} of a store of {} chunks takes {} values, not {}",
                self.chunk_count(),
                rows.len() * nu,
                values.len()
            )));
        }
        // Zarr's chunks all have the chunk shape; the last one is padded past the grid's end.
        let mut full = values.to_vec();
        full.resize(self.doc.rows_per_chunk * nu, f64::NAN);
        self.write_chunk_file(&LandscapeStore::chunk_key(c), &full)
    }

    /// Every value of the grid, row by row, once every chunk is finished.
    pub fn values(&self) -> Result<Vec<f64>> {
        let missing = self.missing();
        if !missing.is_empty() {
            return Err(Error::Invalid(format!(
                "store `{}` is not finished: {} of {} chunks are missing; run its command again with --store to finish it",
                self.dir.display(),
                missing.len(),
                self.chunk_count()
            )));
        }
        let nu = self.doc.axes[0].n;
        let mut out = Vec::with_capacity(nu * self.doc.axes[1].n);
        for c in 0..self.chunk_count() {
            let rows = self.chunk_rows(c);
            let chunk = self.read_chunk_file(&LandscapeStore::chunk_key(c), self.doc.rows_per_chunk * nu)?;
            out.extend_from_slice(&chunk[..rows.len() * nu]);
        }
        Ok(out)
    }

    /// The plane, as stored.
    pub fn plane(&self) -> Result<Plane> {
        let vector = |name: &str| -> Result<Vec<f64>> {
            let meta: Value = serde_json::from_slice(
                &fs::read(self.dir.join(name).join("zarr.json")).map_err(|e| read_error(&self.dir, e))?,
            )
            .map_err(|e| Error::Invalid(format!("store `{}`: {name}/zarr.json: {e}", self.dir.display())))?;
            let n = meta["shape"][0].as_u64().unwrap_or(0) as usize;
            self.read_chunk_file(&format!("{name}/c/0"), n.max(1)).map(|mut v| {
                v.truncate(n);
                v
            })
        };
        Ok(Plane::new(vector("origin")?, vector("d1")?, vector("d2")?, self.doc.names.clone())?
            .with_kind(self.doc.kind))
    }

    /// The finished landscape.
    pub fn landscape(&self) -> Result<Landscape> {
        Landscape::from_values(self.grid()?, self.plane()?, self.values()?)
    }

    /// Computes this shard's missing chunks in order, each with `compute(rows)` (the grid rows
    /// along v; it returns their values row by row), writing each as soon as it is done, and
    /// calling `on_chunk(done, total)` after each. Returns how many chunks it computed.
    pub fn fill(
        &self,
        shard: Shard,
        mut compute: impl FnMut(Range<usize>) -> Result<Vec<f64>>,
        mut on_chunk: impl FnMut(usize, usize),
    ) -> Result<usize> {
        let todo: Vec<usize> = self.missing().into_iter().filter(|&c| shard.owns(c)).collect();
        for (k, &c) in todo.iter().enumerate() {
            let values = compute(self.chunk_rows(c))?;
            self.write_chunk(c, &values)?;
            on_chunk(k + 1, todo.len());
        }
        Ok(todo.len())
    }

    /// Copies into this store every chunk `other` has finished and this one lacks; the two must
    /// hold the same landscape. Returns how many chunks it copied.
    pub fn merge_from(&self, other: &LandscapeStore) -> Result<usize> {
        self.check_same(&other.doc)?;
        let nu = self.doc.axes[0].n;
        let mut copied = 0;
        for c in self.missing() {
            if other.is_done(c) {
                let values =
                    other.read_chunk_file(&LandscapeStore::chunk_key(c), self.doc.rows_per_chunk * nu)?;
                self.write_chunk_file(&LandscapeStore::chunk_key(c), &values)?;
                copied += 1;
            }
        }
        Ok(copied)
    }

    fn write_array_meta(&self, name: &str, shape: &[usize], chunk: &[usize], dims: &[&str]) -> Result<()> {
        let meta = json!({
            "zarr_format": 3,
            "node_type": "array",
            "shape": shape,
            "data_type": "float64",
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": chunk}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": "NaN",
            "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
            "attributes": {},
            "dimension_names": dims,
        });
        let dir = self.dir.join(name);
        fs::create_dir_all(&dir).map_err(|e| write_error(&dir, e))?;
        self.write_atomic(
            &format!("{name}/zarr.json"),
            &serde_json::to_vec_pretty(&meta).expect("plain values"),
        )
    }

    fn write_chunk_file(&self, key: &str, values: &[f64]) -> Result<()> {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.write_atomic(key, &bytes)
    }

    fn read_chunk_file(&self, key: &str, len: usize) -> Result<Vec<f64>> {
        let path = self.dir.join(key);
        let bytes = fs::read(&path).map_err(|e| read_error(&path, e))?;
        if bytes.len() != 8 * len {
            return Err(Error::Invalid(format!(
                "store chunk `{}` holds {} bytes, not {}; the store is damaged",
                path.display(),
                bytes.len(),
                8 * len
            )));
        }
        Ok(bytes.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes"))).collect())
    }

    /// Writes `key` whole to a temporary file beside it, then renames it into place.
    fn write_atomic(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let path = self.dir.join(key);
        let parent = path.parent().expect("a key has a folder");
        fs::create_dir_all(parent).map_err(|e| write_error(parent, e))?;
        let temp = self.temp_path(key);
        write_synced(&temp, bytes)?;
        fs::rename(&temp, &path).map_err(|e| {
            let _ = fs::remove_file(&temp);
            write_error(&path, e)
        })
    }

    /// A temporary name beside `key`, unique to this process.
    fn temp_path(&self, key: &str) -> PathBuf {
        let path = self.dir.join(key);
        let name = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = fs::File::create(path).map_err(|e| write_error(path, e))?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(|e| write_error(path, e))
}

fn write_error(path: &Path, source: std::io::Error) -> Error {
    Error::Invalid(format!("cannot write the store at `{}`: {source}", path.display()))
}

fn read_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io { path: path.display().to_string(), source }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plane() -> Plane {
        Plane::new(vec![1.0, 2.0, 3.0], vec![1.0, 0.0, 0.0], vec![0.0, 0.5, 0.5], ["a".into(), "b".into()])
            .unwrap()
    }

    fn grid(nu: usize, nv: usize) -> GridSpec {
        GridSpec::new(Axis::new("a", -1.0, 1.0, nu).unwrap(), Axis::new("b", 0.0, 2.0, nv).unwrap(), u64::MAX)
            .unwrap()
    }

    /// The value the tests put at grid point (i, j): distinct everywhere, with a NaN as data.
    fn value(i: usize, j: usize) -> f64 {
        if (i, j) == (2, 3) {
            f64::NAN
        } else {
            (i * 1000 + j) as f64 + 0.25
        }
    }

    fn rows_of(nu: usize, rows: Range<usize>) -> Vec<f64> {
        rows.flat_map(|j| (0..nu).map(move |i| value(i, j))).collect()
    }

    fn definition(model: &str) -> Map<String, Value> {
        let mut d = Map::new();
        d.insert("model".into(), json!(model));
        d
    }

    fn same(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
    }

    #[test]
    fn shards_in_any_order_fill_one_store_that_reads_back_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let (nu, nv) = (5, 11);
        let expected = rows_of(nu, 0..nv);
        for order in [[2, 0, 1], [1, 2, 0]] {
            let path = dir.path().join(format!("s{}", order[0]));
            for index in order {
                let store =
                    LandscapeStore::create_or_resume(&path, definition("m"), &plane(), &grid(nu, nv), 3)
                        .unwrap();
                store.fill(Shard { index, count: 3 }, |rows| Ok(rows_of(nu, rows)), |_, _| {}).unwrap();
            }
            let store = LandscapeStore::open(&path).unwrap();
            assert_eq!(store.chunk_count(), 4, "11 rows in chunks of 3");
            assert!(store.missing().is_empty());
            assert!(same(&store.values().unwrap(), &expected));
            let landscape = store.landscape().unwrap();
            assert_eq!(landscape.plane().origin(), &[1.0, 2.0, 3.0]);
            assert_eq!(landscape.u().n(), nu);
        }
    }

    #[test]
    fn a_run_stopped_part_way_resumes_computing_only_the_missing_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let (nu, nv) = (4, 10);
        let store = LandscapeStore::create_or_resume(dir.path(), definition("m"), &plane(), &grid(nu, nv), 2)
            .unwrap();
        // The first run dies while computing its third chunk.
        let mut calls = 0;
        let died = store.fill(
            Shard::ALL,
            |rows| {
                calls += 1;
                if calls == 3 {
                    Err(Error::Invalid("killed".into()))
                } else {
                    Ok(rows_of(nu, rows))
                }
            },
            |_, _| {},
        );
        assert!(died.is_err());
        // A temporary file left by a chunk being written when the process died does not count.
        std::fs::create_dir_all(dir.path().join("loss/c/2")).unwrap();
        std::fs::write(dir.path().join("loss/c/2/.0.999.tmp"), [1u8; 5]).unwrap();
        assert_eq!(store.missing(), vec![2, 3, 4]);
        assert!(store.values().unwrap_err().to_string().contains("3 of 5 chunks are missing"));
        let again = LandscapeStore::create_or_resume(dir.path(), definition("m"), &plane(), &grid(nu, nv), 2)
            .unwrap();
        let mut computed = Vec::new();
        again
            .fill(
                Shard::ALL,
                |rows| {
                    computed.push(rows.start);
                    Ok(rows_of(nu, rows))
                },
                |_, _| {},
            )
            .unwrap();
        assert_eq!(computed, vec![4, 6, 8], "only the missing rows");
        assert!(same(&again.values().unwrap(), &rows_of(nu, 0..nv)));
    }

    #[test]
    fn a_different_landscape_or_a_foreign_folder_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let store =
            LandscapeStore::create_or_resume(&path, definition("m"), &plane(), &grid(4, 6), 2).unwrap();
        store.fill(Shard::ALL, |rows| Ok(rows_of(4, rows)), |_, _| {}).unwrap();
        let before = store.values().unwrap();
        let e = LandscapeStore::create_or_resume(&path, definition("other"), &plane(), &grid(4, 6), 2)
            .unwrap_err();
        assert!(e.to_string().contains("model is \"m\" in the store but \"other\" now"), "{e}");
        let e =
            LandscapeStore::create_or_resume(&path, definition("m"), &plane(), &grid(4, 7), 2).unwrap_err();
        assert!(e.to_string().contains("axes differ"), "{e}");
        let mut moved = plane();
        moved = Plane::new(
            vec![1.0, 2.0, 3.5],
            moved.directions().0.to_vec(),
            moved.directions().1.to_vec(),
            ["a".into(), "b".into()],
        )
        .unwrap();
        let e = LandscapeStore::create_or_resume(&path, definition("m"), &moved, &grid(4, 6), 2).unwrap_err();
        assert!(e.to_string().contains("origin is"), "{e}");
        assert!(
            same(&LandscapeStore::open(&path).unwrap().values().unwrap(), &before),
            "the store is unchanged"
        );
        // A folder with other things in it is not a store, and is not written to.
        let foreign = dir.path().join("f");
        std::fs::create_dir(&foreign).unwrap();
        std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
        let e = LandscapeStore::create_or_resume(&foreign, definition("m"), &plane(), &grid(4, 6), 2)
            .unwrap_err();
        assert!(e.to_string().contains("not a lossatlas store"), "{e}");
        assert_eq!(std::fs::read_dir(&foreign).unwrap().count(), 1);
        assert!(LandscapeStore::open(&foreign).unwrap_err().to_string().contains("not a lossatlas store"));
    }

    #[test]
    fn stores_filled_by_separate_shards_merge_into_the_whole() {
        let dir = tempfile::tempdir().unwrap();
        let (nu, nv) = (3, 9);
        let parts: Vec<LandscapeStore> = (0..2)
            .map(|index| {
                let s = LandscapeStore::create_or_resume(
                    &dir.path().join(format!("p{index}")),
                    definition("m"),
                    &plane(),
                    &grid(nu, nv),
                    2,
                )
                .unwrap();
                s.fill(Shard { index, count: 2 }, |rows| Ok(rows_of(nu, rows)), |_, _| {}).unwrap();
                s
            })
            .collect();
        assert_eq!(parts[0].missing(), vec![1, 3]);
        let whole = LandscapeStore::create_or_resume(
            &dir.path().join("all"),
            definition("m"),
            &plane(),
            &grid(nu, nv),
            2,
        )
        .unwrap();
        assert_eq!(whole.merge_from(&parts[0]).unwrap(), 3);
        assert_eq!(whole.merge_from(&parts[1]).unwrap(), 2);
        assert!(same(&whole.values().unwrap(), &rows_of(nu, 0..nv)));
        let other = LandscapeStore::create_or_resume(
            &dir.path().join("o"),
            definition("x"),
            &plane(),
            &grid(nu, nv),
            2,
        )
        .unwrap();
        assert!(whole.merge_from(&other).is_err());
    }

    #[test]
    fn the_layout_is_zarr_v3_with_little_endian_row_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            LandscapeStore::create_or_resume(dir.path(), definition("m"), &plane(), &grid(3, 5), 2).unwrap();
        store.fill(Shard::ALL, |rows| Ok(rows_of(3, rows)), |_, _| {}).unwrap();
        let meta: Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("loss/zarr.json")).unwrap()).unwrap();
        assert_eq!(meta["zarr_format"], 3);
        assert_eq!(meta["shape"], json!([5, 3]));
        assert_eq!(meta["chunk_grid"]["configuration"]["chunk_shape"], json!([2, 3]));
        assert_eq!(meta["fill_value"], "NaN");
        // The last chunk holds row 4 and a padding row, as Zarr's regular grid wants.
        let last = std::fs::read(dir.path().join("loss/c/2/0")).unwrap();
        assert_eq!(last.len(), 2 * 3 * 8);
        assert_eq!(f64::from_le_bytes(last[8..16].try_into().unwrap()), value(1, 4));
        let group: Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("zarr.json")).unwrap()).unwrap();
        assert_eq!(group["node_type"], "group");
        assert_eq!(group["attributes"]["lossatlas"]["definition"]["model"], "m");
    }

    #[test]
    fn ranks_split_a_shard_into_disjoint_parts_that_cover_it() {
        let shard = Shard { index: 1, count: 3 };
        let parts: Vec<Shard> = (0..4).map(|rank| shard.split(rank, 4)).collect();
        for c in 0..100 {
            let owners = parts.iter().filter(|p| p.owns(c)).count();
            assert_eq!(owners, usize::from(c % 3 == 1), "chunk {c}");
        }
        assert_eq!(Shard::ALL.split(2, 3), Shard { index: 2, count: 3 });
    }

    #[test]
    fn shard_specs_are_checked() {
        assert_eq!(Shard::parse("2/5").unwrap(), Shard { index: 2, count: 5 });
        for bad in ["3/2", "0/0", "1", "a/b", "-1/3"] {
            assert!(Shard::parse(bad).unwrap_err().to_string().contains("I/N"), "{bad}");
        }
    }
}
