//! Any network exported to ONNX (`torch.onnx.export(model, example, "model.onnx")`), sliced like
//! an [`Mlp`](super::Mlp): its trainable parameters are the float initializers of its graph, laid
//! end to end in one flat vector in the graph's order, and its loss is evaluated at
//! theta + u d1 + v d2 by [tract](https://github.com/sonos/tract), a pure-Rust ONNX runtime.
//!
//! A grid point must not rebuild the model (tract's optimizer takes far longer than one forward
//! pass), so the graph is rewritten once per plane: every parameter that moves on the plane
//! (nonzero in d1 or d2) turns from a constant initializer into a graph input, and each point
//! then feeds its own values. Parameters that stay put (biases and batch-norm parameters under
//! Li et al.'s default, `--ignore biasbn`) remain constants, so tract folds them as before. A
//! batch normalization whose scale or shift moves is written out as the elementwise
//! (x - mean) / sqrt(var + eps) * scale + shift, because tract folds batch norm only when all four
//! of its tensors are constant.
//!
//! The data go through in fixed chunks of [`CHUNK`] samples and the losses are summed in chunk
//! order; grid points run in parallel. A result never depends on the number of threads.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use tract_onnx::pb::{
    self, tensor_proto::DataType, type_proto, ModelProto, NodeProto, TensorProto, ValueInfoProto,
};
use tract_onnx::prelude::*;
use tract_onnx::tensor::load_tensor;
use tract_onnx::tract_core::internal::DimLike;
use tract_onnx::tract_hir::infer::Factoid;

use super::layout::{check_len, slots, ParamLayout};
use super::mlp::Head;
use super::objective::{score, Evaluation, TargetData};
use super::plane::PlaneValues;
use super::samples::{Samples, Targets};
use crate::data::display_name;
use crate::error::{Error, Result};

/// Samples per forward pass: enough for tract's kernels to run at speed, few enough that a
/// chunk's activations stay in the cache for small images.
pub const CHUNK: usize = 128;

/// Operators whose float inputs are settings, not weights: an initializer they read is never a
/// parameter (perturbing a Resize scale or a Clip bound is not what a loss landscape means).
const SETTING_OPERATORS: &[&str] =
    &["Resize", "Upsample", "Pad", "Clip", "Reshape", "Expand", "Tile", "Slice", "Range", "ConstantOfShape"];

/// One trainable tensor of an ONNX graph.
#[derive(Debug, Clone, PartialEq)]
pub struct OnnxParam {
    /// The initializer's name (the state_dict name for a PyTorch export: `conv1.weight`).
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// The operators that read it (`Conv`, `Gemm`, `BatchNormalization`, ...).
    pub used_by: Vec<String>,
}

/// The targets input of a model that computes its own loss.
#[derive(Debug, Clone)]
struct TargetsInput {
    name: String,
    /// Integer class labels (int64 or int32), else float targets.
    integer: bool,
    /// 1 for (batch,), 2 for (batch, k).
    rank: usize,
}

/// How an ONNX model's output becomes the loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnnxLoss {
    /// Softmax cross-entropy on the output logits, or mse against the targets.
    Head(Head),
    /// The model ends in its loss: its second input takes the targets, its output is the loss
    /// (a scalar, the batch's mean, or one value per sample).
    Output,
}

/// An ONNX model: its graph, its trainable parameters and their trained values.
#[derive(Debug, Clone)]
pub struct OnnxModel {
    name: String,
    proto: ModelProto,
    params: Vec<OnnxParam>,
    values: Vec<f64>,
    input: String,
    /// The second input of a model that ends in its loss: it takes the targets.
    targets_input: Option<TargetsInput>,
    /// One sample's shape as the graph declares it (after the batch axis; `None` where symbolic).
    sample_shape: Vec<Option<usize>>,
    outputs: usize,
    operators: Vec<(String, usize)>,
}

impl ParamLayout for OnnxModel {
    fn tensors(&self) -> Vec<(String, Vec<usize>)> {
        self.params.iter().map(|p| (p.name.clone(), p.shape.clone())).collect()
    }

    fn describe(&self) -> String {
        OnnxModel::describe(self)
    }

    fn n_params(&self) -> usize {
        self.values.len()
    }
}

fn onnx_error(name: &str, what: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("{name}: {what}"))
}

/// The first line of a tract error chain that says something, with its cause.
fn tract_message(e: &TractError) -> String {
    let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
    chain.join(": ")
}

impl OnnxModel {
    /// Reads an ONNX file (external data beside it is found as the file names it).
    pub fn load(path: &Path) -> Result<OnnxModel> {
        let name = display_name(path);
        let bytes = std::fs::read(path).map_err(|source| Error::Io { path: name.clone(), source })?;
        let dir = path.parent().and_then(|p| p.to_str()).map(|p| if p.is_empty() { "." } else { p });
        OnnxModel::parse_in(&name, &bytes, dir)
    }

