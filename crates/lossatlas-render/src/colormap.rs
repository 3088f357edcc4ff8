//! Colour maps and the mapping from loss values to colours.

use plotters::style::RGBColor;

use crate::raster::round;

/// Viridis (perceptually uniform, readable in grey and by colour-blind readers) at t in [0, 1],
/// from the degree-6 polynomial fit by Matt Zucker (2019) of matplotlib's table, with its ends
/// pinned to the table's.
pub fn viridis(t: f64) -> RGBColor {
    const C: [[f64; 3]; 7] = [
        [0.277_727_327_223_417_7, 0.005_407_344_544_966_578, 0.334_099_805_335_306_1],
        [0.105_093_043_108_577_4, 1.404_613_529_898_575, 1.384_590_162_594_685],
        [-0.330_861_828_725_556_3, 0.214_847_559_468_213, 0.095_095_163_028_236_59],
        [-4.634_230_498_983_486, -5.799_100_973_351_585, -19.332_440_956_279_87],
        [6.228_269_936_347_081, 14.179_933_366_805_09, 56.690_552_600_681_05],
        [4.776_384_997_670_288, -13.745_145_377_746_01, -65.353_032_633_372_34],
        [-5.435_455_855_934_631, 4.645_852_612_178_535, 26.312_435_249_583_2],
    ];
    // matplotlib's end colours, #440154 and #fde725: the fit misses them by up to 4 steps, so a
    // linear correction pins both ends (it moves the middle by less than 2 steps).
    const ENDS: [[f64; 3]; 2] = [[68.0, 1.0, 84.0], [253.0, 231.0, 37.0]];
    let poly = |t: f64, k: usize| C.iter().rev().fold(0.0, |acc, c| acc * t + c[k]);
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let channel = |k: usize| {
        let at0 = ENDS[0][k] / 255.0 - poly(0.0, k);
        let at1 = ENDS[1][k] / 255.0 - poly(1.0, k);
        let v = poly(t, k) + (1.0 - t) * at0 + t * at1;
        round(v.clamp(0.0, 1.0) * 255.0) as u8
    };
    RGBColor(channel(0), channel(1), channel(2))
}

/// Maps loss values onto [0, 1] for a colour map, linearly or logarithmically.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColorScale {
    lo: f64,
    hi: f64,
    log: bool,
}

impl ColorScale {
    /// A scale from `lo` to `hi`. A log scale needs `lo > 0`; when it does not hold, the scale
    /// falls back to linear, since there is no honest log picture of a non-positive value.
    pub fn new(lo: f64, hi: f64, log: bool) -> ColorScale {
        let log = log && lo > 0.0;
        let hi = if hi > lo { hi } else { lo + 1.0 };
        ColorScale { lo, hi, log }
    }

    /// The position of `value` in [0, 1] (clamped).
    pub fn position(&self, value: f64) -> f64 {
        let t = if self.log {
            (value.max(self.lo).ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            (value - self.lo) / (self.hi - self.lo)
        };
        t.clamp(0.0, 1.0)
    }

    /// The value at position `t` in [0, 1] (inverse of [`ColorScale::position`]).
    pub fn value(&self, t: f64) -> f64 {
        if self.log {
            (self.lo.ln() + t * (self.hi.ln() - self.lo.ln())).exp()
        } else {
            self.lo + t * (self.hi - self.lo)
        }
    }

    /// The colour of `value` under viridis.
    pub fn color(&self, value: f64) -> RGBColor {
        viridis(self.position(value))
    }

    /// The lower end.
    pub fn lo(&self) -> f64 {
        self.lo
    }

    /// The upper end.
    pub fn hi(&self) -> f64 {
        self.hi
    }

    /// Whether the scale is logarithmic.
    pub fn is_log(&self) -> bool {
        self.log
    }
}

/// The colour scale for levels over landscapes with the given finite value ranges: it runs from
/// one level step below the first level to one above the last (a step is the mean gap between
/// levels, on the log scale when log), cut to the data, so the lowest and highest bands get their
/// own colours and the colours are spent where the levels are.
pub(crate) fn color_scale_for(
    levels: &[f64],
    ranges: impl Iterator<Item = (f64, f64)>,
    log: Option<bool>,
) -> ColorScale {
    let (mut data_lo, mut data_hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (lo, hi) in ranges {
        data_lo = data_lo.min(lo);
        data_hi = data_hi.max(hi);
    }
    let (first, last) = match (levels.first(), levels.last()) {
        (Some(&a), Some(&b)) => (a, b),
        _ if data_lo.is_finite() => return ColorScale::new(data_lo, data_hi, log.unwrap_or(false)),
        _ => return ColorScale::new(0.0, 1.0, false),
    };
    let log = log.unwrap_or(first > 0.0 && last >= 20.0 * first) && first > 0.0;
    let fwd = |x: f64| if log { x.ln() } else { x };
    let back = |x: f64| if log { x.exp() } else { x };
    let (lo, hi) = if levels.len() >= 2 {
        let step = (fwd(last) - fwd(first)) / (levels.len() - 1) as f64;
        let lo = back(fwd(first) - step);
        let hi = back(fwd(last) + step);
        let lo = if data_lo.is_finite() && (!log || data_lo > 0.0) { lo.max(data_lo) } else { lo };
        let hi = if data_hi.is_finite() { hi.min(data_hi) } else { hi };
        (lo.min(first), hi.max(last))
    } else if data_lo.is_finite() && data_hi > data_lo && (!log || data_lo > 0.0) {
        (data_lo.min(first), data_hi.max(first))
    } else if log {
        (first / 2.0, first * 2.0)
    } else {
        (first - 0.5 * first.abs().max(1.0), first + 0.5 * first.abs().max(1.0))
    };
    ColorScale::new(lo, hi, log)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_ends_match_matplotlib() {
        // matplotlib: viridis(0) = #440154, viridis(1) = #fde725.
        let RGBColor(r, g, b) = viridis(0.0);
        assert!((r as i32 - 0x44).abs() <= 2 && (g as i32 - 0x01).abs() <= 2 && (b as i32 - 0x54).abs() <= 2);
        let RGBColor(r, g, b) = viridis(1.0);
        assert!((r as i32 - 0xfd).abs() <= 3 && (g as i32 - 0xe7).abs() <= 3 && (b as i32 - 0x25).abs() <= 3);
    }

    #[test]
    fn log_scale_puts_decades_evenly() {
        let s = ColorScale::new(0.1, 100.0, true);
        assert!((s.position(1.0) - 1.0 / 3.0).abs() < 1e-12);
        assert!((s.value(2.0 / 3.0) - 10.0).abs() < 1e-9);
        assert!(!ColorScale::new(0.0, 1.0, true).is_log());
    }
}
