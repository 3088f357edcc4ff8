//! `lossatlas tour` (and `lossatlas` with no arguments): every seed figure, written by running the
//! very commands the tour page prints, plus an index.html that explains each one.

use std::path::Path;

use anyhow::{Context, Result};
use clap::Parser;

use crate::args::{Cli, TourArgs};
use crate::output::write_atomic;

/// One stop of the tour: a command and what to notice in what it draws.
struct Stop {
    /// The heading on the page.
    heading: &'static str,
    /// The command's arguments after `lossatlas`. Arguments starting with `@` (or comma-separated
    /// pieces of one, as in `@d1.safetensors,@d2.safetensors`) are files in the tour folder; the
    /// page shows every `@*.png` among them (linking the `.svg` of the same name when the command
    /// writes one too) and links the others.
    args: &'static [&'static str],
    /// What the figure shows, and what to notice (two sentences).
    explanation: &'static str,
    /// A stop that shows numbers rather than pictures: the command is printed, not run, and the
    /// page shows the transform comparison table it prints, computed in-process.
    numbers: bool,
}

impl Stop {
    /// The files the command writes, as named in the tour folder.
    fn files(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.args.iter().flat_map(|a| a.split(',')).filter_map(|a| a.strip_prefix('@'))
    }
}

/// `arg` with each `@file` piece replaced by `file(name)`.
fn resolve_files(arg: &str, file: impl Fn(&str) -> String) -> String {
    arg.split(',')
        .map(|piece| piece.strip_prefix('@').map_or_else(|| piece.to_string(), &file))
        .collect::<Vec<_>>()
        .join(",")
}

