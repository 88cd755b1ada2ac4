"""In and Out shapes of the effect API."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from ninja import Schema
from pydantic import Field

from backend.schemas import InSchema
from effekt.indicators.evaluator import AGE_BANDS, PERIODS
from selvbetjening.schemas.common import InDate

AgeBand = Literal["0-64", "65-79", "80+"]
Breakdown = Literal["none", "unit", "team"]
PeriodKey = Literal[
    "year", "Q1", "Q2", "Q3", "Q4", "M01", "M02", "M03", "M04", "M05", "M06", "M07", "M08", "M09", "M10", "M11", "M12"
]
assert set(AgeBand.__args__) == set(AGE_BANDS)  # type: ignore[attr-defined]
assert PeriodKey.__args__ == PERIODS  # type: ignore[attr-defined]


class PeriodQueryIn(Schema):
    from_: InDate | None = Field(
        default=None,
        alias="from",
        description="1 January, or the first day of a quarter or month (default: last year).",
    )
    to: InDate | None = Field(
        default=None, description="31 December of the same year, or the last day of the quarter or month."
    )


class IndicatorFiltersIn(Schema):
    """Team or unit, and at most one of condition, age band and device type (two or more at once: 422)."""

    team: UUID | None = Field(default=None, description="Only this team's cell (and its own breakdown).")
    unit: UUID | None = Field(default=None, description="Only this unit's cell; `breakdown=team` lists its teams.")
    condition: UUID | None = Field(default=None, description="FSIII condition code: episodes with a goal for it.")
    age_band: AgeBand | None = Field(default=None, description="The citizen's age when the episode started.")
    device_type: str | None = Field(
        default=None,
        max_length=40,
        description="Device category code: episodes with such a device installed (device_effect: the compared type).",
    )


class IndicatorQueryIn(PeriodQueryIn, IndicatorFiltersIn):
    breakdown: Breakdown = Field(default="none", description="Cells per unit or per team below the one asked.")


Interval = Literal["month", "year"]
MAXIMUM_SERIES_YEARS = 10


class SeriesQueryIn(IndicatorFiltersIn):
    interval: Interval = Field(
        default="month", description="`month`: each month of `year`; `year`: each of `years` years ending with `year`."
    )
    year: int | None = Field(
        default=None,
        ge=2000,
        le=2100,
        description="The year of a monthly series, the last of a yearly one (default: last year).",
    )
    years: int = Field(default=3, ge=1, le=MAXIMUM_SERIES_YEARS, description="How many years a yearly series covers.")


class MeasureOut(Schema):
    key: str
    title: str


class IndicatorSummaryOut(Schema):
    key: str
    title: str
    description: str
    counts: str = Field(description="What one counted row is: goals, episodes, requests, answer pairs.")
    measures: list[MeasureOut]
    grouped: bool = Field(description="Whether each cell is split into groups (a distribution or a comparison).")


class CatalogueOut(Schema):
    minimum_citizens: int
    indicators: list[IndicatorSummaryOut]


class GroupOut(Schema):
    key: str
    name: str | None
    suppressed: bool
    citizens: int | None
    count: int | None
    share: float | None = Field(description="This group's share of the cell's rows.")
    values: dict[str, float | None] | None


class CellOut(Schema):
    level: Literal["municipality", "unit", "team"]
    id: UUID | None
    name: str
    suppressed: bool = Field(description="True when the cell would show, or let be worked out, under 5 citizens.")
    citizens: int | None
    count: int | None
    values: dict[str, float | None] | None
    groups: list[GroupOut]


class PeriodOut(Schema):
    start: date
    end: date
    key: PeriodKey


class IndicatorOut(Schema):
    key: str
    title: str
    description: str
    counts: str
    measures: list[MeasureOut]
    period: PeriodOut
    filters: dict[str, str]
    breakdown: Breakdown
    minimum_citizens: int
    computed_at: datetime = Field(
        description="When the figures were computed: the time of the query, or of the latest refresh of the "
        "precomputed table it read (refreshed every five minutes when its rows changed)."
    )
    total: CellOut
    cells: list[CellOut]


class SeriesPointOut(Schema):
    period: PeriodOut
    computed_at: datetime = Field(description="When this point's figures were computed.")
    cell: CellOut = Field(description="Suppressed like a table cell, together with the other points and the total.")


class SeriesOut(IndicatorSummaryOut):
    interval: Interval
    filters: dict[str, str]
    minimum_citizens: int
    level: Literal["municipality", "unit", "team"]
    id: UUID | None
    name: str
    total: CellOut | None = Field(
        description="A monthly series: the year's cell, suppressed together with its months, so that no hidden "
        "month is the year less the months shown. A yearly series: null."
    )
    points: list[SeriesPointOut]


# --- Theories of change ------------------------------------------------------------------------


class OutcomeIn(InSchema):
    term: Literal["short", "long"]
    description: str = Field(min_length=1, max_length=500)
    indicator_key: str = Field(max_length=40)
    measure_key: str = Field(default="", max_length=40, description="Empty: the indicator's citizen count.")
    target: Decimal | None = Field(
        default=None, ge=-1_000_000, le=1_000_000, decimal_places=2, json_schema_extra={"multipleOf": 0.01}
    )


class TheoryOfChangeIn(InSchema):
    title: str = Field(min_length=1, max_length=200)
    intervention: str = Field(min_length=1, max_length=5000)
    activities: str = Field(min_length=1, max_length=5000)
    outputs: str = Field(min_length=1, max_length=5000)
    assumptions: str = Field(default="", max_length=5000)
    outcomes: list[OutcomeIn] = Field(min_length=1, max_length=10)


class OutcomeOut(Schema):
    id: UUID
    term: str
    description: str
    indicator_key: str
    measure_key: str
    target: float | None
    suppressed: bool | None = Field(default=None, description="The municipality's figure is suppressed.")
    citizens: int | None = None
    value: float | None = Field(default=None, description="The municipality's figure for the period asked.")


class TheoryOfChangeOut(Schema):
    id: UUID
    title: str
    intervention: str
    activities: str
    outputs: str
    assumptions: str
    created_at: datetime
    outcomes: list[OutcomeOut]


class TheoryOfChangeDetailOut(TheoryOfChangeOut):
    period: PeriodOut


class TheoryOfChangePageOut(Schema):
    items: list[TheoryOfChangeOut]
    next_cursor: str | None


class BenchmarkQueryIn(PeriodQueryIn):
    """At most one of condition, age band and device type (two or more at once: 422)."""

    condition: UUID | None = Field(default=None, description="FSIII condition code: episodes with a goal for it.")
    age_band: AgeBand | None = Field(default=None, description="The citizen's age when the episode started.")
    device_type: str | None = Field(default=None, max_length=40, description="Device category code.")


class BenchmarkMunicipalityOut(Schema):
    id: UUID
    name: str
    own: bool = Field(description="The caller's own municipality.")
    computed_at: datetime = Field(description="When the municipality's figure was computed.")
    total: CellOut = Field(description="The municipality-level cell, suppressed as in the municipality's own table.")


class BenchmarkOut(IndicatorSummaryOut):
    period: PeriodOut
    filters: dict[str, str]
    minimum_citizens: int
    municipalities: list[BenchmarkMunicipalityOut] = Field(
        description="The municipalities taking part, the caller's first; never a team or unit."
    )


class BenchmarkParticipationOut(Schema):
    participating: bool
    joined_at: datetime | None
    municipalities: int = Field(description="How many municipalities take part.")
