//! Data for networks: many features per sample, and class labels or regression targets.
//!
//! The generators follow scikit-learn's `make_moons`, `make_circles` and `make_blobs` (same shapes,
//! labels and noise model; the numbers come from a seeded ChaCha8 generator, so they are the same
//! on every machine but not scikit-learn's).

use std::f64::consts::PI;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Uniform};

use std::path::Path;

use crate::data::{display_name, read_data_file, read_table};
use crate::error::{Error, Result};

/// What the target column of a CSV file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// Class labels 0..n_classes (for cross-entropy).
    Classes {
        /// How many classes (the network's output width).
        n_classes: usize,
    },
    /// One number per row (for mse).
    Values,
}

/// What a network is asked to predict for each sample.
#[derive(Debug, Clone, PartialEq)]
pub enum Targets {
    /// One class label per sample, each below `n_classes` (for cross-entropy).
    Classes {
        /// The labels.
        labels: Vec<u32>,
        /// How many classes there are (the network's output width).
        n_classes: usize,
    },
    /// `width` numbers per sample, row-major (for mse).
    Values {
        /// The values, n x width.
        values: Vec<f64>,
        /// Outputs per sample.
        width: usize,
    },
}

/// A data set for a network: `features` is n x d row-major, with one target per row.
#[derive(Debug, Clone, PartialEq)]
pub struct Samples {
    name: String,
    features: Vec<f64>,
    n_features: usize,
    /// One sample's shape (`[n_features]`, or e.g. `[1, 28, 28]` for images from an array file).
    sample_shape: Vec<usize>,
    targets: Targets,
}

impl Samples {
    /// Checks the shapes and values: `features.len()` a multiple of `n_features`, one target per
    /// row, labels below `n_classes`, everything finite, at least one row.
    pub fn new(
        name: impl Into<String>,
        features: Vec<f64>,
        n_features: usize,
        targets: Targets,
    ) -> Result<Samples> {
        let name = name.into();
        if n_features == 0 || features.is_empty() || !features.len().is_multiple_of(n_features) {
            return Err(Error::Invalid(format!(
                "data `{name}`: {} feature values do not make whole rows of {n_features}; it needs at least one row",
                features.len()
            )));
        }
        let n = features.len() / n_features;
        if let Some(k) = features.iter().position(|v| !v.is_finite()) {
            return Err(Error::Invalid(format!(
                "data `{name}`: feature {} of row {} is {}; remove or fill non-finite values",
                k % n_features,
                k / n_features,
                features[k]
            )));
        }
        match &targets {
            Targets::Classes { labels, n_classes } => {
                if labels.len() != n {
                    return Err(Error::Invalid(format!(
                        "data `{name}`: {} labels for {n} rows",
                        labels.len()
                    )));
                }
                if let Some(row) = labels.iter().position(|&l| l as usize >= *n_classes) {
                    return Err(Error::Invalid(format!(
                        "data `{name}`: label {} in row {row} is out of range for {n_classes} classes; \
                         labels must be 0..{} (the network's output width)",
                        labels[row],
                        n_classes.saturating_sub(1)
                    )));
                }
            }
            Targets::Values { values, width } => {
                if *width == 0 || values.len() != n * width {
                    return Err(Error::Invalid(format!(
                        "data `{name}`: {} target values for {n} rows of width {width}",
                        values.len()
                    )));
                }
                if let Some(k) = values.iter().position(|v| !v.is_finite()) {
                    return Err(Error::Invalid(format!(
                        "data `{name}`: target {} of row {} is {}; remove or fill non-finite values",
                        k % width,
                        k / width,
                        values[k]
                    )));
                }
            }
        }
        Ok(Samples { name, features, n_features, sample_shape: vec![n_features], targets })
    }

