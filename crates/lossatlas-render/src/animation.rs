//! Animated GIFs of optimizer runs: one frame per chosen step, each a whole figure (a contour map
//! with the paths so far, say) under a strip with a step counter and a progress bar.
//!
//! All frames share one palette of up to 255 colours chosen from a few frames spread over the run
//! (a weighted median cut over their colours: large flat areas such as the background, bands and
//! paths get their exact colours, the anti-aliased edges the nearest), so a colour never flickers
//! between frames. Each frame after the first stores only the rectangle that changed, with the
//! unchanged pixels in it transparent, which keeps a 100-frame animation at a few hundred kB.
//! Frames are drawn in parallel on all cores.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::bitmap::Bitmap;
use crate::error::{Error, Result};
use crate::font::FAMILY;
use crate::labels::Sizes;
use crate::output::{draw_rgb, Figure};
use crate::overlay::PathOverlay;

/// Settings of an animated GIF. The fields are independent; [`GifOptions::default`] gives a
/// 560 x 480 picture at 12.5 frames per second that holds its last frame for 2 seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GifOptions {
    /// Width and height in pixels (100 to 20000 each).
    pub size: (u32, u32),
    /// How long each frame shows, in milliseconds (GIF counts in hundredths of a second; values
    /// below 20 ms are raised to 20, since browsers slow faster frames down to 100 ms).
    pub delay_ms: u16,
    /// How long the last frame shows before the animation starts over, in milliseconds (at least
    /// `delay_ms`).
    pub hold_last_ms: u16,
    /// Draw a strip above the figure with "step 37 / 400" and a progress bar. Default: true.
    pub step_counter: bool,
    /// The step count the counter and the progress bar run to. Default (`None`): the largest
    /// step animated.
    pub total_steps: Option<usize>,
}

impl Default for GifOptions {
    fn default() -> GifOptions {
        GifOptions {
            size: (560, 480),
            delay_ms: 80,
            hold_last_ms: 2000,
            step_counter: true,
            total_steps: None,
        }
    }
}

