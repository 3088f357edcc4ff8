"""The network benchmark's plane (A) in plain PyTorch, and the same plane from lossatlas's Python
package, side by side: a 2-64-64-2 tanh MLP on 1000 two-moons points, a 51 x 51 grid along two
filter-normalized directions (biases fixed), the full data set per point, 2 threads.

    python bench/net_torch.py        # needs torch, numpy and the lossatlas wheel

The MLP is trained briefly first (the speed does not depend on the weights). Prints the median of
3 planes for each, for the README and BENCHMARKS.md.
"""

import statistics
import time

import numpy as np
import torch

import lossatlas as la

torch.set_num_threads(2)
torch.manual_seed(0)
x, y = la.dataset("moons", n=1000, noise=0.1, seed=0)
xt, yt = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y)
net = torch.nn.Sequential(
    torch.nn.Linear(2, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64), torch.nn.Tanh(), torch.nn.Linear(64, 2)
)
optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
for _ in range(200):
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(net(xt), yt).backward()
    optimizer.step()

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


def torch_plane():
    losses = np.empty((51, 51))
    with torch.no_grad():
        for j, b in enumerate(axis):
            for i, a in enumerate(axis):
                for k, p in params.items():
                    p.copy_(weights[k] + float(a) * d1[k] + float(b) * d2[k])
                losses[j, i] = torch.nn.functional.cross_entropy(net(xt), yt).item()
    return losses


state = {k: v.numpy().astype(np.float64) for k, v in weights.items()}
model = la.Mlp(state, x, y, activation="tanh")
directions = ({k: v.numpy() for k, v in d1.items()}, {k: v.numpy() for k, v in d2.items()})


def lossatlas_plane():
    return model.plane(directions=directions, range=(-1, 1), resolution=51).values


def median(f):
    f()
    times = []
    for _ in range(3):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# The same plane from both: a check that the comparison is fair.
np.testing.assert_allclose(lossatlas_plane(), torch_plane(), rtol=1e-4, atol=1e-6)
t_torch, t_la = median(torch_plane), median(lossatlas_plane)
print(f"51x51 plane of a 2-64-64-2 tanh MLP on 1000 moons points, 2 threads: PyTorch {torch.__version__} loop "
      f"{t_torch:.3f} s, lossatlas from Python {t_la:.3f} s ({t_torch / t_la:.1f}x)")