    /// Reads a network's data from a CSV file with a header row (or standard input for `-`):
    /// `inputs` names the feature columns (default: every column but the target), `target` the
    /// label or target column (default: the last column). See [`Samples::parse_csv`].
    pub fn load_csv(
        path: &Path,
        inputs: Option<&[String]>,
        target: Option<&str>,
        kind: TargetKind,
    ) -> Result<Samples> {
        let text = read_data_file(path)?;
        Samples::parse_csv(&display_name(path), &text, inputs, target, kind)
    }

    /// Parses CSV text (see [`Samples::load_csv`]). For [`TargetKind::Classes`] every target must
    /// be a whole number from 0 to `n_classes - 1` (the network's output width); the first that is
    /// not is named with its line. `name` is used in messages.
    pub fn parse_csv(
        name: &str,
        text: &[u8],
        inputs: Option<&[String]>,
        target: Option<&str>,
        kind: TargetKind,
    ) -> Result<Samples> {
        let table = read_table(name, text, |headers| {
            let target_index = match target {
                Some(t) => headers.find(t, "target")?,
                None if headers.names.len() >= 2 => headers.names.len() - 1,
                None => {
                    return Err(headers.error(format!(
                        "has {} column(s); a network's data needs feature columns and a label column",
                        headers.names.len()
                    )))
                }
            };
            let input_index = match inputs {
                Some(names) => names.iter().map(|n| headers.find(n, "feature")).collect::<Result<_>>()?,
                None => (0..headers.names.len()).filter(|&i| i != target_index).collect(),
            };
            Ok((input_index, target_index))
        })?;
        let n = table.y.len();
        let d = table.inputs.len();
        let mut features = Vec::with_capacity(n * d);
        for row in 0..n {
            features.extend(table.inputs.iter().map(|column| column[row]));
        }
        let targets = match kind {
            TargetKind::Values => Targets::Values { values: table.y, width: 1 },
            TargetKind::Classes { n_classes } => {
                let label = |(row, &v): (usize, &f64)| {
                    if v >= 0.0 && v.fract() == 0.0 && v < n_classes as f64 {
                        Ok(v as u32)
                    } else {
                        Err(Error::Invalid(format!(
                            "data `{name}`: line {}: label {v} is not a class of a network with {n_classes} outputs; \
                             labels must be whole numbers 0 to {}",
                            row + 2,
                            n_classes.saturating_sub(1)
                        )))
                    }
                };
                let labels = table.y.iter().enumerate().map(label).collect::<Result<Vec<u32>>>()?;
                Targets::Classes { labels, n_classes }
            }
        };
        Samples::new(name, features, d, targets)
    }

