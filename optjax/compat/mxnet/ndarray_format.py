"""MXNet 1.9.1's binary NDArray file format, read and written with numpy alone.

This is the format of ``mx.nd.save``/``mx.nd.load``, ``gluon.Block.save_parameters``
and ``mx.model.save_checkpoint`` (``.params``), and, for one array, the payload of
NDArray pickling (``MXNDArraySaveRawBytes``). Loading parses bytes; nothing is
unpickled or executed. All integers are little-endian.

File (``NDArray::Save(fo, data, names)`` in ``src/ndarray/ndarray.cc``)::

    uint64  0x112            list magic (kMXAPINDArrayListMagic)
    uint64  0                reserved
    uint64  N                number of arrays
    N x     array record     (below)
    uint64  K                number of names: 0 (a list) or N (a dict)
    K x     uint64 length, then that many bytes of UTF-8

Array record (``NDArray::Save(strm)``)::

    uint32  magic            0xF993FAC9 (V2) or 0xF993FACA (V3: np-shape semantics)
    int32   storage type     0 dense; 1 row_sparse and 2 csr are refused here
    int32   ndim
    int64   dims[ndim]
    int32   dev_type, int32 dev_id   the context (1 = cpu, 2 = gpu); ignored on load
    int32   type flag        see DTYPE_FLAGS
    bytes   prod(dims) * itemsize, C order

Older records are read too: V1 (magic 0xF993FAC8) has no storage type; V0 has no
magic at all, its first uint32 is ndim, followed by uint32 dims.

0-d arrays: real MXNet reads ndim 0 in V0-V2 as an empty ("none") array with
nothing after the shape, but 1.9.1 writes a legacy-mode 0-d array
(``mx.nd.array(np.float32(3))``) as V2 with ndim 0 *followed by* context, type
flag and one element, and then fails to read its own file. No V2 writer can
save a none array (its storage type is undefined), so a V2 ndim 0 is read here
as that 0-d array; V0/V1 ndim 0 is refused. ``dumps`` writes V2 (what
``mx.nd.save`` writes) and refuses 0-d arrays there, since MXNet could not load
them; ``np_shape=True`` writes V3 (``mx.npx.save``, np-shape semantics), where
0-d arrays are regular, and which MXNet loads only under np-shape semantics.

Example:
  >>> import numpy as np
  >>> buf = dumps({"w": np.arange(6, dtype=np.float32).reshape(2, 3)})
  >>> len(buf), loads(buf)["w"].tolist()
  (105, [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
"""

from __future__ import annotations

import os
import struct
from typing import Any, Union

import numpy as np

from optjax.compat.mxnet.base import MXNetError

__all__ = ["MXNetFormatError", "DTYPE_FLAGS", "dumps", "loads", "save", "load",
           "dumps_array", "loads_array"]

LIST_MAGIC = 0x112
V1_MAGIC = 0xF993FAC8
V2_MAGIC = 0xF993FAC9
V3_MAGIC = 0xF993FACA
MAX_NDIM = 32  # numpy 1.x's limit; no real file comes near it

# mshadow type flag -> numpy dtype name, for the types MXNet 1.9.1 can save and load
# (mshadow_sizeof; flags 8-11, int16/uint16/uint32/uint64, are refused by MXNet too).
DTYPE_FLAGS = {0: "float32", 1: "float64", 2: "float16", 3: "uint8", 4: "int32",
               5: "int8", 6: "int64", 7: "bool", 12: "bfloat16"}
_FLAG_OF = {name: flag for flag, name in DTYPE_FLAGS.items()}
_STORAGE_NAMES = {1: "row_sparse", 2: "csr"}
# MXNet's own numpy stand-in for bfloat16 (mxnet.ndarray.ndarray._DTYPE_MX_TO_NP[12])
_MXNET_BFLOAT16 = np.dtype([("bfloat16", "<u2")])

Data = Union[list, dict]


class MXNetFormatError(MXNetError, ValueError):
    """A file or buffer is not a well-formed MXNet file; the message names it.

    An ``MXNetError``, as real MXNet raises for such files, and a ``ValueError``.
    """


def _bfloat16() -> np.dtype:
    import ml_dtypes  # a dependency of jaxlib

    return np.dtype(ml_dtypes.bfloat16)


class _Reader:
    """A bounds-checked cursor over ``buf``; every failure names ``source`` and the offset."""

    def __init__(self, buf: bytes, source: str):
        self.buf, self.source, self.pos = memoryview(buf).cast("B"), source, 0

    def fail(self, what: str) -> MXNetFormatError:
        return MXNetFormatError(f"{self.source}: {what}")

    def take(self, n: int, what: str) -> memoryview:
        if n > len(self.buf) - self.pos:
            raise self.fail(f"truncated: {what} needs {n} bytes at offset {self.pos}, "
                            f"only {len(self.buf) - self.pos} left")
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def ints(self, fmt: str, what: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))

    def one(self, fmt: str, what: str) -> int:
        return self.ints(fmt, what)[0]


