//! PNG files, encoded while the picture is still being scaled down.
//!
//! A supersampled PNG is finished in two steps that each take about as long as drawing figure 1's
//! lines: averaging the drawing down to the requested size (0.7 ms for 1600 x 1400) and encoding
//! the result (1 ms). Both go row by row, so another core scales bands of rows while this one
//! filters and compresses the rows already scaled; when compressing alone keeps this core busy
//! (a busy picture such as figure 3), the other filters the bands too.
//!
//! The file is byte for byte the one the `png` crate writes for the same pixels with fast
//! (fdeflate) compression and the Paeth filter on every row (a test holds it to that). `png`
//! wants the whole picture before it starts, so its steps are repeated here, row by row, with the
//! same compressor. Why these settings: on figure 1 the default adaptive filter (all five tried
//! on every row) took 3.8 ms to make the file about a tenth smaller than Paeth does in 1.2 ms
//! (filled maps likewise); the pixels are the same either way.

use std::io::Cursor;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Mutex, PoisonError};

use crate::canvas::Drawing;
use crate::downsample::downsample;
use crate::error::{Error, Result};

/// Picture rows per band handed from the scaling thread to the encoder: few enough that the
/// encoder starts soon after the scaling does, enough that handing over is rare.
const BAND_ROWS: usize = 32;

/// Bytes per pixel (8-bit RGB).
const BPP: usize = 3;

/// The PNG row filter used on every row (PNG's filter type 4).
const PAETH: u8 = 4;

/// Encodes the picture of `drawing` as a PNG file, scaling it down first if it is larger.
pub(crate) fn encode(drawing: Drawing<'_>) -> Result<Vec<u8>> {
    encode_with(drawing, true)
}

/// [`encode`], scaling on another thread if `beside` (and one can be started), else all of it
/// first, on this one.
fn encode_with(drawing: Drawing<'_>, beside: bool) -> Result<Vec<u8>> {
    let (w, h) = drawing.picture_size();
    let row = w as usize * BPP;
    if drawing.factor == 1 {
        let bands = drawing.rgb.chunks(BAND_ROWS * row).map(|rows| Scaled { rows, filtered: None });
        let stream = compress(row, h as usize, bands.map(filtered_in_order(row)))?;
        return file((w, h), stream, drawing.rgb);
    }
    let Drawing { rgb, size, factor, picture } = drawing;
    let picture = &mut picture[..row * h as usize];
    let (sender, scaled) = mpsc::channel();
    let bands: Vec<(&[u8], &mut [u8])> = rgb
        .chunks(BAND_ROWS * row * (factor * factor) as usize)
        .zip(picture.chunks_mut(BAND_ROWS * row))
        .collect();
    let taken = AtomicUsize::new(0);
    let work = Mutex::new(Some(Scaling { bands, done: sender, taken: &taken }));
    let stream = std::thread::scope(|threads| {
        let scale = || scale_bands(&work, size.0, factor, row);
        if !beside || std::thread::Builder::new().spawn_scoped(threads, scale).is_err() {
            // No thread to be had: scale (and filter) everything here, then encode.
            scale();
        }
        let bands = scaled.iter().inspect(|_| {
            taken.fetch_add(1, Ordering::Relaxed);
        });
        compress(row, h as usize, bands.map(filtered_in_order(row)))
    })?;
    drop((work, scaled));
    file((w, h), stream, picture)
}

/// The scaling still to be done: bands of drawing rows with the bands of picture rows they scale
/// down to, where to send each picture band when it is done, and how many the encoder has taken.
struct Scaling<'a, 't> {
    bands: Vec<(&'a [u8], &'a mut [u8])>,
    done: Sender<Scaled<'a>>,
    taken: &'t AtomicUsize,
}

/// A band of the picture, scaled down, and filtered for the encoder if the scaling thread had
/// the time.
struct Scaled<'a> {
    rows: &'a [u8],
    filtered: Option<Vec<u8>>,
}

