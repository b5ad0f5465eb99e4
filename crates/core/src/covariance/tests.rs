//! The kinds' kernels, and the fused block they run in, each against a plain twin: `log N(x | mu, Sigma)` from an explicit inverse
//! and determinant of `Sigma` (Gauss-Jordan), one point and one component at a time, and
//! the statistics as naive sums.

use crate::chunks::{Chunked, Scratch, CHUNK};
use crate::covariance::{accumulate_chunk, log_prob_chunk, CovarianceType, Form, Prepared, SuffStats};
use crate::kernels::{dispatch, Arith, Fused, Kernel, Unfused};
use crate::model::Mixture;
use crate::pass::blocks::EmBlock;
use crate::pass::logsumexp::{ln_at_least_one, log_sum_exp_chunk};
use crate::pass::run::prepared;
use ndarray::{Array1, Array2, ArrayD, IxDyn};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Dimensions of the fixed-D paths (1, 2, 3), of the any-D path, and around its 4-column
/// unrolling (4, 5, 8, 17 = 4 * 4 + 1), and one past the product kernels' register blocks (37).
const DIMS: [usize; 8] = [1, 2, 3, 4, 5, 8, 17, 37];

/// Both forms of every kernel, whatever the kind's crossover would choose.
const FORMS: [Form; 2] = [Form::Lanes, Form::Products];

/// Gauss-Jordan elimination with partial pivoting: `(A^{-1}, det A)`, row-major.
fn inverse_and_det(a: &[f64], d: usize) -> (Vec<f64>, f64) {
    let mut m = a.to_vec();
    let mut inv = vec![0.0; d * d];
    for i in 0..d {
        inv[i * d + i] = 1.0;
    }
    let mut det = 1.0;
    for col in 0..d {
        let pivot_row =
            (col..d).max_by(|&i, &j| m[i * d + col].abs().total_cmp(&m[j * d + col].abs())).unwrap();
        if pivot_row != col {
            for j in 0..d {
                m.swap(col * d + j, pivot_row * d + j);
                inv.swap(col * d + j, pivot_row * d + j);
            }
            det = -det;
        }
        let pivot = m[col * d + col];
        assert!(pivot != 0.0, "singular test matrix");
        det *= pivot;
        for j in 0..d {
            m[col * d + j] /= pivot;
            inv[col * d + j] /= pivot;
        }
        for i in 0..d {
            if i != col {
                let f = m[i * d + col];
                for j in 0..d {
                    m[i * d + j] -= f * m[col * d + j];
                    inv[i * d + j] -= f * inv[col * d + j];
                }
            }
        }
    }
    (inv, det)
}

#[test]
fn the_twin_inverts_and_takes_determinants() {
    // det [[2, 1, 0], [1, 3, 1], [0, 1, 4]] = 2 (12 - 1) - 1 (4 - 0) = 18.
    let a = [2.0, 1.0, 0.0, 1.0, 3.0, 1.0, 0.0, 1.0, 4.0];
    let (inv, det) = inverse_and_det(&a, 3);
    assert!((det - 18.0).abs() < 1e-13);
    for i in 0..3 {
        for j in 0..3 {
            let p: f64 = (0..3).map(|t| a[i * 3 + t] * inv[t * 3 + j]).sum();
            assert!((p - if i == j { 1.0 } else { 0.0 }).abs() < 1e-15);
        }
    }
    // A row swap flips the sign.
    let (_, det) = inverse_and_det(&[0.0, 1.0, 1.0, 0.0], 2);
    assert_eq!(det, -1.0);
}