/// Step counts for the frames of an animation of a run of `total_steps` steps: at most
/// `max_frames` of them, ascending, without repeats, from 0 to `total_steps` (all steps when they
/// fit). Frames are dense at the start, where optimizer paths move fast, and sparser later: the
/// spacing grows geometrically from one step to about `2.5 * total_steps / max_frames` at the end
/// (about 10 steps for 400 steps in 100 frames). With `max_frames` 1 the only frame is the last
/// step; with 0 there are none.
pub fn frame_steps(total_steps: usize, max_frames: usize) -> Vec<usize> {
    match max_frames {
        0 => return Vec::new(),
        1 => return vec![total_steps],
        _ if total_steps < max_frames => return (0..=total_steps).collect(),
        _ => {}
    }
    let n = max_frames;
    let total = total_steps as f64;
    // Frame i of n sits at total * h(i / (n - 1)), h(t) = (e^(k t) - 1) / (e^k - 1); k makes the
    // first gap one step: total * h'(0) / (n - 1) = 1, i.e. k / (e^k - 1) = (n - 1) / total.
    let target = (n - 1) as f64 / total;
    let g = |k: f64| k / k.exp_m1();
    let (mut lo, mut hi) = (1e-9, 700.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if g(mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let k = 0.5 * (lo + hi);
    let h = |t: f64| (k * t).exp_m1() / k.exp_m1();
    let mut steps: Vec<usize> = Vec::with_capacity(n);
    for i in 0..n {
        let s = (total * h(i as f64 / (n - 1) as f64)).round() as usize;
        // Strictly increasing, with room left for the frames still to come.
        let lowest = steps.last().map_or(0, |&p| p + 1);
        let highest = total_steps - (n - 1 - i);
        steps.push(s.clamp(lowest, highest));
    }
    steps
}

/// The paths as they were after `step` steps: each cut after its vertex `step` (paths that ended
/// earlier, by converging or diverging, stay whole), with their losses cut alike.
pub fn paths_at(paths: &[PathOverlay], step: usize) -> Vec<PathOverlay> {
    paths
        .iter()
        .map(|p| {
            let n = (step + 1).min(p.points.len());
            PathOverlay {
                label: p.label.clone(),
                color: p.color,
                points: p.points[..n].to_vec(),
                losses: p.losses.as_ref().map(|l| l[..(step + 1).min(l.len())].to_vec()),
            }
        })
        .collect()
}

/// The most frames an animation holds: at the default 80 ms a frame, 20 seconds of film. Longer
/// lists of steps are thinned evenly ([`bounded_steps`]), so the time and size of a GIF do not
/// grow with the steps asked for.
const MAX_FRAMES: usize = 250;

/// At most `max` of `steps` (ascending, without repeats), spread evenly over the list and always
/// holding its first and last, so an animation still starts at the start and ends at the end.
fn bounded_steps(steps: &[usize], max: usize) -> Vec<usize> {
    let mut sorted = steps.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let n = sorted.len();
    if n <= max || max < 2 {
        return if max == 1 { sorted.last().copied().into_iter().collect() } else { sorted };
    }
    let mut out: Vec<usize> = (0..max).map(|k| sorted[k * (n - 1) / (max - 1)]).collect();
    out.dedup();
    out
}

/// Draws `figure_at(step)` for each of `steps` (see [`frame_steps`]) and encodes the frames as one
/// GIF that loops forever. Returns the file's bytes.
///
/// Steps are drawn in ascending order, each once; more than 250 are thinned evenly to 250
/// (keeping the first and the last), so a careless list cannot make an endless animation.
///
/// `figure_at` builds the figure of one frame, e.g. a [`crate::ContourFigure`] whose paths are
/// [`paths_at`] the step; it is called once per frame (from several threads, hence `Sync`) and
/// once more to ask for [`Figure::supersampling`].
pub fn render_gif<F, M>(figure_at: M, steps: &[usize], options: &GifOptions) -> Result<Vec<u8>>
where
    F: Figure,
    M: Fn(usize) -> F + Sync,
{
    crate::font::ensure_registered();
    let (w, h) = options.size;
    if !(100..=20_000).contains(&w) || !(100..=20_000).contains(&h) {
        return Err(Error::Invalid(format!(
            "animation size {w}x{h} is out of range; use between 100x100 and 20000x20000 pixels"
        )));
    }
    let steps = bounded_steps(steps, MAX_FRAMES);
    let Some(&last_step) = steps.last() else {
        return Err(Error::Invalid("an animation needs at least one frame; give at least one step".into()));
    };
    let total = options.total_steps.unwrap_or(last_step);
    let mut factor = figure_at(steps[0]).supersampling().clamp(1, 4);
    while factor > 1 && (w as u64 * h as u64) * (factor as u64).pow(2) > MAX_SUPERSAMPLED_PIXELS {
        factor -= 1;
    }
    let frame = FrameSpec { size: (w, h), factor, total, counter: options.step_counter };
    let draw = |k: usize| frame.draw(&figure_at(steps[k]), steps[k]);

    // The palette, from up to five frames spread over the run (their pictures are kept for reuse).
    let n = steps.len();
    let mut samples: Vec<usize> = (0..5).map(|q| q * (n - 1) / 4).collect();
    samples.dedup();
    let sampled: Vec<Vec<u8>> =
        parallel_map(samples.len(), |s| draw(samples[s])).into_iter().collect::<Result<_>>()?;
    let mut histogram: HashMap<[u8; 3], u64> = HashMap::new();
    for rgb in &sampled {
        for px in rgb.chunks_exact(3) {
            *histogram.entry([px[0], px[1], px[2]]).or_insert(0) += 1;
        }
    }
    let quantizer = Quantizer::new(median_cut(&histogram, 255), histogram.keys().copied());
    let mut sampled: HashMap<usize, Vec<u8>> = samples.iter().copied().zip(sampled).collect();

    let transparent = quantizer.palette.len() as u8;
    let mut palette_bytes: Vec<u8> = quantizer.palette.iter().flatten().copied().collect();
    palette_bytes.extend([255, 255, 255]);
    let mut out = Vec::new();
    {
        let gif_error = |e: gif::EncodingError| Error::Drawing(format!("GIF encoding: {e}"));
        let mut encoder =
            gif::Encoder::new(&mut out, w as u16, h as u16, &palette_bytes).map_err(gif_error)?;
        encoder.set_repeat(gif::Repeat::Infinite).map_err(gif_error)?;
        let delay = (options.delay_ms / 10).max(2);
        let hold = (options.hold_last_ms / 10).max(delay);
        let mut previous: Option<Vec<u8>> = None;
        // Batches bound the memory: a few frames per core at a time.
        let batch = 4 * threads();
        let mut start = 0;
        while start < n {
            let end = (start + batch).min(n);
            let ready: Vec<Option<Vec<u8>>> = (start..end).map(|k| sampled.remove(&k)).collect();
            let ready = Mutex::new(ready);
            let indexed: Vec<Vec<u8>> = parallel_map(end - start, |i| {
                let rgb =
                    ready.lock().map_err(|_| Error::Drawing("a frame thread panicked".into()))?[i].take();
                let rgb = match rgb {
                    Some(rgb) => rgb,
                    None => draw(start + i)?,
                };
                Ok(quantizer.indices(&rgb))
            })
            .into_iter()
            .collect::<Result<_>>()?;
            let frames: Vec<gif::Frame<'static>> = parallel_map(indexed.len(), |i| {
                let prev = if i == 0 { previous.as_deref() } else { Some(indexed[i - 1].as_slice()) };
                let mut f = delta_frame(prev, &indexed[i], (w as u16, h as u16), transparent);
                f.delay = if start + i + 1 == n { hold } else { delay };
                f.make_lzw_pre_encoded();
                f
            });
            for f in &frames {
                encoder.write_lzw_pre_encoded_frame(f).map_err(gif_error)?;
            }
            previous = indexed.into_iter().last();
            start = end;
        }
    }
    Ok(out)
}

