//! A folder of frames: every `.png`, `.tif` or `.tiff` file in it is one time point, in
//! natural name order (`frame_2` before `frame_10`, as a person reading the names would
//! order them; zero-padded names sort the same either way). A multi-page TIFF file is one
//! time point's Z slices.

use std::path::{Path, PathBuf};

use super::frames::TimePoints;
use crate::error::{Error, Result};

/// The frames of a folder, one file read per time point.
pub(crate) struct FolderTimePoints {
    path: PathBuf,
    files: Vec<PathBuf>,
    channel: Option<usize>,
    layout: (usize, usize, usize, usize),
    voxel_size: Option<[f64; 3]>,
}

/// `a` before `b` in natural order: runs of digits compare as numbers.
fn natural(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (a.chars().peekable(), b.chars().peekable());
    loop {
        match (x.peek().copied(), y.peek().copied()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let run = |it: &mut std::iter::Peekable<std::str::Chars>| {
                    let mut digits = String::new();
                    while let Some(c) = it.peek().copied().filter(char::is_ascii_digit) {
                        digits.push(c);
                        it.next();
                    }
                    digits
                };
                let (m, n) = (run(&mut x), run(&mut y));
                let (m, n) = (m.trim_start_matches('0'), n.trim_start_matches('0'));
                let order = m.len().cmp(&n.len()).then_with(|| m.cmp(n));
                if order.is_ne() {
                    return order;
                }
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(&d);
                }
                x.next();
                y.next();
            }
        }
    }
}

impl FolderTimePoints {
    /// Lists the frames of folder `path`; the first file gives every frame's size.
    pub(crate) fn open(path: &Path, channel: Option<usize>) -> Result<FolderTimePoints> {
        let entries = std::fs::read_dir(path).map_err(|e| Error::io(path, e))?;
        let mut files = Vec::new();
        for entry in entries {
            let file = entry.map_err(|e| Error::io(path, e))?.path();
            let ext = file.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase());
            if file.is_file() && matches!(ext.as_deref(), Some("png" | "tif" | "tiff")) {
                files.push(file);
            }
        }
        let name = |p: &PathBuf| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        files.sort_by(|a, b| natural(&name(a), &name(b)));
        let Some(first) = files.first() else {
            return Err(Error::Corrupt {
                path: path.to_path_buf(),
                format: "frame folder",
                problem: "it holds no .png, .tif or .tiff file".into(),
            });
        };
        let bytes = std::fs::read(first).map_err(|e| Error::io(first, e))?;
        let raw = super::read_raw(first, &bytes, None, channel)?;
        let layout = (files.len(), raw.t * raw.z, raw.h, raw.w);
        Ok(FolderTimePoints { path: path.to_path_buf(), files, channel, layout, voxel_size: raw.voxel_size })
    }
}

impl TimePoints for FolderTimePoints {
    fn layout(&self) -> (usize, usize, usize, usize) {
        self.layout
    }
    fn voxel_size(&self) -> Option<[f64; 3]> {
        self.voxel_size
    }
    fn read_time_point(&mut self, t: usize, out: &mut [f32]) -> Result<()> {
        let file = &self.files[t];
        let bytes = std::fs::read(file).map_err(|e| Error::io(file, e))?;
        let raw = super::read_raw(file, &bytes, None, self.channel)?;
        let (_, z, h, w) = self.layout;
        if (raw.t * raw.z, raw.h, raw.w) != (z, h, w) {
            return Err(Error::Corrupt {
                path: file.clone(),
                format: "frame folder",
                problem: format!(
                    "{} plane(s) of {} x {} pixels, but the folder's first frame has {z} of {h} x {w}",
                    raw.t * raw.z,
                    raw.h,
                    raw.w
                ),
            });
        }
        out.copy_from_slice(&raw.data);
        Ok(())
    }
    fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::natural;

    #[test]
    fn names_sort_as_people_read_them() {
        let mut names = vec!["f10.png", "f2.png", "f1.png", "f002.png", "g.png", "f.png"];
        names.sort_by(|a, b| natural(a, b));
        assert_eq!(names, ["f.png", "f1.png", "f002.png", "f2.png", "f10.png", "g.png"]);
    }
}