#[test]
fn ln_at_least_one_matches_libm_to_two_ulps() {
    struct LnMany<'a>(&'a [f64], &'a mut [f64]);
    impl Kernel for LnMany<'_> {
        type Output = ();
        fn run<A: Arith>(self) {
            for (o, &x) in self.1.iter_mut().zip(self.0) {
                *o = ln_at_least_one::<A>(x);
            }
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    // Just above 1 (where ln is tiny), across the cut at sqrt(2), and up to 2^1023.
    let mut xs: Vec<f64> = (0..2000).map(|i| 1.0 + i as f64 * f64::EPSILON).collect();
    xs.extend((0..20_000).map(|i| 1.0 + i as f64 / 10_000.0));
    xs.extend((0..20_000).map(|_| 2f64.powf(rng.random_range(0.0..1023.0))));
    xs.extend([std::f64::consts::SQRT_2, 2.0, 4.0, f64::MAX / 2.0]);
    let check = |got: &[f64], how: &str| {
        for (&x, &g) in xs.iter().zip(got) {
            let want = x.ln();
            let tol = 4.5e-16 * want.abs();
            assert!((g - want).abs() <= tol, "{how}: ln({x:e}) = {g:e}, libm {want:e}");
        }
    };
    let mut got = vec![0.0; xs.len()];
    dispatch(LnMany(&xs, &mut got));
    check(&got, "dispatch");
    let unfused: Vec<f64> = xs.iter().map(|&x| ln_at_least_one::<Unfused>(x)).collect();
    check(&unfused, "unfused");
    assert_eq!(ln_at_least_one::<Unfused>(1.0), 0.0);
}

/// A random symmetric positive-definite matrix with sizeable off-diagonal entries:
/// `B B^T / d + 0.3 I`, `B` uniform in `[-1, 1]` (eigenvalues in about `[0.3, 4]`).
fn random_spd(rng: &mut ChaCha8Rng, d: usize) -> Vec<f64> {
    let b: Vec<f64> = (0..d * d).map(|_| rng.random_range(-1.0..1.0)).collect();
    let mut a = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            a[i * d + j] = (0..d).map(|t| b[i * d + t] * b[j * d + t]).sum::<f64>() / d as f64;
        }
        a[i * d + i] += 0.3;
    }
    a
}

/// A random mixture of `kind` and its dense `Sigma_k`, one `d x d` per component.
fn random_model(kind: CovarianceType, k: usize, d: usize, rng: &mut ChaCha8Rng) -> (Mixture, Vec<Vec<f64>>) {
    let raw: Vec<f64> = (0..k).map(|_| rng.random_range(0.2..1.0)).collect();
    let total: f64 = raw.iter().sum();
    let weights = Array1::from_iter(raw.iter().map(|w| w / total));
    let means = Array2::from_shape_fn((k, d), |_| rng.random_range(-2.0..2.0));
    let (stored, dense): (Vec<f64>, Vec<Vec<f64>>) = match kind {
        CovarianceType::Full => {
            let covs: Vec<Vec<f64>> = (0..k).map(|_| random_spd(rng, d)).collect();
            (covs.concat(), covs)
        }
        CovarianceType::Tied => {
            let cov = random_spd(rng, d);
            (cov.clone(), vec![cov; k])
        }
        CovarianceType::Diag => {
            let v: Vec<f64> = (0..k * d).map(|_| rng.random_range(0.2..3.0)).collect();
            let dense = (0..k)
                .map(|c| {
                    let mut m = vec![0.0; d * d];
                    for j in 0..d {
                        m[j * d + j] = v[c * d + j];
                    }
                    m
                })
                .collect();
            (v, dense)
        }
        CovarianceType::Spherical => {
            let v: Vec<f64> = (0..k).map(|_| rng.random_range(0.2..3.0)).collect();
            let dense = v
                .iter()
                .map(|&s| {
                    let mut m = vec![0.0; d * d];
                    for j in 0..d {
                        m[j * d + j] = s;
                    }
                    m
                })
                .collect();
            (v, dense)
        }
    };
    let cov = ArrayD::from_shape_vec(IxDyn(&kind.shape(k, d)), stored).unwrap();
    let m = Mixture::from_parameters(kind, weights.view(), means.view(), cov.view()).unwrap();
    (m, dense)
}

