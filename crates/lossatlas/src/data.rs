//! Data sets: the built-in `seed` data, CSV files and seeded synthetic data.

use std::io::Read;
use std::path::Path;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use crate::error::{Error, Result};

/// Largest data file read, in bytes. Parsed numbers take less memory than their text, so this also
/// bounds the data set in memory; a larger file is refused before it is read.
pub const MAX_DATA_BYTES: u64 = 1 << 30;

/// Most input columns a formula's data may have.
pub const MAX_INPUTS: usize = 64;

/// Samples (inputs_i, y_i) that a model is fitted to: one or more named input columns and one
/// target column.
///
/// A data set always has at least two rows, at least one input, and only finite numbers: the
/// constructors check all three, so everything downstream can rely on it.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// The input columns, each `len()` long.
    inputs: Vec<Vec<f64>>,
    input_names: Vec<String>,
    y: Vec<f64>,
    name: String,
}

/// Which columns of a table are the inputs and which is the target.
#[derive(Debug, Clone, Copy, Default)]
pub struct Columns<'a> {
    /// Input column names; `None` takes the first column, named `x`.
    pub inputs: Option<&'a [String]>,
    /// The target column; `None` takes the one column that is not an input (the second column
    /// when the inputs are not named).
    pub target: Option<&'a str>,
}

impl Dataset {
    /// Builds a data set of one input, named `x`, from two equally long columns of finite numbers;
    /// `name` says where it came from in messages and titles.
    pub fn new(name: impl Into<String>, x: Vec<f64>, y: Vec<f64>) -> Result<Dataset> {
        Dataset::with_inputs(name, vec!["x".into()], vec![x], y)
    }

    /// Builds a data set from named input columns and a target column, all of one length and
    /// finite.
    pub fn with_inputs(
        name: impl Into<String>,
        input_names: Vec<String>,
        inputs: Vec<Vec<f64>>,
        y: Vec<f64>,
    ) -> Result<Dataset> {
        let name = name.into();
        if inputs.is_empty() || inputs.len() != input_names.len() {
            return Err(Error::Invalid(format!(
                "data `{name}` needs at least one input column and one name per input column"
            )));
        }
        if inputs.len() > MAX_INPUTS {
            return Err(Error::Invalid(format!(
                "data `{name}` has {} input columns; at most {MAX_INPUTS} are supported",
                inputs.len()
            )));
        }
        for (column, input) in input_names.iter().zip(&inputs) {
            if input.len() != y.len() {
                return Err(Error::Invalid(format!(
                    "data `{name}` has {} values of `{column}` but {} targets; give every column the same length",
                    input.len(),
                    y.len()
                )));
            }
            if let Some(row) = input.iter().position(|v| !v.is_finite()) {
                return Err(Error::Invalid(format!(
                    "data `{name}` has a non-finite `{column}` value at row {}; remove or fix it",
                    row + 1
                )));
            }
        }
        if y.len() < 2 {
            return Err(Error::TooFewRows { what: name, rows: y.len() });
        }
        if let Some(row) = y.iter().position(|v| !v.is_finite()) {
            return Err(Error::Invalid(format!(
                "data `{name}` has a non-finite target at row {}; remove or fix it",
                row + 1
            )));
        }
        Ok(Dataset { inputs, input_names, y, name })
    }

