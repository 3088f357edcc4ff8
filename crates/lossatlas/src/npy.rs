//! numpy's `.npy` and `.npz` files, read: how data for a network (images N x C x H x W, labels,
//! targets) comes from Python with `np.save` or `np.savez` and no other package.
//!
//! The format is numpy's own (NEP 1): a magic string, a version, a little header that is a
//! Python dict literal (`{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 1, 28, 28), }`),
//! then the raw values. An `.npz` is a zip of `.npy` files (stored by `np.savez`, deflated by
//! `np.savez_compressed`).

use std::io::Read;
use std::path::Path;

use crate::data::{display_name, read_data_file};
use crate::error::{Error, Result};

/// One array: its shape and its values in C order.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// The shape, outermost axis first (`()` for a scalar).
    pub shape: Vec<usize>,
    /// The values.
    pub values: NpyValues,
}

/// An array's values, widened: floats to `f64`, integers and booleans to `i64`.
#[derive(Debug, Clone, PartialEq)]
pub enum NpyValues {
    /// From float16, float32 or float64.
    Float(Vec<f64>),
    /// From any signed or unsigned integer type of up to 64 bits, or bool.
    Int(Vec<i64>),
}

impl NpyArray {
    /// Number of values.
    pub fn len(&self) -> usize {
        match &self.values {
            NpyValues::Float(v) => v.len(),
            NpyValues::Int(v) => v.len(),
        }
    }

    /// True for an array without values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values as `f64` (integers converted exactly up to 2^53).
    pub fn to_f64(&self) -> Vec<f64> {
        match &self.values {
            NpyValues::Float(v) => v.clone(),
            NpyValues::Int(v) => v.iter().map(|&x| x as f64).collect(),
        }
    }
}

/// Reads the arrays of a `.npy` file (one array, named by the file's stem) or of an `.npz` file
/// (each array named as `np.savez` named it), in the file's order.
pub fn read_arrays(path: &Path) -> Result<Vec<(String, NpyArray)>> {
    let bytes = read_data_file(path)?;
    let name = display_name(path);
    if bytes.starts_with(b"PK") {
        parse_npz(&name, &bytes)
    } else {
        let stem = path.file_stem().map_or_else(|| "array".to_string(), |s| s.to_string_lossy().into_owned());
        Ok(vec![(stem, parse_npy(&name, &bytes)?)])
    }
}

/// Parses the bytes of an `.npz` file (see [`read_arrays`]).
pub fn parse_npz(name: &str, bytes: &[u8]) -> Result<Vec<(String, NpyArray)>> {
    let bad = |what: String| Error::Invalid(format!("{name}: {what}; save it with numpy's np.savez"));
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| bad(format!("not a readable .npz ({e})")))?;
    let mut arrays = Vec::with_capacity(archive.len());
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| bad(format!("entry {i} cannot be read ({e})")))?;
        let entry_name = entry.name().to_string();
        let Some(key) = entry_name.strip_suffix(".npy") else {
            return Err(bad(format!("holds `{entry_name}`, which is not an .npy array")));
        };
        let mut data = Vec::with_capacity(entry.size().min(1 << 30) as usize);
        entry.read_to_end(&mut data).map_err(|e| bad(format!("`{entry_name}` cannot be unpacked ({e})")))?;
        arrays.push((key.to_string(), parse_npy(&format!("{name}[{key}]"), &data)?));
    }
    Ok(arrays)
}

