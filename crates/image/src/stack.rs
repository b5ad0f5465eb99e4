//! What the readers produce: a [`Stack`] of 2-D frames or 3-D volumes, an optional [`Mask`],
//! and the choices made while reading ([`ReadOptions`]: Z projection or volumes, frame range
//! and stride).

use std::fmt;
use std::str::FromStr;

use ndarray::{s, Array2, Array3, Array4, ArrayView2, ArrayView3, Axis};

use crate::error::{Error, Result};

/// A time-lapse of 2-D frames or of 3-D volumes, shape `(F, Z, H, W)` with `Z = 1` for 2-D
/// frames; a single image is a stack of one frame. Intensities are `f32` (exact for 8- and
/// 16-bit data).
#[derive(Debug, Clone, PartialEq)]
pub struct Stack {
    /// The pixels, `(frames, slices, rows, columns)`.
    pub pixels: Array4<f32>,
    /// For each frame, its index in the file (after the frame range and stride).
    pub source_frames: Vec<usize>,
    /// Whether each frame is a 3-D volume (its Z slices kept, [`ZProject::Volume`]) rather
    /// than a 2-D image.
    pub volume: bool,
    /// The voxel's sides `(z, row, col)` the file states (OME-TIFF `PhysicalSize{Z,Y,X}`), if any.
    pub voxel_size: Option<[f64; 3]>,
}

impl Stack {
    /// A stack of 2-D frames from `(F, H, W)` pixels, frames numbered from 0.
    ///
    /// ```
    /// let stack = einmix_image::Stack::new(ndarray::Array3::zeros((2, 4, 5)));
    /// assert_eq!((stack.n_frames(), stack.shape()), (2, (4, 5)));
    /// ```
    pub fn new(pixels: Array3<f32>) -> Stack {
        let source_frames = (0..pixels.dim().0).collect();
        Stack { pixels: pixels.insert_axis(Axis(1)), source_frames, volume: false, voxel_size: None }
    }
    /// A stack of 3-D volumes from `(T, Z, H, W)` voxels, time points numbered from 0.
    ///
    /// ```
    /// let stack = einmix_image::Stack::from_volumes(ndarray::Array4::zeros((2, 3, 4, 5)));
    /// assert_eq!((stack.n_frames(), stack.depth(), stack.shape()), (2, 3, (4, 5)));
    /// ```
    pub fn from_volumes(pixels: Array4<f32>) -> Stack {
        let source_frames = (0..pixels.dim().0).collect();
        Stack { pixels, source_frames, volume: true, voxel_size: None }
    }
    /// A stack of one image.
    pub fn from_image(image: Array2<f32>) -> Stack {
        Stack::new(image.insert_axis(Axis(0)))
    }
    /// Number of frames `F` (time points).
    pub fn n_frames(&self) -> usize {
        self.pixels.dim().0
    }
    /// Z slices per frame (1 for 2-D frames).
    pub fn depth(&self) -> usize {
        self.pixels.dim().1
    }
    /// `(H, W)` of every frame.
    pub fn shape(&self) -> (usize, usize) {
        let (_, _, h, w) = self.pixels.dim();
        (h, w)
    }
    /// Frame `f` (0-based in this stack) as a 2-D image: the frame itself, or for a volume its
    /// maximum-intensity projection along Z (owned, so a copy).
    pub fn frame(&self, f: usize) -> Array2<f32> {
        let volume = self.volume(f);
        if volume.dim().0 == 1 {
            return volume.index_axis(Axis(0), 0).to_owned();
        }
        volume.fold_axis(Axis(0), f32::NEG_INFINITY, |&a, &b| a.max(b))
    }
    /// Frame `f` as `(Z, H, W)` (`Z = 1` for a 2-D frame).
    pub fn volume(&self, f: usize) -> ArrayView3<'_, f32> {
        self.pixels.index_axis(Axis(0), f)
    }
    /// Frame `f` of a stack of 2-D frames, without a copy; `None` for a volume.
    pub fn plane(&self, f: usize) -> Option<ArrayView2<'_, f32>> {
        (!self.volume).then(|| self.pixels.slice(s![f, 0, .., ..]))
    }
}

/// What becomes of the Z slices of a `(T, Z, Y, X)` stack: one 2-D frame per time point, or
/// one 3-D volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ZProject {
    /// Refuse stacks with more than one Z slice per time point (the default).
    #[default]
    None,
    /// Maximum-intensity projection along Z: 2-D frames.
    Max,
    /// Keep every slice: each time point is a 3-D volume, fitted in (z, row, col).
    Volume,
}

impl FromStr for ZProject {
    type Err = Error;
    fn from_str(s: &str) -> Result<ZProject> {
        match s {
            "none" => Ok(ZProject::None),
            "max" => Ok(ZProject::Max),
            "volume" => Ok(ZProject::Volume),
            _ => Err(Error::InvalidParameter {
                name: "z_project",
                value: s.to_string(),
                expected: "'z_project' should be 'none', 'max' or 'volume'",
            }),
        }
    }
}

impl fmt::Display for ZProject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ZProject::None => "none",
            ZProject::Max => "max",
            ZProject::Volume => "volume",
        })
    }
}

/// Which frames of a stack to keep: `start..stop` by `step` (Python's slice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRange {
    /// First frame kept (default 0).
    pub start: usize,
    /// One past the last frame kept (default: the end).
    pub stop: Option<usize>,
    /// Stride (default 1).
    pub step: usize,
}

impl Default for FrameRange {
    fn default() -> Self {
        FrameRange { start: 0, stop: None, step: 1 }
    }
}

impl FromStr for FrameRange {
    type Err = Error;
    /// `START:STOP:STEP` with any part omitted (`10:`, `::2`, `0:30:5`), or one frame `N`.
    fn from_str(s: &str) -> Result<FrameRange> {
        let bad = || Error::InvalidParameter {
            name: "frames",
            value: s.to_string(),
            expected: "frames are START:STOP:STEP (each part optional, STEP >= 1) or one frame N",
        };
        let number = |t: &str| t.trim().parse::<usize>().map_err(|_| bad());
        let parts: Vec<&str> = s.split(':').collect();
        let optional = |t: &str| if t.trim().is_empty() { Ok(None) } else { number(t).map(Some) };
        let range = match parts[..] {
            [one] => {
                let n = number(one)?;
                FrameRange { start: n, stop: Some(n + 1), step: 1 }
            }
            [a, b] => FrameRange { start: optional(a)?.unwrap_or(0), stop: optional(b)?, step: 1 },
            [a, b, c] => FrameRange {
                start: optional(a)?.unwrap_or(0),
                stop: optional(b)?,
                step: optional(c)?.unwrap_or(1),
            },
            _ => return Err(bad()),
        };
        if range.step == 0 {
            return Err(bad());
        }
        Ok(range)
    }
}

impl FrameRange {
    /// The kept indices of a stack of `n` frames; an error when none is kept.
    pub fn indices(&self, n: usize) -> Result<Vec<usize>> {
        let stop = self.stop.unwrap_or(n).min(n);
        let v: Vec<usize> = (self.start..stop).step_by(self.step.max(1)).collect();
        if v.is_empty() {
            return Err(Error::EmptyFrameSelection {
                start: self.start,
                stop: self.stop.unwrap_or(n),
                step: self.step,
                frames: n,
            });
        }
        Ok(v)
    }
}

/// How a file becomes a [`Stack`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadOptions {
    /// What to do with Z slices (default: refuse them).
    pub z_project: ZProject,
    /// Z slices per time point, for a multi-page TIFF without OME metadata (or a 3-D `.npy`)
    /// that holds a `(T, Z, Y, X)` stack with Z fastest. Default: from OME metadata, else 1.
    pub z_slices: Option<usize>,
    /// The frames kept (after projection).
    pub frames: FrameRange,
    /// Which channel of a multichannel file (an RGB PNG or TIFF, an OME-TIFF with several
    /// channels), from 0. Required for those (they are never averaged); a single-channel file
    /// takes only 0.
    pub channel: Option<usize>,
}

