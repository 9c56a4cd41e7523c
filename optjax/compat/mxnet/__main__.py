"""``python -m optjax.compat.mxnet script.py [args]``: run an MXNet script unchanged on JAX."""

from optjax.compat.mxnet.runner import main

if __name__ == "__main__":
    main()
