//! `lossatlas net`: train a multilayer perceptron, and draw its loss over a plane through its
//! trained weights along filter-normalized directions (Li et al. 2018), along a line, or in the
//! principal plane of its training path, on the same figures and exports as every other landscape.
//!
//! This file holds what the subcommands share: the data and its loss, the network read from its
//! weights file, the objective in the chosen precision, and random directions.

pub(crate) mod hessian;
mod inspect;
mod line;
mod pca;
mod plane;
mod serve;
mod train;

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use lossatlas::net::{
    read_direction, read_weights, Activation, BiasDirections, Directions, EpochReport, Evaluation, Head,
    LoadedWeights, Mlp, NetObjective, Normalization, ParamLayout, PathRecorder, PlaneEvaluator, PlaneValues,
    Real, Samples, TargetKind, Targets, TrainOptions,
};
#[cfg(feature = "onnx")]
use lossatlas::net::{OnnxLoss, OnnxModel, OnnxObjective};
use lossatlas::store::fingerprint;
use lossatlas::{Landscape, Plane, PlaneKind};

use super::grid::ChunkFn;
use crate::args::{NetCommand, NetDataArgs, NetDirectionArgs};
use crate::progress;
use crate::settings;
use crate::web::{self, LandscapeView, Mode, NetworkView, PathView};

pub fn run(command: NetCommand) -> Result<()> {
    match command {
        NetCommand::Train(args) => train::run(&args),
        NetCommand::Plane(args) => plane::run(&args),
        NetCommand::Hessian(args) => hessian::run(&args),
        NetCommand::Line(args) => line::run(&args),
        NetCommand::Pca(args) => pca::run(&args),
        NetCommand::Serve(args) => serve::run(&args),
        NetCommand::Inspect(args) => inspect::run(&args),
    }
}

/// Grid points evaluated between two updates of a large plane's progress bar.
const PROGRESS_BLOCK_POINTS: usize = 65_536;

/// Most points of a synthetic data set (2 features each: 16 bytes a point).
const MAX_POINTS: usize = 10_000_000;

/// A network's data: the training part (what every landscape is computed on), the held-out test
/// part (possibly empty), and how titles name it.
struct NetData {
    train: Samples,
    test: Samples,
    name: String,
}

/// The head that scores an MLP (or an ONNX model's logits), as `--loss` names it.
fn head(args: &NetDataArgs) -> Result<Head> {
    match args.loss.as_str() {
        "mse" => Ok(Head::Mse),
        "output" => {
            bail!("--loss output is for an ONNX model that ends in its own loss; use cross-entropy or mse")
        }
        _ => Ok(Head::CrossEntropy),
    }
}

/// The data the flags describe, for a network with `outputs` outputs (the number of classes of a
/// CSV file's labels), split into training and test parts.
fn load_data(args: &NetDataArgs, outputs: usize) -> Result<NetData> {
    if !(args.test_fraction >= 0.0 && args.test_fraction < 1.0) {
        bail!("--test-fraction {} must be at least 0 and less than 1", args.test_fraction);
    }
    let (all, name) = match &args.data {
        Some(path) => {
            // A model that computes its own loss takes the targets as they are.
            let kind = match args.loss.as_str() {
                "cross-entropy" => TargetKind::Classes { n_classes: outputs },
                _ => TargetKind::Values,
            };
            let samples = if is_array_file(path) {
                let key = match args.inputs.as_deref() {
                    None => None,
                    Some([key]) => Some(key.as_str()),
                    Some(_) => {
                        bail!("--inputs: name one array of {} (the inputs), e.g. --inputs x", path.display())
                    }
                };
                Samples::load_arrays(path, key, args.target.as_deref(), kind)?
            } else {
                Samples::load_csv(path, args.inputs.as_deref(), args.target.as_deref(), kind)?
            };
            let name = if path == Path::new("-") {
                "standard input".to_string()
            } else {
                path.file_name().map_or_else(|| path.display().to_string(), |f| f.to_string_lossy().into())
            };
            (samples, name)
        }
        None => {
            if !(10..=MAX_POINTS).contains(&args.points) {
                bail!("--points {}: use 10 to {MAX_POINTS} points", args.points);
            }
            let (n, noise, seed) = (args.points, args.noise, args.data_seed);
            let samples = match args.dataset.as_str() {
                "moons" => Samples::moons(n, noise, seed)?,
                "circles" => Samples::circles(n, noise, seed)?,
                "spirals" => Samples::spirals(n, args.classes, noise, seed)?,
                "blobs" => Samples::blobs(n, 2, args.classes, noise, seed)?,
                other => bail!(
                    "unknown --dataset `{other}`; use moons, circles, spirals or blobs, or --data FILE.csv"
                ),
            };
            (samples, args.dataset.clone())
        }
    };
    let (train, test) = if args.test_fraction > 0.0 {
        all.split(args.test_fraction, args.data_seed)?
    } else {
        let test = all.subset(format!("{} (test)", all.name()), &[]);
        (all, test)
    };
    Ok(NetData { train, test, name })
}