// One argument per item keeps each command readable as the line it is on the page.
#[rustfmt::skip]
const STOPS: &[Stop] = &[
    Stop {
        heading: "1. Iso-loss contour lines of y = k*x + b",
        args: &["contour", "--range", "k=0:2", "--range", "b=-2:4", "--resolution", "200",
            "--levels", "0.2,0.5,0.7,1,3,8,10,15,20", "--title", "Loss Func Contour Line",
            "-o", "@fig1-contours.png", "-o", "@fig1-contours.svg"],
        explanation: "Each line joins the (k, b) pairs that fit the six points equally badly, and the \
            marked point is the best fit, k = 0.826, b = 1.486. The ellipses are long and thin because \
            the loss is about 33 times more sensitive along one direction than along the other, which \
            is what makes plain gradient descent zig-zag here.",
        numbers: false,
    },
    Stop {
        heading: "1b. The same landscape as filled bands, with its curvature drawn in",
        args: &["contour", "--range", "k=0:2", "--range", "b=-2:4", "--resolution", "200",
            "--levels", "0.2,0.5,0.7,1,3,8,10,15,20", "--filled", "--log-color", "--analysis",
            "--title", "Loss Func Contour Line (filled, log colour)",
            "-o", "@fig1-filled.png", "-o", "@fig1-filled.svg"],
        explanation: "Filling the space between levels shows at a glance where the loss is low; the \
            colour follows log(loss), because the loss spans two decades over this range. The two \
            segments through the minimum are the Hessian's eigenvectors, drawn as the axes of the 0.2 \
            ellipse: the long one has curvature 0.59, the short one 19.7, and their ratio is the \
            condition number 33.4.",
        numbers: false,
    },
    Stop {
        heading: "2. Raw x, z-scored x and the teaching example's mean/variance scaling",
        args: &["compare", "--transform", "none,zscore,mean-var", "--layout", "column",
            "--range", "k=0:6", "--range", "b=-2:8", "--resolution", "200",
            "--levels", "0.2,0.5,0.7,0.8,1", "-o", "@fig2-standardize.png", "-o", "@fig2-standardize.svg"],
        explanation: "The same data and levels, with x raw, z-scored ((x - mean) / std) and divided by \
            the variance as in the original note, drawn with equal units on both axes. With z-scored \
            inputs the Hessian becomes 2*I and the contours circles (condition number 1), so the gradient \
            points straight at the minimum and one learning rate suits both parameters; the note's \
            upright ellipse comes from dividing by the variance, not from standardizing.",
        numbers: false,
    },
    Stop {
        heading: "2b. Why standardizing speeds up gradient descent, in numbers",
        args: &["analyze", "--transforms"],
        explanation: "For each transform of x: the Hessian's condition number at the minimum, the \
            largest learning rate plain gradient descent survives (2 / lambda_max), and the steps gradient \
            descent and heavy-ball momentum need at their best settings to shrink the error a \
            million-fold. Raw inputs need about 231 steps of gradient descent; z-scored inputs make the \
            bowl round, the best step exact, and one step enough.",
        numbers: true,
    },
    Stop {
        heading: "3. The loss surface of y = k*x + b",
        args: &["surface", "--range", "k=-2:2", "--range", "b=-4:4", "--resolution", "100",
            "--title", "mse of y = k*x + b", "-o", "@fig3-surface-linear.png", "-o", "@fig3-surface-linear.svg"],
        explanation: "For a linear neuron with squared error the loss is a quadratic bowl: one \
            minimum, no plateaus, so gradient descent from anywhere ends in the same place. The bowl is \
            steep along k and shallow along b, which is the long ellipse of figure 1 seen from the side.",
        numbers: false,
    },
    Stop {
        heading: "4. The loss surface of y = tanh(k*x + b)",
        args: &["surface", "--activation", "tanh", "--range", "k=-2:2", "--range", "b=-4:4",
            "--resolution", "100", "--title", "mse of y = tanh(k*x + b)",
            "-o", "@fig4-surface-tanh.png", "-o", "@fig4-surface-tanh.svg"],
        explanation: "A tanh output can never exceed 1, so it cannot reach targets between 1.1 and 5.2: \
            the surface flattens into plateaus where the neuron saturates. On a plateau the gradient is \
            nearly zero, which is why a saturated neuron learns so slowly.",
        numbers: false,
    },
    Stop {
        heading: "5a. Gradient descent on y = a*x + b",
        args: &["descend", "--generate", "a*x + b", "--true", "a=1.2,b=2.5", "--model", "a*x + b",
            "--range", "a=-2:7", "--range", "b=-2:7", "--resolution", "120", "--optimizer", "gd:lr=0.1",
            "--steps", "400", "--start", "5,4", "--start", "5,1", "--start", "2,4.5",
            "-o", "@fig5-linear.png", "--surface", "@fig5-linear-surface.png", "--fit", "@fig5-linear-fit.png"],
        explanation: "The teaching example's figure 5: 200 noisy points of y = 1.2x + 2.5, plain gradient descent \
            with learning rate 0.1 for 400 steps from its three start points. Every path curves into the \
            same minimum at a = 1.18, b = 2.50 (the noise moves it off 1.2): a linear model with squared \
            error has one bowl, and the path is drawn on the surface with the parts behind the rim hidden.",
        numbers: false,
    },
    Stop {
        heading: "5b. Gradient descent on y = a*x^3 + b*x^2",
        args: &["descend", "--generate", "a*x^3 + b*x^2", "--true", "a=1.2,b=2.5", "--model", "a*x^3 + b*x^2",
            "--range", "a=-2:7", "--range", "b=-2:7", "--resolution", "120", "--optimizer", "gd:lr=0.1",
            "--steps", "400", "--start", "5,4", "--start", "5,1", "--start", "2,4.5",
            "-o", "@fig5-cubic.png", "--surface", "@fig5-cubic-surface.png", "--fit", "@fig5-cubic-fit.png"],
        explanation: "Fitting an empirical formula: the model is still linear in its parameters, so the \
            loss is still one bowl, and because x^3 is odd and x^2 even on [-1, 1] the bowl is nearly \
            round (condition number 1.4). But it is shallow (curvature 0.3 to 0.4), so each step of \
            learning rate 0.1 removes only 3 to 4% of the remaining error: the paths run almost straight \
            and only just arrive after 400 steps.",
        numbers: false,
    },
    Stop {
        heading: "5c. Gradient descent on y = sin(b*cos(a*x))",
        args: &["descend", "--generate", "sin(b*cos(a*x))", "--true", "a=1.2,b=2.5",
            "--model", "sin(b*cos(a*x))", "--params", "a,b",
            "--range", "a=-2:7", "--range", "b=-2:7", "--resolution", "150", "--levels", "12",
            "--optimizer", "gd:lr=0.1", "--steps", "400", "--start", "5,4", "--start", "5,1", "--start", "2,4.5",
            "-o", "@fig5-sin.png", "--surface", "@fig5-sin-surface.png", "--fit", "@fig5-sin-fit.png"],
        explanation: "A two-layer toy network: the landscape has many local minima, and where gradient \
            descent ends depends on where it starts. Only the start (2, 4.5) finds the true parameters; \
            the others settle in other valleys, and their fitted curves show how wrong a local minimum \
            can be.",
        numbers: false,
    },
    Stop {
        heading: "6. Six optimizers on the teaching example's ill-conditioned bowl",
        args: &["descend", "--range", "k=-1:3", "--range", "b=-2:5", "--resolution", "150",
            "--levels", "0.2,0.5,1,2,5,10,20,50",
            "--optimizer", "gd:lr=0.09", "--optimizer", "momentum:lr=0.02", "--optimizer", "nesterov:lr=0.02",
            "--optimizer", "adagrad:lr=0.5", "--optimizer", "rmsprop:lr=0.02", "--optimizer", "adam:lr=0.1",
            "--start", "2.5,-1.5", "--steps", "200", "--title", "six optimizers from (2.5, -1.5)",
            "-o", "@optimizers.png", "-o", "@optimizers.svg", "--loss-curve", "@optimizers-loss.png",
            "--gif", "@optimizers.gif"],
        explanation: "The same start, six update rules with torch's defaults and hand-picked learning \
            rates. Gradient descent zig-zags across the narrow valley, momentum overshoots and swings \
            back, and the adaptive methods (AdaGrad, RMSProp, Adam) rescale each coordinate, which is why \
            they head for the valley floor first; the animation shows them moving together.",
        numbers: false,
    },
    Stop {
        heading: "7. The largest stable learning rate",
        args: &["descend", "--range", "k=-1:3", "--range", "b=-2:5", "--resolution", "150",
            "--levels", "0.2,0.5,1,2,5,10,20,50", "--optimizer", "gd:lr=0.098", "--optimizer", "gd:lr=0.104",
            "--start", "2.5,-1.5", "--steps", "250", "--title", "gradient descent just below and just above 2 / lambda_max",
            "-o", "@stability.png", "--loss-curve", "@stability-loss.png"],
        explanation: "lossatlas analyze predicts that plain gradient descent on the raw teaching-example data is stable \
            only for learning rates below 2 / lambda_max = 0.1013. At 0.098 the path zig-zags but settles; \
            at 0.104 each zig-zag is 5% longer than the last (|1 - 0.104 * 19.74| = 1.053), the loss grows \
            without bound and the run is stopped as diverged, exactly as predicted.",
        numbers: false,
    },
    Stop {
        heading: "8. Critical points of y = sin(b*cos(a*x))",
        args: &["contour", "--generate", "sin(b*cos(a*x))", "--true", "a=1.2,b=2.5",
            "--model", "sin(b*cos(a*x))", "--params", "a,b", "--range", "a=-2:4", "--range", "b=-1:5",
            "--resolution", "150", "--levels", "12", "--analysis", "-o", "@critical.png", "-o", "@critical.svg"],
        explanation: "Every point where the gradient vanishes, found on the grid, refined by Newton's \
            method and classified by the signs of the Hessian's eigenvalues: minima, saddles and maxima. \
            The landscape is symmetric in a (cos is even), so every minimum has a twin at -a.",
        numbers: false,
    },
    Stop {
        heading: "9. Basins of attraction",
        args: &["basins", "--generate", "sin(b*cos(a*x))", "--true", "a=1.2,b=2.5",
            "--model", "sin(b*cos(a*x))", "--params", "a,b", "--range", "a=-2:4", "--range", "b=-1:5",
            "--resolution", "120", "--starts", "40", "--optimizer", "gd:lr=0.1", "--steps", "2000",
            "-o", "@basins.png", "-o", "@basins.svg", "--json", "@basins.json"],
        explanation: "Gradient descent started from each of 1,600 points, each coloured by the minimum it \
            reaches. The borders between colours run along the ridges and through the saddles of figure 8: \
            which answer you get is decided by where you start.",
        numbers: false,
    },
    Stop {
        heading: "10. A real network: a 2-64-64-2 tanh MLP trained on two moons",
        args: &["net", "train", "--dataset", "moons", "--points", "1000", "--layers", "2,64,64,2",
            "--activation", "tanh", "--optimizer", "adam:lr=0.01", "--epochs", "100", "--batch-size", "64",
            "--save-initial", "@moons-init.safetensors", "--record-path", "@moons-path.npy",
            "--record-every", "10", "-o", "@moons.safetensors"],
        explanation: "From here on the model is a neural network with 4,482 weights, trained by lossatlas \
            with Adam on 800 of 1,000 two-moons points (200 held out) in mini-batches of 64. The weights \
            are saved as safetensors with PyTorch's state_dict names, so a network trained in PyTorch \
            loads the same way, and every 10th step of the path is recorded for the PCA picture below.",
        numbers: false,
    },
    Stop {
        heading: "10b. Its loss on a plane through the trained weights (Li et al. 2018)",
        args: &["net", "plane", "--weights", "@moons.safetensors", "--activation", "tanh",
            "--dataset", "moons", "--points", "1000", "--seed", "1", "--resolution", "51",
            "-o", "@moons-plane.png", "--surface", "@moons-plane-surface.png",
            "--save-directions", "@moons-d1.safetensors,@moons-d2.safetensors"],
        explanation: "Two random directions, each neuron's incoming weights scaled to the norm of the \
            same neuron's trained weights (filter normalization), so that one unit along either axis \
            changes every neuron by as much as it holds. The trained network sits at the centre, in a \
            valley whose shape a single number such as the loss could not show; the directions are \
            saved, so the picture can be recomputed exactly.",
        numbers: false,
    },
    Stop {
        heading: "10c. The straight line from the initial to the trained weights",
        args: &["net", "line", "--weights", "@moons.safetensors", "--from", "@moons-init.safetensors",
            "--activation", "tanh", "--dataset", "moons", "--points", "1000",
            "-o", "@moons-line.png", "--export", "@moons-line.csv"],
        explanation: "The loss and accuracy on the training and the held-out points along \
            (1 - alpha) * initial + alpha * trained (Goodfellow et al. 2015). The loss falls almost \
            monotonically from the random start to the trained network, and keeps falling a little past \
            alpha = 1, where training stopped.",
        numbers: false,
    },
    Stop {
        heading: "10d. The training path in its PCA plane, and how far it leaves it",
        args: &["net", "pca", "--weights", "@moons.safetensors", "--path", "@moons-path.npy",
            "--activation", "tanh", "--dataset", "moons", "--points", "1000",
            "-o", "@moons-pca.png", "--off-plane", "@moons-off-plane.png"],
        explanation: "The plane of the path's first two principal directions through the trained weights: \
            the first alone holds most of the path's variance. A projected path can mislead, so the \
            second chart shows what other tools hide: each recorded point's distance from the plane, and \
            its true loss beside the loss the map shows at its projection. Early on, far from the \
            plane, the two differ, and the spikes of the true loss are mini-batch steps that the \
            smooth map cannot show.",
        numbers: false,
    },
    Stop {
        heading: "10e. Sharp or flat: the Hessian's largest eigenvalues and its spectrum",
        args: &["net", "hessian", "--weights", "@moons.safetensors", "--activation", "tanh",
            "--dataset", "moons", "--points", "1000", "--top", "3",
            "-o", "@moons-hessian.json", "--density", "@moons-density.png"],
        explanation: "The curvature at the trained weights from exact Hessian-vector products: the top \
            eigenvalues by Lanczos, the trace by Hutchinson's estimator, and the eigenvalue density by \
            stochastic Lanczos quadrature, on a log axis as PyHessian draws it. Almost all of the 4,482 \
            eigenvalues sit at zero (a flat valley in most directions) and a few stand out; the largest, \
            about 0.34, says that plain gradient descent would stay stable here up to a learning rate \
            of 2 / lambda_max, about 6, while the network was trained with Adam at 0.01.",
        numbers: false,
    },
    Stop {
        heading: "10f. The plane of the two sharpest directions",
        args: &["net", "plane", "--weights", "@moons.safetensors", "--activation", "tanh",
            "--dataset", "moons", "--points", "1000", "--directions", "hessian",
            "-o", "@moons-hessian-plane.png"],
        explanation: "The same network sliced along its top two Hessian eigenvectors (unit length) \
            instead of random filter-normalized directions: the loss rises fastest along these two, so \
            the valley looks as narrow here as it ever can. Set beside 10b, it shows how much the choice \
            of plane decides what a landscape picture shows.",
        numbers: false,
    },
    Stop {
        heading: "11. Explore it yourself: the interactive page",
        args: &["page", "-o", "@landscape.html"],
        explanation: "One self-contained page (no network needed): turn the surface with the mouse, hover \
            over either view to read the loss, switch iso-lines, bands and each path on and off. Run \
            `lossatlas serve` for the same page live, where a click starts the optimizers at that point, \
            sliders change the learning rate and momentum, and menus switch between the cases.",
        numbers: false,
    },
];

