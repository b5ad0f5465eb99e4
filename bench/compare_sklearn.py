#!/usr/bin/env python3
"""einmix against scikit-learn: the seed workload and the core issue's grid, in one run.

Run from the repository root (with the project's venv, einmix installed in it)::

    .venv/bin/python bench/compare_sklearn.py            # full grid, ~5-6 minutes on 2 cores
    .venv/bin/python bench/compare_sklearn.py --quick    # seed workload + covariance kinds, ~1 minute

What it measures, for every workload, with einmix (``n_threads``) and scikit-learn (its BLAS and
OpenMP pools capped by ``threadpoolctl.threadpool_limits``) at 1 and at 2 threads:

* **ms per EM iteration.** Both libraries start from the *same* parameters (``weights_init``,
  ``means_init``, ``precisions_init``) and run ``max_iter=m`` iterations with ``tol=0`` so that
  nothing stops early, with ``verbose=2, verbose_interval=1``: each library then reports the wall
  time of every iteration (E-step, M-step, lower bound). The table shows the median over
  iterations 2..m of all timing fits; iteration 1 carries scikit-learn's set-up, so it is dropped
  for both, and fixed costs (input checks, set-up, final E-step) are excluded. On the seed
  workload the difference method, ``(t(max_iter=m) - t(max_iter=1)) / (m - 1)``, is reported
  beside it as a cross-check.
* **final lower bound.** The same start fitted to convergence (``tol=1e-3``, ``max_iter=100``,
  scikit-learn's defaults) by both, and the relative difference of the two lower bounds
  (target: 1e-8). Where a converged scikit-learn fit would take minutes (1M points, K=200) the
  lower bounds after the ``m`` timing iterations are compared instead; the "LB at" column says
  which. einmix's lower bounds at 1 and 2 threads are checked for bitwise equality.
* **whole-fit time.** A default fit (``init_params="kmeans"``, ``random_state=0``), each library
  with its own initialisation, timed end to end, with the iterations it took. A second table adds
  ``init_params="k-means++"``.
* **seed approach.** The 2018 blog post's EM iteration in NumPy (per-component loop, densities in
  linear space via ``np.einsum('ni,ij,nj->n', d, inv, d)`` with ``scipy.linalg.inv``/``det``,
  responsibilities normalised by their row sums, M-step with ``np.einsum('ni,nj->ij', ...)`` per
  component, and the log-likelihood recomputed after each M-step for its convergence test). The
  post's own string was ``'ni,ji,ni->n'``, which is only right for a diagonal precision; here it is
  written correctly so the iteration computes the same thing as the other two.

The shared starting point: scikit-learn's ``kmeans_plusplus`` seeds (``random_state=0``), then one
hard-assignment M-step (each point to its nearest seed; weights, means and ``kind`` covariances of
the groups, plus ``reg_covar=1e-6``), in NumPy, so neither library's own initialiser is involved.

If ``OPENBLAS_CORETYPE`` or ``OPENBLAS_L2_SIZE`` is set, the script re-executes itself once
with both removed (for this process only) so scikit-learn runs the BLAS kernel OpenBLAS picks for
the machine; it prints which kernel that is. The markdown table is printed and written to
``bench/results/compare_sklearn-<YYYY-MM-DD>.md`` (``...-quick.md`` with ``--quick``).
"""

from __future__ import annotations

import os
import sys

_BLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_REEXEC_MARK = "EINMIX_BENCH_REMOVED_BLAS_VARS"


def _reexec_without_blas_overrides() -> None:
    """Re-run this script without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (they are read at load time)."""
    present = [name for name in _BLAS_OVERRIDES if name in os.environ]
    if not present:
        return
    env = {k: v for k, v in os.environ.items() if k not in _BLAS_OVERRIDES}
    env[_REEXEC_MARK] = " ".join(f"{name}={os.environ[name]}" for name in present)
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


_reexec_without_blas_overrides()  # before numpy loads OpenBLAS

import argparse  # noqa: E402
import contextlib  # noqa: E402
import datetime  # noqa: E402
import io  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.linalg as sla  # noqa: E402
import sklearn  # noqa: E402
import threadpoolctl  # noqa: E402
from sklearn.cluster import kmeans_plusplus  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.mixture import GaussianMixture as SkGaussianMixture  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import einmix  # noqa: E402
from einmix import GaussianMixture as EmGaussianMixture  # noqa: E402
from einmix import _einmix  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
REG_COVAR = 1e-6
THREADS = (1, 2)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- workloads -------------------------------------------------------------------------------


