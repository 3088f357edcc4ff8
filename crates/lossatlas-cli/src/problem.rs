//! The problem, built once from the flags: data, input transform, model, loss, the plane through
//! parameter space and the grid on it. Every command, the page and the server start here, so a
//! flag means the same everywhere and a bad value gets the same message everywhere.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use lossatlas::{
    best_point, linear, Activation, Axis, Columns, Dataset, Formula, GridSpec, Loss, Model, Objective, Plane,
    Transform, DEFAULT_GRID_BUDGET_BYTES,
};

use crate::args::{GridArgs, PlaneArgs, ProblemArgs};
use crate::settings::{min_max, number};

/// Most samples `--generate` makes: 8 bytes each for x and y, so 10 million take 160 MB.
pub const MAX_SAMPLES: usize = 10_000_000;

/// A fitted problem before any transform: data, model, loss.
#[derive(Debug, Clone)]
pub struct Problem {
    pub data: Dataset,
    pub model: Arc<dyn Model>,
    pub loss: Loss,
}

impl Problem {
    /// Reads the data, then the model (a formula names the data's inputs) and the loss.
    pub fn from_args(args: &ProblemArgs) -> Result<Problem> {
        let loss = Loss::parse(&args.loss)?;
        let data = data(args)?;
        let order: Option<Vec<&str>> = args.params.as_deref().map(|p| p.split(',').map(str::trim).collect());
        let model: Arc<dyn Model> = if args.model == "linear" {
            let activation: Activation = args.activation.parse()?;
            if order.is_some() {
                bail!("--params orders a formula's parameters; the linear model's are always k,b");
            }
            if data.input_names() != ["x"] {
                bail!(
                    "the linear model reads one input, x, but the data has the inputs {}; write a formula \
                     instead, e.g. --model '{}'",
                    data.input_names().join(", "),
                    example_formula(data.input_names())
                );
            }
            Arc::new(linear(activation))
        } else {
            if args.activation != "identity" {
                bail!(
                    "--activation applies to --model linear; write it into the formula instead, e.g. 'tanh({})'",
                    args.model
                );
            }
            let formula = Formula::parse_with(&args.model, data.input_names(), order.as_deref())?;
            if formula.params().is_empty() {
                bail!(
                    "formula `{}` has no parameters (every name in it is an input); a landscape needs \
                     parameters, e.g. '{}'",
                    args.model,
                    example_formula(data.input_names())
                );
            }
            Arc::new(formula)
        };
        loss.check_targets(data.y())?;
        Ok(Problem { data, model, loss })
    }

    /// The objective after applying `transform` to the inputs.
    pub fn objective(&self, transform: Transform) -> Result<Objective> {
        let data = transform.apply(&self.data)?;
        Ok(Objective::try_new(data, self.model.clone(), self.loss)?)
    }
}

/// A linear formula in the given inputs, for messages: `a*x1 + b*x2 + c0`.
fn example_formula(inputs: &[String]) -> String {
    let terms: Vec<String> = inputs.iter().zip('a'..='z').map(|(input, p)| format!("{p}*{input}")).collect();
    format!("{} + c0", terms.join(" + "))
}

fn data(args: &ProblemArgs) -> Result<Dataset> {
    if let Some(source) = &args.generate {
        return generated(args, source);
    }
    if args.data == "seed" {
        if args.inputs.is_some()
            || args.target.is_some()
            || args.x_column.is_some()
            || args.y_column.is_some()
        {
            bail!("--inputs, --target, --x-column and --y-column pick columns of a CSV file; give it with --data FILE.csv");
        }
        return Ok(Dataset::seed());
    }
    let path = Path::new(&args.data);
    if let Some(inputs) = &args.inputs {
        let names: Vec<String> = inputs.split(',').map(|s| s.trim().to_string()).collect();
        if names.iter().any(String::is_empty) {
            bail!("--inputs `{inputs}` has an empty name; give column names separated by commas, e.g. x1,x2");
        }
        return Ok(Dataset::load_table(
            path,
            Columns { inputs: Some(&names), target: args.target.as_deref() },
        )?);
    }
    let target = args.target.as_deref().or(args.y_column.as_deref());
    Ok(Dataset::load_csv(path, args.x_column.as_deref(), target)?)
}

