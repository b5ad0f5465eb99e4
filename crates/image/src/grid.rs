//! Where a frame's cells sit: pixels of a 2-D image at `(row, col) x pixel_size`, or voxels of
//! a 3-D volume at `(z, row, col) x (z, row, col) voxel sides`, the sides possibly unequal (a
//! microscope's Z step is usually several times its pixel). Every stage that turns cells into
//! coordinates, or coordinates back into cells, goes through a [`Grid`].

use crate::error::{Error, Result};

/// The fitted axes of a frame and the side of a cell along each.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    /// The cell's sides `(z, row, col)`; the first is unused for a 2-D frame.
    pub spacing: [f64; 3],
    /// Whether the frame is a 3-D volume (coordinates `(z, row, col)`) rather than a 2-D
    /// image (coordinates `(row, col)`).
    pub volume: bool,
}

impl Grid {
    /// Square pixels of side `pixel_size`.
    pub fn planar(pixel_size: f64) -> Grid {
        Grid { spacing: [1.0, pixel_size, pixel_size], volume: false }
    }
    /// Voxels of sides `(z, row, col)`; an error unless each is positive and finite.
    ///
    /// ```
    /// let grid = einmix_image::Grid::volume([2.0, 0.5, 0.5])?;
    /// assert_eq!((grid.dims(), grid.axes(), grid.cell_volume()), (3, &[2.0, 0.5, 0.5][..], 0.5));
    /// assert!(einmix_image::Grid::volume([0.0, 1.0, 1.0]).is_err());
    /// # Ok::<(), einmix_image::Error>(())
    /// ```
    pub fn volume(voxel_size: [f64; 3]) -> Result<Grid> {
        if !voxel_size.iter().all(|v| *v > 0.0 && v.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "voxel_size",
                value: format!("{},{},{}", voxel_size[0], voxel_size[1], voxel_size[2]),
                expected: "voxel_size is Z,Y,X: three positive, finite lengths",
            });
        }
        Ok(Grid { spacing: voxel_size, volume: true })
    }
    /// Number of coordinates: 2 or 3.
    pub fn dims(&self) -> usize {
        if self.volume {
            3
        } else {
            2
        }
    }
    /// The sides along the fitted coordinates: `(row, col)` or `(z, row, col)`.
    pub fn axes(&self) -> &[f64] {
        &self.spacing[3 - self.dims()..]
    }
    /// The area of a pixel or the volume of a voxel.
    pub fn cell_volume(&self) -> f64 {
        self.axes().iter().product()
    }
    /// The shortest side: lengths given "in pixels" are in these units.
    pub fn finest(&self) -> f64 {
        self.axes().iter().copied().fold(f64::INFINITY, f64::min)
    }
    /// Appends the coordinates of cell `(z, row, col)` to `out`.
    #[inline]
    pub(crate) fn push_position(&self, (z, r, c): (usize, usize, usize), out: &mut Vec<f64>) {
        if self.volume {
            out.push(z as f64 * self.spacing[0]);
        }
        out.push(r as f64 * self.spacing[1]);
        out.push(c as f64 * self.spacing[2]);
    }
    /// The coordinates of cell `(z, row, col)`.
    pub fn position(&self, cell: (usize, usize, usize)) -> Vec<f64> {
        let mut out = Vec::with_capacity(3);
        self.push_position(cell, &mut out);
        out
    }
    /// The coordinates `x` (of length [`dims`](Grid::dims)) in cells along `(z, row, col)`,
    /// fractional (a 2-D frame's z is 0).
    pub fn to_cells(&self, x: &[f64]) -> [f64; 3] {
        if self.volume {
            [x[0] / self.spacing[0], x[1] / self.spacing[1], x[2] / self.spacing[2]]
        } else {
            [0.0, x[0] / self.spacing[1], x[1] / self.spacing[2]]
        }
    }
}
