"""Scratch experiments toward issue 7's goals (results in benchmarks/README.md).

    PYTHONPATH=. python benchmarks/experiments.py [a] [b] [c] [d] [e] [f] [g] [h]

(a) one multi-output elementwise function per leaf (clip scale, moments and the
    param update in one jnp expression): fusions per leaf, step time vs optax
    and optjax's chain;
(b) a chunked lax.fori_loop over a large donated leaf (dynamic_slice /
    dynamic_update_slice, cache-sized chunks): share of the triad roofline;
(c) many small leaves: concatenate same-dtype leaves into one buffer per step
    (state per leaf, or state kept flat) vs per-leaf fusions, at 100/1000/3000
    leaves: step time and compile time;
(d) stacking same-shape leaves into one (L, n) array per step;
(e) trace+lower vs compile with the per-leaf rule inlined or wrapped in one jax.jit;
(f) the compile floor: Adam in plain jnp at 500/1000/2000 leaves vs optjax and optax;
(g) lion's momentum copy in the HLO, and the cost of a fresh params-sized buffer;
(h) per optimizer: does a donated step copy state, plain vs optjax.update_and_apply.

All variants of one experiment run in the same process on the same inputs,
with donated params/state, timed in interleaved blocks (medians).
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import time

import jax
import jax.numpy as jnp
from jax import lax
import optax

import optjax

LR, B1, B2, EPS, WD, MAXN = 1e-3, 0.9, 0.999, 1e-8, 1e-4, 1.0


def fusions(compiled) -> int:
    return len(re.findall(r"^\s*%?fused_[\w.\-]*\s.*\{\s*$", compiled.as_text(), flags=re.M))


def block(x):
    jax.block_until_ready(x)
    return x


class Variant:
    """A donated step ``state = f(state, grads)``: compile time, fusions, step time."""

    def __init__(self, name, f, state, grads):
        self.name, self.grads = name, grads
        t0 = time.perf_counter()
        c = jax.jit(f, donate_argnums=0).lower(state, grads).compile()
        self.compile_s = time.perf_counter() - t0
        self.fusions = fusions(c)
        ma = c.memory_analysis()
        self.temp = getattr(ma, "temp_size_in_bytes", 0) if ma is not None else 0
        self.f = c
        self.state = block(c(state, grads))

    def run(self, k):
        s = self.state
        t0 = time.perf_counter()
        for _ in range(k):
            s = self.f(s, self.grads)
        block(s)
        self.state = s
        return (time.perf_counter() - t0) / k


def race(variants, reps=7, target=0.2):
    t1 = max(v.run(1) for v in variants)
    k = max(1, int(target / max(t1, 1e-5)))
    times = {v.name: [] for v in variants}
    for r in range(reps):
        order = variants if r % 2 == 0 else variants[::-1]
        for v in order:
            times[v.name].append(v.run(k))
    return {n: statistics.median(t) for n, t in times.items()}


def report(variants, med, base, moved_arrays=None, n=None, triad_bw=None):
    print(f"  {'variant':34s} {'ms':>9s} {'/' + base:>10s} {'fusions':>8s} {'compile s':>9s} {'temp MB':>8s}"
          + ("  roofline" if triad_bw else ""))
    for v in variants:
        line = (f"  {v.name:34s} {1e3 * med[v.name]:9.2f} {med[v.name] / med[base]:10.2f} {v.fusions:8d} "
                f"{v.compile_s:9.2f} {v.temp / 1e6:8.1f}")
        if triad_bw:
            line += f"  {100 * moved_arrays * n * 4 / med[v.name] / triad_bw:6.0f}%"
        print(line, flush=True)


def triad_time(n, donate=True, reps=9):
    """Median seconds of a triad ``a <- a + s*b`` over ``n`` floats, ``a`` donated or written to a fresh buffer."""
    f = jax.jit(lambda a, b: a + 1e-7 * b, donate_argnums=(0,) if donate else ())
    a, b = jnp.ones((n,)), jnp.ones((n,))
    a = block(f(a, b))
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(5):
            a = f(a, b)
        block(a)
        ts.append((time.perf_counter() - t0) / 5)
    return statistics.median(ts)


def triad_bw(n, reps=9):
    return 3 * n * 4 / triad_time(n, True, reps)


# ------------------------------------------------------------------ building blocks


def tx_state_step(tx):
    """A library step in the ``state = f(state, grads)`` form (state = (params, opt_state))."""

    def f(s, g):
        p, o = s
        u, o = tx.update(g, o, p)
        return jax.tree.map(lambda a, b: (a + b).astype(a.dtype), p, u), o

    return f


def clip_adamw_optjax():
    return optjax.chain(optjax.clip_by_global_norm(MAXN), optjax.adamw(LR, weight_decay=WD))


def clip_adamw_optax():
    return optax.chain(optax.clip_by_global_norm(MAXN), optax.adamw(LR, weight_decay=WD))


def clip_factor(gs):
    norm = jnp.sqrt(sum(jnp.sum(jnp.square(g)) for g in gs))
    return jnp.where(norm < MAXN, 1.0, MAXN / jnp.where(norm < MAXN, 1.0, norm))


def adamw_leaf(g, p, m, v, scale, t):
    """All of clip-scale, moments and the param update as one elementwise expression."""
    g = g * scale
    m = B1 * m + (1 - B1) * g
    v = B2 * v + (1 - B2) * g * g
    u = (m / (1 - B1 ** t)) / (jnp.sqrt(v / (1 - B2 ** t)) + EPS)
    return p - LR * (u + WD * p), m, v


def fused_state(params):
    z = jax.tree.map(jnp.zeros_like, params)
    return (params, z, jax.tree.map(jnp.zeros_like, params), jnp.zeros((), jnp.int32))


def fused_step(s, g):
    """(a): per leaf one multi-output elementwise function."""
    p, m, v, c = s
    c = c + 1
    t = c.astype(jnp.float32)
    scale = clip_factor(jax.tree.leaves(g))
    out = jax.tree.map(lambda g_, p_, m_, v_: adamw_leaf(g_, p_, m_, v_, scale, t), g, p, m, v)
    tdef = jax.tree.structure(p)
    leaves = tdef.flatten_up_to(out)
    return (tdef.unflatten([x[0] for x in leaves]), tdef.unflatten([x[1] for x in leaves]),
            tdef.unflatten([x[2] for x in leaves]), c)


def chunked_step(chunk):
    """(b): fori_loop over cache-sized chunks of each (1-D) leaf, in place on donated buffers."""

    def f(s, g):
        p, m, v, c = s
        c = c + 1
        t = c.astype(jnp.float32)
        scale = clip_factor(jax.tree.leaves(g))

        def leaf(g_, p_, m_, v_):
            n = g_.shape[0]
            if n % chunk:
                return adamw_leaf(g_, p_, m_, v_, scale, t)

            def body(i, carry):
                pp, mm, vv = carry
                o = i * chunk
                sl = lambda x: lax.dynamic_slice(x, (o,), (chunk,))  # noqa: E731
                pn, mn, vn = adamw_leaf(sl(g_), sl(pp), sl(mm), sl(vv), scale, t)
                return (lax.dynamic_update_slice(pp, pn, (o,)), lax.dynamic_update_slice(mm, mn, (o,)),
                        lax.dynamic_update_slice(vv, vn, (o,)))

            return lax.fori_loop(0, n // chunk, body, (p_, m_, v_))

        out = jax.tree.map(leaf, g, p, m, v)
        tdef = jax.tree.structure(p)
        leaves = tdef.flatten_up_to(out)
        return (tdef.unflatten([x[0] for x in leaves]), tdef.unflatten([x[1] for x in leaves]),
                tdef.unflatten([x[2] for x in leaves]), c)

    return f


def concat_step(s, g):
    """(c1): concatenate g, p, m, v (per-leaf state) into one buffer each, update, split back."""
    p, m, v, c = s
    c = c + 1
    t = c.astype(jnp.float32)
    gl, tdef = jax.tree.flatten(g)
    pl, ml, vl = tdef.flatten_up_to(p), tdef.flatten_up_to(m), tdef.flatten_up_to(v)
    cat = lambda xs: jnp.concatenate([x.ravel() for x in xs])  # noqa: E731
    gf = cat(gl)
    scale = clip_factor([gf])
    pf, mf, vf = adamw_leaf(gf, cat(pl), cat(ml), cat(vl), scale, t)
    sizes = [x.size for x in gl]
    offs = [sum(sizes[:i]) for i in range(1, len(sizes))]

    def split(xf):
        return tdef.unflatten([y.reshape(x.shape) for y, x in zip(jnp.split(xf, offs), gl)])

    return split(pf), split(mf), split(vf), c


def flat_state_init(params):
    n = sum(x.size for x in jax.tree.leaves(params))
    return (params, jnp.zeros((n,)), jnp.zeros((n,)), jnp.zeros((), jnp.int32))


def flatstate_step(s, g):
    """(c2): moments stored as one flat buffer; only g and p are concatenated and p split back."""
    p, mf, vf, c = s
    c = c + 1
    t = c.astype(jnp.float32)
    gl, tdef = jax.tree.flatten(g)
    pl = tdef.flatten_up_to(p)
    gf = jnp.concatenate([x.ravel() for x in gl])
    scale = clip_factor([gf])
    pf, mf, vf = adamw_leaf(gf, jnp.concatenate([x.ravel() for x in pl]), mf, vf, scale, t)
    sizes = [x.size for x in gl]
    offs = [sum(sizes[:i]) for i in range(1, len(sizes))]
    return tdef.unflatten([y.reshape(x.shape) for y, x in zip(jnp.split(pf, offs), gl)]), mf, vf, c


def stack_step(s, g):
    """(d): stack same-shape leaves into (L, n) arrays, update, unstack."""
    p, m, v, c = s
    c = c + 1
    t = c.astype(jnp.float32)
    gl, tdef = jax.tree.flatten(g)
    st = lambda xs: jnp.stack(xs)  # noqa: E731
    gs = st(gl)
    scale = clip_factor([gs])
    ps, ms, vs = adamw_leaf(gs, st(tdef.flatten_up_to(p)), st(tdef.flatten_up_to(m)), st(tdef.flatten_up_to(v)),
                            scale, t)
    un = lambda xs: tdef.unflatten(list(xs))  # noqa: E731
    return un(ps), un(ms), un(vs), c


def stackstate_init(params):
    leaves = jax.tree.leaves(params)
    return (params, jnp.zeros((len(leaves),) + leaves[0].shape), jnp.zeros((len(leaves),) + leaves[0].shape),
            jnp.zeros((), jnp.int32))


def stackstate_step(s, g):
    """(d2): moments stored stacked (L, n); g and p stacked per step, p unstacked."""
    p, ms, vs, c = s
    c = c + 1
    t = c.astype(jnp.float32)
    gl, tdef = jax.tree.flatten(g)
    gs = jnp.stack(gl)
    scale = clip_factor([gs])
    ps, ms, vs = adamw_leaf(gs, jnp.stack(tdef.flatten_up_to(p)), ms, vs, scale, t)
    return tdef.unflatten(list(ps)), ms, vs, c


def lib_state(tx, params):
    return (jax.tree.map(jnp.copy, params), jax.jit(tx.init)(params))


def make_tree(leaves, size, seed):
    k = jax.random.PRNGKey(seed)
    return {f"l{i:04d}": jax.random.normal(jax.random.fold_in(k, i), (size,)) for i in range(leaves)}


def check_equal(a_state, b_state, label):
    pa, pb = jax.tree.leaves(a_state[0]), jax.tree.leaves(b_state[0])
    d = max(float(jnp.max(jnp.abs(x - y))) for x, y in zip(pa, pb))
    print(f"  max |params({label}) - params(optax)| after the same steps: {d:.1e}")


# ----------------------------------------------------------------------- experiments


def exp_a():
    print("(a) one multi-output elementwise function per leaf (clip+adamw)")
    for leaves, size in ((1, 1 << 24), (1000, 16384)):
        params = make_tree(leaves, size, 0)
        grads = make_tree(leaves, size, 1)
        grads = jax.tree.map(lambda x: 1e-3 * x, grads)
        vs = [Variant("optax chain", tx_state_step(clip_adamw_optax()), lib_state(clip_adamw_optax(), params), grads),
              Variant("optjax chain", tx_state_step(clip_adamw_optjax()), lib_state(clip_adamw_optjax(), params),
                      grads),
              Variant("single expression per leaf", fused_step, fused_state(jax.tree.map(jnp.copy, params)), grads)]
        med = race(vs)
        n = leaves * size
        print(f" {leaves} leaves x {size}:")
        report(vs, med, "optax chain", 8, n, triad_bw(n))
        del vs
    print()


def exp_b():
    print("(b) chunked fori_loop over one 16M leaf (clip+adamw, 8 arrays/step)")
    n = 1 << 24
    params = make_tree(1, n, 0)
    grads = jax.tree.map(lambda x: 1e-3 * x, make_tree(1, n, 1))
    vs = [Variant("optax chain", tx_state_step(clip_adamw_optax()), lib_state(clip_adamw_optax(), params), grads),
          Variant("single expression", fused_step, fused_state(jax.tree.map(jnp.copy, params)), grads)]
    for chunk in (1 << 14, 1 << 16, 1 << 18):
        vs.append(Variant(f"fori_loop chunk {chunk * 4 // 1024} KB", chunked_step(chunk),
                          fused_state(jax.tree.map(jnp.copy, params)), grads))
    med = race(vs)
    report(vs, med, "optax chain", 8, n, triad_bw(n))
    print()


def exp_c(counts=(100, 1000, 3000)):
    print("(c)/(d) many small leaves of 16k (clip+adamw): per-leaf vs concatenated vs stacked")
    for L in counts:
        params = make_tree(L, 16384, 0)
        grads = jax.tree.map(lambda x: 1e-3 * x, make_tree(L, 16384, 1))
        vs = [Variant("optax chain", tx_state_step(clip_adamw_optax()), lib_state(clip_adamw_optax(), params), grads),
              Variant("optjax chain", tx_state_step(clip_adamw_optjax()), lib_state(clip_adamw_optjax(), params),
                      grads),
              Variant("single expression per leaf", fused_step, fused_state(jax.tree.map(jnp.copy, params)), grads),
              Variant("(c1) concat g,p,m,v / split", concat_step, fused_state(jax.tree.map(jnp.copy, params)),
                      grads),
              Variant("(c2) flat m,v; concat g,p", flatstate_step, flat_state_init(jax.tree.map(jnp.copy, params)),
                      grads),
              Variant("(d1) stack g,p,m,v / unstack", stack_step, fused_state(jax.tree.map(jnp.copy, params)),
                      grads),
              Variant("(d2) stacked m,v; stack g,p", stackstate_step,
                      stackstate_init(jax.tree.map(jnp.copy, params)), grads)]
        med = race(vs, reps=5)
        n = L * 16384
        print(f" {L} leaves x 16k:")
        report(vs, med, "optax chain", 8, n, triad_bw(n))
        del vs, params, grads
    print()


def main(argv):
    which = argv or ["a", "b", "c"]
    print(f"jax {jax.__version__}, optax {optax.__version__}, load {os.getloadavg()}")
    if "a" in which:
        exp_a()
    if "b" in which:
        exp_b()
    if "e" in which:
        exp_e()
    if "f" in which:
        exp_f()
    if "g" in which:
        exp_g()
    if "h" in which:
        exp_h()
    if "c" in which or "d" in which:
        counts = tuple(int(x) for x in os.environ.get("LEAVES", "100,1000,3000").split(","))
        exp_c(counts)


def exp_e(counts=(100, 1000)):
    """(e) first call: trace+lower vs compile, per-leaf rule inlined vs wrapped in a cached jax.jit
    (traced once per leaf signature, lowered to one shared func.call)."""
    print("(e) first call at many leaves: rule inlined vs jax.jit(rule) per leaf (clip+adamw single expression)")
    leaf_jit = jax.jit(adamw_leaf)

    def step_with(leaf_fn):
        def f(s, g):
            p, m, v, c = s
            c = c + 1
            t = c.astype(jnp.float32)
            scale = clip_factor(jax.tree.leaves(g))
            out = jax.tree.map(lambda g_, p_, m_, v_: leaf_fn(g_, p_, m_, v_, scale, t), g, p, m, v)
            tdef = jax.tree.structure(p)
            leaves = tdef.flatten_up_to(out)
            return (tdef.unflatten([x[0] for x in leaves]), tdef.unflatten([x[1] for x in leaves]),
                    tdef.unflatten([x[2] for x in leaves]), c)
        return f

    for L in counts:
        params = make_tree(L, 16384, 0)
        grads = jax.tree.map(lambda x: 1e-3 * x, make_tree(L, 16384, 1))
        for label, fn in (("inlined", adamw_leaf), ("jax.jit(rule)", leaf_jit)):
            s = fused_state(jax.tree.map(jnp.copy, params))
            t0 = time.perf_counter()
            lo = jax.jit(step_with(fn), donate_argnums=0).lower(s, grads)
            t1 = time.perf_counter()
            c = lo.compile()
            t2 = time.perf_counter()
            s = block(c(s, grads))
            t3 = time.perf_counter()
            for _ in range(5):
                s = c(s, grads)
            block(s)
            t4 = time.perf_counter()
            print(f"  {L:5d} leaves {label:14s} trace+lower {t1 - t0:5.2f} s  compile {t2 - t1:5.2f} s  "
                  f"fusions {fusions(c):5d}  step {(t4 - t3) / 5 * 1e3:6.1f} ms", flush=True)
            del s, c, lo


def exp_f(counts=(500, 1000, 2000)):
    """(f) the compile floor: Adam written by hand in plain jnp (no library), one leaf at a time, 16k floats
    per leaf, donated: trace+lower and XLA compile seconds, against optjax.adam and optax.adam on the same trees.
    Shows how much of the first call is XLA's own cost per fusion, and how it grows with the leaf count."""
    print("(f) first call of adam at many leaves: plain jnp (no library) vs optjax vs optax")

    def plain(s, g):
        p, m, v, c = s
        c = c + 1
        t = c.astype(jnp.float32)
        bc1, bc2 = 1 - B1 ** t, 1 - B2 ** t
        out_p, out_m, out_v = {}, {}, {}
        for k in g:
            out_m[k] = B1 * m[k] + (1 - B1) * g[k]
            out_v[k] = B2 * v[k] + (1 - B2) * g[k] * g[k]
            out_p[k] = p[k] - LR * (out_m[k] / bc1) / (jnp.sqrt(out_v[k] / bc2) + EPS)
        return out_p, out_m, out_v, c

    for L in counts:
        params = make_tree(L, 16384, 0)
        grads = jax.tree.map(lambda x: 1e-3 * x, make_tree(L, 16384, 1))
        zeros = jax.tree.map(jnp.zeros_like, params)
        cases = (("plain jnp", plain, lambda: (params, zeros, zeros, jnp.zeros((), jnp.int32))),
                 ("optjax.adam", tx_state_step(optjax.adam(LR)), lambda: lib_state(optjax.adam(LR), params)),
                 ("optax.adam", tx_state_step(optax.adam(LR)), lambda: lib_state(optax.adam(LR), params)))
        for label, f, mk in cases:
            s = mk()
            t0 = time.perf_counter()
            lo = jax.jit(f, donate_argnums=0).lower(s, grads)
            t1 = time.perf_counter()
            c = lo.compile()
            t2 = time.perf_counter()
            print(f"  {L:5d} leaves {label:12s} trace+lower {t1 - t0:5.2f} s  compile {t2 - t1:5.2f} s  "
                  f"fusions {fusions(c):5d}", flush=True)
            del lo, c


