//! A training path on disk: snapshots of the flat weights appended as training goes, so a long
//! run never holds every weight vector in memory.
//!
//! The file is a NumPy `.npy` array of float64 with shape (snapshots, 1 + parameters): column 0 is
//! the training step, the other columns the weights in state_dict order. The header has a fixed
//! size and is rewritten after every snapshot, so the file is a valid array at any moment
//! (`numpy.load(path)[:, 1:]` gives the weights).

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Bytes of the header (magic, version, length and the padded dict): room for any shape.
const HEADER_BYTES: usize = 128;

/// Appends snapshots to a path file.
#[derive(Debug)]
pub struct PathRecorder {
    file: File,
    path: PathBuf,
    n_params: usize,
    rows: usize,
}

impl PathRecorder {
    /// Creates (or truncates) the file for snapshots of `n_params` weights.
    pub fn create(path: &Path, n_params: usize) -> Result<PathRecorder> {
        let file = File::create(path).map_err(|source| io(path, source))?;
        let mut recorder = PathRecorder { file, path: path.to_path_buf(), n_params, rows: 0 };
        recorder.write_header()?;
        Ok(recorder)
    }

    /// Appends the weights at training step `step`.
    pub fn record(&mut self, step: u64, params: &[f64]) -> Result<()> {
        if params.len() != self.n_params {
            return Err(Error::Invalid(format!(
                "a snapshot of {} weights cannot join a path of {}-weight snapshots",
                params.len(),
                self.n_params
            )));
        }
        let mut row = Vec::with_capacity(8 * (params.len() + 1));
        row.extend((step as f64).to_le_bytes());
        row.extend(params.iter().flat_map(|v| v.to_le_bytes()));
        let offset = (HEADER_BYTES + self.rows * row.len()) as u64;
        self.file
            .seek(SeekFrom::Start(offset))
            .and_then(|_| self.file.write_all(&row))
            .map_err(|source| io(&self.path, source))?;
        self.rows += 1;
        self.write_header()
    }

    /// Snapshots written so far.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// True before the first snapshot.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    fn write_header(&mut self) -> Result<()> {
        let mut header = format!(
            "{{'descr': '<f8', 'fortran_order': False, 'shape': ({}, {}), }}",
            self.rows,
            self.n_params + 1
        );
        header.push_str(&" ".repeat(HEADER_BYTES - 10 - header.len() - 1));
        header.push('\n');
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend((header.len() as u16).to_le_bytes());
        bytes.extend(header.as_bytes());
        self.file
            .seek(SeekFrom::Start(0))
            .and_then(|_| self.file.write_all(&bytes))
            .and_then(|_| self.file.flush())
            .map_err(|source| io(&self.path, source))
    }
}

/// A path file opened for reading; rows are streamed from disk on each pass.
#[derive(Debug, Clone)]
pub struct PathFile {
    path: PathBuf,
    rows: usize,
    n_params: usize,
    data_offset: u64,
}

impl PathFile {
    /// Opens a file written by [`PathRecorder`] (or any float64 C-order 2-D `.npy` whose first
    /// column is the step), checking that it holds every row its header promises.
    pub fn open(path: &Path) -> Result<PathFile> {
        let name = path.display().to_string();
        let bad = |message: &str| Error::Invalid(format!("{name}: {message}; record it with `net train`"));
        let mut file = File::open(path).map_err(|source| io(path, source))?;
        let mut start = [0u8; 10];
        file.read_exact(&mut start).map_err(|_| bad("too short to be a path file"))?;
        if &start[..6] != b"\x93NUMPY" || start[6] != 1 {
            return Err(bad("not a version-1 .npy file"));
        }
        let header_len = u16::from_le_bytes([start[8], start[9]]) as usize;
        let mut header = vec![0u8; header_len];
        file.read_exact(&mut header).map_err(|_| bad("truncated header"))?;
        let header = String::from_utf8_lossy(&header);
        if !header.contains("'descr': '<f8'") || !header.contains("'fortran_order': False") {
            return Err(bad("not a little-endian float64 C-order array"));
        }
        let shape = header
            .split_once("'shape': (")
            .and_then(|(_, rest)| rest.split_once(')'))
            .map(|(dims, _)| {
                dims.split(',').filter_map(|d| d.trim().parse::<usize>().ok()).collect::<Vec<_>>()
            })
            .filter(|dims| dims.len() == 2 && dims[1] >= 2)
            .ok_or_else(|| bad("its shape is not (snapshots, 1 + weights)"))?;
        let data_offset = (10 + header_len) as u64;
        let need = data_offset + (shape[0] * shape[1] * 8) as u64;
        let have = file.metadata().map_err(|source| io(path, source))?.len();
        if have < need {
            return Err(bad(&format!("truncated: {have} bytes where the header promises {need}")));
        }
        Ok(PathFile { path: path.to_path_buf(), rows: shape[0], n_params: shape[1] - 1, data_offset })
    }

