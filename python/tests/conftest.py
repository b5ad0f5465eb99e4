import numpy as np
import pytest


def _blobs(rng, n_per, centres, offset=0.0):
    """Anisotropic, non-diagonal clusters around `centres`."""
    d = len(centres[0])
    parts = []
    for c in centres:
        a = rng.normal(size=(d, d))
        cov = a @ a.T / d + 0.3 * np.eye(d)
        parts.append(rng.multivariate_normal(np.asarray(c, float) + offset, cov, n_per))
    return np.vstack(parts)


@pytest.fixture
def blobs():
    return _blobs
