//! Scaling a supersampled drawing down to the picture's size.

/// Averages each `factor` x `factor` block of an RGB buffer `size` pixels large (a box filter,
/// rounding halves up) into `out`, which holds the `size / factor` picture.
pub(crate) fn downsample(rgb: &[u8], size: (u32, u32), factor: u32, out: &mut [u8]) {
    if factor == 2 {
        return downsample_2x(rgb, size.0 as usize, out);
    }
    let (sw, f) = (size.0 as usize, factor as usize);
    let (w, h) = (sw / f, size.1 as usize / f);
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
}

/// Pixels per block in [`downsample_2x`].
const BLOCK: usize = 16;

/// [`downsample`] for the usual factor 2, `source_width` pixels wide: each output byte is the
/// rounded mean of the same channel in a 2 x 2 block, read straight from the two source rows with
/// no division by a run-time factor and no accumulator row. Blocks of [`BLOCK`] pixels first add
/// each byte to the one a pixel to its right in both rows (a plain loop the compiler vectorises),
/// then keep every other pixel's sums.
fn downsample_2x(rgb: &[u8], source_width: usize, out: &mut [u8]) {
    let row_bytes = source_width * 3;
    let out_row_bytes = source_width / 2 * 3;
    for (pair, out_row) in rgb.chunks_exact(2 * row_bytes).zip(out.chunks_exact_mut(out_row_bytes)) {
        let (top, bottom) = pair.split_at(row_bytes);
        let mut outs = out_row.chunks_exact_mut(3 * BLOCK);
        let mut tops = top.chunks_exact(6 * BLOCK);
        let mut bottoms = bottom.chunks_exact(6 * BLOCK);
        for ((o, t), b) in (&mut outs).zip(&mut tops).zip(&mut bottoms) {
            let mut sums = [0u16; 6 * BLOCK];
            for k in 0..6 * BLOCK - 3 {
                sums[k] = t[k] as u16 + t[k + 3] as u16 + b[k] as u16 + b[k + 3] as u16 + 2;
            }
            for x in 0..BLOCK {
                for c in 0..3 {
                    o[3 * x + c] = (sums[6 * x + c] >> 2) as u8;
                }
            }
        }
        let (o, t, b) = (outs.into_remainder(), tops.remainder(), bottoms.remainder());
        for ((o, t), b) in o.chunks_exact_mut(3).zip(t.chunks_exact(6)).zip(b.chunks_exact(6)) {
            for c in 0..3 {
                let sum = t[c] as u16 + t[c + 3] as u16 + b[c] as u16 + b[c + 3] as u16;
                o[c] = ((sum + 2) >> 2) as u8;
            }
        }
    }
}

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
        let mut out = vec![7u8; 6];
        downsample(&rgb, (4, 2), 2, &mut out);
        assert_eq!(out, vec![0, 0, 0, 255, 255, 255]);
        rgb[0] = 100;
        downsample(&rgb, (4, 2), 2, &mut out);
        assert_eq!(out[0], 25);
        // 102 / 4 = 25.5 rounds up, like the general box filter.
        rgb[0] = 102;
        downsample(&rgb, (4, 2), 2, &mut out);
        assert_eq!(out[0], 26);
    }

    /// The general box filter written out pixel by pixel, as the reference for the fast paths.
    fn box_filter(rgb: &[u8], (sw, sh): (usize, usize), f: usize) -> Vec<u8> {
        let (w, h) = (sw / f, sh / f);
        let mut out = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            for x in 0..w {
                for c in 0..3 {
                    let mut sum = 0u32;
                    for dy in 0..f {
                        for dx in 0..f {
                            sum += rgb[((y * f + dy) * sw + x * f + dx) * 3 + c] as u32;
                        }
                    }
                    let n = (f * f) as u32;
                    out.push(((sum + n / 2) / n) as u8);
                }
            }
        }
        out
    }

    #[test]
    fn every_factor_matches_the_box_filter_on_noise() {
        // 108 = 2 x (3 blocks + 6 pixels): blocks and a remainder at factor 2; divisible by 1 to 4.
        let (sw, sh) = (108usize, 24usize);
        // A fixed pseudo-random picture (an LCG), so every sum and rounding case turns up.
        let mut state = 12345u32;
        let rgb: Vec<u8> = (0..sw * sh * 3)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 24) as u8
            })
            .collect();
        for f in 1..=4usize {
            let mut out = vec![0u8; (sw / f) * (sh / f) * 3];
            downsample(&rgb, (sw as u32, sh as u32), f as u32, &mut out);
            assert_eq!(out, box_filter(&rgb, (sw, sh), f), "factor {f}");
        }
    }
}