    /// Parses the bytes of an ONNX model (a model whose tensors live in external files needs
    /// [`OnnxModel::load`]).
    pub fn parse(name: &str, bytes: &[u8]) -> Result<OnnxModel> {
        OnnxModel::parse_in(name, bytes, None)
    }

    fn parse_in(name: &str, bytes: &[u8], dir: Option<&str>) -> Result<OnnxModel> {
        let onnx = tract_onnx::onnx();
        let proto = onnx
            .proto_model_for_read(&mut &bytes[..])
            .ok()
            .filter(|p| p.graph.as_ref().is_some_and(|g| !g.node.is_empty()))
            .ok_or_else(|| onnx_error(name, "not an ONNX model; export one with torch.onnx.export"))?;
        let graph = proto.graph.as_ref().expect("checked above");
        let mut unsupported: Vec<&str> = graph
            .node
            .iter()
            .filter(|n| !onnx.op_register.0.contains_key(&n.op_type))
            .map(|n| n.op_type.as_str())
            .collect();
        unsupported.dedup();
        if let Some(op) = unsupported.first() {
            return Err(onnx_error(
                name,
                format!(
                    "operator `{op}` is not supported by the ONNX runtime (tract); export the model without it \
                     or with an older opset"
                ),
            ));
        }
        let mut operators: Vec<(String, usize)> = Vec::new();
        for node in &graph.node {
            match operators.iter_mut().find(|(op, _)| *op == node.op_type) {
                Some((_, count)) => *count += 1,
                None => operators.push((node.op_type.clone(), 1)),
            }
        }
        let initializer_names: Vec<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
        let inputs: Vec<&ValueInfoProto> =
            graph.input.iter().filter(|i| !initializer_names.contains(&i.name.as_str())).collect();
        let (input, targets_input) = match inputs[..] {
            [input] => (input, None),
            [input, targets] => (input, Some(targets)),
            _ => {
                return Err(onnx_error(
                    name,
                    format!(
                        "the graph has {} data inputs ({}); lossatlas feeds the samples, and the targets \
                         to a model that ends in its loss",
                        inputs.len(),
                        inputs.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                ))
            }
        };
        let targets_input = targets_input
            .map(|t| -> Result<TargetsInput> {
                let dims = declared_shape(t).unwrap_or_default();
                let integer = matches!(
                    t.r#type.as_ref().and_then(|ty| ty.value.as_ref()),
                    Some(type_proto::Value::TensorType(tt))
                        if matches!(DataType::try_from(tt.elem_type), Ok(DataType::Int64 | DataType::Int32))
                );
                if dims.is_empty() || dims.len() > 2 {
                    return Err(onnx_error(
                        name,
                        format!("targets input `{}` should have shape (batch,) or (batch, k)", t.name),
                    ));
                }
                Ok(TargetsInput { name: t.name.clone(), integer, rank: dims.len() })
            })
            .transpose()?;
        let dims = declared_shape(input).ok_or_else(|| {
            onnx_error(
                name,
                format!("input `{}` has no declared shape; export with an example input", input.name),
            )
        })?;
        if dims.len() < 2 {
            return Err(onnx_error(
                name,
                format!(
                    "input `{}` has rank {}; lossatlas needs a batch axis and at least one more",
                    input.name,
                    dims.len()
                ),
            ));
        }
        let readers = consumers(graph);
        let provider = onnx.provider.clone();
        let mut params = Vec::new();
        let mut values = Vec::new();
        for tensor in &graph.initializer {
            let is_float = matches!(
                DataType::try_from(tensor.data_type),
                Ok(DataType::Float | DataType::Double | DataType::Float16)
            );
            let used_by: Vec<(String, usize)> =
                readers.get(tensor.name.as_str()).cloned().unwrap_or_default();
            let setting = used_by.iter().any(|(op, slot)| {
                SETTING_OPERATORS.contains(&op.as_str()) || (op == "BatchNormalization" && *slot >= 3)
            });
            if !is_float || tensor.dims.is_empty() || setting || used_by.is_empty() {
                continue;
            }
            let loaded = load_tensor(&*provider, tensor, dir)
                .and_then(|t| t.cast_to::<f64>().map(|t| t.into_owned()))
                .map_err(|e| {
                    onnx_error(
                        name,
                        format!("initializer `{}` cannot be read: {}", tensor.name, tract_message(&e)),
                    )
                })?;
            let view =
                loaded.to_plain_array_view::<f64>().map_err(|e| onnx_error(name, tract_message(&e)))?;
            values.extend(view.iter().copied());
            let mut ops: Vec<String> = used_by.into_iter().map(|(op, _)| op).collect();
            ops.dedup();
            params.push(OnnxParam {
                name: tensor.name.clone(),
                shape: loaded.shape().to_vec(),
                used_by: ops,
            });
        }
        if params.is_empty() {
            return Err(onnx_error(
                name,
                "the model has no float initializers, so no weights to slice; export it with its parameters \
                 (torch.onnx.export keeps them unless export_params=False)",
            ));
        }
        if let Some(bad) = values.iter().position(|v| !v.is_finite()) {
            return Err(onnx_error(name, format!("parameter value {bad} is not finite")));
        }
        let mut model = OnnxModel {
            name: name.to_string(),
            input: input.name.clone(),
            targets_input,
            sample_shape: dims[1..].to_vec(),
            proto,
            params,
            values,
            outputs: 0,
            operators,
        };
        model.outputs = model.probe_outputs()?;
        Ok(model)
    }

    /// The width of the model's output (its logits per sample), from tract's shape analysis of
    /// the graph with constant weights and a batch of one.
    fn probe_outputs(&self) -> Result<usize> {
        if self.targets_input.is_some() {
            // Its output is a loss, not logits.
            return Ok(0);
        }
        let Some(sample) = self.sample_shape.iter().copied().collect::<Option<Vec<usize>>>() else {
            // Symbolic sample axes: the width is known once the data gives the shape.
            return Ok(0);
        };
        let plan = self.typed_model(&[], 1, &sample, 1)?;
        let fact = plan.output_fact(0).map_err(|e| onnx_error(&self.name, tract_message(&e)))?;
        output_width(&self.name, fact)
    }

    /// The file the model came from.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// "cnn.onnx (Conv, Relu, MaxPool, Gemm; 1234 parameters)", the file named without its folder.
    pub fn describe(&self) -> String {
        let ops: Vec<&str> = self.operators.iter().map(|(op, _)| op.as_str()).collect();
        format!("{} ({}; {} parameters)", self.file_name(), ops.join(", "), self.values.len())
    }

    /// The file's name without its folder (`cnn.onnx`), for titles.
    pub fn file_name(&self) -> &str {
        Path::new(&self.name).file_name().and_then(|f| f.to_str()).unwrap_or(&self.name)
    }

    /// The trainable tensors, in flat-vector order.
    pub fn params(&self) -> &[OnnxParam] {
        &self.params
    }

    /// The trained parameter values (the graph's initializers), flat.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The graph's data input: its name and one sample's declared shape (`None` where symbolic).
    pub fn input(&self) -> (&str, &[Option<usize>]) {
        (&self.input, &self.sample_shape)
    }

    /// The name of the input that takes the targets, for a model that ends in its own loss.
    pub fn targets_input(&self) -> Option<&str> {
        self.targets_input.as_ref().map(|t| t.name.as_str())
    }

    /// The output width (logits per sample); 0 when only the data's shape decides it.
    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// Each operator of the graph and how many nodes use it, in order of first use.
    pub fn operators(&self) -> &[(String, usize)] {
        &self.operators
    }

    /// The rank of the input of each batch normalization that `moving` makes elementwise, from
    /// tract's shape analysis of the unchanged graph on one sample.
    fn batch_norm_ranks(
        &self,
        graph: &pb::GraphProto,
        moving: &[&str],
        sample: &[usize],
    ) -> Result<HashMap<String, usize>> {
        let wanted: Vec<&str> =
            graph.node.iter().filter(|n| moving_batch_norm(n, moving)).map(|n| n.input[0].as_str()).collect();
        let mut ranks = HashMap::new();
        if wanted.is_empty() {
            return Ok(ranks);
        }
        let fail = |e: TractError| onnx_error(&self.name, tract_message(&e));
        let mut model = tract_onnx::onnx().model_for_proto_model(&self.proto).map_err(fail)?;
        let mut shape = vec![1];
        shape.extend_from_slice(sample);
        model.set_input_fact(0, InferenceFact::dt_shape(f32::datum_type(), &shape[..])).map_err(fail)?;
        model.analyse(false).map_err(fail)?;
        for value in wanted {
            let outlet = graph.node.iter().find_map(|n| {
                let slot = n.output.iter().position(|o| o == value)?;
                let tract_name = if n.name.is_empty() { &n.output[0] } else { &n.name };
                Some((tract_name.clone(), slot))
            });
            let outlet = match outlet {
                Some((node, slot)) => model.node_by_name(&node).map(|n| OutletId::new(n.id, slot)),
                None => model.node_by_name(value).map(|n| OutletId::new(n.id, 0)),
            };
            let rank = outlet
                .and_then(|o| model.outlet_fact(o).map(|f| f.shape.concretize().map(|s| s.len())))
                .map_err(fail)?;
            if let Some(rank) = rank {
                ranks.insert(value.to_string(), rank);
            }
        }
        Ok(ranks)
    }

    /// The graph with the parameters marked in `moving` turned into inputs (after the data
    /// input, in parameter order), typed for batches of `batch` samples of shape `sample`.
    fn typed_model(
        &self,
        moving: &[usize],
        batch: usize,
        sample: &[usize],
        targets_width: usize,
    ) -> Result<TypedModel> {
        let fail = |e: TractError| onnx_error(&self.name, tract_message(&e));
        let mut proto = self.proto.clone();
        let graph = proto.graph.as_mut().expect("parsed models have a graph");
        let moving_names: Vec<&str> = moving.iter().map(|&i| self.params[i].name.as_str()).collect();
        let ranks = self.batch_norm_ranks(graph, &moving_names, sample)?;
        expand_batch_norms(graph, &moving_names, &ranks, &self.name)?;
        graph.initializer.retain(|t| !moving_names.contains(&t.name.as_str()));
        graph.input.retain(|i| !moving_names.contains(&i.name.as_str()));
        for &i in moving {
            graph.input.push(float_input(&self.params[i].name, &self.params[i].shape));
        }
        let onnx = tract_onnx::onnx();
        let mut model = onnx.model_for_proto_model(&proto).map_err(fail)?;
        let names: Vec<String> = std::iter::once(self.input.clone())
            .chain(self.targets_input.iter().map(|t| t.name.clone()))
            .chain(moving.iter().map(|&i| self.params[i].name.clone()))
            .collect();
        model = model.with_input_names(&names).map_err(fail)?;
        let mut shape = vec![batch];
        shape.extend_from_slice(sample);
        model.set_input_fact(0, InferenceFact::dt_shape(f32::datum_type(), &shape[..])).map_err(fail)?;
        if let Some(t) = &self.targets_input {
            let dt = if t.integer { i64::datum_type() } else { f32::datum_type() };
            let dims = if t.rank == 1 { vec![batch] } else { vec![batch, targets_width] };
            model.set_input_fact(1, InferenceFact::dt_shape(dt, &dims[..])).map_err(fail)?;
        }
        let first_param = 1 + usize::from(self.targets_input.is_some());
        for (k, &i) in moving.iter().enumerate() {
            let fact = InferenceFact::dt_shape(f32::datum_type(), &self.params[i].shape[..]);
            model.set_input_fact(k + first_param, fact).map_err(fail)?;
        }
        let typed = model.into_typed().map_err(|e| {
            onnx_error(
                &self.name,
                format!(
                    "the graph does not run on inputs of shape {shape:?}: {}; check that the data's shape \
                     matches the model's input `{}`",
                    tract_message(&e),
                    self.input
                ),
            )
        })?;
        Ok(typed)
    }
}

/// True for a batch normalization whose scale or shift is among `moving`.
fn moving_batch_norm(node: &NodeProto, moving: &[&str]) -> bool {
    node.op_type == "BatchNormalization"
        && node.input.get(1..3).is_some_and(|p| p.iter().any(|i| moving.contains(&i.as_str())))
}

/// The declared dimensions of a graph input (`None` for a symbolic one such as `batch`), or
/// `None` when it declares no shape.
fn declared_shape(input: &ValueInfoProto) -> Option<Vec<Option<usize>>> {
    let Some(type_proto::Value::TensorType(t)) = input.r#type.as_ref()?.value.as_ref() else {
        return None;
    };
    let shape = t.shape.as_ref()?;
    Some(
        shape
            .dim
            .iter()
            .map(|d| match d.value {
                Some(pb::tensor_shape_proto::dimension::Value::DimValue(v)) if v > 0 => Some(v as usize),
                _ => None,
            })
            .collect(),
    )
}

