//! `lossatlas net line`: a network's loss and accuracy along a straight line through weight space:
//! from one weights file to another (Goodfellow et al. 2015's interpolation from the initial to the
//! trained weights, or between two trained networks), or along one direction through the trained
//! weights.

use anyhow::{bail, Result};
use lossatlas::net::{read_direction, tensors_bytes, Evaluation, PlaneValues, TensorType};
use lossatlas_render::{render, Series, SeriesFigure, SeriesPanel, PATH_COLORS};
use serde::Serialize;

use super::{describe, load_data, random_directions, Network, Objective};
use crate::args::NetLineArgs;
use crate::output::write_atomic;
use crate::settings;

/// Most points along a line.
const MAX_POINTS: usize = 100_000;

/// Where the line goes, as recorded in its export.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum LineDoc {
    /// weights(alpha) = from + alpha * (to - from).
    Interpolation { from: String, to: String },
    /// weights(alpha) = weights + alpha * direction, the direction random with its settings.
    RandomDirection { weights: String, seed: u64, normalization: String, bias: String },
    /// weights(alpha) = weights + alpha * direction, the direction from a file.
    GivenDirection { weights: String, direction: String },
}

/// Loss and accuracy of one data set along the line (`null` in JSON where not finite).
#[derive(Debug, Serialize)]
struct Curve {
    loss: Vec<f64>,
    accuracy: Option<Vec<f64>>,
}

/// The `--export FILE.json` document.
#[derive(Debug, Serialize)]
struct LineExport<'a> {
    line: &'a LineDoc,
    alpha: &'a [f64],
    train: &'a Curve,
    test: Option<&'a Curve>,
}