    /// Reads a network's data from numpy arrays: an `.npz` file holding the inputs under
    /// `inputs_key` (default `x`: shape (n, ...), any per-sample shape such as C x H x W) and the
    /// labels or targets under `target_key` (default `y`: integer labels of shape (n,), or
    /// values of shape (n,) or (n, width)).
    pub fn load_arrays(
        path: &Path,
        inputs_key: Option<&str>,
        target_key: Option<&str>,
        kind: TargetKind,
    ) -> Result<Samples> {
        let name = display_name(path);
        let arrays = crate::npy::read_arrays(path)?;
        let keys: Vec<&str> = arrays.iter().map(|(k, _)| k.as_str()).collect();
        let take = |key: &str, flag: &str| {
            arrays.iter().find(|(k, _)| k == key).map(|(_, a)| a).ok_or_else(|| {
                Error::Invalid(format!(
                    "data `{name}` has no array `{key}` (it has {}); name the arrays with {flag} KEY, or save them \
                     with np.savez(file, x=inputs, y=labels)",
                    keys.join(", ")
                ))
            })
        };
        let x = take(inputs_key.unwrap_or("x"), "--inputs")?;
        let y = take(target_key.unwrap_or("y"), "--target")?;
        let n = x.shape.first().copied().unwrap_or(0);
        if x.shape.len() < 2 || n == 0 {
            return Err(Error::Invalid(format!(
                "data `{name}`: the inputs have shape {:?}; they need a first axis of samples and at least one \
                 more, (n, features) or (n, C, H, W)",
                x.shape
            )));
        }
        if y.shape.first() != Some(&n) || y.shape.len() > 2 {
            return Err(Error::Invalid(format!(
                "data `{name}`: {n} inputs but targets of shape {:?}; give one label or row of targets per sample",
                y.shape
            )));
        }
        let targets = match kind {
            TargetKind::Classes { n_classes } => {
                let crate::npy::NpyValues::Int(labels) = &y.values else {
                    return Err(Error::Invalid(format!(
                        "data `{name}`: the labels are floats; save integer class labels (y.astype(np.int64)) \
                         or use --loss mse"
                    )));
                };
                if y.shape.len() != 1 {
                    return Err(Error::Invalid(format!(
                        "data `{name}`: labels of shape {:?}; give one class label per sample, shape ({n},)",
                        y.shape
                    )));
                }
                let labels = labels
                    .iter()
                    .enumerate()
                    .map(|(row, &l)| {
                        u32::try_from(l).map_err(|_| {
                            Error::Invalid(format!(
                                "data `{name}`: label {l} in row {row} is out of range for {n_classes} classes; \
                                 labels must be 0..{} (the network's output width)",
                                n_classes.saturating_sub(1)
                            ))
                        })
                    })
                    .collect::<Result<Vec<u32>>>()?;
                Targets::Classes { labels, n_classes }
            }
            TargetKind::Values => {
                Targets::Values { values: y.to_f64(), width: y.shape.get(1).copied().unwrap_or(1) }
            }
        };
        let sample_shape = x.shape[1..].to_vec();
        let n_features = sample_shape.iter().product();
        Samples::new(name, x.to_f64(), n_features, targets)?.with_sample_shape(sample_shape)
    }

    /// The same samples, each of shape `shape` (C x H x W, say) rather than a flat row; the
    /// shape's size must be the number of features.
    pub fn with_sample_shape(mut self, shape: Vec<usize>) -> Result<Samples> {
        if shape.iter().product::<usize>() != self.n_features {
            return Err(Error::Invalid(format!(
                "data `{}`: samples of shape {shape:?} would hold {} values, but each has {}",
                self.name,
                shape.iter().product::<usize>(),
                self.n_features
            )));
        }
        self.sample_shape = shape;
        Ok(self)
    }

    /// One sample's shape: `[n_features]` for rows of a table, the array's trailing axes for data
    /// from [`Samples::load_arrays`].
    pub fn sample_shape(&self) -> &[usize] {
        &self.sample_shape
    }