pub fn run(args: &TourArgs) -> Result<()> {
    let dir = &args.out;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create the folder `{}`", dir.display()))?;
    for stop in STOPS.iter().filter(|s| !s.numbers) {
        let mut argv: Vec<String> = vec!["lossatlas".into()];
        // The tour's files take their names together at the end (all or none), so a stop that
        // reads what an earlier one wrote (the trained network) reads it where it is staged.
        let file = |name: &str| {
            let path = dir.join(name);
            crate::output::staged(&path).unwrap_or(path).display().to_string()
        };
        argv.extend(stop.args.iter().map(|a| resolve_files(a, file)));
        let cli = Cli::try_parse_from(&argv).with_context(|| format!("tour: {}", stop.heading))?;
        super::run(cli).with_context(|| format!("tour: {}", stop.heading))?;
    }
    let index = dir.join("index.html");
    write_atomic(&index, index_html(&numbers_table()?).as_bytes())?;
    // Later stops read files earlier ones wrote: count each file once.
    let count = STOPS.iter().flat_map(Stop::files).collect::<std::collections::BTreeSet<_>>().len();
    say!("wrote the tour ({count} files and index.html) to {}", dir.display())?;
    say!("open {}", absolute(&index).display())?;
    Ok(())
}

/// The transform comparison of the `numbers` stop, as an HTML table, computed by the same code as
/// `lossatlas analyze --transforms`.
fn numbers_table() -> Result<String> {
    let stop = STOPS.iter().find(|s| s.numbers).context("the tour has a numbers stop")?;
    let argv = std::iter::once("lossatlas").chain(stop.args.iter().copied());
    let Some(crate::args::Command::Analyze(args)) = Cli::try_parse_from(argv)?.command else {
        anyhow::bail!("the numbers stop must run `analyze`");
    };
    let problem = crate::problem::Problem::from_args(&args.problem)?;
    let rows = super::analyze::transform_rows(&problem, &args)?;
    let cell = |v: Option<f64>, digits: usize| match v {
        Some(x) => format!("{x:.digits$}"),
        None => "-".into(),
    };
    let mut html = String::from(
        "<table>\n<tr><th>inputs</th><th>condition number</th><th>stable learning rate below</th>\
         <th>gradient descent steps</th><th>momentum steps</th></tr>\n",
    );
    for row in &rows {
        let description = html_escape(row.description);
        match &row.statement {
            Some(statement) => html.push_str(&format!(
                "<tr><td>{description}</td><td colspan=\"4\">{}</td></tr>\n",
                html_escape(statement)
            )),
            None => html.push_str(&format!(
                "<tr><td>{description}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                cell(row.condition_number, 2),
                cell(row.max_stable_learning_rate, 4),
                cell(row.gd_steps, 0),
                cell(row.momentum_steps, 0),
            )),
        }
    }
    html.push_str("</table>\n");
    Ok(html)
}

