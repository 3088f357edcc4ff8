//! The one error type of the core library.
//!
//! Every message names the offending value and, where there is one, the fix, so the command line can
//! print it as a single line and exit with code 2.

use crate::formula::FormulaError;

/// Everything that can go wrong in the core library because of what a user gave it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened or read.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A CSV file is malformed or holds a bad cell.
    #[error("{path}: {message}")]
    Csv {
        /// The file (or `<input>` for in-memory text).
        path: String,
        /// What is wrong and where (row and column).
        message: String,
    },
    /// A data set with fewer rows than a fit needs.
    #[error("{what} has {rows} row(s); at least 2 are needed")]
    TooFewRows {
        /// Where the data came from.
        what: String,
        /// How many rows it has.
        rows: usize,
    },
    /// A formula that does not parse or names something unknown.
    #[error(transparent)]
    Formula(#[from] FormulaError),
    /// A model whose parameter count does not suit the request.
    #[error("model `{model}` has {found} parameter(s) ({names}); {expected}")]
    ParameterCount {
        /// The model's formula or name.
        model: String,
        /// How many parameters it has.
        found: usize,
        /// Their names, comma separated.
        names: String,
        /// What was expected, and how to get it.
        expected: String,
    },
    /// An axis range that is empty, reversed or not finite.
    #[error("range for `{axis}` is {min}:{max}; it needs finite ends with min < max, e.g. {axis}=0:2")]
    BadRange {
        /// The axis name.
        axis: String,
        /// The lower end given.
        min: f64,
        /// The upper end given.
        max: f64,
    },
    /// Fewer than two grid points along an axis.
    #[error("resolution {n} for `{axis}` is too small; use at least 2 points per axis")]
    BadResolution {
        /// The axis name.
        axis: String,
        /// The resolution given.
        n: usize,
    },
    /// A grid that would not fit the memory budget.
    #[error(
        "a {nu}x{nv} grid needs {need_mib:.0} MiB, more than the {budget_mib:.0} MiB budget; lower the resolution"
    )]
    GridTooLarge {
        /// Points along u.
        nu: usize,
        /// Points along v.
        nv: usize,
        /// Memory the grid would need, in MiB.
        need_mib: f64,
        /// The budget, in MiB.
        budget_mib: f64,
    },
    /// A data transform that cannot apply to this data.
    #[error("transform `{transform}` cannot apply: {reason}")]
    Transform {
        /// The transform's name.
        transform: String,
        /// Why not, and what to do instead.
        reason: String,
    },
    /// A weights or directions file that cannot be used (not safetensors, truncated, or tensors
    /// that do not form the expected network).
    #[error("{path}: {message}")]
    Weights {
        /// The file.
        path: String,
        /// What is wrong, and how to save a usable file.
        message: String,
    },
    /// A value outside what the operation accepts.
    #[error("{0}")]
    Invalid(String),
}

/// The result type of the core library.
pub type Result<T> = std::result::Result<T, Error>;
