"""Goal Attainment Scaling: the summary T-score of a set of goals (Kiresuk & Sherman)."""

from collections.abc import Iterable
from math import sqrt

DEFAULT_RHO = 0.3


def gas_t_score(scores: Iterable[tuple[int | float, int]], *, rho: float = DEFAULT_RHO) -> float | None:
    """``T = 50 + 10·Σwᵢxᵢ / sqrt((1−ρ)·Σwᵢ² + ρ·(Σwᵢ)²)`` over ``(weight, score)`` pairs.

    None when there is nothing to score (no goals, or only weights of zero).
    """
    pairs = [(float(weight), score) for weight, score in scores]
    total_weight = sum(weight for weight, _ in pairs)
    if not pairs or total_weight <= 0:
        return None
    weighted = sum(weight * score for weight, score in pairs)
    squares = sum(weight * weight for weight, _ in pairs)
    return 50 + 10 * weighted / sqrt((1 - rho) * squares + rho * total_weight**2)
