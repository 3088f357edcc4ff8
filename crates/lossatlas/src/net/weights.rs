//! Weights and directions as safetensors files with PyTorch's `state_dict` names.
//!
//! `safetensors.torch.save_file(model.state_dict(), "m.safetensors")` of an `nn.Sequential` of
//! `nn.Linear` layers (activations in between) holds `0.weight` [out, in], `0.bias` [out],
//! `2.weight`, ... The architecture is read from those shapes, in the order of the layer index at
//! the end of each module name (so `net.0`, `net.2`, or `fc1`, `fc2` work too); the activation is
//! not in the file and is given by the caller. A directions file has the same names and shapes.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, View};

use super::layout::{check_len, ParamLayout};
use super::mlp::{Activation, Head, Mlp};
use crate::error::{Error, Result};

/// How the numbers of a saved tensor are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorType {
    /// 32-bit floats (PyTorch's default).
    F32,
    /// 64-bit floats.
    F64,
}

/// A network read from a weights file.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedWeights {
    /// The architecture, with the file's layer names.
    pub mlp: Mlp,
    /// The flat parameters, in the network's layout.
    pub params: Vec<f64>,
    /// How the file stored them (save directions the same way).
    pub dtype: TensorType,
}

/// Reads a weights file; `activation` and `head` complete the architecture the shapes give.
pub fn read_weights(path: &Path, activation: Activation, head: Head) -> Result<LoadedWeights> {
    let bytes = read(path)?;
    parse_weights(&path.display().to_string(), &bytes, activation, head)
}

/// Parses the bytes of a weights file; `name` is used in messages.
pub fn parse_weights(name: &str, bytes: &[u8], activation: Activation, head: Head) -> Result<LoadedWeights> {
    let layers = read_layers(name, bytes)?;
    let mut widths = vec![layers[0].weight.shape[1]];
    for (k, layer) in layers.iter().enumerate() {
        let shape = &layer.weight.shape;
        if k > 0 && shape[1] != widths[k] {
            let before = &layers[k - 1];
            return Err(bad(
                name,
                format!(
                    "layer `{}` has weight shape {:?} but layer `{}` before it has weight shape {:?}: \
                     layer `{}` needs {} inputs; the layers must chain",
                    layer.prefix, shape, before.prefix, before.weight.shape, layer.prefix, widths[k]
                ),
            ));
        }
        widths.push(shape[0]);
    }
    let prefixes = layers.iter().map(|l| l.prefix.clone()).collect();
    let mlp =
        Mlp::with_prefixes(&widths, activation, head, prefixes).map_err(|e| bad(name, e.to_string()))?;
    let dtype = layers[0].weight.dtype;
    let params = layers.into_iter().flat_map(|l| l.weight.values.into_iter().chain(l.bias.values)).collect();
    Ok(LoadedWeights { mlp, params, dtype })
}

/// Reads a direction (or any vector in the weights' layout, such as a second set of weights for
/// a line) and checks that its names and shapes are exactly those of `mlp`.
pub fn read_direction(path: &Path, layout: &(impl ParamLayout + ?Sized)) -> Result<Vec<f64>> {
    let bytes = read(path)?;
    parse_direction(&path.display().to_string(), &bytes, layout)
}

/// Parses the bytes of a direction file (see [`read_direction`]).
pub fn parse_direction(name: &str, bytes: &[u8], layout: &(impl ParamLayout + ?Sized)) -> Result<Vec<f64>> {
    let file = open(name, bytes)?;
    let expected = layout.tensors();
    let mut found: HashMap<&str, Tensor> = HashMap::new();
    for (tensor_name, view) in file.iter() {
        found.insert(tensor_name, tensor(name, tensor_name, &view)?);
    }
    let mut extras: Vec<&str> =
        found.keys().copied().filter(|k| !expected.iter().any(|(n, _)| n == k)).collect();
    extras.sort_unstable();
    if let Some(extra) = extras.first() {
        return Err(bad(
            name,
            format!("has tensor `{extra}` that the weights do not have; a directions file needs the weights' names"),
        ));
    }
    let mut params = Vec::with_capacity(layout.n_params());
    for (tensor_name, shape) in expected {
        let tensor = found.remove(tensor_name.as_str()).ok_or_else(|| {
            bad(
                name,
                format!(
                    "has no tensor `{tensor_name}`; a directions file needs the weights' names and shapes"
                ),
            )
        })?;
        if tensor.shape != shape {
            return Err(bad(
                name,
                format!(
                    "tensor `{tensor_name}` has shape {:?} but the weights' `{tensor_name}` has shape {shape:?}",
                    tensor.shape
                ),
            ));
        }
        params.extend(tensor.values);
    }
    Ok(params)
}

