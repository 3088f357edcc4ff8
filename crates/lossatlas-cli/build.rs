//! Links the `lossatlas` executable at a fixed address (not position-independent) on Linux.
//!
//! Why: a position-independent executable is relocated by the dynamic loader at every start, and
//! this one holds about 63,000 pointers in its static data (the vtables and tables of its
//! dependencies, the ONNX runtime's among them). Writing them copies some 200 pages and reads
//! 1.5 MB of relocation records on every run: `lossatlas --version` took 1.09 ms position-
//! independent and 0.67 ms at a fixed address, and figure 1's whole `lossatlas contour` gains the
//! same 0.4 ms or more (BENCHMARKS.md). Linked at a fixed address there is nothing to relocate.
//! What is given up: the executable's own code and data sit at the same address every run (as
//! Go's executables do by default); the stack, heap, shared libraries and mappings are still
//! placed at random.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bin=lossatlas=-no-pie");
    }
}
