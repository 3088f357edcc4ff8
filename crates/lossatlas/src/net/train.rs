//! Training a network with the crate's optimizers (the torch.optim update rules), full batch or
//! mini-batch, optionally recording the path to disk.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::objective::{Evaluation, NetObjective};
use super::path::PathRecorder;
use super::real::Real;
use crate::error::{Error, Result};
use crate::optim::OptimizerSpec;

/// How to train.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    /// The optimizer and its settings.
    pub optimizer: OptimizerSpec,
    /// Passes over the training data.
    pub epochs: usize,
    /// Samples per step; `None` for full-batch steps (one step per epoch).
    pub batch_size: Option<usize>,
    /// Seeds the ChaCha8 generator that shuffles the samples before each epoch's mini-batches.
    pub seed: u64,
    /// With a recorder: snapshot the weights every this many steps (the start and the end are
    /// always recorded).
    pub record_every: u64,
}

/// Where training stands after an epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochReport {
    /// The epoch just finished, from 1.
    pub epoch: usize,
    /// Optimizer steps taken so far.
    pub steps: u64,
    /// Loss and accuracy on the whole training data at the epoch's end weights.
    pub train: Evaluation,
    /// The same on the test data, when given.
    pub test: Option<Evaluation>,
}

/// Trains `params` in place on `objective`'s data and returns the last epoch's report. After each
/// epoch, `on_epoch` receives the loss and accuracy on all the training data (and on `test`).
/// The optimizers work on `f64` parameters; each evaluation computes in `T`.
pub fn train<T: Real>(
    objective: &NetObjective<T>,
    params: &mut [f64],
    options: &TrainOptions,
    test: Option<&NetObjective<T>>,
    mut recorder: Option<&mut PathRecorder>,
    mut on_epoch: impl FnMut(&EpochReport),
) -> Result<EpochReport> {
    let mlp = objective.mlp();
    mlp.check_params("the starting weights", params)?;
    if options.epochs == 0 {
        return Err(Error::Invalid("training needs at least 1 epoch".into()));
    }
    if options.batch_size == Some(0) || options.record_every == 0 {
        return Err(Error::Invalid("the batch size and the recording interval must be at least 1".into()));
    }
    let n = objective.len();
    let batch = options.batch_size.unwrap_or(n).min(n);
    let mut optimizer = options.optimizer.build(params.len());
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut order: Vec<usize> = (0..n).collect();
    let mut grad = vec![0.0; params.len()];
    let mut steps = 0u64;
    let mut last_recorded = None;
    if let Some(r) = recorder.as_deref_mut() {
        r.record(0, params)?;
        last_recorded = Some(0);
    }
    let mut report = None;
    for epoch in 1..=options.epochs {
        if batch < n {
            order.shuffle(&mut rng);
        }
        for rows in order.chunks(batch) {
            let e = if batch < n {
                objective.batch_gradient(params, rows, &mut grad)?
            } else {
                objective.gradient(params, &mut grad)?
            };
            if !e.loss.is_finite() || grad.iter().any(|g| !g.is_finite()) {
                return Err(Error::Invalid(format!(
                    "training diverged at epoch {epoch}, step {} (the loss is {}); lower the learning rate",
                    steps + 1,
                    e.loss
                )));
            }
            optimizer.step(params, &grad);
            steps += 1;
            if let Some(r) = recorder.as_deref_mut() {
                if steps.is_multiple_of(options.record_every) {
                    r.record(steps, params)?;
                    last_recorded = Some(steps);
                }
            }
        }
        let epoch_report = EpochReport {
            epoch,
            steps,
            train: objective.evaluate(params)?,
            test: test.map(|t| t.evaluate(params)).transpose()?,
        };
        on_epoch(&epoch_report);
        report = Some(epoch_report);
    }
    if let Some(r) = recorder {
        if last_recorded != Some(steps) {
            r.record(steps, params)?;
        }
    }
    Ok(report.expect("at least one epoch ran"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Activation, Head, Mlp, PathFile, Samples};

    #[test]
    fn one_full_batch_gd_step_is_the_update_rule() {
        let data = Samples::moons(50, 0.1, 0).unwrap();
        let mlp = Mlp::new(&[2, 4, 2], Activation::Tanh, Head::CrossEntropy).unwrap();
        let objective = NetObjective::<f64>::new(&mlp, &data).unwrap();
        let start = mlp.init_params(0);
        let mut grad = vec![0.0; mlp.n_params()];
        objective.gradient(&start, &mut grad).unwrap();
        let mut params = start.clone();
        let options = TrainOptions {
            optimizer: OptimizerSpec::parse("gd:lr=0.5").unwrap(),
            epochs: 1,
            batch_size: None,
            seed: 0,
            record_every: 1,
        };
        train(&objective, &mut params, &options, None, None, |_| {}).unwrap();
        for ((p, s), g) in params.iter().zip(&start).zip(&grad) {
            assert!((p - (s - 0.5 * g)).abs() < 1e-15);
        }
    }

    #[test]
    fn adam_mini_batches_learn_the_moons_and_record_the_path() {
        let (train_set, test_set) = Samples::moons(400, 0.1, 1).unwrap().split(0.25, 2).unwrap();
        let mlp = Mlp::new(&[2, 16, 16, 2], Activation::Tanh, Head::CrossEntropy).unwrap();
        let objective = NetObjective::<f32>::new(&mlp, &train_set).unwrap();
        let test = NetObjective::<f32>::new(&mlp, &test_set).unwrap();
        let mut params = mlp.init_params(3);
        let file = std::env::temp_dir().join(format!("lossatlas-train-{}.npy", std::process::id()));
        let mut recorder = PathRecorder::create(&file, mlp.n_params()).unwrap();
        let options = TrainOptions {
            optimizer: OptimizerSpec::parse("adam:lr=0.01").unwrap(),
            epochs: 60,
            batch_size: Some(32),
            seed: 4,
            record_every: 25,
        };
        let mut reports = Vec::new();
        let last =
            train(&objective, &mut params, &options, Some(&test), Some(&mut recorder), |r| reports.push(*r))
                .unwrap();
        assert_eq!(reports.len(), 60);
        // 300 training samples in batches of 32: 10 steps per epoch.
        assert_eq!(last.steps, 600);
        assert!(reports[0].train.loss > last.train.loss);
        assert!(last.train.accuracy.unwrap() > 0.97, "{last:?}");
        assert!(last.test.unwrap().accuracy.unwrap() > 0.95, "{last:?}");
        let path = PathFile::open(&file).unwrap();
        let steps: Vec<u64> = (0..=24).map(|k| 25 * k).collect();
        assert_eq!(path.steps().unwrap(), steps);
        let mut final_row = Vec::new();
        path.for_each(|i, _, w| {
            if i == 24 {
                final_row = w.to_vec();
            }
        })
        .unwrap();
        assert_eq!(final_row, params);
        // The same seed gives the same run.
        let mut again = mlp.init_params(3);
        let repeat = train(&objective, &mut again, &options, None, None, |_| {}).unwrap();
        assert_eq!(again, params);
        assert_eq!(repeat.train, last.train);
        std::fs::remove_file(&file).unwrap();
    }
}
