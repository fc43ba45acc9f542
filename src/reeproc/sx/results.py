"""Results and errors of the SX cascade solver: :class:`CascadeResult` (profile tables built
on first access), :class:`ConvergenceError`, :class:`NoAcidicSteadyStateError`, the charge
closure and molar purity helpers."""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..species import get_species
from ..stream import Stream

__all__ = ["CascadeResult", "ConvergenceError", "NoAcidicSteadyStateError", "molar_purity",
           "CHARGE_TOL", "MASS_TOL", "PH_MAX", "ExtractantCapacityError"]


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

    Raised for a converged state with a stage above ``PH_MAX`` (proven); for a failed solve
    whose organic brings more base than the inlets bring acid plus the metal the loaded
    organic can take up in exchange (the metal inflow, or the extractant's capacity when
    smaller; a diagnosis: it assumes all the Na leaves the organic; where the loaded organic
    can carry part of it out at pH 4-6, an acidic state may exist that the solver did not
    find, ``docs/sx.md``); and for a failed solve whose continuation in the saponification,
    or in the loading (pseudo-arclength, ``docs/sx.md``), reached an alkaline state before
    the full cascade.

    Attributes (besides those of ConvergenceError)
    ----------
    pH : float
        Highest stage pH of the refused state.
    """

    def __init__(self, message, pH=math.nan, **kw):
        super().__init__(message, **kw)
        self.pH = pH


class ExtractantCapacityError(ConvergenceError):
    """The model has no steady state at this organic flow: its distribution ratios do not
    fall as the free extractant is used up (the DEHPA pH correlation used with the local
    free dosage: B1 = 0 for La and Pr, B1 < 0 for Ce and Nd), so nothing stops the organic
    from loading past its extractant, and a stage's extractant balance loses its root.

    Raised for a failed solve of such a model whose continuation in the organic flow, down
    from a flow that solves, ends where a stage's extractant balance loses its root
    (``reeproc.sx._capacity``): below that flow the model's steady state ceases to exist.
    The message gives that flow; raise the organic flow or the dosage, or use a model with a
    loading limit (``MassAction``, whose D falls as the free extractant to its stoichiometric
    power).

    Attributes (besides those of ConvergenceError)
    ----------
    organic_flow_min : float
        The organic flow [L/h] where the continuation ended (the least it solved).
    """

    def __init__(self, message, organic_flow_min=math.nan, **kw):
        super().__init__(message, **kw)
        self.organic_flow_min = organic_flow_min


#: Largest relative charge imbalance of the aqueous inlets vs outlets a result may carry.
CHARGE_TOL = 1e-8
#: Largest relative imbalance of a species' overall balance a result may carry (that of the
#: flowsheet's conservation audit, ``reeproc.units._balance.BALANCE_RTOL``).
MASS_TOL = 1e-10
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
        Largest relative imbalance (in - out)/in over species of the whole cascade [-]; a
        converged result above ``MASS_TOL`` is refused (a species held inside the cascade at
        many times its inflow, whose stage balances double precision cannot close finely
        enough).
    charge_balance_residual : float
        |charge in - charge out| of the aqueous phase over the charge throughput
        sum |z| n of the aqueous inlets [-]: metals, H+, HSO4-, SO4-2, Cl- and every inert ion.
        An outlet Stream's H+ is the net free acid [H+] - [OH-] of its stage (OH- = Kw/[H+], at
        most 1e-7 mol/L in the acidic states accepted, is not a Stream species), so the outlets
        are electroneutral as the stages are. The organic complexes are neutral, so this closes
        to rounding; a result above ``CHARGE_TOL`` raises.
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
    _raw: dict = field(default_factory=dict, repr=False)
    _frames: dict = field(default_factory=dict, repr=False)

    # the profile tables are built on first access (a sweep that reads purities never pays
    # for pandas)
    def _frame(self, key):
        if key not in self._frames:
            self._frames.update(_build_frames(**self._raw))
        return self._frames[key]

    @property
    def aqueous_profile(self) -> pd.DataFrame:
        """Aqueous concentrations [mol/L]: stages 1..N x species (active, inert, acid)."""
        return self._frame("aqueous_profile")

    @property
    def organic_profile(self) -> pd.DataFrame:
        """Organic concentrations [mol/L] of the active species per stage."""
        return self._frame("organic_profile")

    @property
    def pH(self) -> pd.Series:
        """pH per stage (NaN for pH-independent models)."""
        return self._frame("pH")

    @property
    def free_extractant(self) -> pd.Series:
        """Free extractant per stage (model unit; NaN for ConstantD)."""
        return self._frame("free_extractant")

    @property
    def D_profile(self) -> pd.DataFrame:
        """Distribution ratio per stage and species [-]."""
        return self._frame("D_profile")

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


def _build_frames(aq_arr, cols, y, active, h, f, use_h, use_f, fT, k0, kf, kh, kfh) -> dict:
    """The profile tables of a CascadeResult (stage index 1..N)."""
    nst = aq_arr.shape[0]
    idx = pd.RangeIndex(1, nst + 1, name="stage")
    with np.errstate(divide="ignore", invalid="ignore"):
        pH = -np.log10(h) if use_h else np.full(nst, np.nan)
        lf = np.log10(f)[:, None] if use_f else np.log10(np.full((nst, 1), fT))
        ph = pH[:, None] if use_h else np.zeros((nst, 1))
        fcol = f[:, None] if use_f else np.full((nst, 1), fT)
        logD = k0 + kf * lf + kh * ph + kfh * fcol * ph
    return dict(aqueous_profile=pd.DataFrame(aq_arr, index=idx, columns=cols),
                organic_profile=pd.DataFrame(y, index=idx, columns=active),
                pH=pd.Series(pH, index=idx, name="pH"),
                free_extractant=pd.Series(f if use_f else np.nan, index=idx,
                                          name="free_extractant"),
                D_profile=pd.DataFrame(10.0 ** logD, index=idx, columns=active))
