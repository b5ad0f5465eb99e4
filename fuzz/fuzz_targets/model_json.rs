//! Model files: any text gives a checked model or an error, for both model formats.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(text) = std::str::from_utf8(bytes) {
        if let Ok(m) = einmix::Mixture::from_json(text) {
            // A model that loads must score a point without panicking.
            let x = ndarray::Array2::<f64>::zeros((1, m.n_features()));
            let _ = m.score_samples(x.view());
        }
        let _ = einmix::VariationalMixture::from_json(text);
    }
});
