//! A Python array-like as a frame source: `einmix.image`'s reader object (`n_frames`,
//! `frame_shape`, `volume`, `read(i)` giving frame `i` as C-contiguous float32 `(Z, H, W)`),
//! called with the GIL one frame at a time, so a numpy memmap, a zarr array or a Dask array is
//! tracked without being loaded whole. An exception `read` raises is kept and re-raised as
//! itself once the run returns.

use std::sync::{Arc, Mutex};

use einmix_image::FrameSource;
use ndarray::Array3;
use numpy::PyReadonlyArray3;
use pyo3::prelude::*;

/// The first Python exception a reader raised, shared with the caller.
pub type Raised = Arc<Mutex<Option<PyErr>>>;

/// Frames read through a Python reader object.
pub struct PyFrames {
    reader: Py<PyAny>,
    n_frames: usize,
    shape: (usize, usize, usize),
    volume: bool,
    source_frames: Vec<usize>,
    raised: Raised,
}

impl PyFrames {
    /// Wraps `reader`; `source_frames` names its frames (default 0..n).
    pub fn new(
        reader: &Bound<'_, PyAny>,
        source_frames: Option<Vec<usize>>,
        raised: Raised,
    ) -> PyResult<PyFrames> {
        let n_frames: usize = reader.getattr("n_frames")?.extract()?;
        let shape: (usize, usize, usize) = reader.getattr("frame_shape")?.extract()?;
        let volume: bool = reader.getattr("volume")?.extract()?;
        let source_frames =
            source_frames.filter(|f| f.len() == n_frames).unwrap_or_else(|| (0..n_frames).collect());
        Ok(PyFrames { reader: reader.clone().unbind(), n_frames, shape, volume, source_frames, raised })
    }
}

impl FrameSource for PyFrames {
    fn n_frames(&self) -> usize {
        self.n_frames
    }
    fn frame_shape(&self) -> (usize, usize, usize) {
        self.shape
    }
    fn is_volume(&self) -> bool {
        self.volume
    }
    fn voxel_size(&self) -> Option<[f64; 3]> {
        None
    }
    fn source_frame(&self, i: usize) -> usize {
        self.source_frames[i]
    }
    fn read_frame(&mut self, i: usize) -> einmix_image::Result<Array3<f32>> {
        let read = Python::attach(|py| -> PyResult<Array3<f32>> {
            let frame = self.reader.call_method1(py, "read", (i,))?;
            let frame: PyReadonlyArray3<f32> = frame.extract(py)?;
            Ok(frame.as_array().to_owned())
        });
        read.map_err(|e| {
            let message = e.to_string();
            if let Ok(mut slot) = self.raised.lock() {
                slot.get_or_insert(e);
            }
            einmix_image::Error::Corrupt { path: "<array>".into(), format: "array", problem: message }
        })
    }
    fn describe(&self) -> String {
        "<array>".into()
    }
}