/// For each value name, the operators that read it and at which input slot.
fn consumers(graph: &pb::GraphProto) -> HashMap<&str, Vec<(String, usize)>> {
    let mut readers: HashMap<&str, Vec<(String, usize)>> = HashMap::new();
    for node in &graph.node {
        for (slot, input) in node.input.iter().enumerate() {
            readers.entry(input.as_str()).or_default().push((node.op_type.clone(), slot));
        }
    }
    readers
}

/// A graph input of type float32 and the given shape.
fn float_input(name: &str, shape: &[usize]) -> ValueInfoProto {
    use pb::tensor_shape_proto::{dimension::Value, Dimension};
    let dims = shape
        .iter()
        .map(|&d| Dimension { denotation: String::new(), value: Some(Value::DimValue(d as i64)) })
        .collect();
    ValueInfoProto {
        name: name.to_string(),
        r#type: Some(pb::TypeProto {
            denotation: String::new(),
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: DataType::Float as i32,
                shape: Some(pb::TensorShapeProto { dim: dims }),
            })),
        }),
        doc_string: String::new(),
    }
}

/// A float32 initializer.
fn float_initializer(name: String, dims: Vec<i64>, values: Vec<f32>) -> TensorProto {
    TensorProto { name, dims, data_type: DataType::Float as i32, float_data: values, ..Default::default() }
}