/// Takes the scaling out of `work` (unless another thread has) and does it, band by band, in
/// order; `width` is the drawing's, `row` the bytes of a picture row. While the encoder is two
/// bands or more behind, this thread filters the bands it sends as well: compressing alone keeps
/// the encoder busy when the picture is busy (figure 3), while a plain one compresses quickly
/// and the filtering is better left there (figure 1).
fn scale_bands(work: &Mutex<Option<Scaling<'_, '_>>>, width: u32, factor: u32, row: usize) {
    let Some(Scaling { bands, done, taken }) = work.lock().unwrap_or_else(PoisonError::into_inner).take()
    else {
        return;
    };
    let mut previous: &[u8] = &[];
    for (sent, (source, out)) in bands.into_iter().enumerate() {
        let source_rows = source.len() / (width as usize * BPP);
        downsample(source, (width, source_rows as u32), factor, out);
        let rows: &[u8] = out;
        let behind = sent.saturating_sub(taken.load(Ordering::Relaxed)) >= 2;
        let band = Scaled { rows, filtered: behind.then(|| filtered(rows, previous, row)) };
        if done.send(band).is_err() {
            return;
        }
        previous = &rows[rows.len() - row..];
    }
}

/// Takes bands of the picture from the top down and returns each filtered (filtering those
/// the scaling thread has not): the rows of `row` bytes are filtered against the row above,
/// which for a band's first is the last band's last.
fn filtered_in_order<'a>(row: usize) -> impl FnMut(Scaled<'a>) -> Vec<u8> {
    let mut previous: &'a [u8] = &[];
    move |Scaled { rows, filtered: done }| {
        let band = done.unwrap_or_else(|| filtered(rows, previous, row));
        previous = &rows[rows.len() - row..];
        band
    }
}

/// The rows of `band` (`row` bytes each), each with its filter byte and Paeth-filtered against
/// the one before: `previous` (the row above the band, empty above the first) for the first.
fn filtered(band: &[u8], previous: &[u8], row: usize) -> Vec<u8> {
    let zeros = vec![0; if previous.is_empty() { row } else { 0 }];
    let mut above = if previous.is_empty() { &zeros[..] } else { previous };
    let mut filtered = vec![0; band.len() / row * (row + 1)];
    for (current, out) in band.chunks_exact(row).zip(filtered.chunks_exact_mut(row + 1)) {
        out[0] = PAETH;
        paeth_row(above, current, &mut out[1..]);
        above = current;
    }
    filtered
}

/// The zlib stream of `height` filtered rows of `row` bytes each (and their filter bytes), given
/// in bands, compressed as the `png` crate's fast compression does.
fn compress(row: usize, height: usize, bands: impl Iterator<Item = Vec<u8>>) -> Result<Vec<u8>> {
    let mut compressor = fdeflate::Compressor::new(Cursor::new(Vec::new())).map_err(encoding)?;
    let mut bytes = 0;
    for band in bands {
        // Row by row, as `png` hands them over: fdeflate's output depends on where its input
        // is cut.
        for filtered_row in band.chunks(row + 1) {
            compressor.write_data(filtered_row).map_err(encoding)?;
        }
        bytes += band.len();
    }
    if bytes != height * (row + 1) {
        let count = bytes / (row + 1);
        return Err(Error::Drawing(format!("PNG encoding: {count} rows of {height} reached the encoder")));
    }
    Ok(compressor.finish().map_err(encoding)?.into_inner())
}