/// Parses the bytes of one `.npy` array.
pub fn parse_npy(name: &str, bytes: &[u8]) -> Result<NpyArray> {
    let bad = |what: &str| Error::Invalid(format!("{name}: {what}; save it with numpy's np.save"));
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("not an .npy file"));
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => {
            (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12)
        }
        _ => return Err(bad("an .npy version this reader does not know")),
    };
    let header = bytes.get(start..start + header_len).ok_or_else(|| bad("truncated header"))?;
    let header = std::str::from_utf8(header).map_err(|_| bad("header is not text"))?;
    let descr = dict_value(header, "descr").ok_or_else(|| bad("header has no 'descr'"))?;
    let descr = quoted(descr).ok_or_else(|| bad("header's 'descr' is not a string"))?;
    if dict_value(header, "fortran_order").is_some_and(|v| v.starts_with("True")) {
        return Err(bad("the array is in Fortran order; save np.ascontiguousarray(a) instead"));
    }
    let shape_text = dict_value(header, "shape").ok_or_else(|| bad("header has no 'shape'"))?;
    let shape = parse_shape(shape_text).ok_or_else(|| bad("header's shape is not a tuple of sizes"))?;
    let count =
        shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or_else(|| bad("shape too large"))?;
    let data = &bytes[start + header_len..];
    let (kind, size) = element_type(descr).ok_or_else(|| {
        Error::Invalid(format!(
            "{name}: values of type `{descr}` cannot be read; use little-endian floats, integers or bools \
             (a.astype(np.float32))"
        ))
    })?;
    if data.len() < count * size {
        return Err(bad(&format!(
            "truncated: {} bytes of values where the shape {shape:?} needs {}",
            data.len(),
            count * size
        )));
    }
    let data = &data[..count * size];
    let values = match kind {
        'f' => NpyValues::Float(match size {
            2 => data.chunks_exact(2).map(|b| half_to_f64(u16::from_le_bytes([b[0], b[1]]))).collect(),
            4 => data
                .chunks_exact(4)
                .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
                .collect(),
            _ => data.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes"))).collect(),
        }),
        'i' => NpyValues::Int(data.chunks_exact(size).map(signed).collect()),
        _ => {
            let values: Vec<i64> = data
                .chunks_exact(size)
                .map(unsigned)
                .collect::<Option<_>>()
                .ok_or_else(|| bad("an unsigned value is above 2^63"))?;
            NpyValues::Int(values)
        }
    };
    Ok(NpyArray { shape, values })
}

/// The text after `'key':` in a header dict, up to the end of the dict.
fn dict_value<'h>(header: &'h str, key: &str) -> Option<&'h str> {
    let at = header.find(&format!("'{key}'")).or_else(|| header.find(&format!("\"{key}\"")))?;
    let rest = &header[at + key.len() + 2..];
    let rest = rest.trim_start().strip_prefix(':')?;
    Some(rest.trim_start())
}

/// The string literal at the start of `text`: `'<f4', ...` → `<f4`.
fn quoted(text: &str) -> Option<&str> {
    let quote = text.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    text[1..].split(quote).next()
}

/// `(1000, 1, 28, 28), ...` → [1000, 1, 28, 28]; `()` → [].
fn parse_shape(text: &str) -> Option<Vec<usize>> {
    let inner = text.strip_prefix('(')?.split(')').next()?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| d.trim_end_matches('L').parse().ok())
        .collect()
}

/// The kind (`f` float, `i` signed, `u` unsigned or bool) and byte size of a dtype string.
fn element_type(descr: &str) -> Option<(char, usize)> {
    let (order, rest) = descr.split_at(descr.len().min(1));
    if !matches!(order, "<" | "|" | "=") {
        return None;
    }
    let (kind, size) = rest.split_at(rest.len().min(1));
    let size: usize = size.parse().ok()?;
    match (kind, size) {
        ("f", 2 | 4 | 8) => Some(('f', size)),
        ("i", 1 | 2 | 4 | 8) => Some(('i', size)),
        ("u", 1 | 2 | 4 | 8) | ("b", 1) => Some(('u', size)),
        _ => None,
    }
}

fn signed(b: &[u8]) -> i64 {
    let mut bytes = if b[b.len() - 1] & 0x80 != 0 { [0xff; 8] } else { [0; 8] };
    bytes[..b.len()].copy_from_slice(b);
    i64::from_le_bytes(bytes)
}

fn unsigned(b: &[u8]) -> Option<i64> {
    let mut bytes = [0; 8];
    bytes[..b.len()].copy_from_slice(b);
    i64::try_from(u64::from_le_bytes(bytes)).ok()
}

