"""MXNet's pickled optimizer ``.states`` files, read without running code and written for MXNet.

MXNet 1.9.1 writes optimizer states with ``pickle.dumps`` (``Updater.get_states``,
used by ``Module.save_optimizer_states``, ``KVStore.save_optimizer_states`` and
``gluon.Trainer.save_states``): a dict index -> state, where a state is an
NDArray, a tuple of states (Adam's ``(mean, var)``, multi-precision
``(weight32, state)``), ``None`` or a number. ``Trainer.save_states`` pickles the
tuple ``(states, optimizer)`` instead (``dump_optimizer=True``).

An NDArray pickles through ``NDArray.__reduce__`` as
``(mxnet.ndarray.ndarray.NDArray, (None,), {'handle': bytearray(record)})``: the
unpickler calls ``NDArray(None)`` and then ``__setstate__`` with the array record
of :mod:`optjax.compat.mxnet.ndarray_format`. An Optimizer pickles by the default
protocol-2 object reduction: ``NEWOBJ`` of its class (e.g.
``mxnet.optimizer.optimizer.SGD``) then ``BUILD`` with its ``__dict__`` less
``param_dict``; its ``lr_scheduler`` (``mxnet.lr_scheduler.FactorScheduler``...)
pickles the same way.

:func:`load_states` uses a restricted unpickler: ``find_class`` never imports a
module. NDArrays become numpy arrays; MXNet optimizer and scheduler objects
become :class:`PickledObject` records of their class path and plain attribute
dict, never instantiated; numpy scalars of number dtypes (rebuilt from their
bytes), ``bytearray``/``set``/``frozenset`` and pickle's byte-string helpers are
the only other globals; anything else (``os.system``, a user's own class) is
refused with an error naming it, before anything runs.
Persistent ids, extension codes and out-of-band buffers are refused by a scan of
the opcodes, which also bounds the memo so a crafted file cannot make the
unpickler allocate more than a few times its size.

:func:`dumps_states` writes pickle opcodes by hand (the standard pickler insists
on importing ``mxnet`` to name its classes), emitting each array exactly as
MXNet's ``NDArray.__reduce__`` does, so real MXNet's ``pickle.loads`` (and
``Trainer.load_states``/``Module.load_optimizer_states``) rebuilds its NDArrays
and optimizer from it. It uses protocol 3, the first with a bytes opcode
(protocol 2 spells bytes as a call of ``_codecs.encode``); any Python 3 reads it.

Example:
  >>> import numpy as np
  >>> blob = dumps_states({0: np.ones(2, np.float32), 1: (np.zeros(1, np.float32), None)})
  >>> loaded = load_states(blob)
  >>> loaded.states[0].tolist(), loaded.states[1][0].tolist(), loaded.optimizer
  ([1.0, 1.0], [0.0], None)
"""

from __future__ import annotations

import dataclasses
import io
import pickle
import pickletools
import struct
from typing import Any, Iterable, NamedTuple, Optional

import numpy as np

from optjax.compat.mxnet import ndarray_format
from optjax.compat.mxnet.ndarray_format import MXNetFormatError

__all__ = ["PickledObject", "LoadedStates", "load_states", "dumps_states", "MXNetFormatError"]

# Classes whose instances MXNet pickles into .states files; read as data only.
OBJECT_MODULES = ("mxnet.optimizer.optimizer", "mxnet.optimizer.contrib", "mxnet.optimizer",
                  "mxnet.lr_scheduler")
# NDArray classes, by the module and name their pickles carry (dense payloads only load).
NDARRAY_CLASSES = {("mxnet.ndarray.ndarray", "NDArray"), ("mxnet.numpy", "ndarray"),
                   ("mxnet.numpy.multiarray", "ndarray"),
                   ("mxnet.ndarray.sparse", "RowSparseNDArray"),
                   ("mxnet.ndarray.sparse", "CSRNDArray")}
_REFUSED_OPCODES = {"PERSID", "BINPERSID", "EXT1", "EXT2", "EXT4", "NEXT_BUFFER",
                    "READONLY_BUFFER"}