/// `log pi + log N(x | mu, Sigma)` the textbook way.
fn naive_log_prob(weight: f64, mu: &[f64], sigma: &[f64], x: &[f64]) -> f64 {
    let d = mu.len();
    let (inv, det) = inverse_and_det(sigma, d);
    let dx: Vec<f64> = x.iter().zip(mu).map(|(a, b)| a - b).collect();
    let mut q = 0.0;
    for i in 0..d {
        for j in 0..d {
            q += dx[i] * inv[i * d + j] * dx[j];
        }
    }
    weight.ln() - 0.5 * (d as f64 * (2.0 * std::f64::consts::PI).ln() + det.ln() + q)
}

/// A chunk (`d x CHUNK`, feature-major) of points spread around the model's means.
fn random_chunk(m: &Mixture, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let (k, d) = (m.n_components(), m.n_features());
    let mut xs = vec![0.0; d * CHUNK];
    for i in 0..CHUNK {
        let c = i % k;
        for j in 0..d {
            xs[j * CHUNK + i] = m.means()[[c, j]] + rng.random_range(-3.0..3.0);
        }
    }
    xs
}

fn point(xs: &[f64], d: usize, i: usize) -> Vec<f64> {
    (0..d).map(|j| xs[j * CHUNK + i]).collect()
}

struct LogProb<'a> {
    p: &'a Prepared,
    xs: &'a [f64],
    s: &'a mut Scratch,
}

impl Kernel for LogProb<'_> {
    type Output = ();
    fn run<A: Arith>(self) {
        log_prob_chunk::<A>(self.p, self.xs, self.s)
    }
}

