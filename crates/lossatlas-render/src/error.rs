//! The error type of the render crate.

/// What can go wrong while drawing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An output name whose extension is not a picture format we write.
    #[error("cannot tell the picture format of `{0}`; use a name ending in .png or .svg")]
    UnknownFormat(String),
    /// A figure setting that cannot be drawn (no levels, a size too small, ...).
    #[error("{0}")]
    Invalid(String),
    /// The drawing backend failed (out of memory, a font that did not load, ...).
    #[error("drawing failed: {0}")]
    Drawing(String),
}

/// The result type of the render crate.
pub type Result<T> = std::result::Result<T, Error>;

impl<E: std::error::Error + Send + Sync> From<plotters::drawing::DrawingAreaErrorKind<E>> for Error {
    fn from(e: plotters::drawing::DrawingAreaErrorKind<E>) -> Error {
        Error::Drawing(e.to_string())
    }
}