/// The bytes of a safetensors file holding `params` under `mlp`'s names and shapes, as
/// `safetensors.torch.save_file` writes them (metadata `{"format": "pt"}`), for
/// `safetensors.torch.load_file` and [`read_weights`] / [`read_direction`].
pub fn tensors_bytes(
    layout: &(impl ParamLayout + ?Sized),
    params: &[f64],
    dtype: TensorType,
) -> Result<Vec<u8>> {
    check_len(layout, "the vector to save", params)?;
    let mut offset = 0;
    let tensors: Vec<(String, Out)> = layout
        .tensors()
        .into_iter()
        .map(|(name, shape)| {
            let len: usize = shape.iter().product();
            let values = &params[offset..offset + len];
            offset += len;
            let data = match dtype {
                TensorType::F32 => values.iter().flat_map(|&v| (v as f32).to_le_bytes()).collect(),
                TensorType::F64 => values.iter().flat_map(|&v| v.to_le_bytes()).collect(),
            };
            (name, Out { dtype, shape, data })
        })
        .collect();
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    safetensors::serialize(tensors.iter().map(|(n, t)| (n.as_str(), t)), Some(metadata))
        .map_err(|e| Error::Invalid(format!("cannot encode the tensors: {e}")))
}

/// A tensor ready to be written.
#[derive(Debug)]
struct Out {
    dtype: TensorType,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl View for &Out {
    fn dtype(&self) -> Dtype {
        match self.dtype {
            TensorType::F32 => Dtype::F32,
            TensorType::F64 => Dtype::F64,
        }
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> std::borrow::Cow<'_, [u8]> {
        (&self.data[..]).into()
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

/// A tensor read from a file, widened to `f64`.
#[derive(Debug)]
struct Tensor {
    dtype: TensorType,
    shape: Vec<usize>,
    values: Vec<f64>,
}

/// One `nn.Linear`'s tensors.
#[derive(Debug)]
struct Layer {
    prefix: String,
    weight: Tensor,
    bias: Tensor,
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Io { path: path.display().to_string(), source })
}

fn bad(name: &str, message: String) -> Error {
    Error::Weights { path: name.to_string(), message }
}

fn open<'a>(name: &str, bytes: &'a [u8]) -> Result<SafeTensors<'a>> {
    SafeTensors::deserialize(bytes).map_err(|e| {
        bad(
            name,
            format!(
                "not a safetensors file, or a truncated one ({e}); \
                 save weights with safetensors.torch.save_file(model.state_dict(), path)"
            ),
        )
    })
}

fn tensor(name: &str, tensor_name: &str, view: &safetensors::tensor::TensorView<'_>) -> Result<Tensor> {
    let data = view.data();
    let (dtype, values): (TensorType, Vec<f64>) = match view.dtype() {
        Dtype::F32 => (
            TensorType::F32,
            data.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")) as f64).collect(),
        ),
        Dtype::F64 => (
            TensorType::F64,
            data.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes"))).collect(),
        ),
        other => {
            return Err(bad(
                name,
                format!(
                    "tensor `{tensor_name}` is {other:?}; save it as float32 or float64 (e.g. model.float())"
                ),
            ))
        }
    };
    if let Some(k) = values.iter().position(|v| !v.is_finite()) {
        return Err(bad(name, format!("tensor `{tensor_name}` holds a non-finite value at flat index {k}")));
    }
    Ok(Tensor { dtype, shape: view.shape().to_vec(), values })
}

