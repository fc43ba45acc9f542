"""Vectorised assembly of many SX jobs into the padded arrays of the batch kernels.

A sweep's jobs share a few cascade *templates* (same cascade shape, model, efficiencies and
inlet compositions [mol/L]) and differ in their flows [L/h]. :func:`pack_jobs` makes one pass
over the jobs in Python (it numbers the distinct Cascade and Stream objects by identity), groups
the jobs by template with numpy, assembles each template once with ``Cascade._assemble`` (or
takes it from a cache shared by the chunks of one sweep) and builds every flow-dependent array
of a whole group at once:

* inlet molar flows [mol/h] are each stream's own ``mol_h`` put on its inlet stage, so they
  equal those of ``Cascade._assemble`` bit for bit;
* section flows [L/h] and the aqueous tracers (chloride, total sulfate, proton invariant)
  follow ``Cascade._assemble`` operation by operation, vectorised over the group.

The group's arrays are written straight into the padded (B, nmax[, S]) kernel inputs, so no
per-job dict of arrays is built (:func:`reeproc.sx.batch.assemble_many` still gives those).
"""
from __future__ import annotations

from operator import itemgetter

import numpy as np

from ..stream import Stream

__all__ = ["Packed", "pack_jobs", "template", "common_species", "finish", "tracer_many"]

_ROLES = ("feed", "organic", "scrub", "strip")


class Packed:
    """B packed jobs: per-job stage counts, flows, inlet molar flows and template; the padded
    (B, nmax[, S]) kernel inputs are built on first use (:attr:`args`), since the constant-D
    kernel (:func:`._linear_batch.solve_linear_batch`) builds each cascade's arrays itself.

    Attributes
    ----------
    jobs : sequence of (Cascade, dict)
    nst, n, m, k : ndarray (B,) of int
        Total, extraction, scrub and strip stage counts.
    flows : ndarray (B, 4)
        Feed, organic, scrub and strip flows [L/h] (0 where absent).
    inlets : list of 3 ndarray (B, S)
        Molar flows [mol/h] of the active species in the feed, scrub and strip inlets.
    tpl, ginv : list of dict, ndarray (B,)
        The templates (``Cascade._assemble`` outputs) and each job's template.
    species : tuple
        Active species, the kernels' columns.
    linear : bool
        Every job is a constant-D cascade with equilibrium stages and k0 independent of
        chloride (the direct tridiagonal path).
    args : tuple
        The leading arguments of ``_fallback.solve_batch_kernel`` (nst through use_f, as
        ``pack_batch``); also by name (``packed.Lout``, ``packed.ext``, ...).
    groups : list of dict
        Per template: ``idx`` (job indices), ``asm`` (the template) and, with ``extras``, the
        group's flow-dependent extras (``ext_h``, ``ext_inert``, ``inert_conc``, ``chloride``,
        ``flows``; ``k0`` per job when it depends on chloride, else None).
    """

    def __init__(self, jobs, tpl, ginv, inlets, scalars, flows, n, m, k, eta_tab, eidx,
                 extras=False, sid=None, st_list=None):
        self.jobs, self.tpl, self.ginv = jobs, tpl, ginv
        self.inlets, self._scalars, self.flows = inlets, scalars, flows
        self.n, self.m, self.k, self.nst = n, m, k, n + m + k
        self._eta, self._extras, self._sid, self._st = (eta_tab, eidx), extras, sid, st_list
        self.species = tuple(tpl[0]["active"])
        used = np.zeros(len(tpl), dtype=bool)
        used[ginv] = True
        self.linear = not any(t["arrays"]["use_h"] or t["arrays"]["use_f"] or t["k0_dep"]
                              for t, u in zip(tpl, used) if u) and \
            not np.any(eta_tab[np.unique(eidx)] < 1.0)
        self._out = self._groups = None

    def _build(self):
        nmax = int(self.nst.max())
        eta_tab, eidx = self._eta
        out = _fill(self.tpl, self.ginv, self.inlets, self._scalars, self.flows, self.n, self.m,
                    self.nst, nmax, np.ascontiguousarray(eta_tab[eidx][:, :nmax]))
        out["flows"] = self.flows
        if any(a["k0_dep"] for a in self.tpl) or self._extras:
            _group_extras(out, self.groups, self._sid, self._st, self._extras)
        self._out = out

    @property
    def groups(self) -> list:
        if self._groups is None:
            order = np.argsort(self.ginv, kind="stable")
            bounds = np.searchsorted(self.ginv[order], np.arange(len(self.tpl) + 1))
            self._groups = [dict(idx=order[bounds[g]:bounds[g + 1]], asm=a)
                            for g, a in enumerate(self.tpl)]
        return self._groups

    @property
    def args(self) -> tuple:
        if self._out is None:
            self._build()
        o = self._out
        return ((self.nst,) + tuple(o[key] for key in _ARGS[1:15])
                + (self.tpl[0]["arrays"]["Ka"], o["eta"], o["use_h"], o["use_f"]))

    def __getattr__(self, name):   # named kernel inputs: packed.Lout, packed.ext, ...
        if name.startswith("_") or name not in _ARGS:
            raise AttributeError(name)
        return self.args[_ARGS.index(name)]

    def template_array(self, key: str) -> np.ndarray:
        """Per-job value (B, ...) of a flow-independent template array (``yin``, ``fT``,
        ``use_h``, ...)."""
        return np.array([a["arrays"][key] for a in self.tpl])[self.ginv]

    @property
    def inlet_sums(self) -> list:
        """Proton-invariant, total-sulfate and chloride inflows [mol/h] of the feed, scrub and
        strip inlets: 3 ndarray (B, 3)."""
        return self._scalars

    @property
    def O(self) -> np.ndarray:   # noqa: E743 (the kernels' name)
        """Organic flow [L/h] (B,)."""
        return np.ascontiguousarray(self.flows[:, 1])