    /// Where the data came from, for messages and titles.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.features.len() / self.n_features
    }

    /// Always false: a data set has at least one row.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// Features per sample.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// The features, n x d row-major.
    pub fn features(&self) -> &[f64] {
        &self.features
    }

    /// The targets.
    pub fn targets(&self) -> &Targets {
        &self.targets
    }

    /// The rows `rows` (in that order) as a new data set.
    pub fn subset(&self, name: impl Into<String>, rows: &[usize]) -> Samples {
        let d = self.n_features;
        let features = rows.iter().flat_map(|&r| self.features[r * d..(r + 1) * d].iter().copied()).collect();
        let targets = match &self.targets {
            Targets::Classes { labels, n_classes } => {
                Targets::Classes { labels: rows.iter().map(|&r| labels[r]).collect(), n_classes: *n_classes }
            }
            Targets::Values { values, width } => Targets::Values {
                values: rows
                    .iter()
                    .flat_map(|&r| values[r * width..(r + 1) * width].iter().copied())
                    .collect(),
                width: *width,
            },
        };
        Samples {
            name: name.into(),
            features,
            n_features: d,
            sample_shape: self.sample_shape.clone(),
            targets,
        }
    }

    /// A seeded shuffle split into (train, test), `test_fraction` of the rows (rounded, at least one
    /// row on each side) going to test.
    pub fn split(&self, test_fraction: f64, seed: u64) -> Result<(Samples, Samples)> {
        let n = self.len();
        if !(test_fraction > 0.0 && test_fraction < 1.0) || n < 2 {
            return Err(Error::Invalid(format!(
                "test fraction {test_fraction} on {n} rows: it must be in (0, 1) and the data needs at least 2 rows"
            )));
        }
        let n_test = ((n as f64 * test_fraction).round() as usize).clamp(1, n - 1);
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        let (test, train) = order.split_at(n_test);
        Ok((
            self.subset(format!("{} (train)", self.name), train),
            self.subset(format!("{} (test)", self.name), test),
        ))
    }

    /// Two interleaving half circles (scikit-learn's `make_moons`): class 0 on (cos t, sin t), class 1
    /// on (1 - cos t, 1/2 - sin t), t evenly spaced in [0, pi], plus Gaussian noise of standard
    /// deviation `noise` on each coordinate. The first n/2 rows are class 0.
    pub fn moons(n: usize, noise: f64, seed: u64) -> Result<Samples> {
        check_generator("moons", n, 2, noise)?;
        let (n0, n1) = (n / 2, n - n / 2);
        let mut points = Vec::with_capacity(2 * n);
        let mut labels = Vec::with_capacity(n);
        for (class, count) in [(0u32, n0), (1, n1)] {
            for t in crate::data::linspace(0.0, PI, count) {
                let (x, y) = if class == 0 { (t.cos(), t.sin()) } else { (1.0 - t.cos(), 0.5 - t.sin()) };
                points.extend([x, y]);
                labels.push(class);
            }
        }
        let features = add_noise(points, noise, seed);
        Samples::new(format!("moons(n={n}, noise={noise}, seed={seed})"), features, 2, classes(labels, 2))
    }

    /// Two concentric circles (scikit-learn's `make_circles` with factor 0.5): class 0 on the unit
    /// circle, class 1 on the circle of radius 0.5, angles evenly spaced (endpoint excluded), plus
    /// Gaussian noise.
    pub fn circles(n: usize, noise: f64, seed: u64) -> Result<Samples> {
        check_generator("circles", n, 2, noise)?;
        let mut points = Vec::with_capacity(2 * n);
        let mut labels = Vec::with_capacity(n);
        for (class, count, radius) in [(0u32, n - n / 2, 1.0), (1, n / 2, 0.5)] {
            for k in 0..count {
                let t = 2.0 * PI * k as f64 / count as f64;
                points.extend([radius * t.cos(), radius * t.sin()]);
                labels.push(class);
            }
        }
        let features = add_noise(points, noise, seed);
        Samples::new(format!("circles(n={n}, noise={noise}, seed={seed})"), features, 2, classes(labels, 2))
    }

    /// `n_classes` interleaved spiral arms: arm k has radius r evenly spaced in [0, 1] and angle
    /// 2 pi k / n_classes + 3 pi r (one and a half turns), plus Gaussian noise on each coordinate.
    pub fn spirals(n: usize, n_classes: usize, noise: f64, seed: u64) -> Result<Samples> {
        check_generator("spirals", n, n_classes, noise)?;
        let mut points = Vec::with_capacity(2 * n);
        let mut labels = Vec::with_capacity(n);
        for class in 0..n_classes {
            let count = n / n_classes + usize::from(class < n % n_classes);
            for r in crate::data::linspace(0.0, 1.0, count) {
                let t = 2.0 * PI * class as f64 / n_classes as f64 + 3.0 * PI * r;
                points.extend([r * t.cos(), r * t.sin()]);
                labels.push(class as u32);
            }
        }
        let features = add_noise(points, noise, seed);
        Samples::new(
            format!("spirals(n={n}, classes={n_classes}, noise={noise}, seed={seed})"),
            features,
            2,
            classes(labels, n_classes),
        )
    }

    /// Gaussian blobs (scikit-learn's `make_blobs`): `n_classes` centres drawn uniformly in
    /// [-10, 10]^n_features, then each sample its class centre plus Gaussian noise of standard
    /// deviation `noise`. Classes take turns, so every class has n / n_classes samples (+1).
    pub fn blobs(n: usize, n_features: usize, n_classes: usize, noise: f64, seed: u64) -> Result<Samples> {
        check_generator("blobs", n, n_classes, noise)?;
        if n_features == 0 {
            return Err(Error::Invalid("blobs need at least 1 feature".into()));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let uniform = Uniform::new_inclusive(-10.0, 10.0);
        let centres: Vec<f64> = (0..n_classes * n_features).map(|_| uniform.sample(&mut rng)).collect();
        let labels: Vec<u32> = (0..n).map(|i| (i % n_classes) as u32).collect();
        let points = labels
            .iter()
            .flat_map(|&c| centres[c as usize * n_features..][..n_features].iter().copied())
            .collect();
        let features = add_noise(points, noise, seed.wrapping_add(1));
        Samples::new(
            format!("blobs(n={n}, features={n_features}, classes={n_classes}, noise={noise}, seed={seed})"),
            features,
            n_features,
            classes(labels, n_classes),
        )
    }
}

