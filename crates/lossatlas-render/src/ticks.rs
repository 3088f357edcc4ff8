//! Axis scales and their ticks: linear or logarithmic, with ticks a person would pick (round
//! 1-2-5 steps; powers of ten, or 1-2-5 multiples over a short log range), shared by the x-y
//! charts and the colour bar.
//!
//! plotters' own log axis labels only whole powers of ten (a loss falling from 0.02 to 0.006
//! would get one tick, or none), and its key points are not what a person would pick.

use crate::labels::{format_sig, format_tick};

/// How far from zero (and, on a log axis, from one) an axis may reach. A diverged run's loss can
/// reach 1e308, where a span, a padding or a power of ten overflows to infinity and the axis
/// could not be drawn; values beyond the limit are clipped by the frame like any other.
const AXIS_LIMIT: f64 = 1e300;

/// One axis: the value range it shows and whether it is logarithmic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scale {
    lo: f64,
    hi: f64,
    log: bool,
}

impl Scale {
    /// A linear axis from `lo` to `hi` (widened to a unit span when they are equal or swapped),
    /// both kept within [`AXIS_LIMIT`] of zero.
    pub fn linear(lo: f64, hi: f64) -> Scale {
        let (lo, hi) = (lo.clamp(-AXIS_LIMIT, AXIS_LIMIT), hi.clamp(-AXIS_LIMIT, AXIS_LIMIT));
        if hi > lo {
            Scale { lo, hi, log: false }
        } else {
            let half = 0.5 * lo.abs().max(1.0);
            Scale { lo: lo - half, hi: lo + half, log: false }
        }
    }

    /// A logarithmic axis from `lo` to `hi`, both > 0 (a factor of 2 each way when equal), both
    /// kept within 1 / [`AXIS_LIMIT`] to [`AXIS_LIMIT`].
    pub fn log(lo: f64, hi: f64) -> Scale {
        debug_assert!(lo > 0.0, "a log axis starts above 0");
        let (lo, hi) = (lo.clamp(1.0 / AXIS_LIMIT, AXIS_LIMIT), hi.clamp(1.0 / AXIS_LIMIT, AXIS_LIMIT));
        if hi > lo {
            Scale { lo, hi, log: true }
        } else {
            Scale { lo: lo / 2.0, hi: lo * 2.0, log: true }
        }
    }

    /// The range [lo, hi] widened by `fraction` of its span on each side (on the log scale for a
    /// log axis), so data at the ends do not sit on the frame.
    pub fn padded(self, fraction: f64) -> Scale {
        if self.log {
            let (a, b) = (self.lo.ln(), self.hi.ln());
            let d = fraction * (b - a);
            Scale::log((a - d).exp(), (b + d).exp())
        } else {
            let d = fraction * (self.hi - self.lo);
            Scale::linear(self.lo - d, self.hi + d)
        }
    }

    pub fn lo(&self) -> f64 {
        self.lo
    }

    #[cfg(test)]
    pub fn hi(&self) -> f64 {
        self.hi
    }

    #[cfg(test)]
    pub fn is_log(&self) -> bool {
        self.log
    }

