//! The fused pass: the E-step and the M-step's sufficient statistics in one sweep, the hot loop.
//!
//! For point `x_i` and component `k`, with `P_k = U_k U_k^T`:
//!
//! ```text
//! log p_ik = log pi_k + log det U_k - D/2 log(2 pi) - 1/2 |(x_i - mu_k)^T U_k|^2
//! log p(x_i) = logsumexp_k log p_ik = m_i + log sum_k exp(log p_ik - m_i),  m_i = max_k log p_ik
//! r_ik = exp(log p_ik - log p(x_i))
//! ```
//!
//! One pass per EM iteration computes, chunk by chunk, the log-densities, the log-sum-exp and
//! the weighted statistics `sum_i w_i r_ik`, `sum_i w_i r_ik (x_i - c_k)` and the centred scatter
//! `sum_i w_i r_ik (x_i - c_k)(x_i - c_k)^T` around the shift `c_k` (the current mean), so no
//! `N x K` responsibility matrix ever exists and no raw second moment is ever formed.
//!
//! A uniform background component, when the model has one, is one more term of each point's
//! log-sum-exp ([`background`]).
//!
//! One concern a file: [`cull`] (which components a chunk may skip), the kinds' log-density and
//! statistics kernels (in `crate::covariance`), [`logsumexp`] (normalisation per point),
//! [`blocks`] (a block of chunks, for EM or scoring) and [`run`] (blocks over threads, reduced
//! in block order). All kernels are generic over `Arith` and inlined into the instruction-set
//! wrappers of `crate::kernels`.

pub(crate) mod background;
pub(crate) mod blocks;
pub(crate) mod cull;
pub(crate) mod logsumexp;
pub(crate) mod run;