/// Rewrites each BatchNormalization whose scale or shift is in `moving` as
/// ((x - mean) * (1 / sqrt(var + eps))) * scale + shift, each per-channel tensor reshaped to
/// (C, 1, ..., 1) so it broadcasts over the axes after the channel. The mean and variance must be
/// initializers (running statistics of an exported model in eval mode).
fn expand_batch_norms(
    graph: &mut pb::GraphProto,
    moving: &[&str],
    ranks: &HashMap<String, usize>,
    name: &str,
) -> Result<()> {
    let mut k = 0;
    while let Some(at) = graph.node.iter().position(|n| moving_batch_norm(n, moving)) {
        let node = graph.node.remove(at);
        let stat = |slot: usize| -> Result<Vec<f32>> {
            let wanted = &node.input[slot];
            let t = graph.initializer.iter().find(|t| &t.name == wanted).ok_or_else(|| {
                onnx_error(
                    name,
                    format!("batch norm `{}` has running statistics that are not initializers", node.name),
                )
            })?;
            let tensor = load_tensor(&tract_onnx::data_resolver::MmapDataResolver, t, None)
                .and_then(|t| t.cast_to::<f32>().map(|t| t.into_owned()))
                .map_err(|e| onnx_error(name, tract_message(&e)))?;
            let view =
                tensor.to_plain_array_view::<f32>().map_err(|e| onnx_error(name, tract_message(&e)))?;
            Ok(view.iter().copied().collect())
        };
        let (mean, var) = (stat(3)?, stat(4)?);
        let epsilon = node.attribute.iter().find(|a| a.name == "epsilon").map_or(1e-5, |a| a.f);
        let rank = ranks.get(&node.input[0]).copied().ok_or_else(|| {
            onnx_error(name, format!("the rank of batch norm `{}`'s input is unknown", node.name))
        })?;
        let c = mean.len() as i64;
        let mut dims = vec![c];
        dims.resize(rank.max(2) - 1, 1);
        let prefix = format!("lossatlas.bn{k}");
        let inv_std: Vec<f32> = var.iter().map(|v| 1.0 / (v + epsilon).sqrt()).collect();
        graph.initializer.push(float_initializer(format!("{prefix}.mean"), dims.clone(), mean));
        graph.initializer.push(float_initializer(format!("{prefix}.inv_std"), dims.clone(), inv_std));
        graph.initializer.push(TensorProto {
            name: format!("{prefix}.shape"),
            dims: vec![dims.len() as i64],
            data_type: DataType::Int64 as i32,
            int64_data: dims.clone(),
            ..Default::default()
        });
        let op = |op: &str, inputs: &[&str], output: &str| NodeProto {
            op_type: op.to_string(),
            name: format!("{prefix}.{output}"),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.to_string()],
            ..Default::default()
        };
        let p = |s: &str| format!("{prefix}.{s}");
        let out = node.output[0].clone();
        let expanded = [
            op("Reshape", &[&node.input[1], &p("shape")], &p("scale")),
            op("Reshape", &[&node.input[2], &p("shape")], &p("shift")),
            op("Sub", &[&node.input[0], &p("mean")], &p("centred")),
            op("Mul", &[&p("centred"), &p("inv_std")], &p("normed")),
            op("Mul", &[&p("normed"), &p("scale")], &p("scaled")),
            op("Add", &[&p("scaled"), &p("shift")], &out),
        ];
        graph.node.splice(at..at, expanded);
        k += 1;
    }
    Ok(())
}