_ARGS = ("nst", "Lout", "Lup", "O", "ext", "yin", "k0", "kf", "kh", "kfh", "sc", "z", "fT", "G",
         "Ts", "Ka", "eta", "use_h", "use_f")


_second = itemgetter(1)


def _scan(jobs):
    """Number the distinct cascades and streams of the jobs (by identity; objects alive for
    the call). Returns cascade index (B,), stream index (B, 4) (-1: none), both lists."""
    def pair(jb):
        return isinstance(jb, tuple) and len(jb) == 2 and isinstance(jb[1], dict)

    # (the common case checked with C-level loops: plain tuples of 2 holding plain dicts)
    if not (set(map(type, jobs)) == {tuple} and set(map(len, jobs)) == {2}
            and set(map(type, map(_second, jobs))) == {dict}) and not all(map(pair, jobs)):
        bad = next(jb for jb in jobs
                   if not (isinstance(jb, tuple) and len(jb) == 2 and isinstance(jb[1], dict)))
        raise ValueError(f"each job must be a (Cascade, dict) pair, got {bad!r}")
    cas = [jb[0] for jb in jobs]
    objs = [kw.get(r) for _, kw in jobs for r in _ROLES]
    out = []
    for seq in (cas, objs):
        ids = np.fromiter(map(id, seq), dtype=np.int64, count=len(seq))
        u, first, num = np.unique(ids, return_index=True, return_inverse=True)
        out.append((num.reshape(-1), [seq[i] for i in first]))
    (cid, cas_list), (sid, st_list) = out
    if any(st is None for st in st_list):   # no stream: index -1 (each object once)
        q = next(i for i, st in enumerate(st_list) if st is None)
        del st_list[q]
        sid = np.where(sid == q, -1, sid - (sid > q))
    return cid, sid.reshape(-1, 4), cas_list, st_list


def _stream_table(st_list):
    """Content signature index and flow [L/h] per stream (the last entry stands for 'none'),
    and the signatures (phase, temperature [K], sorted concentrations [mol/L])."""
    sig_of, sig, flow = {}, [], []
    for st in st_list:
        if not isinstance(st, Stream):
            raise ValueError(f"{st!r} must be a reeproc Stream")
        key = (st.phase, st.T_K, tuple(sorted(st.conc_mol_L.items())))
        sig.append(sig_of.setdefault(key, len(sig_of)))
        flow.append(float(st.flow_L_h))
    return np.array(sig + [-1], dtype=np.int64), np.array(flow + [0.0]), list(sig_of) + [None]


