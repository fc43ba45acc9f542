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

import numpy as np

from ..stream import Stream

__all__ = ["Packed", "pack_jobs"]

_ROLES = ("feed", "organic", "scrub", "strip")


class Packed:
    """Kernel inputs of B jobs, padded along the stage axis to the longest cascade.

    Attributes
    ----------
    jobs : list of (Cascade, dict)
    nst, n, m, k : ndarray (B,) of int
        Total, extraction, scrub and strip stage counts.
    args : tuple
        The leading arguments of the batch kernels (nst through use_f, as ``pack_batch``).
    species : tuple
        Active species, the kernel's columns.
    linear : bool
        Every job is a constant-D cascade with equilibrium stages (the direct tridiagonal
        path of :func:`reeproc.sx._linear_batch.solve_linear_batch`).
    groups : list of dict
        Per template: ``idx`` (job indices), ``asm`` (the template's ``_assemble`` output) and
        the group's flow-dependent extras (``ext_h``, ``ext_inert``, ``inert_conc``,
        ``chloride``, ``flows``; ``k0`` per job when it depends on chloride, else None).
    """

    __slots__ = ("jobs", "nst", "n", "m", "k", "args", "species", "linear", "groups")

    def __init__(self, **kw):
        for key, v in kw.items():
            setattr(self, key, v)

    def __getattr__(self, name):   # named kernel inputs: packed.Lout, packed.ext, ...
        try:
            return self.args[_ARGS.index(name)]
        except ValueError:
            raise AttributeError(name) from None


_ARGS = ("nst", "Lout", "Lup", "O", "ext", "yin", "k0", "kf", "kh", "kfh", "sc", "z", "fT", "G",
         "Ts", "Ka", "eta", "use_h", "use_f")


def _scan(jobs):
    """Number the distinct cascades and streams of the jobs (by identity; objects alive for
    the call). Returns cascade index (B,), stream index (B, 4) (-1: none), both lists."""
    if not all(type(jb) is tuple and len(jb) == 2 and isinstance(jb[1], dict) for jb in jobs):
        bad = next(jb for jb in jobs
                   if not (isinstance(jb, tuple) and len(jb) == 2 and isinstance(jb[1], dict)))
        raise ValueError(f"each job must be a (Cascade, dict) pair, got {bad!r}")
    cas = [jb[0] for jb in jobs]
    objs = [kw.get(r) for _, kw in jobs for r in _ROLES]
    out = []
    for seq, none in ((cas, False), (objs, True)):
        ids = list(map(id, seq))
        index = {id(None): -1} if none else {}
        base = len(index)
        num = [index.setdefault(i, len(index) - base) for i in ids]
        by_id = dict(zip(ids, seq))
        out.append((np.array(num, dtype=np.int64), [by_id[i] for i in list(index)[base:]]))
    (cid, cas_list), (sid, st_list) = out
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


def _inlet_vectors(st_list, sids, names):
    """(g, len(names)) molar flows [mol/h] of ``names`` in the streams ``sids`` (-1: zeros)."""
    u, inv = np.unique(sids, return_inverse=True)
    tab = np.zeros((len(u), len(names)))
    for r, s in enumerate(u):
        if s >= 0:
            mol = st_list[s].mol_h
            tab[r] = [mol.get(sp, 0.0) for sp in names]
    return tab[inv]


def _inlet_scalars(st_list, sids):
    """(g, 3) proton-invariant, total-sulfate and chloride inflows [mol/h] of the streams, in
    the order of the sums of ``Cascade._assemble``."""
    u, inv = np.unique(sids, return_inverse=True)
    tab = np.zeros((len(u), 3))
    for r, s in enumerate(u):
        if s >= 0:
            mol = st_list[s].mol_h
            tab[r] = (mol.get("H+", 0.0) + mol.get("HSO4-", 0.0) - mol.get("OH-", 0.0),
                      mol.get("SO4-2", 0.0) + mol.get("HSO4-", 0.0), mol.get("Cl-", 0.0))
    return tab[inv]


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


def _template(cas, kw, model_keep):
    asm = cas._assemble(kw.get("feed"), kw.get("organic"), kw.get("scrub"), kw.get("strip"))
    a = asm["arrays"]
    probe = cas.model.coefficients(asm["active"], asm["chloride"] * 2.0 + 0.1)["k0"]
    asm["k0_dep"] = not np.array_equal(probe, a["k0"])
    asm["model"] = model_keep   # keeps id(model) of the cache key alive
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
    keys = np.column_stack([cidx, ssig[sid]])
    ukeys, ginv = np.unique(keys, axis=0, return_inverse=True)
    ginv = ginv.reshape(-1)
    B = len(jobs)
    nst = np.array([c.n_stages for c in cas_list], dtype=np.int64)[cid]
    flows = sflow[sid]   # (B, 4): F, O, Sc, St [L/h]; 0 where the stream is absent
    for r, name in enumerate(_ROLES):
        bad = (sid[:, r] >= 0) & ~(flows[:, r] > 0)
        if bad.any():
            raise ValueError(f"{name} flow_L_h={flows[bad, r][0]} must be > 0 L/h "
                             f"(job {int(np.flatnonzero(bad)[0])})")
    nmax = int(nst.max())
    order = np.argsort(ginv, kind="stable")
    bounds = np.searchsorted(ginv[order], np.arange(len(ukeys) + 1))
    groups, out = [], None
    species = None
    for g in range(len(ukeys)):
        idx = order[bounds[g]:bounds[g + 1]]
        i0 = int(idx[0])
        cas0, kw0 = jobs[i0]
        tkey = (ckeys[cid[i0]],) + tuple(sigs[q] for q in ssig[sid[i0]])
        asm0 = templates.get(tkey)
        if asm0 is None:
            asm0 = templates[tkey] = _template(cas0, kw0, cas0.model)
        if species is None:
            species = tuple(asm0["active"])
            out = _alloc(B, nmax, len(species))
        elif tuple(asm0["active"]) != species:
            raise ValueError(f"all jobs must extract the same species; got {asm0['active']} "
                             f"and {list(species)}")
        groups.append(_fill_group(out, idx, cas0, asm0, sid, flows, st_list, extras))
    args = (nst,) + tuple(out[key] for key in _ARGS[1:15]) + (groups[0]["asm"]["arrays"]["Ka"],
                                                             out["eta"], out["use_h"], out["use_f"])
    linear = not (out["use_h"].any() or out["use_f"].any() or np.any(out["eta"] < 1.0))
    cas_n = np.array([[c.extraction, c.scrub, c.strip] for c in cas_list], dtype=np.int64)[cid]
    return Packed(jobs=jobs, nst=nst, n=cas_n[:, 0], m=cas_n[:, 1], k=cas_n[:, 2], args=args,
                  species=species, linear=linear, groups=groups)