def exp_g(n=1 << 24):
    """(g) lion's params-sized temporary: the compiled HLO copies the momentum (both libraries), and what a
    fresh params-sized buffer costs on this machine (a triad with and without donating its output)."""
    print("(g) lion: momentum copy in the HLO, and the cost of a fresh buffer")
    from jax.lax import optimization_barrier

    def lion_plain(s, g):
        p, m = s
        u = jnp.sign(0.1 * g + 0.9 * m)
        return p - 1e-4 * (u + 1e-3 * p), 0.01 * g + 0.99 * m

    def lion_barrier(s, g):  # order the param update before the momentum overwrite
        p, m = s
        pn = p - 1e-4 * (jnp.sign(0.1 * g + 0.9 * m) + 1e-3 * p)
        pn, m, g = optimization_barrier((pn, m, g))
        return pn, 0.01 * g + 0.99 * m

    g = jnp.full((n,), 0.1)
    variants = [Variant(name, f, (jnp.ones((n,)), jnp.full((n,), 0.01)), g)
                for name, f in (("lion (jnp)", lion_plain), ("lion + optimization_barrier", lion_barrier))]
    for v in variants:
        text = v.f.as_text()
        entry = text[text.find("ENTRY"):]
        print(f"  {v.name:30s} copies in ENTRY {entry.count(' copy('):d}  temp {v.temp / 4 / n:.2f} x params")

    med = race(variants)
    report(variants, med, variants[0].name)
    d, nd = triad_time(n, donate=True), triad_time(n, donate=False)
    print(f"  triad donated {d * 1e3:.2f} ms, not donated (fresh {n * 4 / 2**20:.0f} MiB output) {nd * 1e3:.2f} ms: "
          f"a fresh buffer costs {(nd - d) * 1e3:.1f} ms", flush=True)


