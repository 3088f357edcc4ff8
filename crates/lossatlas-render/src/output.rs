//! Picture formats and the one entry point that turns a [`Figure`] into file bytes.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};

/// The picture formats lossatlas writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// 8-bit RGB PNG.
    Png,
    /// SVG 1.1 (text as `<text>` in the sans-serif family).
    Svg,
}

impl ImageFormat {
    /// The format named by a path's extension (`.png` or `.svg`, any case).
    pub fn from_path(path: &Path) -> Result<ImageFormat> {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("png") => Ok(ImageFormat::Png),
            Some("svg") => Ok(ImageFormat::Svg),
            _ => Err(Error::UnknownFormat(path.display().to_string())),
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Svg => "svg",
        }
    }
}

/// Something that can draw itself on any plotters backend.
pub trait Figure {
    /// Draws onto `root`, which covers the whole picture.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>;
}

/// Draws `figure` at `size` (width, height in pixels) and returns the encoded file.
pub fn render(figure: &impl Figure, format: ImageFormat, size: (u32, u32)) -> Result<Vec<u8>> {
    crate::font::ensure_registered();
    let (w, h) = size;
    if w < 100 || h < 100 || w > 20_000 || h > 20_000 {
        return Err(Error::Invalid(format!(
            "picture size {w}x{h} is out of range; use between 100x100 and 20000x20000 pixels"
        )));
    }
    match format {
        ImageFormat::Png => {
            let mut rgb = vec![0u8; w as usize * h as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
                figure.draw(&root)?;
                root.present()?;
            }
            let mut png = Vec::new();
            image::codecs::png::PngEncoder::new(&mut png)
                .write_image(&rgb, w, h, image::ColorType::Rgb8)
                .map_err(|e| Error::Drawing(format!("PNG encoding: {e}")))?;
            Ok(png)
        }
        ImageFormat::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
                figure.draw(&root)?;
                root.present()?;
            }
            Ok(svg.into_bytes())
        }
    }
}

use image::ImageEncoder as _;
