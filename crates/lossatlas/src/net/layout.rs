//! How a network's flat parameter vector is cut into named tensors.
//!
//! Everything that reads or writes parameters by name (direction files, saved directions) or
//! treats tensors differently by kind (filter-wise normalization scales the rows of weight
//! tensors and leaves biases to their own rule) needs only this view of a network, so it works
//! alike for an [`Mlp`](super::Mlp) and for any network read from an ONNX file.

/// A network's parameters as named tensors laid end to end in one flat vector.
pub trait ParamLayout {
    /// Each tensor's name and shape, in flat-vector order.
    fn tensors(&self) -> Vec<(String, Vec<usize>)>;

    /// What the network is, for messages: `2-64-64-2 tanh, cross-entropy`, `cnn.onnx`.
    fn describe(&self) -> String;

    /// The length of the flat vector.
    fn n_params(&self) -> usize {
        self.tensors().iter().map(|(_, shape)| shape.iter().product::<usize>()).sum()
    }
}

/// One tensor's place in the flat vector and how normalization treats it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TensorSlot {
    /// Where the tensor's values are in the flat vector.
    pub range: std::ops::Range<usize>,
    /// Values per filter: the product of every axis but the first (one output neuron's incoming
    /// weights, or one output channel's kernel); `None` for a tensor of rank 0 or 1 (a bias, a
    /// batch-norm scale or shift), which Li et al. treat apart from the weights.
    pub filter_len: Option<usize>,
}

/// The tensors of `layout` with their ranges.
pub(crate) fn slots(layout: &(impl ParamLayout + ?Sized)) -> Vec<TensorSlot> {
    let mut offset = 0;
    layout
        .tensors()
        .into_iter()
        .map(|(_, shape)| {
            let len: usize = shape.iter().product();
            let range = offset..offset + len;
            offset += len;
            let filter_len = (shape.len() >= 2).then(|| shape[1..].iter().product());
            TensorSlot { range, filter_len }
        })
        .collect()
}

/// Checks that `values` has one entry per parameter of `layout`.
pub(crate) fn check_len(
    layout: &(impl ParamLayout + ?Sized),
    what: &str,
    values: &[f64],
) -> crate::error::Result<()> {
    let n = layout.n_params();
    if values.len() != n {
        return Err(crate::error::Error::Invalid(format!(
            "{what} has {} values but the network ({}) has {n} parameters; use weights made for this network",
            values.len(),
            layout.describe(),
        )));
    }
    Ok(())
}
