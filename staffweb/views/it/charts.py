"""A device's last 30 days as server-drawn SVG, with the geometry of ``staffweb.charts`` (the templates draw it
and show the same data as a table; series differ by line pattern and marker, not colour alone)."""

from collections.abc import Sequence

from django.utils.translation import gettext

from staffweb.charts import BOTTOM, HEIGHT, LEFT, RIGHT, TOP, WIDTH, Chart, Point, Series, Tick
from velfaerdsteknologi.selectors import TelemetryDay


def _x(index: int, count: int) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * (index + 0.5) / count if count else LEFT


def _y(value: float, top: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - value / top)


def _label(day: TelemetryDay) -> str:
    return f"{day.day.day}/{day.day.month}"


def _x_ticks(days: Sequence[TelemetryDay]) -> list[Tick]:
    step = max(1, len(days) // 8)
    return [Tick(_x(index, len(days)), _label(days[index])) for index in range(0, len(days), step)]


def battery(days: Sequence[TelemetryDay]) -> Chart:
    """The day's lowest battery level, 0–100 %; days without a battery reading have no point."""
    chart = Chart(y_ticks=[Tick(_y(value, 100), f"{value} %") for value in (0, 25, 50, 75, 100)])
    points = [
        Point(_x(index, len(days)), _y(day.battery_low, 100), day.battery_low, _label(day))
        for index, day in enumerate(days)
        if day.battery_low is not None
    ]
    chart.series.append(Series("battery", gettext("Laveste batteriniveau"), "solid", "circle", points))
    chart.x_ticks = _x_ticks(days)
    return chart


def _ceiling(value: int) -> int:
    """A round top for the scale: 10, 20, 50, 100, 200, 500 …"""
    top = 10
    while top < value:
        top = top * 5 // 2 if str(top).startswith("2") else top * 2
    return top


def activity(days: Sequence[TelemetryDay]) -> Chart:
    """Heartbeats and readings of every kind per day, on one count scale."""
    top = _ceiling(max([day.readings for day in days] + [1]))
    chart = Chart(y_ticks=[Tick(_y(value, top), str(value)) for value in (0, top // 2, top)])
    count = len(days)
    for key, name, pattern, marker in (
        ("heartbeats", gettext("Livstegn"), "solid", "circle"),
        ("readings", gettext("Alle målinger"), "dashed", "square"),
    ):
        points = [
            Point(_x(index, count), _y(getattr(day, key), top), getattr(day, key), _label(day))
            for index, day in enumerate(days)
        ]
        chart.series.append(Series(key, name, pattern, marker, points))
    chart.x_ticks = _x_ticks(days)
    return chart
