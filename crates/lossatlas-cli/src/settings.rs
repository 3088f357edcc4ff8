//! Turns raw arguments into validated library values. Every error here is the user's to fix, and
//! names the flag and the value.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use lossatlas::{
    formula_with_params, linear, Activation, Axis, Dataset, Formula, GridSpec, Loss, Model, Objective,
    Transform, DEFAULT_GRID_BUDGET_BYTES,
};
use lossatlas_render::ImageFormat;

use crate::args::{GridArgs, LevelArgs, PictureArgs, ProblemArgs};

/// A fitted problem before any transform: data, model, loss.
#[derive(Debug, Clone)]
pub struct Problem {
    pub data: Dataset,
    pub model: Arc<dyn Model>,
    pub loss: Loss,
}

impl Problem {
    /// The objective after applying `transform` to the inputs.
    pub fn objective(&self, transform: Transform) -> Result<Objective> {
        let data = transform.apply(&self.data)?;
        Ok(Objective::new(data, self.model.clone(), self.loss))
    }

    /// The model's parameter names.
    pub fn param_names(&self) -> &[String] {
        self.model.param_names()
    }
}

pub fn problem(args: &ProblemArgs) -> Result<Problem> {
    let order: Option<Vec<&str>> = args.params.as_deref().map(|p| p.split(',').map(str::trim).collect());
    let model: Arc<dyn Model> = if args.model == "linear" {
        let activation: Activation = args.activation.parse()?;
        if order.is_some() {
            bail!("--params orders a formula's parameters; the linear model's are always k,b");
        }
        Arc::new(linear(activation))
    } else {
        if args.activation != "identity" {
            bail!(
                "--activation applies to --model linear; write it into the formula instead, e.g. 'tanh({})'",
                args.model
            );
        }
        Arc::new(formula_with_params(&args.model, order.as_deref(), 2)?)
    };
    let loss = Loss::parse(&args.loss)?;
    let data = match &args.generate {
        Some(source) => generated(args, source)?,
        None if args.data == "seed" => Dataset::seed(),
        None => Dataset::load_csv(Path::new(&args.data), args.x_column.as_deref(), args.y_column.as_deref())?,
    };
    Ok(Problem { data, model, loss })
}

fn generated(args: &ProblemArgs, source: &str) -> Result<Dataset> {
    let formula = Formula::parse(source)?;
    let Some(spec) = &args.true_params else {
        bail!(
            "--generate needs the true parameters, e.g. --true {}",
            formula.params().iter().map(|p| format!("{p}=1")).collect::<Vec<_>>().join(",")
        );
    };
    let mut values = vec![f64::NAN; formula.params().len()];
    for item in spec.split(',') {
        let (name, value) =
            item.split_once('=').with_context(|| format!("--true `{item}` should look like NAME=VALUE"))?;
        let index = formula.params().iter().position(|p| p == name.trim()).with_context(|| {
            format!(
                "--true names `{}`, which is not a parameter of `{source}` ({})",
                name.trim(),
                formula.params().join(", ")
            )
        })?;
        values[index] = number(value, "--true")?;
    }
    if let Some(missing) = values.iter().position(|v| v.is_nan()) {
        bail!("--true gives no value for `{}`", formula.params()[missing]);
    }
    let (lo, hi) = min_max(&args.x_range, "--x-range")?;
    let description = format!("{} points of {source} + noise {}", args.samples, args.noise);
    Ok(Dataset::generate(
        description,
        |x| formula.eval_at(&values, x),
        args.samples,
        (lo, hi),
        args.noise,
        args.seed,
    )?)
}

/// A finite number from `text`, naming `flag` when it is not one.
pub fn number(text: &str, flag: &str) -> Result<f64> {
    let value: f64 = text.trim().parse().map_err(|_| anyhow::anyhow!("{flag}: `{text}` is not a number"))?;
    if !value.is_finite() {
        bail!("{flag}: `{text}` is not a finite number");
    }
    Ok(value)
}

fn min_max(text: &str, flag: &str) -> Result<(f64, f64)> {
    let (a, b) = text
        .split_once(':')
        .with_context(|| format!("{flag} `{text}` should look like MIN:MAX, e.g. -2:4"))?;
    Ok((number(a, flag)?, number(b, flag)?))
}

/// The grid for a model with `names` parameters; ranges by name (`k=0:2`) or, without a name, in
/// parameter order.
pub fn grid(args: &GridArgs, names: &[String]) -> Result<GridSpec> {
    let mut ranges: Vec<Option<(f64, f64)>> = vec![None; names.len()];
    for (position, spec) in args.ranges.iter().enumerate() {
        let (index, span) = match spec.split_once('=') {
            Some((name, span)) => {
                let index = names.iter().position(|n| n == name.trim()).with_context(|| {
                    format!(
                        "--range `{spec}` names `{}`, which is not a parameter; the parameters are {}",
                        name.trim(),
                        names.join(", ")
                    )
                })?;
                (index, span)
            }
            None if position < names.len() => (position, spec.as_str()),
            None => bail!("--range `{spec}`: there are only {} parameters", names.len()),
        };
        ranges[index] = Some(min_max(span, "--range")?);
    }
    let (nu, nv) = resolution(&args.resolution)?;
    let axis = |k: usize, n: usize| {
        let (lo, hi) = ranges[k].unwrap_or((-5.0, 5.0));
        Axis::new(names[k].clone(), lo, hi, n)
    };
    Ok(GridSpec::new(axis(0, nu)?, axis(1, nv)?, DEFAULT_GRID_BUDGET_BYTES)?)
}

fn resolution(text: &str) -> Result<(usize, usize)> {
    let parse = |s: &str| -> Result<usize> {
        s.trim().parse().map_err(|_| {
            anyhow::anyhow!("--resolution `{text}` should be a whole number N or NUxNV, e.g. 200 or 300x200")
        })
    };
    match text.split_once('x') {
        Some((a, b)) => Ok((parse(a)?, parse(b)?)),
        None => {
            let n = parse(text)?;
            Ok((n, n))
        }
    }
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

pub fn levels(args: &LevelArgs) -> Result<Levels> {
    let text = args.levels.trim();
    if !text.contains(',') {
        if let Ok(count) = text.parse::<usize>() {
            if count == 0 || count > 200 {
                bail!("--levels {count}: ask for between 1 and 200 automatic levels, or give a list like 0.2,0.5,1");
            }
            return Ok(Levels::Auto(count));
        }
    }
    let mut levels = text.split(',').map(|item| number(item, "--levels")).collect::<Result<Vec<f64>>>()?;
    levels.sort_by(f64::total_cmp);
    levels.dedup();
    Ok(Levels::Explicit(levels))
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
