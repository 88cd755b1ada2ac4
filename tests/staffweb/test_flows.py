"""The staff pages' co-creation flows: starting an episode with a citizen and writing a goal in the
citizen's own words; each as the API does it, with Danish errors beside the fields and the API's access."""

from datetime import timedelta

import pytest

from backend.models import AccessLogEntry, StaffRole
from backend.timeutil import municipal_today
from selvbetjening.models import Episode, Goal
from tests import factories as core
from tests.selvbetjening.helpers import goal_body
from tests.staffweb.helpers import WALKING_CODE, episode, listed_conditions, web_client

DAY = "%d-%m-%Y"


def _episode_form(world, **overrides):
    today = municipal_today()
    data = {
        "team_id": str(world.team.pk),
        "kind": "everyday_rehabilitation",
        "title": "Klare trapperne igen",
        "start_date": today.strftime(DAY),
        "planned_end_date": (today + timedelta(days=56)).strftime(DAY),
        "contact_person_id": str(world.staff_in_team.pk),
        "response_working_days": "3",
    }
    data.update(overrides)
    return data


def _goal_form(made, **overrides):
    data = {
        "description": "Jeg vil selv kunne gå ned efter avisen",
        "rank": "1",
        "area": "mobility",
        "condition_code": WALKING_CODE,
        "direction": "improve",
        "baseline_level": "3",
        "target_level": "1",
        "due_date": made.planned_end_date.strftime(DAY),
        "baseline_gas": "-2",
        "gas_minus_2": "Kommer ikke ud",
        "gas_minus_1": "Går til døren",
        "gas_0": "Går til postkassen med rollator",
        "gas_plus_1": "Går til postkassen uden rollator",
        "gas_plus_2": "Går rundt om blokken",
    }
    data.update(overrides)
    return data


def _rows_since(before_id):
    return list(AccessLogEntry.objects.filter(pk__gt=before_id).order_by("pk"))


def _last_row_id():
    last = AccessLogEntry.objects.order_by("-pk").first()
    return last.pk if last else 0


# --- Starting an episode ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_episode_is_started_from_the_citizen_page_and_the_api_shows_it(world):
    client = web_client(world.staff_in_team.user)
    citizen_page = client.get(f"/staff/borgere/{world.citizen.pk}/").content.decode()
    url = f"/staff/borgere/{world.citizen.pk}/nyt-forloeb/"
    assert f'href="{url}"' in citizen_page
    form = client.get(url).content.decode()
    assert world.staff_in_team.user.display_name in form and world.team.name in form
    before = _last_row_id()
    response = client.post(url, _episode_form(world))
    assert response.status_code == 302
    assert response["Location"] == f"/staff/borgere/{world.citizen.pk}/#episodes-heading"
    made = Episode.objects.get(citizen=world.citizen)
    # The access log: exactly the service's one write row, no read row for the redirect.
    rows = _rows_since(before)
    assert [(row.action, row.resource_type, row.resource_id) for row in rows] == [
        (AccessLogEntry.Action.CREATE, "episode", str(made.pk))
    ]
    shown = world.client("staff_in_team").get(f"/api/v1/episodes/{made.pk}").json()
    assert shown["title"] == "Klare trapperne igen"
    assert shown["kind"] == "everyday_rehabilitation" and shown["status"] == "planned"
    assert shown["team_id"] == str(world.team.pk) and shown["response_working_days"] == 3
    assert shown["contact_person"]["staff_id"] == str(world.staff_in_team.pk)
    assert shown["planned_end_date"] == str(municipal_today() + timedelta(days=56))
    assert "Klare trapperne igen" in client.get(f"/staff/borgere/{world.citizen.pk}/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"response_working_days": "11"}, "response_working_days", "Må højst være 10."),
        ({"response_working_days": "0"}, "response_working_days", "Skal være mindst 1."),
        ({"planned_end_date": "31-12-9999"}, "planned_end_date", "Værdien kan ikke bruges."),
        ({"start_date": "i morgen"}, "start_date", "Skriv datoen som dag-måned-år"),
        ({"kind": ""}, "kind", ""),
        # The service's refusals: the end before the start; a team without a care relation to the citizen.
        ({"planned_end_date": (municipal_today() - timedelta(days=1)).strftime(DAY)}, "planned_end_date", ""),
        ({"team_id": "other"}, "team_id", ""),
    ],
)
def test_a_bad_episode_gets_a_danish_error_beside_the_field_and_stores_nothing(world, overrides, field, message):
    client = web_client(world.staff_in_team.user)
    if overrides.get("team_id") == "other":
        # The staff member also works in the other team, which does not care for this citizen.
        core.MembershipFactory(staff=world.staff_in_team, team=world.other_team, role=StaffRole.THERAPIST)
        overrides = {"team_id": str(world.other_team.pk)}
    before = _last_row_id()
    response = client.post(f"/staff/borgere/{world.citizen.pk}/nyt-forloeb/", _episode_form(world, **overrides))
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="error-summary"' in body
    assert f'id="id_{field}-error">{message}' in body
    assert not Episode.objects.exists()
    assert all(row.action == AccessLogEntry.Action.READ for row in _rows_since(before))


