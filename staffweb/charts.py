"""Server-drawn SVG charts: the geometry only; the template draws it and shows the same data as a table.

Series differ by line pattern and marker shape, not by colour alone, so they read in greyscale too.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from selvbetjening.selectors.adherence import DayFigures, WeekFigures

WIDTH = 640
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 16, 40


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: float
    label: str


@dataclass(frozen=True)
class Series:
    key: str
    name: str
    pattern: str  # "solid", "dashed" or "dotted": the CSS class of the line
    marker: str  # "circle", "square" or "diamond"
    points: list[Point]

    @property
    def polyline(self) -> str:
        return " ".join(f"{point.x:.1f},{point.y:.1f}" for point in self.points)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: float | None
    label: str


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    series: list[Series] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)

    @property
    def plot_left(self) -> int:
        return LEFT

    @property
    def plot_right(self) -> int:
        return self.width - RIGHT

    @property
    def plot_bottom(self) -> int:
        return self.height - BOTTOM

    @property
    def is_empty(self) -> bool:
        return not any(series.points for series in self.series) and not any(bar.value is not None for bar in self.bars)


def _y(value: float, top_value: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - value / top_value)


def _x(index: int, count: int) -> float:
    span = WIDTH - LEFT - RIGHT
    return LEFT + (span * (index + 0.5) / count if count else 0)


def _day_label(figures: DayFigures) -> str:
    return f"{figures.day.day}/{figures.day.month}"


def pain_and_effort(days: Sequence[DayFigures]) -> Chart:
    """Mean pain before and after, and effort (Borg CR10), per day with sessions; scale 0–10."""
    chart = Chart(y_ticks=[Tick(_y(value, 10), str(value)) for value in (0, 2, 4, 6, 8, 10)])
    definitions = (
        ("pain_before_mean", _("Smerte før"), "solid", "circle"),
        ("pain_after_mean", _("Smerte efter"), "dashed", "square"),
        ("effort_mean", _("Anstrengelse"), "dotted", "diamond"),
    )
    count = len(days)
    for key, name, pattern, marker in definitions:
        points = []
        for index, figures in enumerate(days):
            value = getattr(figures, key)
            if value is not None:
                points.append(Point(_x(index, count), _y(value, 10), value, _day_label(figures)))
        chart.series.append(Series(key, name, pattern, marker, points))
    step = max(1, count // 8)
    chart.x_ticks = [Tick(_x(index, count), _day_label(days[index])) for index in range(0, count, step)]
    return chart


def weekly_adherence(weeks: Sequence[WeekFigures]) -> Chart:
    """Slots filled ÷ slots due per ISO week, as bars on a 0–100 % scale; a week with nothing due has none."""
    chart = Chart(y_ticks=[Tick(_y(value, 100), f"{value} %") for value in (0, 25, 50, 75, 100)])
    count = len(weeks)
    slot = (WIDTH - LEFT - RIGHT) / count if count else 0
    for index, week in enumerate(weeks):
        percent = None if week.adherence is None else round(week.adherence * 100)
        top = _y(percent or 0, 100)
        chart.bars.append(
            Bar(
                x=LEFT + slot * index + slot * 0.2,
                y=top,
                width=slot * 0.6,
                height=_y(0, 100) - top,
                value=percent,
                label=f"Uge {week.iso_week}",
            )
        )
        chart.x_ticks.append(Tick(_x(index, count), f"Uge {week.iso_week}"))
    return chart


@dataclass(frozen=True)
class SeriesBar(Bar):
    """A bar of one of two or more series side by side; ``series`` is its series' position (0, 1, …)."""

    series: int
    suppressed: bool


def compared_bars(
    labels: Sequence[str], series: Sequence[Sequence[float | None | bool]], *, percent: bool = False
) -> Chart:
    """Bars per label, one per series side by side (e.g. last year and this year), on a scale from the
    smallest value (or 0) to the largest. A value of ``True`` is a suppressed cell: no bar, a mark "–".
    With ``percent``, values are shares 0–1 drawn as 0–100 %."""
    scale = 100.0 if percent else 1.0
    values = [
        [None if value is None or isinstance(value, bool) else float(value) * scale for value in row] for row in series
    ]
    known = [value for row in values for value in row if value is not None]
    low = min([0.0, *known])
    high = max([0.0, *known]) if not percent else 100.0
    if high == low:
        high = low + 1
    step = _nice_step((high - low) / 4)
    low = step * math.floor(low / step)
    high = step * math.ceil(high / step)

    def y(value: float) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * (high - value) / (high - low)

    chart = Chart()
    tick = low
    while tick <= high + step / 2:
        text = f"{tick:g}"
        chart.y_ticks.append(Tick(y(tick), f"{text} %" if percent else text))
        tick += step
    count = len(labels)
    slot = (WIDTH - LEFT - RIGHT) / count if count else 0
    width = slot * 0.7 / max(1, len(series))
    for index, label in enumerate(labels):
        for position, row in enumerate(values):
            value = row[index]
            x = LEFT + slot * index + slot * 0.15 + width * position
            suppressed = series[position][index] is True
            if value is None:
                chart.bars.append(SeriesBar(x, y(0), width, 0, None, label, position, suppressed))
                continue
            top, bottom = y(max(value, 0)), y(min(value, 0))
            shown = round(value) if percent else round(value, 2)
            chart.bars.append(SeriesBar(x, top, width, bottom - top, shown, label, position, False))
        chart.x_ticks.append(Tick(_x(index, count), label))
    return chart


def _nice_step(raw: float) -> float:
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude
