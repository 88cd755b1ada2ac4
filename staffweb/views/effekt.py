"""Effekt: the indicators for team leaders and analysts, this year against last, with the theories of change
and their current figures. Aggregates only: every figure comes from the effect layer's selectors, built and
suppressed there (cells of fewer than 5 citizens, and those that would let one be worked out, are shown as
suppressed), and every indicator query is written to the aggregate-read log before the page is sent."""

import json
from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from backend.actors import ANALYST
from backend.models import Membership, StaffRole
from backend.timeutil import municipal_today
from effekt import fhir
from effekt.access import access_theory_of_change
from effekt.indicators.definitions import BY_KEY, INDICATORS, Indicator
from effekt.indicators.evaluator import MONTHS, QUARTERS, YEAR, Cell
from effekt.models import AggregateRead
from effekt.periods import Period, month_periods, year_period
from effekt.selectors import (
    MONTHLY,
    IndicatorQuery,
    IndicatorResult,
    IndicatorSeries,
    conditions_in,
    indicator_in_context,
    indicator_series,
    indicator_values,
    organisation_of,
    outcome_values,
    theories_visible_to,
)
from effekt.suppression import MINIMUM_CITIZENS
from effekt.tables import indicator_csv
from selvbetjening.texts import pick
from staffweb import charts
from staffweb.forms import DkfdsForm
from staffweb.views.base import TEAM_LEAD, StaffRequest, page, staff_page

EFFECT_READERS = ANALYST | TEAM_LEAD
YEARS_BACK = 5
HEADLINE = ("goal_attainment", "function_change")


# --- The filters ---------------------------------------------------------------------------------


def _month_name(month: int) -> str:
    """The month's name in the language of the request ("januar", "January")."""
    return date_format(date(2000, month, 1), "F")


def _period_choices() -> list[Any]:
    return [
        ("", gettext("Hele året")),
        (
            gettext("Kvartal"),
            [(quarter, gettext("{}. kvartal").format(index)) for index, quarter in enumerate(QUARTERS, 1)],
        ),
        (gettext("Måned"), [(month, _month_name(index).capitalize()) for index, month in enumerate(MONTHS, 1)]),
    ]


class EffectFilters(DkfdsForm):
    """Year (against the year before), the whole year, a quarter or a month of it, team or unit, FSIII
    condition; choices from the caller's own municipality only."""

    year = forms.TypedChoiceField(label=_("År"), coerce=int)
    period = forms.ChoiceField(label=_("Periode"), required=False)
    area = forms.ChoiceField(label=_("Enhed eller team"), required=False)
    condition = forms.ChoiceField(label=_("Tilstand (FSIII)"), required=False)

    def __init__(self, data: Any, *, request: StaffRequest, today: date) -> None:
        super().__init__(data)
        actor = request.actor
        assert actor.staff is not None
        organisation = organisation_of(actor.staff.municipality)
        years = [today.year - back for back in range(YEARS_BACK)]
        self.fields["year"].choices = [(year, str(year)) for year in years]  # type: ignore[attr-defined]
        self.fields["period"].choices = _period_choices()  # type: ignore[attr-defined]
        areas: list[tuple[str, str]] = [
            ("", gettext("Hele kommunen (%(name)s)") % {"name": organisation.municipality.name})
        ]
        for unit in organisation.units:
            areas.append((f"unit:{unit.id}", gettext("Enhed: %(name)s") % {"name": unit.name}))
            areas.extend(
                (f"team:{team.id}", gettext("– Team: %(name)s") % {"name": team.name})
                for team in organisation.teams
                if team.parent == unit
            )
        self.fields["area"].choices = areas  # type: ignore[attr-defined]
        self.fields["condition"].choices = [  # type: ignore[attr-defined]
            ("", gettext("Alle tilstande")),
            *((str(code), name) for code, name in conditions_in(actor)),
        ]
        self.style_fields()

    def queries(self) -> tuple[IndicatorQuery, IndicatorQuery]:
        """This period's query and the same period a year earlier, with the same filters."""
        data = self.cleaned_data
        year, key = data["year"], data["period"] or YEAR
        return self.query(_period(year, key)), self.query(_period(year - 1, key))

    def query(self, period: Period) -> IndicatorQuery:
        """The query of ``period`` with the team or unit and the condition chosen."""
        area, condition = self.cleaned_data["area"], self.cleaned_data["condition"]
        team = UUID(area.split(":", 1)[1]) if area.startswith("team:") else None
        unit = UUID(area.split(":", 1)[1]) if area.startswith("unit:") else None
        return IndicatorQuery(period=period, team=team, unit=unit, condition=UUID(condition) if condition else None)


def _period(year: int, key: str) -> Period:
    """The year, one of its quarters or one of its months: the periods the effect layer suppresses together."""
    if key == YEAR:
        return year_period(year)
    if key in MONTHS:
        return month_periods(year)[MONTHS.index(key)]
    number = QUARTERS.index(key)
    last_month = 3 * number + 3
    return Period(date(year, last_month - 2, 1), date(year, last_month, monthrange(year, last_month)[1]), key)


def _filters(request: StaffRequest) -> EffectFilters:
    today = municipal_today()
    data = request.GET.copy()
    if "year" not in data:
        data["year"] = str(today.year)
        if request.actor.roles & TEAM_LEAD and "area" not in data:
            led = _team_led(request)
            if led is not None:
                data["area"] = f"team:{led}"
    return EffectFilters(data, request=request, today=today)


def _team_led(request: StaffRequest) -> UUID | None:
    """The team a team leader leads, when they lead one: their first view of Effekt is of it."""
    return (
        Membership.objects.filter(staff=request.actor.staff, role=StaffRole.TEAM_LEAD)
        .order_by("team__name")
        .values_list("team_id", flat=True)
        .first()
    )


# --- Presenting ----------------------------------------------------------------------------------

SUPPRESSED = True


def _is_share(measure_key: str) -> bool:
    return measure_key.startswith("share") or measure_key == "mean_adherence"


def _number(value: float | None, *, share: bool = False) -> str:
    if value is None:
        return "–"
    if share:
        return f"{round(value * 100)} %"
    return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",").replace("-", "−")


@dataclass
class Figures:
    """What one cell shows in a table column: hidden, or its citizens, count and values as text."""

    suppressed: bool
    missing: bool = False
    citizens: str = ""
    count: str = ""
    share: str = ""
    values: list[str] | None = None


def _figures(cell: Cell | None, indicator: Indicator) -> Figures:
    if cell is None:
        return Figures(suppressed=False, missing=True)
    if cell.suppressed:
        return Figures(suppressed=True)
    values = cell.values or {}
    return Figures(
        suppressed=False,
        citizens=str(cell.citizens or 0),
        count=str(cell.count or 0),
        share=_number(cell.share, share=True),
        values=[_number(values.get(m.key), share=_is_share(m.key)) for m in indicator.measures],
    )


@dataclass
class Row:
    name: str
    last: Figures
    this: Figures

    @property
    def columns(self) -> list[Figures]:
        return [self.last, self.this]


def _headline(indicator: Indicator) -> str | None:
    """The measure drawn in the chart: the first share, else the first measure; None draws the groups' shares."""
    keys = [measure.key for measure in indicator.measures]
    return next((key for key in keys if _is_share(key)), keys[0] if keys else None)


def _chart_value(cell: Cell | None, key: str | None) -> float | None | bool:
    if cell is None:
        return None
    if cell.suppressed:
        return SUPPRESSED
    if key is None:
        return cell.share
    return (cell.values or {}).get(key)


@dataclass
class Comparison:
    """An indicator for one period against the same period a year earlier: cells or groups as rows, a chart."""

    indicator: Indicator
    title: str
    this: IndicatorResult
    last: IndicatorResult
    rows: list[Row]
    chart: charts.Chart
    chart_measure: str
    by_group: bool

    @property
    def measures(self) -> list[str]:
        return [pick(*measure.title) for measure in self.indicator.measures]

    @property
    def computed_at(self) -> tuple[str, str]:
        """The day and time the older of the two periods' figures was computed, in the municipality's time."""
        local = min(self.this.computed_at, self.last.computed_at).astimezone(
            ZoneInfo(settings.DEFAULT_CITIZEN_TIME_ZONE)
        )
        return date_format(local, "j. F Y"), date_format(local, "H:i")

    @property
    def chart_title(self) -> str:
        return f"{self.title}: {self.chart_measure}"

    @property
    def chart_description(self) -> str:
        last, this = self.last.query.period.start.year, self.this.query.period.start.year
        return gettext(
            "Søjler for %(last)s og %(this)s side om side for hver række i tabellen under diagrammet; "
            "skjulte tal har ingen søjle."
        ) % {"last": last, "this": this}


