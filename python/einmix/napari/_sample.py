"""napari's sample data: the embedded demo time-lapse, nothing to download."""

from __future__ import annotations

from .. import image


def demo() -> list:
    """The demo time-lapse ``(30, 192, 279)`` as an image layer: a live yeast mitochondrial
    network (maximum projection; nellie 1.0.4 sample data, (c) 2024 A. E. Y. T. Lefebvre,
    CC BY 4.0), what ``einmix image demo`` tracks."""
    stack = image.demo_stack()
    return [(stack, {"name": "einmix demo", "colormap": "gray", "metadata": {"source": "einmix.image.demo_stack"}}, "image")]
