//! Errors of the image pipeline: data, not strings.
//!
//! A reader error names the file and says what is wrong with it (a truncated TIFF, a sample
//! format we do not read, a mask whose size is not the image's); a fit error names the frame.

use std::path::PathBuf;

use thiserror::Error;

/// The result type of every fallible call in `einmix-image`.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong between an image file and its mixtures.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be opened, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file's extension is not one we read.
    #[error("{}: unknown image format; expected .tif, .tiff, .png or .npy", path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// The file is damaged: truncated, a bad header, inconsistent sizes.
    #[error("{}: not a valid {format} file: {problem}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// "TIFF", "PNG" or ".npy".
        format: &'static str,
        /// What the decoder found.
        problem: String,
    },
    /// The file is valid but stores pixels in a way we do not read (colour, complex, 12-bit...).
    #[error("{}: unsupported {format} sample format: {what}", path.display())]
    UnsupportedSampleFormat {
        /// The file.
        path: PathBuf,
        /// "TIFF", "PNG" or ".npy".
        format: &'static str,
        /// The sample format found, and what would be read instead.
        what: String,
    },
    /// A file of several channels, read without `--channel`: never averaged silently.
    #[error("{}: the image has {count} channels ({names}): choose one with --channel N (Python: channel=N)", path.display())]
    ChooseChannel {
        /// The file.
        path: PathBuf,
        /// How many.
        count: usize,
        /// `0: red, 1: green, 2: blue`, or the OME names.
        names: String,
    },
    /// `--channel N` beyond the file's channels.
    #[error("{}: channel {channel} does not exist: the image has {count} channel(s) ({names})", path.display())]
    NoSuchChannel {
        /// The file.
        path: PathBuf,
        /// The channel asked for.
        channel: usize,
        /// How many there are.
        count: usize,
        /// Their names.
        names: String,
    },
    /// The array read has a shape that is not an image, a stack or a (T, Z, Y, X) stack.
    #[error("{}: shape {shape:?} is not (H, W), (F, H, W) or (T, Z, H, W)", path.display())]
    UnsupportedShape {
        /// The file.
        path: PathBuf,
        /// The shape found.
        shape: Vec<usize>,
    },
    /// Frames of one file differ in size.
    #[error("{}: page {page} is {found:?} pixels but the first page is {expected:?}", path.display())]
    InconsistentPages {
        /// The file.
        path: PathBuf,
        /// The first page that differs.
        page: usize,
        /// (height, width) of the first page.
        expected: (usize, usize),
        /// (height, width) of this page.
        found: (usize, usize),
    },
    /// The stack has Z slices per time point and no projection was asked for.
    #[error(
        "the stack has {z} Z slices per time point; ask for a maximum-intensity projection \
         (--z-project max, z_project=\"max\")"
    )]
    ZNeedsProjection {
        /// Slices per time point.
        z: usize,
    },
    /// Volumes asked for, but every time point has a single slice.
    #[error("volumes (z_project 'volume', --z volume) need Z slices, but every time point of this stack has 1; a (Z, H, W) .npy or a TIFF without OME metadata says how many slices a time point has with z_slices (--z-slices Z)")]
    FlatVolume,
    /// The pages cannot be split into time points of `z` slices.
    #[error("{pages} pages cannot be split into time points of {z} Z slices")]
    ZSlicesMismatch {
        /// Pages in the file.
        pages: usize,
        /// Slices per time point asked for.
        z: usize,
    },
    /// The mask's size is not the image's.
    #[error("the mask is {mask:?} pixels but the image is {image:?} (height, width)")]
    MaskShape {
        /// (height, width) of the mask.
        mask: (usize, usize),
        /// (height, width) of the image.
        image: (usize, usize),
    },
    /// The chosen mask label does not occur in the mask.
    #[error("label {label} does not occur in the mask")]
    MaskLabelAbsent {
        /// The label asked for.
        label: i64,
    },
    /// The frame selection selects nothing.
    #[error("frames {start}..{stop} step {step} select nothing from a stack of {frames} frames")]
    EmptyFrameSelection {
        /// First frame asked for.
        start: usize,
        /// One past the last frame asked for.
        stop: usize,
        /// Stride.
        step: usize,
        /// Frames in the stack.
        frames: usize,
    },
    /// No pixel of a frame is above the background level.
    #[error("frame {frame}: no pixel inside the mask is above the background level {background}")]
    EmptyFrame {
        /// The frame (index in the input stack).
        frame: usize,
        /// The background level in force.
        background: f64,
    },
    /// Peak finding found no local maximum to start from.
    #[error(
        "frame {frame}: no local intensity maximum above {threshold} at least {min_distance} pixels \
         apart; lower the threshold or the minimum distance, or give K"
    )]
    NoPeaks {
        /// The frame.
        frame: usize,
        /// The absolute threshold in force.
        threshold: f64,
        /// The minimum distance in force.
        min_distance: usize,
    },
    /// An option is outside its valid range.
    #[error("invalid value for '{name}': {value}. {expected}")]
    InvalidParameter {
        /// The option's name.
        name: &'static str,
        /// The value given.
        value: String,
        /// What would have been valid.
        expected: &'static str,
    },
    /// The mixture fit of a frame failed.
    #[error("frame {frame}: {source}")]
    Fit {
        /// The frame.
        frame: usize,
        /// The core's error.
        source: einmix::Error,
    },
    /// A PNG could not be encoded.
    /// Reading or fitting frame `frame` (its index in the file) failed; what was written for
    /// the frames before it stays valid, and a resumed run continues from there.
    #[error("frame {frame}: {source}")]
    Frame {
        /// The frame (index in the file).
        frame: usize,
        /// Why.
        source: Box<Error>,
    },
    /// A run's checkpoint is not one this run can continue.
    #[error("cannot resume: {problem}")]
    Checkpoint {
        /// What is wrong, or what differs.
        problem: String,
    },
    /// A track the analysis cannot use (not a track's `.npz`, inconsistent shapes, a single
    /// component), or analysis options that do not fit it (a window as long as the track).
    #[error("{}: {problem}", path.display())]
    Analysis {
        /// The track's file (`<track>` for one in memory).
        path: PathBuf,
        /// What is missing or wrong.
        problem: String,
    },
    /// Labels for cells that cannot be used.
    #[error("labels {}: {problem}", path.display())]
    Labels {
        /// The label image or stack.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    #[error("could not encode the PNG: {message}")]
    Encode {
        /// The encoder's message.
        message: String,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io { path: path.into(), source }
    }
}
