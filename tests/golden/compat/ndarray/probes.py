"""NDArray behaviours probed in real MXNet 1.9.1 and in the shim, by the same code.

Each probe is ``probe_<name>(mx, np) -> dict`` of plain values (lists, numbers,
strings, dtype names): ``gen_mxnet_ndarray.py`` runs them with MXNet and writes
``mxnet_ndarray.json``; ``tests/compat/test_ndarray_semantics.py`` runs them with
``optjax.compat.mxnet`` and compares. ``np`` is NumPy.
"""

import copy


def _a(x):
    """An NDArray's value, dtype and shape as plain values."""
    v = x.asnumpy()
    return {"value": v.tolist(), "dtype": str(v.dtype), "shape": list(x.shape)}


def _err(fn):
    """The name of the error type ``fn()`` raises (or None)."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001  (we record what MXNet raises)
        return {"type": type(e).__name__}
    return None


def _base(mx, np):
    return mx.nd.array(np.arange(12, dtype="float32").reshape(3, 4))


def probe_view_first_axis_int(mx, np):
    x = _base(mx, np)
    y = x[1]
    y[:] = -1
    return {"x": _a(x), "y": _a(y)}


def probe_view_first_axis_slice(mx, np):
    x = _base(mx, np)
    y = x[1:3]
    y[:] = -1
    x[0] = 7  # and writes to the parent show in the view
    return {"x": _a(x), "y": _a(y)}


def probe_view_reshape(mx, np):
    x = _base(mx, np)
    y = x.reshape((4, 3))
    y[0] = -5
    return {"x": _a(x), "y": _a(y)}


def probe_copy_column(mx, np):
    x = _base(mx, np)
    y = x[:, 1]
    y[:] = -1
    return {"x": _a(x), "y": _a(y)}


def probe_copy_step(mx, np):
    x = _base(mx, np)
    y = x[::2]
    y[:] = -1
    return {"x": _a(x), "y": _a(y)}


def probe_scalar_index_shape(mx, np):
    x = _base(mx, np)
    x3 = mx.nd.array(np.arange(24, dtype="float32").reshape(2, 3, 4))
    return {"x01": _a(x[0, 1]), "x0": _a(x[0]), "x3_012": _a(x3[0, 1, 2]), "x3_01": _a(x3[0, 1]),
            "neg": _a(x[-1]), "x_1_slice": _a(x[1, 1:3])}


def probe_setitem_forms(mx, np):
    x = _base(mx, np)
    x[0, 1] = 100
    x[1, :] = 5
    x[:, 3] = mx.nd.array([7, 8, 9])
    x[2, 0:2] = 3.5
    return {"x": _a(x)}


def probe_setitem_whole(mx, np):
    x = _base(mx, np)
    x[:] = 2
    y = _base(mx, np)
    y[:] = np.ones((3, 4)) * 3
    return {"x": _a(x), "y": _a(y)}


def probe_asnumpy_writable_copy(mx, np):
    x = _base(mx, np)
    a = x.asnumpy()
    a[0, 0] = 99
    return {"writeable": bool(a.flags.writeable), "x": _a(x), "a00": float(a[0, 0])}


def probe_integer_division(mx, np):
    a = mx.nd.array([7, -7, 9, 3], dtype="int32")
    b = mx.nd.array([2, 2, -4, 5], dtype="int32")
    return {"div": _a(a / b), "div_scalar": _a(a / 2), "floordiv_scalar": _a(a // 2) if hasattr(a, "__floordiv__") else None,
            "mod": _a(a % b), "rdiv": _a(10 / b), "mul_float": _a(a * 1.5),
            "add_float": _a(a + 0.7), "pow": _a(a ** 2)}


def probe_scalar_casting(mx, np):
    h = mx.nd.array([1.0, 2.0], dtype="float16")
    f = mx.nd.array([1.0, 2.0])
    i8 = mx.nd.array([100, 50], dtype="uint8")
    return {"f16_plus_float": _a(h + 0.1), "f32_plus_np64": _a(f + np.float64(0.1)),
            "f32_times_int": _a(f * 3), "u8_plus_200": _a(i8 + 200), "u8_times_2": _a(i8 * 2),
            "rsub": _a(1 - f), "neg": _a(-f)}


def probe_comparison_dtype(mx, np):
    f = mx.nd.array([1.0, -2.0, 3.0])
    i = mx.nd.array([1, -2, 3], dtype="int32")
    return {"gt": _a(f > 0), "eq": _a(f == 1), "int_gt": _a(i > 0), "ne_arr": _a(f != f),
            "le_int": _a(i <= mx.nd.array([1, 1, 1], dtype="int32"))}


def probe_out_argument(mx, np):
    a = mx.nd.array([1.0, 2.0])
    b = mx.nd.array([3.0, 4.0])
    c = mx.nd.zeros((2,))
    r = mx.nd.elemwise_add(a, b, out=c)
    d = mx.nd.zeros((2,))
    mx.nd.exp(a, out=d)
    return {"c": _a(c), "same_object": r is c, "d": _a(d)}


def probe_reshape_codes(mx, np):
    x = mx.nd.zeros((2, 3, 4))
    shapes = {}
    for code in [(0, -1), (-1,), (-2,), (0, -3), (-3, -2), (-4, 1, 2, -2), (2, -4, -1, 3, 4),
                 (0, 0, -1), (4, 0, -1)]:
        try:
            shapes[str(code)] = list(x.reshape(code).shape)
        except Exception as e:  # noqa: BLE001
            shapes[str(code)] = type(e).__name__
    shapes["varargs"] = list(x.reshape(6, -1).shape)
    shapes["reverse"] = list(mx.nd.zeros((10, 5, 4)).reshape((-1, 0), reverse=True).shape)
    shapes["kw_shape"] = list(x.reshape(shape=(4, 6)).shape)
    return shapes


def probe_reshape_errors(mx, np):
    x = mx.nd.zeros((2, 3, 4))
    return {"bad_size": _err(lambda: x.reshape((5, 5))), "two_infer": _err(lambda: x.reshape((-1, -1)))}


def probe_deepcopy(mx, np):
    x = _base(mx, np)
    y = copy.deepcopy(x)
    y[0] = -1
    z = x.copy()
    z[1] = -2
    return {"x": _a(x), "y": _a(y), "z": _a(z), "ctx": str(y.context)}


def probe_contexts(mx, np):
    a = mx.nd.ones((2,), ctx=mx.cpu(1))
    b = mx.nd.ones((2,), ctx=mx.cpu_pinned(0))
    c = a.as_in_context(mx.cpu(0))
    return {"a": str(a.context), "b": str(b.context), "c": str(c.context),
            "a_type": a.context.device_type, "b_type": b.context.device_type,
            "eq": mx.cpu(0) == mx.cpu(), "repr": repr(mx.cpu(1)),
            "sum_ctx": str((a + a).context), "copyto": str(a.copyto(mx.cpu(2)).context)}


def probe_dtype_mismatch_error(mx, np):
    a = mx.nd.ones((2,))
    b = mx.nd.ones((2,), dtype="float64")
    e = _err(lambda: (a + b).asnumpy())
    return {"error_type": e and e["type"]}


def probe_shape_mismatch_error(mx, np):
    a = mx.nd.ones((2, 3))
    b = mx.nd.ones((4,))
    e1 = _err(lambda: (a + b).asnumpy())
    e2 = _err(lambda: mx.nd.elemwise_add(a, mx.nd.ones((3, 2))).asnumpy())
    e3 = _err(lambda: mx.nd.dot(a, a).asnumpy())
    return {"broadcast": e1 and e1["type"], "elemwise": e2 and e2["type"], "dot": e3 and e3["type"]}


def _try(fn):
    """``fn()``'s value, or the name of the error it raises."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001
        return "raises " + type(e).__name__


