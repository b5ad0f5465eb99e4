//! `.npy` stacks: arrays of 2, 3 or 4 axes, of any numeric dtype, read by the one `.npy`
//! reader (`einmix_io::npy`) and converted to f32 as NumPy's `astype(numpy.float32)` would.
//! The writers are that crate's, re-exported for the `.npz` output.

use std::path::Path;

use einmix_io::npy::{self as reader, NpyError};
pub use einmix_io::npy::{f64_bytes, f64_header, i64_bytes, i64_header, str_bytes};

use crate::error::{Error, Result};
use crate::stack::Raw;

/// The reader's error, naming the file: an element type that is not numeric is an unsupported
/// sample format, anything else a corrupt file.
fn error(path: &Path, e: NpyError) -> Error {
    match e {
        NpyError::Dtype { descr } => Error::UnsupportedSampleFormat {
            path: path.to_path_buf(),
            format: ".npy",
            what: format!("dtype '{descr}'; expected bool, (u)int8/16/32/64 or float16/32/64"),
        },
        other => Error::Corrupt { path: path.to_path_buf(), format: ".npy", problem: other.to_string() },
    }
}

pub(crate) fn read_raw(path: &Path, bytes: &[u8]) -> Result<Raw> {
    let array = reader::read::<f32>(bytes).map_err(|e| error(path, e))?;
    let shape = array.shape;
    let (t, z, h, w) = match shape[..] {
        [h, w] => (1, 1, h, w),
        [f, h, w] => (f, 1, h, w),
        [t, z, h, w] => (t, z, h, w),
        _ => return Err(Error::UnsupportedShape { path: path.to_path_buf(), shape }),
    };
    if t * z * h * w == 0 {
        return Err(Error::UnsupportedShape { path: path.to_path_buf(), shape });
    }
    Ok(Raw { t, z, h, w, data: array.data, voxel_size: None })
}

/// A `.npy` stack read one time point at a time by positioned reads (C order: one read per
/// frame; a Fortran-ordered file, whose frames are scattered, is read whole once).
pub(crate) struct NpyTimePoints {
    path: std::path::PathBuf,
    file: std::fs::File,
    data_start: u64,
    dtype: reader::Dtype,
    layout: (usize, usize, usize, usize),
    /// A Fortran-ordered file's values, read whole.
    whole: Option<Vec<f32>>,
    bytes: Vec<u8>,
}

impl NpyTimePoints {
    /// Opens `path` and reads its header.
    pub(crate) fn open(path: &Path) -> Result<NpyTimePoints> {
        use std::io::Read;
        let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        // A header is at most a few KiB; 64 KiB (or the whole file) is plenty.
        let mut head = Vec::new();
        (&mut file).take(1 << 16).read_to_end(&mut head).map_err(|e| Error::io(path, e))?;
        let (header, start) = reader::header(&head).map_err(|e| error(path, e))?;
        let shape = header.shape.clone();
        let layout = match shape[..] {
            [h, w] => (1, 1, h, w),
            [f, h, w] => (f, 1, h, w),
            [t, z, h, w] => (t, z, h, w),
            _ => return Err(Error::UnsupportedShape { path: path.to_path_buf(), shape }),
        };
        if layout.0 * layout.1 * layout.2 * layout.3 == 0 {
            return Err(Error::UnsupportedShape { path: path.to_path_buf(), shape });
        }
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        header.check_data_len(len.saturating_sub(start as u64)).map_err(|e| error(path, e))?;
        let whole = if header.fortran_order {
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            Some(reader::read::<f32>(&bytes).map_err(|e| error(path, e))?.data)
        } else {
            None
        };
        Ok(NpyTimePoints {
            path: path.to_path_buf(),
            file,
            data_start: start as u64,
            dtype: header.dtype,
            layout,
            whole,
            bytes: Vec::new(),
        })
    }
}

impl super::frames::TimePoints for NpyTimePoints {
    fn layout(&self) -> (usize, usize, usize, usize) {
        self.layout
    }
    fn voxel_size(&self) -> Option<[f64; 3]> {
        None
    }
    fn read_time_point(&mut self, t: usize, out: &mut [f32]) -> Result<()> {
        use std::io::{Read, Seek, SeekFrom};
        let n = out.len();
        if let Some(all) = &self.whole {
            out.copy_from_slice(&all[t * n..(t + 1) * n]);
            return Ok(());
        }
        let size = self.dtype.size();
        self.bytes.resize(n * size, 0);
        let at = self.data_start + (t * n * size) as u64;
        self.file.seek(SeekFrom::Start(at)).map_err(|e| Error::io(&self.path, e))?;
        self.file.read_exact(&mut self.bytes).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => Error::Corrupt {
                path: self.path.clone(),
                format: ".npy",
                problem: format!("time point {t}: the file ends early (truncated?)"),
            },
            _ => Error::io(&self.path, e),
        })?;
        self.dtype.decode(&self.bytes, out);
        Ok(())
    }
    fn path(&self) -> &Path {
        &self.path
    }
}
