"""torch.optim class + flags -> the matching optjax call (used by the golden tests,
and the table in docs/optimizers-torch.md).

``optjax_for(cls, hp)`` builds the optimizer for one torch param group whose
resolved hyperparameters are ``hp`` (``opt.defaults`` updated with the group's
overrides); ``lr`` may be a float or a schedule.
"""

from __future__ import annotations

import optjax


def optjax_for(cls: str, hp: dict, lr=None):
    lr = hp["lr"] if lr is None else lr
    wd = hp.get("weight_decay", 0.0)
    mx = hp.get("maximize", False)
    if cls == "SGD":
        return optjax.sgd(lr, momentum=hp["momentum"] or None, nesterov=hp["nesterov"],
                          dampening=hp["dampening"], weight_decay=wd, maximize=mx)
    if cls in ("Adam", "AdamW"):
        b1, b2 = hp["betas"]
        return optjax.adam(lr, b1, b2, hp["eps"], weight_decay=wd,
                           amsgrad="raw" if hp["amsgrad"] else None,
                           decoupled_weight_decay=cls == "AdamW" or hp.get("decoupled_weight_decay", False),
                           maximize=mx)
    if cls == "RMSprop":
        return optjax.rmsprop(lr, decay=hp["alpha"], eps=hp["eps"], eps_in_sqrt=False,
                              centered=hp["centered"], momentum=hp["momentum"] or None,
                              weight_decay=wd, maximize=mx, lr_in_momentum_buffer=False)
    if cls == "Adagrad":
        return optjax.adagrad(lr, hp["initial_accumulator_value"], hp["eps"], eps_in_sqrt=False,
                              lr_decay=hp["lr_decay"], weight_decay=wd, maximize=mx)
    if cls == "Adadelta":
        return optjax.adadelta(lr, hp["rho"], hp["eps"], wd, maximize=mx)
    if cls == "Adamax":
        b1, b2 = hp["betas"]
        return optjax.adamax(lr, b1, b2, hp["eps"], eps_in_max=True, weight_decay=wd, maximize=mx)
    if cls == "NAdam":
        b1, b2 = hp["betas"]
        return optjax.nadam(lr, b1, b2, hp["eps"], momentum_decay=hp["momentum_decay"],
                            weight_decay=wd, decoupled_weight_decay=hp["decoupled_weight_decay"],
                            maximize=mx)
    if cls == "RAdam":
        b1, b2 = hp["betas"]
        return optjax.radam(lr, b1, b2, hp["eps"], eps_placement="uncorrected", strict_threshold=True,
                            weight_decay=wd, decoupled_weight_decay=hp["decoupled_weight_decay"],
                            maximize=mx)
    if cls == "ASGD":
        return optjax.asgd(lr, hp["lambd"], hp["alpha"], hp["t0"], wd, maximize=mx)
    if cls == "Rprop":
        (em, ep), (smin, smax) = hp["etas"], hp["step_sizes"]
        return optjax.rprop(lr, em, ep, smin, smax, maximize=mx)
    if cls == "Adafactor":
        e1, e2 = hp["eps"]
        return optjax.adafactor(lr, decay_rate=-hp["beta2_decay"], eps=e1, min_scale=e2,
                                clipping_threshold=hp["d"], weight_decay_rate=wd, variant="torch")
    if cls == "Muon":
        return optjax.muon(lr, wd, hp["momentum"], hp["nesterov"], tuple(hp["ns_coefficients"]),
                           hp["eps"], hp["ns_steps"], hp["adjust_lr_fn"] or "original",
                           non_matrix="error")
    raise KeyError(cls)
