//! A `.npy` file read block by block, for `einmix fit --stream`: the header once, then each
//! pass reads `chunk_rows` rows at a time with positioned reads (C order: one read per block;
//! Fortran order: one per feature), so memory stays `O(chunk_rows x D)` whatever the file's
//! size. The operating system's page cache plays the part of a memory map, without `unsafe`.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use einmix::stream::{OnBlock, RowSource};
use ndarray::{Array1, Array2};

use crate::npy::{self, Dtype};

use crate::error::ReadError;

/// Why a streamed pass stopped.
#[derive(Debug)]
pub enum StreamError {
    /// Reading the data or weights file failed (the path is the one in error).
    Read(std::path::PathBuf, ReadError),
    /// The fit itself refused.
    Core(einmix::Error),
}

impl From<einmix::Error> for StreamError {
    fn from(e: einmix::Error) -> Self {
        StreamError::Core(e)
    }
}

/// One `.npy` array of shape `(N, D)` or `(N,)` (read as `(N, 1)`), open for block reads.
pub struct NpyFile {
    path: std::path::PathBuf,
    file: File,
    data_start: u64,
    n: usize,
    d: usize,
    dtype: Dtype,
    fortran: bool,
}

impl NpyFile {
    /// Opens `path` and reads its header; `vector`: the array must be 1-d (weights).
    pub fn open(path: &Path, vector: bool) -> Result<NpyFile, StreamError> {
        let fail = |e: ReadError| StreamError::Read(path.to_path_buf(), e);
        let mut file = File::open(path).map_err(|e| fail(ReadError::Io(e)))?;
        // A header is at most a few KiB; 64 KiB (or the whole file) is plenty.
        let mut head = Vec::new();
        (&mut file).take(1 << 16).read_to_end(&mut head).map_err(|e| fail(ReadError::Io(e)))?;
        let (h, start) = npy::header(&head).map_err(|e| fail(e.into()))?;
        let (n, d) = match (&h.shape[..], vector) {
            ([n, d], false) => (*n, *d),
            ([n], true) => (*n, 1),
            _ => {
                return Err(fail(ReadError::WrongShape {
                    expected: if vector { "1-d (samples,)" } else { "2-d (samples, features)" },
                    found: npy::shape_text(&h.shape),
                }))
            }
        };
        let found = file.metadata().map_err(|e| fail(ReadError::Io(e)))?.len().saturating_sub(start as u64);
        h.check_data_len(found).map_err(|e| fail(e.into()))?;
        Ok(NpyFile {
            path: path.to_path_buf(),
            file,
            data_start: start as u64,
            n,
            d,
            dtype: h.dtype,
            fortran: h.fortran_order,
        })
    }

    /// Reads rows `start..start + out.nrows()` into `out` (C order), using `bytes` as buffer.
    fn read_rows(
        &mut self,
        start: usize,
        out: &mut Array2<f64>,
        bytes: &mut Vec<u8>,
    ) -> Result<(), StreamError> {
        let (rows, d, size) = (out.nrows(), self.d, self.dtype.size());
        let fail = |e: std::io::Error| StreamError::Read(self.path.clone(), ReadError::Io(e));
        let flat = out.as_slice_mut().expect("standard layout");
        if !self.fortran || d == 1 {
            bytes.resize(rows * d * size, 0);
            self.file.seek(SeekFrom::Start(self.data_start + (start * d * size) as u64)).map_err(fail)?;
            self.file.read_exact(bytes).map_err(fail)?;
            self.dtype.decode(bytes, flat);
        } else {
            // Fortran order: column j of the block is contiguous in the file.
            let mut column = vec![0.0; rows];
            bytes.resize(rows * size, 0);
            for j in 0..d {
                let at = self.data_start + ((j * self.n + start) * size) as u64;
                self.file.seek(SeekFrom::Start(at)).map_err(fail)?;
                self.file.read_exact(bytes).map_err(fail)?;
                self.dtype.decode(bytes, &mut column);
                for (i, v) in column.iter().enumerate() {
                    flat[i * d + j] = *v;
                }
            }
        }
        Ok(())
    }
}

/// The data file (and an optional weights file) as a [`RowSource`] of `chunk_rows` rows.
pub struct NpyRows {
    x: NpyFile,
    w: Option<NpyFile>,
    chunk_rows: usize,
}

impl NpyRows {
    /// Data and weights must have the same number of rows.
    pub fn new(x: NpyFile, w: Option<NpyFile>, chunk_rows: usize) -> Result<NpyRows, StreamError> {
        if let Some(w) = &w {
            if w.n != x.n {
                return Err(StreamError::Core(einmix::Error::WrongShape {
                    input: einmix::Input::SampleWeight,
                    expected: format!("({},)", x.n),
                    found: format!("({},)", w.n),
                }));
            }
        }
        Ok(NpyRows { x, w, chunk_rows: chunk_rows.max(1) })
    }

    /// Rows in the file.
    pub fn n_rows(&self) -> usize {
        self.x.n
    }
}

impl RowSource for NpyRows {
    type Error = StreamError;

    fn n_features(&self) -> usize {
        self.x.d
    }

    fn for_each_block(&mut self, f: &mut OnBlock<'_>) -> Result<(), StreamError> {
        let (n, d) = (self.x.n, self.x.d);
        let mut bytes = Vec::new();
        let mut block = Array2::zeros((self.chunk_rows.min(n), d));
        let mut weights = Array2::zeros((self.chunk_rows.min(n), 1));
        let mut start = 0;
        while start < n {
            let rows = self.chunk_rows.min(n - start);
            if rows != block.nrows() {
                block = Array2::zeros((rows, d));
                weights = Array2::zeros((rows, 1));
            }
            self.x.read_rows(start, &mut block, &mut bytes)?;
            let w: Option<Array1<f64>> = match &mut self.w {
                Some(wf) => {
                    wf.read_rows(start, &mut weights, &mut bytes)?;
                    Some(weights.column(0).to_owned())
                }
                None => None,
            };
            f(block.view(), w.as_ref().map(|w| w.view()))?;
            start += rows;
        }
        Ok(())
    }
}
