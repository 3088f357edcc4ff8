"""lossatlas: see what a loss function looks like.

The engine of the ``lossatlas`` command line under a small numpy API. Models carry their data:

- :class:`Formula` -- a formula such as ``"sin(b*cos(a*x))"`` with data arrays and a loss;
- :class:`Mlp` -- a trained multilayer perceptron (a ``.safetensors`` file or a PyTorch
  ``state_dict``) with its features and labels or targets; it is a :class:`Network`;
- :class:`Onnx` -- any network exported to ONNX (a file or its bytes) with its data, also a
  :class:`Network`; :func:`from_torch` makes one from a ``torch.nn.Module`` in one call.

Their methods mirror the command line's nouns and return typed results whose arrays are numpy
arrays: ``plane`` (a :class:`Landscape`, rows along the second direction as the NPY export),
``line`` (:class:`Line`), ``pca`` (:class:`Pca`), ``hessian`` (:class:`Hessian`), ``descend``
(:class:`Descent`) and ``analyze`` (:class:`Analysis`); the module-level functions of the same
names call them. A landscape shows the interactive page inline in Jupyter, draws with matplotlib
(``.plot()``) or lossatlas's own renderer (``.save("fig.png")``), and exports to xarray
(``.to_xarray()``) and ParaView (``.export("plane.vts")``).

Every computation releases the GIL. Bad arguments raise :class:`LossatlasError` (a
``ValueError``) or one of its subclasses, with the command line's one-line messages.
"""

from ._lossatlas import (
    Analysis,
    DataError,
    Descent,
    Formula,
    FormulaError,
    GridError,
    Hessian,
    Landscape,
    Line,
    LossatlasError,
    Mlp,
    Network,
    Onnx,
    Pca,
    WeightsError,
    __version__,
    dataset,
)

__all__ = [
    "Analysis",
    "DataError",
    "Descent",
    "Formula",
    "FormulaError",
    "GridError",
    "Hessian",
    "Landscape",
    "Line",
    "LossatlasError",
    "Mlp",
    "Network",
    "Onnx",
    "Pca",
    "WeightsError",
    "__version__",
    "analyze",
    "dataset",
    "descend",
    "from_torch",
    "hessian",
    "line",
    "pca",
    "plane",
]


def plane(model, /, **kwargs):
    """The loss over a plane of ``model`` (a Formula or a Network): ``model.plane(**kwargs)``."""
    return model.plane(**kwargs)


def line(network, /, **kwargs):
    """The loss along a line through a network's weights: ``network.line(**kwargs)``."""
    return network.line(**kwargs)


def pca(network, path, /, **kwargs):
    """A training path in its principal plane: ``network.pca(path, **kwargs)``."""
    return network.pca(path, **kwargs)


def hessian(model, /, *args, **kwargs):
    """The Hessian's eigenvalues: ``model.hessian(*args, **kwargs)``."""
    return model.hessian(*args, **kwargs)


def descend(formula, start, /, **kwargs):
    """An optimizer's path from ``start``: ``formula.descend(start, **kwargs)``."""
    return formula.descend(start, **kwargs)


def analyze(formula, /, **kwargs):
    """What ``lossatlas analyze`` measures: ``formula.analyze(**kwargs)``."""
    return formula.analyze(**kwargs)


def from_torch(
    module: "torch.nn.Module",  # noqa: F821 - torch is optional
    example_input: "ArrayLike",  # noqa: F821
    x: "ArrayLike",  # noqa: F821
    y: "ArrayLike",  # noqa: F821
    /,
    *,
    loss: str = "cross-entropy",
    name: str = "data",
    opset: int = 17,
) -> Onnx:
    """A :class:`Onnx` network from a ``torch.nn.Module``, exported to ONNX in memory.

    ``example_input`` is one batch the module accepts (a tensor or array; its batch axis is
    exported as dynamic); ``x`` and ``y`` are the data and labels (or targets) to slice the loss
    on, as for :class:`Onnx`. The module is exported in eval mode (batch norm with its running
    statistics, no dropout) and left as it was. Needs ``torch`` (and ``onnx`` for its exporter):
    ``pip install lossatlas[torch]``.
    """
    import io
    import warnings

    try:
        import torch
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("lossatlas.from_torch needs PyTorch: pip install torch onnx") from e
    if not isinstance(module, torch.nn.Module):
        raise LossatlasError(f"from_torch: module must be a torch.nn.Module, not {type(module).__name__}")
    example = example_input if isinstance(example_input, torch.Tensor) else torch.as_tensor(example_input)
    example = example.to(torch.float32)
    was_training = module.training
    buffer = io.BytesIO()
    options = dict(
        input_names=["x"],
        output_names=["output"],
        dynamic_axes={"x": {0: "batch"}, "output": {0: "batch"}},
        opset_version=opset,
    )
    try:
        module.eval()
        with torch.no_grad(), warnings.catch_warnings():
            # The TorchScript exporter: no extra packages (the torch.export one needs onnxscript),
            # a dynamic batch axis as asked; torch 2.9+ calls it legacy, which the user need not see.
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                torch.onnx.export(module, (example,), buffer, dynamo=False, **options)
            except TypeError:  # torch before 2.5 has no `dynamo` keyword
                buffer = io.BytesIO()
                torch.onnx.export(module, (example,), buffer, **options)
    finally:
        module.train(was_training)
    return Onnx(buffer.getvalue(), x, y, loss=loss, name=name)
