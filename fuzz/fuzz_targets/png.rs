//! The image pipeline's reader on a `.png` file: any bytes give a stack or an error naming
//! the file, never a panic, a hang or an unbounded allocation; with no channel (a multichannel
//! file is then an error listing its channels) and with channel 1 (one channel picked).
#![no_main]
use libfuzzer_sys::fuzz_target;

use einmix_image::ReadOptions;

fuzz_target!(|bytes: &[u8]| {
    let path = std::path::Path::new("input.png");
    let _ = einmix_image::read_stack_bytes(path, bytes, &ReadOptions::default());
    let _ = einmix_image::read_stack_bytes(path, bytes, &ReadOptions { channel: Some(1), ..Default::default() });
});