/// The PNG file of an RGB picture `size` pixels large whose filtered, compressed rows are
/// `stream`. Where compressing made the rows larger than storing them would (noise does that), they
/// are stored unfiltered instead, from `rgb`, as `png` does.
fn file((w, h): (u32, u32), stream: Vec<u8>, rgb: &[u8]) -> Result<Vec<u8>> {
    let row = w as usize * BPP;
    let stream = if stream.len()
        > fdeflate::StoredOnlyCompressor::<()>::compressed_size((row + 1) * h as usize)
    {
        let mut stored = fdeflate::StoredOnlyCompressor::new(Cursor::new(Vec::new())).map_err(encoding)?;
        for line in rgb.chunks_exact(row) {
            stored.write_data(&[0]).map_err(encoding)?;
            stored.write_data(line).map_err(encoding)?;
        }
        stored.finish().map_err(encoding)?.into_inner()
    } else {
        stream
    };
    let mut file = Vec::with_capacity(stream.len() + 64);
    let mut encoder = ::png::Encoder::new(&mut file, w, h);
    encoder.set_color(::png::ColorType::Rgb);
    encoder.set_depth(::png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(encoding)?;
    // PNG chunks hold at most 2^31 - 1 bytes.
    for chunk in stream.chunks(i32::MAX as usize) {
        writer.write_chunk(::png::chunk::IDAT, chunk).map_err(encoding)?;
    }
    writer.finish().map_err(encoding)?;
    Ok(file)
}

fn encoding(e: impl std::fmt::Display) -> Error {
    Error::Drawing(format!("PNG encoding: {e}"))
}

/// Writes `current` Paeth-filtered against `previous` (the row above) into `out`.
fn paeth_row(previous: &[u8], current: &[u8], out: &mut [u8]) {
    // The first pixel has nothing to its left: its predictor is the byte above.
    for i in 0..BPP {
        out[i] = current[i].wrapping_sub(previous[i]);
    }
    let len = current.len() - BPP;
    let (x, b) = (&current[BPP..], &previous[BPP..]);
    let (a, c) = (&current[..len], &previous[..len]);
    // In fixed blocks, which the compiler turns into vector instructions.
    let mut outs = out[BPP..].chunks_exact_mut(PAETH_BLOCK);
    let blocks = x.chunks_exact(PAETH_BLOCK).zip(b.chunks_exact(PAETH_BLOCK));
    let lefts = a.chunks_exact(PAETH_BLOCK).zip(c.chunks_exact(PAETH_BLOCK));
    for (o, ((x, b), (a, c))) in (&mut outs).zip(blocks.zip(lefts)) {
        for i in 0..PAETH_BLOCK {
            o[i] = x[i].wrapping_sub(paeth(a[i], b[i], c[i]));
        }
    }
    let done = len - len % PAETH_BLOCK;
    for (i, o) in outs.into_remainder().iter_mut().enumerate() {
        let i = done + i;
        *o = x[i].wrapping_sub(paeth(a[i], b[i], c[i]));
    }
}

/// Bytes per block in [`paeth_row`].
const PAETH_BLOCK: usize = 32;

/// The PNG specification's Paeth predictor: of the bytes to the left (`a`), above (`b`) and above
/// left (`c`), the one nearest `p = a + b - c`, ties going to `a`, then `b`.
///
/// Computed in bytes alone, as Luca Versari does in FPNGE, so that a vector register holds
/// sixteen of them rather than eight 16-bit sums: |p - a| = |b - c| and |p - b| = |a - c|;
/// |p - c| = |(a - c) + (b - c)| is ||b - c| - |a - c|| where `c` lies between `a` and `b`, and
/// elsewhere the sum of the other two, which never beats them, so any large value does.
fn paeth(a: u8, b: u8, c: u8) -> u8 {
    // Differences as max - min: `abs_diff` kept the loop from being vectorised (twice as slow).
    let to_a = b.max(c) - b.min(c);
    let to_b = a.max(c) - a.min(c);
    let to_c = if (a < c) == (c < b) { to_a.max(to_b) - to_a.min(to_b) } else { u8::MAX };
    if to_a <= to_b && to_a <= to_c {
        a
    } else if to_b <= to_c {
        b
    } else {
        c
    }
}

/// The predictor as the specification writes it, in whole numbers, for the tests.
#[cfg(test)]
fn paeth_by_the_book(a: u8, b: u8, c: u8) -> u8 {
    let p = a as i32 + b as i32 - c as i32;
    let (to_a, to_b, to_c) = ((p - a as i32).abs(), (p - b as i32).abs(), (p - c as i32).abs());
    if to_a <= to_b && to_a <= to_c {
        a
    } else if to_b <= to_c {
        b
    } else {
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    use image::ImageEncoder as _;

    /// The `png` crate's file for the same pixels, through `image`, as lossatlas wrote them before.
    fn reference(rgb: &[u8], (w, h): (u32, u32)) -> Vec<u8> {
        let mut png = Vec::new();
        PngEncoder::new_with_quality(&mut png, CompressionType::Fast, FilterType::Paeth)
            .write_image(rgb, w, h, image::ColorType::Rgb8)
            .unwrap();
        png
    }

    /// A fixed pseudo-random picture (an LCG), `smooth` of every 8 bytes a gentle ramp so that
    /// it compresses, the rest noise.
    fn picture((w, h): (u32, u32), smooth: usize) -> Vec<u8> {
        let mut state = 2024u32;
        (0..w as usize * h as usize * BPP)
            .map(|i| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                if i % 8 < smooth {
                    (i / 97 % 256) as u8
                } else {
                    (state >> 24) as u8
                }
            })
            .collect()
    }

    /// The file for `rgb` scaled down by `factor`, the scaling done beside the encoding or, if
    /// not `beside`, before it (when the scaling thread filters every band after the first two).
    fn encoded(rgb: &[u8], size: (u32, u32), factor: u32, beside: bool) -> Vec<u8> {
        let (w, h) = (size.0 / factor, size.1 / factor);
        let mut room = vec![0; if factor == 1 { 0 } else { (w * h) as usize * BPP }];
        encode_with(Drawing { rgb, size, factor, picture: &mut room }, beside).unwrap()
    }

    #[test]
    fn files_are_the_png_crates_byte_for_byte() {
        // Heights that are and are not whole bands; widths that are not multiples of 16; noise that
        // compresses (mostly smooth) and noise that does not (stored instead).
        for (size, factor, smooth) in [
            ((600, 2 * 70), 2, 7),
            ((202, 2 * 64), 2, 6),
            ((303, 3 * 33), 3, 5),
            ((151, 97), 1, 7),
            ((64, 80), 2, 0),
        ] {
            let drawing = picture(size, smooth);
            let mut scaled = vec![0; (size.0 / factor * size.1 / factor) as usize * BPP];
            downsample(&drawing, size, factor, &mut scaled);
            let small = (size.0 / factor, size.1 / factor);
            let reference = reference(&scaled, small);
            assert_eq!(encoded(&drawing, size, factor, true), reference, "{size:?} at {factor}");
            assert_eq!(encoded(&drawing, size, factor, false), reference, "{size:?} at {factor}, after");
        }
    }

    #[test]
    fn a_figure_decodes_to_the_pixels_drawn() {
        let seed = crate::test_support::seed_landscape(40);
        let figure = crate::ContourFigure::new(&seed, vec![0.5, 1.0, 3.0]);
        let png = crate::render(&figure, crate::ImageFormat::Png, (320, 260)).unwrap();
        let decoded = crate::test_support::decode(&png);
        assert_eq!(png, reference(decoded.as_raw(), (320, 260)));
    }

    #[test]
    fn paeth_picks_the_nearest_with_ties_to_the_left_then_above() {
        assert_eq!(paeth(10, 20, 10), 20); // p = 20: b exactly
        assert_eq!(paeth(20, 10, 10), 20); // p = 20: a exactly
        assert_eq!(paeth(5, 5, 5), 5);
        assert_eq!(paeth(0, 0, 255), 0); // p = -255: a and b tie at 255, a wins
        assert_eq!(paeth(100, 200, 180), 100); // p = 120: a 20 away, b 80, c 60
        assert_eq!(paeth(200, 100, 150), 150); // p = 150: c exactly
        for a in 0..=255 {
            for b in 0..=255 {
                for c in 0..=255 {
                    assert_eq!(paeth(a, b, c), paeth_by_the_book(a, b, c), "{a} {b} {c}");
                }
            }
        }
    }
}