def _compare(indicator: Indicator, this: IndicatorResult, last: IndicatorResult, *, by_group: bool) -> Comparison:
    names: dict[Any, str]
    if by_group:
        names = {
            group.group: pick(*group.group_name) if group.group_name else str(group.group)
            for result in (last, this)
            for group in result.total.groups
        }
        this_cells: dict[Any, Cell] = {group.group: group for group in this.total.groups}
        last_cells: dict[Any, Cell] = {group.group: group for group in last.total.groups}
        keys = sorted(names, key=lambda key: names[key].lower())
    else:
        names = {cell.node: cell.node.name for cell in [this.total, *this.cells]}
        this_cells = {cell.node: cell for cell in [this.total, *this.cells]}
        last_cells = {cell.node: cell for cell in [last.total, *last.cells]}
        keys = list(names)
    rows = [
        Row(names[key], _figures(last_cells.get(key), indicator), _figures(this_cells.get(key), indicator))
        for key in keys
    ]
    measure = _headline(indicator)
    share = measure is None or _is_share(measure)
    chart = charts.compared_bars(
        [names[key] for key in keys],
        [[_chart_value(cells.get(key), measure) for key in keys] for cells in (last_cells, this_cells)],
        percent=share,
    )
    measure_title = (
        next(pick(*m.title) for m in indicator.measures if m.key == measure) if measure else gettext("Andel af alle")
    )
    return Comparison(indicator, pick(*indicator.title), this, last, rows, chart, measure_title, by_group)


def _comparison(
    request: StaffRequest, indicator: Indicator, queries: tuple[IndicatorQuery, IndicatorQuery]
) -> Comparison:
    this_query, last_query = queries
    surface = AggregateRead.Surface.PAGE
    if indicator.grouped:
        this = indicator_values(request.actor, indicator, this_query, surface=surface)
        last = indicator_values(request.actor, indicator, last_query, surface=surface)
        return _compare(indicator, this, last, by_group=True)
    this = indicator_in_context(request.actor, indicator, this_query, surface=surface)
    last = indicator_in_context(request.actor, indicator, last_query, surface=surface)
    return _compare(indicator, this, last, by_group=False)


# --- Month by month ------------------------------------------------------------------------------


@dataclass
class MonthFigures:
    """One month's cell of a series as text: hidden, or its citizens and the measure drawn."""

    suppressed: bool
    citizens: str = ""
    value: str = ""


@dataclass
class MonthRow:
    name: str
    last: MonthFigures
    this: MonthFigures
    is_chosen: bool = False  # in the period the filters chose

    @property
    def columns(self) -> list[MonthFigures]:
        return [self.last, self.this]


@dataclass
class MonthSeries:
    """An indicator's year month by month against the year before: a row per month and the years' totals,
    and the lines of the measure drawn (the headline measure, or the number of citizens)."""

    title: str
    measure: str | None  # None: the number of citizens is drawn, and is the only column
    rows: list[MonthRow]
    total: MonthRow
    chart: charts.Chart
    last_year: int
    this_year: int

    @property
    def chart_title(self) -> str:
        drawn = self.measure or gettext("Antal borgere")
        return gettext("%(title)s måned for måned: %(measure)s") % {"title": self.title, "measure": drawn}

    @property
    def chart_description(self) -> str:
        return gettext(
            "En linje for %(last)s (stiplet, firkanter) og en for %(this)s (fuldt optrukket, cirkler), en værdi "
            'pr. måned. Hvor en måneds tal er skjult, er linjen brudt, og der står "skjult" over måneden. Alle tal '
            "står i tabellen under diagrammet."
        ) % {"last": self.last_year, "this": self.this_year}


def _month_figures(cell: Cell | None, measure: str | None) -> MonthFigures:
    if cell is None or cell.suppressed:
        return MonthFigures(suppressed=cell is not None)  # None: a series of years has no total
    value = "" if measure is None else _number((cell.values or {}).get(measure), share=_is_share(measure))
    return MonthFigures(suppressed=False, citizens=str(cell.citizens or 0), value=value)


def _month_value(cell: Cell, measure: str | None) -> float | None | bool:
    if cell.suppressed:
        return SUPPRESSED
    if measure is None:
        return cell.citizens
    return (cell.values or {}).get(measure)