/// The three ways to run `log_prob_chunk`: the dispatched instruction set, and each
/// arithmetic directly.
fn log_probs(p: &Prepared, xs: &[f64]) -> [(&'static str, Vec<f64>); 3] {
    let mut s = Scratch::new(p.k, p.d);
    dispatch(LogProb { p, xs, s: &mut s });
    let dispatched = s.lp.clone();
    log_prob_chunk::<Unfused>(p, xs, &mut s);
    let unfused = s.lp.clone();
    log_prob_chunk::<Fused>(p, xs, &mut s);
    [("dispatch", dispatched), ("unfused", unfused), ("fused", s.lp.clone())]
}

#[test]
fn log_prob_chunk_matches_the_naive_density_for_every_kind_and_dimension() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let k = 3;
    for kind in CovarianceType::ALL {
        for d in DIMS {
            let (m, sigma) = random_model(kind, k, d, &mut rng);
            let xs = random_chunk(&m, &mut rng);
            for form in FORMS {
                let mut p = prepared(&m, false);
                p.set_form(form);
                for (how, lp) in log_probs(&p, &xs) {
                    for c in 0..k {
                        let mu = m.means().row(c).to_vec();
                        for i in 0..CHUNK {
                            let want = naive_log_prob(m.weights()[c], &mu, &sigma[c], &point(&xs, d, i));
                            let got = lp[c * CHUNK + i];
                            assert!(
                                (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                                "{kind} d={d} {form:?} {how} component {c} point {i}: {got} vs {want}"
                            );
                        }
                    }
                }
            }
        }
    }
}

/// The seed evaluated the quadratic form as `einsum('ni,ji,ni->n', d, inv, d)`, i.e.
/// `sum_i d_i^2 sum_j inv[j, i]`, which equals `d^T inv d` only for diagonal `inv`. With the
/// equicorrelated `Sigma = (1 - rho) I + rho 1 1^T`, the column sums of `inv` are
/// `1 / (1 + (D - 1) rho)` while for `d` orthogonal to `1` the true form is `|d|^2 / (1 - rho)`:
/// far apart, so a kernel with the wrong contraction cannot pass.
#[test]
fn a_wrong_contraction_of_the_quadratic_form_would_fail() {
    let rho = 0.9;
    for kind in [CovarianceType::Full, CovarianceType::Tied] {
        for d in [2, 3, 5, 17] {
            let mut rng = ChaCha8Rng::seed_from_u64(d as u64);
            let mut sigma = vec![rho; d * d];
            for j in 0..d {
                sigma[j * d + j] = 1.0;
            }
            let k = 2;
            let stored = if kind == CovarianceType::Full {
                [sigma.clone(), sigma.clone()].concat()
            } else {
                sigma.clone()
            };
            let cov = ArrayD::from_shape_vec(IxDyn(&kind.shape(k, d)), stored).unwrap();
            let means = Array2::from_shape_fn((k, d), |(c, j)| c as f64 + 0.1 * j as f64);
            let weights = Array1::from(vec![0.4, 0.6]);
            let m = Mixture::from_parameters(kind, weights.view(), means.view(), cov.view()).unwrap();
            // Points off component 0's mean along alternating signs (nearly orthogonal to 1).
            let mut xs = vec![0.0; d * CHUNK];
            for i in 0..CHUNK {
                let t = rng.random_range(0.5..2.0);
                for j in 0..d {
                    let sign = if j % 2 == 0 { 1.0 } else { -1.0 };
                    xs[j * CHUNK + i] = means[[0, j]] + sign * t + rng.random_range(-0.05..0.05);
                }
            }
            let (inv, _) = inverse_and_det(&sigma, d);
            let p = prepared(&m, false);
            for (how, lp) in log_probs(&p, &xs) {
                for i in 0..CHUNK {
                    let x = point(&xs, d, i);
                    let mu = means.row(0).to_vec();
                    let dx: Vec<f64> = x.iter().zip(&mu).map(|(a, b)| a - b).collect();
                    let correct = naive_log_prob(0.4, &mu, &sigma, &x);
                    let right_q: f64 = (0..d)
                        .flat_map(|a| (0..d).map(move |b| (a, b)))
                        .map(|(a, b)| dx[a] * inv[a * d + b] * dx[b])
                        .sum();
                    let wrong_q: f64 =
                        (0..d).map(|a| dx[a] * dx[a] * (0..d).map(|j| inv[j * d + a]).sum::<f64>()).sum();
                    let wrong = correct + 0.5 * (right_q - wrong_q);
                    assert!(
                        (wrong - correct).abs() > 1.0,
                        "the test point does not tell the contractions apart: {wrong} vs {correct}"
                    );
                    let got = lp[i];
                    assert!(
                        (got - correct).abs() <= 1e-12 * correct.abs(),
                        "{kind} d={d} {how} point {i}: {got} vs {correct} (wrong einsum: {wrong})"
                    );
                }
            }
        }
    }
}

/// Log-sum-exp with libm's `exp` and `ln`.
fn naive_logsumexp(v: &[f64]) -> f64 {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

struct Normalise<'a> {
    k: usize,
    w: &'a [f64],
    s: &'a mut Scratch,
}

impl Kernel for Normalise<'_> {
    type Output = ();
    fn run<A: Arith>(self) {
        log_sum_exp_chunk::<A>(self.k, self.w, self.s, false)
    }
}

