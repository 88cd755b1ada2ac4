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


@dataclass(frozen=True)
class _Scale:
    """A value axis from ``low`` to ``high`` in steps of ``step``; shares are drawn as 0–100 %."""

    low: float
    high: float
    step: float
    percent: bool

    def y(self, value: float) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * (self.high - value) / (self.high - self.low)

    @property
    def ticks(self) -> list[Tick]:
        ticks = []
        tick = self.low
        while tick <= self.high + self.step / 2:
            text = f"{tick:g}"
            ticks.append(Tick(self.y(tick), f"{text} %" if self.percent else text))
            tick += self.step
        return ticks


def _scaled(
    series: Sequence[Sequence[float | None | bool]], *, percent: bool
) -> tuple[_Scale, list[list[float | None]]]:
    """The axis for the values of ``series`` (from the smallest value or 0 to the largest, 0–100 % for
    shares) and the values on it: ``None`` where there is none or the cell is suppressed (``True``)."""
    factor = 100.0 if percent else 1.0
    values = [
        [None if value is None or isinstance(value, bool) else float(value) * factor for value in row] for row in series
    ]
    known = [value for row in values for value in row if value is not None]
    low = min([0.0, *known])
    high = max([0.0, *known]) if not percent else 100.0
    if high == low:
        high = low + 1
    step = _nice_step((high - low) / 4)
    return _Scale(step * math.floor(low / step), step * math.ceil(high / step), step, percent), values


def _shown(value: float, *, percent: bool) -> float:
    return round(value) if percent else round(value, 2)


def compared_bars(
    labels: Sequence[str], series: Sequence[Sequence[float | None | bool]], *, percent: bool = False
) -> Chart:
    """Bars per label, one per series side by side (e.g. last year and this year), on a scale from the
    smallest value (or 0) to the largest. A value of ``True`` is a suppressed cell: no bar, a mark "–".
    With ``percent``, values are shares 0–1 drawn as 0–100 %."""
    scale, values = _scaled(series, percent=percent)
    chart = Chart(y_ticks=scale.ticks)
    count = len(labels)
    slot = (WIDTH - LEFT - RIGHT) / count if count else 0
    width = slot * 0.7 / max(1, len(series))
    for index, label in enumerate(labels):
        for position, row in enumerate(values):
            value = row[index]
            x = LEFT + slot * index + slot * 0.15 + width * position
            suppressed = series[position][index] is True
            if value is None:
                chart.bars.append(SeriesBar(x, scale.y(0), width, 0, None, label, position, suppressed))
                continue
            top, bottom = scale.y(max(value, 0)), scale.y(min(value, 0))
            chart.bars.append(
                SeriesBar(x, top, width, bottom - top, _shown(value, percent=percent), label, position, False)
            )
        chart.x_ticks.append(Tick(_x(index, count), label))
    return chart


@dataclass(frozen=True)
class Gap:
    """Where a line has no point because its cell is suppressed: the mark drawn instead, on the x axis."""

    x: float
    y: float
    label: str


@dataclass(frozen=True)
class BrokenSeries(Series):
    """A line that stops where it has no value: each run of points with values is drawn on its own, so no
    line is drawn across a suppressed or empty cell as if it were known; suppressed cells are ``gaps``."""

    runs: list[list[Point]] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)

    @property
    def polylines(self) -> list[str]:
        return [" ".join(f"{point.x:.1f},{point.y:.1f}" for point in run) for run in self.runs if len(run) > 1]


@dataclass(frozen=True)
class LineSpec:
    key: str
    name: str
    pattern: str
    marker: str
    values: Sequence[float | None | bool]  # ``True``: a suppressed cell


def compared_lines(labels: Sequence[str], lines: Sequence[LineSpec], *, percent: bool = False) -> Chart:
    """One line per ``LineSpec`` over the same labels (e.g. the months of last year and of this year), on a
    scale from the smallest value (or 0) to the largest; shares 0–1 drawn as 0–100 % with ``percent``.
    A suppressed cell (``True``) breaks its line and is marked "skjult" above the label, one row per line,
    so it is never read as 0; an empty cell (``None``) breaks the line and is left blank."""
    scale, values = _scaled([line.values for line in lines], percent=percent)
    chart = Chart(y_ticks=scale.ticks)
    count = len(labels)
    for position, (line, row) in enumerate(zip(lines, values, strict=True)):
        points: list[Point] = []
        runs: list[list[Point]] = [[]]
        gaps = []
        for index, value in enumerate(row):
            x = _x(index, count)
            if value is None:
                if runs[-1]:
                    runs.append([])
                if line.values[index] is True:
                    gaps.append(Gap(x, HEIGHT - BOTTOM - 6 - 14 * position, labels[index]))
                continue
            point = Point(x, scale.y(value), _shown(value, percent=percent), labels[index])
            points.append(point)
            runs[-1].append(point)
        chart.series.append(
            BrokenSeries(line.key, line.name, line.pattern, line.marker, points, [run for run in runs if run], gaps)
        )
    chart.x_ticks = [Tick(_x(index, count), label) for index, label in enumerate(labels)]
    return chart


def _nice_step(raw: float) -> float:
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude
