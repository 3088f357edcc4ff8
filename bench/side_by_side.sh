#!/bin/bash
# Every target of issue "Speed" measured side by side in one sitting (BENCHMARKS.md):
# numpy, lossatlas, numpy again; contourpy, lossatlas, contourpy; matplotlib three times per
# figure, lossatlas, matplotlib again; then whole processes with hyperfine.
#
#     PY=/path/to/venv/bin/python bash bench/side_by_side.sh OUT_DIR
#
# PY is a Python with numpy, contourpy and matplotlib from PyPI; hyperfine must be installed.
# The release binary is built first if it is missing.
set -u
cd "$(dirname "$0")/.."
PY=${PY:-python3}
OUT=$(realpath "${1:-/tmp/lossatlas-side-by-side}")
mkdir -p "$OUT"
[ -x target/release/lossatlas ] || cargo build --release --locked -p lossatlas-cli
L=$PWD/target/release/lossatlas
echo "== start $(date -u +%H:%M:%S)"; uptime
"$L" contour --range k=0:2 --range b=-2:4 --resolution 3000 --levels 0.2,0.5,0.7,1,3,8,10,15,20 \
    -o "$OUT/big.png" --export-landscape "$OUT/seed3000.npy" > /dev/null 2>&1
echo "== formulas: numpy (1)"; "$PY" bench/formula_numpy.py 300
echo "== formulas: lossatlas"
cargo bench -p lossatlas --bench grid -- --noplot "formula/.* 10000 samples" 2>&1 | grep -E "^formula|time:|thrpt:"
echo "== formulas: numpy (2)"; "$PY" bench/formula_numpy.py 300
echo "== contour: contourpy (1)"; "$PY" bench/contour_contourpy.py "$OUT/seed3000.npy"
echo "== contour: lossatlas"; cargo bench -p lossatlas --bench contour -- --noplot 2>&1 | grep -E "^contour|time:"
echo "== contour: contourpy (2)"; "$PY" bench/contour_contourpy.py "$OUT/seed3000.npy"
for round in 1 2; do
    echo "== figures in-process: matplotlib ($round)"
    for f in figure1 surface; do
        for _ in 1 2 3; do "$PY" bench/figures_matplotlib.py $f "$OUT/m_$f.png"; done
    done
    if [ $round = 1 ]; then
        echo "== figures in-process: lossatlas"
        cargo bench -p lossatlas-render --bench figure -- --noplot "figure1$|surface" 2>&1 | grep -E "^png|time:"
    fi
done
cd "$OUT"
echo "== processes: figure 1"
hyperfine -N -w 3 -r 20 --export-json p1.json "$PY $OLDPWD/bench/figures_matplotlib.py figure1 m1.png" \
    "$L contour --range k=0:2 --range b=-2:4 --resolution 200 --levels 0.2,0.5,0.7,1,3,8,10,15,20 -o f1.png" 2>&1 | grep -E "Time|±"
echo "== processes: surface"
hyperfine -N -w 3 -r 20 --export-json p3.json "$PY $OLDPWD/bench/figures_matplotlib.py surface m3.png" \
    "$L surface --range k=-2:2 --range b=-4:4 --resolution 100 -o s.png" 2>&1 | grep -E "Time|±"
"$PY" -c "
import json, statistics
for f in ['p1.json', 'p3.json']:
    for x in json.load(open(f))['results']:
        print(f, x['command'][:70], 'median %.2f ms' % (statistics.median(x['times']) * 1e3))
"
echo "== end $(date -u +%H:%M:%S)"; uptime
