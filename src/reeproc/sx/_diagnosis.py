"""Why a cascade solve failed or was refused: the diagnoses of ``Cascade.solve`` and the
batch paths, and their last attempt (continuations, :mod:`._fallback`).

* :func:`acidic_failure` - a converged state with a stage above pH ``PH_MAX`` (refused:
  ``NoAcidicSteadyStateError``);
* :func:`base_excess_note` - the over-saponification balance (a diagnosis, not a proof);
* :func:`accumulation_note` - a trace held between two sections beyond what double precision
  can balance (refused by ``MASS_TOL``);
* :func:`last_attempt` - the continuations of :func:`._fallback.solve_by_continuation` (or
  the base arclength of an over-saponified cascade) and what their end proves: an alkaline
  state, a stage's extractant balance losing its root (:func:`capacity_note`,
  :mod:`._capacity`; refused: ``ExtractantCapacityError``), or nothing.
"""
from __future__ import annotations

import math

import numpy as np

from . import _kernels as K
from ._capacity import flat, margins
from .results import MASS_TOL, PH_MAX


BASE_SPECIES = ("Na", "NH4+")   # the saponification's base, in the organic inlet


def base_excess(base_sp, z, sc, yin, O, fT, metal_in):
    """The over-saponification balance of :func:`base_excess_note`, for one cascade or
    many along a leading axis: ``base_sp`` (S,) marks the base species; z, sc, yin (..., S)
    charges, dimers bound per ion and organic inlet [mol/L]; O [L/h] and fT (...,) the
    organic flow and total extractant; ``metal_in`` (..., S) the feed and scrub's molar
    inflows [mol/h]. Returns the base B the organic brings, the metal M the feed and scrub
    bring, the extractant capacity C, the metal Y the organic inlet carries and the metal
    the organic can take up in exchange, min(M, C - Y), all [eq/h]."""
    zy = z * yin
    base = O * np.where(base_sp, zy, 0.0).sum(axis=-1)
    metal = np.where(base_sp, 0.0, z * metal_in).sum(axis=-1)
    per = np.where(~base_sp & (sc > 0), z / np.where(sc > 0, sc, 1.0), 0.0)
    cap = O * fT * per.max(axis=-1)
    carried = O * np.where(base_sp, 0.0, zy).sum(axis=-1)
    return base, metal, cap, carried, np.minimum(metal, np.maximum(cap - carried, 0.0))


def accumulation_note(asm, x, y, inflow, rel) -> tuple:
    """(why, species): why a steady state whose every stage balance is within tol leaves
    its overall balance above ``MASS_TOL``: the worst species, its imbalance and how far
    it builds up inside the cascade (largest flow through a stage [mol/h] over its
    inflow), from the cascade's overall balance (``Cascade._overall_balance``: inflow
    [mol/h] and |in - out| / in per species)."""
    a = asm["arrays"]
    i = int(np.argmax(rel))
    through = float(np.max(a["Lout"] * x[:, i] + a["O"] * y[:, i]))
    sp = asm["active"][i]
    return (f"SX cascade result rejected: every stage balance is within tol but the "
            f"overall balance of '{sp}' closes only to {rel[i]:.3e} of its inflow "
            f"(> {MASS_TOL:g}): {sp} builds up inside the cascade to "
            f"{through / inflow[i]:.3g} times its inflow through a stage (held between "
            "the sections: extracted in one, scrubbed or stripped back in the next), and "
            "double precision closes each stage's balance only to about 1e-16 of the "
            f"flows through it; give {sp} an exit (fewer scrub stages, another scrub acid "
            "or organic flow)"), sp


def acidic_failure(asm, h, nm) -> tuple:
    """('', ...) when every stage is acidic (pH <= PH_MAX), else (why, stage index, pH);
    ``nm`` the extraction and scrub stages (:func:`base_excess_note`)."""
    jmax = int(np.argmin(h))
    pH_max = float(-np.log10(h[jmax]))
    if pH_max <= PH_MAX:
        return "", jmax, pH_max
    return (f"no acidic steady state: stage {jmax + 1} would reach pH {pH_max:.2f} "
            f"([OH-] = {K.KW / h[jmax]:.3g} mol/L > [H+]); the cation-exchange model is "
            f"built for acidic liquor (pH <= {PH_MAX:g}; rare-earth hydroxides precipitate "
            "above)" + (base_excess_note(asm, nm) or
                        "; more base reaches the aqueous phase than the inlets bring acid "
                        "and extractable metal")), jmax, pH_max


def base_excess_note(asm, nm) -> str:
    """Diagnosis for a failed solve: can the loaded section neutralise the saponified
    organic's base? The base B [eq/h] released into the aqueous is taken up by the acid A
    of the feed and scrub and by the metal the organic loads in exchange, at most the
    metal's inflow M or the extractant's capacity C = O fT max_i(z_i / n_i) (n_i dimers
    bound per ion) less the metal the organic inlet already carries. B > A + min(M, C - Y)
    leaves no acidic raffinate unless the loaded organic carries Na out. ``nm``: the
    extraction and scrub stages (the feed and scrub's acid and metal enter there)."""
    a = asm["arrays"]
    base_sp = [sp in BASE_SPECIES for sp in asm["active"]]
    if not a["use_h"] or not any(base_sp):
        return ""   # no base in the organic: nothing to neutralise
    acid = float(asm["ext_h"][:nm].sum())
    base_sp = np.array(base_sp)
    base, metal, cap, carried, taken = (float(v) for v in base_excess(
        base_sp, a["z"], a["sc"], a["yin"], a["O"], a["fT"], a["ext"][:nm].sum(axis=0)))
    if base <= 0 or base <= acid + taken:
        return ""
    if taken < metal:
        why = (f"the loaded organic can take up at most {taken:.4g} eq/h of metal in "
               f"exchange (extractant capacity {cap:.4g} eq/h"
               + (f", {carried:.4g} eq/h already loaded at its inlet" if carried else "")
               + f"; the feed and scrub bring {metal:.4g} eq/h)")
    else:
        why = f"{metal:.4g} eq/h of extractable metal"
    return (f"; the saponified organic brings {base:.4g} eq/h of base but the feed and "
            f"scrub bring only {acid:.4g} eq/h of acid and {why}: unless the loaded "
            "organic carries part of the Na out (the solver found no such acidic state), "
            "the raffinate would turn alkaline (rare-earth hydroxides precipitate), outside "
            "this model: lower the saponification or the organic flow, or raise the scrub "
            "acid")


