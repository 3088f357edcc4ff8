// lossatlas interactive page: a contour map and a 3D surface of one loss landscape, drawn on two
// canvases from the JSON island above. No library, no network request except, on the live page,
// its own server's /api/paths and /api/landscape.
(function () {
  'use strict';

  window.lossatlasErrors = [];
  window.addEventListener('error', (e) => window.lossatlasErrors.push(String(e.message)));

  const DATA = JSON.parse(document.getElementById('lossatlas-data').textContent);
  const LIVE = DATA.mode === 'live';
  const $ = (id) => document.getElementById(id);

  const state = {
    L: null, // the prepared landscape
    paths: DATA.paths || [],
    hidden: new Set(),
    start: null,
    showLines: true,
    showBands: true,
    showCritical: true,
    logHeight: false,
    hover: null, // {u, v, loss, source}
    view: { az: -60, el: 40, zoom: 1 },
    runs: 0,
  };

  // ---------- numbers and colours ----------

  function fmt(x, digits) {
    digits = digits || 4;
    if (x === null || x === undefined || !isFinite(x)) return '–';
    if (x === 0) return '0';
    const a = Math.abs(x);
    if (a >= 1e5 || a < 1e-3) return x.toExponential(digits - 1).replace(/\.?0+e/, 'e');
    return String(parseFloat(x.toPrecision(digits)));
  }

  // Viridis, the same polynomial fit (Matt Zucker 2019) with pinned ends as lossatlas' figures.
  const VIRIDIS = (function () {
    const C = [
      [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
      [0.1050930431085774, 1.404613529898575, 1.384590162594685],
      [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
      [-4.634230498983486, -5.799100973351585, -19.33244095627987],
      [6.228269936347081, 14.17993336680509, 56.69055260068105],
      [4.776384997670288, -13.74514537774601, -65.35303263337234],
      [-5.435455855934631, 4.645852612178535, 26.3124352495832],
    ];
    const ENDS = [[68, 1, 84], [253, 231, 37]];
    const poly = (t, k) => C.reduceRight((acc, c) => acc * t + c[k], 0);
    const lut = new Uint8ClampedArray(256 * 3);
    for (let i = 0; i < 256; i++) {
      const t = i / 255;
      for (let k = 0; k < 3; k++) {
        const at0 = ENDS[0][k] / 255 - poly(0, k);
        const at1 = ENDS[1][k] / 255 - poly(1, k);
        const v = poly(t, k) + (1 - t) * at0 + t * at1;
        lut[i * 3 + k] = Math.round(Math.min(1, Math.max(0, v)) * 255);
      }
    }
    return lut;
  })();

  function rgbAt(t) {
    const i = Math.round(Math.min(1, Math.max(0, isFinite(t) ? t : 0)) * 255) * 3;
    return [VIRIDIS[i], VIRIDIS[i + 1], VIRIDIS[i + 2]];
  }
  const css = (c, shade) => {
    const s = shade === undefined ? 1 : shade;
    return 'rgb(' + Math.round(c[0] * s) + ',' + Math.round(c[1] * s) + ',' + Math.round(c[2] * s) + ')';
  };

  function niceTicks(lo, hi, count) {
    const span = hi - lo;
    if (!(span > 0)) return [lo];
    const raw = span / count;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || 10 * mag;
    const ticks = [];
    for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) {
      ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
    }
    return ticks;
  }

  // Powers of ten between lo and hi (with 2 and 5 times them when there are few).
  function logTicks(lo, hi) {
    const ticks = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      const decades = Math.log10(hi / lo);
      (decades < 1.5 ? [1, 2, 5] : decades < 3 ? [1, 3] : [1]).forEach((m) => {
        const t = m * Math.pow(10, e);
        if (t >= lo && t <= hi) ticks.push(t);
      });
    }
    return ticks;
  }

  // ---------- the landscape ----------

  function prepare(L) {
    const nu = L.u.n, nv = L.v.n;
    const z = new Float64Array(nu * nv);
    for (let k = 0; k < z.length; k++) z[k] = L.values[k] === null ? NaN : L.values[k];
    const lo = L.range[0], hi = L.range[1] > L.range[0] ? L.range[1] : L.range[0] + 1;
    const log = L.log_color && lo > 0;
    const pos = log
      ? (v) => (Math.log(Math.max(v, lo)) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))
      : (v) => (v - lo) / (hi - lo);
    const levels = L.levels.filter((l) => isFinite(l));
    const bandColors = [];
    for (let k = 0; k <= levels.length; k++) {
      const a = k === 0 ? lo : levels[k - 1];
      const b = k === levels.length ? hi : levels[k];
      bandColors.push(rgbAt((clamp01(pos(a)) + clamp01(pos(b))) / 2));
    }
    const P = Object.assign({}, L, { nu: nu, nv: nv, z: z, lo: lo, hi: hi, log: log, pos: pos,
      levels: levels, bandColors: bandColors });
    P.segments = levels.map((level) => marchingSquares(P, level));
    return P;
  }

  function clamp01(t) { return Math.min(1, Math.max(0, t)); }

  // Bilinear interpolation at (u, v); NaN outside the grid or next to a missing value.
  function sample(P, u, v) {
    const fu = (u - P.u.min) / (P.u.max - P.u.min) * (P.nu - 1);
    const fv = (v - P.v.min) / (P.v.max - P.v.min) * (P.nv - 1);
    if (!(fu >= 0 && fv >= 0 && fu <= P.nu - 1 && fv <= P.nv - 1)) return NaN;
    const i = Math.min(Math.floor(fu), P.nu - 2), j = Math.min(Math.floor(fv), P.nv - 2);
    const a = fu - i, b = fv - j, n = P.nu, z = P.z;
    return (z[j * n + i] * (1 - a) + z[j * n + i + 1] * a) * (1 - b) +
      (z[(j + 1) * n + i] * (1 - a) + z[(j + 1) * n + i + 1] * a) * b;
  }

  function bandOf(P, value) {
    let lo = 0, hi = P.levels.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (value >= P.levels[mid]) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  // Marching squares with linear interpolation on each cell edge; the ambiguous saddle cells are
  // decided by the cell's mean. Segments in grid coordinates (i, j), four numbers each.
  function marchingSquares(P, level) {
    const out = [];
    const n = P.nu, z = P.z;
    const lerp = (a, b) => (level - a) / (b - a);
    for (let j = 0; j < P.nv - 1; j++) {
      for (let i = 0; i < n - 1; i++) {
        const a = z[j * n + i], b = z[j * n + i + 1], c = z[(j + 1) * n + i + 1], d = z[(j + 1) * n + i];
        if (!(a === a && b === b && c === c && d === d)) continue;
        const code = (a > level ? 1 : 0) | (b > level ? 2 : 0) | (c > level ? 4 : 0) | (d > level ? 8 : 0);
        if (code === 0 || code === 15) continue;
        const bottom = () => [i + lerp(a, b), j];
        const right = () => [i + 1, j + lerp(b, c)];
        const top = () => [i + lerp(d, c), j + 1];
        const left = () => [i, j + lerp(a, d)];
        const seg = (p, q) => out.push(p[0], p[1], q[0], q[1]);
        switch (code) {
          case 1: case 14: seg(left(), bottom()); break;
          case 2: case 13: seg(bottom(), right()); break;
          case 3: case 12: seg(left(), right()); break;
          case 4: case 11: seg(right(), top()); break;
          case 6: case 9: seg(bottom(), top()); break;
          case 7: case 8: seg(left(), top()); break;
          case 5: case 10: {
            const high = (a + b + c + d) / 4 > level;
            if ((code === 5) === high) { seg(left(), top()); seg(bottom(), right()); }
            else { seg(left(), bottom()); seg(right(), top()); }
            break;
          }
        }
      }
    }
    return out;
  }

  // ---------- canvases ----------

  function setupCanvas(canvas, width, height) {
    const dpr = window.devicePixelRatio || 1;
    canvas.style.height = height + 'px';
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    return { canvas: canvas, w: width, h: height, dpr: dpr };
  }

  function context(view) {
    const ctx = view.canvas.getContext('2d');
    ctx.setTransform(view.dpr, 0, 0, view.dpr, 0, 0);
    return ctx;
  }

  function offscreen(view) {
    const c = document.createElement('canvas');
    c.width = view.canvas.width;
    c.height = view.canvas.height;
    return { canvas: c, w: view.w, h: view.h, dpr: view.dpr };
  }

  const FONT = '12px system-ui, -apple-system, "Segoe UI", sans-serif';
  const SMALL = '10.5px system-ui, -apple-system, "Segoe UI", sans-serif';

  function haloText(ctx, text, x, y, color) {
    ctx.lineWidth = 3;
    ctx.strokeStyle = 'rgba(255,255,255,0.92)';
    ctx.strokeText(text, x, y);
    ctx.fillStyle = color || '#1f2328';
    ctx.fillText(text, x, y);
  }

  function visiblePaths() {
    return state.paths.filter((p, k) => !state.hidden.has(k) && p.points.length > 0);
  }

  function criticalPoints() {
    const a = state.L && state.L.analysis;
    return a && Array.isArray(a.critical_points) ? a.critical_points : [];
  }

  function minimumAt() {
    const m = state.L && state.L.analysis && state.L.analysis.minimum;
    return m && Array.isArray(m.plane_at) ? m.plane_at : null;
  }

  // ---------- the contour map ----------

  const contour = {
    view: null, base: null, rect: null,
    toX(u) { const r = this.rect, P = state.L; return r.x + (u - P.u.min) / (P.u.max - P.u.min) * r.w; },
    toY(v) { const r = this.rect, P = state.L; return r.y + r.h - (v - P.v.min) / (P.v.max - P.v.min) * r.h; },
    toU(x) { const r = this.rect, P = state.L; return P.u.min + (x - r.x) / r.w * (P.u.max - P.u.min); },
    toV(y) { const r = this.rect, P = state.L; return P.v.min + (r.y + r.h - y) / r.h * (P.v.max - P.v.min); },
  };

  function layoutContour(width, height) {
    contour.view = setupCanvas($('contour'), width, height);
    contour.rect = { x: 56, y: 14, w: width - 56 - 86, h: height - 14 - 46 };
  }

  // Everything that changes only with the landscape and the toggles: the field, the lines, the
  // axes and the colour bar, drawn once into an offscreen canvas.
  function drawContourBase() {
    const P = state.L, view = contour.view, r = contour.rect;
    contour.base = offscreen(view);
    const ctx = context(contour.base);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, view.w, view.h);

    // The field, pixel by pixel at device resolution: band colours, or white.
    const dpr = view.dpr;
    const px = Math.round(r.x * dpr), py = Math.round(r.y * dpr);
    const pw = Math.round(r.w * dpr), ph = Math.round(r.h * dpr);
    const image = ctx.createImageData(pw, ph);
    const d = image.data;
    for (let y = 0; y < ph; y++) {
      const v = contour.toV((py + y + 0.5) / dpr);
      for (let x = 0; x < pw; x++) {
        const u = contour.toU((px + x + 0.5) / dpr);
        const value = sample(P, u, v);
        const o = (y * pw + x) * 4;
        let c;
        if (value !== value) c = [226, 226, 226];
        else if (state.showBands) c = P.bandColors[bandOf(P, value)];
        else c = [255, 255, 255];
        d[o] = c[0]; d[o + 1] = c[1]; d[o + 2] = c[2]; d[o + 3] = 255;
      }
    }
    ctx.putImageData(image, px, py);

    const gx = (i) => r.x + i / (P.nu - 1) * r.w;
    const gy = (j) => r.y + r.h - j / (P.nv - 1) * r.h;
    if (state.showLines) {
      ctx.save();
      ctx.beginPath();
      ctx.rect(r.x, r.y, r.w, r.h);
      ctx.clip();
      ctx.lineJoin = 'round';
      P.segments.forEach((segs, k) => {
        ctx.beginPath();
        for (let s = 0; s < segs.length; s += 4) {
          ctx.moveTo(gx(segs[s]), gy(segs[s + 1]));
          ctx.lineTo(gx(segs[s + 2]), gy(segs[s + 3]));
        }
        if (state.showBands) { ctx.strokeStyle = 'rgba(20,20,20,0.55)'; ctx.lineWidth = 0.9; }
        else { ctx.strokeStyle = css(rgbAt(P.pos(P.levels[k])), 0.9); ctx.lineWidth = 1.5; }
        ctx.stroke();
      });
      ctx.restore();
      labelLevels(ctx, gx, gy);
    }
    drawAxes(ctx);
    drawColorBar(ctx);
  }

  // Up to two labels per level, where a line is long enough and no other label is near.
  function labelLevels(ctx, gx, gy) {
    const P = state.L, r = contour.rect, placed = [];
    ctx.font = SMALL;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    P.segments.forEach((segs, k) => {
      const count = segs.length / 4;
      if (count < 6) return;
      let done = 0;
      const stride = Math.max(1, Math.floor(count / 7));
      for (let s = Math.floor(stride / 2); s < count && done < 2; s += stride) {
        const x = (gx(segs[4 * s]) + gx(segs[4 * s + 2])) / 2;
        const y = (gy(segs[4 * s + 1]) + gy(segs[4 * s + 3])) / 2;
        if (x < r.x + 18 || x > r.x + r.w - 18 || y < r.y + 10 || y > r.y + r.h - 10) continue;
        if (placed.some((p) => Math.hypot(p[0] - x, p[1] - y) < 70)) continue;
        placed.push([x, y]);
        const text = fmt(P.levels[k], 3);
        const w = ctx.measureText(text).width + 6;
        ctx.fillStyle = 'rgba(255,255,255,0.85)';
        ctx.fillRect(x - w / 2, y - 7, w, 14);
        ctx.fillStyle = '#1f2328';
        ctx.fillText(text, x, y + 0.5);
        done++;
      }
    });
  }

  function drawAxes(ctx) {
    const P = state.L, r = contour.rect;
    ctx.strokeStyle = '#1f2328';
    ctx.lineWidth = 1;
    ctx.strokeRect(r.x + 0.5, r.y + 0.5, r.w - 1, r.h - 1);
    ctx.fillStyle = '#1f2328';
    ctx.font = FONT;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    niceTicks(P.u.min, P.u.max, 6).forEach((t) => {
      const x = contour.toX(t);
      ctx.beginPath(); ctx.moveTo(x, r.y + r.h); ctx.lineTo(x, r.y + r.h + 5); ctx.stroke();
      ctx.fillText(fmt(t, 3), x, r.y + r.h + 7);
    });
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    niceTicks(P.v.min, P.v.max, 6).forEach((t) => {
      const y = contour.toY(t);
      ctx.beginPath(); ctx.moveTo(r.x - 5, y); ctx.lineTo(r.x, y); ctx.stroke();
      ctx.fillText(fmt(t, 3), r.x - 7, y);
    });
    ctx.font = 'italic 600 13px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    ctx.fillText(P.u.name, r.x + r.w / 2, r.y + r.h + 42);
    ctx.save();
    ctx.translate(14, r.y + r.h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = 'middle';
    ctx.fillText(P.v.name, 0, 0);
    ctx.restore();
  }

  function drawColorBar(ctx) {
    const P = state.L, r = contour.rect;
    const x = r.x + r.w + 16, w = 14, top = r.y, h = r.h;
    const yOf = (value) => top + h - clamp01(P.pos(value)) * h;
    if (state.showBands) {
      for (let k = 0; k <= P.levels.length; k++) {
        const a = k === 0 ? P.lo : P.levels[k - 1];
        const b = k === P.levels.length ? P.hi : P.levels[k];
        ctx.fillStyle = css(P.bandColors[k]);
        ctx.fillRect(x, yOf(b), w, yOf(a) - yOf(b));
      }
    } else {
      for (let y = 0; y < h; y++) {
        ctx.fillStyle = css(rgbAt(1 - y / h));
        ctx.fillRect(x, top + y, w, 1.5);
      }
    }
    ctx.strokeStyle = '#1f2328';
    ctx.lineWidth = 1;
    ctx.strokeRect(x + 0.5, top + 0.5, w - 1, h - 1);
    ctx.font = SMALL;
    ctx.fillStyle = '#1f2328';
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    let last = Infinity;
    P.levels.slice().reverse().forEach((level) => {
      const y = yOf(level);
      ctx.beginPath(); ctx.moveTo(x + w, y); ctx.lineTo(x + w + 4, y); ctx.stroke();
      if (Math.abs(y - last) >= 12) { ctx.fillText(fmt(level, 3), x + w + 6, y); last = y; }
    });
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    ctx.fillText(P.log ? 'loss (log)' : 'loss', x + w / 2 + 12, r.y + r.h + 7);
  }

  function drawMarker(ctx, kind, x, y, color) {
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    if (kind === 'star') {
      for (let k = 0; k < 10; k++) {
        const rad = k % 2 ? 3.2 : 8, a = -Math.PI / 2 + k * Math.PI / 5;
        ctx.lineTo(x + rad * Math.cos(a), y + rad * Math.sin(a));
      }
      ctx.closePath();
      ctx.fillStyle = '#fff'; ctx.fill();
      ctx.strokeStyle = '#1f2328'; ctx.stroke();
    } else if (kind === 'saddle' || kind === 'maximum' || kind === 'degenerate') {
      ctx.lineWidth = 1.2;
      ctx.moveTo(x, y - 4.5); ctx.lineTo(x + 4.5, y); ctx.lineTo(x, y + 4.5); ctx.lineTo(x - 4.5, y); ctx.closePath();
      ctx.fillStyle = kind === 'maximum' ? '#1f2328' : '#fff'; ctx.fill();
      ctx.strokeStyle = '#1f2328'; ctx.stroke();
    } else if (kind === 'minimum') {
      ctx.lineWidth = 1.2;
      ctx.arc(x, y, 4, 0, 2 * Math.PI);
      ctx.fillStyle = '#fff'; ctx.fill();
      ctx.strokeStyle = '#1f2328'; ctx.stroke();
    } else if (kind === 'start') {
      ctx.arc(x, y, 5.5, 0, 2 * Math.PI);
      ctx.fillStyle = '#fff'; ctx.fill();
      ctx.lineWidth = 2.5; ctx.strokeStyle = '#1f2328'; ctx.stroke();
    } else if (kind === 'end') {
      ctx.arc(x, y, 4, 0, 2 * Math.PI);
      ctx.fillStyle = color; ctx.fill();
      ctx.strokeStyle = '#fff'; ctx.stroke();
    } else if (kind === 'diverged') {
      ctx.lineWidth = 3;
      ctx.moveTo(x - 5, y - 5); ctx.lineTo(x + 5, y + 5); ctx.moveTo(x + 5, y - 5); ctx.lineTo(x - 5, y + 5);
      ctx.strokeStyle = '#fff'; ctx.stroke();
      ctx.lineWidth = 1.8; ctx.strokeStyle = color; ctx.stroke();
    }
  }

  function drawContour() {
    const view = contour.view, r = contour.rect, ctx = context(view);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(contour.base.canvas, 0, 0);
    ctx.setTransform(view.dpr, 0, 0, view.dpr, 0, 0);
    ctx.save();
    ctx.beginPath();
    ctx.rect(r.x, r.y, r.w, r.h);
    ctx.clip();
    if (state.showCritical) {
      criticalPoints().forEach((c) => drawMarker(ctx, c.kind, contour.toX(c.plane_at[0]), contour.toY(c.plane_at[1])));
    }
    ctx.lineJoin = 'round';
    ctx.lineCap = 'round';
    visiblePaths().forEach((p) => {
      const line = () => {
        ctx.beginPath();
        p.points.forEach((q, k) => {
          const x = contour.toX(q[0]), y = contour.toY(q[1]);
          // Far outside the map a diverging path would overflow the canvas' coordinates.
          const cx = Math.max(-1e4, Math.min(1e4, x)), cy = Math.max(-1e4, Math.min(1e4, y));
          if (k === 0) ctx.moveTo(cx, cy); else ctx.lineTo(cx, cy);
        });
      };
      line();
      ctx.strokeStyle = 'rgba(255,255,255,0.85)'; ctx.lineWidth = 4.5; ctx.stroke();
      line();
      ctx.strokeStyle = p.color; ctx.lineWidth = 2.2; ctx.stroke();
    });
    visiblePaths().forEach((p) => {
      const q = p.points[p.points.length - 1];
      drawMarker(ctx, p.diverged ? 'diverged' : 'end', contour.toX(q[0]), contour.toY(q[1]), p.color);
    });
    const m = minimumAt();
    if (m) drawMarker(ctx, 'star', contour.toX(m[0]), contour.toY(m[1]));
    if (state.start) drawMarker(ctx, 'start', contour.toX(state.start[0]), contour.toY(state.start[1]));
    const h = state.hover;
    if (h) {
      const x = contour.toX(h.u), y = contour.toY(h.v);
      ctx.setLineDash([4, 4]);
      ctx.strokeStyle = 'rgba(20,20,20,0.6)';
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(r.x, y); ctx.lineTo(r.x + r.w, y); ctx.moveTo(x, r.y); ctx.lineTo(x, r.y + r.h);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.beginPath(); ctx.arc(x, y, 4, 0, 2 * Math.PI);
      ctx.fillStyle = '#fff'; ctx.fill(); ctx.strokeStyle = '#d62728'; ctx.lineWidth = 2; ctx.stroke();
    }
    ctx.restore();
  }

  // ---------- the surface ----------

  const surface = {
    view: null, mesh: null, image: null, items: null, proj: null, screen: null,
  };
  const Z_HEIGHT = 0.62;

  function heightOf(P) {
    const useLog = state.logHeight && P.lo > 0;
    const h = useLog ? (v) => Math.log(Math.max(v, P.lo)) : (v) => v;
    const lo = h(P.lo), hi = h(P.hi);
    return (v) => (Math.min(h(v), hi) - lo) / (hi - lo || 1) * Z_HEIGHT;
  }

  // A coarser mesh than the grid (at most ~64 cells a side) keeps turning smooth.
  function buildMesh() {
    const P = state.L;
    const pick = (n) => {
      const step = Math.max(1, Math.ceil((n - 1) / 64));
      const idx = [];
      for (let i = 0; i < n - 1; i += step) idx.push(i);
      idx.push(n - 1);
      return idx;
    };
    const I = pick(P.nu), J = pick(P.nv);
    const height = heightOf(P);
    const cols = I.length, rows = J.length;
    const world = new Float64Array(cols * rows * 3);
    for (let b = 0; b < rows; b++) {
      for (let a = 0; a < cols; a++) {
        const o = (b * cols + a) * 3, value = P.z[J[b] * P.nu + I[a]];
        world[o] = I[a] / (P.nu - 1) - 0.5;
        world[o + 1] = J[b] / (P.nv - 1) - 0.5;
        world[o + 2] = value === value ? height(value) : NaN;
      }
    }
    // Each quad's colour: the colour map at its mean loss, lit by a fixed light (Lambert).
    const quads = [];
    const light = [-0.45, -0.55, 0.7];
    const ln = Math.hypot(light[0], light[1], light[2]);
    for (let b = 0; b < rows - 1; b++) {
      for (let a = 0; a < cols - 1; a++) {
        const k = [b * cols + a, b * cols + a + 1, (b + 1) * cols + a + 1, (b + 1) * cols + a];
        const vals = [P.z[J[b] * P.nu + I[a]], P.z[J[b] * P.nu + I[a + 1]],
          P.z[J[b + 1] * P.nu + I[a + 1]], P.z[J[b + 1] * P.nu + I[a]]];
        if (vals.some((v) => v !== v)) continue;
        const p = k.map((i) => [world[3 * i], world[3 * i + 1], world[3 * i + 2]]);
        const e1 = [p[2][0] - p[0][0], p[2][1] - p[0][1], p[2][2] - p[0][2]];
        const e2 = [p[3][0] - p[1][0], p[3][1] - p[1][1], p[3][2] - p[1][2]];
        const n = [e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2], e1[0] * e2[1] - e1[1] * e2[0]];
        const nn = Math.hypot(n[0], n[1], n[2]) || 1;
        const lambert = Math.abs(n[0] * light[0] + n[1] * light[1] + n[2] * light[2]) / (nn * ln);
        const mean = (vals[0] + vals[1] + vals[2] + vals[3]) / 4;
        quads.push({ k: k, a: a, b: b, color: css(rgbAt(P.pos(mean)), 0.55 + 0.45 * lambert) });
      }
    }
    surface.mesh = { I: I, J: J, cols: cols, rows: rows, world: world, quads: quads, height: height,
      stepI: I[1] - I[0], stepJ: J[1] - J[0] };
  }

  function layoutSurface(width, height) {
    surface.view = setupCanvas($('surface'), width, height);
  }

  // Orthographic view: turn by the azimuth about the vertical, tilt by the elevation.
  // Returns [screen x, screen y, depth], depth growing away from the viewer.
  function projector() {
    const v = surface.view, az = state.view.az * Math.PI / 180, el = state.view.el * Math.PI / 180;
    const ca = Math.cos(az), sa = Math.sin(az), ce = Math.cos(el), se = Math.sin(el);
    const scale = Math.min(v.w, v.h * 1.25) * 0.6 * state.view.zoom;
    const cx = v.w / 2, cy = v.h * 0.53;
    const zMid = Z_HEIGHT / 2;
    return (x, y, z) => {
      const xr = x * ca - y * sa, yr = x * sa + y * ca, zc = z - zMid;
      return [cx + xr * scale, cy - (zc * ce + yr * se) * scale, yr * ce - zc * se];
    };
  }

  function worldOf(u, v, loss) {
    const P = state.L;
    return [(u - P.u.min) / (P.u.max - P.u.min) - 0.5, (v - P.v.min) / (P.v.max - P.v.min) - 0.5,
      surface.mesh.height(loss)];
  }

  function inside(u, v) {
    const P = state.L;
    return u >= P.u.min && u <= P.u.max && v >= P.v.min && v <= P.v.max;
  }

  // Draws the surface with the painter's algorithm: quads and path segments sorted back to front,
  // segments nudged towards the viewer so those lying on the surface stay visible, while a hill in
  // front still hides them.
  function drawSurfaceScene() {
    const view = surface.view, mesh = surface.mesh, P = state.L;
    surface.image = offscreen(view);
    const ctx = context(surface.image);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, view.w, view.h);
    const project = projector();
    surface.proj = project;
    const n = mesh.cols * mesh.rows, screen = new Float64Array(n * 3);
    for (let i = 0; i < n; i++) {
      const s = project(mesh.world[3 * i], mesh.world[3 * i + 1], mesh.world[3 * i + 2]);
      screen[3 * i] = s[0]; screen[3 * i + 1] = s[1]; screen[3 * i + 2] = s[2];
    }
    surface.screen = screen;
    drawFloor(ctx, project, true);

    // The quads' back-to-front order changes only with the view, so it is kept between draws.
    const key = [state.view.az, state.view.el, state.view.zoom, view.w, view.h].join();
    if (surface.orderKey !== key || surface.orderMesh !== mesh) {
      const order = mesh.quads.map((q) => ({
        quad: q,
        depth: (screen[3 * q.k[0] + 2] + screen[3 * q.k[1] + 2] + screen[3 * q.k[2] + 2] + screen[3 * q.k[3] + 2]) / 4,
      }));
      order.sort((a, b) => b.depth - a.depth);
      const quadAt = new Int32Array((mesh.cols - 1) * (mesh.rows - 1)).fill(-1);
      order.forEach((it, rank) => { quadAt[it.quad.b * (mesh.cols - 1) + it.quad.a] = rank; });
      surface.items = order;
      surface.quadAt = quadAt;
      surface.orderKey = key;
      surface.orderMesh = mesh;
    }
    const order = surface.items, quadAt = surface.quadAt;
    // Each path is cut into pieces of half a mesh cell, draped on the surface, and each piece is
    // drawn right after the quad it lies over: on top of that quad, behind every quad nearer.
    const cellOf = (u, v) => {
      const fi = (u - P.u.min) / (P.u.max - P.u.min) * (P.nu - 1);
      const fj = (v - P.v.min) / (P.v.max - P.v.min) * (P.nv - 1);
      const a = Math.min(Math.max(Math.floor(fi / mesh.stepI), 0), mesh.cols - 2);
      const b = Math.min(Math.max(Math.floor(fj / mesh.stepJ), 0), mesh.rows - 2);
      return quadAt[b * (mesh.cols - 1) + a];
    };
    const attached = new Array(order.length), loose = [];
    const cellU = mesh.stepI / (P.nu - 1) * (P.u.max - P.u.min);
    const cellV = mesh.stepJ / (P.nv - 1) * (P.v.max - P.v.min);
    visiblePaths().forEach((p) => {
      for (let k = 1; k < p.points.length; k++) {
        const q0 = p.points[k - 1], q1 = p.points[k];
        if (!inside(q0[0], q0[1]) || !inside(q1[0], q1[1])) continue;
        const n = Math.min(400, Math.max(1, Math.ceil(2 * Math.max(Math.abs(q1[0] - q0[0]) / cellU,
          Math.abs(q1[1] - q0[1]) / cellV))));
        let prev = project.apply(null, worldOf(q0[0], q0[1], q0[2]));
        for (let m = 1; m <= n; m++) {
          const t = m / n, u = q0[0] + (q1[0] - q0[0]) * t, v = q0[1] + (q1[1] - q0[1]) * t;
          const loss = m === n ? q1[2] : sample(P, u, v);
          if (!isFinite(loss)) { prev = null; continue; }
          const here = project.apply(null, worldOf(u, v, loss));
          if (prev) {
            const tm = (m - 0.5) / n;
            const rank = cellOf(q0[0] + (q1[0] - q0[0]) * tm, q0[1] + (q1[1] - q0[1]) * tm);
            const piece = { seg: [prev, here], color: p.color };
            if (rank < 0) loose.push(piece);
            else (attached[rank] || (attached[rank] = [])).push(piece);
          }
          prev = here;
        }
      }
    });
    ctx.lineJoin = 'round';
    ctx.lineCap = 'round';
    // Runs of consecutive pieces of one path are stroked together: a halo, then the colour.
    const strokeRun = (run) => {
      if (!run.length) return;
      ctx.beginPath();
      ctx.moveTo(run[0].seg[0][0], run[0].seg[0][1]);
      run.forEach((it) => ctx.lineTo(it.seg[1][0], it.seg[1][1]));
      ctx.lineCap = 'butt';
      ctx.strokeStyle = 'rgba(255,255,255,0.8)'; ctx.lineWidth = 4; ctx.stroke();
      ctx.lineCap = 'round';
      ctx.strokeStyle = run[0].color; ctx.lineWidth = 2.2; ctx.stroke();
    };
    const strokePieces = (pieces) => {
      let run = [];
      for (const it of pieces) {
        const last = run[run.length - 1];
        if (last && (last.color !== it.color || last.seg[1] !== it.seg[0])) {
          strokeRun(run);
          run = [];
        }
        run.push(it);
      }
      strokeRun(run);
    };
    ctx.lineWidth = 0.7;
    for (let rank = 0; rank < order.length; rank++) {
      const q = order[rank].quad, k = q.k;
      ctx.beginPath();
      ctx.moveTo(screen[3 * k[0]], screen[3 * k[0] + 1]);
      ctx.lineTo(screen[3 * k[1]], screen[3 * k[1] + 1]);
      ctx.lineTo(screen[3 * k[2]], screen[3 * k[2] + 1]);
      ctx.lineTo(screen[3 * k[3]], screen[3 * k[3] + 1]);
      ctx.closePath();
      ctx.fillStyle = q.color;
      ctx.strokeStyle = q.color;
      ctx.fill();
      ctx.stroke();
      if (attached[rank]) {
        strokePieces(attached[rank]);
        ctx.lineWidth = 0.7;
      }
    }
    strokePieces(loose);
    drawFloor(ctx, project, false);
    // Markers sit on top: the minimum, and where each path starts and ends.
    const m = minimumAt();
    if (m && inside(m[0], m[1])) {
      const s = project.apply(null, worldOf(m[0], m[1], state.L.analysis.minimum.loss));
      drawMarker(ctx, 'star', s[0], s[1]);
    }
    visiblePaths().forEach((p) => {
      const q = p.points[p.points.length - 1];
      if (inside(q[0], q[1])) {
        const s = project.apply(null, worldOf(q[0], q[1], q[2]));
        drawMarker(ctx, p.diverged ? 'diverged' : 'end', s[0], s[1], p.color);
      }
    });
    if (state.start && inside(state.start[0], state.start[1])) {
      const s = project.apply(null, worldOf(state.start[0], state.start[1], sample(P, state.start[0], state.start[1])));
      drawMarker(ctx, 'start', s[0], s[1]);
    }
  }

  // The floor's outline, then (on top) tick labels on its two front edges and the loss axis.
  function drawFloor(ctx, project, back) {
    const P = state.L;
    const corners = [[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]].map((c) => project(c[0], c[1], 0));
    if (back) {
      ctx.beginPath();
      corners.forEach((c) => ctx.lineTo(c[0], c[1]));
      ctx.closePath();
      ctx.fillStyle = '#f3f5f7';
      ctx.fill();
      ctx.strokeStyle = '#b8c0c8';
      ctx.lineWidth = 1;
      ctx.stroke();
      // The loss axis stands at the corner furthest left on screen.
      let left = 0;
      corners.forEach((c, k) => { if (c[0] < corners[left][0]) left = k; });
      const base = [[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]][left];
      const bottom = project(base[0], base[1], 0), top = project(base[0], base[1], Z_HEIGHT);
      surface.zBase = bottom;
      ctx.beginPath(); ctx.moveTo(bottom[0], bottom[1]); ctx.lineTo(top[0], top[1]); ctx.stroke();
      ctx.fillStyle = '#1f2328';
      ctx.font = SMALL;
      ctx.textAlign = 'right';
      ctx.textBaseline = 'middle';
      const useLog = state.logHeight && P.lo > 0;
      const ticks = useLog && P.hi / P.lo > 30 ? logTicks(P.lo, P.hi) : niceTicks(P.lo, P.hi, 4);
      ticks.forEach((t) => {
        if (t < P.lo || t > P.hi) return;
        const s = project(base[0], base[1], surface.mesh.height(t));
        ctx.beginPath(); ctx.moveTo(s[0] - 4, s[1]); ctx.lineTo(s[0], s[1]); ctx.stroke();
        ctx.fillText(fmt(t, 3), s[0] - 6, s[1]);
      });
      ctx.textAlign = 'center';
      ctx.textBaseline = 'bottom';
      ctx.fillText(useLog ? 'loss (log)' : 'loss', top[0], top[1] - 6);
      return;
    }
    // Front edges: of the two edges along u (v = min or max), the one nearer the viewer.
    const center = project(0, 0, 0);
    const zBase = surface.zBase;
    const edge = (axis) => {
      const options = axis === 'u' ? [-0.5, 0.5].map((v) => [[-0.5, v], [0.5, v]]) : [-0.5, 0.5].map((u) => [[u, -0.5], [u, 0.5]]);
      const depth = (e) => (project(e[0][0], e[0][1], 0)[2] + project(e[1][0], e[1][1], 0)[2]) / 2;
      return depth(options[0]) < depth(options[1]) ? options[0] : options[1];
    };
    ctx.font = SMALL;
    ctx.fillStyle = '#1f2328';
    ctx.strokeStyle = '#5f6b76';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    [['u', P.u], ['v', P.v]].forEach((pair) => {
      const e = edge(pair[0]), axis = pair[1];
      const a = project(e[0][0], e[0][1], 0), b = project(e[1][0], e[1][1], 0);
      const mid = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
      let ox = mid[0] - center[0], oy = mid[1] - center[1];
      const ol = Math.hypot(ox, oy) || 1;
      ox /= ol; oy /= ol;
      niceTicks(axis.min, axis.max, 4).forEach((t) => {
        const f = (t - axis.min) / (axis.max - axis.min);
        const x = a[0] + (b[0] - a[0]) * f, y = a[1] + (b[1] - a[1]) * f;
        if (zBase && Math.hypot(x - zBase[0], y - zBase[1]) < 12) return;
        ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x + ox * 4, y + oy * 4); ctx.stroke();
        haloText(ctx, fmt(t, 3), x + ox * 14, y + oy * 12);
      });
      ctx.font = 'italic 600 13px system-ui, sans-serif';
      haloText(ctx, axis.name, mid[0] + ox * 34, mid[1] + oy * 30);
      ctx.font = SMALL;
    });
  }

  function drawSurface() {
    const view = surface.view, ctx = context(view);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(surface.image.canvas, 0, 0);
    ctx.setTransform(view.dpr, 0, 0, view.dpr, 0, 0);
    const h = state.hover;
    if (h && isFinite(h.loss) && inside(h.u, h.v)) {
      const project = surface.proj;
      const top = project.apply(null, worldOf(h.u, h.v, h.loss));
      const floor = project.apply(null, worldOf(h.u, h.v, state.L.lo).slice(0, 2).concat([0]));
      ctx.setLineDash([3, 3]);
      ctx.strokeStyle = 'rgba(20,20,20,0.55)';
      ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(top[0], top[1]); ctx.lineTo(floor[0], floor[1]); ctx.stroke();
      ctx.setLineDash([]);
      ctx.beginPath(); ctx.arc(top[0], top[1], 4.5, 0, 2 * Math.PI);
      ctx.fillStyle = '#fff'; ctx.fill(); ctx.strokeStyle = '#d62728'; ctx.lineWidth = 2; ctx.stroke();
    }
  }

  // The (u, v) under a point of the surface canvas: the front-most quad that contains it, split
  // into two triangles for barycentric coordinates.
  function surfacePick(x, y) {
    const items = surface.items, screen = surface.screen, mesh = surface.mesh, P = state.L;
    if (!items) return null;
    for (let n = items.length - 1; n >= 0; n--) {
      const q = items[n].quad;
      if (!q) continue;
      const pts = q.k.map((i) => [screen[3 * i], screen[3 * i + 1]]);
      const tris = [[0, 1, 2], [0, 2, 3]];
      for (const t of tris) {
        const A = pts[t[0]], B = pts[t[1]], C = pts[t[2]];
        const det = (B[1] - C[1]) * (A[0] - C[0]) + (C[0] - B[0]) * (A[1] - C[1]);
        if (Math.abs(det) < 1e-9) continue;
        const l1 = ((B[1] - C[1]) * (x - C[0]) + (C[0] - B[0]) * (y - C[1])) / det;
        const l2 = ((C[1] - A[1]) * (x - C[0]) + (A[0] - C[0]) * (y - C[1])) / det;
        const l3 = 1 - l1 - l2;
        if (l1 < -1e-6 || l2 < -1e-6 || l3 < -1e-6) continue;
        const corner = [[q.a, q.b], [q.a + 1, q.b], [q.a + 1, q.b + 1], [q.a, q.b + 1]];
        const gi = (c) => mesh.I[corner[c][0]], gj = (c) => mesh.J[corner[c][1]];
        const i = l1 * gi(t[0]) + l2 * gi(t[1]) + l3 * gi(t[2]);
        const j = l1 * gj(t[0]) + l2 * gj(t[1]) + l3 * gj(t[2]);
        return [P.u.min + i / (P.nu - 1) * (P.u.max - P.u.min), P.v.min + j / (P.nv - 1) * (P.v.max - P.v.min)];
      }
    }
    return null;
  }

  // ---------- hover, readout, legend, analysis ----------

  function setHover(u, v, source, note) {
    const P = state.L, readout = $('readout');
    if (u === null) {
      state.hover = null;
      readout.textContent = 'Hover over the map or the surface to read the loss.';
      delete readout.dataset.loss;
    } else {
      const loss = sample(P, u, v);
      state.hover = { u: u, v: v, loss: loss, source: source };
      readout.textContent = P.u.name + ' = ' + fmt(u, 4) + '   ' + P.v.name + ' = ' + fmt(v, 4) + '   loss ≈ ' +
        (isFinite(loss) ? fmt(loss, 4) : 'not finite') + (note ? '   · ' + note : '');
      readout.dataset.loss = isFinite(loss) ? String(loss) : 'NaN';
    }
    drawContour();
    drawSurface();
  }

  // The path step nearest the pointer on the map, if within 8 pixels.
  function nearestStep(x, y) {
    let best = null, bestD = 8;
    visiblePaths().forEach((p) => {
      p.points.forEach((q, k) => {
        const d = Math.hypot(contour.toX(q[0]) - x, contour.toY(q[1]) - y);
        if (d < bestD) { bestD = d; best = p.label + ', step ' + k + ', loss ' + fmt(q[2], 4); }
      });
    });
    return best;
  }

  function renderLegend() {
    const ul = $('legend');
    ul.textContent = '';
    if (state.paths.length === 0) {
      const li = document.createElement('li');
      li.className = 'hint';
      li.textContent = LIVE ? 'Choose at least one optimizer, then click the map.' : 'No paths.';
      ul.appendChild(li);
    }
    state.paths.forEach((p, k) => {
      const li = document.createElement('li');
      const label = document.createElement('label');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.checked = !state.hidden.has(k);
      box.dataset.path = String(k);
      box.addEventListener('change', () => {
        if (box.checked) state.hidden.delete(k); else state.hidden.add(k);
        redrawPaths();
      });
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = p.color;
      label.append(box, swatch, document.createTextNode(p.label));
      const detail = document.createElement('span');
      detail.className = 'detail' + (p.diverged ? ' diverged' : '');
      // The final point in every parameter (a plane may hold more than its two axes).
      const names = (state.L.analysis && state.L.analysis.params) || state.L.params;
      const end = p.final.params.slice(0, 6).map((x, i) => names[i] + ' ' + fmt(x, 4)).join(', ') +
        (p.final.params.length > 6 ? ', ...' : '');
      // A path in more dimensions than the plane's two is drawn projected: say how far it left.
      const lastPoint = p.points[p.points.length - 1];
      const off = lastPoint && lastPoint[3] > 0 ? ', ' + fmt(lastPoint[3], 3) + ' off the plane' : '';
      detail.textContent = p.diverged
        ? 'diverged at step ' + p.steps + ' (the loss blew up: try a smaller learning rate)'
        : p.stopped === 'converged'
          ? 'converged in ' + p.steps + ' steps at ' + end + ', loss ' + fmt(p.final.loss, 4) + off
          : 'after ' + p.steps + ' steps: ' + end + ', loss ' + fmt(p.final.loss, 4) + off;
      li.append(label, detail);
      ul.appendChild(li);
    });
    document.body.dataset.paths = String(state.paths.length);
  }

  function renderAnalysis() {
    const a = state.L.analysis || {}, box = $('analysis'), names = a.params || state.L.params;
    box.textContent = '';
    const dl = document.createElement('dl');
    const row = (term, text, button) => {
      const dt = document.createElement('dt'), dd = document.createElement('dd');
      dt.textContent = term;
      dd.textContent = text;
      if (button) dd.appendChild(button);
      dl.append(dt, dd);
    };
    const net = state.L.network;
    if (net) {
      // A network's plane: what the network and the plane are, and the loss where it is centred.
      row('network', net.network + ', ' + net.weights.toLocaleString('en') + ' weights');
      row('data', net.data);
      row('plane', net.plane);
      row('at the weights', 'loss ' + fmt(net.loss, 4) +
        (typeof net.accuracy === 'number' ? ', accuracy ' + fmt(net.accuracy, 3) : ''));
      if (net.lowest) {
        row('lowest on the grid', 'loss ' + fmt(net.lowest[1], 4) + ' at ' +
          state.L.params[0] + ' = ' + fmt(net.lowest[0][0], 3) + ', ' + state.L.params[1] + ' = ' + fmt(net.lowest[0][1], 3));
      }
      box.appendChild(dl);
      return;
    }
    const at = (xs) => xs.slice(0, 6).map((x, i) => names[i] + ' = ' + fmt(x, 4)).join(', ') +
      (xs.length > 6 ? ', ... (' + (xs.length - 6) + ' more)' : '');
    const tryButton = (lr, momentum) => {
      if (!LIVE || !isFinite(lr)) return null;
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = 'try it';
      b.title = 'set the sliders to this and run again';
      b.addEventListener('click', () => {
        setLr(lr);
        if (momentum !== undefined) setMomentum(momentum);
        requestPaths();
      });
      return b;
    };
    const m = a.minimum;
    if (m) {
      row('minimum', at(m.at) + ', loss ' + fmt(m.loss, 4) + (m.inside_range === false ? ' (outside the drawn range)' : ''));
      row('found by', m.found_by.method + (m.found_by.iterations ? ', ' + m.found_by.iterations + ' iterations' : ''));
    }
    if (Array.isArray(a.eigenvalues)) {
      row('Hessian eigenvalues', a.eigenvalues.map((x) => fmt(x, 4)).join(', '));
    }
    if (typeof a.condition_number === 'number') {
      row('condition number', fmt(a.condition_number, 4));
      const gd = a.gradient_descent, mo = a.momentum;
      row('gd is stable for', 'lr < ' + fmt(gd.max_stable_learning_rate, 4) + ' (2 / largest eigenvalue)');
      row('best gd lr', fmt(gd.best_learning_rate, 4) + ': ' + gd['steps_to_shrink_error_1e-6'] + ' steps to shrink the error 1e6 times',
        tryButton(gd.best_learning_rate));
      row('best momentum', 'lr ' + fmt(mo.best_learning_rate, 4) + ', momentum ' + fmt(mo.best_momentum, 3) + ': ' +
        mo['steps_to_shrink_error_1e-6'] + ' steps', tryButton(mo.best_learning_rate, mo.best_momentum));
    }
    const cps = Array.isArray(a.critical_points) ? a.critical_points : [];
    if (cps.length > 1) {
      const counts = {};
      cps.forEach((c) => { counts[c.kind] = (counts[c.kind] || 0) + 1; });
      row('critical points', Object.keys(counts).map((k) => counts[k] + ' ' + k + (counts[k] > 1 ? (k === 'minimum' ? 'a' : 's') : '')).join(', ').replace('minimuma', 'minima'));
      cps.slice(0, 6).forEach((c) => row('  ' + c.kind, at(c.at) + ', loss ' + fmt(c.loss, 4)));
    }
    row('data', a.data ? a.data.name + ' (' + a.data.rows + ' points), ' + state.L.transform_description : '');
    box.appendChild(dl);
    if (m && m.inside_range === false) {
      const p = document.createElement('p');
      p.className = 'note';
      p.textContent = 'The lowest point found lies outside the drawn range, so the curvature and step sizes ' +
        'above describe the landscape there, not what you see.';
      box.appendChild(p);
    }
    if (a.statement) {
      const p = document.createElement('p');
      p.className = 'note';
      p.textContent = a.statement;
      box.appendChild(p);
    }
    if (state.L.non_finite > 0) {
      const p = document.createElement('p');
      p.className = 'note';
      p.textContent = state.L.non_finite + ' grid points have no finite loss; they are grey.';
      box.appendChild(p);
    }
  }

  function renderTitles() {
    const L = state.L;
    $('title').textContent = L.title;
    $('subtitle').textContent = [L.case_title, L.transform_description, L.loss + ' loss'].filter(Boolean).join(' · ');
    document.title = 'lossatlas: ' + L.title;
    $('contour-caption').textContent = 'Contour map of the loss over (' + L.params.join(', ') + '). Hover to read the loss' +
      (LIVE ? '; click to start the optimizers there.' : '.');
    $('footer').textContent = 'Drawn by lossatlas ' + DATA.version + ' from a ' + L.u.n + ' × ' + L.v.n +
      ' grid; values between grid points are interpolated. ★ is the minimum, ○ other minima, ◇ saddles, ◯ with a thick ring the start.';
  }

  // ---------- drawing everything ----------

  function layout() {
    const width = Math.max(300, Math.floor($('contour').parentElement.getBoundingClientRect().width));
    const height = Math.round(Math.min(width * 0.86, Math.max(320, window.innerHeight - 330)));
    layoutContour(width, height);
    layoutSurface(width, height);
  }

  function redrawAll() {
    drawContourBase();
    buildMesh();
    drawSurfaceScene();
    drawContour();
    drawSurface();
  }

  function redrawPaths() {
    drawSurfaceScene();
    drawContour();
    drawSurface();
  }

  function setLandscape(L) {
    state.L = prepare(L);
    state.hover = null;
    $('readout').textContent = 'Hover over the map or the surface to read the loss.';
    delete $('readout').dataset.loss;
    state.start = L.start || null;
    renderTitles();
    renderAnalysis();
    const canLog = state.L.lo > 0;
    $('log-height').disabled = !canLog;
    if (!canLog) state.logHeight = false;
  }

  // ---------- live: asking the server ----------

  const live = { seq: 0, busy: false, again: false };

  function lrFromSlider(t) { return Math.pow(10, -4 + 6 * t / 1000); }
  function sliderFromLr(lr) { return Math.round((Math.log10(lr) + 4) / 6 * 1000); }

  function setLr(lr) {
    lr = parseFloat(Math.min(DATA.controls.max_lr, Math.max(1e-4, lr)).toPrecision(3));
    $('lr').value = String(sliderFromLr(lr));
    live.lr = lr;
    $('lr-value').textContent = fmt(lr, 3);
  }

  function setMomentum(m) {
    $('momentum').value = String(m);
    live.momentum = Math.min(0.99, Math.max(0, Number($('momentum').value)));
    $('momentum-value').textContent = fmt(live.momentum, 2);
  }

  function status(text, error) {
    const s = $('status');
    s.textContent = text;
    s.className = 'hint' + (error ? ' error' : '');
  }

  function chosenOptimizers() {
    return DATA.optimizers.map((o) => o.name).filter((n) => $('opt-' + n).checked);
  }

  function requestPaths() {
    if (!LIVE || !state.start) return;
    if (live.busy) { live.again = true; return; }
    const names = chosenOptimizers();
    if (names.length === 0) {
      state.paths = [];
      renderLegend();
      redrawPaths();
      status('Choose at least one optimizer.');
      return;
    }
    const steps = Math.round(Number($('steps').value));
    const q = new URLSearchParams({
      case: state.L.case, transform: state.L.transform, u: String(state.start[0]), v: String(state.start[1]),
      lr: String(live.lr), momentum: String(live.momentum), steps: String(steps), optimizers: names.join(','),
    });
    names.forEach((n) => {
      const own = $('set-' + n).value.trim();
      if (own) q.set('set_' + n, own);
    });
    const seq = ++live.seq, t0 = performance.now();
    live.busy = true;
    fetch('api/paths?' + q.toString())
      .then((r) => r.json().then((body) => ({ ok: r.ok, body: body })))
      .then((res) => {
        if (!res.ok) throw new Error(res.body.error || 'the server refused the request');
        if (seq !== live.seq) return;
        const t1 = performance.now();
        state.paths = res.body.paths;
        state.hidden.clear();
        renderLegend();
        redrawPaths();
        const t2 = performance.now();
        requestAnimationFrame(() => {
          const t3 = performance.now();
          state.runs++;
          window.lossatlasTiming = { request_ms: t1 - t0, draw_ms: t2 - t1, painted_ms: t3 - t0,
            server_ms: res.body.compute_ms, paths: state.paths.length, steps: steps };
          document.body.dataset.pathRuns = String(state.runs);
        });
        status(state.paths.length + ' paths of up to ' + steps + ' steps: computed in ' + fmt(res.body.compute_ms, 2) +
          ' ms by the server, drawn ' + fmt(t2 - t0, 3) + ' ms after the click.');
      })
      .catch((e) => status(String(e.message || e), true))
      .finally(() => {
        live.busy = false;
        if (live.again) { live.again = false; requestPaths(); }
      });
  }

  function requestLandscape() {
    const q = new URLSearchParams({ case: $('case').value, transform: $('transform').value });
    status('computing the landscape…');
    fetch('api/landscape?' + q.toString())
      .then((r) => r.json().then((body) => ({ ok: r.ok, body: body })))
      .then((res) => {
        if (!res.ok) throw new Error(res.body.error || 'the server refused the request');
        setLandscape(res.body);
        setLr(res.body.lr);
        state.paths = [];
        state.hidden.clear();
        renderLegend();
        redrawAll();
        status('');
        requestPaths();
      })
      .catch((e) => status(String(e.message || e), true));
  }

  function startAt(u, v) {
    if (!LIVE) {
      status('This page is a snapshot; run `lossatlas serve` to start optimizers where you click.');
      return;
    }
    state.start = [u, v];
    requestPaths();
  }

  function setupLive() {
    document.querySelectorAll('.live-only').forEach((e) => { e.hidden = false; });
    const caseSel = $('case'), trSel = $('transform');
    DATA.cases.forEach((c) => caseSel.add(new Option(c.name + ': ' + c.title, c.name)));
    DATA.transforms.forEach((t) => trSel.add(new Option(t.name + ' (' + t.description + ')', t.name)));
    caseSel.value = state.L.case;
    trSel.value = state.L.transform;
    // A network's page has one landscape and no input transform: no menus to offer.
    if (!DATA.cases.length) {
      caseSel.closest('label').hidden = true;
      trSel.closest('label').hidden = true;
    }
    caseSel.addEventListener('change', requestLandscape);
    trSel.addEventListener('change', requestLandscape);
    const choices = $('optimizer-choices');
    DATA.optimizers.forEach((o) => {
      const label = document.createElement('label');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.id = 'opt-' + o.name;
      box.checked = DATA.controls.optimizers.indexOf(o.name) >= 0;
      box.addEventListener('change', requestPaths);
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = o.color;
      label.append(box, swatch, document.createTextNode(o.name));
      // Each optimizer's own settings (torch.optim's names), overriding the sliders for it.
      const settings = document.createElement('input');
      settings.type = 'text';
      settings.id = 'set-' + o.name;
      settings.className = 'settings';
      settings.placeholder = o.settings.join(', ');
      settings.title = o.name + ' settings as key=value,... (' + o.settings.join(', ') +
        '); empty: the sliders\' learning rate and momentum';
      settings.setAttribute('aria-label', o.name + ' settings');
      settings.addEventListener('change', requestPaths);
      const row = document.createElement('div');
      row.className = 'optimizer';
      row.append(label, settings);
      choices.appendChild(row);
    });
    setLr(DATA.controls.lr);
    setMomentum(DATA.controls.momentum);
    $('steps').value = String(DATA.controls.steps);
    $('steps').max = String(DATA.controls.max_steps);
    $('lr').addEventListener('input', () => { setLr(lrFromSlider(Number($('lr').value))); requestPaths(); });
    $('momentum').addEventListener('input', () => { setMomentum(Number($('momentum').value)); requestPaths(); });
    $('steps').addEventListener('change', () => {
      const s = Math.round(Number($('steps').value));
      $('steps').value = String(Math.min(DATA.controls.max_steps, Math.max(1, isFinite(s) ? s : 400)));
      requestPaths();
    });
  }

  // ---------- events ----------

  function pointer(canvas, e) {
    const r = canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  function setupEvents() {
    const c = $('contour'), s = $('surface');
    c.addEventListener('pointermove', (e) => {
      const p = pointer(c, e), r = contour.rect;
      if (p[0] < r.x || p[0] > r.x + r.w || p[1] < r.y || p[1] > r.y + r.h) { setHover(null); return; }
      setHover(contour.toU(p[0]), contour.toV(p[1]), 'contour', nearestStep(p[0], p[1]));
    });
    c.addEventListener('pointerleave', () => setHover(null));
    c.addEventListener('click', (e) => {
      const p = pointer(c, e), r = contour.rect;
      if (p[0] < r.x || p[0] > r.x + r.w || p[1] < r.y || p[1] > r.y + r.h) return;
      startAt(contour.toU(p[0]), contour.toV(p[1]));
    });

    let drag = null;
    s.addEventListener('pointerdown', (e) => {
      drag = { x: e.clientX, y: e.clientY, az: state.view.az, el: state.view.el, moved: false };
      s.setPointerCapture(e.pointerId);
    });
    s.addEventListener('pointermove', (e) => {
      if (drag) {
        const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
        if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
        if (drag.moved) {
          state.view.az = drag.az - dx * 0.5;
          state.view.el = Math.max(0, Math.min(90, drag.el + dy * 0.4));
          drawSurfaceScene();
          drawSurface();
          return;
        }
      }
      const p = pointer(s, e), uv = surfacePick(p[0], p[1]);
      if (uv) setHover(uv[0], uv[1], 'surface'); else if (state.hover) setHover(null);
    });
    s.addEventListener('pointerup', (e) => {
      const wasClick = drag && !drag.moved;
      drag = null;
      if (wasClick) {
        const p = pointer(s, e), uv = surfacePick(p[0], p[1]);
        if (uv) startAt(uv[0], uv[1]);
      }
    });
    s.addEventListener('pointerleave', () => { if (!drag) setHover(null); });
    s.addEventListener('wheel', (e) => {
      e.preventDefault();
      state.view.zoom = Math.max(0.4, Math.min(6, state.view.zoom * Math.exp(-e.deltaY * 0.0015)));
      drawSurfaceScene();
      drawSurface();
    }, { passive: false });
    s.addEventListener('dblclick', () => {
      state.view = { az: -60, el: 40, zoom: 1 };
      drawSurfaceScene();
      drawSurface();
    });
    s.addEventListener('keydown', (e) => {
      const turn = { ArrowLeft: [-5, 0], ArrowRight: [5, 0], ArrowUp: [0, 5], ArrowDown: [0, -5] }[e.key];
      if (!turn) return;
      e.preventDefault();
      state.view.az += turn[0];
      state.view.el = Math.max(0, Math.min(90, state.view.el + turn[1]));
      drawSurfaceScene();
      drawSurface();
    });

    const toggle = (id, key, all) => $(id).addEventListener('change', () => {
      state[key] = $(id).checked;
      if (all) redrawAll(); else redrawPaths();
    });
    toggle('show-lines', 'showLines', true);
    toggle('show-bands', 'showBands', true);
    toggle('show-critical', 'showCritical', false);
    toggle('log-height', 'logHeight', true);

    let pending = 0;
    window.addEventListener('resize', () => {
      clearTimeout(pending);
      pending = setTimeout(() => { layout(); redrawAll(); }, 120);
    });
  }

  // ---------- start ----------

  setLandscape(DATA.landscape);
  if (LIVE) setupLive(); else $('snapshot-note').hidden = false;
  renderLegend();
  setupEvents();
  layout();
  redrawAll();
  document.body.dataset.pathRuns = '0';
  document.body.dataset.ready = '1';
})();
