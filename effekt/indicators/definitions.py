"""The standard indicators, each declared once: its population (a source of rows), the measures computed
over a cell's rows, and whether the cell is split into groups (strata). ``evaluator.evaluate`` computes
any of them the same way."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import median
from typing import Any

from effekt.indicators import sources
from effekt.indicators.sources import Row, Source
from selvbetjening.rules.gas import gas_t_score

Texts = tuple[str, str]  # Danish, English
Compute = Callable[[list[Row]], float | None]


@dataclass(frozen=True)
class Measure:
    key: str
    title: Texts
    compute: Compute


@dataclass(frozen=True)
class Indicator:
    key: str
    title: Texts
    description: Texts
    counts: Texts  # what one row is: a goal, an episode, a request …
    source: Source
    measures: tuple[Measure, ...]
    grouped: bool = False
    group_names: dict[str, Texts] = field(default_factory=dict)
    device_type_compares: bool = False  # the device type defines the groups instead of filtering


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


def mean(name: str) -> Compute:
    def compute(rows: list[Row]) -> float | None:
        values = [Decimal(row[name]) for row in rows if row.get(name) is not None]
        return _round(sum(values) / len(values)) if values else None

    return compute


def median_of(name: str) -> Compute:
    def compute(rows: list[Row]) -> float | None:
        values = [row[name] for row in rows if row.get(name) is not None]
        return _round(median(values)) if values else None

    return compute


def share(name: str, test: Callable[[Any], bool]) -> Compute:
    """The share of rows with a value whose value passes ``test``."""

    def compute(rows: list[Row]) -> float | None:
        values = [row[name] for row in rows if row.get(name) is not None]
        return _round(Decimal(sum(1 for value in values if test(value))) / len(values)) if values else None

    return compute


def difference(minuend: str, subtrahend: str) -> Compute:
    """The mean of ``minuend − subtrahend`` over rows that have both."""

    def compute(rows: list[Row]) -> float | None:
        values = [
            Decimal(row[minuend]) - Decimal(row[subtrahend])
            for row in rows
            if row.get(minuend) is not None and row.get(subtrahend) is not None
        ]
        return _round(sum(values) / len(values)) if values else None

    return compute


def ratio_of_sums(numerator: str, denominator: str) -> Compute:
    def compute(rows: list[Row]) -> float | None:
        total = sum(row[denominator] for row in rows)
        return _round(Decimal(sum(row[numerator] for row in rows)) / total) if total else None

    return compute


def mean_t_score(rows: list[Row]) -> float | None:
    """The mean over episodes of the GAS T-score of each episode's goals at follow-up."""
    by_episode: dict[Any, list[tuple[int, int]]] = defaultdict(list)
    for row in rows:
        if row["follow_up_gas"] is not None:
            by_episode[row["episode_id"]].append((row["gas_weight"], row["follow_up_gas"]))
    scores = [score for pairs in by_episode.values() if (score := gas_t_score(pairs)) is not None]
    return _round(sum(scores) / len(scores)) if scores else None


AT_EXPECTED = Measure(
    "share_goals_at_expected",
    ("Andel mål på eller over forventet niveau (GAS ≥ 0)", "Share of goals at or above the expected level (GAS ≥ 0)"),
    share("follow_up_gas", lambda gas: gas >= 0),
)
FUNCTION_IMPROVEMENT = Measure(
    "mean_function_improvement",
    (
        "Gennemsnitlig forbedring i FSIII-funktionsniveau (start − opfølgning)",
        "Mean FSIII function level improvement (baseline − follow-up)",
    ),
    difference("baseline_level", "follow_up_level"),
)

INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        key="goal_attainment",
        title=("Målopfyldelse", "Goal attainment"),
        description=(
            "Mål i forløb afsluttet i perioden: GAS T-score ved opfølgning (gennemsnit pr. forløb) og andel mål "
            "på eller over forventet niveau, efter seneste vurdering.",
            "Goals of episodes completed in the period: GAS T-score at follow-up (mean per episode) and the share "
            "of goals at or above the expected level, by the latest rating.",
        ),
        counts=("mål", "goals"),
        source=sources.goals_at_follow_up,
        measures=(
            Measure("mean_t_score", ("Gennemsnitlig GAS T-score", "Mean GAS T-score"), mean_t_score),
            AT_EXPECTED,
            Measure(
                "mean_gas_change",
                ("Gennemsnitlig GAS-ændring fra start", "Mean GAS change from baseline"),
                difference("follow_up_gas", "baseline_gas"),
            ),
        ),
    ),
    Indicator(
        key="function_change",
        title=("Funktionsevne (FSIII)", "Function (FSIII)"),
        description=(
            "Ændring i FSIII-funktionsniveau fra start til seneste vurdering for mål i forløb afsluttet i "
            "perioden, pr. tilstand. 0 er ingen begrænsning, 4 totale: et positivt tal er en forbedring.",
            "Change in FSIII function level from baseline to the latest rating for goals of episodes completed in "
            "the period, per condition. 0 is no limitation, 4 total: a positive number is an improvement.",
        ),
        counts=("mål", "goals"),
        source=sources.goals_at_follow_up,
        measures=(
            FUNCTION_IMPROVEMENT,
            Measure(
                "share_improved",
                ("Andel mål med bedre funktionsniveau", "Share of goals with a better function level"),
                lambda rows: share("improvement", lambda value: value > 0)(
                    [
                        {"improvement": row["baseline_level"] - row["follow_up_level"]}
                        for row in rows
                        if row["follow_up_level"] is not None
                    ]
                ),
            ),
        ),
        grouped=True,
    ),
    Indicator(
        key="follow_up_results",
        title=("Opfølgningsresultater (E1–E4)", "Follow-up results (E1–E4)"),
        description=(
            "Fordelingen af opfølgningsresultater for forløb afsluttet i perioden.",
            "The distribution of follow-up results of episodes completed in the period.",
        ),
        counts=("forløb", "episodes"),
        source=sources.episodes_at_end,
        measures=(),
        grouped=True,
    ),
    Indicator(
        key="episode_length",
        title=("Forløbslængde mod planlagt", "Episode length against planned"),
        description=(
            "Forløb afsluttet i perioden: faktisk og planlagt længde i dage og andelen afsluttet senest på den "
            "planlagte dato.",
            "Episodes completed in the period: actual and planned length in days and the share that ended on or "
            "before the planned date.",
        ),
        counts=("forløb", "episodes"),
        source=sources.episodes_at_end,
        measures=(
            Measure(
                "mean_actual_days",
                ("Gennemsnitlig faktisk længde (dage)", "Mean actual length (days)"),
                mean("actual_days"),
            ),
            Measure(
                "mean_planned_days",
                ("Gennemsnitlig planlagt længde (dage)", "Mean planned length (days)"),
                mean("planned_days"),
            ),
            Measure(
                "share_within_planned",
                ("Andel afsluttet inden for planlagt tid", "Share ended within the planned time"),
                lambda rows: share("late_days", lambda days: days <= 0)(
                    [{"late_days": row["actual_days"] - row["planned_days"]} for row in rows]
                ),
            ),
        ),
    ),
    Indicator(
        key="referral_to_start",
        title=("Tid fra henvisning til start", "Time from referral to start"),
        description=(
            "Forløb startet i perioden: dage fra forløbet blev oprettet (henvisningen registreret) til start.",
            "Episodes started in the period: days from the episode's registration (the referral recorded) to its "
            "start.",
        ),
        counts=("forløb", "episodes"),
        source=sources.episodes_started,
        measures=(
            Measure("mean_days", ("Gennemsnitlige dage", "Mean days"), mean("waiting_days")),
            Measure("median_days", ("Median dage", "Median days"), median_of("waiting_days")),
        ),
    ),
    Indicator(
        key="adherence",
        title=("Træningsadhærens og målopfyldelse", "Adherence and goal attainment"),
        description=(
            "Forløb afsluttet i perioden med planlagte træningstider: udførte ÷ forfaldne tider, og andelen af "
            "mål på forventet niveau for forløb med adhærens på mindst 80 % mod under 80 %.",
            "Episodes completed in the period with training slots due: slots done ÷ slots due, and the share of "
            "goals at the expected level for episodes with adherence of at least 80 % against under 80 %.",
        ),
        counts=("forløb", "episodes"),
        source=sources.episode_adherence,
        measures=(
            Measure("mean_adherence", ("Gennemsnitlig adhærens", "Mean adherence"), mean("adherence")),
            Measure(
                "share_goals_at_expected",
                ("Andel mål på forventet niveau", "Share of goals at the expected level"),
                ratio_of_sums("goals_reached", "goals_rated"),
            ),
        ),
        grouped=True,
        group_names={
            "adherence_high": ("Adhærens mindst 80 %", "Adherence at least 80 %"),
            "adherence_low": ("Adhærens under 80 %", "Adherence under 80 %"),
        },
    ),
    Indicator(
        key="pain_and_effort",
        title=("Smerte og anstrengelse", "Pain and effort"),
        description=(
            "Forløb afsluttet i perioden: ændring i smerte før træning (NRS 0–10) og anstrengelse (Borg CR10) fra "
            "første til sidste registrerede træning. Negativ er mindre.",
            "Episodes completed in the period: change in pain before training (NRS 0–10) and effort (Borg CR10) "
            "from the first to the last logged session. Negative is less.",
        ),
        counts=("forløb", "episodes"),
        source=sources.episode_pain_and_effort,
        measures=(
            Measure("mean_pain_change", ("Gennemsnitlig smerteændring", "Mean pain change"), mean("pain_change")),
            Measure(
                "mean_effort_change",
                ("Gennemsnitlig ændring i anstrengelse", "Mean effort change"),
                mean("effort_change"),
            ),
        ),
    ),
    Indicator(
        key="questionnaire_change",
        title=("Ændring i spørgeskemascore", "Questionnaire score change"),
        description=(
            "Forløb afsluttet i perioden: sidste besvarelses score minus første, pr. spørgeskema.",
            "Episodes completed in the period: the last answer's score minus the first, per questionnaire.",
        ),
        counts=("besvarelsespar", "answer pairs"),
        source=sources.questionnaire_changes,
        measures=(
            Measure("mean_score_change", ("Gennemsnitlig scoreændring", "Mean score change"), mean("score_change")),
        ),
        grouped=True,
    ),
    Indicator(
        key="request_response",
        title=("Svartid på henvendelser", "Request response time"),
        description=(
            "Henvendelser i perioden, der er besvaret eller har passeret svarfristen: andel besvaret inden for "
            "teamets løfte og gennemsnitlig svartid i timer.",
            "Requests made in the period that are answered or past their deadline: the share answered within the "
            "team's promise and the mean time to answer in hours.",
        ),
        counts=("henvendelser", "requests"),
        source=sources.requests_answered,
        measures=(
            Measure("share_on_time", ("Andel besvaret til tiden", "Share answered on time"), share("on_time", bool)),
            Measure(
                "mean_hours_to_answer",
                ("Gennemsnitlig svartid (timer)", "Mean time to answer (hours)"),
                mean("hours_to_answer"),
            ),
        ),
    ),
    Indicator(
        key="device_effect",
        title=("Effekt af velfærdsteknologi", "Device effect"),
        description=(
            "Mål i forløb afsluttet i perioden, hvor en enhed af typen (device_type; uden den: enhver type) var "
            "installeret, mod sammenlignelige mål uden: samme FSIII-tilstand og startniveau. For forløb med "
            "enheden også funktionsniveauet før installationen mod ved opfølgning.",
            "Goals of episodes completed in the period with a device of the type (device_type; without it: any "
            "type) installed, against comparable goals without: the same FSIII condition and starting level. For "
            "episodes with the device also the function level before the installation against at follow-up.",
        ),
        counts=("mål", "goals"),
        source=sources.device_comparison,
        measures=(
            AT_EXPECTED,
            FUNCTION_IMPROVEMENT,
            Measure(
                "mean_improvement_since_device",
                ("Forbedring siden installation (FSIII)", "Improvement since installation (FSIII)"),
                difference("level_before_device", "follow_up_level"),
            ),
        ),
        grouped=True,
        group_names={
            "with_device": ("Med enhed", "With the device"),
            "without_device": ("Uden enhed", "Without the device"),
        },
        device_type_compares=True,
    ),
)

BY_KEY = {indicator.key: indicator for indicator in INDICATORS}
