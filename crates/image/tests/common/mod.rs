//! Synthetic microscopy: Gaussian blobs rendered into integer frames.

#![allow(dead_code)]

use ndarray::{Array2, Array3};

/// A blob: centre (row, col), standard deviations (row, col), peak intensity.
#[derive(Debug, Clone, Copy)]
pub struct Blob {
    pub centre: (f64, f64),
    pub sd: (f64, f64),
    pub amplitude: f64,
}

/// The blobs rendered into an (h, w) frame, rounded to whole counts.
pub fn render(h: usize, w: usize, blobs: &[Blob]) -> Array2<f32> {
    Array2::from_shape_fn((h, w), |(r, c)| {
        let v: f64 = blobs
            .iter()
            .map(|b| {
                let dr = (r as f64 - b.centre.0) / b.sd.0;
                let dc = (c as f64 - b.centre.1) / b.sd.1;
                b.amplitude * (-0.5 * (dr * dr + dc * dc)).exp()
            })
            .sum();
        v.round() as f32
    })
}

/// A time-lapse of `n` frames: blob A moves right; blob B splits into two that drift apart
/// from frame `split`; blob C fades and is gone from frame `vanish` on.
pub fn moving_splitting_fading(n: usize, split: usize, vanish: usize) -> (Array3<f32>, Vec<Vec<Blob>>) {
    let (h, w) = (80, 120);
    let mut frames = Array3::<f32>::zeros((n, h, w));
    let mut truth = Vec::new();
    for t in 0..n {
        let tf = t as f64;
        let mut blobs = vec![Blob { centre: (20.0, 20.0 + 1.5 * tf), sd: (2.5, 3.5), amplitude: 120.0 }];
        if t < split {
            blobs.push(Blob { centre: (55.0, 60.0), sd: (3.0, 3.0), amplitude: 100.0 });
        } else {
            let gap = 3.0 + 2.0 * (t - split) as f64;
            blobs.push(Blob { centre: (55.0 - gap, 60.0), sd: (2.5, 2.5), amplitude: 90.0 });
            blobs.push(Blob { centre: (55.0 + gap, 60.0), sd: (2.5, 2.5), amplitude: 90.0 });
        }
        if t < vanish {
            let fade = 1.0 - t as f64 / vanish as f64;
            blobs.push(Blob {
                centre: (25.0, 95.0),
                sd: (3.0, 2.0),
                amplitude: 110.0 * fade.max(0.0) + 10.0,
            });
        }
        frames.index_axis_mut(ndarray::Axis(0), t).assign(&render(h, w, &blobs));
        truth.push(blobs);
    }
    (frames, truth)
}
