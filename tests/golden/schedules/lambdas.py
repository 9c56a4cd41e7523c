"""Functions of the step used by the LambdaLR/MultiplicativeLR goldens.

Written with plain arithmetic so the same function runs on Python ints (torch,
at generation) and on jax arrays (optjax, in the tests).
"""

LAMBDAS = {
    "inv_t": lambda t: 1.0 / (t + 1),
    "pow097": lambda t: 0.97**t,
    "const095": lambda t: 0.95,
    "alt": lambda t: 0.9 if t % 2 else 1.02,
    "decay_i": lambda t: 1.0 - 0.5 / (t + 5),
}