def seed_data(n: int, k: int) -> np.ndarray:
    """The seed's workload shape: k anisotropic 2-D blobs of 8-28 px in a 512 x 512 box."""
    x, _truth = _einmix.seed_workload(n, k, 0)
    return np.ascontiguousarray(x)


def separated_data(n: int, d: int, k: int, seed: int = 0, spread: float = 5.0) -> np.ndarray:
    """A sample of a random mixture: means uniform in [-spread, spread]^d, covariances Q diag(l) Q^T
    with random rotations Q and axis standard deviations in [0.5, 1.5] (non-diagonal, well separated
    because the means are ~spread * sqrt(d/3) apart)."""
    rng = np.random.default_rng(seed)
    weights = rng.uniform(0.5, 1.5, k)
    weights /= weights.sum()
    means = rng.uniform(-spread, spread, (k, d))
    counts = rng.multinomial(n, weights)
    parts = []
    for j in range(k):
        q, _ = np.linalg.qr(rng.standard_normal((d, d)))
        cov = (q * rng.uniform(0.5, 1.5, d) ** 2) @ q.T
        chol = np.linalg.cholesky(cov)
        parts.append(means[j] + rng.standard_normal((counts[j], d)) @ chol.T)
    x = np.concatenate(parts)
    rng.shuffle(x)
    return np.ascontiguousarray(x)


def starting_point(x: np.ndarray, k: int, kind: str) -> dict[str, np.ndarray]:
    """k-means++ seeds, then one hard-assignment M-step: weights_init, means_init, precisions_init."""
    n, d = x.shape
    centres, _ = kmeans_plusplus(x, k, random_state=0)
    labels = np.empty(n, dtype=np.int64)
    c2 = (centres**2).sum(1)
    for s in range(0, n, 1 << 16):
        xs = x[s : s + (1 << 16)]
        labels[s : s + len(xs)] = np.argmin(c2[None, :] - 2.0 * xs @ centres.T, axis=1)
    order = np.argsort(labels, kind="stable")
    counts = np.bincount(labels, minlength=k)
    groups = np.split(x[order], np.cumsum(counts)[:-1])
    global_cov = np.cov(x, rowvar=False).reshape(d, d)
    means = np.empty((k, d))
    scatter = np.empty((k, d, d))
    for j, g in enumerate(groups):
        if len(g) < 2:  # cannot happen with seeds drawn from continuous data; kept for safety
            means[j] = centres[j]
            scatter[j] = global_cov * max(len(g), 1)
            continue
        means[j] = g.mean(0)
        diff = g - means[j]
        scatter[j] = diff.T @ diff
    weights = np.maximum(counts, 1) / np.maximum(counts, 1).sum()
    nk = np.maximum(counts, 1)[:, None, None]
    eye = np.eye(d)
    if kind == "full":
        cov = scatter / nk + REG_COVAR * eye
        prec = np.linalg.inv(cov)
    elif kind == "tied":
        cov = scatter.sum(0) / n + REG_COVAR * eye
        prec = np.linalg.inv(cov)
    elif kind == "diag":
        var = np.diagonal(scatter, axis1=1, axis2=2) / nk[:, :, 0] + REG_COVAR
        prec = 1.0 / var
    elif kind == "spherical":
        var = np.diagonal(scatter, axis1=1, axis2=2).mean(1) / nk[:, 0, 0] + REG_COVAR
        prec = 1.0 / var
    else:
        raise ValueError(kind)
    return dict(weights_init=weights, means_init=means, precisions_init=np.ascontiguousarray(prec))


@dataclass
class Case:
    label: str
    n: int
    d: int
    k: int
    kind: str
    make: object  # () -> X
    m: int  # max_iter of the timing fits; iterations 2..m are timed
    sk_reps: int  # scikit-learn timing fits per thread count
    lb: str  # "converge" (fit to tol=1e-3 from the shared start) or "window" (after m iterations)
    sk_whole: tuple[int, ...]  # thread counts at which scikit-learn's whole fits run (may be empty)
    whole_inits: tuple[str, ...] = ("kmeans",)
    seed_approach: bool = False
    pair_check: bool = False  # also time max_iter=1 fits for the (t(m) - t(1)) / (m - 1) cross-check