fn absolute(path: &Path) -> std::path::PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn shell_quote(arg: &str) -> String {
    if arg.chars().all(|c| c.is_ascii_alphanumeric() || "-_=.:,/".contains(c)) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn index_html(numbers: &str) -> String {
    let mut body = String::new();
    for stop in STOPS {
        let command: Vec<String> =
            stop.args.iter().map(|a| shell_quote(&resolve_files(a, str::to_string))).collect();
        let files: Vec<&str> = stop.files().collect();
        let mut pictures = String::new();
        for png in files.iter().filter(|f| f.ends_with(".png") || f.ends_with(".gif")) {
            let svg = png.replace(".png", ".svg");
            let img = format!(r#"<img src="{png}" alt="{}">"#, html_escape(stop.heading));
            if files.contains(&svg.as_str()) {
                pictures.push_str(&format!(r#"<a href="{svg}">{img}</a>"#));
            } else {
                pictures.push_str(&img);
            }
            pictures.push('\n');
        }
        for other in files.iter().filter(|f| [".png", ".svg", ".gif"].iter().all(|e| !f.ends_with(e))) {
            pictures.push_str(&format!(r#"<p><a href="{other}">{other}</a></p>"#));
            pictures.push('\n');
        }
        body.push_str(&format!(
            r#"<section>
<h2>{heading}</h2>
{pictures}{table}<p>{text}</p>
<pre>lossatlas {command}</pre>
</section>
"#,
            heading = html_escape(stop.heading),
            table = if stop.numbers { numbers } else { "" },
            text = html_escape(&stop.explanation.split_whitespace().collect::<Vec<_>>().join(" ")),
            command = html_escape(&command.join(" ")),
        ));
    }
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lossatlas tour</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; line-height: 1.5; }}
img {{ max-width: 100%; border: 1px solid #ddd; }}
table {{ border-collapse: collapse; margin: 1rem 0; }}
td, th {{ border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: right; }}
td:first-child, th:first-child {{ text-align: left; }}
pre {{ background: #f4f4f4; padding: 0.6rem; overflow-x: auto; font-size: 0.85rem; }}
section {{ margin-bottom: 3rem; }}
</style>
</head>
<body>
<h1>lossatlas tour</h1>
<p>The figures of the teaching note "understanding the loss function through contour lines", drawn
correctly: one neuron y = k*x + b fitted to six points (x = 0..5, y = 1.1, 2.2, 3.8, 4.1, 4.9, 5.2) with
mean squared error. Click a picture for its SVG; the command under it redraws it.</p>
{body}</body>
</html>
"#
    )
}
