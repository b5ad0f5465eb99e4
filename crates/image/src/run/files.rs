//! A track's files while it runs: every per-frame array of the `.npz` appended to its own part
//! file (buffered in memory between checkpoints), `summary.csv` and `reseeds.csv` a row per
//! frame, and the `.npz` put together by streaming the parts once the frames are done (or the
//! run stops). Nothing grows in memory with the number of frames.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::distance::Metric;
use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::output::{
    frame_values, npz_plan, reseed_row, reseed_values, reseeds_header, summary_row, Part, Shape,
    FRAME_MEMBERS, RESEED_MEMBERS, SUMMARY_HEADER,
};
use crate::track::FrameFit;

/// How much of each file holds completed frames: what a checkpoint records and a resumed run
/// cuts the files back to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Lengths {
    pub frames: Vec<u64>,
    pub reseeds: Vec<u64>,
    pub reasons: u64,
    pub series: u64,
    pub summary: u64,
    pub reseeds_csv: u64,
    /// Frames and re-seedings written.
    pub n: usize,
    pub r: usize,
    /// `(K, D, L)` once a frame is written.
    pub shape: Option<(usize, usize, usize)>,
}

/// One track's output folder while it runs.
pub(crate) struct TrackFiles {
    dir: PathBuf,
    name: String,
    frames: Vec<Vec<u8>>,
    reseeds: Vec<Vec<u8>>,
    reasons: String,
    /// Per frame: frame, mean distance, mean nearest distance, algebraic connectivity,
    /// re-seeded (0/1): the time series of the graph picture.
    series: Vec<u8>,
    pub lengths: Lengths,
}

/// Buffered bytes past which the parts are appended to their files before the next checkpoint.
const FLUSH_BYTES: usize = 1 << 20;

/// Values per frame in a run's graph series (frame, mean distance, mean nearest distance,
/// algebraic connectivity, re-seeded).
pub const SERIES_VALUES: usize = 5;

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::io(path, e)
}

/// Appends `bytes` to `path` and makes them durable.
fn append(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = OpenOptions::new().create(true).append(true).open(path).map_err(io(path))?;
    file.write_all(bytes).map_err(io(path))?;
    file.flush().map_err(io(path))
}

/// Cuts `path` back to `len` bytes (a part written after the last checkpoint).
fn truncate(path: &Path, len: u64) -> Result<()> {
    let file = OpenOptions::new().write(true).open(path).map_err(io(path))?;
    let found = file.metadata().map_err(io(path))?.len();
    if found < len {
        return Err(Error::Checkpoint {
            problem: format!(
                "{} holds {found} bytes, fewer than the {len} its checkpoint recorded",
                path.display()
            ),
        });
    }
    file.set_len(len).map_err(io(path))
}

/// Writes `bytes` to `path` whole or not at all (a temporary file renamed over it).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temporary(path);
    let write = || -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

fn temporary(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // A fixed name: a run killed while writing leaves one such file, which the next write of
    // the same output replaces (two runs never write one folder at once).
    path.with_file_name(format!(".{name}.tmp"))
}

impl TrackFiles {
    /// The files of track `name` in `dir`.
    pub(crate) fn new(dir: &Path, name: &str) -> TrackFiles {
        TrackFiles {
            dir: dir.to_path_buf(),
            name: name.to_string(),
            frames: vec![Vec::new(); FRAME_MEMBERS.len()],
            reseeds: vec![Vec::new(); RESEED_MEMBERS.len()],
            reasons: String::new(),
            series: Vec::new(),
            lengths: Lengths::default(),
        }
    }

    /// The folder of the parts (hidden: they are the run's working state, not its output).
    pub(crate) fn parts_dir(&self) -> PathBuf {
        self.dir.join(format!(".{}.parts", self.name))
    }
    fn part(&self, name: &str) -> PathBuf {
        self.parts_dir().join(format!("{name}.bin"))
    }
    /// The finished `.npz`.
    pub(crate) fn npz(&self) -> PathBuf {
        self.dir.join(format!("{}.npz", self.name))
    }
    pub(crate) fn summary(&self) -> PathBuf {
        self.dir.join("summary.csv")
    }
    pub(crate) fn reseeds_csv(&self) -> PathBuf {
        self.dir.join("reseeds.csv")
    }

