"""The best numpy a careful user writes for the formula grids (issue "Speed"; BENCHMARKS.md).

    python bench/formula_numpy.py [grid side, default 100]

float64, 10,000 samples (80 KB per column, in cache), terms that depend on x and the first
parameter computed once per grid column, the mse as a dot product. One core (numpy's
elementwise functions are single-threaded). Prints sample-evaluations per second; the median of
5 runs of the whole grid.
"""
import statistics
import sys
import time

import numpy as np

SAMPLES = 10_000
n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
rng = np.random.default_rng(0)
x = np.linspace(-1.0, 1.0, SAMPLES)
y = 1.2 * x + 2.5 + 0.1 * rng.standard_normal(SAMPLES)
ks = np.linspace(-2.0, 7.0, n)
bs = np.linspace(-2.0, 7.0, n)
buf = np.empty(SAMPLES)


def tanh_grid():
    out = np.empty((n, n))
    for i, k in enumerate(ks):
        kx = k * x
        for j, b in enumerate(bs):
            np.add(kx, b, out=buf)
            np.tanh(buf, out=buf)
            np.subtract(buf, y, out=buf)
            out[j, i] = buf @ buf / SAMPLES
    return out


def sincos_grid():
    out = np.empty((n, n))
    for i, a in enumerate(ks):
        c = np.cos(a * x)
        for j, b in enumerate(bs):
            np.multiply(c, b, out=buf)
            np.sin(buf, out=buf)
            np.subtract(buf, y, out=buf)
            out[j, i] = buf @ buf / SAMPLES
    return out


x2, x3 = x * x, x * x * x


def cubic_grid():
    out = np.empty((n, n))
    for i, k in enumerate(ks):
        kx3 = k * x3 - y
        for j, b in enumerate(bs):
            np.multiply(x2, b, out=buf)
            np.add(buf, kx3, out=buf)
            out[j, i] = buf @ buf / SAMPLES
    return out


for name, f in [("tanh(k*x+b)", tanh_grid), ("sin(b*cos(a*x))", sincos_grid), ("k*x^3+b*x^2", cubic_grid)]:
    times = []
    for _ in range(5):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    med = statistics.median(times)
    print(f"{name:16s} {n}x{n} x {SAMPLES}: {n * n * SAMPLES / med:.3g} sample-evaluations/s (median {med * 1e3:.0f} ms)")
