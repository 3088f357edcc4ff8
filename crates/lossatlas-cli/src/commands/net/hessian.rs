//! `lossatlas net hessian`: the curvature of a trained network's loss, as PyHessian reports it
//! (the largest Hessian eigenvalues, the trace, the eigenvalue density), from exact
//! Hessian-vector products; and the Hessian's top two eigenvectors as a plane's directions.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};
use clap::Args;
use lossatlas::net::{CurvatureOptions, Mlp, NetHessian, NetObjective, Real, Samples};
use lossatlas::spectrum::DensityOptions;
use lossatlas::{Plane, PlaneKind};
use lossatlas_render::{render, ImageFormat, SpectrumFigure};
use serde_json::json;

use super::{load_data, load_network, widths};
use crate::args::NetDataArgs;
use crate::output::write_atomic;
use crate::settings;

/// `lossatlas net hessian`.
#[derive(Debug, Args)]
#[command(after_help = NET_HESSIAN_EXAMPLES)]
pub struct NetHessianArgs {
    #[command(flatten)]
    pub data: NetDataArgs,
    /// The trained weights, .safetensors with PyTorch's state_dict names.
    #[arg(long, value_name = "FILE.safetensors")]
    pub weights: PathBuf,
    /// The activation the network was trained with.
    #[arg(long, default_value = "tanh")]
    pub activation: String,
    /// How many of the largest eigenvalues.
    #[arg(long, default_value_t = 5, value_name = "K")]
    pub top: usize,
    /// Their tolerance: each eigenvalue's residual ||Hv - lambda v|| within TOL times the largest
    /// |eigenvalue| (so lambda_max to relative accuracy TOL at a minimum).
    #[arg(long, default_value_t = 1e-3, allow_hyphen_values = true)]
    pub tol: f64,
    /// The most Lanczos steps (Hessian-vector products) for the top eigenvalues.
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub lanczos_steps: usize,
    /// Hutchinson probes (random +-1 vectors) for the trace.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub probes: usize,
    /// Random probes of the eigenvalue density (stochastic Lanczos quadrature).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub density_probes: usize,
    /// Lanczos steps per density probe.
    #[arg(long, default_value_t = 90, value_name = "N")]
    pub density_steps: usize,
    /// The seed of every random vector (start vector, probes); the same seed repeats a run exactly.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The numbers as JSON: eigenvalues, trace, density, steps, times, seeds.
    #[arg(short, long = "output", value_name = "FILE.json")]
    pub output: Option<PathBuf>,
    /// The eigenvalue density on a log axis, .png or .svg.
    #[arg(long, value_name = "FILE")]
    pub density: Option<PathBuf>,
}

const NET_HESSIAN_EXAMPLES: &str = "\
Examples:
  The 5 largest Hessian eigenvalues, the trace and the eigenvalue density of a trained network:
    lossatlas net hessian --weights moons.safetensors --activation tanh --dataset moons \\
        -o moons-hessian.json --density moons-density.png";

