"""The ONNX benchmark's plane in plain PyTorch: the small CNN of the tests on 1000 images of 1 x 8 x 8,
a 51 x 51 grid along two filter-normalized directions (biases and batch norm fixed), one forward
pass of all 1000 images per point under torch.no_grad(), on 2 threads.

    python bench/onnx_torch.py        # needs torch, onnx and numpy from PyPI

prints the median of 3 planes and the forward passes per second, to set beside
`cargo bench -p lossatlas --features onnx --bench onnx` in BENCHMARKS.md.
"""

import pathlib
import statistics
import time

import numpy as np
import onnx
import torch
from onnx import numpy_helper

torch.set_num_threads(2)
root = pathlib.Path(__file__).resolve().parents[1]
graph = onnx.load(root / "crates/lossatlas-cli/tests/fixtures/onnx/cnn.onnx").graph
state = {t.name: torch.as_tensor(numpy_helper.to_array(t).copy()) for t in graph.initializer}

net = torch.nn.Sequential()
net.add_module("conv1", torch.nn.Conv2d(1, 4, 3, padding=1))
net.add_module("bn1", torch.nn.BatchNorm2d(4))
net.add_module("relu1", torch.nn.ReLU())
net.add_module("pool1", torch.nn.MaxPool2d(2))
net.add_module("conv2", torch.nn.Conv2d(4, 6, 3, padding=1))
net.add_module("relu2", torch.nn.ReLU())
net.add_module("pool2", torch.nn.MaxPool2d(2))
net.add_module("flatten", torch.nn.Flatten())
net.add_module("fc", torch.nn.Linear(24, 5))
net.load_state_dict(state, strict=False)
net.eval()

rng = np.random.default_rng(7)
n = 1000
labels = rng.integers(0, 5, size=n)
x = 0.8 * rng.normal(size=(n, 1, 8, 8))
for i, label in enumerate(labels):
    r, c = [(1, 1), (1, 5), (5, 1), (5, 5), (3, 3)][label]
    x[i, 0, r : r + 2, c : c + 2] += 1.0
x = torch.as_tensor(x, dtype=torch.float32)
y = torch.as_tensor(labels)

params = dict(net.named_parameters())
weights = {k: p.detach().clone() for k, p in params.items()}


def direction():
    d = {}
    for k, w in weights.items():
        g = torch.randn_like(w)
        if w.dim() <= 1:
            g.zero_()
        else:
            for f in range(w.shape[0]):
                g[f] *= w[f].norm() / (g[f].norm() + 1e-10)
        d[k] = g
    return d


d1, d2 = direction(), direction()
axis = np.linspace(-1, 1, 51)


def plane():
    losses = np.empty((51, 51))
    with torch.no_grad():
        for j, b in enumerate(axis):
            for i, a in enumerate(axis):
                for k, p in params.items():
                    p.copy_(weights[k] + float(a) * d1[k] + float(b) * d2[k])
                losses[j, i] = torch.nn.functional.cross_entropy(net(x), y).item()
    return losses


plane()  # warm up
times = []
for _ in range(3):
    start = time.perf_counter()
    plane()
    times.append(time.perf_counter() - start)
median = statistics.median(times)
print(f"PyTorch {torch.__version__}, 2 threads: 51x51 plane of the CNN on {n} images: median {median:.2f} s "
      f"of {[round(t, 2) for t in times]}, {2601 / median:.0f} forward passes of {n} images per second")