fn generated(args: &ProblemArgs, source: &str) -> Result<Dataset> {
    let formula = Formula::parse(source)?;
    let Some(spec) = &args.true_params else {
        bail!(
            "--generate needs the true parameters, e.g. --true {}",
            formula.params().iter().map(|p| format!("{p}=1")).collect::<Vec<_>>().join(",")
        );
    };
    if !(2..=MAX_SAMPLES).contains(&args.samples) {
        bail!("--samples {}: generate from 2 to {MAX_SAMPLES} samples", args.samples);
    }
    let mut values = vec![None; formula.params().len()];
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
        if values[index].replace(number(value, "--true")?).is_some() {
            bail!("--true gives `{}` twice; give each parameter once", name.trim());
        }
    }
    let values: Vec<f64> = match values.iter().position(Option::is_none) {
        Some(missing) => bail!("--true gives no value for `{}`", formula.params()[missing]),
        None => values.into_iter().flatten().collect(),
    };
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

/// Everything a landscape command needs, built from its flags in one place.
#[derive(Debug)]
pub struct Setup {
    pub problem: Problem,
    pub transform: Transform,
    pub objective: Objective,
    pub plane: Plane,
    pub grid: GridSpec,
}

impl Setup {
    /// Data, model, loss, transform, plane and grid from a command's flags.
    pub fn new(args: &ProblemArgs, transform: &str, grid: &GridArgs) -> Result<Setup> {
        let problem = Problem::from_args(args)?;
        let transform: Transform = transform.parse()?;
        Setup::with_problem(problem, transform, args, grid)
    }

    /// [`Setup::new`] for a problem already built (compare builds one per transform).
    pub fn with_problem(
        problem: Problem,
        transform: Transform,
        args: &ProblemArgs,
        grid: &GridArgs,
    ) -> Result<Setup> {
        let resolution = resolution(&grid.resolution)?;
        Setup::build(problem, transform, &args.plane, args.seed, Notes::Print, |plane, _| {
            Ok((ranges(&grid.ranges, plane)?, resolution))
        })
    }

    /// The general form: the plane from `plane_args` and `seed` (notes printed or not), then the
    /// grid's ranges and resolution from `grid`, which sees the plane and the objective.
    pub fn build(
        problem: Problem,
        transform: Transform,
        plane_args: &PlaneArgs,
        seed: u64,
        notes: Notes,
        grid: impl FnOnce(&Plane, &Objective) -> Result<(Ranges, (usize, usize))>,
    ) -> Result<Setup> {
        let objective = problem.objective(transform)?;
        let plane = plane(&objective, plane_args, seed, notes)?;
        let (ranges, resolution) = grid(&plane, &objective)?;
        let grid = grid_over(ranges, resolution, &plane)?;
        Ok(Setup { problem, transform, objective, plane, grid })
    }
}

/// Whether to tell the user, on standard error, which best point a plane was centred on (a
/// command does; the live server, which rebuilds planes per request, does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notes {
    Print,
    Quiet,
}