/// Drawing buffers larger than this many pixels are not supersampled (as in [`crate::render`]).
const MAX_SUPERSAMPLED_PIXELS: u64 = 64 << 20;

/// How one frame is drawn.
#[derive(Debug, Clone, Copy)]
struct FrameSpec {
    size: (u32, u32),
    factor: u32,
    total: usize,
    counter: bool,
}

impl FrameSpec {
    /// The frame at `step` as RGB bytes of the final size.
    fn draw(&self, figure: &impl Figure, step: usize) -> Result<Vec<u8>> {
        let draw = |bitmap: &mut Bitmap<'_>| {
            let strip = bitmap.draw(|root| {
                root.fill(&WHITE)?;
                if self.counter {
                    draw_counter(root, step, self.total)
                } else {
                    Ok(0)
                }
            })?;
            figure.draw_bitmap(&mut bitmap.below(strip))
        };
        // The frame begins with a white fill of the whole canvas: nothing to clear first.
        draw_rgb(self.size, self.factor, false, draw, |drawing| Ok(drawing.into_picture().to_vec()))
    }
}

/// Draws "step 37 / 400" and a progress bar in a strip along the top of `root`; returns the
/// strip's height in pixels.
fn draw_counter<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, step: usize, total: usize) -> Result<u32> {
    let (w, h) = root.dim_in_pixel();
    let sz = Sizes::for_area(w, h);
    let strip = (1.9 * sz.tick).round();
    let font = (FAMILY, sz.tick).into_font();
    let pad = sz.len(10.0);
    let cy = (0.6 * strip).round() as i32;
    let st = font.clone().color(&RGBColor(40, 40, 40)).pos(Pos::new(HPos::Left, VPos::Center));
    root.draw(&Text::new(format!("step {step} / {total}"), (pad.round() as i32, cy), st))?;
    // The bar starts where the widest counter text ends, so it stays put as the digits change.
    let widest = root
        .estimate_text_size(&format!("step {total} / {total}"), &TextStyle::from(font))
        .map(|(tw, _)| tw as f64)
        .unwrap_or(8.0 * sz.tick);
    let (x0, x1) = (pad + widest + sz.len(12.0), w as f64 - pad);
    if x1 > x0 + sz.len(20.0) {
        let half = sz.len(3.0).max(1.0);
        let (y0, y1) = ((cy as f64 - half).round() as i32, (cy as f64 + half).round() as i32);
        let fraction = if total > 0 { (step as f64 / total as f64).clamp(0.0, 1.0) } else { 1.0 };
        root.draw(&Rectangle::new(
            [(x0.round() as i32, y0), (x1.round() as i32, y1)],
            RGBColor(225, 225, 225).filled(),
        ))?;
        let xf = x0 + fraction * (x1 - x0);
        if xf >= x0 + 1.0 {
            root.draw(&Rectangle::new(
                [(x0.round() as i32, y0), (xf.round() as i32, y1)],
                RGBColor(90, 90, 90).filled(),
            ))?;
        }
    }
    Ok(strip as u32)
}

