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
    /// The command's arguments after `lossatlas`. Arguments starting with `@` are files in the tour
    /// folder; the page shows every `@*.png` among them (linking the `.svg` of the same name when
    /// the command writes one too).
    args: &'static [&'static str],
    /// What the figure shows, and what to notice (two sentences).
    explanation: &'static str,
}

impl Stop {
    /// The files the command writes, as named in the tour folder.
    fn files(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.args.iter().filter_map(|a| a.strip_prefix('@'))
    }
}

const STOPS: &[Stop] = &[
    Stop {
        heading: "1. Iso-loss contour lines of y = k*x + b",
        args: &[
            "contour",
            "--range",
            "k=0:2",
            "--range",
            "b=-2:4",
            "--resolution",
            "200",
            "--levels",
            "0.2,0.5,0.7,1,3,8,10,15,20",
            "--title",
            "Loss Func Contour Line",
            "-o",
            "@fig1-contours.png",
            "-o",
            "@fig1-contours.svg",
        ],
        explanation: "Each line joins the (k, b) pairs that fit the six points equally badly, and the \
            marked point is the best fit, k = 0.826, b = 1.486. The ellipses are long and thin because \
            the loss is about 33 times more sensitive along one direction than along the other, which \
            is what makes plain gradient descent zig-zag here.",
    },
    Stop {
        heading: "1b. The same landscape as filled bands",
        args: &[
            "contour",
            "--range",
            "k=0:2",
            "--range",
            "b=-2:4",
            "--resolution",
            "200",
            "--levels",
            "0.2,0.5,0.7,1,3,8,10,15,20",
            "--filled",
            "--log-color",
            "--title",
            "Loss Func Contour Line (filled, log colour)",
            "-o",
            "@fig1-filled.png",
            "-o",
            "@fig1-filled.svg",
        ],
        explanation: "Filling the space between levels shows at a glance where the loss is low; the \
            colour follows log(loss), because the loss spans two decades over this range. Read the \
            colour bar to see which band holds the minimum.",
    },
    Stop {
        heading: "2. Raw x, z-scored x and the note's mean/variance scaling",
        args: &[
            "compare",
            "--transform",
            "none,zscore,mean-var",
            "--layout",
            "column",
            "--range",
            "k=0:6",
            "--range",
            "b=-2:8",
            "--resolution",
            "200",
            "--levels",
            "0.2,0.5,0.7,0.8,1",
            "-o",
            "@fig2-standardize.png",
            "-o",
            "@fig2-standardize.svg",
        ],
        explanation: "The same data and levels, with x raw, z-scored ((x - mean) / std) and divided by \
            the variance as in the original note. With z-scored inputs the Hessian becomes 2*I and the \
            contours circles (condition number 1), so the gradient points straight at the minimum and \
            one learning rate suits both parameters; the note's upright ellipse comes from dividing by \
            the variance, not from standardizing.",
    },
    Stop {
        heading: "3. The loss surface of y = k*x + b",
        args: &[
            "surface",
            "--range",
            "k=-2:2",
            "--range",
            "b=-4:4",
            "--resolution",
            "100",
            "--title",
            "mse of y = k*x + b",
            "-o",
            "@fig3-surface-linear.png",
            "-o",
            "@fig3-surface-linear.svg",
        ],
        explanation: "For a linear neuron with squared error the loss is a quadratic bowl: one \
            minimum, no plateaus, so gradient descent from anywhere ends in the same place. The bowl is \
            steep along k and shallow along b, which is the long ellipse of figure 1 seen from the side.",
    },
    Stop {
        heading: "4. The loss surface of y = tanh(k*x + b)",
        args: &[
            "surface",
            "--activation",
            "tanh",
            "--range",
            "k=-2:2",
            "--range",
            "b=-4:4",
            "--resolution",
            "100",
            "--title",
            "mse of y = tanh(k*x + b)",
            "-o",
            "@fig4-surface-tanh.png",
            "-o",
            "@fig4-surface-tanh.svg",
        ],
        explanation: "A tanh output can never exceed 1, so it cannot reach targets between 1.1 and 5.2: \
            the surface flattens into plateaus where the neuron saturates. On a plateau the gradient is \
            nearly zero, which is why a saturated neuron learns so slowly.",
    },
];

pub fn run(args: &TourArgs) -> Result<()> {
    let dir = &args.out;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create the folder `{}`", dir.display()))?;
    for stop in STOPS {
        let mut argv: Vec<String> = vec!["lossatlas".into()];
        argv.extend(stop.args.iter().map(|a| match a.strip_prefix('@') {
            Some(file) => dir.join(file).display().to_string(),
            None => a.to_string(),
        }));
        let cli = Cli::try_parse_from(&argv).with_context(|| format!("tour: {}", stop.heading))?;
        super::run(cli).with_context(|| format!("tour: {}", stop.heading))?;
    }
    let index = dir.join("index.html");
    write_atomic(&index, index_html().as_bytes())?;
    let count: usize = STOPS.iter().map(|s| s.files().count()).sum();
    println!("wrote the tour ({count} files and index.html) to {}", dir.display());
    println!("open {}", absolute(&index).display());
    Ok(())
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

fn index_html() -> String {
    let mut body = String::new();
    for stop in STOPS {
        let command: Vec<String> = stop.args.iter().map(|a| shell_quote(a.trim_start_matches('@'))).collect();
        let files: Vec<&str> = stop.files().collect();
        let mut pictures = String::new();
        for png in files.iter().filter(|f| f.ends_with(".png")) {
            let svg = png.replace(".png", ".svg");
            let img = format!(r#"<img src="{png}" alt="{}">"#, html_escape(stop.heading));
            if files.contains(&svg.as_str()) {
                pictures.push_str(&format!(r#"<a href="{svg}">{img}</a>"#));
            } else {
                pictures.push_str(&img);
            }
            pictures.push('\n');
        }
        for other in files.iter().filter(|f| !f.ends_with(".png") && !f.ends_with(".svg")) {
            pictures.push_str(&format!(r#"<p><a href="{other}">{other}</a></p>"#));
            pictures.push('\n');
        }
        body.push_str(&format!(
            r#"<section>
<h2>{heading}</h2>
{pictures}<p>{text}</p>
<pre>lossatlas {command}</pre>
</section>
"#,
            heading = html_escape(stop.heading),
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