def probe_scalar_conversions(mx, np):
    x = mx.nd.array([2.5])
    i = mx.nd.array([3], dtype="int32")
    return {"asscalar": _try(lambda: float(x.asscalar())), "float": _try(lambda: float(x)),
            "int": _try(lambda: int(i)),
            "asscalar_type": _try(lambda: type(x.asscalar()).__name__),
            "int_asscalar_type": _try(lambda: type(i.asscalar()).__name__),
            "bool_one": _try(lambda: bool(x)), "bool_many": _try(lambda: bool(mx.nd.ones((2,)))),
            "multi_asscalar": _try(lambda: mx.nd.ones((2,)).asscalar()),
            "len": _try(lambda: len(mx.nd.ones((4, 2))))}


def probe_astype_and_dtypes(mx, np):
    x = mx.nd.array([1.7, -1.7, 2.5])
    return {"int32": _a(x.astype("int32")), "uint8": _a(mx.nd.array([1.7, 300.2]).astype("uint8")),
            "f16": _a(x.astype(np.float16)), "same_copy": x.astype("float32", copy=False) is x,
            "default": str(mx.nd.array([1, 2]).dtype), "from_np_int": str(mx.nd.array(np.array([1, 2], dtype="int64")).dtype),
            "zeros_dtype": str(mx.nd.zeros((2,), dtype="int32").dtype)}


def probe_inplace_ops(mx, np):
    x = _base(mx, np)
    y = x[1]
    x += 1
    x *= 2
    return {"x": _a(x), "y_view_sees": _a(y)}


def probe_advanced_indexing(mx, np):
    x = _base(mx, np)
    idx = mx.nd.array([2, 0])
    return {"nd_idx": _a(x[idx]), "list_idx": _a(x[[1, 1]]), "np_idx": _a(x[np.array([0, 2])]),
            "bool_err": None}


