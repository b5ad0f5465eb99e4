//! Small dense linear algebra on row-major `D x D` slices.
//!
//! Written by hand on purpose: every matrix here is one covariance (D is the data's dimension,
//! at most a few hundred), factorised once per component per EM iteration, so the cost is
//! negligible next to the O(N K D^2) pass over the data. ndarray has no factorisations of its
//! own, and ndarray-linalg would pull in a system LAPACK, which a pure-Rust, pip-installable
//! build cannot assume. The algorithms are the textbook ones (Golub & Van Loan, 4th ed.,
//! Alg. 4.2.1 for Cholesky; forward substitution for the triangular inverse).

/// Lower Cholesky factor `L` (row-major `d x d`, zeros above the diagonal) with `a = L L^T`.
///
/// Returns `None` when `a` is not (numerically) positive definite: a pivot that is not
/// strictly positive and finite.
///
/// ```
/// let l = einmix::cholesky_lower(&[4.0, 2.0, 2.0, 5.0], 2).unwrap();
/// assert_eq!(l, vec![2.0, 0.0, 1.0, 2.0]);
/// assert!(einmix::cholesky_lower(&[1.0, 2.0, 2.0, 1.0], 2).is_none());
/// ```
pub fn cholesky_lower(a: &[f64], d: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; d * d];
    cholesky_lower_into(a, d, &mut l).then_some(l)
}

/// [`cholesky_lower`] into a caller's buffer; `false` when not positive definite.
pub(crate) fn cholesky_lower_into(a: &[f64], d: usize, l: &mut [f64]) -> bool {
    l.fill(0.0);
    for j in 0..d {
        let mut diag = a[j * d + j];
        for p in 0..j {
            diag -= l[j * d + p] * l[j * d + p];
        }
        if !(diag > 0.0 && diag.is_finite()) {
            return false;
        }
        let ljj = diag.sqrt();
        l[j * d + j] = ljj;
        for i in (j + 1)..d {
            let mut s = a[i * d + j];
            for p in 0..j {
                s -= l[i * d + p] * l[j * d + p];
            }
            l[i * d + j] = s / ljj;
        }
    }
    true
}

/// Inverse of a lower-triangular matrix (itself lower triangular), by forward substitution.
pub(crate) fn invert_lower(l: &[f64], d: usize) -> Vec<f64> {
    let mut inv = vec![0.0; d * d];
    invert_lower_into(l, d, &mut inv);
    inv
}

/// The transpose of the inverse of a lower-triangular `l`, i.e. `l^{-T}` (upper triangular),
/// into a caller's buffer.
pub(crate) fn inverse_transpose_lower_into(l: &[f64], d: usize, out: &mut [f64]) {
    out.fill(0.0);
    for col in 0..d {
        for i in col..d {
            let mut s = if i == col { 1.0 } else { 0.0 };
            for p in col..i {
                s -= l[i * d + p] * out[col * d + p];
            }
            out[col * d + i] = s / l[i * d + i];
        }
    }
}

/// [`invert_lower`] into a caller's buffer.
pub(crate) fn invert_lower_into(l: &[f64], d: usize, inv: &mut [f64]) {
    inv.fill(0.0);
    for col in 0..d {
        for i in col..d {
            let mut s = if i == col { 1.0 } else { 0.0 };
            for p in col..i {
                s -= l[i * d + p] * inv[p * d + col];
            }
            inv[i * d + col] = s / l[i * d + i];
        }
    }
}

/// Transpose of a square matrix.
pub(crate) fn transpose(a: &[f64], d: usize) -> Vec<f64> {
    let mut t = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            t[j * d + i] = a[i * d + j];
        }
    }
    t
}

/// `a * b^T` for square matrices.
pub(crate) fn mul_transpose(a: &[f64], b: &[f64], d: usize) -> Vec<f64> {
    let mut out = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            let mut s = 0.0;
            for p in 0..d {
                s += a[i * d + p] * b[j * d + p];
            }
            out[i * d + j] = s;
        }
    }
    out
}

