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

:class:`Saponifier` neutralises part of an organic's free extractant with a base
(HA + NaOH -> NaA + H2O) before it returns to the extraction section.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..species import get_species, molar_mass
from ..stream import Stream, element_closure

__all__ = ["SXCircuit", "SXCircuitResult", "Saponifier", "SaponifierResult"]


def _charge(sp: str) -> int:
    """Charge of the cation an organic metal species stands for (from its aqueous twin)."""
    try:
        return get_species(sp, "aqueous").charge
    except ValueError:
        return 0


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
        Element balance of the circuit (in/out [mol/h], relative error).
    """

    outlets: dict
    cascade: object = field(repr=False)
    balance: pd.DataFrame = field(repr=False)

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
    """

    def __init__(self, cascade, method: str = "numba", tol: float = 1e-11, max_iter: int = 3000,
                 warm_start: bool = True):
        self.cascade = cascade
        self.method = method
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self._last = None

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
        if self.cascade.strip:
            return ("raffinate", "strip_liquor", "stripped_organic")
        return ("raffinate", "loaded_organic")

    def _extractant(self):
        return getattr(self.cascade.model, "extractant_species", None)

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
        does not converge."""
        org_c = self._to_cascade_organic(organic)
        guess = None
        if self.warm_start and self._last is not None:
            guess = self._last
        kw = dict(feed=feed, organic=org_c, scrub=scrub, strip=strip, method=self.method,
                  tol=self.tol, max_iter=self.max_iter)
        try:
            res = self.cascade.solve(initial_guess=guess, **kw)
        except ValueError:
            if guess is None:
                raise
            res = self.cascade.solve(**kw)  # species set changed: cold start
        except RuntimeError:
            if guess is None:
                raise
            res = self.cascade.solve(**kw)
        active = [c for c in res.organic_profile.columns]
        self._last = res.aqueous_profile[active].to_numpy(copy=True)
        outs = {"raffinate": res.raffinate.copy(name="raffinate")}
        if self.cascade.strip:
            outs["strip_liquor"] = res.strip_liquor.copy(name="strip_liquor")
            outs["stripped_organic"] = self._to_flowsheet_organic(res.stripped_organic, "stripped_organic")
        else:
            outs["loaded_organic"] = self._to_flowsheet_organic(res.loaded_organic, "loaded_organic")
        ins = [s for s in (feed, organic, scrub, strip) if s is not None]
        bal = element_closure(ins, list(outs.values()))
        return SXCircuitResult(outs, res, bal)


@dataclass
class SaponifierResult:
    """Outcome of a :class:`Saponifier` run."""

    outlets: dict
    reagent_streams: list
    reagents_kg_h: dict
    balance: pd.DataFrame = field(repr=False)

    def __getattr__(self, item):
        try:
            return self.__dict__["outlets"][item]
        except KeyError:
            raise AttributeError(item) from None


class Saponifier:
    """Pre-neutralise an organic's free extractant with sodium hydroxide.

    Reaction (per mol of extractant HA)::

        HA(org) + NaOH -> NaA(org) + H2O

    Parameters
    ----------
    degree : float
        Target fraction of the *total* extractant in the Na form after the unit [-], 0 <= s < 1
        (industrial P507 practice 30-50 %, see property_data/sx_extractants.csv notes).
    base_conc_mol_L : float
        NaOH concentration of the dosing solution [mol/L]; its water leaves with the aqueous
        phase (outlet ``water``).

    Notes
    -----
    Na already bound in the organic counts towards the target; the unit never removes Na (a
    degree below the inlet's raises ValueError).
    """

    inlets = ("organic",)
    outlets = ("organic", "water")

    def __init__(self, degree: float, base_conc_mol_L: float = 10.0):
        if not 0.0 <= float(degree) < 1.0:
            raise ValueError(f"Saponifier degree must lie in [0, 1), got {degree}")
        if not 0.0 < float(base_conc_mol_L) <= 19.0:
            raise ValueError(f"base_conc_mol_L must lie in (0, 19] mol/L NaOH, got {base_conc_mol_L}")
        self.degree = float(degree)
        self.base_conc_mol_L = float(base_conc_mol_L)

    def run(self, organic: Stream) -> SaponifierResult:
        mol = organic.mol_h
        ext = next((sp for sp in mol if sp in ("PC88A", "D2EHPA", "Cyanex272")), None)
        if ext is None:
            raise ValueError("Saponifier: the organic carries no extractant (PC88A, D2EHPA or Cyanex272)")
        anion = f"{ext}-"
        total = mol.get(ext, 0.0) + mol.get(anion, 0.0)
        na_now = mol.get("Na", 0.0)
        target = self.degree * total
        dose = target - na_now
        if dose < -1e-12 * max(total, 1.0):
            raise ValueError(f"Saponifier: inlet organic is already {na_now / total:.3f} saponified, "
                             f"above the target degree {self.degree}")
        dose = max(dose, 0.0)
        if dose > mol.get(ext, 0.0) * (1 + 1e-12):
            raise ValueError("Saponifier: not enough free extractant for the target degree "
                             f"(free {mol.get(ext, 0.0):.6g} mol/h, needed {dose:.6g} mol/h)")
        mol[ext] = mol.get(ext, 0.0) - dose
        mol[anion] = mol.get(anion, 0.0) + dose
        mol["Na"] = na_now + dose
        out_org = Stream.from_mol_h("organic", mol, organic.flow_L_h, organic.T_C, "organic")
        from ..units._common import water_mol_per_L

        vol = dose / self.base_conc_mol_L
        n_water = vol * water_mol_per_L()
        base = Stream.aqueous(vol, {"Na": self.base_conc_mol_L, "OH-": self.base_conc_mol_L,
                                    "H2O": water_mol_per_L()}, T_C=organic.T_C, name="NaOH solution")
        water = Stream.aqueous(vol, {"H2O": (n_water + dose) / vol if vol > 0 else 0.0},
                               T_C=organic.T_C, name="water")
        outs = {"organic": out_org, "water": water}
        bal = element_closure([organic, base], list(outs.values()))
        kg_naoh = dose * molar_mass("NaOH") / 1000.0
        return SaponifierResult(outs, [base], {"NaOH": kg_naoh}, bal)
