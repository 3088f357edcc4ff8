//! Picture formats and the one entry point that turns a [`Figure`] into file bytes.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::bitmap::Bitmap;
use crate::canvas::{Drawing, CANVAS};
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

/// Something that can draw itself on any plotters backend. Shared between threads: [`render`]
/// has [`Figure::prepare`] done on one while the drawing begins on another.
pub trait Figure: Sync {
    /// Draws onto `root`, which covers the whole picture.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>;

    /// Draws onto a bitmap (PNGs and GIF frames). By default as on any backend; a figure with
    /// its own raster code for the bulk of its shapes (the surface's thousands of cells, see the
    /// crate's `raster` module) paints them into the bitmap's pixels between stretches of
    /// plotters drawing, while [`Figure::draw`] keeps them shapes for SVG.
    fn draw_bitmap(&self, bitmap: &mut Bitmap<'_>) -> Result<()> {
        bitmap.draw(|root| self.draw(root))
    }

    /// Whether [`Figure::draw_bitmap`] paints every pixel before anything else (with a white
    /// fill, as this crate's contour maps and surfaces begin). A canvas reused from an earlier
    /// picture is then not cleared for it first, a pass over several megabytes (0.4 ms of figure
    /// 3's 7.4 in-process). False by default: a figure that leaves pixels unpainted gets them
    /// black, not the previous picture's.
    fn paints_every_pixel(&self) -> bool {
        false
    }

    /// Whether [`Figure::prepare`] does anything (false by default): [`render`] starts a thread
    /// for it only then.
    const PREPARES: bool = false;

    /// Work the drawing needs that does not need the picture (a contour map's lines), kept in
    /// the figure for the drawing. [`render`] does it on another thread while the picture's
    /// memory is made ready and the drawing begins (the frame, ticks and titles); a drawing that
    /// gets to the work first does it itself, so calling this is never required.
    fn prepare(&self) {}

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
pub fn render<F: Figure>(figure: &F, format: ImageFormat, size: (u32, u32)) -> Result<Vec<u8>> {
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
            let clear = !figure.paints_every_pixel();
            let draw =
                || draw_rgb((w, h), factor, clear, |bitmap| figure.draw_bitmap(bitmap), crate::png::encode);
            if !F::PREPARES {
                return draw();
            }
            std::thread::scope(|threads| {
                // Without a thread to be had, the drawing does the work when it needs it.
                let _ = std::thread::Builder::new().spawn_scoped(threads, || figure.prepare());
                draw()
            })
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

/// Draws with `draw` on a canvas `factor` times `size` (width, height) and hands the drawing,
/// with room for the picture scaled down to `size`, to `then`. The buffers are this thread's,
/// reused from one picture to the next (see [`CANVAS`]).
pub(crate) fn draw_rgb<T>(
    (w, h): (u32, u32),
    factor: u32,
    clear: bool,
    draw: impl FnOnce(&mut Bitmap<'_>) -> Result<()>,
    then: impl FnOnce(Drawing<'_>) -> Result<T>,
) -> Result<T> {
    let (dw, dh) = (w * factor, h * factor);
    CANVAS.with_borrow_mut(|canvas| {
        let small_bytes = if factor > 1 { w as usize * h as usize * 3 } else { 0 };
        let (drawn, small) = canvas.lend(dw as usize * dh as usize * 3, small_bytes, clear);
        let result = (|| {
            draw(&mut Bitmap::new(drawn, (dw, dh)))?;
            then(Drawing { rgb: drawn, size: (dw, dh), factor, picture: small })
        })();
        canvas.shrink();
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_picture_comes_out_twice_on_a_reused_canvas() {
        let seed = crate::test_support::seed_landscape(60);
        let figure = crate::ContourFigure::new(&seed, vec![0.5, 1.0, 3.0]);
        let first = render(&figure, ImageFormat::Png, (300, 250)).unwrap();
        let other = crate::ContourFigure::new(&seed, vec![2.0]).filled(true);
        render(&other, ImageFormat::Png, (420, 300)).unwrap();
        assert_eq!(render(&figure, ImageFormat::Png, (300, 250)).unwrap(), first);
    }

    #[test]
    fn figures_that_paint_every_pixel_come_out_the_same_on_a_dirty_canvas() {
        let seed = crate::test_support::seed_landscape(60);
        let coarse = crate::test_support::seed_landscape(12);
        let contour = crate::ContourFigure::new(&seed, vec![0.5, 1.0, 3.0]);
        let filled = crate::ContourFigure::new(&seed, vec![0.5, 1.0, 3.0]).filled(true);
        // 60 points a side are painted by the crate's rasterizer, 12 as plotters shapes.
        let (raster, shapes) = (crate::SurfaceFigure::new(&seed), crate::SurfaceFigure::new(&coarse));
        let pictures: [&(dyn Fn() -> Vec<u8> + Sync); 4] = [
            &|| render(&contour, ImageFormat::Png, (300, 250)).unwrap(),
            &|| render(&filled, ImageFormat::Png, (300, 250)).unwrap(),
            &|| render(&raster, ImageFormat::Png, (400, 300)).unwrap(),
            &|| render(&shapes, ImageFormat::Png, (400, 300)).unwrap(),
        ];
        assert!(contour.paints_every_pixel() && filled.paints_every_pixel());
        assert!(raster.paints_every_pixel() && shapes.paints_every_pixel());
        for picture in pictures {
            // A new thread has a canvas of its own, fresh from the kernel.
            let fresh = std::thread::scope(|threads| threads.spawn(picture).join().unwrap());
            CANVAS.with_borrow_mut(|canvas| canvas.lend(4 << 20, 0, true).0.fill(0x5a));
            assert_eq!(picture(), fresh);
        }
    }
}
