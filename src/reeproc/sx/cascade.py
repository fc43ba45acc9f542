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

import functools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..species import get_species
from ..stream import Stream
from . import _kernels as K
from .models import EquilibriumModel, _ka2

__all__ = ["Cascade", "CascadeResult", "ConvergenceError", "NoAcidicSteadyStateError",
           "solve_batch"]

_ACID = ("H+", "HSO4-")
_SPECIAL = {"H+", "HSO4-", "SO4-2", "OH-"}
N_PICARD = 4  # frozen-D sweeps tried before Newton from a cold start (kept while they help)


class ConvergenceError(RuntimeError):
    """The cascade solver did not converge.

    Attributes
    ----------
    residual : float
        Largest scaled stage residual [-] (mol/h over the species' total inflow).
    stage : int
        Stage (1-based) where it is largest.
    species : str
        Species where it is largest.
    iterations : int
        Newton iterations done.
    """

    def __init__(self, message, residual=math.nan, stage=-1, species="", iterations=0):
        super().__init__(message)
        self.residual = residual
        self.stage = stage
        self.species = species
        self.iterations = iterations


class NoAcidicSteadyStateError(ConvergenceError):
    """The cascade's steady state would be alkaline ([OH-] > [H+] at some stage): more base
    (saponified extractant) reaches the aqueous phase than the inlets bring acid and
    extractable metal. The cation-exchange models are built for acidic solutions (rare-earth
    hydroxides precipitate in neutral to alkaline liquor), so such a state is refused.

    Attributes (besides those of ConvergenceError)
    ----------
    pH : float
        Highest stage pH of the refused state.
    """

    def __init__(self, message, pH=math.nan, **kw):
        super().__init__(message, **kw)
        self.pH = pH


#: Largest relative charge imbalance of the aqueous inlets vs outlets a result may carry.
CHARGE_TOL = 1e-8
#: Highest stage pH a pH-dependent model accepts: the neutral point [OH-] = [H+] (25 C).
PH_MAX = 7.0


@functools.lru_cache(maxsize=None)
def _aq_charge(name: str) -> float:
    """Formal charge [e] of an aqueous species (0 for pseudo-components without one)."""
    try:
        q = get_species(name, "aqueous").charge
    except ValueError:
        return 0.0
    return float(q) if q == q else 0.0


def _charge(mol_h: dict) -> tuple:
    """(net charge [eq/h], charge throughput sum |z| n [eq/h]) of molar flows [mol/h]."""
    net = thr = 0.0
    for sp, n in mol_h.items():
        q = _aq_charge(sp)
        net += q * n
        thr += abs(q) * n
    return net, thr


def _positive_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name}={value!r} must be an integer >= {minimum}")
    if value < minimum:
        raise ValueError(f"{name}={value} must be an integer >= {minimum}")
    return int(value)


def molar_purity(mol_h: dict, species, basis: tuple) -> float:
    """Molar purity [-] of ``species`` (a name or a list) among the ``basis`` species of a
    stream's molar flows ``mol_h`` [mol/h]; NaN when the basis flows sum to zero."""
    targets = [species] if isinstance(species, str) else list(species)
    for t in targets:
        if t not in basis:
            raise ValueError(f"species={t!r} is not in the purity basis {basis}")
    tot = sum(mol_h.get(s, 0.0) for s in basis)
    return float(sum(mol_h.get(s, 0.0) for s in targets) / tot) if tot > 0 else math.nan


@dataclass
class CascadeResult:
    """Result of :meth:`Cascade.solve`.

    Attributes
    ----------
    raffinate, loaded_organic : Stream or None
        Aqueous leaving stage 1; organic leaving the last scrub stage (n+m). None (like every
        outlet) when the solve did not converge and ``raise_on_failure=False`` was asked.
    strip_liquor, stripped_organic : Stream or None
        Aqueous leaving stage n+m+1 and organic leaving the last stage (strip section only).
    aqueous_profile, organic_profile : DataFrame
        Concentrations [mol/L], index = stage 1..N, one column per species.
    pH : Series
        pH per stage (-log10 [H+], concentration basis); NaN for pH-independent models.
    free_extractant : Series
        Free extractant per stage in the model's unit ([(HA)2] mol/L for MassAction, vol% for
        PhCorrelation); NaN for ConstantD.
    D_profile : DataFrame
        Equilibrium distribution ratio per stage and species [-].
    converged : bool
    iterations : int
    residual : float
        Largest scaled stage residual [-].
    mass_balance_residual : float
        Largest relative imbalance (in - out)/in over species of the whole cascade [-].
    charge_balance_residual : float
        |charge in - charge out| of the aqueous phase over the charge throughput
        sum |z| n of the aqueous inlets [-]: metals, H+, HSO4-, SO4-2, Cl- and every inert ion,
        with the OH- of each outlet ([OH-] = Kw/[H+], at most 1e-7 mol/L in the acidic states
        accepted, left to the water and not put into the outlet Streams) counted. The organic
        complexes are neutral, so this closes to rounding; a result above ``CHARGE_TOL``
        raises.
    failure : str
        Why the solve failed (empty when converged).
    inert_species : tuple
        Aqueous species the model does not extract (they pass with the aqueous phase).
    method : str
    """

    raffinate: Stream | None
    loaded_organic: Stream | None
    strip_liquor: Stream | None
    stripped_organic: Stream | None
    aqueous_profile: pd.DataFrame
    organic_profile: pd.DataFrame
    pH: pd.Series
    free_extractant: pd.Series
    D_profile: pd.DataFrame
    converged: bool
    iterations: int
    residual: float
    mass_balance_residual: float
    inert_species: tuple
    method: str
    sections: dict = field(default_factory=dict)
    inflow_mol_h: dict = field(default_factory=dict)
    basis_species: tuple = ()
    charge_balance_residual: float = math.nan
    failure: str = ""

    @property
    def outlets(self) -> dict:
        """Outlet streams by name (only those that exist; none when not converged)."""
        if not self.converged:
            return {}
        out = {"raffinate": self.raffinate, "loaded_organic": self.loaded_organic}
        if self.strip_liquor is not None:
            out["strip_liquor"] = self.strip_liquor
            out["stripped_organic"] = self.stripped_organic
        return out

    def _outlet(self, outlet):
        if not self.converged:
            raise ValueError(
                f"the cascade did not converge (scaled residual {self.residual:.3e} after "
                f"{self.iterations} iterations): it has no outlet streams; the profiles hold "
                "the last iterate for diagnosis only")
        outs = self.outlets
        if outlet not in outs:
            raise ValueError(f"outlet={outlet!r} is not an outlet of this cascade; "
                             f"allowed: {list(outs)}")
        return outs[outlet]

    def recovery(self, species: str, outlet: str) -> float:
        """Fraction [-] of the species' total inflow [mol/h] leaving in ``outlet``."""
        if species not in self.inflow_mol_h:
            raise ValueError(f"species={species!r} did not enter the cascade; "
                             f"entered: {sorted(self.inflow_mol_h)}")
        tot = self.inflow_mol_h[species]
        return self._outlet(outlet).mol_h.get(species, 0.0) / tot if tot > 0 else math.nan

    def purity(self, species, outlet: str, basis=None) -> float:
        """Molar purity [-] of ``species`` (str or list) among ``basis`` species in ``outlet``.

        The default basis is the extracted metals of the model (saponification Na excluded).
        """
        return molar_purity(self._outlet(outlet).mol_h, species,
                            tuple(basis) if basis is not None else self.basis_species)

    def recovery_table(self) -> pd.DataFrame:
        """Recovery [-] of each entering species (rows) in each outlet (columns)."""
        return pd.DataFrame({o: {s: self.recovery(s, o) for s in self.inflow_mol_h}
                             for o in self.outlets})

    def purity_table(self) -> pd.DataFrame:
        """Molar purity [-] of each basis species (rows) in each outlet (columns)."""
        return pd.DataFrame({o: {s: self.purity(s, o) for s in self.basis_species}
                             for o in self.outlets})


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
        eta = np.asarray(efficiency, dtype=float)
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

        def tracer(e):
            e2 = np.ascontiguousarray(e, dtype=float)
            c = K.aqueous_tracer(e2.reshape(nst, -1), Lup, Lout)
            return c.reshape(e2.shape)

        chloride = tracer(ext_cl)
        Ts = tracer(ext_t)
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
        G = tracer(ext_h + ext @ z) if uses_h else np.zeros(nst)
        return dict(
            arrays=dict(Lout=Lout, Lup=Lup, O=float(O), ext=ext, yin=yin, k0=coef["k0"],
                        kf=coef["kf"], kh=coef["kh"], kfh=coef["kfh"], sc=coef["sc"], z=z,
                        fT=float(fT), G=G, Ts=Ts, Ka=_ka2(), eta=self.efficiency.copy(),
                        use_h=bool(uses_h), use_f=bool(model.uses_f and np.any(coef["sc"] > 0))),
            ext_h=ext_h, active=active, inert=inert, inert_conc=tracer(ext_inert),
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
            Maximum Newton iterations.
        raise_on_failure : bool
            Raise ConvergenceError (default) rather than return ``converged=False``.
        initial_guess : array (n_stages, S), optional
            Aqueous concentrations [mol/L] of the active species to start from.

        Returns
        -------
        CascadeResult
        """
        if method not in ("numba", "reference"):
            raise ValueError(f"method={method!r}; allowed: 'numba', 'reference'")
        if not (isinstance(tol, (int, float)) and 0 < tol < 1):
            raise ValueError(f"tol={tol!r} must be a number in (0, 1)")
        asm = self._assemble(feed, organic, scrub, strip)
        a = asm["arrays"]
        nst, S = a["ext"].shape
        x0 = np.zeros((nst, S))
        if initial_guess is not None:
            x0 = np.array(initial_guess, dtype=float)
            if x0.shape != (nst, S) or not np.all(np.isfinite(x0)) or np.any(x0 < 0):
                raise ValueError(f"initial_guess must be a finite, non-negative array of shape "
                                 f"{(nst, S)} (stages x species {asm['active']})")
        if method == "numba":
            status, it, res, wj, wi, x, y, h, f = K.solve_cascade(
                a["Lout"], a["Lup"], a["O"], a["ext"], a["yin"], a["k0"], a["kf"], a["kh"],
                a["kfh"], a["sc"], a["z"], a["fT"], a["G"], a["Ts"], a["Ka"], a["eta"],
                a["use_h"], a["use_f"], x0, float(tol), int(max_iter), N_PICARD)
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
        if not converged and raise_on_failure:
            why = {K.MAXITER: "maximum iterations reached", K.SINGULAR: "singular Jacobian",
                   K.STALLED: "line search stalled"}.get(status, f"status {status}")
            # more base than acid + metal and no solution found: the documented refusal
            exc = NoAcidicSteadyStateError if self._base_excess_note(asm) else ConvergenceError
            raise exc(
                f"SX cascade did not converge ({why}, method={method}): scaled residual "
                f"{res:.3e} > tol {tol:.1e}, worst at stage {wj + 1}, species "
                f"{names[wi]!r}, after {it} iterations{self._base_excess_note(asm)}",
                residual=float(res), stage=int(wj) + 1, species=names[wi],
                iterations=int(it))
        if not converged and not failure:
            failure = f"did not converge: residual {res:.3e}{self._base_excess_note(asm)}"
        out = self._result(asm, x, y, h, f, converged, int(it), float(res), method)
        out.failure = failure
        if converged and not out.charge_balance_residual <= CHARGE_TOL:
            raise ConvergenceError(
                f"SX cascade result rejected: the aqueous charge balance does not close "
                f"(relative imbalance {out.charge_balance_residual:.3e} > {CHARGE_TOL:g})",
                residual=float(res), iterations=int(it))
        return out

    def _acidic_failure(self, asm, h) -> tuple:
        """('', ...) when every stage is acidic (pH <= PH_MAX), else (why, stage index, pH)."""
        jmax = int(np.argmin(h))
        pH_max = float(-np.log10(h[jmax]))
        if pH_max <= PH_MAX:
            return "", jmax, pH_max
        return (f"no acidic steady state: stage {jmax + 1} would reach pH {pH_max:.2f} "
                f"([OH-] = {K.KW / h[jmax]:.3g} mol/L > [H+]); the cation-exchange model is "
                f"built for acidic liquor (pH <= {PH_MAX:g}; rare-earth hydroxides precipitate "
                "above)" + (self._base_excess_note(asm) or
                            "; more base reaches the aqueous phase than the inlets bring acid "
                            "and extractable metal")), jmax, pH_max

    def _base_excess_note(self, asm) -> str:
        """Diagnosis for a failed solve: does the saponified organic bring more base than the
        loaded section's aqueous inlets bring acid and extractable metal?"""
        a = asm["arrays"]
        if not a["use_h"]:
            return ""
        nm = self.extraction + self.scrub
        z = a["z"]
        base = a["O"] * float(sum(z[i] * a["yin"][i] for i, sp in enumerate(asm["active"])
                                  if sp in ("Na", "NH4+")))
        if base <= 0:
            return ""
        acid = float(asm["ext_h"][:nm].sum())
        metal = float(sum(z[i] * a["ext"][:nm, i].sum() for i, sp in enumerate(asm["active"])
                          if sp not in ("Na", "NH4+")))
        if base <= acid + metal:
            return ""
        return (f"; the saponified organic brings {base:.4g} eq/h of base but the feed and "
                f"scrub bring only {acid:.4g} eq/h of acid and {metal:.4g} eq/h of extractable "
                "metal, so at steady state the raffinate would turn alkaline (rare-earth "
                "hydroxides precipitate), outside this model: lower the saponification or the "
                "organic flow, or raise the scrub acid")

    # ------------------------------------------------------------------ results
    def _result(self, asm, x, y, h, f, converged, it, res, method):
        a = asm["arrays"]
        n, m, k = self.extraction, self.scrub, self.strip
        nst = self.n_stages
        active, inert = asm["active"], asm["inert"]
        idx = pd.RangeIndex(1, nst + 1, name="stage")
        # aqueous profile: active species, inert tracers, then the acid species
        cols = list(active) + list(inert)
        blocks = [x, asm["inert_conc"]]
        Ts = a["Ts"]
        if a["use_h"]:
            cols.append("H+")
            blocks.append(h[:, None])
            pH = pd.Series(-np.log10(h), index=idx, name="pH")
            if np.any(Ts > 0):
                hso4 = Ts * h / (h + a["Ka"])
                cols += ["HSO4-", "SO4-2"]
                blocks += [hso4[:, None], (Ts - hso4)[:, None]]
        else:
            pH = pd.Series(np.nan, index=idx, name="pH")
        aq_arr = np.hstack(blocks)
        aq = pd.DataFrame(aq_arr, index=idx, columns=cols)
        org = pd.DataFrame(y, index=idx, columns=list(active))
        fser = pd.Series(f if a["use_f"] else np.nan, index=idx,
                         name="free_extractant")
        with np.errstate(divide="ignore", invalid="ignore"):
            lf = np.log10(f)[:, None] if a["use_f"] else np.log10(np.full((nst, 1), a["fT"]))
            ph = (-np.log10(h))[:, None] if a["use_h"] else np.zeros((nst, 1))
            fcol = (f[:, None] if a["use_f"] else np.full((nst, 1), a["fT"]))
            logD = a["k0"] + a["kf"] * lf + a["kh"] * ph + a["kfh"] * fcol * ph
        Dp = pd.DataFrame(10.0 ** logD, index=idx, columns=list(active))
        fl = asm["flows"]
        O = fl["O"]
        T = asm["temperature"]
        org_extra = {}
        ext_sp = self.model.extractant_species
        if ext_sp and ext_sp in asm["org_conc"]:
            org_extra[ext_sp] = asm["org_conc"][ext_sp]
        active_set = set(active)

        def aq_stream(j, flow, name):
            conc = {sp: float(v) for sp, v in zip(cols, aq_arr[j]) if v > 0 or sp in active_set}
            return Stream.aqueous(flow, conc, T_C=T, name=name)

        def org_stream(j, name):
            conc = {sp: float(y[j, i]) for i, sp in enumerate(active)}
            conc.update(org_extra)
            return Stream.organic(O, conc, T_C=T, name=name)

        if converged:
            raff = aq_stream(0, fl["F"] + fl["Sc"], "raffinate")
            loaded = org_stream(n + m - 1, "loaded organic")
            liquor = aq_stream(n + m, fl["St"], "strip liquor") if k > 0 else None
            stripped = org_stream(nst - 1, "stripped organic") if k > 0 else None
        else:
            # a non-converged iterate is no steady state: no outlet Streams are made from it
            raff = loaded = liquor = stripped = None
        # overall balance per active species
        inflow = a["ext"].sum(axis=0) + O * a["yin"]
        out = (a["Lout"][0] * x[0] + O * y[nst - 1]
               + (a["Lout"][n + m] * x[n + m] if k > 0 else 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(inflow > 0, np.abs(inflow - out) / np.where(inflow > 0, inflow, 1),
                           0.0)
        mb = float(np.max(rel)) if rel.size else 0.0
        inflow_d = {sp: float(inflow[i]) for i, sp in enumerate(active)}
        for i, sp in enumerate(inert):
            inflow_d[sp] = float(asm["ext_inert"][:, i].sum())
        basis = tuple(sp for sp in active if sp not in ("Na", "NH4+"))
        qres = math.nan
        if converged:
            # aqueous charge: inlets vs outlets (+ the OH- left to the water); a constant-D model
            # moves ions without stoichiometry, so its organic carries the metals' charge
            q_in = q_thr = 0.0
            for st_ in asm["aq_inlets"]:
                q, t = _charge(st_.mol_h)
                q_in += q
                q_thr += t
            outs = [(raff, 0)] + ([(liquor, n + m)] if k > 0 else [])
            q_out = 0.0
            for st_, j in outs:
                q_out += _charge(st_.mol_h)[0]
                if a["use_h"]:
                    q_out -= K.KW / h[j] * st_.flow_L_h
            if not a["use_h"]:
                org_out = stripped if k > 0 else loaded
                q_out += _charge({sp: O * y[nst - 1 if k > 0 else n + m - 1, i]
                                  for i, sp in enumerate(active)})[0]
                q_in += _charge({sp: O * a["yin"][i] for i, sp in enumerate(active)})[0]
            qres = abs(q_in - q_out) / q_thr if q_thr > 0 else 0.0
        return CascadeResult(
            raffinate=raff, loaded_organic=loaded, strip_liquor=liquor, stripped_organic=stripped,
            aqueous_profile=aq, organic_profile=org, pH=pH, free_extractant=fser, D_profile=Dp,
            converged=converged, iterations=it, residual=res, mass_balance_residual=mb,
            inert_species=tuple(inert), method=method,
            sections=dict(extraction=(1, n), scrub=(n + 1, n + m) if m else None,
                          strip=(n + m + 1, nst) if k else None),
            inflow_mol_h=inflow_d, basis_species=basis, charge_balance_residual=qres)


def pack_batch(arrays: list, nst: np.ndarray) -> tuple:
    """Kernel inputs of many assembled cascades, padded along the stage axis to the longest.

    ``arrays`` holds each cascade's ``_assemble(...)["arrays"]``; ``nst`` (B,) their stage
    counts. Returns the leading arguments of :func:`_kernels.solve_batch_kernel` (nst through
    use_f). Padding stages carry unit aqueous flow and no inflow; the kernel never reads them.
    """
    B, nmax = len(arrays), int(nst.max())
    S = arrays[0]["ext"].shape[1]
    Lout = np.ones((B, nmax)); Lup = np.zeros((B, nmax)); G = np.zeros((B, nmax))
    Ts = np.zeros((B, nmax)); eta = np.ones((B, nmax))
    ext = np.zeros((B, nmax, S)); k0 = np.zeros((B, nmax, S))
    O = np.zeros(B); fT = np.zeros(B)
    yin = np.zeros((B, S)); kf = np.zeros((B, S)); kh = np.zeros((B, S)); kfh = np.zeros((B, S))
    sc = np.zeros((B, S)); z = np.zeros((B, S))
    use_h = np.zeros(B, dtype=np.bool_); use_f = np.zeros(B, dtype=np.bool_)
    for b, a in enumerate(arrays):
        n = nst[b]
        Lout[b, :n] = a["Lout"]; Lup[b, :n] = a["Lup"]; G[b, :n] = a["G"]; Ts[b, :n] = a["Ts"]
        eta[b, :n] = a["eta"]; ext[b, :n] = a["ext"]; k0[b, :n] = a["k0"]
        O[b] = a["O"]; fT[b] = a["fT"]; yin[b] = a["yin"]; kf[b] = a["kf"]; kh[b] = a["kh"]
        kfh[b] = a["kfh"]; sc[b] = a["sc"]; z[b] = a["z"]
        use_h[b] = a["use_h"]; use_f[b] = a["use_f"]
    return (nst, Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, arrays[0]["Ka"],
            eta, use_h, use_f)


def solve_batch(jobs, tol: float = 1e-12, max_iter: int = 3000, raise_on_failure: bool = True):
    """Solve many cascades in one call (numba ``prange`` over cascades).

    Parameters
    ----------
    jobs : list of (Cascade, dict)
        Each dict holds the keyword arguments of :meth:`Cascade.solve` (feed, organic, scrub,
        strip). Cascades may differ in stage counts, flows, feeds and models, but must extract
        the same ordered list of active species.

    Returns
    -------
    list of CascadeResult
    """
    if not jobs:
        raise ValueError("jobs must be a non-empty list of (Cascade, kwargs)")
    asms = []
    for jb in jobs:
        try:
            cas, kw = jb
        except (TypeError, ValueError):
            raise ValueError(f"each job must be a (Cascade, dict) pair, got {jb!r}") from None
        kw = dict(kw)
        asms.append((cas, cas._assemble(kw.get("feed"), kw.get("organic"), kw.get("scrub"),
                                        kw.get("strip"))))
    species = asms[0][1]["active"]
    for cas, asm in asms:
        if asm["active"] != species:
            raise ValueError(f"all jobs must extract the same species; got {asm['active']} "
                             f"and {species}")
    nst = np.array([c.n_stages for c, _ in asms], dtype=np.int64)
    status, iters, resid, X, Y, H, Fr = K.solve_batch_kernel(
        *pack_batch([asm["arrays"] for _, asm in asms], nst), float(tol), int(max_iter), 1, 0)
    out = []
    for b, (cas, asm) in enumerate(asms):
        n = cas.n_stages
        ok = status[b] == K.OK
        why = ""
        if ok and asm["arrays"]["use_h"]:
            why = cas._acidic_failure(asm, H[b, :n])[0]
            ok = not why
        if why and raise_on_failure:
            raise NoAcidicSteadyStateError(f"batch item {b} ({cas!r}): {why}",
                                           residual=float(resid[b]), iterations=int(iters[b]))
        if not ok and raise_on_failure:
            raise ConvergenceError(
                f"batch item {b} ({cas!r}) did not converge: scaled residual {resid[b]:.3e}, "
                f"{iters[b]} iterations (re-solve it alone with Cascade.solve for the worst "
                "stage and species)", residual=float(resid[b]), iterations=int(iters[b]))
        out.append(cas._result(asm, X[b, :n].copy(), Y[b, :n].copy(), H[b, :n].copy(),
                               Fr[b, :n].copy(), bool(ok), int(iters[b]), float(resid[b]),
                               "numba-batch"))
    return out