    /// Starts the files afresh: empty parts, the CSV headers.
    pub(crate) fn start(&mut self, grid: &Grid) -> Result<()> {
        let parts = self.parts_dir();
        if parts.exists() {
            std::fs::remove_dir_all(&parts).map_err(io(&parts))?;
        }
        std::fs::create_dir_all(&parts).map_err(io(&parts))?;
        let names =
            FRAME_MEMBERS.iter().chain(RESEED_MEMBERS.iter()).chain(["reseed_reason", "series"].iter());
        for name in names {
            let path = self.part(name);
            File::create(&path).map_err(io(&path))?;
        }
        let (summary, reseeds) = (self.summary(), self.reseeds_csv());
        write_atomic(&summary, SUMMARY_HEADER.as_bytes())?;
        let header = reseeds_header(grid);
        write_atomic(&reseeds, header.as_bytes())?;
        self.lengths = Lengths {
            frames: vec![0; FRAME_MEMBERS.len()],
            reseeds: vec![0; RESEED_MEMBERS.len()],
            summary: SUMMARY_HEADER.len() as u64,
            reseeds_csv: header.len() as u64,
            ..Lengths::default()
        };
        Ok(())
    }

    /// Continues files left by a run stopped at `lengths`: whatever was written after that
    /// checkpoint is cut away.
    pub(crate) fn resume(&mut self, lengths: &Lengths) -> Result<()> {
        for (i, name) in FRAME_MEMBERS.iter().enumerate() {
            truncate(&self.part(name), lengths.frames[i])?;
        }
        for (i, name) in RESEED_MEMBERS.iter().enumerate() {
            truncate(&self.part(name), lengths.reseeds[i])?;
        }
        truncate(&self.part("reseed_reason"), lengths.reasons)?;
        truncate(&self.part("series"), lengths.series)?;
        truncate(&self.summary(), lengths.summary)?;
        truncate(&self.reseeds_csv(), lengths.reseeds_csv)?;
        self.lengths = lengths.clone();
        Ok(())
    }

