//! The one font every figure uses: DejaVu Sans, compiled into the binary from the `dejavu` crate.
//!
//! plotters' default `ttf` feature asks fontconfig for system fonts, which a fresh machine may not
//! have; its `ab_glyph` feature draws from fonts registered here instead, so output is identical
//! everywhere and there is nothing to install.

use std::sync::Once;

use plotters::style::FontStyle;

/// The family name figures ask plotters for.
pub const FAMILY: &str = "sans-serif";

/// Registers DejaVu Sans (regular and bold) under [`FAMILY`]. Idempotent and cheap after the first
/// call; [`crate::render`] calls it, so users of this crate never need to.
pub fn ensure_registered() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a known-good TrueType file shipped in the dejavu crate; a failure here
        // would be a packaging bug, caught by every rendering test.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FAMILY, FontStyle::Bold, dejavu::sans::bold());
    });
}