/// The plane the flags choose for `objective` (see [`PlaneArgs`]). Where a held value or the
/// centre is not given, the best point found is used (and printed, with [`Notes::Print`]).
pub fn plane(objective: &Objective, args: &PlaneArgs, seed: u64, notes: Notes) -> Result<Plane> {
    let names = objective.param_names();
    let n = names.len();
    let at = held_values(&args.at, names)?;
    let random = args.directions == "random";
    let axes = match (&args.plane, random) {
        (Some(_), true) => bail!(
            "--plane picks two parameters as axes; --directions random draws its own directions \
             through --at, so give one or the other"
        ),
        (Some(text), false) => Some(plane_axes(text, names)?),
        (None, false) if n == 2 => Some((0, 1)),
        (None, false) => bail!(
            "model has {n} parameter(s) ({}); {}",
            name_list(names),
            if n < 2 {
                "a plane needs at least 2; add a parameter to the formula".to_string()
            } else {
                format!(
                    "choose two for the axes with --plane {},{} (the others are held; see --at), or use \
                     --directions random",
                    names[0], names[1]
                )
            }
        ),
        (None, true) => None,
    };
    if let Some((p, q)) = axes {
        for (k, _) in at.iter().enumerate().filter(|(_, v)| v.is_some()) {
            if k == p || k == q {
                bail!(
                    "--at gives `{}`, which is an axis of the plane (it varies across the picture); \
                     --at holds the other parameters",
                    names[k]
                );
            }
        }
    }
    let needs_search =
        at.iter().enumerate().any(|(k, v)| v.is_none() && axes.is_none_or(|(p, q)| k != p && k != q));
    let mut point: Vec<f64> = at.iter().map(|v| v.unwrap_or(0.0)).collect();
    if needs_search {
        let best = best_point(objective).with_context(|| {
            "no start gives a finite loss, so there is no best point to centre the plane on; give every \
             parameter with --at NAME=VALUE,..."
        })?;
        let mut filled = Vec::new();
        for (k, value) in at.iter().enumerate() {
            if value.is_none() && axes.is_none_or(|(p, q)| k != p && k != q) {
                point[k] = best.theta[k];
                filled.push(format!("{} = {}", names[k], short(best.theta[k])));
            }
        }
        if notes == Notes::Print {
            eprintln!(
                "note: the plane {} {} (the best point found, loss {}); set {} with --at",
                if random { "is centred on" } else { "holds" },
                if filled.len() <= 6 {
                    filled.join(", ")
                } else {
                    format!("{}, ... ({} values; all in the exports)", filled[..6].join(", "), filled.len())
                },
                short(best.loss),
                if filled.len() == 1 { "it" } else { "them" }
            );
        }
    }
    Ok(match axes {
        Some((0, 1)) if n == 2 => Plane::parameter_axes(names)?,
        Some((p, q)) => Plane::axes(point, p, q, names)?,
        None => Plane::random(point, seed, names)?,
    })
}

/// Names for a message: all of a few, the first eight of many.
fn name_list(names: &[String]) -> String {
    const SHOWN: usize = 8;
    if names.len() <= SHOWN {
        names.join(", ")
    } else {
        format!("{}, ...", names[..SHOWN].join(", "))
    }
}

/// A number for notes: six decimals, no trailing zeros.
fn short(v: f64) -> String {
    crate::settings::trimmed(v, 6, 6, (1e-4, 1e6))
}

/// `--at` values by parameter index; unknown or repeated names are refused.
fn held_values(items: &[String], names: &[String]) -> Result<Vec<Option<f64>>> {
    let mut values = vec![None; names.len()];
    for item in items.iter().flat_map(|i| i.split(',')) {
        let (name, value) = item.split_once('=').with_context(|| {
            format!("--at `{item}` should look like NAME=VALUE, e.g. --at {}=0.5", names[0])
        })?;
        let name = name.trim();
        let index = names.iter().position(|n| n == name).with_context(|| {
            format!("--at names `{name}`, which is not a parameter; the parameters are {}", name_list(names))
        })?;
        if values[index].replace(number(value, "--at")?).is_some() {
            bail!("--at gives `{name}` twice; give each parameter once");
        }
    }
    Ok(values)
}

