"""Formula models: arrays in and out, checked against closed forms computed here with numpy."""

import base64
import threading
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import lossatlas as la

# The seed figure's six points.
X = np.arange(6.0)
Y = np.array([1.1, 2.2, 3.8, 4.1, 4.9, 5.2])


def mse_grid(k, b):
    """The mse of y = k*x + b over the grid, by broadcasting: rows b, columns k."""
    kk, bb = np.meshgrid(k, b)
    residual = kk[..., None] * X + bb[..., None] - Y
    return np.mean(residual**2, axis=-1)


def test_plane_values_round_trip_in_the_npy_orientation(tmp_path):
    model = la.Formula("k*x + b", X, Y)
    plane = model.plane(ranges={"k": (0.0, 2.0), "b": (-2.0, 4.0)}, resolution=(7, 5))
    assert plane.names == ("k", "b")
    assert plane.shape == (5, 7) and plane.values.shape == (5, 7)
    assert plane.values.dtype == np.float64
    np.testing.assert_allclose(plane.u, np.linspace(0, 2, 7))
    np.testing.assert_allclose(plane.v, np.linspace(-2, 4, 5))
    np.testing.assert_allclose(plane.values, mse_grid(plane.u, plane.v), rtol=1e-12)
    # The NPY export holds the same array, same orientation.
    plane.export(tmp_path / "plane.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "plane.npy"), plane.values)


def test_inputs_of_any_dtype_and_layout_are_read():
    x_int = np.repeat(np.arange(6), 2)[::2]  # 0..5 as int64, strided
    model = la.Formula("k*x + b", x_int, list(Y))
    assert model.loss([1.0, 0.0]) == pytest.approx(np.mean((X - Y) ** 2), rel=1e-12)


def test_several_inputs_and_a_held_parameter():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 2))
    y = 2 * x[:, 0] - x[:, 1] + 0.5
    model = la.Formula("a*x1 + b*x2 + c", x, y)
    assert model.params == ["a", "b", "c"]
    plane = model.plane(axes=("a", "b"), at={"c": 0.5}, ranges={"a": (1, 3), "b": (-2, 0)}, resolution=21)
    u, v, loss = plane.minimum
    assert (u, v) == pytest.approx((2.0, -1.0)) and loss == pytest.approx(0.0, abs=1e-20)
    np.testing.assert_allclose(plane.point(2.0, -1.0), [2.0, -1.0, 0.5])


def test_descend_and_analyze_find_the_least_squares_line():
    k, b = np.polyfit(X, Y, 1)
    model = la.Formula("k*x + b", X, Y)
    path = la.descend(model, [0.0, 0.0], optimizer="gd:lr=0.05", steps=5000, tolerance=1e-10)
    assert path.stopped == "converged"
    np.testing.assert_allclose(path.final_params, [k, b], rtol=1e-6)
    assert path.params.shape == (len(path.loss), 2)
    analysis = la.analyze(model, ranges={"k": (0, 2), "b": (-2, 4)})
    np.testing.assert_allclose(analysis.minimum_at, [k, b], rtol=1e-8)
    assert analysis.to_dict()["minimum"]["loss"] == pytest.approx(analysis.minimum_loss)


def test_hessian_of_the_linear_mse_is_its_closed_form():
    # mse = mean((k x + b - y)^2): H = 2/n [[sum x^2, sum x], [sum x, n]], the same everywhere.
    n = len(X)
    expected = 2.0 / n * np.array([[np.sum(X**2), np.sum(X)], [np.sum(X), n]])
    h = la.hessian(la.Formula("k*x + b", X, Y), {"k": 0.3, "b": -1.0})
    np.testing.assert_allclose(h.matrix, expected, rtol=1e-12)
    np.testing.assert_allclose(h.eigenvalues, np.linalg.eigvalsh(expected)[::-1], rtol=1e-10)
    assert h.trace == pytest.approx(np.trace(expected))