/// True for numpy's `.npz` and `.npy` files (anything else is read as CSV).
fn is_array_file(path: &Path) -> bool {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    matches!(ext.as_deref(), Some("npz" | "npy"))
}

/// True for an `.onnx` file.
fn is_onnx(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("onnx"))
}

/// A network the plane and line commands slice: an MLP from safetensors weights, or any network
/// from an ONNX file.
enum Network {
    Mlp(Mlp),
    #[cfg(feature = "onnx")]
    Onnx(Box<OnnxModel>, OnnxLoss),
}

impl Network {
    /// The network in `path` (`.onnx`, else safetensors weights), and its trained parameters.
    fn load(path: &Path, activation: &str, data: &NetDataArgs) -> Result<(Network, Vec<f64>)> {
        if is_onnx(path) {
            #[cfg(feature = "onnx")]
            {
                let model = OnnxModel::load(path)?;
                let weights = model.values().to_vec();
                if let (Some(targets), false) = (model.targets_input(), data.loss == "output") {
                    bail!(
                        "{}: the model takes the targets as input `{targets}`, so it ends in its own loss; \
                         use --loss output",
                        path.display()
                    );
                }
                let loss = if data.loss == "output" { OnnxLoss::Output } else { OnnxLoss::Head(head(data)?) };
                return Ok((Network::Onnx(Box::new(model), loss), weights));
            }
            #[cfg(not(feature = "onnx"))]
            bail!(
                "{}: this lossatlas was built without ONNX support; build it with --features onnx",
                path.display()
            );
        }
        let loaded = load_network(path, activation, data)?;
        Ok((Network::Mlp(loaded.mlp), loaded.params))
    }

    /// The names and shapes of its parameters.
    fn layout(&self) -> &dyn ParamLayout {
        match self {
            Network::Mlp(mlp) => mlp,
            #[cfg(feature = "onnx")]
            Network::Onnx(model, _) => model.as_ref(),
        }
    }

    /// The MLP, if it is one.
    fn as_mlp(&self) -> Option<&Mlp> {
        match self {
            Network::Mlp(mlp) => Some(mlp),
            #[cfg(feature = "onnx")]
            Network::Onnx(..) => None,
        }
    }

    /// The MLP, for what only MLPs have (exact Hessians).
    fn mlp(&self, what: &str) -> Result<&Mlp> {
        self.as_mlp().ok_or_else(|| {
            anyhow::anyhow!("{what} needs an MLP from a .safetensors file; {} is an ONNX model", self.short())
        })
    }

    /// "cross-entropy", "mse", or "loss" for a model that computes its own.
    fn loss_name(&self) -> &'static str {
        match self {
            Network::Mlp(mlp) => mlp.head().name(),
            #[cfg(feature = "onnx")]
            Network::Onnx(_, OnnxLoss::Head(head)) => head.name(),
            #[cfg(feature = "onnx")]
            Network::Onnx(_, OnnxLoss::Output) => "loss",
        }
    }

    /// What the loss axis of a chart says: "cross-entropy loss", or "loss".
    fn loss_label(&self) -> String {
        match self.loss_name() {
            "loss" => "loss".to_string(),
            name => format!("{name} loss"),
        }
    }

    /// The output width (how many classes a CSV file's labels may name); 0 when the data decide.
    fn outputs(&self) -> usize {
        match self {
            Network::Mlp(mlp) => mlp.outputs(),
            #[cfg(feature = "onnx")]
            Network::Onnx(model, _) => model.outputs(),
        }
    }

    /// "2-64-64-2 tanh, cross-entropy" or "cnn.onnx (Conv, Relu, Gemm; 1234 parameters), cross-entropy".
    fn describe(&self) -> String {
        match self {
            Network::Mlp(mlp) => mlp.describe(),
            #[cfg(feature = "onnx")]
            Network::Onnx(model, _) => format!("{}, {}", model.describe(), self.loss_name()),
        }
    }

    /// "2-64-64-2 tanh network" or "cnn.onnx": the network in a title.
    fn short(&self) -> String {
        match self {
            Network::Mlp(mlp) => format!("{} network", widths(mlp)),
            #[cfg(feature = "onnx")]
            Network::Onnx(model, _) => model.file_name().to_string(),
        }
    }

    /// Its loss on `samples` in `precision` (ONNX models run in float32, as exported).
    fn objective(&self, samples: &Samples, precision: &str) -> Result<Objective> {
        match self {
            Network::Mlp(mlp) => Objective::new(mlp, samples, precision),
            #[cfg(feature = "onnx")]
            Network::Onnx(model, loss) => {
                if precision == "f64" {
                    bail!("--precision f64: an ONNX model runs in float32 as exported; drop the flag");
                }
                Ok(Objective::Onnx(Box::new(OnnxObjective::new(model, samples, *loss)?)))
            }
        }
    }

    /// Its loss on the test part, or none when that is empty.
    fn test_objective(&self, data: &NetData, precision: &str) -> Result<Option<Objective>> {
        if data.test.is_empty() {
            Ok(None)
        } else {
            self.objective(&data.test, precision).map(Some)
        }
    }
}

