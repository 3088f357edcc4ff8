//! Serializers for landscapes and iso-lines, in the stable formats of DESIGN.md. They return bytes;
//! writing files is the caller's business.

use serde::Serialize;

use crate::contour::Isoline;
use crate::landscape::Landscape;
use crate::plane::Plane;
use crate::trajectory::Trajectory;

/// The export formats of a landscape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LandscapeFormat {
    /// `{"params", "axes", "values" (rows along v), "min"}`, NaN as null.
    Json,
    /// Columns `<u-name>,<v-name>,loss`, one row per grid point, row-major; NaN written as `NaN`.
    Csv,
    /// A float64 array of shape (n_v, n_u), readable by `numpy.load`.
    Npy,
    /// A VTK XML structured grid (`.vts`) that ParaView and VisIt open: the grid's points at
    /// (u, v, 0) and the loss as a point field named `loss` (NaN kept), so ParaView's
    /// "Warp By Scalar" raises it into the surface.
    Vts,
}

impl LandscapeFormat {
    /// The format for a file extension (`json`, `csv`, `npy`), if any.
    pub fn from_extension(ext: &str) -> Option<LandscapeFormat> {
        match ext.to_ascii_lowercase().as_str() {
            "json" => Some(LandscapeFormat::Json),
            "csv" => Some(LandscapeFormat::Csv),
            "npy" => Some(LandscapeFormat::Npy),
            "vts" => Some(LandscapeFormat::Vts),
            _ => None,
        }
    }
}

/// Serializes a landscape in `format`.
pub fn landscape(landscape: &Landscape, format: LandscapeFormat) -> Vec<u8> {
    match format {
        LandscapeFormat::Json => landscape_json(landscape),
        LandscapeFormat::Csv => landscape_csv(landscape),
        LandscapeFormat::Npy => landscape_npy(landscape),
        LandscapeFormat::Vts => landscape_vts(landscape),
    }
}

#[derive(Serialize)]
struct AxisJson<'a> {
    name: &'a str,
    min: f64,
    max: f64,
    n: usize,
}

#[derive(Serialize)]
struct MinJson {
    at: [f64; 2],
    loss: f64,
}

#[derive(Serialize)]
struct LandscapeJson<'a> {
    params: &'a [String; 2],
    axes: [AxisJson<'a>; 2],
    values: Rows<'a>,
    min: Option<MinJson>,
    plane: crate::plane::PlaneDoc<'a>,
}

/// The grid's rows, serialized straight from the flat values (NaN as null) without a nested copy,
/// which for a 4000 x 4000 grid would double the memory an export needs.
struct Rows<'a> {
    values: &'a [f64],
    nu: usize,
}

impl Serialize for Rows<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        struct Row<'r>(&'r [f64]);
        impl Serialize for Row<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.iter().map(|&v| finite(v)))
            }
        }
        serializer.collect_seq(self.values.chunks(self.nu).map(Row))
    }
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

fn axis_json(a: &crate::landscape::Axis) -> AxisJson<'_> {
    AxisJson { name: a.name(), min: a.min(), max: a.max(), n: a.n() }
}

fn landscape_json(l: &Landscape) -> Vec<u8> {
    let doc = LandscapeJson {
        params: l.plane().names(),
        axes: [axis_json(l.u()), axis_json(l.v())],
        values: Rows { values: l.values(), nu: l.u().n() },
        min: l.minimum().map(|m| MinJson { at: [m.u, m.v], loss: m.loss }),
        plane: l.plane().doc(),
    };
    serde_json::to_vec(&doc).expect("plain numbers and strings always serialize")
}

fn landscape_csv(l: &Landscape) -> Vec<u8> {
    use std::fmt::Write;
    let [un, vn] = l.plane().names();
    let mut out = format!("{un},{vn},loss\n");
    let us = l.u().values();
    for (j, row) in l.values().chunks(l.u().n()).enumerate() {
        let v = l.v().value(j);
        for (u, z) in us.iter().zip(row) {
            if z.is_finite() {
                writeln!(out, "{u},{v},{z}").expect("writing to a String cannot fail");
            } else {
                writeln!(out, "{u},{v},NaN").expect("writing to a String cannot fail");
            }
        }
    }
    out.into_bytes()
}