def exp_h():
    """(h) which optimizers' donated steps copy state: every entry of the test registries on one 512x512 leaf,
    ``tx.update`` + ``apply_updates`` vs ``optjax.update_and_apply``: temp bytes / params and copies in the HLO."""
    print("(h) donated step per optimizer (512x512 leaf): temp x params and HLO copies, plain vs update_and_apply")
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "..", "tests", "optimizers"))
    import registry
    import registry_mxnet

    p = {"w": jnp.ones((512, 512))}
    g = {"w": jnp.full((512, 512), 0.1)}
    for name, kw in registry.ENTRIES + registry_mxnet.ENTRIES:
        tx = getattr(optjax, name)(**kw)
        cells = []
        def plain(p, s, g):
            u, s = tx.update(g, s, p)
            return optjax.apply_updates(p, u), s

        for label, step in (("plain", plain),
                            ("update_and_apply", lambda p, s, g: optjax.update_and_apply(tx, g, s, p))):
            c = jax.jit(step, donate_argnums=(0, 1)).lower(p, tx.init(p), g).compile()
            text = c.as_text()
            entry = text[text.find("ENTRY"):]
            temp = c.memory_analysis().temp_size_in_bytes / (4 * 512 * 512)
            cells.append(f"{label} temp {temp:.2f} copies {entry.count(' copy('):d}")
        args = ", ".join(f"{k}={v}" for k, v in kw.items() if k != "key")
        print(f"  {name:14s} {args[:60]:60s} | " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