def test_vts_holds_the_grid_and_the_loss(tmp_path):
    plane = la.Formula("k*x + b", X, Y).plane(ranges={"k": (0, 2), "b": (-2, 4)}, resolution=(4, 3))
    path = tmp_path / "plane.vts"
    plane.export(path)
    root = ET.parse(path).getroot()
    assert root.get("type") == "StructuredGrid"
    arrays = root.findall(".//DataArray")

    def decoded(element):
        raw = base64.b64decode(element.text)
        count = int.from_bytes(raw[:8], "little")
        assert count == len(raw) - 8
        return np.frombuffer(raw[8:], dtype="<f8")

    loss = decoded(next(a for a in arrays if a.get("Name") == "loss"))
    np.testing.assert_array_equal(loss.reshape(3, 4), plane.values)
    points = decoded(next(a for a in arrays if a.get("NumberOfComponents") == "3")).reshape(3, 4, 3)
    np.testing.assert_allclose(points[..., 0], np.tile(plane.u, (3, 1)))
    np.testing.assert_allclose(points[..., 1], np.tile(plane.v[:, None], (1, 4)))
    assert plane.vts() == path.read_bytes()


def test_pictures_and_the_inline_page(tmp_path):
    model = la.Formula("sin(b*cos(a*x))", np.linspace(-2, 2, 40), np.sin(1.5 * np.cos(0.7 * np.linspace(-2, 2, 40))))
    plane = model.plane(ranges={"a": (-2, 2), "b": (-3, 3)}, resolution=41)
    plane.save(tmp_path / "map.png")
    plane.save(tmp_path / "surface.svg", kind="surface")
    png = (tmp_path / "map.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (800, 700)
    assert (tmp_path / "surface.svg").read_text().lstrip().startswith("<svg")
    html = plane._repr_html_()
    assert html.startswith("<iframe srcdoc=") and "&lt;script" in html
    page = plane.page_html(paths=model.descend([0.5, 1.0], optimizer="adam:lr=0.05", steps=50))
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
    assert '"paths":[{' in page.replace(" ", "")


def test_bad_arguments_raise_the_documented_exceptions():
    with pytest.raises(la.FormulaError, match="sin\\(b\\*cos"):
        la.Formula("sin(b*cos(a*x)", X, Y)
    with pytest.raises(la.DataError):
        la.Formula("k*x + b", X, Y[:3])
    model = la.Formula("k*x + b", X, Y)
    with pytest.raises(la.GridError, match="at least 2 points"):
        model.plane(resolution=1)
    with pytest.raises(la.GridError, match="min < max"):
        model.plane(ranges={"k": (2, 0)})
    with pytest.raises(la.LossatlasError, match="`q`, which is not an axis of the plane"):
        model.plane(ranges={"q": (0, 1)})
    with pytest.raises(la.LossatlasError, match="`q`, which is not a parameter"):
        model.loss({"q": 1.0})
    with pytest.raises(ValueError):  # every lossatlas exception is a ValueError
        model.descend([0, 0], optimizer="nope")
    for error in (la.FormulaError, la.DataError, la.WeightsError, la.GridError):
        assert issubclass(error, la.LossatlasError) and issubclass(error, ValueError)


def test_computations_release_the_gil():
    # While a thread computes a large plane, this thread keeps running Python only if the
    # computation released the GIL; with the GIL held it would not run at all until the end.
    x = np.linspace(-3, 3, 2000)
    model = la.Formula("sin(b*cos(a*x))", x, np.sin(np.cos(x)))
    done = threading.Event()

    def work():
        model.plane(ranges={"a": (-2, 2), "b": (-2, 2)}, resolution=200)
        done.set()

    thread = threading.Thread(target=work)
    ticks = 0
    thread.start()
    while not done.is_set():
        ticks += 1
    thread.join()
    assert ticks > 1000, ticks
