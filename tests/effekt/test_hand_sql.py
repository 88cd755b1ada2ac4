"""The benchmark's hand-written statements and the indicators read from the precomputed tables give the
same figure for every unit and year of the benchmark's seeded municipality, wherever the cell is shown."""

from datetime import date

import pytest
from django.db import connection
from django.utils import timezone

from backend.actors import Actor
from backend.models import AppSession, Municipality, User
from backend.timeutil import municipal_today
from bench.effekt import hand_sql
from bench.effekt.seed import main as seed
from effekt.aggregates import tables_refresh
from effekt.indicators.definitions import INDICATORS
from effekt.indicators.sources import Scope
from effekt.models import AggregateRead
from effekt.periods import Period
from effekt.selectors import IndicatorQuery, indicator_values


@pytest.mark.django_db
def test_every_shown_figure_equals_its_hand_written_statement():
    seed(1200)
    municipality = Municipality.objects.get(code="999")
    tables_refresh(municipalities=[municipality])
    actor = Actor(user=User.objects.get(username="bench-analyst"), audience=AppSession.Audience.STAFF)
    statements = hand_sql.statements(connection.vendor)
    compared = suppressed = 0
    for year in range(municipal_today().year - 3, municipal_today().year):
        period = Period(date(year, 1, 1), date(year, 12, 31), "year")
        scope = Scope(municipality_id=municipality.pk, start=period.start, end=period.end)
        for unit in municipality.units.all():
            query = IndicatorQuery(period=period, unit=unit.pk)
            params = hand_sql.parameters(connection, unit.pk, year, scope.instants(), timezone.now())
            for indicator in INDICATORS:
                result = indicator_values(actor, indicator, query, surface=AggregateRead.Surface.API)
                assert result.computed_at < timezone.now()
                citizens, value = hand_sql.FIGURES[indicator.key].read(result)
                if citizens is None or value is None:  # suppressed
                    suppressed += 1
                    continue
                with connection.cursor() as cursor:
                    cursor.execute(statements[indicator.key], params)
                    row = cursor.fetchone()
                expected = (row[0], None if row[1] is None else round(float(row[1]), 2))
                assert (citizens, None if value is None else round(float(value), 2)) == expected, (
                    indicator.key,
                    unit.name,
                    year,
                )
                compared += 1
    assert compared >= 100 and suppressed < compared / 5