_MEMO_OPCODES = {"PUT", "BINPUT", "LONG_BINPUT", "GET", "BINGET", "LONG_BINGET"}


@dataclasses.dataclass(frozen=True)
class PickledObject:
    """An MXNet object from a pickle, kept as data: its class path and attributes.

    ``attrs`` is the pickled ``__dict__`` with arrays as numpy arrays and nested
    MXNet objects (the optimizer's ``lr_scheduler``) as ``PickledObject`` too.
    """

    module: str
    name: str
    attrs: dict

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}"


class LoadedStates(NamedTuple):
    """What a ``.states`` file holds: index -> state, and the optimizer if it was dumped."""

    states: dict
    optimizer: Optional[PickledObject]


class _NDArrayBox:
    """Stands in for an NDArray class while unpickling: ``NDArray(None)`` then ``__setstate__``."""

    def __init__(self, handle=None):
        if handle is not None:
            raise ValueError("NDArray constructed with a handle")
        self.array = None

    def __setstate__(self, state):
        if not isinstance(state, dict) or not isinstance(state.get("handle"), (bytes, bytearray)):
            raise ValueError("an NDArray's pickled state is not {'handle': bytes}")
        self.array = ndarray_format.loads_array(bytes(state["handle"]))


class _ObjectStub:
    """Base of the stand-ins for MXNet classes: created empty, state stored, never run."""

    module = name = ""

    def __new__(cls, *args):
        if args:
            raise ValueError(f"{cls.module}.{cls.name} pickled with constructor arguments")
        self = object.__new__(cls)
        self.state = {}
        return self

    def __init__(self, *args):
        pass

    def __setstate__(self, state):
        if not isinstance(state, dict):
            raise ValueError(f"{self.module}.{self.name}'s pickled state is not a dict")
        self.state = state


def _bytearray(*args):
    """``bytearray`` for the argument forms pickles use; never ``bytearray(n)``."""
    if len(args) == 1 and isinstance(args[0], (bytes, bytearray)):
        return bytearray(args[0])
    if len(args) == 2 and isinstance(args[0], str) and args[1] in ("latin-1", "latin1"):
        return bytearray(args[0], "latin-1")
    raise ValueError("bytearray called with arguments other than bytes")


def _codecs_encode(text, encoding="utf-8"):
    """``_codecs.encode`` as protocol-2 pickles of bytes use it (latin-1 text only)."""
    if not isinstance(text, str) or encoding not in ("latin-1", "latin1"):
        raise ValueError("_codecs.encode called with arguments other than (str, 'latin1')")
    return text.encode("latin-1")


def _reconstructor(cls, base, state):
    """``copyreg._reconstructor`` as protocol-0/1 pickles of objects use it, for stubs only."""
    if not (isinstance(cls, type) and issubclass(cls, _ObjectStub)) or base is not object \
            or state is not None:
        raise ValueError("copyreg._reconstructor called for something other than an MXNet object")
    return cls.__new__(cls)


# numpy scalars (a learning rate given as np.float32 pickles as one): dtype codes allowed
_NUMPY_CODES = frozenset(np.dtype(t).str[1:] for t in "?bBhHiIlLqQefdFD")


class _DtypeStub:
    """``numpy.dtype(code, False, True)`` then ``BUILD``: checks the state, never runs numpy's."""

    def __init__(self, code, align=False, copy=True):
        if code not in _NUMPY_CODES or align is not False or copy is not True:
            raise ValueError(f"numpy.dtype{(code, align, copy)!r} is not a plain number type")
        self.dtype = np.dtype(code)

    def __setstate__(self, state):
        if not (isinstance(state, tuple) and len(state) == 8 and state[0] == 3
                and state[1] in "<>|=" and state[2:] == (None, None, None, -1, -1, 0)):
            raise ValueError(f"numpy dtype state {state!r} is not a plain number type's")
        self.dtype = self.dtype.newbyteorder(state[1]) if state[1] in "<>" else self.dtype


