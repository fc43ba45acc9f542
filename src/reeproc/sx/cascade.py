"""Counter-current mixer-settler cascade: extraction, scrub and strip sections in one organic train.

Stage numbering (1-based, as in the results)::

    organic in -> 1 ... n | n+1 ... n+m | n+m+1 ... n+m+k -> organic out
                 extraction     scrub            strip
    raffinate <- 1      feed -> n   scrub -> n+m        strip liquor <- n+m+1   strip acid -> n+m+k

The aqueous feed enters stage n; the scrub solution enters stage n+m and joins the feed flowing
towards stage 1 (aqueous flow in the extraction section = feed + scrub); the strip acid enters
stage n+m+k and leaves as strip liquor from stage n+m+1 (its own aqueous circuit). The organic
flow [L/h] is the same in every stage; phase volumes do not change.

Each stage is an equilibrium stage (optionally with a Murphree efficiency eta on the organic
phase: ``y_j = y_{j-1} + eta (y*_j - y_{j-1})``). Per stage and species the balance is::

    Lup_j x_{j+1} + ext_j + O y_{j-1} - Lout_j x_j - O y_j = 0     [mol/h]
"""
from __future__ import annotations

import math

import numpy as np

from ..stream import Stream
from . import _kernels as K
from . import _diagnosis as D
from ._diagnosis import BASE_SPECIES
from .models import EquilibriumModel, _ka2
from .results import (CHARGE_TOL, MASS_TOL, PH_MAX, CascadeResult, ConvergenceError,  # noqa: F401 (re-exported)
                      ExtractantCapacityError, NoAcidicSteadyStateError, _charge, molar_purity)

__all__ = ["Cascade", "CascadeResult", "ConvergenceError", "NoAcidicSteadyStateError"]

_ACID = ("H+", "HSO4-")
_SPECIAL = {"H+", "HSO4-", "SO4-2", "OH-"}
N_PICARD = 2  # frozen-D sweeps tried before Newton from a cold start (kept while they help)
XMAX_MOL_L = 100.0   # largest aqueous concentration a warm start may hold [mol/L]
HMAX_MOL_L = 20.0    # largest [H+] a warm start may hold [mol/L] (pH about -1.3)


def _positive_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name}={value!r} must be an integer >= {minimum}")
    if value < minimum:
        raise ValueError(f"{name}={value} must be an integer >= {minimum}")
    return int(value)