/// The width of a `[batch, width]` output.
fn output_width(name: &str, fact: &TypedFact) -> Result<usize> {
    let dims: Vec<Option<usize>> = fact.shape.iter().map(|d| d.to_usize().ok()).collect();
    match dims[..] {
        [_, Some(width)] if width > 0 => Ok(width),
        [_] => Ok(1),
        _ => Err(onnx_error(
            name,
            format!(
                "the model's output has shape {:?}; lossatlas scores outputs of shape (batch, classes) or (batch, targets)",
                fact.shape
            ),
        )),
    }
}

/// A runnable graph for chunks of one size.
type Plan = Arc<TypedRunnableModel>;

/// A model on its data: the loss and accuracy at any parameters, and over planes.
#[derive(Debug)]
pub struct OnnxObjective {
    model: OnnxModel,
    loss: OnnxLoss,
    n: usize,
    /// The output width (0 for a model that outputs its loss).
    outputs: usize,
    targets_width: usize,
    sample: Vec<usize>,
    /// The data in chunks of [`CHUNK`] samples (the last one shorter), as tract tensors.
    chunks: Vec<Chunk>,
    /// Labels, or targets in float32 as the logits.
    targets: TargetData<f32>,
}

/// Some consecutive samples as the graph takes them.
#[derive(Debug)]
struct Chunk {
    rows: usize,
    x: TValue,
    /// The targets, for a model that computes its own loss.
    y: Option<TValue>,
}

