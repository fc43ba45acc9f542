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

__all__ = ["kremser", "kremser_stages", "fenske", "fenske_sections", "xu_minimum_reflux",
           "xu_stages", "mccabe_thiele", "design", "design_balanced", "DesignResult"]


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
    big = (N + 1) * lnE
    if big > 700.0:   # E^(N+1) beyond the double range: (E - 1) E^-(N+1) (underflows to 0)
        return math.exp(math.log(math.expm1(lnE)) - big) if lnE > 0 else 0.0
    return math.expm1(lnE) / math.expm1(big)


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


def fenske_sections(beta: float, f_a: float, purity_a: float,
                    purity_b: float | None = None) -> tuple[float, float]:
    """Minimum extraction and scrub stages at total reflux, per section (Fenske with Xu's
    feed-stage hypothesis: the aqueous at the feed stage has the feed's composition).

    ``n_extraction = ln[(f_A/f_B) P_B/(1-P_B)] / ln(beta)`` takes B in the raffinate to P_B;
    ``n_scrub = ln[(P_A/(1-P_A)) / (f_A/f_B)] / ln(beta)`` takes A in the organic to P_A; the two
    add up to :func:`fenske`. Either is 0 when the feed is already purer than its product.

    Parameters
    ----------
    beta : float
        Separation factor D_A/D_B [-], > 1.
    f_a : float
        Molar fraction of A among A + B in the feed [-], in (0, 1).
    purity_a, purity_b : float
        Organic (A) and raffinate (B) product purities [-]; purity_b defaults to purity_a.
    """
    beta = _num(beta, "beta", 1.0)
    fa = _num(f_a, "f_a", 0.0, 1.0)
    pa = _num(purity_a, "purity_a", 0.0, 1.0)
    pb = pa if purity_b is None else _num(purity_b, "purity_b", 0.0, 1.0)
    ratio, lb = fa / (1.0 - fa), math.log(beta)
    return (max(0.0, math.log(ratio * pb / (1 - pb)) / lb),
            max(0.0, math.log(pa / (1 - pa) / ratio) / lb))


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
    ax_prev = x  # y of the previous step's horizontal line (the first riser starts on y = x)
    for _ in range(max_stages):
        y = eq(x)
        if in_scrub:
            m += 1
        else:
            n += 1
        if y >= yp:
            ax.plot([x, x], [ax_prev, y], "g-", lw=0.8)
            break
        xn = ((S * y + (W + 1 - S) * xr) / (W + 1)) if not in_scrub else (S * y - (S - W) * yp) / W
        if not in_scrub and xn >= fa:
            in_scrub = True
            xn = (S * y - (S - W) * yp) / W
        ax.plot([x, x, xn], [ax_prev, y, y], "g-", lw=0.8)
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


def _check_split(model, feed, split, purity, recovery):
    """Validated (light, heavy, purity, recovery) of a binary-split design request."""
    if not (isinstance(split, (tuple, list)) and len(split) == 2):
        raise ValueError(f"split={split!r} must be a (light, heavy) pair of species")
    for sp in split:
        if sp not in model.species:
            raise ValueError(f"split species {sp!r} is not extracted by {model!r}")
        if feed.mol_h.get(sp, 0.0) <= 0:
            raise ValueError(f"split species {sp!r} is not in the feed")
    return (split[0], split[1], _num(purity, "purity", 0.0, 1.0),
            _num(recovery, "recovery", 0.0, 1.0))


def _failed_note(n_failed, n_solves) -> str:
    """Part of an infeasibility message: how many solves did not converge (counted as misses)."""
    if not n_failed:
        return ""
    return (f"; {n_failed} of {n_solves} cascade solves did not converge and were counted as "
            "misses (re-solve one with Cascade.solve to see why)")


