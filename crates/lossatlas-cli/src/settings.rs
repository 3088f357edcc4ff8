//! Turns raw arguments into validated library values. Every error here is the user's to fix, and
//! names the flag and the value.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use lossatlas::Transform;
use lossatlas_render::ImageFormat;

use crate::args::{LevelArgs, PictureArgs};

/// A finite number from `text`, naming `flag` when it is not one.
pub fn number(text: &str, flag: &str) -> Result<f64> {
    let value: f64 = text.trim().parse().map_err(|_| anyhow::anyhow!("{flag}: `{text}` is not a number"))?;
    if !value.is_finite() {
        bail!("{flag}: `{text}` is not a finite number");
    }
    Ok(value)
}

pub fn min_max(text: &str, flag: &str) -> Result<(f64, f64)> {
    let (a, b) = text
        .split_once(':')
        .with_context(|| format!("{flag} `{text}` should look like MIN:MAX, e.g. -2:4"))?;
    Ok((number(a, flag)?, number(b, flag)?))
}

/// Explicit levels, or a count of automatic ones.
#[derive(Debug, Clone, PartialEq)]
pub enum Levels {
    Explicit(Vec<f64>),
    Auto(usize),
}

impl Levels {
    /// The levels for a landscape.
    pub fn resolve(&self, landscape: &lossatlas::Landscape) -> Vec<f64> {
        match self {
            Levels::Explicit(levels) => levels.clone(),
            Levels::Auto(count) => lossatlas::auto_levels(landscape, *count),
        }
    }
}

impl Levels {
    /// The colour scale a contour figure is told to use: logarithmic with `--log-color`; the
    /// figure's own choice (logarithmic for log-spaced levels) for automatic levels; linear for
    /// levels the user listed, as they were chosen on a linear scale.
    pub fn log_color(&self, flag: bool) -> Option<bool> {
        match (flag, self) {
            (true, _) => Some(true),
            (false, Levels::Auto(_)) => None,
            (false, Levels::Explicit(_)) => Some(false),
        }
    }
}

/// Most explicit levels accepted: more lines than pixels tell nothing.
pub const MAX_LEVELS: usize = 1000;

/// The levels of the figures' `--levels`: at most 200 automatic ones.
pub fn levels(args: &LevelArgs) -> Result<Levels> {
    parse_levels(&args.levels, 200)
}

/// `--levels`: a count of automatic levels (1 to `max_auto`) or a comma list of at most
/// [`MAX_LEVELS`] numbers, sorted and without repeats. The one parser of levels, for the figures
/// and the page alike.
pub fn parse_levels(text: &str, max_auto: usize) -> Result<Levels> {
    let text = text.trim();
    if !text.contains(',') {
        if let Ok(count) = text.parse::<usize>() {
            if count == 0 || count > max_auto {
                bail!(
                    "--levels {count}: ask for between 1 and {max_auto} automatic levels, or give a list like 0.2,0.5,1"
                );
            }
            return Ok(Levels::Auto(count));
        }
    }
    let mut levels = numbers(text, "--levels")?;
    if levels.len() > MAX_LEVELS {
        bail!("--levels gives {} levels; give at most {MAX_LEVELS}", levels.len());
    }
    levels.sort_by(f64::total_cmp);
    levels.dedup();
    Ok(Levels::Explicit(levels))
}

