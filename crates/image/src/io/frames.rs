//! Frames one time point at a time: a [`FrameSource`] reads time point `t` when it is asked
//! for it, so a video of any length is tracked in the memory of one frame.
//!
//! Two layers. A format reader is a [`TimePoints`]: the file's `(T, Z, H, W)` layout and one
//! time point's `Z` planes on demand (TIFF page by page, `.npy` by positioned reads, a folder
//! file by file, OME-Zarr chunk by chunk). [`Frames`] puts the choices of [`ReadOptions`] on
//! top of any of them, the same way for every format: `z_slices` regrouping, the frame range,
//! and the Z projection or volume. The in-memory [`Stack`] is a source too ([`StackFrames`]),
//! so the one tracking loop serves files, arrays and Python array-likes alike.

use std::path::Path;

use ndarray::{s, Array3};

use crate::error::{Error, Result};
use crate::stack::{ReadOptions, Stack, ZProject};

/// A time-lapse read one frame at a time.
pub trait FrameSource: Send {
    /// Frames (time points) in the selection.
    fn n_frames(&self) -> usize;
    /// `(Z, H, W)` of every frame as it is fitted: `Z = 1` for 2-D frames (projected, where
    /// the file has slices), the slices of a volume.
    fn frame_shape(&self) -> (usize, usize, usize);
    /// Whether each frame is a 3-D volume.
    fn is_volume(&self) -> bool;
    /// The voxel's sides `(z, row, col)` the source states, if any.
    fn voxel_size(&self) -> Option<[f64; 3]>;
    /// The index in the file of frame `i` of the selection.
    fn source_frame(&self, i: usize) -> usize;
    /// Frame `i` of the selection, `(Z, H, W)`.
    fn read_frame(&mut self, i: usize) -> Result<Array3<f32>>;
    /// What the frames come from (a path, `<array>`), for messages and checkpoints.
    fn describe(&self) -> String;
}

/// A file's time points, `Z` planes each, read on demand.
pub trait TimePoints: Send {
    /// `(T, Z, H, W)` as the file holds them (one channel chosen).
    fn layout(&self) -> (usize, usize, usize, usize);
    /// The voxel's sides `(z, row, col)` the file states, if any.
    fn voxel_size(&self) -> Option<[f64; 3]>;
    /// Time point `t`'s `Z x H x W` values (Z slowest) into `out`.
    fn read_time_point(&mut self, t: usize, out: &mut [f32]) -> Result<()>;
    /// The file, for messages.
    fn path(&self) -> &Path;
    /// Whether the file ends before its last time point (a file still being written, or cut
    /// short): its last time point is then incomplete, and reading it says why.
    fn truncated(&self) -> bool {
        false
    }
}

/// A [`TimePoints`] seen through [`ReadOptions`]: frames selected, slices regrouped,
/// projected or kept as volumes.
pub struct Frames {
    inner: Box<dyn TimePoints>,
    /// `(Z, H, W)` of the file's time points after regrouping.
    z: usize,
    h: usize,
    w: usize,
    /// Underlying time points per regrouped one (`z_slices` on a file of single planes).
    group: usize,
    keep: Vec<usize>,
    project: ZProject,
    buffer: Vec<f32>,
}

impl Frames {
    /// `inner` with `options` applied; errors as [`read_stack`](crate::read_stack) gives them.
    pub fn new(inner: Box<dyn TimePoints>, options: &ReadOptions) -> Result<Frames> {
        let (mut t, mut z, h, w) = inner.layout();
        let mut group = 1;
        if let Some(slices) = options.z_slices {
            if slices == 0 {
                return Err(Error::InvalidParameter {
                    name: "z_slices",
                    value: "0".into(),
                    expected: "z_slices must be at least 1",
                });
            }
            if z != 1 && z != slices {
                // The file says how many slices it has; a different number is a mistake.
                return Err(Error::ZSlicesMismatch { pages: t * z, z: slices });
            }
            if z == 1 {
                // A truncated file's last time point is incomplete: it is kept, so that the run
                // stops at that frame with the page that could not be read.
                if t % slices != 0 && !inner.truncated() {
                    return Err(Error::ZSlicesMismatch { pages: t, z: slices });
                }
                (t, z, group) = (t.div_ceil(slices), slices, slices);
            }
        }
        if z > 1 && options.z_project == ZProject::None {
            return Err(Error::ZNeedsProjection { z });
        }
        if options.z_project == ZProject::Volume && z == 1 {
            return Err(Error::FlatVolume);
        }
        let keep = options.frames.indices(t)?;
        Ok(Frames { inner, z, h, w, group, keep, project: options.z_project, buffer: Vec::new() })
    }

