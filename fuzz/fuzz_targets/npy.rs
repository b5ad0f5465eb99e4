//! The `.npy` reader: any bytes give an array or an error, never a panic, a hang or an
//! allocation the file's own size does not justify.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = einmix_io::npy::read::<f64>(bytes);
    let _ = einmix_io::npy::read::<f32>(bytes);
    if let Ok((header, start)) = einmix_io::npy::header(bytes) {
        let _ = header.check_data_len(bytes.len().saturating_sub(start) as u64);
    }
});