/// The two parameter indices `--plane P,Q` names.
fn plane_axes(text: &str, names: &[String]) -> Result<(usize, usize)> {
    let picked: Vec<&str> = text.split(',').map(str::trim).collect();
    let [p, q] = picked[..] else {
        bail!(
            "--plane `{text}` names {} parameter(s); name exactly two, e.g. --plane {},{}",
            picked.len(),
            names[0],
            names.get(1).unwrap_or(&names[0])
        );
    };
    let index = |name: &str| {
        names.iter().position(|n| n == name).with_context(|| {
            format!(
                "--plane names `{name}`, which is not a parameter; the parameters are {}",
                names.join(", ")
            )
        })
    };
    let (p, q) = (index(p)?, index(q)?);
    if p == q {
        bail!("--plane `{text}` names `{}` twice; name two different parameters", names[p]);
    }
    Ok((p, q))
}

/// The (u, v) ranges a user gave; `None` for an axis left to its default.
pub type Ranges = [Option<(f64, f64)>; 2];

/// Reads `--range` flags against the plane's axes: by axis name (`k=0:2`, or `u=`/`v=` for any
/// plane) or, without a name, in axis order. An axis given twice is refused.
pub fn ranges(specs: &[String], plane: &Plane) -> Result<Ranges> {
    let names = plane.names();
    let mut ranges: Ranges = [None, None];
    for (position, spec) in specs.iter().enumerate() {
        let (index, span) = match spec.split_once('=') {
            Some((name, span)) => {
                let name = name.trim();
                let index = match name {
                    "u" | "d1" => 0,
                    "v" | "d2" => 1,
                    _ => names.iter().position(|n| n == name).with_context(|| {
                        format!(
                            "--range `{spec}` names `{name}`, which is not an axis of the plane; the axes are {} \
                             (or u and v)",
                            names.join(" and ")
                        )
                    })?,
                };
                (index, span)
            }
            None if position < 2 => (position, spec.as_str()),
            None => bail!("--range `{spec}`: a plane has two axes; give at most two ranges"),
        };
        if ranges[index].replace(min_max(span, "--range")?).is_some() {
            bail!("--range gives `{}` twice; give each axis one range", names[index]);
        }
    }
    Ok(ranges)
}

/// The memory one run may use for everything that grows with the grid, checked before any work.
pub const RUN_MEMORY_BUDGET: u64 = 4 << 30;

/// Bytes a run needs per grid value at its peak: the values (8), contouring and drawing them, and
/// an export's text (BENCHMARKS.md measured 1.1x the values for a figure, 2.1x with an NPY export,
/// 3.4x with a JSON export), rounded up.
const RUN_BYTES_PER_VALUE: u64 = 8 * 4;

/// The grid over the plane: `ranges` where given, else -5:5 for a parameter axis and -1:1 for a
/// random direction; `resolution` points along (u, v). A grid whose run would need more than
/// [`RUN_MEMORY_BUDGET`] is refused up front.
pub fn grid_over(ranges: Ranges, (nu, nv): (usize, usize), plane: &Plane) -> Result<GridSpec> {
    let need = (nu as u128) * (nv as u128) * RUN_BYTES_PER_VALUE as u128;
    if need > RUN_MEMORY_BUDGET as u128 {
        bail!(
            "a {nu}x{nv} grid needs about {} MiB for this run (the values, their contours and the picture), \
             more than the {} MiB budget; lower --resolution",
            need >> 20,
            RUN_MEMORY_BUDGET >> 20
        );
    }
    let names = plane.names();
    let default =
        if matches!(plane.kind(), lossatlas::PlaneKind::Random { .. }) { (-1.0, 1.0) } else { (-5.0, 5.0) };
    let axis = |k: usize, n: usize| {
        let (lo, hi) = ranges[k].unwrap_or(default);
        Axis::new(names[k].clone(), lo, hi, n)
    };
    Ok(GridSpec::new(axis(0, nu)?, axis(1, nv)?, DEFAULT_GRID_BUDGET_BYTES)?)
}

/// `--resolution N` or `NUxNV`.
pub fn resolution(text: &str) -> Result<(usize, usize)> {
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