def _read_array(r: _Reader, label: str) -> np.ndarray:
    """One array record at ``r.pos`` (layout in the module docstring)."""
    start = r.pos
    magic = r.one("I", f"{label} magic")
    if magic in (V2_MAGIC, V3_MAGIC):
        stype = r.one("i", f"{label} storage type")
        if stype != 0:
            kind = _STORAGE_NAMES.get(stype)
            raise r.fail(f"{label} has {kind} storage, which is not supported (only dense)"
                         if kind else f"{label} has unknown storage type {stype}")
        ndim = r.one("i", f"{label} ndim")
        dims_fmt = "q"
    elif magic == V1_MAGIC:
        ndim, dims_fmt = r.one("i", f"{label} ndim"), "q"
    else:  # V0: the magic is ndim, dims are uint32
        ndim, dims_fmt = magic, "I"
    if not 0 <= ndim <= MAX_NDIM:
        raise r.fail(f"{label} at offset {start} has ndim {ndim} (expected 0..{MAX_NDIM}; "
                     f"magic 0x{magic:08X})")
    if ndim == 0 and magic not in (V2_MAGIC, V3_MAGIC):
        raise r.fail(f"{label} is an empty (none) NDArray")
    shape = r.ints(f"{ndim}{dims_fmt}", f"{label} shape")
    if any(d < 0 for d in shape):
        raise r.fail(f"{label} has an unknown or negative dimension in shape {shape}")
    r.ints("ii", f"{label} context")
    flag = r.one("i", f"{label} type flag")
    if flag not in DTYPE_FLAGS:
        raise r.fail(f"{label} has unknown type flag {flag} (known: "
                     + ", ".join(f"{k}={v}" for k, v in DTYPE_FLAGS.items()) + ")")
    name = DTYPE_FLAGS[flag]
    raw = np.dtype("<u2") if name == "bfloat16" else np.dtype(name).newbyteorder("<")
    size = int(np.prod(shape, dtype=object))  # Python int: no overflow
    data = r.take(size * raw.itemsize, f"{label} data ({name}{list(shape)})")
    flat = np.frombuffer(data, dtype=raw, count=size)
    if name == "bool":
        out = flat.view(np.uint8) != 0
    elif name == "bfloat16":
        out = flat.astype(np.uint16).view(_bfloat16())
    else:
        out = flat.astype(raw.newbyteorder("="))
    return out.reshape(shape)


def _parse(buf: bytes, source: str) -> Data:
    r = _Reader(buf, source)
    magic = r.one("Q", "header magic")
    if magic != LIST_MAGIC:
        raise r.fail(f"not an MXNet NDArray file: header magic 0x{magic:X}, "
                     f"expected 0x{LIST_MAGIC:X}")
    r.one("Q", "reserved header field")
    count = r.one("Q", "array count")
    arrays = []
    for i in range(count):  # each record is at least 12 bytes: the loop ends at the data's end
        arrays.append(_read_array(r, f"array {i}"))
    nnames = r.one("Q", "name count")
    if nnames not in (0, count):
        raise r.fail(f"{nnames} names for {count} arrays (expected 0 or {count})")
    names = []
    for i in range(nnames):
        length = r.one("Q", f"name {i} length")
        raw = r.take(length, f"name {i}")
        try:
            names.append(bytes(raw).decode("utf-8"))
        except UnicodeDecodeError as e:
            raise r.fail(f"name {i} is not UTF-8 ({e.reason})") from None
    if r.pos != len(r.buf):
        raise r.fail(f"{len(r.buf) - r.pos} unexpected bytes after the last record "
                     f"at offset {r.pos}")
    if not nnames:
        return arrays
    out = {}
    for name, array in zip(names, arrays):
        if name in out:
            raise r.fail(f"name {name!r} appears twice")
        out[name] = array
    return out


def loads(buf: bytes) -> Data:
    """Reads MXNet NDArray file bytes (``mx.nd.load_frombuffer``).

    Returns a list of numpy arrays (the file was saved from a list or a single
    array) or a dict name -> numpy array, in file order; arrays are writable
    copies in the file's dtype (bfloat16 as ``ml_dtypes.bfloat16``). Raises
    ``MXNetFormatError`` for anything malformed, before returning anything.
    """
    return _parse(buf, "NDArray buffer")