@pytest.mark.django_db
def test_the_contact_person_must_be_care_staff_of_the_team(world):
    client = web_client(world.staff_in_team.user)
    data = _episode_form(world, contact_person_id=str(world.analyst.pk))
    response = client.post(f"/staff/borgere/{world.citizen.pk}/nyt-forloeb/", data)
    assert response.status_code == 422
    assert 'id="id_contact_person_id-error">' in response.content.decode()
    assert not Episode.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["staff_out_of_team", "it_staff", "analyst"])
def test_staff_without_a_care_relation_cannot_start_an_episode(world, role):
    client = web_client(getattr(world, role).user)
    url = f"/staff/borgere/{world.citizen.pk}/nyt-forloeb/"
    before = AccessLogEntry.objects.count()
    assert client.get(url).status_code == 404
    data = _episode_form(world, contact_person_id=str(getattr(world, role).pk))
    if role == "staff_out_of_team":
        data["team_id"] = str(world.other_team.pk)
    response = client.post(url, data)
    assert response.status_code == 404
    assert "Siden findes ikke" in response.content.decode()
    assert world.citizen.full_name not in response.content.decode()
    assert not Episode.objects.exists()
    assert AccessLogEntry.objects.count() == before


# --- Writing a goal in the citizen's own words ------------------------------------------------------


@pytest.mark.django_db
def test_a_goal_is_written_in_the_citizens_words_and_the_api_shows_it(world):
    listed_conditions()
    made = episode(world)
    client = web_client(world.staff_in_team.user)
    url = f"/staff/forloeb/{made.pk}/nyt-maal/"
    assert f'href="{url}"' in client.get(f"/staff/borgere/{world.citizen.pk}/").content.decode()
    form = client.get(url)
    assert form.status_code == 200
    # The code list's active conditions, grouped by FSIII area in Danish; staff pick one, type no code.
    assert form.context["form"].fields["condition_code"].choices == [
        ("", "Vælg en tilstand"),
        (
            "Praktiske opgaver i hjemmet",
            [("6c3f2a55-5b87-4d55-9b6c-0b8b6fb2c5a3", "Lave mad")],
        ),
        (
            "Mobilitet",
            [(WALKING_CODE, "Gå"), ("6c3f2a55-5b87-4d55-9b6c-0b8b6fb2c5a2", "Gå på trapper")],
        ),
    ]
    body = form.content.decode()
    assert '<optgroup label="Mobilitet">' in body and "Færden i forskellige omgivelser" not in body
    assert 'name="condition_display"' not in body
    before = _last_row_id()
    # The condition's name comes from the code list, whatever else is sent.
    response = client.post(url, _goal_form(made, condition_display="Noget andet"))
    assert response.status_code == 302
    assert response["Location"] == f"/staff/borgere/{world.citizen.pk}/#goals-heading"
    goal = Goal.objects.get(episode=made)
    rows = _rows_since(before)
    assert [(row.action, row.resource_type, row.resource_id) for row in rows] == [
        (AccessLogEntry.Action.CREATE, "goal", str(goal.pk))
    ]
    items = world.client("staff_in_team").get(f"/api/v1/episodes/{made.pk}/goals").json()["items"]
    assert len(items) == 1
    shown = items[0]
    assert shown["description"] == "Jeg vil selv kunne gå ned efter avisen"
    assert shown["condition"]["code"] == "6c3f2a55-5b87-4d55-9b6c-0b8b6fb2c5a1"
    assert shown["condition"]["display"] == "Gå"
    assert (shown["area"], shown["baseline_level"], shown["target_level"], shown["baseline_gas"]) == (
        "mobility",
        3,
        1,
        -2,
    )
    assert shown["gas_outcomes"] == {
        "-2": "Kommer ikke ud",
        "-1": "Går til døren",
        "0": "Går til postkassen med rollator",
        "1": "Går til postkassen uden rollator",
        "2": "Går rundt om blokken",
    }
    assert shown["expressed_by"] == "citizen" and shown["due_date"] == str(made.planned_end_date)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"rank": "21"}, "rank", "Må højst være 20."),
        ({"condition_code": "gå"}, "condition_code", "Vælg en tilstand fra kommunens FSIII-kodeliste."),
        # A code not on the list, or taken off it; a condition of another area than the goal's.
        ({"condition_code": "7d4e2a55-5b87-4d55-9b6c-0b8b6fb2c5a1"}, "condition_code", "Vælg en tilstand fra"),
        ({"condition_code": "6c3f2a55-5b87-4d55-9b6c-0b8b6fb2c5a4"}, "condition_code", "Vælg en tilstand fra"),
        ({"area": "self_care"}, "condition_code", "Tilstanden hører til området Mobilitet"),
        ({"condition_code": ""}, "condition_code", "Vælg den tilstand, målet handler om."),
        ({"gas_plus_2": ""}, "gas_plus_2", ""),
        ({"target_level": "7"}, "target_level", ""),
        # The service's refusals: a target worse than the baseline; a due date after the episode.
        ({"baseline_level": "1", "target_level": "3"}, "target_level", ""),
        ({"due_date": "31-12-2099"}, "due_date", ""),
    ],
)
def test_a_bad_goal_gets_a_danish_error_beside_the_field_and_stores_nothing(world, overrides, field, message):
    listed_conditions()
    made = episode(world)
    client = web_client(world.staff_in_team.user)
    before = _last_row_id()
    response = client.post(f"/staff/forloeb/{made.pk}/nyt-maal/", _goal_form(made, **overrides))
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="error-summary"' in body
    assert f'id="id_{field}-error">{message}' in body
    assert not Goal.objects.exists()
    assert all(row.action == AccessLogEntry.Action.READ for row in _rows_since(before))


