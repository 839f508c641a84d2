"""The pure core: numpy and pandas; scikit-learn and SciPy only inside the functions that train.

No I/O, no environment, no printing (python/tests/unit/test_layers.py checks)."""