def _numpy_scalar(dtype, data=None):
    """``numpy.core.multiarray.scalar(dtype, bytes)`` for plain number dtypes."""
    if not isinstance(dtype, _DtypeStub) or not isinstance(data, bytes) \
            or len(data) != dtype.dtype.itemsize:
        raise ValueError("numpy scalar pickled with arguments other than (dtype, bytes)")
    return np.frombuffer(data, dtype=dtype.dtype)[0]


_SAFE_GLOBALS = {
    ("numpy", "dtype"): _DtypeStub, ("numpy.core.multiarray", "scalar"): _numpy_scalar,
    ("numpy._core.multiarray", "scalar"): _numpy_scalar,
    ("builtins", "bytearray"): _bytearray, ("__builtin__", "bytearray"): _bytearray,
    ("builtins", "set"): set, ("__builtin__", "set"): set,
    ("builtins", "frozenset"): frozenset, ("__builtin__", "frozenset"): frozenset,
    ("builtins", "object"): object, ("__builtin__", "object"): object,
    ("_codecs", "encode"): _codecs_encode,
    ("copyreg", "_reconstructor"): _reconstructor, ("copy_reg", "_reconstructor"): _reconstructor,
}


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, allowed_classes: frozenset):
        super().__init__(io.BytesIO(data), encoding="latin1")
        self.allowed_classes = allowed_classes
        self.stubs: dict = {}

    def find_class(self, module: str, name: str):
        if (module, name) in NDARRAY_CLASSES:
            return _NDArrayBox
        if (module, name) in _SAFE_GLOBALS:
            return _SAFE_GLOBALS[module, name]
        if module in OBJECT_MODULES or f"{module}.{name}" in self.allowed_classes:
            if (module, name) not in self.stubs:
                self.stubs[module, name] = type(name, (_ObjectStub,),
                                                {"module": module, "name": name})
            return self.stubs[module, name]
        raise _Refused(f"{module}.{name}")

    def persistent_load(self, pid):
        raise ValueError("persistent ids are not allowed")


class _Refused(Exception):
    pass


def _scan(data: bytes) -> None:
    """Refuses opcodes outside plain data and memo indices beyond the data's size."""
    for op, arg, pos in pickletools.genops(data):
        if op.name in _REFUSED_OPCODES:
            raise ValueError(f"opcode {op.name} at offset {pos} is not allowed")
        if op.name in _MEMO_OPCODES and not 0 <= int(arg) <= len(data):
            raise ValueError(f"memo index {arg} at offset {pos} is out of range")


def _convert(obj: Any, memo: dict) -> Any:
    """Replaces stand-ins by numpy arrays / PickledObject, keeping shared references shared."""
    key = id(obj)
    if key in memo:
        return memo[key]
    if isinstance(obj, _NDArrayBox):
        if obj.array is None:
            raise ValueError("an NDArray without data")
        out = memo[key] = obj.array
    elif isinstance(obj, _ObjectStub):
        attrs: dict = {}
        out = memo[key] = PickledObject(obj.module, obj.name, attrs)
        attrs.update(_convert(obj.state, memo))
    elif isinstance(obj, dict):
        out = memo[key] = {}
        for k, v in obj.items():
            out[_convert(k, memo)] = _convert(v, memo)
    elif isinstance(obj, list):
        out = memo[key] = []
        out.extend(_convert(v, memo) for v in obj)
    elif isinstance(obj, (tuple, set, frozenset)):
        out = memo[key] = type(obj)(_convert(v, memo) for v in obj)
    elif obj is None or isinstance(obj, (bool, int, float, complex, str, bytes, bytearray,
                                         np.generic)):
        out = obj
    else:  # unreachable: find_class hands out nothing else
        raise ValueError(f"unexpected {type(obj).__name__} in the pickle")
    return out


