//! Data sets: the built-in `seed` data, CSV files and seeded synthetic data.

use std::path::Path;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use crate::error::{Error, Result};

/// Paired samples (x_i, y_i) that a model is fitted to.
///
/// A data set always has at least two rows and only finite numbers: the constructors check both, so
/// everything downstream can rely on it.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    x: Vec<f64>,
    y: Vec<f64>,
    name: String,
}

impl Dataset {
    /// Builds a data set from two equally long columns of finite numbers; `name` says where it came
    /// from in messages and titles.
    pub fn new(name: impl Into<String>, x: Vec<f64>, y: Vec<f64>) -> Result<Dataset> {
        let name = name.into();
        if x.len() != y.len() {
            return Err(Error::Invalid(format!(
                "data `{name}` has {} x values but {} y values; give both columns the same length",
                x.len(),
                y.len()
            )));
        }
        if x.len() < 2 {
            return Err(Error::TooFewRows { what: name, rows: x.len() });
        }
        if let Some(i) = x.iter().chain(&y).position(|v| !v.is_finite()) {
            let (col, row) = if i < x.len() { ("x", i) } else { ("y", i - x.len()) };
            return Err(Error::Invalid(format!(
                "data `{name}` has a non-finite {col} value at row {}; remove or fix it",
                row + 1
            )));
        }
        Ok(Dataset { x, y, name })
    }

    /// The six points of the teaching note that every seed figure uses:
    /// x = 0..5, y = [1.1, 2.2, 3.8, 4.1, 4.9, 5.2].
    pub fn seed() -> Dataset {
        Dataset {
            x: vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
            y: vec![1.1, 2.2, 3.8, 4.1, 4.9, 5.2],
            name: "seed".into(),
        }
    }

    /// Samples y = f(x) + N(0, sigma^2) on `n` points of linspace(x_min, x_max, n), with noise from a
    /// ChaCha8 generator seeded with `seed`, so the same arguments give the same data on every machine.
    ///
    /// Figure 5 of the seed uses `n = 200`, x in [-1, 1], sigma = 0.1.
    pub fn generate(
        name: impl Into<String>,
        f: impl Fn(f64) -> f64,
        n: usize,
        x_range: (f64, f64),
        sigma: f64,
        seed: u64,
    ) -> Result<Dataset> {
        if !(sigma.is_finite() && sigma >= 0.0) {
            return Err(Error::Invalid(format!("noise sigma {sigma} must be a finite number >= 0")));
        }
        if !(x_range.0.is_finite() && x_range.1.is_finite() && x_range.0 < x_range.1) {
            return Err(Error::Invalid(format!(
                "generated x range {}:{} needs finite ends with min < max",
                x_range.0, x_range.1
            )));
        }
        let normal = Normal::new(0.0, sigma).expect("sigma was checked to be finite and >= 0");
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x = linspace(x_range.0, x_range.1, n);
        let y = x.iter().map(|&xi| f(xi) + normal.sample(&mut rng)).collect();
        Dataset::new(name, x, y)
    }

    /// Reads two columns of a CSV file with a header row. `x_column` and `y_column` name the
    /// columns; `None` takes the first and the second column.
    pub fn load_csv(path: &Path, x_column: Option<&str>, y_column: Option<&str>) -> Result<Dataset> {
        let text =
            std::fs::read(path).map_err(|source| Error::Io { path: path.display().to_string(), source })?;
        Dataset::parse_csv(&path.display().to_string(), &text, x_column, y_column)
    }