/// True when `a` equals its transpose with numpy's `allclose` tolerances
/// (`|a_ij - a_ji| <= 1e-8 + 1e-5 |a_ji|`), as scikit-learn checks user precisions.
pub(crate) fn is_symmetric(a: &[f64], d: usize) -> bool {
    (0..d).all(|i| (0..i).all(|j| (a[i * d + j] - a[j * d + i]).abs() <= 1e-8 + 1e-5 * a[j * d + i].abs()))
}

/// Eigenvalues of a symmetric matrix (ascending), by cyclic Jacobi rotations. Used only for
/// model summaries and diagnostics, never on the EM path.
pub fn symmetric_eigen(a: &[f64], d: usize) -> (Vec<f64>, Vec<f64>) {
    let mut m = a.to_vec();
    let mut v = vec![0.0; d * d];
    for i in 0..d {
        v[i * d + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..d)
            .flat_map(|i| (0..d).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i * d + j] * m[i * d + j])
            .sum();
        if off <= 1e-30 * m.iter().map(|x| x * x).sum::<f64>().max(f64::MIN_POSITIVE) {
            break;
        }
        for p in 0..d {
            for q in (p + 1)..d {
                let apq = m[p * d + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (m[q * d + q] - m[p * d + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..d {
                    let mkp = m[k * d + p];
                    let mkq = m[k * d + q];
                    m[k * d + p] = c * mkp - s * mkq;
                    m[k * d + q] = s * mkp + c * mkq;
                }
                for k in 0..d {
                    let mpk = m[p * d + k];
                    let mqk = m[q * d + k];
                    m[p * d + k] = c * mpk - s * mqk;
                    m[q * d + k] = s * mpk + c * mqk;
                }
                for k in 0..d {
                    let vkp = v[k * d + p];
                    let vkq = v[k * d + q];
                    v[k * d + p] = c * vkp - s * vkq;
                    v[k * d + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&a, &b| m[a * d + a].total_cmp(&m[b * d + b]));
    let values = order.iter().map(|&i| m[i * d + i]).collect();
    // Eigenvectors as rows, in the same order as the values.
    let mut vectors = vec![0.0; d * d];
    for (row, &i) in order.iter().enumerate() {
        for k in 0..d {
            vectors[row * d + k] = v[k * d + i];
        }
    }
    (values, vectors)
}

/// The matrix products of the passes above the crossover, through faer.
///
/// faer because these products are small and many (a chunk of 256 rows against one `D x D`
/// factor, per component and iteration) and two of them are triangular: faer's triangular
/// products read one triangle of the Cholesky factor and fill one triangle of a symmetric
/// scatter, half the flops of the general product (BLAS's `trmm` and `syrk`, which ndarray and
/// the `gemm` crate do not offer), with AVX-512 and AVX2 kernels chosen at run time. Each call
/// runs on the calling thread (`Par::Seq`): the pass spreads blocks of chunks over threads, so
/// results never depend on the number of threads.
pub(crate) mod products {
    use crate::chunks::CHUNK;
    use faer::linalg::matmul::{matmul, triangular};
    use faer::{Accum, MatMut, MatRef, Par};

    use triangular::BlockStructure::{Rectangular, TriangularUpper};

    /// An element the products run in: `f64`, or `f32` for the opt-in single precision.
    pub(crate) trait Scalar: faer::traits::ComplexField + Copy {
        const ONE: Self;
    }
    impl Scalar for f64 {
        const ONE: f64 = 1.0;
    }
    impl Scalar for f32 {
        const ONE: f32 = 1.0;
    }

    /// A chunk-shaped buffer (`d` lane rows of `CHUNK` values) as the `CHUNK x d` matrix of its
    /// points.
    fn points<T: Scalar>(lanes: &[T], d: usize) -> MatRef<'_, T> {
        MatRef::from_column_major_slice_with_stride(&lanes[..d * CHUNK], CHUNK, d, CHUNK)
    }

    fn points_mut<T: Scalar>(lanes: &mut [T], d: usize) -> MatMut<'_, T> {
        MatMut::from_column_major_slice_with_stride_mut(&mut lanes[..d * CHUNK], CHUNK, d, CHUNK)
    }

    /// `out = X U` for the chunk's points `X` (`dx`, `d` lane rows) and the upper-triangular
    /// row-major `U` (`d x d`; only its upper triangle is read), into `out`'s `d` lane rows.
    pub(crate) fn times_upper<T: Scalar>(dx: &[T], u: &[T], d: usize, out: &mut [T]) {
        let u = MatRef::from_row_major_slice(&u[..d * d], d, d);
        triangular::matmul(
            points_mut(out, d),
            Rectangular,
            Accum::Replace,
            points(dx, d),
            Rectangular,
            u,
            TriangularUpper,
            T::ONE,
            Par::Seq,
        );
    }

    /// `scatter += A^T B` on the upper triangle of the row-major `d x d` `scatter` (the only
    /// part the M-step reads), for two chunk-shaped buffers `a` and `b` (`d` lane rows each).
    pub(crate) fn add_scatter_upper<T: Scalar>(a: &[T], b: &[T], d: usize, scatter: &mut [T]) {
        let dst = MatMut::from_row_major_slice_mut(&mut scatter[..d * d], d, d);
        triangular::matmul(
            dst,
            TriangularUpper,
            Accum::Add,
            points(a, d).transpose(),
            Rectangular,
            points(b, d),
            Rectangular,
            T::ONE,
            Par::Seq,
        );
    }

    /// `out (CHUNK x k, lane rows of out) (+)= alpha X B^T` for the chunk's points `X` (`d` lane
    /// rows) and a row-major `k x d` matrix `b`: one column of the result per component.
    pub(crate) fn points_times_rows<T: Scalar>(
        x: &[T],
        b: &[T],
        k: usize,
        d: usize,
        alpha: T,
        add: bool,
        out: &mut [T],
    ) {
        let b = MatRef::from_row_major_slice(&b[..k * d], k, d);
        let dst = MatMut::from_column_major_slice_with_stride_mut(&mut out[..k * CHUNK], CHUNK, k, CHUNK);
        let accum = if add { Accum::Add } else { Accum::Replace };
        matmul(dst, accum, points(x, d), b.transpose(), alpha, Par::Seq);
    }

    /// `out (k x d, row-major) = R^T X` for the responsibilities `R` (`k` lane rows of `r`) and
    /// the chunk's points `X` (`d` lane rows of `x`).
    pub(crate) fn rows_times_points<T: Scalar>(r: &[T], x: &[T], k: usize, d: usize, out: &mut [T]) {
        let r = MatRef::from_row_major_slice_with_stride(&r[..k * CHUNK], k, CHUNK, CHUNK);
        let dst = MatMut::from_row_major_slice_mut(&mut out[..k * d], k, d);
        matmul(dst, Accum::Replace, r, points(x, d), T::ONE, Par::Seq);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_reconstructs_and_inverse_is_inverse() {
        let a = [4.0, 1.2, -0.6, 1.2, 3.0, 0.4, -0.6, 0.4, 2.0];
        let l = cholesky_lower(&a, 3).unwrap();
        let back = mul_transpose(&l, &l, 3);
        for (x, y) in back.iter().zip(&a) {
            assert!((x - y).abs() < 1e-14);
        }
        let li = invert_lower(&l, 3);
        let eye = mul_transpose(&li, &transpose(&l, 3), 3);
        for i in 0..3 {
            for j in 0..3 {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((eye[i * 3 + j] - want).abs() < 1e-14);
            }
        }
    }

    #[test]
    fn cholesky_rejects_indefinite() {
        assert!(cholesky_lower(&[1.0, 2.0, 2.0, 1.0], 2).is_none());
        assert!(cholesky_lower(&[0.0, 0.0, 0.0, 1.0], 2).is_none());
    }

    #[test]
    fn jacobi_eigenvalues_of_known_matrix() {
        let (vals, vecs) = symmetric_eigen(&[2.0, 1.0, 1.0, 2.0], 2);
        assert!((vals[0] - 1.0).abs() < 1e-12 && (vals[1] - 3.0).abs() < 1e-12);
        assert!((vecs[2].abs() - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-12);
    }
}