def _month_series(request: StaffRequest, indicator: Indicator, form: EffectFilters, chosen: Period) -> MonthSeries:
    """The chosen year and the year before, month by month, for the team, unit or municipality and the
    condition chosen: two aggregate reads, each a year's months read from the table they are suppressed in
    together with the year and its quarters."""
    this_year = chosen.start.year
    last, this = (
        indicator_series(
            request.actor,
            indicator,
            form.query(year_period(year)),
            interval=MONTHLY,
            surface=AggregateRead.Surface.PAGE,
        )
        for year in (this_year - 1, this_year)
    )
    key = _headline(indicator)
    measure = None if key is None else next(pick(*m.title) for m in indicator.measures if m.key == key)

    def points(series: IndicatorSeries) -> list[Cell]:
        return [point.cell for point in series.points]

    whole_year = chosen.key == YEAR
    rows = [
        MonthRow(
            _month_name(number).capitalize(),
            _month_figures(last_cell, key),
            _month_figures(this_cell, key),
            is_chosen=not whole_year and chosen.start <= month.start <= chosen.end,
        )
        for number, (month, last_cell, this_cell) in enumerate(
            zip(month_periods(this_year), points(last), points(this), strict=True), 1
        )
    ]
    total = MonthRow(gettext("Hele året"), _month_figures(last.total, key), _month_figures(this.total, key))
    chart = charts.compared_lines(
        [date_format(month.start, "b") for month in month_periods(this_year)],
        [
            charts.LineSpec(
                "last", str(this_year - 1), "dashed", "square", [_month_value(cell, key) for cell in points(last)]
            ),
            charts.LineSpec(
                "this", str(this_year), "solid", "circle", [_month_value(cell, key) for cell in points(this)]
            ),
        ],
        percent=key is not None and _is_share(key),
    )
    return MonthSeries(pick(*indicator.title), measure, rows, total, chart, this_year - 1, this_year)


def _query_string(form: EffectFilters) -> str:
    return urlencode({key: value for key, value in form.data.items() if key in form.fields and value})


def _downloads(indicator: Indicator, form: EffectFilters) -> dict[str, str]:
    query = _query_string(form)
    return {
        "csv": reverse("staffweb:effekt:csv", args=[indicator.key]) + "?" + query,
        "measure_report": reverse("staffweb:effekt:measure-report", args=[indicator.key]) + "?" + query,
        "page": reverse("staffweb:effekt:indicator", args=[indicator.key]) + "?" + query,
    }


def period_label(period: Period) -> str:
    """A period as the tables head it: "2026", "1. kvartal 2026", "marts 2026"."""
    if period.key == YEAR:
        return str(period.start.year)
    if period.key in QUARTERS:
        return gettext("{}. kvartal").format(QUARTERS.index(period.key) + 1) + f" {period.start.year}"
    return f"{_month_name(period.start.month)} {period.start.year}"


def _context(form: EffectFilters) -> dict[str, Any]:
    queries = form.queries()
    return {
        "form": form,
        "nav": "effekt",
        "minimum_citizens": MINIMUM_CITIZENS,
        "this_period": queries[0].period,
        "last_period": queries[1].period,
        "this_label": period_label(queries[0].period),
        "last_label": period_label(queries[1].period),
        "query_string": _query_string(form),
    }


# --- Pages ---------------------------------------------------------------------------------------


@staff_page(EFFECT_READERS)
def overview(request: StaffRequest) -> HttpResponse:
    form = _filters(request)
    if not form.is_valid():
        return page(request, "staffweb/effekt/overview.html", {"form": form, "nav": "effekt"}, status=422)
    context = _context(form)
    queries = form.queries()
    headline = []
    for key in HEADLINE:
        comparison = _comparison(request, BY_KEY[key], queries)
        headline.append(
            {
                "comparison": comparison,
                "months": _month_series(request, BY_KEY[key], form, queries[0].period),
                "downloads": _downloads(comparison.indicator, form),
            }
        )
    theories = []
    for theory in theories_visible_to(request.actor).prefetch_related("outcomes")[:10]:
        theories.append({"theory": theory, "outcomes": _outcomes(request, theory, queries[0].period)})
    others = [
        {"title": pick(*indicator.title), "url": _downloads(indicator, form)["page"]}
        for indicator in INDICATORS
        if indicator.key not in HEADLINE
    ]
    return page(
        request,
        "staffweb/effekt/overview.html",
        {**context, "headline": headline, "theories": theories, "others": others},
    )


