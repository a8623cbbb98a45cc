"""The speed gate's verdict (bench/gate.py): a check's figure is the median of its rounds' app/floor ratios, each
round's pair measured at the same moment, and the gate fails as soon as one check passes its limit."""

from __future__ import annotations

import pytest

from bench.gate import Check, checks, report


def check(app: list[float], floor: list[float], limit: float = 1.3) -> Check:
    return Check("short", "first", "short reply", "s", limit, app, floor, ["1.00 1.00 1.00"] * len(app))


def test_a_checks_figure_is_the_median_of_its_rounds_ratios_not_the_ratio_of_medians():
    # rounds on a machine whose speed changes: each pair shares its moment, so the pairs' ratios are what count
    measured = check(app=[0.2, 0.8, 0.3], floor=[0.2, 0.8, 0.1])
    assert measured.ratios == pytest.approx([1.0, 1.0, 3.0])
    assert measured.ratio == 1.0 and measured.passed  # one slow round does not fail it
    assert 0.3 / 0.2 > 1.3  # whereas the ratio of the medians would have


def test_the_gate_fails_when_any_check_passes_its_limit(capsys):
    fine, regressed = check([1.0, 1.1, 1.0], [1.0, 1.0, 1.0]), check([1.5, 1.4, 1.6], [1.0, 1.0, 1.0])
    assert report([fine]) is True
    assert report([fine, regressed]) is False
    printed = capsys.readouterr().out
    assert "FAIL" in printed and "1.50×" in printed and "load average 1.00" in printed


def test_the_gate_checks_every_load_the_issue_names_with_a_limit_for_each():
    found = checks(24)
    assert {c.load for c in found} == {"sessions", "short", "stream", "compare", "cpu"}
    assert all(c.limit > 1.0 for c in found)
    assert any("24 sessions" in c.label for c in found)
