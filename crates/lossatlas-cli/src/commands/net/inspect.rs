//! `lossatlas net inspect FILE`: what a network file holds, so a user sees which tensors a plane
//! will perturb before computing one.

use anyhow::Result;
use lossatlas::net::{read_weights, Activation, Head};

use super::is_onnx;
use crate::args::NetInspectArgs;

pub fn run(args: &NetInspectArgs) -> Result<()> {
    if is_onnx(&args.file) {
        return onnx(args);
    }
    // The activation does not change the tensors; any will do to read them.
    let loaded = read_weights(&args.file, Activation::Identity, Head::CrossEntropy)?;
    say!(
        "{}: a {}-layer MLP, widths {:?}",
        args.file.display(),
        loaded.mlp.layers().len(),
        loaded.mlp.widths()
    )?;
    table(&loaded.mlp.tensors(), |_| String::new())?;
    say!("{} parameters in all", loaded.mlp.n_params())?;
    Ok(())
}

#[cfg(feature = "onnx")]
fn onnx(args: &NetInspectArgs) -> Result<()> {
    use lossatlas::net::ParamLayout;
    let model = lossatlas::net::OnnxModel::load(&args.file)?;
    let operators: Vec<String> = model.operators().iter().map(|(op, n)| format!("{op} x{n}")).collect();
    say!("{}: an ONNX graph of {}", model.name(), operators.join(", "))?;
    let (input, shape) = model.input();
    let shape: Vec<String> = shape.iter().map(|d| d.map_or("?".into(), |d| d.to_string())).collect();
    say!("data input `{input}`: (batch, {})", shape.join(", "))?;
    if model.outputs() > 0 {
        say!("output: {} values per sample", model.outputs())?;
    }
    say!("trainable tensors (the float initializers a plane perturbs; rank <= 1 get zero random directions by default):")?;
    let params = model.params();
    table(&model.tensors(), |i| params[i].used_by.join(", "))?;
    say!("{} parameters in all", model.values().len())?;
    Ok(())
}

#[cfg(not(feature = "onnx"))]
fn onnx(args: &NetInspectArgs) -> Result<()> {
    anyhow::bail!(
        "{}: this lossatlas was built without ONNX support; build it with --features onnx",
        args.file.display()
    )
}

/// One line per tensor: name, shape, size and `note(index)`.
fn table(tensors: &[(String, Vec<usize>)], note: impl Fn(usize) -> String) -> Result<()> {
    let width = tensors.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (i, (name, shape)) in tensors.iter().enumerate() {
        let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
        let size: usize = shape.iter().product();
        let note = note(i);
        let note = if note.is_empty() { String::new() } else { format!("  ({note})") };
        say!("  {name:<width$}  [{}]  {size}{note}", dims.join(", "))?;
    }
    Ok(())
}
