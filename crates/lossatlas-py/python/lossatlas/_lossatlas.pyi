"""Type hints for the compiled module ``lossatlas._lossatlas`` (re-exported by ``lossatlas``)."""

import os
from typing import Any, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str

ArrayLike = npt.ArrayLike
Path = Union[str, os.PathLike]
Range = Tuple[float, float]
Resolution = Union[int, Tuple[int, int]]
Point = Union[ArrayLike, Mapping[str, float]]
StateDict = Mapping[str, ArrayLike]

class LossatlasError(ValueError):
    """A value lossatlas cannot use; the message (the command line's) names it and the fix."""

class FormulaError(LossatlasError):
    """A formula that does not parse or names something unknown."""

class DataError(LossatlasError):
    """Data that cannot be used: bad shapes, non-finite values, labels out of range, too few rows."""

class WeightsError(LossatlasError):
    """Weights or directions that do not form the expected network."""

class GridError(LossatlasError):
    """A grid range or resolution that cannot be used, or a grid too large for memory."""

def dataset(
    name: str, n: int = 1000, noise: float = 0.1, seed: int = 0, classes: int = 3
) -> Tuple[np.ndarray, np.ndarray]:
    """A seeded synthetic data set as ``lossatlas net --dataset`` makes it.

    ``name`` is "moons", "circles", "spirals" or "blobs" (``classes`` for the last two). Returns
    ``(x, labels)``: float64 features of shape (n, 2) and int64 labels of shape (n,).
    """

class Formula:
    """A formula model y = f(inputs; parameters) with its data and loss.

    ``expr`` is a formula such as ``"sin(b*cos(a*x))"``: names that are inputs (``inputs``,
    default ``x`` for one column of ``x``, ``x1, x2, ...`` for several) are read from the data,
    every other name is a parameter (in order of appearance unless ``params`` orders them).
    ``x`` has shape (n,) or (n, d), ``y`` shape (n,). ``loss`` is "mse", "mae", "huber", ... as
    the command line's ``--loss``.

    Raises FormulaError for a formula that does not parse, DataError for bad data.
    """

    def __init__(
        self,
        expr: str,
        x: ArrayLike,
        y: ArrayLike,
        *,
        loss: str = "mse",
        inputs: Optional[Sequence[str]] = None,
        params: Optional[Sequence[str]] = None,
        name: str = "data",
    ) -> None: ...
    @property
    def params(self) -> list[str]:
        """The parameter names, in order."""
    def loss(self, theta: Point) -> float:
        """The loss at ``theta`` (one value per parameter, or a dict by name)."""
    def gradient(self, theta: Point) -> Tuple[float, np.ndarray]:
        """The loss and its exact gradient at ``theta``."""
    def plane(
        self,
        ranges: Optional[Mapping[str, Range]] = None,
        resolution: Optional[Resolution] = None,
        axes: Optional[Tuple[str, str]] = None,
        at: Optional[Mapping[str, float]] = None,
    ) -> Landscape:
        """The loss over a grid of two parameters (``lossatlas contour``).

        ``axes`` names the two (default: both parameters of a two-parameter formula), ``at``
        holds the others fixed, ``ranges`` gives each axis's (lo, hi) by name (default -5 to 5),
        ``resolution`` the points per axis (default 101).
        """
    def descend(
        self, start: Point, optimizer: str = "gd:lr=0.1", steps: int = 400, tolerance: float = 1e-8
    ) -> Descent:
        """An optimizer's path from ``start`` (``lossatlas descend``).

        ``optimizer`` as the command line writes it: "gd:lr=0.1", "momentum:lr=0.05,beta=0.9",
        "adam:lr=0.1", ... At most ``steps`` steps; stops early when the gradient norm falls
        below ``tolerance``.
        """
    def analyze(
        self,
        ranges: Optional[Mapping[str, Range]] = None,
        resolution: Optional[Resolution] = None,
        axes: Optional[Tuple[str, str]] = None,
        at: Optional[Mapping[str, float]] = None,
    ) -> Analysis:
        """What ``lossatlas analyze`` measures on that plane (default resolution 61)."""
    def hessian(self, at: Point) -> Hessian:
        """The exact Hessian at ``at``, its eigenvalues (largest first) and eigenvectors."""

