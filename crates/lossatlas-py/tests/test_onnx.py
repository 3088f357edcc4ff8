"""ONNX networks: the CLI's fixtures (losses computed independently by onnxruntime), the same MLP
as ONNX and as safetensors, and PyTorch modules through from_torch (when torch is installed)."""

import json

import numpy as np
import pytest

import lossatlas as la
from conftest import FIXTURES, read_clf_csv, read_safetensors

ONNX = FIXTURES.parent / "onnx"


@pytest.fixture
def onnx_reference():
    return json.loads((ONNX / "reference.json").read_text())


def cnn_data():
    data = np.load(ONNX / "cnn.npz")
    return data["x"], data["y"]


def test_cnn_plane_matches_onnxruntime(onnx_reference):
    x, y = cnn_data()
    net = la.Onnx(str(ONNX / "cnn.onnx"), x, y, name="cnn.npz")
    d1 = read_safetensors(ONNX / "cnn-d1.safetensors")
    d2 = read_safetensors(ONNX / "cnn-d2.safetensors")
    plane = net.plane(directions=(d1, d2), range=(-1, 1), resolution=5)
    np.testing.assert_allclose(plane.values, onnx_reference["cnn"]["loss"], rtol=2e-5)
    np.testing.assert_allclose(plane.accuracy, onnx_reference["cnn"]["accuracy"], atol=1e-12)
    assert "cnn.onnx" in net.description and net.n_params == len(net.weights)
    assert "cnn.onnx" in plane._repr_html_()


def test_model_bytes_and_file_are_the_same_network():
    x, y = cnn_data()
    from_file = la.Onnx(str(ONNX / "cnn.onnx"), x, y)
    from_bytes = la.Onnx((ONNX / "cnn.onnx").read_bytes(), x, y)
    np.testing.assert_array_equal(from_file.weights, from_bytes.weights)
    a = from_file.plane(resolution=3, seed=2).values
    b = from_bytes.plane(resolution=3, seed=2).values
    np.testing.assert_array_equal(a, b)


def test_the_same_mlp_as_onnx_and_as_safetensors_gives_the_same_plane(onnx_reference):
    x, labels = read_clf_csv()
    d1 = read_safetensors(FIXTURES / "clf-d1.safetensors")
    d2 = read_safetensors(FIXTURES / "clf-d2.safetensors")
    onnx = la.Onnx(str(ONNX / "mlp.onnx"), x, labels).plane(directions=(d1, d2), resolution=5)
    mlp = la.Mlp(str(FIXTURES / "clf.safetensors"), x, labels, activation="tanh").plane(
        directions=(d1, d2), resolution=5
    )
    np.testing.assert_allclose(onnx.values, mlp.values, rtol=1e-5)
    np.testing.assert_allclose(onnx.values, onnx_reference["mlp"]["loss"], rtol=1e-5)


def test_a_model_that_ends_in_its_own_loss(onnx_reference):
    reg = np.loadtxt(FIXTURES / "reg.csv", delimiter=",", skiprows=1)
    net = la.Onnx(str(ONNX / "own-loss.onnx"), reg[:, :2], reg[:, 2], loss="output")
    d1 = read_safetensors(ONNX / "own-loss-d1.safetensors")
    d2 = read_safetensors(ONNX / "own-loss-d2.safetensors")
    plane = net.plane(directions=(d1, d2), resolution=5)
    np.testing.assert_allclose(plane.values, onnx_reference["own_loss"]["loss"], rtol=2e-5)
    assert plane.accuracy is None


def test_bad_onnx_arguments_raise_the_documented_exceptions(tmp_path):
    x, y = cnn_data()
    with pytest.raises(la.WeightsError, match="not an ONNX model"):
        la.Onnx(b"definitely not protobuf", x, y)
    with pytest.raises(la.WeightsError, match="NotAnOperator"):
        la.Onnx(str(ONNX / "unsupported.onnx"), x, y)
    with pytest.raises(la.DataError, match="shape"):
        la.Onnx(str(ONNX / "cnn.onnx"), x[:, :, :4, :4], y)
    with pytest.raises(la.DataError, match="out of range"):
        la.Onnx(str(ONNX / "cnn.onnx"), x, y + 5)
    net = la.Onnx(str(ONNX / "cnn.onnx"), x, y)
    with pytest.raises(la.LossatlasError, match="needs an Mlp"):
        net.hessian()


def test_from_torch_sequential_and_cnn_give_the_plane_of_their_onnx_export(tmp_path):
    torch = pytest.importorskip("torch", reason="torch is not installed: the from_torch tests need it")
    pytest.importorskip("onnx", reason="onnx is not installed: torch's ONNX exporter needs it")
    torch.manual_seed(0)
    x, labels = read_clf_csv()
    mlp = torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3))
    images, y = cnn_data()
    cnn = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1),
        torch.nn.BatchNorm2d(4),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(64, 5),
    )
    for module, data, target in [(mlp, x, labels), (cnn, images, y)]:
        net = la.from_torch(module, data[:2], data, target)
        path = tmp_path / "model.onnx"
        torch.onnx.export(
            module.eval(),
            (torch.as_tensor(data[:2], dtype=torch.float32),),
            str(path),
            input_names=["x"],
            dynamic_axes={"x": {0: "batch"}},
            dynamo=False,
        )
        saved = la.Onnx(str(path), data, target)
        a = net.plane(resolution=3, seed=5).values
        b = saved.plane(resolution=3, seed=5).values
        np.testing.assert_allclose(a, b, rtol=1e-6)
        # The loss at the trained weights is the module's own, computed by torch.
        with torch.no_grad():
            logits = module(torch.as_tensor(data, dtype=torch.float32))
            want = torch.nn.functional.cross_entropy(logits, torch.as_tensor(target)).item()
        assert abs(net.evaluate()[0] - want) < 1e-5 * max(1.0, want)
