"""lossatlas: see what a loss function looks like.

The engine of the ``lossatlas`` command line under a small numpy API. Models carry their data:

- :class:`Formula` -- a formula such as ``"sin(b*cos(a*x))"`` with data arrays and a loss;
- :class:`Mlp` -- a trained multilayer perceptron (a ``.safetensors`` file or a PyTorch
  ``state_dict``) with its features and labels or targets; it is a :class:`Network`.

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
    "Pca",
    "WeightsError",
    "__version__",
    "analyze",
    "dataset",
    "descend",
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
