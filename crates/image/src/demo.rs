//! The embedded demo time-lapse: a live yeast mitochondrial network.
//!
//! `data/yeast_mito_mip.npy`, shape (30, 192, 279), uint8: the maximum-intensity projection
//! over Z of every time point of `sample_data/yeast_3d_mitochondria.ome.tif` from the `nellie`
//! 1.0.4 wheel ((T, Z, Y, X) = (30, 17, 192, 279) uint16; pixels 0.0655 um, 4.54 s per frame).
//! Every projected value lies in 97..=208, so uint8 holds it exactly. Nellie (c) 2024 Austin
//! E. Y. T. Lefebvre, CC BY 4.0; see `data/PROVENANCE.md`.

use std::path::Path;

use crate::error::Result;
use crate::stack::{ReadOptions, Stack};

/// The `.npy` bytes of the demo stack.
pub const DEMO_NPY: &[u8] = include_bytes!("../data/yeast_mito_mip.npy");

/// Pixel size of the demo stack, micrometres.
pub const DEMO_PIXEL_SIZE_UM: f64 = 0.0655;

/// The demo stack, (30, 192, 279).
///
/// ```
/// let stack = einmix_image::demo_stack()?;
/// assert_eq!((stack.n_frames(), stack.shape()), (30, (192, 279)));
/// # Ok::<(), einmix_image::Error>(())
/// ```
pub fn demo_stack() -> Result<Stack> {
    crate::io::read_stack_bytes(Path::new("yeast_mito_mip.npy"), DEMO_NPY, &ReadOptions::default())
}
