"""convnets: the helpers of ch316, "From AlexNet to EfficientNet".

One concept per module:

* :mod:`convnets.shapes`        convolution arithmetic (output size, receptive field)
* :mod:`convnets.layers`        NumPy layers, forward and backward side by side
* :mod:`convnets.conv`          the convolution layer, to read: im2col, one matmul, col2im
* :mod:`convnets.conv_fast`     the same layer made fast (what the networks run)
* :mod:`convnets.network`       containers (sequential, residual, concat, dense, gate) and SGD
* :mod:`convnets.spec`          the declarative language networks are written in
* :mod:`convnets.blocks`        residual, dense, Inception and MBConv blocks, as definitions
* :mod:`convnets.architectures` the milestones, written like their papers' tables
* :mod:`convnets.accounting`    shapes, parameters, MACs and depth of a definition
* :mod:`convnets.build`         a definition turned into layers that run
* :mod:`convnets.zoo`           every network of the chapter, and ``python -m convnets.zoo``
* :mod:`convnets.results`       published ImageNet results with citations and protocols
* :mod:`convnets.experiments`   gradient flow, shattered gradients, training
* :mod:`convnets.datasets`      the real data the experiments use (scikit-learn's digits)
* :mod:`convnets.plotting`      figures
* :mod:`convnets.diagrams`      block diagrams and shape ribbons drawn from the definitions
* :mod:`convnets.notebook`      citations and code shown alike on the site and in JupyterLab
"""

from .accounting import count, summary
from .build import build
from .shapes import conv_output_size, receptive_field

__all__ = ["build", "count", "summary", "conv_output_size", "receptive_field"]
