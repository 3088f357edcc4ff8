//! Command-line arguments (clap derive only; meaning is given to them in `settings`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::deferred::Deferred;

/// See what a loss function looks like.
///
/// With no command, lossatlas writes the tour: every figure of the teaching example with a short
/// explanation, into ./lossatlas-tour/.
#[derive(Debug, Parser)]
#[command(name = "lossatlas", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    /// What to draw; the tour when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// No progress bars (they are drawn on standard error, and only when it is a terminal).
    #[arg(long, global = true)]
    pub quiet: bool,
}

/// The subcommands, each with its arguments defined only when it is the one given (see
/// [`Deferred`]).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Draw iso-loss contour lines (and optionally filled bands) on a plane of a model's parameters.
    #[command(after_help = CONTOUR_EXAMPLES)]
    Contour(Deferred<ContourArgs>),
    /// Draw the same landscape under several input transforms, side by side, with shared levels.
    #[command(after_help = COMPARE_EXAMPLES)]
    Compare(Deferred<CompareArgs>),
    /// Draw the loss as a shaded 3D surface with hidden parts hidden.
    #[command(after_help = SURFACE_EXAMPLES)]
    Surface(Deferred<SurfaceArgs>),
    /// Run optimizers from start points and draw their paths on the contour map and the surface,
    /// the fitted curves and the loss per step; print the final parameters of each run.
    #[command(after_help = DESCEND_EXAMPLES)]
    Descend(Deferred<DescendArgs>),
    /// Measure the landscape: the minimum, the Hessian there, its eigenvalues and condition number,
    /// stable and best learning rates, and every critical point in range.
    #[command(after_help = ANALYZE_EXAMPLES)]
    Analyze(Deferred<AnalyzeArgs>),
    /// Colour every start point of a grid by the minimum an optimizer reaches from it.
    #[command(after_help = BASINS_EXAMPLES)]
    Basins(Deferred<BasinsArgs>),
    /// Write every figure of the teaching example and an index.html that explains them.
    Tour(Deferred<TourArgs>),
    /// Write one self-contained HTML page to explore a landscape in a browser: contour map and 3D
    /// surface side by side, hover to read the loss, toggles for lines, bands and paths.
    #[command(after_help = PAGE_EXAMPLES)]
    Page(Deferred<PageArgs>),
    /// Serve the page live on this machine: click to start optimizers anywhere, change the
    /// learning rate and momentum with sliders, switch between cases (yours among them).
    #[command(after_help = SERVE_EXAMPLES)]
    Serve(Deferred<ServeArgs>),
    /// Neural networks: train a multilayer perceptron, or slice its loss along a plane through its
    /// weights (Li et al. 2018).
    #[command(subcommand)]
    Net(NetCommand),
    /// Print a shell completion script, e.g. `lossatlas completions bash > ~/.local/share/bash-completion/completions/lossatlas`.
    Completions(Deferred<CompletionsArgs>),
    /// Landscape stores (`--store DIR`): how far one has got, joining shards' stores, and the
    /// figures and exports of a finished one without recomputing it.
    #[command(subcommand)]
    Store(StoreCommand),
}

/// `lossatlas store ...`.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// What a store holds and how many of its chunks are finished.
    Info(Deferred<StoreInfoArgs>),
    /// Copies the finished chunks of other stores of the same landscape into one.
    Merge(Deferred<StoreMergeArgs>),
    /// The contour map, surface and exports of a finished store.
    Draw(Deferred<StoreDrawArgs>),
}

/// `lossatlas store info`.
#[derive(Debug, Args)]
pub struct StoreInfoArgs {
    /// The store folder.
    pub dir: PathBuf,
}

/// `lossatlas store merge`.
#[derive(Debug, Args)]
pub struct StoreMergeArgs {
    /// The store to fill.
    pub into: PathBuf,
    /// Stores of the same landscape (e.g. one per shard) whose finished chunks it takes.
    #[arg(required = true)]
    pub from: Vec<PathBuf>,
}

/// `lossatlas store draw`.
#[derive(Debug, Args)]
pub struct StoreDrawArgs {
    /// The store folder.
    pub dir: PathBuf,
    /// Contour levels: a comma list or a count of automatic ones.
    #[arg(long, default_value = "12", value_name = "LIST|COUNT", allow_hyphen_values = true)]
    pub levels: String,
    /// The contour map, .png or .svg (repeat for several).
    #[arg(short, long = "output", value_name = "FILE")]
    pub outputs: Vec<PathBuf>,
    /// Also the surface, .png or .svg.
    #[arg(long = "surface", value_name = "FILE")]
    pub surface_outputs: Vec<PathBuf>,
    /// Also the grid of losses: .json, .csv or .npy (docs/FORMATS.md).
    #[arg(long, value_name = "FILE")]
    pub export_landscape: Option<PathBuf>,
}

/// `lossatlas net ...`.
#[derive(Debug, Subcommand)]
pub enum NetCommand {
    /// Train a multilayer perceptron with the optimizers of `descend` and save its weights as
    /// safetensors (PyTorch's state_dict names).
    #[command(after_help = NET_TRAIN_EXAMPLES)]
    Train(Deferred<NetTrainArgs>),
    /// The loss (and accuracy) of a trained network over a plane through its weights, along two
    /// filter-normalized random directions or two direction files: contours, surface, exports.
    #[command(after_help = NET_PLANE_EXAMPLES)]
    Plane(Deferred<NetPlaneArgs>),
    /// The loss and accuracy along a straight line: from one weights file to another (initial to
    /// trained, or two trained networks), or along one direction through the weights.
    #[command(after_help = NET_LINE_EXAMPLES)]
    Line(Deferred<NetLineArgs>),
    /// The principal plane of a recorded training path: the path projected on its contour map,
    /// and how far each point lies from the plane, with its true loss beside the plane's.
    #[command(after_help = NET_PCA_EXAMPLES)]
    Pca(Deferred<NetPcaArgs>),
    /// The interactive page of a network's plane, live: a click starts the optimizers there, in
    /// all the network's weights, and their paths are drawn projected on the plane.
    #[command(after_help = NET_SERVE_EXAMPLES)]
    Serve(Deferred<NetServeArgs>),
    /// The curvature of a trained network: the largest Hessian eigenvalues, the trace and the
    /// eigenvalue density, from exact Hessian-vector products (as PyHessian reports them).
    Hessian(Deferred<crate::commands::net::hessian::NetHessianArgs>),
    /// What a network file holds: an ONNX model's operators, data input and trainable tensors
    /// (the float initializers a plane perturbs), or a safetensors file's tensors.
    #[command(after_help = NET_INSPECT_EXAMPLES)]
    Inspect(Deferred<NetInspectArgs>),
}