#[test]
fn log_sum_exp_chunk_gives_responsibilities_summing_to_one_and_the_naive_log_sum_exp() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for k in [1, 2, 5, 9] {
        // Log-densities from far below exp's underflow (-708) to positive, and weights
        // including zeros (padding) and non-integers.
        let lp: Vec<f64> = (0..k * CHUNK)
            .map(|_| match rng.random_range(0..4) {
                0 => rng.random_range(-900.0..-600.0),
                1 => rng.random_range(-50.0..30.0),
                2 => rng.random_range(-3.0..0.0),
                _ => rng.random_range(-1e4..1e4),
            })
            .collect();
        let w: Vec<f64> =
            (0..CHUNK).map(|i| if i % 17 == 0 { 0.0 } else { rng.random_range(0.1..3.0) }).collect();
        for variant in 0..3 {
            let mut s = Scratch::new(k, 1);
            s.lp.copy_from_slice(&lp);
            match variant {
                0 => dispatch(Normalise { k, w: &w, s: &mut s }),
                1 => log_sum_exp_chunk::<Unfused>(k, &w, &mut s, false),
                _ => log_sum_exp_chunk::<Fused>(k, &w, &mut s, false),
            }
            for i in 0..CHUNK {
                let column: Vec<f64> = (0..k).map(|c| lp[c * CHUNK + i]).collect();
                let lse = naive_logsumexp(&column);
                let got = s.log_lik[i];
                // Near 0 the error of a logarithm is absolute (about one ulp of 1).
                assert!(
                    (got - lse).abs() <= 1e-12 * lse.abs().max(1.0),
                    "k={k} variant {variant} point {i}: {got} vs {lse}"
                );
                let weighted: Vec<f64> = (0..k).map(|c| s.lp[c * CHUNK + i] * s.scale[i]).collect();
                let total: f64 = weighted.iter().sum();
                assert!(
                    (total - w[i]).abs() <= 1e-14 * w[i],
                    "weighted responsibilities of point {i} sum to {total}, not {}",
                    w[i]
                );
                if w[i] > 0.0 {
                    let r: Vec<f64> = weighted.iter().map(|v| v / w[i]).collect();
                    assert!((r.iter().sum::<f64>() - 1.0).abs() <= 1e-14);
                    for c in 0..k {
                        let want = (column[c] - lse).exp();
                        // Relative, except where libm gives a subnormal and the kernel 0.
                        assert!(
                            (r[c] - want).abs() <= 1e-12 * want + 1e-300,
                            "k={k} point {i} component {c}: {} vs {want}",
                            r[c]
                        );
                    }
                }
            }
        }
    }
}

struct Accumulate<'a> {
    kind: CovarianceType,
    form: Form,
    shifts: &'a [f64],
    xs: &'a [f64],
    s: &'a mut Scratch,
    stats: &'a mut SuffStats,
}

impl Kernel for Accumulate<'_> {
    type Output = ();
    fn run<A: Arith>(self) {
        accumulate_chunk::<A>(self.kind, self.form, self.shifts, self.xs, self.s, self.stats)
    }
}

/// Naive statistics and, per entry, the sum of the absolute values of its terms (the scale
/// of a floating-point sum's rounding error, Higham, *Accuracy and Stability*, 2nd ed., 4.2).
struct Naive {
    sr: Vec<f64>,
    sx: Vec<f64>,
    scatter: Vec<f64>,
    sr_abs: Vec<f64>,
    sx_abs: Vec<f64>,
    scatter_abs: Vec<f64>,
}

impl Naive {
    fn new(kind: CovarianceType, k: usize, d: usize) -> Naive {
        let len = kind.scatter_len(k, d);
        Naive {
            sr: vec![0.0; k],
            sx: vec![0.0; k * d],
            scatter: vec![0.0; len],
            sr_abs: vec![0.0; k],
            sx_abs: vec![0.0; k * d],
            scatter_abs: vec![0.0; len],
        }
    }

    /// Adds point `x` with weighted responsibility `r` for component `c`, around `shift`.
    fn add(&mut self, kind: CovarianceType, c: usize, r: f64, x: &[f64], shift: &[f64]) {
        let d = x.len();
        let dx: Vec<f64> = x.iter().zip(shift).map(|(a, b)| a - b).collect();
        self.sr[c] += r;
        self.sr_abs[c] += r.abs();
        for a in 0..d {
            self.sx[c * d + a] += r * dx[a];
            self.sx_abs[c * d + a] += (r * dx[a]).abs();
            for b in 0..d {
                let at = match kind {
                    CovarianceType::Full => c * d * d + a * d + b,
                    CovarianceType::Tied => a * d + b,
                    _ if a == b => c * d + a,
                    _ => continue,
                };
                self.scatter[at] += r * dx[a] * dx[b];
                self.scatter_abs[at] += (r * dx[a] * dx[b]).abs();
            }
        }
    }

