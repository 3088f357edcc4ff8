//! `lossatlas net train`: an MLP trained with the optimizers of `descend`, saved as safetensors in
//! PyTorch's state_dict layout, its path optionally recorded to disk as it goes.

use anyhow::{bail, Context, Result};
use lossatlas::net::{tensors_bytes, Activation, EpochReport, Mlp, PathRecorder, TensorType, TrainOptions};
use lossatlas::OptimizerSpec;

use super::{head, load_data, Network};
use crate::args::NetTrainArgs;
use crate::output::{stage_stream, write_atomic};
use crate::progress;
use crate::settings;

pub fn run(args: &NetTrainArgs) -> Result<()> {
    settings::output_with_extension(&args.output, "safetensors", "-o")?;
    if let Some(initial) = &args.save_initial {
        settings::output_with_extension(initial, "safetensors", "--save-initial")?;
    }
    if let Some(path) = &args.record_path {
        settings::output_with_extension(path, "npy", "--record-path")?;
    }
    let widths = args
        .layers
        .split(',')
        .map(|w| w.trim().parse::<usize>().ok().filter(|&w| w > 0))
        .collect::<Option<Vec<usize>>>()
        .with_context(|| format!("--layers `{}` should be widths like 2,64,64,2", args.layers))?;
    let activation = Activation::parse(&args.activation)?;
    let mlp = Mlp::new(&widths, activation, head(&args.data)?)?;
    let optimizer = OptimizerSpec::parse(&args.optimizer)?;
    if !(1..=100_000).contains(&args.epochs) {
        bail!("--epochs {}: use 1 to 100000", args.epochs);
    }
    if args.record_every == 0 {
        bail!("--record-every 0: record every 1 or more steps");
    }
    let data = load_data(&args.data, mlp.outputs())?;
    let network = Network::Mlp(mlp.clone());
    let objective = network.objective(&data.train, &args.data.precision)?;
    let test = network.test_objective(&data, &args.data.precision)?;
    let options = TrainOptions {
        optimizer,
        epochs: args.epochs,
        batch_size: args.batch_size,
        seed: args.seed,
        record_every: args.record_every,
    };
    let mut weights = mlp.init_params(args.seed);
    if let Some(initial) = &args.save_initial {
        write_atomic(initial, &tensors_bytes(&mlp, &weights, TensorType::F32)?)?;
    }
    // The path grows in a staged file as training goes, and takes its name only if training ends
    // well, like every other output.
    let mut recorder = match &args.record_path {
        Some(path) => Some(PathRecorder::create(&stage_stream(path)?, mlp.n_params())?),
        None => None,
    };
    let report_every = (args.epochs / 10).max(1);
    let bar = progress::bar(args.epochs as u64, "epochs");
    let report = |r: &EpochReport| {
        bar.inc(1);
        if r.epoch.is_multiple_of(report_every) || r.epoch == args.epochs {
            let accuracy = |a: Option<f64>| a.map_or(String::new(), |a| format!("  accuracy {a:.3}"));
            let test = r
                .test
                .map_or(String::new(), |t| format!("   test loss {:.4}{}", t.loss, accuracy(t.accuracy)));
            bar.note(&format!(
                "epoch {:>5}  steps {:>7}  loss {:.4}{}{test}",
                r.epoch,
                r.steps,
                r.train.loss,
                accuracy(r.train.accuracy)
            ));
        }
    };
    let last = objective.train(&mut weights, &options, test.as_ref(), recorder.as_mut(), report)?;
    drop(bar);
    write_atomic(&args.output, &tensors_bytes(&mlp, &weights, TensorType::F32)?)?;
    if let (Some(path), Some(recorder)) = (&args.record_path, &recorder) {
        eprintln!("recorded {} snapshots of the weights in {}", recorder.len(), path.display());
    }
    if let Some(initial) = &args.save_initial {
        eprintln!("wrote the starting weights to {}", initial.display());
    }
    say!(
        "trained {} on {} ({} points): loss {:.4}{}; wrote {}",
        mlp.describe(),
        data.name,
        data.train.len(),
        last.train.loss,
        last.train.accuracy.map_or(String::new(), |a| format!(", accuracy {a:.3}")),
        args.output.display()
    )?;
    Ok(())
}