    /// The six points of the teaching example that every seed figure uses:
    /// x = 0..5, y = [1.1, 2.2, 3.8, 4.1, 4.9, 5.2].
    pub fn seed() -> Dataset {
        Dataset {
            inputs: vec![vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]],
            input_names: vec!["x".into()],
            y: vec![1.1, 2.2, 3.8, 4.1, 4.9, 5.2],
            name: "seed".into(),
        }
    }

    /// Samples y = f(x) + N(0, sigma^2) on `n` points of linspace(x_min, x_max, n), with noise from a
    /// ChaCha8 generator seeded with `seed`, so the same arguments give the same data on every machine.
    ///
    /// Figure 5 of the teaching example uses `n = 200`, x in [-1, 1], sigma = 0.1.
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
    /// columns; `None` takes the first and the second column. The input is called `x`.
    pub fn load_csv(path: &Path, x_column: Option<&str>, y_column: Option<&str>) -> Result<Dataset> {
        let text = read_data_file(path)?;
        Dataset::parse_csv(&display_name(path), &text, x_column, y_column)
    }

    /// Parses CSV text (see [`Dataset::load_csv`]); `name` is used in messages.
    pub fn parse_csv(
        name: &str,
        text: &[u8],
        x_column: Option<&str>,
        y_column: Option<&str>,
    ) -> Result<Dataset> {
        let inputs = x_column.map(|x| [x.to_string()]);
        let mut data = Dataset::parse_table(
            name,
            text,
            Columns { inputs: inputs.as_ref().map(|i| &i[..]), target: y_column },
        )?;
        data.input_names = vec!["x".into()];
        Ok(data)
    }

    /// Reads a CSV file with a header row (or standard input for `-`), with the inputs and target
    /// that `columns` picks; inputs keep their column names, so a formula names them.
    ///
    /// Only regular files (and `-`) are read, and at most [`MAX_DATA_BYTES`]: a device such as
    /// `/dev/zero` would never end and a FIFO without a writer would never start.
    pub fn load_table(path: &Path, columns: Columns<'_>) -> Result<Dataset> {
        let text = read_data_file(path)?;
        Dataset::parse_table(&display_name(path), &text, columns)
    }

    /// Parses CSV text with a header row (see [`Dataset::load_table`]); `name` is used in messages.
    pub fn parse_table(name: &str, text: &[u8], columns: Columns<'_>) -> Result<Dataset> {
        let table = read_table(name, text, |headers| columns.pick(headers))?;
        Dataset::with_inputs(name, table.input_names, table.inputs, table.y)
    }

    /// The first (for most models the only) input column.
    pub fn x(&self) -> &[f64] {
        &self.inputs[0]
    }

    /// Every input column, in the order of [`Dataset::input_names`].
    pub fn inputs(&self) -> &[Vec<f64>] {
        &self.inputs
    }

    /// The names of the input columns, as formulas refer to them.
    pub fn input_names(&self) -> &[String] {
        &self.input_names
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
        self.y.len()
    }

    /// Always false: a data set has at least two rows.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// The same targets with new input columns (used by transforms), keeping the checks.
    pub fn with_columns(&self, inputs: Vec<Vec<f64>>, name: impl Into<String>) -> Result<Dataset> {
        Dataset::with_inputs(name, self.input_names.clone(), inputs, self.y.clone())
    }

    /// The rows at `indices`, in that order (a mini-batch).
    pub fn select(&self, indices: &[usize]) -> Dataset {
        Dataset {
            inputs: self.inputs.iter().map(|c| indices.iter().map(|&i| c[i]).collect()).collect(),
            input_names: self.input_names.clone(),
            y: indices.iter().map(|&i| self.y[i]).collect(),
            name: self.name.clone(),
        }
    }

    /// Calls `f(inputs, targets)` for consecutive chunks of at most `size` samples: the input
    /// columns' slices of the chunk and the targets'. No allocation for up to eight inputs, so
    /// hot loops (a loss per grid point) can call it freely.
    pub fn for_each_chunk(&self, size: usize, mut f: impl FnMut(&[&[f64]], &[f64])) {
        const STACK: usize = 8;
        let size = size.max(1);
        let k = self.inputs.len();
        let mut heap: Vec<&[f64]> = Vec::new();
        let mut stack: [&[f64]; STACK] = [&[]; STACK];
        for start in (0..self.len()).step_by(size) {
            let end = (start + size).min(self.len());
            let ys = &self.y[start..end];
            if k <= STACK {
                for (slot, column) in stack.iter_mut().zip(&self.inputs) {
                    *slot = &column[start..end];
                }
                f(&stack[..k], ys);
            } else {
                heap.clear();
                heap.extend(self.inputs.iter().map(|c| &c[start..end]));
                f(&heap, ys);
            }
        }
    }
}

impl Columns<'_> {
    /// The indices of the input columns and of the target column among `headers`.
    fn pick(&self, headers: &Headers) -> Result<(Vec<usize>, usize)> {
        let input_index: Vec<usize> = match self.inputs {
            Some(names) => names.iter().map(|n| headers.find(n, "input")).collect::<Result<_>>()?,
            None => vec![0],
        };
        let target_index = match self.target {
            Some(t) => headers.find(t, "target")?,
            None if self.inputs.is_none() => {
                if headers.names.len() < 2 {
                    return Err(headers.error(format!(
                        "has {} column(s); it needs at least 2 (an input and a target)",
                        headers.names.len()
                    )));
                }
                1
            }
            None => {
                let rest: Vec<usize> =
                    (0..headers.names.len()).filter(|i| !input_index.contains(i)).collect();
                match rest.as_slice() {
                    [only] => *only,
                    [] => {
                        return Err(
                            headers.error("every column is an input; name the target with --target".into())
                        )
                    }
                    _ => {
                        return Err(headers.error(format!(
                            "which column is the target? the columns are {}; name it with --target",
                            headers.known()
                        )))
                    }
                }
            }
        };
        Ok((input_index, target_index))
    }
}