def probe_iteration_and_misc(mx, np):
    x = _base(mx, np)
    rows = [r.shape for r in x]
    return {"rows": [list(r) for r in rows], "size": x.size, "ndim": x.ndim, "T": _a(x.T),
            "str_dtype": str(x.dtype), "stype": x.stype}


def probe_view_sees_parent_writes(mx, np):
    x = _base(mx, np)
    y = x[1]
    z = x[1:3]
    x[1] = 42
    x[2, 0] = -3
    x += 1
    return {"y": _a(y), "z": _a(z)}


def probe_out_into_view(mx, np):
    x = _base(mx, np)
    mx.nd.elemwise_add(mx.nd.ones((4,)), mx.nd.ones((4,)), out=x[1])
    mx.nd.ones((2, 4), out=x[1:3]) if False else None
    w = mx.nd.zeros((3,))
    r = mx.nd.ones((3,), out=w) if _accepts_out(mx) else w
    return {"x": _a(x), "w_after_ones_out": _a(w), "r_is_w": r is w}


def _accepts_out(mx):
    try:
        mx.nd.ones((1,), out=mx.nd.zeros((1,)))
        return True
    except TypeError:
        return False


def probe_pickle_roundtrip(mx, np):
    import pickle
    x = mx.nd.array([[1.5, 2.5], [3.5, 4.5]], dtype="float16")
    y = pickle.loads(pickle.dumps(x))
    return {"y": _a(y), "ctx": str(y.context)}


def probe_dtype_mismatch_message(mx, np):
    a = mx.nd.ones((2,))
    b = mx.nd.ones((2,), dtype="int32")
    try:
        (a + b).asnumpy()
    except Exception as e:  # noqa: BLE001
        text = str(e)
        return {"type": type(e).__name__, "mentions_incompatible": "ncompatible attr" in text,
                "mentions_dtypes": "float32" in text and "int32" in text}
    return {"type": None}


def probe_operator_methods(mx, np):
    x = mx.nd.array([[3.0, 1.0, 2.0], [0.5, 4.0, -1.0]])
    idx = mx.nd.array([2, 0])
    return {"topk": _a(x.topk(k=2)), "sort": _a(x.sort()), "argsort": _a(x.argsort()),
            "softmax": _a(x.softmax()), "log_softmax": _a(x.log_softmax(axis=0)),
            "one_hot": _a(idx.one_hot(3)), "pick": _a(x.pick(idx)),
            "take": _a(x.take(idx)), "tile": _a(x.tile((1, 2))), "repeat": _a(x.repeat(2, axis=0)),
            "flip": _a(x.flip(1)), "clip": _a(x.clip(0, 2)), "broadcast_to":
            _a(x[0:1].broadcast_to((3, 3))), "split": [_a(p) for p in x.split(num_outputs=3, axis=1)],
            "norm": _a(x.norm()), "argmax": _a(x.argmax(axis=1)), "sum": _a(x.sum(axis=0, keepdims=True)),
            "relu": _a(x.relu()), "sigmoid": _a(x.sigmoid()), "square": _a(x.square()),
            "diag": _a(x.diag()), "flatten": _a(x.flatten()), "expand_dims": _a(x.expand_dims(0)),
            "transpose": _a(x.transpose()), "swapaxes": _a(x.swapaxes(0, 1)),
            "slice_axis": _a(x.slice_axis(axis=1, begin=0, end=2)), "zeros_like": _a(x.zeros_like()),
            "abs": _a(x.abs()), "mean": _a(x.mean()), "max": _a(x.max(axis=1))}


def probe_more_indexing(mx, np):
    x = mx.nd.array(np.arange(24, dtype="float32").reshape(2, 3, 4))
    from_np_int = x[np.int64(1)]
    out = {}
    for name, fn in [("a", lambda: x[1, :2]), ("b", lambda: x[:, 1:3]), ("c", lambda: x[..., 1]),
                     ("d", lambda: x[None]), ("e", lambda: x[-1, -1]), ("f", lambda: x[1, 2, -1]),
                     ("g", lambda: x[:, :, ::-1]), ("h", lambda: x[0:1, 1]),
                     ("i", lambda: x[1][2]), ("j", lambda: x[:, [0, 2]]),
                     ("k", lambda: x[mx.nd.array([1, 0]), 1]), ("l", lambda: x[1:0])]:
        out[name] = _try(lambda: _a(fn()))
    out["np_int"] = _a(from_np_int)
    return out


def probe_more_setitem(mx, np):
    x = mx.nd.zeros((3, 4))
    x[1:3, 1] = 5
    x[0] = mx.nd.array([1, 2, 3, 4])
    x[:, 0] = np.array([7, 8, 9])
    x[2] += 1
    y = mx.nd.zeros((2, 3))
    err = _try(lambda: y.__setitem__(slice(None), mx.nd.ones((3, 2))))
    return {"x": _a(x), "bad_shape": err if isinstance(err, str) else _a(y)}