def _alloc(B, nmax, S):
    """Padded kernel inputs: padding stages carry unit aqueous flow and no inflow (the kernels
    never read them)."""
    return dict(Lout=np.ones((B, nmax)), Lup=np.zeros((B, nmax)), O=np.zeros(B),
                ext=np.zeros((B, nmax, S)), yin=np.zeros((B, S)), k0=np.zeros((B, nmax, S)),
                kf=np.zeros((B, S)), kh=np.zeros((B, S)), kfh=np.zeros((B, S)),
                sc=np.zeros((B, S)), z=np.zeros((B, S)), fT=np.zeros(B), G=np.zeros((B, nmax)),
                Ts=np.zeros((B, nmax)), eta=np.ones((B, nmax)),
                use_h=np.zeros(B, dtype=np.bool_), use_f=np.zeros(B, dtype=np.bool_))


def _fill_group(out, idx, cas, asm0, sid, flows, st_list, extras):
    """Flow-dependent arrays of one template's jobs ``idx``, written into ``out``."""
    a0 = asm0["arrays"]
    n, m, k = cas.extraction, cas.scrub, cas.strip
    nst = n + m + k
    g = len(idx)
    fl = flows[idx]
    F, O, Sc, St = fl[:, 0], fl[:, 1], fl[:, 2], fl[:, 3]
    Lout = np.empty((g, nst))
    Lout[:, :n] = (F + Sc)[:, None]
    Lout[:, n:n + m] = Sc[:, None]
    Lout[:, n + m:] = St[:, None]
    Lup = np.zeros((g, nst))
    Lup[:, :n - 1] = (F + Sc)[:, None]
    if m > 0:
        Lup[:, n - 1] = Sc
        Lup[:, n:n + m - 1] = Sc[:, None]
    if k > 0:
        Lup[:, n + m:nst - 1] = St[:, None]
    active, inert = asm0["active"], asm0["inert"]
    S = len(active)
    ext = np.zeros((g, nst, S))
    ext_inert = np.zeros((g, nst, len(inert)))
    sca = np.zeros((g, nst, 3))   # ext_h, ext_t, ext_cl
    for r, j in ((0, n - 1), (2, n + m - 1), (3, nst - 1)):   # feed, scrub, strip inlets
        s = sid[idx, r]
        if s[0] < 0:
            continue
        ext[:, j] += _inlet_vectors(st_list, s, active)
        if inert:
            ext_inert[:, j] += _inlet_vectors(st_list, s, inert)
        sca[:, j] += _inlet_scalars(st_list, s)
    ext_h = np.ascontiguousarray(sca[:, :, 0])
    chloride = Ts = None
    if extras or asm0["k0_dep"]:
        chloride = tracer_many(np.ascontiguousarray(sca[:, :, 2]), Lup, Lout)
    if extras or a0["use_h"]:
        Ts = tracer_many(np.ascontiguousarray(sca[:, :, 1]), Lup, Lout)
        out["Ts"][idx, :nst] = Ts
    z = a0["z"]
    G = tracer_many(ext_h + ext @ z, Lup, Lout) if a0["use_h"] else np.zeros((g, nst))
    k0 = None
    if asm0["k0_dep"]:
        model = cas.model
        k0 = np.array([model.coefficients(active, chloride[r])["k0"] for r in range(g)])
        out["k0"][idx, :nst] = k0
    else:
        out["k0"][idx, :nst] = a0["k0"]
    out["Lout"][idx, :nst] = Lout
    out["Lup"][idx, :nst] = Lup
    out["ext"][idx, :nst] = ext
    out["G"][idx, :nst] = G
    out["eta"][idx, :nst] = cas.efficiency
    out["O"][idx] = O
    for key in ("yin", "kf", "kh", "kfh", "sc", "z"):
        out[key][idx] = a0[key]
    out["fT"][idx] = a0["fT"]
    out["use_h"][idx] = a0["use_h"]
    out["use_f"][idx] = a0["use_f"]
    inert_conc = None
    if extras:
        inert_conc = tracer_many(ext_inert, Lup, Lout) if inert else np.zeros((g, nst, 0))
    return dict(idx=idx, asm=asm0, ext_h=ext_h, ext_inert=ext_inert, inert_conc=inert_conc,
                chloride=chloride, k0=k0, flows=dict(F=F, Sc=Sc, St=St, O=O))
