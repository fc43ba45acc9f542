"""SX cascades and organic conditioning as flowsheet units.

:class:`SXCircuit` puts a :class:`reeproc.sx.Cascade` on the flowsheet. It adds what the flowsheet
needs on top of the cascade solution:

* **element bookkeeping of the extractant.** In the flowsheet an organic stream carries the free
  extractant in its acid form (``PC88A``, formula HA) and the extractant bound to metals and Na in
  its anion form (``PC88A-``, formula A-): a metal of charge z that loads takes z A- and releases z
  H+ to the aqueous phase, so the H (and every other) element balance closes across the cascade.
  The cascade itself works with the total extractant; the circuit splits it again on the outlets.
* **warm starts** from the previous solution, which makes recycle iterations cheap;
* outlet ports that depend on the sections: without a strip section the loaded organic leaves;
  with one, the strip liquor and the stripped organic leave instead.

* **saponification as a reagent.** A :class:`~reeproc.sx.MassAction` model with
  ``saponification=s`` feeds stage 1 with a fraction ``s`` of the extractant in the Na form. The
  circuit makes that organic itself: it doses NaOH solution (a reagent stream, costed as ``NaOH``)
  to the organic inlet (HA + NaOH -> NaA + H2O) and sends the solution water and the water of
  neutralisation out through the extra outlet ``saponification_water``; the Na leaves where the
  cascade sends it (raffinate, strip liquor). Nothing enters that is not an inlet or a reagent.
* **its own audit.** Every run closes the element and the charge balance over the circuit
  (inlets + dosed base = outlets) to ``BALANCE_RTOL`` and raises otherwise.

:class:`Saponifier` neutralises part of an organic's free extractant with a base before it
returns to the extraction section, as a separate unit (HA + NaOH -> NaA + H2O, or
HA + NH3 -> NH4A): use it with a model that lists ``Na`` (or ``NH4+``) among its species and has
``saponification=0``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..species import get_species, molar_mass
from ..stream import Stream, mix
from ..units._balance import (BALANCE_RTOL, assert_closed, charge_balance, check_number,
                              element_balance)
from ..units._common import water_mol_per_L

__all__ = ["SXCircuit", "SXCircuitResult", "Saponifier", "SaponifierResult", "SAPONIFYING_BASES"]

#: Bases a saponifier doses: reagent name (property_data/reagents.csv) -> (organic cation it leaves
#: on the extractant, aqueous species of the dosing solution, water formed per mol of base).
SAPONIFYING_BASES = {"NaOH": ("Na", {"Na": 1.0, "OH-": 1.0}, 1.0),
                     "NH3": ("NH4+", {"NH3": 1.0}, 0.0)}


def _base_dose(dose_mol_h: float, base: str, conc_mol_L: float, T_C: float):
    """Dosing solution for ``dose_mol_h`` [mol/h] of base and the water it leaves behind.

    Returns (base solution Stream [L/h], spent water Stream [L/h], reagent kg/h dict): the
    solution carries the base at ``conc_mol_L`` in water; after HA + NaOH -> NaA + H2O (or
    HA + NH3 -> NH4A) its water, plus the water of neutralisation, leaves as an aqueous stream.
    """
    _, solutes, water_formed = SAPONIFYING_BASES[base]
    vol = dose_mol_h / conc_mol_L
    w = water_mol_per_L()
    conc = {sp: k * conc_mol_L for sp, k in solutes.items()}
    conc["H2O"] = w
    solution = Stream.aqueous(vol, conc, T_C=T_C, name=f"{base} solution")
    spent = Stream.from_mol_h("aqueous", {"H2O": vol * w + water_formed * dose_mol_h}, vol,
                              T_C, "saponification water")
    return solution, spent, {base: dose_mol_h * molar_mass(base) / 1000.0}


#: warm-start store shared by circuits with a ``warm_key`` (profile DataFrames by key): the last
#: converged profile, and the first one (the fall-back when a start from the last fails)
_WARM: dict = {}
_WARM_FIRST: dict = {}


#: shares of the saponifying cation the homotopy of SXCircuit._cold may start from, in order
HOMOTOPY_STARTS = (0.0, 0.5, 0.25, 0.75)


def _aq_charge(sp: str) -> int:
    """Charge of an aqueous species (species.csv)."""
    return get_species(sp, "aqueous").charge


def _charge(sp: str) -> int:
    """Charge of an organic species (a bound metal carries its cation charge, species.csv)."""
    return get_species(sp, "organic").charge


@dataclass
class SXCircuitResult:
    """Outcome of one :class:`SXCircuit` run.

    Attributes
    ----------
    outlets : dict
        Port -> Stream.
    cascade : reeproc.sx.CascadeResult
        Stage profiles, pH, free extractant, iterations, residuals.
    balance : pandas.DataFrame
        Element balance of the circuit (in/out [mol/h], relative closure).
    charge_balance : pandas.DataFrame
        Charge balance of the circuit (net charge in/out [eq/h], relative closure).
    reagent_streams : list
        The base solution dosed for saponification (empty without).
    reagents_kg_h : dict
        Base consumption by reagent name [kg/h] (``{"NaOH": ...}``; empty without).
    """

    outlets: dict
    cascade: object = field(repr=False)
    balance: pd.DataFrame = field(repr=False)
    charge_balance: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    reagent_streams: list = field(default_factory=list)
    reagents_kg_h: dict = field(default_factory=dict)

    def __getattr__(self, item):
        d = self.__dict__
        if item in d.get("outlets", {}):
            return d["outlets"][item]
        casc = d.get("cascade")
        if casc is not None and hasattr(casc, item):
            return getattr(casc, item)
        raise AttributeError(item)

    def table(self) -> pd.DataFrame:
        """Purity and recovery of each species at each outlet."""
        return self.cascade.purity_table()


class SXCircuit:
    """A counter-current SX cascade as a flowsheet unit.

    Parameters
    ----------
    cascade : reeproc.sx.Cascade
        Stage counts, equilibrium model and efficiencies.
    method : {'numba', 'reference'}
        Cascade solver.
    tol : float
        Cascade tolerance on the scaled stage residual [-].
    max_iter : int
        Newton iteration limit of one cascade solve.
    warm_start : bool
        Start each solve from the previous converged profile when the species match.
    trace_floor : float
        Relative trace floor [-] (0 switches it off). A modelled metal whose inlet flow (all
        inlets) is below ``trace_floor`` times the metal flow of the inlets is not put through
        the cascade: a deep trace (1e-13 mol/h of Dy reaching a Pr/Nd circuit) with a
        distribution ratio of 1e4 can stall the Newton solve from a cold start. It is routed
        instead, whole, to the aqueous outlets in the proportions the cascade gave the bulk
        metal of nearest log10 Kex with the same charge (so element and charge balances stay
        exact); ``SXCircuitResult.traces`` lists what was routed. A mass-action model only.
    warm_key : str, optional
        Key of a process-wide store of converged profiles: a new circuit with the same key
        (the same circuit of a flowsheet built again, e.g. by a sweep or a second ``run``)
        starts warm from the last profile stored under it (a start only: the solve itself is
        the same, to the same tolerance).
    bypass : sequence of str
        Metals the circuit's design takes as not extracted (a flowsheet decision, e.g. Co, Cu,
        Al at pH < 2 in a Pr/Nd circuit, pH50 2.8-4.5): routed whole to the raffinate, like
        the traces; ``traces`` lists them too.
    base_conc_mol_L : float
        NaOH concentration of the saponification solution [mol/L], 0 < c <= 19 (a design
        choice; 19 mol/L is 50 wt% caustic). Used only when the model saponifies.

    Notes
    -----
    With a saponifying model the outlets gain ``saponification_water`` (the NaOH solution water
    and the water of neutralisation [L/h]); the NaOH dosed is ``s * C_HA * O`` [mol/h] for
    saponification ``s``, extractant ``C_HA`` [mol/L] and organic flow ``O`` [L/h].
    """

    def __init__(self, cascade, method: str = "numba", tol: float = 1e-11, max_iter: int = 3000,
                 warm_start: bool = True, base_conc_mol_L: float = 10.0,
                 trace_floor: float = 0.0, bypass=(), warm_key: str | None = None):
        self.cascade = cascade
        self.warm_key = warm_key
        self.bypass = tuple(bypass)
        self.trace_floor = check_number(trace_floor, "SXCircuit trace_floor", 0.0, 1e-3,
                                        unit="-")
        self._reduced = {}
        self.method = method
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.base_conc_mol_L = check_number(base_conc_mol_L, "SXCircuit base_conc_mol_L", 0.0,
                                            19.0, lo_open=True, unit="mol/L")
        self._last = _WARM.get(warm_key) if warm_key else None

    @property
    def saponifies(self) -> bool:
        """True when the cascade's model feeds stage 1 with Na-form extractant."""
        return float(getattr(self.cascade.model, "saponification", 0.0) or 0.0) > 0.0

    @property
    def inlets(self):
        ports = ["feed", "organic"]
        if self.cascade.scrub:
            ports.append("scrub")
        if self.cascade.strip:
            ports.append("strip")
        return tuple(ports)

    @property
    def outlets(self):
        ports = (("raffinate", "strip_liquor", "stripped_organic") if self.cascade.strip
                 else ("raffinate", "loaded_organic"))
        return ports + (("saponification_water",) if self.saponifies else ())

    def _extractant(self):
        return getattr(self.cascade.model, "extractant_species", None)

    def _check_organic(self, organic: Stream) -> None:
        """Refuse an organic whose bound cations are not balanced by extractant anions."""
        q, ionic = organic.charge_eq_h(), organic.ionic_eq_h()
        if abs(q) > 1e-10 * ionic:
            ext = self._extractant() or "extractant"
            raise ValueError(
                f"SX circuit: organic inlet {organic.name!r} is not electroneutral: its bound "
                f"cations carry {ionic + q / 2:.6g} eq/h but its anions ('{ext}-') only "
                f"{ionic - q / 2:.6g} eq/h; give a loaded organic as free extractant '{ext}', "
                f"anion '{ext}-' (one per unit of cation charge) and the metals, as the circuit's "
                "own organic outlets are")

    def _to_cascade_organic(self, organic: Stream):
        """Organic for the cascade: bound anion and free acid merged into the total extractant."""
        ext = self._extractant()
        mol = organic.mol_h
        if ext:
            anion = f"{ext}-"
            total = mol.pop(ext, 0.0) + mol.pop(anion, 0.0)
            mol[ext] = total
        return Stream.from_mol_h("organic", mol, organic.flow_L_h, organic.T_C, organic.name)

    def _to_flowsheet_organic(self, organic: Stream, name: str) -> Stream:
        ext = self._extractant()
        mol = organic.mol_h
        if ext and ext in mol:
            bound = sum(_charge(sp) * n for sp, n in mol.items() if sp != ext)
            total = mol[ext]
            if bound > total * (1 + 1e-12):
                raise RuntimeError(
                    f"SX circuit: organic '{name}' binds {bound:.6g} mol/h of {ext} anion but "
                    f"carries only {total:.6g} mol/h of extractant (overloaded organic)")
            mol[ext] = max(total - bound, 0.0)
            mol[f"{ext}-"] = bound
        return Stream.from_mol_h("organic", mol, organic.flow_L_h, organic.T_C, name)

    def run(self, feed: Stream, organic: Stream, scrub: Stream | None = None,
            strip: Stream | None = None) -> SXCircuitResult:
        """Solve the cascade for the given inlets; raises ``reeproc.sx.ConvergenceError`` when it
        does not converge and ``ConservationError`` when the circuit's element or charge balance
        misses ``BALANCE_RTOL``."""
        self._check_organic(organic)
        if self.saponifies:
            carried = [sp for sp in ("Na", "NH4+") if organic.n(sp) > 0]
            if carried:
                raise ValueError(
                    f"SX circuit: the organic inlet already carries {carried} and the model "
                    f"saponifies it again (saponification={self.cascade.model.saponification}): "
                    "use saponification=0 with a Saponifier upstream, or a fresh organic")
        org_c = self._to_cascade_organic(organic)
        cascade, traces, org_c_full = self.cascade, {}, org_c
        if self.trace_floor > 0.0 or self.bypass:
            cascade, traces, feed_c, org_c, scrub_c, anions = self._without_traces(feed, org_c,
                                                                                  scrub)
        else:
            feed_c, scrub_c = feed, scrub
        guess = None
        if self.warm_start and self._last is not None:
            guess = self._guess(cascade, feed_c, org_c, scrub_c, strip)
        kw = dict(feed=feed_c, organic=org_c, scrub=scrub_c, strip=strip, method=self.method,
                  tol=self.tol, max_iter=self.max_iter)
        try:
            res = cascade.solve(initial_guess=guess, **kw)
        except ValueError:
            if guess is None:
                raise
            res = self._cold(cascade, kw)  # species set changed: cold start
        except RuntimeError:
            if guess is None:
                res = self._cold(cascade, kw, first_failed=True)
            else:
                res = self._from_first(cascade, kw, feed_c, org_c, scrub_c, strip)
        active = [c for c in res.organic_profile.columns]
        self._last = res.aqueous_profile[active].copy()
        if self.warm_key:
            _WARM[self.warm_key] = self._last
            _WARM_FIRST.setdefault(self.warm_key, self._last)
        outs = {"raffinate": res.raffinate.copy(name="raffinate")}
        if self.cascade.strip:
            outs["strip_liquor"] = res.strip_liquor.copy(name="strip_liquor")
        if traces:
            outs = self._route_traces(outs, res, traces, org_c_full, anions)
        if self.cascade.strip:
            outs["stripped_organic"] = self._to_flowsheet_organic(res.stripped_organic, "stripped_organic")
        else:
            outs["loaded_organic"] = self._to_flowsheet_organic(res.loaded_organic, "loaded_organic")
        reagent_streams, reagents = [], {}
        if self.saponifies:
            # the Na-form extractant the model puts on the organic entering stage 1 [mol/h]
            add = self.cascade.model.organic_additions(org_c.conc_mol_L)
            spent_water = []
            for base, (cation, _, _) in SAPONIFYING_BASES.items():
                if add.get(cation, 0.0) > 0.0:
                    solution, spent, kg = _base_dose(add[cation] * organic.flow_L_h, base,
                                                     self.base_conc_mol_L, organic.T_C)
                    reagent_streams.append(solution)
                    spent_water.append(spent)
                    reagents.update(kg)
            outs["saponification_water"] = (mix(*spent_water, name="saponification water")
                                             if spent_water else
                                             Stream.aqueous(0.0, {}, name="saponification water"))
        ins = [s for s in (feed, organic, scrub, strip) if s is not None] + reagent_streams
        bal = element_balance(ins, list(outs.values()))
        charge = charge_balance(ins, list(outs.values()))
        if float(charge["relative closure [-]"].iloc[0]) > BALANCE_RTOL:
            self._refuse_alkaline(res, feed, scrub, organic.flow_L_h, reagent_streams)
        assert_closed(bal, "SX circuit", charge=charge)
        out = SXCircuitResult(outs, res, bal, charge, reagent_streams, reagents)
        out.__dict__["traces"] = traces
        return out

    def _guess(self, cascade, feed, organic, scrub, strip):
        """The last converged aqueous profile [mol/L] laid out for this call's active species
        (the cascade's order: its model's species present in an inlet); a species new to the
        circuit starts at zero, one that left is dropped."""
        model = cascade.model
        aq = [s for s in (feed, scrub, strip) if s is not None]
        add = model.organic_additions(organic.conc_mol_L)
        active = [sp for sp in model.species if any(s.mol_h.get(sp, 0.0) > 0 for s in aq)
                  or organic.conc_mol_L.get(sp, 0.0) > 0 or add.get(sp, 0.0) > 0]
        last = self._last
        if len(last) != cascade.n_stages:
            return None
        cols = [last[sp].to_numpy() if sp in last.columns else np.zeros(len(last))
                for sp in active]
        return np.ascontiguousarray(np.column_stack(cols), dtype=float) if cols else None

    def _from_first(self, cascade, kw, feed, organic, scrub, strip):
        """After a failed warm start: start from the first profile stored under ``warm_key``
        (if any, and different), then cold (:meth:`_cold`)."""
        first = _WARM_FIRST.get(self.warm_key) if self.warm_key else None
        if first is not None and first is not self._last:
            last, self._last = self._last, first
            try:
                guess = self._guess(cascade, feed, organic, scrub, strip)
                if guess is not None:
                    return cascade.solve(initial_guess=guess, **kw)
            except (RuntimeError, ValueError):  # ConvergenceError included: cold start below
                pass
            finally:
                self._last = last
        return self._cold(cascade, kw)

    #: smallest step of the cold-start homotopy in the organic's Na (NH4+) form [-]
    HOMOTOPY_MIN_STEP = 1e-3

    def _cold(self, cascade, kw, first_failed=False):
        """Cold-start solve; when it fails and the organic inlet carries a saponified (Na or
        NH4+) extractant, a homotopy: the bound cation is brought in by adaptive steps (a
        failed step is cut to a quarter, down to ``HOMOTOPY_MIN_STEP``), each solve
        warm-started from the last, the last step being the problem itself. It starts from the
        first of 0, 1/2, 1/4 and 3/4 of the cation that solves cold (the unsaponified cascade
        need not: SX2 on the industrial_motor_NiCuNi feed stalls at 0 and solves at 1/4)."""
        if not first_failed:
            try:
                return cascade.solve(**kw)
            except RuntimeError:  # ConvergenceError included: the homotopy below
                pass
        org = kw["organic"]
        cations = [sp for sp in ("Na", "NH4+") if org.n(sp) > 0]
        if not cations:
            return cascade.solve(**kw)  # raises the cascade's own error
        def at(lam, guess):
            mol = org.mol_h
            for sp in cations:
                mol[sp] *= lam
            step = Stream.from_mol_h("organic", mol, org.flow_L_h, org.T_C, org.name)
            return cascade.solve(**{**kw, "organic": step}, initial_guess=guess)

        res = lam = None
        for start in HOMOTOPY_STARTS:
            try:
                res, lam = at(start, None), start
                break
            except RuntimeError:  # ConvergenceError included: the next start
                continue
        if res is None:
            return cascade.solve(**kw)  # raises the cascade's own error
        step = 0.25
        while lam < 1.0:
            target = min(1.0, lam + step)
            guess = res.aqueous_profile[list(res.organic_profile.columns)].to_numpy(copy=True)
            try:
                res, lam = at(target, guess), target
                step *= 1.5
            except RuntimeError:  # ConvergenceError included
                step /= 4.0
                if step < self.HOMOTOPY_MIN_STEP:
                    return cascade.solve(**kw)  # raises the cascade's own error
        return res

    def _without_traces(self, feed, organic, scrub):
        """(cascade, {trace: mol/h}, feed, organic, scrub, {anion: mol/h}) with the deep traces
        taken out. A trace leaves an aqueous inlet with its share of the inlet's anions (z
        equivalents per mol), so the cascade's inlets stay electroneutral: a cascade given a
        charge deficit closes its proton balance on it, and the charge it makes up (up to
        ~1e-9 of the circuit's ionic flow) would fail the circuit's charge audit."""
        model = self.cascade.model
        inlets = [s for s in (feed, organic, scrub) if s is not None]
        metals = [sp for sp in model.species if sp not in ("Na", "NH4+")]
        flow = {sp: sum(s.mol_h.get(sp, 0.0) for s in inlets) for sp in metals}
        total = sum(flow.values())
        traces = {sp: n for sp, n in flow.items()
                  if n < self.trace_floor * total or (sp in self.bypass and n > 0)}
        if not traces or len(traces) == len(metals):
            return self.cascade, {}, feed, organic, scrub, {}
        keep = tuple(sp for sp in model.species if sp not in traces)
        key = (keep, model.saponification)
        if key not in self._reduced:
            red = type(model)(model.extractant, concentration_mol_L=model.concentration,
                              species=list(keep), saponification=model.saponification,
                              chloride_complexation=model.chloride_complexation,
                              kex_override={k: v for k, v in model.kex_override.items()
                                            if k in keep})
            c = self.cascade
            from ..sx import Cascade

            self._reduced = {key: Cascade(red, c.extraction, c.scrub, c.strip, c.efficiency)}
        anions: dict = {}

        def strip_(s):
            if s is None:
                return None
            mol = {sp: n for sp, n in s.mol_h.items() if sp not in traces}
            if s.phase == "aqueous":
                eq = sum(_aq_charge(sp) * n for sp, n in s.mol_h.items()
                         if sp in traces and n > 0)
                neg = {sp: n for sp, n in mol.items() if n > 0 and _aq_charge(sp) < 0}
                total = sum(-_aq_charge(sp) * n for sp, n in neg.items())
                if eq > 0 and total > 0:
                    for sp, n in neg.items():
                        take = n * eq / total
                        mol[sp] = n - take
                        anions[sp] = anions.get(sp, 0.0) + take
            return Stream.from_mol_h(s.phase, mol, s.flow_L_h, s.T_C, s.name)
        return (self._reduced[key], traces, strip_(feed), strip_(organic), strip_(scrub),
                anions)

    def _route_traces(self, outs, res, traces, organic, anions):
        """Put each bypassed trace into the aqueous outlets as the cascade split the bulk metal
        of nearest log10 Kex and same charge (all of it to the raffinate if none). The part a
        trace brought on the organic inlet leaves the organic as z HA: the aqueous outlet that
        takes it gives up z H+ (M(org) + z H+ -> M + z HA(org)), so H and charge balance. The
        anions taken out with the aqueous traces (``anions``) stay in the raffinate."""
        kex = self.cascade.model.kex
        bulk = [sp for sp in res.organic_profile.columns if sp not in traces
                and sp not in ("Na", "NH4+") and sp in kex]
        ports = [p for p in ("raffinate", "strip_liquor") if p in outs]
        add = {p: {} for p in ports}
        for sp, n in traces.items():
            if sp in self.bypass:
                add["raffinate"][sp] = n
                continue
            same = [b for b in bulk if _aq_charge(b) == _aq_charge(sp)] or bulk
            if not same:
                add["raffinate"][sp] = n
                continue
            near = min(same, key=lambda b: abs(kex[b][0] - kex[sp][0]))
            rec = {p: res.recovery(near, p) for p in ports}
            rec = {p: (v if math.isfinite(v) else 0.0) for p, v in rec.items()}
            tot = sum(rec.values())
            for p in ports:
                add[p][sp] = n * (rec[p] / tot if tot > 0 else (1.0 if p == "raffinate" else 0.0))
        # charge: a trace the aqueous phase brought and another aqueous outlet takes was
        # (in effect) loaded, releasing z H+ to the raffinate, and stripped, taking z H+ there;
        # one the organic brought takes z H+ from the outlet it leaves in
        dH = {p: 0.0 for p in ports}
        for p in ports:
            for sp, n in add[p].items():
                tot = traces[sp]
                if tot <= 0.0:
                    continue
                z = _aq_charge(sp)
                n_org = organic.mol_h.get(sp, 0.0) * n / tot
                dH[p] -= z * n_org
                if p != "raffinate":
                    dH[p] -= z * (n - n_org)
                    dH["raffinate"] += z * (n - n_org)
        for sp, n in anions.items():
            add["raffinate"][sp] = add["raffinate"].get(sp, 0.0) + n
        for p in ports:
            s = outs[p]
            mol = s.mol_h
            for sp, n in add[p].items():
                mol[sp] = mol.get(sp, 0.0) + n
            mol["H+"] = mol.get("H+", 0.0) + dH[p]
            outs[p] = Stream.from_mol_h("aqueous", mol, s.flow_L_h, s.T_C, s.name)
        return outs

    def _refuse_alkaline(self, res, feed, scrub, organic_L_h, base_streams) -> None:
        """A cascade whose aqueous phase turned alkaline carries no OH- in its outlets, so charge
        cannot close: that state is outside the model (rare-earth hydroxides would precipitate).
        Raise ValueError saying so, with the base and acid that entered."""
        pH = res.pH.to_numpy(dtype=float)
        if not (pH.size and float(pH.max()) > 7.0):
            return
        base = sum(s.n("Na") for s in base_streams)
        acid = metal = 0.0
        for s in (feed, scrub):
            if s is None:
                continue
            acid += s.n("H+") + s.n("HSO4-") - s.n("OH-")
            metal += sum(get_species(sp, "aqueous").charge * n for sp, n in s.mol_h.items()
                         if sp in self.cascade.model.species and sp not in ("Na", "NH4+"))
        why = (f"the saponified organic brings {base:.4g} eq/h of base, the feed and scrub "
               f"{acid:.4g} eq/h of acid and {metal:.4g} eq/h of extractable metal; lower the "
               "saponification or the organic flow, or raise the scrub acid"
               if base > 0 else "the organic brings more extractant capacity than the feed "
               "brings acid; lower the organic flow or acidify the feed")
        raise ValueError(
            f"SX circuit: the cascade's steady state is alkaline (pH up to {pH.max():.3g} at "
            f"stage {int(pH.argmax()) + 1}, organic {organic_L_h:.4g} L/h): rare-earth "
            f"hydroxides would precipitate and the aqueous outlets would carry OH-, outside "
            f"this model's validity (acidic chloride liquors); {why}")