    /// Where `v` lies: 0 at `lo`, 1 at `hi`, outside [0, 1] beyond them; NaN when `v` is not
    /// finite or (on a log axis) not positive.
    pub fn fraction(&self, v: f64) -> f64 {
        if !v.is_finite() {
            return f64::NAN;
        }
        if self.log {
            if v <= 0.0 {
                return f64::NAN;
            }
            (v.ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }

    /// At most about `max_n` labelled ticks (never fewer than two where the range allows), and
    /// unlabelled minor ticks on a log axis.
    pub fn ticks(&self, max_n: usize) -> Ticks {
        if self.log {
            log_ticks(self.lo, self.hi, max_n)
        } else {
            linear_ticks(self.lo, self.hi, max_n)
        }
    }
}

/// Tick positions and their labels.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ticks {
    pub major: Vec<(f64, String)>,
    pub minor: Vec<f64>,
}

/// The smallest of 1, 2, 5 x 10^k that splits `span` into at most `max_n` steps.
fn nice_step(span: f64, max_n: usize) -> f64 {
    let raw = span / (max_n.max(2) - 1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|&s| s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * mag)
}

/// Multiples of a nice step inside [lo, hi].
fn multiples(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

fn linear_ticks(lo: f64, hi: f64, max_n: usize) -> Ticks {
    let step = nice_step(hi - lo, max_n.max(2));
    let major = multiples(lo, hi, step).into_iter().map(|v| (v, format_tick(v, step))).collect();
    Ticks { major, minor: Vec::new() }
}

/// Log-axis ticks: powers of ten when at least three fit (every second or third when there are
/// many decades), with the 2..9 multiples as minor ticks; on a shorter range, 1-2-5 (or 1..9)
/// multiples are labelled instead, so a range such as 0.13 to 33 reads 0.2, 0.5, 1, 2, 5, 10, 20
/// rather than only 1 and 10; on a very short range, linear steps.
fn log_ticks(lo: f64, hi: f64, max_n: usize) -> Ticks {
    let label = |v: f64| format_sig(v, 3);
    let (e0, e1) = ((lo.log10() - 1e-9).ceil() as i32, (hi.log10() + 1e-9).floor() as i32);
    let decades: Vec<i32> = (e0..=e1).collect();
    let in_range = |v: f64| v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9);
    let multiples_of = |ms: &[f64]| -> Vec<f64> {
        let (f0, f1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
        (f0..=f1).flat_map(|e| ms.iter().map(move |m| m * 10f64.powi(e))).filter(|&v| in_range(v)).collect()
    };
    let by_decades = || {
        let stride = decades.len().div_ceil(max_n.max(2));
        let major = decades
            .iter()
            .filter(|&&e| ((e - e0) as usize).is_multiple_of(stride))
            .map(|&e| 10f64.powi(e))
            .map(|v| (v, label(v)))
            .collect();
        let minor = if stride == 1 && decades.len() <= 8 {
            multiples_of(&[2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
        } else if stride > 1 {
            // The skipped powers of ten.
            decades
                .iter()
                .filter(|&&e| !((e - e0) as usize).is_multiple_of(stride))
                .map(|&e| 10f64.powi(e))
                .collect()
        } else {
            Vec::new()
        };
        Ticks { major, minor }
    };
    if decades.len() >= 3 {
        return by_decades();
    }
    for ms in [&[1.0, 2.0, 5.0][..], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0][..]] {
        let vals = multiples_of(ms);
        if vals.len() >= 3 && vals.len() <= max_n.max(3) {
            let minor =
                if ms.len() == 3 { multiples_of(&[3.0, 4.0, 6.0, 7.0, 8.0, 9.0]) } else { Vec::new() };
            return Ticks { major: vals.into_iter().map(|v| (v, label(v))).collect(), minor };
        }
    }
    if decades.len() == 2 {
        return by_decades();
    }
    linear_ticks(lo, hi, max_n.min(6))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(t: &Ticks) -> Vec<&str> {
        t.major.iter().map(|(_, s)| s.as_str()).collect()
    }

    #[test]
    fn linear_ticks_are_round_numbers() {
        assert_eq!(labels(&Scale::linear(-1.1, 1.1).ticks(6)), ["-1", "-0.5", "0", "0.5", "1"]);
        assert_eq!(labels(&Scale::linear(0.0, 400.0).ticks(8)), ["0", "100", "200", "300", "400"]);
    }

    #[test]
    fn log_ticks_fit_the_range() {
        // Many decades: powers of ten, minor ticks in between.
        let t = Scale::log(0.005, 30.0).ticks(8);
        assert_eq!(labels(&t), ["0.01", "0.1", "1", "10"]);
        assert!(t.minor.contains(&0.02) && t.minor.contains(&20.0));
        // Too many decades for the room: every second one.
        let t = Scale::log(1e-3, 1e12).ticks(8);
        assert_eq!(labels(&t), ["1e-3", "0.1", "10", "1000", "1e5", "1e7", "1e9", "1e11"]);
        // Less than a decade: 1-2-5 multiples.
        assert_eq!(labels(&Scale::log(0.006, 0.06).ticks(8)), ["0.01", "0.02", "0.05"]);
        // Very short: linear steps.
        assert!(Scale::log(1.01, 1.05).ticks(8).major.len() >= 2);
    }

    #[test]
    fn a_short_log_range_gets_1_2_5_labels() {
        // 0.13 to 33: two powers of ten only; 1-2-5 multiples label it readably.
        assert_eq!(labels(&Scale::log(0.134, 33.0).ticks(8)), ["0.2", "0.5", "1", "2", "5", "10", "20"]);
        // Too many 1-2-5 multiples for the room: back to the powers of ten.
        assert_eq!(labels(&Scale::log(0.134, 33.0).ticks(4)), ["1", "10"]);
    }
}