/// NPY format version 1.0: magic, version, a little-endian u16 header length, a Python dict literal
/// padded with spaces to a 64-byte boundary and ended by a newline, then the raw little-endian data.
fn landscape_npy(l: &Landscape) -> Vec<u8> {
    let mut header =
        format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({}, {}), }}", l.v().n(), l.u().n());
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + l.values().len() * 8);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in l.values() {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// A VTK XML structured grid (VTK's "StructuredGrid" file format, version 0.1) of one piece:
/// points x fastest then y, which is the landscape's row-major order, so the values go out as
/// stored. The arrays are inline base64 ("binary" in VTK's terms) with a UInt64 byte-count
/// header, because VTK's ASCII reader cannot read NaN and a landscape keeps its non-finite
/// values as NaN.
fn landscape_vts(l: &Landscape) -> Vec<u8> {
    let (nu, nv) = (l.u().n(), l.v().n());
    let mut points = Vec::with_capacity(3 * nu * nv);
    for j in 0..nv {
        for i in 0..nu {
            points.extend_from_slice(&[l.u().value(i), l.v().value(j), 0.0]);
        }
    }
    let extent = format!("0 {} 0 {} 0 0", nu - 1, nv - 1);
    let [un, vn] = l.plane().names();
    let mut out = String::with_capacity(l.values().len() * 48 + 1024);
    out.push_str("<?xml version=\"1.0\"?>\n");
    out.push_str(
        "<VTKFile type=\"StructuredGrid\" version=\"0.1\" byte_order=\"LittleEndian\" header_type=\"UInt64\">\n",
    );
    out.push_str(&format!("  <StructuredGrid WholeExtent=\"{extent}\">\n"));
    // The axis names, for a person reading the file (VTK has no place for coordinate names).
    out.push_str(&format!(
        "    <!-- x: {}, y: {}, point field: loss -->\n",
        xml_comment(un),
        xml_comment(vn)
    ));
    out.push_str(&format!("    <Piece Extent=\"{extent}\">\n"));
    out.push_str("      <PointData Scalars=\"loss\">\n");
    out.push_str(
        "        <DataArray type=\"Float64\" Name=\"loss\" NumberOfComponents=\"1\" format=\"binary\">",
    );
    out.push_str(&base64_block(l.values()));
    out.push_str("</DataArray>\n      </PointData>\n      <Points>\n");
    out.push_str("        <DataArray type=\"Float64\" NumberOfComponents=\"3\" format=\"binary\">");
    out.push_str(&base64_block(&points));
    out.push_str("</DataArray>\n      </Points>\n    </Piece>\n  </StructuredGrid>\n</VTKFile>\n");
    out.into_bytes()
}

/// `text` safe inside an XML comment (which may not contain `--`).
fn xml_comment(text: &str) -> String {
    text.replace("--", "- -")
}

/// One inline binary VTK array: base64 of the UInt64 byte count followed by the little-endian
/// values, encoded together.
fn base64_block(values: &[f64]) -> String {
    let mut raw = Vec::with_capacity(8 + values.len() * 8);
    raw.extend_from_slice(&((values.len() * 8) as u64).to_le_bytes());
    for v in values {
        raw.extend_from_slice(&v.to_le_bytes());
    }
    base64(&raw)
}

/// Standard base64 (RFC 4648, with padding).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[derive(Serialize)]
struct LevelJson {
    level: f64,
    lines: Vec<Vec<[f64; 2]>>,
}

#[derive(Serialize)]
struct IsolinesJson {
    levels: Vec<LevelJson>,
}

/// `{"levels": [{"level": L, "lines": [[[u, v], ...], ...]}, ...]}`. A closed line repeats its first
/// point at the end, so that plotting the points as given draws the whole loop.
pub fn isolines_json(isolines: &[Isoline]) -> Vec<u8> {
    let doc = IsolinesJson {
        levels: isolines
            .iter()
            .map(|iso| LevelJson {
                level: iso.level(),
                lines: iso
                    .lines()
                    .iter()
                    .map(|line| {
                        let mut pts = line.points().to_vec();
                        if line.is_closed() {
                            pts.push(pts[0]);
                        }
                        pts
                    })
                    .collect(),
            })
            .collect(),
    };
    serde_json::to_vec(&doc).expect("plain numbers always serialize")
}

#[derive(Serialize)]
struct StepJson<'a> {
    step: usize,
    params: &'a [f64],
    loss: Option<f64>,
    grad: Vec<Option<f64>>,
    /// (u, v) of the step's projection on the drawn plane.
    #[serde(skip_serializing_if = "Option::is_none")]
    plane: Option<[f64; 2]>,
    /// The step's distance from the drawn plane: what the picture of its projection hides.
    #[serde(skip_serializing_if = "Option::is_none")]
    off_plane: Option<Option<f64>>,
}

