//! Number formatting for tick labels, level labels and annotations, and the text sizes of a figure.
//!
//! Numbers are written the way a person would write them on a chart: `0.2`, `1`, `15`, `0.05`,
//! `1.2e-3`, `2.5e5`, never `0.30000000000000004` or `1.000`.

/// Writes `x` with at most `sig` significant digits and no trailing zeros. Magnitudes below 0.01
/// or from 100 000 up use the short scientific form (`1.2e-3`, `2.5e5`).
pub(crate) fn format_sig(x: f64, sig: usize) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "NaN".into()
        } else if x > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    if x == 0.0 {
        return "0".into();
    }
    let sig = sig.clamp(1, 15);
    // Round first, so that 9.996 with 3 digits becomes 10 (exponent 1), not 10.0 (exponent 0).
    let rounded: f64 = format!("{:.*e}", sig - 1, x).parse().unwrap_or(x);
    let exponent = rounded.abs().log10().floor() as i32;
    if !(-2..5).contains(&exponent) {
        let s = format!("{:.*e}", sig - 1, rounded);
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        return format!("{}e{}", trim_zeros(mantissa), exp);
    }
    let decimals = (sig as i32 - 1 - exponent).max(0) as usize;
    let s = trim_zeros(&format!("{:.*}", decimals, rounded));
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

/// Removes trailing zeros after a decimal point, and the point itself when nothing follows it.
fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// The shortest form of `x` with up to 4 significant digits that reads back as `x` (to 1e-9
/// relative); numbers that need more (computed levels such as 0.133904...) get 3 digits.
fn format_level(x: f64) -> String {
    for sig in 1..=4 {
        let s = format_sig(x, sig);
        if let Ok(back) = s.parse::<f64>() {
            if (back - x).abs() <= 1e-9 * x.abs() {
                return s;
            }
        }
    }
    format_sig(x, 3)
}

/// Labels for a set of contour levels: each as short as it can be ([`format_level`]), with more
/// digits for all when two would otherwise read the same.
pub(crate) fn format_levels(levels: &[f64]) -> Vec<String> {
    let distinct = |labels: &[String]| {
        let mut sorted = labels.to_vec();
        sorted.sort();
        sorted.dedup();
        sorted.len() == labels.len()
    };
    let labels: Vec<String> = levels.iter().map(|&l| format_level(l)).collect();
    if distinct(&labels) {
        return labels;
    }
    for sig in 4..=10 {
        let labels: Vec<String> = levels.iter().map(|&l| format_sig(l, sig)).collect();
        if distinct(&labels) {
            return labels;
        }
    }
    levels.iter().map(|&l| format!("{l}")).collect()
}

/// A tick label for `x` on an axis whose ticks are `step` apart: as few decimals as tell the ticks
/// apart exactly, so 0.25 stays 0.25 and 0.4000000001 becomes 0.4.
pub(crate) fn format_tick(x: f64, step: f64) -> String {
    if !x.is_finite() {
        return format_sig(x, 3);
    }
    let step = step.abs();
    let magnitude = x.abs().max(step);
    if magnitude >= 1e5 || (magnitude < 1e-3 && magnitude > 0.0) {
        return format_sig(x, 4);
    }
    let tolerance = if step > 0.0 { step * 1e-6 } else { 1e-12 };
    for decimals in 0..=12usize {
        let s = format!("{:.*}", decimals, x);
        let back: f64 = s.parse().unwrap_or(x);
        if (back - x).abs() <= tolerance {
            let s = if s.starts_with('-') && back == 0.0 { s[1..].to_string() } else { s };
            return s;
        }
    }
    format_sig(x, 6)
}

/// `x` with a fixed number of decimals (for coordinates read off a grid), `-0` written as `0`.
pub(crate) fn format_fixed(x: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, x);
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// How many decimals tell apart neighbouring points `step` apart (0.01 -> 2, 0.03 -> 2, 0.5 -> 1).
pub(crate) fn decimals_for_step(step: f64) -> usize {
    if step.is_nan() || step <= 0.0 || step.is_infinite() {
        return 3;
    }
    (-(step.log10()) + 1e-9).ceil().clamp(0.0, 10.0) as usize
}