@dataclass
class SaponifierResult:
    """Outcome of a :class:`Saponifier` run: ``outlets`` (organic, water), the dosed base
    (``reagent_streams``, ``reagents_kg_h`` [kg/h]) and the element and charge balances."""

    outlets: dict
    reagent_streams: list
    reagents_kg_h: dict
    balance: pd.DataFrame = field(repr=False)
    charge_balance: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)

    def __getattr__(self, item):
        try:
            return self.__dict__["outlets"][item]
        except KeyError:
            raise AttributeError(item) from None


class Saponifier:
    """Pre-neutralise an organic's free extractant with a base.

    Reaction (per mol of extractant HA)::

        HA(org) + NaOH -> NaA(org) + H2O        (base='NaOH')
        HA(org) + NH3  -> NH4A(org)             (base='NH3', aqueous ammonia)

    Parameters
    ----------
    degree : float
        Target fraction of the *total* extractant in the saponified form after the unit [-],
        0 <= s < 1 (industrial P507 practice 30-50 %, see property_data/sx_extractants.csv notes).
    base_conc_mol_L : float
        Base concentration of the dosing solution [mol/L], 0 < c <= 19; its water leaves with
        the aqueous phase (outlet ``water``).
    base : {'NaOH', 'NH3'}
        Reagent (name in property_data/reagents.csv). NH3 leaves ``NH4+`` on the organic; the SX
        models have no NH4+ exchange constant yet (sx_kex.csv gap), so an NH4-saponified organic
        can be made but not yet fed to a mass-action cascade.

    Notes
    -----
    Base already bound in the organic counts towards the target; the unit never removes it (a
    degree below the inlet's raises ValueError).
    """

    inlets = ("organic",)
    outlets = ("organic", "water")

    def __init__(self, degree: float, base_conc_mol_L: float = 10.0, base: str = "NaOH"):
        self.degree = check_number(degree, "Saponifier degree", 0.0, 1.0, hi_open=True, unit="-")
        self.base_conc_mol_L = check_number(base_conc_mol_L, "Saponifier base_conc_mol_L", 0.0,
                                            19.0, lo_open=True, unit="mol/L")
        if base not in SAPONIFYING_BASES:
            raise ValueError(f"Saponifier base = {base!r}; allowed: {sorted(SAPONIFYING_BASES)}")
        self.base = base

    def run(self, organic: Stream) -> SaponifierResult:
        mol = organic.mol_h
        ext = next((sp for sp in mol if sp in ("PC88A", "D2EHPA", "Cyanex272")), None)
        if ext is None:
            raise ValueError("Saponifier: the organic carries no extractant (PC88A, D2EHPA or Cyanex272)")
        anion = f"{ext}-"
        cation = SAPONIFYING_BASES[self.base][0]
        total = mol.get(ext, 0.0) + mol.get(anion, 0.0)
        now = mol.get(cation, 0.0)
        target = self.degree * total
        dose = target - now
        if dose < -1e-12 * max(total, 1.0):
            raise ValueError(f"Saponifier: inlet organic is already {now / total:.3f} saponified, "
                             f"above the target degree {self.degree}")
        dose = max(dose, 0.0)
        if dose > mol.get(ext, 0.0) * (1 + 1e-12):
            raise ValueError("Saponifier: not enough free extractant for the target degree "
                             f"(free {mol.get(ext, 0.0):.6g} mol/h, needed {dose:.6g} mol/h)")
        mol[ext] = max(mol.get(ext, 0.0) - dose, 0.0)
        mol[anion] = mol.get(anion, 0.0) + dose
        mol[cation] = now + dose
        out_org = Stream.from_mol_h("organic", mol, organic.flow_L_h, organic.T_C, "organic")
        base, water, kg = _base_dose(dose, self.base, self.base_conc_mol_L, organic.T_C)
        outs = {"organic": out_org, "water": water.copy(name="water")}
        bal = element_balance([organic, base], list(outs.values()))
        charge = charge_balance([organic, base], list(outs.values()))
        assert_closed(bal, "Saponifier", charge=charge)
        return SaponifierResult(outs, [base], kg, bal, charge)