/// The network in a weights file, with the activation and loss the flags give.
fn load_network(path: &Path, activation: &str, data: &NetDataArgs) -> Result<LoadedWeights> {
    Ok(read_weights(path, Activation::parse(activation)?, head(data)?)?)
}

/// "cross-entropy of a 2-64-64-2 tanh network on moons": what a figure shows.
fn describe(network: &Network, data: &NetData) -> String {
    let article = if matches!(network, Network::Mlp(_)) { "a " } else { "" };
    format!("{} of {article}{} on {}", network.loss_name(), network.short(), data.name)
}

/// "2-64-64-2 tanh".
fn widths(mlp: &Mlp) -> String {
    let widths: Vec<String> = mlp.widths().iter().map(|w| w.to_string()).collect();
    format!("{} {}", widths.join("-"), mlp.activation().name())
}

/// Two random directions through `weights`, scaled as the flags say (Li et al. 2018 by default).
fn random_directions(
    layout: &dyn ParamLayout,
    weights: &[f64],
    args: &NetDirectionArgs,
) -> Result<Directions> {
    let normalization = Normalization::parse(&args.normalization)?;
    let bias = BiasDirections::parse(&args.bias)?;
    Ok(Directions::random(layout, weights, args.seed, normalization, bias, args.orthogonalize)?)
}

/// The plane through `weights` along two direction files (`D1,D2`) or random directions as
/// `random` says, and how the plane was chosen, for titles.
fn network_plane(
    layout: &dyn ParamLayout,
    weights: &[f64],
    files: Option<&str>,
    random: &NetDirectionArgs,
) -> Result<(Plane, String)> {
    let (kind, d1, d2, how) = match files {
        Some(text) => {
            let files: Vec<&str> = text.split(',').map(str::trim).collect();
            let [a, b] = files[..] else {
                bail!("--directions `{text}` should name two files, D1.safetensors,D2.safetensors");
            };
            let (d1, d2) = (read_direction(Path::new(a), layout)?, read_direction(Path::new(b), layout)?);
            (PlaneKind::Given, d1, d2, "plane of the direction files".to_string())
        }
        None => {
            let d = random_directions(layout, weights, random)?;
            let orthogonal = if random.orthogonalize { ", orthogonalized" } else { "" };
            let how =
                format!("{}-normalized random plane, seed {}{orthogonal}", random.normalization, random.seed);
            (PlaneKind::Normalized { seed: random.seed }, d.d1, d.d2, how)
        }
    };
    let names = ["direction 1".to_string(), "direction 2".to_string()];
    Ok((Plane::new(weights.to_vec(), d1, d2, names)?.with_kind(kind), how))
}

/// What decides a network plane's numbers, for a store's definition: the network and its
/// weights, the data, the loss and the precision (the plane's vectors are added by the store).
fn network_definition(
    network: &Network,
    weights: &[f64],
    data: &NetData,
    args: &NetDataArgs,
) -> serde_json::Map<String, serde_json::Value> {
    let targets: Vec<f64> = match data.train.targets() {
        Targets::Classes { labels, .. } => labels.iter().map(|&l| f64::from(l)).collect(),
        Targets::Values { values, .. } => values.clone(),
    };
    let mut definition = serde_json::Map::new();
    definition.insert("command".into(), "net plane".into());
    definition.insert("network".into(), network.describe().into());
    definition.insert("weights".into(), fingerprint(weights).into());
    definition.insert("data".into(), format!("{} ({} points)", data.name, data.train.len()).into());
    definition.insert("features".into(), fingerprint(data.train.features()).into());
    definition.insert("targets".into(), fingerprint(&targets).into());
    definition.insert("precision".into(), args.precision.clone().into());
    definition
}