def _design_result(best, split, purity, n_solves) -> DesignResult:
    """DesignResult from the winning (key, n, m, O, Sc, result, scores) of a design search; the
    Fenske minimum uses the model's separation factor at the feed stage."""
    _, n, m, O, Sc, r, s = best
    light, heavy = split
    beta = float((r.D_profile[heavy] / r.D_profile[light]).iloc[model_stage(r)])
    return DesignResult(extraction=n, scrub=m, organic_flow=float(O), scrub_flow=float(Sc),
                        purity_light=s[0], purity_heavy=s[1], recovery_light=s[2],
                        recovery_heavy=s[3], fenske_min=fenske(beta, purity) if beta > 1
                        else math.nan, result=r, n_solves=n_solves)


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

    light, heavy, purity, recovery = _check_split(model, feed, split, purity, recovery)
    F = feed.flow_L_h
    if organic_flows is None:
        organic_flows = F * np.array([1.0, 1.5, 2.0, 3.0, 4.0])
    if scrub_flows is None:
        scrub_flows = F * np.array([0.1, 0.2, 0.3, 0.5])
    for v in list(organic_flows) + list(scrub_flows):
        _num(v, "flow [L/h]", 0.0)
    n_solves = n_failed = 0

    def run(n, m, O, Sc):
        nonlocal n_solves, n_failed
        n_solves += 1
        cas = Cascade(model, extraction=n, scrub=m)
        try:
            r = cas.solve(feed=feed, organic=Stream.organic(O, organic.conc_mol_L),
                          scrub=Stream.aqueous(Sc, scrub.conc_mol_L))
        except ConvergenceError:
            n_failed += 1  # counted as a miss, and reported if nothing is found
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
            f"{light}/{heavy} within {max_stages} extraction and {max_stages} scrub stages"
            f"{_failed_note(n_failed, n_solves)}")
    return _design_result(best, split, purity, n_solves)


def model_stage(r) -> int:
    """Index (0-based) of the feed stage (last extraction stage) in a result's profiles."""
    return r.sections["extraction"][1] - 1