def _cascade_key(cas):
    return (id(cas.model), cas.extraction, cas.scrub, cas.strip, cas.efficiency.tobytes())


def _stream_rows(st_list, names, scalars=False):
    """(n_streams + 1, K) inflows [mol/h] per stream: of ``names``, or (scalars) the
    proton-invariant, total-sulfate and chloride sums in the order of ``Cascade._assemble``;
    the last row (no stream) holds zeros."""
    tab = np.zeros((len(st_list) + 1, 3 if scalars else len(names)))
    for r, st in enumerate(st_list):
        mol = st.mol_h
        if scalars:
            tab[r] = (mol.get("H+", 0.0) + mol.get("HSO4-", 0.0) - mol.get("OH-", 0.0),
                      mol.get("SO4-2", 0.0) + mol.get("HSO4-", 0.0), mol.get("Cl-", 0.0))
        else:
            tab[r] = [mol.get(sp, 0.0) for sp in names]
    return tab


def _inlets(feed, scrub, strip, n, m, nst, nmax):
    """(B, nmax, K) stage inflows [mol/h] from the (B, K) inflows of the feed (at stage n-1),
    scrub (n+m-1) and strip (nst-1) inlets (at most one inlet per stage, so each stage's sum is
    that inlet's own value)."""
    rows = np.arange(len(n))
    e = np.zeros((len(n), nmax, feed.shape[1]))
    for v, j in ((feed, n - 1), (scrub, n + m - 1), (strip, nst - 1)):
        e[rows, j] += v
    return e


def _by_role(tab, sid):
    """Per inlet role (feed, scrub, strip): the (B, K) rows of ``tab`` of each job's stream."""
    return [tab[sid[:, r]] for r in (0, 2, 3)]


def tracer_many(e, Lup, Lout):
    """Vectorised ``Cascade._assemble`` tracer: c_j = (e_j + Lup_j c_{j+1}) / Lout_j over a
    group; e (g, nst[, K]) [mol/h], Lup and Lout (g, nst) [L/h]. Returns [mol/L]."""
    c = np.zeros_like(e)
    nst = e.shape[1]
    extra = (slice(None),) + (None,) * (e.ndim - 2)
    for j in range(nst - 1, -1, -1):
        v = e[:, j]
        if j + 1 < nst:
            v = v + Lup[:, j][extra] * c[:, j + 1]
        c[:, j] = v / Lout[:, j][extra]
    return c


def template(cas, kw) -> dict:
    """``cas._assemble`` of one job, marked with whether its k0 depends on chloride; the entry
    keeps the model alive (template caches are keyed by the model's identity)."""
    asm = cas._assemble(kw.get("feed"), kw.get("organic"), kw.get("scrub"), kw.get("strip"))
    a = asm["arrays"]
    probe = cas.model.coefficients(asm["active"], asm["chloride"] * 2.0 + 0.1)["k0"]
    asm["k0_dep"] = not np.array_equal(probe, a["k0"])
    asm["model"] = cas.model
    asm["cascade_shape"] = (cas.extraction, cas.scrub, cas.strip)
    return asm