impl OnnxObjective {
    /// Pairs a model with data: the samples' shape must be the model's input shape, and the
    /// targets must suit the loss and the output width.
    pub fn new(model: &OnnxModel, samples: &Samples, loss: OnnxLoss) -> Result<OnnxObjective> {
        let name = &model.name;
        let sample = samples.sample_shape().to_vec();
        let declared = &model.sample_shape;
        let fits = declared.len() == sample.len()
            && declared.iter().zip(&sample).all(|(d, s)| d.is_none_or(|d| d == *s));
        let flat_fits = declared.iter().all(Option::is_some)
            && declared.iter().map(|d| d.unwrap_or(0)).product::<usize>() == samples.n_features();
        let sample: Vec<usize> = if fits {
            sample
        } else if flat_fits {
            declared.iter().map(|d| d.unwrap_or(0)).collect()
        } else {
            let shown: Vec<String> =
                declared.iter().map(|d| d.map_or("?".into(), |d| d.to_string())).collect();
            return Err(onnx_error(
                name,
                format!(
                    "the model's input `{}` takes samples of shape ({}) but data `{}` has samples of shape {:?}; \
                     give data of the model's input shape",
                    model.input,
                    shown.join(", "),
                    samples.name(),
                    samples.sample_shape()
                ),
            ));
        };
        if model.targets_input.is_some() != (loss == OnnxLoss::Output) {
            return Err(onnx_error(
                name,
                match &model.targets_input {
                    Some(t) => format!(
                        "the model takes the targets as input `{}`, so it ends in its own loss; use --loss output",
                        t.name
                    ),
                    None => "--loss output needs a model that takes the targets as a second input and \
                             outputs its loss; this one takes only the samples"
                        .to_string(),
                },
            ));
        }
        let outputs = match loss {
            OnnxLoss::Output => 0,
            OnnxLoss::Head(_) if model.outputs > 0 => model.outputs,
            OnnxLoss::Head(_) => {
                let typed = model.typed_model(&[], 1, &sample, 1)?;
                output_width(name, typed.output_fact(0).map_err(|e| onnx_error(name, tract_message(&e)))?)?
            }
        };
        match (samples.targets(), loss) {
            (Targets::Classes { labels, .. }, OnnxLoss::Head(Head::CrossEntropy)) => {
                if let Some(row) = labels.iter().position(|&l| l as usize >= outputs) {
                    return Err(Error::Invalid(format!(
                        "data `{}`: label {} in row {row} is out of range for the model's {outputs} outputs; \
                         labels must be 0..{}",
                        samples.name(),
                        labels[row],
                        outputs - 1
                    )));
                }
            }
            (Targets::Values { width, .. }, OnnxLoss::Head(Head::Mse)) => {
                if *width != outputs {
                    return Err(Error::Invalid(format!(
                        "data `{}` has {width} target(s) per sample but the model has {outputs} output(s); \
                         give one target column per output",
                        samples.name()
                    )));
                }
            }
            (_, OnnxLoss::Output) => {}
            (Targets::Classes { .. }, OnnxLoss::Head(Head::Mse)) => {
                return Err(Error::Invalid(
                    "mse needs numeric targets, not class labels; use --loss cross-entropy".into(),
                ))
            }
            (Targets::Values { .. }, OnnxLoss::Head(Head::CrossEntropy)) => {
                return Err(Error::Invalid(
                    "cross-entropy needs class labels; use --loss mse for numeric targets".into(),
                ))
            }
        }
        let targets_width = match samples.targets() {
            Targets::Classes { .. } => 1,
            Targets::Values { width, .. } => *width,
        };
        let per_sample = samples.n_features();
        let n = samples.len();
        let fail = |e: TractError| onnx_error(name, tract_message(&e));
        let chunks = (0..n)
            .step_by(CHUNK)
            .map(|start| {
                let rows = CHUNK.min(n - start);
                let values: Vec<f32> = samples.features()[start * per_sample..(start + rows) * per_sample]
                    .iter()
                    .map(|&v| v as f32)
                    .collect();
                let mut shape = vec![rows];
                shape.extend_from_slice(&sample);
                let x = Tensor::from_shape(&shape, &values).map_err(fail)?.into_tvalue();
                let y = match &model.targets_input {
                    None => None,
                    Some(t) => {
                        let dims = if t.rank == 1 { vec![rows] } else { vec![rows, targets_width] };
                        let range = start * targets_width..(start + rows) * targets_width;
                        let tensor = match samples.targets() {
                            Targets::Values { values, .. } if t.integer => {
                                let ints: Vec<i64> = values[range].iter().map(|&v| v as i64).collect();
                                Tensor::from_shape(&dims, &ints)
                            }
                            Targets::Values { values, .. } => {
                                let floats: Vec<f32> = values[range].iter().map(|&v| v as f32).collect();
                                Tensor::from_shape(&dims, &floats)
                            }
                            Targets::Classes { labels, .. } => {
                                let ints: Vec<i64> = labels[range].iter().map(|&l| i64::from(l)).collect();
                                Tensor::from_shape(&dims, &ints)
                            }
                        };
                        Some(tensor.map_err(fail)?.into_tvalue())
                    }
                };
                Ok(Chunk { rows, x, y })
            })
            .collect::<Result<Vec<_>>>()?;
        let targets = match samples.targets() {
            Targets::Classes { labels, .. } => TargetData::Classes(labels.clone()),
            Targets::Values { values, .. } => TargetData::Values(values.iter().map(|&v| v as f32).collect()),
        };
        Ok(OnnxObjective { model: model.clone(), loss, n, outputs, targets_width, sample, chunks, targets })
    }

