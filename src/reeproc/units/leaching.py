r"""Acid leaching (HCl or H2SO4) of magnet feed: shrinking-core kinetics in a CSTR train or batch,
with iron(III) re-precipitation at equilibrium.

Stoichiometry (per mol of a dissolving solid, from its formula): metals go to their aqueous ions
(RE3+, Fe3+ from oxides and ferrites, Fe2+ from metal, Co2+, ...), boron to H3BO3. The electron
balance :math:`e = q + n_H + 3n_B - 2n_O` (:math:`q = \sum n_i z_i`) closes with

* :math:`e > 0` (metals): H2, :math:`n_{H_2} = e/2`;
* :math:`e < 0` (higher oxides: Pr6O11, Tb4O7, CeO2, Co3O4, Mn3O4) in **HCl**: chloride is oxidised,
  :math:`n_{Cl_2} = -e/2`, consuming :math:`-e` Cl- and :math:`-e` extra H+, e.g.
  Pr6O11 + 22 H+ + 4 Cl- -> 6 Pr3+ + 11 H2O + 2 Cl2 (Gu & Song, Chem. J. Chin. Univ. 1980);
  with ``reductant='H2O2'`` the peroxide supplies the electrons instead,
  Pr6O11 + 18 H+ + 2 H2O2 -> 6 Pr3+ + 11 H2O + 2 O2, and no Cl2 forms;
* :math:`e < 0` in **H2SO4** (sulfate is not oxidised): water is, :math:`n_{O_2} = -e/4`.

Water then follows from the O balance and the acid consumed from the H balance; for the ferrite,
NdFeO3 + 6 H+ -> Nd3+ + Fe3+ + 3 H2O.

Kinetics (shrinking core, one control per phase class, ``property_data/leach_kinetics.csv``):

.. math::
   \frac{d\theta}{dt} = \frac{1}{\tau} = k_{ref}\,e^{-\frac{E_a}{R}\left(\frac1T - \frac1{T_{ref}}\right)}
       \left(\frac{C_H}{C_{ref}}\right)^{n}\left(\frac{d_{ref}}{d}\right)^{m}

   \text{surface: } 1-(1-X)^{1/3} = \theta \;(m=1), \qquad
   \text{ash diffusion: } 1 - 3(1-X)^{2/3} + 2(1-X) = \theta \;(m=2)

Iron re-precipitation (``property_data/leach_equilibria.csv``): dissolved Fe(III) above the
solubility of hematite, :math:`[\mathrm{Fe^{3+}}] = K_T^{1/2}[\mathrm{H^+}]^3` (llnl.dat, van 't
Hoff to the leach temperature), precipitates as Fe2O3 and returns 3 H+ per Fe: this is what makes
the leach of a ferrite-bearing calcine selective (Laatikainen et al. 2021).

Reactors
--------
* ``reactor='cstr'``: N equal tanks, total residence time :math:`\tau_R`. A particle's
  :math:`\theta = \sum_k t_k/\tau(C_k)` with independent exponential residence times
  :math:`t_k` (mean :math:`\tau_R/N`) — segregated flow, evaluated on a fixed scrambled-Sobol
  sample (4096 points). The acid concentration :math:`C_k` of each tank solves its proton balance
  :math:`C_k V = H_0 - \sum_j q_j n_{j,0}\bar X_{j,k} + 3P_k(C_k)` (Brent), :math:`P_k` the iron
  re-precipitated.
* ``reactor='batch'``: :math:`\theta_j(t)` integrated with :math:`C(\theta)` from the same balance;
  the rate vanishes with the acid, so the free acid never goes negative (a numerical overshoot is
  cut back to the exhaustion point on the dense-output trajectory).

Lixiviant: fresh acid at ``acid_conc_mol_L`` [mol acid/L] or at ``acid_ratio`` mol H+ per mol of
the rare earths' stoichiometric need (3 per RE); volume from the pulp density [g solid/L].
Outputs: ``liquor`` (aqueous), ``residue`` (solid), ``offgas`` (H2 / O2 / Cl2). Energy: heat duty
to bring the inlets to the leach temperature and hold it through the reaction heats
(:mod:`reeproc.units.thermo`), agitation electricity (:mod:`reeproc.units.electricity`).
"""
from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from ..data import MissingDataError, load_table
from ..species import molar_mass, rare_earths
from ..stream import Stream
from ._balance import check_number, check_stream
from ._common import UnitResult, water_mol_per_L, with_solvent_water
from .electricity import unit_electricity_kW
from .leach_chemistry import (ACIDS, REDUCTANTS, conversion_from_theta, dissolution_stoichiometry,
                              hematite_solubility_coeff, phase_class)
from .thermo import energy_balance

__all__ = ["AcidLeach", "LeachResult", "dissolution_stoichiometry", "phase_class",
           "conversion_from_theta", "REDUCTANTS", "hematite_solubility_coeff"]

R = 8.314462618e-3  # kJ/mol/K


@functools.cache
def _kinetics() -> dict:
    df = load_table("leach_kinetics")
    return {(r.acid, r.phase_class): r._asdict() for r in df.itertuples(index=False)}


_SOBOL_SEED, _SOBOL_LOG2_N = 20240611, 12


@functools.lru_cache(maxsize=16)
def _sobol(n_tanks: int) -> np.ndarray:
    """Unit-mean exponential residence times (4,096 x n_tanks) on scrambled Sobol points.

    The points come from ``scipy.stats.qmc.Sobol`` (fixed seed). Importing scipy.stats is a
    visible part of a CLI start (benchmarks/test_bench_cli.py), so a computed table is kept on
    disk (``_points_cache_dir``), keyed by the scipy version, the dimension, the count and the
    seed, and read back by later processes: the same numbers, bit for bit. Without a writable cache folder the points are computed.
    """
    import scipy

    name = f"sobol_exp_d{n_tanks}_m{_SOBOL_LOG2_N}_s{_SOBOL_SEED}_scipy{scipy.__version__}.npy"
    folder = _points_cache_dir()
    path = None if folder is None else os.path.join(folder, name)
    if path is not None and os.path.isfile(path):
        try:
            E = np.load(path, allow_pickle=False)
            if E.shape == (2 ** _SOBOL_LOG2_N, n_tanks) and E.dtype == np.float64:
                return E
        except (OSError, ValueError):
            pass
    from scipy.stats import qmc

    u = qmc.Sobol(d=n_tanks, scramble=True, seed=_SOBOL_SEED).random_base2(m=_SOBOL_LOG2_N)
    E = -np.log1p(-np.clip(u, 0.0, 1.0 - 1e-16))  # unit-mean exponentials
    if path is not None:
        try:
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "wb") as fh:
                np.save(fh, E, allow_pickle=False)
            os.replace(tmp, path)
        except OSError:
            pass
    return E