#[derive(Serialize)]
struct TrajectoryJson<'a> {
    optimizer: &'static str,
    settings: serde_json::Map<String, serde_json::Value>,
    steps: Vec<StepJson<'a>>,
    stopped: &'static str,
}

fn trajectory_doc<'a>(t: &'a Trajectory, plane: Option<&Plane>) -> TrajectoryJson<'a> {
    let mut settings: serde_json::Map<String, serde_json::Value> =
        t.spec().settings().into_iter().map(|(k, v)| (k.to_string(), serde_json::json!(v))).collect();
    if let Some(batch) = t.batch() {
        settings.insert("batch_size".into(), serde_json::json!(batch.size));
        settings.insert("seed".into(), serde_json::json!(batch.seed));
    }
    TrajectoryJson {
        optimizer: t.spec().name(),
        settings,
        steps: t
            .steps()
            .iter()
            .map(|s| StepJson {
                step: s.step,
                params: &s.params,
                loss: finite(s.loss),
                grad: s.grad.iter().map(|&g| finite(g)).collect(),
                plane: plane.map(|p| {
                    let (u, v) = p.project(&s.params);
                    [u, v]
                }),
                off_plane: plane.map(|p| finite(p.distance(&s.params))),
            })
            .collect(),
        stopped: t.stopped().name(),
    }
}

/// One trajectory as `{"optimizer", "settings", "steps": [{"step", "params", "loss", "grad"}],
/// "stopped"}` (docs/FORMATS.md); non-finite numbers (the last step of a diverged run) as null.
/// With the `plane` it is drawn on, each step also records `plane` (its projection's (u, v)) and
/// `off_plane` (its distance from the plane).
pub fn trajectory_json(trajectory: &Trajectory, plane: Option<&Plane>) -> Vec<u8> {
    serde_json::to_vec(&trajectory_doc(trajectory, plane)).expect("plain numbers always serialize")
}

/// Several trajectories as a JSON array of [`trajectory_json`] objects.
pub fn trajectories_json(trajectories: &[Trajectory], plane: Option<&Plane>) -> Vec<u8> {
    let docs: Vec<TrajectoryJson<'_>> = trajectories.iter().map(|t| trajectory_doc(t, plane)).collect();
    serde_json::to_vec(&docs).expect("plain numbers always serialize")
}

