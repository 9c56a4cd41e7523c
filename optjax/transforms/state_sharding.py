"""Optimizer state split across a data-parallel mesh axis (ZeRO stage 1).

In plain data parallelism every device holds the whole params *and* the whole
optimizer state: Adam's two float32 moments are 8 bytes per parameter on each
of ``n`` devices. :func:`partition_state` keeps the params replicated but
stores each state leaf split over one mesh axis, so a device holds ``1/n`` of
the state, and runs the update on that slice::

    g_i    = slice_i(sum over devices of g)       # the gradient's reduction, kept as a slice
    s_i    <- rule(g_i, s_i, p_i)                  # the update on 1/n of the state
    u      = all_gather(u_i)                       # every device gets the whole update
    p      <- p + u                                # params stay replicated

Nothing here communicates by hand: the state, gradients and updates carry
shardings (``jax.lax.with_sharding_constraint`` inside ``jit``, ``device_put``
outside) and XLA's partitioner inserts the collectives. On GPU and TPU the
gradient's all-reduce followed by the slice becomes a reduce-scatter; XLA's CPU
pipeline keeps the all-reduce and slices locally. The numbers are the
replicated step's (elementwise rules bit for bit; rules with reductions over a
leaf, such as Adafactor's factored moments or Muon's matrix products, up to the
order of float additions).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from optjax import validation
from optjax.base import GradientTransformation, PyTree, call_update
from optjax.tree import is_none, path_str

INDIVISIBLE = ("pad", "replicate", "error")


class LeafLayout(NamedTuple):
    """How one state leaf is stored: its logical ``shape``, the ``dim`` split
    over the axis (None: not split along a dimension of the shape), and whether
    it is stored ``padded`` (flattened, zero-padded to a multiple of the axis
    size, split along its one dimension)."""

    shape: tuple[int, ...]
    dim: int | None
    padded: bool


def split_dim(shape: tuple[int, ...], n: int) -> int | None:
    """The dimension a leaf of ``shape`` is split along over ``n`` devices: the
    first one divisible by ``n``, or None if none is. Splitting the outermost
    such dimension gives each device a contiguous part of the leaf in row-major
    order (so blocks of 8-bit state stay whole on one device).

    >>> split_dim((12, 64), 8), split_dim((24, 16), 8), split_dim((3, 5), 8)
    (1, 0, None)
    """
    for d, size in enumerate(shape):
        if size > 0 and size % n == 0:
            return d
    return None


def _is_array(x: Any) -> bool:
    return hasattr(x, "shape") and hasattr(x, "dtype")


def _splittable(x: Any) -> bool:
    """Arrays of numbers (not PRNG keys or other extended dtypes) with ndim >= 1."""
    return (_is_array(x) and len(x.shape) >= 1
            and not jax.dtypes.issubdtype(x.dtype, jax.dtypes.extended))


def _constrain(x: jax.Array, sharding: NamedSharding) -> jax.Array:
    if isinstance(x, jax.core.Tracer):
        return jax.lax.with_sharding_constraint(x, sharding)
    return jax.device_put(x, sharding)


def partition_state(
    tx: GradientTransformation,
    mesh: Mesh,
    axis: str = "data",
    *,
    indivisible: str = "pad",
) -> GradientTransformation:
    """Store ``tx``'s state split over mesh axis ``axis`` (ZeRO-1); params stay replicated.

    Each state leaf with ``ndim >= 1`` is split along its first dimension
    divisible by ``n = mesh.shape[axis]`` (:func:`split_dim`), so each device
    keeps ``1/n`` of it. Gradients and params enter the inner update split the
    same way (a slice: no copy of the whole); the updates leave it replicated
    over the mesh (an all-gather), ready for :func:`optjax.apply_updates` on
    replicated params. Scalars (step counts, injected hyperparameters) and PRNG
    keys stay replicated.

    The state is ``tx``'s own state pytree with the leaves re-placed (every
    reader of ``tx``'s state, ``get_hyperparam`` included, still works); only
    leaves stored padded change shape.

    The params are meant to be replicated over the whole mesh (plain data
    parallelism): the updates come back replicated. Params already split over
    the mesh (FSDP-style) need no wrapper, as the state follows their sharding.
    Under ``jax.distributed``, build the state with ``jax.jit(tx.init)``.

    Args:
      tx: any transform.
      mesh: a ``jax.sharding.Mesh`` (on one host or, under ``jax.distributed``,
        spanning many).
      axis: the mesh axis the params are replicated over (the data-parallel axis).
      indivisible: what to do with a leaf none of whose dimensions is divisible
        by ``n``: ``"pad"`` (default) stores it flattened and zero-padded to a
        multiple of ``n``, split in ``n`` equal pieces (the update then gathers
        it: correct, but it runs on the whole leaf); ``"replicate"`` keeps it
        whole on every device; ``"error"`` raises ``ValueError`` naming it.

    Use it inside a ``jax.jit`` step whose params are replicated and whose batch
    is split over ``axis``::

        >>> import jax, jax.numpy as jnp, numpy as np, optjax
        >>> from jax.sharding import Mesh
        >>> mesh = Mesh(np.array(jax.devices()[:1]), ("data",))
        >>> tx = optjax.partition_state(optjax.adam(1e-3), mesh, "data")
        >>> params = {"w": jnp.ones((4, 2))}
        >>> state = tx.init(params)
        >>> step = jax.jit(lambda p, s, g: optjax.update_and_apply(tx, g, s, p))
        >>> params, state = step(params, state, {"w": jnp.ones((4, 2))})
    """
    if not isinstance(mesh, Mesh):
        raise TypeError(f"partition_state: mesh must be a jax.sharding.Mesh, got {type(mesh).__name__}")
    if axis not in mesh.axis_names:
        raise ValueError(
            f"partition_state: axis {axis!r} is not an axis of the mesh; its axes are {tuple(mesh.axis_names)}"
        )
    validation.one_of("indivisible", indivisible, INDIVISIBLE)
    n = int(mesh.shape[axis])
    replicated = NamedSharding(mesh, PartitionSpec())

    def spec_of(layout: LeafLayout) -> PartitionSpec:
        if layout.padded:
            return PartitionSpec(axis)
        if layout.dim is None:
            return PartitionSpec()
        return PartitionSpec(*([None] * layout.dim), axis)

    def layout_of(path: Any, x: Any) -> LeafLayout | None:
        if not _is_array(x):
            return None
        shape = tuple(x.shape)
        if not _splittable(x):
            return LeafLayout(shape, None, False)
        d = split_dim(shape, n)
        if d is not None:
            return LeafLayout(shape, d, False)
        if indivisible == "error":
            raise ValueError(
                f"partition_state: state leaf '{path_str(path)}' of shape {shape} cannot be split "
                f"over axis {axis!r} of size {n}: no dimension is divisible by {n} "
                "(use indivisible='pad' or 'replicate')"
            )
        return LeafLayout(shape, None, indivisible == "pad")

    def layouts(state: PyTree) -> PyTree:
        return jax.tree_util.tree_map_with_path(layout_of, state)

    def store(x: Any, layout: LeafLayout | None) -> Any:
        if layout is None:
            return x
        if layout.padded:
            size = math.prod(layout.shape)
            flat = jnp.reshape(x, (-1,))
            x = jnp.pad(flat, (0, -size % n))
        return _constrain(x, NamedSharding(mesh, spec_of(layout)))

    def load(x: Any, layout: LeafLayout | None) -> Any:
        if layout is None or not layout.padded:
            return x
        return jnp.reshape(x[: math.prod(layout.shape)], layout.shape)

    def split_like_state(tree: PyTree) -> PyTree:
        """Gradients or params split as a state leaf of their shape would be."""
        def one(x):
            if not _splittable(x):
                return x
            d = split_dim(tuple(x.shape), n)
            if d is None:
                return x
            return _constrain(x, NamedSharding(mesh, spec_of(LeafLayout(tuple(x.shape), d, False))))
        return jax.tree.map(one, tree)

    def init_fn(params):
        state = tx.init(params)
        lay = layouts(state)
        return jax.tree.map(store, state, lay, is_leaf=is_none)

    def update_fn(updates, state, params=None, **extra_args):
        ref = params if params is not None else updates
        shapes = jax.tree.map(lambda x: jax.ShapeDtypeStruct(jnp.shape(x), jnp.result_type(x)), ref)
        abstract = jax.eval_shape(tx.init, shapes)
        lay = layouts(abstract)
        if jax.tree.structure(abstract) != jax.tree.structure(state):
            raise ValueError(
                "partition_state: the state does not match the inner transform's state for these "
                "params: was it made by this partition_state's init?"
            )
        inner_state = jax.tree.map(load, state, lay, is_leaf=is_none)
        new_u, new_inner = call_update(
            tx, split_like_state(updates), inner_state,
            None if params is None else split_like_state(params), extra_args,
        )
        new_state = jax.tree.map(store, new_inner, lay, is_leaf=is_none)
        new_u = jax.tree.map(lambda u: _constrain(u, replicated) if _is_array(u) else u, new_u)
        return new_u, new_state

    return GradientTransformation(init_fn, update_fn)