const NET_INSPECT_EXAMPLES: &str = "\
Examples:
  The parameters of a network exported with torch.onnx.export(model, example, 'cnn.onnx'):
    lossatlas net inspect cnn.onnx";

/// `lossatlas net inspect`.
#[derive(Debug, Args)]
pub struct NetInspectArgs {
    /// The network: .onnx, or .safetensors weights.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

const NET_SERVE_EXAMPLES: &str = "\
Examples:
  A trained moons network's filter-normalized plane, on http://127.0.0.1:8000:
    lossatlas net serve --weights moons.safetensors --activation tanh --dataset moons";

const NET_TRAIN_EXAMPLES: &str = "\
Examples:
  A 2-64-64-2 tanh network on 1000 two-moons points, Adam, mini-batches of 64:
    lossatlas net train --dataset moons --layers 2,64,64,2 --activation tanh \\
        --optimizer adam:lr=0.01 --epochs 100 --batch-size 64 -o moons.safetensors";

const NET_PLANE_EXAMPLES: &str = "\
Examples:
  Its loss along two filter-normalized random directions, as contours and a surface:
    lossatlas net plane --weights moons.safetensors --activation tanh --dataset moons \\
        --seed 1 -o moons-plane.png --surface moons-surface.png --export-landscape moons.npy

  Your PyTorch MLP (safetensors.torch.save_file(model.state_dict(), 'mine.safetensors')) on
  your CSV data, label column `label`:
    lossatlas net plane --weights mine.safetensors --activation relu --data mine.csv \\
        --target label -o mine-plane.png --save-directions d1.safetensors,d2.safetensors

  Any network exported to ONNX, on images saved with np.savez('data.npz', x=images, y=labels):
    lossatlas net plane --weights cnn.onnx --data data.npz -o cnn-plane.png --surface cnn-3d.png";

const NET_LINE_EXAMPLES: &str = "\
Examples:
  From the initial weights (alpha = 0) to the trained ones (alpha = 1), and a little beyond:
    lossatlas net train --dataset moons --layers 2,64,64,2 --epochs 100 --batch-size 64 \\
        --save-initial init.safetensors -o moons.safetensors
    lossatlas net line --weights moons.safetensors --from init.safetensors -o line.png \\
        --export line.csv