/// A frame that changes only what differs from `previous` (the whole picture for the first):
/// the bounding box of the changed pixels, the unchanged ones in it `transparent`.
fn delta_frame(
    previous: Option<&[u8]>,
    current: &[u8],
    (w, h): (u16, u16),
    transparent: u8,
) -> gif::Frame<'static> {
    let Some(previous) = previous else {
        return gif::Frame::from_indexed_pixels(w, h, current, None);
    };
    let (wu, hu) = (w as usize, h as usize);
    let (mut x0, mut y0, mut x1, mut y1) = (wu, hu, 0, 0);
    for y in 0..hu {
        let (a, b) = (&previous[y * wu..(y + 1) * wu], &current[y * wu..(y + 1) * wu]);
        if a == b {
            continue;
        }
        let first = a.iter().zip(b).position(|(p, q)| p != q).expect("the rows differ");
        let last = wu - 1 - a.iter().zip(b).rev().position(|(p, q)| p != q).expect("the rows differ");
        (x0, x1, y0, y1) = (x0.min(first), x1.max(last), y0.min(y), y);
    }
    if x0 > x1 {
        // Nothing changed: one transparent pixel keeps the frame (and its delay).
        let mut f = gif::Frame::from_indexed_pixels(1, 1, &[transparent], Some(transparent));
        f.dispose = gif::DisposalMethod::Keep;
        return f;
    }
    let mut pixels = Vec::with_capacity((x1 - x0 + 1) * (y1 - y0 + 1));
    for y in y0..=y1 {
        for x in x0..=x1 {
            let i = y * wu + x;
            pixels.push(if current[i] == previous[i] { transparent } else { current[i] });
        }
    }
    let mut f = gif::Frame::from_indexed_pixels(
        (x1 - x0 + 1) as u16,
        (y1 - y0 + 1) as u16,
        &pixels,
        Some(transparent),
    );
    (f.left, f.top) = (x0 as u16, y0 as u16);
    f.dispose = gif::DisposalMethod::Keep;
    f
}

/// A fixed palette and the mapping of colours to their nearest entry.
#[derive(Debug)]
struct Quantizer {
    palette: Vec<[u8; 3]>,
    /// The nearest entry of every colour seen while choosing the palette.
    known: HashMap<[u8; 3], u8>,
}

impl Quantizer {
    fn new(palette: Vec<[u8; 3]>, colors: impl Iterator<Item = [u8; 3]>) -> Quantizer {
        let mut q = Quantizer { palette, known: HashMap::new() };
        q.known = colors.map(|c| (c, q.nearest(c))).collect();
        q
    }

    fn nearest(&self, c: [u8; 3]) -> u8 {
        let d = |p: &[u8; 3]| (0..3).map(|k| (p[k] as i32 - c[k] as i32).pow(2)).sum::<i32>();
        let (best, _) =
            self.palette.iter().enumerate().min_by_key(|(_, p)| d(p)).expect("the palette is not empty");
        best as u8
    }

    /// The palette index of each pixel of an RGB buffer.
    fn indices(&self, rgb: &[u8]) -> Vec<u8> {
        let mut extra: HashMap<[u8; 3], u8> = HashMap::new();
        rgb.chunks_exact(3)
            .map(|px| {
                let c = [px[0], px[1], px[2]];
                match self.known.get(&c) {
                    Some(&i) => i,
                    None => *extra.entry(c).or_insert_with(|| self.nearest(c)),
                }
            })
            .collect()
    }
}

