"""``mx.model``: checkpoints as MXNet 1.9.1 writes them.

``save_checkpoint(prefix, epoch, symbol, arg_params, aux_params)`` writes
``prefix-symbol.json`` (MXNet's symbol JSON) and ``prefix-%04d.params``
(MXNet's binary NDArray format, names prefixed ``arg:`` and ``aux:``);
``load_checkpoint`` reads both, from the shim or from real MXNet.
"""

from __future__ import annotations

import logging
import os
from collections import namedtuple

from optjax.compat.mxnet.base import MXNetError

__all__ = ["save_checkpoint", "load_checkpoint", "load_params", "BatchEndParam"]

BatchEndParam = namedtuple("BatchEndParams", ["epoch", "nbatch", "eval_metric", "locals"])


def save_checkpoint(prefix: str, epoch: int, symbol, arg_params: dict, aux_params: dict,
                    remove_amp_cast: bool = True) -> None:
    """Write ``prefix-symbol.json`` (when ``symbol`` is given) and ``prefix-%04d.params``."""
    from optjax.compat.mxnet import ndarray as nd
    if symbol is not None:
        symbol.save("%s-symbol.json" % prefix, remove_amp_cast=remove_amp_cast)
    save_dict = {"arg:%s" % k: v for k, v in arg_params.items()}
    save_dict.update({"aux:%s" % k: v for k, v in aux_params.items()})
    param_name = "%s-%04d.params" % (prefix, epoch)
    nd.save(param_name, save_dict)
    logging.info('Saved checkpoint to "%s"', param_name)


def load_params(prefix: str, epoch: int) -> tuple:
    """``(arg_params, aux_params)`` from ``prefix-%04d.params``."""
    from optjax.compat.mxnet import ndarray as nd
    fname = "%s-%04d.params" % (prefix, epoch)
    if not os.path.isfile(fname):
        raise MXNetError(f"parameter file {fname!r} does not exist")
    save_dict = nd.load(fname)
    arg_params, aux_params = {}, {}
    if not save_dict:
        logging.warning("Params file '%s' is empty", fname)
        return arg_params, aux_params
    if not isinstance(save_dict, dict):
        raise MXNetError(f"parameter file {fname!r} holds an unnamed list of arrays; a "
                         "checkpoint names them 'arg:<name>' and 'aux:<name>'")
    for k, v in save_dict.items():
        tp, _, name = k.partition(":")
        if tp == "arg":
            arg_params[name] = v
        elif tp == "aux":
            aux_params[name] = v
    return arg_params, aux_params


def load_checkpoint(prefix: str, epoch: int) -> tuple:
    """``(symbol, arg_params, aux_params)`` from ``prefix-symbol.json`` and
    ``prefix-%04d.params``."""
    from optjax.compat.mxnet import symbol as sym
    fname = "%s-symbol.json" % prefix
    if not os.path.isfile(fname):
        raise MXNetError(f'checkpoint symbol file "{fname}" does not exist (prefix {prefix!r})')
    symbol = sym.load(fname)
    arg_params, aux_params = load_params(prefix, epoch)
    return symbol, arg_params, aux_params