/// Runs `lossatlas net hessian`.
pub fn run(args: &NetHessianArgs) -> Result<()> {
    if let Some(path) = &args.output {
        settings::output_with_extension(path, "json", "-o")?;
    }
    let figure_format = match &args.density {
        Some(path) => Some((path, settings::outputs(std::slice::from_ref(path))?[0].1)),
        None => None,
    };
    if !(args.tol > 0.0 && args.tol.is_finite()) {
        bail!("--tol {}: the tolerance must be a positive number, e.g. 1e-3", args.tol);
    }
    if args.top == 0 {
        bail!("--top 0: ask for at least 1 eigenvalue");
    }
    if args.lanczos_steps < args.top {
        bail!(
            "--lanczos-steps {} cannot give --top {} eigenvalues (each step adds one); use --lanczos-steps {} or more",
            args.lanczos_steps,
            args.top,
            args.top.max(20)
        );
    }
    if args.probes < 2 {
        bail!("--probes {}: the trace's standard error needs at least 2 probes (e.g. 100)", args.probes);
    }
    if args.density_probes == 0 || args.density_steps == 0 {
        bail!("--density-probes and --density-steps must be at least 1");
    }
    let loaded = load_network(&args.weights, &args.activation, &args.data)?;
    let (mlp, weights) = (loaded.mlp, loaded.params);
    if args.top > mlp.n_params() {
        bail!(
            "--top {}: the {} network has only {} weights (one eigenvalue each); use --top {} or less",
            args.top,
            mlp.describe(),
            mlp.n_params(),
            mlp.n_params()
        );
    }
    let data = load_data(&args.data, mlp.outputs())?;
    let train_set = &data.train;
    let options = CurvatureOptions {
        top: args.top,
        tol: args.tol,
        lanczos_steps: args.lanczos_steps,
        probes: args.probes,
        density: DensityOptions {
            probes: args.density_probes,
            steps: args.density_steps,
            ..DensityOptions::default()
        },
        seed: args.seed,
    };
    let report = if args.data.precision == "f64" {
        measure::<f64>(&mlp, train_set, &weights, &options)?
    } else {
        measure::<f32>(&mlp, train_set, &weights, &options)?
    };
    let curvature = &report.curvature;
    let top = &curvature.top;
    let lambda_max = top.values[0];
    let values: Vec<String> = top.values.iter().map(|v| format!("{v:.6}")).collect();
    say!(
        "{} on {} ({} points, {}), {} weights:",
        mlp.describe(),
        data.name,
        train_set.len(),
        args.data.precision,
        mlp.n_params()
    )?;
    say!(
        "  top {} eigenvalue(s): {} ({} Lanczos steps, tolerance {:e}{})",
        top.values.len(),
        values.join(", "),
        top.steps,
        args.tol,
        if top.converged { "" } else { "; NOT converged: raise --lanczos-steps" }
    )?;
    if lambda_max > 0.0 {
        say!("  largest stable gradient-descent learning rate 2/lambda_max = {:.6}", 2.0 / lambda_max)?;
    }
    say!(
        "  trace {:.6} +- {:.6} (Hutchinson, {} probes, one standard error)",
        curvature.trace.trace,
        curvature.trace.standard_error,
        curvature.trace.probes
    )?;
    say!(
        "  time {:.3} s (setup {:.3}, eigenvalues {:.3}, trace {:.3}, density {:.3}); seed {}",
        report.seconds.iter().sum::<f64>(),
        report.seconds[0],
        report.seconds[1],
        report.seconds[2],
        report.seconds[3],
        args.seed
    )?;
    if let Some((path, format)) = figure_format {
        let density = &curvature.density;
        let mut figure = SpectrumFigure::new(density.grid.clone(), density.density.clone())?.title(format!(
            "Hessian eigenvalue density, {} on {}",
            widths(&mlp),
            data.name
        ));
        for (i, v) in top.values.iter().take(3).enumerate() {
            figure = figure.mark(*v, format!("λ{} = {}", i + 1, settings::trimmed(*v, 4, 3, (1e-3, 1e5))));
        }
        let size = if format == ImageFormat::Png { SpectrumFigure::DEFAULT_SIZE } else { (800, 600) };
        write_atomic(path, &render(&figure, format, size)?)?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(path) = &args.output {
        let density = &curvature.density;
        let document = json!({
            "network": mlp.describe(),
            "weights": crate::output::known_as(&args.weights).display().to_string(),
            "n_weights": mlp.n_params(),
            "data": {
                "name": data.name,
                "points": train_set.len(),
                "noise": args.data.noise,
                "data_seed": args.data.data_seed,
                "test_fraction": args.data.test_fraction,
            },
            "precision": args.data.precision,
            "seed": args.seed,
            "top_eigenvalues": top.values,
            "residuals": top.residuals,
            "tolerance": args.tol,
            "lanczos_steps": top.steps,
            "converged": top.converged,
            "largest_stable_learning_rate": (lambda_max > 0.0).then(|| 2.0 / lambda_max),
            "trace": {
                "estimate": curvature.trace.trace,
                "standard_error": curvature.trace.standard_error,
                "probes": curvature.trace.probes,
            },
            "density": {
                "probes": args.density_probes,
                "lanczos_steps": args.density_steps,
                "sigma": density.sigma,
                "eigenvalues": density.grid,
                "density": density.density,
            },
            "seconds": {
                "setup": report.seconds[0],
                "eigenvalues": report.seconds[1],
                "trace": report.seconds[2],
                "density": report.seconds[3],
            },
        });
        write_atomic(path, format!("{document:#}\n").as_bytes())?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// The curvature and the seconds each part took: setup (the per-weights passes), eigenvalues,
/// trace, density.
struct Measured {
    curvature: lossatlas::net::Curvature,
    seconds: [f64; 4],
}

fn measure<T: Real>(
    mlp: &Mlp,
    samples: &Samples,
    weights: &[f64],
    options: &CurvatureOptions,
) -> Result<Measured> {
    let objective = NetObjective::<T>::new(mlp, samples)?;
    let clock = Instant::now();
    let hessian = NetHessian::new(&objective, weights)?;
    let setup = clock.elapsed().as_secs_f64();
    let clock = Instant::now();
    let top = hessian.top_eigenpairs(&lossatlas::spectrum::LanczosOptions {
        k: options.top,
        tol: options.tol,
        max_steps: options.lanczos_steps,
        seed: options.seed,
    })?;
    let eigen = clock.elapsed().as_secs_f64();
    let clock = Instant::now();
    let trace = hessian.trace(options.probes, options.seed)?;
    let trace_time = clock.elapsed().as_secs_f64();
    let clock = Instant::now();
    let density = hessian.density(&DensityOptions { seed: options.seed, ..options.density })?;
    let density_time = clock.elapsed().as_secs_f64();
    Ok(Measured {
        curvature: lossatlas::net::Curvature { top, trace, density },
        seconds: [setup, eigen, trace_time, density_time],
    })
}

/// The plane through `weights` along the Hessian's top two unit eigenvectors (for `net plane
/// --directions hessian`), and how it was chosen, for titles.
pub(super) fn hessian_plane(
    mlp: &Mlp,
    samples: &Samples,
    weights: &[f64],
    precision: &str,
    seed: u64,
) -> Result<(Plane, String)> {
    fn with<T: Real>(mlp: &Mlp, samples: &Samples, weights: &[f64], seed: u64) -> Result<(Plane, String)> {
        let objective = NetObjective::<T>::new(mlp, samples)?;
        let hessian = NetHessian::new(&objective, weights)?;
        let (directions, pairs) = hessian.top_directions(1e-4, 300, seed)?;
        let how = format!(
            "top two Hessian eigenvectors, eigenvalues {}, {}",
            settings::trimmed(pairs.values[0], 4, 3, (1e-3, 1e5)),
            settings::trimmed(pairs.values[1], 4, 3, (1e-3, 1e5))
        );
        let names = ["direction 1".to_string(), "direction 2".to_string()];
        let plane =
            Plane::new(weights.to_vec(), directions.d1, directions.d2, names)?.with_kind(PlaneKind::Given);
        Ok((plane, how))
    }
    if precision == "f64" {
        with::<f64>(mlp, samples, weights, seed)
    } else {
        with::<f32>(mlp, samples, weights, seed)
    }
}

/// The curvature of the loss along each of a plane's directions, v'Hv / v'v, to print beside a
/// network plane (a sharp valley has a large value, a flat one a small one).
pub(super) fn curvature_along(
    mlp: &Mlp,
    samples: &Samples,
    weights: &[f64],
    precision: &str,
    directions: [&[f64]; 2],
) -> Result<[f64; 2]> {
    fn with<T: Real>(
        mlp: &Mlp,
        samples: &Samples,
        weights: &[f64],
        directions: [&[f64]; 2],
    ) -> Result<[f64; 2]> {
        let objective = NetObjective::<T>::new(mlp, samples)?;
        let hessian = NetHessian::new(&objective, weights)?;
        Ok([hessian.curvature_along(directions[0])?, hessian.curvature_along(directions[1])?])
    }
    if precision == "f64" {
        with::<f64>(mlp, samples, weights, directions)
    } else {
        with::<f32>(mlp, samples, weights, directions)
    }
}
