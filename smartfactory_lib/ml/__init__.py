"""Machine learning: features, training, explanations, ONNX and the registry.

The submodules are imported on demand: the Lambda handler needs only
:mod:`.features` and :mod:`.registry` (numpy, pandas and onnxruntime), not
scikit-learn or SHAP.
"""

__all__ = [
    "artifacts",
    "explain",
    "features",
    "figures",
    "onnx_export",
    "registry",
    "training",
]