/// Two output files named by one flag, `A.safetensors,B.safetensors`.
fn two_safetensors(text: &str, flag: &str) -> Result<[PathBuf; 2]> {
    let parts: Vec<PathBuf> = text.split(',').map(|p| PathBuf::from(p.trim())).collect();
    let files = <[PathBuf; 2]>::try_from(parts).map_err(|_| {
        anyhow::anyhow!("{flag} `{text}` should name two files, D1.safetensors,D2.safetensors")
    })?;
    for file in &files {
        settings::output_with_extension(file, "safetensors", flag)?;
    }
    Ok(files)
}

/// The interactive page of a network's landscape and `paths` (as `lossatlas page` writes for
/// formulas): `plane` says how the plane was chosen, `centre` is the loss at its origin, and the
/// paths start at `start`.
#[allow(clippy::too_many_arguments)]
fn page_html(
    landscape: &Landscape,
    title: String,
    network: &Network,
    data: &NetData,
    plane: String,
    centre: Evaluation,
    paths: Vec<PathView>,
    start: Option<[f64; 2]>,
) -> Result<String> {
    let view = page_view(landscape, title, network, data, plane, centre, start);
    let page = web::page_data(
        Mode::Static,
        &[],
        serde_json::to_value(&view)?,
        serde_json::to_value(&paths)?,
        0.0,
        &[],
    );
    Ok(web::page(&page))
}

/// What the page draws of a network's landscape, with the network described in place of the
/// formula analysis.
fn page_view<'a>(
    landscape: &Landscape,
    title: String,
    network: &Network,
    data: &NetData,
    plane: String,
    centre: Evaluation,
    start: Option<[f64; 2]>,
) -> LandscapeView<'a> {
    let view = NetworkView {
        network: network.describe(),
        weights: network.layout().n_params(),
        data: format!("{} ({} points)", data.name, data.train.len()),
        plane,
        loss: centre.loss,
        accuracy: centre.accuracy,
        lowest: landscape.minimum().map(|m| ([m.u, m.v], m.loss)),
    };
    let case_title = format!("{} on {}", network.short(), data.name);
    LandscapeView::network(landscape, title, case_title, network.loss_name().to_string(), view, start)
}

/// The grid `us` x `vs` computed `rows` rows of `vs` at a time by `block`, under a progress bar.
fn in_blocks(
    us: &[f64],
    vs: &[f64],
    rows: usize,
    block: impl Fn(&[f64]) -> Result<PlaneValues>,
) -> Result<PlaneValues> {
    let bar = progress::bar(vs.len() as u64, "rows");
    let mut all = PlaneValues { nu: us.len(), nv: 0, loss: Vec::new(), accuracy: None };
    for part_vs in vs.chunks(rows) {
        let part = block(part_vs)?;
        all.nv += part.nv;
        all.loss.extend(part.loss);
        if let Some(accuracy) = part.accuracy {
            all.accuracy.get_or_insert_with(Vec::new).extend(accuracy);
        }
        bar.inc(part_vs.len() as u64);
    }
    Ok(all)
}

/// A network's loss on one data set, computed in the precision the user chose (`f32` as PyTorch,
/// or `f64`); the parameters are `f64` either way.
enum Objective {
    F32(NetObjective<f32>),
    F64(NetObjective<f64>),
    /// Boxed: an ONNX objective holds the model's graph and the data as tensors.
    #[cfg(feature = "onnx")]
    Onnx(Box<OnnxObjective>),
}

impl Objective {
    fn new(mlp: &Mlp, samples: &Samples, precision: &str) -> Result<Objective> {
        Ok(if precision == "f64" {
            Objective::F64(NetObjective::new(mlp, samples)?)
        } else {
            Objective::F32(NetObjective::new(mlp, samples)?)
        })
    }

    /// Loss and accuracy at `params`.
    fn evaluate(&self, params: &[f64]) -> Result<Evaluation> {
        Ok(match self {
            Objective::F32(o) => o.evaluate(params)?,
            Objective::F64(o) => o.evaluate(params)?,
            #[cfg(feature = "onnx")]
            Objective::Onnx(o) => o.evaluate(params)?,
        })
    }