  Along one filter-normalized random direction through the trained weights:
    lossatlas net line --weights moons.safetensors --seed 3 --range -1:1 -o direction.png";

const NET_PCA_EXAMPLES: &str = "\
Examples:
  Record the path while training, then draw it in its principal plane with the off-plane chart:
    lossatlas net train --dataset moons --layers 2,64,64,2 --epochs 100 --batch-size 64 \\
        --record-path path.npy --record-every 10 -o moons.safetensors
    lossatlas net pca --weights moons.safetensors --path path.npy -o pca.png \\
        --off-plane off-plane.png --export-path path.csv";

/// The data of a network: a seeded synthetic set or a CSV file, split into training and test
/// parts, and the loss that scores the network on it.
#[derive(Debug, Args, Clone)]
pub struct NetDataArgs {
    /// A synthetic data set: moons, circles, spirals or blobs.
    #[arg(long, default_value = "moons")]
    pub dataset: String,
    /// Your data instead: a CSV file with a header row (or - for standard input), one row per
    /// sample; or numpy arrays, .npz (np.savez(file, x=inputs, y=labels)), inputs of any shape
    /// such as N x C x H x W images.
    #[arg(long, value_name = "FILE.csv|.npz", conflicts_with = "dataset")]
    pub data: Option<PathBuf>,
    /// The feature columns of a CSV --data, in the network's input order (default: every column
    /// but the target); of an .npz, the inputs array (default: x).
    #[arg(long, value_name = "COL,COL,...|KEY", requires = "data", value_delimiter = ',')]
    pub inputs: Option<Vec<String>>,
    /// The label (class 0, 1, ...) or target column of a CSV --data (default: the last column);
    /// of an .npz, the labels or targets array (default: y).
    #[arg(long, value_name = "COL|KEY", requires = "data")]
    pub target: Option<String>,
    /// The loss: cross-entropy (softmax over the outputs, integer class labels), mse (numeric
    /// targets, one per output), or output (an ONNX model that ends in its loss: its second
    /// input takes the targets, its output is the loss).
    #[arg(long, default_value = "cross-entropy", value_parser = ["cross-entropy", "mse", "output"])]
    pub loss: String,
    /// How many points.
    #[arg(long = "points", default_value_t = 1000)]
    pub points: usize,
    /// The noise of the points.
    #[arg(long, default_value_t = 0.1)]
    pub noise: f64,
    /// Classes of spirals and blobs.
    #[arg(long, default_value_t = 3)]
    pub classes: usize,
    /// The seed of the points and of the train/test split.
    #[arg(long, default_value_t = 0)]
    pub data_seed: u64,
    /// The share of the points held out for testing.
    #[arg(long, default_value_t = 0.2)]
    pub test_fraction: f64,
    /// Compute in f32 (as PyTorch) or f64.
    #[arg(long, default_value = "f32", value_parser = ["f32", "f64"])]
    pub precision: String,
}

/// `lossatlas net train`.
#[derive(Debug, Args)]
pub struct NetTrainArgs {
    #[command(flatten)]
    pub data: NetDataArgs,
    /// The layer widths, input to output, e.g. 2,64,64,2 (the input and output widths must suit
    /// the data: 2 features; as many outputs as classes).
    #[arg(long, default_value = "2,64,64,2", value_name = "W,W,...")]
    pub layers: String,
    /// The activation after every layer but the last: relu, tanh, sigmoid, gelu or identity.
    #[arg(long, default_value = "tanh")]
    pub activation: String,
    /// The optimizer, NAME[:key=value,...].
    #[arg(long, default_value = "adam:lr=0.01")]
    pub optimizer: String,
    /// Passes over the training data.
    #[arg(long, default_value_t = 100)]
    pub epochs: usize,
    /// Mini-batch size (shuffled with --seed every epoch); full batch when omitted.
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,
    /// The seed of the initial weights and of the mini-batches.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The trained weights, .safetensors.
    #[arg(short, long = "output", value_name = "FILE.safetensors")]
    pub output: PathBuf,
    /// Also the starting weights, .safetensors (for `net line --from`).
    #[arg(long, value_name = "FILE.safetensors")]
    pub save_initial: Option<PathBuf>,
    /// Also the training path: the weights every --record-every steps, as a .npy of shape
    /// (snapshots, 1 + weights) written as training goes (for `net pca`).
    #[arg(long, value_name = "FILE.npy")]
    pub record_path: Option<PathBuf>,
    /// Steps between recorded snapshots (the start and the end are always recorded).
    #[arg(long, default_value_t = 10, value_name = "K")]
    pub record_every: u64,
}

/// `lossatlas net plane`.
#[derive(Debug, Args)]
pub struct NetPlaneArgs {
    #[command(flatten)]
    pub data: NetDataArgs,
    /// The trained network: an MLP's weights, .safetensors with PyTorch's state_dict names; or
    /// any network exported to .onnx (its float initializers are the weights).
    #[arg(long, value_name = "FILE.safetensors|.onnx")]
    pub weights: PathBuf,
    /// The activation the network was trained with (MLPs from .safetensors).
    #[arg(long, default_value = "tanh")]
    pub activation: String,
    /// Two direction files (same names and shapes as the weights), D1,D2; or `hessian`, the top
    /// two Hessian eigenvectors (unit length); default: random.
    #[arg(long, value_name = "D1,D2|hessian")]
    pub directions: Option<String>,
    #[command(flatten)]
    pub random: NetDirectionArgs,
    /// An axis range, u=MIN:MAX or v=MIN:MAX (default -1:1).
    #[arg(long = "range", value_name = "AXIS=MIN:MAX", allow_hyphen_values = true)]
    pub ranges: Vec<String>,
    /// Grid points per axis: N, or NUxNV.
    #[arg(long, default_value = "51", value_name = "N|NUxNV")]
    pub resolution: String,
    /// Contour levels: a comma list or a count of automatic ones.
    #[arg(long, default_value = "12", value_name = "LIST|COUNT", allow_hyphen_values = true)]
    pub levels: String,
    /// The contour map, .png or .svg (repeat for several).
    #[arg(short, long = "output", value_name = "FILE")]
    pub outputs: Vec<PathBuf>,
    /// Also the surface, .png or .svg.
    #[arg(long = "surface", value_name = "FILE")]
    pub surface_outputs: Vec<PathBuf>,
    /// Also the grid of losses: .json, .csv or .npy (docs/FORMATS.md).
    #[arg(long, value_name = "FILE")]
    pub export_landscape: Option<PathBuf>,
    /// Also the grid as a VTK structured grid, .vts, for ParaView (docs/FORMATS.md).
    #[arg(long, value_name = "FILE.vts")]
    pub export_vts: Option<PathBuf>,
    /// Also the two directions, D1.safetensors,D2.safetensors, to recompute or share the plane.
    #[arg(long, value_name = "D1,D2")]
    pub save_directions: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Also the accuracy over the grid (cross-entropy only): float64 .npy of shape (n_v, n_u),
    /// oriented as the landscape's.
    #[arg(long, value_name = "FILE.npy")]
    pub export_accuracy: Option<PathBuf>,
    /// Also the interactive page (as `lossatlas page` writes): turn the surface, hover to read
    /// the loss; one self-contained .html file.
    #[arg(long, value_name = "FILE.html")]
    pub page: Option<PathBuf>,
}

/// Random directions through a network's weights, or direction files.
#[derive(Debug, Args, Clone)]
pub struct NetDirectionArgs {
    /// How random directions are scaled: filter (each neuron's row to its weights' norm, Li et
    /// al.), layer, or none.
    #[arg(long, default_value = "filter")]
    pub normalization: String,
    /// Bias directions: zero (Li et al.'s default), normalize, or weights.
    #[arg(long, default_value = "zero")]
    pub bias: String,
    /// The seed of the random directions.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Make the second direction orthogonal to the first (after normalization; random
    /// directions in many dimensions are nearly orthogonal already).
    #[arg(long)]
    pub orthogonalize: bool,
}

/// `lossatlas net line`.
#[derive(Debug, Args)]
pub struct NetLineArgs {
    #[command(flatten)]
    pub data: NetDataArgs,
    /// The trained network, .safetensors or .onnx: alpha = 1 of an interpolation, alpha = 0 of
    /// a direction.
    #[arg(long, value_name = "FILE.safetensors|.onnx")]
    pub weights: PathBuf,
    /// The activation the network was trained with (MLPs from .safetensors).
    #[arg(long, default_value = "tanh")]
    pub activation: String,
    /// Interpolate from these weights (alpha = 0) to --weights (alpha = 1): a file of the same
    /// kind and shapes (two ONNX exports of one architecture, say).
    #[arg(long, value_name = "FILE.safetensors|.onnx", conflicts_with = "direction")]
    pub from: Option<PathBuf>,
    /// Go along this direction file (same names and shapes as the weights) instead of a random one.
    #[arg(long, value_name = "FILE.safetensors")]
    pub direction: Option<PathBuf>,
    #[command(flatten)]
    pub directions: NetDirectionArgs,
    /// The range of alpha, MIN:MAX (default -0.5:1.5 between two files, -1:1 along a direction).
    #[arg(long, value_name = "MIN:MAX", allow_hyphen_values = true)]
    pub range: Option<String>,
    /// Points along the line.
    #[arg(long, default_value_t = 101, value_name = "N")]
    pub resolution: usize,
    /// The chart of loss and accuracy, .png or .svg (repeat for several).
    #[arg(short, long = "output", value_name = "FILE")]
    pub outputs: Vec<PathBuf>,
    /// Also the numbers: .csv or .json, one row per alpha (docs/FORMATS.md).
    #[arg(long, value_name = "FILE")]
    pub export: Option<PathBuf>,
    /// Also the direction (a random one, or --weights minus --from), .safetensors in f64.
    #[arg(long, value_name = "FILE.safetensors")]
    pub save_direction: Option<PathBuf>,
}

/// `lossatlas net pca`.
#[derive(Debug, Args)]
pub struct NetPcaArgs {
    #[command(flatten)]
    pub data: NetDataArgs,
    /// The weights the plane goes through (the trained ones), .safetensors; they also give the
    /// network's shape.
    #[arg(long, value_name = "FILE.safetensors")]
    pub weights: PathBuf,
    /// The activation the network was trained with.
    #[arg(long, default_value = "tanh")]
    pub activation: String,
    /// The recorded path, .npy from `net train --record-path`.
    #[arg(long, value_name = "FILE.npy")]
    pub path: PathBuf,
    /// An axis range, u=MIN:MAX or v=MIN:MAX (default: the projected path with a margin).
    #[arg(long = "range", value_name = "AXIS=MIN:MAX", allow_hyphen_values = true)]
    pub ranges: Vec<String>,
    /// Grid points per axis: N, or NUxNV.
    #[arg(long, default_value = "51", value_name = "N|NUxNV")]
    pub resolution: String,
    /// Contour levels: a comma list or a count of automatic ones.
    #[arg(long, default_value = "12", value_name = "LIST|COUNT", allow_hyphen_values = true)]
    pub levels: String,
    /// The contour map with the projected path, .png or .svg (repeat for several).
    #[arg(short, long = "output", value_name = "FILE")]
    pub outputs: Vec<PathBuf>,
    /// Also the surface with the path, .png or .svg.
    #[arg(long = "surface", value_name = "FILE")]
    pub surface_outputs: Vec<PathBuf>,
    /// Also the off-plane chart: each snapshot's distance from the plane, and its true loss beside
    /// the plane's loss at its projection, .png or .svg.
    #[arg(long = "off-plane", value_name = "FILE")]
    pub off_plane_outputs: Vec<PathBuf>,
    /// Also the grid of losses: .json, .csv or .npy (docs/FORMATS.md).
    #[arg(long, value_name = "FILE")]
    pub export_landscape: Option<PathBuf>,
    /// Also the projected path: .csv or .json, one row per snapshot (docs/FORMATS.md).
    #[arg(long, value_name = "FILE")]
    pub export_path: Option<PathBuf>,
    /// Also the two principal directions, D1.safetensors,D2.safetensors.
    #[arg(long, value_name = "D1,D2")]
    pub save_directions: Option<String>,
    /// Also the interactive page with the path: turn the surface, hover to read the loss; one
    /// self-contained .html file.
    #[arg(long, value_name = "FILE.html")]
    pub page: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `lossatlas net serve`.
#[derive(Debug, Args)]
pub struct NetServeArgs {
    #[command(flatten)]
    pub data: NetDataArgs,
    /// The trained weights, .safetensors with PyTorch's state_dict names.
    #[arg(long, value_name = "FILE.safetensors")]
    pub weights: PathBuf,
    /// The activation the network was trained with.
    #[arg(long, default_value = "tanh")]
    pub activation: String,
    /// Two direction files (same names and shapes as the weights), D1,D2; default: random.
    #[arg(long, value_name = "D1,D2")]
    pub directions: Option<String>,
    #[command(flatten)]
    pub random: NetDirectionArgs,
    /// An axis range, u=MIN:MAX or v=MIN:MAX (default -1:1).
    #[arg(long = "range", value_name = "AXIS=MIN:MAX", allow_hyphen_values = true)]
    pub ranges: Vec<String>,
    /// The port to listen on; 0 picks a free one (the address is printed either way).
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// The address to listen on. The default serves this machine only.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
}

/// `lossatlas completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

const PAGE_EXAMPLES: &str = "\
Examples:
  The teaching example's linear neuron with gd, momentum and adam; open the file in a browser:
    lossatlas page -o landscape.html

