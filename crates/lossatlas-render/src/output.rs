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

    /// How many times wider and taller a PNG is drawn before it is scaled down to the requested
    /// size. plotters fills shapes and draws lines without anti-aliasing, so edges come out
    /// stair-stepped; drawing at 2x and averaging each 2 x 2 block smooths them (and text, which
    /// is anti-aliased already, stays as it was). Only figures whose text sizes and line widths
    /// grow with the picture should ask for more than 1, the default. SVG is never affected.
    fn supersampling(&self) -> u32 {
        1
    }
}

/// Drawing buffers larger than this many pixels are not supersampled (memory, not looks, decides).
const MAX_SUPERSAMPLED_PIXELS: u64 = 64 << 20;

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
            let mut factor = figure.supersampling().clamp(1, 4);
            while factor > 1 && (w as u64 * h as u64) * (factor as u64).pow(2) > MAX_SUPERSAMPLED_PIXELS {
                factor -= 1;
            }
            let (dw, dh) = (w * factor, h * factor);
            let mut rgb = vec![0u8; dw as usize * dh as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut rgb, (dw, dh)).into_drawing_area();
                figure.draw(&root)?;
                root.present()?;
            }
            if factor > 1 {
                rgb = downsample(&rgb, (dw, dh), factor);
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

/// Averages each `factor` x `factor` block of an RGB buffer `size` pixels large (a box filter).
fn downsample(rgb: &[u8], size: (u32, u32), factor: u32) -> Vec<u8> {
    let (sw, f) = (size.0 as usize, factor as usize);
    let (w, h) = (sw / f, size.1 as usize / f);
    let mut out = vec![0u8; w * h * 3];
    let mut row = vec![0u32; w * 3];
    for y in 0..h {
        row.iter_mut().for_each(|v| *v = 0);
        for sy in y * f..(y + 1) * f {
            let line = &rgb[sy * sw * 3..(sy + 1) * sw * 3];
            for (x, px) in line.chunks_exact(3).enumerate() {
                let o = (x / f) * 3;
                row[o] += px[0] as u32;
                row[o + 1] += px[1] as u32;
                row[o + 2] += px[2] as u32;
            }
        }
        let n = (f * f) as u32;
        for (o, v) in out[y * w * 3..(y + 1) * w * 3].iter_mut().zip(&row) {
            *o = ((v + n / 2) / n) as u8;
        }
    }
    out
}

use image::ImageEncoder as _;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downsampling_averages_blocks() {
        // 4 x 2 pixels: a black and a white 2 x 2 block side by side, then one grey pixel.
        let mut rgb = vec![0u8; 4 * 2 * 3];
        for y in 0..2 {
            for x in 2..4 {
                rgb[(y * 4 + x) * 3..(y * 4 + x) * 3 + 3].copy_from_slice(&[255, 255, 255]);
            }
        }
        assert_eq!(downsample(&rgb, (4, 2), 2), vec![0, 0, 0, 255, 255, 255]);
        rgb[0] = 100;
        assert_eq!(downsample(&rgb, (4, 2), 2)[0], 25);
    }
}
