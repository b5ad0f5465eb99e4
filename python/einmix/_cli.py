"""The ``einmix`` console script: the Rust command line, run inside the extension."""

from __future__ import annotations

import signal
import sys


def main() -> None:
    """``einmix ARGS...``: exits with the command line's code (0, 1 under ``--strict``, 2)."""
    from . import _einmix

    # Ctrl-C stops the run at once, as it stops the cargo-built binary: Python's own handler
    # would only raise once the Rust call returned.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.exit(_einmix.cli_main(["einmix", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
