//! OME-Zarr (stub: the reader is being written).

use std::path::Path;

use crate::error::{Error, Result};

pub(crate) fn is_zarr(path: &Path) -> bool {
    path.join(".zattrs").exists() || path.join("zarr.json").exists() || path.join(".zarray").exists()
}

pub(crate) struct ZarrTimePoints;

impl ZarrTimePoints {
    pub(crate) fn open(path: &Path, _channel: Option<usize>) -> Result<ZarrTimePoints> {
        Err(Error::UnknownFormat { path: path.to_path_buf() })
    }
}

impl super::frames::TimePoints for ZarrTimePoints {
    fn layout(&self) -> (usize, usize, usize, usize) {
        unreachable!()
    }
    fn voxel_size(&self) -> Option<[f64; 3]> {
        None
    }
    fn read_time_point(&mut self, _t: usize, _out: &mut [f32]) -> Result<()> {
        unreachable!()
    }
    fn path(&self) -> &Path {
        unreachable!()
    }
}