    /// Loss and accuracy at `params`, and the gradient of the loss into `grad`.
    fn gradient(&self, params: &[f64], grad: &mut [f64]) -> Result<Evaluation> {
        Ok(match self {
            Objective::F32(o) => o.gradient(params, grad)?,
            Objective::F64(o) => o.gradient(params, grad)?,
            #[cfg(feature = "onnx")]
            Objective::Onnx(o) => {
                bail!("{}: gradients of ONNX models are not computed; use an MLP", o.model().name())
            }
        })
    }

    /// Loss and accuracy over the grid `us` x `vs` of the plane origin + u d1 + v d2, the first
    /// layer's products paid once. A large grid goes in blocks of rows under a progress bar (each
    /// point's value is the same however the grid is cut).
    fn plane(&self, origin: &[f64], d1: &[f64], d2: &[f64], us: &[f64], vs: &[f64]) -> Result<PlaneValues> {
        fn values<T: Real>(
            o: &NetObjective<T>,
            origin: &[f64],
            d1: &[f64],
            d2: &[f64],
            us: &[f64],
            vs: &[f64],
        ) -> Result<PlaneValues> {
            let evaluator = PlaneEvaluator::new(o, origin, d1, d2)?;
            if us.len() * vs.len() <= PROGRESS_BLOCK_POINTS {
                return Ok(evaluator.evaluate(us, vs));
            }
            in_blocks(us, vs, (PROGRESS_BLOCK_POINTS / us.len()).max(1), |block| {
                Ok(evaluator.evaluate(us, block))
            })
        }
        match self {
            Objective::F32(o) => values(o, origin, d1, d2, us, vs),
            Objective::F64(o) => values(o, origin, d1, d2, us, vs),
            // A grid point of a convolutional network costs milliseconds: rows go one at a time
            // under a progress bar whatever the grid's size.
            #[cfg(feature = "onnx")]
            Objective::Onnx(o) => {
                let plane = o.plane(origin, d1, d2)?;
                in_blocks(us, vs, 1, |row| Ok(plane.evaluate(us, row)?))
            }
        }
    }

    /// The function computing a store chunk's rows of the grid `us` x `vs` on the plane
    /// origin + u d1 + v d2 (see [`super::grid::values`]): the first layer's products are paid
    /// here, once for all chunks, and a chunk then holds only its own rows.
    fn chunks<'s>(
        &'s self,
        origin: &[f64],
        d1: &[f64],
        d2: &[f64],
        us: &'s [f64],
        vs: &'s [f64],
    ) -> Result<ChunkFn<'s>> {
        fn make<'s, T: Real>(
            o: &'s NetObjective<T>,
            origin: &[f64],
            d1: &[f64],
            d2: &[f64],
            us: &'s [f64],
            vs: &'s [f64],
        ) -> Result<ChunkFn<'s>> {
            let evaluator = PlaneEvaluator::new(o, origin, d1, d2)?;
            Ok(Box::new(move |rows| Ok(evaluator.evaluate(us, &vs[rows]).loss)))
        }
        match self {
            Objective::F32(o) => make(o, origin, d1, d2, us, vs),
            Objective::F64(o) => make(o, origin, d1, d2, us, vs),
            #[cfg(feature = "onnx")]
            Objective::Onnx(o) => {
                let plane = o.plane(origin, d1, d2)?;
                Ok(Box::new(move |rows| Ok(plane.evaluate(us, &vs[rows])?.loss)))
            }
        }
    }

    /// Trains `params` in place (see [`lossatlas::net::train`]); `test` has the same precision.
    fn train(
        &self,
        params: &mut [f64],
        options: &TrainOptions,
        test: Option<&Objective>,
        recorder: Option<&mut PathRecorder>,
        report: impl FnMut(&EpochReport),
    ) -> Result<EpochReport> {
        Ok(match (self, test) {
            (Objective::F32(o), Some(Objective::F32(t))) => {
                lossatlas::net::train(o, params, options, Some(t), recorder, report)?
            }
            (Objective::F64(o), Some(Objective::F64(t))) => {
                lossatlas::net::train(o, params, options, Some(t), recorder, report)?
            }
            (Objective::F32(o), _) => lossatlas::net::train(o, params, options, None, recorder, report)?,
            (Objective::F64(o), _) => lossatlas::net::train(o, params, options, None, recorder, report)?,
            #[cfg(feature = "onnx")]
            (Objective::Onnx(o), _) => bail!("{}: training ONNX models is not supported", o.model().name()),
        })
    }
}