/// Pixels as read from a file, before projection and frame selection: `(T, Z, H, W)`, and
/// the voxel size the file states.
#[derive(Debug, Clone)]
pub(crate) struct Raw {
    pub t: usize,
    pub z: usize,
    pub h: usize,
    pub w: usize,
    pub data: Vec<f32>,
    pub voxel_size: Option<[f64; 3]>,
}

impl Raw {
    /// Projects Z (or keeps it, for volumes) and selects frames.
    pub(crate) fn into_stack(self, options: &ReadOptions) -> Result<Stack> {
        let Raw { t, z, h, w, data, voxel_size } = self;
        if z > 1 && options.z_project == ZProject::None {
            return Err(Error::ZNeedsProjection { z });
        }
        let keep = options.frames.indices(t)?;
        let plane = h * w;
        if options.z_project == ZProject::Volume {
            if z == 1 {
                return Err(Error::FlatVolume);
            }
            let mut pixels = Array4::<f32>::zeros((keep.len(), z, h, w));
            for (out, &ti) in keep.iter().enumerate() {
                let dst = pixels.slice_mut(s![out, .., .., ..]).into_slice().expect("standard layout");
                dst.copy_from_slice(&data[ti * z * plane..(ti + 1) * z * plane]);
            }
            return Ok(Stack { pixels, source_frames: keep, volume: true, voxel_size });
        }
        let mut pixels = Array3::<f32>::zeros((keep.len(), h, w));
        for (out, &ti) in keep.iter().enumerate() {
            let dst = pixels.slice_mut(s![out, .., ..]).into_slice().expect("standard layout");
            dst.copy_from_slice(&data[ti * z * plane..ti * z * plane + plane]);
            for zi in 1..z {
                let src = &data[(ti * z + zi) * plane..(ti * z + zi + 1) * plane];
                for (d, &v) in dst.iter_mut().zip(src) {
                    *d = d.max(v);
                }
            }
        }
        Ok(Stack { source_frames: keep, voxel_size, ..Stack::new(pixels) })
    }
}

/// Which pixels are inside: from a label image, the nonzero pixels or those of one label.
#[derive(Debug, Clone, PartialEq)]
pub struct Mask {
    inside: Array2<bool>,
}

impl Mask {
    /// From a label image: `label = None` keeps every nonzero pixel, `Some(l)` the pixels equal to `l`.
    ///
    /// ```
    /// use ndarray::array;
    /// let labels = array![[0.0f32, 1.0], [2.0, 2.0]];
    /// let mask = einmix_image::Mask::from_labels(labels.view(), Some(2))?;
    /// assert_eq!(mask.count(), 2);
    /// # Ok::<(), einmix_image::Error>(())
    /// ```
    pub fn from_labels(labels: ArrayView2<f32>, label: Option<i64>) -> Result<Mask> {
        let inside = match label {
            None => labels.mapv(|v| v != 0.0),
            Some(l) => labels.mapv(|v| v == l as f32),
        };
        let mask = Mask { inside };
        if let Some(l) = label {
            if mask.count() == 0 {
                return Err(Error::MaskLabelAbsent { label: l });
            }
        }
        Ok(mask)
    }
    /// From booleans (true = inside).
    pub fn from_bools(inside: Array2<bool>) -> Mask {
        Mask { inside }
    }
    /// `(H, W)`.
    pub fn shape(&self) -> (usize, usize) {
        self.inside.dim()
    }
    /// Whether pixel (row, col) is inside.
    pub fn contains(&self, row: usize, col: usize) -> bool {
        self.inside[[row, col]]
    }
    /// The booleans.
    pub fn view(&self) -> ArrayView2<'_, bool> {
        self.inside.view()
    }
    /// Number of pixels inside.
    pub fn count(&self) -> usize {
        self.inside.iter().filter(|&&b| b).count()
    }
    /// An error unless the mask has the image's `(H, W)`.
    pub fn check_shape(&self, image: (usize, usize)) -> Result<()> {
        if self.shape() != image {
            return Err(Error::MaskShape { mask: self.shape(), image });
        }
        Ok(())
    }
}
