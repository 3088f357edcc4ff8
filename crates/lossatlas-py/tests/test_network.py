"""Networks: the CLI's fixtures (numbers computed independently with numpy) and the CLI itself."""

import os
import subprocess

import numpy as np
import pytest

import lossatlas as la
from conftest import FIXTURES, cli_binary, read_clf_csv, read_safetensors


def clf_network(precision="f64", weights=None):
    x, labels = read_clf_csv()
    weights = weights if weights is not None else str(FIXTURES / "clf.safetensors")
    return la.Mlp(weights, x, labels, activation="tanh", precision=precision)


def test_clf_plane_matches_the_independent_reference(reference):
    d1 = read_safetensors(FIXTURES / "clf-d1.safetensors")
    d2 = read_safetensors(FIXTURES / "clf-d2.safetensors")
    for precision, rtol in [("f64", 1e-12), ("f32", 2e-5)]:
        net = clf_network(precision)
        plane = net.plane(directions=(d1, d2), range=(-1, 1), resolution=5)
        np.testing.assert_allclose(plane.u, reference["grid"])
        np.testing.assert_allclose(plane.values, reference["clf"]["loss"], rtol=rtol)
        np.testing.assert_allclose(plane.accuracy, reference["clf"]["accuracy"], atol=1e-12)


def test_a_state_dict_is_the_same_network_as_its_file():
    tensors = read_safetensors(FIXTURES / "clf.safetensors")
    from_file, from_dict = clf_network(), clf_network(weights=tensors)
    np.testing.assert_array_equal(from_file.weights, from_dict.weights)
    assert from_file.description == from_dict.description == "3-6-5-3 tanh, cross-entropy"
    # Flat weights in state_dict order: layer by layer, weight [out, in] row-major, then bias.
    order = ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    np.testing.assert_array_equal(from_file.weights, np.concatenate([tensors[k].ravel() for k in order]))


def test_interpolation_line_matches_the_reference(reference):
    net = clf_network()
    start = read_safetensors(FIXTURES / "clf-init.safetensors")
    line = la.line(net, start=start, range=(-0.5, 1.5), resolution=9)
    np.testing.assert_allclose(line.alpha, np.linspace(-0.5, 1.5, 9))
    np.testing.assert_allclose(line.alpha, reference["clf"]["line_t"])
    np.testing.assert_allclose(line.loss, reference["clf"]["line_loss"], rtol=1e-12)
    np.testing.assert_allclose(line.accuracy, reference["clf"]["line_accuracy"], atol=1e-12)


def test_pca_of_a_path_in_a_known_plane_has_no_distance_from_it():
    net = clf_network()
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(2, net.n_params))
    t = np.linspace(0, 1, 12)
    snapshots = net.weights + np.outer(np.cos(3 * t), a) * 0.1 + np.outer(t**2, b) * 0.1
    result = la.pca(net, snapshots, resolution=9)
    np.testing.assert_allclose(result.distance, 0.0, atol=1e-9)
    assert result.explained_variance_ratio[:2].sum() == pytest.approx(1.0)
    # On the plane, the plane's loss at a projection is the loss at the snapshot itself.
    np.testing.assert_allclose(result.plane_loss, result.loss, rtol=1e-9)
    expected = np.array([net.evaluate(s)[0] for s in snapshots])
    np.testing.assert_allclose(result.loss, expected, rtol=1e-12)
    assert result.landscape.values.shape == (9, 9)


def test_hessian_eigenvalues_against_finite_differences_of_the_loss():
    # The top eigenvector v of a symmetric H satisfies v'Hv = lambda; v'Hv is the second
    # derivative of the loss along v, which central differences of the loss give independently.
    net = clf_network()
    h = la.hessian(net, top=2, tol=1e-6, lanczos_steps=150, probes=10)
    assert h.eigenvalues[0] >= h.eigenvalues[1]
    v = h.eigenvectors[0]
    step = 1e-3
    loss = lambda s: net.evaluate(net.weights + s * v)[0]  # noqa: E731
    second = (loss(step) - 2 * loss(0.0) + loss(-step)) / step**2
    assert second == pytest.approx(h.eigenvalues[0], rel=1e-4)
    grid, density = h.density
    assert grid.shape == density.shape and np.all(density >= 0)


def test_moons_plane_from_python_equals_the_cli(tmp_path):
    cli = cli_binary()
    if cli is None:
        if os.environ.get("LOSSATLAS_REQUIRE_CLI"):
            pytest.fail("LOSSATLAS_REQUIRE_CLI is set but no lossatlas binary was found")
        pytest.skip("no lossatlas binary (build it with `cargo build -p lossatlas-cli` or set LOSSATLAS_BIN)")
    data = ["--dataset", "moons", "--points", "300", "--test-fraction", "0"]
    weights = tmp_path / "moons.safetensors"
    run = lambda *args: subprocess.run([cli, "net", *args], check=True, capture_output=True, cwd=tmp_path)  # noqa: E731
    run("train", *data, "--layers", "2,16,16,2", "--epochs", "30", "-o", str(weights))
    run("plane", "--weights", str(weights), *data, "--resolution", "11", "--export-landscape", "plane.npy")
    x, labels = la.dataset("moons", n=300, noise=0.1, seed=0)
    net = la.Mlp(str(weights), x, labels, activation="tanh")
    plane = net.plane(resolution=11)
    np.testing.assert_array_equal(plane.values, np.load(tmp_path / "plane.npy"))


def test_bad_network_arguments_raise_the_documented_exceptions(tmp_path):
    x, labels = read_clf_csv()
    with pytest.raises(la.DataError, match="out of range for 3 classes"):
        la.Mlp(str(FIXTURES / "clf.safetensors"), x, labels + 1, activation="tanh")
    with pytest.raises(la.DataError, match="takes 3"):
        la.Mlp(str(FIXTURES / "clf.safetensors"), x[:, :2], labels)
    broken = read_safetensors(FIXTURES / "clf.safetensors")
    broken["2.weight"] = broken["2.weight"][:, :4]
    with pytest.raises(la.WeightsError, match="chain"):
        la.Mlp(broken, x, labels)
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(la.WeightsError):
        la.Mlp(str(tmp_path / "junk.safetensors"), x, labels)
    net = clf_network()
    with pytest.raises(la.LossatlasError, match="directions `sideways`"):
        net.plane(directions="sideways")
    with pytest.raises(la.LossatlasError, match="precision"):
        clf_network(precision="f16")
    with pytest.raises(la.LossatlasError) as info:
        net.hessian(top=0)
    assert "\n" not in str(info.value)


def test_optional_interop():
    net = clf_network()
    plane = net.plane(resolution=7)
    xr = pytest.importorskip("xarray", reason="xarray is an optional extra")
    data = plane.to_xarray()
    assert isinstance(data, xr.Dataset)
    np.testing.assert_array_equal(data["loss"].values, plane.values)


def test_matplotlib_plot():
    pytest.importorskip("matplotlib", reason="matplotlib is an optional extra")
    import matplotlib

    matplotlib.use("Agg")
    plane = la.Formula("k*x + b", np.arange(6.0), np.arange(6.0)).plane(resolution=11)
    ax = plane.plot()
    assert ax.get_xlabel() == "k" and ax.get_ylabel() == "b"
