"""SX benchmark: 6-species, 100-stage mass-action cascade (PC88A, loading), extraction + scrub +
strip; numba Newton/block-Thomas solver vs the scipy reference in the same process.

Run: python -m pytest benchmarks/test_bench_sx.py --benchmark-only
"""
import time

import numpy as np

from reeproc import Stream, sx
from reeproc.sx import _kernels as K

SPECIES = ["La", "Ce", "Pr", "Nd", "Sm", "Dy"]


def _case():
    model = sx.MassAction("PC88A", concentration_mol_L=1.0, species=SPECIES)
    cas = sx.Cascade(model, extraction=40, scrub=40, strip=20)
    kw = dict(
        feed=Stream.aqueous(1.0, {"La": 0.01, "Ce": 0.02, "Pr": 0.02, "Nd": 0.05, "Sm": 0.01,
                                  "Dy": 0.01, "H+": 0.3, "Cl-": 0.66}),
        organic=Stream.organic(1.0, {"PC88A": 1.0}),
        scrub=Stream.aqueous(0.2, {"H+": 0.5, "Cl-": 0.5}),
        strip=Stream.aqueous(0.5, {"H+": 4.0, "Cl-": 4.0}))
    return cas, kw


def _kernel_args(cas, kw):
    a = cas._assemble(kw["feed"], kw["organic"], kw["scrub"], kw["strip"])["arrays"]
    x0 = np.zeros(a["ext"].shape)
    return (a["Lout"], a["Lup"], a["O"], a["ext"], a["yin"], a["k0"], a["kf"], a["kh"],
            a["kfh"], a["sc"], a["z"], a["fT"], a["G"], a["Ts"], a["Ka"], a["eta"], a["use_h"],
            a["use_f"], x0, 1e-12, 3000, 1)


def test_bench_sx_numba_solve(benchmark):
    """Full API call (assembly + kernel + result DataFrames/Streams)."""
    cas, kw = _case()
    cas.solve(**kw)  # compile / load cache
    res = benchmark(cas.solve, **kw)
    assert res.converged and res.mass_balance_residual < 1e-10
    benchmark.extra_info["iterations"] = res.iterations


def test_bench_sx_numba_kernel(benchmark):
    """Kernel only (the Newton / block-Thomas solve on prepared arrays)."""
    cas, kw = _case()
    args = _kernel_args(cas, kw)
    K.solve_cascade(*args)
    out = benchmark(K.solve_cascade, *args)
    assert out[0] == K.OK


def test_bench_sx_reference_and_ratio(benchmark):
    """scipy.optimize.root reference on the same equations; records the speed ratio."""
    cas, kw = _case()
    res_n = cas.solve(**kw)
    res_r = benchmark.pedantic(cas.solve, kwargs=dict(kw, method="reference"), rounds=1,
                               iterations=1)
    t_ref = benchmark.stats.stats.mean
    args = _kernel_args(cas, kw)
    reps = 50
    t0 = time.perf_counter()
    for _ in range(reps):
        cas.solve(**kw)
    t_api = (time.perf_counter() - t0) / reps
    t0 = time.perf_counter()
    for _ in range(reps):
        K.solve_cascade(*args)
    t_kernel = (time.perf_counter() - t0) / reps
    sc = res_n.aqueous_profile[SPECIES].values.max()
    diff = np.abs(res_n.aqueous_profile[SPECIES].values - res_r.aqueous_profile[SPECIES].values)
    benchmark.extra_info.update(reference_s=t_ref, numba_api_s=t_api, numba_kernel_s=t_kernel,
                                ratio_api=t_ref / t_api, ratio_kernel=t_ref / t_kernel,
                                max_scaled_diff=float(diff.max() / sc))
    print(f"\nSX benchmark (6 species, 100 stages, mass action): reference {t_ref * 1e3:.1f} ms, "
          f"numba API {t_api * 1e3:.3f} ms, kernel {t_kernel * 1e3:.3f} ms, "
          f"ratio {t_ref / t_api:.0f}x (API) / {t_ref / t_kernel:.0f}x (kernel), "
          f"max scaled difference {diff.max() / sc:.1e}")
    assert diff.max() <= 1e-8 * sc
    assert t_ref / t_kernel > 100