/// Up to `max` colours representing a weighted set of colours: while there are fewer boxes than
/// `max`, the box whose colours lie furthest from their mean (sum of count x squared distance) is
/// cut in two where that sum drops most, along any of the three channels; each box gives its
/// weighted mean. With no more than `max` distinct colours, those are the palette.
fn median_cut(histogram: &HashMap<[u8; 3], u64>, max: usize) -> Vec<[u8; 3]> {
    let mut colors: Vec<([u8; 3], u64)> = histogram.iter().map(|(&c, &n)| (c, n)).collect();
    colors.sort_unstable();
    if colors.is_empty() {
        return vec![[255, 255, 255]];
    }
    if colors.len() <= max {
        return colors.into_iter().map(|(c, _)| c).collect();
    }
    let mut boxes = vec![ColorBox::new(colors)];
    while boxes.len() < max {
        let worst = boxes
            .iter()
            .enumerate()
            .filter(|(_, b)| b.colors.len() > 1)
            .max_by(|a, b| a.1.sse.total_cmp(&b.1.sse))
            .map(|(i, _)| i);
        let Some(i) = worst else { break };
        let (a, b) = boxes.swap_remove(i).split();
        boxes.push(a);
        boxes.push(b);
    }
    boxes.iter().map(ColorBox::mean).collect()
}

/// Colours with their counts, and how spread out they are.
#[derive(Debug)]
struct ColorBox {
    colors: Vec<([u8; 3], u64)>,
    sse: f64,
}

/// Running sums for the squared error of a set of weighted colours.
#[derive(Debug, Clone, Copy, Default)]
struct Moments {
    n: f64,
    s: [f64; 3],
    q: f64,
}

impl Moments {
    fn add(&mut self, c: [u8; 3], count: u64) {
        let n = count as f64;
        self.n += n;
        for (s, &v) in self.s.iter_mut().zip(&c) {
            *s += n * v as f64;
            self.q += n * (v as f64).powi(2);
        }
    }

    fn sse(&self) -> f64 {
        if self.n == 0.0 {
            return 0.0;
        }
        (self.q - self.s.iter().map(|s| s * s).sum::<f64>() / self.n).max(0.0)
    }

    fn minus(&self, o: &Moments) -> Moments {
        Moments { n: self.n - o.n, s: [0, 1, 2].map(|k| self.s[k] - o.s[k]), q: self.q - o.q }
    }
}

impl ColorBox {
    fn new(colors: Vec<([u8; 3], u64)>) -> ColorBox {
        let mut m = Moments::default();
        for &(c, n) in &colors {
            m.add(c, n);
        }
        ColorBox { colors, sse: m.sse() }
    }

    fn mean(&self) -> [u8; 3] {
        let mut m = Moments::default();
        for &(c, n) in &self.colors {
            m.add(c, n);
        }
        [0, 1, 2].map(|k| (m.s[k] / m.n).round().clamp(0.0, 255.0) as u8)
    }

    /// The best cut into two non-empty boxes.
    fn split(mut self) -> (ColorBox, ColorBox) {
        let mut total = Moments::default();
        for &(c, n) in &self.colors {
            total.add(c, n);
        }
        let mut best: Option<(f64, usize, usize)> = None; // (sse, channel, cut)
        for k in 0..3 {
            self.colors.sort_unstable_by_key(|&(c, _)| (c[k], c));
            let mut left = Moments::default();
            for cut in 1..self.colors.len() {
                let (c, n) = self.colors[cut - 1];
                left.add(c, n);
                if self.colors[cut].0[k] == c[k] {
                    continue; // cut only between different values of the channel
                }
                let sse = left.sse() + total.minus(&left).sse();
                if best.is_none_or(|(b, _, _)| sse < b) {
                    best = Some((sse, k, cut));
                }
            }
        }
        // All colours in a box differ, so some channel separates them.
        let (_, k, cut) = best.expect("a box of two or more distinct colours can be cut");
        self.colors.sort_unstable_by_key(|&(c, _)| (c[k], c));
        let right = self.colors.split_off(cut);
        (ColorBox::new(self.colors), ColorBox::new(right))
    }
}

/// Worker threads for drawing frames.
fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(16)
}