    /// Number of snapshots.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// True for a path without snapshots.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Weights per snapshot.
    pub fn n_params(&self) -> usize {
        self.n_params
    }

    /// Calls `f(index, step, weights)` for each snapshot in order, reading one row at a time.
    pub fn for_each(&self, mut f: impl FnMut(usize, u64, &[f64])) -> Result<()> {
        let file = File::open(&self.path).map_err(|source| io(&self.path, source))?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        reader.seek(SeekFrom::Start(self.data_offset)).map_err(|source| io(&self.path, source))?;
        let mut bytes = vec![0u8; 8 * (self.n_params + 1)];
        let mut row = vec![0.0; self.n_params + 1];
        for i in 0..self.rows {
            reader.read_exact(&mut bytes).map_err(|source| io(&self.path, source))?;
            for (v, b) in row.iter_mut().zip(bytes.chunks_exact(8)) {
                *v = f64::from_le_bytes(b.try_into().expect("8 bytes"));
            }
            f(i, row[0] as u64, &row[1..]);
        }
        Ok(())
    }

    /// The step of every snapshot.
    pub fn steps(&self) -> Result<Vec<u64>> {
        let mut steps = Vec::with_capacity(self.rows);
        self.for_each(|_, step, _| steps.push(step))?;
        Ok(steps)
    }
}

fn io(path: &Path, source: std::io::Error) -> Error {
    Error::Io { path: path.display().to_string(), source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_snapshots_read_back_and_form_a_valid_npy_at_every_step() {
        let dir = std::env::temp_dir().join(format!("lossatlas-path-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("path.npy");
        let mut recorder = PathRecorder::create(&file, 3).unwrap();
        assert_eq!(PathFile::open(&file).unwrap().len(), 0);
        for step in 0..5u64 {
            recorder.record(step * 10, &[step as f64, -0.5, 1e-3 * step as f64]).unwrap();
            // The header always matches the rows written (what numpy.load checks).
            let bytes = std::fs::read(&file).unwrap();
            assert_eq!(bytes.len(), HEADER_BYTES + (step as usize + 1) * 4 * 8);
            let header = String::from_utf8_lossy(&bytes[10..HEADER_BYTES]);
            assert!(header.contains(&format!("'shape': ({}, 4)", step + 1)), "{header}");
            assert!(header.ends_with('\n'));
        }
        assert!(recorder.record(60, &[1.0]).is_err());
        let path = PathFile::open(&file).unwrap();
        assert_eq!((path.len(), path.n_params()), (5, 3));
        assert_eq!(path.steps().unwrap(), [0, 10, 20, 30, 40]);
        let mut rows = Vec::new();
        path.for_each(|i, _, w| rows.push((i, w.to_vec()))).unwrap();
        assert_eq!(rows[3], (3, vec![3.0, -0.5, 3e-3]));
        // A truncated file is refused with what is missing.
        let bytes = std::fs::read(&file).unwrap();
        std::fs::write(&file, &bytes[..bytes.len() - 8]).unwrap();
        assert!(PathFile::open(&file).unwrap_err().to_string().contains("truncated"));
        std::fs::write(&file, b"not numpy at all").unwrap();
        assert!(PathFile::open(&file).unwrap_err().to_string().contains("not a version-1 .npy"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