    /// Parses CSV text (see [`Dataset::load_csv`]); `name` is used in messages.
    pub fn parse_csv(
        name: &str,
        text: &[u8],
        x_column: Option<&str>,
        y_column: Option<&str>,
    ) -> Result<Dataset> {
        let csv_error = |message: String| Error::Csv { path: name.to_string(), message };
        let mut reader = csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).from_reader(text);
        let headers =
            reader.headers().map_err(|e| csv_error(format!("cannot read the header row: {e}")))?.clone();
        if headers.iter().all(str::is_empty) {
            return Err(csv_error(
                "the file is empty; it needs a header row and at least 2 data rows".into(),
            ));
        }
        let column_index = |wanted: Option<&str>, default: usize| -> Result<usize> {
            match wanted {
                Some(col) => headers.iter().position(|h| h == col).ok_or_else(|| {
                    let known: Vec<&str> = headers.iter().collect();
                    csv_error(format!("no column named `{col}`; the columns are {}", known.join(", ")))
                }),
                None if default < headers.len() => Ok(default),
                None => {
                    Err(csv_error(format!("has {} column(s); it needs at least 2 (x and y)", headers.len())))
                }
            }
        };
        let xi = column_index(x_column, 0)?;
        let yi = column_index(y_column, 1)?;
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for (row, record) in reader.records().enumerate() {
            // Line numbers count the header as line 1, as an editor shows them.
            let line = row + 2;
            let record = record.map_err(|e| csv_error(format!("line {line}: {e}")))?;
            for (col, out) in [(xi, &mut x), (yi, &mut y)] {
                let column = &headers[col];
                let cell = record.get(col).unwrap_or("");
                if cell.is_empty() {
                    return Err(csv_error(format!("line {line}, column `{column}`: the cell is empty")));
                }
                let value: f64 = cell.parse().map_err(|_| {
                    csv_error(format!("line {line}, column `{column}`: `{cell}` is not a number"))
                })?;
                if !value.is_finite() {
                    return Err(csv_error(format!(
                        "line {line}, column `{column}`: `{cell}` is not a finite number"
                    )));
                }
                out.push(value);
            }
        }
        if x.len() < 2 {
            return Err(Error::TooFewRows { what: name.to_string(), rows: x.len() });
        }
        Dataset::new(name, x, y)
    }

    /// The inputs.
    pub fn x(&self) -> &[f64] {
        &self.x
    }

    /// The targets.
    pub fn y(&self) -> &[f64] {
        &self.y
    }

    /// Where the data came from (`seed`, a file name, `generated ...`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The number of samples.
    pub fn len(&self) -> usize {
        self.x.len()
    }

    /// Always false: a data set has at least two rows.
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// The same targets with new inputs (used by transforms), keeping the checks.
    pub fn with_x(&self, x: Vec<f64>, name: impl Into<String>) -> Result<Dataset> {
        Dataset::new(name, x, self.y.clone())
    }

    /// The rows at `indices`, in that order (a mini-batch).
    pub fn select(&self, indices: &[usize]) -> Dataset {
        Dataset {
            x: indices.iter().map(|&i| self.x[i]).collect(),
            y: indices.iter().map(|&i| self.y[i]).collect(),
            name: self.name.clone(),
        }
    }
}

/// `n` evenly spaced numbers from `min` to `max` inclusive, like numpy's `linspace`.
///
/// The ends are exact: point i is `min + (max - min) * i / (n - 1)`, computed so the last one is `max`.
pub fn linspace(min: f64, max: f64, n: usize) -> Vec<f64> {
    match n {
        0 => Vec::new(),
        1 => vec![min],
        _ => (0..n)
            .map(|i| if i == n - 1 { max } else { min + (max - min) * (i as f64) / ((n - 1) as f64) })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Dataset> {
        Dataset::parse_csv("t.csv", text.as_bytes(), None, None)
    }

    #[test]
    fn seed_matches_the_note() {
        let d = Dataset::seed();
        assert_eq!(d.x(), &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(d.y(), &[1.1, 2.2, 3.8, 4.1, 4.9, 5.2]);
    }

    #[test]
    fn linspace_is_inclusive_like_numpy() {
        assert_eq!(linspace(0.0, 1.0, 5), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(linspace(-2.0, 4.0, 200)[199], 4.0);
    }

    #[test]
    fn csv_default_and_named_columns() {
        let d = parse("a,b,c\n1,2,3\n4,5,6\n").unwrap();
        assert_eq!((d.x(), d.y()), (&[1.0, 4.0][..], &[2.0, 5.0][..]));
        let d = Dataset::parse_csv("t.csv", b"a,b,c\n1,2,3\n4,5,6\n", Some("c"), Some("a")).unwrap();
        assert_eq!((d.x(), d.y()), (&[3.0, 6.0][..], &[1.0, 4.0][..]));
    }

    #[test]
    fn csv_errors_name_line_and_column() {
        let e = parse("x,y\n1,2\n3,abc\n").unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("`y`") && e.contains("abc"), "{e}");
        let e = parse("x,y\n1,\n3,4\n").unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("empty"), "{e}");
        let e = parse("x,y\n1,inf\n3,4\n").unwrap_err().to_string();
        assert!(e.contains("not a finite number"), "{e}");
        let e = parse("x,y\n1,2\n").unwrap_err().to_string();
        assert!(e.contains("1 row"), "{e}");
        let e = parse("").unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
        let e = Dataset::parse_csv("t.csv", b"x,y\n1,2\n3,4\n", Some("z"), None).unwrap_err().to_string();
        assert!(e.contains("no column named `z`") && e.contains("x, y"), "{e}");
    }

    #[test]
    fn generate_is_reproducible_and_noisy_around_the_truth() {
        let f = |x: f64| 1.2 * x + 2.5;
        let a = Dataset::generate("g", f, 200, (-1.0, 1.0), 0.1, 7).unwrap();
        let b = Dataset::generate("g", f, 200, (-1.0, 1.0), 0.1, 7).unwrap();
        assert_eq!(a, b);
        let resid: Vec<f64> = a.x().iter().zip(a.y()).map(|(x, y)| y - f(*x)).collect();
        let mean = resid.iter().sum::<f64>() / 200.0;
        let sd = (resid.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / 200.0).sqrt();
        assert!(mean.abs() < 0.03 && (sd - 0.1).abs() < 0.02, "mean {mean} sd {sd}");
    }
}