pub fn run(args: &NetLineArgs) -> Result<()> {
    let outputs = settings::outputs(&args.outputs)?;
    let export = match &args.export {
        Some(path) => {
            let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
            match ext.as_deref() {
                Some("csv") | Some("json") => {
                    settings::output_with_extension(path, ext.as_deref().unwrap_or(""), "--export")?;
                    Some((path, ext.unwrap_or_default()))
                }
                _ => bail!("--export `{}`: use a name ending in .csv or .json", path.display()),
            }
        }
        None => None,
    };
    if let Some(path) = &args.save_direction {
        settings::output_with_extension(path, "safetensors", "--save-direction")?;
    }
    if outputs.is_empty() && export.is_none() {
        bail!("nothing to write: give -o FILE.png|.svg or --export FILE.csv|.json");
    }
    if !(2..=MAX_POINTS).contains(&args.resolution) {
        bail!("--resolution {}: use 2 to {MAX_POINTS} points along the line", args.resolution);
    }
    let default_range = if args.from.is_some() { (-0.5, 1.5) } else { (-1.0, 1.0) };
    let (lo, hi) = match &args.range {
        Some(text) => settings::min_max(text, "--range")?,
        None => default_range,
    };
    let (network, weights) = Network::load(&args.weights, &args.activation, &args.data)?;
    let data = load_data(&args.data, network.outputs())?;
    let train = network.objective(&data.train, &args.data.precision)?;
    let test = network.test_objective(&data, &args.data.precision)?;

    // The line is origin + alpha * direction.
    let shown = |p: &std::path::Path| crate::output::known_as(p).display().to_string();
    let (origin, direction, doc) = match (&args.from, &args.direction) {
        (Some(from), _) => {
            let (start, start_weights) = Network::load(from, &args.activation, &args.data)?;
            if start.layout().tensors() != network.layout().tensors() {
                bail!(
                    "--from {} holds {} but --weights {} holds {}; interpolate between networks of one shape",
                    from.display(),
                    start.describe(),
                    args.weights.display(),
                    network.describe()
                );
            }
            let direction: Vec<f64> = weights.iter().zip(&start_weights).map(|(w, s)| w - s).collect();
            let doc = LineDoc::Interpolation { from: shown(from), to: shown(&args.weights) };
            (start_weights, direction, doc)
        }
        (None, Some(file)) => {
            let direction = read_direction(file, network.layout())?;
            let doc = LineDoc::GivenDirection { weights: shown(&args.weights), direction: shown(file) };
            (weights.clone(), direction, doc)
        }
        (None, None) => {
            let d = random_directions(network.layout(), &weights, &args.directions)?;
            let doc = LineDoc::RandomDirection {
                weights: shown(&args.weights),
                seed: args.directions.seed,
                normalization: args.directions.normalization.clone(),
                bias: args.directions.bias.clone(),
            };
            (weights.clone(), d.d1, doc)
        }
    };
    let alpha = lossatlas::linspace(lo, hi, args.resolution);
    let zero = vec![0.0; direction.len()];
    let curve = |objective: &Objective| -> Result<Curve> {
        let PlaneValues { loss, accuracy, .. } =
            objective.plane(&origin, &direction, &zero, &alpha, &[0.0])?;
        Ok(Curve { loss, accuracy })
    };
    let train_curve = curve(&train)?;
    let test_curve = test.as_ref().map(curve).transpose()?;
    let ends = |objective: &Objective| -> Result<[Evaluation; 2]> {
        let end: Vec<f64> = origin.iter().zip(&direction).map(|(o, d)| o + d).collect();
        Ok([objective.evaluate(&origin)?, objective.evaluate(&end)?])
    };

    let (x_label, references) = match &doc {
        LineDoc::Interpolation { .. } => (
            "alpha: (1 - alpha) * from + alpha * weights",
            vec![(0.0, "from".to_string()), (1.0, "weights".to_string())],
        ),
        _ => ("alpha: weights + alpha * direction", vec![(0.0, "trained".to_string())]),
    };
    let title = format!("{} along a line", describe(&network, &data));
    let points = |values: &[f64]| alpha.iter().copied().zip(values.iter().copied()).collect::<Vec<_>>();
    let (train_color, test_color) = (PATH_COLORS[1], PATH_COLORS[0]);
    let mut loss_panel = SeriesPanel::new(network.loss_label()).series(Series::line(
        "train",
        train_color,
        points(&train_curve.loss),
    ));
    if let Some(t) = &test_curve {
        loss_panel = loss_panel.series(Series::line("test", test_color, points(&t.loss)));
    }
    // A loss that spans decades reads better on a log axis.
    let finite: Vec<f64> = train_curve.loss.iter().copied().filter(|l| l.is_finite() && *l > 0.0).collect();
    let (lo_loss, hi_loss) = finite.iter().fold((f64::INFINITY, 0.0f64), |(a, b), &l| (a.min(l), b.max(l)));
    let mut figure = SeriesFigure::new(title, x_label).panel(loss_panel.log(hi_loss > 100.0 * lo_loss));
    if let Some(acc) = &train_curve.accuracy {
        let mut panel = SeriesPanel::new("accuracy").series(Series::line("train", train_color, points(acc)));
        if let Some(t) = test_curve.as_ref().and_then(|t| t.accuracy.as_ref()) {
            panel = panel.series(Series::line("test", test_color, points(t)));
        }
        figure = figure.panel(panel);
    }
    for (x, label) in references {
        figure = figure.reference(x, label);
    }
    for (path, format) in &outputs {
        write_atomic(path, &render(&figure, *format, figure.size())?)?;
        eprintln!("wrote {}", path.display());
    }
    if let Some((path, ext)) = export {
        let bytes = if ext == "json" {
            let doc =
                LineExport { line: &doc, alpha: &alpha, train: &train_curve, test: test_curve.as_ref() };
            serde_json::to_vec_pretty(&doc)?
        } else {
            line_csv(&alpha, &train_curve, test_curve.as_ref()).into_bytes()
        };
        write_atomic(path, &bytes)?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(path) = &args.save_direction {
        write_atomic(path, &tensors_bytes(network.layout(), &direction, TensorType::F64)?)?;
        eprintln!("wrote {}", path.display());
    }
    let [at0, at1] = ends(&train)?;
    let accuracy = |e: &Evaluation| e.accuracy.map_or(String::new(), |a| format!(" (accuracy {a:.3})"));
    let lowest =
        train_curve.loss.iter().zip(&alpha).filter(|(l, _)| l.is_finite()).min_by(|a, b| a.0.total_cmp(b.0));
    say!(
        "{}: train loss {:.4}{} at alpha 0, {:.4}{} at alpha 1; lowest {}",
        network.describe(),
        at0.loss,
        accuracy(&at0),
        at1.loss,
        accuracy(&at1),
        lowest.map_or("none finite".into(), |(l, a)| format!("{l:.4} at alpha {a:.3}"))
    )?;
    Ok(())
}

/// One row per alpha: `alpha,train_loss[,train_accuracy][,test_loss[,test_accuracy]]`; a value
/// that is not finite is written `NaN` or `inf`, which numpy and pandas read.
fn line_csv(alpha: &[f64], train: &Curve, test: Option<&Curve>) -> String {
    let mut columns: Vec<(&str, &[f64])> = vec![("train_loss", &train.loss)];
    if let Some(a) = &train.accuracy {
        columns.push(("train_accuracy", a));
    }
    if let Some(t) = test {
        columns.push(("test_loss", &t.loss));
        if let Some(a) = &t.accuracy {
            columns.push(("test_accuracy", a));
        }
    }
    let mut out = String::from("alpha");
    for (name, _) in &columns {
        out.push(',');
        out.push_str(name);
    }
    out.push('\n');
    for (i, a) in alpha.iter().enumerate() {
        out.push_str(&format!("{a}"));
        for (_, values) in &columns {
            out.push_str(&format!(",{}", values[i]));
        }
        out.push('\n');
    }
    out
}
