"""contourpy on the grids of `cargo bench -p lossatlas --bench contour` (see BENCHMARKS.md).

    lossatlas contour --range k=0:2 --range b=-2:4 --resolution 3000 \
        --levels 0.2,0.5,0.7,1,3,8,10,15,20 -o /tmp/f.png --export-landscape /tmp/seed3000.npy
    python bench/contour_contourpy.py /tmp/seed3000.npy

Times, for each grid, finding the lines of all nine levels (median of 15 runs, after one
warm-up), with contourpy's serial algorithm and its threaded one on two threads.
"""
import statistics
import sys
import time

import contourpy
import numpy as np

N = 3000


def median_ms(f, runs=15):
    f()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def main():
    seed = np.load(sys.argv[1])
    k, b = np.linspace(0, 2, N), np.linspace(-2, 4, N)
    u = np.linspace(-4, 4, N)
    U, V = np.meshgrid(u, u)
    wavy = np.sin(3 * U) * np.cos(2 * V) + 0.1 * U * V
    grids = {
        "figure1": (k, b, seed, [0.2, 0.5, 0.7, 1.0, 3.0, 8.0, 10.0, 15.0, 20.0]),
        "wavy": (u, u, wavy, [-1.0 + 0.2 * i for i in range(1, 10)]),
    }
    for name, (x, y, z, levels) in grids.items():
        for algo, extra in [("serial", {}), ("threaded", {"thread_count": 2})]:
            gen = contourpy.contour_generator(x, y, z, name=algo, line_type="SeparateCode", **extra)
            ms = median_ms(lambda: [gen.lines(level) for level in levels])
            print(f"{name:8s} contourpy {contourpy.__version__} {algo:8s}: {ms:8.1f} ms")


if __name__ == "__main__":
    main()
