"""The demo's analyst sees indicators with figures in them, and a suppressed cell."""

import pytest
from django.core.management import call_command

from backend.models import AppSession, User
from effekt.indicators.definitions import INDICATORS
from selvbetjening.models import Episode
from tests.conftest import ApiClient, access_token_for


@pytest.mark.django_db
def test_the_demo_analyst_sees_meaningful_indicators_and_a_suppressed_cell():
    call_command("seed_demo")
    call_command("seed_effekt_demo")
    count = Episode.objects.filter(status="completed").count()
    assert count == 28
    analyst = ApiClient(access_token_for(User.objects.get(username="analytiker"), AppSession.Audience.STAFF))

    shown = suppressed = 0
    for key in (indicator.key for indicator in INDICATORS):
        body = analyst.get(f"/api/v1/indicators/{key}", {"breakdown": "team"}).json()
        assert body["total"]["suppressed"] is False, key
        assert body["total"]["citizens"] >= 10, key
        for cell in [body["total"], *body["cells"]]:
            for item in [cell, *cell["groups"]]:
                if item["citizens"]:
                    shown += 1
                suppressed += item["suppressed"]
    assert shown > 3 * suppressed > 0

    results = analyst.get("/api/v1/indicators/follow_up_results", {"breakdown": "team"}).json()
    nord = next(cell for cell in results["cells"] if cell["name"] == "Hjemmepleje Nord")
    assert nord["citizens"] == 12
    by_code = {group["key"]: group for group in nord["groups"]}
    assert (by_code["E1"]["suppressed"], by_code["E1"]["citizens"]) == (False, 6)
    assert by_code["E4"]["suppressed"] and by_code["E2"]["suppressed"]
    assert results["total"]["values"] == {}

    call_command("seed_effekt_demo")
    assert Episode.objects.filter(status="completed").count() == count