def design_balanced(model, feed: Stream, organic: Stream, scrub: Stream, split: tuple,
                    organic_flows, purity: float = 0.995, recovery: float = 0.95,
                    scrub_bracket=None, max_stages: int = 150, section_ratio: float = 1.0,
                    rtol_flow: float = 1e-6, max_iter: int = 20000) -> DesignResult:
    """Smallest stage count for a binary split with the scrub flow solved for, not gridded.

    Near the targets a binary split sits on a knife edge: both products reach 99.5 % only
    when the heavy-element flow sent to the organic product matches the heavy element fed to
    within the impurity allowance, so a grid of scrub flows (as in :func:`design`) usually
    steps over the narrow window. Here, for each organic flow and stage count, the scrub
    flow [L/h] is found by Brent's method (``scipy.optimize.brentq``) so that each element
    is recovered equally to its own product, in logit terms (the "balanced" cascade; each
    solve starts from the nearest solved neighbour), and the total stage
    count ``n + m`` (with ``m = round(section_ratio * n)``) is bisected to the smallest that
    meets the purity and recovery targets. Purity rises monotonically with stages at a
    balanced scrub flow, which makes the bisection sound.

    Parameters
    ----------
    model, feed, organic, scrub, split, purity, recovery
        As in :func:`design` (``scrub`` is a composition template; its flow is solved for).
    organic_flows : sequence of float
        Organic flows to try [L/h]; the one needing fewest stages wins.
    scrub_bracket : (float, float), optional
        Scrub flows [L/h] that bracket the balance (default 0.01 to 5 x the feed flow).
    max_stages : int
        Upper bound for the total stage count n + m.
    section_ratio : float
        Scrub stages per extraction stage (m = round(ratio * n), at least 1).
    rtol_flow : float
        Relative tolerance on the balanced scrub flow.
    max_iter : int
        Iteration limit handed to each cascade solve.

    Returns
    -------
    DesignResult

    Raises
    ------
    ValueError
        If no organic flow balances within the bracket or no stage count up to ``max_stages``
        reaches the targets (the message names the best purity reached).
    """
    from scipy.optimize import brentq

    from .cascade import Cascade, ConvergenceError

    light, heavy, purity, recovery = _check_split(model, feed, split, purity, recovery)
    section_ratio = _num(section_ratio, "section_ratio", 0.0)
    F = feed.flow_L_h
    lo_b, hi_b = scrub_bracket if scrub_bracket is not None else (0.01 * F, 5.0 * F)
    lo_b = _num(lo_b, "scrub_bracket[0] [L/h]", 0.0)
    hi_b = _num(hi_b, "scrub_bracket[1] [L/h]", lo_b)
    organic_flows = [_num(v, "organic flow [L/h]", 0.0) for v in organic_flows]
    if not organic_flows:
        raise ValueError("organic_flows must name at least one organic flow [L/h]")
    if int(max_stages) != max_stages or max_stages < 2:
        raise ValueError(f"max_stages={max_stages!r} must be an integer >= 2")
    n_solves = n_failed = 0

    def stages(k):
        n = max(1, int(round(k / (1.0 + section_ratio))))
        return n, max(1, k - n)

    def solve(n, m, O, Sc, x0=None):
        nonlocal n_solves, n_failed
        cas = Cascade(model, extraction=n, scrub=m)
        kw = dict(feed=feed, organic=Stream.organic(O, organic.conc_mol_L),
                  scrub=Stream.aqueous(Sc, scrub.conc_mol_L), max_iter=max_iter)
        # warm start from the nearest solved neighbour (a few Newton steps instead of a
        # pseudo-transient crawl from the cold start), cold start if that fails
        for guess in ((x0, None) if x0 is not None else (None,)):
            n_solves += 1
            try:
                return cas.solve(initial_guess=guess, **kw)
            except ConvergenceError:
                continue
        n_failed += 1  # counted as a miss, and reported if nothing is found
        return None

    def scores(r):
        return (r.purity(light, "raffinate", basis=split),
                r.purity(heavy, "loaded_organic", basis=split),
                r.recovery(light, "raffinate"), r.recovery(heavy, "loaded_organic"))

    def logit(p):
        p = min(max(p, 1e-15), 1.0 - 1e-15)
        return math.log(p / (1.0 - p))

    def balanced(n, m, O):
        """Scrub flow balancing the two purities, and the result there (or None)."""
        cache = {}

        def g(Sc):
            x0 = None
            if cache:
                near = min(cache, key=lambda v: abs(v - Sc))
                r0 = cache[near][0]
                x0 = r0.aqueous_profile[list(r0.organic_profile.columns)].to_numpy()
            r = solve(n, m, O, Sc, x0)
            if r is None:
                raise ConvergenceError(f"no steady state at scrub {Sc} L/h")
            s = scores(r)
            cache[Sc] = (r, s)
            # more scrub pushes the heavy element to the raffinate: g falls with Sc. Balance
            # on recoveries (fractions of what was fed, always well defined), not purities:
            # the purity of a product that carries next to nothing is noise
            return logit(s[3]) - logit(s[2])

        try:
            glo, ghi = g(lo_b), g(hi_b)
            if glo * ghi > 0:
                return None
            Sc = brentq(g, lo_b, hi_b, xtol=rtol_flow * hi_b, rtol=rtol_flow)
        except ConvergenceError:
            return None
        if Sc not in cache:
            g(Sc)
        return Sc, cache[Sc][0], cache[Sc][1]

    def ok(s):
        return s[0] >= purity and s[1] >= purity and s[2] >= recovery and s[3] >= recovery

    best = None
    best_seen = 0.0
    for O in organic_flows:
        n, m = stages(int(max_stages))
        top = balanced(n, m, O)
        if top is None:
            continue
        best_seen = max(best_seen, min(top[2][:2]))
        if not ok(top[2]):
            continue
        lo_k, hi_k, found = 2, int(max_stages), (n, m) + top
        while hi_k - lo_k > 0:
            mid = (lo_k + hi_k) // 2
            nn, mm = stages(mid)
            b = balanced(nn, mm, O)
            if b is not None and ok(b[2]):
                hi_k, found = mid, (nn, mm) + b
            else:
                lo_k = mid + 1
        nn, mm, Sc, r, s = found
        key = (nn + mm, O)
        if best is None or key < best[0]:
            best = (key, nn, mm, O, Sc, r, s)
    if best is None:
        raise ValueError(
            f"infeasible target: no organic flow in {organic_flows} L/h balances {light}/{heavy} "
            f"to purity {purity} and recovery {recovery} within {max_stages} stages and scrub "
            f"flows {lo_b}-{hi_b} L/h (best balanced purity reached {best_seen:.5f})"
            f"{_failed_note(n_failed, n_solves)}")
    return _design_result(best, split, purity, n_solves)