/// The header row of a CSV table, for choosing columns by name.
#[derive(Debug)]
pub(crate) struct Headers {
    /// The column names, in file order.
    pub names: Vec<String>,
    /// The table's name in messages.
    source: String,
}

impl Headers {
    /// The index of the column called `column`, or an error listing the columns there are.
    pub fn find(&self, column: &str, what: &str) -> Result<usize> {
        self.names.iter().position(|h| h == column).ok_or_else(|| {
            self.error(format!(
                "no {what} column named `{}`; the columns are {}",
                clip(column, 60),
                self.known()
            ))
        })
    }

    /// The column names, comma separated, for messages.
    pub fn known(&self) -> String {
        self.names.join(", ")
    }

    /// A CSV error about this table.
    pub fn error(&self, message: String) -> Error {
        Error::Csv { path: self.source.clone(), message }
    }
}

/// Numeric columns read from a CSV table: the inputs and the target that a caller picked.
#[derive(Debug)]
pub(crate) struct TableColumns {
    pub input_names: Vec<String>,
    pub inputs: Vec<Vec<f64>>,
    pub y: Vec<f64>,
}

/// Reads CSV text with a header row: `pick` chooses the input columns and the target column from
/// the header; every chosen cell must hold a finite number, and there must be at least 2 rows.
/// Errors name the line and column, as an editor shows them. Shared by formula data
/// ([`Dataset::parse_table`]) and network data (`net::Samples::parse_csv`).
pub(crate) fn read_table(
    name: &str,
    text: &[u8],
    pick: impl FnOnce(&Headers) -> Result<(Vec<usize>, usize)>,
) -> Result<TableColumns> {
    let csv_error = |message: String| Error::Csv { path: name.to_string(), message };
    let mut reader = csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).from_reader(text);
    let header_row =
        reader.headers().map_err(|e| csv_error(format!("cannot read the header row: {e}")))?.clone();
    if header_row.iter().all(str::is_empty) {
        return Err(csv_error("the file is empty; it needs a header row and at least 2 data rows".into()));
    }
    if header_row.iter().all(|h| h.parse::<f64>().is_ok()) {
        return Err(csv_error(format!(
            "the first line `{}` holds numbers, not column names; add a header row such as `x,y`",
            clip(&header_row.iter().collect::<Vec<_>>().join(","), 60)
        )));
    }
    let headers =
        Headers { names: header_row.iter().map(str::to_string).collect(), source: name.to_string() };
    let (input_index, target_index) = pick(&headers)?;
    if input_index.contains(&target_index) {
        return Err(csv_error(format!(
            "column `{}` is both an input and the target; pick another target",
            &headers.names[target_index]
        )));
    }
    let mut inputs = vec![Vec::new(); input_index.len()];
    let mut y = Vec::new();
    for (row, record) in reader.records().enumerate() {
        // Line numbers count the header as line 1, as an editor shows them.
        let line = row + 2;
        let record = record.map_err(|e| csv_error(format!("line {line}: {e}")))?;
        let cell = |col: usize| -> Result<f64> {
            let column = &headers.names[col];
            let cell = record.get(col).unwrap_or("");
            if cell.is_empty() {
                return Err(csv_error(format!("line {line}, column `{column}`: the cell is empty")));
            }
            let value: f64 = cell.parse().map_err(|_| {
                csv_error(format!("line {line}, column `{column}`: `{}` is not a number", clip(cell, 40)))
            })?;
            if !value.is_finite() {
                return Err(csv_error(format!(
                    "line {line}, column `{column}`: `{cell}` is not a finite number"
                )));
            }
            Ok(value)
        };
        for (column, &index) in inputs.iter_mut().zip(&input_index) {
            column.push(cell(index)?);
        }
        y.push(cell(target_index)?);
    }
    if y.len() < 2 {
        return Err(Error::TooFewRows { what: name.to_string(), rows: y.len() });
    }
    let input_names = input_index.iter().map(|&i| headers.names[i].clone()).collect();
    Ok(TableColumns { input_names, inputs, y })
}

/// How a path reads in messages: `standard input` for `-`.
pub(crate) fn display_name(path: &Path) -> String {
    if path == Path::new("-") {
        "standard input".into()
    } else {
        path.display().to_string()
    }
}

