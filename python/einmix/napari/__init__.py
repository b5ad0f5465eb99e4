"""einmix in napari: a dock widget that tracks an image layer, a reader for einmix outputs,
and the demo time-lapse as sample data (``pip install einmix[napari]``; see ``docs/napari.md``).

napari finds the plugin through its npe2 manifest, ``napari.yaml`` beside this file (entry
point ``napari.manifest``). Nothing here imports napari or Qt: the widget (``_widget``), the
reader (``_reader``) and the sample (``_sample``) are imported by napari when used, and the
layer building (``_layers``) needs only numpy.
"""