def grid(quick: bool) -> list[Case]:
    seed = Case(
        "seed: 130k x 2, K=50 full", 130_000, 2, 50, "full", lambda: seed_data(130_000, 50),
        m=4 if quick else 5, sk_reps=1 if quick else 2, lb="converge",
        sk_whole=(2,) if quick else (1, 2), whole_inits=("kmeans",) if quick else ("kmeans", "k-means++"),
        seed_approach=True, pair_check=True,
    )
    kinds = [
        Case(f"130k x 2, K=50 {kind}", 130_000, 2, 50, kind, lambda: seed_data(130_000, 50),
             m=4 if quick else 5, sk_reps=1, lb="converge", sk_whole=() if quick else (2,))
        for kind in ("tied", "diag", "spherical")
    ]
    if quick:
        return [seed, *kinds]
    big = [
        Case("1M x 2, K=50 full", 1_000_000, 2, 50, "full", lambda: seed_data(1_000_000, 50),
             m=3, sk_reps=1, lb="window", sk_whole=(), whole_inits=("kmeans", "k-means++")),
        Case("130k x 2, K=200 full", 130_000, 2, 200, "full", lambda: seed_data(130_000, 200),
             m=3, sk_reps=1, lb="window", sk_whole=(), whole_inits=("kmeans", "k-means++")),
        Case("100k x 16, K=50 full", 100_000, 16, 50, "full", lambda: separated_data(100_000, 16, 50),
             m=3, sk_reps=1, lb="converge", sk_whole=(2,)),
        Case("100k x 64, K=20 full", 100_000, 64, 20, "full", lambda: separated_data(100_000, 64, 20),
             m=3, sk_reps=1, lb="converge", sk_whole=(2,)),
    ]
    return [seed, *big, *kinds]


# -- the seed's approach (2018 blog post), contraction corrected ------------------------------


def seed_normpdf(x, mu, sigma):
    """px2: the post's density of every point under one 2-D Gaussian, in linear space."""
    det = sla.det(sigma)
    inv = sla.inv(sigma)
    d = x - mu
    p = np.einsum("ni,ij,nj->n", d, inv, d)  # the post had 'ni,ji,ni->n' (right only for diagonal inv)
    norm = 1.0 / np.sqrt((2 * np.pi) ** 2 * det)  # the post hard-codes d = 2
    return np.exp(-0.5 * p) * norm


def seed_iteration(x, pi, mu, sigma):
    """One EM iteration as the seed did it: E-step, M-step (musig2), then the log-likelihood."""
    n = x.shape[0]
    k = len(pi)
    r = np.empty((n, k))
    for j in range(k):
        r[:, j] = pi[j] * seed_normpdf(x, mu[j], sigma[j])
    r /= r.sum(axis=1)[:, None]
    new_pi = np.empty(k)
    new_mu = np.empty_like(mu)
    new_sigma = np.empty_like(sigma)
    for j in range(k):
        rj = r[:, j]
        nj = rj.sum()
        new_mu[j] = (x * rj[:, None]).sum(axis=0) / nj
        diff = x - new_mu[j]
        new_sigma[j] = np.einsum("ni,nj->ij", diff * rj[:, None], diff) / nj
        new_pi[j] = nj
    new_pi /= new_pi.sum()
    like = np.zeros(n)
    for j in range(k):
        like += new_pi[j] * seed_normpdf(x, new_mu[j], new_sigma[j])
    return new_pi, new_mu, new_sigma, float(np.log(like).sum())


def time_seed_approach(x, start, iters):
    pi = start["weights_init"].copy()
    mu = start["means_init"].copy()
    sigma = np.linalg.inv(start["precisions_init"])
    times, lls = [], []
    for _ in range(iters):
        t0 = time.perf_counter()
        pi, mu, sigma, ll = seed_iteration(x, pi, mu, sigma)
        times.append(time.perf_counter() - t0)
        lls.append(ll / x.shape[0])
    return times, lls


# -- timing helpers --------------------------------------------------------------------------