/// `v` with `decimals` decimals and its trailing zeros dropped, or in exponent form with
/// `exp_digits` digits when `v` is not 0 and `|v|` lies outside `[small, large)`: the one
/// formatter of the notes, titles and labels, each with its own precision.
pub fn trimmed(v: f64, decimals: usize, exp_digits: usize, (small, large): (f64, f64)) -> String {
    if v != 0.0 && !(small..large).contains(&v.abs()) {
        format!("{v:.exp_digits$e}")
    } else {
        let s = format!("{v:.decimals$}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A comma list of finite numbers (a start point, levels), naming `flag` when one is not.
pub fn numbers(text: &str, flag: &str) -> Result<Vec<f64>> {
    text.split(',').map(|item| number(item, flag)).collect()
}

/// Picture outputs with their formats, checked before any work is done: a known extension and a
/// folder that exists.
pub fn outputs(paths: &[PathBuf]) -> Result<Vec<(PathBuf, ImageFormat)>> {
    paths
        .iter()
        .map(|p| {
            let format = ImageFormat::from_path(p)?;
            writable(p)?;
            Ok((p.clone(), format))
        })
        .collect()
}

/// An output of one format, claimed before any work: its extension must be `extension` (in any
/// case), or the error names `flag`.
pub fn output_with_extension(path: &Path, extension: &str, flag: &str) -> Result<()> {
    writable(path)?;
    if path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() != Some(extension) {
        bail!("{flag} `{}`: use a name ending in .{extension}", path.display());
    }
    Ok(())
}

/// `--export-landscape FILE`: claimed before any work, with its format from the extension.
pub fn landscape_output(
    path: Option<&PathBuf>,
) -> Result<Option<(&PathBuf, lossatlas::export::LandscapeFormat)>> {
    let Some(path) = path else { return Ok(None) };
    writable(path)?;
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match lossatlas::export::LandscapeFormat::from_extension(ext) {
        Some(format) => Ok(Some((path, format))),
        None => {
            bail!("--export-landscape `{}`: use a name ending in .json, .csv, .npy or .vts", path.display())
        }
    }
}

/// `--export-vts FILE.vts`: claimed before any work.
pub fn vts_output(path: Option<&PathBuf>) -> Result<Option<(&PathBuf, lossatlas::export::LandscapeFormat)>> {
    let Some(path) = path else { return Ok(None) };
    output_with_extension(path, "vts", "--export-vts")?;
    Ok(Some((path, lossatlas::export::LandscapeFormat::Vts)))
}

/// Claims `path` as one of the run's outputs, so a bad path (no such folder, not writable, given
/// twice) fails before a long computation.
pub fn writable(path: &Path) -> Result<()> {
    crate::output::claim(path)
}

pub fn size(args: &PictureArgs, default: (u32, u32)) -> Result<(u32, u32)> {
    size_or(args.size.as_deref(), default)
}

/// A `WIDTHxHEIGHT` picture size, or `default` when none is given.
pub fn size_or(text: Option<&str>, default: (u32, u32)) -> Result<(u32, u32)> {
    let Some(text) = text else { return Ok(default) };
    let bad = || anyhow::anyhow!("--size `{text}` should look like WIDTHxHEIGHT, e.g. 800x700");
    let (w, h) = text.split_once('x').ok_or_else(bad)?;
    let (w, h): (u32, u32) = (w.trim().parse().map_err(|_| bad())?, h.trim().parse().map_err(|_| bad())?);
    if !(100..=20_000).contains(&w) || !(100..=20_000).contains(&h) {
        bail!("--size {w}x{h} is out of range; use 100 to 20000 pixels per side");
    }
    Ok((w, h))
}

pub fn aspect(text: &str) -> lossatlas_render::Aspect {
    if text == "equal" {
        lossatlas_render::Aspect::Equal
    } else {
        lossatlas_render::Aspect::Fill
    }
}

pub fn transforms(text: &str) -> Result<Vec<Transform>> {
    text.split(',').map(|t| Ok(t.trim().parse::<Transform>()?)).collect()
}

/// Property tests of the flag parsers: any text gets a value or one line naming the flag, never
/// a panic; well-formed values read back. `PROPTEST_CASES=100000` runs a longer search.
#[cfg(test)]
pub(crate) mod fuzz {
    use lossatlas::Plane;
    use proptest::prelude::*;

    use super::{parse_levels, Levels};
    use crate::problem::{ranges, resolution};

    /// `default_cases` cases, or `PROPTEST_CASES` of them; the binary's fuzz tests share it.
    pub(crate) fn config(default_cases: u32) -> ProptestConfig {
        let cases =
            std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default_cases);
        // Rejected cases grow with the case count; the default limit (1024) is absolute.
        ProptestConfig { cases, max_global_rejects: cases.max(1024), ..ProptestConfig::default() }
    }

    fn one_line(result: anyhow::Result<impl std::fmt::Debug>, flag: &str) -> Result<(), TestCaseError> {
        if let Err(e) = result {
            let message = format!("{e:#}");
            prop_assert!(!message.contains('\n'), "{message}");
            prop_assert!(message.contains(flag), "{message} does not name {flag}");
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(config(2000))]

        #[test]
        fn any_text_is_a_value_or_one_line(text in "[-+0-9a-zA-Z.,:=x_ ]{0,40}") {
            one_line(parse_levels(&text, 200), "--levels")?;
            one_line(resolution(&text), "--resolution")?;
            one_line(super::numbers(&text, "--start"), "--start")?;
            let plane = Plane::parameter_axes(&["k".into(), "b".into()]).unwrap();
            let specs: Vec<String> = text.split(' ').map(str::to_string).collect();
            one_line(ranges(&specs, &plane), "--range")?;
        }

        #[test]
        fn well_formed_values_read_back(
            levels in prop::collection::vec(-1e6f64..1e6, 1..30),
            lo in -1e6f64..1e6,
            width in 1e-3f64..1e6,
        ) {
            let text: Vec<String> = levels.iter().map(|v| format!("{v}")).collect();
            let Levels::Explicit(parsed) = parse_levels(&text.join(","), 200).unwrap() else {
                return Err(TestCaseError::fail("a list is explicit"));
            };
            let mut want = levels.clone();
            want.sort_by(f64::total_cmp);
            want.dedup();
            prop_assert_eq!(parsed, want);
            let plane = Plane::parameter_axes(&["k".into(), "b".into()]).unwrap();
            let hi = lo + width;
            let r = ranges(&[format!("b={lo}:{hi}")], &plane).unwrap();
            prop_assert_eq!(r, [None, Some((lo, hi))]);
        }
    }
}
