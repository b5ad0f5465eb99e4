//! `.npz` archives: any bytes give a table, weights or an error, never a panic or an allocation
//! the archive's size does not justify (a member claiming more than deflate can expand to).
#![no_main]
use libfuzzer_sys::fuzz_target;

use std::path::Path;

fuzz_target!(|bytes: &[u8]| {
    let name = Some(Path::new("data.npz"));
    let _ = einmix_io::read_data(name, bytes, &[], None);
    let _ = einmix_io::read_data(name, bytes, &[], Some("w"));
    let _ = einmix_io::read_weights(name, bytes, 4);
    if let Ok(mut archive) = einmix_io::npz::Npz::new(bytes) {
        for member in archive.names() {
            let _ = archive.array::<f32>(&member);
        }
    }
});