@pytest.mark.django_db
def test_without_a_code_list_the_goal_page_says_so_and_points_to_the_administrator(world):
    made = episode(world)
    client = web_client(world.staff_in_team.user)
    response = client.get(f"/staff/forloeb/{made.pk}/nyt-maal/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Kommunens FSIII-kodeliste er tom" in body and "Bed din administrator" in body
    assert "id_condition_code" not in body and "Gem målet" not in body
    response = client.post(f"/staff/forloeb/{made.pk}/nyt-maal/", _goal_form(made))
    assert response.status_code == 422 and "Kommunens FSIII-kodeliste er tom" in response.content.decode()
    assert not Goal.objects.exists()


@pytest.mark.django_db
def test_staff_who_see_the_citizen_but_are_not_in_the_episodes_team_get_404_and_nothing_is_stored(world):
    made = episode(world)
    # The other team also cares for the citizen: its staff see the citizen, but the episode is not theirs.
    core.CareRelationFactory(citizen=world.citizen, team=world.other_team)
    client = web_client(world.staff_out_of_team.user)
    assert client.get(f"/staff/borgere/{world.citizen.pk}/").status_code == 200
    before = AccessLogEntry.objects.count()
    url = f"/staff/forloeb/{made.pk}/nyt-maal/"
    assert client.get(url).status_code == 404
    response = client.post(url, _goal_form(made))
    assert response.status_code == 404 and "Siden findes ikke" in response.content.decode()
    assert not Goal.objects.exists()
    assert AccessLogEntry.objects.count() == before
    # The API refuses the same write with the same rule.
    body = goal_body(due_date=str(made.planned_end_date))
    api = world.client("staff_out_of_team").post(f"/api/v1/episodes/{made.pk}/goals", body)
    assert api.status_code == 403 and api.json()["code"] == "not_episode_team"
    assert not Goal.objects.exists()


@pytest.mark.django_db
def test_staff_of_another_team_cannot_write_a_goal(world):
    made = episode(world)
    client = web_client(world.staff_out_of_team.user)
    before = AccessLogEntry.objects.count()
    response = client.post(f"/staff/forloeb/{made.pk}/nyt-maal/", _goal_form(made))
    assert response.status_code == 404
    assert world.citizen.full_name not in response.content.decode()
    assert not Goal.objects.exists()
    assert AccessLogEntry.objects.count() == before


@pytest.mark.django_db
def test_an_ended_episode_takes_no_new_goal(world):
    listed_conditions()
    made = episode(world)
    Episode.objects.filter(pk=made.pk).update(status=Episode.Status.CANCELLED)
    client = web_client(world.staff_in_team.user)
    response = client.post(f"/staff/forloeb/{made.pk}/nyt-maal/", _goal_form(made))
    assert response.status_code == 409
    assert "Forløbet er afsluttet." in response.content.decode()
    assert not Goal.objects.exists()
