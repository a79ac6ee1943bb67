"""MediaPipe's custom ops, registered by custom code in the kernel registry.

Convolution2DTransposeBias, MaxPoolingWithArgmax2D and MaxUnpooling2D (:mod:`.conv_pool`);
TransformTensorBilinear, TransformLandmarks and Landmarks2TransformMatrix, versions 1 and 2
(:mod:`.transforms`). Option decoding (raw C structs, flexbuffers maps) is in :mod:`.options`.
See docs/custom_ops.md, "MediaPipe op pack".
"""
from . import conv_pool, transforms  # noqa: F401  (importing registers the kernels)
