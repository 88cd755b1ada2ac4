"""The benchmarks' headline ratios: each round's own ratio, their median and spread (``bench.__main__``)."""

import math

import pytest

from bench.__main__ import per_round_ratios


def test_each_round_is_divided_by_its_own_baseline_not_by_the_best_round():
    ratios = per_round_ratios([30.0, 10.0, 24.0], [100.0, 20.0, 80.0])
    assert ratios.values == (0.3, 0.5, 0.3)
    # The best of each side (30 / 20 = 1.5) would pair two different rounds.
    assert ratios.median == 0.3
    assert (ratios.low, ratios.high) == (0.3, 0.5)
    assert ratios.spread() == "0.30–0.50 (0.30, 0.50, 0.30)"


def test_a_missing_round_on_one_side_is_refused():
    with pytest.raises(ValueError, match="one measurement of each side per round"):
        per_round_ratios([1.0, 2.0], [1.0])


def test_a_zero_baseline_gives_no_number_rather_than_an_error():
    ratios = per_round_ratios([1.0], [0.0])
    assert math.isnan(ratios.median)
