"""Data files read by the same reader as the ``einmix`` command line."""

import os

from . import _einmix


def read_data(path, *, columns=None, weight_column=None):
    """Read a data table from a file, exactly as ``einmix fit`` reads it.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.npy`` array of shape (n_samples, n_features) of any numeric dtype, a ``.npz``
        archive (its array ``x`` or ``X``, or its only array), or a ``.csv``/``.tsv`` table
        (an optional header line, ``#`` comments). Other extensions are read by content.
    columns : sequence of str or int, default=None
        The feature columns, by header name or 1-based position; default: every column but
        the weight column.
    weight_column : str or int, default=None
        The column (by name or 1-based position) holding one weight per sample, or, in a
        ``.npz``, the name of an array of them.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
    sample_weight : ndarray of shape (n_samples,), float64, or None

    Raises
    ------
    EinmixError
        A ``ValueError`` whose message is the command line's, ``"{path}: {what is wrong}"``.
    OSError
        The file cannot be read (``FileNotFoundError`` when it does not exist).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from einmix import read_data
    >>> path = os.path.join(tempfile.mkdtemp(), "points.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("x,y,w\\n1,2,0.5\\n3,4,1.5\\n")
    >>> X, w = read_data(path, weight_column="w")
    >>> X.tolist(), w.tolist()
    ([[1.0, 2.0], [3.0, 4.0]], [0.5, 1.5])
    """
    # os.fspath raises TypeError for anything that is not a path.
    path = os.fsdecode(os.fspath(path))
    if columns is None:
        columns = []
    elif isinstance(columns, (str, int)):
        columns = [columns]
    columns = [_column(c, "columns") for c in columns]
    if weight_column is not None:
        weight_column = _column(weight_column, "weight_column")
    return _einmix.read_data(path, columns, weight_column)


def _column(c, name):
    # bool is an int subclass, and True is no column position.
    if isinstance(c, bool) or not isinstance(c, (str, int)):
        raise TypeError(f"{name} must name columns by str or 1-based int, got {type(c).__name__}")
    return str(c)