def sk_model(case, threads, **kw):
    del threads  # scikit-learn's threads are set by threadpool_limits around the call
    return SkGaussianMixture(case.k, covariance_type=case.kind, **kw)


def em_model(case, threads, **kw):
    return EmGaussianMixture(case.k, covariance_type=case.kind, n_threads=threads, **kw)


def timed_fit(make, x, threads):
    with threadpool_limits(limits=threads):
        t0 = time.perf_counter()
        est = make().fit(x)
        return time.perf_counter() - t0, est


_LAPSE = re.compile(r"Iteration\s+\d+\s+time lapse ([0-9.]+)s")


def per_iteration(factory, case, x, start, threads, reps, budget_s):
    """Per-iteration times from each library's own verbose=2 report.

    Both scikit-learn and einmix print, with verbose=2 and verbose_interval=1, the wall time since
    the previous iteration's report. The first report carries the set-up (scikit-learn) or nothing
    (einmix), so iterations 2..m are kept: E-step, M-step and lower bound, no fixed costs.
    Returns the lapses, the fit totals, the max_iter=1 totals (pair check) and the last estimator.
    """
    lapses, totals, totals1, est, spent = [], [], [], None, 0.0
    for _ in range(reps):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            t, est = timed_fit(
                lambda: factory(case, threads, tol=0.0, max_iter=case.m, verbose=2, verbose_interval=1, **start),
                x, threads)
        reported = [float(v) for v in _LAPSE.findall(buf.getvalue())]
        if len(reported) != case.m:
            raise RuntimeError(f"expected {case.m} iteration reports, got {len(reported)}:\n{buf.getvalue()}")
        lapses += reported[1:]
        totals.append(t)
        spent += t
        if case.pair_check:
            t1, _ = timed_fit(lambda: factory(case, threads, tol=0.0, max_iter=1, **start), x, threads)
            totals1.append(t1)
            spent += t1
        if spent > budget_s:
            break
    return dict(it=statistics.median(lapses), n_it=len(lapses), n_fits=len(totals),
                pair=(statistics.median(totals) - statistics.median(totals1)) / (case.m - 1) if totals1 else None,
                est=est)


def repeated(fn, reps, budget_s):
    out, spent = [], 0.0
    for _ in range(reps):
        t, est = fn()
        out.append((t, est))
        spent += t
        if spent > budget_s:
            break
    times = [t for t, _ in out]
    return statistics.median(times), len(out), out[-1][1]


def rel(a, b):
    return abs(a - b) / abs(a)


# -- reporting -------------------------------------------------------------------------------


def fmt_ms(s):
    ms = s * 1e3
    if ms <= 0:  # a paired difference below the timing noise
        return f"{ms:.2f} (noise)"
    if ms >= 100:
        return f"{ms:,.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    return f"{ms:.2f}"


def fmt_s(s):
    return f"{s:.2f} s" if s >= 1 else f"{s * 1e3:.0f} ms"


def fmt_ratio(r):
    if not np.isfinite(r) or r <= 0:
        return "n/a"
    return f"{r:,.0f}x" if r >= 10 else f"{r:.1f}x"