/// The layers of a state_dict, ordered by the index that ends each module name.
fn read_layers(name: &str, bytes: &[u8]) -> Result<Vec<Layer>> {
    let file = open(name, bytes)?;
    let mut parts: BTreeMap<(u64, String), (Option<Tensor>, Option<Tensor>)> = BTreeMap::new();
    for (tensor_name, view) in file.iter() {
        let (prefix, kind) = tensor_name
            .rsplit_once('.')
            .filter(|(_, k)| *k == "weight" || *k == "bias")
            .ok_or_else(|| {
                bad(
                    name,
                    format!(
                        "tensor `{tensor_name}` is not a Linear layer's weight or bias; lossatlas reads the \
                         state_dict of an nn.Sequential of Linear layers (0.weight, 0.bias, 2.weight, ...)"
                    ),
                )
            })?;
        let digits = prefix.len() - prefix.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        let index: u64 = prefix[prefix.len() - digits..].parse().map_err(|_| {
            bad(
                name,
                format!(
                    "module name `{prefix}` (of `{tensor_name}`) does not end with a layer index like `0`"
                ),
            )
        })?;
        let slot = parts.entry((index, prefix.to_string())).or_default();
        let tensor = tensor(name, tensor_name, &view)?;
        if kind == "weight" {
            slot.0 = Some(tensor);
        } else {
            slot.1 = Some(tensor);
        }
    }
    if parts.is_empty() {
        return Err(bad(name, "holds no tensors; save the model's state_dict".into()));
    }
    let mut layers = Vec::with_capacity(parts.len());
    let mut previous_index = None;
    for ((index, prefix), (weight, bias)) in parts {
        if previous_index == Some(index) {
            return Err(bad(
                name,
                format!("two modules end with layer index {index}; the names must order the layers"),
            ));
        }
        previous_index = Some(index);
        let weight = weight
            .ok_or_else(|| bad(name, format!("layer `{prefix}` has a bias but no `{prefix}.weight`")))?;
        let bias = bias.ok_or_else(|| {
            bad(
                name,
                format!(
                    "layer `{prefix}` has no `{prefix}.bias`; lossatlas needs Linear layers with bias=True"
                ),
            )
        })?;
        if weight.shape.len() != 2
            || bias.shape.len() != 1
            || bias.shape[0] != weight.shape[0]
            || weight.shape[0] == 0
        {
            return Err(bad(
                name,
                format!(
                    "layer `{prefix}` has weight shape {:?} and bias shape {:?}; a Linear layer has [out, in] and [out]",
                    weight.shape, bias.shape
                ),
            ));
        }
        if weight.dtype != bias.dtype
            || layers.first().is_some_and(|l: &Layer| l.weight.dtype != weight.dtype)
        {
            return Err(bad(name, "mixes float32 and float64 tensors; save all in one type".into()));
        }
        layers.push(Layer { prefix, weight, bias });
    }
    Ok(layers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32s(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// A file laid out byte for byte as `safetensors.torch.save_file` lays it out: an 8-byte
    /// little-endian header length, the JSON header padded with spaces to a multiple of 8, then the
    /// tensors' bytes in the header's (sorted by name) order.
    fn torch_file(header: &str, data: &[u8]) -> Vec<u8> {
        let mut header = header.as_bytes().to_vec();
        while !header.len().is_multiple_of(8) {
            header.push(b' ');
        }
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend(header);
        bytes.extend(data);
        bytes
    }

    fn two_three_two() -> Vec<u8> {
        // nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 2)).
        let header = r#"{"__metadata__":{"format":"pt"},"0.bias":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"0.weight":{"dtype":"F32","shape":[3,2],"data_offsets":[12,36]},"2.bias":{"dtype":"F32","shape":[2],"data_offsets":[36,44]},"2.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[44,68]}}"#;
        let mut data = f32s(&[0.1, 0.2, 0.3]);
        data.extend(f32s(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
        data.extend(f32s(&[-0.5, 0.5]));
        data.extend(f32s(&[7.0, 8.0, 9.0, 10.0, 11.0, 12.0]));
        torch_file(header, &data)
    }

    #[test]
    fn reads_a_file_laid_out_as_pytorch_writes_it() {
        let loaded =
            parse_weights("m.safetensors", &two_three_two(), Activation::Tanh, Head::CrossEntropy).unwrap();
        assert_eq!(loaded.mlp.widths(), &[2, 3, 2]);
        assert_eq!(loaded.dtype, TensorType::F32);
        // state_dict order: 0.weight, 0.bias, 2.weight, 2.bias.
        let want = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 0.1, 0.2, 0.3, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, -0.5, 0.5];
        let want: Vec<f64> = want.iter().map(|&v: &f64| v as f32 as f64).collect();
        assert_eq!(loaded.params, want);
    }

    #[test]
    fn round_trip_keeps_names_shapes_and_values() {
        let header = r#"{"net.0.weight":{"dtype":"F64","shape":[2,1],"data_offsets":[0,16]},"net.0.bias":{"dtype":"F64","shape":[2],"data_offsets":[16,32]},"net.3.weight":{"dtype":"F64","shape":[1,2],"data_offsets":[32,48]},"net.3.bias":{"dtype":"F64","shape":[1],"data_offsets":[48,56]}}"#;
        let data: Vec<u8> =
            [0.25f64, -1.0, 0.5, 0.75, 2.0, 3.0, -4.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let loaded = parse_weights("m", &torch_file(header, &data), Activation::Relu, Head::Mse).unwrap();
        assert_eq!(loaded.params, [0.25, -1.0, 0.5, 0.75, 2.0, 3.0, -4.0]);
        assert_eq!(loaded.dtype, TensorType::F64);
        let names: Vec<String> = loaded.mlp.tensors().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["net.0.weight", "net.0.bias", "net.3.weight", "net.3.bias"]);
        for dtype in [TensorType::F64, TensorType::F32] {
            let bytes = tensors_bytes(&loaded.mlp, &loaded.params, dtype).unwrap();
            let again = parse_weights("again", &bytes, Activation::Relu, Head::Mse).unwrap();
            assert_eq!(again.mlp, loaded.mlp);
            assert_eq!(again.params, loaded.params, "exact in f32 too: the values are binary fractions");
            assert_eq!(again.dtype, dtype);
            assert_eq!(parse_direction("d", &bytes, &loaded.mlp).unwrap(), loaded.params);
        }
        // The written header is what PyTorch's loader expects: sorted names, pt metadata.
        let bytes = tensors_bytes(&loaded.mlp, &loaded.params, TensorType::F32).unwrap();
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
        assert_eq!(header["__metadata__"]["format"], "pt");
        assert_eq!(header["net.3.weight"]["shape"], serde_json::json!([1, 2]));
        assert_eq!(header["net.0.bias"]["data_offsets"], serde_json::json!([0, 8]));
    }

    #[test]
    fn shapes_that_do_not_chain_name_the_layer_and_both_shapes() {
        let header = r#"{"0.weight":{"dtype":"F32","shape":[3,2],"data_offsets":[0,24]},"0.bias":{"dtype":"F32","shape":[3],"data_offsets":[24,36]},"2.weight":{"dtype":"F32","shape":[2,4],"data_offsets":[36,68]},"2.bias":{"dtype":"F32","shape":[2],"data_offsets":[68,76]}}"#;
        let e = parse_weights("m", &torch_file(header, &[0u8; 76]), Activation::Tanh, Head::CrossEntropy)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("layer `2` has weight shape [2, 4] but layer `0` before it has weight shape [3, 2]"),
            "{e}"
        );
        assert!(e.contains("needs 3 inputs"), "{e}");
    }

    #[test]
    fn truncated_foreign_and_unsupported_files_get_one_clear_line() {
        let good = two_three_two();
        for bytes in
            [&good[..good.len() - 3], &good[..5], b"PK\x03\x04 a zip file, not tensors".as_slice(), &[]]
        {
            let e = parse_weights("m", bytes, Activation::Tanh, Head::CrossEntropy).unwrap_err().to_string();
            assert!(e.starts_with("m: not a safetensors file, or a truncated one"), "{e}");
            assert!(!e.contains('\n'));
        }
        let header = r#"{"0.weight":{"dtype":"BF16","shape":[1,1],"data_offsets":[0,2]},"0.bias":{"dtype":"BF16","shape":[1],"data_offsets":[2,4]}}"#;
        let e = parse_weights("m", &torch_file(header, &[0u8; 4]), Activation::Tanh, Head::Mse)
            .unwrap_err()
            .to_string();
        assert!(e.contains("is BF16; save it as float32"), "{e}");
        let header = r#"{"0.weight":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]},"1.running_mean":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#;
        let e = parse_weights("m", &torch_file(header, &[0u8; 8]), Activation::Tanh, Head::Mse)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`1.running_mean` is not a Linear layer's weight or bias"), "{e}");
    }

    #[test]
    fn directions_must_have_the_weights_names_and_shapes() {
        let mlp = parse_weights("m", &two_three_two(), Activation::Tanh, Head::CrossEntropy).unwrap().mlp;
        let other = Mlp::new(&[2, 4, 2], Activation::Tanh, Head::CrossEntropy).unwrap();
        let bytes = tensors_bytes(&other, &other.init_params(0), TensorType::F32).unwrap();
        let e = parse_direction("d", &bytes, &mlp).unwrap_err().to_string();
        assert!(
            e.contains("tensor `0.weight` has shape [4, 2] but the weights' `0.weight` has shape [3, 2]"),
            "{e}"
        );
        let renamed = Mlp::with_prefixes(
            &[2, 3, 2],
            Activation::Tanh,
            Head::CrossEntropy,
            vec!["0".into(), "1".into()],
        )
        .unwrap();
        let bytes = tensors_bytes(&renamed, &renamed.init_params(0), TensorType::F32).unwrap();
        let e = parse_direction("d", &bytes, &mlp).unwrap_err().to_string();
        assert!(e.contains("has tensor `1.bias` that the weights do not have"), "{e}");
    }
}