    /// The raw `(Z, H, W)` values of the file's (regrouped) time point `t`.
    fn read_raw(&mut self, t: usize) -> Result<()> {
        let plane = self.h * self.w;
        self.buffer.resize(self.z * plane, 0.0);
        if self.group == 1 {
            return self.inner.read_time_point(t, &mut self.buffer);
        }
        let available = self.inner.layout().0;
        for (zi, out) in self.buffer.chunks_mut(plane).enumerate() {
            let index = t * self.group + zi;
            if index >= available {
                return Err(Error::Corrupt {
                    path: self.inner.path().to_path_buf(),
                    format: "stack",
                    problem: format!("the file ends before slice {zi} of time point {t}"),
                });
            }
            self.inner.read_time_point(index, out)?;
        }
        Ok(())
    }
}

impl FrameSource for Frames {
    fn n_frames(&self) -> usize {
        self.keep.len()
    }
    fn frame_shape(&self) -> (usize, usize, usize) {
        if self.project == ZProject::Volume {
            (self.z, self.h, self.w)
        } else {
            (1, self.h, self.w)
        }
    }
    fn is_volume(&self) -> bool {
        self.project == ZProject::Volume
    }
    fn voxel_size(&self) -> Option<[f64; 3]> {
        self.inner.voxel_size()
    }
    fn source_frame(&self, i: usize) -> usize {
        self.keep[i]
    }
    fn read_frame(&mut self, i: usize) -> Result<Array3<f32>> {
        self.read_raw(self.keep[i])?;
        let plane = self.h * self.w;
        if self.project == ZProject::Volume {
            return Ok(Array3::from_shape_vec((self.z, self.h, self.w), self.buffer.clone())
                .expect("a time point has Z x H x W values"));
        }
        // The maximum over the slices (the identity for one slice), as `Raw::into_stack` does.
        let mut out = self.buffer[..plane].to_vec();
        for zi in 1..self.z {
            for (d, &v) in out.iter_mut().zip(&self.buffer[zi * plane..(zi + 1) * plane]) {
                *d = d.max(v);
            }
        }
        Ok(Array3::from_shape_vec((1, self.h, self.w), out).expect("a plane has H x W values"))
    }
    fn describe(&self) -> String {
        self.inner.path().display().to_string()
    }
}

/// An in-memory [`Stack`] as a [`FrameSource`].
pub struct StackFrames<'a> {
    stack: &'a Stack,
}

impl<'a> StackFrames<'a> {
    /// The frames of `stack`.
    pub fn new(stack: &'a Stack) -> StackFrames<'a> {
        StackFrames { stack }
    }
}

impl FrameSource for StackFrames<'_> {
    fn n_frames(&self) -> usize {
        self.stack.n_frames()
    }
    fn frame_shape(&self) -> (usize, usize, usize) {
        let (h, w) = self.stack.shape();
        (self.stack.depth(), h, w)
    }
    fn is_volume(&self) -> bool {
        self.stack.volume
    }
    fn voxel_size(&self) -> Option<[f64; 3]> {
        self.stack.voxel_size
    }
    fn source_frame(&self, i: usize) -> usize {
        self.stack.source_frames[i]
    }
    fn read_frame(&mut self, i: usize) -> Result<Array3<f32>> {
        Ok(self.stack.pixels.slice(s![i, .., .., ..]).to_owned())
    }
    fn describe(&self) -> String {
        "<array>".into()
    }
}