def last_attempt(asm, tol, max_iter, excess, n_picard) -> tuple:
    """Last attempt for a cascade with [H+] that every other attempt left unsolved:
    continuations in its sulfate, saponification, acid and organic flow
    (:func:`._fallback.solve_by_continuation`, budget ``max_iter`` per leg); for one
    diagnosed as over-saponified (``excess``, :func:`base_excess_note`) the
    pseudo-arclength in its base alone (:func:`._fallback.solve_by_arclength`). Returns (kernel
    returns or None when it does not apply, diagnosis '' or '; ...', the refusal it
    proves: 'alkaline' where the continuation reached an alkaline state, 'capacity' where
    the organic flow's ended at a stage's extractant balance losing its root, else '';
    the organic flow there [L/h], else NaN)."""
    a = asm["arrays"]
    if not a["use_h"]:
        return None, "", "", math.nan
    base = np.array([sp in BASE_SPECIES for sp in asm["active"]])
    from ._fallback import ACID_HIGH, solve_by_arclength, solve_by_continuation

    out = (solve_by_arclength if excess else solve_by_continuation)(
        a["Lout"], a["Lup"], a["O"], a["ext"], a["yin"], a["k0"], a["kf"], a["kh"],
        a["kfh"], a["sc"], a["z"], a["fT"], a["G"], a["Ts"], a["Ka"], a["eta"], a["use_h"],
        a["use_f"], base, float(tol), int(max_iter), n_picard, 10.0 ** -PH_MAX)
    leg, lam, why = out[9], out[10], out[11]
    if out[0] == K.OK or not leg:
        return out[:9], "", "", math.nan
    if leg == "sulfate":
        return out[:9], (
            f"; continued in the total sulfate from a sulfate-free start, the solver "
            f"follows the steady state up to {lam:.4g} of the sulfate and finds none "
            "beyond"), "", math.nan
    if leg == "organic":
        return (out[:9], capacity_note(asm, out, lam, why),
                "capacity" if why == "capacity" else "", lam * a["O"])
    eq = a["O"] * float(np.dot(a["z"][base], a["yin"][base]))
    what, how = {
        "base": (f"{lam:.4g} of the organic inlet's base ({lam * eq:.4g} of {eq:.4g} eq/h)",
                 "in saponification from the nearly unsaponified cascade"),
        "acid": (f"{ACID_HIGH - (ACID_HIGH - 1.0) * lam:.4g} times the aqueous inlets' acid",
                 f"in the acid from {ACID_HIGH:g} times the aqueous inlets' acid"),
    }.get(leg, (f"{lam:.4g} of every inlet's metal and base",
                "in the loading (every inlet's metal and base scaled together) from "
                "nearly unloaded"))
    h = out[7]
    j = int(np.argmin(h))
    if h[j] < 10.0 ** -PH_MAX:
        return out[:9], (
            f"; continued {how}, the steady state turns alkaline (stage {j + 1} at pH "
            f"{-math.log10(h[j]):.2f}) at {what}: the base the loaded section cannot "
            "neutralise goes to the raffinate; lower the saponification or the organic "
            "flow, or raise the scrub acid"), "alkaline", math.nan
    if why == "fold":
        note = (f"; continued {how} by pseudo-arclength, the acidic steady state turns back "
                f"(a fold) at {what}: on this branch there is no steady state beyond it")
    else:
        note = (f"; continued {how}, the solver follows the acidic steady state up to {what} "
                f"(highest stage pH there {-math.log10(h[j]):.2f}) and finds none beyond")
    return out[:9], note, "", math.nan


def capacity_note(asm, out, share, why) -> str:
    """The diagnosis of the organic-flow leg of the last attempt (its last solved state
    ``out`` at ``share`` times the cascade's organic flow; ``why`` 'capacity' where a
    stage's extractant balance is there losing its root, :mod:`._capacity`)."""
    a = asm["arrays"]
    O = a["O"]
    start = (f"; continued in the organic flow down from a flow that solves, the "
             f"solver follows the steady state down to {share * O:.4g} L/h ({share:.4g} "
             f"times this cascade's {O:.4g} L/h)")
    if why != "capacity":
        return start + " and finds none beyond"
    least, where = margins(out[5], out[7], a["k0"], a["kf"], a["kh"], a["kfh"], a["sc"],
                           a["fT"])
    j = int(np.argmax(least))
    names = [sp for sp, fl in zip(asm["active"], flat(a["kf"])) if fl]
    return (f"{start}, where stage {j + 1}'s extractant balance loses its root "
            f"({1.0 - where[j]:.1%} of the extractant bound there): below that flow this "
            "model has no steady state with each stage's free extractant on the largest "
            f"root of its balance, since the distribution ratios of {', '.join(names)} do "
            "not fall as the free extractant is used up (no loading limit) and the "
            f"organic would load past its extractant; raise the organic flow above "
            f"{share * O:.4g} L/h or the dosage, or use a model with a loading limit "
            "(MassAction)")