/// IEEE 754 binary16 to f64, exactly.
fn half_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exponent = i32::from((h >> 10) & 0x1f);
    let fraction = f64::from(h & 0x3ff);
    sign * match exponent {
        0 => fraction * 2f64.powi(-24),
        31 if fraction == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        e => (1.0 + fraction / 1024.0) * 2f64.powi(e - 15),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An .npy file as numpy 1.x writes it: the header padded with spaces to a multiple of 64.
    pub(crate) fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
        let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend((header.len() as u16).to_le_bytes());
        bytes.extend(header.as_bytes());
        bytes.extend(data);
        bytes
    }

    #[test]
    fn reads_floats_integers_and_bools_of_every_width() {
        let f4: Vec<u8> = [1.5f32, -2.0, 0.25, 8.0, 9.0, 10.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let a = parse_npy("a", &npy("<f4", "(2, 3)", &f4)).unwrap();
        assert_eq!(a.shape, vec![2, 3]);
        assert_eq!(a.values, NpyValues::Float(vec![1.5, -2.0, 0.25, 8.0, 9.0, 10.0]));
        let i8s: Vec<u8> = [-3i64, 7].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(parse_npy("b", &npy("<i8", "(2,)", &i8s)).unwrap().values, NpyValues::Int(vec![-3, 7]));
        let i2s: Vec<u8> = [-3i16, 300].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(parse_npy("c", &npy("<i2", "(2,)", &i2s)).unwrap().values, NpyValues::Int(vec![-3, 300]));
        assert_eq!(
            parse_npy("d", &npy("|u1", "(3,)", &[0, 9, 255])).unwrap().to_f64(),
            vec![0.0, 9.0, 255.0]
        );
        assert_eq!(parse_npy("e", &npy("|b1", "(2,)", &[1, 0])).unwrap().values, NpyValues::Int(vec![1, 0]));
        // float16: 1.0 is 0x3c00, -0.5 is 0xb800, 65504 (the largest) is 0x7bff.
        let f2: Vec<u8> = [0x3c00u16, 0xb800, 0x7bff].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(parse_npy("f", &npy("<f2", "(3,)", &f2)).unwrap().to_f64(), vec![1.0, -0.5, 65504.0]);
        let scalar = parse_npy("g", &npy("<f8", "()", &2.5f64.to_le_bytes())).unwrap();
        assert_eq!((scalar.shape.len(), scalar.to_f64()), (0, vec![2.5]));
    }

    #[test]
    fn bad_files_get_one_line_naming_the_problem() {
        let e = |bytes: &[u8]| parse_npy("x.npy", bytes).unwrap_err().to_string();
        assert!(e(b"hello world, not numpy").contains("not an .npy file"));
        assert!(e(&npy("<f4", "(2, 3)", &[0; 8])).contains("truncated"));
        assert!(e(&npy(">f4", "(1,)", &[0; 4])).contains("cannot be read"));
        assert!(e(&npy("<c16", "(1,)", &[0; 16])).contains("astype"));
        let mut f = npy("<f4", "(1,)", &[0; 4]);
        let at = f.windows(5).position(|w| w == b"False").unwrap();
        f.splice(at..at + 5, b"True ".iter().copied());
        assert!(e(&f).contains("Fortran"));
    }

    #[test]
    fn reads_stored_and_deflated_npz_archives() {
        use std::io::Write;
        for method in [zip::CompressionMethod::Stored, zip::CompressionMethod::Deflated] {
            let mut buffer = std::io::Cursor::new(Vec::new());
            {
                let mut archive = zip::ZipWriter::new(&mut buffer);
                let options = zip::write::SimpleFileOptions::default().compression_method(method);
                archive.start_file("x.npy", options).unwrap();
                let x: Vec<u8> = [1.0f64, 2.0, 3.0, 4.0].iter().flat_map(|v| v.to_le_bytes()).collect();
                archive.write_all(&npy("<f8", "(2, 2)", &x)).unwrap();
                archive.start_file("y.npy", options).unwrap();
                archive.write_all(&npy("|u1", "(2,)", &[1, 0])).unwrap();
                archive.finish().unwrap();
            }
            let arrays = parse_npz("d.npz", buffer.get_ref()).unwrap();
            assert_eq!(arrays[0].0, "x");
            assert_eq!(arrays[0].1.to_f64(), vec![1.0, 2.0, 3.0, 4.0]);
            assert_eq!(
                arrays[1],
                ("y".to_string(), NpyArray { shape: vec![2], values: NpyValues::Int(vec![1, 0]) })
            );
        }
        assert!(parse_npz("d.npz", b"PK not really").unwrap_err().to_string().contains("np.savez"));
    }
}
