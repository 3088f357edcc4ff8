//! A picture being drawn into memory, by plotters and by the crate's own raster code in turn.
//!
//! plotters' `BitMapBackend` holds the picture's bytes for as long as it lives and gives no
//! access to them, so a figure that paints thousands of shapes itself ([`crate::raster`], the
//! surface's cells) used to paint into a buffer of its own and have plotters copy it on: a fresh
//! allocation of several megabytes, cleared, and a copy, per picture (1.6 ms of figure 3's 10).
//! A [`Bitmap`] lends the bytes to plotters for one stretch of drawing at a time instead, and to
//! the raster code between those stretches.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::backend::PictureBackend;
use crate::error::Result;
use crate::raster::{PixelRect, Shapes};

/// An RGB8 picture, or a window of one, being drawn: [`Bitmap::draw`] lends it to plotters,
/// and the crate's raster code paints its pixels in between.
#[derive(Debug)]
pub struct Bitmap<'a> {
    rgb: &'a mut [u8],
    /// The whole picture's width and height in pixels.
    size: (u32, u32),
    /// The part of the picture this bitmap draws on.
    window: PixelRect,
}

impl<'a> Bitmap<'a> {
    /// The whole of the picture `rgb`, `size` pixels large.
    pub(crate) fn new(rgb: &'a mut [u8], size: (u32, u32)) -> Bitmap<'a> {
        debug_assert_eq!(rgb.len(), size.0 as usize * size.1 as usize * 3);
        let window = PixelRect { left: 0, top: 0, width: size.0 as usize, height: size.1 as usize };
        Bitmap { rgb, size, window }
    }

    /// The width and height of the part drawn on, in pixels.
    pub fn dim_in_pixel(&self) -> (u32, u32) {
        (self.window.width as u32, self.window.height as u32)
    }

    /// Draws with plotters: `draw` gets a drawing area covering this bitmap's part of the
    /// picture, and the area is presented (its errors reported) when `draw` returns.
    pub fn draw<T>(
        &mut self,
        draw: impl FnOnce(&DrawingArea<PictureBackend<'_>, Shift>) -> Result<T>,
    ) -> Result<T> {
        let PixelRect { left, top, width, height } = self.window;
        let picture = PictureBackend::with_buffer(self.rgb, self.size).into_drawing_area();
        let area = if (left, top, width, height) == (0, 0, self.size.0 as usize, self.size.1 as usize) {
            picture
        } else {
            picture.shrink((left as i32, top as i32), (width as u32, height as u32))
        };
        let result = draw(&area)?;
        area.present()?;
        Ok(result)
    }

    /// The part of this bitmap below its first `rows` rows (none left when there are fewer).
    pub fn below(&mut self, rows: u32) -> Bitmap<'_> {
        let rows = (rows as usize).min(self.window.height);
        let window =
            PixelRect { top: self.window.top + rows, height: self.window.height - rows, ..self.window };
        Bitmap { rgb: self.rgb, size: self.size, window }
    }

    /// Paints `shapes` with `threads` threads ([`Shapes::paint`]) into the rectangle `clip` of
    /// this bitmap's part (in its coordinates), the shapes' coordinates taken from the
    /// rectangle's top-left corner.
    pub(crate) fn paint(&mut self, shapes: &Shapes, clip: PixelRect, threads: usize) {
        let left = clip.left.min(self.window.width);
        let top = clip.top.min(self.window.height);
        let window = PixelRect {
            left: self.window.left + left,
            top: self.window.top + top,
            width: clip.width.min(self.window.width - left),
            height: clip.height.min(self.window.height - top),
        };
        shapes.paint(self.rgb, self.size.0 as usize, window, threads);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plotters_and_painting_share_the_picture_and_keep_to_the_window() {
        let (w, h) = (40u32, 30u32);
        let mut rgb = vec![0u8; (w * h * 3) as usize];
        let mut whole = Bitmap::new(&mut rgb, (w, h));
        let mut part = whole.below(10);
        assert_eq!(part.dim_in_pixel(), (40, 20));
        part.draw(|area| Ok(area.fill(&RGBColor(1, 2, 3))?)).unwrap();
        let mut square = Shapes::default();
        square.push([(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0)], [9, 9, 9]);
        // Reaching past the window's bottom: only its rows are painted.
        part.paint(&square, PixelRect { left: 5, top: 18, width: 10, height: 10 }, 1);
        let at = |x: u32, y: u32| &rgb[((y * w + x) * 3) as usize..][..3];
        assert_eq!((at(0, 9), at(0, 10), at(39, 29)), (&[0, 0, 0][..], &[1, 2, 3][..], &[1, 2, 3][..]));
        assert_eq!(
            (at(5, 28), at(8, 29), at(9, 29), at(5, 27)),
            (&[9; 3][..], &[9; 3][..], &[1, 2, 3][..], &[1, 2, 3][..])
        );
    }
}