    /// Compares with a kernel's statistics; full and tied scatters are compared on their
    /// upper triangle, the only part the kernels fill and the M-step reads.
    fn check(&self, kind: CovarianceType, d: usize, got: &SuffStats, what: &str) {
        let close = |g: f64, w: f64, scale: f64| (g - w).abs() <= 1e-12 * scale;
        for (c, (&g, (&w, &s))) in got.sr.iter().zip(self.sr.iter().zip(&self.sr_abs)).enumerate() {
            assert!(close(g, w, s), "{what}: sr[{c}] = {g} vs {w}");
        }
        for (i, (&g, (&w, &s))) in got.sx.iter().zip(self.sx.iter().zip(&self.sx_abs)).enumerate() {
            assert!(close(g, w, s), "{what}: sx[{i}] = {g} vs {w}");
        }
        for (i, (&g, (&w, &s))) in
            got.scatter.iter().zip(self.scatter.iter().zip(&self.scatter_abs)).enumerate()
        {
            let upper = match kind {
                CovarianceType::Full | CovarianceType::Tied => (i % (d * d)) / d <= i % d,
                _ => true,
            };
            if upper {
                assert!(close(g, w, s), "{what}: scatter[{i}] = {g} vs {w}");
            }
        }
    }
}

#[test]
fn accumulate_chunk_matches_naive_sums_for_every_kind_and_dimension() {
    let mut rng = ChaCha8Rng::seed_from_u64(23);
    let k = 3;
    for kind in CovarianceType::ALL {
        for d in DIMS {
            let shifts: Vec<f64> = (0..k * d).map(|_| rng.random_range(-2.0..2.0)).collect();
            for (variant, form) in (0..3).flat_map(|v| FORMS.map(|f| (v, f))) {
                let mut stats = SuffStats::new(kind, k, d);
                let mut naive = Naive::new(kind, k, d);
                // Two chunks into the same statistics: the kernel adds, never overwrites.
                for _chunk in 0..2 {
                    let xs: Vec<f64> = (0..d * CHUNK).map(|_| rng.random_range(-4.0..4.0)).collect();
                    let mut s = Scratch::new(k, d);
                    for v in s.lp.iter_mut() {
                        *v = rng.random_range(0.0..1.0);
                    }
                    for (i, v) in s.scale.iter_mut().enumerate() {
                        *v = if i % 13 == 0 { 0.0 } else { rng.random_range(0.2..2.0) };
                    }
                    for c in 0..k {
                        for i in 0..CHUNK {
                            let r = s.lp[c * CHUNK + i] * s.scale[i];
                            naive.add(kind, c, r, &point(&xs, d, i), &shifts[c * d..(c + 1) * d]);
                        }
                    }
                    let st = &mut stats;
                    match variant {
                        0 => dispatch(Accumulate {
                            kind,
                            form,
                            shifts: &shifts,
                            xs: &xs,
                            s: &mut s,
                            stats: st,
                        }),
                        1 => accumulate_chunk::<Unfused>(kind, form, &shifts, &xs, &mut s, st),
                        _ => accumulate_chunk::<Fused>(kind, form, &shifts, &xs, &mut s, st),
                    }
                }
                naive.check(kind, d, &stats, &format!("{kind} d={d} variant {variant} {form:?}"));
            }
        }
    }
}