    /// The model.
    pub fn model(&self) -> &OnnxModel {
        &self.model
    }

    /// The output width.
    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// How the outputs are scored.
    pub fn loss(&self) -> OnnxLoss {
        self.loss
    }

    /// The loss and accuracy at `params`.
    pub fn evaluate(&self, params: &[f64]) -> Result<Evaluation> {
        check_len(&self.model, "the parameters", params)?;
        let zero = vec![0.0; params.len()];
        let own = &self.model.values;
        let moving = self.tensors_where(|r| differ(&params[r.clone()], &own[r]));
        let plane = self.plane_moving(params, &zero, &zero, moving)?;
        plane.at(0.0, 0.0)
    }

    /// A plane origin + u d1 + v d2, ready to evaluate: the graph is rewritten and optimized once
    /// here, with every parameter tensor that is nonzero in `d1` or `d2` as an input.
    pub fn plane(&self, origin: &[f64], d1: &[f64], d2: &[f64]) -> Result<OnnxPlane<'_>> {
        for (what, v) in [("the origin", origin), ("the first direction", d1), ("the second direction", d2)] {
            check_len(&self.model, what, v)?;
        }
        let own = &self.model.values;
        let moving = self.tensors_where(|r| {
            // Where the origin is not the model's own weights, those tensors must be fed too.
            d1[r.clone()].iter().chain(&d2[r.clone()]).any(|&x| x != 0.0)
                || differ(&origin[r.clone()], &own[r])
        });
        self.plane_moving(origin, d1, d2, moving)
    }

    /// Indices (in order) of the parameter tensors whose range of the flat vector `moves` holds.
    fn tensors_where(&self, moves: impl Fn(std::ops::Range<usize>) -> bool) -> Vec<usize> {
        slots(&self.model)
            .into_iter()
            .enumerate()
            .filter(|(_, slot)| moves(slot.range.clone()))
            .map(|(i, _)| i)
            .collect()
    }

    fn plane_moving(
        &self,
        origin: &[f64],
        d1: &[f64],
        d2: &[f64],
        moving: Vec<usize>,
    ) -> Result<OnnxPlane<'_>> {
        let sizes: Vec<usize> = {
            let mut s: Vec<usize> = self.chunks.iter().map(|c| c.rows).collect();
            s.dedup();
            s
        };
        let mut plans = Vec::with_capacity(sizes.len());
        for &rows in &sizes {
            let typed = self.model.typed_model(&moving, rows, &self.sample, self.targets_width)?;
            let fail = |e: TractError| onnx_error(&self.model.name, tract_message(&e));
            let width = match self.loss {
                OnnxLoss::Output => 0,
                OnnxLoss::Head(_) => output_width(&self.model.name, typed.output_fact(0).map_err(fail)?)?,
            };
            if width != self.outputs {
                return Err(onnx_error(
                    &self.model.name,
                    format!("the output width changed from {} to {width} with the batch size", self.outputs),
                ));
            }
            let plan = typed.into_optimized().and_then(|m| m.into_runnable()).map_err(fail)?;
            plans.push((rows, plan));
        }
        let slots = slots(&self.model);
        let slices = |v: &[f64]| -> Vec<Vec<f64>> {
            moving.iter().map(|&i| v[slots[i].range.clone()].to_vec()).collect()
        };
        Ok(OnnxPlane {
            objective: self,
            plans,
            shapes: moving.iter().map(|&i| self.model.params[i].shape.clone()).collect(),
            origin: slices(origin),
            d1: slices(d1),
            d2: slices(d2),
        })
    }
}