def load(fname: Union[str, os.PathLike]) -> Data:
    """Reads an MXNet NDArray file (``mx.nd.load``, ``.params``); see :func:`loads`."""
    with open(fname, "rb") as f:
        buf = f.read()
    return _parse(buf, f"MXNet NDArray file {os.fspath(fname)!r}")


def loads_array(buf: bytes) -> np.ndarray:
    """Reads one array record, as NDArray pickling stores it (``MXNDArrayLoadFromRawBytes``)."""
    r = _Reader(buf, "NDArray record")
    out = _read_array(r, "array")
    if r.pos != len(r.buf):
        raise r.fail(f"{len(r.buf) - r.pos} unexpected bytes after the array")
    return out


def _is_array(x: Any) -> bool:
    return isinstance(x, np.ndarray) or hasattr(x, "asnumpy") or hasattr(x, "__array__")


def _to_numpy(x: Any, label: str, np_shape: bool) -> np.ndarray:
    if not _is_array(x):
        raise TypeError(f"{label} is a {type(x).__name__}, expected an array (numpy, jax or "
                        f"an object with .asnumpy())")
    a = np.asarray(x.asnumpy() if hasattr(x, "asnumpy") else x)
    if a.dtype == _MXNET_BFLOAT16 or a.dtype.name == "bfloat16":
        return a
    if a.dtype.name not in _FLAG_OF:
        raise TypeError(f"{label} has dtype {a.dtype}, which MXNet 1.9.1 cannot save "
                        f"(expected one of {', '.join(_FLAG_OF)})")
    if a.ndim == 0 and not np_shape:
        raise ValueError(f"{label} is 0-d: MXNet 1.9.1 cannot load a 0-d array from its "
                         f"legacy format; reshape it to (1,) or save with np_shape=True")
    return a


def _record(a: np.ndarray, np_shape: bool) -> bytes:
    if a.dtype == _MXNET_BFLOAT16 or a.dtype.name == "bfloat16":
        flag, data = 12, np.ascontiguousarray(a).view(np.uint16).astype("<u2")
    else:
        flag, data = _FLAG_OF[a.dtype.name], a.astype(a.dtype.newbyteorder("<"))
    head = struct.pack(f"<Iii{a.ndim}qiii", V3_MAGIC if np_shape else V2_MAGIC, 0, a.ndim,
                       *a.shape, 1, 0, flag)  # context cpu(0), as MXNet saves CPU arrays
    return head + data.tobytes(order="C")


def dumps_array(array: Any, *, np_shape: bool = False) -> bytes:
    """One array record (``MXNDArraySaveRawBytes``), the payload of NDArray pickling."""
    return _record(_to_numpy(array, "array", np_shape), np_shape)


def dumps(data: Any, *, np_shape: bool = False) -> bytes:
    """MXNet NDArray file bytes for ``data``, byte for byte what ``mx.nd.save`` writes.

    Args:
      data: an array, a list of arrays or a dict str -> array; arrays are numpy
        arrays or anything with ``.asnumpy()`` or ``__array__``, of a dtype in
        ``DTYPE_FLAGS`` (bfloat16 as ``ml_dtypes.bfloat16`` or MXNet's
        ``[('bfloat16', '<u2')]``). The context written is ``cpu(0)``.
      np_shape: write V3 records, as MXNet does under np-shape semantics
        (``mx.npx.save``); needed for 0-d arrays. Default V2, as ``mx.nd.save``.
    """
    if isinstance(data, dict):
        for k in data:
            if not isinstance(k, str):
                raise TypeError(f"names must be str, got {type(k).__name__} {k!r}")
        names, values = list(data), list(data.values())
        labels = [f"array {k!r}" for k in names]
    elif isinstance(data, list):
        names, values = [], data
        labels = [f"array {i}" for i in range(len(data))]
    elif _is_array(data):
        names, values, labels = [], [data], ["array"]
    else:
        raise TypeError(f"data must be an array, a list of arrays or a dict str -> array, "
                        f"got {type(data).__name__}")
    arrays = [_to_numpy(v, lab, np_shape) for v, lab in zip(values, labels)]
    parts = [struct.pack("<QQQ", LIST_MAGIC, 0, len(arrays))]
    parts += [_record(a, np_shape) for a in arrays]
    parts.append(struct.pack("<Q", len(names)))
    for name in names:
        raw = name.encode("utf-8")
        parts += [struct.pack("<Q", len(raw)), raw]
    return b"".join(parts)


def save(fname: Union[str, os.PathLike], data: Any, *, np_shape: bool = False) -> None:
    """Writes ``data`` to ``fname`` as ``mx.nd.save`` does; see :func:`dumps`.

    The bytes are built first, so bad input leaves no file behind.
    """
    buf = dumps(data, np_shape=np_shape)
    with open(fname, "wb") as f:
        f.write(buf)
