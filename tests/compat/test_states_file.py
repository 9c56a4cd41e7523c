"""States files (optjax.compat.mxnet.states): an edited or truncated file is one
clear ValueError, raised before the Updater changes."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

import optjax.compat.mxnet as mx


def _blob():
    u = mx.optimizer.get_updater(mx.optimizer.create("adam", learning_rate=0.1))
    u([0], [mx.nd.ones((2,))], [mx.nd.ones((2,))])
    return u.get_states(dump_optimizer=True)


def _edit(blob, change):
    z = dict(np.load(io.BytesIO(blob), allow_pickle=False))
    meta = json.loads(str(z["__meta__"][()]))
    change(meta, z)
    z["__meta__"] = np.array(json.dumps(meta))
    buf = io.BytesIO()
    np.savez(buf, **z)
    return buf.getvalue()


def _drop_array(meta, z):
    del z["a1"]


TAMPER = {
    "states-not-a-list": lambda m, z: m.update(states=5),
    "entry-without-index": lambda m, z: m["states"][0].pop("index"),
    "index-a-list": lambda m, z: m["states"][0].update(index=[0]),
    "missing-array": _drop_array,
    "optimizer-without-attrs": lambda m, z: m["optimizer"].pop("attrs"),
    "attrs-a-list": lambda m, z: m["optimizer"].update(attrs=[1, 2]),
    "counts-a-list": lambda m, z: m["optimizer"]["attrs"].update(_all_index_update_counts=[0]),
    "lr-a-string": lambda m, z: m["optimizer"]["attrs"].update(lr="fast"),
    "class-a-number": lambda m, z: m["optimizer"].update({"class": 3}),
    "meta-a-list": lambda m, z: m.clear() or None,
}


@pytest.mark.parametrize("name", sorted(TAMPER))
def test_tampered_metadata_is_a_clear_value_error(name):
    bad = _edit(_blob(), TAMPER[name])
    u = mx.optimizer.get_updater(mx.optimizer.create("adam", learning_rate=0.1))
    w = mx.nd.ones((2,))
    u([0], [mx.nd.ones((2,))], [w])
    before = (u.states[0][0].asnumpy().copy(), u.optimizer)
    with pytest.raises(ValueError, match="malformed states metadata|unknown (states format|optimizer class)"):
        u.set_states(bad)
    np.testing.assert_array_equal(u.states[0][0].asnumpy(), before[0])
    assert u.optimizer is before[1]


def test_untampered_file_still_loads():
    u = mx.optimizer.get_updater(mx.optimizer.Adam())
    u.set_states(_blob())
    assert u.optimizer.lr == 0.1 and u.optimizer.num_update == 1