class Network:
    """A trained network with its data and loss. Create one with :class:`Mlp`."""

    @property
    def weights(self) -> np.ndarray:
        """The trained weights, flat, in state_dict order."""
    @property
    def n_params(self) -> int:
        """The number of weights."""
    @property
    def description(self) -> str:
        """The network, e.g. "2-64-64-2 tanh, cross-entropy"."""
    def evaluate(self, weights: Optional[Union[ArrayLike, StateDict]] = None) -> Tuple[float, Optional[float]]:
        """Loss and accuracy (None for regression) at ``weights`` (default: the trained ones)."""
    def plane(
        self,
        directions: Optional[Union[str, Tuple[Union[ArrayLike, StateDict], Union[ArrayLike, StateDict]]]] = None,
        range: Optional[Union[Range, Tuple[Range, Range]]] = None,
        resolution: Optional[Resolution] = None,
        seed: int = 1,
        bias: str = "zero",
        orthogonalize: bool = False,
    ) -> Landscape:
        """The loss and accuracy over a plane through the trained weights (``lossatlas net plane``).

        ``directions``: "filter" (Li et al. 2018's filter-normalized random directions, the
        default), "layer", "none", "hessian" (the Hessian's top two eigenvectors) or two arrays
        (flat, or dicts with the state_dict's names). ``seed`` draws the random directions (the
        command line's ``--seed``, default 1), ``bias`` "zero" or "normalize" their bias entries.
        ``range`` (lo, hi) for both axes or one per axis, default (-1, 1); ``resolution`` default 51.
        """
    def line(
        self,
        start: Optional[Union[ArrayLike, StateDict]] = None,
        direction: Optional[Union[ArrayLike, StateDict]] = None,
        range: Optional[Range] = None,
        resolution: int = 51,
        seed: int = 1,
        normalization: str = "filter",
        bias: str = "zero",
    ) -> Line:
        """The loss along a straight line (``lossatlas net line``).

        From ``start`` (alpha 0, e.g. the initial weights) to the trained weights (alpha 1),
        default range (-0.5, 1.5); or along ``direction`` from the trained weights; or along a
        random ``normalization``-normalized direction, default range (-1, 1).
        """
    def pca(
        self,
        path: Union[ArrayLike, Path],
        range: Optional[Union[Range, Tuple[Range, Range]]] = None,
        resolution: Optional[Resolution] = None,
    ) -> Pca:
        """A training path in its principal plane (``lossatlas net pca``).

        ``path``: snapshots of shape (snapshots, n_params), or a path file written by
        ``lossatlas net train --record-path``. The range defaults to the projected path with a
        quarter of its extent as margin.
        """
    def hessian(
        self,
        top: int = 5,
        tol: float = 1e-3,
        lanczos_steps: int = 200,
        probes: int = 100,
        density_probes: int = 1,
        density_steps: int = 90,
        seed: int = 0,
    ) -> Hessian:
        """The curvature at the trained weights (``lossatlas net hessian``, as PyHessian): the
        ``top`` largest eigenvalues (Lanczos), the trace (Hutchinson) and the eigenvalue density
        (stochastic Lanczos quadrature), from exact Hessian-vector products."""

class Mlp(Network):
    """A multilayer perceptron (PyTorch's ``nn.Sequential`` of ``nn.Linear`` layers with one
    activation between them) with its data and loss.

    ``weights``: a ``.safetensors`` file saved from ``model.state_dict()``, or the state_dict
    itself (names "0.weight" of shape [out, in], "0.bias", "2.weight", ...; numpy arrays or
    anything ``numpy.asarray`` reads). ``x``: features (n, d). ``y``: class labels (n,) for
    ``loss="cross-entropy"``, targets (n,) or (n, k) for ``loss="mse"``. ``activation``: relu,
    tanh, sigmoid, gelu or identity. ``precision``: "f32" (as PyTorch) or "f64".

    Raises WeightsError for weights that do not form a network, DataError for data that does
    not fit it.
    """

    def __init__(
        self,
        weights: Union[Path, StateDict],
        x: ArrayLike,
        y: ArrayLike,
        *,
        activation: str = "tanh",
        loss: str = "cross-entropy",
        precision: str = "f32",
        name: str = "data",
    ) -> None: ...

class Onnx(Network):
    """Any network exported to ONNX (``torch.onnx.export(model, example, "model.onnx")``) with
    its data and loss. Its weights are the graph's float initializers (the tensors a plane
    perturbs); it runs in float32, as exported, on tract, a pure-Rust ONNX runtime.

    ``model``: an ``.onnx`` file or the model's bytes. ``x``: inputs (n, ...) in the model's
    input shape, e.g. images (n, C, H, W). ``y``: class labels (n,) for
    ``loss="cross-entropy"``, targets (n,) or (n, k) for ``loss="mse"``.

    Raises WeightsError for a file that is not a usable ONNX model (naming an unsupported
    operator), DataError for data that does not fit it. ``hessian()`` and
    ``plane(directions="hessian")`` need an :class:`Mlp`.
    """

    def __init__(
        self,
        model: Union[Path, bytes],
        x: ArrayLike,
        y: ArrayLike,
        *,
        loss: str = "cross-entropy",
        name: str = "data",
    ) -> None: ...