/// A plane through an ONNX model's parameters with its graph built; see [`OnnxObjective::plane`].
#[allow(missing_debug_implementations)]
pub struct OnnxPlane<'a> {
    objective: &'a OnnxObjective,
    plans: Vec<(usize, Plan)>,
    shapes: Vec<Vec<usize>>,
    origin: Vec<Vec<f64>>,
    d1: Vec<Vec<f64>>,
    d2: Vec<Vec<f64>>,
}

impl OnnxPlane<'_> {
    /// How many parameter tensors move on this plane (the graph's inputs besides the data).
    pub fn moving_tensors(&self) -> usize {
        self.shapes.len()
    }

    /// The loss and accuracy at origin + u d1 + v d2.
    pub fn at(&self, u: f64, v: f64) -> Result<Evaluation> {
        let o = self.objective;
        let fail = |e: TractError| onnx_error(&o.model.name, tract_message(&e));
        let params: Vec<TValue> = self
            .shapes
            .iter()
            .enumerate()
            .map(|(t, shape)| {
                let values: Vec<f32> = self.origin[t]
                    .iter()
                    .zip(&self.d1[t])
                    .zip(&self.d2[t])
                    .map(|((&w, &a), &b)| (w + u * a + v * b) as f32)
                    .collect();
                Tensor::from_shape(shape, &values).map(IntoTValue::into_tvalue)
            })
            .collect::<TractResult<_>>()
            .map_err(fail)?;
        let (mut sum, mut correct, mut start) = (0.0, 0usize, 0usize);
        for chunk in &o.chunks {
            let rows = chunk.rows;
            let plan = &self.plans.iter().find(|(r, _)| *r == rows).expect("a plan per chunk size").1;
            let mut inputs: TVec<TValue> = tvec![chunk.x.clone()];
            inputs.extend(chunk.y.iter().cloned());
            inputs.extend(params.iter().cloned());
            let outputs = plan.run(inputs).map_err(fail)?;
            let output: Vec<f32> =
                outputs[0].to_plain_array_view::<f32>().map_err(fail)?.iter().copied().collect();
            match o.loss {
                OnnxLoss::Head(_) => {
                    let targets = o.targets.rows(start, start + rows, o.outputs);
                    let (s, c) = score(o.outputs, &output, rows, targets, None, 0.0);
                    sum += s;
                    correct += c;
                }
                // The batch's mean loss, or one loss per sample.
                OnnxLoss::Output => match output.len() {
                    1 => sum += f64::from(output[0]) * rows as f64,
                    len if len == rows => sum += output.iter().map(|&l| f64::from(l)).sum::<f64>(),
                    len => {
                        return Err(onnx_error(
                            &o.model.name,
                            format!(
                                "--loss output: the model's output has {len} values for a batch of {rows}; \
                                 it should be the loss, one value or one per sample"
                            ),
                        ))
                    }
                },
            }
            start += rows;
        }
        let (divisor, accuracy) = match o.loss {
            OnnxLoss::Head(Head::CrossEntropy) => (o.n, Some(correct as f64 / o.n as f64)),
            OnnxLoss::Head(Head::Mse) => (o.n * o.outputs, None),
            OnnxLoss::Output => (o.n, None),
        };
        Ok(Evaluation { loss: sum / divisor as f64, accuracy })
    }

    /// The loss (and accuracy, for classes) over the grid `us` x `vs`, rows along `vs`; the
    /// points run in parallel. A point the runtime fails on is an error, a non-finite loss is not.
    pub fn evaluate(&self, us: &[f64], vs: &[f64]) -> Result<PlaneValues> {
        let points: Vec<Result<Evaluation>> =
            super::map_ordered(0..us.len() * vs.len(), |k| self.at(us[k % us.len()], vs[k / us.len()]));
        let mut loss = Vec::with_capacity(points.len());
        let mut accuracy = Vec::with_capacity(points.len());
        for p in points {
            let p = p?;
            loss.push(p.loss);
            accuracy.extend(p.accuracy);
        }
        let classes = self.objective.loss == OnnxLoss::Head(Head::CrossEntropy);
        Ok(PlaneValues { nu: us.len(), nv: vs.len(), loss, accuracy: classes.then_some(accuracy) })
    }
}

/// Whether two parameter slices differ in any bit (a tensor whose values are not the model's
/// own must be fed to the graph, even where they compare equal as numbers, such as -0 and 0).
fn differ(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).any(|(x, y)| x.to_bits() != y.to_bits())
}
