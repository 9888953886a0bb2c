"""`helm lint --strict` on every chart, with its defaults and each of its ci/*-values.yaml."""

from __future__ import annotations

import pytest
from chartkit import ALL_CHARTS, CHARTS, ci_values

CASES = [(chart, None) for chart in ALL_CHARTS] + [
    (chart, values) for chart in ALL_CHARTS for values in ci_values(chart)]


@pytest.mark.parametrize(("chart", "values"), CASES,
                         ids=[f"{c}-{v.stem if v else 'defaults'}" for c, v in CASES])
def test_lint_strict(helm, chart, values):
    args = ["lint", "--strict", helm.chart(chart)]
    if values:
        args += ["-f", str(values)]
    out = helm.run(*args)
    assert "0 chart(s) failed" in out, out


@pytest.mark.parametrize("chart", ALL_CHARTS)
def test_every_chart_has_the_standard_files(chart):
    root = CHARTS / chart
    for rel in ("Chart.yaml", "values.yaml", "values.schema.json", "templates/_helpers.tpl",
                "templates/NOTES.txt"):
        assert (root / rel).is_file(), f"{chart}: {rel} missing"
    assert list((root / "templates" / "tests").glob("*.yaml")), f"{chart}: no templates/tests/ connection test"
    stems = {p.stem for p in ci_values(chart)}
    assert {"cpu-values", "gpu-values", "cloud-values"} <= stems, f"{chart}: ci values {stems}"
    helpers = (root / "templates" / "_helpers.tpl").read_text()
    for helper in ("fullname", "labels", "selectorLabels"):
        assert f'define "{chart}.{helper}"' in helpers, f"{chart}: _helpers.tpl lacks {helper}"
