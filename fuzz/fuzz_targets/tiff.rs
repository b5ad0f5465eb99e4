//! The image pipeline's reader on a `.tif` file: any bytes give a stack or an error naming
//! the file, never a panic, a hang or an unbounded allocation.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let path = std::path::Path::new("input.tif");
    let _ = einmix_image::read_stack_bytes(path, bytes, &einmix_image::ReadOptions::default());
});