/// The whole fused pass over chunked data (three chunks, the last one padded), with
/// sample weights including zeros, against a naive E-step: per point, the naive densities,
/// their log-sum-exp, the responsibilities, and the weighted sums around the means.
#[test]
fn the_fused_em_block_matches_a_naive_e_step() {
    let mut rng = ChaCha8Rng::seed_from_u64(31);
    let (n, k) = (700, 3);
    for kind in CovarianceType::ALL {
        for d in DIMS {
            let (m, sigma) = random_model(kind, k, d, &mut rng);
            let x =
                Array2::from_shape_fn((n, d), |(i, j)| m.means()[[i % k, j]] + rng.random_range(-3.0..3.0));
            let w = Array1::from_shape_fn(n, |i| if i % 11 == 0 { 0.0 } else { rng.random_range(0.5..2.0) });
            let data = Chunked::new(x.view(), Some(w.view()));
            // The documented contract: sample weights are used rescaled to average 1 per row.
            let w = w.mapv(|v| v * n as f64 / w.sum());
            let mut naive = Naive::new(kind, k, d);
            let (mut log_lik, mut log_lik_abs) = (0.0, 0.0);
            for i in 0..n {
                let xi = x.row(i).to_vec();
                let lp: Vec<f64> = (0..k)
                    .map(|c| naive_log_prob(m.weights()[c], &m.means().row(c).to_vec(), &sigma[c], &xi))
                    .collect();
                let lse = naive_logsumexp(&lp);
                log_lik += w[i] * lse;
                log_lik_abs += (w[i] * lse).abs();
                for c in 0..k {
                    let r = w[i] * (lp[c] - lse).exp();
                    naive.add(kind, c, r, &xi, &m.means().row(c).to_vec());
                }
            }
            for form in FORMS {
                let mut p = prepared(&m, false);
                p.set_form(form);
                let mut stats = SuffStats::new(kind, k, d);
                dispatch(EmBlock {
                    prepared: &p,
                    data: &data,
                    range: 0..data.n_chunks,
                    scratch: &mut Scratch::new(k, d),
                    stats: &mut stats,
                });
                naive.check(kind, d, &stats, &format!("{kind} d={d} {form:?}"));
                assert!(
                    (stats.log_lik - log_lik).abs() <= 1e-12 * log_lik_abs,
                    "{kind} d={d} {form:?}: log_lik {} vs {log_lik}",
                    stats.log_lik
                );
            }
        }
    }
}

/// The single-precision products stay within single precision's rounding of the plain twin:
/// each log-density within `1e-5 (1 + its Mahalanobis term)`, and the fused block's statistics
/// within 1e-5 of their scale, for every kind at dimensions above the crossovers.
#[test]
fn single_precision_products_stay_within_single_precision_of_the_twin() {
    let mut rng = ChaCha8Rng::seed_from_u64(41);
    let (n, k) = (700, 3);
    for kind in CovarianceType::ALL {
        for d in [8, 17, 37] {
            let (m, sigma) = random_model(kind, k, d, &mut rng);
            let mut p = prepared(&m, false);
            p.set_form(Form::ProductsF32);
            let xs = random_chunk(&m, &mut rng);
            let (_, lp) = &log_probs(&p, &xs)[0];
            for c in 0..k {
                let mu = m.means().row(c).to_vec();
                for i in 0..CHUNK {
                    let want = naive_log_prob(m.weights()[c], &mu, &sigma[c], &point(&xs, d, i));
                    let mahalanobis = 2.0 * (p.log_const[c] - want);
                    let got = lp[c * CHUNK + i];
                    assert!(
                        (got - want).abs() <= 1e-5 * (1.0 + mahalanobis),
                        "{kind} d={d} component {c} point {i}: {got} vs {want}"
                    );
                }
            }
            let x =
                Array2::from_shape_fn((n, d), |(i, j)| m.means()[[i % k, j]] + rng.random_range(-3.0..3.0));
            let data = Chunked::new(x.view(), None);
            let run = |p: &Prepared| {
                let mut stats = SuffStats::new(kind, k, d);
                let scratch = &mut Scratch::new(k, d);
                dispatch(EmBlock {
                    prepared: p,
                    data: &data,
                    range: 0..data.n_chunks,
                    scratch,
                    stats: &mut stats,
                });
                stats
            };
            let single = run(&p);
            p.set_form(Form::Products);
            let double = run(&p);
            let close = |a: &[f64], b: &[f64], what: &str| {
                let scale = b.iter().fold(0.0f64, |s, v| s.max(v.abs()));
                for (x, y) in a.iter().zip(b) {
                    assert!((x - y).abs() <= 1e-5 * scale, "{kind} d={d} {what}: {x} vs {y}");
                }
            };
            close(&single.sr, &double.sr, "sr");
            close(&single.sx, &double.sx, "sx");
            close(&single.scatter, &double.scatter, "scatter");
            assert!(
                (single.log_lik - double.log_lik).abs() <= 1e-6 * double.log_lik.abs(),
                "{kind} d={d} log_lik"
            );
        }
    }
}
