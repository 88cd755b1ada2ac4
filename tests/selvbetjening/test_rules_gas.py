import pytest

from selvbetjening.rules.gas import gas_t_score


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        # Everything as expected is 50 whatever the weights.
        ([(1, 0), (1, 0), (1, 0)], 50.0),
        # One goal: the denominator is sqrt(0.7 + 0.3) = 1, so T = 50 + 10·x.
        ([(1, -1)], 40.0),
        ([(1, 2)], 70.0),
        # Three goals at +1: 50 + 10·3 / sqrt(0.7·3 + 0.3·9) = 50 + 30 / sqrt(4.8) = 63.6931.
        ([(1, 1), (1, 1), (1, 1)], 63.6931),
        # Weights 3 and 1, scores +2 and −1: Σwx = 5, Σw² = 10, (Σw)² = 16 → 50 + 50 / sqrt(11.8) = 64.5556.
        ([(3, 2), (1, -1)], 64.5556),
        # Weighted scores that cancel.
        ([(2, 1), (1, -2)], 50.0),
        # Baseline of two goals at −2: 50 − 40 / sqrt(0.7·2 + 0.3·4) = 50 − 40 / sqrt(2.6) = 25.1931.
        ([(1, -2), (1, -2)], 25.1931),
    ],
)
def test_t_score_matches_hand_computed_values(pairs, expected):
    assert gas_t_score(pairs) == pytest.approx(expected, abs=1e-4)


def test_no_goals_has_no_score():
    assert gas_t_score([]) is None


def test_rho_changes_the_denominator():
    # ρ = 0: 50 + 10·2 / sqrt(2) = 64.1421.
    assert gas_t_score([(1, 1), (1, 1)], rho=0) == pytest.approx(64.1421, abs=1e-4)