/// Text sizes (in plotters' font units: DejaVu's capitals come out about 0.63 of the size, so
/// these run larger than the point sizes one would pick in a word processor) of a figure, all proportional to its size so a figure looks the same
/// at 400 x 350 and at 3200 x 2800. The reference is 800 x 700 pixels, where `scale` is 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Sizes {
    /// 1 at the reference size.
    pub scale: f64,
    /// The title, in pixels.
    pub title: f64,
    /// Axis names.
    pub axis: f64,
    /// Tick labels.
    pub tick: f64,
    /// Contour level labels.
    pub level: f64,
    /// Legend entries, notes and marker labels.
    pub note: f64,
}

impl Sizes {
    /// Sizes for a drawing `width` x `height` pixels large.
    pub fn for_area(width: u32, height: u32) -> Sizes {
        let scale = (width as f64 / 800.0).min(height as f64 / 700.0).clamp(0.35, 8.0);
        Sizes::with_scale(scale)
    }

    /// Sizes at a given scale (1 at 800 x 700).
    pub fn with_scale(scale: f64) -> Sizes {
        Sizes {
            scale,
            title: 25.0 * scale,
            axis: 21.0 * scale,
            tick: 17.5 * scale,
            level: 16.0 * scale,
            note: 16.0 * scale,
        }
    }

    /// A length of `px` pixels at the reference size, rounded, at least `min`.
    pub fn px(&self, px: f64, min: u32) -> u32 {
        ((px * self.scale).round() as u32).max(min)
    }

    /// A length of `px` pixels at the reference size, unrounded.
    pub fn len(&self, px: f64) -> f64 {
        px * self.scale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_read_like_a_person_wrote_them() {
        let got = format_levels(&[0.2, 0.5, 0.7, 1.0, 3.0, 8.0, 10.0, 15.0, 20.0]);
        assert_eq!(got, ["0.2", "0.5", "0.7", "1", "3", "8", "10", "15", "20"]);
        assert_eq!(format_levels(&[0.0012, 2.5e5, -0.05]), ["1.2e-3", "2.5e5", "-0.05"]);
        assert_eq!(format_levels(&[0.133_904_761_9]), ["0.134"]);
        // Two levels that agree to 3 digits get more.
        assert_eq!(format_levels(&[1.0001, 1.0002]), ["1.0001", "1.0002"]);
    }

    #[test]
    fn significant_digits_round_and_trim() {
        assert_eq!(format_sig(9.996, 3), "10");
        assert_eq!(format_sig(0.1339, 3), "0.134");
        assert_eq!(format_sig(123_456.0, 3), "1.23e5");
        assert_eq!(format_sig(0.001_234, 2), "1.2e-3");
        assert_eq!(format_sig(-0.0, 2), "0");
        assert_eq!(format_sig(f64::NAN, 2), "NaN");
    }

    #[test]
    fn ticks_have_just_enough_decimals() {
        assert_eq!(format_tick(0.4000000001, 0.2), "0.4");
        assert_eq!(format_tick(0.25, 0.25), "0.25");
        assert_eq!(format_tick(-2.0, 1.0), "-2");
        assert_eq!(format_tick(-1e-17, 0.5), "0");
        assert_eq!(format_tick(2e-4, 1e-4), "2e-4");
    }

    #[test]
    fn coordinates_follow_the_grid_step() {
        assert_eq!(decimals_for_step(2.0 / 199.0), 2);
        assert_eq!(decimals_for_step(6.0 / 199.0), 2);
        assert_eq!(decimals_for_step(0.5), 1);
        assert_eq!(decimals_for_step(2.0), 0);
        assert_eq!(format_fixed(-0.001, 2), "0.00");
        assert_eq!(format_fixed(1.486, 2), "1.49");
    }
}