  Figure 5's toy model, with your own optimizers and start:
    lossatlas page --case fig5-sincos --optimizer gd:lr=0.1 \\
        --optimizer adam:lr=0.3 --start 2,4.5 -o sincos.html

  Your own data and model, on the plane of two of its parameters:
    lossatlas page --data decay.csv --x-column time --y-column signal \\
        --model 'A*exp(-r*x) + c' --plane A,r -o mine.html

Cases: linear, tanh, sigmoid (the neuron on the teaching example's six points),
fig5-linear, fig5-cubic, fig5-sincos (figure 5's models on 200 generated points).";

const SERVE_EXAMPLES: &str = "\
Examples:
  Serve on http://127.0.0.1:8000 (this machine only):
    lossatlas serve

  Any free port (the address is printed), starting with figure 5's toy model:
    lossatlas serve --port 0 --case fig5-sincos

  Your own data and model (the menu offers it beside the built-in cases):
    lossatlas serve --data clf.csv --inputs x1,x2 --target label \\
        --model 'sigmoid(a*x1 + b*x2 + c)' --loss bce --plane a,b";

const CONTOUR_EXAMPLES: &str = "\
Examples:
  Figure 1 of the teaching example, as PNG and SVG:
    lossatlas contour --range k=0:2 --range b=-2:4 --resolution 200 \\
        --levels 0.2,0.5,0.7,1,3,8,10,15,20 --title 'Loss Func Contour Line' \\
        -o fig1.png -o fig1.svg

  Filled bands with a log colour scale and 12 automatic levels:
    lossatlas contour --range k=-2:4 --range b=-4:6 --levels 12 --filled \\
        --log-color -o bands.png

  Your own data and a three-parameter model, sliced through two of its parameters (the
  third is held at the best point found, or where --at puts it):
    lossatlas contour --data decay.csv --x-column time --y-column signal \\
        --model 'A*exp(-r*x) + c' --plane A,r --range A=0:1.5 --range r=0:1 -o three.png

  The same model along two random directions through its best point:
    lossatlas contour --data decay.csv --x-column time --y-column signal \\
        --model 'A*exp(-r*x) + c' --directions random --seed 1 -o random.png

  Logistic regression on two input columns with binary cross-entropy:
    lossatlas contour --data clf.csv --inputs x1,x2 --target label \\
        --model 'sigmoid(a*x1 + b*x2 + c)' --loss bce --plane a,b -o clf.png

  Export the grid for numpy and the lines as JSON (formats in docs/FORMATS.md):
    lossatlas contour --range k=0:2 --range b=-2:4 --export-landscape grid.npy \\
        --export-isolines lines.json -o fig1.png";

const COMPARE_EXAMPLES: &str = "\
Examples:
  Figure 2 of the teaching example: raw x against standardized x, same levels, stacked:
    lossatlas compare --transform none,zscore,mean-var --range k=0:6 --range b=-2:8 \\
        --levels 0.2,0.5,0.7,0.8,1 --layout column -o fig2.png";

const SURFACE_EXAMPLES: &str = "\
Examples:
  Figure 3 of the teaching example (linear neuron) and figure 4 (tanh neuron):
    lossatlas surface --range k=-2:2 --range b=-4:4 --resolution 100 -o fig3.png
    lossatlas surface --activation tanh --range k=-2:2 --range b=-4:4 \\
        --resolution 100 -o fig4.png

  Another view:
    lossatlas surface --range k=-2:2 --range b=-4:4 --elevation 45 --azimuth 30 -o view.svg";

const DESCEND_EXAMPLES: &str = "\
Examples:
  Figure 5 of the teaching example (plain gradient descent from three start points):
    lossatlas descend --generate 'a*x + b' --true a=1.2,b=2.5 --model 'a*x + b' \\
        --range a=-2:7 --range b=-2:7 --optimizer gd:lr=0.1 --steps 400 \\
        --start 5,4 --start 5,1 --start 2,4.5 \\
        -o fig5.png --surface fig5-surface.png --fit fig5-fit.png

  Several optimizers at once, with an animation and the paths as JSON:
    lossatlas descend --range k=-1:3 --range b=-2:5 --optimizer gd:lr=0.05 \\
        --optimizer momentum:lr=0.02 --optimizer adam:lr=0.1 --start 2.5,-1 \\
        --steps 200 -o paths.png --loss-curve loss.png \\
        --gif paths.gif --export-trajectories paths.json

  A three-parameter model: the optimizers run in all three, the picture shows the path
  projected on the plane, and the table and export say how far each step is from it:
    lossatlas descend --data decay.csv --x-column time --y-column signal \\
        --model 'A*exp(-r*x) + c' --plane A,r --range A=0:2 --range r=0:1 \\
        --start 0.3,0.9 -o decay-paths.png --export-trajectories decay.json

  Learning rate 1 on the linear model diverges; lossatlas says so and draws what happened:
    lossatlas descend --range k=-3:5 --range b=-3:5 --optimizer gd:lr=1 --start 2,4 \\
        -o diverged.png

Optimizers (torch.optim's update rules and defaults): gd, momentum, nesterov,
adagrad, rmsprop, adam, adamw, each with settings as NAME:key=value,...,
e.g. adam:lr=0.1,beta1=0.8,beta2=0.99.";

const ANALYZE_EXAMPLES: &str = "\
Examples:
  The linear neuron: closed-form minimum, Hessian, condition number 33.4, stable lr 0.101:
    lossatlas analyze --range k=0:2 --range b=-2:4

  Why standardizing helps: the same numbers for every input transform:
    lossatlas analyze --transforms

  A model with several minima and saddles, as JSON:
    lossatlas analyze --generate 'sin(b*cos(a*x))' --true a=1.2,b=2.5 \\
        --model 'sin(b*cos(a*x))' --params a,b --range a=-2:7 --range b=-2:7 --json

  Your own three-parameter model: the minimum, Hessian and condition number in all
  three, and the curvature of the drawn plane:
    lossatlas analyze --data decay.csv --x-column time --y-column signal \\
        --model 'A*exp(-r*x) + c' --plane A,r";

const BASINS_EXAMPLES: &str = "\
Examples:
  Which start leads where for y = sin(b*cos(a*x)) under gradient descent:
    lossatlas basins --generate 'sin(b*cos(a*x))' --true a=1.2,b=2.5 \\
        --model 'sin(b*cos(a*x))' --params a,b --range a=-2:7 --range b=-2:7 \\
        --starts 40 --optimizer gd:lr=0.1 -o basins.png";

/// Where a command's grid is computed: in memory, or chunk by chunk into a landscape store.
#[derive(Debug, Args, Clone, Default)]
pub struct StoreArgs {
    /// Compute into (or resume) a landscape store in this folder: chunks of rows written as
    /// they finish, so a killed run resumes where it stopped; under `mpirun` (a build with the
    /// `mpi` feature) the ranks share the chunks (docs/FORMATS.md).
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// With --store: compute only the chunks of shard I of N (from 0), so N processes fill one
    /// store; figures are drawn by the run that finds the store complete.
    #[arg(long, value_name = "I/N", requires = "store")]
    pub shard: Option<String>,
}

/// What is fitted: data, model, loss and input transform.
#[derive(Debug, Args, Clone, PartialEq)]
pub struct ProblemArgs {
    /// The data: `seed` (the teaching example's six points), a CSV file with a header row, or `-`
    /// for CSV on standard input.
    #[arg(long, default_value = "seed", value_name = "seed|FILE.csv|-")]
    pub data: String,
    /// The CSV columns that are the model's inputs, e.g. x1,x2; a formula names them (default: the
    /// first column, which the formula calls x).
    #[arg(long, value_name = "NAME,...", conflicts_with = "x_column")]
    pub inputs: Option<String>,
    /// The CSV column holding the target (default: the one column that is not an input).
    #[arg(long, value_name = "NAME", conflicts_with = "y_column")]
    pub target: Option<String>,
    /// The CSV column holding x, which the formula calls x (default: the first column).
    #[arg(long, value_name = "NAME")]
    pub x_column: Option<String>,
    /// The CSV column holding y (default: the second column).
    #[arg(long, value_name = "NAME")]
    pub y_column: Option<String>,
    /// Generate the data instead: y = FORMULA(x; --true values) + N(0, noise^2) on a linspace.
    #[arg(long, value_name = "FORMULA", conflicts_with = "data", allow_hyphen_values = true)]
    pub generate: Option<String>,
    /// The true parameters of --generate, e.g. a=1.2,b=2.5.
    #[arg(long = "true", value_name = "NAME=VALUE,...", requires = "generate", allow_hyphen_values = true)]
    pub true_params: Option<String>,
    /// How many points --generate makes.
    #[arg(long, default_value_t = 200, requires = "generate")]
    pub samples: usize,
    /// The x range --generate samples, MIN:MAX.
    #[arg(long, default_value = "-1:1", allow_hyphen_values = true, requires = "generate")]
    pub x_range: String,
    /// The standard deviation of the noise --generate adds.
    #[arg(long, default_value_t = 0.1, requires = "generate")]
    pub noise: f64,
    /// The random seed of --generate, mini-batches and --directions random (the same seed gives
    /// the same numbers everywhere).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The model: `linear` (k*x + b, see --activation) or a formula of the inputs, e.g.
    /// 'sin(b*cos(a*x))'; every name that is not an input is a parameter.
    #[arg(long, default_value = "linear", value_name = "linear|FORMULA", allow_hyphen_values = true)]
    pub model: String,
    /// The activation on the linear neuron's output: identity, tanh, sigmoid or relu.
    #[arg(long, default_value = "identity")]
    pub activation: String,
    /// The parameter order of a formula, e.g. a,b (default: order of first appearance).
    #[arg(long, value_name = "NAME,NAME")]
    pub params: Option<String>,
    /// The loss: mse, mae, huber (delta 1), huber:delta=D, bce (the output is a probability) or
    /// bce-logits (the output is a logit); the cross-entropies need 0/1 targets.
    #[arg(long, default_value = "mse")]
    pub loss: String,
    #[command(flatten)]
    pub plane: PlaneArgs,
}

impl ProblemArgs {
    /// The flags' values when none is given: the teaching example's linear neuron.
    pub fn defaults() -> ProblemArgs {
        #[derive(Debug, Parser)]
        #[command(no_binary_name = true)]
        struct Only {
            #[command(flatten)]
            problem: ProblemArgs,
        }
        Only::try_parse_from(std::iter::empty::<&str>()).expect("no flags always parse").problem
    }
}

impl PlaneArgs {
    /// Two parameters as axes, nothing held: a two-parameter model's own plane.
    pub fn default_axes() -> PlaneArgs {
        PlaneArgs { plane: None, at: Vec::new(), directions: "axes".into() }
    }
}

/// Which plane of parameter space is drawn: chosen once here for every command.
#[derive(Debug, Args, Clone, Default, PartialEq)]
pub struct PlaneArgs {
    /// The two parameters on the axes, e.g. A,r; the others are held (see --at). Default: the
    /// model's two parameters, when it has exactly two.
    #[arg(long, value_name = "P,Q")]
    pub plane: Option<String>,
    /// Hold parameters at these values, e.g. c=0.3 (repeatable); with --directions random, the
    /// plane's centre. Default: the best point found, which is printed.
    #[arg(long, value_name = "NAME=VALUE,...", allow_hyphen_values = true)]
    pub at: Vec<String>,
    /// `axes` (two parameters, see --plane) or `random`: two random orthonormal directions through
    /// the centre, drawn with --seed.
    #[arg(long, default_value = "axes", value_parser = ["axes", "random"])]
    pub directions: String,
}

/// The grid: ranges and resolution.
#[derive(Debug, Args, Clone)]
pub struct GridArgs {
    /// A parameter's range, NAME=MIN:MAX (repeat for each parameter; default -5:5).
    #[arg(long = "range", value_name = "NAME=MIN:MAX", allow_hyphen_values = true)]
    pub ranges: Vec<String>,
    /// Grid points per axis: N, or NUxNV.
    #[arg(long, default_value = "200", value_name = "N|NUxNV")]
    pub resolution: String,
}

/// Options shared by every picture.
#[derive(Debug, Args, Clone)]
pub struct PictureArgs {
    /// Output picture(s): .png or .svg, by extension. Repeat for several formats.
    #[arg(short, long = "output", value_name = "FILE", required = true)]
    pub outputs: Vec<PathBuf>,
    /// The title (default: describes the model and loss).
    #[arg(long, allow_hyphen_values = true)]
    pub title: Option<String>,
    /// The horizontal axis label (default: the first parameter's name).
    #[arg(long, allow_hyphen_values = true)]
    pub x_label: Option<String>,
    /// The vertical axis label (default: the second parameter's name).
    #[arg(long, allow_hyphen_values = true)]
    pub y_label: Option<String>,
    /// Picture size in pixels, WIDTHxHEIGHT.
    #[arg(long, value_name = "WxH")]
    pub size: Option<String>,
    /// Colour by log(loss), for landscapes that span decades.
    #[arg(long)]
    pub log_color: bool,
}

/// Levels and bands.
#[derive(Debug, Args, Clone)]
pub struct LevelArgs {
    /// Contour levels: a comma list (0.2,0.5,1) or a count of automatic levels (12; log-spaced when
    /// the loss spans more than two decades).
    #[arg(long, default_value = "10", value_name = "LIST|COUNT", allow_hyphen_values = true)]
    pub levels: String,
    /// Fill the bands between levels and add a colour bar.
    #[arg(long)]
    pub filled: bool,
    /// Do not write the level on each line.
    #[arg(long)]
    pub no_labels: bool,
}

/// `lossatlas contour`.
#[derive(Debug, Args)]
pub struct ContourArgs {
    #[command(flatten)]
    pub problem: ProblemArgs,
    /// The input transform applied to x before fitting: none, zscore, minmax or mean-var.
    #[arg(long, default_value = "none")]
    pub transform: String,
    #[command(flatten)]
    pub grid: GridArgs,
    #[command(flatten)]
    pub levels: LevelArgs,
    #[command(flatten)]
    pub picture: PictureArgs,
    /// Mark every critical point (minimum, saddle, maximum) and draw the Hessian's eigen-axes at
    /// the minimum as the axes of the lowest level's ellipse.
    #[arg(long)]
    pub analysis: bool,
    /// `equal` draws one unit of each parameter at the same length, so round bowls look round;
    /// `fill` uses the whole picture.
    #[arg(long, default_value = "fill", value_parser = ["fill", "equal"])]
    pub aspect: String,
    /// Also write the grid of loss values: .json, .csv or .npy (formats in docs/FORMATS.md).
    #[arg(long, value_name = "FILE")]
    pub export_landscape: Option<PathBuf>,
    /// Also write the iso-lines as .json.
    #[arg(long, value_name = "FILE")]
    pub export_isolines: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Draw from a finished landscape store (`--store DIR` of any grid command) instead of
    /// computing: the model, data and grid flags are not used.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["analysis", "store", "ranges", "resolution", "model", "data", "generate", "transform"])]
    pub from_store: Option<PathBuf>,
    /// Also the grid as a VTK structured grid, .vts, for ParaView (docs/FORMATS.md).
    #[arg(long, value_name = "FILE.vts")]
    pub export_vts: Option<PathBuf>,
}

/// `lossatlas compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub problem: ProblemArgs,
    /// The transforms to compare, comma separated: none, zscore, minmax, mean-var.
    #[arg(long, default_value = "none,zscore")]
    pub transform: String,
    /// Panels side by side (row) or stacked (column).
    #[arg(long, default_value = "row", value_parser = ["row", "column"])]
    pub layout: String,
    /// `equal` (the default here) draws one unit of each parameter at the same length, so a
    /// z-scored bowl looks round; `fill` uses the whole panel.
    #[arg(long, default_value = "equal", value_parser = ["fill", "equal"])]
    pub aspect: String,
    #[command(flatten)]
    pub grid: GridArgs,
    #[command(flatten)]
    pub levels: LevelArgs,
    /// Compute each panel's grid into (or resume it from) a landscape store, one per transform
    /// in DIR/<transform> (every store flag means what it means for `contour`).
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub picture: PictureArgs,
}

/// `lossatlas surface`.
#[derive(Debug, Args)]
pub struct SurfaceArgs {
    #[command(flatten)]
    pub problem: ProblemArgs,
    /// The input transform applied to x before fitting.
    #[arg(long, default_value = "none")]
    pub transform: String,
    #[command(flatten)]
    pub grid: GridArgs,
    #[command(flatten)]
    pub picture: PictureArgs,
    /// The view's elevation above the (u, v) plane in degrees, 0 to 90.
    #[arg(long, default_value_t = 30.0, allow_hyphen_values = true)]
    pub elevation: f64,
    /// The view's rotation about the vertical axis in degrees, -360 to 360 (matplotlib's azim).
    #[arg(long, default_value_t = -60.0, allow_hyphen_values = true)]
    pub azimuth: f64,
    /// Mark every critical point (minimum, saddle, maximum) on the surface.
    #[arg(long)]
    pub analysis: bool,
    /// Cut the surface off above this loss, so a steep rim does not flatten the rest.
    #[arg(long, value_name = "LOSS", allow_hyphen_values = true)]
    pub z_max: Option<f64>,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Draw from a finished landscape store (`--store DIR` of any grid command) instead of
    /// computing: the model, data and grid flags are not used.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["analysis", "store", "ranges", "resolution", "model", "data", "generate", "transform"])]
    pub from_store: Option<PathBuf>,
    /// Also the grid as a VTK structured grid, .vts, for ParaView (docs/FORMATS.md).
    #[arg(long, value_name = "FILE.vts")]
    pub export_vts: Option<PathBuf>,
}

/// `lossatlas descend`.
#[derive(Debug, Args)]
pub struct DescendArgs {
    #[command(flatten)]
    pub problem: ProblemArgs,
    /// The input transform applied to x before fitting.
    #[arg(long, default_value = "none")]
    pub transform: String,
    #[command(flatten)]
    pub grid: GridArgs,
    #[command(flatten)]
    pub levels: LevelArgs,
    #[command(flatten)]
    pub picture: PictureArgs,
    /// An optimizer, NAME[:key=value,...]; repeat to compare several.
    #[arg(long = "optimizer", value_name = "SPEC", default_value = "gd:lr=0.1")]
    pub optimizers: Vec<String>,
    /// A start point, one value per parameter in order, e.g. 2,4.5; repeat for several.
    #[arg(long = "start", value_name = "U,V", required = true, allow_hyphen_values = true)]
    pub starts: Vec<String>,
    /// The most update steps each run takes.
    #[arg(long, default_value_t = 400)]
    pub steps: usize,
    /// Stop a run when the gradient norm falls below this.
    #[arg(long, default_value_t = 1e-8)]
    pub tolerance: f64,
    /// Mini-batch size (shuffled with --seed every epoch); full batch when omitted.
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,
    /// Also draw the paths on the 3D surface (hidden behind hills), .png or .svg.
    #[arg(long = "surface", value_name = "FILE")]
    pub surface_outputs: Vec<PathBuf>,
    /// Also draw the data and each run's fitted curve, .png or .svg.
    #[arg(long = "fit", value_name = "FILE")]
    pub fit_outputs: Vec<PathBuf>,
    /// Also draw the loss per step (log scale), .png or .svg.
    #[arg(long = "loss-curve", value_name = "FILE")]
    pub loss_outputs: Vec<PathBuf>,
    /// Also write an animation of the paths over the contour map, .gif.
    #[arg(long, value_name = "FILE.gif")]
    pub gif: Option<PathBuf>,
    /// Also write every step of every run, .json or .csv (formats in docs/FORMATS.md).
    #[arg(long, value_name = "FILE")]
    pub export_trajectories: Option<PathBuf>,
    /// The surface view's elevation in degrees, 0 to 90 (high enough by default to see into a
    /// bowl, where the paths run).
    #[arg(long, default_value_t = 55.0, allow_hyphen_values = true)]
    pub elevation: f64,
    /// The surface view's azimuth in degrees, -360 to 360.
    #[arg(long, default_value_t = -60.0, allow_hyphen_values = true)]
    pub azimuth: f64,
    /// The loss grid under the paths, into (or from) a landscape store.
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `lossatlas analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub problem: ProblemArgs,
    /// The input transform applied to x before fitting.
    #[arg(long, default_value = "none")]
    pub transform: String,
    #[command(flatten)]
    pub grid: GridArgs,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Instead, compare every input transform (none, zscore, minmax, mean-var): condition number
    /// and learning-rate limits.
    #[arg(long)]
    pub transforms: bool,
    /// The loss grid the report measures, into (or from) a landscape store.
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `lossatlas basins`.
#[derive(Debug, Args)]
pub struct BasinsArgs {
    #[command(flatten)]
    pub problem: ProblemArgs,
    /// The input transform applied to x before fitting.
    #[arg(long, default_value = "none")]
    pub transform: String,
    #[command(flatten)]
    pub grid: GridArgs,
    /// Start points per axis (an N x N grid of starts over the ranges).
    #[arg(long, default_value_t = 40)]
    pub starts: usize,
    /// The optimizer run from every start, NAME[:key=value,...].
    #[arg(long, default_value = "gd:lr=0.1")]
    pub optimizer: String,
    /// The most steps per run.
    #[arg(long, default_value_t = 400)]
    pub steps: usize,
    /// A run that ends within this distance of a minimum (in parameter units) belongs to its basin.
    #[arg(long, default_value_t = 0.05)]
    pub tolerance: f64,
    /// Output picture(s), .png or .svg.
    #[arg(short, long = "output", value_name = "FILE")]
    pub outputs: Vec<PathBuf>,
    /// Also write the labels and minima as JSON.
    #[arg(long, value_name = "FILE.json")]
    pub json: Option<PathBuf>,
    /// The title.
    #[arg(long, allow_hyphen_values = true)]
    pub title: Option<String>,
    /// Picture size in pixels, WIDTHxHEIGHT.
    #[arg(long, value_name = "WxH")]
    pub size: Option<String>,
    /// The loss grid drawn under the basins into (or from) a landscape store.
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `lossatlas page`.
#[derive(Debug, Args)]
pub struct PageArgs {
    /// The page to write, .html.
    #[arg(short, long = "output", value_name = "FILE.html", required = true)]
    pub output: std::path::PathBuf,
    /// One of the teaching example's cases: linear, tanh, sigmoid, fig5-linear, fig5-cubic,
    /// fig5-sincos (default: linear, or your own problem when you give --data, --model, ...).
    #[arg(long)]
    pub case: Option<String>,
    #[command(flatten)]
    pub problem: ProblemArgs,
    /// The input transform applied to the inputs before fitting: none, zscore, minmax or mean-var.
    #[arg(long, default_value = "none")]
    pub transform: String,
    /// An axis range, NAME=MIN:MAX (default: the case's range, or -5:5 and -1:1 for random
    /// directions).
    #[arg(long = "range", value_name = "NAME=MIN:MAX", allow_hyphen_values = true)]
    pub ranges: Vec<String>,
    /// Grid points per axis (11 to 301; the page stores every value).
    #[arg(long, default_value_t = 101)]
    pub resolution: usize,
    /// Contour levels: a comma list (0.2,0.5,1) or a count of automatic levels.
    #[arg(long, default_value = "12", value_name = "LIST|COUNT", allow_hyphen_values = true)]
    pub levels: String,
    /// An optimizer whose path the page shows, NAME[:key=value,...]; repeat for several
    /// (default: the case's gd, momentum and adam).
    #[arg(long = "optimizer", value_name = "SPEC")]
    pub optimizers: Vec<String>,
    /// Where the paths start, U,V on the plane (default: the case's start).
    #[arg(long, value_name = "U,V", allow_hyphen_values = true)]
    pub start: Option<String>,
    /// The most update steps each path takes.
    #[arg(long, default_value_t = 400)]
    pub steps: usize,
    /// The page's loss grid, into (or from) a landscape store.
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `lossatlas serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The port to listen on; 0 picks a free one (the address is printed either way).
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// The address to listen on. The default serves this machine only; any other address lets
    /// other machines use the server.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// The case the page opens with (default: linear, or your own problem when you give --data,
    /// --model, ...; the page's menu offers it beside the built-in cases).
    #[arg(long)]
    pub case: Option<String>,
    #[command(flatten)]
    pub problem: ProblemArgs,
    /// An axis range of your own problem, NAME=MIN:MAX.
    #[arg(long = "range", value_name = "NAME=MIN:MAX", allow_hyphen_values = true)]
    pub ranges: Vec<String>,
}

/// `lossatlas tour`.
#[derive(Debug, Args)]
pub struct TourArgs {
    /// The folder to write into.
    #[arg(long = "out", default_value = "lossatlas-tour", value_name = "DIR")]
    pub out: PathBuf,
}
