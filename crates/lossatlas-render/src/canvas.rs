//! The memory a PNG is drawn in: one buffer for the (supersampled) drawing and the scaled-down
//! picture, kept for the next picture drawn on the same thread.
//!
//! Why this is its own thing and not a `Vec`: for a short command such as figure 1 (a 1600 x 1400
//! drawing scaled to 800 x 700, 8.4 MB), getting the memory costs more than drawing on it. A
//! fresh heap buffer is about 2,050 pages of 4 KiB, and each one is a page fault when first
//! written: 2.5 ms of a 12 ms process on the machine BENCHMARKS.md names. Mapped directly and
//! marked for transparent huge pages, the same memory is five 2 MiB pages, and asking the kernel
//! to fill them in up front avoids even those five faults: about 0.8 ms for the 8.4 MB, most of it
//! the kernel clearing them. Fresh mappings read as zero already, so a new canvas is not cleared
//! a second time by hand.

use memmap2::{MmapMut, MmapOptions};

use crate::downsample::downsample;

/// Canvases bigger than this many bytes are not kept between pictures (a 4000 x 4000 supersampled
/// picture should not hold 190 MB for the rest of the process).
const MAX_KEPT_CANVAS_BYTES: usize = 32 << 20;

/// The size of a transparent huge page on x86-64 and on arm64 with 4 KiB pages. Mappings are
/// rounded up to it so the kernel can back all of them with huge pages.
const HUGE_PAGE_BYTES: usize = 2 << 20;

thread_local! {
    /// The buffer the next PNG on this thread is drawn in; animations, the live server and
    /// repeated figures reuse it rather than map a new one each time.
    pub(crate) static CANVAS: std::cell::RefCell<Canvas> = const { std::cell::RefCell::new(Canvas { memory: None, cleared: false }) };
}

/// Reusable pixel memory for PNGs and GIF frames.
#[derive(Debug)]
pub(crate) struct Canvas {
    memory: Option<Memory>,
    /// Whether every byte of `memory` is still zero (true of a fresh mapping, until lent).
    cleared: bool,
}

/// Where a canvas's bytes live: an anonymous mapping, or the heap where mapping is not
/// available (some platforms and sandboxes).
#[derive(Debug)]
enum Memory {
    Mapped(MmapMut),
    Heap(Vec<u8>),
}

impl Memory {
    /// At least `bytes` zeroed bytes.
    fn zeroed(bytes: usize) -> Memory {
        let len = bytes.div_ceil(HUGE_PAGE_BYTES).max(1) * HUGE_PAGE_BYTES;
        match MmapOptions::new().len(len).map_anon() {
            Ok(map) => {
                // Both are hints: on a kernel without transparent huge pages, or with them
                // turned off, the mapping is ordinary 4 KiB pages and the faults come back.
                #[cfg(target_os = "linux")]
                {
                    let _ = map.advise(memmap2::Advice::HugePage);
                    let _ = map.advise_range(memmap2::Advice::PopulateWrite, 0, bytes);
                }
                Memory::Mapped(map)
            }
            // `vec!` of zeros asks the allocator for zeroed memory; it writes no zeros itself.
            Err(_) => Memory::Heap(vec![0; bytes]),
        }
    }

    fn bytes(&mut self) -> &mut [u8] {
        match self {
            Memory::Mapped(map) => &mut map[..],
            Memory::Heap(vec) => &mut vec[..],
        }
    }
}

impl Canvas {
    /// A drawing buffer of `drawn` bytes and a buffer of `small` bytes for the scaled-down
    /// picture, whose every byte the downsampling writes. The drawing buffer is zeroed (as a
    /// fresh one would be: what a figure does not paint stays black, whatever the last picture
    /// was) unless `clear` is false, for a drawing that paints every byte before anything else:
    /// then a reused buffer holds what the last picture left.
    pub(crate) fn lend(&mut self, drawn: usize, small: usize, clear: bool) -> (&mut [u8], &mut [u8]) {
        let needed = drawn + small;
        if self.memory.as_mut().is_none_or(|memory| memory.bytes().len() < needed) {
            // The smaller canvas goes back first, so the two are never held at once.
            self.memory = None;
            self.memory = Some(Memory::zeroed(needed));
            self.cleared = true;
        }
        let bytes = self.memory.as_mut().expect("a canvas was just made").bytes();
        let (drawn_bytes, rest) = bytes.split_at_mut(drawn);
        if clear && !self.cleared {
            drawn_bytes.fill(0);
        }
        self.cleared = false;
        (drawn_bytes, &mut rest[..small])
    }

    /// Gives the memory back if it is more than a picture of ordinary size needs (called when a
    /// picture is done with it).
    pub(crate) fn shrink(&mut self) {
        if self.memory.as_mut().is_some_and(|memory| memory.bytes().len() > MAX_KEPT_CANVAS_BYTES) {
            self.memory = None;
        }
    }
}

/// A finished drawing on a canvas, `factor` times the picture's width and height, and the room
/// lent beside it for the picture.
#[derive(Debug)]
pub(crate) struct Drawing<'a> {
    /// The drawing's RGB bytes.
    pub rgb: &'a [u8],
    /// The drawing's width and height in pixels.
    pub size: (u32, u32),
    /// How many times larger than the picture the drawing is, in each direction.
    pub factor: u32,
    /// Room for the picture's RGB bytes (none when `factor` is 1: the drawing is the picture).
    pub picture: &'a mut [u8],
}

impl<'a> Drawing<'a> {
    /// The picture's width and height in pixels.
    pub fn picture_size(&self) -> (u32, u32) {
        (self.size.0 / self.factor, self.size.1 / self.factor)
    }

    /// The picture's RGB bytes: the drawing, scaled down if it is larger.
    pub fn into_picture(self) -> &'a [u8] {
        if self.factor == 1 {
            return self.rgb;
        }
        downsample(self.rgb, self.size, self.factor, self.picture);
        self.picture
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_canvas_starts_blank() {
        let mut canvas = Canvas { memory: None, cleared: false };
        let (drawn, small) = canvas.lend(12, 3, true);
        assert!(drawn.iter().all(|&b| b == 0));
        drawn.fill(200);
        small.fill(9);
        let (drawn, small) = canvas.lend(24, 6, true);
        assert_eq!((drawn.len(), small.len()), (24, 6));
        assert!(drawn.iter().all(|&b| b == 0));
        drawn.fill(200);
        // Lent for a drawing that paints every byte itself, it is left as it was.
        assert!(canvas.lend(24, 6, false).0.iter().all(|&b| b == 200));
    }

    #[test]
    fn a_large_canvas_is_not_kept() {
        let mut canvas = Canvas { memory: None, cleared: false };
        canvas.lend(MAX_KEPT_CANVAS_BYTES + 1, 0, true).0[7] = 1;
        canvas.shrink();
        assert!(canvas.memory.is_none());
        canvas.lend(100, 10, true);
        canvas.shrink();
        assert!(canvas.memory.is_some());
    }
}