def machine_info():
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = next(l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal"))
        mem_gib = int(mem.split()[1]) / 2**20
    except (OSError, StopIteration):
        mem_gib = float("nan")
    try:
        rev = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                             capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        rev = "?"
    blas = []
    for info in threadpoolctl.threadpool_info():
        if info.get("user_api") == "blas":
            blas.append(
                f"{info.get('internal_api')} {info.get('version')} kernel={info.get('architecture')} "
                f"({Path(info.get('filepath', '')).name})"
            )
    return dict(
        cpu=model, cores=os.cpu_count(), mem_gib=mem_gib, python=platform.python_version(),
        numpy=np.__version__, scipy=scipy.__version__, sklearn=sklearn.__version__,
        threadpoolctl=threadpoolctl.__version__, einmix=getattr(einmix, "__version__", "?"),
        simd=getattr(_einmix, "instruction_set", "?"), git=rev or "?", blas=blas,
    )


def load_str():
    a, b, c = os.getloadavg()
    return f"{a:.2f} {b:.2f} {c:.2f}"


# -- main ------------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="seed workload and the covariance kinds only, fewer repetitions (~1 minute)")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    t_start = time.perf_counter()
    info = machine_info()
    load_begin = load_str()
    removed = os.environ.get(_REEXEC_MARK)
    header = [
        f"- machine: {info['cpu']}, {info['cores']} logical cores, {info['mem_gib']:.0f} GiB; "
        f"{platform.system()} {platform.release()}",
        f"- versions: Python {info['python']}, numpy {info['numpy']}, scipy {info['scipy']}, "
        f"scikit-learn {info['sklearn']}, threadpoolctl {info['threadpoolctl']}, "
        f"einmix {info['einmix']} (git {info['git']}, SIMD: {info['simd']})",
        *(f"- BLAS: {b}" for b in info["blas"]),
        "- BLAS overrides: "
        + (f"removed {removed} for this run (re-executed without them)" if removed
           else "OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE not set"),
        f"- load average (1/5/15 min) at start: {load_begin}",
    ]
    print(header[0])
    for line in header[2:]:
        print(line)  # BLAS libraries and kernels, overrides, load
    sys.stdout.flush()

    # Warm both libraries up (imports, thread pools) on a small problem.
    xw = seed_data(5_000, 5)
    for th in THREADS:
        timed_fit(lambda: SkGaussianMixture(5, max_iter=2, random_state=0), xw, th)
        timed_fit(lambda: EmGaussianMixture(5, max_iter=2, random_state=0, n_threads=th), xw, th)

    rows, whole_rows, seed_rows, notes = [], [], [], []
    for case in grid(args.quick):
        log(f"[{time.perf_counter() - t_start:6.1f}s] {case.label}: data + start")
        case_load = os.getloadavg()[0]
        x = case.make()
        start = starting_point(x, case.k, case.kind)
        res = {}
        for th in THREADS:
            log(f"[{time.perf_counter() - t_start:6.1f}s]   per-iteration, {th} thread(s)")
            timed_fit(lambda: em_model(case, th, tol=0.0, max_iter=1, **start), x, th)  # warm-up
            res[th] = dict(sk=per_iteration(sk_model, case, x, start, th, case.sk_reps, 60.0),
                           em=per_iteration(em_model, case, x, start, th, 7, 3.0))
        # Lower bounds from the same start; einmix's must not depend on the thread count.
        em_thread_equal = res[1]["em"]["est"].lower_bound_ == res[2]["em"]["est"].lower_bound_
        if case.lb == "converge":
            log(f"[{time.perf_counter() - t_start:6.1f}s]   converged fits from the shared start")
            _, sk_c = timed_fit(lambda: sk_model(case, 2, **start), x, 2)
            _, em_c = timed_fit(lambda: em_model(case, 2, **start), x, 2)
            sk_lb, em_lb = sk_c.lower_bound_, em_c.lower_bound_
            lb_at = (f"converged (tol 1e-3), {sk_c.n_iter_} / {em_c.n_iter_} it"
                     if sk_c.converged_ and em_c.converged_
                     else f"max_iter=100, {sk_c.n_iter_} / {em_c.n_iter_} it")
        else:
            sk_lb, em_lb = res[2]["sk"]["est"].lower_bound_, res[2]["em"]["est"].lower_bound_
            lb_at = f"after {case.m} it (tol=0)"
        notes.append(f"{case.label}: 1-minute load average when the case started: {case_load:.2f}")
        notes.append(f"{case.label}: einmix lower bound after {case.m} it at 1 and 2 threads: "
                     + ("bitwise equal" if em_thread_equal else
                        f"DIFFER ({res[1]['em']['est'].lower_bound_!r} vs {res[2]['em']['est'].lower_bound_!r})"))
        # Whole fits, each library with its own initialisation.
        whole = {}
        for init in case.whole_inits:
            for th in THREADS:
                log(f"[{time.perf_counter() - t_start:6.1f}s]   whole fit, init={init}, {th} thread(s)")
                em_t, em_n, em_w = repeated(
                    lambda: timed_fit(lambda: em_model(case, th, init_params=init, random_state=0), x, th), 5, 3.0)
                entry = dict(em=(em_t, em_w.n_iter_, em_w.lower_bound_, em_n))
                if th in case.sk_whole:
                    sk_t, _, sk_w = repeated(
                        lambda: timed_fit(lambda: sk_model(case, th, init_params=init, random_state=0), x, th), 1, 0.0)
                    entry["sk"] = (sk_t, sk_w.n_iter_, sk_w.lower_bound_)
                whole[(init, th)] = entry
        # The seed's approach (2-D full only: the post hard-codes d = 2).
        seed_ms = {}
        if case.seed_approach:
            iters = 2 if args.quick else 3
            for th in (1,) if args.quick else THREADS:
                log(f"[{time.perf_counter() - t_start:6.1f}s]   seed approach, {th} thread(s)")
                with threadpool_limits(limits=th):
                    times, lls = time_seed_approach(x, start, iters)
                seed_ms[th] = statistics.median(times)
            ref = sk_c.lower_bounds_ if case.lb == "converge" else []
            checks = [f"after {j + 1} it: seed {ll:.10f} vs scikit-learn {ref[j + 1]:.10f} (rel. {rel(ref[j + 1], ll):.1e})"
                      for j, ll in enumerate(lls) if j + 1 < len(ref)]
            seed_rows.append((case.label, seed_ms, iters, checks))

        for th in THREADS:
            r = res[th]
            wk = whole.get(("kmeans", th))
            sk_whole = wk.get("sk") if wk else None
            em_whole = wk["em"] if wk else None
            rows.append([
                case.label if th == THREADS[0] else "",
                str(th),
                fmt_ms(seed_ms[th]) if th in seed_ms else "",
                fmt_ms(r["sk"]["it"]),
                fmt_ms(r["em"]["it"]),
                fmt_ratio(r["sk"]["it"] / r["em"]["it"]) if r["em"]["it"] > 0 else "n/a",
                f"{fmt_s(sk_whole[0])} ({sk_whole[1]} it)" if sk_whole else "not run",
                f"{fmt_s(em_whole[0])} ({em_whole[1]} it)" if em_whole else "",
                fmt_ratio(sk_whole[0] / em_whole[0]) if sk_whole else "",
                f"{sk_lb:.12f}" if th == THREADS[0] else "",
                f"{em_lb:.12f}" if th == THREADS[0] else "",
                f"{rel(sk_lb, em_lb):.1e}" if th == THREADS[0] else "",
                lb_at if th == THREADS[0] else "",
            ])
            note = (f"{case.label}, {th} thr: ms/it from iterations 2..{case.m} of "
                    f"{r['sk']['n_fits']} scikit-learn fit(s) ({r['sk']['n_it']} iterations) and "
                    f"{r['em']['n_fits']} einmix fit(s) ({r['em']['n_it']} iterations)")
            if r["sk"]["pair"] is not None:
                note += (f"; cross-check (t(max_iter={case.m}) - t(max_iter=1)) / {case.m - 1}: scikit-learn "
                         f"{fmt_ms(r['sk']['pair'])} ms/it, einmix {fmt_ms(r['em']['pair'])} ms/it")
            notes.append(note)
        for (init, th), entry in whole.items():
            sk = entry.get("sk")
            em_t, em_it_n, em_lb_w, em_reps = entry["em"]
            whole_rows.append([
                case.label, init, str(th),
                f"{fmt_s(sk[0])}, {sk[1]} it, LB {sk[2]:.6f}" if sk else "not run",
                f"{fmt_s(em_t)}, {em_it_n} it, LB {em_lb_w:.6f} (median of {em_reps})",
                fmt_ratio(sk[0] / em_t) if sk else "",
            ])
        case_line = f"  -> {case.label}: " + ", ".join(
            f"{th} thr {fmt_ms(res[th]['sk']['it'])} vs {fmt_ms(res[th]['em']['it'])} ms/it" for th in THREADS
        ) + f"; LB rel. diff {rel(sk_lb, em_lb):.1e}"
        log(case_line)
        del x

    elapsed = time.perf_counter() - t_start
    load_end = load_str()

    main_header = [
        "workload", "threads", "seed approach ms/it", "scikit-learn ms/it", "einmix ms/it", "ratio/it",
        "scikit-learn whole fit", "einmix whole fit", "ratio (fit)", "final LB scikit-learn",
        "final LB einmix", "LB rel. diff", "LB at (sklearn / einmix it)",
    ]
    whole_header = ["workload", "init_params", "threads", "scikit-learn", "einmix", "ratio"]

    def table(head, body):
        out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        out += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(out)

    seed_case = rows[THREADS.index(2)]
    seed_ratio = float(seed_case[5].rstrip("x").replace(",", "").replace("n/a", "nan"))
    seed_lb = float(rows[0][11])
    verdict = [
        f"- target >= 100x per EM iteration on the seed workload at 2 threads: "
        f"{'met' if seed_ratio >= 100 else 'NOT met'} ({seed_case[5]})",
        f"- target: same lower bound to 1e-8 on the seed workload: "
        f"{'met' if seed_lb <= 1e-8 else 'NOT met'} (rel. diff {seed_lb:.1e})",
    ]
    method = [
        "- ms/it: both libraries from the same start (k-means++ seeds, random_state=0, then one "
        "hard-assignment M-step, in NumPy), tol=0 and max_iter=m so nothing stops early, verbose=2 with "
        "verbose_interval=1: each library reports the wall time of every iteration (E-step, M-step, lower "
        "bound); the median over iterations 2..m of all timing fits is shown (iteration 1 carries "
        "scikit-learn's set-up, so it is dropped for both; fixed costs are excluded). On the seed workload "
        "the notes add the difference method (t(max_iter=m) - t(max_iter=1)) / (m - 1) as a cross-check. "
        "Threads: einmix n_threads; scikit-learn under threadpoolctl.threadpool_limits (BLAS and OpenMP).",
        "- whole fit: default parameters (init_params='kmeans', tol=1e-3, max_iter=100, random_state=0), each "
        "library with its own initialisation, timed end to end; einmix is the median of up to 5 fits, "
        "scikit-learn a single fit.",
        "- final LB: lower_bound_ of both libraries from the same start. 'converged': tol=1e-3, max_iter=100 "
        "(both at 2 threads; einmix's lower bounds of its 1- and 2-thread timing fits are checked for "
        "bitwise equality, see notes). 'after m it (tol=0)': the lower bounds of the 2-thread timing fits, "
        "where a converged scikit-learn fit would take minutes. 'sklearn / einmix it' are the iteration counts.",
        "- seed approach: the 2018 post's EM iteration in NumPy, one row per thread cap (its einsum calls "
        "do not use BLAS), median of a few iterations from the same start; one iteration is the E-step "
        "(K densities), the M-step (K einsum scatter matrices) and the log-likelihood it recomputed after "
        "each M-step (K densities). Its quadratic form is written 'ni,ij,nj->n'; the post's "
        "'ni,ji,ni->n' is only right for diagonal precisions.",
        "- cost limits: scikit-learn's whole fits are not run for 1M x 2 and K=200 (minutes each) and run "
        "at 2 threads only outside the seed workload; on the big cases (1M, K=200, D=16, D=64) one "
        "scikit-learn timing fit of max_iter=3 per thread count gives 2 timed iterations (see notes).",
    ]
    seed_lines = []
    for label, ms, iters, checks in seed_rows:
        seed_lines.append(f"- {label}: " + ", ".join(f"{th} thr {fmt_ms(v)} ms/it" for th, v in ms.items())
                          + f" (median of {iters} iterations)")
        seed_lines += [f"  - mean log-likelihood {c}" for c in checks]

    today = datetime.date.today().isoformat()
    cmd = ".venv/bin/python bench/compare_sklearn.py" + (" --quick" if args.quick else "")
    doc = "\n".join([
        f"# einmix vs scikit-learn GaussianMixture ({today}{', quick' if args.quick else ''})",
        "",
        f"Command: `{cmd}` (total {elapsed:.0f} s)",
        "",
        *header,
        f"- load average (1/5/15 min) at end: {load_end}",
        "",
        "## Per EM iteration, whole fit, final lower bound",
        "",
        table(main_header, rows),
        "",
        *verdict,
        "",
        "## Whole fits, each library with its own initialisation",
        "",
        table(whole_header, whole_rows),
        "",
        "## The seed's approach",
        "",
        *seed_lines,
        "",
        "## Method",
        "",
        *method,
        "",
        "## Notes",
        "",
        *(f"- {n}" for n in notes),
        "",
    ])
    print()
    print(doc)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"compare_sklearn-{today}{'-quick' if args.quick else ''}.md"
    out.write_text(doc)
    print(f"written to {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