    /// Adds frame `fit`: its arrays to the buffers, its rows to the CSV files at once.
    pub(crate) fn push(&mut self, fit: &FrameFit) -> Result<()> {
        let shape = (fit.mixture.n_components(), fit.mixture.n_features(), fit.laplacian.len());
        match self.lengths.shape {
            None => self.lengths.shape = Some(shape),
            Some(s) if s != shape => {
                return Err(Error::InvalidParameter {
                    name: "frame",
                    value: fit.frame.to_string(),
                    expected: "every frame of a track has the same K and dimensions",
                })
            }
            Some(_) => {}
        }
        frame_values(fit, &mut self.frames);
        for r in &fit.reseeds {
            reseed_values(r, &mut self.reseeds);
            self.reasons.push_str(r.reason.name());
            self.reasons.push('\n');
        }
        let reseeded = if fit.reseeds.is_empty() { 0.0 } else { 1.0 };
        let series = [
            fit.frame as f64,
            fit.mean_distance(),
            fit.mean_nearest_distance(),
            fit.algebraic_connectivity(),
            reseeded,
        ];
        series.iter().for_each(|v| self.series.extend_from_slice(&v.to_le_bytes()));
        let row = summary_row(fit);
        append(&self.summary(), row.as_bytes())?;
        self.lengths.summary += row.len() as u64;
        let rows: String = fit.reseeds.iter().map(reseed_row).collect();
        if !rows.is_empty() {
            append(&self.reseeds_csv(), rows.as_bytes())?;
            self.lengths.reseeds_csv += rows.len() as u64;
        }
        self.lengths.n += 1;
        self.lengths.r += fit.reseeds.len();
        // Between checkpoints the arrays wait in memory, but never more than this: a long run
        // holds no more than a short one (the checkpoint keeps its own record of the lengths).
        if self.buffered() > FLUSH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    fn buffered(&self) -> usize {
        let parts: usize = self.frames.iter().chain(&self.reseeds).map(Vec::len).sum();
        parts + self.reasons.len() + self.series.len()
    }

    /// Appends the buffered arrays to their parts; afterwards [`TrackFiles::lengths`] is what a
    /// checkpoint may record.
    pub(crate) fn flush(&mut self) -> Result<()> {
        for (i, name) in FRAME_MEMBERS.iter().enumerate() {
            append(&self.part(name), &self.frames[i])?;
            self.lengths.frames[i] += self.frames[i].len() as u64;
            self.frames[i].clear();
        }
        for (i, name) in RESEED_MEMBERS.iter().enumerate() {
            append(&self.part(name), &self.reseeds[i])?;
            self.lengths.reseeds[i] += self.reseeds[i].len() as u64;
            self.reseeds[i].clear();
        }
        append(&self.part("reseed_reason"), self.reasons.as_bytes())?;
        self.lengths.reasons += self.reasons.len() as u64;
        self.reasons.clear();
        append(&self.part("series"), &self.series)?;
        self.lengths.series += self.series.len() as u64;
        self.series.clear();
        Ok(())
    }

    /// The graph picture's series, `SERIES_VALUES` per frame, read back from its part.
    pub(crate) fn series(&self) -> Result<Vec<[f64; SERIES_VALUES]>> {
        let path = self.part("series");
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        let bytes = &bytes[..self.lengths.series as usize];
        Ok(bytes
            .chunks_exact(8 * SERIES_VALUES)
            .map(|row| {
                std::array::from_fn(|i| {
                    f64::from_le_bytes(row[8 * i..8 * i + 8].try_into().expect("8 bytes"))
                })
            })
            .collect())
    }

    /// Puts the `.npz` together from the flushed parts (whole or not at all).
    pub(crate) fn write_npz(&self, metric: Metric, pixel_size: f64, grid: &Grid) -> Result<()> {
        let l = &self.lengths;
        let (k, d, lap) = l.shape.unwrap_or((0, grid.dims(), 0));
        let reasons_path = self.part("reseed_reason");
        let text = std::fs::read_to_string(&reasons_path).map_err(io(&reasons_path))?;
        let reasons: Vec<String> = text[..l.reasons as usize].lines().map(str::to_string).collect();
        let shape = Shape { n: l.n, k, d, l: lap, r: l.r };
        let mut members = Vec::new();
        for (name, header, part) in npz_plan(shape, metric, pixel_size, grid, &reasons) {
            let (data, len): (Box<dyn Read>, u64) = match part {
                Part::Frame(i) => (self.reader(FRAME_MEMBERS[i], l.frames[i])?, l.frames[i]),
                Part::Reseed(i) => (self.reader(RESEED_MEMBERS[i], l.reseeds[i])?, l.reseeds[i]),
                Part::Bytes(b) => {
                    let len = b.len() as u64;
                    (Box::new(std::io::Cursor::new(b)), len)
                }
            };
            members.push(einmix_io::npz::StreamedMember { name, header, data, len });
        }
        let path = self.npz();
        let tmp = temporary(&path);
        let write = || -> std::io::Result<()> {
            let file = std::io::BufWriter::new(File::create(&tmp)?);
            let mut file = einmix_io::npz::archive_to(file, members)?;
            file.flush()?;
            file.get_ref().sync_all()?;
            std::fs::rename(&tmp, &path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::io(&path, e)
        })
    }

    fn reader(&self, name: &str, len: u64) -> Result<Box<dyn Read>> {
        let path = self.part(name);
        let mut file = File::open(&path).map_err(io(&path))?;
        file.rewind().map_err(io(&path))?;
        Ok(Box::new(BufReader::with_capacity(1 << 20, file).take(len)))
    }

    /// Removes the parts (the run is complete).
    pub(crate) fn remove_parts(&self) -> Result<()> {
        let parts = self.parts_dir();
        std::fs::remove_dir_all(&parts).map_err(io(&parts))
    }

    /// Each frame's learned floor share so far, read back from its part (NaN where a level
    /// was subtracted).
    pub(crate) fn floor_shares(&self) -> Result<Vec<f64>> {
        let i = FRAME_MEMBERS.iter().position(|&m| m == "floor_share").expect("a member");
        let path = self.part("floor_share");
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        let bytes = &bytes[..self.lengths.frames[i] as usize];
        Ok(bytes.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes"))).collect())
    }
}