def pack_jobs(jobs, templates: dict | None = None, extras: bool = False) -> Packed:
    """Assemble and pack many jobs (see module doc).

    Parameters
    ----------
    jobs : list of (Cascade, dict)
        Keyword arguments of :meth:`Cascade.solve` (feed, organic, scrub, strip).
    templates : dict, optional
        Cache of assembled templates, shared by the chunks of one sweep (keys hold the model's
        identity; the cached entry keeps the model alive).
    extras : bool
        Also compute, per group, the chloride [mol/L], total sulfate [mol/L] and inert-tracer
        profiles that the kernels do not read (chloride is computed anyway where the model's
        coefficients depend on it, total sulfate where the model follows [H+]).

    Raises
    ------
    ValueError
        For a malformed job, a stream flow that is not > 0 [L/h], or jobs that do not all
        extract the same ordered species (and every error of ``Cascade._assemble``).
    """
    if not jobs:
        raise ValueError("jobs must be a non-empty list of (Cascade, kwargs)")
    templates = {} if templates is None else templates
    cid, sid, cas_list, st_list = _scan(jobs)
    ssig, sflow, sigs = _stream_table(st_list)
    ckeys = [_cascade_key(c) for c in cas_list]
    cshape = {}
    cidx = np.array([cshape.setdefault(k, len(cshape)) for k in ckeys], dtype=np.int64)[cid]
    keys = np.column_stack([cidx, ssig[sid] + 1])
    base = len(sigs)   # signature indices + 1 lie in [0, base)
    if (cidx.max() + 1) * float(base) ** 4 < 2.0 ** 62:   # one int per row: a faster unique
        flat = keys[:, 0]
        for c in range(1, 5):
            flat = flat * base + keys[:, c]
        ukeys, ginv = np.unique(flat, return_inverse=True)
    else:
        ukeys, ginv = np.unique(keys, axis=0, return_inverse=True)
    ginv = ginv.reshape(-1)
    nst = np.array([c.n_stages for c in cas_list], dtype=np.int64)[cid]
    flows = sflow[sid]   # (B, 4): F, O, Sc, St [L/h]; 0 where the stream is absent
    for r, name in enumerate(_ROLES):
        bad = (sid[:, r] >= 0) & ~(flows[:, r] > 0)
        if bad.any():
            raise ValueError(f"{name} flow_L_h={flows[bad, r][0]} must be > 0 L/h "
                             f"(job {int(np.flatnonzero(bad)[0])})")
    nmax = int(nst.max())
    cas_n = np.array([[c.extraction, c.scrub, c.strip] for c in cas_list], dtype=np.int64)[cid]
    n, m, k = cas_n[:, 0], cas_n[:, 1], cas_n[:, 2]
    order = np.argsort(ginv, kind="stable")
    bounds = np.searchsorted(ginv[order], np.arange(len(ukeys) + 1))
    tpl = []
    for g in range(len(ukeys)):
        i0 = int(order[bounds[g]])
        cas0, kw0 = jobs[i0]
        tkey = (ckeys[cid[i0]],) + tuple(sigs[q] for q in ssig[sid[i0]])
        asm0 = templates.get(tkey)
        if asm0 is None:
            asm0 = templates[tkey] = template(cas0, kw0)
        tpl.append(asm0)
    species = common_species(tpl)
    eta = np.array([_padded(c.efficiency, nmax, 1.0) for c in cas_list])
    packed = finish(jobs, tpl, ginv, _by_role(_stream_rows(st_list, species), sid),
                    _by_role(_stream_rows(st_list, (), scalars=True), sid), flows, n, m, k,
                    eta, cid, extras, sid, st_list)
    if extras:
        packed.args   # (builds the extras)
    return packed


def common_species(tpl) -> tuple:
    """The active species of the templates, which must all be the same."""
    for a in tpl[1:]:
        if tuple(a["active"]) != tuple(tpl[0]["active"]):
            raise ValueError(f"all jobs must extract the same species; got {a['active']} "
                             f"and {tpl[0]['active']}")
    return tuple(tpl[0]["active"])


def finish(jobs, tpl, ginv, inlets, scalars, flows, n, m, k, eta_tab, eidx, extras=False,
           sid=None, st_list=None) -> Packed:
    """The :class:`Packed` batch from each job's template (``tpl``, ``ginv`` (B,)), inlet
    flows [mol/h] per role (feed, scrub, strip: (B, S) and (B, 3) scalars, see
    :func:`_stream_rows`), flows (B, 4) [L/h] (F, O, Sc, St), stage counts (B,) and Murphree
    efficiencies (``eta_tab[eidx]``, padded with ones). ``extras`` (with ``sid`` and
    ``st_list``): see :func:`pack_jobs`."""
    return Packed(jobs, tpl, ginv, inlets, scalars, flows, n, m, k, eta_tab, eidx, extras, sid,
                  st_list)


def _padded(v, nmax, fill=0.0):
    """``v`` (nst[, S]) padded along its first axis to nmax with ``fill``."""
    out = np.full((nmax,) + np.shape(v)[1:], fill, dtype=float)
    out[:len(v)] = v
    return out


