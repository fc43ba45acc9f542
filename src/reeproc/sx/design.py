"""Design tools for SX cascades: Kremser, Fenske, Xu's minimum reflux, McCabe-Thiele, stage design.

Conventions for a binary split: A is the MORE extractable component (goes to the organic product,
e.g. Nd in Pr/Nd with PC88A), B the less extractable one (raffinate product); the separation
factor is beta = D_A/D_B > 1. Flows in Xu's theory are in mol RE per mol RE fed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..stream import Stream

__all__ = ["kremser", "kremser_stages", "fenske", "xu_minimum_reflux", "xu_stages",
           "mccabe_thiele", "design", "DesignResult"]


def _num(v, name, lo=None, hi=None, lo_open=True, hi_open=True):
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={v!r} must be a number") from None
    if not math.isfinite(x):
        raise ValueError(f"{name}={v!r} must be finite")
    if lo is not None and (x <= lo if lo_open else x < lo):
        raise ValueError(f"{name}={x} must be {'>' if lo_open else '>='} {lo}")
    if hi is not None and (x >= hi if hi_open else x > hi):
        raise ValueError(f"{name}={x} must be {'<' if hi_open else '<='} {hi}")
    return x


def kremser(E: float, N: int) -> float:
    """Fraction of a solute left in the raffinate after N counter-current stages.

    ``phi = (E - 1)/(E^(N+1) - 1)`` with the extraction factor ``E = D*O/A`` [-] constant over
    the section and solute-free entering organic (Kremser-Brown-Souders); ``1/(N+1)`` at E = 1.

    Parameters
    ----------
    E : float
        Extraction factor D * (organic flow / aqueous flow) [-], > 0.
    N : int
        Number of equilibrium stages, >= 1.
    """
    E = _num(E, "E", 0.0)
    if isinstance(N, bool) or int(N) != N or N < 1:
        raise ValueError(f"N={N!r} must be an integer >= 1")
    lnE = math.log(E)
    if lnE == 0.0:
        return 1.0 / (N + 1)
    # (E-1)/(E^(N+1)-1) written with expm1 for accuracy near E = 1
    return math.expm1(lnE) / math.expm1((N + 1) * lnE)


def kremser_stages(E: float, fraction_left: float) -> float:
    """Stages N (real) for which a section of extraction factor E leaves ``fraction_left``."""
    E = _num(E, "E", 0.0)
    phi = _num(fraction_left, "fraction_left", 0.0, 1.0)
    if abs(E - 1.0) < 1e-12:
        return 1.0 / phi - 1.0
    arg = 1.0 + (E - 1.0) / phi
    if arg <= 0:
        raise ValueError(f"fraction_left={phi} cannot be reached with E={E} (minimum "
                         f"{1 - 1 / E:.4g} at infinitely many stages)")
    return math.log(arg) / math.log(E) - 1.0


def fenske(beta: float, purity_a: float, purity_b: float | None = None) -> float:
    """Minimum number of stages at total reflux for a binary split (Fenske).

    ``N_min = ln[(P_A/(1-P_A)) * (P_B/(1-P_B))] / ln(beta)``, with P_A the purity of A in the
    organic product and P_B the purity of B in the aqueous product (molar fractions).

    Parameters
    ----------
    beta : float
        Separation factor D_A/D_B [-], > 1.
    purity_a, purity_b : float
        Product purities in (0.5, 1); purity_b defaults to purity_a.
    """
    beta = _num(beta, "beta", 1.0)
    pa = _num(purity_a, "purity_a", 0.0, 1.0)
    pb = pa if purity_b is None else _num(purity_b, "purity_b", 0.0, 1.0)
    return math.log((pa / (1 - pa)) * (pb / (1 - pb))) / math.log(beta)


def xu_minimum_reflux(beta: float, f_a: float, purity_a: float = 0.995,
                      recovery_a: float = 1.0) -> dict:
    """Minimum extraction and scrub amounts for a binary split with aqueous feed (Xu's theory).

    Under Xu Guangxian's feed-stage hypothesis (aqueous composition at the feed stage equals the
    feed) with constant beta, for an aqueous feed and an organic product of purity P_A
    (form given in Zhang, Zhao & Schreiner, *Separation Hydrometallurgy of Rare Earth Elements*,
    Springer 2016, ch. on counter-current theory; equivalent to Underwood for a q = 1 feed; cf.
    Cheng et al., Adv. Mater. Phys. Chem. 4 (2014) 275)::

        y_A   = beta f_A / (beta f_A + f_B)          (organic in equilibrium with the feed)
        W_min = f'_A (P_A - y_A) / (y_A - f_A)       (RE scrubbed back per mol feed)
        S_min = W_min + f'_A                         (RE loaded in the organic per mol feed)

    with f'_A = f_A R_A / P_A the fraction of the feed leaving in the organic product.

    Returns
    -------
    dict with S_min, W_min, f_org (= f'_A), E_M (= S/(W+1), extraction section mixed extraction
    ratio) and E_M_scrub (= S/W) at minimum reflux, and y_A.
    """
    beta = _num(beta, "beta", 1.0)
    fa = _num(f_a, "f_a", 0.0, 1.0)
    pa = _num(purity_a, "purity_a", 0.0, 1.0)
    ra = _num(recovery_a, "recovery_a", 0.0, 1.0, hi_open=False)
    fb = 1.0 - fa
    ya = beta * fa / (beta * fa + fb)
    if pa <= fa:
        raise ValueError(f"purity_a={pa} must exceed the feed fraction f_a={fa}")
    f_org = fa * ra / pa
    w_min = max(f_org * (pa - ya) / (ya - fa), 0.0)
    s_min = w_min + f_org
    return dict(S_min=s_min, W_min=w_min, f_org=f_org, y_A=ya,
                E_M=s_min / (w_min + 1.0), E_M_scrub=s_min / w_min if w_min > 0 else math.inf)


def xu_stages(beta: float, f_a: float, purity_a: float, purity_b: float, S: float,
              W: float, beta_scrub: float | None = None) -> dict:
    """Extraction (n) and scrub (m) stage numbers from Xu's equations (aqueous feed).

    ``n = lg b / lg(beta E_M)`` and ``m + 1 = lg a / lg(beta'/E'_M)`` with E_M = S/(W+1),
    E'_M = S/W and the purification factors a = [P_A/(1-P_A)]/(f_A/f_B),
    b = [P_B/(1-P_B)]/(f_B/f_A) (Zhang, Zhao & Schreiner 2016, as quoted second-hand; the
    book's own worked example differs by ~10 %: validate against :class:`Cascade`).
    """
    beta = _num(beta, "beta", 1.0)
    bs = beta if beta_scrub is None else _num(beta_scrub, "beta_scrub", 1.0)
    fa = _num(f_a, "f_a", 0.0, 1.0)
    pa = _num(purity_a, "purity_a", 0.0, 1.0)
    pb = _num(purity_b, "purity_b", 0.0, 1.0)
    S = _num(S, "S", 0.0)
    W = _num(W, "W", 0.0)
    fb = 1 - fa
    a = (pa / (1 - pa)) / (fa / fb)
    b = (pb / (1 - pb)) / (fb / fa)
    em, ems = S / (W + 1), S / W
    if beta * em <= 1 or bs / ems <= 1:
        raise ValueError(f"S={S}, W={W} give beta*E_M={beta * em:.3g} and "
                         f"beta'/E'_M={bs / ems:.3g}: both must exceed 1 (reflux below minimum)")
    n = math.log10(b) / math.log10(beta * em)
    m = math.log10(a) / math.log10(bs / ems) - 1
    return dict(n=n, m=m, E_M=em, E_M_scrub=ems)


def mccabe_thiele(beta: float, f_a: float, purity_a: float, purity_b: float, S: float,
                  W: float, ax=None, max_stages: int = 1000):
    """McCabe-Thiele construction for a binary fractional-extraction split (constant beta).

    Compositions are the fraction of A among A + B. Equilibrium: ``y = beta x/(1 + (beta-1) x)``.
    Operating lines (aqueous feed, flows per mol feed, scrub solution free of RE):

    * extraction section (stages 1..n): ``(W+1) x_{j+1} = S y_j + (W+1-S) x_R``
    * scrub section (stages n+1..n+m): ``W x_{j+1} = S y_j - (S-W) y_P``

    with x_R the A fraction of the raffinate and y_P that of the organic product, both from the
    overall balance at the requested purities. Stages are stepped from the raffinate end and the
    scrub line is used once the operating point passes the feed composition.

    Returns
    -------
    (fig, ax, n_extraction, m_scrub)
    """
    import matplotlib
    if ax is None:
        matplotlib.use(matplotlib.get_backend())
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(5, 5))
    else:
        fig = ax.figure
    beta = _num(beta, "beta", 1.0)
    fa = _num(f_a, "f_a", 0.0, 1.0)
    pa = _num(purity_a, "purity_a", 0.0, 1.0)
    pb = _num(purity_b, "purity_b", 0.0, 1.0)
    S = _num(S, "S", 0.0)
    W = _num(W, "W", 0.0)
    xr, yp = 1 - pb, pa
    # product split from the overall A balance: P yp + R xr = fa, P + R = 1
    P = (fa - xr) / (yp - xr)
    if not 0 < P < 1:
        raise ValueError("purities inconsistent with the feed composition")
    if abs((S - W) - P) > 1e-9 * max(1.0, S):
        W = S - P  # the balance fixes W from S
    eq = lambda x: beta * x / (1 + (beta - 1) * x)  # noqa: E731
    xs = np.linspace(0, 1, 201)
    ax.plot(xs, eq(xs), "k-", label=f"equilibrium (beta={beta:g})")
    ax.plot([0, 1], [0, 1], color="0.6", lw=0.8)
    xe = np.linspace(xr, fa, 50)
    ax.plot(xe, ((W + 1) * xe - (W + 1 - S) * xr) / S, "b--", label="extraction line")
    xsr = np.linspace(fa, yp, 50)
    ax.plot(xsr, (W * xsr + (S - W) * yp) / S, "r--", label="scrub line")
    x = xr
    n = m = 0
    in_scrub = False
    for _ in range(max_stages):
        y = eq(x)
        if in_scrub:
            m += 1
        else:
            n += 1
        if y >= yp:
            ax.plot([x, x], [x if n + m == 1 else ax_prev, y], "g-", lw=0.8)
            break
        xn = ((S * y + (W + 1 - S) * xr) / (W + 1)) if not in_scrub else (S * y - (S - W) * yp) / W
        if not in_scrub and xn >= fa:
            in_scrub = True
            xn = (S * y - (S - W) * yp) / W
        ax.plot([x, x, xn], [x if n + m == 1 else ax_prev, y, y], "g-", lw=0.8)
        ax_prev = y
        if xn <= x:
            raise ValueError(f"pinch: operating lines touch the equilibrium curve (S={S}, W={W}"
                             "); increase the reflux")
        x = xn
    else:
        raise ValueError(f"more than {max_stages} stages needed; increase the reflux")
    ax.set_xlabel("A fraction among RE, aqueous")
    ax.set_ylabel("A fraction among RE, organic")
    ax.set_title(f"McCabe-Thiele: n={n}, m={m}")
    ax.legend(loc="lower right", fontsize=8)
    return fig, ax, n, m


@dataclass
class DesignResult:
    """Result of :func:`design`.

    Attributes
    ----------
    extraction, scrub : int
        Stage counts found.
    organic_flow, scrub_flow : float
        Organic and scrub flows [L/h].
    purity_light, purity_heavy : float
        Purity of the light (raffinate) and heavy (loaded organic) products [-].
    recovery_light, recovery_heavy : float
    fenske_min : float
        Fenske minimum stages with the model's separation factor at the feed conditions.
    result : CascadeResult
    n_solves : int
    """

    extraction: int
    scrub: int
    organic_flow: float
    scrub_flow: float
    purity_light: float
    purity_heavy: float
    recovery_light: float
    recovery_heavy: float
    fenske_min: float
    result: object
    n_solves: int

    @property
    def total_stages(self) -> int:
        return self.extraction + self.scrub


def design(model, feed: Stream, organic: Stream, scrub: Stream, split: tuple,
           purity: float = 0.995, recovery: float = 0.95, organic_flows=None, scrub_flows=None,
           max_stages: int = 150) -> DesignResult:
    """Smallest extraction + scrub stage counts (and flows) that reach a purity/recovery target.

    For a named split ``(light, heavy)`` (heavy = more extractable, leaves in the loaded organic),
    requires purity of heavy in the loaded organic and of light in the raffinate >= ``purity``,
    and recovery of each to its product >= ``recovery``. For each (organic flow, scrub flow)
    candidate the stage counts are found with the solver by alternating bisection on n (raffinate
    targets) and m (organic targets) - purity rises monotonically with stages - and the candidate
    with the fewest total stages is returned.

    Parameters
    ----------
    model : EquilibriumModel
    feed, organic, scrub : Stream
        Templates: their compositions are used; organic and scrub flows are design variables.
    split : (str, str)
        (light, heavy) species.
    purity, recovery : float
        Targets in (0, 1).
    organic_flows, scrub_flows : sequence of float, optional
        Candidate flows [L/h] (defaults: multiples of the feed flow).
    max_stages : int
        Upper bound for n and for m.

    Raises
    ------
    ValueError
        If no candidate reaches the targets within ``max_stages`` (infeasible target).
    """
    from .cascade import Cascade, ConvergenceError

    if not (isinstance(split, (tuple, list)) and len(split) == 2):
        raise ValueError(f"split={split!r} must be a (light, heavy) pair of species")
    light, heavy = split
    for sp in split:
        if sp not in model.species:
            raise ValueError(f"split species {sp!r} is not extracted by {model!r}")
        if feed.mol_h.get(sp, 0.0) <= 0:
            raise ValueError(f"split species {sp!r} is not in the feed")
    purity = _num(purity, "purity", 0.0, 1.0)
    recovery = _num(recovery, "recovery", 0.0, 1.0)
    F = feed.flow_L_h
    if organic_flows is None:
        organic_flows = F * np.array([1.0, 1.5, 2.0, 3.0, 4.0])
    if scrub_flows is None:
        scrub_flows = F * np.array([0.1, 0.2, 0.3, 0.5])
    for v in list(organic_flows) + list(scrub_flows):
        _num(v, "flow [L/h]", 0.0)
    n_solves = 0

    def run(n, m, O, Sc):
        nonlocal n_solves
        n_solves += 1
        cas = Cascade(model, extraction=n, scrub=m)
        try:
            r = cas.solve(feed=feed, organic=Stream.organic(O, organic.conc_mol_L),
                          scrub=Stream.aqueous(Sc, scrub.conc_mol_L))
        except ConvergenceError:
            return None
        return r

    def scores(r):
        pl = r.purity(light, "raffinate", basis=split)
        ph = r.purity(heavy, "loaded_organic", basis=split)
        rl = r.recovery(light, "raffinate")
        rh = r.recovery(heavy, "loaded_organic")
        return pl, ph, rl, rh

    def ok_raff(s):
        return s[0] >= purity and s[3] >= recovery

    def ok_org(s):
        return s[1] >= purity and s[2] >= recovery

    def smallest(pred, lo, hi, make):
        """Smallest k in [lo, hi] with pred(make(k)) True (monotone), or None."""
        r = make(hi)
        if r is None or not pred(scores(r)):
            return None, None
        best = (hi, r)
        while hi - lo > 0:
            mid = (lo + hi) // 2
            r = make(mid)
            if r is not None and pred(scores(r)):
                hi = mid
                best = (mid, r)
            else:
                lo = mid + 1
        return best

    best = None
    for O in organic_flows:
        for Sc in scrub_flows:
            r = run(max_stages, max_stages, O, Sc)
            if r is None:
                continue
            s = scores(r)
            if not (ok_raff(s) and ok_org(s)):
                continue
            n, m = max_stages, max_stages
            for _ in range(4):
                n_new, _r = smallest(lambda s: ok_raff(s) and ok_org(s), 1, n,
                                     lambda k: run(k, m, O, Sc))
                if n_new is None:
                    break
                m_new, rr = smallest(lambda s: ok_raff(s) and ok_org(s), 1, m,
                                     lambda k: run(n_new, k, O, Sc))
                if m_new is None:
                    break
                if (n_new, m_new) == (n, m):
                    break
                n, m = n_new, m_new
            rfin = run(n, m, O, Sc)
            if rfin is None:
                continue
            s = scores(rfin)
            if not (ok_raff(s) and ok_org(s)):
                continue
            key = (n + m, O, Sc)
            if best is None or key < best[0]:
                best = (key, n, m, O, Sc, rfin, s)
    if best is None:
        raise ValueError(
            f"infeasible target: no organic flow in {list(organic_flows)} L/h and scrub flow in "
            f"{list(scrub_flows)} L/h reaches purity {purity} and recovery {recovery} for "
            f"{light}/{heavy} within {max_stages} extraction and {max_stages} scrub stages")
    _, n, m, O, Sc, r, s = best
    beta = float((r.D_profile[heavy] / r.D_profile[light]).iloc[model_stage(r)])
    return DesignResult(extraction=n, scrub=m, organic_flow=float(O), scrub_flow=float(Sc),
                        purity_light=s[0], purity_heavy=s[1], recovery_light=s[2],
                        recovery_heavy=s[3], fenske_min=fenske(beta, purity) if beta > 1
                        else math.nan, result=r, n_solves=n_solves)


def model_stage(r) -> int:
    """Index (0-based) of the feed stage (last extraction stage) in a result's profiles."""
    return r.sections["extraction"][1] - 1
