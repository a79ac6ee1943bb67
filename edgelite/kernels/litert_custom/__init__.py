"""LiteRT's built-in custom ops, registered by default as LiteRT's Python package does.

* ``TFLite_Detection_PostProcess`` (:mod:`.detection_postprocess`): SSD box decoding and NMS;
* ``AudioSpectrogram`` and ``Mfcc`` (:mod:`.audio_features`): speech features.
"""
from . import audio_features, detection_postprocess  # noqa: F401  (registers the kernels)