def _fill(tpl, ginv, inlets, scalars, flows, n, m, nst, nmax, eta):
    """Kernel inputs of all jobs at once (section flows [L/h], inflows [mol/h], tracers);
    padding stages carry unit aqueous flow and no inflow (the kernels never read them).

    ``tpl``: the templates, ``ginv`` (B,) each job's template; ``inlets`` and ``scalars``: the
    (B, S) and (B, 3) inflows [mol/h] of the feed, scrub and strip (:func:`_stream_rows`);
    ``flows`` (B, 4): F, O, Sc, St [L/h]; ``eta`` (B, nmax) Murphree efficiencies."""
    B = len(ginv)
    F, O, Sc, St = (flows[:, r, None] for r in range(4))
    jj = np.arange(nmax)[None]
    n_, nm_, nst_ = n[:, None], (n + m)[:, None], nst[:, None]
    Lout = np.where(jj < n_, F + Sc, np.where(jj < nm_, Sc, np.where(jj < nst_, St, 1.0)))
    Lup = np.where(jj < n_ - 1, F + Sc, np.where((jj >= n_ - 1) & (jj < nm_ - 1), Sc,
                                                 np.where((jj >= nm_) & (jj < nst_ - 1), St, 0.0)))
    ext = _inlets(*inlets, n, m, nst, nmax)
    sca = _inlets(*scalars, n, m, nst, nmax)
    out = dict(Lout=Lout, Lup=Lup, O=np.ascontiguousarray(O[:, 0]), ext=ext, eta=eta, sca=sca)
    for key in ("yin", "kf", "kh", "kfh", "sc", "z", "fT", "use_h", "use_f"):
        out[key] = np.array([a["arrays"][key] for a in tpl])[ginv]
    tmax = max([nmax] + [len(a["arrays"]["k0"]) for a in tpl])   # (unused templates too)
    out["k0"] = np.array([_padded(a["arrays"]["k0"], tmax, 0.0) for a in tpl])[ginv][:, :nmax]
    out["k0"] = np.ascontiguousarray(out["k0"])
    use_h = out["use_h"].any()
    out["Ts"] = (tracer_many(np.ascontiguousarray(sca[:, :, 1]), Lup, Lout) if use_h
                 else np.zeros((B, nmax)))
    out["G"] = np.zeros((B, nmax))
    if use_h:
        G = tracer_many(sca[:, :, 0] + (ext @ out["z"][:, :, None])[:, :, 0], Lup, Lout)
        out["G"] = np.where(out["use_h"][:, None], G, 0.0)
    return out


def _group_extras(out, groups, sid, st_list, extras):
    """Per template: chloride-dependent k0 per job, and (``extras``) the flow-dependent
    arrays that the kernels do not read (see :func:`pack_jobs`)."""
    Lout, Lup, sca = out["Lout"], out["Lup"], out["sca"]
    chloride = tracer_many(np.ascontiguousarray(sca[:, :, 2]), Lup, Lout)
    if extras:
        out["Ts"] = tracer_many(np.ascontiguousarray(sca[:, :, 1]), Lup, Lout)
    for grp in groups:
        asm0, idx = grp["asm"], grp["idx"]
        ns = len(asm0["arrays"]["Lout"])
        grp["k0"] = None
        if not len(idx):   # a template of other chunks of the sweep
            continue
        if asm0["k0_dep"]:
            model = asm0["model"]
            grp["k0"] = np.array([model.coefficients(asm0["active"], chloride[i, :ns])["k0"]
                                  for i in idx])
            out["k0"][idx, :ns] = grp["k0"]
        if not extras:
            continue
        sl = (idx, slice(0, ns))
        n_, m_, _ = asm0["cascade_shape"]
        g = len(idx)
        ext_inert = _inlets(*_by_role(_stream_rows(st_list, asm0["inert"]), sid[idx]),
                            np.full(g, n_), np.full(g, m_), np.full(g, ns), ns)
        grp.update(ext_h=sca[idx, :ns, 0], ext_inert=ext_inert, chloride=chloride[sl],
                   inert_conc=tracer_many(ext_inert, Lup[sl], Lout[sl]),
                   flows=dict(F=out["flows"][idx, 0], O=out["flows"][idx, 1],
                              Sc=out["flows"][idx, 2], St=out["flows"][idx, 3]))
