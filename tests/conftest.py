"""Test-session layout for pytest-xdist (``-n auto --dist loadgroup`` in pyproject.toml).

A module whose fixtures solve the reference flowsheet once (``scope="module"``) runs on one
worker, so that the solve is not repeated per worker; every other test is spread over the
workers one by one."""
import pytest

#: modules with module-scoped fixtures that solve a flowsheet: kept on one worker each
ONE_WORKER = {
    "test_economics", "test_economics_reference", "test_flowsheet_plots", "test_flowsheets",
    "test_html_report", "test_plant", "test_specs", "test_units_leaching", "test_window",
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        mod = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        if mod in ONE_WORKER:
            item.add_marker(pytest.mark.xdist_group(mod))