fn classes(labels: Vec<u32>, n_classes: usize) -> Targets {
    Targets::Classes { labels, n_classes }
}

fn check_generator(what: &str, n: usize, n_classes: usize, noise: f64) -> Result<()> {
    if n < n_classes.max(2) || n_classes < 2 {
        return Err(Error::Invalid(format!(
            "{what}: {n} samples in {n_classes} classes; it needs at least 2 classes and a sample per class"
        )));
    }
    if !(noise.is_finite() && noise >= 0.0) {
        return Err(Error::Invalid(format!("{what}: noise {noise} must be a finite number >= 0")));
    }
    Ok(())
}

fn add_noise(mut values: Vec<f64>, sigma: f64, seed: u64) -> Vec<f64> {
    if sigma > 0.0 {
        let normal = Normal::new(0.0, sigma).expect("sigma was checked to be finite and >= 0");
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for v in &mut values {
            *v += normal.sample(&mut rng);
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(s: &Samples) -> &[u32] {
        match s.targets() {
            Targets::Classes { labels, .. } => labels,
            Targets::Values { .. } => panic!("classes expected"),
        }
    }

    #[test]
    fn noiseless_moons_lie_on_their_half_circles() {
        let s = Samples::moons(10, 0.0, 0).unwrap();
        for (row, &label) in labels(&s).iter().enumerate() {
            let (x, y) = (s.features()[2 * row], s.features()[2 * row + 1]);
            let (cx, cy) = if label == 0 { (0.0, 0.0) } else { (1.0, 0.5) };
            assert!(((x - cx).hypot(y - cy) - 1.0).abs() < 1e-12);
            // Class 0 is the upper arc, class 1 the lower one.
            assert!(if label == 0 { y >= -1e-12 } else { y <= 0.5 + 1e-12 });
        }
        assert_eq!(labels(&s).iter().filter(|&&l| l == 1).count(), 5);
    }

    #[test]
    fn noiseless_circles_and_spirals_have_their_radii() {
        let c = Samples::circles(9, 0.0, 0).unwrap();
        for (row, &label) in labels(&c).iter().enumerate() {
            let r = c.features()[2 * row].hypot(c.features()[2 * row + 1]);
            assert!((r - if label == 0 { 1.0 } else { 0.5 }).abs() < 1e-12);
        }
        let s = Samples::spirals(30, 3, 0.0, 0).unwrap();
        assert_eq!(labels(&s).iter().filter(|&&l| l == 2).count(), 10);
        // The last point of each arm is at radius 1.
        assert!((s.features()[18].hypot(s.features()[19]) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn blobs_cluster_around_their_centres_with_the_given_spread() {
        let s = Samples::blobs(3000, 3, 3, 0.5, 7).unwrap();
        // Per class and feature, the sample standard deviation is close to 0.5.
        for class in 0..3u32 {
            let rows: Vec<usize> = (0..s.len()).filter(|&r| labels(&s)[r] == class).collect();
            assert_eq!(rows.len(), 1000);
            for f in 0..3 {
                let v: Vec<f64> = rows.iter().map(|&r| s.features()[3 * r + f]).collect();
                let mean = v.iter().sum::<f64>() / v.len() as f64;
                let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
                assert!((sd - 0.5).abs() < 0.05, "sd {sd}");
                assert!(mean.abs() <= 10.2);
            }
        }
    }

    #[test]
    fn generators_and_split_are_seeded() {
        assert_eq!(Samples::moons(50, 0.1, 3).unwrap(), Samples::moons(50, 0.1, 3).unwrap());
        assert_ne!(Samples::moons(50, 0.1, 3).unwrap(), Samples::moons(50, 0.1, 4).unwrap());
        let s = Samples::moons(50, 0.1, 3).unwrap();
        let (train, test) = s.split(0.2, 9).unwrap();
        assert_eq!((train.len(), test.len()), (40, 10));
        assert_eq!(s.split(0.2, 9).unwrap().1, test);
        // Every row lands on exactly one side.
        let mut all: Vec<(u64, u64)> = train
            .features()
            .chunks(2)
            .chain(test.features().chunks(2))
            .map(|p| (p[0].to_bits(), p[1].to_bits()))
            .collect();
        let mut original: Vec<(u64, u64)> =
            s.features().chunks(2).map(|p| (p[0].to_bits(), p[1].to_bits())).collect();
        all.sort_unstable();
        original.sort_unstable();
        assert_eq!(all, original);
    }

    #[test]
    fn bad_data_is_refused() {
        let e = Samples::new("d", vec![1.0, 2.0], 1, Targets::Classes { labels: vec![0, 3], n_classes: 3 })
            .unwrap_err()
            .to_string();
        assert!(e.contains("label 3 in row 1 is out of range for 3 classes"), "{e}");
        assert!(Samples::new("d", vec![1.0, 2.0, 3.0], 2, Targets::Values { values: vec![1.0], width: 1 })
            .is_err());
        assert!(
            Samples::new("d", vec![f64::NAN], 1, Targets::Values { values: vec![1.0], width: 1 }).is_err()
        );
        assert!(Samples::moons(1, 0.1, 0).is_err());
        assert!(Samples::moons(10, -1.0, 0).is_err());
    }

    #[test]
    fn csv_features_default_to_every_column_but_the_last_and_labels_are_checked() {
        let text = b"a,b,c,label\n1,2,3,0\n4,5,6,2\n7,8,9,1\n";
        let s = Samples::parse_csv("t.csv", text, None, None, TargetKind::Classes { n_classes: 3 }).unwrap();
        assert_eq!(s.n_features(), 3);
        assert_eq!(s.features(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
        assert_eq!(labels(&s), &[0, 2, 1]);
        // Chosen columns, in the order given, and a named target.
        let inputs = ["c".to_string(), "a".to_string()];
        let s = Samples::parse_csv("t.csv", text, Some(&inputs), Some("b"), TargetKind::Values).unwrap();
        assert_eq!(s.features(), &[3.0, 1.0, 6.0, 4.0, 9.0, 7.0]);
        assert_eq!(s.targets(), &Targets::Values { values: vec![2.0, 5.0, 8.0], width: 1 });
        // A label the network's two outputs cannot score, and one that is not whole.
        let e =
            Samples::parse_csv("t.csv", text, None, None, TargetKind::Classes { n_classes: 2 }).unwrap_err();
        assert!(e.to_string().contains("line 3: label 2"), "{e}");
        let half = b"x,label\n1,0\n2,0.5\n";
        let e =
            Samples::parse_csv("h.csv", half, None, None, TargetKind::Classes { n_classes: 2 }).unwrap_err();
        assert!(e.to_string().contains("line 3: label 0.5"), "{e}");
        let e = Samples::parse_csv("t.csv", text, None, Some("nope"), TargetKind::Values).unwrap_err();
        assert!(e.to_string().contains("no target column named `nope`"), "{e}");
    }
}