def load_states(data: bytes, *, source: str = ".states data",
                allowed_classes: Iterable[str] = ()) -> LoadedStates:
    """Reads an MXNet optimizer ``.states`` pickle without executing anything from it.

    Args:
      data: the file's bytes.
      source: how errors name the data (a file name).
      allowed_classes: further ``"module.Name"`` classes (say a user's registered
        optimizer, pickled as ``__main__.MyOptimizer``) to read as
        :class:`PickledObject` data, as MXNet's own optimizer classes are.

    Returns:
      ``LoadedStates(states, optimizer)``: ``states`` maps each index to numpy
      arrays, tuples/lists of them, ``None`` or numbers; ``optimizer`` is the
      dumped optimizer as a :class:`PickledObject` (``Trainer.save_states``
      files), else ``None``. As MXNet's ``Updater.set_states``, a pickled
      2-tuple is ``(states, optimizer)``.

    Raises:
      MXNetFormatError: the data is truncated or malformed, names a global
        outside the allowed set (the message names it), or holds anything but
        the structure above. Nothing from the data runs, and nothing partial
        is returned.
    """
    data = bytes(data)
    try:
        _scan(data)
        raw = _Unpickler(data, frozenset(allowed_classes)).load()
        loaded = _convert(raw, {})
    except _Refused as e:
        raise MXNetFormatError(
            f"{source}: refusing to load global {e}: a .states file may hold only NDArrays, "
            f"numbers, strings, tuples, lists, dicts and MXNet optimizer/scheduler objects "
            f"(read as data); a class of your own can be read as data with "
            f"allowed_classes=['{e}']") from None
    except MXNetFormatError as e:
        raise MXNetFormatError(f"{source}: an NDArray in it is malformed: {e}") from None
    except (pickle.UnpicklingError, ValueError, TypeError, EOFError, AttributeError, KeyError,
            IndexError, OverflowError, RecursionError, struct.error, UnicodeError) as e:
        raise MXNetFormatError(f"{source}: not a valid MXNet .states pickle "
                               f"({type(e).__name__}: {e})") from None
    optimizer = None
    if isinstance(loaded, tuple) and len(loaded) == 2:
        loaded, optimizer = loaded
        if not isinstance(optimizer, PickledObject):
            raise MXNetFormatError(f"{source}: the second item of (states, optimizer) is "
                                   f"{type(optimizer).__name__}, not an optimizer object")
    if not isinstance(loaded, dict):
        raise MXNetFormatError(f"{source}: holds {type(loaded).__name__}, expected a dict "
                               f"index -> state")
    return LoadedStates(loaded, optimizer)