/// `f(0), ..., f(n - 1)`, computed on all cores, in order.
fn parallel_map<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let workers = threads().min(n);
    if workers <= 1 {
        return (0..n).map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, T)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            break mine;
                        }
                        mine.push((i, f(i)));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    });
    results.sort_unstable_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, t)| t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_steps_are_sorted_unique_and_span_the_run() {
        for (total, max) in
            [(400, 100), (400, 2), (400, 3), (10, 100), (99, 100), (100, 100), (5000, 150), (1, 2)]
        {
            let s = frame_steps(total, max);
            assert!(s.len() <= max, "{total}/{max}: {} frames", s.len());
            assert_eq!(s[0], 0, "{total}/{max}");
            assert_eq!(*s.last().unwrap(), total, "{total}/{max}");
            assert!(s.windows(2).all(|w| w[0] < w[1]), "{total}/{max}: {s:?}");
            assert_eq!(s.len(), max.min(total + 1), "{total}/{max}");
        }
        // Dense early, sparse late.
        let s = frame_steps(400, 100);
        assert_eq!(&s[..5], &[0, 1, 2, 3, 4]);
        let last_gap = s[99] - s[98];
        assert!((8..=14).contains(&last_gap), "last gap {last_gap}");
        assert_eq!(frame_steps(400, 1), vec![400]);
        assert!(frame_steps(400, 0).is_empty());
        assert_eq!(frame_steps(0, 10), vec![0]);
    }

    #[test]
    fn a_long_list_of_steps_is_thinned_evenly_keeping_both_ends() {
        let steps: Vec<usize> = (0..=30_000).collect();
        let b = bounded_steps(&steps, MAX_FRAMES);
        assert_eq!(b.len(), MAX_FRAMES);
        assert_eq!((b[0], *b.last().unwrap()), (0, 30_000));
        assert!(b.windows(2).all(|w| w[0] < w[1]));
        // Evenly: every gap is within one step of 30000 / 249.
        let gaps: Vec<usize> = b.windows(2).map(|w| w[1] - w[0]).collect();
        let (lo, hi) = (gaps.iter().min().unwrap(), gaps.iter().max().unwrap());
        assert!(hi - lo <= 1 && *lo == 30_000 / 249, "{lo}..{hi}");
        // Short, unsorted or repeated lists are only sorted and deduplicated.
        assert_eq!(bounded_steps(&[5, 1, 5, 3], MAX_FRAMES), vec![1, 3, 5]);
        assert_eq!(bounded_steps(&[5, 1, 3], 1), vec![5]);
    }

    #[test]
    fn paths_are_cut_at_the_step() {
        let p = PathOverlay {
            label: "a".into(),
            color: RGBColor(1, 2, 3),
            points: vec![[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]],
            losses: Some(vec![3.0, 2.0, 1.0]),
        };
        let cut = paths_at(std::slice::from_ref(&p), 1);
        assert_eq!(cut[0].points, vec![[0.0, 0.0], [1.0, 1.0]]);
        assert_eq!(cut[0].losses, Some(vec![3.0, 2.0]));
        assert_eq!(paths_at(std::slice::from_ref(&p), 10)[0], p);
    }

    #[test]
    fn median_cut_keeps_dominant_colours_exact() {
        let mut h = HashMap::new();
        h.insert([255, 255, 255], 1_000_000);
        h.insert([213, 94, 0], 5_000);
        h.insert([0, 114, 178], 5_000);
        // A ramp of faint anti-aliasing colours.
        for i in 0..=255u8 {
            h.insert([i, i / 2, 255 - i], 3);
            h.insert([i, 255 - i, i / 3], 2);
        }
        let p = median_cut(&h, 32);
        assert_eq!(p.len(), 32);
        for c in [[255, 255, 255], [213, 94, 0], [0, 114, 178]] {
            assert!(p.contains(&c), "{c:?} not exact in {p:?}");
        }
        let small: HashMap<[u8; 3], u64> = [([1, 2, 3], 5), ([4, 5, 6], 1)].into_iter().collect();
        assert_eq!(median_cut(&small, 255), vec![[1, 2, 3], [4, 5, 6]]);
    }

    /// A bowl u^2 + 4 v^2 on [-2, 2]^2.
    fn bowl(n: usize) -> lossatlas::Landscape {
        use lossatlas::{Axis, GridSpec, Landscape, Plane};
        let grid = GridSpec::new(
            Axis::new("u", -2.0, 2.0, n).unwrap(),
            Axis::new("v", -2.0, 2.0, n).unwrap(),
            lossatlas::DEFAULT_GRID_BUDGET_BYTES,
        )
        .unwrap();
        let (us, vs) = (grid.u().values(), grid.v().values());
        let values = vs.iter().flat_map(|&v| us.iter().map(move |&u| u * u + 4.0 * v * v)).collect();
        let plane = Plane::parameter_axes(&["u".to_string(), "v".to_string()]).unwrap();
        Landscape::from_values(grid, plane, values).unwrap()
    }

    /// Every frame of a GIF as shown on screen (each composited over the ones before).
    pub(crate) fn decode_frames(gif: &[u8]) -> (u16, u16, Vec<Vec<u8>>) {
        let mut options = gif::DecodeOptions::new();
        options.set_color_output(gif::ColorOutput::RGBA);
        let mut decoder = options.read_info(gif).unwrap();
        let (w, h) = (decoder.width(), decoder.height());
        let mut canvas = vec![0u8; w as usize * h as usize * 3];
        let mut frames = Vec::new();
        while let Some(f) = decoder.read_next_frame().unwrap() {
            for y in 0..f.height as usize {
                for x in 0..f.width as usize {
                    let px = &f.buffer[(y * f.width as usize + x) * 4..][..4];
                    if px[3] > 0 {
                        let o = ((y + f.top as usize) * w as usize + x + f.left as usize) * 3;
                        canvas[o..o + 3].copy_from_slice(&px[..3]);
                    }
                }
            }
            frames.push(canvas.clone());
        }
        (w, h, frames)
    }

    #[test]
    fn a_gif_of_a_path_decodes_with_every_frame() {
        let landscape = bowl(41);
        let path = PathOverlay {
            label: "gd".into(),
            color: crate::PATH_COLORS[0],
            points: (0..=30)
                .map(|i| (0.85f64.powi(i), (-1f64).powi(i)))
                .map(|(s, sign)| [1.8 * s, 1.5 * s * sign])
                .collect(),
            losses: None,
        };
        let steps = frame_steps(30, 6);
        assert_eq!(steps.len(), 6);
        let options = GifOptions { size: (240, 200), ..GifOptions::default() };
        let figure = |step: usize| {
            crate::ContourFigure::new(&landscape, vec![0.5, 1.0, 2.0, 4.0])
                .paths(paths_at(std::slice::from_ref(&path), step))
        };
        let gif = render_gif(figure, &steps, &options).unwrap();
        let (w, h, frames) = decode_frames(&gif);
        assert_eq!((w, h), (240, 200));
        assert_eq!(frames.len(), steps.len());
        // The path grows: every frame differs from the one before, and the last has the path colour.
        for pair in frames.windows(2) {
            assert_ne!(pair[0], pair[1]);
        }
        let last = &frames[frames.len() - 1];
        let mut colors: Vec<&[u8]> = last.chunks_exact(3).collect();
        colors.sort_unstable();
        colors.dedup();
        assert!(colors.len() > 30, "only {} colours", colors.len());
        // Without the counter, frame 0 of a figure with no path is the figure alone.
        let plain = GifOptions { step_counter: false, ..options.clone() };
        let gif = render_gif(figure, &[0], &plain).unwrap();
        assert_eq!(decode_frames(&gif).2.len(), 1);
        // Bad settings are refused.
        assert!(render_gif(figure, &[], &options).is_err());
        let tiny = GifOptions { size: (50, 50), ..options };
        assert!(render_gif(figure, &[0], &tiny).unwrap_err().to_string().contains("50x50"));
    }

    #[test]
    fn delta_frames_cover_only_the_change() {
        let prev = vec![0u8; 6 * 4];
        let mut cur = prev.clone();
        cur[6 + 2] = 5;
        cur[2 * 6 + 4] = 7;
        let f = delta_frame(Some(&prev), &cur, (6, 4), 9);
        assert_eq!((f.left, f.top, f.width, f.height), (2, 1, 3, 2));
        assert_eq!(&f.buffer[..], &[5, 9, 9, 9, 9, 7]);
        let same = delta_frame(Some(&prev), &prev, (6, 4), 9);
        assert_eq!((same.width, same.height, same.transparent), (1, 1, Some(9)));
        let first = delta_frame(None, &cur, (6, 4), 9);
        assert_eq!((first.width, first.height, first.transparent), (6, 4, None));
    }
}