class Cascade:
    """A counter-current SX cascade (extraction + optional scrub + optional strip sections).

    Parameters
    ----------
    model : EquilibriumModel
        ConstantD, PhCorrelation or MassAction.
    extraction : int
        Number of extraction stages n >= 1.
    scrub, strip : int
        Number of scrub stages m >= 0 and strip stages k >= 0.
    efficiency : float or array-like
        Murphree efficiency on the organic phase, 0 < eta <= 1 (scalar or one per stage).
    """

    MAX_STAGES = 5000

    def __init__(self, model: EquilibriumModel, extraction: int, scrub: int = 0, strip: int = 0,
                 efficiency=1.0):
        if not isinstance(model, EquilibriumModel):
            raise ValueError(f"model={model!r} must be an equilibrium model (ConstantD, "
                             "PhCorrelation or MassAction)")
        self.model = model
        self.extraction = _positive_int(extraction, "extraction", 1)
        self.scrub = _positive_int(scrub, "scrub", 0)
        self.strip = _positive_int(strip, "strip", 0)
        if self.n_stages > self.MAX_STAGES:
            raise ValueError(f"extraction+scrub+strip={self.n_stages} exceeds {self.MAX_STAGES}")
        from .._validate import as_number

        eta = np.asarray([as_number("efficiency", e)
                          for e in np.ravel(np.asarray(efficiency, dtype=object))], dtype=float)
        eta = eta.reshape(np.shape(efficiency))
        if eta.ndim == 0:
            eta = np.full(self.n_stages, float(eta))
        if eta.shape != (self.n_stages,):
            raise ValueError(f"efficiency must be a scalar or have one value per stage "
                             f"({self.n_stages}), got shape {eta.shape}")
        if not np.all((eta > 0) & (eta <= 1)):
            raise ValueError(f"efficiency={efficiency!r}: every Murphree efficiency must lie in "
                             "(0, 1]")
        self.efficiency = eta

    @property
    def n_stages(self) -> int:
        return self.extraction + self.scrub + self.strip

    def __repr__(self):
        return (f"Cascade({self.model!r}, extraction={self.extraction}, scrub={self.scrub}, "
                f"strip={self.strip})")

    # ------------------------------------------------------------------ assembly
    def _assemble(self, feed, organic, scrub, strip):
        n, m, k = self.extraction, self.scrub, self.strip
        nst = self.n_stages
        model = self.model

        def check(st, name, phase, required):
            if st is None:
                if required:
                    raise ValueError(f"{name} stream is required for this cascade "
                                     f"(extraction={n}, scrub={m}, strip={k})")
                return None
            if not isinstance(st, Stream):
                raise ValueError(f"{name}={st!r} must be a reeproc Stream")
            if st.phase != phase:
                raise ValueError(f"{name} must be an {phase} stream, got phase {st.phase!r}")
            if not (st.flow_L_h > 0):
                raise ValueError(f"{name} flow_L_h={st.flow_L_h} must be > 0 L/h")
            return st

        feed = check(feed, "feed", "aqueous", True)
        organic = check(organic, "organic", "organic", True)
        scrub = check(scrub, "scrub", "aqueous", m > 0)
        strip = check(strip, "strip", "aqueous", k > 0)
        if m == 0 and scrub is not None:
            raise ValueError("scrub stream given but scrub=0 stages; set scrub >= 1")
        if k == 0 and strip is not None:
            raise ValueError("strip stream given but strip=0 stages; set strip >= 1")
        aq_inlets = [s for s in (feed, scrub, strip) if s is not None]
        aq_names = []
        for s in aq_inlets:
            for sp in s.species:
                if sp not in aq_names:
                    aq_names.append(sp)
        model.check_inlet_species(aq_names)
        org_conc = organic.conc_mol_L
        ext_sp = model.extractant_species
        add = model.organic_additions(org_conc)
        for sp in org_conc:
            if sp != ext_sp and sp not in model.species:
                raise ValueError(f"organic inlet species {sp!r} is not modelled by {model!r}")
        active = [sp for sp in model.species
                  if any(s.mol_h.get(sp, 0.0) > 0 for s in aq_inlets)
                  or org_conc.get(sp, 0.0) > 0 or add.get(sp, 0.0) > 0]
        if not active:
            raise ValueError(f"no inlet carries a species extracted by {model!r}; inlet "
                             f"species: {aq_names + list(org_conc)}")
        uses_h = model.uses_h
        inert = [sp for sp in aq_names if sp not in active
                 and not (uses_h and sp in _SPECIAL)]
        S = len(active)
        F = feed.flow_L_h
        Sc = scrub.flow_L_h if scrub is not None else 0.0
        St = strip.flow_L_h if strip is not None else 0.0
        O = organic.flow_L_h
        Lout = np.empty(nst)
        Lout[:n] = F + Sc
        Lout[n:n + m] = Sc
        Lout[n + m:] = St
        Lup = np.zeros(nst)
        Lup[:n - 1] = F + Sc
        if m > 0:
            Lup[n - 1] = Sc
            Lup[n:n + m - 1] = Sc
        if k > 0:
            Lup[n + m:nst - 1] = St
        inlet_stage = [(feed, n - 1)]
        if scrub is not None:
            inlet_stage.append((scrub, n + m - 1))
        if strip is not None:
            inlet_stage.append((strip, nst - 1))
        ext = np.zeros((nst, S))
        ext_inert = np.zeros((nst, len(inert)))
        ext_h = np.zeros(nst)
        ext_t = np.zeros(nst)
        ext_cl = np.zeros(nst)
        for st, j in inlet_stage:
            mol = st.mol_h
            for i, sp in enumerate(active):
                ext[j, i] += mol.get(sp, 0.0)
            for i, sp in enumerate(inert):
                ext_inert[j, i] += mol.get(sp, 0.0)
            ext_h[j] += mol.get("H+", 0.0) + mol.get("HSO4-", 0.0) - mol.get("OH-", 0.0)
            ext_t[j] += mol.get("SO4-2", 0.0) + mol.get("HSO4-", 0.0)
            ext_cl[j] += mol.get("Cl-", 0.0)

        # inert solutes along the aqueous train, in one compiled call: chloride, total sulfate,
        # the acid and the metals' inflows (the proton invariant G, linear in them, is formed
        # once z is known) and the inert species
        cols = np.empty((nst, 3 + S + len(inert)))
        cols[:, 0] = ext_cl
        cols[:, 1] = ext_t
        cols[:, 2] = ext_h
        cols[:, 3:3 + S] = ext
        cols[:, 3 + S:] = ext_inert
        traced = K.aqueous_tracer(cols, Lup, Lout)
        chloride = np.ascontiguousarray(traced[:, 0])
        Ts = np.ascontiguousarray(traced[:, 1])
        coef = model.coefficients(active, chloride)
        fT = coef["fT"]
        if fT is None:
            fT = model.total_extractant(org_conc)
        yin = np.array([org_conc.get(sp, 0.0) + add.get(sp, 0.0) for sp in active])
        if model.uses_f:
            bound = float(np.dot(coef["sc"], yin))
            if not bound < fT:
                detail = ", ".join(f"{sp} {v:.4g} mol/L" for sp, v in zip(active, yin) if v > 0)
                raise ValueError(
                    f"organic inlet: its metals ({detail}) bind {bound:.4g} of the extractant "
                    f"but it carries only {fT:.4g} (unit of the model's free extractant, "
                    f"{model!r}); an organic loaded beyond its extractant capacity cannot "
                    "exist: lower its metal loading or saponification, or raise the extractant "
                    "concentration")
        z = coef["z"]
        G = traced[:, 2] + traced[:, 3:3 + S] @ z if uses_h else np.zeros(nst)
        return dict(
            arrays=dict(Lout=Lout, Lup=Lup, O=float(O), ext=ext, yin=yin, k0=coef["k0"],
                        kf=coef["kf"], kh=coef["kh"], kfh=coef["kfh"], sc=coef["sc"], z=z,
                        fT=float(fT), G=G, Ts=Ts, Ka=_ka2(), eta=self.efficiency.copy(),
                        use_h=bool(uses_h), use_f=bool(model.uses_f and np.any(coef["sc"] > 0))),
            ext_h=ext_h, active=active, inert=inert,
            inert_conc=np.ascontiguousarray(traced[:, 3 + S:]),
            ext_inert=ext_inert, chloride=chloride, flows=dict(F=F, Sc=Sc, St=St, O=O),
            organic=organic, org_conc=org_conc, aq_inlets=aq_inlets,
            temperature=feed.T_C)

    # ------------------------------------------------------------------ solve
    def solve(self, feed: Stream, organic: Stream, scrub: Stream | None = None,
              strip: Stream | None = None, method: str = "numba", tol: float = 1e-12,
              max_iter: int = 3000, raise_on_failure: bool = True,
              initial_guess=None) -> CascadeResult:
        """Solve the cascade at steady state.

        Parameters
        ----------
        feed : Stream
            Aqueous feed [L/h, mol/L], enters stage n.
        organic : Stream
            Organic entering stage 1 (fresh or recycled; any composition of modelled species).
        scrub : Stream, optional
            Aqueous scrub solution entering stage n+m (required when scrub > 0).
        strip : Stream, optional
            Aqueous strip acid entering the last stage (required when strip > 0).
        method : {'numba', 'reference'}
            Newton/block-Thomas numba kernel, or the scipy.optimize.root reference.
        tol : float
            Convergence tolerance on the scaled stage residual [-].
        max_iter : int
            Newton iterations of the solver's first attempts together (direct <= 40,
            pseudo-transient <= 220 and, resumed from its last state, <= 220 more, loading
            continuation <= 300); the fall-back's three attempts may each take what these
            left, together at most four times it, and a cold start's long pseudo-transient
            attempt, before the fall-back, adds at most 2,050 when max_iter >= 780. A cold
            start that all of these leave unsolved ends with continuations (sulfate,
            saponification, acid, organic flow), each leg with max_iter more
            (``docs/sx.md``, Solver, step 6).
        raise_on_failure : bool
            Raise ConvergenceError (default) rather than return ``converged=False``.
        initial_guess : CascadeResult or array (n_stages, S), optional
            Start of the Newton iteration (default: a cold start from the inlets). A
            :class:`CascadeResult` of a cascade of the same shape (same stage counts, same
            active species in the same order; converged or not) warm-starts from its aqueous
            concentrations x [mol/L] and its [H+] [mol/L], taken as logarithms and bounded to
            physical values: ``ln x`` to [ln(1e-300 mol/L), ln(XMAX_MOL_L)] (a zero
            concentration starts at the kernel's own floor) and ``ln [H+]`` to
            [ln(10^-PH_MAX), ln(HMAX_MOL_L)] (pH 7 to about -1.3). An array gives the aqueous
            concentrations [mol/L] of the active species only ([H+] then follows from the
            proton invariant).

        Returns
        -------
        CascadeResult
        """
        if method not in ("numba", "reference"):
            raise ValueError(f"method={method!r}; allowed: 'numba', 'reference'")
        if isinstance(tol, bool) or not (isinstance(tol, (int, float)) and 0 < tol < 1):
            raise ValueError(f"tol={tol!r} must be a number in (0, 1)")
        max_iter = _positive_int(max_iter, "max_iter", 1)
        asm = self._assemble(feed, organic, scrub, strip)
        a = asm["arrays"]
        nst, S = a["ext"].shape
        x0 = np.zeros((nst, S))
        lh0 = None
        if isinstance(initial_guess, CascadeResult):
            x0, lh0 = self._warm_start(initial_guess, asm)
        elif initial_guess is not None:
            x0 = np.ascontiguousarray(initial_guess, dtype=float)  # one compiled signature
            if x0.shape != (nst, S) or not np.all(np.isfinite(x0)) or np.any(x0 < 0):
                raise ValueError(f"initial_guess must be a CascadeResult or a finite, "
                                 f"non-negative array of shape {(nst, S)} (stages x species "
                                 f"{asm['active']})")
        excess = self._base_excess_note(asm)   # over-saponified? (diagnosis, once)
        last_note, last_refusal, o_min = "", "", math.nan   # (the last attempt's diagnosis)
        if method == "numba":
            status, it, res, wj, wi, x, y, h, f = K.solve_cascade(
                a["Lout"], a["Lup"], a["O"], a["ext"], a["yin"], a["k0"], a["kf"], a["kh"],
                a["kfh"], a["sc"], a["z"], a["fT"], a["G"], a["Ts"], a["Ka"], a["eta"],
                a["use_h"], a["use_f"], x0, float(tol), int(max_iter), N_PICARD, lh0,
                initial_guess is None and not excess)
            # the fall-back's budget leaves out the long pseudo-transient attempt (K.N_PRE)
            left = max_iter - min(it, K.N_PRE)
            # an over-saponified cascade takes the base arclength (solves the survey's
            # flagged cascades, often faster) before the fall-back; the others after it
            for attempt in (("last", "fallback") if excess else ("fallback", "last")):
                if status == K.OK:
                    break
                if attempt == "fallback" and (a["use_h"] or a["use_f"]) and left > 0:
                    from . import _fallback   # compiled only when a cascade first needs it
                    out = _fallback.solve_fallback(
                        a["Lout"], a["Lup"], a["O"], a["ext"], a["yin"], a["k0"], a["kf"],
                        a["kh"], a["kfh"], a["sc"], a["z"], a["fT"], a["G"], a["Ts"], a["Ka"],
                        a["eta"], a["use_h"], a["use_f"], x0, float(tol), int(left))
                    it += out[1]
                    if out[0] == K.OK or out[2] < res:
                        status, res, wj, wi, x, y, h, f = (out[0],) + tuple(out[2:])
                elif attempt == "last" and initial_guess is None:
                    cont, last_note, last_refusal, o_min = self._continue(asm, tol, max_iter,
                                                                          excess)
                    if cont is not None:
                        it += cont[1]
                        if cont[0] == K.OK:
                            status, res, wj, wi, x, y, h, f = (cont[0],) + tuple(cont[2:])
        else:
            from .reference import solve_reference
            status, it, res, wj, wi, x, y, h, f = solve_reference(a, asm["ext_h"], tol, max_iter)
        converged = status == K.OK
        names = list(asm["active"]) + ["H+"]  # row S of the kernel is the proton invariant
        failure = ""
        if converged and a["use_h"]:
            failure, jmax, pH_max = self._acidic_failure(asm, h)
            if failure:
                if raise_on_failure:
                    raise NoAcidicSteadyStateError(
                        failure, pH=pH_max, residual=float(res), stage=jmax + 1,
                        species="H+", iterations=int(it))
                converged = False
        note = "" if converged else excess + last_note
        if not converged and raise_on_failure:
            why = {K.MAXITER: "maximum iterations reached", K.SINGULAR: "singular Jacobian",
                   K.STALLED: "line search stalled"}.get(status, f"status {status}")
            # a continuation whose state turned alkaline, or whose organic flow ended where a
            # stage's extractant balance loses its root: the documented refusals; the
            # over-saponification diagnosis alone is none (most flagged cascades have an
            # acidic state): a failure, with the diagnosis in the message
            exc, extra = {"alkaline": (NoAcidicSteadyStateError, {}),
                          "capacity": (ExtractantCapacityError,
                                       {"organic_flow_min": o_min})}.get(
                last_refusal, (ConvergenceError, {}))
            raise exc(
                f"SX cascade did not converge ({why}, method={method}): scaled residual "
                f"{res:.3e} > tol {tol:.1e}, worst at stage {wj + 1}, species "
                f"{names[wi]!r}, after {it} iterations{note}",
                residual=float(res), stage=int(wj) + 1, species=names[wi],
                iterations=int(it), **extra)
        if not converged and not failure:
            failure = f"did not converge: residual {res:.3e}{note}"
        return self._audited(asm, x, y, h, f, converged, int(it), float(res), method,
                             raise_on_failure, failure)

    def _audited(self, asm, x, y, h, f, converged, it, res, method, raise_on_failure,
                 failure="", where="") -> CascadeResult:
        """The CascadeResult of a solve, its overall balances audited (``Cascade.solve`` and
        :func:`.batch.solve_batch`): a converged state whose overall balance misses
        ``MASS_TOL`` is refused by name (:meth:`_accumulation_note`): ConvergenceError, or
        with ``raise_on_failure`` False a result with converged False and the note as its
        ``failure``; one whose aqueous charge balance misses ``CHARGE_TOL`` raises
        ConvergenceError (an audit failure). ``where`` prefixes the messages (a batch
        item)."""
        balance = self._overall_balance(asm["arrays"], x, y)
        rel = balance[1]
        if converged and rel.size and not rel.max() <= MASS_TOL:   # (also NaN)
            failure, sp = D.accumulation_note(asm, x, y, *balance)
            if raise_on_failure:
                raise ConvergenceError(where + failure, residual=res, species=sp,
                                       iterations=it)
            converged = False
        out = self._result(asm, x, y, h, f, converged, it, res, method, balance)
        out.failure = failure
        if converged and not out.charge_balance_residual <= CHARGE_TOL:
            raise ConvergenceError(
                f"{where}SX cascade result rejected: the aqueous charge balance does not "
                f"close (relative imbalance {out.charge_balance_residual:.3e} > "
                f"{CHARGE_TOL:g})", residual=res, iterations=it)
        return out

    def _overall_balance(self, a, x, y) -> tuple:
        """(inflow [mol/h], |in - out| / in [-]) per active species of the whole cascade
        (kernel arrays ``a``; out: the raffinate, the organic leaving the last stage and the
        strip liquor; 0 for a species without inflow)."""
        nst, nm = self.n_stages, self.extraction + self.scrub
        O = a["O"]
        inflow = a["ext"].sum(axis=0) + O * a["yin"]
        out = (a["Lout"][0] * x[0] + O * y[nst - 1]
               + (a["Lout"][nm] * x[nm] if self.strip > 0 else 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(inflow > 0, np.abs(inflow - out) / np.where(inflow > 0, inflow, 1),
                           0.0)
        return inflow, rel

    def _accumulation_note(self, asm, x, y) -> tuple:
        """(why, species) of a result whose overall balance misses ``MASS_TOL``
        (:func:`._diagnosis.accumulation_note`)."""
        return D.accumulation_note(asm, x, y, *self._overall_balance(asm["arrays"], x, y))

    def _warm_start(self, prev: CascadeResult, asm) -> tuple:
        """(x0 [mol/L], ln [H+] per stage or None) from a previous result of a cascade of the
        same shape, bounded to physical values (see :meth:`solve`)."""
        raw = prev._raw
        nst = self.n_stages
        active = list(asm["active"])
        if not raw or raw["aq_arr"].shape[0] != nst or list(raw["active"]) != active:
            got = (raw["aq_arr"].shape[0], list(raw["active"])) if raw else (None, None)
            raise ValueError(
                f"initial_guess: a CascadeResult of {got[0]} stages with active species "
                f"{got[1]} cannot start this cascade ({nst} stages, active species {active}); "
                "give the result of a cascade of the same shape, or none (cold start)")
        x = np.asarray(raw["aq_arr"][:, :len(active)], dtype=float)
        if not np.all(np.isfinite(x)) or np.any(x < 0):
            raise ValueError("initial_guess: the CascadeResult holds non-finite or negative "
                             "concentrations")
        # bounds on ln x: a concentration above XMAX_MOL_L is no physical start, one below
        # 1e-300 mol/L (or zero) starts at the kernel's own floor for that species
        x0 = np.ascontiguousarray(np.where(x > 1e-300, np.minimum(x, XMAX_MOL_L), 0.0))
        lh0 = None
        if asm["arrays"]["use_h"] and raw["use_h"]:
            h = np.asarray(raw["h"], dtype=float)
            if np.all(np.isfinite(h)) and np.all(h > 0):
                lh0 = np.clip(np.log(h), math.log(10.0 ** -PH_MAX), math.log(HMAX_MOL_L))
        return x0, lh0

    def _acidic_failure(self, asm, h) -> tuple:
        """('', ...) when every stage is acidic, else (why, stage index, pH)
        (:func:`._diagnosis.acidic_failure`)."""
        return D.acidic_failure(asm, h, self.extraction + self.scrub)

    def _base_excess_note(self, asm) -> str:
        """The over-saponification diagnosis of a failed solve, '' where it does not apply
        (:func:`._diagnosis.base_excess_note`)."""
        return D.base_excess_note(asm, self.extraction + self.scrub)

    def _continue(self, asm, tol, max_iter, excess) -> tuple:
        """The last attempt for a cascade with [H+] that every other attempt left unsolved,
        and its diagnosis (:func:`._diagnosis.last_attempt`)."""
        return D.last_attempt(asm, tol, max_iter, excess, N_PICARD)

    # ------------------------------------------------------------------ results
    def _result(self, asm, x, y, h, f, converged, it, res, method, balance=None):
        """The CascadeResult of a state (``balance``: its :meth:`_overall_balance`, formed
        here when not given)."""
        a = asm["arrays"]
        n, m, k = self.extraction, self.scrub, self.strip
        nst = self.n_stages
        active, inert = asm["active"], asm["inert"]
        # aqueous profile: active species, inert tracers, then the acid species
        cols = list(active) + list(inert)
        blocks = [x, asm["inert_conc"]]
        Ts = a["Ts"]
        if a["use_h"]:
            cols.append("H+")
            blocks.append(h[:, None])
            if np.any(Ts > 0):
                hso4 = Ts * h / (h + a["Ka"])
                cols += ["HSO4-", "SO4-2"]
                blocks += [hso4[:, None], (Ts - hso4)[:, None]]
        aq_arr = np.hstack(blocks)
        raw = dict(aq_arr=aq_arr, cols=cols, y=y, active=list(active), h=h, f=f,
                   use_h=a["use_h"], use_f=a["use_f"], fT=a["fT"], k0=a["k0"], kf=a["kf"],
                   kh=a["kh"], kfh=a["kfh"])
        fl = asm["flows"]
        O = fl["O"]
        T = asm["temperature"]
        org_extra = {}
        ext_sp = self.model.extractant_species
        if ext_sp and ext_sp in asm["org_conc"]:
            org_extra[ext_sp] = asm["org_conc"][ext_sp]
        nact = len(active)
        org_names = list(active) + list(org_extra)
        org_fixed = np.array(list(org_extra.values()), dtype=float)

        def aq_stream(j, flow, name):
            row = aq_arr[j].copy()
            if a["use_h"]:
                # the stage's OH- (Kw/[H+], water's own) is not a Stream species: the outlet
                # carries the net free acid [H+] - [OH-], so it is electroneutral as the stage is
                row[cols.index("H+")] = h[j] - K.KW / h[j]
            keep = [c for c in range(len(cols))
                    if c < nact or row[c] > 0 or (a["use_h"] and cols[c] == "H+")]
            return Stream.from_conc_array("aqueous", flow, [cols[c] for c in keep], row[keep],
                                          T_C=T, name=name)

        def org_stream(j, name):
            return Stream.from_conc_array("organic", O, org_names,
                                          np.concatenate([y[j], org_fixed]), T_C=T, name=name)

        if converged:
            raff = aq_stream(0, fl["F"] + fl["Sc"], "raffinate")
            loaded = org_stream(n + m - 1, "loaded organic")
            liquor = aq_stream(n + m, fl["St"], "strip liquor") if k > 0 else None
            stripped = org_stream(nst - 1, "stripped organic") if k > 0 else None
        else:
            # a non-converged iterate is no steady state: no outlet Streams are made from it
            raff = loaded = liquor = stripped = None
        inflow, rel = balance or self._overall_balance(a, x, y)
        mb = float(np.max(rel)) if rel.size else 0.0
        inflow_d = {sp: float(inflow[i]) for i, sp in enumerate(active)}
        for i, sp in enumerate(inert):
            inflow_d[sp] = float(asm["ext_inert"][:, i].sum())
        basis = tuple(sp for sp in active if sp not in BASE_SPECIES)
        qres = math.nan
        if converged:
            # aqueous charge: inlets vs outlets (their H+ is net of the stage's OH-); a
            # constant-D model moves ions without stoichiometry, so its organic carries the
            # metals' charge
            q_in = q_thr = 0.0
            for st_ in asm["aq_inlets"]:
                q, t = _charge(st_.mol_h)
                q_in += q
                q_thr += t
            outs = [(raff, 0)] + ([(liquor, n + m)] if k > 0 else [])
            q_out = 0.0
            for st_, j in outs:
                q_out += _charge(st_.mol_h)[0]
            if not a["use_h"]:
                q_out += _charge({sp: O * y[nst - 1 if k > 0 else n + m - 1, i]
                                  for i, sp in enumerate(active)})[0]
                q_in += _charge({sp: O * a["yin"][i] for i, sp in enumerate(active)})[0]
            qres = abs(q_in - q_out) / q_thr if q_thr > 0 else 0.0
        return CascadeResult(
            raffinate=raff, loaded_organic=loaded, strip_liquor=liquor, stripped_organic=stripped,
            _raw=raw, converged=converged, iterations=it, residual=res, mass_balance_residual=mb,
            inert_species=tuple(inert), method=method,
            sections=dict(extraction=(1, n), scrub=(n + 1, n + m) if m else None,
                          strip=(n + m + 1, nst) if k else None),
            inflow_mol_h=inflow_d, basis_species=basis, charge_balance_residual=qres)
