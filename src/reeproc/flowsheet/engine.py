"""Sequential-modular flowsheet engine.

A :class:`Flowsheet` holds units joined by named streams. Each stream has one source (an external
feed or a unit outlet) and at most one sink (a unit inlet); a stream with no sink leaves the
flowsheet as a product, waste or off-gas. Solving:

1. order the units so that each runs after the units feeding it (depth-first search); the streams
   that close a cycle become tear streams (one per back edge, chosen automatically unless given);
2. converge the tear streams with Wegstein, Anderson or direct substitution
   (:mod:`reeproc.flowsheet.convergence`); non-convergence raises with the residual history.
   Within one solve a unit whose inlet streams are exactly those of its previous run is not rerun
   (units upstream of every recycle run once);
3. audit the element and charge balances over the whole flowsheet: external feeds + reagents
   dosed inside units = streams leaving the flowsheet, to ``AUDIT_RTOL`` (1e-8) relative. The
   result's ``status`` is 'solved', 'not converged' or 'audit failed'; by default a failed
   audit raises :class:`~reeproc.flowsheet.report.FlowsheetAuditError`, as non-convergence
   raises :class:`~reeproc.flowsheet.convergence.RecycleConvergenceError`.

The recycle iterations run only the units that feed a tear stream; the units downstream of every
recycle run once, in the final pass. Design specs attached with :meth:`Flowsheet.add_spec` are
met by moving their manipulated variables, each trial a solve of 1-2 (nested around it;
:mod:`reeproc.flowsheet.spec_solver`).

Unit protocol (duck-typed, followed by :mod:`reeproc.units` and the SX adapter):
``unit.inlets`` and ``unit.outlets`` (tuples of port names) and ``unit.run(**inlet_streams)``
returning a result whose outlet streams are attributes named after the outlet ports (or a mapping
``result.outlets``). Optional on the result: ``reagent_streams`` (streams dosed inside the unit, for
the audit), ``reagents_kg_h`` (reagent name -> kg/h, names as in ``property_data/reagents.csv``),
``energy_kW`` (heat or power duty [kW]; dict or float) and ``table()``.
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from ..stream import Stream
from .convergence import FixedPointResult, solve_fixed_point
from .errors import FlowsheetError, UnitFailure

__all__ = ["Flowsheet", "FlowsheetError", "UnitFailure"]


@dataclass
class _Node:
    name: str
    unit: object
    inlets: dict  # port -> stream name
    outlets: dict  # port -> stream name


@dataclass
class _Product:
    stream: str
    target: tuple
    oxide: str


class Flowsheet:
    """A flowsheet of unit operations joined by named streams.

    Parameters
    ----------
    name : str
        Title used in reports.

    Examples
    --------
    >>> from reeproc.flowsheet import Flowsheet, Splitter, Mixer
    >>> from reeproc import Stream
    >>> fs = Flowsheet("loop")
    >>> fs.add_feed("fresh", Stream.aqueous(10.0, {"Nd": 0.1, "Cl-": 0.3}))
    >>> fs.add_unit("mix", Mixer(2), inlets={"in1": "fresh", "in2": "recycle"}, outlets={"out": "mixed"})
    >>> fs.add_unit("split", Splitter({"recycle": 0.5}), inlets={"feed": "mixed"},
    ...             outlets={"recycle": "recycle", "rest": "product"})
    >>> fs.set_tear_guess("recycle", Stream.aqueous(1.0, {"Nd": 0.0}))  # where the loop starts
    >>> res = fs.solve()
    >>> round(res.streams["product"].mol_h["Nd"], 9), res.converged
    (1.0, True)
    """

    def __init__(self, name: str = "flowsheet"):
        self.name = name
        self._feeds: dict[str, Stream] = {}
        self._reagent_feeds: dict[str, str] = {}
        self._nodes: dict[str, _Node] = {}
        self._products: dict[str, _Product] = {}
        self._guesses: dict[str, Stream] = {}
        self._specs: list = []
        self._memo = None
        self.notes: list[str] = []

    # ------------------------------------------------------------------ building
    def add_feed(self, name: str, stream: Stream, reagent: str | None = None) -> None:
        """Add an external feed stream.

        Parameters
        ----------
        name : str
            Stream name.
        stream : Stream
        reagent : str, optional
            Name in ``property_data/reagents.csv`` when the feed is a purchased reagent (costed and
            counted in reagent consumption by the mass of its tracked species).
        """
        if not isinstance(stream, Stream):
            raise FlowsheetError(f"feed '{name}' must be a Stream, got {type(stream).__name__}")
        self._check_new_source(name)
        self._feeds[name] = stream.copy(name=name)
        if reagent is not None:
            self._reagent_feeds[name] = reagent

    def add_unit(self, name: str, unit, inlets: Mapping[str, str], outlets: Mapping[str, str]) -> None:
        """Add a unit and wire its ports to stream names.

        Parameters
        ----------
        name : str
            Unit name (unique).
        unit : object
            Follows the unit protocol (``inlets``, ``outlets``, ``run``).
        inlets, outlets : mapping port -> stream name
            Unconnected inlet ports are simply not passed to ``run``; every outlet port a unit
            produces must be named (so nothing leaves unaccounted).
        """
        if name in self._nodes:
            raise FlowsheetError(f"unit name '{name}' is used twice")
        for attr in ("inlets", "outlets", "run"):
            if not hasattr(unit, attr):
                raise FlowsheetError(f"unit '{name}' ({type(unit).__name__}) has no '{attr}'")
        bad_in = set(inlets) - set(unit.inlets)
        if bad_in:
            raise FlowsheetError(f"unit '{name}': unknown inlet port(s) {sorted(bad_in)}; "
                                 f"ports are {list(unit.inlets)}")
        bad_out = set(outlets) - set(unit.outlets)
        missing_out = set(unit.outlets) - set(outlets)
        if bad_out:
            raise FlowsheetError(f"unit '{name}': unknown outlet port(s) {sorted(bad_out)}; "
                                 f"ports are {list(unit.outlets)}")
        if missing_out:
            raise FlowsheetError(f"unit '{name}': outlet port(s) {sorted(missing_out)} are not "
                                 "named; every outlet must be a named stream")
        for s in outlets.values():
            self._check_new_source(s)
        for node in self._nodes.values():
            for s in inlets.values():
                if s in node.inlets.values():
                    raise FlowsheetError(f"stream '{s}' feeds two inlets (unit '{node.name}' "
                                         f"and '{name}'); split it with a Splitter")
        if len(set(inlets.values())) != len(inlets):
            raise FlowsheetError(f"unit '{name}': one stream wired to two inlet ports")
        self._nodes[name] = _Node(name, unit, dict(inlets), dict(outlets))

    def add_product(self, name: str, stream: str, target, oxide: str | None = None) -> None:
        """Declare a product stream and what it is sold as.

        Parameters
        ----------
        name : str
            Product name in reports ('NdPr oxide').
        stream : str
            Stream name.
        target : str or list of str
            Element(s) whose oxides make up the product (purity on the oxide basis).
        oxide : str, optional
            Label of the product oxide ('Nd2O3', 'NdPr oxide'); defaults to the joined targets.
        """
        tgt = (target,) if isinstance(target, str) else tuple(target)
        self._products[name] = _Product(stream, tgt, oxide or "+".join(tgt))

    def set_tear_guess(self, stream: str, guess: Stream) -> None:
        """Set the initial guess of a recycle (tear) stream."""
        self._guesses[stream] = guess

    # ------------------------------------------------------------------ design specs
    def add_spec(self, spec) -> None:
        """Attach a design spec (:class:`reeproc.flowsheet.specs.Spec`); :meth:`solve` meets it
        by moving its manipulated variable (nested around the recycle solve)."""
        if any(s.name == spec.name for s in self._specs):
            raise FlowsheetError(f"spec name '{spec.name}' is used twice")
        self._specs.append(spec)

    @property
    def specs(self) -> list:
        """Design specs attached with :meth:`add_spec`."""
        return list(self._specs)

    @contextmanager
    def reuse_unit_results(self):
        """Within the block, every solve reuses a unit's last result when the unit's inlet
        streams are exactly those of that run (units upstream of the recycles run once for a
        whole spec search). Call :meth:`unit_changed` after changing a unit's attributes."""
        self._memo = {}
        try:
            yield
        finally:
            self._memo = None

    def unit_changed(self, name: str) -> None:
        """Forget the kept result of a unit whose attributes were changed."""
        if self._memo is not None:
            self._memo.pop(name, None)

    def tear_guess(self, stream: str) -> Stream:
        """The current starting guess of a recycle stream."""
        if stream not in self._guesses:
            raise FlowsheetError(f"stream '{stream}' has no tear guess; guesses: {sorted(self._guesses)}")
        return self._guesses[stream]

    def replace_feed(self, name: str, stream: Stream) -> None:
        """Replace an existing external feed's stream (a spec moving a feed flow)."""
        if name not in self._feeds:
            raise FlowsheetError(f"'{name}' is not an external feed; feeds: {sorted(self._feeds)}")
        self._feeds[name] = stream.copy(name=name)

    def _check_new_source(self, stream: str) -> None:
        if stream in self._feeds:
            raise FlowsheetError(f"stream '{stream}' already has a source (external feed)")
        for node in self._nodes.values():
            if stream in node.outlets.values():
                raise FlowsheetError(f"stream '{stream}' already has a source (unit '{node.name}')")

    # ------------------------------------------------------------------ structure
    def _source_of(self) -> dict[str, str | None]:
        src = {s: None for s in self._feeds}
        for node in self._nodes.values():
            for s in node.outlets.values():
                src[s] = node.name
        return src

    def _order_and_tears(self, tears=None):
        src = self._source_of()
        for node in self._nodes.values():
            for port, s in node.inlets.items():
                if s not in src:
                    raise FlowsheetError(f"unit '{node.name}' inlet '{port}' is wired to stream "
                                         f"'{s}', which no feed or unit produces")
        preds = {n: [] for n in self._nodes}
        for node in self._nodes.values():
            for s in node.inlets.values():
                if src[s] is not None:
                    preds[node.name].append((src[s], s))
        # streams on a cycle: the sink can reach the source through the graph
        succ = {n: set() for n in self._nodes}
        for node in self._nodes.values():
            for p, _ in preds[node.name]:
                succ[p].add(node.name)

        def reaches(a, b):
            seen, todo = set(), [a]
            while todo:
                n = todo.pop()
                if n == b:
                    return True
                if n not in seen:
                    seen.add(n)
                    todo.extend(succ[n])
            return False

        sink_of = {s: node.name for node in self._nodes.values() for s in node.inlets.values()}
        on_cycle = {s for s, n in src.items()
                    if n is not None and s in sink_of and reaches(sink_of[s], n)}
        if tears:
            unknown = [t for t in tears if t not in on_cycle]
            if unknown:
                raise FlowsheetError(f"tear stream(s) {unknown} do not close a recycle")
            forced = set(tears)
        else:
            # prefer the streams the user gave a starting guess for
            forced = {s for s in self._guesses if s in on_cycle}
        order, state, back = [], {}, []

        def visit(n):
            state[n] = 1
            for p, s in preds[n]:
                if s in forced:
                    continue
                if state.get(p) == 1:
                    back.append(s)
                elif state.get(p) is None:
                    visit(p)
            state[n] = 2
            order.append(n)

        for n in self._nodes:
            if state.get(n) is None:
                visit(n)
        return order, list(dict.fromkeys([*sorted(forced), *back]))

    # ------------------------------------------------------------------ solving
    def solve(self, method: str = "wegstein", tol: float = 1e-10, maxiter: int = 200,
              tears=None, raise_on_failure: bool = True, specs: bool = True, **accel):
        """Solve the flowsheet (and its design specs, when it has any and ``specs`` is True).

        Parameters
        ----------
        method : {'wegstein', 'anderson', 'direct'}
            Recycle acceleration.
        tol : float
            Tolerance on the scaled tear residual [-].
        maxiter : int
            Maximum recycle iterations.
        tears : list of str, optional
            Tear streams to use instead of the automatic choice.
        **accel
            Acceleration settings passed to :func:`~reeproc.flowsheet.convergence.solve_fixed_point`
            (``anderson_memory``, ``anderson_restart``, ``wegstein_bounds``); a script's
            ``SOLVE_OPTIONS`` may hold them.
        raise_on_failure : bool
            If False, a recycle that does not converge or an audit above ``AUDIT_RTOL``
            returns a result with ``status`` 'not converged' or 'audit failed' instead of
            raising (for sweeps and reports that record failures).
        specs : bool
            Meet the attached design specs (:mod:`reeproc.flowsheet.specs`); False solves with
            the manipulated variables where they are. A spec that cannot be met always raises.

        Returns
        -------
        reeproc.flowsheet.FlowsheetResult
        """
        if specs and self._specs:
            from .spec_solver import solve_with_specs

            return solve_with_specs(self, self._specs, method=method, tol=tol, maxiter=maxiter,
                                    tears=tears, raise_on_failure=raise_on_failure, **accel)
        from .report import FlowsheetAuditError, FlowsheetResult
        from .convergence import RecycleConvergenceError

        allowed = {"anderson_memory", "anderson_restart", "wegstein_bounds"}
        if set(accel) - allowed:
            raise FlowsheetError(f"unknown solve option(s) {sorted(set(accel) - allowed)}; "
                                 f"allowed besides method, tol, maxiter, tears: {sorted(allowed)}")

        t0 = time.perf_counter()
        order, tear_names = self._order_and_tears(tears)
        layout = []  # (stream, phase, species list, has_flow)
        x0 = []
        for s in tear_names:
            g = self._guesses.get(s)
            if g is None:
                raise FlowsheetError(
                    f"stream '{s}' closes a recycle: give it a starting guess with "
                    "Flowsheet.set_tear_guess (e.g. the fresh solvent or an empty bleed)")
            species = sorted(g.species)
            layout.append([s, g.phase, species, g.flow_L_h is not None, g.T_C])
            x0.extend(g.mol_h[sp] for sp in species)
            if g.flow_L_h is not None:
                x0.append(g.flow_L_h)
        state = {"streams": {}, "results": {}, "layout": layout}

        def unpack(x):
            out, k = {}, 0
            for s, phase, species, has_flow, T_C in layout:
                mol = {sp: x[k + i] for i, sp in enumerate(species)}
                k += len(species)
                flow = None
                if has_flow:
                    flow = x[k]
                    k += 1
                out[s] = Stream.from_mol_h(phase, mol, flow, T_C, name=s)
            return out

        def pack(streams):
            vec = []
            for item in layout:
                s, phase, species, has_flow, _ = item
                st = streams[s]
                extra = set(st.species) - set(species)
                if extra:
                    raise _LayoutGrew(s, extra)
                m = st.mol_h
                vec.extend(m.get(sp, 0.0) for sp in species)
                if has_flow:
                    vec.append(st.flow_L_h)
                item[4] = st.T_C
            return np.asarray(vec)

        # unit -> (inlet key, result): units whose inlets did not change are not rerun (across
        # solves too while design specs search: see reuse_unit_results)
        memo: dict = self._memo if self._memo is not None else {}
        feeds_tears = self._units_upstream_of(tear_names)

        def sweep(x, full=True):
            streams = dict(self._feeds)
            streams.update(unpack(x))
            results = {}
            for n in order:
                if not full and n not in feeds_tears:
                    continue  # downstream of every recycle: run once, in the final pass
                node = self._nodes[n]
                kwargs = {port: streams[s] for port, s in node.inlets.items()}
                key = tuple(sorted((port, _stream_key(st)) for port, st in kwargs.items()))
                hit = memo.get(n)
                if hit is not None and hit[0] == key:
                    r = hit[1]
                else:
                    try:
                        r = node.unit.run(**kwargs)
                    except Exception as exc:
                        raise UnitFailure(f"unit '{n}' ({type(node.unit).__name__}) failed: {exc}") from exc
                    memo[n] = (key, r)
                results[n] = r
                outs = getattr(r, "outlets", None)
                for port, s in node.outlets.items():
                    st = outs[port] if isinstance(outs, Mapping) else getattr(r, port)
                    streams[s] = st.copy(name=s)
            state["streams"], state["results"] = streams, results
            return streams

        def g(x):
            return pack(sweep(x, full=False))

        names = []
        for s, _, species, has_flow, _ in layout:
            names += [f"{s}:{sp} [mol/h]" for sp in species] + ([f"{s}:flow [L/h]"] if has_flow else [])
        fp = None
        error = None
        for _attempt in range(5):
            try:
                if tear_names:
                    fp = solve_fixed_point(g, np.asarray(x0), method=method, tol=tol,
                                           maxiter=maxiter, names=names, **accel)
                    # final pass from the converged tear values so every stream is consistent
                    sweep(fp.x)
                else:
                    sweep(np.zeros(0))
                    fp = FixedPointResult(np.zeros(0), "none (no recycle)", 1, True, 0.0, [0.0])
                break
            except _LayoutGrew as grow:
                # a recycle picked up species absent from its guess: widen the layout (of every
                # tear stream that grew in the last sweep, not just the first one found), restart
                for item in layout:
                    if item[0] == grow.stream:
                        item[2] = sorted(set(item[2]) | grow.species)
                    elif item[0] in state["streams"]:
                        item[2] = sorted(set(item[2]) | set(state["streams"][item[0]].species))
                x0 = list(pack(state["streams"])) if state["streams"] else x0
                names = []
                for s, _, species, has_flow, _ in layout:
                    names += [f"{s}:{sp} [mol/h]" for sp in species] + (
                        [f"{s}:flow [L/h]"] if has_flow else [])
            except RecycleConvergenceError as exc:
                if raise_on_failure:
                    raise
                error = exc
                fp = FixedPointResult(np.zeros(0), method, len(exc.history), False,
                                      exc.history[-1] if exc.history else np.inf, exc.history)
                break
        else:  # pragma: no cover - five layout growths means a wiring problem
            raise FlowsheetError("tear-stream species kept growing; check the recycle wiring")
        res = FlowsheetResult(
            flowsheet=self, order=order, tears=tear_names, streams=state["streams"],
            unit_results=state["results"], fixed_point=fp, error=error,
            solve_time_s=time.perf_counter() - t0)
        if res.status == "audit failed":
            msg = f"flowsheet '{self.name}' converged but its audit fails: {res.audit_summary()}"
            if raise_on_failure:
                raise FlowsheetAuditError(msg, res)
            res.error = FlowsheetAuditError(msg, res)
        return res

    def _units_upstream_of(self, streams) -> set:
        """Units whose outlets can reach any of ``streams`` (the units a recycle iteration needs)."""
        src = self._source_of()
        seen, todo = set(), [src.get(s) for s in streams]
        while todo:
            n = todo.pop()
            if n is None or n in seen:
                continue
            seen.add(n)
            todo.extend(src.get(s) for s in self._nodes[n].inlets.values())
        return seen

    # ------------------------------------------------------------------ introspection
    @property
    def units(self) -> dict:
        """Units by name."""
        return {n: node.unit for n, node in self._nodes.items()}

    @property
    def feeds(self) -> dict:
        """External feed streams by name."""
        return dict(self._feeds)

    @property
    def reagent_feeds(self) -> dict:
        """Feeds that are purchased reagents: stream name -> reagent name (reagents.csv)."""
        return dict(self._reagent_feeds)

    @property
    def products(self) -> dict:
        return dict(self._products)

    def ports(self, unit: str) -> tuple[dict, dict]:
        """(inlets, outlets) of a unit: port name -> stream name."""
        if unit not in self._nodes:
            raise FlowsheetError(f"no unit '{unit}' in flowsheet '{self.name}'; units: {list(self._nodes)}")
        node = self._nodes[unit]
        return dict(node.inlets), dict(node.outlets)

    def connections(self):
        """(source, stream, sink) triples; source/sink are unit names or None for the boundary."""
        src = self._source_of()
        sink = {}
        for node in self._nodes.values():
            for s in node.inlets.values():
                sink[s] = node.name
        return [(src[s], s, sink.get(s)) for s in src]


def _stream_key(st: Stream):
    """Exact identity of a stream's state (phase, flow, temperature, species flows)."""
    return (st.phase, st.flow_L_h, st.T_K, tuple(sorted(st.mol_h.items())))


class _LayoutGrew(Exception):
    def __init__(self, stream, species):
        super().__init__(stream)
        self.stream = stream
        self.species = set(species)