class Landscape:
    """The loss over a grid of a plane theta(u, v) = origin + u * d1 + v * d2."""

    @property
    def values(self) -> np.ndarray:
        """The loss, float64 of shape (n_v, n_u): rows along the second direction (NPY export)."""
    @property
    def accuracy(self) -> Optional[np.ndarray]:
        """The accuracy in the same shape (a classifier network's plane), or None."""
    @property
    def u(self) -> np.ndarray:
        """The grid along the first direction (the columns)."""
    @property
    def v(self) -> np.ndarray:
        """The grid along the second direction (the rows)."""
    @property
    def names(self) -> Tuple[str, str]:
        """The axis names."""
    @property
    def origin(self) -> np.ndarray:
        """The plane's origin (every parameter)."""
    @property
    def directions(self) -> np.ndarray:
        """The plane's two directions, shape (2, n_params)."""
    @property
    def minimum(self) -> Optional[Tuple[float, float, float]]:
        """The lowest finite loss on the grid as (u, v, loss)."""
    @property
    def title(self) -> str:
        """What the landscape shows."""
    @property
    def shape(self) -> Tuple[int, int]:
        """(n_v, n_u)."""
    def point(self, u: float, v: float) -> np.ndarray:
        """The parameters at (u, v) of the plane."""
    def export(self, path: Path) -> None:
        """Writes .json, .csv, .npy or .vts (VTK structured grid for ParaView)."""
    def vts(self) -> bytes:
        """The landscape as a VTK structured grid (.vts XML)."""
    def save(
        self,
        path: Path,
        kind: str = "contour",
        levels: Optional[Union[int, Sequence[float]]] = None,
        size: Optional[Tuple[int, int]] = None,
        paths: Optional[Union[Descent, Sequence[Descent]]] = None,
    ) -> None:
        """Draws .png or .svg with lossatlas's renderer: ``kind`` "contour" or "surface"."""
    def page_html(self, paths: Optional[Union[Descent, Sequence[Descent]]] = None) -> str:
        """The interactive page: one self-contained HTML document that needs no network."""
    def _repr_html_(self) -> str:
        """The interactive page inline in Jupyter (an iframe, offline)."""
    def plot(self, ax: Any = None, levels: Optional[Union[int, Sequence[float]]] = None, filled: bool = True) -> Any:
        """Draws with matplotlib on ``ax`` (a new figure if None); returns the axes. Needs matplotlib."""
    def to_xarray(self) -> Any:
        """An ``xarray.DataArray`` (a Dataset with the accuracy, if any). Needs xarray."""

class Line:
    """The loss along weights(alpha) = origin + alpha * direction."""

    @property
    def alpha(self) -> np.ndarray: ...
    @property
    def loss(self) -> np.ndarray: ...
    @property
    def accuracy(self) -> Optional[np.ndarray]: ...
    @property
    def description(self) -> str: ...

class Pca:
    """A training path in its principal plane, with what the picture hides: each snapshot's
    distance from the plane and its true loss beside the plane's loss at its projection."""

    @property
    def explained_variance_ratio(self) -> np.ndarray: ...
    @property
    def projection(self) -> np.ndarray:
        """Each snapshot's (u, v), shape (snapshots, 2)."""
    @property
    def distance(self) -> np.ndarray: ...
    @property
    def loss(self) -> np.ndarray: ...
    @property
    def plane_loss(self) -> np.ndarray: ...
    @property
    def landscape(self) -> Landscape: ...

class Hessian:
    """The largest Hessian eigenvalues (largest first) with eigenvectors; for a network also the
    trace estimate and the eigenvalue density; for a formula the whole matrix."""

    @property
    def eigenvalues(self) -> np.ndarray: ...
    @property
    def eigenvectors(self) -> np.ndarray:
        """One unit eigenvector per row."""
    @property
    def trace(self) -> Optional[float]: ...
    @property
    def trace_stderr(self) -> Optional[float]: ...
    @property
    def density(self) -> Optional[Tuple[np.ndarray, np.ndarray]]: ...
    @property
    def matrix(self) -> Optional[np.ndarray]: ...
    @property
    def condition_number(self) -> Optional[float]: ...

class Descent:
    """An optimizer's path through the full parameter space."""

    @property
    def params(self) -> np.ndarray:
        """Shape (steps + 1, n_params)."""
    @property
    def loss(self) -> np.ndarray: ...
    @property
    def grad(self) -> np.ndarray: ...
    @property
    def stopped(self) -> str:
        """"max_steps", "converged" or "diverged"."""
    @property
    def optimizer(self) -> str: ...
    @property
    def final_params(self) -> np.ndarray: ...
    def to_json(self) -> str:
        """The command line's trajectory JSON."""

class Analysis:
    """What ``lossatlas analyze`` measures: minimum, Hessian, conditioning, step sizes."""

    def to_dict(self) -> dict[str, Any]:
        """The whole report (``lossatlas analyze --json``)."""
    @property
    def minimum(self) -> Optional[dict[str, Any]]: ...
    @property
    def minimum_at(self) -> Optional[np.ndarray]: ...
    @property
    def minimum_loss(self) -> Optional[float]: ...
    @property
    def eigenvalues(self) -> Optional[np.ndarray]: ...
    @property
    def condition_number(self) -> Optional[float]: ...
    @property
    def max_stable_learning_rate(self) -> Optional[float]: ...
    @property
    def critical_points(self) -> list[dict[str, Any]]: ...
    @property
    def statement(self) -> Optional[str]: ...