/// Trajectories as CSV with the JSON's columns flattened:
/// `run,optimizer,step,<param>...,loss,grad_<param>...,[u,v,off_plane,]stopped`, one row per step;
/// `run` numbers the trajectories from 0 so several fit in one file.
pub fn trajectories_csv(
    trajectories: &[Trajectory],
    param_names: &[String],
    plane: Option<&Plane>,
) -> Vec<u8> {
    use std::fmt::Write;
    let mut out = String::from("run,optimizer,step");
    for p in param_names {
        write!(out, ",{p}").expect("writing to a String cannot fail");
    }
    out.push_str(",loss");
    for p in param_names {
        write!(out, ",grad_{p}").expect("writing to a String cannot fail");
    }
    if plane.is_some() {
        out.push_str(",u,v,off_plane");
    }
    out.push_str(",stopped\n");
    for (run, t) in trajectories.iter().enumerate() {
        for s in t.steps() {
            write!(out, "{run},{},{}", t.spec().name(), s.step).expect("writing to a String cannot fail");
            for v in s.params.iter().chain([&s.loss]).chain(&s.grad) {
                write!(out, ",{v}").expect("writing to a String cannot fail");
            }
            if let Some(p) = plane {
                let (u, v) = p.project(&s.params);
                write!(out, ",{u},{v},{}", p.distance(&s.params)).expect("writing to a String cannot fail");
            }
            writeln!(out, ",{}", t.stopped().name()).expect("writing to a String cannot fail");
        }
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::{Axis, GridSpec, DEFAULT_GRID_BUDGET_BYTES};
    use crate::plane::Plane;

    fn small() -> Landscape {
        let grid = GridSpec::new(
            Axis::new("k", 0.0, 2.0, 3).unwrap(),
            Axis::new("b", -1.0, 1.0, 2).unwrap(),
            DEFAULT_GRID_BUDGET_BYTES,
        )
        .unwrap();
        let plane = Plane::parameter_axes(&["k".into(), "b".into()]).unwrap();
        Landscape::from_values(grid, plane, vec![1.0, 0.5, f64::NAN, 4.0, 2.0, 3.0]).unwrap()
    }

    #[test]
    fn json_matches_the_design_format() {
        let text = String::from_utf8(landscape(&small(), LandscapeFormat::Json)).unwrap();
        assert_eq!(
            text,
            r#"{"params":["k","b"],"axes":[{"name":"k","min":0.0,"max":2.0,"n":3},{"name":"b","min":-1.0,"max":1.0,"n":2}],"values":[[1.0,0.5,null],[4.0,2.0,3.0]],"min":{"at":[1.0,-1.0],"loss":0.5},"plane":{"kind":"axes","axes":["k","b"],"parameters":["k","b"],"origin":[0.0,0.0],"d1":[1.0,0.0],"d2":[0.0,1.0]}}"#
        );
    }

    #[test]
    fn csv_lists_every_point_row_major() {
        let text = String::from_utf8(landscape(&small(), LandscapeFormat::Csv)).unwrap();
        assert_eq!(text, "k,b,loss\n0,-1,1\n1,-1,0.5\n2,-1,NaN\n0,1,4\n1,1,2\n2,1,3\n");
    }

    #[test]
    fn npy_header_is_aligned_and_data_follows() {
        let bytes = landscape(&small(), LandscapeFormat::Npy);
        assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
        let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + header_len) % 64, 0);
        let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
        assert!(header.contains("'shape': (2, 3)") && header.ends_with('\n'), "{header}");
        let data = &bytes[10 + header_len..];
        assert_eq!(data.len(), 48);
        assert_eq!(f64::from_le_bytes(data[8..16].try_into().unwrap()), 0.5);
        assert!(f64::from_le_bytes(data[16..24].try_into().unwrap()).is_nan());
    }

    /// Decodes standard base64, independently of the encoder: each character's 6 bits in order.
    fn decode_base64(text: &str) -> Vec<u8> {
        let value = |c: u8| match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        };
        let mut bits = 0u32;
        let mut count = 0;
        let mut out = Vec::new();
        for c in text.bytes().filter(|&c| c != b'=') {
            bits = (bits << 6) | u32::from(value(c));
            count += 6;
            if count >= 8 {
                count -= 8;
                out.push((bits >> count) as u8);
                bits &= (1 << count) - 1;
            }
        }
        out
    }

    #[test]
    fn base64_matches_the_rfc_examples() {
        // RFC 4648, section 10.
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn vts_is_a_structured_grid_with_the_loss_at_each_point() {
        let text = String::from_utf8(landscape(&small(), LandscapeFormat::Vts)).unwrap();
        assert!(text.contains(r#"<StructuredGrid WholeExtent="0 2 0 1 0 0">"#), "{text}");
        assert!(text.contains(r#"<Piece Extent="0 2 0 1 0 0">"#), "{text}");
        let arrays: Vec<&str> = text
            .split("format=\"binary\">")
            .skip(1)
            .map(|rest| rest.split("</DataArray>").next().unwrap())
            .collect();
        assert_eq!(arrays.len(), 2);
        let numbers = |encoded: &str| -> Vec<f64> {
            let raw = decode_base64(encoded);
            let count = u64::from_le_bytes(raw[..8].try_into().unwrap()) as usize;
            assert_eq!(count, raw.len() - 8, "the header holds the byte count");
            raw[8..].chunks(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect()
        };
        let loss = numbers(arrays[0]);
        assert_eq!(loss.len(), 6);
        assert_eq!((loss[0], loss[1], loss[3], loss[5]), (1.0, 0.5, 4.0, 3.0));
        assert!(loss[2].is_nan(), "NaN survives");
        // Points x fastest: k in {0, 1, 2}, b in {-1, 1}.
        let points = numbers(arrays[1]);
        assert_eq!(&points[..9], &[0.0, -1.0, 0.0, 1.0, -1.0, 0.0, 2.0, -1.0, 0.0]);
        assert_eq!(&points[15..], &[2.0, 1.0, 0.0]);
    }

    #[test]
    fn isolines_json_closes_loops() {
        let l = small();
        let iso = crate::contour::isolines(&l, &[1.5]);
        let text = String::from_utf8(isolines_json(&iso)).unwrap();
        assert!(text.starts_with(r#"{"levels":[{"level":1.5,"lines":[[["#), "{text}");
    }

    #[test]
    fn trajectory_json_and_csv() {
        use std::sync::Arc;
        let obj = crate::Objective::new(
            crate::Dataset::seed(),
            Arc::new(crate::linear(crate::Activation::Identity)),
            crate::Loss::Mse,
        );
        let spec = crate::OptimizerSpec::parse("gd:lr=0.1").unwrap();
        let options = crate::RunOptions { max_steps: 2, ..crate::RunOptions::default() };
        let t = crate::run(&obj, &spec, &[0.0, 0.0], &options).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&trajectory_json(&t, None)).unwrap();
        assert_eq!(doc["optimizer"], "gd");
        assert_eq!(doc["settings"]["lr"], 0.1);
        assert_eq!(doc["stopped"], "max_steps");
        assert_eq!(doc["steps"].as_array().unwrap().len(), 3);
        assert_eq!(doc["steps"][0]["params"], serde_json::json!([0.0, 0.0]));
        assert!(doc["steps"][0].get("off_plane").is_none());
        let csv = String::from_utf8(trajectories_csv(&[t], obj.param_names(), None)).unwrap();
        let mut lines = csv.lines();
        assert_eq!(lines.next().unwrap(), "run,optimizer,step,k,b,loss,grad_k,grad_b,stopped");
        let first: Vec<&str> = lines.next().unwrap().split(',').collect();
        assert_eq!(&first[..5], &["0", "gd", "0", "0", "0"]);
        assert!((first[5].parse::<f64>().unwrap() - 14.725).abs() < 1e-12, "{first:?}");
        assert_eq!(first[8], "max_steps");
        assert_eq!(csv.lines().count(), 4);
    }

    #[test]
    fn steps_record_their_distance_from_the_plane() {
        use std::sync::Arc;
        let spec = crate::OptimizerSpec::parse("gd:lr=0.01").unwrap();
        let options = crate::RunOptions { max_steps: 5, ..crate::RunOptions::default() };
        // Two parameters on their own plane: every step lies in it.
        let obj = crate::Objective::new(
            crate::Dataset::seed(),
            Arc::new(crate::linear(crate::Activation::Identity)),
            crate::Loss::Mse,
        );
        let plane = Plane::parameter_axes(obj.param_names()).unwrap();
        let t = crate::run(&obj, &spec, &[2.0, -1.0], &options).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&trajectory_json(&t, Some(&plane))).unwrap();
        for step in doc["steps"].as_array().unwrap() {
            assert_eq!(step["off_plane"], 0.0);
            assert_eq!(step["plane"], step["params"]);
        }
        // Three parameters, the plane a-b held at c = 0.5: gradient descent moves c too, and each
        // step is off the plane by exactly |c - 0.5|.
        let model = crate::Formula::parse("a*x + b + c*x^2").unwrap();
        let obj = crate::Objective::new(crate::Dataset::seed(), Arc::new(model), crate::Loss::Mse);
        let names = obj.param_names().to_vec();
        let plane = Plane::axes(vec![0.0, 0.0, 0.5], 0, 1, &names).unwrap();
        let t = crate::run(&obj, &spec, &[1.0, 1.0, 0.5], &options).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&trajectory_json(&t, Some(&plane))).unwrap();
        let steps = doc["steps"].as_array().unwrap();
        assert_eq!(steps[0]["off_plane"], 0.0);
        for (step, s) in steps.iter().zip(t.steps()) {
            let want = (s.params[2] - 0.5).abs();
            assert!((step["off_plane"].as_f64().unwrap() - want).abs() <= 1e-15 * (1.0 + want));
            assert_eq!(step["plane"][1], step["params"][1]);
        }
        assert!(steps[5]["off_plane"].as_f64().unwrap() > 1e-3, "the run leaves the plane");
        let csv = String::from_utf8(trajectories_csv(&[t], &names, Some(&plane))).unwrap();
        assert!(csv.starts_with("run,optimizer,step,a,b,c,loss,grad_a,grad_b,grad_c,u,v,off_plane,stopped\n"));
    }
}