class _Writer:
    """Protocol-3 pickle opcodes for plain data, arrays as MXNet NDArrays, PickledObjects."""

    def __init__(self):
        self.out: list = [b"\x80\x03"]  # PROTO 3
        self.memo: dict = {}  # id -> (memo index, object kept alive)

    def put(self, obj: Any) -> None:
        idx = len(self.memo)
        self.memo[id(obj)] = (idx, obj)
        self.out.append(b"q" + bytes([idx]) if idx < 256 else b"r" + struct.pack("<I", idx))

    def get(self, obj: Any) -> bool:
        if id(obj) not in self.memo:
            return False
        idx = self.memo[id(obj)][0]
        self.out.append(b"h" + bytes([idx]) if idx < 256 else b"j" + struct.pack("<I", idx))
        return True

    def global_(self, module: str, name: str) -> None:
        self.out.append(b"c" + module.encode() + b"\n" + name.encode() + b"\n")

    def items(self, values: Iterable, end: bytes) -> None:
        self.out.append(b"(")  # MARK
        for v in values:
            self.save(v)
        self.out.append(end)

    def numpy_scalar(self, obj: np.generic) -> None:
        """numpy's own pickling: ``scalar(dtype(code, False, True) + BUILD state, bytes)``."""
        self.global_("numpy.core.multiarray", "scalar")
        self.global_("numpy", "dtype")
        self.save((obj.dtype.str[1:], False, True))
        self.out.append(b"R")
        self.save((3, "|" if obj.dtype.itemsize == 1 else "<", None, None, None, -1, -1, 0))
        self.out.append(b"b")
        self.save(np.asarray(obj).astype(obj.dtype.newbyteorder("<")).tobytes())
        self.out.append(b"\x86R")  # TUPLE2 REDUCE

    def save(self, obj: Any) -> None:
        if isinstance(obj, np.generic) and obj.dtype.str[1:] in _NUMPY_CODES:
            self.numpy_scalar(obj)  # first: np.float64 is also a float
        elif obj is None:
            self.out.append(b"N")
        elif isinstance(obj, bool):
            self.out.append(b"\x88" if obj else b"\x89")
        elif isinstance(obj, int):
            if -2**31 <= obj < 2**31:
                self.out.append(b"J" + struct.pack("<i", obj))
            else:
                raw = obj.to_bytes((obj.bit_length() + 8) // 8, "little", signed=True)
                if len(raw) > 255:
                    raise ValueError(f"integer {obj} is too large")
                self.out.append(b"\x8a" + bytes([len(raw)]) + raw)
        elif isinstance(obj, float):
            self.out.append(b"G" + struct.pack(">d", obj))
        elif isinstance(obj, str):
            raw = obj.encode("utf-8", "surrogatepass")
            self.out.append(b"X" + struct.pack("<I", len(raw)) + raw)
        elif isinstance(obj, bytes):
            self.out.append(b"B" + struct.pack("<I", len(obj)) + obj)

        elif isinstance(obj, tuple):
            if obj:
                self.items(obj, b"t")  # MARK ... TUPLE
            else:
                self.out.append(b")")  # EMPTY_TUPLE
        elif self.get(obj):
            pass
        elif isinstance(obj, list):
            self.out.append(b"]")
            self.put(obj)
            if obj:
                self.items(obj, b"e")  # APPENDS
        elif isinstance(obj, dict):
            self.out.append(b"}")
            self.put(obj)
            if obj:
                self.items((x for kv in obj.items() for x in kv), b"u")  # SETITEMS
        elif isinstance(obj, PickledObject):
            self.global_(obj.module, obj.name)
            self.out.append(b")\x81")  # EMPTY_TUPLE, NEWOBJ: cls.__new__(cls)
            self.put(obj)
            self.save(obj.attrs)
            self.out.append(b"b")  # BUILD: __setstate__(attrs) or __dict__.update
        elif isinstance(obj, np.ndarray) or hasattr(obj, "asnumpy") or hasattr(obj, "__array__"):
            record = ndarray_format.dumps_array(obj)
            # NDArray.__reduce__: (NDArray, (None,), {'handle': bytearray(record)})
            self.global_("mxnet.ndarray.ndarray", "NDArray")
            self.out.append(b"N\x85R}X\x06\x00\x00\x00handle")  # NONE TUPLE1 REDUCE {} 'handle'
            self.global_("builtins", "bytearray")
            self.save(record)
            self.out.append(b"\x85Rsb")  # TUPLE1 REDUCE SETITEM BUILD
        else:
            raise TypeError(f"cannot write {type(obj).__name__} into a .states file (expected "
                            f"arrays, numbers, strings, None, tuples, lists, dicts, "
                            f"PickledObject)")


def dumps_states(states: dict, optimizer: Optional[PickledObject] = None) -> bytes:
    """A ``.states`` pickle that real MXNet's ``Updater.set_states`` loads.

    Args:
      states: index -> state, states being arrays (numpy, ``.asnumpy()`` objects,
        jax arrays; written as MXNet NDArrays on ``cpu(0)``), tuples/lists/dicts
        of them, ``None``, numbers (numpy scalars pickled as numpy does) or strings.
      optimizer: if given (as :func:`load_states` returns it), the file is the
        pair ``(states, optimizer)`` that ``Trainer.save_states`` writes, and
        MXNet rebuilds the optimizer object of that class from its attributes.

    Returns:
      The pickle's bytes (protocol 3; shared dicts and lists stay shared).
    """
    if not isinstance(states, dict):
        raise TypeError(f"states must be a dict index -> state, got {type(states).__name__}")
    if optimizer is not None and not isinstance(optimizer, PickledObject):
        raise TypeError(f"optimizer must be a PickledObject, got {type(optimizer).__name__}")
    w = _Writer()
    w.save(states if optimizer is None else (states, optimizer))
    w.out.append(b".")  # STOP
    return b"".join(w.out)