@staff_page(EFFECT_READERS)
def indicator(request: StaffRequest, key: str) -> HttpResponse:
    chosen = BY_KEY.get(key)
    if chosen is None:
        raise Http404
    form = _filters(request)
    if not form.is_valid():
        return page(
            request, "staffweb/effekt/indicator.html", {"form": form, "nav": "effekt", "indicator": chosen}, status=422
        )
    queries = form.queries()
    comparison = _comparison(request, chosen, queries)
    return page(
        request,
        "staffweb/effekt/indicator.html",
        {
            **_context(form),
            "indicator": chosen,
            "description": pick(*chosen.description),
            "counts": pick(*chosen.counts),
            "comparison": comparison,
            "months": _month_series(request, chosen, form, queries[0].period),
            "downloads": _downloads(chosen, form),
        },
    )


def _outcomes(request: StaffRequest, theory: Any, period: Period) -> list[dict[str, Any]]:
    figures = {item.outcome.pk: item for item in outcome_values(request.actor, theory, period=period)}
    items = []
    for outcome in theory.outcomes.all():
        figure = figures[outcome.pk]
        indicator = BY_KEY[outcome.indicator_key]
        measure = next((m for m in indicator.measures if m.key == outcome.measure_key), None)
        share = bool(outcome.measure_key) and _is_share(outcome.measure_key)
        items.append(
            {
                "outcome": outcome,
                "indicator": pick(*indicator.title),
                "measure": (
                    pick(*measure.title)
                    if measure
                    else gettext("Antal borgere (%(counts)s)") % {"counts": pick(*indicator.counts)}
                ),
                "suppressed": figure.cell.suppressed,
                "value": _number(figure.value, share=share),
                "target": None if outcome.target is None else _number(float(outcome.target), share=share),
            }
        )
    return items


@staff_page(EFFECT_READERS)
def theory(request: StaffRequest, theory_id: UUID) -> HttpResponse:
    chosen = access_theory_of_change(request.actor, theory_id)
    form = _filters(request)
    if not form.is_valid():
        return page(
            request, "staffweb/effekt/theory.html", {"form": form, "nav": "effekt", "theory": chosen}, status=422
        )
    context = _context(form)
    return page(
        request,
        "staffweb/effekt/theory.html",
        {**context, "theory": chosen, "outcomes": _outcomes(request, chosen, context["this_period"])},
    )


# --- Downloads -----------------------------------------------------------------------------------


def _download_result(request: StaffRequest, key: str, surface: str) -> IndicatorResult | None:
    chosen = BY_KEY.get(key)
    if chosen is None:
        raise Http404
    form = _filters(request)
    if not form.is_valid():
        return None
    this_query, _ = form.queries()
    breakdown = "none" if this_query.team else ("team" if this_query.unit else "unit")
    query = IndicatorQuery(
        period=this_query.period,
        team=this_query.team,
        unit=this_query.unit,
        condition=this_query.condition,
        breakdown=breakdown,
    )
    return indicator_values(request.actor, chosen, query, surface=surface)


def _refused() -> HttpResponse:
    return HttpResponse(gettext("Filtrene kan ikke bruges."), status=422, content_type="text/plain; charset=utf-8")


@staff_page(EFFECT_READERS)
def indicator_csv_download(request: StaffRequest, key: str) -> HttpResponse:
    result = _download_result(request, key, AggregateRead.Surface.CSV)
    if result is None:
        return _refused()
    response = HttpResponse(indicator_csv(result), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{key}-{result.query.period.start:%Y}.csv"'
    return response


@staff_page(EFFECT_READERS)
def indicator_measure_report(request: StaffRequest, key: str) -> HttpResponse:
    result = _download_result(request, key, AggregateRead.Surface.MEASURE_REPORT)
    if result is None:
        return _refused()
    assert request.actor.staff is not None
    report = fhir.indicator_measure_report(result, request.actor.staff.municipality.name)
    response = HttpResponse(json.dumps(report, cls=DjangoJSONEncoder), content_type=fhir.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{key}-{result.query.period.start:%Y}-measurereport.json"'
    return response
