r"""Stream enthalpies and unit energy balances.

Every unit that calls :func:`energy_balance` reports its heat duty as

.. math::  Q = \sum_{out} H - \sum_{in} H \qquad [\mathrm{kW}]

(+ = heat supplied to the unit), with the enthalpy of each stream including formation, so that
reaction heats and sensible heats are counted together:

* solids (``property_data/thermo_solids.csv``):
  :math:`H = n\,[\Delta_f H^\circ + a(T-T_0) + \tfrac b2 (T^2 - T_0^2)]`;
* liquors (``property_data/thermo_aqueous.csv``): :math:`H = \sum n_i \Delta_f H_i^\circ` at
  infinite dilution plus the sensible heat of the solution taken as that of its water,
  :math:`n_{H_2O}\,c_{p,H_2O}(T - T_0)` (stated approximation: heats of dilution and ion
  association neglected);
* gases: NASA polynomials of Cantera's ``nasa_gas.yaml`` (formation enthalpy included).

A species without data raises :class:`~reeproc.data.MissingDataError` naming table and species;
:func:`energy_balance` turns it into a duty of NaN and a note, never a zero.
"""
from __future__ import annotations

import functools
import math

from ..data import MissingDataError, load_table
from ..stream import Stream

__all__ = ["stream_enthalpy_kJ_h", "solid_enthalpy_kJ_mol", "gas_enthalpy_kJ_mol",
           "nasa_gas_species", "energy_balance", "GAS_NAMES", "T0"]

T0 = 298.15
#: reeproc gas species -> name in Cantera's nasa_gas.yaml
GAS_NAMES = {"O2": "O2", "N2": "N2", "Ar": "Ar", "H2O": "H2O", "CO": "CO", "CO2": "CO2", "H2": "H2",
             "HCl": "HCL", "SO2": "SO2", "NH3": "NH3", "Cl2": "CL2", "CH4": "CH4"}


@functools.cache
def _solids() -> dict:
    df = load_table("thermo_solids")
    return {r.species: (float(r.dHf__kJ_mol), float(r.cp_a__J_mol_K), float(r.cp_b__J_mol_K_K))
            for r in df.itertuples(index=False)}


@functools.cache
def _aqueous() -> dict:
    df = load_table("thermo_aqueous")
    return {r.species: float(r.dHf__kJ_mol) for r in df.itertuples(index=False)}


def solid_enthalpy_kJ_mol(species: str, T_K: float) -> float:
    """Enthalpy of a condensed species, formation included [kJ/mol]."""
    row = _solids().get(species)
    if row is None and abs(T_K - T0) < 1e-9 and _is_element(species):
        return 0.0  # element in its standard state
    if row is None or math.isnan(row[0]):
        raise MissingDataError(f"property_data/thermo_solids.csv has no enthalpy of formation for "
                               f"solid '{species}' (needed for an energy balance)")
    dHf, a, b = row
    if abs(T_K - T0) < 1e-9:
        return dHf
    if math.isnan(a) or math.isnan(b):
        raise MissingDataError(f"property_data/thermo_solids.csv has no heat capacity for solid "
                               f"'{species}' (needed at {T_K - 273.15:.1f} °C for an energy balance)")
    return dHf + (a * (T_K - T0) + 0.5 * b * (T_K ** 2 - T0 ** 2)) / 1000.0


@functools.lru_cache(maxsize=512)
def _is_element(species: str) -> bool:
    from ..species import parse_formula
    f = parse_formula(species)
    return len(f) == 1 and species in f


@functools.cache
def nasa_gas_species() -> dict:
    """Cantera species of Cantera's nasa_gas.yaml for every gas of ``GAS_NAMES``, by their
    Cantera name.

    The file holds 748 species; Cantera parses only the YAML blocks of the mapped ones (the
    same NASA-7 data; parsing the whole file was a visible part of a CLI start,
    benchmarks/test_bench_cli.py). If the file's layout is not the one expected, the whole
    file is read. A mapped name the file lacks raises
    ``MissingDataError``.
    """
    import os

    import cantera as ct

    wanted = set(GAS_NAMES.values())
    path = next((os.path.join(d, "nasa_gas.yaml") for d in ct.get_data_directories()
                 if os.path.isfile(os.path.join(d, "nasa_gas.yaml"))), None)
    if path is not None:
        with open(path, encoding="utf-8") as fh:
            body = fh.read().partition("\nspecies:\n")[2]
        blocks = [b for b in body.split("\n- name: ")[1:] if b.split("\n", 1)[0].strip() in wanted]
        if len(blocks) == len(wanted):
            text = "species:\n" + "".join(f"- name: {b.rstrip()}\n" for b in blocks)
            return {s.name: s for s in ct.Species.list_from_yaml(text, section="species")}
    found = {s.name: s for s in ct.Species.list_from_file("nasa_gas.yaml") if s.name in wanted}
    missing = sorted(wanted - set(found))
    if missing:
        raise MissingDataError(f"Cantera's nasa_gas.yaml has no species {missing}")
    return found


@functools.lru_cache(maxsize=4096)
def gas_enthalpy_kJ_mol(name: str, T_K: float) -> float:
    """Enthalpy of the ideal gas ``name`` (a key of ``GAS_NAMES``), formation included, from
    Cantera's nasa_gas.yaml [kJ/mol]."""
    if name not in GAS_NAMES:
        raise MissingDataError(f"no gas-phase enthalpy for '{name}' (not mapped to nasa_gas.yaml)")
    return nasa_gas_species()[GAS_NAMES[name]].thermo.h(T_K) / 1e6


def stream_enthalpy_kJ_h(stream: Stream) -> float:
    """Enthalpy flow of a stream, formation included [kJ/h] (see module docstring)."""
    T = stream.T_K
    h = 0.0
    if stream.phase == "solid":
        for sp, n in stream.mol_h.items():
            if n:
                h += n * solid_enthalpy_kJ_mol(sp, T)
        return h
    if stream.phase == "gas":
        for sp, n in stream.mol_h.items():
            if n:
                h += n * gas_enthalpy_kJ_mol(sp, T)
        return h
    if stream.phase == "aqueous":
        tab = _aqueous()
        for sp, n in stream.mol_h.items():
            if not n:
                continue
            if sp not in tab or math.isnan(tab[sp]):
                raise MissingDataError(f"property_data/thermo_aqueous.csv has no enthalpy of "
                                       f"formation for dissolved '{sp}' (needed for an energy balance)")
            h += n * tab[sp]
        cp_w = _solids()["H2O"][1]
        return h + stream.mol_h.get("H2O", 0.0) * cp_w * (T - T0) / 1000.0
    raise MissingDataError(f"no enthalpy model for a {stream.phase} stream ({stream.name!r})")


def energy_balance(inlets, outlets) -> tuple[float, str | None]:
    """Heat duty :math:`\\sum H_{out} - \\sum H_{in}` [kW] and None, or NaN and the reason.

    Parameters
    ----------
    inlets, outlets : iterables of Stream
        Everything entering (feeds, reagents, air) and leaving the unit.
    """
    try:
        h_in = sum(stream_enthalpy_kJ_h(s) for s in inlets if s is not None)
        h_out = sum(stream_enthalpy_kJ_h(s) for s in outlets if s is not None)
    except MissingDataError as exc:
        return float("nan"), f"heat duty not computed: {exc}"
    return (h_out - h_in) / 3600.0, None
