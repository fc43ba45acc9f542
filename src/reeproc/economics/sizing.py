"""Equipment sizing from a solved flowsheet.

Every unit is sized from its solved streams (read through ``FlowsheetResult.streams``,
``flowsheet.ports`` and the unit objects' public parameters), at the flowsheet's own scale times
``scale`` (the flows of the reference scripts are homogeneous of degree one in the feed, so every
volume, flow and duty scales linearly with the plant size; the chemistry does not change).

======================  ==================================================================
unit                    equipment (item of equipment_costs.csv) and sizing basis
======================  ==================================================================
Roaster                 ``roaster``: thermal rating [kW] = reported heat duty, else
                        \\|heat of reaction\\| (an autothermal roaster handles that heat)
AcidLeach               ``leach_tank`` x n_tanks: aqueous outflow x residence time [m3];
                        ``leach_tank_mixer``: specific agitator power x volume [kW]
HydroxidePrecipitator   ``precipitation_tank`` + mixer: outflow x precipitation residence time
OxalatePrecipitator     ``oxalate_tank`` + mixer: outflow x precipitation residence time
SolidLiquidSeparator    ``belt_filter``: solids throughput [t/h]; ``thickener`` needs a unit area
Calciner                ``calciner``: fuel heat input [kW] = duty / available heat (furnace.py)
SXCircuit               ``mixer_settler``: sum over stages of (aqueous + organic flow) x (mixer +
                        settler residence time) [m3]; organic hold-up for the first fill
every sized unit        ``process_pump`` per liquid outlet [m3/h]
======================  ==================================================================

Electricity: a unit's own ``energy_kW['electricity']`` is used when it reports one; otherwise the
agitation power estimated here is used and labelled as such (pumps, filters, kiln drives and
blowers are not estimated: the sizing says so). Nothing is counted twice.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from ..flowsheet.junctions import Mixer, Splitter
from ..flowsheet.sx_units import SXCircuit
from ..units import (AcidLeach, Calciner, HydroxidePrecipitator, OxalatePrecipitator, Roaster,
                     SolidLiquidSeparator)
from ._data import default, default_or_nan, equipment_row, reagent_row
from .furnace import available_heat_fraction

__all__ = ["Sizing", "size_equipment", "ESTIMATED_LABEL"]

#: Label of electricity that reeproc.economics estimated (the unit reported none).
ESTIMATED_LABEL = "estimated by reeproc.economics.sizing (agitation only; unit reports none)"
_JUNCTIONS = (Mixer, Splitter)
_LIQUID = ("aqueous", "organic")


@dataclass
class Sizing:
    """Sized equipment of a flowsheet.

    Attributes
    ----------
    equipment : DataFrame
        One row per equipment item: unit, item, count [-], size each, size unit, sizing basis,
        size / reference size of the scale law [-].
    electricity : DataFrame
        unit, electricity [kW], basis ('reported by unit' or :data:`ESTIMATED_LABEL`).
    heat : DataFrame
        unit, heat duty [kW] (+ supplied, - recoverable), process temperature [°C].
    organic : DataFrame
        SX circuits: unit, organic hold-up [L], extractant, extractant [kg], diluent [L], aqueous
        leaving the circuit [L/h].
    missing : list of str
        What could not be sized or estimated, and why.
    process_steps : int
        Units other than junctions (mixers, splitters) [-], for the labour estimate.
    scale : float
        Plant size / flowsheet size [-].
    """

    equipment: pd.DataFrame
    electricity: pd.DataFrame
    heat: pd.DataFrame
    organic: pd.DataFrame
    missing: list = field(default_factory=list)
    process_steps: int = 0
    scale: float = 1.0


def _ratio(item: str, size: float) -> float:
    return size / equipment_row(item)["ref_size"]


def _row(unit, item, count, size, basis):
    r = equipment_row(item)
    return {"unit": unit, "item": item, "count": int(count), "size each": float(size),
            "size unit": r["size_unit"], "basis": basis, "size / ref size [-]": _ratio(item, size)}


def _streams(result, name):
    ins, outs = result.flowsheet.ports(name)
    get = result.streams.get
    return ({p: get(s) for p, s in ins.items() if get(s) is not None},
            {p: get(s) for p, s in outs.items() if get(s) is not None})


def _liquid_out_L_h(outs) -> float:
    return sum(s.flow_L_h for s in outs.values() if s.phase == "aqueous")


def _process_T_C(unit, outs) -> float:
    T = getattr(unit, "T_C", None)
    if T is not None:
        return float(T)
    return max((s.T_C for s in outs.values()), default=25.0)


def _tank(rows, name, volume_m3, n, tank_item, mixer_item, power_key, basis):
    """Tank(s) of total ``volume_m3`` in ``n`` vessels plus one mixer each; returns agitation kW."""
    kw_m3 = default(power_key, "kW/m3")
    rows.append(_row(name, tank_item, n, volume_m3 / n, basis))
    rows.append(_row(name, mixer_item, n, kw_m3 * volume_m3 / n,
                     f"{kw_m3} kW/m3 x {volume_m3 / n:.4g} m3 ({power_key}, economics_defaults.csv)"))
    return kw_m3 * volume_m3


def _size_sx(rows, organic_rows, name, unit, ins, outs, scale, t_mix_min, t_settle_min):
    cas = unit.cascade
    q = {p: (s.flow_L_h * scale if s is not None else 0.0) for p, s in ins.items()}
    q_org = q.get("organic", 0.0)
    sections = [(cas.extraction, q.get("feed", 0.0) + q.get("scrub", 0.0)),
                (cas.scrub, q.get("scrub", 0.0)), (cas.strip, q.get("strip", 0.0))]
    t_h = (t_mix_min + t_settle_min) / 60.0
    vol_L = sum(n * (qa + q_org) * t_h for n, qa in sections if n)
    org_L = sum(n * q_org * t_h for n, qa in sections if n)
    stages = sum(n for n, _ in sections)
    rows.append(_row(name, "mixer_settler", 1, vol_L / 1000.0,
                     f"{stages} stages x (aqueous + organic flow) x ({t_mix_min:g} min mixer + "
                     f"{t_settle_min:g} min settler)"))
    org = ins.get("organic")
    ext, ext_kg, dil_L = "", math.nan, math.nan
    if org is not None and org.flow_L_h > 0:
        from ..species import get_species, molar_mass

        mol = org.mol_h
        cands = [sp for sp in mol if sp in ("PC88A", "D2EHPA", "Cyanex272")]
        if cands:
            ext = cands[0]
            c = (mol.get(ext, 0.0) + mol.get(f"{ext}-", 0.0)) / org.flow_L_h  # mol/L
            ext_kg = c * org_L * molar_mass(get_species(ext, "organic").formula) / 1000.0
            rr = reagent_row(ext)
            rho = rr["density_kg_L"] if rr else math.nan
            dil_L = org_L - ext_kg / rho if rho == rho else math.nan
    aq_out = sum(s.flow_L_h * scale for s in outs.values() if s.phase == "aqueous")
    organic_rows.append({"unit": name, "organic hold-up [L]": org_L, "extractant": ext,
                         "extractant [kg]": ext_kg, "diluent [L]": dil_L,
                         "aqueous leaving [L/h]": aq_out})
    return default("agitator_power_mixer_settler", "kW/m3") * vol_L / 1000.0


def size_equipment(result, scale: float = 1.0, *, mixer_residence_min: float | None = None,
                   settler_residence_min: float | None = None,
                   precipitation_residence_h: float | None = None,
                   excess_air_pct: float | None = None) -> Sizing:
    """Size every unit of a solved flowsheet.

    Parameters
    ----------
    result : FlowsheetResult
        A solved flowsheet.
    scale : float
        Plant size / flowsheet size [-], > 0.
    mixer_residence_min, settler_residence_min : float, optional
        SX mixer and settler residence times [min]; defaults from economics_defaults.csv.
    precipitation_residence_h : float, optional
        Residence time of hydroxide and oxalate precipitation tanks [h].
    excess_air_pct : float, optional
        Combustion excess air of gas-fired units [%] (fuel heat input of calciners).

    Returns
    -------
    Sizing
    """
    if not (scale > 0 and math.isfinite(scale)):
        raise ValueError(f"scale = {scale}: must be a finite number > 0")
    t_mix = default("mixer_residence_time", "min") if mixer_residence_min is None else float(mixer_residence_min)
    t_set = default("settler_residence_time", "min") if settler_residence_min is None else float(settler_residence_min)
    t_prec = (default("precipitation_residence_time", "h") if precipitation_residence_h is None
              else float(precipitation_residence_h))
    for nm, v in (("mixer_residence_min", t_mix), ("settler_residence_min", t_set),
                  ("precipitation_residence_h", t_prec)):
        if not (v > 0 and math.isfinite(v)):
            raise ValueError(f"{nm} = {v}: must be a finite number > 0")
    rows, elec, heat, organic, missing, no_power = [], [], [], [], [], []
    steps = 0
    for name, unit in result.flowsheet.units.items():
        if isinstance(unit, _JUNCTIONS):
            continue
        steps += 1
        ins, outs = _streams(result, name)
        # the unit's own energy dict: kinds it does not report stay absent (not zero)
        e = getattr(result.unit_results.get(name), "energy_kW", None)
        reported = ({k: float(v) for k, v in e.items()} if isinstance(e, dict) else
                    {} if e is None else {"heat": float(e)})
        agitation = 0.0
        if isinstance(unit, Roaster):
            r = result.unit_results[name]
            rating = abs(reported.get("heat", math.nan))
            basis = "reported heat duty"
            if not math.isfinite(rating):
                rating, basis = abs(getattr(r, "heat_of_reaction_kW", math.nan)), "|heat of reaction| (unit reports no duty)"
            if math.isfinite(rating) and rating > 0:
                rows.append(_row(name, "roaster", 1, rating * scale, f"thermal rating = {basis}"))
            else:
                missing.append(f"{name}: roaster not sized (no heat duty and no heat of reaction)")
        elif isinstance(unit, AcidLeach):
            v = _liquid_out_L_h(outs) * scale * unit.residence_time_h / 1000.0
            agitation = _tank(rows, name, v, unit.n_tanks, "leach_tank", "leach_tank_mixer",
                              "agitator_power_leach",
                              f"aqueous outflow x {unit.residence_time_h:g} h in {unit.n_tanks} tanks")
        elif isinstance(unit, HydroxidePrecipitator):
            v = _liquid_out_L_h(outs) * scale * t_prec / 1000.0
            agitation = _tank(rows, name, v, 1, "precipitation_tank", "precipitation_tank_mixer",
                              "agitator_power_precipitation", f"aqueous outflow x {t_prec:g} h")
        elif isinstance(unit, OxalatePrecipitator):
            v = _liquid_out_L_h(outs) * scale * t_prec / 1000.0
            agitation = _tank(rows, name, v, 1, "oxalate_tank", "oxalate_tank_mixer",
                              "agitator_power_oxalate", f"aqueous outflow x {t_prec:g} h")
        elif isinstance(unit, SolidLiquidSeparator):
            solids = ins.get("solids")
            t_h = (solids.total_kg_h if solids is not None else 0.0) * scale / 1000.0
            if unit.kind == "thickener":
                ua = default_or_nan("thickener_unit_area", "m2 per t/h solids")
                if math.isnan(ua):
                    missing.append(f"{name}: thickener not sized (thickener_unit_area missing)")
                else:
                    rows.append(_row(name, "thickener", 1, ua * t_h, "unit area x solids throughput"))
            elif t_h > 0:
                rows.append(_row(name, "belt_filter", 1, t_h, "solids throughput"))
        elif isinstance(unit, Calciner):
            q = reported.get("heat", math.nan)
            if math.isfinite(q) and q > 0:
                T = _process_T_C(unit, outs)
                eta = available_heat_fraction(T, excess_air_pct)
                rows.append(_row(name, "calciner", 1, q * scale / eta,
                                 f"fuel heat input = duty / available heat {eta:.3f} at {T:g} °C"))
            else:
                missing.append(f"{name}: calciner not sized (no positive heat duty reported)")
        elif isinstance(unit, SXCircuit):
            agitation = _size_sx(rows, organic, name, unit, ins, outs, scale, t_mix, t_set)
        else:
            missing.append(f"{name}: no sizing rule for {type(unit).__name__}; its equipment is not "
                           "in the capital cost")
            continue
        for port, s in outs.items():
            if s.phase in _LIQUID and s.flow_L_h > 0:
                rows.append(_row(name, "process_pump", 1, s.flow_L_h * scale / 1000.0,
                                 f"outlet '{port}' flow"))
        _electricity(elec, no_power, name, reported, agitation, scale)
        T_unit = getattr(unit, "T_C", None)
        if "heat" not in reported and T_unit is not None and float(T_unit) > 30.0:
            missing.append(f"{name}: operates at {float(T_unit):g} °C but reports no heat duty; its "
                           "heat is not counted in cost or CO2")
        for kind, kw in reported.items():
            if kind == "heat" and kw != 0:
                heat.append({"unit": name, "heat [kW]": kw * scale, "T [°C]": _process_T_C(unit, outs)})
                if kw < 0:
                    missing.append(f"{name}: {-kw * scale:.4g} kW of recoverable heat (negative duty) "
                                   "is not credited")
            elif kind not in ("heat", "electricity") and kw != 0:
                missing.append(f"{name}: energy kind '{kind}' ({kw:.4g} kW) is not costed")
    if no_power:
        missing.append("electricity not reported by the unit nor estimated (pumps, kiln drives, filters, "
                       "blowers) for: " + ", ".join(no_power))
    return Sizing(equipment=pd.DataFrame(rows), electricity=pd.DataFrame(elec, columns=["unit", "kW", "basis"]),
                  heat=pd.DataFrame(heat, columns=["unit", "heat [kW]", "T [°C]"]),
                  organic=pd.DataFrame(organic), missing=missing, process_steps=steps, scale=scale)


def _electricity(elec, no_power, name, reported, agitation, scale):
    if "electricity" in reported:
        elec.append({"unit": name, "kW": reported["electricity"] * scale, "basis": "reported by unit"})
    elif agitation > 0:
        elec.append({"unit": name, "kW": agitation, "basis": ESTIMATED_LABEL})
    else:
        no_power.append(name)
