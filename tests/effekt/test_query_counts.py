"""Each indicator costs the same number of queries however many citizens, goals, ratings, slots,
sessions, answers, requests and devices lie behind it."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from effekt.indicators.definitions import INDICATORS
from tests.effekt.population import DRESSING, PERIOD, WALKING, completed_episode, device_for, goal, sessions, slots
from tests.selvbetjening import factories

pytestmark = pytest.mark.django_db

QUERY = {**PERIOD, "breakdown": "team"}
# A query takes one of these at a time; without a stored table (none is, here) its cells are computed.
FILTERS = [{"age_band": "65-79"}, {"condition": str(WALKING[0])}, {"device_type": "fall_detector"}]


def add_episodes(world, count: int, version) -> None:
    for index in range(count):
        team = world.team if index % 2 else world.other_team
        episode = completed_episode(team, result="E1" if index % 3 else "E2")
        goal(episode, gas=index % 3 - 1, level=index % 4, condition=WALKING)
        goal(episode, gas=0, level=2, condition=DRESSING)
        slots(episode, done=3, missed=index % 2)
        sessions(episode, [(5, 4), (3, 3)])
        if index % 2:
            device_for(episode)
        for score in (4, 8):
            factories.QuestionnaireResponseFactory(
                assignment__citizen=episode.citizen,
                assignment__episode=episode,
                assignment__version=version,
                version=version,
                score=score,
            )
        request = factories.CitizenRequestFactory(
            citizen=episode.citizen,
            team=team,
            episode=episode,
            respond_by=datetime(2026, 3, 5, tzinfo=UTC),
            answered_at=datetime(2026, 3, 4, tzinfo=UTC),
        )
        type(request).objects.filter(pk=request.pk).update(created_at=datetime(2026, 3, 3, tzinfo=UTC))
        type(episode).objects.filter(pk=episode.pk).update(
            created_at=datetime(2026, 2, 20, tzinfo=UTC) - timedelta(days=index)
        )


@pytest.mark.parametrize("key", [indicator.key for indicator in INDICATORS])
def test_queries_do_not_grow_with_the_population(world, django_assert_num_queries, key):
    version = factories.QuestionnaireVersionFactory()
    client = world.client("analyst")
    add_episodes(world, 3, version)
    small = {}
    for index, single in enumerate(FILTERS):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/api/v1/indicators/{key}", {**QUERY, **single}).status_code == 200
        small[index] = len(captured)
    add_episodes(world, 12, version)
    for index, single in enumerate(FILTERS):
        with django_assert_num_queries(small[index]):
            body = client.get(f"/api/v1/indicators/{key}", {**QUERY, **single}).json()
    assert body["total"]["level"] == "municipality"
