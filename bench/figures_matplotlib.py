"""matplotlib drawing the figures of `cargo bench -p lossatlas-render --bench figure` (BENCHMARKS.md).

    python bench/figures_matplotlib.py figure1 /tmp/mpl_fig1.png
    python bench/figures_matplotlib.py surface /tmp/mpl_surface.png

Each run is one process, timed from start to file on disk as `lossatlas contour` is
(`/usr/bin/time`); inside, it also prints the time from after the imports to the file written.
figure1: the seed's linear neuron, mse over k in [0, 2], b in [-2, 4] on a 200 x 200 grid, nine
labelled levels, the minimum marked, 800 x 700 pixels. surface: the same loss over k in [-2, 2],
b in [-4, 4] on a 100 x 100 grid with plot_surface, 900 x 700 pixels.
"""
import sys
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

X = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
Y = np.array([1.1, 2.2, 3.8, 4.1, 4.9, 5.2])


def seed_xy():
    """The teaching note's six points (lossatlas's Dataset::seed)."""
    return X, Y


def mse(k, b):
    x, y = seed_xy()
    r = k[..., None] * x + b[..., None] - y
    return (r * r).mean(axis=-1)


def figure1(path):
    k, b = np.meshgrid(np.linspace(0, 2, 200), np.linspace(-2, 4, 200))
    z = mse(k, b)
    fig, ax = plt.subplots(figsize=(8, 7), dpi=100)
    cs = ax.contour(k, b, z, levels=[0.2, 0.5, 0.7, 1, 3, 8, 10, 15, 20], cmap="viridis")
    ax.clabel(cs, inline=True, fontsize=9)
    j = np.unravel_index(np.argmin(z), z.shape)
    ax.plot(k[j], b[j], "r*", markersize=12, label=f"min L={z[j]:.3g}")
    ax.legend(loc="lower right")
    ax.set_title("Loss Func Contour Line")
    ax.set_xlabel("k")
    ax.set_ylabel("b")
    fig.savefig(path)


def surface(path):
    k, b = np.meshgrid(np.linspace(-2, 2, 100), np.linspace(-4, 4, 100))
    z = mse(k, b)
    fig = plt.figure(figsize=(9, 7), dpi=100)
    ax = fig.add_subplot(projection="3d")
    s = ax.plot_surface(k, b, z, cmap="viridis", rstride=1, cstride=1, linewidth=0)
    fig.colorbar(s, shrink=0.6, label="loss")
    ax.set_title("mse of y = k*x + b")
    ax.set_xlabel("k")
    ax.set_ylabel("b")
    fig.savefig(path)


if __name__ == "__main__":
    t = time.perf_counter()
    {"figure1": figure1, "surface": surface}[sys.argv[1]](sys.argv[2])
    print(f"{sys.argv[1]}: {(time.perf_counter() - t) * 1e3:.0f} ms after the imports", file=sys.stderr)