/// Reads a data file whole: a regular file, or standard input for `-`, of at most
/// [`MAX_DATA_BYTES`]. Anything else (a folder, a device, a FIFO, a socket) is refused before it
/// is opened, since opening a FIFO with no writer blocks forever.
pub fn read_data_file(path: &Path) -> Result<Vec<u8>> {
    let io = |source: std::io::Error| Error::Io { path: display_name(path), source };
    let too_large = || {
        Error::Invalid(format!(
            "data `{}` is larger than {} MiB; use a smaller file or a sample of it",
            display_name(path),
            MAX_DATA_BYTES >> 20
        ))
    };
    let mut text = Vec::new();
    if path == Path::new("-") {
        std::io::stdin().lock().take(MAX_DATA_BYTES + 1).read_to_end(&mut text).map_err(io)?;
    } else {
        let meta = std::fs::metadata(path).map_err(io)?;
        if !meta.is_file() {
            let kind =
                if meta.is_dir() { "a folder" } else { "not a regular file (a device, FIFO or socket)" };
            return Err(Error::Invalid(format!(
                "data `{}` is {kind}; give a CSV file, or `-` for standard input",
                path.display()
            )));
        }
        if meta.len() > MAX_DATA_BYTES {
            return Err(too_large());
        }
        std::fs::File::open(path).map_err(io)?.take(MAX_DATA_BYTES + 1).read_to_end(&mut text).map_err(io)?;
    }
    if text.len() as u64 > MAX_DATA_BYTES {
        return Err(too_large());
    }
    Ok(text)
}

/// `text` cut to `max` characters with an ellipsis, and control characters escaped, for messages
/// that echo what a user gave.
pub(crate) fn clip(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars().take(max) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if text.chars().count() > max {
        out.push('…');
    }
    out
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
        assert!(e.contains("no input column named `z`") && e.contains("x, y"), "{e}");
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

    #[test]
    fn tables_with_named_inputs_and_target() {
        let text = b"x1,x2,label,note\n0.5,1,0,3\n-1,2,1,4\n2,-3,1,5\n";
        let names = ["x1".to_string(), "x2".to_string()];
        let d = Dataset::parse_table("t.csv", text, Columns { inputs: Some(&names), target: Some("label") })
            .unwrap();
        assert_eq!(d.input_names(), &names);
        assert_eq!(d.inputs(), &[vec![0.5, -1.0, 2.0], vec![1.0, 2.0, -3.0]]);
        assert_eq!(d.y(), &[0.0, 1.0, 1.0]);
        // Two columns left over: the target must be named.
        let e = Dataset::parse_table("t.csv", text, Columns { inputs: Some(&names), target: None })
            .unwrap_err()
            .to_string();
        assert!(e.contains("which column is the target") && e.contains("--target"), "{e}");
        let e = Dataset::parse_table("t.csv", text, Columns { inputs: Some(&names), target: Some("x1") })
            .unwrap_err()
            .to_string();
        assert!(e.contains("both an input and the target"), "{e}");
        // One column left over is the target.
        let one = ["x1".to_string(), "x2".to_string(), "note".to_string()];
        let d = Dataset::parse_table("t.csv", text, Columns { inputs: Some(&one), target: None }).unwrap();
        assert_eq!(d.y(), &[0.0, 1.0, 1.0]);
        // A mini-batch keeps every column.
        let b = d.select(&[2, 0]);
        assert_eq!(b.inputs()[2], vec![5.0, 3.0]);
    }

    #[test]
    fn a_header_of_numbers_is_refused() {
        let e = parse("1,2\n3,4\n5,6\n").unwrap_err().to_string();
        assert!(e.contains("holds numbers, not column names") && e.contains("header row"), "{e}");
    }

    #[test]
    fn chunks_cover_every_row_once_with_all_columns() {
        let cols: Vec<Vec<f64>> = (0..10).map(|c| (0..7).map(|r| (c * 10 + r) as f64).collect()).collect();
        let names = (0..10).map(|c| format!("c{c}")).collect();
        let d = Dataset::with_inputs("t", names, cols, vec![0.0; 7]).unwrap();
        let mut seen = Vec::new();
        d.for_each_chunk(3, |inputs, ys| {
            assert_eq!(inputs.len(), 10);
            assert_eq!(inputs[9].len(), ys.len());
            seen.extend_from_slice(inputs[9]);
        });
        assert_eq!(seen, (90..97).map(f64::from).collect::<Vec<_>>());
    }

    #[test]
    fn only_regular_files_are_read() {
        let e = read_data_file(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(e.contains("not a regular file") && e.contains("`-` for standard input"), "{e}");
        let e = read_data_file(Path::new("/")).unwrap_err().to_string();
        assert!(e.contains("is a folder"), "{e}");
    }

    #[test]
    fn messages_clip_and_escape_what_users_typed() {
        assert_eq!(clip("a\nb", 10), "a\\nb");
        assert_eq!(clip("abcdef", 3), "abc…");
    }
}