def _points_cache_dir() -> str | None:
    """Folder for computed quadrature points: ``$REEPROC_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/reeproc`` or ``~/.cache/reeproc``; None if it cannot be made."""
    folder = os.environ.get("REEPROC_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "reeproc")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK | os.R_OK) else None


@dataclass
class LeachResult(UnitResult):
    """Result of :class:`AcidLeach`.

    Attributes
    ----------
    liquor : Stream
        Pregnant leach solution [L/h].
    residue : Stream
        Undissolved and re-precipitated solids [mol/h].
    offgas : Stream
        H2 (metals), Cl2 (higher oxides in HCl without reductant), O2 [mol/h].
    extraction : dict
        Fraction of each element of the feed dissolved and left in the liquor [-].
    phase_conversion : dict
        Conversion of each solid species [-].
    acid_consumed_mol_h : float
        H+ consumed, net of the acid returned by iron re-precipitation [mol/h];
        ``acid_consumed_kg_h`` as the acid (HCl or H2SO4) [kg/h].
    C_H_profile : list
        Free H+ [mol/L] leaving each tank (or at the end of the batch).
    iron_reprecipitated_mol_h : float
        Fe(III) that dissolved and re-precipitated as Fe2O3 [mol/h].
    """

    liquor: Stream = None
    residue: Stream = None
    offgas: Stream = None
    extraction: dict = None
    phase_conversion: dict = None
    acid: str = ""
    acid_consumed_mol_h: float = 0.0
    acid_consumed_kg_h: float = 0.0
    C_H_profile: list = None
    iron_reprecipitated_mol_h: float = 0.0
    _outlet_names: tuple = ("liquor", "residue", "offgas")

    def _summary_rows(self):
        rows = {f"acid consumed ({self.acid}) [kg/h]": (self.acid_consumed_kg_h, "kg/h"),
                "H+ consumed [mol/h]": (self.acid_consumed_mol_h, "mol/h"),
                "free H+ out [mol/L]": (self.C_H_profile[-1], "mol/L"),
                "Fe re-precipitated as Fe2O3 [mol/h]": (self.iron_reprecipitated_mol_h, "mol/h")}
        for g in ("H2", "Cl2", "O2"):
            rows[f"{g} evolved [mol/h]"] = (self.offgas.mol_h.get(g, 0.0), "mol/h")
        for el, x in sorted(self.extraction.items()):
            rows[f"extraction {el} [%]"] = (100 * x, "%")
        return rows


class AcidLeach:
    """Acid leach of a solid magnet feed in HCl or H2SO4.

    Parameters
    ----------
    acid : {'HCl', 'H2SO4'}
        Lixiviant acid (name as in ``property_data/reagents.csv``).
    acid_conc_mol_L : float, optional
        Fresh acid concentration [mol acid/L], (0, 12] for HCl, (0, 9] for H2SO4.
    acid_ratio : float, optional
        Alternatively, H+ supplied per H+ the rare earths need (3 per RE) [-], (0, 50]
        (e.g. 3.5/3 for n(HCl)/n(Ln) = 3.5). Give exactly one of the two.
    T_C : float
        Temperature [°C], 5–200 (above ~105 °C a pressure leach).
    residence_time_h : float
        Total residence time of the train, or batch time [h], (0, 1000].
    n_tanks : int
        Number of equal CSTRs, 1–10 (ignored for batch).
    reactor : {'cstr', 'batch'}
    particle_d_um : float
        Particle diameter [µm], 1–5000.
    pulp_density_g_L : float
        Solid feed per litre of lixiviant [g/L], (0, 1000].
    reductant : {None, 'H2O2'}
        Reductant dosed with the lixiviant so that higher oxides (Pr6O11, Tb4O7, CeO2, Co3O4) do
        not oxidise chloride to Cl2 (default None: Cl2 is evolved and reported).
    reductant_excess : float
        Reductant dose per its stoichiometric need for complete dissolution of the higher oxides
        of the feed [-], 1–5 (default 1.2); the excess decomposes to O2 + H2O.
    iron_hydrolysis : bool
        Re-precipitate Fe(III) above hematite solubility (default True).
    """

    inlets = ("feed", "recycle")
    outlets = ("liquor", "residue", "offgas")

    def __init__(self, acid: str = "HCl", acid_conc_mol_L=None, acid_ratio=None, T_C: float = 80.0,
                 residence_time_h: float = 4.0, n_tanks: int = 3, reactor: str = "cstr",
                 particle_d_um: float = 75.0, pulp_density_g_L: float = 100.0, reductant=None,
                 reductant_excess: float = 1.2, iron_hydrolysis: bool = True):
        if acid not in ACIDS:
            raise ValueError(f"AcidLeach acid = {acid!r} is not supported; allowed: {sorted(ACIDS)}")
        self.acid = acid
        if (acid_conc_mol_L is None) == (acid_ratio is None):
            raise ValueError("AcidLeach: give exactly one of acid_conc_mol_L [mol/L] or acid_ratio [-]")
        self.acid_conc = None if acid_conc_mol_L is None else check_number(
            acid_conc_mol_L, f"AcidLeach acid_conc_mol_L ({acid})", 0.0, ACIDS[acid][2],
            lo_open=True, unit="mol/L")
        self.acid_ratio = None if acid_ratio is None else check_number(
            acid_ratio, "AcidLeach acid_ratio", 0.0, 50.0, lo_open=True, unit="-")
        self.T_C = check_number(T_C, "AcidLeach T_C", 5.0, 200.0, unit="°C")
        self.residence_time_h = check_number(residence_time_h, "AcidLeach residence_time_h", 0.0,
                                             1000.0, lo_open=True, unit="h")
        if reactor not in ("cstr", "batch"):
            raise ValueError(f"AcidLeach reactor = {reactor!r}; allowed: 'cstr', 'batch'")
        self.reactor = reactor
        if isinstance(n_tanks, bool) or not isinstance(n_tanks, (int, np.integer)) or not 1 <= n_tanks <= 10:
            raise ValueError(f"AcidLeach n_tanks = {n_tanks!r}; allowed: an integer in [1, 10]")
        self.n_tanks = int(n_tanks)
        self.particle_d_um = check_number(particle_d_um, "AcidLeach particle_d_um", 1.0, 5000.0, unit="µm")
        self.pulp_density_g_L = check_number(pulp_density_g_L, "AcidLeach pulp_density_g_L", 0.0,
                                             1000.0, lo_open=True, unit="g/L")
        if reductant is not None and reductant not in REDUCTANTS:
            raise ValueError(f"AcidLeach reductant = {reductant!r}; allowed: None or {sorted(REDUCTANTS)}")
        self.reductant = reductant
        self.reductant_excess = check_number(reductant_excess, "AcidLeach reductant_excess", 1.0, 5.0)
        self.iron_hydrolysis = bool(iron_hydrolysis)

    # ---------------------------------------------------------------- kinetics
    def _phase_params(self, species: str) -> dict:
        cls = phase_class(species)
        row = _kinetics().get((self.acid, cls))
        if row is None:
            raise MissingDataError(f"property_data/leach_kinetics.csv has no row for acid "
                                   f"{self.acid}, phase class '{cls}' (solid '{species}')")
        if row["control"] == "inert":
            return {"control": "inert", "cls": cls, "confidence": row["confidence"]}
        vals = {}
        for col in ("k_ref__1_h", "T_ref__C", "Ea__kJ_mol", "order__1", "C_ref__mol_L", "d_ref__um"):
            v = row[col]
            if v is None or math.isnan(v):
                raise MissingDataError(f"property_data/leach_kinetics.csv: row ({self.acid}, {cls}) "
                                       f"has no value in column '{col}'")
            vals[col] = float(v)
        m = 1.0 if row["control"] == "surface" else 2.0
        T = self.T_C + 273.15
        base = (vals["k_ref__1_h"] * math.exp(-vals["Ea__kJ_mol"] / R * (1 / T - 1 / (vals["T_ref__C"] + 273.15)))
                * (vals["d_ref__um"] / self.particle_d_um) ** m)
        return {"control": row["control"], "cls": cls, "base": base, "n": vals["order__1"],
                "C_ref": vals["C_ref__mol_L"], "confidence": row["confidence"]}

    @staticmethod
    def _rate(p, C):
        if p["n"] == 0:
            return p["base"]
        return p["base"] * (max(C, 0.0) / p["C_ref"]) ** p["n"]

    # ---------------------------------------------------------------- run
    def run(self, feed: Stream, recycle: Stream | None = None) -> LeachResult:
        """Leach a solid feed [mol/h] with fresh acid, optionally topping up a recycled acid liquor.

        Parameters
        ----------
        feed : Stream
            Solid feed [mol/h].
        recycle : Stream, optional
            Recycled acid liquor (e.g. oxalate barren liquor) [L/h]: it takes the place of part of
            the lixiviant volume (pulp density is kept) and its free H+ counts towards the acid
            ratio or concentration; fresh acid tops up the rest. Oxalate it carries precipitates
            rare earths in the leach (solubility equilibrium of :mod:`reeproc.units.oxalate`):
            they leave with the residue, and the loss is reported.
        """
        check_stream(feed, "feed", "solid", "AcidLeach")
        if recycle is not None:
            check_stream(recycle, "recycle", "aqueous", "AcidLeach")
        solids = {sp: n for sp, n in feed.mol_h.items() if n > 0}
        if not solids:
            raise ValueError("AcidLeach: the feed is empty")
        notes = []
        stoich = {sp: dissolution_stoichiometry(sp, self.acid, self.reductant) for sp in solids}
        params = {sp: self._phase_params(sp) for sp in solids}
        est = sorted({p["cls"] for p in params.values() if p["confidence"] == "estimated"})
        if est:
            notes.append("kinetic parameters flagged 'estimated' used for phase classes: " + ", ".join(est))
        # lixiviant
        V_lix = feed.total_kg_h * 1000.0 / self.pulp_density_g_L
        h_per, anions, _ = ACIDS[self.acid]
        re_ = set(rare_earths())
        if self.acid_conc is not None:
            c_acid = self.acid_conc
        else:
            n_re = sum(n for el, n in feed.element_mol_h().items() if el in re_)
            if n_re <= 0:
                raise ValueError("AcidLeach acid_ratio needs rare earths in the feed; give acid_conc_mol_L")
            c_acid = self.acid_ratio * 3.0 * n_re / V_lix / h_per
            if c_acid > ACIDS[self.acid][2]:
                raise ValueError(f"AcidLeach: acid_ratio {self.acid_ratio} at pulp density "
                                 f"{self.pulp_density_g_L} g/L needs {c_acid:.3g} mol/L {self.acid}, above "
                                 f"the allowed {ACIDS[self.acid][2]} mol/L; lower the pulp density")
        rec = None
        V_fresh = V_lix
        H_rec = 0.0
        if recycle is not None and recycle.flow_L_h > 0:
            rec, added_w = with_solvent_water(recycle)
            if added_w is not None:
                raise ValueError("AcidLeach recycle: the recycled liquor must carry its solvent 'H2O'")
            if rec.flow_L_h >= V_lix:
                raise ValueError(f"AcidLeach recycle: {rec.flow_L_h:.4g} L/h recycled is not less than the "
                                 f"lixiviant volume {V_lix:.4g} L/h at pulp density "
                                 f"{self.pulp_density_g_L} g/L; bleed part of it or lower the pulp density")
            V_fresh = V_lix - rec.flow_L_h
            H_rec = rec.mol_h.get("H+", 0.0)
        n_acid = max(c_acid * V_lix - H_rec / h_per, 0.0)
        if n_acid / V_fresh > ACIDS[self.acid][2]:
            raise ValueError(f"AcidLeach: fresh acid {n_acid / V_fresh:.3g} mol/L {self.acid} needed beside "
                             f"the recycle, above the allowed {ACIDS[self.acid][2]} mol/L")
        if H_rec > h_per * c_acid * V_lix:
            notes.append(f"the recycle alone brings {H_rec:.4g} mol/h H+, more than the "
                         f"{h_per * c_acid * V_lix:.4g} mol/h asked for: no fresh acid dosed")
        lix_mol = {"H+": h_per * n_acid, "H2O": V_fresh * water_mol_per_L()}
        for an, k in anions.items():
            lix_mol[an] = k * n_acid
        lixiviant = Stream.from_mol_h("aqueous", lix_mol, V_fresh, 25.0, f"{self.acid} lixiviant")
        inlets = {"feed": feed, "lixiviant": lixiviant}
        if rec is not None:
            inlets["recycle"] = recycle
            for k, v in rec.mol_h.items():
                lix_mol[k] = lix_mol.get(k, 0.0) + v
        H0 = lix_mol["H+"]
        reagent_streams = [lixiviant]
        reagents = {self.acid: n_acid * molar_mass(self.acid) / 1000.0,
                    "water": V_fresh * water_mol_per_L() * 18.015 / 1000.0}
        # reductant: dosed for complete dissolution of the higher oxides, times the excess
        need = sum(-stoich[sp].get("H2O2", 0.0) * n for sp, n in solids.items())
        red = None
        V = V_lix
        if self.reductant is not None and need > 0:
            name, c_red = REDUCTANTS[self.reductant]
            n_red = self.reductant_excess * need
            V_red = n_red / c_red
            red = Stream.from_mol_h("aqueous", {"H2O2": n_red, "H2O": V_red * water_mol_per_L()},
                                    V_red, 25.0, f"{self.reductant} solution")
            inlets["reductant"] = red
            reagent_streams.append(red)
            reagents[name] = n_red * molar_mass("H2O2") / 1000.0
            V = V_lix + V_red
        names = list(solids)
        q = np.array([stoich[sp].get("H+", 0.0) for sp in names])
        fe3 = np.array([stoich[sp].get("Fe+3", 0.0) for sp in names])
        n0 = np.array([solids[sp] for sp in names])
        active = [i for i, sp in enumerate(names) if params[sp]["control"] != "inert"]
        sol_coeff = hematite_solubility_coeff(self.T_C) if self.iron_hydrolysis else math.inf

        if self.reactor == "batch":
            X, C_prof = self._batch(names, params, q, fe3, n0, H0, V, active, sol_coeff)
        else:
            X, C_prof = self._cstr(names, params, q, fe3, n0, H0, V, active, sol_coeff)
        # products
        liq = {k: v for k, v in lix_mol.items()}
        if red is not None:
            for k, v in red.mol_h.items():
                liq[k] = liq.get(k, 0.0) + v
        res_solid = {}
        gas = {}
        for i, sp in enumerate(names):
            d = X[i] * n0[i]
            if X[i] < 1.0:
                res_solid[sp] = (1.0 - X[i]) * n0[i]
            if d == 0:
                continue
            for k, v in stoich[sp].items():
                if k == "H+":
                    liq["H+"] -= v * d
                elif k in ("H2", "O2", "Cl2"):
                    gas[k] = gas.get(k, 0.0) + v * d
                else:
                    liq[k] = liq.get(k, 0.0) + v * d
        # iron(III) above hematite solubility re-precipitates: 2 Fe3+ + 3 H2O -> Fe2O3 + 6 H+
        fe_d = liq.get("Fe+3", 0.0)
        p_fe = self._fe_precipitated(fe_d, C_prof[-1], V, sol_coeff)
        if p_fe > 0:
            liq["Fe+3"] = fe_d - p_fe
            liq["H+"] += 3.0 * p_fe
            liq["H2O"] -= 1.5 * p_fe
            res_solid["Fe2O3"] = res_solid.get("Fe2O3", 0.0) + 0.5 * p_fe
        ox_loss = self._oxalate_in_leach(liq, res_solid, V, notes)
        if liq["H+"] < -1e-9 * H0:
            raise RuntimeError(f"AcidLeach: free acid {liq['H+']:.4g} mol/h < 0 after the "
                               "proton balance was solved (modelling bug)")
        liq["H+"] = max(liq["H+"], 0.0)
        # unreacted peroxide decomposes (Fe3+-catalysed at leach temperature): 2 H2O2 -> 2 H2O + O2
        if liq.get("H2O2", 0.0) > 0:
            x = liq.pop("H2O2")
            liq["H2O"] += x
            gas["O2"] = gas.get("O2", 0.0) + 0.5 * x
        if liq["H2O"] < 0:
            raise ValueError("AcidLeach: not enough water for the dissolution (pulp too dense)")
        liquor = Stream.from_mol_h("aqueous", liq, V, self.T_C, "leach liquor")
        residue = Stream.from_mol_h("solid", res_solid, None, self.T_C, "leach residue")
        offgas = Stream.gas(gas, self.T_C, "leach off-gas")
        el_in = feed.element_mol_h()
        el_liq = liquor.element_mol_h()
        el_rec = rec.element_mol_h() if rec is not None else {}
        extraction = {el: (el_liq.get(el, 0.0) - el_rec.get(el, 0.0)) / n for el, n in el_in.items()
                      if n > 0 and el not in ("O", "H")}
        extraction = {el: min(max(x, 0.0), 1.0) for el, x in extraction.items()}
        consumed = H0 - liq["H+"]
        if ox_loss > 0:
            notes.append(f"oxalate in the recycle precipitated {ox_loss:.4g} mol/h rare earths as "
                         "oxalates into the leach residue (destroy or bleed the excess oxalic acid)")
        if gas.get("Cl2", 0.0) > 0:
            notes.append(f"higher oxides oxidise chloride: {gas['Cl2']:.4g} mol/h Cl2 in the off-gas "
                         "(toxic; dose a reductant, e.g. reductant='H2O2', to avoid it)")
        energy, why = {}, None
        q_heat, why = energy_balance(list(inlets.values()), [liquor, residue, offgas])
        energy["heat"] = q_heat
        if why:
            notes.append(why)
        energy["electricity"] = unit_electricity_kW("agitated leach tank",
                                                    volume_m3=V * self.residence_time_h / 1000.0)
        res = LeachResult(
            liquor=liquor, residue=residue, offgas=offgas, extraction=extraction,
            phase_conversion={sp: float(X[i]) for i, sp in enumerate(names)}, acid=self.acid,
            acid_consumed_mol_h=consumed,
            acid_consumed_kg_h=consumed / h_per * molar_mass(self.acid) / 1000.0,
            C_H_profile=[float(c) for c in C_prof], iron_reprecipitated_mol_h=p_fe,
            inlet_streams=inlets, reagent_streams=reagent_streams, reagents_kg_h=reagents,
            energy_kW=energy, notes=notes)
        res._close("AcidLeach")
        return res

    @staticmethod
    def _oxalate_in_leach(liq: dict, res_solid: dict, V: float, notes: list) -> float:
        """Rare earths [mol/h] precipitated as oxalates by oxalate that came in with a recycle
        (in place on the liquor and residue dicts)."""
        ox = liq.get("H2C2O4", 0.0) + liq.get("HC2O4-", 0.0) + liq.get("C2O4-2", 0.0)
        n_re = {el: n for el, n in liq.items() if el in rare_earths() and n > 0}
        if ox <= 0 or not n_re:
            return 0.0
        from .oxalate import oxalate_equilibrium  # solubility chemistry of the oxalate unit
        H_T = liq["H+"] + liq.get("HC2O4-", 0.0) + 2.0 * liq.get("H2C2O4", 0.0)
        eq = oxalate_equilibrium(n_re, ox, H_T, V, liq.get("Cl-", 0.0) / V,
                                 (liq.get("SO4-2", 0.0) + liq.get("HSO4-", 0.0)) / V)
        p_tot = 0.0
        for el, n in n_re.items():
            p = min(max(eq["precipitated"][el], 0.0), n)
            liq[el] = n - p
            sp = f"{el}2(C2O4)3.10H2O"
            res_solid[sp] = res_solid.get(sp, 0.0) + 0.5 * p
            p_tot += p
        left = ox - 1.5 * p_tot
        tot = eq["Ox"] + eq["HOx"] + eq["H2Ox"]
        liq["H2C2O4"] = left * eq["H2Ox"] / tot
        liq["HC2O4-"] = left * eq["HOx"] / tot
        liq["C2O4-2"] = left * eq["Ox"] / tot
        liq["H+"] = H_T - liq["HC2O4-"] - 2.0 * liq["H2C2O4"]
        liq["H2O"] -= 5.0 * p_tot
        return p_tot

    @staticmethod
    def _fe_precipitated(fe_d: float, C: float, V: float, sol_coeff: float) -> float:
        """Fe(III) [mol/h] above hematite solubility at free acid C [mol/L]."""
        if fe_d <= 0 or not math.isfinite(sol_coeff):
            return 0.0
        return max(fe_d - sol_coeff * max(C, 0.0) ** 3 * V, 0.0)

    def _acid_at(self, A: float, D: float, V: float, sol_coeff: float) -> float:
        """Free acid C [mol/L] solving C V = A + 3 P(C) for given conversions: A = H0 - acid
        consumed by dissolution [mol/h], D = Fe(III) dissolved [mol/h]."""
        if D <= 0 or not math.isfinite(sol_coeff):
            return max(A, 0.0) / V
        if A + 3.0 * D <= 0:
            return 0.0

        def g(C):
            return C * V - A - 3.0 * self._fe_precipitated(D, C, V, sol_coeff)
        hi = (A + 3.0 * D) / V
        if g(hi) <= 0:
            return hi
        return brentq(g, 0.0, hi, xtol=1e-15, rtol=1e-13, maxiter=300)

    def _cstr(self, names, params, q, fe3, n0, H0, V, active, sol_coeff):
        N = self.n_tanks
        t_mean = self.residence_time_h / N
        E = _sobol(N) * t_mean  # (samples, N) residence times [h]
        theta = np.zeros((len(names), E.shape[0]))
        X = np.zeros(len(names))
        C_prof = []

        def conv(C, k):
            th = theta.copy()
            for i in active:
                th[i] += E[:, k] * self._rate(params[names[i]], C)
            Xm = np.zeros(len(names))
            for i in active:
                Xm[i] = conversion_from_theta(th[i], params[names[i]]["control"]).mean()
            return th, Xm

        for k in range(N):
            def f(C):
                _, Xm = conv(C, k)
                A = H0 - float(np.dot(q * n0, Xm))
                D = float(np.dot(fe3 * n0, Xm))
                return C * V - A - 3.0 * self._fe_precipitated(D, C, V, sol_coeff)
            hi = H0 / V  # f(hi) >= 0: dissolution consumes at least the 3 H+ per Fe it releases
            if hi <= 0:
                C = 0.0
            elif f(hi) <= 0:
                C = hi
            else:
                C = brentq(f, 0.0, hi, xtol=1e-15, rtol=1e-13, maxiter=300)
            theta, X = conv(C, k)
            C_prof.append(C)
        return X, C_prof

    def _batch(self, names, params, q, fe3, n0, H0, V, active, sol_coeff):
        qa, fa, na = q[active], fe3[active], n0[active]
        ctrl = [params[names[i]]["control"] for i in active]

        def X_of(th):
            return np.array([float(conversion_from_theta(th[j], ctrl[j])) for j in range(len(active))])

        def avail(th):
            Xs = X_of(th)
            return H0 - float(np.dot(qa * na, Xs)), float(np.dot(fa * na, Xs))

        def C_of(th):
            A, D = avail(th)
            return self._acid_at(A, D, V, sol_coeff)

        def rhs(t, th):
            C = C_of(th)
            # theta keeps growing past 1 (X stays 1): no discontinuity for the integrator
            return [self._rate(params[names[i]], C) for i in active]

        X = np.zeros(len(names))
        if not active:
            return X, [H0 / V]
        from scipy.integrate import solve_ivp  # batch mode only (CLI start)

        sol = solve_ivp(rhs, (0.0, self.residence_time_h), np.zeros(len(active)),
                        method="LSODA", rtol=1e-8, atol=1e-10, dense_output=True)
        if not sol.success:
            raise RuntimeError(f"AcidLeach: batch integration failed ({sol.message}) at "
                               f"t = {sol.t[-1]:.4g} h of {self.residence_time_h} h")
        th_end = sol.y[:, -1]

        def slack(t):  # acid left if all dissolved Fe re-precipitated; >= 0 on the true path
            A, D = avail(sol.sol(t))
            return A + 3.0 * D if math.isfinite(sol_coeff) else A
        if slack(self.residence_time_h) < 0:
            # the integrator stepped past acid exhaustion (where every acid-consuming rate is 0)
            t_star = brentq(slack, 0.0, self.residence_time_h, xtol=1e-12, maxiter=200)
            th_end = sol.sol(t_star)
        for j, i in enumerate(active):
            X[i] = float(conversion_from_theta(th_end[j], ctrl[j]))
        return X, [C_of(th_end)]
